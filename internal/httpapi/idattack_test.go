package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
)

// An outside attacker's probes of the identity surfaces that found the
// defences holding (helper-155 review). Each asserts a real refusal, so
// that it fails if the defence goes; the findings have tests of their own.

// rawProof is a DPoP proof assembled by hand: header and claims as given,
// signed by sign over the signing input (nil: no signature, alg none).
func rawProof(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// es256 signs input with k as RFC 7518 §3.4 says (R and S, 32 bytes each).
func es256(t *testing.T, k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		d := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

// publicJWK is k's public key as a JWK object.
func publicJWK(t *testing.T, k *ecdsa.PrivateKey) map[string]any {
	t.Helper()
	b, err := (&jose.JSONWebKey{Key: &k.PublicKey}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAttackDPoPForgedProofs: proofs an attacker who holds a bound token
// but not its key would try (RFC 9449 §4.3; key confusion): alg none,
// HS256 keyed with the bound key's public coordinates, the right typ
// missing, a JWK that carries a private part, the bound key's JWK over
// another key's signature, and a proof by the bound key with a token type
// header the server does not know. Each is 401 dpop_invalid, and the
// session still answers its holder's own proof.
func TestAttackDPoPForgedProofs(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Forged Proof Org")
	tok := o.Admin.Token
	key, bound := w.boundKey(tok)
	if !bound {
		t.Fatal("the admin's session is not DPoP-bound")
	}
	ek := key.key.(*ecdsa.PrivateKey)
	me := w.root + "/v1/me"
	claims := func() map[string]any {
		return map[string]any{"jti": uuid.NewString(), "htm": "GET", "htu": me, "iat": time.Now().Unix(),
			"ath": auth.TokenHash(tok)}
	}
	jwk := publicJWK(t, ek)
	withD := publicJWK(t, ek)
	withD["d"] = base64.RawURLEncoding.EncodeToString(ek.D.FillBytes(make([]byte, 32)))
	other, err := ecdsa.GenerateKey(ek.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := jwk["x"].(string)
	hs := func(input []byte) []byte {
		m := hmac.New(sha256.New, []byte(x))
		m.Write(input)
		return m.Sum(nil)
	}
	for _, c := range []struct{ name, proof string }{
		{"alg none", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": jwk}, claims(), nil)},
		{"HS256 keyed with the public key", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk}, claims(), hs)},
		{"typ JWT", rawProof(t, map[string]any{"typ": "JWT", "alg": "ES256", "jwk": jwk}, claims(), es256(t, ek))},
		{"no typ", rawProof(t, map[string]any{"alg": "ES256", "jwk": jwk}, claims(), es256(t, ek))},
		{"private JWK", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": withD}, claims(), es256(t, ek))},
		{"bound JWK, another key's signature", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk},
			claims(), es256(t, other))},
		{"ES384 named over a P-256 key", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "ES384", "jwk": jwk},
			claims(), es256(t, ek))},
		{"htu on another host", key.proof("GET", "https://evil.example/v1/me", tok, nil)},
		{"htu with a fragment", key.proof("GET", me+"#x", tok, nil)},
		{"iat as a string", key.proof("GET", me, tok, func(c map[string]any) { c["iat"] = "1" })},
	} {
		resp, b := w.request("GET", "/v1/me", "", nil, "Authorization", "DPoP "+tok, "DPoP", c.proof)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "dpop_invalid" {
			t.Errorf("%s: %d %s, want 401 dpop_invalid", c.name, resp.StatusCode, b)
		}
	}
	// A well-formed proof by the bound key, built the same way, passes:
	// the refusals above are the forgeries', not rawProof's.
	resp, b := w.request("GET", "/v1/me", "", nil, "Authorization", "DPoP "+tok,
		"DPoP", rawProof(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}, claims(), es256(t, ek)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the holder's own hand-made proof: %d %s", resp.StatusCode, b)
	}
	w.do("GET", "/v1/me", tok, nil, http.StatusOK, nil)
}

// TestAttackCredentialsAcrossSurfaces: each credential kind only where it
// belongs. An admin API key with every scope on the console's pages and
// forms, a SCIM token on the JSON API, a key and a session on SCIM: all
// refused, and the console's form made no member.
func TestAttackCredentialsAcrossSurfaces(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Surfaces Org")
	key := w.createKey(o, auth.APIKeyScopes...).Key
	scimTok := w.createSCIMToken(o, "").Secret
	members := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.memberships where org_id = $1`,
			o.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := members()
	for _, c := range []struct {
		name, method, path, body, ctype, authz string
		want                                   int
	}{
		{"API key on the console's member page", "GET", "/members", "", "", "Bearer " + key, http.StatusForbidden},
		{"API key on the console's add-member form", "POST", "/members",
			url.Values{"email": {"viakey@example.test"}, "role": {"provider"}}.Encode(),
			"application/x-www-form-urlencoded", "Bearer " + key, http.StatusForbidden},
		{"API key on the console's API-key form", "POST", "/api-keys", url.Values{"name": {"k"}, "scopes": {"members"}}.Encode(),
			"application/x-www-form-urlencoded", "Bearer " + key, http.StatusForbidden},
		{"SCIM token on /v1/me", "GET", "/v1/me", "", "", "Bearer " + scimTok, http.StatusUnauthorized},
		{"SCIM token on /v1/members", "GET", "/v1/members", "", "", "Bearer " + scimTok, http.StatusUnauthorized},
		{"API key on SCIM", "GET", "/scim/v2/Users", "", "", "Bearer " + key, http.StatusUnauthorized},
	} {
		hdr := http.Header{"Authorization": {c.authz}}
		if c.ctype != "" {
			hdr.Set("Content-Type", c.ctype)
		}
		resp, b := w.browse(c.method, c.path, hdr, c.body)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d: %.300s", c.name, resp.StatusCode, c.want, b)
		}
	}
	// A session (the admin's, with its proof) is no SCIM token either.
	req, err := http.NewRequest("GET", w.srv.URL+"/scim/v2/Users", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.authorize(req, o.Admin.Token)
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin session on SCIM: %d, want 401", resp.StatusCode)
	}
	if n := members(); n != before {
		t.Fatalf("the org has %d memberships after the probes, had %d", n, before)
	}
}

// TestAttackPendingSessionReach: a session a magic link alone made for an
// admin (the mailbox's reader) reaches its own identity, the factor routes
// and logout only; the session and factor management routes, which would
// let it end the member's other sessions, list or change their factors,
// or mint recovery codes, answer 403 mfa_required.
func TestAttackPendingSessionReach(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Pending Reach Org")
	mal := w.signInAAL1(o.Admin.Email, o.ID)
	var me struct {
		SessionID uuid.UUID `json:"session_id"`
		Pending   *string   `json:"pending"`
	}
	w.do("GET", "/v1/me", mal, nil, http.StatusOK, &me)
	if me.Pending == nil || *me.Pending != "mfa" {
		t.Fatalf("a link's admin session is not pending mfa: %+v", me)
	}
	var other struct {
		SessionID uuid.UUID `json:"session_id"`
	}
	w.do("GET", "/v1/me", o.Admin.Token, nil, http.StatusOK, &other)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/sessions", nil},
		{"DELETE", "/v1/sessions/" + other.SessionID.String(), nil},
		{"POST", "/v1/sessions/" + other.SessionID.String() + "/forget-device", nil},
		{"GET", "/v1/auth/passkeys", nil},
		{"PATCH", "/v1/auth/passkeys/" + uuid.NewString(), map[string]string{"name": "x"}},
		{"DELETE", "/v1/auth/totp", nil},
		{"POST", "/v1/auth/recovery-codes", nil},
		{"GET", "/v1/members", nil},
		{"POST", "/v1/api-keys", map[string]any{"name": "k", "scopes": []string{"members"}}},
		{"GET", "/v1/org/session-policy", nil},
	} {
		resp, b := w.request(c.method, c.path, mal, c.body)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
			t.Errorf("%s %s from a pending session: %d %s, want 403 mfa_required", c.method, c.path, resp.StatusCode, b)
		}
	}
	// The other session is still live.
	w.do("GET", "/v1/members", o.Admin.Token, nil, http.StatusOK, nil)
}

// TestAttackPasskeyStepUpWithAnotherPasskey: the mailbox's reader holds a
// pending session of an admin who has a passkey, and a passkey of their
// own (another member's, in the same org). Answering the admin's
// second-factor challenge with it, with or without its user handle, is
// 403 factor_invalid; so is a challenge another session of the admin
// began (400 challenge_invalid). The session stays pending.
func TestAttackPasskeyStepUpWithAnotherPasskey(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Passkey Swap Org")
	adminTok := o.Admin.Token
	d := w.newDevice()
	w.registerPasskey(&adminTok, d, "laptop")
	o.Admin.Token = adminTok // the registration rotated it
	lead := w.addMember(o, "swap-lead@example.test", identity.RoleLead)
	leadTok := lead.Token
	dm := w.newDevice()
	w.registerPasskey(&leadTok, dm, "mallory's key")

	mal := w.signInAAL1(o.Admin.Email, o.ID)
	begin := func(tok string) *virtualwebauthn.AssertionOptions {
		t.Helper()
		b := w.do("POST", "/v1/auth/passkeys/verify/begin", tok, nil, http.StatusOK, nil)
		opts, err := virtualwebauthn.ParseAssertionOptions(string(b))
		if err != nil {
			t.Fatalf("verify options: %v: %s", err, b)
		}
		return opts
	}
	finish := func(tok string, answer string) (*http.Response, []byte) {
		return w.request("POST", "/v1/auth/passkeys/verify/finish", tok,
			map[string]any{"credential": json.RawMessage(answer)})
	}
	resp, b := finish(mal, virtualwebauthn.CreateAssertionResponse(dm.rp, dm.auth, dm.cred, *begin(mal)))
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Errorf("another member's passkey as the admin's second factor: %d %s", resp.StatusCode, b)
	}
	dm.auth.Options.UserHandle = nil
	resp, b = finish(mal, virtualwebauthn.CreateAssertionResponse(dm.rp, dm.auth, dm.cred, *begin(mal)))
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Errorf("another member's passkey without a user handle: %d %s", resp.StatusCode, b)
	}
	// The admin's own passkey answering a challenge the admin's other
	// session began.
	second := w.signInAAL1(o.Admin.Email, o.ID)
	resp, b = finish(mal, virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *begin(second)))
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "challenge_invalid" {
		t.Errorf("another session's challenge: %d %s", resp.StatusCode, b)
	}
	var me meAnswer
	w.do("GET", "/v1/me", mal, nil, http.StatusOK, &me)
	if me.AAL != 1 || me.Pending == nil {
		t.Fatalf("the reader's session rose: %+v", me)
	}
}

// TestAttackFactorCodesOnce: a recovery code sent by five sessions at once
// is spent by one (the others 403 factor_invalid), and a TOTP code one
// session presented is refused in another within its step.
func TestAttackFactorCodesOnce(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Codes Once Org")
	var set struct {
		Codes []string `json:"codes"`
	}
	w.do("POST", "/v1/auth/recovery-codes", o.Admin.Token, nil, http.StatusCreated, &set)
	if len(set.Codes) != 10 {
		t.Fatalf("codes: %+v", set)
	}
	sessions := make([]string, 5)
	for i := range sessions {
		sessions[i] = w.signInAAL1(o.Admin.Email, o.ID)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	start := make(chan struct{})
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, b := w.request("POST", "/v1/auth/recovery-codes/verify", s, map[string]string{"code": set.Codes[0]})
			if resp.StatusCode != http.StatusOK && (resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid") {
				t.Errorf("recovery code at once: %d %s", resp.StatusCode, b)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if statuses[http.StatusOK] != 1 || statuses[http.StatusForbidden] != len(sessions)-1 {
		t.Fatalf("one recovery code sent by %d sessions at once: %v, want one 200", len(sessions), statuses)
	}

	lead := w.addMember(o, "codes-lead@example.test", identity.RoleLead)
	tok := w.signInAAL1(lead.Email, o.ID)
	secret := w.enrolTOTP(&tok)
	code := totpCode(t, secret, time.Now())
	first := w.signInAAL1(lead.Email, o.ID)
	w.verifyTOTP(&first, code)
	again := w.signInAAL1(lead.Email, o.ID)
	resp, b := w.request("POST", "/v1/auth/totp/verify", again, map[string]string{"code": code})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
		t.Fatalf("a TOTP code another session used: %d %s", resp.StatusCode, b)
	}
}
