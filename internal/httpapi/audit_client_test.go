package httpapi_test

import (
	"context"
	"net/http"
	"testing"
)

// TestAuditEventsRecordClient: every audit event a request writes records
// the request's client address and User-Agent, those the SQL procedures
// write (a member added, an API key and a SCIM token created, the session
// policy changed) as those the server writes itself, whether the
// User-Agent can stand in the one-round-trip literal binding or holds a
// quote and a backslash (bound as a parameter).
func TestAuditEventsRecordClient(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Client Org")
	for _, ua := range []string{"WardTest/1.0 (plain)", `WardTest/2.0 (it's "quoted"; C:\agent\path)`} {
		for _, step := range []struct {
			method, path string
			body         any
			status       int
			action       string
		}{
			{"POST", "/v1/members", map[string]any{"email": "client-" + ua[9:10] + "@example.test", "role": "provider", "invite": false},
				http.StatusCreated, "membership.add"},
			{"POST", "/v1/api-keys", map[string]any{"name": "job " + ua[9:10], "scopes": []string{"members"}},
				http.StatusCreated, "auth.api_key.create"},
			{"POST", "/v1/scim/tokens", map[string]any{"name": "directory " + ua[9:10], "default_role": "provider"},
				http.StatusCreated, "scim.token.create"},
			{"PUT", "/v1/org/session-policy", map[string]int{"session_idle_timeout_min": 30, "session_absolute_max_min": 60},
				http.StatusOK, "org.session_policy.update"},
			{"GET", "/v1/members", nil, http.StatusOK, ""},
		} {
			resp, b := w.request(step.method, step.path, o.Admin.Token, step.body, "User-Agent", ua)
			if resp.StatusCode != step.status {
				t.Fatalf("%s %s: %d %s", step.method, step.path, resp.StatusCode, b)
			}
			rows, err := w.env.Super.Pool.Query(context.Background(),
				`select action, coalesce(ip, ''), coalesce(user_agent, '') from audit.events
				  where org_id = $1 and request_id = $2`, o.ID, resp.Header.Get("X-Request-Id"))
			if err != nil {
				t.Fatal(err)
			}
			var n int
			seen := false
			for rows.Next() {
				var action, ip, agent string
				if err := rows.Scan(&action, &ip, &agent); err != nil {
					t.Fatal(err)
				}
				n++
				seen = seen || action == step.action
				if ip != "127.0.0.1" || agent != ua {
					t.Errorf("%s %s (%s): %s recorded ip %q, user agent %q", step.method, step.path, ua, action, ip, agent)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n == 0 || (step.action != "" && !seen) {
				t.Errorf("%s %s: %d events, %s among them: %v", step.method, step.path, n, step.action, seen)
			}
		}
	}
}
