package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// An org admin's compliance facts (app.org_compliance_facts, 00263) are
// the operator's (app.ops_compliance_facts) for that one org, key for key
// (both call private.compliance_org_facts, 00262), with the instance's
// policy, admin bar and registered actions, and only the providers the
// org enables. Each answer is recorded as org.compliance.read.
func TestOrgComplianceFactsAreTheOperators(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A := s.must("A")
	if _, err := env.Super.Pool.Exec(ctx, `
		insert into app.gateway_providers (name, base_url, baa_signed_at, baa_ref, zero_retention, models)
		values ('enabled-one', 'https://one.example.test', now(), 'BAA-1', true, '{m1}'),
		       ('not-ours', 'https://two.example.test', null, null, false, '{}');
		update app.orgs set gateway_providers = '{enabled-one}' where id = '`+A+`';
		update app.orgs set gateway_providers = '{not-ours}' where id = '`+s.must("B")+`'`); err != nil {
		t.Fatal(err)
	}

	var opsRaw []byte
	if err := env.Super.Pool.QueryRow(ctx, `select app.ops_compliance_facts()`).Scan(&opsRaw); err != nil {
		t.Fatal(err)
	}
	var orgRaw []byte
	if err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select app.org_compliance_facts('req-compliance')`).Scan(&orgRaw)
	}); err != nil {
		t.Fatal(err)
	}
	var events int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
		where org_id = $1 and action = 'org.compliance.read' and outcome = 'success' and object_id = $1`, A).Scan(&events); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		InstancePolicy map[string]any   `json:"instance_policy"`
		AdminBar       any              `json:"admin_bar"`
		AuthActions    []string         `json:"auth_actions"`
		BreachActions  []string         `json:"breach_actions"`
		Providers      []map[string]any `json:"providers"`
		Orgs           []map[string]any `json:"orgs"`
	}
	var ops, org doc
	if err := json.Unmarshal(opsRaw, &ops); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(orgRaw, &org); err != nil {
		t.Fatal(err)
	}
	if len(org.Orgs) != 1 {
		t.Fatalf("the org's facts name %d orgs", len(org.Orgs))
	}
	var want map[string]any
	for _, o := range ops.Orgs {
		if o["id"] == A {
			want = o
		}
	}
	if want == nil {
		t.Fatalf("the operator's facts have no org %s", A)
	}
	if diff := cmp.Diff(want, org.Orgs[0]); diff != "" {
		t.Errorf("org facts (-operator's +admin's):\n%s", diff)
	}
	if diff := cmp.Diff(ops.InstancePolicy, org.InstancePolicy); diff != "" || ops.AdminBar != org.AdminBar ||
		!cmp.Equal(ops.AuthActions, org.AuthActions) || !cmp.Equal(ops.BreachActions, org.BreachActions) {
		t.Errorf("instance facts differ: %s; admin bar %v/%v; actions %v/%v, %v/%v", diff, ops.AdminBar, org.AdminBar,
			ops.AuthActions, org.AuthActions, ops.BreachActions, org.BreachActions)
	}
	if len(org.Providers) != 1 || org.Providers[0]["name"] != "enabled-one" || org.Providers[0]["enabled_by"] != float64(1) ||
		org.Providers[0]["baa_ref"] != true || org.Providers[0]["models"] != float64(1) {
		t.Errorf("the org's providers: %v, want enabled-one only", org.Providers)
	}
	if events != 1 {
		t.Errorf("org.compliance.read events written: %d, want 1", events)
	}
}
