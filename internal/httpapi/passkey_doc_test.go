package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"
)

// jsonKeys is the sorted key set of a JSON object.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, b)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cookieOf is the named cookie a response sets, or nil.
func cookieOf(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// browserPasskey runs a discoverable passkey ceremony with d as a browser on
// Ward's own pages: the binder in the cookie signin/begin set (and the
// session cookie session, when not empty), no DPoP proof, and body beside
// the credential, posted to path (signin/finish or break-glass/activate).
func (w *world) browserPasskey(path string, d *device, body map[string]any, session string) (*http.Response, []byte) {
	w.t.Helper()
	resp, b := w.request("POST", "/v1/auth/passkeys/signin/begin", "", nil)
	var begin struct {
		Options json.RawMessage `json:"options"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &begin) != nil {
		w.t.Fatalf("signin/begin: %d %s", resp.StatusCode, b)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(begin.Options))
	if err != nil {
		w.t.Fatal(err)
	}
	binder := cookieOf(resp, "ward_passkey")
	cookies := binder.Name + "=" + binder.Value
	if session != "" {
		cookies += "; ward_session=" + session
	}
	body["credential"] = json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))
	return w.request("POST", path, "", body, "Cookie", cookies, "Sec-Fetch-Site", "same-origin")
}

// TestPasskeyDocContract walks docs/authentication.md "Passkeys" as a
// client reads it: the option fields it names for each ceremony, the
// sign-in's binder cookie and answer, the registration's stepped-up answer,
// the list's fields, and the refusals with their codes.
func TestPasskeyDocContract(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Passkey Doc Org")
	w.populate(o, "pkd")
	d := w.newDevice()

	// Register a passkey: the options the doc lists.
	tok := w.signInAAL1(o.Admin.Email, o.ID)
	b := w.do("POST", "/v1/auth/passkeys/register/begin", tok, nil, http.StatusOK, nil)
	var creation struct {
		PublicKey struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			AuthenticatorSelection struct {
				ResidentKey        string `json:"residentKey"`
				RequireResidentKey *bool  `json:"requireResidentKey"`
				UserVerification   string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Attestation        string            `json:"attestation"`
			ExcludeCredentials []json.RawMessage `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(b, &creation); err != nil {
		t.Fatal(err)
	}
	pk := creation.PublicKey
	handle, err := base64.RawURLEncoding.DecodeString(pk.User.ID)
	if err != nil || len(handle) != 32 || pk.AuthenticatorSelection.ResidentKey != "required" ||
		pk.AuthenticatorSelection.RequireResidentKey == nil || !*pk.AuthenticatorSelection.RequireResidentKey ||
		pk.AuthenticatorSelection.UserVerification != "required" || pk.Attestation != "none" || len(pk.ExcludeCredentials) != 0 {
		t.Fatalf("creation options differ from the doc: %s", b)
	}
	resp, b := w.tryRegister(tok, d, "Work laptop")
	if resp.StatusCode != http.StatusOK || strings.Join(jsonKeys(t, b), ",") != "aal,absolute_expires_at,token" {
		t.Fatalf("register/finish: %d %s", resp.StatusCode, b)
	}
	var stepped struct {
		AAL   int    `json:"aal"`
		Token string `json:"token"`
	}
	if json.Unmarshal(b, &stepped) != nil || stepped.AAL != 2 || stepped.Token == tok {
		t.Fatalf("register/finish answer: %s", b)
	}
	tok = stepped.Token
	d.auth.AddCredential(d.cred)
	// The member's other passkeys are excluded from the next registration.
	b = w.do("POST", "/v1/auth/passkeys/register/begin", tok, nil, http.StatusOK, nil)
	if err := json.Unmarshal(b, &creation); err != nil || len(creation.PublicKey.ExcludeCredentials) != 1 {
		t.Fatalf("the second registration's excludeCredentials: %s", b)
	}

	t.Run("sign-in begin", func(t *testing.T) {
		resp, b := w.request("POST", "/v1/auth/passkeys/signin/begin", "", nil)
		var begin struct {
			Binder  string `json:"binder"`
			Options struct {
				PublicKey struct {
					Challenge        string `json:"challenge"`
					Timeout          int    `json:"timeout"`
					RPID             string `json:"rpId"`
					UserVerification string `json:"userVerification"`
				} `json:"publicKey"`
			} `json:"options"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &begin) != nil {
			t.Fatalf("signin/begin: %d %s", resp.StatusCode, b)
		}
		p := begin.Options.PublicKey
		if begin.Binder == "" || p.Challenge == "" || p.Timeout != 300000 || p.RPID != "localhost" || p.UserVerification != "required" {
			t.Fatalf("signin/begin answer differs from the doc: %s", b)
		}
		if strings.ContainsAny(p.Challenge, "=+/") {
			t.Fatalf("the challenge is not base64url without padding: %q", p.Challenge)
		}
		c := cookieOf(resp, "ward_passkey")
		if c == nil || c.Value != begin.Binder || !c.HttpOnly {
			t.Fatalf("signin/begin cookie: %v", resp.Cookies())
		}
	})

	t.Run("a second factor without a passkey", func(t *testing.T) {
		resp, b := w.request("POST", "/v1/auth/passkeys/verify/begin", o.Prov2.Token, nil)
		if resp.StatusCode != http.StatusNotFound || problemCode(t, b) != "factor_not_enrolled" {
			t.Fatalf("verify/begin without a passkey: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("sign-in finish as an app", func(t *testing.T) {
		opts, binder := w.signInOptions()
		resp, b := w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))},
			w.signInProof("/v1/auth/passkeys/signin/finish")...)
		want := "absolute_expires_at,idle_timeout_min,org_id,session_id,token,token_type,user_id"
		if resp.StatusCode != http.StatusOK || strings.Join(jsonKeys(t, b), ",") != want {
			t.Fatalf("signin/finish: %d %s", resp.StatusCode, b)
		}
		var s struct {
			Token  string    `json:"token"`
			UserID uuid.UUID `json:"user_id"`
			OrgID  uuid.UUID `json:"org_id"`
		}
		_ = json.Unmarshal(b, &s)
		if s.UserID != o.Admin.ID || s.OrgID != o.ID {
			t.Fatalf("signin/finish names another member: %s", b)
		}
		var me meAnswer
		w.do("GET", "/v1/me", s.Token, nil, http.StatusOK, &me)
		if me.AAL != 2 || strings.Join(me.AMR, ",") != "passkey" {
			t.Fatalf("after a passkey sign-in: %+v", me)
		}
	})

	t.Run("sign-in finish in a browser, the binder in the cookie", func(t *testing.T) {
		resp, b := w.browserPasskey("/v1/auth/passkeys/signin/finish", d, map[string]any{}, "")
		var s struct {
			Token                 string `json:"token"`
			DeviceBindingRequired bool   `json:"device_binding_required"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.Token != "" || !s.DeviceBindingRequired {
			t.Fatalf("browser signin/finish: %d %s", resp.StatusCode, b)
		}
		first := cookieOf(resp, "ward_session")
		if first == nil || first.Value == "" || !first.HttpOnly {
			t.Fatalf("browser signin/finish set no session cookie: %v", resp.Cookies())
		}
		if c := cookieOf(resp, "ward_passkey"); c == nil || c.MaxAge >= 0 {
			t.Fatalf("browser signin/finish kept the binder cookie: %v", resp.Cookies())
		}
		// A sign-in that sets the cookie ends the session it held before.
		resp, b = w.browserPasskey("/v1/auth/passkeys/signin/finish", d, map[string]any{}, first.Value)
		if resp.StatusCode != http.StatusOK || cookieOf(resp, "ward_session") == nil {
			t.Fatalf("second browser sign-in: %d %s", resp.StatusCode, b)
		}
		resp, b = w.request("GET", "/v1/me", "", nil, "Cookie", "ward_session="+first.Value)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
			t.Fatalf("the session the cookie held before: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("second factor and the list", func(t *testing.T) {
		pend := w.signInAAL1(o.Admin.Email, o.ID)
		b := w.do("POST", "/v1/auth/passkeys/verify/begin", pend, nil, http.StatusOK, nil)
		opts, err := virtualwebauthn.ParseAssertionOptions(string(b))
		if err != nil || len(opts.AllowCredentials) != 1 {
			t.Fatalf("verify/begin allowCredentials: %v %s", err, b)
		}
		// Without user verification: 403 factor_invalid (second factor).
		noUV := *d
		noUV.auth.Options.UserNotVerified = true
		resp, b := w.request("POST", "/v1/auth/passkeys/verify/finish", pend, map[string]any{
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(noUV.rp, noUV.auth, noUV.cred, *opts))})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
			t.Fatalf("second factor without UV: %d %s", resp.StatusCode, b)
		}
		w.passkeyVerify(&pend, d)

		b = w.do("GET", "/v1/auth/passkeys", pend, nil, http.StatusOK, nil)
		var list struct {
			Passkeys []json.RawMessage `json:"passkeys"`
		}
		if json.Unmarshal(b, &list) != nil || len(list.Passkeys) != 1 {
			t.Fatalf("passkey list: %s", b)
		}
		want := "aaguid,backup_eligible,backup_state,created_at,id,last_used_at,name,sign_count,transports"
		if got := strings.Join(jsonKeys(t, list.Passkeys[0]), ","); got != want {
			t.Fatalf("a listed passkey has %s, the doc %s", got, want)
		}
	})

	t.Run("registration refusals", func(t *testing.T) {
		denied := w.auditCount(o.ID, "auth.passkey.register", "denied")
		defer func() {
			if n := w.auditCount(o.ID, "auth.passkey.register", "denied") - denied; n != 2 {
				t.Errorf("%d registration refusals audited, want 2", n)
			}
		}()
		// A challenge another session asked for: 400 challenge_invalid.
		lead := o.Lead.Token
		b := w.do("POST", "/v1/auth/passkeys/register/begin", lead, nil, http.StatusOK, nil)
		opts, err := virtualwebauthn.ParseAttestationOptions(string(b))
		if err != nil {
			t.Fatal(err)
		}
		ld := w.newDevice()
		ld.auth.Options.UserHandle = []byte(opts.UserID)
		other := w.operatorSignIn(o.Lead.Email, o.ID)
		resp, b := w.request("POST", "/v1/auth/passkeys/register/finish", other, map[string]any{"name": "phone",
			"credential": json.RawMessage(virtualwebauthn.CreateAttestationResponse(ld.rp, ld.auth, ld.cred, *opts))})
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "challenge_invalid" {
			t.Fatalf("registration with another session's challenge: %d %s", resp.StatusCode, b)
		}
		// Another origin: 403 factor_invalid (register).
		evil := *ld
		evil.rp.Origin = "http://evil.localhost:1"
		resp, b = w.tryRegister(lead, &evil, "phone")
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
			t.Fatalf("registration from another origin: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("second-factor refusals", func(t *testing.T) {
		denied := w.auditCount(o.ID, "auth.mfa.verify", "denied")
		defer func() {
			if n := w.auditCount(o.ID, "auth.mfa.verify", "denied") - denied; n != 2 {
				t.Errorf("%d second-factor refusals audited, want 2", n)
			}
		}()
		// Another session's challenge: 400 challenge_invalid.
		a, other := w.signInAAL1(o.Admin.Email, o.ID), w.signInAAL1(o.Admin.Email, o.ID)
		b := w.do("POST", "/v1/auth/passkeys/verify/begin", a, nil, http.StatusOK, nil)
		opts, err := virtualwebauthn.ParseAssertionOptions(string(b))
		if err != nil {
			t.Fatal(err)
		}
		resp, b := w.request("POST", "/v1/auth/passkeys/verify/finish", other, map[string]any{
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))})
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "challenge_invalid" {
			t.Fatalf("second factor with another session's challenge: %d %s", resp.StatusCode, b)
		}
		// A passkey that is not the member's: 403 factor_invalid.
		lead, ld := o.Lead.Token, w.newDevice()
		w.registerPasskey(&lead, ld, "lead's laptop")
		b = w.do("POST", "/v1/auth/passkeys/verify/begin", a, nil, http.StatusOK, nil)
		if opts, err = virtualwebauthn.ParseAssertionOptions(string(b)); err != nil {
			t.Fatal(err)
		}
		resp, b = w.request("POST", "/v1/auth/passkeys/verify/finish", a, map[string]any{
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(ld.rp, ld.auth, ld.cred, *opts))})
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "factor_invalid" {
			t.Fatalf("second factor with another member's passkey: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("one membership per passkey, and the rename's answer", func(t *testing.T) {
		// The admin joins another org: their passkey still signs in to the
		// org it was registered in.
		o2 := w.createOrg("Passkey Doc Org Two")
		w.do("POST", "/v1/members", o2.Admin.Token, map[string]any{"email": o.Admin.Email, "role": "provider", "invite": false},
			http.StatusCreated, nil)
		opts, binder := w.signInOptions()
		var s struct {
			Token string    `json:"token"`
			OrgID uuid.UUID `json:"org_id"`
		}
		resp, b := w.request("POST", "/v1/auth/passkeys/signin/finish", "", map[string]any{"binder": binder,
			"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *opts))},
			w.signInProof("/v1/auth/passkeys/signin/finish")...)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &s) != nil || s.OrgID != o.ID {
			t.Fatalf("a passkey of a member of two orgs: %d %s", resp.StatusCode, b)
		}
		var list struct {
			Passkeys []struct {
				ID uuid.UUID `json:"id"`
			} `json:"passkeys"`
		}
		w.do("GET", "/v1/auth/passkeys", s.Token, nil, http.StatusOK, &list)
		var renamed struct {
			ID   uuid.UUID `json:"id"`
			Name string    `json:"name"`
		}
		w.do("PATCH", "/v1/auth/passkeys/"+list.Passkeys[0].ID.String(), s.Token, map[string]string{"name": "Phone"},
			http.StatusOK, &renamed)
		if renamed.ID != list.Passkeys[0].ID || renamed.Name != "Phone" {
			t.Fatalf("rename answer: %+v", renamed)
		}
	})
}

// TestPasskeysUnavailableOnAnIPAddress: the doc's 503 when the public
// base URL's host is an IP address, which cannot be an RP ID.
func TestPasskeysUnavailableOnAnIPAddress(t *testing.T) {
	w := newWorld(t) // http://127.0.0.1:port
	o := w.createOrg("IP Org")
	for _, c := range []struct {
		path, token string
		body        any
	}{
		{"/v1/auth/passkeys/signin/begin", "", nil},
		{"/v1/auth/passkeys/signin/finish", "", map[string]any{"credential": map[string]any{}, "binder": "x"}},
		{"/v1/auth/break-glass/activate", "", map[string]any{"credential": map[string]any{},
			"reason": "An emergency with the care team out of reach"}},
		{"/v1/auth/passkeys/register/begin", o.Admin.Token, nil},
		{"/v1/auth/passkeys/verify/begin", o.Admin.Token, nil},
		{"/v1/auth/passkeys/register/finish", o.Admin.Token, map[string]any{"credential": map[string]any{}}},
		{"/v1/auth/passkeys/verify/finish", o.Admin.Token, map[string]any{"credential": map[string]any{}}},
	} {
		resp, b := w.request("POST", c.path, c.token, c.body, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != http.StatusServiceUnavailable || problemCode(t, b) != "passkeys_unavailable" {
			t.Errorf("%s on an IP address: %d %s", c.path, resp.StatusCode, b)
		}
	}
}

// TestBreakGlassDocContract walks docs/authentication.md "Break-glass": the
// designation's answer, the activation from a browser (no DPoP proof, the
// binder in its cookie) whose answer leaves the token out and says so as
// every other cookie-only sign-in does, and the review's refusal to the
// operator.
func TestBreakGlassDocContract(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Glass Doc Org")
	w.populate(o, "bgd")
	// The operator is an admin with two passkeys.
	op := w.addMember(o, "bgd-op@example.test", "admin")
	d1, d2 := w.newDevice(), w.newDevice()
	w.registerPasskey(&op.Token, d1, "laptop")
	w.registerPasskey(&op.Token, d2, "phone")

	var des struct {
		UserID     uuid.UUID `json:"user_id"`
		Designated bool      `json:"designated"`
		Changed    bool      `json:"changed"`
	}
	w.do("PUT", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, &des)
	if des.UserID != op.ID || !des.Designated || !des.Changed {
		t.Fatalf("designation answer: %+v", des)
	}

	// Activation from Ward's page in a browser: no DPoP proof, the binder
	// in the cookie signin/begin set; the browser held the operator's
	// ordinary session, which the emergency one replaces.
	resp, b := w.browserPasskey("/v1/auth/passkeys/signin/finish", d1, map[string]any{}, "")
	held := cookieOf(resp, "ward_session")
	if resp.StatusCode != http.StatusOK || held == nil {
		t.Fatalf("the operator's browser sign-in: %d %s", resp.StatusCode, b)
	}
	resp, b = w.browserPasskey("/v1/auth/break-glass/activate", d1,
		map[string]any{"reason": "Unresponsive patient at triage; the care team cannot be reached"}, held.Value)
	var bg struct {
		breakGlassAnswer
		TokenType             string `json:"token_type"`
		DeviceBindingRequired bool   `json:"device_binding_required"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &bg) != nil {
		t.Fatalf("browser activation: %d %s", resp.StatusCode, b)
	}
	if bg.Token != "" || !bg.DeviceBindingRequired || !bg.BreakGlass || bg.ActivationID == uuid.Nil || bg.TokenType != "Bearer" {
		t.Fatalf("browser activation answer: %s", b)
	}
	if left := time.Until(bg.AbsoluteExpiresAt); left < 59*time.Minute || left > 61*time.Minute {
		t.Fatalf("break-glass session lives %v, want 60 minutes", left)
	}
	c := cookieOf(resp, "ward_session")
	if c == nil || c.Value == "" {
		t.Fatalf("browser activation set no session cookie: %v", resp.Cookies())
	}
	resp, b = w.request("GET", "/v1/me", "", nil, "Cookie", "ward_session="+held.Value)
	if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
		t.Fatalf("the session the browser held before the activation: %d %s", resp.StatusCode, b)
	}

	// The review: the operator (an admin who stepped up) may not close
	// their own item; another admin may.
	path := "/v1/org/break-glass/activations/" + bg.ActivationID.String() + "/review"
	resp, b = w.request("POST", path, op.Token, map[string]string{"note": "I did it"})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "forbidden" {
		t.Fatalf("the operator closes their own review item: %d %s", resp.StatusCode, b)
	}
	w.do("POST", path, o.Admin.Token, map[string]string{"note": "Checked with the ER lead"}, http.StatusNoContent, nil)

	// An app's activation (a DPoP proof): the token in the body, bound.
	// Nothing renews the session: a step-up rotates its token and keeps
	// its expiry.
	resp, b = w.activate(d2, "Unresponsive patient at triage; the care team cannot be reached")
	var app struct {
		breakGlassAnswer
		TokenType string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &app) != nil || app.Token == "" || app.TokenType != "DPoP" {
		t.Fatalf("app activation: %d %s", resp.StatusCode, b)
	}
	b = w.do("POST", "/v1/auth/passkeys/verify/begin", app.Token, nil, http.StatusOK, nil)
	vopts, err := virtualwebauthn.ParseAssertionOptions(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var rot struct {
		Token             string    `json:"token"`
		AbsoluteExpiresAt time.Time `json:"absolute_expires_at"`
	}
	w.do("POST", "/v1/auth/passkeys/verify/finish", app.Token, map[string]any{
		"credential": json.RawMessage(virtualwebauthn.CreateAssertionResponse(d2.rp, d2.auth, d2.cred, *vopts))},
		http.StatusOK, &rot)
	if rot.Token == "" || rot.Token == app.Token || !rot.AbsoluteExpiresAt.Equal(app.AbsoluteExpiresAt) {
		t.Fatalf("a step-up of the emergency session: expires %v, was %v", rot.AbsoluteExpiresAt, app.AbsoluteExpiresAt)
	}

	w.do("DELETE", "/v1/org/break-glass/users/"+op.ID.String(), o.Admin.Token, nil, http.StatusOK, &des)
	if des.Designated || !des.Changed {
		t.Fatalf("end of designation answer: %+v", des)
	}
}
