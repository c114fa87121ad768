package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00157, as ward_app with the credentials the server binds: the
// guard of app.record_amendments keeps the clock and the actors whatever a
// statement says, files the data-subject request, closes it with the
// decision, and keeps the order of the steps; a decision is final even for
// the superuser.
func TestAmendmentGuard(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	as := func(actor, sql string, args ...any) error {
		return env.App.InTenantTx(ctx, rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
	}
	id := rlsNew()
	// A forged receipt, status and decision are ignored.
	if err := as("a_pat1", `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by,
	    requested_at, status, decision_enc, decided_by, decided_at)
	    values ($1, $2, $3, gen_random_uuid(), '\x01', $4, '2000-01-01', 'accepted', '\x02', $4, '2000-01-01')`,
		s.must("A"), id, s.must("P1"), s.must("a_pat1")); err != nil {
		t.Fatal(err)
	}
	type state struct {
		status, queue, kind       string
		requestedAt, due          time.Time
		decided, disagreed        bool
		decidedBy                 *string
		rebutted, queuedByPatient bool
	}
	read := func() state {
		t.Helper()
		var st state
		if err := env.Super.Pool.QueryRow(ctx, `select a.status, d.status, d.kind, a.requested_at, d.due_at,
		    a.decision_enc is not null, a.disagreement_at is not null, a.decided_by::text, a.rebuttal_at is not null,
		    d.requested_by = a.requested_by
		    from app.record_amendments a join app.dsr_requests d on d.org_id = a.org_id and d.id = a.dsr_id
		    where a.id = $1`, id).Scan(&st.status, &st.queue, &st.kind, &st.requestedAt, &st.due, &st.decided,
			&st.disagreed, &st.decidedBy, &st.rebutted, &st.queuedByPatient); err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := read()
	if st.status != "requested" || st.decided || st.queue != "open" || st.kind != "amendment" || !st.queuedByPatient ||
		time.Since(st.requestedAt) > time.Hour || st.due.Sub(st.requestedAt) != 60*24*time.Hour {
		t.Fatalf("filed: %+v", st)
	}
	// Steps out of order are refused: a statement or a rebuttal before a
	// decision, a denial without a basis.
	for _, c := range []struct {
		actor, sql, code string
	}{
		{"a_pat1", `update app.record_amendments set disagreement_enc = '\x03' where id = $1`, "55000"},
		{"a_admin", `update app.record_amendments set rebuttal_enc = '\x03' where id = $1`, "55000"},
		{"a_admin", `update app.record_amendments set status = 'denied', decision_enc = '\x03' where id = $1`, "23514"},
		{"a_pat1", `update app.record_amendments set status = 'accepted', decision_enc = '\x03' where id = $1`, "42501"},
	} {
		if err := as(c.actor, c.sql, id); !postgres.IsCode(err, c.code) {
			t.Errorf("%s: %s: %v, want %s", c.actor, c.sql, err, c.code)
		}
	}
	// The decider is the credential's: ward_app may not name one.
	if err := as("a_admin", `update app.record_amendments set status = 'denied', denial_basis = 'accurate_and_complete',
	    decision_enc = '\x03', decided_by = $2 where id = $1`, id, s.must("a_pat1")); !postgres.IsCode(err, "42501") {
		t.Errorf("a forged decider: %v, want 42501", err)
	}
	if err := as("a_admin", `update app.record_amendments set status = 'denied', denial_basis = 'accurate_and_complete',
	    decision_enc = '\x03' where id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if st = read(); st.status != "denied" || st.queue != "denied" || st.decidedBy == nil || *st.decidedBy != s.must("a_admin") {
		t.Fatalf("denied: %+v (decided by %v)", st, st.decidedBy)
	}
	for _, c := range []struct {
		actor, sql, code string
	}{
		{"a_admin", `update app.record_amendments set status = 'accepted', denial_basis = null where id = $1`, "55000"},
		{"a_admin", `update app.record_amendments set rebuttal_enc = '\x03' where id = $1`, "55000"}, // before a statement
		{"a_admin", `update app.record_amendments set disagreement_enc = '\x03' where id = $1`, "42501"},
		{"a_prov1", `update app.record_amendments set disagreement_enc = '\x03' where id = $1`, ""}, // sees, updates nothing
	} {
		err := as(c.actor, c.sql, id)
		if c.code == "" && err != nil || c.code != "" && !postgres.IsCode(err, c.code) {
			t.Errorf("%s: %s: %v, want %q", c.actor, c.sql, err, c.code)
		}
	}
	if err := as("a_pat1", `update app.record_amendments set disagreement_enc = '\x04' where id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := as("a_pat1", `update app.record_amendments set disagreement_enc = '\x05' where id = $1`, id); !postgres.IsCode(err, "55000") {
		t.Errorf("a second statement: %v, want 55000", err)
	}
	if err := as("a_admin", `update app.record_amendments set rebuttal_enc = '\x06' where id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if st = read(); !st.disagreed || !st.rebutted {
		t.Fatalf("after the statement and the rebuttal: %+v", st)
	}
	// The queue entry of an undecided request is not closed by hand as
	// answered, by an admin or by an admin key with the dsr scope (00158).
	other := rlsNew()
	if err := as("a_pat1", `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
	    values ($1, $2, $3, gen_random_uuid(), '\x01', $4)`, s.must("A"), other, s.must("P1"), s.must("a_pat1")); err != nil {
		t.Fatal(err)
	}
	var queueID string
	if err := env.Super.Pool.QueryRow(ctx, `select dsr_id::text from app.record_amendments where id = $1`, other).Scan(&queueID); err != nil {
		t.Fatal(err)
	}
	for _, actor := range []string{"a_admin", "a_key_audit"} { // the key reads no amendment, and is refused all the same
		for _, outcome := range []string{"fulfilled", "denied"} {
			if err := as(actor, `update app.dsr_requests set status = $2 where id = $1`, queueID, outcome); !postgres.IsCode(err, "55000") {
				t.Errorf("%s closes an undecided amendment's queue entry as %s: %v, want 55000", actor, outcome, err)
			}
		}
	}
	// private.dsr_amendment_status (definer) answers only a caller who may
	// close requests of the org it names: hostile arguments get null.
	status := func(actor, org string) *string {
		t.Helper()
		var st *string
		if err := env.App.InTenantTx(ctx, rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select private.dsr_amendment_status($1, $2)`, org, queueID).Scan(&st)
		}); err != nil {
			t.Fatalf("%s asks: %v", actor, err)
		}
		return st
	}
	for _, c := range []struct{ actor, org, want string }{
		{"a_admin", "A", "requested"},
		{"a_key_audit", "A", "requested"}, // an admin key with the dsr scope
		{"b_admin", "A", ""},              // another org's admin naming org A
		{"b_admin", "B", ""},              // naming its own org, with A's queue entry
		{"a_pat1", "A", ""},               // the requester, who closes nothing
		{"a_lead", "A", ""},
		{"a_prov1", "A", ""},
	} {
		if got := status(c.actor, s.must(c.org)); (got == nil) != (c.want == "") || got != nil && *got != c.want {
			t.Errorf("%s asks for org %s: %v, want %q", c.actor, c.org, got, c.want)
		}
	}
	// Final for the superuser too (while triggers fire).
	for _, sql := range []string{
		`update app.record_amendments set status = 'accepted', denial_basis = null where id = $1`,
		`update app.record_amendments set request_enc = '\x09' where id = $1`,
		`update app.record_amendments set rebuttal_enc = '\x09' where id = $1`,
	} {
		if _, err := env.Super.Pool.Exec(ctx, sql, id); err == nil {
			t.Errorf("the superuser: %s was accepted", sql)
		}
	}
}
