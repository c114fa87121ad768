package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/postgres"
)

// TestTOTPDelete: a member removes their own TOTP factor (DELETE
// /v1/auth/totp), unless it is the last second factor their org's bar
// needs; an admin resets a member's factor for them (DELETE
// /v1/members/{user_id}/totp). Either ends the member's sessions that
// presented TOTP, is audited, and lets the member enrol again.
func TestTOTPDelete(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Delete Org")
	w.populate(o, "tdel")
	ctx := context.Background()
	hasFactor := func(user uuid.UUID) bool {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.totp_factors where org_id = $1 and user_id = $2`,
			o.ID, user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	mailed := func(subject, to string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(w.outbox.String(), subject) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		out := w.outbox.String()
		i := strings.Index(out, subject)
		if i < 0 || !strings.Contains(out, to) {
			t.Fatalf("no notice %q to %s in the outbox:\n%s", subject, to, out)
		}
	}
	live := func(token string) bool {
		resp, _ := w.request("GET", "/v1/me", token, nil)
		return resp.StatusCode == http.StatusOK
	}

	// A lead needs a second factor (instance rule): their only one stays.
	lead := w.signInAAL1(o.Lead.Email, o.ID)
	leadSecret := w.enrolTOTP(&lead)
	resp, b := w.request("DELETE", "/v1/auth/totp", lead, nil)
	if resp.StatusCode != http.StatusConflict || problemCode(t, b) != "last_factor" || !hasFactor(o.Lead.ID) {
		t.Fatalf("the lead's last factor: %d %s", resp.StatusCode, b)
	}
	if n := w.auditCount(o.ID, "auth.mfa.delete", "denied"); n != 1 {
		t.Fatalf("%d denied auth.mfa.delete events, want 1", n)
	}
	lead2 := w.signInAAL1(o.Lead.Email, o.ID)
	w.verifyTOTP(&lead2, totpCode(t, leadSecret, time.Now()))

	// A patient's bar needs none: the factor goes, and with it every
	// session of theirs that presented it; they enrol again afresh.
	pat := w.signInAAL1(o.PatUser.Email, o.ID)
	patSecret := w.enrolTOTP(&pat)
	pat2 := w.signInAAL1(o.PatUser.Email, o.ID)
	patPlain := w.signInAAL1(o.PatUser.Email, o.ID) // presented no TOTP
	w.verifyTOTP(&pat2, totpCode(t, patSecret, time.Now()))
	w.do("DELETE", "/v1/auth/totp", pat, nil, http.StatusNoContent, nil)
	if hasFactor(o.PatUser.ID) || live(pat) || live(pat2) || !live(patPlain) {
		t.Fatalf("after the patient's deletion: factor %v, sessions live %v %v %v (want false false false true)",
			hasFactor(o.PatUser.ID), live(pat), live(pat2), live(patPlain))
	}
	if n := w.auditCount(o.ID, "auth.mfa.delete", "success"); n != 1 {
		t.Fatalf("%d auth.mfa.delete events, want 1", n)
	}
	mailed("Your TOTP authenticator was removed", o.PatUser.Email)
	resp, b = w.request("DELETE", "/v1/auth/totp", patPlain, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "insufficient_assurance" {
		t.Fatalf("a one-factor session's deletion: %d %s", resp.StatusCode, b)
	}
	again := w.signInAAL1(o.PatUser.Email, o.ID)
	w.enrolTOTP(&again)

	// The database decides the step-up age itself, whatever the server let
	// through: a session that presented its factor 11 minutes ago removes
	// nothing, and the row stays.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set authenticated_at = now() - interval '11 minutes'
	    where token_hash = sha256($1::bytea)`, []byte(again)); err != nil {
		t.Fatal(err)
	}
	err := w.env.App.InTenantTx(ctx, w.cred(again), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.totp_delete(null)`)
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) || !hasFactor(o.PatUser.ID) {
		t.Fatalf("a stale step-up's deletion in SQL: %v (factor kept %v)", err, hasFactor(o.PatUser.ID))
	}

	// The help desk: an admin's stepped-up session resets the lead's
	// factor; nobody else may, and not on themself.
	path := "/v1/members/" + o.Lead.ID.String() + "/totp"
	resp, b = w.request("DELETE", path, o.Prov.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "forbidden" {
		t.Fatalf("a provider's reset: %d %s", resp.StatusCode, b)
	}
	key := w.createKey(o, auth.ScopeMembers).Key
	resp, b = w.request("DELETE", path, key, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "credential_not_accepted" {
		t.Fatalf("an admin key's reset: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("DELETE", "/v1/members/"+o.Admin.ID.String()+"/totp", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "reset_self" {
		t.Fatalf("an admin's reset of themself: %d %s", resp.StatusCode, b)
	}
	other := w.createOrg("TOTP Delete Other")
	resp, b = w.request("DELETE", path, other.Admin.Token, nil)
	if resp.StatusCode != http.StatusNotFound || !hasFactor(o.Lead.ID) {
		t.Fatalf("another org's admin's reset: %d %s", resp.StatusCode, b)
	}
	if !live(lead) || !live(lead2) {
		t.Fatal("the refused resets ended the lead's sessions")
	}
	// The lead's recovery codes go with the reset: whoever holds them
	// would still get AAL2, though they count for nothing at enrolment.
	var codes struct {
		Codes []string `json:"codes"`
	}
	w.do("POST", "/v1/auth/recovery-codes", lead, nil, http.StatusCreated, &codes)
	if len(codes.Codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes.Codes))
	}
	w.do("DELETE", path, o.Admin.Token, nil, http.StatusNoContent, nil)
	if hasFactor(o.Lead.ID) || live(lead) || live(lead2) {
		t.Fatalf("after the reset: factor %v, sessions live %v %v", hasFactor(o.Lead.ID), live(lead), live(lead2))
	}
	mailed("An administrator reset your TOTP authenticator", o.Lead.Email)
	var unused int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.recovery_codes where org_id = $1 and user_id = $2`,
		o.ID, o.Lead.ID).Scan(&unused); err != nil || unused != 0 {
		t.Fatalf("%d recovery codes of the lead left after the reset (%v)", unused, err)
	}
	codeTok := w.signInAAL1(o.Lead.Email, o.ID)
	resp, b = w.request("POST", "/v1/auth/recovery-codes/verify", codeTok, map[string]string{"code": codes.Codes[0]})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Fatalf("a recovery code after the reset: %d %s", resp.StatusCode, b)
	}
	var object uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select object_id from audit.events where org_id = $1 and action = 'auth.mfa.reset'
	    and outcome = 'success'`, o.ID).Scan(&object); err != nil || object != o.Lead.ID {
		t.Fatalf("the reset's event names %v (%v), want the lead", object, err)
	}
	resp, b = w.request("DELETE", path, o.Admin.Token, nil)
	if resp.StatusCode != http.StatusNotFound || problemCode(t, b) != "not_found" {
		t.Fatalf("a reset with no factor left: %d %s", resp.StatusCode, b)
	}
	// The lead, with no factor, enrols again from a magic-link session.
	fresh := w.signInAAL1(o.Lead.Email, o.ID)
	w.enrolTOTP(&fresh)
}
