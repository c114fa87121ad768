package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
)

// createKey creates an API key as o's admin (whose harness session is
// fresh AAL2) and returns it.
func (w *world) createKey(o *org, scopes ...string) auth.CreatedAPIKey {
	w.t.Helper()
	var k auth.CreatedAPIKey
	w.do("POST", "/v1/api-keys", o.Admin.Token, map[string]any{"name": "ci " + strings.Join(scopes, "+"), "scopes": scopes},
		http.StatusCreated, &k)
	if !auth.ValidAPIKey(k.Key) || !strings.HasPrefix(k.Key, k.Prefix) || k.ID == uuid.Nil {
		w.t.Fatalf("created key %+v", k.APIKey)
	}
	return k
}

// keyUses counts org's audit events recorded under the API key.
func (w *world) keyUses(org, key uuid.UUID) int {
	w.t.Helper()
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
		where org_id = $1 and credential_kind = 'api_key' and credential_id = $2`, org, key).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// Admin API keys: created after a step-up, accepted as Bearer and
// x-api-key, scoped, audited with their id on every use, revoked and
// expired keys refused, a typo refused before any lookup, and one org's key
// blind to another org.
func TestAPIKeys(t *testing.T) {
	w := newWorld(t)
	a, b := w.createOrg("Key Org A"), w.createOrg("Key Org B")
	w.populate(a, "ka")
	k := w.createKey(a, auth.ScopeMembers)

	var list struct {
		Keys []map[string]any `json:"api_keys"`
	}
	body := w.do("GET", "/v1/api-keys", a.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Keys) != 1 || list.Keys[0]["prefix"] != k.Prefix || strings.Contains(string(body), k.Key) {
		t.Fatalf("list %s", body)
	}
	// The creation answers the key's stored creation time, the one every
	// later read shows, not the server's clock after the commit.
	if listed, err := time.Parse(time.RFC3339Nano, list.Keys[0]["created_at"].(string)); err != nil ||
		!listed.Equal(k.CreatedAt) {
		t.Errorf("created_at: %v at creation, %v listed (%v)", k.CreatedAt, list.Keys[0]["created_at"], err)
	}

	var members struct {
		Members []auth.Member `json:"members"`
	}
	w.do("GET", "/v1/members", k.Key, nil, http.StatusOK, &members)
	if len(members.Members) != 6 {
		t.Fatalf("members through the key: %d", len(members.Members))
	}
	resp, rb := w.request("GET", "/v1/members", "", nil, "x-api-key", k.Key)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("x-api-key: %d %s", resp.StatusCode, rb)
	}
	w.do("POST", "/v1/members", k.Key, map[string]any{"email": "bykey@example.test", "role": "provider", "invite": false},
		http.StatusCreated, nil)
	for _, c := range []struct{ method, path, code string }{
		{"GET", "/v1/audit/events", "scope_required"},
		{"GET", "/v1/patients", "credential_not_accepted"},
		{"POST", "/v1/api-keys", "credential_not_accepted"},
		{"GET", "/v1/sessions", "credential_not_accepted"},
	} {
		resp, rb := w.request(c.method, c.path, k.Key, map[string]any{"name": "x", "scopes": []string{"members"}})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, rb) != c.code {
			t.Errorf("%s %s with a members key: %d %s", c.method, c.path, resp.StatusCode, rb)
		}
	}
	// member.list ×2, membership.add, and the four refusals, each under the key.
	if n := w.keyUses(a.ID, k.ID); n != 7 {
		t.Errorf("%d events carry the key's id, want 7", n)
	}

	// A key manages patients and providers, never the privileged roles: it
	// cannot add an admin or a lead, promote anyone to one, or change or
	// revoke one. Granting the admin role by PATCH on an admin is refused by
	// the database itself (the server does not know the member's role).
	var added struct {
		UserID uuid.UUID `json:"user_id"`
	}
	w.do("POST", "/v1/members", k.Key, map[string]any{"email": "bykey2@example.test", "role": "patient", "invite": false},
		http.StatusCreated, &added)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/members", map[string]any{"email": "mallory@example.test", "role": "admin", "invite": false}},
		{"POST", "/v1/members", map[string]any{"email": "mallory2@example.test", "role": "lead", "invite": false}},
		{"PATCH", "/v1/members/" + added.UserID.String(), map[string]any{"role": "admin"}},
		{"PATCH", "/v1/members/" + a.Lead.ID.String(), map[string]any{"role": "provider"}},
		{"DELETE", "/v1/members/" + a.Admin.ID.String(), nil},
	} {
		resp, rb := w.request(c.method, c.path, k.Key, c.body)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s %v with a members key: %d %s", c.method, c.path, c.body, resp.StatusCode, rb)
		}
	}
	var role string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select role from app.memberships where org_id = $1 and user_id = $2`,
		a.ID, a.Lead.ID).Scan(&role); err != nil || role != "lead" {
		t.Fatalf("the lead's role after the key's attempt: %q %v", role, err)
	}
	w.do("PATCH", "/v1/members/"+added.UserID.String(), k.Key, map[string]any{"role": "provider"}, http.StatusOK, nil)

	// A typo is refused before any lookup.
	typo := k.Key[:20] + string("01"[boolInt(k.Key[20] == '0')]) + k.Key[21:]
	resp, rb = w.request("GET", "/v1/members", typo, nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, rb) != "api_key_malformed" {
		t.Fatalf("typo: %d %s", resp.StatusCode, rb)
	}

	// Org B's key sees nothing of A, even with A's id as the org hint.
	kb := w.createKey(b, auth.ScopeMembers, auth.ScopeAuditRead)
	resp, _ = w.request("GET", "/v1/members", kb.Key, nil, "Ward-Org", a.ID.String())
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("B's key with A's org hint: %d", resp.StatusCode)
	}
	w.do("GET", "/v1/members", kb.Key, nil, http.StatusOK, &members)
	for _, m := range members.Members {
		if m.Email != "keyorgb-admin@example.test" {
			t.Fatalf("B's key lists %s", m.Email)
		}
	}
	w.do("GET", "/v1/audit/events", kb.Key, nil, http.StatusOK, nil)
	if n := w.phiRows(kb.Key); n != 0 {
		t.Fatalf("B's key reads %d patient rows (A's patients are the only ones)", n)
	}

	// Revoked and expired keys are refused.
	w.do("DELETE", "/v1/api-keys/"+k.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	w.do("DELETE", "/v1/api-keys/"+k.ID.String(), a.Admin.Token, nil, http.StatusNotFound, nil)
	w.do("GET", "/v1/members", k.Key, nil, http.StatusUnauthorized, nil)
	exp := time.Now().Add(time.Hour)
	var ke auth.CreatedAPIKey
	w.do("POST", "/v1/api-keys", a.Admin.Token, map[string]any{"name": "short", "scopes": []string{"members"},
		"expires_at": exp}, http.StatusCreated, &ke)
	w.do("GET", "/v1/members", ke.Key, nil, http.StatusOK, nil)
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.api_keys
		set created_at = now() - interval '2 hours', expires_at = now() - interval '1 minute' where id = $1`, ke.ID); err != nil {
		t.Fatal(err)
	}
	w.do("GET", "/v1/members", ke.Key, nil, http.StatusUnauthorized, nil)
	for _, bad := range []map[string]any{
		{"name": "x", "scopes": []string{"root"}},
		{"name": "x", "scopes": []string{}},
		{"name": "", "scopes": []string{"members"}},
		{"name": "x", "scopes": []string{"members"}, "expires_at": time.Now().Add(-time.Hour)},
		{"name": "x", "scopes": []string{"members"}, "expires_at": time.Now().Add(400 * 24 * time.Hour)},
	} {
		resp, rb := w.request("POST", "/v1/api-keys", a.Admin.Token, bad)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("create %v: %d %s", bad, resp.StatusCode, rb)
		}
	}
	// Creation needs a fresh second factor.
	w.age(a.Admin.Token, 11*time.Minute)
	resp, rb = w.request("POST", "/v1/api-keys", a.Admin.Token, map[string]any{"name": "late", "scopes": []string{"members"}})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, rb) != "step_up_required" {
		t.Fatalf("stale creation: %d %s", resp.StatusCode, rb)
	}
	if n := w.auditCount(a.ID, "auth.api_key.create", "success"); n != 2 {
		t.Errorf("%d key creations audited, want 2", n)
	}
	if strings.Contains(w.logs.String(), k.Key) || strings.Contains(w.logs.String(), kb.Key) {
		t.Error("an API key reached the log")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
