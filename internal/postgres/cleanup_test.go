package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// auditRetentionDays is the retention the audit triggers enforce
// (migrations/00003_create_audit.sql, audit.reject_change).
const auditRetentionDays = 2555

// TestAuditCleanupRoleLimits checks what ward_audit_cleanup, the only role
// the audit triggers let delete, may do: delete events past retention and
// nothing else. Events are appended as the superuser through
// audit.append_as and then backdated with triggers off (session
// replication role), the only way an event gets an old timestamp.
func TestAuditCleanupRoleLimits(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	org := uuid.New()

	// seq → age in days.
	ages := map[int64]int{}
	for _, age := range []int{0, auditRetentionDays - 1, auditRetentionDays + 1, auditRetentionDays + 30} {
		var seq int64
		var qid int64
		if err := env.Super.Pool.QueryRow(ctx,
			`select audit.append_as(p_org => $1, p_action => 'audit.read', p_outcome => 'success')`, org).Scan(&qid); err != nil {
			t.Fatal(err)
		}
		// Only integrated events may ever be removed: give it its position.
		if err := env.Super.Pool.QueryRow(ctx, `select tree_size from audit.integrate($1)`, org).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		ages[seq] = age
	}
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		for seq, age := range ages {
			if _, err := tx.Exec(ctx, `update audit.events e set at = now() - make_interval(days => $3) from audit.leaves l
			                            where e.org_id = $1 and l.org_id = $1 and l.qid = e.qid and l.seq = $2`, org, seq, age); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("backdate: %v", err)
	}
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

	refused := []struct {
		name string
		sql  string
		args []any
	}{
		{"delete a fresh event", `delete from audit.events where org_id = $1 and at > now() - interval '1 day'`, []any{org}},
		{"delete an event a day short of retention", `delete from audit.events where org_id = $1
		   and at between now() - interval '2555 days' and now() - interval '2553 days'`, []any{org}},
		{"delete the whole log (old and young rows at once)", `delete from audit.events where org_id = $1`, []any{org}},
		{"update an old event", `update audit.events set action = 'test.forged' where org_id = $1
		   and at < now() - interval '2555 days'`, []any{org}},
		{"update a fresh event", `update audit.events set details = '{"x":1}' where org_id = $1`, []any{org}},
		{"truncate the log", `truncate audit.events`, nil},
		{"insert an event", `insert into audit.events (org_id, at, action, outcome, actor_kind, canonical, leaf_hash)
		   select org_id, at, action, outcome, actor_kind, canonical, leaf_hash
		     from audit.events where org_id = $1`, []any{org}},
		{"delete the leaves of events still there", `delete from audit.leaves where org_id = $1`, []any{org}},
		{"renumber a leaf", `update audit.leaves set seq = seq + 100 where org_id = $1`, []any{org}},
		{"insert a leaf", `insert into audit.leaves (org_id, seq, qid, chain_hash)
		   select org_id, seq + 100, qid + 100, chain_hash from audit.leaves where org_id = $1`, []any{org}},
		{"truncate the leaves", `truncate audit.leaves`, nil},
		{"empty the queue", `delete from audit.queue`, nil},
		{"delete a head", `delete from audit.heads where org_id = $1`, []any{org}},
		{"truncate the heads", `truncate audit.heads`, nil},
		// It reads which legal holds are live, never their texts (00280).
		{"read a hold's reason", `select reason, reason_enc from app.legal_holds`, nil},
		{"read a hold's release note", `select release_note, release_note_enc from app.legal_holds`, nil},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cleanup.Pool.Exec(ctx, tc.sql, tc.args...)
			if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
				t.Fatalf("as ward_audit_cleanup: %v, want 42501", err)
			}
			if n := count(); n != len(ages) {
				t.Fatalf("%d events left, want %d", n, len(ages))
			}
		})
	}

	// Past retention but not archived, not checkpointed: still refused.
	oldOnly := `delete from audit.events where org_id = $1 and at < now() - interval '2555 days'`
	if _, err := cleanup.Pool.Exec(ctx, oldOnly, org); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("delete of old events never archived: %v, want 42501", err)
	}
	// Archived and covered by a checkpoint, but under a legal hold: refused.
	if _, err := env.Super.Pool.Exec(ctx, `select audit.record_archived($1, 4)`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `insert into audit.checkpoints (org_id, size, root_hash, note)
		select org_id, tree_size, root_hash, 'test checkpoint' from audit.heads where org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'Held') on conflict do nothing;`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.legal_holds (org_id, reason, created_by) values ($1, 'litigation', $2)`,
		org, uuid.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := cleanup.Pool.Exec(ctx, oldOnly, org); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("delete of old events under a legal hold: %v, want 42501", err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `update app.legal_holds set released_at = now(), released_by = created_by, release_note = 'settled' where org_id = $1`, org); err != nil {
		t.Fatal(err)
	}

	// Past retention, archived, checkpointed, no hold: exactly the two old rows go.
	tag, err := cleanup.Pool.Exec(ctx, oldOnly, org)
	if err != nil {
		t.Fatalf("delete past retention: %v", err)
	}
	if tag.RowsAffected() != 2 {
		t.Fatalf("deleted %d events past retention, want 2", tag.RowsAffected())
	}
	if n := count(); n != 2 {
		t.Fatalf("%d events left, want the 2 within retention", n)
	}
	// Their leaves may go now, and only theirs.
	if _, err := cleanup.Pool.Exec(ctx, `delete from audit.leaves where org_id = $1`, org); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("delete of every leaf, two of them with their event: %v, want 42501", err)
	}
	tag, err = cleanup.Pool.Exec(ctx, `delete from audit.leaves l where l.org_id = $1
		and not exists (select from audit.events e where e.org_id = l.org_id and e.qid = l.qid)`, org)
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("delete of the removed events' leaves: %v (%d rows), want 2", err, tag.RowsAffected())
	}

	// Another role may not delete even an old event: the trigger admits
	// only ward_audit_cleanup (ward_app has no DELETE grant to begin with,
	// so the superuser stands in for "anyone else").
	var seq int64
	for s, age := range ages {
		if age == auditRetentionDays-1 {
			seq = s
		}
	}
	err = env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update audit.events e set at = now() - interval '3000 days' from audit.leaves l
			where e.org_id = $1 and l.org_id = $1 and l.qid = e.qid and l.seq = $2`, org, seq)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `delete from audit.events where org_id = $1
		and qid = (select qid from audit.leaves where org_id = $1 and seq = $2)`, org, seq); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("superuser deleting an old event: %v, want 42501", err)
	}
}
