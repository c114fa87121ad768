package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/sso"
)

// TestSSOSecondSubject: once boss is linked to one subject of the IdP,
// another subject of the same connection asserting boss's address (a
// second account at the IdP; a consumer Google account made with the work
// address, email_verified true) is refused, 403 sso_identity_mismatch,
// audited with reason already_linked and boss's id, and no identity is
// added. The linked subject still signs in. An admin re-links boss
// (DELETE /v1/sso/connections/{id}/identities/{user}, step-up, audited);
// the next sign-in links the subject the IdP names then.
func TestSSOSecondSubject(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, op, conn, boss := ssoDomainOrg(t, w, dns, "Ghost Org", "ghost.test")
	signInAs := func(sub string) (*browser, *http.Response, []byte) {
		op.set(func(op *evilOP) { op.sub, op.email, op.amr, op.extra = sub, boss.Email, []string{"mfa"}, nil })
		return w.ssoSignIn(t, a, conn.ID.String())
	}
	var me struct {
		UserID string `json:"user_id"`
	}
	signedIn := func(sub string) {
		t.Helper()
		b, resp, body := signInAs(sub)
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("sign-in of %s: %d %s", sub, resp.StatusCode, body)
		}
		w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
		if me.UserID != boss.ID.String() {
			t.Fatalf("%s signed in as %s, not boss", sub, me.UserID)
		}
	}
	refused := func(sub string) {
		t.Helper()
		b, resp, body := signInAs(sub)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_identity_mismatch" || b.session() != "" {
			t.Fatalf("another subject with boss's address: %d %s", resp.StatusCode, body)
		}
	}
	identities := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.sso_identities where user_id = $1`,
			boss.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	signedIn("workspace-boss")
	refused("consumer-ghost")
	if n := identities(); n != 1 {
		t.Fatalf("boss has %d identities", n)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'already_linked'
	    and details->>'member' = $2`, a.ID, boss.ID.String()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d already_linked refusals naming boss (%v)", n, err)
	}
	signedIn("workspace-boss")

	// Re-linking is an admin's, with a fresh second factor.
	path := "/v1/sso/connections/" + conn.ID.String() + "/identities/" + boss.ID.String()
	prov := w.addMember(a, "prov@ghost.test", "provider")
	if resp, body := w.request("DELETE", path, prov.Token, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a provider re-linked: %d %s", resp.StatusCode, body)
	}
	// Another org's admin names this org's connection and member: nothing
	// of theirs, 404, and boss keeps the link; malformed ids are a 400.
	other := w.createOrg("Other Ghost Org")
	if resp, body := w.request("DELETE", path, other.Admin.Token, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's admin unlinked: %d %s", resp.StatusCode, body)
	}
	if n := identities(); n != 1 {
		t.Fatalf("boss has %d identities after another org's attempt", n)
	}
	for _, bad := range []string{"/v1/sso/connections/not-a-uuid/identities/" + boss.ID.String(),
		"/v1/sso/connections/" + conn.ID.String() + "/identities/1"} {
		if resp, body := w.request("DELETE", bad, a.Admin.Token, nil); resp.StatusCode != http.StatusBadRequest ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("DELETE %s: %d %s", bad, resp.StatusCode, body)
		}
	}
	w.do("DELETE", path, a.Admin.Token, nil, http.StatusNoContent, nil)
	w.do("DELETE", path, a.Admin.Token, nil, http.StatusNotFound, nil)
	if got := w.auditCount(a.ID, "sso.identity.unlink", "success"); got != 1 {
		t.Fatalf("%d sso.identity.unlink events", got)
	}
	signedIn("consumer-ghost")
	refused("workspace-boss")
	if n := identities(); n != 1 {
		t.Fatalf("boss has %d identities after the re-link", n)
	}
}

// TestSSOUnlinkEndsSessions: unlinking a member's identities on a
// connection ends, in the same request, the sessions that connection
// issued to the member (and their SSO sessions from before 00178, which
// name no connection), revoked_reason sso_identity_unlinked, counted in
// the sso.identity.unlink event; the member's session from another
// connection and their non-SSO session go on, and so does another
// member's session from the same connection.
func TestSSOUnlinkEndsSessions(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a, op, conn, boss := ssoDomainOrg(t, w, dns, "Unlink Org", "unlink.test")
	prov := w.addMember(a, "prov@unlink.test", "provider")
	op2 := startEvilOP(t, "unlink-other", "unlink-secret-1")
	conn2 := w.createConnection(a, map[string]any{"name": "Other IdP", "issuer": op2.issuer, "client_id": "unlink-other",
		"client_secret": "unlink-secret-1", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	signIn := func(sub string, m *member) string {
		t.Helper()
		op.set(func(op *evilOP) { op.sub, op.email, op.amr, op.extra = sub, m.Email, []string{"mfa"}, nil })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("sign-in of %s: %d %s", m.Email, resp.StatusCode, body)
		}
		return b.session()
	}
	sessionID := func(token string) string {
		t.Helper()
		var me struct {
			SessionID string `json:"session_id"`
		}
		w.do("GET", "/v1/me", token, nil, http.StatusOK, &me)
		return me.SessionID
	}
	bossSSO := signIn("boss-1", boss)
	bossOld := signIn("boss-1", boss)   // made one from before 00178
	bossOther := signIn("boss-1", boss) // made one the other connection issued
	provSSO := signIn("prov-1", prov)
	for token, conn := range map[string]any{bossOld: nil, bossOther: conn2.ID} {
		if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.sessions set sso_connection_id = $2 where id = $1`,
			sessionID(token), conn); err != nil {
			t.Fatal(err)
		}
	}

	w.do("DELETE", "/v1/sso/connections/"+conn.ID.String()+"/identities/"+boss.ID.String(), a.Admin.Token, nil,
		http.StatusNoContent, nil)
	for name, token := range map[string]string{"the unlinked subject's session": bossSSO, "its session naming no connection": bossOld} {
		if resp, body := w.request("GET", "/v1/me", token, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: GET /v1/me %d %s", name, resp.StatusCode, body)
		}
	}
	for _, token := range []string{bossOther, boss.Token, provSSO, a.Admin.Token} {
		w.do("GET", "/v1/me", token, nil, http.StatusOK, nil)
	}
	var reasons []string
	var ended int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select array_agg(distinct s.revoked_reason),
	      (select (e.details->>'sessions_ended')::int from audit.events e where e.org_id = $2
	        and e.action = 'sso.identity.unlink' and e.object_id = $1)
	    from app.sessions s where s.user_id = $1 and s.revoked_at is not null`, boss.ID, a.ID).Scan(&reasons, &ended); err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 1 || reasons[0] != "sso_identity_unlinked" || ended != 2 {
		t.Fatalf("revoked_reason %q, sessions_ended %d", reasons, ended)
	}
}
