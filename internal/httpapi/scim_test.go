package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
)

// scimUser is what the tests read of a SCIM User.
type scimUser struct {
	Schemas    []string `json:"schemas"`
	ID         string   `json:"id"`
	ExternalID string   `json:"externalId"`
	UserName   string   `json:"userName"`
	Name       struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
		Formatted  string `json:"formatted"`
	} `json:"name"`
	DisplayName string `json:"displayName"`
	Active      bool   `json:"active"`
	Emails      []struct {
		Value string `json:"value"`
	} `json:"emails"`
	Roles []struct {
		Value string `json:"value"`
	} `json:"roles"`
	Meta struct {
		ResourceType string `json:"resourceType"`
		Location     string `json:"location"`
		Version      string `json:"version"`
	} `json:"meta"`
}

type scimList struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []scimUser `json:"Resources"`
}

type scimErr struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	SCIMType string   `json:"scimType"`
	Detail   string   `json:"detail"`
}

// createSCIMToken makes o's SCIM token as its admin.
func (w *world) createSCIMToken(o *org, role string) scim.CreatedToken {
	w.t.Helper()
	var t scim.CreatedToken
	body := map[string]any{"name": "directory"}
	if role != "" {
		body["default_role"] = role
	}
	w.do("POST", "/v1/scim/tokens", o.Admin.Token, body, http.StatusCreated, &t)
	if !scim.ValidToken(t.Secret) || !strings.HasPrefix(t.Secret, t.Prefix) || t.ID == uuid.Nil {
		w.t.Fatalf("created token %+v", t.Token)
	}
	return t
}

// scimCall sends a raw SCIM request (the body exactly as a directory sends
// it) and returns the status and body.
func (w *world) scimCall(method, path, token, body string) (int, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := httpapi.SendForTest(w.t, w.srv.Client(), req)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNoContent && ct != "application/scim+json" {
		w.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, b
}

// scim sends a SCIM request, requires the status and decodes into out.
func (w *world) scim(method, path, token, body string, want int, out any) []byte {
	w.t.Helper()
	status, b := w.scimCall(method, path, token, body)
	if status != want {
		w.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, b)
	}
	if u, ok := out.(*scimUser); ok {
		*u = scimUser{} // omitted attributes must not keep an earlier answer's values
	}
	if l, ok := out.(*scimList); ok {
		*l = scimList{}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: decode: %v: %s", method, path, err, b)
		}
	}
	return b
}

// scimError requires a SCIM error with status and scimType ("" none).
func (w *world) scimError(method, path, token, body string, status int, scimType string) {
	w.t.Helper()
	var e scimErr
	w.scim(method, path, token, body, status, &e)
	if len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Status != strconv.Itoa(status) ||
		e.SCIMType != scimType {
		w.t.Fatalf("%s %s: error %+v, want status %d scimType %q", method, path, e, status, scimType)
	}
}

func filterQuery(f string) string { return "/scim/v2/Users?filter=" + url.QueryEscape(f) }

// TestSCIMOkta replays the requests Okta's SCIM 2.0 provisioning sends
// (developer.okta.com "SCIM 2.0 protocol"): look up by userName, create,
// read, update the profile with PUT, deactivate and reactivate with a
// PATCH replace without a path, page through the Users.
func TestSCIMOkta(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Okta Org")
	tok := w.createSCIMToken(a, "").Secret

	var list scimList
	w.scim("GET", filterQuery(`userName eq "alice@okta.test"`)+"&startIndex=1&count=100", tok, "", http.StatusOK, &list)
	if list.TotalResults != 0 || len(list.Resources) != 0 || list.Schemas[0] != scim.SchemaListResponse {
		t.Fatalf("lookup before create: %+v", list)
	}
	var alice scimUser
	w.scim("POST", "/scim/v2/Users", tok, `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "Alice@okta.test",
	  "name": {"givenName": "Alice", "familyName": "Ng"},
	  "emails": [{"primary": true, "value": "alice@okta.test", "type": "work"}],
	  "displayName": "Alice Ng",
	  "locale": "en-US",
	  "externalId": "00u1ab2cd3EF4gh5i6j7",
	  "groups": [],
	  "password": "never-stored-1!",
	  "active": true
	}`, http.StatusCreated, &alice)
	if alice.UserName != "alice@okta.test" || alice.Name.GivenName != "Alice" || alice.DisplayName != "Alice Ng" ||
		!alice.Active || alice.ExternalID != "00u1ab2cd3EF4gh5i6j7" || len(alice.Roles) != 1 || alice.Roles[0].Value != "provider" ||
		alice.Meta.ResourceType != "User" || alice.Meta.Location != w.base+"/scim/v2/Users/"+alice.ID ||
		len(alice.Emails) != 1 || alice.Emails[0].Value != "alice@okta.test" {
		t.Fatalf("created %+v", alice)
	}
	// Okta looks the user up again by userName, in another case.
	w.scim("GET", filterQuery(`userName eq "ALICE@okta.test"`), tok, "", http.StatusOK, &list)
	if list.TotalResults != 1 || list.Resources[0].ID != alice.ID {
		t.Fatalf("lookup after create: %+v", list)
	}
	// Alice signs in; the admin's session is another member's.
	aliceID := uuid.MustParse(alice.ID)
	aliceToken := w.operatorSignIn("alice@okta.test", a.ID)
	w.do("GET", "/v1/me", aliceToken, nil, http.StatusOK, nil)

	// A profile update is a PUT of the whole User.
	var got scimUser
	w.scim("PUT", "/scim/v2/Users/"+alice.ID, tok, `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "id": "`+alice.ID+`",
	  "userName": "alice@okta.test",
	  "name": {"givenName": "Alicia", "familyName": "Ng"},
	  "emails": [{"primary": true, "value": "alice@okta.test", "type": "work"}],
	  "externalId": "00u1ab2cd3EF4gh5i6j7",
	  "active": true
	}`, http.StatusOK, &got)
	if got.Name.GivenName != "Alicia" || got.DisplayName != "" || !got.Active || got.Meta.Version == alice.Meta.Version {
		t.Fatalf("after PUT %+v", got)
	}
	w.do("GET", "/v1/me", aliceToken, nil, http.StatusOK, nil)

	// Deactivation: replace with no path, active false. Her session ends
	// at once.
	w.scim("PATCH", "/scim/v2/Users/"+alice.ID, tok, `{
	  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "value": {"active": false}}]
	}`, http.StatusOK, &got)
	if got.Active || got.Name.GivenName != "Alicia" {
		t.Fatalf("after deactivation %+v", got)
	}
	if resp, _ := w.request("GET", "/v1/me", aliceToken, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a deprovisioned member's session: status %d, want 401", resp.StatusCode)
	}
	if n := w.auditCount(a.ID, "scim.user.deactivate", "success"); n != 1 {
		t.Fatalf("%d scim.user.deactivate events, want 1", n)
	}
	// Okta keeps deactivated users: still there, inactive; filter on it.
	w.scim("GET", filterQuery(`userName eq "alice@okta.test" and active eq false`), tok, "", http.StatusOK, &list)
	if list.TotalResults != 1 || list.Resources[0].Active {
		t.Fatalf("inactive lookup %+v", list)
	}
	// Reactivation gives her the membership back (not the old session).
	w.scim("PATCH", "/scim/v2/Users/"+alice.ID, tok, `{
	  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "value": {"active": true}}]
	}`, http.StatusOK, &got)
	if !got.Active {
		t.Fatalf("after reactivation %+v", got)
	}
	if resp, _ := w.request("GET", "/v1/me", aliceToken, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked session came back: status %d", resp.StatusCode)
	}
	w.do("GET", "/v1/me", w.operatorSignIn("alice@okta.test", a.ID), nil, http.StatusOK, nil)
	_ = aliceID

	// Paging: the admin, Alice and three more, in creation order.
	for _, n := range []string{"bob", "carol", "dan"} {
		w.scim("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		  "userName": "`+n+`@okta.test", "name": {"givenName": "`+n+`"}, "active": true}`, http.StatusCreated, nil)
	}
	seen := map[string]bool{}
	for start := 1; start <= 5; start += 2 {
		w.scim("GET", "/scim/v2/Users?startIndex="+strconv.Itoa(start)+"&count=2", tok, "", http.StatusOK, &list)
		want := min(2, 5-start+1)
		if list.TotalResults != 5 || list.StartIndex != start || list.ItemsPerPage != want || len(list.Resources) != want {
			t.Fatalf("page at %d: total %d, start %d, %d items", start, list.TotalResults, list.StartIndex, list.ItemsPerPage)
		}
		for _, u := range list.Resources {
			if seen[u.ID] {
				t.Fatalf("user %s on two pages", u.ID)
			}
			seen[u.ID] = true
		}
	}
	if !seen[a.Admin.ID.String()] || !seen[alice.ID] {
		t.Fatalf("pages miss the admin or Alice: %v", seen)
	}
	// count=0 answers the total only; a start past the end, nothing.
	w.scim("GET", "/scim/v2/Users?count=0", tok, "", http.StatusOK, &list)
	if list.TotalResults != 5 || len(list.Resources) != 0 {
		t.Fatalf("count=0: %+v", list)
	}
	w.scim("GET", "/scim/v2/Users?startIndex=50", tok, "", http.StatusOK, &list)
	if list.TotalResults != 5 || len(list.Resources) != 0 {
		t.Fatalf("past the end: %+v", list)
	}
	// Or across attributes.
	w.scim("GET", filterQuery(`userName eq "bob@okta.test" or externalId eq "00u1ab2cd3EF4gh5i6j7" or userName eq "nobody@okta.test"`),
		tok, "", http.StatusOK, &list)
	if list.TotalResults != 2 {
		t.Fatalf("or filter: %+v", list)
	}
	if n := w.auditCount(a.ID, "scim.user.create", "success"); n != 4 {
		t.Fatalf("%d scim.user.create events, want 4", n)
	}
	// Names and addresses stay out of the logs.
	for _, canary := range []string{"Alicia", "Alice Ng", "alice@okta.test", "00u1ab2cd3EF4gh5i6j7"} {
		if strings.Contains(w.logs.String(), canary) {
			t.Fatalf("the logs hold %q", canary)
		}
	}
}

// TestSCIMEntra replays the requests Entra ID's provisioning service sends
// (learn.microsoft.com "Tutorial: Develop and plan provisioning for a SCIM
// endpoint", request/response examples): the connection test's lookup,
// create with the enterprise extension, PATCH with capitalised ops and
// value paths, disable with active as the string "False", lookup by
// externalId, delete.
func TestSCIMEntra(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Entra Org")
	tok := w.createSCIMToken(a, "lead").Secret

	var list scimList
	w.scim("GET", filterQuery(`userName eq "non-existent user 0ef8fe18-5f53-4d49-b4e0-8a0da2bf9e6c"`), tok, "", http.StatusOK, &list)
	if list.TotalResults != 0 {
		t.Fatalf("connection test lookup: %+v", list)
	}
	var u scimUser
	w.scim("POST", "/scim/v2/Users", tok, `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
	  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.test",
	  "active": true,
	  "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.test"}],
	  "meta": {"resourceType": "User"},
	  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	  "roles": [],
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Cardiology", "employeeNumber": "1234"}
	}`, http.StatusCreated, &u)
	if u.Roles[0].Value != "lead" || u.ExternalID != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" ||
		u.UserName != "test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.test" {
		t.Fatalf("created %+v", u)
	}
	// A second create of the same person is a uniqueness conflict.
	w.scimError("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.test", "active": true}`, http.StatusConflict, "uniqueness")

	w.scim("GET", filterQuery(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), tok, "", http.StatusOK, &list)
	if list.TotalResults != 1 || list.Resources[0].ID != u.ID {
		t.Fatalf("externalId lookup: %+v", list)
	}
	w.scim("GET", filterQuery(`emails[type eq "work" and value eq "test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.test"]`),
		tok, "", http.StatusOK, &list)
	if list.TotalResults != 1 {
		t.Fatalf("emails value path lookup: %+v", list)
	}

	member := w.operatorSignIn(u.UserName, a.ID)
	w.do("GET", "/v1/me", member, nil, http.StatusOK, nil)

	var got scimUser
	w.scim("PATCH", "/scim/v2/Users/"+u.ID, tok, `{
	  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [
	    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@contoso.test"},
	    {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
	    {"op": "Add", "path": "displayName", "value": "Updated Name"},
	    {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Oncology"}
	  ]
	}`, http.StatusOK, &got)
	if got.Name.FamilyName != "updatedFamilyName" || got.Name.GivenName != "givenName" || got.DisplayName != "Updated Name" ||
		got.UserName != u.UserName || !got.Active {
		t.Fatalf("after PATCH %+v", got)
	}
	w.scim("PATCH", "/scim/v2/Users/"+u.ID, tok, `{
	  "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
	}`, http.StatusOK, &got)
	if got.Active {
		t.Fatalf("after disable %+v", got)
	}
	if resp, _ := w.request("GET", "/v1/me", member, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled member's session: status %d, want 401", resp.StatusCode)
	}
	w.scim("PATCH", "/scim/v2/Users/"+u.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "Replace", "path": "active", "value": "True"}, {"op": "Remove", "path": "displayName"}]}`,
		http.StatusOK, &got)
	if !got.Active || got.DisplayName != "" {
		t.Fatalf("after enable %+v", got)
	}
	member = w.operatorSignIn(u.UserName, a.ID)

	w.scim("DELETE", "/scim/v2/Users/"+u.ID, tok, "", http.StatusNoContent, nil)
	w.scimError("GET", "/scim/v2/Users/"+u.ID, tok, "", http.StatusNotFound, "")
	w.scimError("DELETE", "/scim/v2/Users/"+u.ID, tok, "", http.StatusNotFound, "")
	if resp, _ := w.request("GET", "/v1/me", member, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a deleted member's session: status %d, want 401", resp.StatusCode)
	}
	w.scim("GET", filterQuery(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), tok, "", http.StatusOK, &list)
	if list.TotalResults != 0 {
		t.Fatalf("a deleted user is still listed: %+v", list)
	}
	// The directory may create them again.
	w.scim("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+u.UserName+`", "externalId": "again", "active": true}`, http.StatusCreated, &got)
	if got.ID != u.ID || got.DisplayName != "" || got.ExternalID != "again" {
		t.Fatalf("re-created %+v", got)
	}
	if n := w.auditCount(a.ID, "scim.user.delete", "success"); n != 1 {
		t.Fatalf("%d scim.user.delete events", n)
	}
}

// TestSCIMBoundaries: a token reaches its own org's staff only; patients,
// other orgs and the org's last admin are out of its reach; deprovisioning
// ends API keys; bad requests get SCIM errors and are audited.
func TestSCIMBoundaries(t *testing.T) {
	w := newWorld(t)
	a, b := w.createOrg("Bound A"), w.createOrg("Bound B")
	w.populate(a, "ba")
	tokA, tokB := w.createSCIMToken(a, ""), w.createSCIMToken(b, "")

	var list scimList
	w.scim("GET", "/scim/v2/Users", tokA.Secret, "", http.StatusOK, &list)
	ids := map[string]bool{}
	for _, u := range list.Resources {
		ids[u.ID] = true
	}
	if list.TotalResults != 4 || !ids[a.Lead.ID.String()] || !ids[a.Prov.ID.String()] || ids[a.PatUser.ID.String()] {
		t.Fatalf("org A's users: %+v", list)
	}
	// A patient is invisible, and cannot be created over.
	w.scim("GET", filterQuery(`userName eq "`+a.PatUser.Email+`"`), tokA.Secret, "", http.StatusOK, &list)
	if list.TotalResults != 0 {
		t.Fatalf("a patient is visible: %+v", list)
	}
	w.scimError("GET", "/scim/v2/Users/"+a.PatUser.ID.String(), tokA.Secret, "", http.StatusNotFound, "")
	w.scimError("POST", "/scim/v2/Users", tokA.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+a.PatUser.Email+`"}`, http.StatusConflict, "uniqueness")

	// Org B's token touching org A: 404 every way, and nothing changes.
	prov := "/scim/v2/Users/" + a.Prov.ID.String()
	w.scimError("GET", prov, tokB.Secret, "", http.StatusNotFound, "")
	w.scimError("PATCH", prov, tokB.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "value": {"active": false}}]}`, http.StatusNotFound, "")
	w.scimError("PUT", prov, tokB.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "`+a.Prov.Email+`", "active": false}`, http.StatusNotFound, "")
	w.scimError("DELETE", prov, tokB.Secret, "", http.StatusNotFound, "")
	w.scim("GET", filterQuery(`userName eq "`+a.Prov.Email+`"`), tokB.Secret, "", http.StatusOK, &list)
	if list.TotalResults != 0 {
		t.Fatalf("org B sees org A's provider: %+v", list)
	}
	w.do("GET", "/v1/me", a.Prov.Token, nil, http.StatusOK, nil)
	if n := w.auditCount(b.ID, "scim.request.denied", "failure"); n < 4 {
		t.Fatalf("%d refusals recorded in org B, want 4 or more", n)
	}

	// The org's last admin stays.
	w.scimError("PATCH", "/scim/v2/Users/"+a.Admin.ID.String(), tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "active", "value": false}]}`, http.StatusConflict, "uniqueness")
	w.scimError("DELETE", "/scim/v2/Users/"+a.Admin.ID.String(), tokA.Secret, "", http.StatusConflict, "uniqueness")
	w.do("GET", "/v1/me", a.Admin.Token, nil, http.StatusOK, nil)

	// Deprovisioning a second admin ends their sessions and API keys.
	second := w.addMember(a, "ba-admin2@example.test", identity.RoleAdmin)
	var key struct {
		Key string `json:"key"`
	}
	w.do("POST", "/v1/api-keys", second.Token, map[string]any{"name": "ops", "scopes": []string{"members"}}, http.StatusCreated, &key)
	w.do("GET", "/v1/members", key.Key, nil, http.StatusOK, nil)
	w.scim("PATCH", "/scim/v2/Users/"+second.ID.String(), tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "active", "value": false}]}`, http.StatusOK, nil)
	for _, c := range []string{second.Token, key.Key} {
		if resp, _ := w.request("GET", "/v1/members", c, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a deprovisioned admin's credential: status %d, want 401", resp.StatusCode)
		}
	}

	// Errors in the SCIM shape.
	w.scimError("GET", "/scim/v2/Users", "", "", http.StatusUnauthorized, "")
	w.scimError("GET", "/scim/v2/Users", a.Admin.Token, "", http.StatusUnauthorized, "")
	w.scimError("GET", "/scim/v2/Users", "scim_"+strings.Repeat("A", 49), "", http.StatusUnauthorized, "")
	w.scimError("GET", filterQuery(`userName co "a"`), tokA.Secret, "", http.StatusBadRequest, "invalidFilter")
	w.scimError("GET", filterQuery(`userName eq`), tokA.Secret, "", http.StatusBadRequest, "invalidFilter")
	w.scimError("GET", filterQuery(`not (userName eq "x")`), tokA.Secret, "", http.StatusBadRequest, "invalidFilter")
	w.scimError("POST", "/scim/v2/Users", tokA.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "not an address"}`, http.StatusBadRequest, "invalidValue")
	w.scimError("POST", "/scim/v2/Users", tokA.Secret, `{"userName": "x@example.test"}`, http.StatusBadRequest, "invalidSyntax")
	w.scimError("POST", "/scim/v2/Users", tokA.Secret, `{"schemas": [`, http.StatusBadRequest, "invalidSyntax")
	w.scimError("PUT", prov, tokA.Secret, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "someone-else@example.test"}`, http.StatusBadRequest, "mutability")
	w.scimError("PATCH", prov, tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "userName", "value": "someone-else@example.test"}]}`, http.StatusBadRequest, "mutability")
	w.scimError("PATCH", prov, tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "shoeSize", "value": "11"}]}`, http.StatusBadRequest, "invalidPath")
	w.scimError("PATCH", prov, tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "remove"}]}`, http.StatusBadRequest, "noTarget")
	w.scimError("PATCH", prov, tokA.Secret, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}`, http.StatusBadRequest, "invalidValue")
	w.scimError("GET", "/scim/v2/Users/not-a-uuid", tokA.Secret, "", http.StatusNotFound, "")
	w.scimError("GET", "/scim/v2/Groupz", tokA.Secret, "", http.StatusNotFound, "")
	if n := w.auditCount(a.ID, "scim.request.denied", "failure"); n < 10 {
		t.Fatalf("%d failed requests recorded in org A, want 10 or more", n)
	}
	w.do("GET", "/v1/me", a.Prov.Token, nil, http.StatusOK, nil)

	// Tokens: listed without secrets, revoked at once, admins only.
	var ts struct {
		Tokens []scim.Token `json:"scim_tokens"`
	}
	body := w.do("GET", "/v1/scim/tokens", a.Admin.Token, nil, http.StatusOK, &ts)
	if len(ts.Tokens) != 1 || ts.Tokens[0].ID != tokA.ID || ts.Tokens[0].LastUsedAt == nil ||
		strings.Contains(string(body), tokA.Secret) {
		t.Fatalf("token list %s", body)
	}
	w.do("GET", "/v1/scim/tokens", a.Lead.Token, nil, http.StatusForbidden, nil)
	w.do("POST", "/v1/scim/tokens", a.Lead.Token, map[string]any{"name": "x"}, http.StatusForbidden, nil)
	w.do("POST", "/v1/scim/tokens", a.Admin.Token, map[string]any{"name": "x", "default_role": "admin"}, http.StatusBadRequest, nil)
	w.do("DELETE", "/v1/scim/tokens/"+tokA.ID.String(), b.Admin.Token, nil, http.StatusNotFound, nil)
	w.do("DELETE", "/v1/scim/tokens/"+tokA.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	w.scimError("GET", "/scim/v2/Users", tokA.Secret, "", http.StatusUnauthorized, "")
	// A SCIM token is no credential for the JSON API.
	if resp, _ := w.request("GET", "/v1/me", tokB.Secret, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a SCIM token on the API: status %d", resp.StatusCode)
	}
	if n := w.auditCount(a.ID, "scim.token.revoke", "success"); n != 1 {
		t.Fatalf("%d scim.token.revoke events", n)
	}
}

// TestSCIMDiscovery: the discovery resources answer without a token.
func TestSCIMDiscovery(t *testing.T) {
	w := newWorld(t)
	var spc map[string]any
	w.scim("GET", "/scim/v2/ServiceProviderConfig", "", "", http.StatusOK, &spc)
	if spc["patch"].(map[string]any)["supported"] != true || spc["bulk"].(map[string]any)["supported"] != false {
		t.Fatalf("service provider config %v", spc)
	}
	var l struct {
		TotalResults int              `json:"totalResults"`
		Resources    []map[string]any `json:"Resources"`
	}
	w.scim("GET", "/scim/v2/ResourceTypes", "", "", http.StatusOK, &l)
	if l.TotalResults != 2 || l.Resources[0]["id"] != "User" || l.Resources[1]["id"] != "Group" {
		t.Fatalf("resource types %+v", l)
	}
	w.scim("GET", "/scim/v2/Schemas", "", "", http.StatusOK, &l)
	if l.Resources[0]["id"] != scim.SchemaUser {
		t.Fatalf("schemas %+v", l)
	}
	w.scim("GET", "/scim/v2/Schemas/"+scim.SchemaUser, "", "", http.StatusOK, nil)
	w.scimError("GET", "/scim/v2/Schemas/urn:nope", "", "", http.StatusNotFound, "")
}

// TestSCIMHostileInput: what PostgreSQL cannot store or take (NUL, invalid
// UTF-8, an offset beyond int4) is a SCIM 400 or an empty page, never a
// 500, and creates nothing.
func TestSCIMHostileInput(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Hostile SCIM")
	tok := w.createSCIMToken(o, "").Secret
	user := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "h1@example.test"`
	group := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	for _, c := range []struct{ path, body string }{
		{"/scim/v2/Users", user + `, "externalId": "ext\u0000"}`},
		{"/scim/v2/Users", user + `, "displayName": "Zed\u0000"}`},
		{"/scim/v2/Users", user + ", \"displayName\": \"Zed\xff\"}"},
		{"/scim/v2/Users", user + `, "externalId": "a", "externalID": "b"}`},
		{"/scim/v2/Groups", group + `, "displayName": "nurses\u0000"}`},
		{"/scim/v2/Groups", group + `, "displayName": "nurses", "externalId": "\u0000"}`},
	} {
		w.scimError("POST", c.path, tok, c.body, http.StatusBadRequest, "invalidSyntax")
	}
	var u scimUser
	w.scim("POST", "/scim/v2/Users", tok, user+`}`, http.StatusCreated, &u)
	w.scimError("PATCH", "/scim/v2/Users/"+u.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "externalId", "value": "x\u0000"}]}`, http.StatusBadRequest, "invalidSyntax")

	for _, f := range []string{"externalId eq \"a\xffb\"", "userName eq \"a\xff@example.test\""} {
		w.scimError("GET", filterQuery(f), tok, "", http.StatusBadRequest, "invalidFilter")
	}
	w.scimError("GET", "/scim/v2/Groups?filter="+url.QueryEscape("displayName eq \"a\xffb\""), tok, "", http.StatusBadRequest, "invalidFilter")
	w.scimError("GET", "/scim/v2/Groups?filter="+url.QueryEscape("externalId eq \"a\xffb\""), tok, "", http.StatusBadRequest, "invalidFilter")

	var list scimList
	for _, q := range []string{"/scim/v2/Users?startIndex=3000000000", "/scim/v2/Groups?startIndex=3000000000&count=5",
		"/scim/v2/Users?startIndex=9223372036854775807&count=1000"} {
		w.scim("GET", q, tok, "", http.StatusOK, &list)
		if len(list.Resources) != 0 {
			t.Fatalf("%s: %+v", q, list)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select (select count(*) from app.scim_users) + (select count(*) from app.scim_groups)`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d SCIM rows, want the one valid User (%v)", n, err)
	}
	if strings.Contains(w.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("hostile SCIM input logged as an error:\n%s", w.logs.String())
	}
}

// A PATCH's problems name no key the directory sent (attacker review,
// LOW): the keys of a name object are the directory's text, and a value
// that was no string under one was answered "name.<key> is a string of at
// most 256 characters", repeating a key such as a phone number or a
// record number in the 400 as the JSON API no longer does (d0792e0).
func TestSCIMPatchErrorsEchoNoKey(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("SCIM Echo Org")
	tok := w.createSCIMToken(o, "").Secret
	var u scimUser
	w.scim("POST", "/scim/v2/Users", tok, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "echo1@example.test"}`, http.StatusCreated, &u)
	for _, op := range []string{
		`{"op": "replace", "path": "name", "value": {"617-555-0142": 7}}`,
		`{"op": "add", "value": {"name": {"MRN884213": true}}}`,
		`{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"name": {"617-555-0142": [1]}}}}`,
	} {
		status, b := w.scimCall("PATCH", "/scim/v2/Users/"+u.ID, tok,
			`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [`+op+`]}`)
		var e scimErr
		if status != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.SCIMType != "invalidPath" {
			t.Errorf("%s: %d %s, want 400 invalidPath", op, status, b)
		}
		if low := strings.ToLower(string(b)); strings.Contains(low, "617-555-0142") || strings.Contains(low, "mrn884213") {
			t.Errorf("%s: the problem repeats the key: %s", op, b)
		}
	}
	// A known sub-attribute's wrong value still says which.
	status, b := w.scimCall("PATCH", "/scim/v2/Users/"+u.ID, tok, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations": [{"op": "replace", "path": "name", "value": {"givenName": 7}}]}`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "name.givenname is a string") {
		t.Errorf("givenName as a number: %d %s", status, b)
	}
}
