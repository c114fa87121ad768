package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// age makes a session's last authentication d ago (as the superuser),
// and with it the one its current token was issued with.
func (w *world) age(token string, d time.Duration) {
	w.t.Helper()
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.sessions set authenticated_at = now() - $2::interval, token_authenticated_at = now() - $2::interval
		  where token_hash = sha256($1::bytea)`,
		[]byte(token), d.String()); err != nil {
		w.t.Fatal(err)
	}
}

// Recovery codes: generated after a fresh second factor, shown once, each
// works once and raises a pending session to AAL2, regeneration kills the
// old set, use is audited and mailed.
func TestRecoveryCodes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Recovery Org")
	tok := w.signInAAL1(o.Admin.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/recovery-codes", tok, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
		t.Fatalf("codes from a pending session: %d %s", resp.StatusCode, b)
	}
	w.enrolTOTP(&tok)
	var set struct {
		Codes []string `json:"codes"`
	}
	w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, &set)
	if len(set.Codes) != 10 || len(set.Codes[0]) != 19 {
		t.Fatalf("codes %v", set.Codes)
	}

	pend := w.signInAAL1(o.Admin.Email, o.ID)
	var rot struct {
		Token string `json:"token"`
	}
	w.do("POST", "/v1/auth/recovery-codes/verify", pend, map[string]string{"code": strings.ToUpper(set.Codes[3])},
		http.StatusOK, &rot)
	pend = rot.Token
	var me struct {
		AAL int      `json:"aal"`
		AMR []string `json:"amr"`
	}
	w.do("GET", "/v1/me", pend, nil, http.StatusOK, &me)
	if me.AAL != 2 || strings.Join(me.AMR, ",") != "email,recovery_code" {
		t.Fatalf("after a recovery code: %+v", me)
	}
	w.do("GET", "/v1/members", pend, nil, http.StatusOK, nil)

	// Single use.
	pend2 := w.signInAAL1(o.Admin.Email, o.ID)
	for _, code := range []string{set.Codes[3], "not-a-code", ""} {
		resp, b = w.request("POST", "/v1/auth/recovery-codes/verify", pend2, map[string]string{"code": code})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
			t.Fatalf("code %q: %d %s", code, resp.StatusCode, b)
		}
	}
	// Regenerating kills the old set.
	w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, nil)
	resp, b = w.request("POST", "/v1/auth/recovery-codes/verify", pend2, map[string]string{"code": set.Codes[4]})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a code of the old set after regeneration: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/members", pend2, nil, http.StatusForbidden, nil)

	if n := w.auditCount(o.ID, "auth.recovery_code.use", "success"); n != 1 {
		t.Errorf("%d recovery code uses audited, want 1", n)
	}
	if n := w.auditCount(o.ID, "auth.recovery_code.use", "denied"); n != 4 {
		t.Errorf("%d refused recovery codes audited, want 4", n)
	}
	if n := w.auditCount(o.ID, "auth.recovery_codes.generate", "success"); n != 2 {
		t.Errorf("%d generations audited, want 2", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.outbox.String(), "A recovery code was used") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := w.outbox.String()
	if !strings.Contains(out, "A recovery code was used") || !strings.Contains(out, o.Admin.Email) ||
		!strings.Contains(out, "9 unused codes") {
		t.Fatalf("no notice in the outbox:\n%s", out)
	}
	for _, c := range set.Codes {
		if strings.Contains(out, c) || strings.Contains(w.logs.String(), c) {
			t.Fatal("a recovery code reached the outbox or the log")
		}
	}
}

// Step-up: member, policy and credential changes need a second factor
// within 10 minutes, at the route and (for credentials) in the database; a
// TOTP code renews it.
func TestStepUp(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Step-up Org")
	tok := w.signInAAL1(o.Admin.Email, o.ID)
	secret := w.enrolTOTP(&tok)
	w.age(tok, 11*time.Minute)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/members"}, {"PUT", "/v1/org/session-policy"}, {"PUT", "/v1/org/assurance-policy"},
		{"POST", "/v1/auth/recovery-codes"},
	} {
		resp, b := w.request(c.method, c.path, tok, map[string]any{})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
			t.Errorf("%s %s with a stale second factor: %d %s", c.method, c.path, resp.StatusCode, b)
		}
	}
	if n := w.auditCount(o.ID, "membership.add", "denied"); n != 1 {
		t.Errorf("%d refused member additions audited, want 1", n)
	}
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil) // reading needs no step-up

	// The database refuses a stale session too, whatever the route says.
	err := w.env.App.InTenantTx(context.Background(), w.cred(tok),
		func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.recovery_codes_generate(array_fill('\x00'::bytea, array[10]))`)
			return err
		})
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("recovery codes for a stale session in SQL: %v", err)
	}

	w.verifyTOTP(&tok, totpCode(t, secret, time.Now()))
	w.do("POST", "/v1/members", tok, map[string]any{"email": "new@example.test", "role": "provider", "invite": false},
		http.StatusCreated, nil)
	w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, nil)
}

// Regenerations sent at once leave one set (00267): twenty generations
// from one stepped-up session leave ten live codes. Each deleted only the
// codes committed before it began, so sixty were left, and a set its
// member never kept stayed a working factor.
func TestRecoveryCodesRegeneratedAtOnce(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Recovery Race Org")
	tok := w.signInAAL1(o.Admin.Email, o.ID)
	w.enrolTOTP(&tok)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var set struct {
				Codes []string `json:"codes"`
			}
			resp, b := w.request("POST", "/v1/auth/recovery-codes", tok, nil)
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &set) != nil || len(set.Codes) != 10 {
				t.Errorf("generation: %d %s", resp.StatusCode, b)
			}
		}()
	}
	close(start)
	wg.Wait()
	var live int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.recovery_codes
	   where org_id = $1 and user_id = $2 and used_at is null`, o.ID, o.Admin.ID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 10 {
		t.Fatalf("%d live recovery codes after twenty generations at once, want 10", live)
	}
}

// A voided set of recovery codes takes the sessions its codes opened
// (00291; attacker review, MEDIUM). Whoever reads a lead's mail and holds
// one of their codes signs in and presents it: an AAL2 session. The lead,
// mailed that a code was used, generates a new set; later the admin resets
// the lead's authenticator, which voids the codes too. Each time the
// thief's session ends (401 session_revoked); before, it went on reading
// as the lead for the rest of its lifetime. The lead's own session, which
// generated the set, stays.
func TestRecoveryCodeSessionsEndWithTheirSet(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Recovery Sessions Org")
	lead := w.addMember(o, "codes-thief-lead@example.test", identity.RoleLead)
	tok := w.signInAAL1(lead.Email, o.ID)
	w.enrolTOTP(&tok)
	codes := func() []string {
		t.Helper()
		var set struct {
			Codes []string `json:"codes"`
		}
		w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, &set)
		if len(set.Codes) != 10 {
			t.Fatalf("codes: %+v", set)
		}
		return set.Codes
	}
	thief := func(code string) string {
		t.Helper()
		s := w.signInAAL1(lead.Email, o.ID)
		var r struct {
			Token string `json:"token"`
		}
		w.do("POST", "/v1/auth/recovery-codes/verify", s, map[string]string{"code": code}, http.StatusOK, &r)
		w.do("GET", "/v1/patients", r.Token, nil, http.StatusOK, nil)
		return r.Token
	}
	ended := func(what, s string) {
		t.Helper()
		resp, b := w.request("GET", "/v1/patients", s, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
			t.Fatalf("%s: the thief's session answers %d %s, want 401 session_revoked", what, resp.StatusCode, b)
		}
	}

	stolen := thief(codes()[3])
	codes() // the lead's new set, from the lead's own session
	ended("after a new set", stolen)
	w.do("GET", "/v1/patients", tok, nil, http.StatusOK, nil)

	stolen = thief(codes()[0])
	w.do("DELETE", "/v1/members/"+lead.ID.String()+"/totp", o.Admin.Token, nil, http.StatusNoContent, nil)
	ended("after the admin's reset", stolen)
	var n int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	   and action = 'auth.recovery_codes.generate' and (details->>'sessions_ended')::int = 1`, o.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d generations recorded one session ended, want 1 (%v)", n, err)
	}
}
