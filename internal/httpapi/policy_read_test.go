package httpapi_test

import (
	"net/http"
	"testing"
)

// An org's security policies are its members' to read: a case stakeholder
// (an employer, an attorney) is refused every one of them, so an outside
// party learns nothing of the org's risk weights, device binding, MFA or
// SSO rules or gateway providers; a patient, the lowest member, reads them.
func TestOrgPoliciesNotForStakeholders(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Policy Clinic")
	w.populate(o, "pr")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Shoulder strain"},
		http.StatusCreated, &kase)
	outsider := w.joined(o.Lead.Token, kase.ID.String(), "counsel@firm.test", "attorney", "view")
	for _, path := range []string{"/v1/org/session-policy", "/v1/org/assurance-policy", "/v1/org/risk-policy",
		"/v1/org/device-binding-policy", "/v1/org/sso-policy", "/v1/org/gateway-policy"} {
		if resp, body := w.request("GET", path, outsider.Token, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a stakeholder's GET %s: %d %s, want 403", path, resp.StatusCode, body)
		}
		if resp, body := w.request("GET", path, o.PatUser.Token, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("a patient's GET %s: %d %s, want 200", path, resp.StatusCode, body)
		}
	}
	// The stakeholder's own session works (it is not the token that is refused).
	if resp, body := w.request("GET", "/v1/cases/"+kase.ID.String(), outsider.Token, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the stakeholder's case: %d %s", resp.StatusCode, body)
	}
}
