package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// orgPolicies is the org's risk, device-binding, SSO and gateway
// policies as the database holds them, one string to compare.
func (w *world) orgPolicies(org uuid.UUID) string {
	w.t.Helper()
	var out string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select concat_ws(' | ', coalesce(risk_threshold::text, 'none'),
		array_to_string(device_binding_required_for, ','), enforce_sso::text,
		array_to_string(gateway_providers, ','), array_to_string(gateway_models, ','), gateway_dates, gateway_zip,
		array_to_string(gateway_allow, ','), array_to_string(gateway_keep, ','),
		gateway_requests_per_minute::text, gateway_tokens_per_minute::text) from app.orgs where id = $1`, org).Scan(&out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// stepUpPage checks that a post answered the second-factor form (a
// step-up owed) and not the change.
func stepUpPage(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="step-up"`) || !strings.Contains(body, `action="/second-factor"`) {
		t.Fatalf("%s without a fresh second factor: %d %s", what, resp.StatusCode, body)
	}
}

// The policies page's admin forms: the risk threshold, the device-binding
// roles, the SSO policy and the gateway policy, each saved as the API's
// PUT saves it (the same service, the same step-up); members read them
// without forms and may not save; bad values are refused with their rule
// and change nothing; 20 minutes after the second factor each form asks
// for it again and changes nothing, and after it the same form saves.
func TestConsoleAdminPolicies(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Admin Policy Clinic")
	w.populate(o, "capol")
	adm, secret := w.consoleAdmin(o.Admin.Email)
	prov := w.consoleSignIn(o.Prov.Email)

	resp, body := w.consolePage("GET", "/policies", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="risk-policy"`) || !strings.Contains(body, `id="sso-policy"`) ||
		!strings.Contains(body, `id="gateway-policy"`) || strings.Contains(body, `action="/policies/`) {
		t.Fatalf("provider's policies page: %d %s", resp.StatusCode, body)
	}
	pat := w.consoleSignIn(o.PatUser.Email)
	if resp, body := w.consolePage("GET", "/policies", pat, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="gateway-policy"`) ||
		strings.Contains(body, `action="/policies/`) {
		t.Fatalf("patient's policies page: %d %s", resp.StatusCode, body)
	}
	before := w.orgPolicies(o.ID)
	for path, form := range map[string]url.Values{
		"/policies/risk":           {"risk_threshold": {"10"}},
		"/policies/device-binding": {"role": {"patient"}},
		"/policies/sso":            {"enforce_sso": {"yes"}},
		"/policies/gateway":        {"dates": {"shift"}, "zip": {"zip3"}, "requests_per_minute": {"5"}, "tokens_per_minute": {"5000"}},
	} {
		if resp, _ := w.consolePage("POST", path, prov, form); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("provider POST %s: %d", path, resp.StatusCode)
		}
		if resp, _ := w.consolePage("POST", path, pat, form); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("patient POST %s: %d", path, resp.StatusCode)
		}
	}
	if after := w.orgPolicies(o.ID); after != before {
		t.Fatalf("a provider's or patient's posts changed the policies: %s, was %s", after, before)
	}

	resp, body = w.consolePage("GET", "/policies", adm, nil)
	for _, want := range []string{`action="/policies/risk"`, `action="/policies/device-binding"`, `action="/policies/sso"`,
		`action="/policies/gateway"`, `id="bind-admin" name="role" value="admin" checked`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("admin's policies page without %s: %d %s", want, resp.StatusCode, body)
		}
	}
	save := func(path string, form url.Values) {
		t.Helper()
		resp, body := w.consolePage("POST", path, adm, form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/policies?done=saved" {
			t.Fatalf("POST %s %v: %d %q %s", path, form, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	refused := func(path string, form url.Values, rule string) {
		t.Helper()
		before := w.orgPolicies(o.ID)
		resp, body := w.consolePage("POST", path, adm, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, rule) {
			t.Fatalf("POST %s %v: %d %s", path, form, resp.StatusCode, body)
		}
		if after := w.orgPolicies(o.ID); after != before {
			t.Fatalf("a refused POST %s changed the policies: %s, was %s", path, after, before)
		}
	}
	gwForm := url.Values{"providers": {""}, "models": {""}, "dates": {"shift"}, "zip": {"zip3"}, "allow": {"images", "documents"},
		"keep_organization": {"yes"}, "requests_per_minute": {"60"}, "tokens_per_minute": {"250000"}}
	save("/policies/risk", url.Values{"risk_threshold": {"45"}})
	save("/policies/device-binding", url.Values{"role": {"lead", "admin"}})
	save("/policies/sso", url.Values{"enforce_sso": {"yes"}})
	save("/policies/gateway", gwForm)
	want := "45 | admin,lead | true |  |  | shift | zip3 | documents,images | ORGANIZATION | 60 | 250000"
	if got := w.orgPolicies(o.ID); got != want {
		t.Fatalf("after the forms: %q, want %q", got, want)
	}
	// The admin's console session is a browser's: binding admins' sessions
	// leaves it working, and the page shows what was saved.
	resp, body = w.consolePage("GET", "/policies?done=saved", adm, nil)
	for _, want := range []string{`id="notice"`, `name="risk_threshold" type="number" min="1" max="200" value="45"`,
		`id="bind-lead" name="role" value="lead" checked`, `id="enforce-sso" name="enforce_sso" value="yes" checked`,
		`<option value="shift" selected>`, `id="gw-allow-documents" name="allow" value="documents" checked`, `value="250000"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("policies after saving, without %s: %d %s", want, resp.StatusCode, body)
		}
	}
	if _, body := w.consolePage("GET", "/policies", prov, nil); !strings.Contains(body, "scoring 45 or more") ||
		!strings.Contains(body, "identity provider only: yes") || !strings.Contains(body, "dates: shift") {
		t.Fatalf("the provider reading the saved policies: %s", body)
	}

	// Bad values: refused with their rule, nothing changed.
	refused("/policies/risk", url.Values{"risk_threshold": {"lots"}}, "whole number")
	refused("/policies/risk", url.Values{"risk_threshold": {"500"}}, "1..200")
	refused("/policies/device-binding", url.Values{"role": {"lead", "owner"}}, "holds patient, provider, lead, admin or stakeholder")
	refused("/policies/gateway", url.Values{"dates": {"shift"}, "zip": {"zip3"}, "requests_per_minute": {"sixty"}, "tokens_per_minute": {"5000"}},
		"whole numbers")
	refused("/policies/gateway", url.Values{"dates": {"shift"}, "zip": {"zip3"}, "requests_per_minute": {"0"}, "tokens_per_minute": {"5000"}},
		"requests_per_minute is 1..100000")
	refused("/policies/gateway", url.Values{"dates": {"blur"}, "zip": {"zip3"}, "requests_per_minute": {"60"}, "tokens_per_minute": {"5000"}},
		"dates")
	refused("/policies/gateway", url.Values{"providers": {"Anthropic!"}, "dates": {"mask"}, "zip": {"mask"}, "requests_per_minute": {"60"},
		"tokens_per_minute": {"5000"}}, "providers are registry names")
	refused("/policies/gateway", url.Values{"dates": {"mask"}, "zip": {"mask"}, "allow": {"everything"}, "requests_per_minute": {"60"},
		"tokens_per_minute": {"5000"}}, "allow lists images, documents, server_tools and mcp")
	// Emptying the risk threshold records scores only; no role checked
	// binds none.
	save("/policies/risk", url.Values{"risk_threshold": {""}})
	save("/policies/device-binding", url.Values{})
	save("/policies/sso", url.Values{})
	if got, want := w.orgPolicies(o.ID), "none |  | false |  |  | shift | zip3 | documents,images | ORGANIZATION | 60 | 250000"; got != want {
		t.Fatalf("after emptying: %q, want %q", got, want)
	}

	// Twenty minutes on, every form asks for the second factor again and
	// changes nothing.
	w.age(adm, 20*time.Minute)
	before = w.orgPolicies(o.ID)
	for path, form := range map[string]url.Values{
		"/policies/risk":           {"risk_threshold": {"10"}},
		"/policies/device-binding": {"role": {"patient"}},
		"/policies/sso":            {"enforce_sso": {"yes"}},
		"/policies/gateway":        {"dates": {"mask"}, "zip": {"mask"}, "requests_per_minute": {"5"}, "tokens_per_minute": {"5000"}},
	} {
		resp, body := w.consolePage("POST", path, adm, form)
		stepUpPage(t, "POST "+path, resp, body)
	}
	if after := w.orgPolicies(o.ID); after != before {
		t.Fatalf("stale posts changed the policies: %s, was %s", after, before)
	}
	resp, body = w.consolePage("POST", "/second-factor", adm, url.Values{"kind": {"totp"}, "code": {totpCode(t, secret, time.Now().Add(30*time.Second))}})
	fresh := cookieValue(setCookie(resp, "ward_session"))
	if resp.StatusCode != http.StatusSeeOther || fresh == "" {
		t.Fatalf("step-up: %d %s", resp.StatusCode, body)
	}
	adm = fresh
	save("/policies/risk", url.Values{"risk_threshold": {"10"}})
	if got := w.orgPolicies(o.ID); !strings.HasPrefix(got, "10 |") {
		t.Fatalf("after the step-up: %s", got)
	}
}

// The API keys page: an admin makes a key whose secret is shown once, on
// the answer's page (not in its URL, not in the list after, not in the
// log), and which works on the API; revokes it, and it stops working.
// Bad values are refused with nothing made; a provider or a lead may not
// read or make keys; a stale second factor is asked again.
func TestConsoleAdminAPIKeys(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Key Clinic")
	w.populate(o, "ckey")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	keys := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.api_keys where org_id = $1`, o.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	resp, body := w.consolePage("GET", "/api-keys", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="no-keys"`) || !strings.Contains(body, `id="scope-audit:read"`) ||
		!strings.Contains(body, `href="/api-keys"`) {
		t.Fatalf("keys page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", "/api-keys", adm, url.Values{"name": {"Nightly audit pull"}, "scope": {"audit:read"},
		"expires_on": {time.Now().AddDate(0, 2, 0).UTC().Format(time.DateOnly)}})
	m := regexp.MustCompile(`id="api-key-secret">(sk_live_[0-9A-Za-z]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil || resp.Header.Get("Location") != "" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("make a key: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	key := m[1]
	if resp, b := w.request("GET", "/v1/audit/events", key, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new key on the API: %d %s", resp.StatusCode, b)
	}
	resp, body = w.consolePage("GET", "/api-keys", adm, nil)
	rm := regexp.MustCompile(`action="/api-keys/([0-9a-f-]{36})/revoke"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || rm == nil || !strings.Contains(body, "Nightly audit pull") || strings.Contains(body, key) {
		t.Fatalf("keys page after: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(w.logs.String(), key) || strings.Contains(w.logs.String(), key[len(key)-12:]) {
		t.Fatal("the key's secret reached the server's log")
	}

	// Bad values: nothing made.
	n := keys()
	for _, bad := range []struct {
		form url.Values
		rule string
	}{
		{url.Values{"name": {"No scope"}}, "scopes must be one or more of"},
		{url.Values{"name": {"Bad scope"}, "scope": {"everything"}}, "scopes must be one or more of"},
		{url.Values{"name": {""}, "scope": {"dsr"}}, "name must be 1..100 characters"},
		{url.Values{"name": {"Bad date"}, "scope": {"dsr"}, "expires_on": {"next week"}}, "expires on is a date"},
		{url.Values{"name": {"Too long"}, "scope": {"dsr"}, "expires_on": {time.Now().AddDate(2, 0, 0).Format(time.DateOnly)}}, "within a year"},
		{url.Values{"name": {"Past"}, "scope": {"dsr"}, "expires_on": {"2020-01-01"}}, "in the future"},
	} {
		resp, body := w.consolePage("POST", "/api-keys", adm, bad.form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, bad.rule) || strings.Contains(body, "sk_live_") {
			t.Fatalf("bad key %v: %d %s", bad.form, resp.StatusCode, body)
		}
	}
	if keys() != n {
		t.Fatalf("refused forms made %d keys", keys()-n)
	}

	// Revoked: it stops working.
	resp, _ = w.consolePage("POST", "/api-keys/"+rm[1]+"/revoke", adm, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/api-keys?done=revoked" {
		t.Fatalf("revoke: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := w.request("GET", "/v1/audit/events", key, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked key on the API: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/api-keys?done=revoked", adm, nil); !strings.Contains(body, "revoked 2") ||
		strings.Contains(body, `/revoke"`) || !strings.Contains(body, `id="notice"`) {
		t.Fatalf("keys page after the revocation: %s", body)
	}
	if resp, _ := w.consolePage("POST", "/api-keys/"+uuid.NewString()+"/revoke", adm, url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking a key that is none: %d", resp.StatusCode)
	}

	// Not an admin: no page, no key.
	live := w.createKey(o, "dsr")
	for _, who := range []string{w.consoleSignIn(o.Prov.Email), func() string { s, _ := w.consoleAdmin(o.Lead.Email); return s }()} {
		if resp, body := w.consolePage("GET", "/api-keys", who, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, live.Prefix) {
			t.Fatalf("non-admin keys page: %d %s", resp.StatusCode, body)
		}
		if resp, _ := w.consolePage("POST", "/api-keys", who, url.Values{"name": {"mine"}, "scope": {"members"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin making a key: %d", resp.StatusCode)
		}
		if resp, _ := w.consolePage("POST", "/api-keys/"+live.ID.String()+"/revoke", who, url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin revoking a key: %d", resp.StatusCode)
		}
	}
	// A stale second factor: asked again, nothing made or revoked.
	n = keys()
	w.age(adm, 20*time.Minute)
	resp, body = w.consolePage("POST", "/api-keys", adm, url.Values{"name": {"Stale"}, "scope": {"dsr"}})
	stepUpPage(t, "make a key", resp, body)
	resp, body = w.consolePage("POST", "/api-keys/"+live.ID.String()+"/revoke", adm, url.Values{})
	stepUpPage(t, "revoke a key", resp, body)
	if keys() != n {
		t.Fatal("a stale form made a key")
	}
	if resp, b := w.request("GET", "/v1/compliance/dsr", live.Key, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the key a stale form revoked: %d %s", resp.StatusCode, b)
	}
}

// Legal holds and emergency-access designations from the console: an
// admin places a hold on a patient and on the org and releases one; bad
// values are refused with nothing placed; a staff member with two
// passkeys is designated and stopped, one with none refused with the
// rule; a patient's id is no staff member's; non-admins and stale second
// factors are refused.
func TestConsoleAdminHoldsAndDesignations(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Hold Clinic")
	w.populate(o, "chld")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	holds := func() string {
		t.Helper()
		var out string
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select concat_ws(' ', count(*), count(*) filter (where released_at is null),
			count(*) filter (where patient_id is not null)) from app.legal_holds where org_id = $1`, o.ID).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	resp, body := w.consolePage("GET", "/legal-holds", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="no-holds"`) || !strings.Contains(body, `href="/legal-holds"`) {
		t.Fatalf("holds page: %d %s", resp.StatusCode, body)
	}
	for _, form := range []url.Values{
		{"covers": {"patient"}, "target": {o.P1.String()}, "reason": {"Matter 2026-114"}},
		{"covers": {"org"}, "reason": {"Regulator inquiry R-7"}},
	} {
		resp, body := w.consolePage("POST", "/legal-holds", adm, form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/legal-holds?done=placed" {
			t.Fatalf("place %v: %d %s", form, resp.StatusCode, body)
		}
	}
	if got := holds(); got != "2 2 1" {
		t.Fatalf("holds after placing: %s", got)
	}
	for _, bad := range []struct {
		form url.Values
		rule string
	}{
		{url.Values{"covers": {"case"}, "target": {"WC-77"}, "reason": {"x"}}, "the case is its id"},
		{url.Values{"covers": {"everything"}, "reason": {"x"}}, "covers the org, a patient or a case"},
		{url.Values{"covers": {"org"}, "reason": {"  "}}, "reason"},
		{url.Values{"covers": {"patient"}, "target": {uuid.NewString()}, "reason": {"Matter 5"}}, ""},
	} {
		resp, body := w.consolePage("POST", "/legal-holds", adm, bad.form)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, bad.rule) {
			t.Fatalf("bad hold %v: %d %s", bad.form, resp.StatusCode, body)
		}
	}
	if got := holds(); got != "2 2 1" {
		t.Fatalf("holds after refused forms: %s", got)
	}
	resp, body = w.consolePage("GET", "/legal-holds?done=placed", adm, nil)
	rel := regexp.MustCompile(`action="/legal-holds/([0-9a-f-]{36})/release"`).FindAllStringSubmatch(body, -1)
	if len(rel) != 2 || !strings.Contains(body, "Matter 2026-114") || !strings.Contains(body, `href="/patients/`+o.P1.String()+`"`) ||
		!strings.Contains(body, `id="notice"`) {
		t.Fatalf("holds listed: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", "/legal-holds/"+rel[0][1]+"/release", adm, url.Values{"note": {""}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("release without a note: %d %s", resp.StatusCode, body)
	}
	resp, _ = w.consolePage("POST", "/legal-holds/"+rel[0][1]+"/release", adm, url.Values{"note": {"Inquiry closed"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/legal-holds?done=released" {
		t.Fatalf("release: %d", resp.StatusCode)
	}
	if got := holds(); got != "2 1 1" {
		t.Fatalf("holds after the release: %s", got)
	}
	if resp, _ := w.consolePage("POST", "/legal-holds/"+rel[0][1]+"/release", adm, url.Values{"note": {"again"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("releasing a released hold: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/legal-holds", adm, nil); !strings.Contains(body, "Inquiry closed") {
		t.Fatalf("the released hold: %s", body)
	}

	// Emergency access: Prov2 holds two passkeys, Prov none.
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&o.Prov2.Token, d1, "laptop")
	w.registerPasskey(&o.Prov2.Token, d2, "phone")
	designated := func() string {
		t.Helper()
		var out string
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select coalesce(string_agg(user_id::text, ',' order by user_id), '')
			from app.break_glass_users where org_id = $1`, o.ID).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	resp, body = w.consolePage("GET", "/break-glass", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/break-glass/users/`+o.Prov2.ID.String()+`/designate"`) ||
		!strings.Contains(body, o.Lead.Email) || strings.Contains(body, o.PatUser.Email) {
		t.Fatalf("emergency access page: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", "/break-glass/users/"+o.Prov.ID.String()+"/designate", adm, url.Values{}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "at least two passkeys") {
		t.Fatalf("designating a member without passkeys: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/break-glass/users/"+o.PatUser.ID.String()+"/designate", adm, url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("designating a patient: %d", resp.StatusCode)
	}
	if got := designated(); got != "" {
		t.Fatalf("refused designations left %s", got)
	}
	resp, _ = w.consolePage("POST", "/break-glass/users/"+o.Prov2.ID.String()+"/designate", adm, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/break-glass?done=designated" {
		t.Fatalf("designate: %d", resp.StatusCode)
	}
	if got := designated(); got != o.Prov2.ID.String() {
		t.Fatalf("designated: %q", got)
	}
	if resp, b := w.activate(d1, "Unresponsive patient, the care team cannot be reached"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the designated member's emergency access: %d %s", resp.StatusCode, b)
	}
	if _, body := w.consolePage("GET", "/break-glass?done=designated", adm, nil); !strings.Contains(body, `action="/break-glass/users/`+o.Prov2.ID.String()+`/stop"`) ||
		!strings.Contains(body, "may now use emergency access") {
		t.Fatalf("the page after designating: %s", body)
	}

	// Not an admin; a stale second factor: refused, nothing changed.
	for _, who := range []string{w.consoleSignIn(o.Prov.Email), w.consoleSignIn(o.PatUser.Email)} {
		for _, p := range []struct {
			path string
			form url.Values
		}{
			{"/legal-holds", url.Values{"covers": {"org"}, "reason": {"mine"}}},
			{"/legal-holds/" + rel[1][1] + "/release", url.Values{"note": {"mine"}}},
			{"/break-glass/users/" + o.Prov2.ID.String() + "/stop", url.Values{}},
			{"/break-glass/users/" + o.Prov.ID.String() + "/designate", url.Values{}},
		} {
			if resp, _ := w.consolePage("POST", p.path, who, p.form); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("non-admin POST %s: %d", p.path, resp.StatusCode)
			}
		}
		if resp, body := w.consolePage("GET", "/legal-holds", who, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Matter") {
			t.Fatalf("non-admin holds page: %d %s", resp.StatusCode, body)
		}
	}
	w.age(adm, 20*time.Minute)
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/legal-holds", url.Values{"covers": {"org"}, "reason": {"stale"}}},
		{"/legal-holds/" + rel[1][1] + "/release", url.Values{"note": {"stale"}}},
		{"/break-glass/users/" + o.Prov2.ID.String() + "/stop", url.Values{}},
	} {
		resp, body := w.consolePage("POST", p.path, adm, p.form)
		stepUpPage(t, "POST "+p.path, resp, body)
	}
	if got := holds(); got != "2 1 1" {
		t.Fatalf("holds after refused posts: %s", got)
	}
	if got := designated(); got != o.Prov2.ID.String() {
		t.Fatalf("designations after refused posts: %q", got)
	}
	// A fresh second factor (the admin's session, aged back): stopped.
	w.age(adm, 0)
	resp, _ = w.consolePage("POST", "/break-glass/users/"+o.Prov2.ID.String()+"/stop", adm, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/break-glass?done=stopped" {
		t.Fatalf("stop: %d", resp.StatusCode)
	}
	if got := designated(); got != "" {
		t.Fatalf("after stopping: %q", got)
	}
}

// Every admin form is refused unless it comes from Ward's own pages, in
// each way a browser or a forger may send it, and to an admin's session
// still owing its second factor; nothing changes.
func TestConsoleAdminCrossSitePosts(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Forged Admin Clinic")
	w.populate(o, "cfad")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	key := w.createKey(o, "dsr")
	var hold struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"reason": "Matter 1"}, http.StatusCreated, &hold)
	state := func() string {
		t.Helper()
		var out string
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select concat_ws(' ',
			(select count(*) from app.api_keys where org_id = $1), (select count(*) from app.api_keys where org_id = $1 and revoked_at is null),
			(select count(*) from app.legal_holds where org_id = $1), (select count(*) from app.legal_holds where org_id = $1 and released_at is null),
			(select count(*) from app.break_glass_users where org_id = $1))`, o.ID).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out + " " + w.orgPolicies(o.ID)
	}
	u, _ := url.Parse(w.base)
	sibling := u.Scheme + "://evil." + u.Hostname()
	posts := map[string]url.Values{
		"/policies/risk":           {"risk_threshold": {"1"}},
		"/policies/device-binding": {"role": {"patient"}},
		"/policies/sso":            {"enforce_sso": {"yes"}},
		"/policies/gateway":        {"dates": {"shift"}, "zip": {"zip3"}, "allow": {"mcp"}, "requests_per_minute": {"5"}, "tokens_per_minute": {"5000"}},
		"/api-keys":                {"name": {"forged"}, "scope": {"members"}},
		"/api-keys/" + key.ID.String() + "/revoke": {},
		"/legal-holds": {"covers": {"org"}, "reason": {"forged"}},
		"/legal-holds/" + hold.ID.String() + "/release":           {"note": {"forged"}},
		"/break-glass/users/" + o.Prov.ID.String() + "/designate": {},
		"/break-glass/users/" + o.Prov2.ID.String() + "/stop":     {},
	}
	variants := []http.Header{
		{},
		{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {sibling}},
		{"Origin": {"https://evil.example"}},
		{"Origin": {"null"}},
		{"Origin": {strings.Replace(w.base, "http://", "https://", 1)}},
	}
	// A session still owing its second factor reaches none of the pages,
	// and none of the forms.
	pend := w.consoleSignIn(o.Admin.Email)
	for _, path := range []string{"/api-keys", "/legal-holds", "/break-glass", "/policies"} {
		if resp, body := w.consolePage("GET", path, pend, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/" ||
			strings.Contains(body, key.Prefix) {
			t.Fatalf("pending GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	before := state()
	for path, form := range posts {
		if resp, body := w.consolePage("POST", path, pend, form); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "sk_live_") {
			t.Fatalf("pending POST %s: %d %s", path, resp.StatusCode, body)
		}
	}
	for path, form := range posts {
		for i, v := range variants {
			for _, ctype := range []string{"application/x-www-form-urlencoded", "text/plain"} {
				h := v.Clone()
				h.Set("Content-Type", ctype)
				h.Set("Cookie", "ward_session="+adm)
				resp, b := w.browse("POST", path, h, form.Encode())
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "cross_site_request") || strings.Contains(string(b), "sk_live_") {
					t.Fatalf("POST %s, variant %d, %s: %d %s", path, i, ctype, resp.StatusCode, b)
				}
			}
		}
	}
	if after := state(); after != before {
		t.Fatalf("forged posts changed keys, holds, designations or policies: %s, was %s", after, before)
	}
	// The same forms from Ward's own page do change it (the check above
	// is not vacuous).
	if resp, _ := w.consolePage("POST", "/policies/risk", adm, posts["/policies/risk"]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin risk form: %d", resp.StatusCode)
	}
	if after := state(); after == before {
		t.Fatal("the same-origin form changed nothing")
	}
}
