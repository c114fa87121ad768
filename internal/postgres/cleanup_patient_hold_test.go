package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A legal hold on a patient keeps every audit event about them from the
// log's cleanup (migration 00310), not only those whose patient column
// names them: an event of the patient's case (case_id, no patient), a
// list that returned them (result_ids) and a case list that showed their
// case (00348) are kept while the hold stands;
// an event about another patient goes; once the hold is released the
// held patient's events go too. Before, the cleanup deleted the case's
// and the list's events under the hold.
func TestAuditCleanupKeepsPatientHoldEvents(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org, admin, held, other, kase := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	super(`insert into app.orgs (id, name) values ($1, 'Held patient')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`, admin, rlsRandom(32), rlsRandom(40))
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	super(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $4, '\x00'), ($1, $3, '\x00', $4, '\x00')`,
		org, held, other, admin)
	super(`insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, '\x00', $4)`, org, kase, held, admin)
	// Five events: a download from the held patient's case (no patient column), a
	// list that returned the held patient, the held patient's own read,
	// and another patient's read.
	super(`select audit.append_as(p_org => $1, p_action => 'document.download', p_outcome => 'success',
	         p_object_type => 'document', p_object_id => gen_random_uuid(), p_case => $2)`, org, kase)
	super(`select audit.append_as(p_org => $1, p_action => 'patient.list', p_outcome => 'success', p_results => array[$2, $3]::uuid[])`,
		org, other, held)
	// A case list that showed the held patient's case (result_ids are
	// case ids: migration 00348).
	super(`select audit.append_as(p_org => $1, p_action => 'case.list', p_outcome => 'success', p_results => array[$2]::uuid[])`,
		org, kase)
	super(`select audit.append_as(p_org => $1, p_action => 'patient.read', p_outcome => 'success', p_patient => $2)`, org, held)
	super(`select audit.append_as(p_org => $1, p_action => 'patient.read', p_outcome => 'success', p_patient => $2)`, org, other)
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
	super(`select audit.record_archived($1, 5)`, org)
	super(`insert into audit.checkpoints (org_id, size, root_hash, note)
	         select org_id, tree_size, root_hash, 'test checkpoint' from audit.heads where org_id = $1`, org)
	super(`insert into app.legal_holds (org_id, patient_id, reason, created_by) values ($1, $2, 'matter 7', $3)`, org, held, admin)

	cleanup, err := postgres.Open(ctx, env.URL("ward_audit_cleanup"))
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup.Close()
	left := func() []string {
		t.Helper()
		rows, err := env.Super.Pool.Query(ctx, `select action || ':' || coalesce(patient_id::text, case_id::text, 'list')
		    from audit.events where org_id = $1 order by at, qid`, org)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// One event at a time, as the trigger refuses a statement whole.
	sweep := func() (deleted int) {
		t.Helper()
		var qids []int64
		if err := env.Super.Pool.QueryRow(ctx, `select coalesce(array_agg(qid order by qid), '{}') from audit.events where org_id = $1`,
			org).Scan(&qids); err != nil {
			t.Fatal(err)
		}
		for _, q := range qids {
			tag, err := cleanup.Pool.Exec(ctx, `delete from audit.events where org_id = $1 and qid = $2`, org, q)
			switch {
			case err == nil:
				deleted += int(tag.RowsAffected())
			case !postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
				t.Fatalf("cleanup of event %d: %v", q, err)
			}
		}
		return deleted
	}
	if n := sweep(); n != 1 {
		t.Fatalf("under a hold on the patient the cleanup deleted %d events, want 1 (the other patient's read); left %v", n, left())
	}
	want := []string{"document.download:" + kase.String(), "patient.list:list", "case.list:list", "patient.read:" + held.String()}
	if got := left(); !slices.Equal(got, want) {
		t.Fatalf("events kept under the hold: %v, want %v", got, want)
	}
	super(`update app.legal_holds set released_at = now(), released_by = created_by, release_note = 'settled' where org_id = $1`, org)
	if n := sweep(); n != 4 {
		t.Fatalf("after the release the cleanup deleted %d events, want 4; left %v", n, left())
	}
}
