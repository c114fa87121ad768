package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestLinkRequestSSOEnforcedNoOracle: a sign-in link request for a member
// of an org that enforces SSO on its domain gets the answer any address
// gets (migration 00128: no link, a decoy verifier), and that includes the
// per-address limit: repeated requests for a member's address are refused
// 429 exactly as for an address on the same domain that belongs to nobody,
// so counting requests until the 429 does not tell members apart.
func TestLinkRequestSSOEnforcedNoOracle(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.SignInRateLimit = -1 }))
	o := w.createOrg("Enforcing Oracle Clinic")
	ctx := context.Background()
	w.addMember(o, "surgeon@hospital.test", identity.RoleProvider)
	inst, err := w.keys.Instance(ctx, w.env.App)
	if err != nil {
		t.Fatal(err)
	}
	conn := uuid.New()
	if _, err := w.env.Super.Pool.Exec(ctx, `
		insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
		values ($1, $2, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x00', $3)`, o.ID, conn, o.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `
		insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by, domain_bidx)
		values ($1, 'hospital.test', $2, now(), 'dns', $3)`, o.ID, conn,
		inst.BlindIndex(envelope.EmailDomainField, "hospital.test")); err != nil {
		t.Fatal(err)
	}
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": true}, http.StatusOK, nil)

	answers := func(email string) []int {
		var got []int
		for range 7 {
			resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]any{"email": email})
			got = append(got, resp.StatusCode)
		}
		return got
	}
	nobody, member := answers("nobody@hospital.test"), answers("surgeon@hospital.test")
	for i := range nobody {
		if nobody[i] != member[i] {
			t.Fatalf("link requests for an address that belongs to nobody answer %v, for a member of the enforcing org %v", nobody, member)
		}
	}
}
