package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// TestSSOResponseIssuer: RFC 9207 on the OIDC callback. An authorization
// response whose iss parameter is not the connection's issuer exactly (an
// IdP's that mixed up, a trailing slash, an empty one) is refused before
// the code is exchanged, 401 sso_refused, audited as auth.signin denied
// with reason wrong_response_issuer, and issues no session; the right iss
// signs in, and so does none from an IdP that does not advertise it. An
// IdP whose discovery document says
// authorization_response_iss_parameter_supported must send it: without it
// the sign-in is refused, reason no_response_issuer.
func TestSSOResponseIssuer(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, op, conn, boss := ssoDomainOrg(t, w, dns, "Issuer Org", "iss.test")
	op2 := startEvilOP(t, "iss-other", "iss-secret-12345")
	op2.set(func(op *evilOP) { op.issSupported = true })
	conn2 := w.createConnection(a, map[string]any{"name": "Advertising IdP", "issuer": op2.issuer, "client_id": "iss-other",
		"client_secret": "iss-secret-12345", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	verifyDomain(t, w, dns, a, "iss-other.test", conn2.ID.String())
	nurse := w.addMember(a, "nurse@iss-other.test", identity.RoleProvider)

	refusals := func(reason string) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
		    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = $2`, a.ID, reason).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	signIn := func(op *evilOP, conn sso.Connection, m *member, send bool, iss string) (*browser, *http.Response, []byte) {
		op.set(func(op *evilOP) {
			op.sub, op.email, op.amr, op.extra = "sub-"+m.Email, m.Email, []string{"mfa"}, nil
			op.sendIss, op.iss = send, iss
		})
		return w.ssoSignIn(t, a, conn.ID.String())
	}
	for _, c := range []struct {
		name string
		op   *evilOP
		conn sso.Connection
		m    *member
		send bool
		iss  string
		// reason: the audited refusal; "" signs in.
		reason string
	}{
		{"no iss, not advertised", op, conn, boss, false, "", ""},
		{"the connection's iss", op, conn, boss, true, op.issuer, ""},
		{"another IdP's iss", op, conn, boss, true, op2.issuer, "wrong_response_issuer"},
		{"an attacker's iss", op, conn, boss, true, "https://evil.example", "wrong_response_issuer"},
		{"iss with a trailing slash", op, conn, boss, true, op.issuer + "/", "wrong_response_issuer"},
		{"an empty iss", op, conn, boss, true, "", "wrong_response_issuer"},
		{"no iss, advertised", op2, conn2, nurse, false, "", "no_response_issuer"},
		{"the connection's iss, advertised", op2, conn2, nurse, true, op2.issuer, ""},
		{"another IdP's iss, advertised", op2, conn2, nurse, true, op.issuer, "wrong_response_issuer"},
	} {
		before := 0
		if c.reason != "" {
			before = refusals(c.reason)
		}
		var hits int
		c.op.set(func(op *evilOP) { hits = op.tokenHits })
		b, resp, body := signIn(c.op, c.conn, c.m, c.send, c.iss)
		if c.reason == "" {
			if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
				t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" || b.session() != "" {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if n := refusals(c.reason); n != before+1 {
			t.Fatalf("%s: %d refusals audited with reason %s, want %d", c.name, n, c.reason, before+1)
		}
		c.op.set(func(op *evilOP) {
			if op.tokenHits != hits {
				t.Errorf("%s: the code went to the token endpoint", c.name)
			}
		})
	}
}
