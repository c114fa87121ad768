package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// An attacker's spellings of a role name sent to the member-update route
// by an admin and by a key with the members scope: a Cyrillic look-alike,
// other cases, trailing space and zero-width characters, full-width
// letters, empty, null and a non-string. Each is a 400 problem (never a
// 200 nor a 500) and the member's role is unchanged.
func TestAdminAttackRoleLookalikes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Lookalike Org")
	w.populate(o, "look")
	key := w.createKey(o, auth.ScopeMembers)
	path := "/v1/members/" + o.Prov.ID.String()
	roles := []any{"\u0430dmin", "Admin", "ADMIN", "admin ", " admin", "admin\u200b", "\u200badmin",
		"\uff41\uff44\uff4d\uff49\uff4e", "le\u0430d", "", nil, 7, []string{"admin"}, map[string]string{"role": "admin"}}
	for _, tok := range []struct{ name, token string }{{"admin", o.Admin.Token}, {"members key", key.Key}} {
		for _, r := range roles {
			resp, body := w.request("PATCH", path, tok.token, map[string]any{"role": r})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s sets role %q: %d %s, want 400", tok.name, r, resp.StatusCode, body)
				continue
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s sets role %q: content type %q", tok.name, r, ct)
			}
		}
	}
	var role string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select role from app.memberships
		where org_id = $1 and user_id = $2 and revoked_at is null`, o.ID, o.Prov.ID).Scan(&role); err != nil {
		t.Fatal(err)
	}
	if role != "provider" {
		t.Fatalf("the provider's role is now %q", role)
	}
}

// Malformed session policies (nulls, negatives, strings, arrays, missing
// fields, unknown fields) are 400 problems and leave the policy as it was.
func TestAdminAttackSessionPolicyShapes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shapes Org")
	before := w.do("GET", "/v1/org/session-policy", o.Admin.Token, nil, http.StatusOK, nil)
	for _, b := range []string{
		`{"session_idle_timeout_min":null,"session_absolute_max_min":60}`,
		`{"session_idle_timeout_min":5,"session_absolute_max_min":null}`,
		`{"session_idle_timeout_min":-5,"session_absolute_max_min":60}`,
		`{"session_idle_timeout_min":5,"session_absolute_max_min":-60}`,
		`{"session_idle_timeout_min":"5","session_absolute_max_min":60}`,
		`{"session_idle_timeout_min":[5],"session_absolute_max_min":60}`,
		`{"session_idle_timeout_min":5.5,"session_absolute_max_min":60}`,
		`{"session_idle_timeout_min":5}`,
		`{}`,
		`null`,
		`[]`,
		`{"session_idle_timeout_min":5,"session_absolute_max_min":60,"session_absolute_max_min":99999999}`,
		`{"session_idle_timeout_min":5,"session_absolute_max_min":60,"floor":0}`,
	} {
		resp, body := w.request("PUT", "/v1/org/session-policy", o.Admin.Token, json.RawMessage(b))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", b, resp.StatusCode, body)
		}
	}
	after := w.do("GET", "/v1/org/session-policy", o.Admin.Token, nil, http.StatusOK, nil)
	if string(after) != string(before) {
		t.Fatalf("the policy changed: %s → %s", before, after)
	}
}

// No API key, whatever its scope, changes an org policy: each policy route
// takes sessions only and answers 403.
func TestAdminAttackKeysSetNoPolicy(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Keys Org")
	bodies := map[string]any{
		"/v1/org/session-policy":        map[string]int{"session_idle_timeout_min": 480, "session_absolute_max_min": 10080},
		"/v1/org/assurance-policy":      map[string]bool{"require_mfa": false, "require_passkey": false},
		"/v1/org/risk-policy":           map[string]any{},
		"/v1/org/device-binding-policy": map[string]any{"required_for": []string{}},
	}
	for _, scope := range []string{auth.ScopeMembers, auth.ScopeAuditRead, auth.ScopeDSR, auth.ScopeGateway} {
		k := w.createKey(o, scope)
		for path, b := range bodies {
			resp, body := w.request("PUT", path, k.Key, b)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "credential_not_accepted") {
				t.Errorf("%s key PUT %s: %d %s, want 403 credential_not_accepted", scope, path, resp.StatusCode, body)
			}
		}
	}
}

// API keys beyond what an admin may grant: an expiry past a year, in the
// past or not a time; unknown, look-alike or empty scopes. Each is a 400
// problem and no key is made. A huge list repeating one scope makes a key
// with that scope once, nothing more.
func TestAdminAttackKeyShapes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Key Shapes Org")
	far := time.Now().AddDate(1, 0, 2).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	huge := make([]string, 5000)
	for i := range huge {
		huge[i] = auth.ScopeMembers
	}
	for name, b := range map[string]map[string]any{
		"expiry past a year": {"name": "k", "scopes": []string{auth.ScopeMembers}, "expires_at": far},
		"expiry in 9999":     {"name": "k", "scopes": []string{auth.ScopeMembers}, "expires_at": "9999-12-31T23:59:59Z"},
		"expiry in the past": {"name": "k", "scopes": []string{auth.ScopeMembers}, "expires_at": past},
		"expiry not a time":  {"name": "k", "scopes": []string{auth.ScopeMembers}, "expires_at": "tomorrow"},
		"expiry as a number": {"name": "k", "scopes": []string{auth.ScopeMembers}, "expires_at": 1e12},
		"unknown scope":      {"name": "k", "scopes": []string{"admin"}},
		"wildcard scope":     {"name": "k", "scopes": []string{"*"}},
		"look-alike scope":   {"name": "k", "scopes": []string{"m\u0435mbers"}},
		"cased scope":        {"name": "k", "scopes": []string{"Members"}},
		"scope with a space": {"name": "k", "scopes": []string{"members "}},
		"no scopes":          {"name": "k", "scopes": []string{}},
		"null scopes":        {"name": "k", "scopes": nil},
		"scopes as a string": {"name": "k", "scopes": "members"},
	} {
		resp, body := w.request("POST", "/v1/api-keys", o.Admin.Token, b)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, body)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.api_keys where org_id = $1`,
		o.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d keys were made", n)
	}
	var k auth.CreatedAPIKey
	w.do("POST", "/v1/api-keys", o.Admin.Token, map[string]any{"name": "k", "scopes": huge}, http.StatusCreated, &k)
	if len(k.Scopes) != 1 || k.Scopes[0] != auth.ScopeMembers {
		t.Fatalf("a repeated scope made a key with scopes %v", k.Scopes)
	}
	// The creation event records the scopes the key holds, not the request's
	// list (5,000 entries in one audit event, and a record that differs
	// from the key).
	var logged string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select details->>'scopes' from audit.events
		where org_id = $1 and action = 'auth.api_key.create' and object_id = $2`, o.ID, k.ID).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if logged != `["members"]` {
		t.Fatalf("the creation event records scopes %.80s…", logged)
	}
}

// A break-glass session (an admin's, so the role passes) changes none of
// the org's configuration on any admin route: each answers 403
// break_glass_not_allowed, whatever the body.
func TestAdminAttackBreakGlassConfiguresNothing(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Glass Config Org")
	w.populate(o, "gcfg")
	admin := w.operatorSignIn(o.Admin.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.sessions set break_glass = true, amr = '{passkey}',
	    idle_timeout_min = 60, absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes')
	    where token_hash = sha256($1::bytea)`, []byte(admin)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/v1/org/risk-policy", map[string]any{}},
		{"PUT", "/v1/org/retention-policy", map[string]any{}},
		{"PUT", "/v1/org/gateway-policy", map[string]any{}},
		{"PUT", "/v1/org/sso-policy", map[string]any{}},
		{"PUT", "/v1/org/device-binding-policy", map[string]any{"required_for": []string{}}},
		{"PUT", "/v1/org/break-glass/users/" + o.Lead.ID.String(), nil},
		{"DELETE", "/v1/org/break-glass/users/" + o.Lead.ID.String(), nil},
		{"POST", "/v1/members", map[string]any{"email": "glass-new@example.test", "role": "provider", "invite": false}},
		{"PATCH", "/v1/members/" + o.Prov.ID.String(), map[string]any{"role": "lead"}},
		{"DELETE", "/v1/members/" + o.Prov.ID.String(), nil},
		{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "glass", "endpoint": "siem.example:6514"}},
	} {
		resp, b := w.request(r.method, r.path, admin, r.body)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "break_glass_not_allowed" {
			t.Errorf("%s %s from break-glass: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}
	var role string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select role from app.memberships
		where org_id = $1 and user_id = $2 and revoked_at is null`, o.ID, o.Prov.ID).Scan(&role); err != nil || role != "provider" {
		t.Fatalf("the provider's membership: %q %v", role, err)
	}
}

// An admin whose second factor is older than ten minutes changes nothing
// on any admin route: each answers 403 step_up_required, and nothing is
// made (no key, no sink, no member).
func TestAdminAttackStaleStepUp(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Stale Org")
	w.populate(o, "stale")
	w.age(o.Admin.Token, 11*time.Minute)
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/v1/org/session-policy", map[string]int{"session_idle_timeout_min": 480, "session_absolute_max_min": 10080}},
		{"PUT", "/v1/org/assurance-policy", map[string]bool{"require_mfa": false, "require_passkey": false}},
		{"PUT", "/v1/org/risk-policy", map[string]any{}},
		{"PUT", "/v1/org/device-binding-policy", map[string]any{"required_for": []string{}}},
		{"PUT", "/v1/org/retention-policy", map[string]any{}},
		{"PUT", "/v1/org/gateway-policy", map[string]any{}},
		{"PUT", "/v1/org/sso-policy", map[string]any{}},
		{"PUT", "/v1/org/break-glass/users/" + o.Lead.ID.String(), nil},
		{"POST", "/v1/members", map[string]any{"email": "stale-new@example.test", "role": "admin", "invite": false}},
		{"PATCH", "/v1/members/" + o.Prov.ID.String(), map[string]any{"role": "admin"}},
		{"DELETE", "/v1/members/" + o.Prov.ID.String(), nil},
		{"POST", "/v1/api-keys", map[string]any{"name": "stale", "scopes": []string{auth.ScopeMembers}}},
		{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "stale", "endpoint": "siem.example:6514"}},
	} {
		resp, b := w.request(r.method, r.path, o.Admin.Token, r.body)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "step_up_required" {
			t.Errorf("%s %s with a stale second factor: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}
	var keys, sinks, members int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select
		(select count(*) from app.api_keys where org_id = $1),
		(select count(*) from app.audit_sinks where org_id = $1),
		(select count(*) from app.memberships where org_id = $1 and (role = 'admin' or revoked_at is not null))`,
		o.ID).Scan(&keys, &sinks, &members); err != nil {
		t.Fatal(err)
	}
	if keys != 0 || sinks != 0 || members != 1 {
		t.Fatalf("keys %d, sinks %d, admins or revoked members %d (want 0, 0, 1)", keys, sinks, members)
	}
}
