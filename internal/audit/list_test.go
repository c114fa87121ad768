package audit_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// List and AccessReport through ward_app with real credentials: the org
// admin reads the whole log, the patient the events about their record, a
// member of another org nothing.
func TestListAndAccessReport(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	other := newFixture(t, env)
	staff := uuid.New()
	events := []rawEvent{
		{Action: "patient.read", Outcome: "success", Patient: some(f.p1), Actor: some(staff)},                                          // 1
		{Action: "patient.read", Outcome: "success", Patient: some(f.p2), Actor: some(staff)},                                          // 2
		{Action: "patient.list", Outcome: "success", Results: []uuid.UUID{f.p2, f.p1}, Actor: some(staff)},                             // 3
		{Action: "patient.list", Outcome: "success", Results: []uuid.UUID{f.p2}, Actor: some(staff)},                                   // 4
		{Action: "patient.update", Outcome: "denied", Patient: some(f.p1), Details: `{"reason":"forbidden"}`},                          // 5
		{Action: "org.session_policy.update", Outcome: "success", Actor: some(f.admin), ObjectType: ptr("org"), ObjectID: some(f.org)}, // 6
		{Action: "patient.read", Outcome: "success", Patient: some(f.p1), Actor: some(staff), IP: ptr("192.0.2.1")},                    // 7
	}
	for _, e := range events {
		appendSQL(t, env.Super.Pool, f.org, e)
	}
	appendSQL(t, env.Super.Pool, other.org, rawEvent{Action: "patient.read", Outcome: "success", Patient: some(other.p1)})

	seqs := func(es []audit.Entry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	list := func(cred postgres.Credential, org uuid.UUID, fl audit.Filter) []int64 {
		t.Helper()
		var got []audit.Entry
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			got, err = audit.List(ctx, tx, org, fl)
			return err
		})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		return seqs(got)
	}
	tests := []struct {
		name   string
		cred   postgres.Credential
		org    uuid.UUID
		filter audit.Filter
		want   []int64
	}{
		{"admin, whole log", f.adminCred, f.org, audit.Filter{}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"admin, page", f.adminCred, f.org, audit.Filter{After: 2, Limit: 3}, []int64{3, 4, 5}},
		{"admin, by action", f.adminCred, f.org, audit.Filter{Action: "patient.list"}, []int64{3, 4}},
		{"admin, by patient", f.adminCred, f.org, audit.Filter{Patient: some(f.p1)}, []int64{1, 3, 5, 7}},
		{"admin, by patient and action", f.adminCred, f.org, audit.Filter{Patient: some(f.p2), Action: "patient.list"}, []int64{3, 4}},
		{"admin, another org", f.adminCred, other.org, audit.Filter{}, []int64{}},
		// Patients read their access report (audit.access_report), never the raw log.
		{"patient", f.patientCred, f.org, audit.Filter{}, []int64{}},
		{"patient asking about another patient", f.patientCred, f.org, audit.Filter{Patient: some(f.p2)}, []int64{}},
		{"other org's admin", other.adminCred, f.org, audit.Filter{}, []int64{}},
		{"other org's patient", other.patientCred, f.org, audit.Filter{}, []int64{}},
		{"no credential", postgres.Credential{}, f.org, audit.Filter{}, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, list(tc.cred, tc.org, tc.filter)); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("entry fields", func(t *testing.T) {
		var got []audit.Entry
		err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			got, err = audit.List(ctx, tx, f.org, audit.Filter{After: 6, Limit: 1})
			return err
		})
		if err != nil || len(got) != 1 {
			t.Fatalf("List = %v, %v", got, err)
		}
		e := got[0]
		want := audit.Entry{Seq: 7, At: e.At, Action: "patient.read", Outcome: "success", Actor: some(staff),
			ActorKind: "system", Patient: some(f.p1), Results: []uuid.UUID{}, IP: "192.0.2.1", Details: e.Details}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("entry (-want +got):\n%s", diff)
		}
		var b strings.Builder
		slog.New(slog.NewTextHandler(&b, nil)).Info("entry", "e", e)
		if strings.Contains(b.String(), "192.0.2.1") || !strings.Contains(b.String(), f.p1.String()) {
			t.Errorf("LogValue: %s", b.String())
		}
	})

	t.Run("access report", func(t *testing.T) {
		want := []audit.Access{
			{Seq: 1, Actor: some(staff), ActorKind: "system", Action: "patient.read", Outcome: "success"},
			{Seq: 3, Actor: some(staff), ActorKind: "system", Action: "patient.list", Outcome: "success", Listed: true},
			{Seq: 5, ActorKind: "anonymous", Action: "patient.update", Outcome: "denied"},
			{Seq: 7, Actor: some(staff), ActorKind: "system", Action: "patient.read", Outcome: "success"},
		}
		for _, tc := range []struct {
			name    string
			cred    postgres.Credential
			patient uuid.UUID
			want    []audit.Access
		}{
			{"admin", f.adminCred, f.p1, want},
			{"the patient", f.patientCred, f.p1, want},
			{"the patient about another patient", f.patientCred, f.p2, nil},
			{"other org's admin", other.adminCred, f.p1, nil},
			{"no credential", postgres.Credential{}, f.p1, nil},
		} {
			var got []audit.Access
			err := env.App.InTenantTx(ctx, tc.cred, func(ctx context.Context, tx pgx.Tx) error {
				var err error
				got, err = audit.AccessReport(ctx, tx, f.org, tc.patient)
				return err
			})
			if tc.want == nil {
				if !errors.Is(err, audit.ErrForbidden) {
					t.Errorf("%s: AccessReport = %v, %v; want ErrForbidden", tc.name, got, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: AccessReport: %v", tc.name, err)
			}
			for i := range got {
				got[i].At = want[0].At // the clock is not under test
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: report (-want +got):\n%s", tc.name, diff)
			}
		}
	})

	t.Run("invalid filters", func(t *testing.T) {
		for _, fl := range []audit.Filter{{Limit: audit.MaxListLimit + 1}, {Limit: -1}, {After: -1}, {Action: "DROP TABLE"}} {
			err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
				_, err := audit.List(ctx, tx, f.org, fl)
				return err
			})
			if !errors.Is(err, audit.ErrInvalidFilter) {
				t.Errorf("List(%+v) = %v, want ErrInvalidFilter", fl, err)
			}
		}
	})
}
