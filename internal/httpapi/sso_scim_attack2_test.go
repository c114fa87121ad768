package httpapi_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// An attacker's second review of SSO and SCIM, after break-glass, the
// assurance policy in the database, passkey-bound sessions, the crypto-shred
// of an org and the SAML IdP-initiated confirmation page. Each test is a
// finding (it failed before its fix) or a probe that held, kept as a guard.

// TestAttackSSOShreddedOrgReleasesDomain: a crypto-shredded org's SSO
// connections go with it (migration 00317). Before, its domains stayed
// verified: the unique index on verified domains kept every other org from
// verifying them again (409 for good: the practice coming back as a new
// org, another org of the same hospital), and /v1/sso/start by address
// still sent browsers to the IdP the departed org's admin had chosen (a
// sign-in refused only at the callback).
func TestAttackSSOShreddedOrgReleasesDomain(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	const name = "Leaving Practice"
	a := w.createOrg(name)
	op := startEvilOP(t, "leaving", "leaving-secret-123")
	conn := w.createConnection(a, map[string]any{"name": "Leaving IdP", "issuer": op.issuer, "client_id": "leaving",
		"client_secret": "leaving-secret-123", "signing_algs": []string{"ES256"}})
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "leaving.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/leaving.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	w.addMember(a, "doc@leaving.test", identity.RoleProvider)
	op.set(func(op *evilOP) { op.sub, op.email = "doc-1", "doc@leaving.test" })
	if b, resp, body := w.ssoSignIn(t, a, conn.ID.String()); resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("the member's sign-in before the shred: %d %s", resp.StatusCode, body)
	}

	if _, err := w.env.Super.Pool.Exec(t.Context(), `select app.ops_org_shred($1, $2, false)`, a.ID, name); err != nil {
		t.Fatal(err)
	}

	// Nothing routes to the shredded org any more: by address, or by its
	// connection.
	for _, start := range []string{"/v1/sso/start?email=" + url.QueryEscape("doc@leaving.test"),
		"/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String()} {
		b := w.browser(t)
		resp, body := b.get(w.srv.URL + start)
		if resp.StatusCode != http.StatusNotFound || problemCode(t, body) != "sso_no_route" || len(b.visits) != 0 {
			t.Fatalf("%s after the shred: %d (visited %v) %s", start, resp.StatusCode, b.visits, body)
		}
	}
	var left int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select (select count(*) from app.sso_connections where org_id = $1)
	    + (select count(*) from app.sso_domains where org_id = $1) + (select count(*) from app.sso_identities where org_id = $1)`,
		a.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d SSO rows of the shredded org left (%v)", left, err)
	}
	// Each connection's end is in the org's log, with the reason.
	var reason string
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
	    and action = 'sso.connection.delete' and object_id = $2`, a.ID, conn.ID).Scan(&reason); err != nil ||
		reason != "org_shredded" {
		t.Fatalf("sso.connection.delete of the shredded org's connection: %q (%v)", reason, err)
	}

	// The domain is free: another org proves it by DNS and routes it.
	b := w.createOrg("Returning Practice")
	op2 := startEvilOP(t, "returning", "returning-secret-1")
	conn2 := w.createConnection(b, map[string]any{"name": "Returning IdP", "issuer": op2.issuer, "client_id": "returning",
		"client_secret": "returning-secret-1", "signing_algs": []string{"ES256"}})
	var again sso.Domain
	w.do("POST", "/v1/sso/domains", b.Admin.Token, map[string]any{"domain": "leaving.test", "connection_id": conn2.ID},
		http.StatusCreated, &again)
	dns.set(again.TXTName, again.TXTValue)
	w.do("POST", "/v1/sso/domains/leaving.test/verify", b.Admin.Token, nil, http.StatusOK, nil)
	w.addMember(b, "doc@leaving.test", identity.RoleProvider)
	op2.set(func(op *evilOP) { op.sub, op.email = "doc-2", "doc@leaving.test" })
	br := w.browser(t)
	resp, body := br.get(w.srv.URL + "/v1/sso/start?email=" + url.QueryEscape("doc@leaving.test"))
	if resp.StatusCode != http.StatusSeeOther || br.session() == "" {
		t.Fatalf("routing the released domain to the new org: %d %s", resp.StatusCode, body)
	}
	// A connection cannot come back to the shredded org (00268's trigger).
	if _, err := w.env.Super.Pool.Exec(t.Context(), `insert into app.sso_connections (org_id, id, kind, name, issuer,
	    client_id, client_secret_enc, created_by) values ($1, gen_random_uuid(), 'oidc', 'x', 'https://idp.example', 'x',
	    '\x00', $2)`, a.ID, a.Admin.ID); err == nil {
		t.Fatal("a connection was added to a shredded org")
	}
}

// TestAttackSSOLookalikeAddress: an address the IdP holds apart from a
// member's, but which Ward's blind index folds into it (Unicode
// compatibility forms: mathematical bold, full-width letters), links no one
// and creates no one. Before, a user of the org's own IdP who may edit their
// profile's address (the IdP's uniqueness check lets "𝐝𝐨𝐜@…" past, as it is
// not "doc@…") signed in as the member with the plain address, an admin
// included, and locked the member out (their own subject was then a second
// one); with JIT, they took the plain address for a new account.
func TestAttackSSOLookalikeAddress(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Lookalike Org")
	op := startEvilOP(t, "lookalike", "lookalike-secret-1")
	conn := w.createConnection(a, map[string]any{"name": "Corp IdP", "issuer": op.issuer, "client_id": "lookalike",
		"client_secret": "lookalike-secret-1", "signing_algs": []string{"ES256"}, "jit": true, "jit_role": "provider"})
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "corp.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/corp.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	boss := w.addMember(a, "boss@corp.test", identity.RoleAdmin)

	refused := func(sub, email string) {
		t.Helper()
		op.set(func(op *evilOP) { op.sub, op.email = sub, email })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" || b.session() != "" {
			t.Fatalf("%q signed in: %d %s", email, resp.StatusCode, body)
		}
		var reason string
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
		    and action = 'auth.signin' and outcome = 'denied' order by at desc limit 1`, a.ID).Scan(&reason); err != nil ||
			reason != "no_email" {
			t.Fatalf("%q refused for %q (%v)", email, reason, err)
		}
	}
	users := func() (n int) {
		t.Helper()
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.users`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := users()
	refused("mallory-1", "\U0001d41b\U0001d428\U0001d42c\U0001d42c@corp.test") // mathematical bold "boss"
	refused("mallory-2", "ｂｏｓｓ@corp.test")                                     // full-width letters
	refused("mallory-3", "ｎｅｗ.ｈｉｒｅ@corp.test")                                 // JIT would have made new.hire@corp.test
	if n := users(); n != before {
		t.Fatalf("a look-alike address made %d accounts", n-before)
	}
	var links int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.sso_identities where org_id = $1`,
		a.ID).Scan(&links); err != nil || links != 0 {
		t.Fatalf("%d identities linked by look-alike addresses (%v)", links, err)
	}

	// The member's own identity links, and the address in another case
	// still names them (addresses are case-insensitive in Ward).
	op.set(func(op *evilOP) { op.sub, op.email = "boss-1", "Boss@Corp.test" })
	b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("the member's own sign-in: %d %s", resp.StatusCode, body)
	}
	var me struct {
		UserID string `json:"user_id"`
	}
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if me.UserID != boss.ID.String() {
		t.Fatalf("signed in as %s, want %s", me.UserID, boss.ID)
	}
}

// TestAttackSCIMProbesHeld keeps the SCIM probes of this review that held,
// as guards: a token of a shredded org, another org's user by id, a PATCH
// of userName (a member's sign-in address: their sign-in links), filter
// injection, a huge count, routes and methods SCIM does not have. Every
// refusal is a SCIM error (RFC 7644 §3.12), never another body.
func TestAttackSCIMProbesHeld(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("SCIM Probe A")
	b := w.createOrg("SCIM Probe B")
	ta := w.createSCIMToken(a, "")
	tb := w.createSCIMToken(b, "")
	victim := w.addMember(b, "victim@probe-b.test", identity.RoleAdmin)
	var u scimUser
	w.scim("POST", "/scim/v2/Users", ta.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "nurse@probe-a.test"}`, http.StatusCreated, &u)

	// Another org's member, by id: 404 for every verb.
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		body := ""
		switch m {
		case "PUT":
			body = `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "victim@probe-b.test", "active": false}`
		case "PATCH":
			body = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}`
		}
		w.scimError(m, "/scim/v2/Users/"+victim.ID.String(), ta.Secret, body, http.StatusNotFound, "")
	}
	// A member's address does not change through SCIM (it is where their
	// sign-in links go), in any of the shapes a PATCH may take.
	for _, op := range []string{`{"op": "replace", "path": "userName", "value": "attacker@evil.test"}`,
		`{"op": "replace", "value": {"userName": "attacker@evil.test"}}`,
		`{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:userName": "attacker@evil.test"}}`} {
		w.scimError("PATCH", "/scim/v2/Users/"+u.ID, ta.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [`+op+`]}`, http.StatusBadRequest, "mutability")
	}
	// Filter injection: attributes and operators Ward does not filter by.
	for _, f := range []string{`userName pr`, `userName sw "a"`, `userName eq "x" or roles.value eq "admin"`,
		`meta.created gt "2000-01-01T00:00:00Z"`} {
		w.scimError("GET", filterQuery(f), ta.Secret, "", http.StatusBadRequest, "invalidFilter")
	}
	// An escaped quote is part of the value (the parser's, not a splice):
	// it names no one, and nothing of another org.
	var none scimList
	w.scim("GET", filterQuery(`userName eq "x\") or (userName eq \"victim@probe-b.test"`), ta.Secret, "", http.StatusOK, &none)
	if none.TotalResults != 0 || len(none.Resources) != 0 {
		t.Fatalf("an escaped quote in a filter value: %+v", none)
	}
	// A huge count is a page of at most 1000.
	var list scimList
	w.scim("GET", "/scim/v2/Users?count=2147483647&startIndex=1", ta.Secret, "", http.StatusOK, &list)
	if list.ItemsPerPage > 1000 || list.TotalResults < 1 {
		t.Fatalf("count 2147483647: %+v", list)
	}
	// Routes and methods SCIM does not have: SCIM errors.
	for _, c := range []struct{ method, path string }{{"GET", "/scim/v2/Bulk"}, {"POST", "/scim/v2/Bulk"},
		{"GET", "/scim/v2/Me"}, {"POST", "/scim/v2/Users/.search"}, {"POST", "/scim/v2/Users/" + u.ID}} {
		status, body := w.scimCall(c.method, c.path, ta.Secret, `{}`)
		if status/100 != 4 || !bytes.Contains(body, []byte("urn:ietf:params:scim:api:messages:2.0:Error")) {
			t.Fatalf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}

	// The token of a shredded org is no credential.
	if _, err := w.env.Super.Pool.Exec(t.Context(), `select app.ops_org_shred($1, $2, false)`, b.ID, "SCIM Probe B"); err != nil {
		t.Fatal(err)
	}
	w.scimError("GET", "/scim/v2/Users", tb.Secret, "", http.StatusUnauthorized, "")
	w.scimError("POST", "/scim/v2/Users", tb.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "back@probe-b.test"}`, http.StatusUnauthorized, "")
}

// TestAttackSSOAssuranceHeld: an SSO session the IdP's trusted amr made
// AAL2 does not meet require_passkey (its amr is sso; a passkey step-up is
// still pending), and an SSO session whose IdP asserted nothing trusted is
// AAL1, pending mfa for an admin.
func TestAttackSSOAssuranceHeld(t *testing.T) {
	dns := startDNS(t)
	// /v1/me reads the SSO session as a bearer token: no device binding.
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Assurance Org")
	op := startEvilOP(t, "assure", "assure-secret-123")
	conn := w.createConnection(a, map[string]any{"name": "IdP", "issuer": op.issuer, "client_id": "assure",
		"client_secret": "assure-secret-123", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "assure.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/assure.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	w.addMember(a, "chief@assure.test", identity.RoleAdmin)
	type me struct {
		AAL     int      `json:"aal"`
		AMR     []string `json:"amr"`
		Pending string   `json:"pending"`
	}
	signIn := func(amr []string) me {
		t.Helper()
		op.set(func(op *evilOP) { op.sub, op.email, op.amr = "chief-1", "chief@assure.test", amr })
		b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
		if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
		}
		var m me
		w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &m)
		return m
	}
	if m := signIn([]string{"pwd"}); m.AAL != 1 || m.Pending != "mfa" {
		t.Fatalf("an SSO session without a trusted amr: %+v", m)
	}
	if m := signIn([]string{"mfa", "passkey", "hwk"}); m.AAL != 2 || m.Pending != "" || len(m.AMR) != 1 || m.AMR[0] != "sso" {
		t.Fatalf("an SSO session with a trusted amr: %+v", m)
	}
	if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.orgs set require_passkey = true where id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if m := signIn([]string{"mfa", "passkey", "hwk"}); m.AAL != 2 || m.Pending != "passkey" {
		t.Fatalf("an SSO session in an org requiring a passkey: %+v", m)
	}
}

// TestAttackSAMLStolenResponseNotIdPInitiated: an SP-initiated response
// (bound to the browser that started, by InResponseTo and the RelayState's
// state) taken by someone else and posted without its RelayState, to a
// connection that allows IdP-initiated sign-ins, is not accepted as one:
// no confirmation page, no session, the refusal audited.
func TestAttackSAMLStolenResponseNotIdPInitiated(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	a := w.createOrg("SAML Theft Org")
	idp := samlIdP(t, "carol", "carol@theft.test", "c4r0l-pass")
	_, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	var conn sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp", "idp_metadata": string(md),
		"allow_idp_initiated": true}, http.StatusCreated, &conn)
	_, spMD := (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/metadata")
	put(t, idp.URL+"/services/ward", string(spMD))

	victim := w.browser(t)
	resp, body := victim.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
	form := victim.samlLogin(idp, resp, body, "carol", "c4r0l-pass")
	if form.Get("RelayState") == "" {
		t.Fatal("an SP-initiated response without its RelayState")
	}
	stolen := url.Values{"SAMLResponse": {form.Get("SAMLResponse")}}
	acs := w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/acs"
	thief := w.browser(t)
	resp, body = thief.post(acs, stolen)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" || thief.session() != "" ||
		samlConfirmInput.Match(body) {
		t.Fatalf("a stolen SP-initiated response posted as IdP-initiated: %d %s", resp.StatusCode, body)
	}
	var reason string
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' order by at desc limit 1`, a.ID).Scan(&reason); err != nil ||
		reason != "wrong_in_response_to" {
		t.Fatalf("the stolen response refused for %q (%v)", reason, err)
	}
}
