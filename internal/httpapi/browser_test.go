package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/httpapi"
)

// noRedirect is a client that shows redirects instead of following them.
func (w *world) noRedirect() *http.Client {
	c := *w.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (w *world) browse(method, path string, hdr http.Header, body string) (*http.Response, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header = hdr.Clone()
	return httpapi.SendForTest(w.t, w.noRedirect(), req)
}

// setCookie returns the raw Set-Cookie line for name.
func setCookie(resp *http.Response, name string) string {
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}

func cookieValue(line string) string {
	_, v, _ := strings.Cut(line, "=")
	v, _, _ = strings.Cut(v, ";")
	return v
}

// The whole browser path behind a TLS-terminating proxy: Ward serves plain
// HTTP, its public base URL is https, so cookies are __Host-, Secure,
// HttpOnly, SameSite=Strict, and HSTS is sent.
func TestBrowserSignIn(t *testing.T) {
	const base = "https://ward.example"
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.BaseURL = base }))
	o := w.createOrg("Browser Org")
	m := w.addMember(o, "bea@example.test", "provider")
	page := http.Header{"Origin": {base}, "Sec-Fetch-Site": {"same-origin"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	secure := func(t *testing.T, line, name string) {
		t.Helper()
		for _, attr := range []string{"__Host-" + name + "=", "; Path=/", "; HttpOnly", "; Secure", "; SameSite=Strict"} {
			if !strings.Contains(line, attr) {
				t.Fatalf("cookie %q lacks %q", line, attr)
			}
		}
		if strings.Contains(line, "Domain=") {
			t.Fatalf("a __Host- cookie with a Domain: %q", line)
		}
	}

	// 1. The sign-in page asks for a link; the verifier comes back as a
	// cookie.
	resp, body := w.browse("POST", "/v1/auth/magic-link", with(page, "Content-Type", "application/json"),
		`{"email":"`+m.Email+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("link request: %d %s", resp.StatusCode, body)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Fatalf("no HSTS behind an https base URL: %q", hsts)
	}
	vline := setCookie(resp, "__Host-ward_verifier")
	secure(t, vline, "ward_verifier")
	verifier := "__Host-ward_verifier=" + cookieValue(vline)

	// 2. The emailed link opens the landing page, which spends nothing.
	// The mail is sent in the background: wait for it.
	var links [][]string
	for deadline := time.Now().Add(30 * time.Second); len(links) == 0 && time.Now().Before(deadline); {
		if links = linkRE.FindAllStringSubmatch(w.outbox.String(), -1); len(links) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(links) == 0 {
		t.Fatalf("no link mailed: %s", w.outbox.String())
	}
	token := links[len(links)-1][1]
	resp, body = w.browse("GET", "/v1/auth/magic?token="+token, http.Header{"Cookie": {verifier}, "Sec-Fetch-Site": {"none"}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="/v1/auth/magic"`) {
		t.Fatalf("landing: %d %s", resp.StatusCode, body)
	}

	// 3. Its button posts the form: 303 to the console, the session in a
	// cookie and nowhere else.
	resp, body = w.browse("POST", "/v1/auth/magic", with(page, "Cookie", verifier,
		"Content-Type", "application/x-www-form-urlencoded"), url.Values{"token": {token}}.Encode())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"/" {
		t.Fatalf("form sign-in: %d Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	sline := setCookie(resp, "__Host-ward_session")
	secure(t, sline, "ward_session")
	// The browser is remembered for the per-address link limit (00144).
	secure(t, setCookie(resp, "__Host-ward_device"), "ward_device")
	sessionToken := cookieValue(sline)
	if len(sessionToken) < 40 || strings.Contains(string(body), sessionToken) || len(body) != 0 {
		t.Fatalf("the 303 carries a body: %q", body)
	}
	if !strings.Contains(setCookie(resp, "__Host-ward_verifier"), "Max-Age=0") {
		t.Fatalf("the verifier cookie is not cleared: %v", resp.Header.Values("Set-Cookie"))
	}
	session := "__Host-ward_session=" + sessionToken

	// 4. The cookie alone authenticates.
	resp, body = w.browse("GET", "/v1/me", http.Header{"Cookie": {session}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), m.ID.String()) {
		t.Fatalf("me with the cookie: %d %s", resp.StatusCode, body)
	}
	// The plain name is not the session cookie when the base URL is https.
	if resp, _ := w.browse("GET", "/v1/me", http.Header{"Cookie": {"ward_session=" + sessionToken}}, ""); resp.StatusCode != 401 {
		t.Fatalf("un-prefixed cookie accepted: %d", resp.StatusCode)
	}

	// 5. Logout from another site is refused; from our own page it works.
	resp, body = w.browse("POST", "/v1/auth/logout", http.Header{"Cookie": {session}, "Sec-Fetch-Site": {"cross-site"},
		"Origin": {"https://evil.example"}}, "")
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "cross_site_request" {
		t.Fatalf("cross-site logout: %d %s", resp.StatusCode, body)
	}
	resp, body = w.browse("POST", "/v1/auth/logout", with(page, "Cookie", session), "")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(setCookie(resp, "__Host-ward_session"), "Max-Age=0") {
		t.Fatalf("logout: %d %s %v", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if resp, body := w.browse("GET", "/v1/me", http.Header{"Cookie": {session}}, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d %s", resp.StatusCode, body)
	}

	// JSON clients get the token in the body, unless the org requires
	// their role to bind sessions (a provider, in a new org): then only a
	// DPoP sign-in gets a token, and without a proof the session is a
	// browser session in the cookie only.
	jsonSignIn := func(email string, hdr ...string) (*http.Response, []byte) {
		link, err := w.ops.OperatorLink(context.Background(), w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		return w.request("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, hdr...)
	}
	resp, body = jsonSignIn(m.Email) // an API client: no proof, no browser
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "device_binding_required" ||
		setCookie(resp, "__Host-ward_session") != "" {
		t.Fatalf("JSON sign-in of a provider without a proof, not from Ward's pages: %d %s", resp.StatusCode, body)
	}
	resp, body = jsonSignIn(m.Email, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"token":"`) ||
		!strings.Contains(string(body), `"device_binding_required":true`) || setCookie(resp, "__Host-ward_session") == "" {
		t.Fatalf("JSON sign-in of a provider without a proof: %d %s", resp.StatusCode, body)
	}
	resp, body = jsonSignIn(m.Email, w.signInProof("/v1/auth/magic")...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"token":"`) ||
		!strings.Contains(string(body), `"token_type":"DPoP"`) {
		t.Fatalf("JSON sign-in of a provider with a proof: %d %s", resp.StatusCode, body)
	}
	pat := w.addMember(o, "pat@example.test", "patient")
	resp, body = jsonSignIn(pat.Email)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"token":"`) ||
		!strings.Contains(string(body), `"token_type":"Bearer"`) {
		t.Fatalf("JSON sign-in of a patient: %d %s", resp.StatusCode, body)
	}
}

// Without https in the base URL, cookies are plain and there is no HSTS.
func TestPlainHTTPCookies(t *testing.T) {
	w := newWorld(t)
	resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "x@example.test"})
	line := setCookie(resp, "ward_verifier")
	if line == "" || strings.Contains(line, "Secure") || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("cookie %q, HSTS %q", line, resp.Header.Get("Strict-Transport-Security"))
	}
}

// TestCSRF makes real cross-site requests with a session cookie: every
// state change is refused unless the browser says it came from our own
// origin; bearer clients are not affected.
func TestCSRF(t *testing.T) {
	// Plain bearer tokens, also sent as cookies: the test is about the
	// origin checks, not device binding.
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("CSRF Org")
	origin := w.srv.URL // the test server's base URL is its own
	cookie := "ward_session=" + o.Admin.Token
	patient := `{"name":"Forged Patient"}`
	json := "application/json"
	cases := []struct {
		name         string
		method, path string
		hdr          http.Header
		body         string
		status       int
	}{
		{"cross-site by Sec-Fetch-Site", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}, "Content-Type": {json}}, patient, 403},
		{"cross-site by Origin", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}, "Content-Type": {json}}, patient, 403},
		{"same-site is not same-origin", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-site"}, "Content-Type": {json}}, patient, 403},
		{"Sec-Fetch-Site wins over Origin", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {origin}, "Content-Type": {json}}, patient, 403},
		{"opaque origin", "POST", "/v1/patients", http.Header{"Cookie": {cookie}, "Origin": {"null"}, "Content-Type": {json}}, patient, 403},
		{"neither header", "POST", "/v1/patients", http.Header{"Cookie": {cookie}, "Content-Type": {json}}, patient, 403},
		{"cross-site PUT", "PUT", "/v1/org/session-policy",
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {json}},
			`{"session_idle_timeout_min":1,"session_absolute_max_min":5}`, 403},
		{"cross-site PATCH", "PATCH", "/v1/members/" + o.Admin.ID.String(),
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}, "Content-Type": {json}}, `{"role":"patient"}`, 403},
		{"cross-site DELETE", "DELETE", "/v1/members/" + o.Admin.ID.String(),
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}}, "", 403},
		{"cross-site logout", "POST", "/v1/auth/logout", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}, "", 403},
		{"cross-site form sign-in", "POST", "/v1/auth/magic",
			http.Header{"Origin": {"https://evil.example"}, "Content-Type": {"application/x-www-form-urlencoded"}},
			"token=" + strings.Repeat("A", 43), 403},
		{"cross-site form sign-in by Sec-Fetch-Site", "POST", "/v1/auth/magic",
			http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"}},
			"token=" + strings.Repeat("A", 43), 403},
		{"form sign-in without origin headers", "POST", "/v1/auth/magic",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "token=" + strings.Repeat("A", 43), 403},
		{"text/plain sign-in from another site", "POST", "/v1/auth/magic",
			http.Header{"Origin": {"https://evil.example"}, "Content-Type": {"text/plain"}}, `{"token":"x"}`, 403},
		{"cross-site link request", "POST", "/v1/auth/magic-link",
			http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {json}}, `{"email":"victim@example.test"}`, 403},
		{"cross-site link request by Origin", "POST", "/v1/auth/magic-link",
			http.Header{"Origin": {"https://evil.example"}, "Content-Type": {json}}, `{"email":"victim@example.test"}`, 403},

		// Accepted: our own pages, safe methods, and header credentials.
		{"same-origin by Sec-Fetch-Site", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {json}}, patient, 201},
		{"same-origin by Origin", "POST", "/v1/patients",
			http.Header{"Cookie": {cookie}, "Origin": {origin}, "Content-Type": {json}}, patient, 201},
		{"cross-site GET", "GET", "/v1/me", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}}, "", 200},
		{"bearer from anywhere", "POST", "/v1/patients", http.Header{"Authorization": {"Bearer " + o.Admin.Token},
			"Origin": {"https://evil.example"}, "Content-Type": {json}}, patient, 201},
		{"app link request", "POST", "/v1/auth/magic-link", http.Header{"Content-Type": {json}}, `{"email":"app@example.test"}`, 202},
		{"same-origin form sign-in reaches the service", "POST", "/v1/auth/magic",
			http.Header{"Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/x-www-form-urlencoded"}},
			"token=" + strings.Repeat("A", 43), 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := w.browse(c.method, c.path, c.hdr, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.status == 403 && problemCode(t, body) != "cross_site_request" {
				t.Fatalf("code: %s", body)
			}
		})
	}
	// Nothing the forged requests asked for happened.
	var n int
	_ = w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.patients`).Scan(&n)
	if n != 3 {
		t.Fatalf("%d patients, want the 3 accepted creates", n)
	}
	w.do("GET", "/v1/me", o.Admin.Token, nil, http.StatusOK, nil) // not logged out, still admin
	var pol struct {
		Idle int `json:"session_idle_timeout_min"`
	}
	w.do("GET", "/v1/org/session-policy", o.Admin.Token, nil, http.StatusOK, &pol)
	if pol.Idle == 1 {
		t.Fatal("the cross-site policy change went through")
	}
}
