package sink

import (
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"

	"github.com/wardhq/ward/internal/netguard"
)

// guard is what sink endpoints may resolve to, checked at connect time
// after DNS resolution (netguard): not loopback, link-local (which
// includes cloud metadata services at 169.254.169.254), unspecified,
// multicast, an address of Ward's own host, or a private (RFC 1918, RFC
// 6598, ULA) address, unless the operator allows the network: an org
// admin is a tenant, and the operator's private network is not theirs to
// reach. On-premises SIEMs are allowed by network (--audit-sinks-allow-networks).
func guard(allowLoopback bool, allow []netip.Prefix, roots *x509.CertPool) netguard.Config {
	c := netguard.Config{RootCAs: roots, RefusePrivate: true, Allow: allow,
		Hint: "an operator may allow a network with --audit-sinks-allow-networks (loopback: --audit-sinks-allow-loopback)"}
	if allowLoopback {
		c.Allow = append(c.Allow[:len(c.Allow):len(c.Allow)], netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	}
	return c
}

// dialer is the net.Dialer every syslog connection goes through.
func dialer(cfg Config) *net.Dialer { return guard(cfg.AllowLoopback, cfg.AllowNetworks, nil).Dialer() }

// defaultClient is the webhook and HEC client: the guarded dialer, no
// redirects (a receiver cannot bounce Ward elsewhere), no proxy, a 10 s
// timeout.
func defaultClient(cfg Config) *http.Client {
	return guard(cfg.AllowLoopback, cfg.AllowNetworks, cfg.RootCAs).Client()
}
