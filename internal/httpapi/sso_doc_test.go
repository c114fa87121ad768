package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/sso"
)

// TestSSODocContract walks docs/sso.md §1, §1b and §3 as an admin reads
// them: the connection answers, the connection list with both kinds, the
// domain claim's TXT record, the policy's answer, and the start's answers
// for an address no connection serves and for a cross-site start.
func TestSSODocContract(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("SSO Doc Org")

	// §1: the OIDC connection's answer names the redirect URI, never the secret.
	b := w.do("POST", "/v1/sso/connections", o.Admin.Token, map[string]any{"name": "Okta",
		"issuer": "https://hospital.okta.example", "client_id": "0oa1", "client_secret": "s3cret-of-the-idp",
		"signing_algs": []string{"RS256"}, "trusted_amr": []string{}, "trusted_acr": []string{}, "jit": false},
		http.StatusCreated, nil)
	var oidc sso.Connection
	if err := json.Unmarshal(b, &oidc); err != nil || oidc.RedirectURI != w.base+"/v1/sso/oidc/callback" || oidc.Kind != "oidc" ||
		strings.Contains(string(b), "s3cret") || slices.Contains(jsonKeys(t, b), "client_secret") {
		t.Fatalf("OIDC connection answer: %s", b)
	}

	// §1b: the SAML connection's answer names the SP's URLs.
	idp := samlIdP(t, "alice", "alice@saml-doc.test", "wonderland")
	resp, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP metadata: %d", resp.StatusCode)
	}
	var saml sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", o.Admin.Token, map[string]any{"name": "Entra ID", "idp_metadata": string(md),
		"trusted_acr": []string{}, "allow_idp_initiated": false, "jit": false}, http.StatusCreated, &saml)
	sp := w.base + "/v1/sso/saml/" + saml.ID.String()
	if saml.EntityID != sp+"/metadata" || saml.ACSURL != sp+"/acs" || saml.MetadataURL != sp+"/metadata" {
		t.Fatalf("SAML connection answer: %+v", saml)
	}

	// The list shows each connection as its kind: an OIDC one with its
	// redirect URI, a SAML one with the SP's URLs and no OIDC redirect URI.
	var list struct {
		Connections []map[string]any `json:"connections"`
	}
	w.do("GET", "/v1/sso/connections", o.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Connections) != 2 {
		t.Fatalf("connections: %+v", list.Connections)
	}
	for _, c := range list.Connections {
		switch c["kind"] {
		case "oidc":
			if c["redirect_uri"] != oidc.RedirectURI || c["acs_url"] != nil {
				t.Errorf("the OIDC connection listed: %v", c)
			}
		case "saml":
			if c["id"] != saml.ID.String() || c["redirect_uri"] != nil || c["entity_id"] != saml.EntityID ||
				c["acs_url"] != saml.ACSURL || c["metadata_url"] != saml.MetadataURL {
				t.Errorf("the SAML connection listed: %v", c)
			}
		default:
			t.Errorf("a connection of kind %v", c["kind"])
		}
	}

	// §3: the claim's TXT record.
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", o.Admin.Token, map[string]any{"domain": "hospital.example", "connection_id": oidc.ID},
		http.StatusCreated, &claim)
	if claim.TXTName != "_ward-verification.hospital.example" ||
		!regexp.MustCompile(`^ward-verification=[0-9a-f]{32}$`).MatchString(claim.TXTValue) || claim.VerifiedAt != nil {
		t.Fatalf("claim: %+v", claim)
	}
	// The problem codes table: a second claim, a claim of no domain, a
	// verification of an unclaimed domain, an unlink of nobody.
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", "/v1/sso/domains", map[string]any{"domain": "hospital.example", "connection_id": oidc.ID}, http.StatusConflict, "conflict"},
		{"POST", "/v1/sso/domains", map[string]any{"domain": "not a domain", "connection_id": oidc.ID}, http.StatusBadRequest, "invalid_input"},
		{"POST", "/v1/sso/domains/unclaimed.example/verify", nil, http.StatusNotFound, "not_found"},
		{"DELETE", "/v1/sso/connections/" + oidc.ID.String() + "/identities/" + o.Admin.ID.String(), nil, http.StatusNotFound, "not_found"},
		{"POST", "/v1/sso/connections", map[string]any{"name": "Plain", "issuer": "http://idp.example", "client_id": "c"},
			http.StatusBadRequest, "invalid_input"},
	} {
		resp, b := w.request(c.method, c.path, o.Admin.Token, c.body)
		if resp.StatusCode != c.status || problemCode(t, b) != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, resp.StatusCode, b, c.status, c.code)
		}
	}
	for q, code := range map[string]string{"": "invalid_input", "?org=x&connection=" + oidc.ID.String(): "invalid_query"} {
		resp, b := w.request("GET", "/v1/sso/start"+q, "", nil)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != code {
			t.Errorf("start%s: %d %s, want 400 %s", q, resp.StatusCode, b, code)
		}
	}
	// A callback, and an ACS post, with a state nobody started.
	resp, b = w.request("GET", "/v1/sso/oidc/callback?state=made-up-state&code=c", "", nil)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "sso_state_invalid" {
		t.Errorf("callback with an unknown state: %d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("POST", w.srv.URL+"/v1/sso/saml/"+saml.ID.String()+"/acs",
		strings.NewReader("SAMLResponse=bm90IGEgcmVzcG9uc2U&RelayState=made-up-state"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := w.srv.Client().Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "sso_state_invalid" {
			t.Errorf("ACS with a state nobody started: %d %s", resp.StatusCode, b)
		}
	}
	resp, b = w.request("GET", "/v1/sso/saml/"+saml.ID.String()+"/metadata", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" ||
		!strings.Contains(string(b), saml.ACSURL) {
		t.Errorf("SP metadata: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// "Deleting a connection": OIDC and SAML alike.
	w.do("DELETE", "/v1/sso/connections/"+saml.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	w.do("GET", "/v1/sso/connections", o.Admin.Token, nil, http.StatusOK, &list)
	if len(list.Connections) != 1 || list.Connections[0]["kind"] != "oidc" {
		t.Fatalf("connections after the SAML one's deletion: %+v", list.Connections)
	}
	if resp, _ := w.request("GET", "/v1/sso/saml/"+saml.ID.String()+"/metadata", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted SAML connection's metadata: %d", resp.StatusCode)
	}

	var pol struct {
		EnforceSSO bool `json:"enforce_sso"`
	}
	w.do("PUT", "/v1/org/sso-policy", o.Admin.Token, map[string]bool{"enforce_sso": true}, http.StatusOK, &pol)
	if !pol.EnforceSSO {
		t.Fatalf("policy answer: %+v", pol)
	}

	// §2: an address no verified domain routes (the claim is not verified).
	resp, b = w.request("GET", "/v1/sso/start?email=alice@hospital.example", "", nil)
	if resp.StatusCode != http.StatusNotFound || problemCode(t, b) != "sso_no_route" {
		t.Fatalf("start for an unrouted address: %d %s", resp.StatusCode, b)
	}
	// A start from another site gets Ward's own page with a Continue link.
	resp, b = w.request("GET", "/v1/sso/start?email=alice@hospital.example", "", nil, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), "Continue") || resp.Header.Get("Location") != "" {
		t.Fatalf("cross-site start: %d %s", resp.StatusCode, b)
	}
}
