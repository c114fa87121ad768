package audit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The Go registry and the database's audit.actions table are one list.
func TestActionRegistryMatchesSQL(t *testing.T) {
	env := pgtest.New(t)
	type row struct {
		Name                            string
		Category                        string
		PHIAccess, Disclosure, Reserved bool
		StakeholderDisclosure           bool
		Requires                        []string
	}
	rows, err := env.Super.Pool.Query(context.Background(),
		`select name, category, phi_access, disclosure, reserved, stakeholder_disclosure, requires from audit.actions order by name`)
	if err != nil {
		t.Fatal(err)
	}
	sqlRows, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	var goRows []row
	for _, a := range audit.Actions {
		req := []string{}
		for _, f := range a.Requires {
			req = append(req, string(f))
		}
		goRows = append(goRows, row{a.Name, string(a.Category), a.PHIAccess, a.Disclosure, a.Reserved, a.StakeholderDisclosure, req})
	}
	slices.SortFunc(goRows, func(a, b row) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	if diff := cmp.Diff(sqlRows, goRows); diff != "" {
		t.Errorf("audit.actions (-sql +go):\n%s", diff)
	}
	// Case actions that only the SQL procedures record: the download that
	// hands out a data key, deletion, invitation acceptance, reminders and
	// access expiry; the retention purge (00234); and the reminders of
	// data-subject requests (00171); a patient's crypto-shred (00275).
	byProcedure := []string{"document.download", "document.delete", "document.purge", "case.invite.accept", "document.remind",
		"case.member.expire", "dsr.remind", "patient.shred"}
	for _, a := range audit.Actions {
		reservedByName := a.Category == audit.CategoryAuth || a.Category == audit.CategoryOrg ||
			a.Category == audit.CategoryMembership || slices.Contains(byProcedure, a.Name)
		if a.Reserved != reservedByName && a.Name != "org.session_policy.read" && a.Name != "member.list" {
			t.Errorf("%s: reserved %v; auth.*, org.* and membership.* changes are the procedures' to record", a.Name, a.Reserved)
		}
	}
}

// A disclosure's recipient and purpose are part of the signed event, only a
// procedure that makes a disclosure records one (the server's path refuses
// a recipient on any other action, in Go and in SQL), and a client's
// metadata that PostgreSQL cannot store does not stop the event.
func TestRecordDisclosureAndHostileMetadata(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	e := audit.Event{Org: f.org, Action: "patient.read", Outcome: audit.OutcomeSuccess, Patient: some(f.p1),
		ObjectType: "patient", ObjectID: some(f.p1),
		Disclosure: &audit.Disclosure{Recipient: "Acme Claims", Purpose: "claim adjudication"},
		UserAgent:  "bad\xff\x00agent\n" + string(make([]byte, 600)), IP: "192.0.2.1", Request: "req-x"}
	record := func(e audit.Event) error {
		return env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := audit.Record(ctx, tx, e)
			return err
		})
	}
	if err := record(e); !errors.Is(err, audit.ErrInvalidEvent) {
		t.Fatalf("Record of a patient.read naming a recipient = %v, want ErrInvalidEvent", err)
	}
	// The same through SQL: audit.append refuses it whatever the server checks.
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select audit.append($1, 'patient.read', 'success', 'patient', $2, $2,
			p_disclosure => '{"recipient": "Acme Claims", "purpose": "claim adjudication"}')`, f.org, f.p1)
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInvalidParameter) || !strings.Contains(err.Error(), "records no disclosure") {
		t.Fatalf("audit.append of a patient.read naming a recipient = %v, want 22023 records no disclosure", err)
	}
	e.Disclosure = nil
	if err := record(e); err != nil {
		t.Fatalf("Record: %v", err)
	}
	// A procedure that discloses (as app.open_document_version does for a
	// stakeholder's download) records the recipient and purpose.
	if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as($1, 'document.download', 'success', 'document_version',
		gen_random_uuid(), $2, p_actor => $3,
		p_disclosure => '{"recipient": "Acme Claims", "purpose": "claim adjudication"}')`, f.org, f.p1, f.admin); err != nil {
		t.Fatalf("append_as of a disclosure: %v", err)
	}
	integrate(t, env.Super, f.org)
	rows, err := audit.ReadRows(ctx, env.Super.Pool, f.org)
	if err != nil || len(rows) < 2 {
		t.Fatal(rows, err)
	}
	got, disclosed := rows[len(rows)-2], rows[len(rows)-1]
	if got.V != 2 || got.CredentialKind == nil || *got.CredentialKind != "session" || got.Credential != some(f.adminSession) {
		t.Errorf("credential: v %d kind %v id %v, want v2 session %s", got.V, got.CredentialKind, got.Credential, f.adminSession)
	}
	if got.Disclosure != nil || !strings.Contains(string(got.Canonical), `"disclosure":null`) {
		t.Errorf("the read's disclosure %s, canonical %s", got.Disclosure, got.Canonical)
	}
	if string(disclosed.Disclosure) == "" ||
		!strings.Contains(string(disclosed.Canonical), `"disclosure":{"purpose":"claim adjudication","recipient":"Acme Claims"}`) {
		t.Errorf("disclosure %s, canonical %s", disclosed.Disclosure, disclosed.Canonical)
	}
	if got.UserAgent == nil || *got.UserAgent != "bad\uFFFDagent" {
		t.Errorf("user agent stored as %q", derefString(got.UserAgent))
	}
	if rep, err := audit.Verify(ctx, env.Super.Pool, f.org, audit.VerifyOptions{}); err != nil {
		t.Errorf("Verify = %s, %v", rep, err)
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
