package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// device_binding_required_for (issue 8 §6): a new org requires its staff
// (provider, lead, admin) to bind their non-browser sessions to a DPoP key.
// A sign-in without a proof is a browser session, in the cookie only, that
// works in the cookie and nowhere else; a token once handed out in a body
// is never a browser session, even sent as a cookie; a DPoP-bound session
// works; other roles are unaffected; and the database holds all of it.
func TestDeviceBindingPolicy(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Binding Org")
	w.populate(o, "db")
	ctx := context.Background()

	var pol struct {
		RequiredFor []string `json:"device_binding_required_for"`
		Recommended []string `json:"recommended"`
	}
	w.do("GET", "/v1/org/device-binding-policy", o.Prov.Token, nil, http.StatusOK, &pol)
	if strings.Join(pol.RequiredFor, ",") != "admin,lead,provider" || strings.Join(pol.Recommended, ",") != "provider,lead,admin" {
		t.Fatalf("a new org's device binding policy: %+v", pol)
	}
	// The harness's staff clients signed in with DPoP proofs; its patients
	// did not.
	for name, tok := range map[string]string{"admin": o.Admin.Token, "lead": o.Lead.Token, "provider": o.Prov.Token} {
		if _, ok := w.boundKey(tok); !ok {
			t.Fatalf("the %s's session is not DPoP-bound", name)
		}
	}
	if _, ok := w.boundKey(o.PatUser.Token); ok {
		t.Fatal("the patient's session is DPoP-bound")
	}
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser.Token, nil, http.StatusOK, nil)

	if resp, b := w.request("PUT", "/v1/org/device-binding-policy", o.Lead.Token,
		map[string]any{"device_binding_required_for": []string{"provider"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("policy by a lead: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.request("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"root"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("policy with an unknown role: %d %s", resp.StatusCode, b)
	}

	const email = "db-new@example.test"
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": email, "role": identity.RoleProvider, "invite": false},
		http.StatusCreated, nil)
	type signedIn struct {
		Token                 string `json:"token"`
		TokenType             string `json:"token_type"`
		DeviceBindingRequired bool   `json:"device_binding_required"`
	}
	signIn := func(email string, hdr ...string) (signedIn, string) {
		t.Helper()
		l, err := w.ops.OperatorLink(ctx, w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		resp, b := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": l[strings.LastIndex(l, "=")+1:]}, hdr...)
		var s signedIn
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
		}
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "ward_session" {
				cookie = c.Value
			}
		}
		return s, cookie
	}
	cookieGet := func(path, cookie string) (*http.Response, []byte) {
		return w.request("GET", path, "", nil, "Cookie", "ward_session="+cookie)
	}
	// resolves reports whether the database resolves token as ward_app with
	// the binding dpop, exactly as the server would bind it.
	resolves := func(token, dpop string) bool {
		t.Helper()
		var n int
		err := w.env.App.InTenantTx(ctx, postgres.Credential{Hash: identity.HashToken(token), DPoP: dpop},
			func(ctx context.Context, tx pgx.Tx) error {
				return tx.QueryRow(ctx, `select count(*) from app.patients`).Scan(&n)
			})
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}

	// A provider signs in without a proof from anything but Ward's own
	// pages (an API client): refused, and no cookie to replay; the session
	// created for the link is ended.
	l, err := w.ops.OperatorLink(ctx, w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, b := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": l[strings.LastIndex(l, "=")+1:]})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" || len(resp.Cookies()) > 1 {
		t.Fatalf("API sign-in of a bound role without a proof: %d %s %v", resp.StatusCode, b, resp.Cookies())
	}
	for _, c := range resp.Cookies() {
		if c.Name == "ward_session" && c.Value != "" {
			t.Fatalf("the refused sign-in set a session cookie")
		}
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.sessions s join app.users u on u.id = s.user_id
		 where s.org_id = $1 and s.revoked_at is null and s.user_id = $2`, o.ID, newProvider(t, w, o, email)).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d live sessions after the refused sign-in (%v)", live, err)
	}

	// From Ward's pages (a browser's fetch says Sec-Fetch-Site:
	// same-origin): a browser session, in the cookie only.
	s, browser := signIn(email, "Sec-Fetch-Site", "same-origin")
	if s.Token != "" || !s.DeviceBindingRequired || browser == "" {
		t.Fatalf("sign-in without a proof: %+v, cookie %t", s, browser != "")
	}
	if resp, b := cookieGet("/v1/patients", browser); resp.StatusCode != http.StatusOK {
		t.Fatalf("the browser session in its cookie: %d %s", resp.StatusCode, b)
	}
	// The same token as a bearer token is pending device_binding.
	resp, b = w.request("GET", "/v1/patients", browser, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" {
		t.Fatalf("the browser session as a bearer token: %d %s", resp.StatusCode, b)
	}
	var me meAnswer
	w.do("GET", "/v1/me", browser, nil, http.StatusOK, &me)
	if me.Pending == nil || *me.Pending != "device_binding" {
		t.Fatalf("the browser session as a bearer token, /v1/me: %+v", me)
	}
	// The database itself: the provider's patients (none yet: give them P1)
	// only with the browser binding.
	w.do("PUT", "/v1/patients/"+o.P1.String()+"/care-team/"+newProvider(t, w, o, email).String(), o.Lead.Token, nil,
		http.StatusNoContent, nil)
	if !resolves(browser, postgres.BrowserBinding) || resolves(browser, "") || resolves(browser, strings.Repeat("A", 43)) {
		t.Fatal("the database does not hold the browser session to its cookie")
	}

	// With a DPoP proof the session is bound, handed out, and works.
	key := newDPoPKey(t, jose.ES256)
	s, _ = signIn(email, "DPoP", key.proof("POST", w.root+"/v1/auth/magic", "", nil))
	if s.Token == "" || s.TokenType != "DPoP" {
		t.Fatalf("sign-in with a proof: %+v", s)
	}
	resp, b = w.request("GET", "/v1/patients", "", nil, "Authorization", "DPoP "+s.Token,
		"DPoP", key.proof("GET", w.root+"/v1/patients", s.Token, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bound provider session: %d %s", resp.StatusCode, b)
	}
	if !resolves(s.Token, key.jkt()) || resolves(s.Token, "") || resolves(s.Token, postgres.BrowserBinding) {
		t.Fatal("the database does not hold the DPoP session to its key")
	}

	// Lifting the policy: a sign-in without a proof gets a bearer token in
	// the body (and the cookie), which works as Bearer.
	w.do("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{}}, http.StatusOK, nil)
	bearer, _ := signIn(email)
	if bearer.Token == "" || bearer.DeviceBindingRequired {
		t.Fatalf("sign-in without a proof, no policy: %+v", bearer)
	}
	w.do("GET", "/v1/patients", bearer.Token, nil, http.StatusOK, nil)

	// Requiring it again: the bearer token is refused, as a bearer token
	// and as a cookie (it was handed out in a body: no browser session);
	// the browser session works in its cookie; patients are unaffected.
	w.do("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"provider"}}, http.StatusOK, nil)
	if n := w.auditCount(o.ID, "org.device_binding_policy.update", "success"); n != 2 {
		t.Fatalf("%d policy events", n)
	}
	resp, b = w.request("GET", "/v1/patients", bearer.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" {
		t.Fatalf("an unbound bearer session under the policy: %d %s", resp.StatusCode, b)
	}
	resp, b = cookieGet("/v1/patients", bearer.Token)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" {
		t.Fatalf("a bearer token sent as a cookie: %d %s", resp.StatusCode, b)
	}
	if resolves(bearer.Token, postgres.BrowserBinding) {
		t.Fatal("the database takes a bearer token in a cookie for a browser session")
	}
	// Held back for its binding, the token is nobody to the factor routes
	// and procedures (migration 00173): whoever holds it cannot plant a
	// TOTP or a passkey of their own and sign in with it. It reads who it
	// is, below.
	for _, path := range []string{"/v1/auth/totp/enrol", "/v1/auth/passkeys/register/begin",
		"/v1/auth/passkeys/verify/begin", "/v1/auth/recovery-codes/verify"} {
		resp, b := w.request("POST", path, bearer.Token, map[string]any{})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" {
			t.Fatalf("POST %s with an unbound session under the policy: %d %s", path, resp.StatusCode, b)
		}
	}
	for _, call := range []string{`select app.totp_enrol('\x00'::bytea, sha256('\x00'::bytea))`,
		`select app.passkey_begin('register', 'localhost', 'https://localhost')`,
		`select app.totp_verify('\x00'::bytea, '000000')`, `select app.rotate_session(sha256('\x01'::bytea))`} {
		err := w.env.App.InTenantTx(ctx, postgres.Credential{Hash: identity.HashToken(bearer.Token)},
			func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, call)
				return err
			})
		if pe, ok := errors.AsType[*pgconn.PgError](err); !ok || pe.Code != "42501" {
			t.Fatalf("%s as the unbound session: %v, want 42501", call, err)
		}
	}
	var held meAnswer
	w.do("GET", "/v1/me", bearer.Token, nil, http.StatusOK, &held)
	if held.Pending == nil || *held.Pending != "device_binding" {
		t.Fatalf("/v1/me of the unbound session: %+v", held)
	}
	if resp, b := cookieGet("/v1/patients", browser); resp.StatusCode != http.StatusOK {
		t.Fatalf("the browser session in its cookie: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser.Token, nil, http.StatusOK, nil)

	// A browser session is marked once, in its first minute, and never a
	// DPoP-bound one.
	for name, tok := range map[string]string{"marked twice": browser, "DPoP-bound": s.Token} {
		if err := w.auth.MarkBrowser(ctx, tok); err == nil {
			t.Errorf("MarkBrowser of a session %s succeeded", name)
		}
	}

	// Binding comes before a missing second factor: a one-factor admin
	// sign-in without a proof gets no bearer token either.
	w.do("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"provider", "admin"}}, http.StatusOK, nil)
	if s, _ := signIn(o.Admin.Email, "Sec-Fetch-Site", "same-origin"); s.Token != "" || !s.DeviceBindingRequired {
		t.Fatalf("one-factor admin sign-in without a proof: %+v", s)
	}
}

// newProvider is the id of the member email of o.
func newProvider(t *testing.T, w *world, o *org, email string) uuid.UUID {
	t.Helper()
	var list struct {
		Members []struct {
			UserID uuid.UUID `json:"user_id"`
			Email  string    `json:"email"`
		} `json:"members"`
	}
	w.do("GET", "/v1/members", o.Admin.Token, nil, http.StatusOK, &list)
	for _, m := range list.Members {
		if m.Email == email {
			return m.UserID
		}
	}
	t.Fatalf("no member %s", email)
	return uuid.Nil
}

// A session a passkey created is bound to that passkey: a browser sign-in
// (no proof: the cookie only) and an API sign-in (DPoP) work while the
// passkey exists; deleting the passkey ends both in the same transaction,
// and the database resolves neither any more. Sessions of other passkeys
// and of magic links live on.
func TestPasskeyBoundSessions(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Passkey Bound Org")
	w.populate(o, "pb")
	ctx := context.Background()
	prov := o.Prov
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&prov.Token, d1, "laptop")
	w.registerPasskey(&prov.Token, d2, "phone")

	// The browser signs in with d1, without a proof.
	opts, binder := w.signInOptions()
	resp, b := w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
		"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d1.rp, d1.auth, d1.cred, *opts))},
		"Sec-Fetch-Site", "same-origin")
	var s struct {
		Token                 string    `json:"token"`
		SessionID             uuid.UUID `json:"session_id"`
		DeviceBindingRequired bool      `json:"device_binding_required"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.Token != "" || !s.DeviceBindingRequired {
		t.Fatalf("browser passkey sign-in: %d %s", resp.StatusCode, b)
	}
	var browser string
	for _, c := range resp.Cookies() {
		if c.Name == "ward_session" {
			browser = c.Value
		}
	}
	me := func(cookie string) int {
		resp, _ := w.request("GET", "/v1/me", "", nil, "Cookie", "ward_session="+cookie)
		return resp.StatusCode
	}
	if me(browser) != http.StatusOK {
		t.Fatal("the browser's passkey session does not work in its cookie")
	}
	var passkey uuid.UUID
	var isBrowser bool
	if err := w.env.Super.Pool.QueryRow(ctx, `select s.passkey_id, s.browser from app.sessions s where s.id = $1`,
		s.SessionID).Scan(&passkey, &isBrowser); err != nil || !isBrowser {
		t.Fatalf("the browser session's row: %v %v", isBrowser, err)
	}
	var list struct {
		Passkeys []struct {
			ID   uuid.UUID `json:"id"`
			Name string    `json:"name"`
		} `json:"passkeys"`
	}
	w.do("GET", "/v1/auth/passkeys", prov.Token, nil, http.StatusOK, &list)
	var laptop uuid.UUID
	for _, p := range list.Passkeys {
		if p.Name == "laptop" {
			laptop = p.ID
		}
	}
	if passkey != laptop {
		t.Fatalf("the session records passkey %v, the laptop is %v", passkey, laptop)
	}

	// A step-up from the browser rotates the token in the cookie only: the
	// browser session's token never appears in a body.
	page := []string{"Cookie", "ward_session=" + browser, "Sec-Fetch-Site", "same-origin"}
	resp, b = w.request("POST", "/v1/auth/passkeys/verify/begin", "", nil, page...)
	vopts, err := virtualwebauthn.ParseAssertionOptions(string(b))
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("verify begin from the browser: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", "/v1/auth/passkeys/verify/finish", "", map[string]any{
		"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d1.rp, d1.auth, d1.cred, *vopts))}, page...)
	var rotated string
	for _, c := range resp.Cookies() {
		if c.Name == "ward_session" {
			rotated = c.Value
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"token"`) || rotated == "" || rotated == browser {
		t.Fatalf("step-up from the browser: %d %s (cookie rotated: %t)", resp.StatusCode, b, rotated != browser)
	}
	browser = rotated
	if me(browser) != http.StatusOK {
		t.Fatal("the rotated browser session does not work in its cookie")
	}

	// API clients sign in with d1 and d2 (DPoP).
	api1, api2 := w.passkeySignIn(d1), w.passkeySignIn(d2)
	w.do("GET", "/v1/me", api1, nil, http.StatusOK, nil)

	// Deleting d1's passkey ends both sessions it created.
	w.do("DELETE", "/v1/auth/passkeys/"+laptop.String(), prov.Token, nil, http.StatusNoContent, nil)
	if code := me(browser); code != http.StatusUnauthorized {
		t.Fatalf("the browser session after its passkey was deleted: %d", code)
	}
	resp, b = w.request("GET", "/v1/me", api1, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("the API session after its passkey was deleted: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/me", api2, nil, http.StatusOK, nil)
	w.do("GET", "/v1/me", prov.Token, nil, http.StatusOK, nil)
	var ended int
	if err := w.env.Super.Pool.QueryRow(ctx, `select (details->>'sessions_ended')::int from audit.events
	    where org_id = $1 and action = 'auth.passkey.delete' and outcome = 'success'`, o.ID).Scan(&ended); err != nil || ended != 2 {
		t.Fatalf("the delete event counts %d ended sessions (%v), want 2", ended, err)
	}

	// The database resolves a session whose passkey is gone to nobody even
	// if its revocation were undone (a server bug, an old backup).
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = null, revoked_reason = null where id = $1`,
		s.SessionID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.env.App.InTenantTx(ctx, postgres.Credential{Hash: identity.HashToken(browser), DPoP: postgres.BrowserBinding},
		func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		}); err != nil || n != 0 {
		t.Fatalf("ward_app resolves a session whose passkey is gone: %d (%v)", n, err)
	}
	if code := me(browser); code != http.StatusUnauthorized {
		t.Fatalf("a session whose passkey is gone, not revoked: %d", code)
	}
}
