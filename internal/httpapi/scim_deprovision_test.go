package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
)

// TestSCIMDeprovisionEndsAccess: deprovisioning a member through SCIM,
// by PATCH active false or by DELETE, ends in that request their
// sessions (revoked_reason deprovisioned) and revokes the API keys they
// made (the rows, not only their use: a key is revoked, whatever the
// resolver makes of its maker's membership), while another admin's
// session and key go on.
func TestSCIMDeprovisionEndsAccess(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Deprovision Org")
	tok := w.createSCIMToken(a, "")
	key := func(m *member) string {
		t.Helper()
		var k struct {
			Key string `json:"key"`
		}
		w.do("POST", "/v1/api-keys", m.Token, map[string]any{"name": "ops", "scopes": []string{"members"}},
			http.StatusCreated, &k)
		w.do("GET", "/v1/members", k.Key, nil, http.StatusOK, nil)
		return k.Key
	}
	adminKey := key(a.Admin)
	for _, c := range []struct{ name, method, body string }{
		{"patch", "PATCH", `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		  "Operations": [{"op": "replace", "path": "active", "value": false}]}`},
		{"delete", "DELETE", ""},
	} {
		m := w.addMember(a, "dep-"+c.name+"@example.test", identity.RoleAdmin)
		mKey := key(m)
		want := http.StatusOK
		if c.method == "DELETE" {
			want = http.StatusNoContent
		}
		w.scim(c.method, "/scim/v2/Users/"+m.ID.String(), tok.Secret, c.body, want, nil)
		for _, cred := range []string{m.Token, mKey} {
			if resp, body := w.request("GET", "/v1/members", cred, nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: a deprovisioned admin's credential: %d %s", c.name, resp.StatusCode, body)
			}
		}
		var liveSessions, liveKeys, deprovisioned int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select
		      (select count(*) from app.sessions where org_id = $1 and user_id = $2 and revoked_at is null),
		      (select count(*) from app.api_keys where org_id = $1 and created_by = $2 and revoked_at is null),
		      (select count(*) from app.sessions where org_id = $1 and user_id = $2 and revoked_reason = 'deprovisioned')`,
			a.ID, m.ID).Scan(&liveSessions, &liveKeys, &deprovisioned); err != nil {
			t.Fatal(err)
		}
		if liveSessions != 0 || liveKeys != 0 || deprovisioned == 0 {
			t.Fatalf("%s: %d live sessions, %d live API keys, %d sessions ended as deprovisioned",
				c.name, liveSessions, liveKeys, deprovisioned)
		}
		w.do("GET", "/v1/members", a.Admin.Token, nil, http.StatusOK, nil)
		w.do("GET", "/v1/members", adminKey, nil, http.StatusOK, nil)
	}
}
