package httpapi_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardhq/ward/internal/sso"
)

// countingTLS is an https server on 127.0.0.1 that counts the connections
// made to it and the requests it got; handler answers them.
func countingTLS(t *testing.T, handler http.Handler) (srv *httptest.Server, conns, requests *atomic.Int32) {
	conns, requests = new(atomic.Int32), new(atomic.Int32)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if handler == nil {
			http.NotFound(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, conns, requests
}

func port(srv *httptest.Server) string {
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return p
}

// TestSSOAddressGuard: an org admin cannot aim Ward's SSO client at Ward's
// own host or its cloud's metadata service (SSRF). Issuers are https and
// no refused address literal, checked at creation; a name that resolves
// to loopback or link-local is refused when connected to, before any
// packet is sent, with a problem that says so; so are the endpoints a
// discovery document names; a redirect is not followed.
func TestSSOAddressGuard(t *testing.T) {
	dns := startDNS(t)
	// No network allowed: the defaults of ward serve.
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.AllowNetworks = nil; c.Resolver = dns.resolver() }))
	a := w.createOrg("SSRF Org")

	t.Run("at creation", func(t *testing.T) {
		for _, issuer := range []string{"http://idp.example.com", "http://169.254.169.254/latest/meta-data",
			"https://169.254.169.254/latest/meta-data", "https://127.0.0.1:8443", "https://[::1]/", "https://[::ffff:127.0.0.1]/",
			"https://0.0.0.0/", "https://10.0.0.5/", "https://user@idp.example.com", "ftp://idp.example.com"} {
			resp, body := w.request("POST", "/v1/sso/connections", a.Admin.Token,
				map[string]any{"name": "meta", "issuer": issuer, "client_id": "ward", "client_secret": "s"})
			if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "invalid_input" ||
				!strings.Contains(string(body), "issuer") {
				t.Errorf("%s: %d %s", issuer, resp.StatusCode, body)
			}
		}
	})

	t.Run("names that resolve to refused addresses", func(t *testing.T) {
		srv, conns, requests := countingTLS(t, nil)
		dns.setA("idp-loop.evil.example", [4]byte{127, 0, 0, 1})
		dns.setA("meta.evil.example", [4]byte{169, 254, 169, 254})
		dns.setA("rfc1918.evil.example", [4]byte{10, 0, 0, 5})
		for _, issuer := range []string{"https://idp-loop.evil.example:" + port(srv), "https://meta.evil.example/latest/meta-data",
			"https://rfc1918.evil.example"} {
			conn := w.createConnection(a, map[string]any{"name": "rebind", "issuer": issuer, "client_id": "ward",
				"client_secret": "s"})
			_, resp, body := w.ssoSignIn(t, a, conn.ID.String())
			if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_idp_address_refused" {
				t.Errorf("%s: %d %s", issuer, resp.StatusCode, body)
			}
		}
		if conns.Load() != 0 || requests.Load() != 0 {
			t.Fatalf("the loopback server got %d connections, %d requests", conns.Load(), requests.Load())
		}
		if !strings.Contains(w.logs.String(), "169.254.169.254, link-local") {
			t.Fatal("the log does not say which address was refused")
		}
	})
}

// TestSSODiscoveryGuard: with the tests' 127.0.0.1 allowed, an IdP there
// still cannot name a refused or plain-http endpoint in its discovery
// document, nor redirect Ward elsewhere.
func TestSSODiscoveryGuard(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Discovery Org")

	t.Run("jwks_uri", func(t *testing.T) {
		op := startEvilOP(t, "ward-evil", "evil-secret-123")
		conn := w.createConnection(a, map[string]any{"name": "Evil", "issuer": op.issuer, "client_id": "ward-evil",
			"client_secret": "evil-secret-123", "signing_algs": []string{"ES256"}})
		p := port(op.srv)
		// Literal addresses and http are refused when the document is read.
		for _, jwks := range []string{"https://127.0.0.2:" + p + "/jwks", "https://[::1]:" + p + "/jwks",
			"https://169.254.169.254/jwks", "http://127.0.0.1:" + p + "/jwks"} {
			op.set(func(op *evilOP) { op.jwksURI = jwks })
			_, resp, body := w.ssoSignIn(t, a, conn.ID.String())
			if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_idp_address_refused" {
				t.Errorf("%s: %d %s", jwks, resp.StatusCode, body)
			}
		}
		// A name is refused when Ward connects to it: the sign-in is refused
		// and audited with the reason.
		dns.setA("keys.evil.example", [4]byte{127, 0, 0, 2})
		op.set(func(op *evilOP) { op.jwksURI = "https://keys.evil.example:" + p + "/jwks" })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" || b.session() != "" {
			t.Fatalf("jwks by name: %d %s", resp.StatusCode, body)
		}
		var n int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
		    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'idp_address_refused'`,
			a.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d denied sign-ins with reason idp_address_refused (%v)", n, err)
		}
		op.set(func(op *evilOP) {
			if op.jwksHits != 0 {
				t.Fatalf("the JWKS was fetched %d times", op.jwksHits)
			}
		})
	})

	t.Run("redirect", func(t *testing.T) {
		elsewhere, conns, requests := countingTLS(t, nil)
		idp, _, _ := countingTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
		}))
		conn := w.createConnection(a, map[string]any{"name": "Bouncer", "issuer": idp.URL, "client_id": "c"})
		_, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" {
			t.Fatalf("redirect: %d %s", resp.StatusCode, body)
		}
		if conns.Load() != 0 || requests.Load() != 0 {
			t.Fatalf("the redirect was followed: %d connections, %d requests", conns.Load(), requests.Load())
		}
	})
}
