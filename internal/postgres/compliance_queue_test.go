package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The compliance facts' oldest event no signed checkpoint covers counts an
// event still queued for the integrator (migration 00311): with the log
// signed at its size and a newer event left in audit.queue (the
// integrator stopped), first_unsigned_at is that event's time, so the
// audit controls are not PASS for a log nobody is sequencing. Before, it
// read only leaves after the checkpoint and was null.
func TestComplianceFactsSeeQueuedEvents(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org := uuid.New()
	super(`insert into app.orgs (id, name) values ($1, 'Stalled integrator')`, org)
	for range 2 {
		super(`select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success')`, org)
	}
	super(`select audit.integrate($1)`, org)
	super(`insert into audit.checkpoints (org_id, size, root_hash, note)
	         select org_id, tree_size, root_hash, 'test checkpoint' from audit.heads where org_id = $1`, org)
	unsigned := func() *time.Time {
		t.Helper()
		var at *time.Time
		if err := env.Super.Pool.QueryRow(ctx, `select (private.compliance_org_facts($1)->>'first_unsigned_at')::timestamptz`,
			org).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	if at := unsigned(); at != nil {
		t.Fatalf("every event is signed, yet first_unsigned_at = %v", at)
	}
	// One more event, never integrated, written two hours ago.
	super(`select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success')`, org)
	var queuedAt time.Time
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update audit.events e set at = e.at - interval '2 hours'
		    from audit.queue q where q.org_id = $1 and e.org_id = $1 and e.qid = q.qid`, org); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `update audit.queue set at = at - interval '2 hours' where org_id = $1 returning at`, org).Scan(&queuedAt)
	})
	if err != nil {
		t.Fatalf("backdate: %v", err)
	}
	at := unsigned()
	if at == nil || !at.Equal(queuedAt) {
		t.Fatalf("an event queued since %v and never sequenced: first_unsigned_at = %v", queuedAt, at)
	}
	// Once sequenced (and still unsigned) it is the first leaf after the
	// checkpoint: the same time.
	super(`select audit.integrate($1)`, org)
	if at := unsigned(); at == nil || !at.Equal(queuedAt) {
		t.Fatalf("the event sequenced after the checkpoint: first_unsigned_at = %v, want %v", at, queuedAt)
	}
}
