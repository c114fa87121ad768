package httpapi_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
	"github.com/wardhq/ward/internal/sso"
)

// An attacker's review of authentication and authorization over HTTP
// (after the input review): the attacks that found a flaw, each with the
// fix's test, and compact tests of refusals no other test covered.

// holdAs runs stmt with args in a transaction as token's credential (bound
// as the server binds it), scanning its one value into out, and keeps the
// transaction open until release is closed; it then commits. The returned
// channel yields the commit's error. held is closed once stmt has run.
func (w *world) holdAs(token, stmt string, out any, release <-chan struct{}, args ...any) (held <-chan struct{}, done <-chan error) {
	h, d := make(chan struct{}), make(chan error, 1)
	go func() {
		d <- w.env.App.InTenantTx(context.Background(), w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			err := tx.QueryRow(ctx, stmt, args...).Scan(out)
			close(h)
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	return h, d
}

// raceAgainst sends method path as token while another transaction holds
// what it may need, and returns the answer once it came back on its own or
// once it waits for a lock (the other transaction is then released and
// the answer awaited). held must be closed before it is called.
func (w *world) raceAgainst(method, path, token string, body any, release chan struct{}) (int, []byte) {
	w.t.Helper()
	return w.raceCall(method+" "+path, func() (int, []byte) {
		resp, b := w.request(method, path, token, body)
		return resp.StatusCode, b
	}, release)
}

// raceCall is raceAgainst for any call (named what).
func (w *world) raceCall(what string, call func() (int, []byte), release chan struct{}) (int, []byte) {
	w.t.Helper()
	type answer struct {
		status int
		body   []byte
	}
	got := make(chan answer, 1)
	go func() {
		st, b := call()
		got <- answer{st, b}
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		select {
		case a := <-got:
			close(release)
			return a.status, a.body
		default:
		}
		var waiting int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from pg_stat_activity
			where datname = current_database() and usename = 'ward_app' and wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			w.t.Fatal(err)
		}
		if waiting > 0 {
			close(release)
			a := <-got
			return a.status, a.body
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s neither answered nor waited for a lock", what)
		}
	}
}

// Removing the last factor by racing two deletions: an admin (bar mfa, no
// TOTP) holds two passkeys and deletes both at once. Each deletion counted
// the passkeys left besides its own, saw the other, and both went through:
// the admin was left with no factor at all. The deletions of one member's
// passkeys now take turns (migration 00195), so the second sees it would
// delete the last one.
func TestAttackLastPasskeyRace(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Last Factor Race Org")
	tok := o.Admin.Token
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&tok, d1, "first")
	w.registerPasskey(&tok, d2, "second")
	var list struct {
		Passkeys []struct {
			ID uuid.UUID `json:"id"`
		} `json:"passkeys"`
	}
	w.do("GET", "/v1/auth/passkeys", tok, nil, http.StatusOK, &list)
	if len(list.Passkeys) != 2 {
		t.Fatalf("%d passkeys, want 2", len(list.Passkeys))
	}
	first, second := list.Passkeys[0].ID, list.Passkeys[1].ID

	release := make(chan struct{})
	var res string
	held, done := w.holdAs(tok, `select app.passkey_delete($1)`, &res, release, first)
	<-held
	status, body := w.raceAgainst("DELETE", "/v1/auth/passkeys/"+second.String(), tok, nil, release)
	if err := <-done; err != nil || res != "ok" {
		t.Fatalf("the first deletion: %q %v", res, err)
	}
	if status != http.StatusConflict || problemCode(t, body) != "last_factor" {
		t.Fatalf("deleting the other passkey at the same time: %d %s, want 409 last_factor", status, body)
	}
	var left int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.passkeys where org_id = $1 and user_id = $2`,
		o.ID, o.Admin.ID).Scan(&left); err != nil || left != 1 {
		t.Fatalf("the admin holds %d passkeys after the race (%v), want 1", left, err)
	}
}

// A deprovisioned admin keeps a SCIM token: an admin whose membership ends
// (SCIM deactivation, an admin's revocation) or who loses the admin role
// loses the SCIM tokens they made, in that transaction
// (app.membership_revoked), and a SCIM token resolves without its
// creator's standing. A token whose creation was in flight as the directory
// deactivated its creator was not there to be revoked (the deactivation's
// update does not wait for the creation), and a creation that waited for
// an admin's revocation went on once it committed: either way the fired
// admin kept a live token (default role lead), which provisions a new
// account for its holder. A token's creation now holds its creator's
// membership row and checks it is still a live admin's (migration 00196):
// a revocation waits for it and then revokes the new token, and a creation
// that waited for a revocation is refused.
func TestAttackSCIMTokenOutlivesRevocation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("SCIM Race Org")
	directory := w.createSCIMToken(o, "")
	eve := w.addMember(o, "scim-race-eve@example.test", "admin")

	// The directory deactivates eve while eve creates a token.
	secret := scim.NewToken()
	sum := sha256.Sum256([]byte(secret))
	release := make(chan struct{})
	var id uuid.UUID
	held, done := w.holdAs(eve.Token, `select app.create_scim_token($1, $2, 'race', 'lead')`, &id, release,
		sum[:], secret[:9])
	<-held
	status, body := w.raceCall("SCIM deactivation", func() (int, []byte) {
		return w.scimCall("PATCH", "/scim/v2/Users/"+eve.ID.String(), directory.Secret,
			`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			  "Operations": [{"op": "replace", "path": "active", "value": false}]}`)
	}, release)
	if status != http.StatusOK {
		t.Fatalf("deactivating the admin: %d %s", status, body)
	}
	if err := <-done; err != nil {
		t.Fatalf("the token's creation: %v", err)
	}
	if st, b := w.scimCall("GET", "/scim/v2/Users", secret, ""); st != http.StatusUnauthorized {
		t.Fatalf("the deprovisioned admin's SCIM token made as the directory deactivated them: %d %s, want 401", st, b)
	}

	// The other order: an admin's revocation holds the row, the creation
	// waits for it and is refused.
	mallory := w.addMember(o, "scim-race-mallory@example.test", "admin")
	release = make(chan struct{})
	var none string
	held, done = w.holdAs(o.Admin.Token, `select app.update_member($1, null, true)::text`, &none, release, mallory.ID)
	<-held
	status, body = w.raceAgainst("POST", "/v1/scim/tokens", mallory.Token, map[string]any{"name": "late"}, release)
	if err := <-done; err != nil {
		t.Fatalf("the revocation: %v", err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("a SCIM token made by an admin whose revocation committed while it waited: %d %s, want 403", status, body)
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.scim_tokens
		where org_id = $1 and created_by = any ($2) and revoked_at is null`, o.ID, []uuid.UUID{eve.ID, mallory.ID}).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d live SCIM tokens of revoked admins (%v)", live, err)
	}
}

// Login CSRF through SSO: an org admin who runs their own IdP (and verified
// their own domain) sends a victim's browser, from any site, to
// /v1/sso/start for their connection. The start set the binder cookie and
// went on to the IdP, which signs the attacker's own account in at once;
// the callback then put the attacker's session in the victim's cookie (and
// ended the victim's session the cookie held). A start a browser says comes
// from another site (Sec-Fetch-Site cross-site or same-site) now answers a
// page of Ward's own whose link starts it: the victim is no longer signed
// in without a click on Ward's page, and a click from it goes on.
func TestAttackSSOLoginCSRF(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	evil := w.createOrg("Evil IdP Org")
	op := startEvilOP(t, "ward-evil", "evil-secret-123")
	op.set(func(op *evilOP) { op.mode = "good" })
	conn := w.createConnection(evil, map[string]any{"name": "Evil", "issuer": op.issuer, "client_id": "ward-evil",
		"client_secret": "evil-secret-123", "signing_algs": []string{"ES256"}})
	w.addMember(evil, "eve@evil.test", identity.RoleProvider)
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", evil.Admin.Token, map[string]any{"domain": "evil.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/evil.test/verify", evil.Admin.Token, nil, http.StatusOK, nil)

	victimOrg := w.createOrg("Victim Org")
	victim := w.addMember(victimOrg, "victim@example.test", identity.RolePatient)
	b := w.browser(t)
	u, _ := url.Parse(w.srv.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: "ward_session", Value: victim.Token, Path: "/"}})

	start := w.srv.URL + "/v1/sso/start?org=" + evil.ID.String() + "&connection=" + conn.ID.String()
	navigate := func(target, site string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	before := w.auditCount(evil.ID, "auth.signin", "success")
	for _, site := range []string{"cross-site", "same-site"} {
		resp, body := navigate(start, site)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/v1/sso/start" || b.session() != victim.Token {
			t.Fatalf("a %s navigation to the attacker's SSO start: %d at %s, cookie replaced %v: %s",
				site, resp.StatusCode, resp.Request.URL, b.session() != victim.Token, body)
		}
		if !strings.Contains(string(body), `/v1/sso/start?org=`+evil.ID.String()) {
			t.Fatalf("the %s start's page links nowhere: %s", site, body)
		}
	}
	if w.auditCount(evil.ID, "auth.signin", "success") != before {
		t.Fatal("a cross-site start signed someone in")
	}
	w.do("GET", "/v1/me", victim.Token, nil, http.StatusOK, nil)

	// From Ward's own page (the link), the sign-in goes on.
	resp, body := navigate(start, "same-origin")
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" || b.session() == victim.Token {
		t.Fatalf("a start from Ward's own page: %d %s", resp.StatusCode, body)
	}
}

// A TOTP factor planted before the member's first factor and confirmed
// after it: whoever reads a new admin's mail signs in (one factor) and
// enrols TOTP while the admin holds no factor, which is allowed, but does
// not confirm it. The admin registers a passkey. A session from a sign-in
// link alone then confirmed the planted TOTP and was AAL2 beside the
// admin's passkey, although a member who holds a factor adds TOTP only
// within the step-up window (migration 00111). Confirming an enrolment now
// asks the same as enrolling (migration 00197): within the step-up window
// once the member holds a factor.
func TestAttackPlantedTOTPConfirmedAfterPasskey(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Planted TOTP Org")
	admin := w.addMember(o, "planted-admin@example.test", identity.RoleAdmin)

	mallory := w.signInAAL1(admin.Email, o.ID) // the mailbox's reader
	var e struct {
		Secret string `json:"secret"`
	}
	w.do("POST", "/v1/auth/totp/enrol", mallory, nil, http.StatusCreated, &e)

	tok := admin.Token
	w.registerPasskey(&tok, w.newDevice(), "laptop")

	mallory = w.signInAAL1(admin.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/totp/verify", mallory, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
		t.Fatalf("confirming a TOTP planted before the admin's passkey, from a link's session: %d %s", resp.StatusCode, b)
	}
	var confirmed bool
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select exists (select from app.totp_factors
		where org_id = $1 and user_id = $2 and confirmed_at is not null)`, o.ID, admin.ID).Scan(&confirmed); err != nil || confirmed {
		t.Fatalf("the planted factor is confirmed: %v %v", confirmed, err)
	}
	w.do("GET", "/v1/me", mallory, nil, http.StatusOK, nil)
	if resp, b := w.request("GET", "/v1/members", mallory, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the link's session reads members: %d %s", resp.StatusCode, b)
	}

	// The admin, stepped up, enrols TOTP (over the planted enrolment) and
	// confirms it.
	w.enrolTOTP(&tok)
}

// A DPoP-bound session presented any other way than with a proof by its
// key: in the session cookie (the browser's binding is no key), as
// x-api-key, or as DPoP with a proof by another key. Refused (401), as the
// Bearer downgrade is (TestDPoP).
func TestAttackDPoPDowngradeOtherCarriers(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DPoP Carrier Org")
	tok := o.Admin.Token
	if _, bound := w.boundKey(tok); !bound {
		t.Fatal("the admin's session is not DPoP-bound")
	}
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil)
	other := newDPoPKey(t, "ES256")
	for _, c := range []struct {
		name string
		hdr  []string
	}{
		{"cookie", []string{"Cookie", "ward_session=" + tok}},
		{"cookie, same origin", []string{"Cookie", "ward_session=" + tok, "Sec-Fetch-Site", "same-origin"}},
		{"x-api-key", []string{"X-Api-Key", tok}},
		{"DPoP, another key's proof", []string{"Authorization", "DPoP " + tok,
			"DPoP", other.proof("GET", w.root+"/v1/members", tok, nil)}},
		{"DPoP and x-api-key, another key's proof", []string{"Authorization", "DPoP " + tok, "X-Api-Key", tok,
			"DPoP", other.proof("GET", w.root+"/v1/members", tok, nil)}},
	} {
		resp, b := w.request("GET", "/v1/members", "", nil, c.hdr...)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", c.name, resp.StatusCode, b)
		}
	}
}

// The same race for an admin API key: a key whose creation waited for its
// creator's revocation went on, unrevoked; it resolves only while its
// creator is a live admin, but came back to life when they were made admin
// again (keys are revoked for good, migration 00123). Refused now (00196).
func TestAttackAPIKeyOutlivesRevocation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Race Org")
	mallory := w.addMember(o, "key-race-mallory@example.test", "admin")
	release := make(chan struct{})
	var none string
	held, done := w.holdAs(o.Admin.Token, `select app.update_member($1, null, true)::text`, &none, release, mallory.ID)
	<-held
	status, body := w.raceAgainst("POST", "/v1/api-keys", mallory.Token,
		map[string]any{"name": "late", "scopes": []string{"members"}}, release)
	if err := <-done; err != nil {
		t.Fatalf("the revocation: %v", err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("an API key made by an admin whose revocation committed while it waited: %d %s, want 403", status, body)
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.api_keys
		where org_id = $1 and created_by = $2 and revoked_at is null`, o.ID, mallory.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d live API keys of the revoked admin (%v)", live, err)
	}
}
