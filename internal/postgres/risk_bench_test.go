package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// BenchmarkSignInRisk measures what scoring a sign-in costs
// (private.signin_risk, migration 00061) for a member with 200 sessions
// and 50 refused sign-ins in their history, beside a bare `select 1`
// round trip on the same connection in the same run, and the whole
// magic-link sign-in (app.consume_magic_link as ward_app: the link spent,
// the scoring, the session and the audit event, committed). Figures in
// docs/benchmarks.md §7.
func BenchmarkSignInRisk(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	org, user := uuid.New(), uuid.New()
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Bench', '{}')`, org)
	exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, '\x00')`, user, rlsRandom(32))
	exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'provider')`, org, user)
	exec(`insert into app.sessions (org_id, user_id, token_hash, created_at, last_seen_at, idle_timeout_min,
	        absolute_expires_at, user_agent, ip)
	      select $1, $2, sha256(gen_random_uuid()::text::bytea), now() - make_interval(hours => i), now() - make_interval(hours => i),
	        30, now() - make_interval(hours => i) + interval '1 hour', 'ua-' || (i % 7), ('10.0.' || (i % 5) || '.1')::inet
	      from generate_series(1, 200) i`, org, user)
	for range 50 {
		exec(`select audit.append_as($1, 'auth.signin', 'denied', p_ip => '10.0.9.9', p_actor => $2)`, org, user)
	}
	exec(`analyze`)

	b.Run("baseline-select-1", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := env.Super.Pool.QueryRow(ctx, `select 1`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signin_risk", func(b *testing.B) {
		for b.Loop() {
			var score int
			if err := env.Super.Pool.QueryRow(ctx, `select score from private.signin_risk($1, $2, '10.0.3.7', 'ua-3', '10.0.3.1')`,
				org, user).Scan(&score); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("consume_magic_link", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			link, verifier := rlsRandom(32), rlsRandom(32)
			exec(`insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
			      values ($1, $2, $3, $4, now() + interval '15 minutes', '10.0.3.1')`, org, user, link, verifier)
			b.StartTimer()
			var status string
			err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				return tx.QueryRow(ctx, `select status from app.consume_magic_link($1, $2, $3, '10.0.3.7', 'ua-3')`,
					link, verifier, rlsRandom(32)).Scan(&status)
			})
			if err != nil || status != "ok" {
				b.Fatalf("consume: %q %v", status, err)
			}
		}
	})
}
