package compliance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// probeTimeout bounds each TLS handshake of the probe.
const probeTimeout = 10 * time.Second

// transmission probes the running server as a client would: a TLS 1.3
// handshake must succeed, one offering at most TLS 1.2 must be refused,
// and the certificate must verify for the server's name and not expire
// within 14 days. The probe sends nothing after the handshake.
func transmission(ctx context.Context, o Options) Control {
	c := Control{ID: "164.312(e)(1)", Safeguard: technical, Title: "Transmission security (TLS)", Status: Pass}
	if o.Server == "" {
		c.Status = Partial
		c.Evidence = append(c.Evidence, "the server was not probed (give its address): Ward serves TLS 1.3 only unless started with --insecure-http behind a proxy")
		return c
	}
	name := o.ServerName
	if name == "" {
		host, _, err := net.SplitHostPort(o.Server)
		if err != nil {
			c.Status = Gap
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s is not host:port: %v", o.Server, err))
			return c
		}
		name = host
	}
	dial := func(cfg *tls.Config) (*tls.ConnectionState, error) {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		d := tls.Dialer{Config: cfg}
		conn, err := d.DialContext(ctx, "tcp", o.Server)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		st := conn.(*tls.Conn).ConnectionState()
		return &st, nil
	}
	// The certificate is verified below, by hand, so that a certificate
	// that does not verify is a finding with its reason rather than no
	// handshake at all.
	st, err := dial(&tls.Config{ServerName: name, MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}) //nolint:gosec // verified below
	if err != nil {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("no TLS 1.3 handshake with %s: %v", o.Server, err))
		return c
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("%s: TLS 1.3 handshake, %s", o.Server, tls.CipherSuiteName(st.CipherSuite)))
	if _, err := dial(&tls.Config{ServerName: name, MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true}); err == nil { //nolint:gosec // a version probe
		c.Status = Partial
		c.Evidence = append(c.Evidence, "a client offering at most TLS 1.2 is accepted")
	} else {
		c.Evidence = append(c.Evidence, "a client offering at most TLS 1.2 is refused")
	}
	leaf := st.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, cert := range st.PeerCertificates[1:] {
		inter.AddCert(cert)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: o.Roots, Intermediates: inter})
	var unknown x509.UnknownAuthorityError
	switch {
	case verr == nil:
		c.Evidence = append(c.Evidence, fmt.Sprintf("certificate verifies for %s, expires %s", name, leaf.NotAfter.UTC().Format(time.DateOnly)))
	case errors.As(verr, &unknown):
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("certificate for %s is not signed by a trusted authority (a development certificate?)", name))
	default:
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("certificate does not verify for %s: %v", name, verr))
	}
	if left := time.Until(leaf.NotAfter); left < 14*24*time.Hour {
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("certificate expires in %d days", days(left)))
	}
	return c
}
