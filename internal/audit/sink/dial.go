package sink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errForbiddenAddress is a sink endpoint that resolves to an address an
// org admin must not point Ward at: loopback, link-local (which includes
// cloud metadata services at 169.254.169.254), unspecified or multicast.
// Private (RFC 1918, ULA) addresses are allowed: on-premises SIEMs live
// there.
var errForbiddenAddress = errors.New("refused: the endpoint resolves to a loopback, link-local, unspecified or " +
	"multicast address (an operator may allow loopback with --audit-sinks-allow-loopback)")

// guard is a net.Dialer Control that refuses forbidden addresses at
// connect time, after DNS resolution (so a name that resolves, or later
// rebinds, to one is refused too).
func guard(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return errForbiddenAddress
		}
		ip := ap.Addr().Unmap()
		switch {
		case ip.IsLoopback() && allowLoopback:
			return nil
		case ip.IsLoopback(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsUnspecified(), ip.IsMulticast(),
			ip.IsInterfaceLocalMulticast():
			return errForbiddenAddress
		}
		return nil
	}
}

// dialer is the net.Dialer every sink connection goes through.
func dialer(allowLoopback bool) *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, Control: guard(allowLoopback)}
}

// defaultClient is the webhook and HEC client: the guarded dialer, no
// redirects (a receiver cannot bounce Ward elsewhere), a 10 s timeout.
func defaultClient(allowLoopback bool, roots *x509.CertPool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = dialer(allowLoopback).DialContext
	t.Proxy = nil
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	return &http.Client{Timeout: 10 * time.Second, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
