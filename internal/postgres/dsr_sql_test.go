package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The database keeps the clock of a data-subject request (migration
// 00149): it sets the receipt and the deadline from the kind whatever the
// statement says, allows one extension while the first period runs,
// records who extended and closed, and never lets a closed request change.
func TestDSRDeadlines(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	admin, pat := rlsActorNamed(s, "a_admin").cred, rlsActorNamed(s, "a_pat1").cred
	A := s.must("A")

	// one runs q bound to cred as ward_app and scans its one row into dst.
	one := func(cred postgres.Credential, q string, args []any, dst ...any) error {
		return env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, q, args...).Scan(dst...)
		})
	}
	code := func(err error, want string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != want {
			t.Fatalf("want SQLSTATE %s, got %v", want, err)
		}
	}
	type req struct {
		id                      string
		received, due           time.Time
		status, reason, closer  string
		extendedBy, requestedBy string
	}
	const cols = `id::text, received_at, due_at, status, coalesce(extension_reason, ''), coalesce(closed_by::text, ''),
	              coalesce(extended_by::text, ''), requested_by::text`
	scan := func(r *req) []any {
		return []any{&r.id, &r.received, &r.due, &r.status, &r.reason, &r.closer, &r.extendedBy, &r.requestedBy}
	}
	days := func(r req) float64 { return r.due.Sub(r.received).Hours() / 24 }

	// The caller's receipt, deadline, status and closing are ignored.
	var forged req
	if err := one(admin, `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, received_at, due_at, status,
	                      closed_at, closed_by, extension_reason, extended_at, extended_by)
	                      values ($1, 'access', $2, $3, '2000-01-01', now() + interval '1000 days', 'open', null, null,
	                              null, null, null) returning `+cols,
		[]any{A, s.must("P1"), s.must("a_admin")}, scan(&forged)...); err != nil {
		t.Fatal(err)
	}
	if time.Since(forged.received) > time.Minute || days(forged) != 30 || forged.status != "open" {
		t.Fatalf("forged receipt kept: received %v, %.1f days", forged.received, days(forged))
	}

	// Each kind's first period, in days.
	for kind, want := range map[string]float64{"access": 30, "amendment": 60, "accounting": 60, "ccpa_know": 45,
		"ccpa_delete": 45, "ccpa_correct": 45, "ccpa_limit": 15} {
		var r req
		if err := one(pat, `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
		                    values ($1, $2, $3, $4, now()) returning `+cols,
			[]any{A, kind, s.must("P1"), s.must("a_pat1")}, scan(&r)...); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if days(r) != want {
			t.Errorf("%s: %.1f days, want %.0f", kind, days(r), want)
		}
	}
	// A patient files only about their own record, and an HIPAA kind names
	// a patient.
	code(one(pat, `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
	               values ($1, 'access', $2, $3, now()) returning id`, []any{A, s.must("P2"), s.must("a_pat1")}, new(string)),
		postgres.CodeInsufficientPrivilege)
	code(one(pat, `insert into app.dsr_requests (org_id, kind, subject_user_id, requested_by, due_at)
	               values ($1, 'access', $2, $2, now()) returning id`, []any{A, s.must("a_pat1")}, new(string)),
		postgres.CodeCheckViolation)
	// Nor may a patient extend or close a request about them.
	var n int
	if err := one(pat, `with u as (update app.dsr_requests set status = 'withdrawn' where org_id = $1 returning 1)
	                    select count(*) from u`, []any{A}, &n); err != nil || n != 0 {
		t.Fatalf("a patient closed %d requests (%v)", n, err)
	}

	// A CCPA subject is a member of the org: another org's user is no
	// subject here.
	code(one(admin, `insert into app.dsr_requests (org_id, kind, subject_user_id, requested_by, due_at)
	                 values ($1, 'ccpa_know', $2, $3, now()) returning id`, []any{A, s.must("b_admin"), s.must("a_admin")},
		new(string)), postgres.CodeForeignKeyViolation)

	// ward_app names only the reason and the status in an update.
	code(one(admin, `update app.dsr_requests set extension_reason = 'volume', due_at = now() + interval '5 years'
	                 where org_id = $1 and id = $2 returning id`, []any{A, forged.id}, new(string)), postgres.CodeInsufficientPrivilege)
	// One extension, by the admin, moves the deadline by 30 days.
	var ext req
	if err := one(admin, `update app.dsr_requests set extension_reason = 'volume'
	                      where org_id = $1 and id = $2 returning `+cols, []any{A, forged.id}, scan(&ext)...); err != nil {
		t.Fatal(err)
	}
	if days(ext) != 60 || ext.extendedBy != s.must("a_admin") || ext.reason != "volume" {
		t.Fatalf("extension: %.1f days, by %s, reason %q", days(ext), s.readable(ext.extendedBy), ext.reason)
	}
	code(one(admin, `update app.dsr_requests set extension_reason = 'other' where org_id = $1 and id = $2 returning id`,
		[]any{A, forged.id}, new(string)), "55000")
	// The kind, subject and receipt never change.
	code(one(admin, `update app.dsr_requests set kind = 'amendment' where org_id = $1 and id = $2 returning id`,
		[]any{A, forged.id}, new(string)), postgres.CodeInsufficientPrivilege)
	// A limit request has no extension.
	var limit string
	if err := one(admin, `select id::text from app.dsr_requests where org_id = $1 and kind = 'ccpa_limit'`, []any{A}, &limit); err != nil {
		t.Fatal(err)
	}
	code(one(admin, `update app.dsr_requests set extension_reason = 'volume' where org_id = $1 and id = $2 returning id`,
		[]any{A, limit}, new(string)), "55000")

	// Past its first period a request is overdue and can no longer be
	// extended. (The superuser moves the clock with triggers off.)
	var amend string
	if err := one(admin, `select id::text from app.dsr_requests where org_id = $1 and kind = 'amendment' and requested_by = $2`,
		[]any{A, s.must("a_pat1")}, &amend); err != nil {
		t.Fatal(err)
	}
	if err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `update app.dsr_requests set received_at = now() - interval '61 days', due_at = now() - interval '1 day'
		                        where org_id = $1 and id = $2`, A, amend)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var overdue bool
	if err := one(admin, `select status = 'open' and now() > due_at from app.dsr_requests where org_id = $1 and id = $2`,
		[]any{A, amend}, &overdue); err != nil || !overdue {
		t.Fatalf("overdue: %v (%v)", overdue, err)
	}
	code(one(admin, `update app.dsr_requests set extension_reason = 'volume' where org_id = $1 and id = $2 returning id`,
		[]any{A, amend}, new(string)), "55000")

	// Closing records who and when; a closed request never changes again,
	// not even for the superuser (while triggers fire), and nothing is
	// deleted.
	var closed req
	if err := one(admin, `update app.dsr_requests set status = 'fulfilled' where org_id = $1 and id = $2
	                      returning `+cols, []any{A, forged.id}, scan(&closed)...); err != nil {
		t.Fatal(err)
	}
	if closed.status != "fulfilled" || closed.closer != s.must("a_admin") {
		t.Fatalf("closed: %s by %s", closed.status, s.readable(closed.closer))
	}
	if err := one(admin, `with u as (update app.dsr_requests set status = 'denied' where org_id = $1 and id = $2 returning 1)
	                      select count(*) from u`, []any{A, forged.id}, &n); err != nil || n != 0 {
		t.Fatalf("a closed request changed: %d (%v)", n, err)
	}
	_, err := env.Super.Pool.Exec(ctx, `update app.dsr_requests set status = 'denied' where org_id = $1 and id = $2`, A, forged.id)
	code(err, "55000")
	if err := one(admin, `with d as (delete from app.dsr_requests where org_id = $1 returning 1) select count(*) from d`,
		[]any{A}, &n); err == nil && n != 0 {
		t.Fatalf("an admin deleted %d requests", n)
	}
}
