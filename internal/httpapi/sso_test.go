package httpapi_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// browser is a cookie-keeping HTTP client that follows redirects between
// Ward and an IdP, and stops when Ward sends it to its root (a finished
// sign-in) or answers with an error.
type browser struct {
	t      *testing.T
	w      *world
	c      *http.Client
	jar    *cookiejar.Jar
	visits []*url.URL
}

func (w *world) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, w: w, jar: jar}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: testRoots()} // the IdPs' certificate
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.visits = append(b.visits, req.URL)
			if strings.HasPrefix(req.URL.String(), w.srv.URL) && req.URL.Path == "/" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

func (b *browser) get(u string) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// session is the Ward session cookie the browser holds ("" none).
func (b *browser) session() string {
	u, _ := url.Parse(b.w.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "ward_session" {
			return c.Value
		}
	}
	return ""
}

// callbackURL is the last visit to Ward's OIDC callback.
func (b *browser) callbackURL() string {
	for i := len(b.visits) - 1; i >= 0; i-- {
		if b.visits[i].Path == "/v1/sso/oidc/callback" {
			return b.visits[i].String()
		}
	}
	b.t.Fatal("the browser never reached the callback")
	return ""
}

// zitadelOP starts zitadel/oidc's example OpenID provider with one web
// client whose redirect URI is Ward's callback. Its user test-user@<host>
// (password verysecure) has the verified address test-user@zitadel.ch,
// given out by the userinfo endpoint.
func zitadelOP(t *testing.T, w *world, clientID, secret string) string {
	op := httptest.NewUnstartedServer(nil)
	issuer := "https://" + op.Listener.Addr().String()
	clients := map[string]*storage.Client{
		clientID: storage.WebClient(clientID, secret, w.base+"/v1/sso/oidc/callback"),
	}
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)
	op.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	op.StartTLS()
	t.Cleanup(op.Close)
	return issuer
}

// zitadelLogin signs the browser in at the example OP's login page.
func (b *browser) zitadelLogin(issuer string, resp *http.Response) *http.Response {
	b.t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/login/username") {
		b.t.Fatalf("expected the OP's login page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	host := strings.Split(strings.TrimPrefix(issuer, "https://"), ":")[0]
	resp, err := b.c.PostForm(issuer+"/login/username", url.Values{"id": {id}, "username": {"test-user@" + host},
		"password": {"verysecure"}})
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (w *world) createConnection(o *org, in map[string]any) sso.Connection {
	w.t.Helper()
	var c sso.Connection
	w.do("POST", "/v1/sso/connections", o.Admin.Token, in, http.StatusCreated, &c)
	return c
}

// TestSSOZitadel signs in through zitadel/oidc's example OP: the code flow
// with PKCE against a real OpenID provider, the address from its userinfo
// endpoint, an admin's sign-in verifying the org's domain, then routing by
// address, and enforce_sso stopping sign-in links.
func TestSSOZitadel(t *testing.T) {
	// An SSO session is a browser session (the cookie only); this test
	// reads it as a bearer token, so its org binds no sessions
	// (TestDeviceBindingPolicy holds browser sessions to their cookie).
	dns := startDNS(t)
	w := newWorld(t, withUnboundOrgs(), withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Zitadel Org")
	issuer := zitadelOP(t, w, "ward-web", "ward-secret")
	conn := w.createConnection(a, map[string]any{"name": "Zitadel", "issuer": issuer, "client_id": "ward-web",
		"client_secret": "ward-secret", "signing_algs": []string{"RS256"}})
	if conn.RedirectURI != w.base+"/v1/sso/oidc/callback" {
		t.Fatalf("redirect URI %q", conn.RedirectURI)
	}
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "Zitadel.CH", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	// The IdP's user is an admin of the org (added by address), with a
	// session from an operator link (no SSO) from before enforcement.
	zt := w.addMember(a, "test-user@zitadel.ch", identity.RoleAdmin)

	// Unverified, the domain routes nobody.
	b := w.browser(t)
	resp, body := b.get(w.srv.URL + "/v1/sso/start?email=" + url.QueryEscape("test-user@zitadel.ch"))
	if resp.StatusCode != http.StatusNotFound || problemCode(t, body) != "sso_no_route" {
		t.Fatalf("start on an unverified domain: %d %s", resp.StatusCode, body)
	}

	// The admin's sign-in names the connection, and is refused while the
	// domain is only claimed: an IdP the org runs cannot vouch for an
	// existing member's address, nor verify a domain.
	resp, _ = b.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
	resp = b.zitadelLogin(issuer, resp)
	if resp.StatusCode != http.StatusForbidden || b.session() != "" {
		t.Fatalf("an SSO sign-in as a member on an unverified domain: %d, session %q", resp.StatusCode, b.session())
	}
	var ds struct {
		Domains []sso.Domain `json:"domains"`
	}
	w.do("GET", "/v1/sso/domains", a.Admin.Token, nil, http.StatusOK, &ds)
	if len(ds.Domains) != 1 || ds.Domains[0].Domain != "zitadel.ch" || ds.Domains[0].VerifiedAt != nil {
		t.Fatalf("domains after the refused sign-in %+v", ds)
	}
	if n := w.auditCount(a.ID, "auth.signin", "denied"); n != 1 {
		t.Fatalf("%d refused sign-ins audited", n)
	}
	// DNS proves the domain.
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/zitadel.ch/verify", a.Admin.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/sso/domains", a.Admin.Token, nil, http.StatusOK, &ds)
	if len(ds.Domains) != 1 || ds.Domains[0].VerifiedAt == nil || ds.Domains[0].VerifiedBy != "dns" {
		t.Fatalf("domains %+v", ds)
	}

	// Now the admin's sign-in through the connection links them.
	b = w.browser(t)
	resp, _ = b.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
	resp = b.zitadelLogin(issuer, resp)
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("after the OP's login: %d, session %q", resp.StatusCode, b.session())
	}
	var me struct {
		UserID  uuid.UUID `json:"user_id"`
		AAL     int       `json:"aal"`
		AMR     []string  `json:"amr"`
		Pending string    `json:"pending"`
	}
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if me.AAL != 1 || len(me.AMR) != 1 || me.AMR[0] != "sso" || me.Pending != "mfa" {
		t.Fatalf("an admin's SSO session: %+v", me)
	}
	// AAL1 from the IdP: the admin still steps up before anything else.
	if resp, body := w.request("GET", "/v1/members", b.session(), nil); resp.StatusCode != http.StatusForbidden ||
		problemCode(t, body) != "mfa_required" {
		t.Fatalf("an AAL1 SSO admin on /v1/members: %d %s", resp.StatusCode, body)
	}
	// The SSO admin steps up with TOTP like after any sign-in.
	tok := b.session()
	w.enrolTOTP(&tok)
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil)
	me.Pending, me.AMR = "", nil
	w.do("GET", "/v1/me", tok, nil, http.StatusOK, &me)
	if me.AAL != 2 || me.Pending != "" || !slices.Contains(me.AMR, "sso") || !slices.Contains(me.AMR, "totp") {
		t.Fatalf("after step-up %+v", me)
	}
	// Now the address routes to the connection; the IdP remembers the
	// browser's login there.
	b2 := w.browser(t)
	resp, _ = b2.get(w.srv.URL + "/v1/sso/start?email=" + url.QueryEscape("Test-User@zitadel.ch"))
	resp = b2.zitadelLogin(issuer, resp)
	if resp.StatusCode != http.StatusSeeOther || b2.session() == "" || b2.session() == b.session() {
		t.Fatalf("routed sign-in: %d", resp.StatusCode)
	}
	// Replaying the IdP's redirect: the state is spent.
	resp, body = b2.get(b2.callbackURL())
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_state_invalid" {
		t.Fatalf("replayed callback: %d %s", resp.StatusCode, body)
	}
	if n := w.auditCount(a.ID, "sso.domain.verify", "success"); n != 1 {
		t.Fatalf("%d domain verifications", n)
	}
	if n := w.auditCount(a.ID, "auth.signin", "success"); n < 2 {
		t.Fatalf("%d sign-ins", n)
	}

	// enforce_sso: no link for the domain's addresses, the same answer.
	// (What the outbox held before: the TOTP notice the admin's enrolment
	// mailed them, once it is there.)
	for wait := time.Now().Add(30 * time.Second); !strings.Contains(w.outbox.String(), "An authenticator app") &&
		time.Now().Before(wait); {
		time.Sleep(20 * time.Millisecond)
	}
	before := len(w.outbox.String())
	// Before enforcement, an unspent operator link of the member and her
	// session without SSO work like any other.
	unspent, err := w.ops.OperatorLink(context.Background(), w.env.Super, "test-user@zitadel.ch",
		uuid.NullUUID{UUID: a.ID, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	w.do("GET", "/v1/me", zt.Token, nil, http.StatusOK, nil)
	w.do("PUT", "/v1/org/sso-policy", a.Admin.Token, map[string]any{"enforce_sso": true}, http.StatusOK, nil)
	// Enforcement (00128) ended her session without SSO and her unspent
	// link; her SSO session goes on, as does the admin's (another domain).
	if resp, body := w.request("GET", "/v1/me", zt.Token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session without SSO of a member on the enforced domain: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": unspent[strings.LastIndex(unspent, "=")+1:]}); resp.StatusCode != http.StatusUnauthorized ||
		problemCode(t, body) != "link_expired" {
		t.Fatalf("a link of hers from before enforcement: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/members", tok, nil, http.StatusOK, nil)
	// No door issues her a session without SSO now: an operator link is
	// refused with sso_required when spent.
	fresh, err := w.ops.OperatorLink(context.Background(), w.env.Super, "test-user@zitadel.ch",
		uuid.NullUUID{UUID: a.ID, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": fresh[strings.LastIndex(fresh, "=")+1:]}); resp.StatusCode != http.StatusForbidden ||
		problemCode(t, body) != "sso_required" {
		t.Fatalf("an operator link of hers after enforcement: %d %s", resp.StatusCode, body)
	}
	var ended struct{ N int }
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select (details->>'sessions_ended')::int from audit.events
		where org_id = $1 and action = 'sso.policy.update'`, a.ID).Scan(&ended.N); err != nil || ended.N != 1 {
		t.Fatalf("sessions ended, audited: %d (%v)", ended.N, err)
	}
	var pol sso.Policy
	w.do("GET", "/v1/org/sso-policy", a.Admin.Token, nil, http.StatusOK, &pol)
	if !pol.EnforceSSO {
		t.Fatal("policy not stored")
	}
	var ans map[string]string
	w.do("POST", "/v1/auth/magic-link", "", map[string]any{"email": "test-user@zitadel.ch"}, http.StatusAccepted, &ans)
	if len(ans["verifier"]) != 43 {
		t.Fatalf("answer %v", ans)
	}
	w.do("POST", "/v1/auth/magic-link", "", map[string]any{"email": a.Admin.Email}, http.StatusAccepted, nil)
	deadline := time.Now().Add(30 * time.Second)
	sent := func() string { return w.outbox.String()[before:] }
	for !strings.Contains(sent(), a.Admin.Email) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(sent(), a.Admin.Email) {
		t.Fatal("the control link was not mailed")
	}
	if strings.Contains(sent(), "test-user@zitadel.ch") {
		t.Fatal("a sign-in link went to a domain that enforces SSO")
	}
	// The policy holds the org's members on the domain, not everyone on
	// it: a patient of another org with an address there still gets links
	// (to that org), and so does the org's own member for a link to the
	// other org.
	other := w.createOrg("Other Org")
	outsider := w.addMember(other, "outsider@zitadel.ch", identity.RolePatient)
	w.do("POST", "/v1/auth/magic-link", "", map[string]any{"email": outsider.Email}, http.StatusAccepted, nil)
	w.addMember(other, "test-user@zitadel.ch", identity.RolePatient)
	w.do("POST", "/v1/auth/magic-link", "", map[string]any{"email": "test-user@zitadel.ch", "org_id": other.ID},
		http.StatusAccepted, nil)
	deadline = time.Now().Add(30 * time.Second)
	for strings.Count(sent(), "zitadel.ch") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(sent(), outsider.Email) || strings.Count(sent(), "test-user@zitadel.ch") != 1 {
		t.Fatalf("links to the domain's addresses outside the enforcing org: %q", sent())
	}
	w.do("POST", "/v1/auth/magic-link", "", map[string]any{"email": "test-user@zitadel.ch", "org_id": a.ID},
		http.StatusAccepted, nil)
	lead := w.addMember(a, "z-lead@example.test", identity.RoleLead)
	w.do("PUT", "/v1/org/sso-policy", lead.Token, map[string]any{"enforce_sso": false}, http.StatusForbidden, nil)
}

// TestSSORateLimit: anonymous SSO requests (each start writes a state) are
// limited per client address.
func TestSSORateLimit(t *testing.T) {
	// The limit's clock stands still: at a token a second, a machine that
	// took a second over the requests would have let a fourth through.
	clock := &haltClock{}
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.RateLimit, c.RateBurst, c.Now = 1, 3, clock.now }))
	clock.halt()
	codes := map[int]int{}
	for range 6 {
		resp, _ := w.request("GET", "/v1/sso/start?email=someone%40nowhere.example", "", nil)
		codes[resp.StatusCode]++
	}
	if codes[http.StatusNotFound] != 3 || codes[http.StatusTooManyRequests] != 3 {
		t.Fatalf("statuses %v, want 3 × 404 then 3 × 429", codes)
	}
}
