package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// evilOP is an OpenID provider written for the tests: a real discovery
// document, JWKS, authorization and token endpoints (checking PKCE), whose
// ID token is built by mode, after the relying-party checks of the OpenID
// conformance suite (OIDCCClientBasicTestPlan): wrong issuer, wrong
// audience, no sub, wrong nonce, alg none, a bad signature, no kid with
// several keys, no iat, expired, a key not in the JWKS, HS256, and
// signing-key rotation.
type evilOP struct {
	t        *testing.T
	srv      *httptest.Server
	issuer   string
	clientID string
	secret   string

	mu        sync.Mutex
	keys      []evilKey // the JWKS
	signer    evilKey   // the key tokens are signed with
	mode      string
	sub       string
	email     string
	amr       []string
	nonce     string
	challenge string
	redirect  string
	jwksURI   string // the discovery document's jwks_uri, when set
	jwksHits  int    // requests for the JWKS
	// unverified: the ID token says email_verified false (an address the
	// user set themselves, as Keycloak allows).
	unverified bool
	// extra: claims merged into the ID token (auth_time, hd); authQuery:
	// the last authorization request's query (max_age).
	extra     map[string]any
	authQuery url.Values
	// RFC 9207: issSupported is the discovery document's
	// authorization_response_iss_parameter_supported (read once per
	// connection); with sendIss the authorization response carries iss.
	issSupported bool
	sendIss      bool
	iss          string
	tokenHits    int // requests to the token endpoint
}

type evilKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func newEvilKey(t *testing.T, kid string) evilKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return evilKey{kid: kid, priv: k}
}

func startEvilOP(t *testing.T, clientID, secret string) *evilOP {
	op := &evilOP{t: t, clientID: clientID, secret: secret, mode: "good", sub: "evil-subject-1", email: "eve@evil.test"}
	op.signer = newEvilKey(t, "k1")
	op.keys = []evilKey{op.signer}
	mux := http.NewServeMux()
	op.srv = httptest.NewTLSServer(mux)
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		jwks, issSupported := op.jwksURI, op.issSupported
		op.mu.Unlock()
		if jwks == "" {
			jwks = op.issuer + "/jwks"
		}
		md := map[string]any{"issuer": op.issuer, "authorization_endpoint": op.issuer + "/authorize",
			"token_endpoint": op.issuer + "/token", "jwks_uri": jwks, "userinfo_endpoint": op.issuer + "/userinfo",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"}, "code_challenge_methods_supported": []string{"S256"}}
		if issSupported {
			md["authorization_response_iss_parameter_supported"] = true
		}
		writeJSONBody(w, md)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		defer op.mu.Unlock()
		op.jwksHits++
		var set jose.JSONWebKeySet
		for _, k := range op.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "ES256", Use: "sig"})
		}
		writeJSONBody(w, set)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != op.clientID || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		op.mu.Lock()
		op.nonce, op.challenge, op.redirect = q.Get("nonce"), q.Get("code_challenge"), q.Get("redirect_uri")
		op.authQuery = q
		back := url.Values{"code": {"evil-code"}, "state": {q.Get("state")}}
		if op.sendIss {
			back.Set("iss", op.iss)
		}
		op.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		op.mu.Lock()
		defer op.mu.Unlock()
		op.tokenHits++
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case id != op.clientID || secret != op.secret:
			w.WriteHeader(http.StatusUnauthorized)
			writeJSONBody(w, map[string]string{"error": "invalid_client"})
		case r.PostForm.Get("code") != "evil-code" || r.PostForm.Get("redirect_uri") != op.redirect ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != op.challenge:
			w.WriteHeader(http.StatusBadRequest)
			writeJSONBody(w, map[string]string{"error": "invalid_grant"})
		default:
			writeJSONBody(w, map[string]any{"access_token": "evil-access", "token_type": "Bearer", "expires_in": 300,
				"id_token": op.idToken()})
		}
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		defer op.mu.Unlock()
		writeJSONBody(w, map[string]any{"sub": op.sub, "email": op.email, "email_verified": true})
	})
	return op
}

func writeJSONBody(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// idToken builds the ID token of the current mode (op.mu held).
func (op *evilOP) idToken() string {
	now := time.Now()
	c := map[string]any{"iss": op.issuer, "aud": op.clientID, "sub": op.sub, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": op.nonce, "email": op.email, "email_verified": true}
	if op.amr != nil {
		c["amr"] = op.amr
	}
	if op.unverified {
		c["email_verified"] = false
	}
	for k, v := range op.extra {
		c[k] = v
	}
	key, kid := op.signer, op.signer.kid
	switch op.mode {
	case "wrong_issuer":
		c["iss"] = "https://evil.example"
	case "wrong_audience":
		c["aud"] = "someone-else"
	case "no_sub":
		delete(c, "sub")
	case "wrong_nonce":
		c["nonce"] = "not-the-nonce"
	case "no_iat":
		delete(c, "iat")
	case "expired":
		c["iat"], c["exp"] = now.Add(-20*time.Minute).Unix(), now.Add(-10*time.Minute).Unix()
	case "no_kid":
		kid = ""
	case "unknown_key":
		key = newEvilKey(op.t, "k-unknown")
		kid = key.kid
	case "alg_none":
		h, _ := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"})
		p, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
	}
	payload, _ := json.Marshal(c)
	var sk jose.SigningKey
	switch {
	case op.mode == "hs256":
		sk = jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: []byte(strings.Repeat(op.secret, 3)), KeyID: kid}}
	case kid == "":
		sk = jose.SigningKey{Algorithm: jose.ES256, Key: key.priv}
	default:
		sk = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.priv, KeyID: kid}}
	}
	signer, err := jose.NewSigner(sk, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		op.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	if op.mode == "bad_signature" {
		b := []byte(out)
		i := len(b) - 10
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		out = string(b)
	}
	return out
}

func (op *evilOP) set(f func(op *evilOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

// signIn runs one sign-in through conn of org and returns the final
// response and its body.
func (w *world) ssoSignIn(t *testing.T, o *org, conn string) (*browser, *http.Response, []byte) {
	b := w.browser(t)
	resp, body := b.get(w.srv.URL + "/v1/sso/start?org=" + o.ID.String() + "&connection=" + conn)
	return b, resp, body
}

// TestSSOEvilOP: every bad ID token of the conformance checklist is
// refused and audited with its reason; a good one signs in, with the
// assurance the connection trusts; the keys rotate; JIT is off by default.
func TestSSOEvilOP(t *testing.T) {
	dns := startDNS(t)
	w := newWorld(t, withSSOConfig(func(c *sso.Config) { c.Resolver = dns.resolver() }))
	a := w.createOrg("Evil OP Org")
	op := startEvilOP(t, "ward-evil", "evil-secret-123")
	conn := w.createConnection(a, map[string]any{"name": "Evil", "issuer": op.issuer, "client_id": "ward-evil",
		"client_secret": "evil-secret-123", "signing_algs": []string{"ES256"}, "trusted_amr": []string{"mfa"}})
	eve := w.addMember(a, "eve@evil.test", identity.RoleProvider)

	before := w.auditCount(a.ID, "auth.signin", "success")
	// A second key in the JWKS, so that a token without a kid is ambiguous.
	op.set(func(op *evilOP) { op.keys = append(op.keys, newEvilKey(t, "k2")) })
	for _, c := range []struct{ mode, reason string }{
		{"wrong_issuer", "wrong_issuer"},
		{"wrong_audience", "wrong_audience"},
		{"no_sub", "no_subject"},
		{"wrong_nonce", "wrong_nonce"},
		{"alg_none", "alg_not_allowed"},
		{"bad_signature", "bad_signature"},
		{"no_kid", "no_kid"},
		{"no_iat", "no_iat"},
		{"expired", "expired"},
		{"unknown_key", "bad_signature"},
		{"hs256", "alg_not_allowed"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			op.set(func(op *evilOP) { op.mode = c.mode })
			b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_refused" || b.session() != "" {
				t.Fatalf("%s: %d %s", c.mode, resp.StatusCode, body)
			}
			var n int
			if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
			    and action = 'auth.signin' and outcome = 'denied' and details->>'method' = 'sso'
			    and details->>'reason' = $2`, a.ID, c.reason).Scan(&n); err != nil || n == 0 {
				t.Fatalf("%s: no denied sign-in with reason %s (%v)", c.mode, c.reason, err)
			}
		})
	}
	if w.auditCount(a.ID, "auth.signin", "success") != before {
		t.Fatal("a bad token signed someone in")
	}

	// The good token: AAL1 with amr sso; with the amr the connection trusts,
	// AAL2.
	var me struct {
		UserID string   `json:"user_id"`
		AAL    int      `json:"aal"`
		AMR    []string `json:"amr"`
	}
	op.set(func(op *evilOP) { op.mode = "good"; op.amr = []string{"pwd"} })
	// The IdP says email_verified, but it is the org's own IdP: it does not
	// take over an existing member while the org has not proved the
	// address's domain by DNS.
	b, resp, body := w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" || b.session() != "" {
		t.Fatalf("good token, unverified domain: %d %s", resp.StatusCode, body)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from audit.events where org_id = $1
	    and action = 'auth.signin' and outcome = 'denied' and details->>'reason' = 'domain_not_verified'`,
		a.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d refusals for an unverified domain audited (%v)", n, err)
	}
	var claim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "evil.test", "connection_id": conn.ID},
		http.StatusCreated, &claim)
	if b, resp, body = w.ssoSignIn(t, a, conn.ID.String()); resp.StatusCode != http.StatusForbidden || b.session() != "" {
		t.Fatalf("good token, claimed but unverified domain: %d %s", resp.StatusCode, body)
	}
	dns.set(claim.TXTName, claim.TXTValue)
	w.do("POST", "/v1/sso/domains/evil.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	b, resp, body = w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("good token: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if me.UserID != eve.ID.String() || me.AAL != 1 || len(me.AMR) != 1 || me.AMR[0] != "sso" {
		t.Fatalf("good token session %+v", me)
	}
	op.set(func(op *evilOP) { op.amr = []string{"pwd", "mfa"} })
	b, _, _ = w.ssoSignIn(t, a, conn.ID.String())
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if me.AAL != 2 {
		t.Fatalf("trusted amr: %+v", me)
	}

	// Key rotation: the OP signs with a new key; Ward fetches the JWKS
	// again for the unknown kid.
	op.set(func(op *evilOP) { op.signer = newEvilKey(t, "k3"); op.keys = []evilKey{op.signer}; op.amr = nil })
	b, resp, body = w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusSeeOther || b.session() == "" {
		t.Fatalf("after key rotation: %d %s", resp.StatusCode, body)
	}

	// The IdP's redirect in another browser: refused.
	op.set(func(op *evilOP) { op.mode = "good" })
	b, _, _ = w.ssoSignIn(t, a, conn.ID.String())
	other := w.browser(t)
	resp, body = other.get(b.callbackURL())
	if resp.StatusCode != http.StatusUnauthorized || (problemCode(t, body) != "sso_wrong_browser" &&
		problemCode(t, body) != "sso_state_invalid") {
		t.Fatalf("callback in another browser: %d %s", resp.StatusCode, body)
	}
	// Started, then answered in another browser before the first: wrong browser.
	b = w.browser(t)
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		b.visits = append(b.visits, req.URL)
		if req.URL.Path == "/v1/sso/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.get(w.srv.URL + "/v1/sso/start?org=" + a.ID.String() + "&connection=" + conn.ID.String())
	resp, body = other.get(b.callbackURL())
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "sso_wrong_browser" {
		t.Fatalf("callback in another browser: %d %s", resp.StatusCode, body)
	}

	// An identity nobody here has: refused, JIT being off.
	op.set(func(op *evilOP) { op.sub, op.email = "evil-subject-2", "newcomer@evil.test" })
	_, resp, body = w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" {
		t.Fatalf("unknown identity without JIT: %d %s", resp.StatusCode, body)
	}
	// A connection with JIT creates them, with its role, on a domain the
	// org verified for that connection (00168); off it, it refuses them.
	jit := w.createConnection(a, map[string]any{"name": "Evil JIT", "issuer": op.issuer, "client_id": "ward-evil",
		"client_secret": "evil-secret-123", "signing_algs": []string{"ES256"}, "jit": true, "jit_role": "patient"})
	_, resp, body = w.ssoSignIn(t, a, jit.ID.String())
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" {
		t.Fatalf("JIT of an address on a domain verified for another connection: %d %s", resp.StatusCode, body)
	}
	op.set(func(op *evilOP) { op.sub, op.email = "evil-subject-3", "newcomer@jit.evil.test" })
	var jitClaim sso.Domain
	w.do("POST", "/v1/sso/domains", a.Admin.Token, map[string]any{"domain": "jit.evil.test", "connection_id": jit.ID},
		http.StatusCreated, &jitClaim)
	dns.set(jitClaim.TXTName, jitClaim.TXTValue)
	w.do("POST", "/v1/sso/domains/jit.evil.test/verify", a.Admin.Token, nil, http.StatusOK, nil)
	b, resp, body = w.ssoSignIn(t, a, jit.ID.String())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("JIT: %d %s", resp.StatusCode, body)
	}
	w.do("GET", "/v1/me", b.session(), nil, http.StatusOK, &me)
	if r := w.memberRole(a, me.UserID); r != "patient" {
		t.Fatalf("JIT member is %s", r)
	}
	if n := w.auditCount(a.ID, "sso.jit.create", "success"); n != 1 {
		t.Fatalf("%d JIT creations", n)
	}
	// A revoked member cannot come back through SSO.
	w.do("DELETE", "/v1/members/"+eve.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	op.set(func(op *evilOP) { op.sub, op.email = "evil-subject-1", "eve@evil.test" })
	_, resp, body = w.ssoSignIn(t, a, conn.ID.String())
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "sso_no_account" {
		t.Fatalf("revoked member: %d %s", resp.StatusCode, body)
	}

	// Connections: admins only, no secret in the list, bad input refused.
	body = w.do("GET", "/v1/sso/connections", a.Admin.Token, nil, http.StatusOK, nil)
	if strings.Contains(string(body), "evil-secret-123") {
		t.Fatal("the client secret is listed")
	}
	for _, in := range []map[string]any{
		{"name": "x", "issuer": "not a url", "client_id": "c"},
		{"name": "x", "issuer": op.issuer, "client_id": "c", "signing_algs": []string{"none"}},
		{"name": "x", "issuer": op.issuer, "client_id": "c", "signing_algs": []string{"HS256"}},
		{"name": "x", "issuer": op.issuer, "client_id": "c", "jit_role": "admin"},
		{"name": "", "issuer": op.issuer, "client_id": "c"},
	} {
		w.do("POST", "/v1/sso/connections", a.Admin.Token, in, http.StatusBadRequest, nil)
	}
	lead := w.addMember(a, "evil-lead@example.test", identity.RoleLead)
	w.do("POST", "/v1/sso/connections", lead.Token, map[string]any{"name": "x", "issuer": op.issuer, "client_id": "c"},
		http.StatusForbidden, nil)
	w.do("GET", "/v1/sso/connections", lead.Token, nil, http.StatusForbidden, nil)
	w.do("DELETE", "/v1/sso/connections/"+jit.ID.String(), a.Admin.Token, nil, http.StatusNoContent, nil)
	_, resp, _ = w.ssoSignIn(t, a, jit.ID.String())
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted connection: %d", resp.StatusCode)
	}
	if n := w.auditCount(a.ID, "sso.connection.create", "success"); n != 2 {
		t.Fatalf("%d connection events", n)
	}
	// Addresses, subjects and secrets stay out of the logs.
	for _, canary := range []string{"eve@evil.test", "newcomer@evil.test", "evil-subject-1", "evil-secret-123", "evil-code"} {
		if strings.Contains(w.logs.String(), canary) {
			t.Fatalf("the logs hold %q", canary)
		}
	}
}
