package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
)

// TestCrossOrgIDOracle: for the routes that take an object's id, another
// org's real id is answered exactly as an id that names nothing (same
// status, same problem code): an admin of one org learns nothing of which
// ids exist in another.
func TestCrossOrgIDOracle(t *testing.T) {
	w := newWorld(t)
	a, b := w.createOrg("Oracle Org A"), w.createOrg("Oracle Org B")
	w.populate(a, "oa")
	w.populate(b, "ob")
	kb := w.createKey(b, auth.ScopeMembers)
	var tok struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/scim/tokens", b.Admin.Token, map[string]any{"name": "dir", "default_role": "provider"}, http.StatusCreated, &tok)
	var kase struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", b.Lead.Token, map[string]any{"title": "Claim 1", "patient_id": b.P1}, http.StatusCreated, &kase)
	var hold struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/legal-holds", b.Admin.Token, map[string]any{"case_id": kase.ID, "reason": "matter"}, http.StatusCreated, &hold)
	none := uuid.New()
	cases := []struct {
		name, method, path string
		real               uuid.UUID
		body               any
		actor              string
	}{
		{"api key revoke", "DELETE", "/v1/api-keys/%s", kb.ID, nil, a.Admin.Token},
		{"scim token revoke", "DELETE", "/v1/scim/tokens/%s", tok.ID, nil, a.Admin.Token},
		{"legal hold release", "POST", "/v1/legal-holds/%s/release", hold.ID, map[string]any{"reason": "done"}, a.Admin.Token},
		{"break-glass designate", "PUT", "/v1/org/break-glass/users/%s", b.Prov.ID, nil, a.Admin.Token},
		{"break-glass undesignate", "DELETE", "/v1/org/break-glass/users/%s", b.Prov.ID, nil, a.Admin.Token},
		{"member update", "PATCH", "/v1/members/%s", b.Prov.ID, map[string]any{"role": "lead"}, a.Admin.Token},
		{"member revoke", "DELETE", "/v1/members/%s", b.Prov.ID, nil, a.Admin.Token},
		{"case get", "GET", "/v1/cases/%s", kase.ID, nil, a.Admin.Token},
		{"case members", "GET", "/v1/cases/%s/members", kase.ID, nil, a.Admin.Token},
		{"case patch", "PATCH", "/v1/cases/%s", kase.ID, map[string]any{"title": "x"}, a.Admin.Token},
		{"case documents", "GET", "/v1/cases/%s/documents", kase.ID, nil, a.Admin.Token},
		{"case invites", "GET", "/v1/cases/%s/invites", kase.ID, nil, a.Admin.Token},
		{"case doc request", "POST", "/v1/cases/%s/documents", kase.ID, map[string]any{"title": "x"}, a.Admin.Token},
		{"patient access report", "GET", "/v1/patients/%s/access-report", b.P1, nil, a.Admin.Token},
		{"patient entries", "GET", "/v1/patients/%s/entries", b.P1, nil, a.Admin.Token},
		{"care team, other org user", "PUT", "/v1/patients/" + a.P1.String() + "/care-team/%s", b.Prov.ID, nil, a.Lead.Token},
		{"patient link, other org user", "PUT", "/v1/patients/" + a.P1.String() + "/users/%s", b.PatUser.ID, nil, a.Lead.Token},
		{"case member, other org user", "PUT", "/v1/cases/" + kase.ID.String() + "/members/%s", a.Prov.ID, map[string]any{"permissions": []string{"view"}}, a.Lead.Token},
	}
	// Ids in a body or a query.
	bodies := []struct {
		name, method, path string
		body               func(id uuid.UUID) any
		actor              string
	}{
		{"legal hold on a case", "POST", "/v1/legal-holds", func(id uuid.UUID) any { return map[string]any{"case_id": id, "reason": "x"} }, a.Admin.Token},
		{"legal hold on a patient", "POST", "/v1/legal-holds", func(id uuid.UUID) any { return map[string]any{"patient_id": id, "reason": "x"} }, a.Admin.Token},
		{"case for a patient", "POST", "/v1/cases", func(id uuid.UUID) any { return map[string]any{"patient_id": id, "title": "x"} }, a.Lead.Token},
	}
	for _, c := range bodies {
		s1, b1 := w.request(c.method, c.path, c.actor, c.body(b.P1))
		if c.name == "legal hold on a case" {
			s1, b1 = w.request(c.method, c.path, c.actor, c.body(kase.ID))
		}
		s2, b2 := w.request(c.method, c.path, c.actor, c.body(none))
		if s1.StatusCode != s2.StatusCode || s1.StatusCode < 400 || problemCode(t, b1) != problemCode(t, b2) {
			t.Errorf("%s: another org's id answers %d %s, an unknown id %d %s", c.name, s1.StatusCode, b1, s2.StatusCode, b2)
		}
	}
	for _, q := range []string{"/v1/cases?patient_id=%s", "/v1/audit/events?patient_id=%s"} {
		r1, b1 := w.request("GET", sprintf(q, b.P1), a.Admin.Token, nil)
		r2, b2 := w.request("GET", sprintf(q, none), a.Admin.Token, nil)
		if r1.StatusCode != r2.StatusCode || string(b1[:min(len(b1), 20)]) != string(b2[:min(len(b2), 20)]) {
			t.Errorf("GET %s: another org's id answers %d %s, an unknown id %d %s", q, r1.StatusCode, b1, r2.StatusCode, b2)
		}
	}
	for _, c := range cases {
		do := func(id uuid.UUID) (int, string, string) {
			resp, body := w.request(c.method, sprintf(c.path, id), c.actor, c.body)
			code := ""
			if resp.StatusCode >= 400 {
				code = problemCode(t, body)
			}
			return resp.StatusCode, code, string(body)
		}
		s1, c1, b1 := do(c.real)
		s2, c2, b2 := do(none)
		if s1 != s2 || c1 != c2 {
			t.Errorf("%s: another org's id answers %d %s (%s), an unknown id %d %s (%s)", c.name, s1, c1, b1, s2, c2, b2)
		}
	}
}

func sprintf(format string, id uuid.UUID) string { return fmt.Sprintf(format, id.String()) }
