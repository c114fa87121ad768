package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00153, as ward_app with the credentials the server binds: a
// stakeholder grant may name the organisation it is for (1..180 characters
// of text, trimmed); a staff grant never names one.
func TestGrantRecipientOrg(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	set := func(user, org string) error {
		return env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `update app.case_members set recipient_org = $3 where case_id = $1 and user_id = $2`,
				s.must("C1"), s.must(user), org)
			if err == nil && tag.RowsAffected() != 1 {
				t.Fatalf("%s's grant on C1: %d rows", user, tag.RowsAffected())
			}
			return err
		})
	}
	// Besides ASCII controls (00153): C1 controls, a line separator, a
	// bidirectional override and isolate, a zero-width space, a soft hyphen
	// and a byte-order mark (00156), each of which can make a name shown in
	// mail or a report read as another.
	for _, bad := range []string{"", " Acme", "Acme\n", "Ac\x01me", strings.Repeat("é", 181),
		"Acme\u0085Mutual", "Acme\u2028Mutual", "Acme \u202eLautuM", "Acme \u2066Mutual\u2069", "Ac\u200bme",
		"Ac\u00adme", "\ufeffAcme"} {
		if err := set("a_employer", bad); !postgres.IsCode(err, postgres.CodeCheckViolation) {
			t.Errorf("recipient_org %q: %v, want 23514", bad, err)
		}
	}
	if err := set("a_employer", "Société Générale Assurances"); err != nil {
		t.Fatal(err) // letters beyond ASCII are fine
	}
	if err := set("a_employer", "Acme Logistics"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := env.Super.Pool.QueryRow(ctx, `select recipient_org from app.case_members where case_id = $1 and user_id = $2`,
		s.must("C1"), s.must("a_employer")).Scan(&got); err != nil || got != "Acme Logistics" {
		t.Fatalf("stored %q, %v", got, err)
	}
	// A staff grant names no organisation.
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.case_members (org_id, case_id, user_id, kind, permissions,
		added_by, recipient_org) values ($1, $2, $3, 'staff', '{view}', $4, 'Acme Logistics')`,
		s.must("A"), s.must("C1"), s.must("a_prov0"), s.must("a_admin")); !postgres.IsCode(err, postgres.CodeCheckViolation) {
		t.Errorf("a staff grant naming an organisation: %v, want 23514", err)
	}
}

// Migrations 00154 and 00156: private.case_grantee_role answers what a live
// member of the caller's own org is for a grant (staff or stakeholder: never
// which staff role, and never that someone is a patient), only to a caller
// who manages the case (a lead or admin, or a provider on its patient's
// care team), and only about a member that caller already sees (in their
// member list or on the case's grants); everyone else gets null.
func TestCaseGranteeRole(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	role := func(actor, user string) *string {
		t.Helper()
		var r *string
		err := env.App.InTenantTx(ctx, rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select private.case_grantee_role($1, $2)`, s.must("C1"), s.must(user)).Scan(&r)
		})
		if err != nil {
			t.Fatalf("%s asks for %s: %v", actor, user, err)
		}
		return r
	}
	for _, c := range []struct{ actor, user, want string }{
		{"a_admin", "a_employer", "stakeholder"},
		{"a_lead", "a_prov0", "staff"},
		{"a_prov1", "a_admin", "staff"},               // not which staff role
		{"a_prov1", "a_employer", "stakeholder"},      // manages C1 through P1's care team
		{"a_admin", "a_attorney", "stakeholder"},      // a lead or admin sees every member
		{"a_admin", "a_pat1", ""},                     // a patient is no grantee, and is not named one
		{"a_prov1", "a_pat1", ""},                     // their own patient's user
		{"a_prov1", "a_pat2", ""},                     // another provider's patient
		{"a_prov1", "a_attorney", ""},                 // a stakeholder with no grant on C1: not seen (00156)
		{"a_prov1", "b_pat1", ""},                     // another org's member
		{"a_prov1", "a_payer_revoked", "stakeholder"}, // a grant on C1 the provider sees, revoked
		{"a_prov0", "a_employer", ""},                 // manages no case
		{"a_employer", "a_prov1", ""},                 // a stakeholder manages nothing
		{"a_pat1", "a_prov1", ""},                     // nor does the patient
		{"b_admin", "a_employer", ""},                 // another org's admin
	} {
		got := role(c.actor, c.user)
		if (got == nil) != (c.want == "") || (got != nil && *got != c.want) {
			t.Errorf("%s asks the role of %s on C1: %v, want %q", c.actor, c.user, got, c.want)
		}
	}
}
