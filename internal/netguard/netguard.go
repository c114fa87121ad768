// Package netguard builds the outbound HTTP clients whose destinations an
// org admin chooses (SIEM sinks, SSO identity providers). It keeps them
// off Ward's own host and its cloud's internal services (SSRF): every
// connection's address is checked at connect time, after DNS resolution,
// so a name that resolves or later rebinds to a refused address is
// refused too; redirects are not followed and proxy variables are
// ignored, so neither can send a request elsewhere.
package netguard

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused matches every refused address (errors.Is).
var ErrRefused = errors.New("netguard: refused address")

// ErrNotHTTPS is a request over anything but https from a client that
// allows https only.
var ErrNotHTTPS = errors.New("netguard: refused: not an https URL")

// ErrTooLarge is a response body longer than the client's cap.
var ErrTooLarge = errors.New("netguard: response body too large")

// RefusedError is a connection refused by its address.
type RefusedError struct {
	Addr  netip.Addr
	Class string // "loopback", "link-local", ...
	Hint  string // how an operator may lift the refusal ("" none)
}

func (e *RefusedError) Error() string {
	msg := "refused: the endpoint resolves to a loopback, link-local, unspecified, multicast or cloud metadata address"
	switch e.Class {
	case "private":
		msg = "refused: the endpoint resolves to a private address"
	case "this host":
		msg = "refused: the endpoint resolves to an address of Ward's own host"
	}
	if e.Addr.IsValid() {
		msg += " (" + e.Addr.String() + ", " + e.Class + ")"
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Config is what a guarded client refuses and how it connects.
type Config struct {
	// RefusePrivate refuses private addresses too (RFC 1918, RFC 6598
	// shared address space, RFC 4193 unique local). Always refused:
	// loopback, link-local (169.254.0.0/16 with the cloud metadata
	// services, fe80::/10), unspecified and 0.0.0.0/8, broadcast,
	// multicast, the known metadata addresses outside those ranges
	// (fd00:ec2::254, 100.100.100.200), the addresses of Ward's own
	// host's interfaces (a service bound to 0.0.0.0 is reachable there
	// as on loopback), and IPv4-mapped or NAT64 forms of these.
	RefusePrivate bool
	// Allow lists networks reachable whatever the rules above say: the
	// operator's opt-in (an IdP on a private network; tests' servers on
	// 127.0.0.1).
	Allow []netip.Prefix
	// Hint ends a refusal's message: how an operator may lift it.
	Hint string
	// RootCAs are the CAs server certificates must chain to (nil: the
	// system roots).
	RootCAs *x509.CertPool
	// Resolver resolves names before the check (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// Timeout bounds a connection attempt and, for Client, a whole
	// request (10 s when 0).
	Timeout time.Duration
	// HTTPSOnly makes Client refuse any URL but https.
	HTTPSOnly bool
	// MaxBody caps a response body Client returns (0: no cap); a longer
	// one fails its read with ErrTooLarge.
	MaxBody int64
}

var (
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
	siit        = netip.MustParsePrefix("::ffff:0:0:0/96") // RFC 6145's IPv4-translated addresses
	compat      = netip.MustParsePrefix("::/96")           // IPv4-compatible (deprecated), and :: and ::1
	sixToFour   = netip.MustParsePrefix("2002::/16")       // RFC 3056: the IPv4 address in bytes 2 to 5
	localNAT64  = netip.MustParsePrefix("64:ff9b:1::/48")  // RFC 8215: a local translator's, to any IPv4 address
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	shared      = netip.MustParsePrefix("100.64.0.0/10")
	broadcast   = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	metadata    = []netip.Addr{netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
)

// Check returns a *RefusedError when ip may not be connected to, nil
// otherwise.
func (c Config) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	// An IPv6 address that carries an IPv4 address reaches it through a
	// translator or a tunnel: check the IPv4 address it carries.
	switch b := ip.As16(); {
	case !ip.Is6():
	case nat64.Contains(ip), siit.Contains(ip), compat.Contains(ip) && ip.Compare(netip.IPv6Loopback()) > 0:
		ip = netip.AddrFrom4([4]byte(b[12:]))
	case sixToFour.Contains(ip):
		ip = netip.AddrFrom4([4]byte(b[2:6]))
	}
	for _, p := range c.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	class := ""
	switch {
	case localNAT64.Contains(ip):
		// the IPv4 address's place depends on the prefix length the site
		// chose: refused as a whole unless allowed
		class = "translated"
	case !ip.IsValid():
		class = "invalid"
	case ip.IsLoopback():
		class = "loopback"
	case ip.IsLinkLocalUnicast():
		class = "link-local"
	case ip.IsUnspecified(), thisNetwork.Contains(ip), ip == broadcast:
		class = "unspecified"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		class = "multicast"
	case ip == metadata[0], ip == metadata[1]:
		class = "cloud metadata"
	case thisHost(ip):
		class = "this host"
	case c.RefusePrivate && (ip.IsPrivate() || shared.Contains(ip)):
		class = "private"
	default:
		return nil
	}
	return &RefusedError{Addr: ip, Class: class, Hint: c.Hint}
}

// thisHost reports whether ip is an address of one of this host's
// interfaces, read when asked (connections through a guard are few, and
// addresses change).
func thisHost(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // unknown: refuse
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if own, ok := netip.AddrFromSlice(n.IP); ok && own.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// control is the net.Dialer Control that checks each resolved address.
func (c Config) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Class: "invalid", Hint: c.Hint}
	}
	return c.Check(ap.Addr())
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 10 * time.Second
	}
	return c.Timeout
}

// connectTimeout bounds a TCP connection attempt (within the timeout): a
// destination that never answers a SYN costs a caller seconds, not the
// whole budget.
const connectTimeout = 5 * time.Second

// Dialer is the guarded dialer (for clients that are not HTTP, such as
// syslog over TLS).
func (c Config) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: min(c.timeout(), connectTimeout), Control: c.control, Resolver: c.Resolver}
}

// Client is the guarded HTTP client: the guarded dialer, TLS 1.2 or
// later, no proxy, no redirects (a redirect is returned as the response),
// the timeout, and HTTPSOnly and MaxBody as configured.
func (c Config) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = c.Dialer().DialContext
	t.Proxy = nil
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.RootCAs}
	var rt http.RoundTripper = t
	if c.HTTPSOnly || c.MaxBody > 0 {
		rt = &capped{next: t, httpsOnly: c.HTTPSOnly, max: c.MaxBody}
	}
	return &http.Client{Timeout: c.timeout(), Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// capped refuses URLs that are not https and caps response bodies.
type capped struct {
	next      http.RoundTripper
	httpsOnly bool
	max       int64
}

func (c *capped) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.httpsOnly && r.URL.Scheme != "https" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("%w (%s)", ErrNotHTTPS, r.URL.Redacted())
	}
	resp, err := c.next.RoundTrip(r)
	if err != nil || c.max <= 0 {
		return resp, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w (%d bytes, at most %d)", ErrTooLarge, resp.ContentLength, c.max)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.max}
	return resp, nil
}

// limitedBody fails a read past its cap rather than truncating silently.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
