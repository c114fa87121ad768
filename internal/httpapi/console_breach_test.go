package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The console's breach page: an admin scopes an incident by a member and
// sees the individuals, their States and the notices; revokes the
// member's sessions from the same page; a provider is refused the page,
// a stale second factor is asked again, a malformed form is refused with
// its rule, and neither form works from another origin.
func TestConsoleBreach(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Breach Clinic")
	w.populate(o, "cbr")
	adm, secret := w.consoleAdmin(o.Admin.Email)
	start := time.Now().UTC().Add(-2 * time.Minute)
	p := w.createPatient(o.Lead.Token, map[string]any{"name": "Ada Quinn", "address": "1 Main St, Boise, ID 83702"})
	w.do("PUT", "/v1/patients/"+p.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("GET", "/v1/patients/"+p.String(), o.Prov.Token, nil, http.StatusOK, nil)
	// What the member configured, as the log recorded it: an API key, and
	// an SSO connection whose recorded type is markup the page must not
	// run.
	backdoor := uuid.New()
	for _, c := range []struct{ action, objectType string }{{"auth.api_key.create", "api_key"}, {"sso.connection.create", "<b>idp</b>"}} {
		object := backdoor
		if c.objectType != "api_key" {
			object = uuid.New()
		}
		if _, err := w.env.Super.Pool.Exec(context.Background(), `select audit.append_as($1, $2, 'success', $3, $4,
			p_actor => $5, p_ip => '127.0.0.1')`, o.ID, c.action, c.objectType, object, o.Prov.ID); err != nil {
			t.Fatal(err)
		}
	}

	resp, body := w.consolePage("GET", "/breach", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="scope-form"`) || !strings.Contains(body, `href="/breach"`) {
		t.Fatalf("breach page: %d %s", resp.StatusCode, body)
	}
	scope := url.Values{"from": {start.Format("2006-01-02T15:04")}, "to": {time.Now().UTC().Add(2 * time.Minute).Format("2006-01-02T15:04")},
		"actors": {o.Prov.ID.String()}}
	resp, body = w.consolePage("POST", "/breach", adm, scope)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="affected-`+p.String()+`"`) ||
		!strings.Contains(body, "<td>ID</td>") || !strings.Contains(body, "patient.read") || !strings.Contains(body, `id="timeline"`) {
		t.Fatalf("scope answer: %d %s", resp.StatusCode, body)
	}
	// The member's changes, by kind, escaped.
	if !strings.Contains(body, `id="changes"`) || !strings.Contains(body, `<tbody id="changes-credentials">`) ||
		!strings.Contains(body, `<tbody id="changes-sso">`) || !strings.Contains(body, "<code>"+backdoor.String()+"</code>") ||
		!strings.Contains(body, "&lt;b&gt;idp&lt;/b&gt;") || strings.Contains(body, "<b>idp</b>") ||
		strings.Index(body, `id="changes-credentials"`) > strings.Index(body, `id="changes-sso"`) {
		t.Errorf("the changes table: %s", body)
	}
	// The revoke form is filled with the members the scope named, and the
	// API key their changes created.
	if !strings.Contains(body, `name="users" rows="2">`+o.Prov.ID.String()+`<`) ||
		!strings.Contains(body, `name="api_keys" rows="2">`+backdoor.String()+`<`) ||
		!strings.Contains(body, `name="scim_tokens" rows="2"><`) {
		t.Errorf("revoke form not prefilled: %s", body)
	}
	if w.auditCount(o.ID, "breach.scope", "success") != 1 {
		t.Error("the page's scope is not audited")
	}
	for name, form := range map[string]url.Values{
		"bad time":      {"from": {"yesterday"}, "to": scope["to"], "actors": scope["actors"]},
		"bad id":        {"from": scope["from"], "to": scope["to"], "actors": {"not-an-id"}},
		"bad network":   {"from": scope["from"], "to": scope["to"], "networks": {"10.0.0.300/8"}},
		"no selector":   {"from": scope["from"], "to": scope["to"]},
		"inverted span": {"from": scope["to"], "to": scope["from"], "all": {"yes"}},
	} {
		if resp, body := w.consolePage("POST", "/breach", adm, form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}

	// Neither form works from another origin.
	for _, path := range []string{"/breach", "/breach/revoke"} {
		h := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"},
			"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {"ward_session=" + adm}}
		if resp, b := w.browse("POST", path, h, url.Values{"users": {o.Prov.ID.String()}, "all": {"yes"}}.Encode()); resp.StatusCode != http.StatusForbidden ||
			!strings.Contains(string(b), "cross_site_request") {
			t.Fatalf("cross-site %s: %d %s", path, resp.StatusCode, b)
		}
	}
	w.do("GET", "/v1/me", o.Prov.Token, nil, http.StatusOK, nil)

	// A provider is refused the page and both forms.
	prov := w.consoleSignIn(o.Prov2.Email)
	if resp, _ := w.consolePage("GET", "/breach", prov, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("provider's page: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", "/breach/revoke", prov, url.Values{"users": {o.Prov.ID.String()}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("provider's revoke: %d", resp.StatusCode)
	}

	// Stale: asked for the second factor again, nothing revoked.
	w.age(adm, 20*time.Minute)
	resp, body = w.consolePage("POST", "/breach/revoke", adm, url.Values{"users": {o.Prov.ID.String()}})
	stepUpPage(t, "revoke", resp, body)
	w.do("GET", "/v1/me", o.Prov.Token, nil, http.StatusOK, nil)
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {totpCode(t, secret, time.Now().Add(30*time.Second))}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("step-up: %d %s", resp.StatusCode, body)
	}
	if c := cookieValue(setCookie(resp, "ward_session")); c != "" {
		adm = c
	}
	resp, body = w.consolePage("POST", "/breach/revoke", adm, url.Values{"users": {o.Prov.ID.String()}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ended 1 session(s), revoked 0 API key(s)") {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.request("GET", "/v1/me", o.Prov.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the provider's session survived: %d", resp.StatusCode)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.sessions
		where user_id = $1 and revoked_reason = 'breach'`, o.Prov.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("sessions ended for the breach: %d (%v)", n, err)
	}
}
