package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/identity"
)

// Someone who reads a member's mail signs in with a link (one factor).
// They may not add a factor of their own over the member's: no TOTP over a
// passkey without presenting it, no second passkey from a (phishable) TOTP
// step-up when the member holds a passkey. And a break-glass session reads
// records but changes no configuration or credential, in the server and
// in the database.
func TestFactorTakeover(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Takeover Org")
	p := w.addMember(o, "tk-prov@example.test", identity.RoleProvider)
	d := w.newDevice()
	w.registerPasskey(&p.Token, d, "laptop")

	t.Run("no TOTP over a passkey from a link", func(t *testing.T) {
		mailbox := w.signInAAL1(p.Email, o.ID)
		resp, b := w.request("POST", "/v1/auth/totp/enrol", mailbox, nil)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
			t.Fatalf("TOTP enrolment from a one-factor session of a passkey holder: %d %s", resp.StatusCode, b)
		}
	})

	var secret string
	t.Run("no passkey from a TOTP step-up over a passkey", func(t *testing.T) {
		// The member enrols TOTP after presenting their passkey.
		own := w.signInAAL1(p.Email, o.ID)
		w.passkeyVerify(&own, d)
		secret = w.enrolTOTP(&own)
		// Mail and one phished code: AAL2, but no new passkey.
		mailbox := w.signInAAL1(p.Email, o.ID)
		w.verifyTOTP(&mailbox, totpCode(t, secret, time.Now()))
		resp, b := w.request("POST", "/v1/auth/passkeys/register/begin", mailbox, nil)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "passkey_step_up_required" {
			t.Fatalf("passkey registration after a TOTP step-up: %d %s", resp.StatusCode, b)
		}
		// The member's own passkey vouches for another.
		w.passkeyVerify(&own, d)
		w.registerPasskey(&own, w.newDevice(), "phone")
		// Every factor added was mailed to the member: a takeover would
		// not be silent.
		want := []string{"A passkey was just registered", "An authenticator app (TOTP) was just confirmed"}
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, missing := w.outbox.String(), ""
			for _, m := range want {
				if !strings.Contains(out, m) {
					missing = m
				}
			}
			if missing == "" && strings.Count(out, "A passkey was just registered") >= 2 && strings.Count(out, "To: "+p.Email) >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no notice %q to the member in %q", missing, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("break-glass changes no configuration", func(t *testing.T) {
		ctx := context.Background()
		admin := w.operatorSignIn(o.Admin.Email, o.ID)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set break_glass = true, amr = '{passkey}', idle_timeout_min = 60,
		    absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes')
		    where token_hash = sha256($1::bytea)`, []byte(admin)); err != nil {
			t.Fatal(err)
		}
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"PUT", "/v1/org/assurance-policy", map[string]any{"require_mfa": false, "require_passkey": false}},
			{"PUT", "/v1/org/session-policy", map[string]any{"session_idle_timeout_min": 480, "session_absolute_max_min": 10080}},
			{"POST", "/v1/api-keys", map[string]any{"name": "bg", "scopes": []string{"members"}}},
			{"POST", "/v1/auth/recovery-codes", nil},
		} {
			resp, b := w.request(r.method, r.path, admin, r.body)
			if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "break_glass_not_allowed" {
				t.Errorf("%s %s from break-glass: %d %s", r.method, r.path, resp.StatusCode, b)
			}
		}
		// The database refuses on its own (a server that skipped its check).
		for _, q := range []string{
			`select app.set_assurance_policy(false, false)`,
			`select app.set_session_policy(480, 10080)`,
			`select app.create_api_key(sha256('k'), 'sk_live_x', 'bg', '{members}', null)`,
			// 00161: the rest of the step-up functions.
			`select app.create_scim_token(sha256('t'), 'scim_x', 'bg', null)`,
			`select app.set_scim_group_role(gen_random_uuid(), 'lead')`,
			`select app.delete_sso_connection(gen_random_uuid())`,
			`select app.passkey_delete(gen_random_uuid())`,
			`select app.recovery_codes_generate(array[sha256('r')])`,
		} {
			err := w.env.App.InTenantTx(ctx, w.cred(admin), func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, q)
				return err
			})
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "break_glass_not_allowed" {
				t.Errorf("%s from break-glass: %v", q, err)
			}
		}
	})

	t.Run("policies check step-up in the database", func(t *testing.T) {
		ctx := context.Background()
		admin := w.operatorSignIn(o.Admin.Email, o.ID)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set authenticated_at = now() - interval '11 minutes'
		    where token_hash = sha256($1::bytea)`, []byte(admin)); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`select app.set_assurance_policy(true, false)`,
			`select app.set_session_policy(30, 600)`,
		} {
			err := w.env.App.InTenantTx(ctx, w.cred(admin), func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, q)
				return err
			})
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "step_up_required" {
				t.Errorf("%s from a stale session: %v", q, err)
			}
		}
	})
}
