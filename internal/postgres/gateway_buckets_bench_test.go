package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// BenchmarkGatewayAdmit measures what the gateway's shared rate limit
// (migration 00170) costs the database per call: the admit's transaction
// of its own (binding, the credential's resolution, app.gateway_admit,
// commit: one round trip), and a settle in a transaction of its own (the
// path of streams and failures; a JSON reply's settle rides in its event's
// transaction), beside the same transaction with `select 1` and with the
// resolution alone (private.get_my_org_id()), one connection, serial. The
// org's limits are high enough that every call passes. Figures in
// docs/benchmarks.md §42.
func BenchmarkGatewayAdmit(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	org, user := uuid.New(), uuid.New()
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`insert into app.orgs (id, name, device_binding_required_for, gateway_requests_per_minute,
	        gateway_tokens_per_minute) values ($1, 'Bench', '{}', 100000, 100000000)`, org)
	exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, '\x00')`, user, rlsRandom(32))
	exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'provider')`, org, user)
	token := hexSHA256(uuid.NewString())
	exec(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at)
	      values ($1, $2, decode($3, 'hex'), 30, now() + interval '1 day')`, org, user, hexSHA256(token))
	cred := postgres.Credential{Hash: hexSHA256(token), Org: org.String()}
	run := func(b *testing.B, queue func(b *pgx.Batch)) {
		for b.Loop() {
			batch := &pgx.Batch{}
			queue(batch)
			if err := env.App.InTenantBatch(ctx, cred, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	admit := func(batch *pgx.Batch, reservation *int64) {
		batch.Queue(`select reservation from app.gateway_admit(2000)`).QueryRow(func(row pgx.Row) error {
			return row.Scan(reservation)
		})
	}
	var probe int64
	first := &pgx.Batch{}
	admit(first, &probe)
	if err := env.App.InTenantBatch(ctx, cred, first); err != nil || probe == 0 {
		b.Fatalf("the bench session cannot admit: %v", err)
	}
	b.Run("baseline-select-1", func(b *testing.B) { run(b, func(batch *pgx.Batch) { batch.Queue(`select 1`) }) })
	b.Run("baseline-resolution", func(b *testing.B) {
		run(b, func(batch *pgx.Batch) { batch.Queue(`select private.get_my_org_id()`) })
	})
	b.Run("admit", func(b *testing.B) {
		var r int64
		run(b, func(batch *pgx.Batch) { admit(batch, &r) })
	})
	b.Run("admit-then-settle-alone", func(b *testing.B) {
		// two transactions per call: the admit, then the settle in one of
		// its own
		var r int64
		for b.Loop() {
			batch := &pgx.Batch{}
			admit(batch, &r)
			if err := env.App.InTenantBatch(ctx, cred, batch); err != nil {
				b.Fatal(err)
			}
			batch = &pgx.Batch{}
			batch.Queue(`select app.gateway_settle($1, 1500, false)`, r)
			if err := env.App.InTenantBatch(ctx, cred, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
