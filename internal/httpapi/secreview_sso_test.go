package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
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
	w.addMember(o, "surgeon@hospital.test", identity.RoleProvider)
	w.verifiedSSODomain(o, "hospital.test")
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
