package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/postgres"
)

// TestMemberRecoveryCodesVoid: an admin voids a member's recovery codes for
// them (DELETE /v1/members/{user_id}/recovery-codes, migration 00306), for
// a member without a TOTP factor, whose codes the TOTP reset cannot reach:
// one who holds a passkey and codes and lost the device, or whose codes
// leaked. The sessions a code opened end, the member's passkey and the
// sessions it stepped up stay, the codes no longer work, the member is
// mailed, and it is audited; nobody but another member's admin, stepped
// up, from a session, may.
func TestMemberRecoveryCodesVoid(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Recovery Void Org")
	ctx := context.Background()
	m := w.addMember(o, "ravi@example.test", "provider")
	tok := w.signInAAL1(m.Email, o.ID)
	dev := w.newDevice()
	w.registerPasskey(&tok, dev, "phone")
	var codes struct {
		Codes []string `json:"codes"`
	}
	w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, &codes)
	if len(codes.Codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes.Codes))
	}
	// Someone holding a code opens a session with it; the member steps
	// another up with the passkey.
	codeTok := w.signInAAL1(m.Email, o.ID)
	var stepped struct {
		Token string `json:"token"`
	}
	w.do("POST", "/v1/auth/recovery-codes/verify", codeTok, map[string]string{"code": codes.Codes[0]}, http.StatusOK, &stepped)
	codeTok = stepped.Token
	pkTok := w.signInAAL1(m.Email, o.ID)
	w.passkeyVerify(&pkTok, dev)
	live := func(token string) bool {
		resp, _ := w.request("GET", "/v1/me", token, nil)
		return resp.StatusCode == http.StatusOK
	}
	left := func() (n int) {
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.recovery_codes where org_id = $1 and user_id = $2`,
			o.ID, m.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The TOTP reset does not reach them: they hold no TOTP factor.
	resp, b := w.request("DELETE", "/v1/members/"+m.ID.String()+"/totp", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusNotFound || left() != 10 {
		t.Fatalf("the TOTP reset of a member without TOTP: %d %s, %d codes left", resp.StatusCode, b, left())
	}

	path := "/v1/members/" + m.ID.String() + "/recovery-codes"
	prov := w.addMember(o, "pia@example.test", "provider")
	provTok := w.signInAAL1(prov.Email, o.ID)
	resp, b = w.request("DELETE", path, provTok, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a provider's void: %d %s", resp.StatusCode, b)
	}
	key := w.createKey(o, auth.ScopeMembers).Key
	resp, b = w.request("DELETE", path, key, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "credential_not_accepted" {
		t.Fatalf("an admin key's void: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("DELETE", "/v1/members/"+o.Admin.ID.String()+"/recovery-codes", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "reset_self" {
		t.Fatalf("an admin's void of their own codes: %d %s", resp.StatusCode, b)
	}
	other := w.createOrg("Recovery Void Other")
	resp, b = w.request("DELETE", path, other.Admin.Token, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's admin's void: %d %s", resp.StatusCode, b)
	}
	// An admin whose step-up is older than 10 minutes: refused by the
	// database whatever the server let through (the step-up is then made
	// fresh again).
	stepUpAt := func(at string) {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set authenticated_at = now() - $2::interval
		    where token_hash = sha256($1::bytea)`, []byte(o.Admin.Token), at); err != nil {
			t.Fatal(err)
		}
	}
	stepUpAt("11 minutes")
	err := w.env.App.InTenantTx(ctx, w.cred(o.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.member_recovery_codes_void($1, null)`, m.ID)
		return err
	})
	stepUpAt("0 seconds")
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("a stale step-up's void in SQL: %v", err)
	}
	if left() != 10 || !live(codeTok) {
		t.Fatalf("the refused voids touched the codes (%d left) or the code's session (live %v)", left(), live(codeTok))
	}

	w.do("DELETE", path, o.Admin.Token, nil, http.StatusNoContent, nil)
	if left() != 0 {
		t.Fatalf("%d recovery codes left after the void", left())
	}
	resp, b = w.request("GET", "/v1/me", codeTok, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("the session a voided code opened: %d %s, want 401 session_revoked", resp.StatusCode, b)
	}
	if !live(pkTok) || !live(tok) {
		t.Fatalf("the void ended sessions no code opened: passkey step-up %v, registration %v", live(pkTok), live(tok))
	}
	var reason string
	if err := w.env.Super.Pool.QueryRow(ctx, `select revoked_reason from app.sessions where token_hash = sha256($1::bytea)`,
		[]byte(codeTok)).Scan(&reason); err != nil || reason != "recovery_codes_voided" {
		t.Fatalf("revoked_reason %q (%v)", reason, err)
	}
	var ended, voided int
	var method string
	if err := w.env.Super.Pool.QueryRow(ctx, `select details->>'method', (details->>'sessions_ended')::int,
	       (details->>'recovery_codes_voided')::int from audit.events
	    where org_id = $1 and action = 'auth.mfa.reset' and outcome = 'success' and object_id = $2`, o.ID, m.ID).
		Scan(&method, &ended, &voided); err != nil {
		t.Fatal(err)
	}
	if method != "recovery_codes" || ended != 1 || voided != 9 {
		t.Fatalf("the void's event: method %q, %d sessions ended, %d codes voided; want recovery_codes, 1, 9", method, ended, voided)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.outbox.String(), "An administrator voided your recovery codes") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(w.outbox.String(), "An administrator voided your recovery codes") || !strings.Contains(w.outbox.String(), m.Email) {
		t.Fatalf("no notice to the member:\n%s", w.outbox.String())
	}
	// The voided codes give nothing; the passkey still steps up.
	again := w.signInAAL1(m.Email, o.ID)
	resp, b = w.request("POST", "/v1/auth/recovery-codes/verify", again, map[string]string{"code": codes.Codes[1]})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Fatalf("a voided code: %d %s", resp.StatusCode, b)
	}
	w.passkeyVerify(&again, dev)
	// A member without codes: 404, audited as denied.
	resp, b = w.request("DELETE", path, o.Admin.Token, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a void of no codes: %d %s", resp.StatusCode, b)
	}
	if n := w.auditCount(o.ID, "auth.mfa.reset", "denied"); n < 1 {
		t.Fatalf("%d denied auth.mfa.reset events", n)
	}
}
