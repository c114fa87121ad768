package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

type scimGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	ExternalID  string `json:"externalId"`
	Members     []struct {
		Value string `json:"value"`
		Ref   string `json:"$ref"`
	} `json:"members"`
	Meta struct {
		ResourceType string `json:"resourceType"`
	} `json:"meta"`
}

// memberRole is user's role in org as the JSON API lists it.
func (w *world) memberRole(o *org, user string) string {
	w.t.Helper()
	var ms struct {
		Members []struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		} `json:"members"`
	}
	w.do("GET", "/v1/members", o.Admin.Token, nil, http.StatusOK, &ms)
	for _, m := range ms.Members {
		if m.UserID == user {
			return m.Role
		}
	}
	w.t.Fatalf("no member %s", user)
	return ""
}

// TestSCIMGroups replays Okta's group push (create with members, PATCH add
// and remove members[value eq], rename with a no-path replace) and Entra
// ID's member PATCHes, with the group mapped to a Ward role by an admin:
// roles follow the mapped groups, and a role change ends the member's
// sessions.
func TestSCIMGroups(t *testing.T) {
	w := newWorld(t)
	a, b := w.createOrg("Groups A"), w.createOrg("Groups B")
	w.populate(a, "ga")
	tok, tokB := w.createSCIMToken(a, "").Secret, w.createSCIMToken(b, "").Secret
	var alice, bob scimUser
	w.scim("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "alice@groups.test", "active": true}`, http.StatusCreated, &alice)
	w.scim("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "bob@groups.test", "active": true}`, http.StatusCreated, &bob)

	var g scimGroup
	w.scim("POST", "/scim/v2/Groups", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "displayName": "Cardiology Leads", "members": [{"value": "`+alice.ID+`", "display": "alice@groups.test"}]}`,
		http.StatusCreated, &g)
	if g.DisplayName != "Cardiology Leads" || len(g.Members) != 1 || g.Members[0].Value != alice.ID || g.Meta.ResourceType != "Group" {
		t.Fatalf("created %+v", g)
	}
	var gl struct {
		TotalResults int         `json:"totalResults"`
		Resources    []scimGroup `json:"Resources"`
	}
	w.scim("GET", "/scim/v2/Groups?filter=displayName%20eq%20%22cardiology%20leads%22&excludedAttributes=members", tok, "",
		http.StatusOK, &gl)
	if gl.TotalResults != 1 || gl.Resources[0].ID != g.ID {
		t.Fatalf("lookup %+v", gl)
	}
	// An unmapped group changes nobody's role.
	if r := w.memberRole(a, alice.ID); r != "provider" {
		t.Fatalf("alice is %s", r)
	}
	aliceSession := w.operatorSignIn("alice@groups.test", a.ID)

	// The admin maps the group to lead: Alice becomes a lead, and signs in
	// again.
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", a.Admin.Token, map[string]any{"role": "lead"}, http.StatusNoContent, nil)
	if r := w.memberRole(a, alice.ID); r != "lead" {
		t.Fatalf("alice is %s after the mapping", r)
	}
	if resp, _ := w.request("GET", "/v1/me", aliceSession, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session from before a role change: status %d", resp.StatusCode)
	}
	var maps struct {
		Groups []struct {
			ID      string `json:"id"`
			Role    string `json:"role"`
			Members int    `json:"members"`
		} `json:"scim_groups"`
	}
	w.do("GET", "/v1/scim/groups", a.Admin.Token, nil, http.StatusOK, &maps)
	if len(maps.Groups) != 1 || maps.Groups[0].Role != "lead" || maps.Groups[0].Members != 1 {
		t.Fatalf("mappings %+v", maps)
	}
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", a.Lead.Token, map[string]any{"role": "admin"}, http.StatusForbidden, nil)
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", a.Admin.Token, map[string]any{"role": "patient"}, http.StatusBadRequest, nil)
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", b.Admin.Token, map[string]any{"role": "admin"}, http.StatusNotFound, nil)

	// Okta adds Bob, removes Alice, renames the group.
	w.scim("PATCH", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "add", "path": "members", "value": [{"value": "`+bob.ID+`", "display": "bob@groups.test"}]}]}`,
		http.StatusOK, &g)
	w.scim("PATCH", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "remove", "path": "members[value eq \"`+alice.ID+`\"]"}]}`, http.StatusOK, &g)
	w.scim("PATCH", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "value": {"id": "`+g.ID+`", "displayName": "Cardio Leads"}}]}`, http.StatusOK, &g)
	if g.DisplayName != "Cardio Leads" || len(g.Members) != 1 || g.Members[0].Value != bob.ID {
		t.Fatalf("after Okta's PATCHes %+v", g)
	}
	if ra, rb := w.memberRole(a, alice.ID), w.memberRole(a, bob.ID); ra != "provider" || rb != "lead" {
		t.Fatalf("alice %s, bob %s", ra, rb)
	}

	// Entra ID removes and adds members by value lists.
	w.scim("PATCH", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "`+bob.ID+`"}]},
	                 {"op": "Add", "path": "members", "value": [{"value": "`+alice.ID+`"}]}]}`, http.StatusOK, &g)
	if ra, rb := w.memberRole(a, alice.ID), w.memberRole(a, bob.ID); ra != "lead" || rb != "provider" {
		t.Fatalf("after Entra's PATCH: alice %s, bob %s", ra, rb)
	}

	// The highest mapped role wins; unmapping falls back.
	var admins scimGroup
	w.scim("POST", "/scim/v2/Groups", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "displayName": "Ward Admins", "externalId": "grp-1", "members": [{"value": "`+alice.ID+`"}]}`, http.StatusCreated, &admins)
	w.do("PUT", "/v1/scim/groups/"+admins.ID+"/role", a.Admin.Token, map[string]any{"role": "admin"}, http.StatusNoContent, nil)
	if r := w.memberRole(a, alice.ID); r != "admin" {
		t.Fatalf("alice is %s in the admins group", r)
	}
	w.do("PUT", "/v1/scim/groups/"+admins.ID+"/role", a.Admin.Token, map[string]any{"role": nil}, http.StatusNoContent, nil)
	if r := w.memberRole(a, alice.ID); r != "lead" {
		t.Fatalf("alice is %s after unmapping the admins group", r)
	}

	// Members are Users of the org: no patient, no stranger.
	w.scimError("PATCH", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "add", "path": "members", "value": [{"value": "`+a.PatUser.ID.String()+`"}]}]}`,
		http.StatusBadRequest, "invalidValue")
	w.scimError("POST", "/scim/v2/Groups", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "displayName": "X", "members": [{"value": "`+uuid.NewString()+`"}]}`, http.StatusBadRequest, "invalidValue")
	w.scimError("POST", "/scim/v2/Groups", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "displayName": "cardio leads"}`, http.StatusConflict, "uniqueness")
	w.scimError("GET", "/scim/v2/Groups?filter=displayName%20co%20%22x%22", tok, "", http.StatusBadRequest, "invalidFilter")
	// Another org's token: 404, and its list is empty.
	w.scimError("GET", "/scim/v2/Groups/"+g.ID, tokB, "", http.StatusNotFound, "")
	w.scimError("DELETE", "/scim/v2/Groups/"+g.ID, tokB, "", http.StatusNotFound, "")
	w.scimError("PATCH", "/scim/v2/Groups/"+g.ID, tokB, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "add", "path": "members", "value": [{"value": "`+bob.ID+`"}]}]}`, http.StatusNotFound, "")
	w.scim("GET", "/scim/v2/Groups", tokB, "", http.StatusOK, &gl)
	if gl.TotalResults != 0 {
		t.Fatalf("org B lists %+v", gl)
	}

	// PUT replaces the members; DELETE gives them their fallback role.
	w.scim("PUT", "/scim/v2/Groups/"+g.ID, tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "displayName": "Cardio Leads", "members": [{"value": "`+alice.ID+`"}, {"value": "`+bob.ID+`"}]}`, http.StatusOK, &g)
	if len(g.Members) != 2 || w.memberRole(a, bob.ID) != "lead" {
		t.Fatalf("after PUT %+v", g)
	}
	w.scim("DELETE", "/scim/v2/Groups/"+g.ID, tok, "", http.StatusNoContent, nil)
	w.scimError("GET", "/scim/v2/Groups/"+g.ID, tok, "", http.StatusNotFound, "")
	if ra, rb := w.memberRole(a, alice.ID), w.memberRole(a, bob.ID); ra != "provider" || rb != "provider" {
		t.Fatalf("after DELETE: alice %s, bob %s", ra, rb)
	}
	if n := w.auditCount(a.ID, "scim.user.role", "success"); n != 10 {
		t.Fatalf("%d scim.user.role events, want 10", n)
	}
	if n := w.auditCount(a.ID, "scim.group.role", "success"); n != 3 {
		t.Fatalf("%d scim.group.role events, want 3", n)
	}
}
