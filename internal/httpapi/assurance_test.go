package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
)

var errRollback = errors.New("roll back")

// phiRows counts the patient rows the database shows ward_app for token,
// bound exactly as the server binds it: what a server bug would read.
func (w *world) phiRows(token string) int {
	w.t.Helper()
	var n int
	err := w.env.App.InTenantTx(context.Background(), w.cred(token),
		func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `select count(*) from app.patients`).Scan(&n); err != nil {
				return err
			}
			return errRollback
		})
	if !errors.Is(err, errRollback) {
		w.t.Fatal(err)
	}
	return n
}

// A session below its bar is pending: it reads who it is and logs out;
// every other route says what it needs, and the database shows it nothing.
func TestPendingSession(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Pending Org")
	w.populate(o, "pend")
	tok := w.signInAAL1(o.Admin.Email, o.ID)

	resp, b := w.request("GET", "/v1/patients", tok, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
		t.Fatalf("patients from a pending admin session: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", "/v1/members", tok, map[string]any{"email": "x@example.test", "role": "admin"})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
		t.Fatalf("add member from a pending admin session: %d %s", resp.StatusCode, b)
	}
	if n := w.phiRows(tok); n != 0 {
		t.Fatalf("a pending admin session reads %d patient rows as ward_app", n)
	}
	if n := w.phiRows(o.Admin.Token); n != 2 {
		t.Fatalf("the admin's AAL2 session reads %d patient rows, want 2", n)
	}
	w.do("GET", "/v1/me", tok, nil, http.StatusOK, nil)
	w.do("POST", "/v1/auth/logout", tok, nil, http.StatusNoContent, nil)
	resp, b = w.request("GET", "/v1/me", tok, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("after logout: %d %s", resp.StatusCode, b)
	}
	if n := w.auditCount(o.ID, "session.revoke", "success"); n != 1 {
		t.Fatalf("%d session.revoke events, want 1", n)
	}
}

// The policy matrix of issue 8: role × org policy (none, require_mfa,
// require_passkey) × factors (link; link and TOTP; link and a recovery
// code; a UV passkey alone; link and a passkey) → allowed or pending,
// through the API and directly as ward_app (zero patient rows when
// pending). The policy is set as the superuser (the API's own path is
// TestPasskeys).
func TestAssurancePolicyMatrix(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Matrix Org")
	w.populate(o, "mx")
	members := map[identity.Role]*member{identity.RoleAdmin: o.Admin, identity.RoleLead: o.Lead,
		identity.RoleProvider: o.Prov, identity.RolePatient: o.PatUser}
	secrets, codes := map[identity.Role]string{}, map[identity.Role][]string{}
	devices := map[identity.Role]*device{}
	for role, m := range members {
		tok := w.signInAAL1(m.Email, o.ID)
		// The code of the step before now, taken now: a fixed time taken
		// before the loop fell two steps behind when the loop crossed a step.
		secrets[role] = w.enrolTOTP(&tok)
		devices[role] = w.newDevice()
		w.registerPasskey(&tok, devices[role], "matrix")
		var set struct {
			Codes []string `json:"codes"`
		}
		w.do("POST", "/v1/auth/recovery-codes", tok, nil, http.StatusCreated, &set)
		codes[role] = set.Codes
	}
	policies := []struct {
		name         string
		mfa, passkey bool
	}{{"none", false, false}, {"require_mfa", true, false}, {"require_passkey", true, true}}
	for i, pol := range policies {
		// The policy, and the last accepted TOTP step forgotten so that one
		// step serves each policy (replay is TestTOTP's).
		if _, err := w.env.Super.Pool.Exec(context.Background(),
			`update app.orgs set require_mfa = $2, require_passkey = $3 where id = $1;`, o.ID, pol.mfa, pol.passkey); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.totp_factors set last_step = null`); err != nil {
			t.Fatal(err)
		}
		for role, m := range members {
			for _, factor := range []string{"link", "link+totp", "link+recovery_code", "passkey", "link+passkey"} {
				var tok string
				if factor == "passkey" {
					tok = w.passkeySignIn(devices[role])
				} else {
					tok = w.signInAAL1(m.Email, o.ID)
				}
				switch factor {
				case "link+passkey":
					w.passkeyVerify(&tok, devices[role])
				case "link+totp":
					// A step after the enrolment's (its last_step), taken now.
					code := totpCode(t, secrets[role], time.Now())
					var r struct {
						Token string `json:"token"`
					}
					resp, b := w.request("POST", "/v1/auth/totp/verify", tok, map[string]string{"code": code})
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("%s %s: TOTP: %d %s", pol.name, role, resp.StatusCode, b)
					}
					_ = json.Unmarshal(b, &r)
					tok = r.Token
				case "link+recovery_code":
					var r struct {
						Token string `json:"token"`
					}
					w.do("POST", "/v1/auth/recovery-codes/verify", tok, map[string]string{"code": codes[role][i]},
						http.StatusOK, &r)
					tok = r.Token
				}
				var want string // the bar the session misses, "" when allowed
				switch {
				case factor == "passkey" || factor == "link+passkey":
					// A UV passkey meets every bar.
				case pol.passkey:
					want = "passkey"
				case factor == "link" && (pol.mfa || role == identity.RoleAdmin || role == identity.RoleLead):
					want = "mfa"
				}
				var me struct {
					Pending *string `json:"pending"`
				}
				w.do("GET", "/v1/me", tok, nil, http.StatusOK, &me)
				resp, b := w.request("GET", "/v1/patients", tok, nil)
				rows := w.phiRows(tok)
				cell := pol.name + "/" + string(role) + "/" + factor
				if want != "" {
					if me.Pending == nil || *me.Pending != want || resp.StatusCode != http.StatusForbidden ||
						problemCode(t, b) != want+"_required" || rows != 0 {
						t.Errorf("%s: pending %v, patients %d %s, %d rows as ward_app; want pending %s",
							cell, me.Pending, resp.StatusCode, b, rows, want)
					}
					continue
				}
				if me.Pending != nil || resp.StatusCode != http.StatusOK || rows == 0 {
					t.Errorf("%s: pending %v, patients %d, %d rows as ward_app; want allowed", cell, me.Pending,
						resp.StatusCode, rows)
				}
			}
		}
	}
}

// Tightening the policy ends the sessions below it in the same transaction;
// requiring passkeys from a session without one is refused.
func TestAssurancePolicyTighteningEndsSessions(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Tighten Org")
	w.populate(o, "tt")
	provAAL1 := w.signInAAL1(o.Prov.Email, o.ID)
	w.do("GET", "/v1/patients", provAAL1, nil, http.StatusOK, nil)

	resp, b := w.request("PUT", "/v1/org/assurance-policy", o.Lead.Token,
		map[string]bool{"require_mfa": true, "require_passkey": false})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a lead set the assurance policy: %d %s", resp.StatusCode, b)
	}
	var res struct {
		RequireMFA bool `json:"require_mfa"`
		Ended      int  `json:"sessions_ended"`
	}
	w.do("PUT", "/v1/org/assurance-policy", o.Admin.Token, map[string]bool{"require_mfa": true, "require_passkey": false},
		http.StatusOK, &res)
	if !res.RequireMFA || res.Ended != 1 {
		t.Fatalf("policy answer %+v, want require_mfa and 1 session ended", res)
	}
	resp, b = w.request("GET", "/v1/me", provAAL1, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("a session below the new bar: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/patients", o.Prov.Token, nil, http.StatusOK, nil) // AAL2: unaffected
	var pol map[string]bool
	w.do("GET", "/v1/org/assurance-policy", o.Prov.Token, nil, http.StatusOK, &pol)
	if !pol["require_mfa"] || pol["require_passkey"] {
		t.Fatalf("policy read back %v", pol)
	}
	if n := w.auditCount(o.ID, "org.assurance_policy.update", "success"); n != 1 {
		t.Fatalf("%d policy events, want 1", n)
	}

	resp, b = w.request("PUT", "/v1/org/assurance-policy", o.Admin.Token,
		map[string]bool{"require_mfa": true, "require_passkey": true})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invalid_input" {
		t.Fatalf("require_passkey without a passkey: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("PUT", "/v1/org/assurance-policy", o.Admin.Token, map[string]bool{"require_mfa": true})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("half a policy: %d %s", resp.StatusCode, b)
	}
}
