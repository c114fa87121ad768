package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// app.whoami records a DPoP proof's jti in the round trip that resolves
// the credential (migration 00100): with a key's thumbprint (ward.dpop) it
// needs the jti hash (ward.dpop_jti), records it only for a credential
// that resolved, refuses it the second time with nothing of the
// resolution kept, and now and then removes expired ones.
func TestWhoamiDPoPJTI(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'DPoP Org', '{}')`, w.org)
	key, other := strings.Repeat("K", 43), strings.Repeat("O", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.5", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2, last_seen_at = now() - interval '5 minutes' where id = $1`, session, key)

	// whoami resolves cred with binding dpop and jti hash jti, as the
	// server's batch does, and returns how many principals it saw.
	whoami := func(dpop, jti string) (int, error) {
		var n int
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred, DPoP: dpop}, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select set_config('ward.dpop_jti', $1, true)`, jti); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		})
		return n, err
	}
	recorded := func(jkt string) (n int) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from app.dpop_proofs where jkt = $1`, jkt).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jti := hexSHA256(uuid.NewString())

	if _, err := whoami(key, ""); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("a thumbprint without a jti: %v, want SQLSTATE 22023", err)
	}
	if _, err := whoami(key, strings.ToUpper(jti)); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("a thumbprint with a jti not in lower-case hex: %v, want SQLSTATE 22023", err)
	}
	if n, err := whoami(other, jti); err != nil || n != 0 || recorded(other) != 0 {
		t.Fatalf("another key: %d principals (%v), %d jtis recorded; want none", n, err, recorded(other))
	}
	if n, err := whoami("", ""); err != nil || n != 0 {
		t.Fatalf("no key: %d principals (%v), want 0", n, err)
	}
	if n, err := whoami(postgres.BrowserBinding, ""); err != nil || n != 0 {
		t.Fatalf("the browser binding: %d principals (%v), want 0", n, err)
	}
	if n, err := whoami(key, jti); err != nil || n != 1 || recorded(key) != 1 {
		t.Fatalf("its key and a fresh jti: %d principals (%v), %d jtis recorded; want 1 and 1", n, err, recorded(key))
	}
	var touched bool
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at > now() - interval '1 minute' from app.sessions where id = $1`,
		session).Scan(&touched); err != nil || !touched {
		t.Fatalf("the resolution did not touch the session: %v", err)
	}
	w.exec(`update app.sessions set last_seen_at = now() - interval '5 minutes' where id = $1`, session)
	n, err := whoami(key, jti)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != postgres.CodeUniqueViolation || pe.ConstraintName != "dpop_proofs_pkey" {
		t.Fatalf("the jti replayed: %d principals (%v), want a unique violation on dpop_proofs_pkey", n, err)
	}
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at > now() - interval '1 minute' from app.sessions where id = $1`,
		session).Scan(&touched); err != nil || touched {
		t.Fatalf("a replayed proof touched the session (%v)", err)
	}

	// Expired proof ids go in bounded batches on some of the resolutions
	// that record one, not on each.
	w.exec(`insert into app.dpop_proofs (jkt, jti_hash, expires_at)
	        select $1, sha256(i::text::bytea), now() - interval '1 second' from generate_series(1, 300) i`, other)
	calls := 0
	for ; recorded(other) > 0; calls++ {
		if calls == 3000 {
			t.Fatalf("%d expired jtis left after %d resolutions", recorded(other), calls)
		}
		if n, err := whoami(key, hexSHA256(uuid.NewString())); err != nil || n != 1 {
			t.Fatalf("resolution %d: %d principals (%v)", calls, n, err)
		}
	}
	if calls < 2 {
		t.Fatalf("300 expired jtis went in %d resolutions: a batch is at most 256", calls)
	}
	t.Logf("300 expired jtis went in %d resolutions", calls)
}
