package sink

import (
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"

	"github.com/wardhq/ward/internal/netguard"
)

// guard is what sink endpoints may resolve to: not loopback (unless the
// operator allows it), link-local (which includes cloud metadata services
// at 169.254.169.254), unspecified or multicast, checked at connect time
// after DNS resolution (netguard). Private (RFC 1918, ULA) addresses are
// allowed: on-premises SIEMs live there.
func guard(allowLoopback bool, roots *x509.CertPool) netguard.Config {
	c := netguard.Config{RootCAs: roots,
		Hint: "an operator may allow loopback with --audit-sinks-allow-loopback"}
	if allowLoopback {
		c.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return c
}

// dialer is the net.Dialer every syslog connection goes through.
func dialer(allowLoopback bool) *net.Dialer { return guard(allowLoopback, nil).Dialer() }

// defaultClient is the webhook and HEC client: the guarded dialer, no
// redirects (a receiver cannot bounce Ward elsewhere), no proxy, a 10 s
// timeout.
func defaultClient(allowLoopback bool, roots *x509.CertPool) *http.Client {
	return guard(allowLoopback, roots).Client()
}
