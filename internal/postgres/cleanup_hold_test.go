package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A legal hold placed while the audit cleanup runs is honoured (migration
// 00249): with a hold on the org inserted and not yet committed (its
// transaction holds the org's hold lock), ward_audit_cleanup's deletion of
// events past retention, archived and checkpointed waits for it, and once
// the hold commits the deletion is refused and every event is kept. Before,
// the cleanup read the holds without the lock, did not wait, and deleted
// the events under the hold being placed.
func TestAuditCleanupWaitsForHold(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	org := uuid.New()
	super := superExec(t, env)
	super(`insert into app.orgs (id, name) values ($1, 'Held later')`, org)
	for range 3 {
		super(`select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success')`, org)
	}
	super(`select audit.integrate($1)`, org)
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update audit.events set at = now() - interval '2600 days' where org_id = $1`, org)
		return err
	})
	if err != nil {
		t.Fatalf("backdate: %v", err)
	}
	super(`select audit.record_archived($1, 3)`, org)
	super(`insert into audit.checkpoints (org_id, size, root_hash, note)
	         select org_id, tree_size, root_hash, 'test checkpoint' from audit.heads where org_id = $1`, org)
	count := func() int {
		t.Helper()
		var n int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1`, org).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cleanup, err := postgres.Open(ctx, env.URL("ward_audit_cleanup"))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup.Close()

	// The hold is being placed: inserted, not committed.
	hold, err := env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `insert into app.legal_holds (org_id, reason, created_by) values ($1, 'matter 12', $2)`,
		org, uuid.New()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		rows int64
		err  error
	}
	conn, err := cleanup.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var pid int32
	if err := conn.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() {
		tag, err := conn.Exec(ctx, `delete from audit.events where org_id = $1 and at < now() - interval '2555 days'`, org)
		done <- result{tag.RowsAffected(), err}
	}()
	// The cleanup waits for the hold's lock (an advisory lock).
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case r := <-done:
			t.Fatalf("the cleanup did not wait for the hold being placed: %d events deleted, %v (%d left)", r.rows, r.err, count())
		default:
		}
		var waiting bool
		if err := env.Super.Pool.QueryRow(ctx, `select exists (select from pg_stat_activity
		    where pid = $1 and wait_event_type = 'Lock' and wait_event = 'advisory')`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cleanup neither finished nor waited for the hold's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !postgres.IsCode(r.err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("the cleanup after the hold committed: %d deleted, %v, want 42501", r.rows, r.err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d events left under the hold, want 3", n)
	}
}
