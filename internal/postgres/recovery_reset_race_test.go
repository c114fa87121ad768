package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestTOTPResetEndsARecoveryCodeSessionInFlight: an admin's reset of a
// member's authenticator (app.member_totp_reset) that runs while one of the
// member's recovery codes is being used (app.recovery_code_use, not yet
// committed) ends the session the code raises. The reset read the member's
// sessions before it deleted the codes: the session's committed version
// held no recovery_code yet, so it was passed over, and the reset then
// waited only to delete the code already spent, leaving an AAL2 session a
// voided code opened (00291 ends such sessions; fails without 00297,
// which takes the member's codes first).
func TestTOTPResetEndsARecoveryCodeSessionInFlight(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	session := codeUsedDuring(t, env, s, `
		with f as (insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash, confirmed_at)
		           values ($1, $2, '\x00', sha256('secret'), now())),
		     c as (insert into app.recovery_codes (org_id, user_id, code_hash) values ($1, $2, sha256('code-one')))`,
		`select status from app.member_totp_reset($1)`)
	var revoked bool
	var reason *string
	if err := env.Super.Pool.QueryRow(context.Background(), `select revoked_at is not null, revoked_reason from app.sessions where id = $1`,
		session).Scan(&revoked, &reason); err != nil {
		t.Fatal(err)
	}
	if !revoked {
		t.Fatal("the session a recovery code raised during the reset outlived the reset that voided the code")
	}
	if reason == nil || *reason != "totp_reset" {
		t.Fatalf("ended for %v, want totp_reset", reason)
	}
}

// TestRecoveryCodesVoidEndsASessionInFlight: an admin's void of a member's
// recovery codes (app.member_recovery_codes_void, 00306) that runs while
// one of them is being used ends the session the code raises, as the TOTP
// reset does (00297): the void locks the codes before it reads the
// sessions. The member holds no TOTP factor, which the reset would need.
func TestRecoveryCodesVoidEndsASessionInFlight(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	session := codeUsedDuring(t, env, s, `
		with c as (insert into app.recovery_codes (org_id, user_id, code_hash)
		           values ($1, $2, sha256('code-one')), ($1, $2, sha256('code-two')))`,
		`select status from app.member_recovery_codes_void($1)`)
	var revoked bool
	var reason *string
	var left int
	if err := env.Super.Pool.QueryRow(context.Background(), `select revoked_at is not null, revoked_reason,
	       (select count(*) from app.recovery_codes where org_id = $2 and user_id = $3)::int
	       from app.sessions where id = $1`, session, s.org, s.lead).Scan(&revoked, &reason, &left); err != nil {
		t.Fatal(err)
	}
	if !revoked || reason == nil || *reason != "recovery_codes_voided" || left != 0 {
		t.Fatalf("after the void: session revoked %v (reason %v), %d codes left; want revoked, recovery_codes_voided, 0",
			revoked, reason, left)
	}
}

// codeUsedDuring seeds the lead's factors (seed: a with-clause of inserts
// taking $1 the org and $2 the user) and a sign-in link's AAL1 session,
// uses the recovery code 'code-one' in that session and, while the use is
// not yet committed, runs the admin's call (taking $1 the lead) on
// another connection; it requires the call to wait for the use (blockedBy)
// and then to answer ok, and returns the session's id.
func codeUsedDuring(t *testing.T, env *pgtest.Env, s principalSeed, seed, call string) string {
	t.Helper()
	ctx := context.Background()
	linkHash := sha256.Sum256([]byte("lead-link-token"))
	var session string
	if err := env.Super.Pool.QueryRow(ctx, seed+`
		insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		values ($1, $2, $3, 600, now() + interval '1 day', 1, '{email}') returning id::text`,
		s.org, s.lead, linkHash[:]).Scan(&session); err != nil {
		t.Fatal(err)
	}
	link := postgres.Credential{Hash: hex.EncodeToString(linkHash[:]), Org: s.org}
	admin := postgres.Credential{Hash: s.adminHash, Org: s.org}

	type result struct {
		status string
		err    error
	}
	done := make(chan result, 1)
	err := env.App.InTenantTx(ctx, link, func(ctx context.Context, tx pgx.Tx) error {
		var status string
		var pid uint32
		if err := tx.QueryRow(ctx, `select status, pg_backend_pid() from app.recovery_code_use(sha256('code-one'))`).
			Scan(&status, &pid); err != nil || status != "ok" {
			t.Fatalf("recovery code: %q %v", status, err)
		}
		go func() {
			var r result
			r.err = env.App.InTenantTx(context.Background(), admin, func(ctx context.Context, tx pgx.Tx) error {
				return tx.QueryRow(ctx, call, s.lead).Scan(&r.status)
			})
			done <- r
		}()
		// The call waits for the code's use to end (at the codes, with
		// or without the fix): then the use commits.
		if r, blocked := blockedBy(t, env, pid, done); !blocked {
			t.Fatalf("%s waited for nothing: %+v", call, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.status != "ok" {
		t.Fatalf("%s: %q %v", call, r.status, r.err)
	}
	return session
}
