package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
)

// TestLinkRequestSSOEnforcedNoOracle: a sign-in link request for a member
// of an org that enforces SSO on its domain gets the answer any address
// gets (no link, a verifier; the database decides, migration 00141), and
// that includes the per-address limit: repeated requests for a member's
// address are refused 429 exactly as for an address on the same domain
// that belongs to nobody, so counting requests until the 429 does not tell
// members apart, with or without the org's id.
func TestLinkRequestSSOEnforcedNoOracle(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.SignInRateLimit = -1 }))
	o := w.createOrg("Enforcing Oracle Clinic")
	w.addMember(o, "surgeon@hospital.test", identity.RoleProvider)
	nurse := w.addMember(o, "nurse@hospital.test", identity.RoleProvider)
	w.verifiedSSODomain(o, "hospital.test")
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]any{"enforce_sso": true}, http.StatusOK, nil)

	answers := func(body map[string]any) []int {
		var got []int
		for range 7 {
			resp, _ := w.request("POST", "/v1/auth/magic-link", "", body)
			got = append(got, resp.StatusCode)
		}
		return got
	}
	nobody, member := answers(map[string]any{"email": "nobody@hospital.test"}),
		answers(map[string]any{"email": "surgeon@hospital.test"})
	for i := range nobody {
		if nobody[i] != member[i] {
			t.Fatalf("link requests for an address that belongs to nobody answer %v, for a member of the enforcing org %v", nobody, member)
		}
	}
	// The same with the enforcing org's id, which the server passes to the
	// database as it is (migration 00141: the database refuses the link).
	links := func() (n int) {
		t.Helper()
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.magic_links where user_id = $1`,
			nurse.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := links()
	nobody = answers(map[string]any{"email": "nobody2@hospital.test", "org_id": o.ID})
	member = answers(map[string]any{"email": "nurse@hospital.test", "org_id": o.ID})
	for i := range nobody {
		if nobody[i] != member[i] {
			t.Fatalf("link requests naming the org for an address that belongs to nobody answer %v, for a member %v", nobody, member)
		}
	}
	if n := links() - before; n != 0 {
		t.Fatalf("link requests naming the enforcing org created %d links for its member", n)
	}
}
