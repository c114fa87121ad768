package httpapi_test

import (
	"context"
	"encoding/base32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
)

// replaceEnrolment is POST /v1/auth/totp/enrol's answer over a confirmed
// factor.
type replaceEnrolment struct {
	URI         string     `json:"otpauth_uri"`
	Secret      string     `json:"secret"`
	Replacement bool       `json:"replacement"`
	ConfirmBy   *time.Time `json:"confirm_by"`
}

// totpFactor is the member's factor as the superuser reads it: its
// failure count, whether a replacement is pending, and its last step.
func totpFactor(t *testing.T, w *world, org, user uuid.UUID) (failures int, pending bool, lastStep int64) {
	t.Helper()
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select failures, pending_secret_enc is not null,
	    coalesce(last_step, -1) from app.totp_factors where org_id = $1 and user_id = $2`, org, user).
		Scan(&failures, &pending, &lastStep); err != nil {
		t.Fatal(err)
	}
	return
}

// refusedWith requires the answer to be status with the problem code.
func refusedWith(t *testing.T, what string, resp *http.Response, b []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || problemCode(t, b) != code {
		t.Fatalf("%s: %d %s; want %d %s", what, resp.StatusCode, b, status, code)
	}
}

// TestTOTPReplace (migration 00219): a member replaces their TOTP
// authenticator without a gap. A session that presented a second factor
// within 10 minutes enrols a new secret over the confirmed factor; it is
// pending: the old secret keeps verifying sign-ins and step-ups, the new
// one verifies nothing, until the enrolling session confirms it with its
// first code. The swap is atomic: the old secret stops working, the new
// one starts with no failures, the member's other TOTP sessions end, it is
// audited (auth.mfa.replace) and mailed. Before, enrolling over a
// confirmed factor answered 409 factor_exists, and a lead, whose only
// factor is TOTP, could not replace it at all.
func TestTOTPReplace(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Replace Org")
	w.populate(o, "trep")
	live := func(token string) bool {
		resp, _ := w.request("GET", "/v1/me", token, nil)
		return resp.StatusCode == http.StatusOK
	}
	// A lead needs a second factor and holds only TOTP: the removal
	// route refuses them (last_factor); replacement does not.
	lead := w.signInAAL1(o.Lead.Email, o.ID)
	oldSecret := w.enrolTOTP(&lead)
	enrols := w.auditCount(o.ID, "auth.mfa.enrol", "success")
	var e replaceEnrolment
	w.do("POST", "/v1/auth/totp/enrol", lead, nil, http.StatusCreated, &e)
	if !e.Replacement || e.ConfirmBy == nil || e.Secret == "" || e.Secret == oldSecret ||
		time.Until(*e.ConfirmBy) > 10*time.Minute || time.Until(*e.ConfirmBy) < 9*time.Minute {
		t.Fatalf("replacement enrolment %+v", e)
	}
	if n := w.auditCount(o.ID, "auth.mfa.enrol", "success"); n != enrols+1 {
		t.Fatalf("%d auth.mfa.enrol events, want %d (one more for the replacement)", n, enrols+1)
	}

	// Until it is confirmed, the old secret verifies a sign-in...
	other := w.signInAAL1(o.Lead.Email, o.ID)
	w.verifyTOTP(&other, totpCode(t, oldSecret, time.Now()))
	// ... and the pending one verifies neither a sign-in nor a step-up.
	plain := w.signInAAL1(o.Lead.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/totp/verify", plain, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "a sign-in with the pending secret", resp, b, http.StatusForbidden, "factor_invalid")
	resp, b = w.request("POST", "/v1/auth/totp/verify", lead, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "a step-up with the pending secret", resp, b, http.StatusForbidden, "factor_invalid")
	// The database itself verifies codes against the confirmed secret
	// only: the pending one, presented in SQL past the server, is not the
	// enrolled secret.
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil {
		t.Fatal(err)
	}
	err = w.env.App.InTenantTx(context.Background(), w.cred(plain), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.totp_verify($1, $2)`, raw, totpCode(t, e.Secret, time.Now()))
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("the pending secret presented to app.totp_verify: %v; want 22023", err)
	}
	if failures, pending, _ := totpFactor(t, w, o.ID, o.Lead.ID); failures != 2 || !pending {
		t.Fatalf("before the confirmation: %d failures, pending %v; want 2 (the pending secret's codes), true", failures, pending)
	}

	// Only the session that enrolled it confirms it, with its own code.
	resp, b = w.request("POST", "/v1/auth/totp/confirm", other, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "another session's confirmation", resp, b, http.StatusNotFound, "replacement_not_pending")
	resp, b = w.request("POST", "/v1/auth/totp/confirm", lead, map[string]string{"code": totpCode(t, oldSecret, time.Now().Add(30*time.Second))})
	refusedWith(t, "a confirmation with the old secret's code", resp, b, http.StatusForbidden, "factor_invalid")
	w.do("POST", "/v1/auth/totp/confirm", lead, map[string]string{"code": totpCode(t, e.Secret, time.Now())},
		http.StatusNoContent, nil)
	failures, pending, last := totpFactor(t, w, o.ID, o.Lead.ID)
	if failures != 0 || pending || last != time.Now().Unix()/30 && last != time.Now().Unix()/30-1 {
		t.Fatalf("after the confirmation: %d failures, pending %v, last step %d; want 0, false, the code's step", failures, pending, last)
	}
	// The member's other session that presented TOTP ended; the
	// confirming one and the one that presented none stay.
	if live(other) || !live(lead) || !live(plain) {
		t.Fatalf("after the confirmation, sessions live: other %v, confirming %v, plain %v; want false true true",
			live(other), live(lead), live(plain))
	}
	// The old secret verifies nothing now; the new one does.
	resp, b = w.request("POST", "/v1/auth/totp/verify", plain, map[string]string{"code": totpCode(t, oldSecret, time.Now().Add(30*time.Second))})
	refusedWith(t, "a sign-in with the old secret after the swap", resp, b, http.StatusForbidden, "factor_invalid")
	w.verifyTOTP(&plain, totpCode(t, e.Secret, time.Now().Add(30*time.Second)))
	if n := w.auditCount(o.ID, "auth.mfa.replace", "success"); n != 1 {
		t.Fatalf("%d auth.mfa.replace events, want 1", n)
	}
	if n := w.auditCount(o.ID, "auth.mfa.replace", "denied"); n != 1 {
		t.Fatalf("%d denied auth.mfa.replace events, want 1 (the old secret's code)", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.outbox.String(), "Your TOTP authenticator was replaced") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if out := w.outbox.String(); !strings.Contains(out, "Your TOTP authenticator was replaced") || !strings.Contains(out, o.Lead.Email) {
		t.Fatalf("no replacement notice to the lead in the outbox:\n%s", out)
	}
}

// TestTOTPReplaceStepUp (migration 00219): a replacement is enrolled only
// from a session that presented a second factor within the last 10
// minutes (403 step_up_required): a session of the member's mail alone, or
// one whose step-up is old, cannot put its own secret over the member's
// factor.
func TestTOTPReplaceStepUp(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Replace Step-Up Org")
	w.populate(o, "trsu")
	pat := w.signInAAL1(o.PatUser.Email, o.ID)
	w.enrolTOTP(&pat)
	// A session that presented no second factor, and one whose
	// step-up is 11 minutes old, enrol nothing over the factor.
	plain := w.signInAAL1(o.PatUser.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/totp/enrol", plain, nil)
	refusedWith(t, "a one-factor session's replacement", resp, b, http.StatusForbidden, "step_up_required")
	w.age(pat, 11*time.Minute)
	resp, b = w.request("POST", "/v1/auth/totp/enrol", pat, nil)
	refusedWith(t, "a stale step-up's replacement", resp, b, http.StatusForbidden, "step_up_required")
	if _, pending, _ := totpFactor(t, w, o.ID, o.PatUser.ID); pending {
		t.Fatal("a refused replacement left a pending secret")
	}
}

// TestTOTPReplaceExpiry (migration 00219): a replacement not confirmed
// within 10 minutes is discarded when presented (409
// replacement_expired), never verifies, and the old factor stays the
// member's.
func TestTOTPReplaceExpiry(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("TOTP Replace Expiry Org")
	w.populate(o, "trex")
	ctx := context.Background()
	prov := w.signInAAL1(o.Prov.Email, o.ID)
	oldSecret := w.enrolTOTP(&prov)
	var e replaceEnrolment
	w.do("POST", "/v1/auth/totp/enrol", prov, nil, http.StatusCreated, &e)
	// Ten minutes pass without a confirmation (the step-up is kept
	// fresh: only the replacement's age is at stake).
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.totp_factors set pending_created_at = now() - interval '10 minutes 1 second'
	    where org_id = $1 and user_id = $2`, o.ID, o.Prov.ID); err != nil {
		t.Fatal(err)
	}
	resp, b := w.request("POST", "/v1/auth/totp/confirm", prov, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "an expired replacement's confirmation", resp, b, http.StatusConflict, "replacement_expired")
	if _, pending, _ := totpFactor(t, w, o.ID, o.Prov.ID); pending {
		t.Fatal("the expired replacement is still pending")
	}
	resp, b = w.request("POST", "/v1/auth/totp/confirm", prov, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "a confirmation once the replacement is gone", resp, b, http.StatusNotFound, "replacement_not_pending")
	// The old factor is the member's, as it was.
	plain := w.signInAAL1(o.Prov.Email, o.ID)
	resp, b = w.request("POST", "/v1/auth/totp/verify", plain, map[string]string{"code": totpCode(t, e.Secret, time.Now())})
	refusedWith(t, "a sign-in with the expired replacement", resp, b, http.StatusForbidden, "factor_invalid")
	w.verifyTOTP(&plain, totpCode(t, oldSecret, time.Now()))
}
