package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
)

const (
	patchActiveTrue = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "active", "value": true}]}`
	patchActiveFalse = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "active", "value": false}]}`
)

// TestSCIMRevival replays a security review's finding (HIGH): an admin made
// a SCIM token, the org fired them (DELETE /v1/members), and their own
// token's PATCH active:true gave them their admin membership back. Now
// the fired admin's token ends with their membership, no other token
// brings back a member an admin revoked (PATCH, PUT, or DELETE and POST:
// 400 mutability), and the directory's own deprovisioning still round
// trips, never back to admin.
func TestSCIMRevival(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Revival Org")
	w.populate(a, "rv")
	ctx := context.Background()
	membership := func(id string) string {
		t.Helper()
		var got string
		if err := w.env.Super.Pool.QueryRow(ctx, `select role || '/' || (revoked_at is not null)::text || '/' ||
			coalesce(revoked_via, '-') from app.memberships where org_id = $1 and user_id = $2`, a.ID, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	role := func(token string) identity.Role {
		t.Helper()
		var me struct {
			Role identity.Role `json:"role"`
		}
		w.do("GET", "/v1/me", token, nil, http.StatusOK, &me)
		return me.Role
	}

	// 1. A second admin (with a second factor) makes an innocent token.
	admin2 := w.addMember(a, "rv-admin2@example.test", identity.RoleAdmin)
	var own scim.CreatedToken
	w.do("POST", "/v1/scim/tokens", admin2.Token, map[string]any{"name": "innocent", "default_role": "provider"},
		http.StatusCreated, &own)
	path2 := "/scim/v2/Users/" + admin2.ID.String()
	w.scim("GET", path2, own.Secret, "", http.StatusOK, nil)

	// 2. The org's admin fires them: their session ends, and so does the
	// SCIM token they made, in the same request.
	w.do("DELETE", "/v1/members/"+admin2.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	if resp, _ := w.request("GET", "/v1/me", admin2.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a fired admin's session: status %d, want 401", resp.StatusCode)
	}
	var ts struct {
		Tokens []scim.Token `json:"scim_tokens"`
	}
	w.do("GET", "/v1/scim/tokens", a.Admin.Token, nil, http.StatusOK, &ts)
	if len(ts.Tokens) != 1 || ts.Tokens[0].ID != own.ID || ts.Tokens[0].RevokedAt == nil {
		t.Fatalf("the fired admin's token: %+v", ts.Tokens)
	}
	if n := w.auditCount(a.ID, "scim.token.revoke", "success"); n != 1 {
		t.Fatalf("%d scim.token.revoke events, want 1", n)
	}

	// 3. Their token no longer revives them.
	w.scimError("PATCH", path2, own.Secret, patchActiveTrue, http.StatusUnauthorized, "")
	if got := membership(admin2.ID.String()); got != "admin/true/admin" {
		t.Fatalf("the fired admin after their token's PATCH: %s", got)
	}

	// Nor does the org's directory token, any way a directory asks: PATCH,
	// PUT (active true when absent), or DELETE and create again.
	dir := w.createSCIMToken(a, "lead").Secret
	w.scimError("PATCH", path2, dir, patchActiveTrue, http.StatusBadRequest, "mutability")
	w.scimError("PUT", path2, dir, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+admin2.Email+`", "name": {"givenName": "Eve"}}`, http.StatusBadRequest, "mutability")
	// Deactivating them again, or renaming them inactive, is no revival.
	w.scim("PATCH", path2, dir, patchActiveFalse, http.StatusOK, nil)
	w.scim("PUT", path2, dir, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+admin2.Email+`", "name": {"givenName": "Eve"}, "active": false}`, http.StatusOK, nil)
	w.scim("DELETE", path2, dir, "", http.StatusNoContent, nil)
	w.scimError("POST", "/scim/v2/Users", dir, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+admin2.Email+`", "active": true}`, http.StatusBadRequest, "mutability")
	if got := membership(admin2.ID.String()); got != "admin/true/admin" {
		t.Fatalf("the fired admin after the directory's requests: %s", got)
	}

	// The same for a lead and a provider an admin revoked.
	for _, m := range []*member{a.Lead, a.Prov} {
		w.do("DELETE", "/v1/members/"+m.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
		w.scimError("PATCH", "/scim/v2/Users/"+m.ID.String(), dir, patchActiveTrue, http.StatusBadRequest, "mutability")
		if got := membership(m.ID.String()); got[len(got)-11:] != "/true/admin" {
			t.Fatalf("%s after the directory's PATCH: %s", m.Email, got)
		}
	}
	if n := w.auditCount(a.ID, "scim.user.activate", "success"); n != 0 {
		t.Fatalf("%d scim.user.activate events, want 0", n)
	}
	var refusals int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		and action = 'scim.request.denied' and details->>'reason' = 'mutability'`, a.ID).Scan(&refusals); err != nil || refusals != 5 {
		t.Fatalf("%d refusals recorded (%v), want 5", refusals, err)
	}

	// The directory's own deprovisioning round trips. An admin it
	// deactivates comes back with the token's default role (lead), not as
	// admin; a provider stays a provider under a lead token.
	admin3 := w.addMember(a, "rv-admin3@example.test", identity.RoleAdmin)
	path3 := "/scim/v2/Users/" + admin3.ID.String()
	w.scim("PATCH", path3, dir, patchActiveFalse, http.StatusOK, nil)
	if resp, _ := w.request("GET", "/v1/me", admin3.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a deprovisioned admin's session: status %d, want 401", resp.StatusCode)
	}
	var got scimUser
	w.scim("PATCH", path3, dir, patchActiveTrue, http.StatusOK, &got)
	if !got.Active || len(got.Roles) != 1 || got.Roles[0].Value != "lead" {
		t.Fatalf("a deprovisioned admin reactivated: %+v", got)
	}
	if r := role(w.operatorSignIn(admin3.Email, a.ID)); r != identity.RoleLead {
		t.Fatalf("a deprovisioned admin reactivated signs in as %s", r)
	}
	path4 := "/scim/v2/Users/" + a.Prov2.ID.String()
	w.scim("PATCH", path4, dir, patchActiveFalse, http.StatusOK, nil)
	w.scim("PUT", path4, dir, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+a.Prov2.Email+`", "active": true}`, http.StatusOK, &got)
	if !got.Active || got.Roles[0].Value != "provider" {
		t.Fatalf("a deprovisioned provider reactivated: %+v", got)
	}
	w.scim("DELETE", path4, dir, "", http.StatusNoContent, nil)
	w.scim("POST", "/scim/v2/Users", dir, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+a.Prov2.Email+`", "active": true}`, http.StatusCreated, &got)
	if got.ID != a.Prov2.ID.String() || !got.Active || got.Roles[0].Value != "provider" {
		t.Fatalf("a deleted provider created again: %+v", got)
	}
	if r := role(w.operatorSignIn(a.Prov2.Email, a.ID)); r != identity.RoleProvider {
		t.Fatalf("the provider created again signs in as %s", r)
	}
	if n := w.auditCount(a.ID, "scim.user.activate", "success"); n != 2 {
		t.Fatalf("%d scim.user.activate events, want 2", n)
	}
}
