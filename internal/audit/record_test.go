package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Record writes in the caller's transaction, with empty strings as NULL;
// a rolled-back transaction leaves neither an event nor a gap.
func TestRecord(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org, actor, obj, res := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	patient := seedPatients(t, env.Super, org, 1)[0]

	errRollback := errors.New("business operation failed")
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := audit.Record(ctx, tx, audit.Event{Org: org, Action: "audit.read", Outcome: audit.OutcomeSuccess, Actor: some(actor)}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v", err)
	}
	var count int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1`, org).Scan(&count); err != nil || count != 0 {
		t.Fatalf("after rollback: %d events, %v", count, err)
	}

	e := audit.Event{Org: org, Action: "patient.list", Outcome: audit.OutcomeSuccess, ObjectType: "patient",
		ObjectID: some(obj), Patient: some(patient), Results: []uuid.UUID{res, patient}, Request: "req-1",
		IP: "198.51.100.7", Details: map[string]any{"count": 2, "by_mrn": false, "nested": map[string]any{"n": int64(1 << 53)}},
		Actor: some(actor)}
	var seqs []int64
	err = env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, e := range []audit.Event{e, {Org: org, Action: "auth.signin", Outcome: audit.OutcomeFailure, Actor: some(actor)}} {
			seq, err := audit.Record(ctx, tx, e)
			if err != nil {
				return err
			}
			seqs = append(seqs, seq)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	// Without a live credential and without an asserted actor, nobody is
	// named: audit.append refuses, even for the superuser.
	err = env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Event{Org: org, Action: "auth.signin", Outcome: audit.OutcomeFailure})
		return err
	})
	if !errors.Is(err, audit.ErrForbidden) {
		t.Errorf("anonymous event without a credential: %v, want ErrForbidden", err)
	}
	// Record returns queue ids, increasing; positions come with integration.
	if len(seqs) != 2 || seqs[1] <= seqs[0] {
		t.Errorf("queue ids %v, want two increasing", seqs)
	}
	if rows, err := audit.ReadRows(ctx, env.Super.Pool, org); err != nil || len(rows) != 0 {
		t.Errorf("before integration: %d sequenced rows, %v", len(rows), err)
	}
	integrate(t, env.Super, org)
	rows, err := audit.ReadRows(ctx, env.Super.Pool, org)
	if err != nil {
		t.Fatal(err)
	}
	got := rows[0]
	want := audit.Row{Org: org, Seq: 1, At: got.At, Action: "patient.list", Outcome: "success", Actor: some(actor),
		ActorKind: "system", ObjectType: ptr("patient"), ObjectID: some(obj), Patient: some(patient),
		Results: []uuid.UUID{res, patient}, Request: ptr("req-1"), IP: ptr("198.51.100.7"),
		Details: got.Details, Canonical: got.Canonical, LeafHash: got.LeafHash, ChainHash: got.ChainHash, V: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if rows[1].ActorKind != "system" || rows[1].Actor != some(actor) || rows[1].UserAgent != nil {
		t.Errorf("second row: actor %v kind %s ua %v", rows[1].Actor, rows[1].ActorKind, rows[1].UserAgent)
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil || rep.Size != 2 {
		t.Errorf("Verify = %s, %v", rep, err)
	}
}

// Invalid events are refused before the database is asked.
func TestRecordInvalid(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	org := uuid.New()
	valid := audit.Event{Org: org, Action: "patient.read", Outcome: audit.OutcomeSuccess,
		Patient: uuid.NullUUID{UUID: uuid.New(), Valid: true}}
	tests := []struct {
		name   string
		change func(e *audit.Event)
	}{
		{"no org", func(e *audit.Event) { e.Org = uuid.Nil }},
		{"empty action", func(e *audit.Event) { e.Action = "" }},
		{"upper-case action", func(e *audit.Event) { e.Action = "Patient.Read" }},
		{"long action", func(e *audit.Event) { e.Action = strings.Repeat("a", 65) }},
		{"unknown outcome", func(e *audit.Event) { e.Outcome = "ok" }},
		{"float detail", func(e *audit.Event) { e.Details = map[string]any{"ratio": 0.5} }},
		{"huge detail", func(e *audit.Event) { e.Details = map[string]any{"n": uint64(1<<53 + 1)} }},
		{"non-ASCII key", func(e *audit.Event) { e.Details = map[string]any{"naïve": 1} }},
		{"unmarshalable detail", func(e *audit.Event) { e.Details = map[string]any{"ch": make(chan int)} }},
		{"unregistered action", func(e *audit.Event) { e.Action = "patient.destroy" }},
		{"success without the patient the action needs", func(e *audit.Event) { e.Patient = uuid.NullUUID{} }},
		{"success without the object the action needs", func(e *audit.Event) { e.Action = "session.revoke" }},
		{"empty disclosure recipient", func(e *audit.Event) { e.Disclosure = &audit.Disclosure{Purpose: "claim"} }},
		{"long disclosure purpose", func(e *audit.Event) {
			e.Disclosure = &audit.Disclosure{Recipient: "Acme", Purpose: strings.Repeat("p", 201)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.change(&e)
			err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				_, err := audit.Record(ctx, tx, e)
				return err
			})
			if !errors.Is(err, audit.ErrInvalidEvent) {
				t.Errorf("Record = %v, want ErrInvalidEvent", err)
			}
		})
	}
	var count int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events`).Scan(&count); err != nil || count != 0 {
		t.Errorf("%d events written, %v", count, err)
	}
}

// With a live credential the database derives actor and session itself;
// an event for another org is refused; RecordDenied writes in its own
// transaction even when the request's context is already cancelled.
func TestRecordWithCredential(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	// ward_app cannot assert an actor: only the credential names one.
	impostor := uuid.New()
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeSuccess,
			Patient: some(f.p1), Actor: some(impostor)})
		return err
	})
	if !errors.Is(err, audit.ErrForbidden) {
		t.Fatalf("Record as ward_app with an asserted actor: %v, want ErrForbidden", err)
	}
	err = env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeSuccess,
			Patient: some(f.p1)})
		return err
	})
	if err != nil {
		t.Fatalf("Record as ward_app: %v", err)
	}
	err = env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeDenied})
		return err
	})
	if !errors.Is(err, audit.ErrForbidden) {
		t.Fatalf("Record as ward_app without a credential: %v, want ErrForbidden", err)
	}
	err = env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Event{Org: uuid.New(), Action: "audit.read", Outcome: audit.OutcomeSuccess})
		return err
	})
	if !errors.Is(err, audit.ErrForbidden) {
		t.Errorf("Record for another org: %v, want ErrForbidden", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	denied := audit.Event{Org: f.org, Action: "patient.read", ObjectType: "patient", ObjectID: some(f.p2),
		Patient: some(f.p2), Details: map[string]any{"reason": "forbidden"}}
	if err := audit.RecordDenied(cancelled, env.App, f.patientCred, denied); err != nil {
		t.Fatalf("RecordDenied: %v", err)
	}
	denied.Outcome = audit.OutcomeSuccess
	if err := audit.RecordDenied(ctx, env.App, f.patientCred, denied); !errors.Is(err, audit.ErrInvalidEvent) {
		t.Errorf("RecordDenied with outcome success: %v, want ErrInvalidEvent", err)
	}
	err = env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return audit.RecordDenied(ctx, env.App, f.patientCred, audit.Event{Org: f.org, Action: "patient.read"})
	})
	if !errors.Is(err, postgres.ErrNestedTx) {
		t.Errorf("RecordDenied inside a transaction: %v, want ErrNestedTx", err)
	}

	integrate(t, env.Super, f.org)
	rows, err := audit.ReadRows(ctx, env.Super.Pool, f.org)
	if err != nil {
		t.Fatal(err)
	}
	type who struct {
		Actor     uuid.UUID
		Kind      string
		Session   bool
		Outcome   string
		PatientID uuid.UUID
	}
	var got []who
	for _, r := range rows {
		got = append(got, who{r.Actor.UUID, r.ActorKind, r.Session.Valid, r.Outcome, r.Patient.UUID})
	}
	want := []who{
		{f.admin, "user", true, "success", f.p1},
		{f.patientUser, "user", true, "denied", f.p2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if rows[0].Session.UUID != f.adminSession {
		t.Errorf("session %v, want %v", rows[0].Session.UUID, f.adminSession)
	}
}

// RecordAlone writes what Record writes inside InTenantTx, in one round
// trip, and so does QueueRecord's statement in a caller's batch; the batch
// is one transaction (a later statement's failure takes the event back);
// they refuse what Record refuses.
func TestRecordAloneMatchesRecord(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	e := audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeSuccess, ObjectType: "patient",
		ObjectID: some(f.p1), Patient: some(f.p1), Request: "req-1", IP: "203.0.113.7", UserAgent: "ua\x01",
		Details: map[string]any{"phi": map[string]any{"PERSON": 2, "DATE": 1}, "model": "m", "stream": false, "n": []any{1, "a", nil}}}
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, e)
		return err
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if err := audit.RecordAlone(ctx, env.App, f.adminCred, e); err != nil {
		t.Fatalf("RecordAlone: %v", err)
	}
	qb := &pgx.Batch{}
	if err := audit.QueueRecord(qb, e); err != nil {
		t.Fatalf("QueueRecord: %v", err)
	}
	if err := env.App.InTenantBatch(ctx, f.adminCred, qb); err != nil {
		t.Fatalf("QueueRecord's batch: %v", audit.RecordError(e, err))
	}
	if err := audit.QueueRecord(&pgx.Batch{}, audit.Event{Org: f.org, Action: "audit.read",
		Outcome: audit.OutcomeSuccess, Actor: some(f.admin)}); !errors.Is(err, audit.ErrInvalidEvent) {
		t.Errorf("QueueRecord with an asserted actor: %v, want ErrInvalidEvent", err)
	}
	fb := &pgx.Batch{}
	other := audit.Event{Org: uuid.New(), Action: "audit.read", Outcome: audit.OutcomeSuccess}
	_ = audit.QueueRecord(fb, other)
	if err := env.App.InTenantBatch(ctx, f.adminCred, fb); !errors.Is(audit.RecordError(other, err), audit.ErrForbidden) {
		t.Errorf("QueueRecord into another org: %v, want ErrForbidden", audit.RecordError(other, err))
	}

	// One transaction: the append is undone with the statement that fails after it.
	b := &pgx.Batch{}
	b.Queue(`select audit.append(p_org => $1, p_action => 'audit.read', p_outcome => 'success')`, f.org)
	b.Queue(`select 1 / 0`)
	if err := env.App.InTenantBatch(ctx, f.adminCred, b); err == nil {
		t.Fatal("InTenantBatch with a failing statement: no error")
	}
	for _, c := range []struct {
		name string
		cred postgres.Credential
		e    audit.Event
		want error
	}{
		{"another org", f.adminCred, audit.Event{Org: uuid.New(), Action: "audit.read", Outcome: audit.OutcomeSuccess}, audit.ErrForbidden},
		{"no credential", postgres.Credential{}, audit.Event{Org: f.org, Action: "audit.read", Outcome: audit.OutcomeDenied}, audit.ErrForbidden},
		{"asserted actor", f.adminCred, audit.Event{Org: f.org, Action: "audit.read", Outcome: audit.OutcomeSuccess, Actor: some(f.admin)}, audit.ErrInvalidEvent},
		{"no such patient", f.adminCred, audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeSuccess, ObjectType: "patient", ObjectID: some(f.p1), Patient: some(uuid.New())}, audit.ErrInvalidEvent},
	} {
		if err := audit.RecordAlone(ctx, env.App, c.cred, c.e); !errors.Is(err, c.want) {
			t.Errorf("RecordAlone, %s: %v, want %v", c.name, err, c.want)
		}
	}
	err = env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return audit.RecordAlone(ctx, env.App, f.adminCred, e)
	})
	if !errors.Is(err, postgres.ErrNestedTx) {
		t.Errorf("RecordAlone inside a transaction: %v, want ErrNestedTx", err)
	}

	integrate(t, env.Super, f.org)
	rows, err := audit.ReadRows(ctx, env.Super.Pool, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d events, want 3 (Record's, RecordAlone's and QueueRecord's)", len(rows))
	}
	for _, r := range rows {
		want, err := audit.AppendCanonical(nil, &r)
		if err != nil || string(want) != string(r.Canonical) {
			t.Errorf("event %d: stored canonical %s, rebuilt %s (%v)", r.Seq, r.Canonical, want, err)
		}
	}
	for i, name := range []string{"RecordAlone", "QueueRecord"} {
		a, b2 := rows[0], rows[1+i]
		a.Seq, b2.Seq = 0, 0
		a.At = b2.At
		a.Canonical, b2.Canonical = nil, nil
		a.LeafHash, b2.LeafHash, a.ChainHash, b2.ChainHash = nil, nil, nil, nil
		if diff := cmp.Diff(a, b2); diff != "" {
			t.Errorf("Record and %s wrote different events (-Record +%s):\n%s", name, name, diff)
		}
	}
	for _, r := range rows[1:] {
		if r.Actor.UUID != f.admin || r.Session.UUID != f.adminSession {
			t.Errorf("event %d: actor %v session %v, want %v %v", r.Seq, r.Actor, r.Session, f.admin, f.adminSession)
		}
	}
}
