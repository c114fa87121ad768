package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
)

// device_binding_required_for (issue 8 §6): the roles an org lists must
// bind their non-browser sessions to a DPoP key. The database refuses an
// unbound bearer session of such a role; the same session in the browser's
// cookie works; a sign-in without a proof hands the token out in the
// cookie only; a DPoP-bound session works; other roles are unaffected.
func TestDeviceBindingPolicy(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Binding Org")
	w.populate(o, "db")
	ctx := context.Background()

	var pol struct {
		RequiredFor []string `json:"device_binding_required_for"`
		Recommended []string `json:"recommended"`
	}
	w.do("GET", "/v1/org/device-binding-policy", o.Prov.Token, nil, http.StatusOK, &pol)
	if len(pol.RequiredFor) != 0 || strings.Join(pol.Recommended, ",") != "provider,lead,admin" {
		t.Fatalf("default device binding policy: %+v", pol)
	}
	if resp, b := w.request("PUT", "/v1/org/device-binding-policy", o.Lead.Token,
		map[string]any{"device_binding_required_for": []string{"provider"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("policy by a lead: %d %s", resp.StatusCode, b)
	}
	if resp, b := w.request("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"root"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("policy with an unknown role: %d %s", resp.StatusCode, b)
	}
	w.do("PUT", "/v1/org/device-binding-policy", o.Admin.Token,
		map[string]any{"device_binding_required_for": []string{"provider"}}, http.StatusOK, nil)
	if n := w.auditCount(o.ID, "org.device_binding_policy.update", "success"); n != 1 {
		t.Fatalf("%d policy events", n)
	}

	// The provider's unbound bearer session is refused from now on; the
	// database itself resolves it to nobody.
	resp, b := w.request("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "device_binding_required" {
		t.Fatalf("unbound provider bearer session: %d %s", resp.StatusCode, b)
	}
	var me meAnswer
	w.do("GET", "/v1/me", o.Prov.Token, nil, http.StatusOK, &me)
	if me.Pending == nil || *me.Pending != "device_binding" {
		t.Fatalf("unbound provider /v1/me: %+v", me)
	}
	// In the browser's cookie it is bound to that browser, and works.
	resp, b = w.request("GET", "/v1/patients/"+o.P1.String(), "", nil, "Cookie", "ward_session="+o.Prov.Token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("provider session in the cookie: %d %s", resp.StatusCode, b)
	}
	// Roles the policy does not name are unaffected.
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Lead.Token, nil, http.StatusOK, nil)

	// A new provider signs in without a proof: the token is in the cookie only.
	const email = "db-new@example.test"
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": email, "role": identity.RoleProvider, "invite": false},
		http.StatusCreated, nil)
	linkFor := func(email string) string {
		l, err := w.ops.OperatorLink(ctx, w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		return l[strings.LastIndex(l, "=")+1:]
	}
	link := func() string { return linkFor(email) }
	resp, b = w.request("POST", "/v1/auth/magic", "", map[string]string{"token": link()})
	var sess struct {
		Token                 string `json:"token"`
		TokenType             string `json:"token_type"`
		DeviceBindingRequired bool   `json:"device_binding_required"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &sess) != nil || sess.Token != "" || !sess.DeviceBindingRequired {
		t.Fatalf("sign-in without a proof: %d %s", resp.StatusCode, b)
	}
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "ward_session" {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie")
	}
	if resp, _ := w.request("GET", "/v1/sessions", "", nil, "Cookie", "ward_session="+cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("the cookie session: %d", resp.StatusCode)
	}

	// With a DPoP proof the session is bound, handed out, and works.
	key := newDPoPKey(t, jose.ES256)
	resp, b = w.request("POST", "/v1/auth/magic", "", map[string]string{"token": link()},
		"DPoP", key.proof("POST", w.base+"/v1/auth/magic", "", nil))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &sess) != nil || sess.Token == "" || sess.TokenType != "DPoP" {
		t.Fatalf("sign-in with a proof: %d %s", resp.StatusCode, b)
	}
	url := w.base + "/v1/patients"
	resp, b = w.request("GET", "/v1/patients", "", nil, "Authorization", "DPoP "+sess.Token,
		"DPoP", key.proof("GET", url, sess.Token, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bound provider session: %d %s", resp.StatusCode, b)
	}

	// Binding comes before a missing second factor: a one-factor admin
	// sign-in without a proof gets no bearer token either. (The admin sets
	// the policy from the browser: their bearer session is refused next.)
	browser := []string{"Cookie", "ward_session=" + o.Admin.Token, "Sec-Fetch-Site", "same-origin"}
	resp, b = w.request("PUT", "/v1/org/device-binding-policy", "",
		map[string]any{"device_binding_required_for": []string{"provider", "admin"}}, browser...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("policy from the admin's browser: %d %s", resp.StatusCode, b)
	}
	resp, b = w.request("POST", "/v1/auth/magic", "", map[string]string{"token": linkFor(o.Admin.Email)})
	sess.Token, sess.DeviceBindingRequired = "", false
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &sess) != nil || sess.Token != "" || !sess.DeviceBindingRequired {
		t.Fatalf("one-factor admin sign-in without a proof: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/me", o.Admin.Token, nil, http.StatusOK, &me)
	if me.Pending == nil || *me.Pending != "device_binding" {
		t.Fatalf("admin bearer session: %+v", me)
	}

	// Lifting the policy frees the unbound bearer sessions again.
	resp, b = w.request("PUT", "/v1/org/device-binding-policy", "",
		map[string]any{"device_binding_required_for": []string{}}, browser...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lifting the policy: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
}
