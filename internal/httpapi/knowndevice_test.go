package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
)

// A browser that signed in as a member before is not locked out by the
// per-address link limit that anyone can fill (migration 00144): its
// device cookie lifts that limit for that member's address only. Another
// member's device, a forged or expired token, a revoked membership and an
// unknown address are refused as without one; the per-source limits still
// apply; the database keeps at most 10 devices per member and remembers a
// device only in a session's first minute.
func TestKnownDeviceLiftsAddressLimit(t *testing.T) {
	const capAll = 3
	w := newWorld(t, withUnboundOrgs(), withPolicy(func(c *auth.InstancePolicy) {
		c.MaxPerAddress = 100
		c.MaxPerAddressAll = capAll
		c.MaxPerSource = 1000
	}), withAPIConfig(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }))
	ctx := context.Background()
	o := w.createOrg("Known Devices Org")
	owner := w.addMember(o, "owner-inbox@example.test", identity.RoleProvider)
	other := w.addMember(o, "other-inbox@example.test", identity.RoleProvider)

	// signIn completes a sign-in by link and returns the device cookie the
	// answer set.
	signIn := func(email string) *http.Cookie {
		t.Helper()
		url, err := w.ops.OperatorLink(ctx, w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
		if err != nil {
			t.Fatal(err)
		}
		resp, b := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": url[strings.LastIndex(url, "=")+1:]})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
		}
		for _, c := range resp.Cookies() {
			if strings.HasSuffix(c.Name, "ward_device") {
				return c
			}
		}
		t.Fatalf("sign-in set no device cookie: %v", resp.Header.Values("Set-Cookie"))
		return nil
	}
	// The test server is plain HTTP: the cookie has neither the __Host-
	// prefix nor Secure, as the session cookie (TestBrowserSignIn covers
	// those over HTTPS).
	ownerDevice := signIn(owner.Email)
	if ownerDevice.Name != "ward_device" || !ownerDevice.HttpOnly || ownerDevice.SameSite != http.SameSiteStrictMode ||
		ownerDevice.Path != "/" || ownerDevice.MaxAge < int((29*24*time.Hour).Seconds()) {
		t.Fatalf("device cookie %+v: want HttpOnly, SameSite Strict, path /, about 30 days", ownerDevice)
	}
	otherDevice := signIn(other.Email)

	source := 0
	ask := func(email, device string) *http.Response {
		t.Helper()
		source++
		hdr := []string{"X-Forwarded-For", fmt.Sprintf("203.0.%d.%d", source/250, source%250+1)}
		if device != "" {
			hdr = append(hdr, "Cookie", ownerDevice.Name+"="+device)
		}
		resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": email}, hdr...)
		return resp
	}
	links := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.magic_links where user_id = $1`, owner.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	fill := func(email string) {
		t.Helper()
		for i := range capAll {
			if st := ask(email, "").StatusCode; st != http.StatusAccepted {
				t.Fatalf("%s, request %d: %d", email, i+1, st)
			}
		}
		if st := ask(email, "").StatusCode; st != http.StatusTooManyRequests {
			t.Fatalf("%s past the cap without a device: %d, want 429", email, st)
		}
	}
	fill(owner.Email)
	before := links()
	forged := strings.Repeat("A", 43)
	for name, device := range map[string]string{"another member's device": otherDevice.Value, "a forged token": forged,
		"a malformed token": "not-a-device"} {
		if st := ask(owner.Email, device).StatusCode; st != http.StatusTooManyRequests {
			t.Errorf("%s past the cap: %d, want 429", name, st)
		}
	}
	if st := ask(owner.Email, ownerDevice.Value).StatusCode; st != http.StatusAccepted {
		t.Fatalf("the owner's device past the cap: %d, want 202", st)
	}
	if n := links() - before; n != 1 {
		t.Fatalf("%d links minted for the owner's device, want 1", n)
	}
	var known int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1
		and action = 'auth.link.request' and outcome = 'success' and (details->>'known_device')::boolean`, o.ID).Scan(&known); err != nil {
		t.Fatal(err)
	}
	if known != 1 {
		t.Errorf("%d link requests audited with known_device, want 1", known)
	}

	// An unknown address is answered as without a device.
	fill("nobody-inbox@example.test")
	if st := ask("nobody-inbox@example.test", ownerDevice.Value).StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("an unknown address with the owner's device: %d, want 429", st)
	}

	// The per-source limit still applies to a known device.
	if err := auth.SetInstancePolicy(ctx, w.env.Super, auth.InstancePolicy{MaxPerSource: 1}); err != nil {
		t.Fatal(err)
	}
	resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": owner.Email},
		"X-Forwarded-For", "198.51.100.7", "Cookie", ownerDevice.Name+"="+ownerDevice.Value)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the owner's device from a new source: %d", resp.StatusCode)
	}
	resp, _ = w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": owner.Email},
		"X-Forwarded-For", "198.51.100.7", "Cookie", ownerDevice.Name+"="+ownerDevice.Value)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the owner's device past the per-source limit: %d, want 429", resp.StatusCode)
	}
	if err := auth.SetInstancePolicy(ctx, w.env.Super, auth.InstancePolicy{MaxPerSource: 1000}); err != nil {
		t.Fatal(err)
	}

	// An expired device no longer passes.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.known_devices set expires_at = now() - interval '1 second'
		where user_id = $1`, owner.ID); err != nil {
		t.Fatal(err)
	}
	if st := ask(owner.Email, ownerDevice.Value).StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("an expired device past the cap: %d, want 429", st)
	}

	// Nor one whose session's device the member forgot (00163): the
	// session that set the cookie is forgotten, and with it the cookie.
	// Forgetting another session of the same member leaves a device
	// remembered by a session with another user agent alone.
	lost := signIn(owner.Email)
	stays := signIn(owner.Email)
	if st := ask(owner.Email, lost.Value).StatusCode; st != http.StatusAccepted {
		t.Fatalf("a newly remembered device past the cap: %d, want 202", st)
	}
	var lostSession, ownerToken string
	if err := w.env.Super.Pool.QueryRow(ctx, `select d.session_id::text from app.known_devices d
		where d.user_id = $1 and d.token_hash = sha256(convert_to($2, 'UTF8'))`, owner.ID, lost.Value).Scan(&lostSession); err != nil {
		t.Fatalf("the remembered device names no session: %v", err)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set user_agent = 'the lost phone' where id = $1`,
		lostSession); err != nil {
		t.Fatal(err)
	}
	ownerToken = w.signInAAL1(owner.Email, o.ID)
	var forgot struct {
		Forgotten int `json:"sessions_forgotten"`
	}
	w.do("POST", "/v1/sessions/"+lostSession+"/forget-device", ownerToken, nil, http.StatusOK, &forgot)
	if forgot.Forgotten != 1 {
		t.Fatalf("forget-device marked %d sessions, want 1", forgot.Forgotten)
	}
	if st := ask(owner.Email, lost.Value).StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("a forgotten device past the cap: %d, want 429", st)
	}
	if st := ask(owner.Email, stays.Value).StatusCode; st != http.StatusAccepted {
		t.Errorf("a device of another session past the cap after a forget: %d, want 202", st)
	}

	// Nor does one whose membership was revoked.
	fresh := signIn(owner.Email)
	if st := ask(owner.Email, fresh.Value).StatusCode; st != http.StatusAccepted {
		t.Fatalf("a newly remembered device past the cap: %d, want 202", st)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.memberships set revoked_at = now()
		where org_id = $1 and user_id = $2`, o.ID, owner.ID); err != nil {
		t.Fatal(err)
	}
	if st := ask(owner.Email, fresh.Value).StatusCode; st != http.StatusTooManyRequests {
		t.Errorf("a revoked member's device past the cap: %d, want 429", st)
	}

	// At most 10 devices per member; the oldest go.
	for range 12 {
		signIn(other.Email)
	}
	var kept int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.known_devices where user_id = $1`, other.ID).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != 10 {
		t.Errorf("%d devices kept for a member after 13 sign-ins, want 10", kept)
	}

	// A device is remembered in a session's first minute only: an older
	// session's token cannot mint device tokens.
	tok := w.signInAAL1(other.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set created_at = now() - interval '2 minutes'
		where token_hash = sha256($1::bytea)`, []byte(tok)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.auth.RememberDevice(ctx, tok); err != nil || ok {
		t.Errorf("remember a device with a 2-minute-old session: ok %v, err %v; want refused", ok, err)
	}
}
