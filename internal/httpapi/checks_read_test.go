package httpapi_test

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/auth"
)

// TestKeptReadRoutes: the GET routes marked kept(...) in routes.go (no
// body, no call out, the database reached through tenant transactions
// bound to the request's credential) serve a session or an API key this
// process checked in full less than 30 s ago with its kept principal, and
// their first tenant transaction takes the check over: no full check, no
// check in a round trip of its own. A session or key revoked behind the
// server's back gets its 401 and an admin demoted behind its back the
// route's 403, each after one kept principal found stale and a full check.
func TestKeptReadRoutes(t *testing.T) {
	w := newWorld(t, withUnboundOrgs()) // bearer sessions: a DPoP-bound one is never kept
	o := w.createOrg("Kept Reads")
	w.populate(o, "krr")
	ctx := context.Background()
	membersKey := w.createKey(o, auth.ScopeMembers).Key
	auditKey := w.createKey(o, auth.ScopeAuditRead).Key
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Kept reads"},
		http.StatusCreated, &kase)
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Lead.Token, nil, http.StatusOK, nil)
	dsrKey := w.createKey(o, auth.ScopeDSR).Key
	var dsr dsrJSON
	w.do("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1},
		http.StatusCreated, &dsr)
	w.integrate() // a signed checkpoint, for the proofs and the access report

	routes := []struct {
		pattern, path, who, token string
	}{
		{"GET /v1/auth/passkeys", "/v1/auth/passkeys", "lead", o.Lead.Token},
		{"GET /v1/sessions", "/v1/sessions", "lead", o.Lead.Token},
		{"GET /v1/org/session-policy", "/v1/org/session-policy", "provider", o.Prov.Token},
		{"GET /v1/org/assurance-policy", "/v1/org/assurance-policy", "provider", o.Prov.Token},
		{"GET /v1/org/risk-policy", "/v1/org/risk-policy", "provider", o.Prov.Token},
		{"GET /v1/org/device-binding-policy", "/v1/org/device-binding-policy", "provider", o.Prov.Token},
		{"GET /v1/org/break-glass/users", "/v1/org/break-glass/users", "admin", o.Admin.Token},
		{"GET /v1/org/break-glass/activations", "/v1/org/break-glass/activations", "admin", o.Admin.Token},
		{"GET /v1/members", "/v1/members", "admin", o.Admin.Token},
		{"GET /v1/members", "/v1/members", "members key", membersKey},
		{"GET /v1/api-keys", "/v1/api-keys", "admin", o.Admin.Token},
		{"GET /v1/scim/tokens", "/v1/scim/tokens", "admin", o.Admin.Token},
		{"GET /v1/scim/groups", "/v1/scim/groups", "admin", o.Admin.Token},
		{"GET /v1/sso/connections", "/v1/sso/connections", "admin", o.Admin.Token},
		{"GET /v1/sso/domains", "/v1/sso/domains", "admin", o.Admin.Token},
		{"GET /v1/org/sso-policy", "/v1/org/sso-policy", "provider", o.Prov.Token},
		{"GET /v1/patients/{id}/access-report", "/v1/patients/" + o.P1.String() + "/access-report", "patient", o.PatUser.Token},
		{"GET /v1/patients/{id}/disclosures", "/v1/patients/" + o.P1.String() + "/disclosures", "patient", o.PatUser.Token},
		{"GET /v1/cases/{id}/invites", "/v1/cases/" + kase.ID.String() + "/invites", "lead", o.Lead.Token},
		{"GET /v1/legal-holds", "/v1/legal-holds", "admin", o.Admin.Token},
		{"GET /v1/compliance/dsr", "/v1/compliance/dsr", "dsr key", dsrKey},
		{"GET /v1/compliance/dsr/{id}", "/v1/compliance/dsr/" + dsr.ID.String(), "patient", o.PatUser.Token},
		{"GET /v1/audit/events", "/v1/audit/events", "admin", o.Admin.Token},
		{"GET /v1/audit/events", "/v1/audit/events?limit=5", "audit key", auditKey},
		{"GET /v1/audit/checkpoint", "/v1/audit/checkpoint", "patient", o.PatUser.Token},
		{"GET /v1/audit/checkpoint", "/v1/audit/checkpoint", "audit key", auditKey},
		{"GET /v1/audit/proof/inclusion", "/v1/audit/proof/inclusion?seq=1", "admin", o.Admin.Token},
		{"GET /v1/audit/proof/consistency", "/v1/audit/proof/consistency?from=1", "audit key", auditKey},
		{"GET /v1/audit/sinks", "/v1/audit/sinks", "admin", o.Admin.Token},
		{"GET /v1/org/gateway-policy", "/v1/org/gateway-policy", "provider", o.Prov.Token},
		{"GET /v1/org/retention-policy", "/v1/org/retention-policy", "provider", o.Prov.Token},
		{"GET /v1/org/retention-policy/preview", "/v1/org/retention-policy/preview", "admin", o.Admin.Token},
		{"GET /v1/compliance/report", "/v1/compliance/report", "admin", o.Admin.Token},
	}

	t.Run("every such route is here", func(t *testing.T) {
		src, err := os.ReadFile("routes.go")
		if err != nil {
			t.Fatal(err)
		}
		var marked, tested []string
		for _, m := range regexp.MustCompile(`\.route\("([A-Z]+ [^"]+)", kept\(`).FindAllStringSubmatch(string(src), -1) {
			marked = append(marked, m[1])
		}
		for _, r := range routes {
			if !slices.Contains(tested, r.pattern) {
				tested = append(tested, r.pattern)
			}
		}
		slices.Sort(marked)
		slices.Sort(tested)
		if len(marked) == 0 || !slices.Equal(marked, tested) {
			t.Errorf("routes marked kept in routes.go %v, tested here %v", marked, tested)
		}
	})

	t.Run("kept, confirmed in the first transaction", func(t *testing.T) {
		for _, r := range routes {
			w.do("GET", r.path, r.token, nil, http.StatusOK, nil) // a full check, or kept already
			before := w.auth.CheckStats()
			if resp, body := w.request("GET", r.path, r.token, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s by the %s: %d %s", r.pattern, r.who, resp.StatusCode, body)
			}
			if d := w.checksSince(before); d.Kept != 1 || d.Full != 0 || d.Alone != 0 || d.Stale != 0 {
				t.Errorf("%s by the %s with a kept principal: %+v, want one kept check taken over by its transaction",
					r.pattern, r.who, d)
			}
		}
		// A query refused before any transaction is confirmed on its own
		// before the answer, and answered.
		before := w.auth.CheckStats()
		if resp, body := w.request("GET", "/v1/audit/proof/inclusion?seq=x", o.Admin.Token, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a malformed seq: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Alone != 1 || d.Stale != 0 {
			t.Errorf("a malformed query with a kept principal: %+v, want its check alone", d)
		}
	})

	revoked := func(t *testing.T, what, path, token, table, column string) {
		t.Helper()
		w.do("GET", path, token, nil, http.StatusOK, nil)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.`+table+` set revoked_at = now()
			where `+column+` = sha256($1::bytea)`, []byte(token)); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		if resp, body := w.request("GET", path, token, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a %s revoked behind the server's back reads %s: %d %s", what, path, resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a revoked %s: %+v, want kept, found stale, then a full check", what, d)
		}
	}
	t.Run("a revoked session", func(t *testing.T) {
		revoked(t, "session", "/v1/sessions", o.Prov2.Token, "sessions", "token_hash")
	})
	t.Run("a revoked API key", func(t *testing.T) {
		revoked(t, "key", "/v1/members", membersKey, "api_keys", "key_hash")
	})

	// A handler that answers a refusal of its own after a transaction took
	// the check over and found it stale (the access report refuses a
	// provider, and its denial's write is where the check ran) answers
	// nothing of it: the full check answers the revoked session's 401.
	t.Run("a refusal on a stale principal is not answered", func(t *testing.T) {
		report := "/v1/patients/" + o.P1.String() + "/access-report"
		w.do("GET", report, o.Prov.Token, nil, http.StatusForbidden, nil) // kept
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Prov.Token)); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		if resp, body := w.request("GET", report, o.Prov.Token, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a provider's session revoked behind the server's back reads the access report: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a refusal on a stale principal: %+v, want kept, found stale, then a full check", d)
		}
	})

	t.Run("an admin demoted behind the server's back", func(t *testing.T) {
		w.do("GET", "/v1/audit/events", o.Admin.Token, nil, http.StatusOK, nil)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.memberships set role = 'lead'
			where user_id = $1 and org_id = $2`, o.Admin.ID, o.ID); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		resp, body := w.request("GET", "/v1/audit/events", o.Admin.Token, nil)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), `"events"`) {
			t.Errorf("a demoted admin reads the audit log: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a demoted admin: %+v, want kept, found stale, then a full check", d)
		}
	})
}
