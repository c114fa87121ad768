package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// samlIdP starts crewjam/saml's samlidp with a fresh key and certificate
// and one user.
func samlIdP(t *testing.T, user, email, password string) *httptest.Server {
	srv, _ := samlIdPStore(t, user, email, password)
	return srv
}

// samlIdPStore is samlIdP with the store of its users and sessions.
func samlIdPStore(t *testing.T, user, email, password string) (*httptest.Server, *samlidp.MemoryStore) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "samlidp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewUnstartedServer(nil)
	// https, as Ward requires of an IdP's sign-on URL: the certificate is
	// httptest's, which the test browsers trust (testRoots).
	u, _ := url.Parse("https://" + srv.Listener.Addr().String())
	store := &samlidp.MemoryStore{}
	idp, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: store,
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.StartTLS()
	t.Cleanup(srv.Close)
	put(t, srv.URL+"/users/"+user, `{"name": "`+user+`", "password": "`+password+`", "email": "`+email+`"}`)
	return srv, store
}

// idpClient is an HTTP client that trusts the test IdPs' certificate.
func idpClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: testRoots()}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func put(t *testing.T, u, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
	resp, err := idpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: %d %s", u, resp.StatusCode, b)
	}
}

var loginInput = regexp.MustCompile(`name="(SAMLRequest|RelayState)" value="([^"]*)"`)

var samlInput = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

// samlForm reads the auto-posting form an IdP answers with.
func samlForm(t *testing.T, body []byte) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range samlInput.FindAllSubmatch(body, -1) {
		v.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	if v.Get("SAMLResponse") == "" {
		t.Fatalf("no SAMLResponse in %s", body)
	}
	return v
}

var samlConfirmInput = regexp.MustCompile(`name="ward_confirm" value="([^"]*)"`)

// idpConfirmPage posts an IdP-initiated form to acs and returns the fields
// of the confirmation page Ward answers with (the response and its
// confirmation), failing unless it is that page and no session was set.
func (b *browser) idpConfirmPage(acs string, form url.Values) url.Values {
	b.t.Helper()
	resp, body := b.post(acs, form)
	m := samlConfirmInput.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || b.session() != "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		b.t.Fatalf("IdP-initiated response: want Ward's confirmation page, got %d %s", resp.StatusCode, body)
	}
	page := samlForm(b.t, body)
	page.Set("ward_confirm", html.UnescapeString(string(m[1])))
	return page
}

// postFrom posts form to u as a page of site would (Sec-Fetch-Site).
func (b *browser) postFrom(site, u string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// idpConfirmed posts an IdP-initiated form to acs, then the confirmation
// page's Continue, and returns the answer to the Continue.
func (b *browser) idpConfirmed(acs string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	return b.postFrom("same-origin", acs, b.idpConfirmPage(acs, form))
}

func (b *browser) post(u string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// samlLogin runs the browser through the IdP's login page for an
// AuthnRequest it was sent to, and returns the form the IdP posts back.
func (b *browser) samlLogin(idp *httptest.Server, resp *http.Response, body []byte, user, password string) url.Values {
	b.t.Helper()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`name="password"`)) {
		b.t.Fatalf("expected the IdP's login form, got %d: %s", resp.StatusCode, body)
	}
	form := url.Values{"user": {user}, "password": {password}}
	for _, m := range loginInput.FindAllSubmatch(body, -1) {
		form.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	_, body = b.post(idp.URL+"/sso", form)
	return samlForm(b.t, body)
}

// TestSAML signs in through crewjam/saml's samlidp: SP-initiated (signed
// assertion, audience, recipient, InResponseTo, times checked by Ward's
// SP), with the browser binding; a replayed or tampered response refused;
// IdP-initiated refused unless the connection allows it, and then a replay
// of the same assertion refused.
func TestSAML(t *testing.T) {
	// An SSO session is a browser session (the cookie only); this test
	// reads it as a bearer token, so its org binds no sessions
	// (TestDeviceBindingPolicy holds browser sessions to their cookie).
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("SAML Org")
	idp := samlIdP(t, "alice", "alice@saml.test", "wonderland")
	resp, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP metadata: %d", resp.StatusCode)
	}
	var conn sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp", "idp_metadata": string(md)},
		http.StatusCreated, &conn)
	if conn.ACSURL != w.base+"/v1/sso/saml/"+conn.ID.String()+"/acs" {
		t.Fatalf("connection %+v", conn)
	}
	// The IdP learns the SP from Ward's metadata.
	resp, spMD := (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/metadata")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(spMD, []byte(conn.ACSURL)) {
		t.Fatalf("SP metadata: %d %s", resp.StatusCode, spMD)
	}
	put(t, idp.URL+"/services/ward", string(spMD))
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "saml.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	// The org proves the domain by DNS: only then does an IdP identity link
	// to an existing member by address.
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/saml.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	alice := w.addMember(a, "alice@saml.test", identity.RoleAdmin)

	// SP-initiated.
	b := w.browser(t)
	resp, body := b.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
	form := b.samlLogin(idp, resp, body, "alice", "wonderland")
	acs := w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/acs"
	resp, body = b.post(acs, form)
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("SP-initiated ACS: %d %s", resp.StatusCode, body)
	}
	var me struct {
		UserID  string   `json:"user_id"`
		AAL     int      `json:"aal"`
		AMR     []string `json:"amr"`
		Pending string   `json:"pending"`
	}
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if me.UserID != alice.ID.String() || me.AAL != 1 || me.AMR[0] != "sso" || me.Pending != "mfa" {
		t.Fatalf("SAML session %+v", me)
	}
	// The domain is DNS-verified: routing by address works.
	var ds struct {
		Domains []sso.Domain `json:"domains"`
	}
	w.do("GET", "/v1/sso/domains", a.Admin.Token, nil, http.StatusOK, &ds)
	if ds.Domains[0].VerifiedAt == nil || ds.Domains[0].VerifiedBy != "dns" {
		t.Fatalf("domain %+v", ds.Domains[0])
	}
	// The same response again: its state is spent.
	resp, body = b.post(acs, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_state_invalid" {
		t.Fatalf("replayed SP-initiated response: %d %s", resp.StatusCode, body)
	}

	// A tampered response (another NameID): the signature fails.
	b = w.browser(t)
	resp, body = b.get(w.srv.URL + "/v1/sso/start?email=" + url.QueryEscape("alice@saml.test"))
	form = b.samlLogin(idp, resp, body, "alice", "wonderland")
	raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	form.Set("SAMLResponse", base64.StdEncoding.EncodeToString(bytes.ReplaceAll(raw, []byte("alice@saml.test"),
		[]byte("admin@saml.test"))))
	resp, body = b.post(acs, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" || b.session() != "" {
		t.Fatalf("tampered response: %d %s", resp.StatusCode, body)
	}
	// Another browser cannot finish this browser's sign-in.
	b = w.browser(t)
	resp, body = b.get(w.srv.URL + "/v1/sso/start?email=" + url.QueryEscape("alice@saml.test"))
	form = b.samlLogin(idp, resp, body, "alice", "wonderland")
	resp, body = w.browser(t).post(acs, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_wrong_browser" {
		t.Fatalf("another browser's response: %d %s", resp.StatusCode, body)
	}

	// IdP-initiated: off by default.
	put(t, idp.URL+"/shortcuts/ward", `{"name": "ward", "service_provider": "`+conn.EntityID+`"}`)
	idpInitiated := func(b *browser) url.Values {
		resp, body := b.get(idp.URL + "/login/ward")
		if bytes.Contains(body, []byte(`name="password"`)) {
			b.post(idp.URL+"/login", url.Values{"user": {"alice"}, "password": {"wonderland"}})
			resp, body = b.get(idp.URL + "/login/ward")
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d %s", resp.StatusCode, body)
		}
		return samlForm(t, body)
	}
	b = w.browser(t)
	form = idpInitiated(b)
	if form.Get("RelayState") != "" {
		t.Fatalf("RelayState %q", form.Get("RelayState"))
	}
	resp, body = b.post(acs, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" {
		t.Fatalf("IdP-initiated on a connection that does not allow it: %d %s", resp.StatusCode, body)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'idp_initiated_off'`, a.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d idp_initiated_off refusals (%v)", n, err)
	}

	// A connection that allows it: accepted once, a replay refused.
	var open sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp open", "idp_metadata": string(md),
		"allow_idp_initiated": true}, http.StatusCreated, &open)
	_, spMD = (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + open.ID.String() + "/metadata")
	put(t, idp.URL+"/services/ward-open", string(spMD))
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "saml.test", "connection_id": open.ID},
		http.StatusConflict, nil)
	put(t, idp.URL+"/shortcuts/ward", `{"name": "ward", "service_provider": "`+open.EntityID+`"}`)
	// The domain was verified for the first connection: a second one the
	// admin adds (an IdP they may run themselves) links no existing member
	// by address (migration 00160).
	b = w.browser(t)
	form = idpInitiated(b)
	openACS := w.srv.URL + "/v1/sso/saml/" + open.ID.String() + "/acs"
	resp, body = b.idpConfirmed(openACS, form)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" {
		t.Fatalf("an existing member linked through a connection the domain was not verified for: %d %s", resp.StatusCode, body)
	}
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'domain_not_verified'`, a.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d domain_not_verified refusals (%v)", n, err)
	}
	// The first connection goes (its domain with it); the domain, proved
	// again by DNS for the second, links through it.
	w.do("DELETE", "/v1/sso/connections/"+conn.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	var again sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "saml.test", "connection_id": open.ID},
		http.StatusCreated, &again)
	dns.set(again.TXTName, again.TXTValue)
	w.do("POST", "/v1/sso/domains/saml.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	b = w.browser(t)
	form = idpInitiated(b)
	// Login CSRF: a response of the IdP's, posted by any page, is shown on
	// a page of Ward's own that names the account; nothing is signed in
	// or recorded until that page's Continue posts it back from this
	// browser.
	signins := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
		    and action = 'auth.signin'`, a.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := signins()
	resp, body = b.post(openACS, form)
	if !bytes.Contains(body, []byte("alice@saml.test")) {
		t.Fatalf("the confirmation page does not name the account: %s", body)
	}
	page := b.idpConfirmPage(openACS, form)
	// The page's form posted by another browser (no key), with the
	// confirmation changed or left out, or from another site: the page
	// again (with a new key), no session.
	if resp, body := w.browser(t).postFrom("same-origin", openACS, page); resp.StatusCode != http.StatusOK ||
		!samlConfirmInput.Match(body) {
		t.Fatalf("the confirmation posted by another browser: %d %s", resp.StatusCode, body)
	}
	forged := url.Values{"SAMLResponse": {page.Get("SAMLResponse")}, "ward_confirm": {strings.Repeat("A", len(page.Get("ward_confirm")))}}
	for what, f := range map[string]url.Values{"a changed confirmation": forged,
		"without a confirmation": {"SAMLResponse": {page.Get("SAMLResponse")}}} {
		if resp, body := b.postFrom("same-origin", openACS, f); resp.StatusCode != http.StatusOK || b.session() != "" ||
			!samlConfirmInput.Match(body) {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, body)
		}
	}
	page = b.idpConfirmPage(openACS, form)
	if resp, body := b.postFrom("cross-site", openACS, page); resp.StatusCode != http.StatusOK || b.session() != "" ||
		!samlConfirmInput.Match(body) {
		t.Fatalf("the confirmation posted from another site: %d %s", resp.StatusCode, body)
	}
	if n := signins(); n != before {
		t.Fatalf("%d sign-in events before the confirmation", n-before)
	}
	page = b.idpConfirmPage(openACS, form)
	resp, body = b.postFrom("same-origin", openACS, page)
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("IdP-initiated on a connection that allows it: %d %s", resp.StatusCode, body)
	}
	resp, body = w.browser(t).idpConfirmed(openACS, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" {
		t.Fatalf("replayed IdP-initiated response: %d %s", resp.StatusCode, body)
	}
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'replayed'`, a.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d replay refusals (%v)", n, err)
	}
	// A response the IdP made for the first connection's SP, posted to the
	// second's assertion consumer: another destination and audience.
	put(t, idp.URL+"/shortcuts/ward", `{"name": "ward", "service_provider": "`+conn.EntityID+`"}`)
	b = w.browser(t)
	form = idpInitiated(b)
	resp, body = b.post(openACS, form)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" {
		t.Fatalf("a response for another SP: %d %s", resp.StatusCode, body)
	}
	var reason string
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' order by at desc limit 1`, a.ID).Scan(&reason); err != nil ||
		(reason != "wrong_recipient" && reason != "wrong_audience") {
		t.Fatalf("a response for another SP refused for %q (%v)", reason, err)
	}
}

// TestSAMLTimes: a response checked by a clock ten minutes after the IdP's
// (the assertion is past its issue delay) or ten minutes before it (issued
// in the future, beyond the bounded skew) is refused.
func TestSAMLTimes(t *testing.T) {
	for _, c := range []struct {
		name  string
		shift time.Duration
	}{{"late", 10 * time.Minute}, {"early", -10 * time.Minute}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, withSSOConfig(func(cfg *sso.Config) { cfg.SAMLClock = dsig.NewFakeClockAt(time.Now().Add(c.shift)) }))
			a := w.createOrg("SAML Times " + c.name)
			idp := samlIdP(t, "bob", "bob@times.test", "builder")
			_, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
			var conn sso.SAMLConnection
			w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp", "idp_metadata": string(md)},
				http.StatusCreated, &conn)
			_, spMD := (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/metadata")
			put(t, idp.URL+"/services/ward", string(spMD))
			b := w.browser(t)
			resp, body := b.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
			form := b.samlLogin(idp, resp, body, "bob", "builder")
			resp, body = b.post(w.srv.URL+"/v1/sso/saml/"+conn.ID.String()+"/acs", form)
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" {
				t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
			}
			var reason string
			if err := w.env.Super.Pool.QueryRow(t.Context(), `select details->>'reason' from audit.events where org_id = $1
			    and action = 'auth.signin' and outcome = 'denied'`, a.ID).Scan(&reason); err != nil || reason != "outside_validity" {
				t.Fatalf("%s: refused for %q (%v)", c.name, reason, err)
			}
		})
	}
}

// TestSAMLSignOnHTTPS: /v1/sso/start, which anyone may call, sends the
// browser from Ward's origin to the IdP's sign-on URL, so it must be
// https: metadata whose HTTP-Redirect SSO URL is http is refused at
// creation (400 invalid_input), and a connection stored with one before
// the rule starts no sign-in (403 sso_idp_address_refused, no redirect).
// The https IdP on 127.0.0.1 is the one TestSAML signs in through.
func TestSAMLSignOnHTTPS(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	a := w.createOrg("Redirect Org")
	idp := samlIdP(t, "alice", "alice@saml.test", "wonderland")
	_, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	if !strings.Contains(string(md), idp.URL+"/sso") || !strings.HasPrefix(idp.URL, "https://") {
		t.Fatalf("the test IdP's sign-on URL is not %s/sso", idp.URL)
	}
	for _, evil := range []string{"http://phish.example/login", "http://127.0.0.1:1/sso", "javascript:alert(1)", "//phish.example/login"} {
		body := w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "x",
			"idp_metadata": strings.ReplaceAll(string(md), idp.URL+"/sso", evil)}, http.StatusBadRequest, nil)
		if problemCode(t, body) != "invalid_input" {
			t.Fatalf("%s: %s", evil, body)
		}
	}
	var conn sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "ok", "idp_metadata": string(md)},
		http.StatusCreated, &conn)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String()
	resp, err := noFollow.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), idp.URL+"/sso?") {
		t.Fatalf("start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A connection stored with an http sign-on URL (before the rule).
	if _, err := w.env.Super.Pool.Exec(t.Context(), `update app.sso_connections set idp_metadata = replace(idp_metadata, $1, $2)
	    where id = $3`, idp.URL+"/sso", "http://phish.example/login", conn.ID); err != nil {
		t.Fatal(err)
	}
	resp, err = noFollow.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_idp_address_refused" ||
		resp.Header.Get("Location") != "" {
		t.Fatalf("start through a stored http sign-on URL: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// TestSAMLConfirmNamesTheLinkedAccount: the confirmation page of an
// IdP-initiated sign-in names the account the session would be for. A
// subject linked already signs in its user whatever address the response
// carries, so an IdP (its admin, or a user who may edit their own address)
// that puts the visitor's address in a response for the attacker's linked
// subject gets a page naming the attacker's account, not the visitor's.
// Fails without migration 00296: the page named the address asserted.
func TestSAMLConfirmNamesTheLinkedAccount(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("SAML Confirm Org")
	idp, store := samlIdPStore(t, "carol", "carol@confirm.test", "lantern")
	_, md := (&browser{t: t, c: idpClient()}).get(idp.URL + "/metadata")
	var conn sso.SAMLConnection
	w.do("POST", "/v1/sso/saml/connections", a.Admin.Token, map[string]any{"name": "samlidp", "idp_metadata": string(md),
		"allow_idp_initiated": true}, http.StatusCreated, &conn)
	_, spMD := (&browser{t: t, c: idpClient()}).get(w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/metadata")
	put(t, idp.URL+"/services/ward", string(spMD))
	put(t, idp.URL+"/shortcuts/ward", `{"name": "ward", "service_provider": "`+conn.EntityID+`"}`)
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "confirm.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/confirm.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	carol := w.addMember(a, "carol@confirm.test", identity.RoleProvider)
	w.addMember(a, "dana@confirm.test", identity.RoleProvider)
	acs := w.srv.URL + "/v1/sso/saml/" + conn.ID.String() + "/acs"

	// The IdP's session for carol, with an opaque NameID (a persistent id)
	// and the address it asserts set by the test, as the IdP's admin would.
	attacker := w.browser(t)
	if resp, body := attacker.get(idp.URL + "/login/ward"); resp.StatusCode != http.StatusOK {
		t.Fatalf("IdP login form: %d %s", resp.StatusCode, body)
	}
	attacker.post(idp.URL+"/login", url.Values{"user": {"carol"}, "password": {"lantern"}})
	assert := func(email string) url.Values {
		t.Helper()
		keys, err := store.List("/sessions/")
		if err != nil || len(keys) != 1 {
			t.Fatalf("IdP sessions %v (%v)", keys, err)
		}
		var s saml.Session
		if err := store.Get("/sessions/"+keys[0], &s); err != nil {
			t.Fatal(err)
		}
		s.NameID, s.NameIDFormat, s.UserEmail = "carol-7f3a9c", string(saml.PersistentNameIDFormat), email
		if err := store.Put("/sessions/"+keys[0], &s); err != nil {
			t.Fatal(err)
		}
		resp, body := attacker.get(idp.URL + "/login/ward")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("IdP-initiated: %d %s", resp.StatusCode, body)
		}
		return samlForm(t, body)
	}
	// The first sign-in links the opaque subject to carol by her address.
	resp, body := attacker.idpConfirmed(acs, assert("carol@confirm.test"))
	var me struct {
		UserID string `json:"user_id"`
	}
	if resp.StatusCode != http.StatusSeeOther || attacker.session() == "" {
		t.Fatalf("carol's IdP-initiated sign-in: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/me", attacker.session(), nil, http.StatusOK, &me)
	if me.UserID != carol.ID.String() {
		t.Fatalf("signed in as %s, not carol", me.UserID)
	}

	// Then a response for carol's subject carrying dana's address, posted
	// by a page dana visits: Ward's page names carol's account.
	form := assert("dana@confirm.test")
	dana := w.browser(t)
	_, body = dana.post(acs, form)
	if !samlConfirmInput.Match(body) || !bytes.Contains(body, []byte("carol@confirm.test")) ||
		bytes.Contains(body, []byte("dana@confirm.test")) {
		t.Fatalf("the confirmation page does not name the account the session is for: %s", body)
	}
}
