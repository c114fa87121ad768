package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestRotationKeepsOldAssurance: a step-up raises the session and rotates
// its token in one transaction, as the server does (a recovery code here,
// then app.rotate_session). In its 30-second grace the old token still
// names the session, but with the assurance it was issued with, not the
// one the new token's holder earned: an AAL1 token stays AAL1 (pending for
// an admin), and a step-up older than ten minutes stays old, so a route
// that requires a fresh one refuses the old token (step_up_required) and
// takes the new one.
func TestRotationKeepsOldAssurance(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	token := func(name string) []byte {
		h := sha256.Sum256([]byte(name))
		return h[:]
	}
	h1, h2, h3 := token("aal1-token"), token("aal2-token"), token("aal2-token-again")
	if _, err := env.Super.Pool.Exec(ctx, `
		insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		values ($1, $2, $3, 600, now() + interval '1 day', 1, '{email}');
		insert into app.recovery_codes (org_id, user_id, code_hash) values ($1, $2, sha256('one')), ($1, $2, sha256('two'))`,
		pgx.QueryExecModeSimpleProtocol, s.org, s.admin, h1); err != nil {
		t.Fatal(err)
	}
	cred := func(h []byte) postgres.Credential {
		return postgres.Credential{Hash: hex.EncodeToString(h), Org: s.org}
	}

	// stepUp uses a recovery code from the session of token from and
	// rotates the token to next, in one transaction.
	stepUp := func(from, next []byte, code string) {
		t.Helper()
		err := env.App.InTenantTx(ctx, cred(from), func(ctx context.Context, tx pgx.Tx) error {
			var status string
			if err := tx.QueryRow(ctx, `select status from app.recovery_code_use(sha256($1::bytea))`, []byte(code)).
				Scan(&status); err != nil || status != "ok" {
				return fmt.Errorf("recovery code: %q %w", status, err)
			}
			_, err := tx.Exec(ctx, `select app.rotate_session($1)`, next)
			return err
		})
		if err != nil {
			t.Fatalf("step-up: %v", err)
		}
	}
	// whoami is what the token resolves to: aal/pending/methods/stale
	// (authenticated more than ten minutes ago).
	whoami := func(h []byte) string {
		t.Helper()
		var got string
		err := env.App.InTenantTx(ctx, cred(h), func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select aal || '/' || coalesce(pending, 'none') || '/' || array_to_string(amr, ',')
			                            || '/' || (auth_time < now() - interval '10 minutes') from app.whoami()`).Scan(&got)
		})
		if err != nil {
			t.Fatalf("whoami: %v", err)
		}
		return got
	}
	// createKey is a route that requires a step-up in the last ten
	// minutes: the hint it is refused with, "" when allowed (rolled back).
	errRollback := errors.New("rollback")
	createKey := func(h []byte) string {
		t.Helper()
		err := env.App.InTenantTx(ctx, cred(h), func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.create_api_key($1, 'sk_live_abcd', 'rotation', '{members}', null)`,
				rlsRandom(32)); err != nil {
				return err
			}
			return errRollback
		})
		var pgErr *pgconn.PgError
		switch {
		case errors.Is(err, errRollback):
			return ""
		case errors.As(err, &pgErr):
			return pgErr.Code + "/" + pgErr.Hint
		}
		t.Fatalf("create_api_key: %v", err)
		return ""
	}

	// An AAL1 token rotated by the step-up stays AAL1: pending, as before.
	stepUp(h1, h2, "one")
	if got, want := whoami(h1), "1/mfa/email/false"; got != want {
		t.Errorf("the AAL1 token in its grace after the step-up: %s, want %s", got, want)
	}
	if got, want := whoami(h2), "2/none/email,recovery_code/false"; got != want {
		t.Errorf("the stepped-up token: %s, want %s", got, want)
	}
	if got, want := createKey(h1), "42501/"; got != want {
		t.Errorf("create_api_key from the old AAL1 token: %q, want %q (forbidden: pending)", got, want)
	}

	// The step-up of the current token is eleven minutes old (its
	// session's time of authentication, and the one its token was issued
	// with, moved back as the superuser); the member steps up again.
	if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set authenticated_at = now() - interval '11 minutes',
		token_authenticated_at = now() - interval '11 minutes' where token_hash = $1`, h2); err != nil {
		t.Fatal(err)
	}
	if got, want := createKey(h2), "42501/step_up_required"; got != want {
		t.Fatalf("create_api_key eleven minutes after the step-up: %q, want %q", got, want)
	}
	stepUp(h2, h3, "two")
	if got, want := whoami(h2), "2/none/email,recovery_code/true"; got != want {
		t.Errorf("the old AAL2 token in its grace after a new step-up: %s, want %s", got, want)
	}
	if got, want := createKey(h2), "42501/step_up_required"; got != want {
		t.Errorf("create_api_key from the old token after a new step-up: %q, want %q", got, want)
	}
	if got, want := createKey(h3), ""; got != want {
		t.Errorf("create_api_key from the new token: %q, want allowed", got)
	}
	// The oldest token is still in its grace, and still AAL1.
	if got, want := whoami(h1), "1/mfa/email/false"; got != want {
		t.Errorf("the first token after two step-ups: %s, want %s", got, want)
	}

	// What the retired rows record.
	var recorded []string
	rows, err := env.Super.Pool.Query(ctx, `select t.assurance || '/' || array_to_string(t.amr, ',')
		from app.session_tokens t where t.token_hash in ($1, $2) order by t.retired_at, t.assurance`, h1, h2)
	if err == nil {
		recorded, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(recorded) != 2 || recorded[0] != "1/email" || recorded[1] != "2/email,recovery_code" {
		t.Errorf("retired tokens record %v (%v), want [1/email 2/email,recovery_code]", recorded, err)
	}
}
