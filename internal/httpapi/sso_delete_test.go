package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// TestSSOConnectionDeleteEndsSessions: deleting a connection ends, in the
// same request, the sessions it issued (an admin's included), audited as
// sessions_ended; a session another connection issued, and the deleting
// admin's own link session, go on. An SSO session from before migration
// 00178 (no connection named) ends with any connection of its org.
func TestSSOConnectionDeleteEndsSessions(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, op, conn, boss := ssoDomainOrg(t, w, dns, "Delete Org", "del.test")
	op2 := startEvilOP(t, "del-other", "del-secret-12345")
	conn2 := w.createConnection(a, map[string]any{"name": "Other IdP", "issuer": op2.issuer, "client_id": "del-other",
		"client_secret": "del-secret-12345", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	verifyDomain(t, w, dns, a, "other.test", conn2.ID.String())
	nurse := w.addMember(a, "nurse@other.test", identity.RoleProvider)

	signIn := func(op *evilOP, conn sso.Connection, sub string, m *member) string {
		t.Helper()
		op.set(func(op *evilOP) { op.sub, op.email, op.amr = sub, m.Email, []string{"mfa"} })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("sign-in of %s: %d %s", m.Email, resp.StatusCode, body)
		}
		return b.session()
	}
	bossSession := signIn(op, conn, "boss-1", boss)
	nurseSession := signIn(op2, conn2, "nurse-1", nurse)
	oldSession := signIn(op2, conn2, "nurse-1", nurse)
	// The nurse's latest session as one issued before 00178.
	if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.sessions set sso_connection_id = null
	    where id = (select id from app.sessions where user_id = $1 and sso_connection_id = $2
	                 order by created_at desc limit 1)`, nurse.ID, conn2.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{bossSession, nurseSession, oldSession} {
		w.do("GET", "/v1/me", s, nil, http.StatusOK, nil)
	}

	w.do("DELETE", "/v1/sso/connections/"+conn.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	if resp, body := w.request("GET", "/v1/members", bossSession, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the session the deleted connection issued: GET /v1/members %d %s", resp.StatusCode, body)
	}
	if resp, body := w.request("GET", "/v1/me", oldSession, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an SSO session naming no connection: GET /v1/me %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/me", nurseSession, nil, http.StatusOK, nil)
	w.do("GET", "/v1/members", a.Admin.Token, nil, http.StatusOK, nil)
	var reason string
	var ended int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select s.revoked_reason, (e.details->>'sessions_ended')::int
	    from app.sessions s, audit.events e
	    where s.user_id = $1 and s.sso_connection_id = $2 and e.org_id = $3 and e.action = 'sso.connection.delete'
	      and e.object_id = $2`, boss.ID, conn.ID, a.ID).Scan(&reason, &ended); err != nil {
		t.Fatal(err)
	}
	if reason != "sso_connection_deleted" || ended != 2 {
		t.Fatalf("revoked_reason %q, sessions_ended %d", reason, ended)
	}
}
