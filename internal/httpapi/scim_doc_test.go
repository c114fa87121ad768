package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/scim"
)

// TestSCIMDocContract walks docs/scim.md §1, §3 and §6 as a directory's
// admin reads them: the token's answer, shown once; the SCIM errors with
// their status, scimType and WWW-Authenticate; a body over the surface's
// limit; and the role-mapping routes.
func TestSCIMDocContract(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("SCIM Doc Org")

	b := w.do("POST", "/v1/scim/tokens", o.Admin.Token, map[string]any{"name": "Okta", "default_role": "provider"},
		http.StatusCreated, nil)
	var tok struct {
		ID, Prefix, Name, DefaultRole, Token string
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	tok.DefaultRole, _ = m["default_role"].(string)
	if tok.ID == "" || tok.Name != "Okta" || tok.DefaultRole != "provider" || len(tok.Prefix) != len("scim_7Hq2") ||
		!strings.HasPrefix(tok.Token, tok.Prefix) || !strings.HasPrefix(tok.Prefix, "scim_") {
		t.Fatalf("token answer: %s", b)
	}
	b = w.do("GET", "/v1/scim/tokens", o.Admin.Token, nil, http.StatusOK, nil)
	if strings.Contains(string(b), tok.Token) || !strings.Contains(string(b), `"scim_tokens"`) {
		t.Fatalf("the token list shows the secret, or is not scim_tokens: %s", b)
	}

	// §6: a 401 names the realm; a session is no SCIM credential, nor is a
	// mistyped token.
	for name, cred := range map[string]string{"none": "", "a session": o.Admin.Token,
		"a mistyped token": mistype(tok.Token, len(tok.Token)-1)} {
		req, _ := http.NewRequest("GET", w.srv.URL+"/scim/v2/Users", nil)
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="ward-scim"` {
			t.Fatalf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// The token is no credential anywhere but /scim/v2.
	for _, path := range []string{"/v1/me", "/v1/members", "/v1/scim/tokens"} {
		resp, b := w.request("GET", path, tok.Token, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "unauthenticated" {
			t.Errorf("GET %s with the SCIM token: %d %s", path, resp.StatusCode, b)
		}
	}
	// Discovery needs no token, and names both resources the directory
	// pushes (RFC 7644 §4: ResourceTypes lists the Users and Groups a
	// client may use).
	w.scim("GET", "/scim/v2/ServiceProviderConfig", "", "", http.StatusOK, nil)
	var types struct {
		Resources []struct {
			ID, Endpoint, Schema string
			Extensions           []struct{ Schema string } `json:"schemaExtensions"`
		} `json:"Resources"`
	}
	w.scim("GET", "/scim/v2/ResourceTypes", "", "", http.StatusOK, &types)
	var endpoints []string
	for _, rt := range types.Resources {
		endpoints = append(endpoints, rt.ID+" "+rt.Endpoint+" "+rt.Schema)
		// Every schema a resource type names is one /Schemas describes.
		w.scim("GET", "/scim/v2/Schemas/"+rt.Schema, "", "", http.StatusOK, nil)
		for _, ext := range rt.Extensions {
			w.scim("GET", "/scim/v2/Schemas/"+ext.Schema, "", "", http.StatusOK, nil)
		}
	}
	if want := []string{"User /Users " + scim.SchemaUser, "Group /Groups " + scim.SchemaGroup}; !slices.Equal(endpoints, want) {
		t.Fatalf("resource types %v, want %v", endpoints, want)
	}
	w.scim("GET", "/scim/v2/ResourceTypes/Group", "", "", http.StatusOK, nil)

	user := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "nurse@scim-doc.test", "active": true}`
	// 415 invalidSyntax: a body that is not SCIM JSON.
	req, _ := http.NewRequest("POST", w.srv.URL+"/scim/v2/Users", strings.NewReader(user))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e scimErr
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || e.Status != "415" || e.SCIMType != "invalidSyntax" {
		t.Fatalf("text/plain body: %d %+v", resp.StatusCode, e)
	}
	// A body over 1 MiB: 413, as the table says.
	big := `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "big@scim-doc.test", "title": "` +
		strings.Repeat("a", 1<<20) + `"}`
	w.scimError("POST", "/scim/v2/Users", tok.Token, big, http.StatusRequestEntityTooLarge, "")
	w.scimError("GET", "/scim/v2/Users?startIndex=first", tok.Token, "", http.StatusBadRequest, "invalidValue")

	// §3: groups, mapped by an admin.
	var u struct{ ID string }
	w.scim("POST", "/scim/v2/Users", tok.Token, user, http.StatusCreated, &u)
	var g struct{ ID string }
	w.scim("POST", "/scim/v2/Groups", tok.Token, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName": "Cardiology Leads", "members": [{"value": "`+u.ID+`"}]}`, http.StatusCreated, &g)
	var groups struct {
		Groups []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			Members     int    `json:"members"`
		} `json:"scim_groups"`
	}
	w.do("GET", "/v1/scim/groups", o.Admin.Token, nil, http.StatusOK, &groups)
	if len(groups.Groups) != 1 || groups.Groups[0].ID != g.ID || groups.Groups[0].DisplayName != "Cardiology Leads" ||
		groups.Groups[0].Members != 1 {
		t.Fatalf("group mappings: %+v", groups)
	}
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", o.Admin.Token, map[string]any{"role": "lead"}, http.StatusNoContent, nil)
	w.do("PUT", "/v1/scim/groups/"+g.ID+"/role", o.Admin.Token, map[string]any{"role": nil}, http.StatusNoContent, nil)
}
