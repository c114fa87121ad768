package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00113, as ward_app with the credentials the server binds:
// nobody grants or changes their own case membership; removing a provider
// from a patient's care team revokes (audited) the staff grants they hold
// on that patient's cases; only a lead or admin changes a patient's MRN or
// identifiers.
func TestOwnCaseGrantsAndPatientIdentifiers(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	cred := func(name string) postgres.Credential { return rlsActorNamed(s, name).cred }
	exec := func(name, q string, args ...any) (int64, error) {
		var n int64
		err := env.App.InTenantTx(ctx, cred(name), func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, q, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	refused := func(err error, hint string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege || (hint != "" && pe.Hint != hint) {
			t.Fatalf("want 42501 (hint %q), got %v", hint, err)
		}
	}
	A, C1, P1 := s.must("A"), s.must("C1"), s.must("P1")
	prov1, lead, admin := s.must("a_prov1"), s.must("a_lead"), s.must("a_admin")
	live := func(user string) string {
		t.Helper()
		var got string
		if err := env.Super.Pool.QueryRow(ctx, `select coalesce((select (revoked_at is null)::text from app.case_members
			where org_id = $1 and case_id = $2 and user_id = $3), 'none')`, A, C1, user).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// The reproduction: a_prov1 (C1's patient's care team) grants
	// themselves staff access to C1. The policy refuses it; so does the
	// trigger under a role no policy binds.
	grant := `insert into app.case_members (org_id, case_id, user_id, kind, permissions, added_by)
	          values ($1, $2, $3, 'staff', '{view,upload,download,comment}', $4)`
	_, err := exec("a_prov1", grant, A, C1, prov1, prov1)
	refused(err, "")
	_, err = exec("a_lead", grant, A, C1, lead, lead)
	refused(err, "")
	_, err = env.Super.Pool.Exec(ctx, grant, A, C1, prov1, prov1)
	refused(err, "own_case_grant")
	if got := live(prov1); got != "none" {
		t.Fatalf("self-grant: %s", got)
	}

	// An admin grants a_prov1 staff access: a_prov1 cannot change it.
	if _, err := exec("a_admin", grant, A, C1, prov1, admin); err != nil {
		t.Fatal(err)
	}
	n, err := exec("a_prov1", `update app.case_members set permissions = '{view}' where case_id = $1 and user_id = $2`, C1, prov1)
	if err != nil || n != 0 {
		t.Fatalf("own grant update: %d rows, %v", n, err)
	}

	// Removing a_prov1 from P1's care team revokes their staff grant on
	// C1, audited; their own care-team access ends with the row.
	if n, err := exec("a_admin", `delete from app.care_team where org_id = $1 and provider_id = $2 and patient_id = $3`,
		A, prov1, P1); err != nil || n != 1 {
		t.Fatalf("care team removal: %d rows, %v", n, err)
	}
	if got := live(prov1); got != "false" {
		t.Fatalf("after the care-team removal the grant is live=%s", got)
	}
	var audited int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'case.member.set'
		and object_id = $2 and case_id = $3 and details->>'reason' = 'care_team_removed' and actor_id = $4`,
		A, prov1, C1, admin).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("revocation audited %d times, %v", audited, err)
	}

	// MRN and identifiers: a lead changes them; P1's linked patient and a
	// provider on P1's care team (a_prov1, back on it) do not, though they
	// may write the rest of the row.
	if _, err := exec("a_admin", `insert into app.care_team (org_id, provider_id, patient_id) values ($1, $2, $3)`,
		A, prov1, P1); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"a_prov1", "a_pat1"} {
		_, err := exec(who, `update app.patients set mrn_bidx = sha256('x'::bytea) where org_id = $1 and id = $2`, A, P1)
		refused(err, "patient_identifiers")
		_, err = exec(who, `update app.patients set identifiers_enc = '\x00'::bytea where org_id = $1 and id = $2`, A, P1)
		refused(err, "patient_identifiers")
		if n, err := exec(who, `update app.patients set mrn_bidx = mrn_bidx, identifiers_enc = identifiers_enc,
			updated_at = now() where org_id = $1 and id = $2`, A, P1); err != nil || n != 1 {
			t.Fatalf("%s: an update that keeps the identifiers: %d rows, %v", who, n, err)
		}
	}
	if n, err := exec("a_lead", `update app.patients set mrn_bidx = sha256('x'::bytea), identifiers_enc = '\x00'::bytea
		where org_id = $1 and id = $2`, A, P1); err != nil || n != 1 {
		t.Fatalf("lead: %d rows, %v", n, err)
	}
}
