package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
)

var linkRE = regexp.MustCompile(`/v1/auth/magic\?token=([A-Za-z0-9_-]{43})`)

// requestLink asks for a link for email and returns the browser verifier
// from the cookie the response sets.
func requestLink(t *testing.T, w *world, email string) (verifier string, status int) {
	t.Helper()
	resp, body := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": email})
	if resp.StatusCode != http.StatusAccepted {
		return "", resp.StatusCode
	}
	for _, c := range resp.Cookies() {
		if c.Name == "ward_verifier" {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("verifier cookie not HttpOnly/SameSite=Strict: %+v", c)
			}
			verifier = c.Value
		}
	}
	if verifier == "" {
		t.Fatalf("no verifier cookie: %s", body)
	}
	return verifier, resp.StatusCode
}

// The whole magic-link flow against a real SMTP server (mailpit).
func TestMagicLinkOverSMTP(t *testing.T) {
	mp := mailtest.Start(t)
	w := newWorld(t, withMailer(mail.NewSMTP(mail.SMTPConfig{Addr: mp.SMTPAddr(), From: "ward@ward.example"})),
		withPolicy(func(c *auth.InstancePolicy) { c.MaxPerAddress = 4; c.MaxPerSource = 1000 }))
	o := w.createOrg("Mail Org")
	member := w.addMember(o, "dana@example.test", "provider")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	waitToken := func(t *testing.T) string {
		t.Helper()
		msg, err := mp.WaitFor(ctx, member.Email)
		if err != nil {
			t.Fatalf("no mail: %v", err)
		}
		m := linkRE.FindStringSubmatch(msg.Text)
		if m == nil {
			t.Fatalf("no link in mail: %q", msg.Text)
		}
		if err := mp.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		return m[1]
	}
	consume := func(token, verifier string) (*http.Response, []byte) {
		// An app's sign-in: a DPoP proof (the member is a provider, whose
		// sessions the org requires bound).
		return w.request("POST", "/v1/auth/magic", "", map[string]string{"token": token, "verifier": verifier},
			w.signInProof("/v1/auth/magic")...)
	}

	t.Run("sign in once", func(t *testing.T) {
		verifier, _ := requestLink(t, w, member.Email)
		token := waitToken(t)
		// The landing page does not spend the link (mail scanners fetch it).
		resp, body := w.request("GET", "/v1/auth/magic?token="+token, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `method="post"`) {
			t.Fatalf("landing: %d %s", resp.StatusCode, body)
		}
		resp, body = consume(token, verifier)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("consume: %d %s", resp.StatusCode, body)
		}
		var s struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(body, &s)
		var me struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		}
		w.do("GET", "/v1/me", s.Token, nil, http.StatusOK, &me)
		if me.UserID != member.ID.String() || me.Role != "provider" {
			t.Fatalf("me = %+v", me)
		}
		// Reuse is refused, and audited.
		resp, body = consume(token, verifier)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "link_used" {
			t.Fatalf("reuse: %d %s", resp.StatusCode, body)
		}
		if n := w.auditCount(o.ID, "auth.signin", "denied"); n != 1 {
			t.Fatalf("denied sign-ins audited: %d", n)
		}
	})

	t.Run("wrong browser", func(t *testing.T) {
		requestLink(t, w, member.Email)
		token := waitToken(t)
		other, _ := requestLink(t, w, "nobody@example.test") // a verifier from another request
		resp, body := consume(token, other)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "wrong_browser" {
			t.Fatalf("wrong browser: %d %s", resp.StatusCode, body)
		}
		resp, body = consume(token, "")
		if problemCode(t, body) != "wrong_browser" {
			t.Fatalf("no verifier: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("expired", func(t *testing.T) {
		verifier, _ := requestLink(t, w, member.Email)
		token := waitToken(t)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.magic_links set expires_at = now() - interval '1 second'
			where used_at is null`); err != nil {
			t.Fatal(err)
		}
		resp, body := consume(token, verifier)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "link_expired" {
			t.Fatalf("expired: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("unknown address answers the same and sends nothing", func(t *testing.T) {
		known, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "dana@example.test"})
		unknown, ub := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "stranger@example.test"})
		if known.StatusCode != unknown.StatusCode {
			t.Fatalf("status differs: %d vs %d", known.StatusCode, unknown.StatusCode)
		}
		var u map[string]string
		_ = json.Unmarshal(ub, &u)
		if u["status"] == "" || len(u["verifier"]) != 43 {
			t.Fatalf("unknown: %s", ub)
		}
		time.Sleep(300 * time.Millisecond)
		if n, err := mp.Count(ctx, "stranger@example.test"); err != nil || n != 0 {
			t.Fatalf("mail to unknown address: %d %v", n, err)
		}
		_ = mp.Reset(ctx)
	})

	t.Run("rate limit per address", func(t *testing.T) {
		// The limit is 4 per window; this address has been asked for
		// above, so the next requests run into it.
		var last int
		for range 5 {
			_, last = requestLink(t, w, member.Email)
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("sixth request: %d, want 429", last)
		}
		// Another address is not limited by this one.
		if _, st := requestLink(t, w, "other@example.test"); st != http.StatusAccepted {
			t.Fatalf("other address limited: %d", st)
		}
	})
}

func TestRateLimitPerIP(t *testing.T) {
	w := newWorld(t, withPolicy(func(c *auth.InstancePolicy) { c.MaxPerSource = 3 }))
	for i := range 3 {
		if _, st := requestLink(t, w, "x"+string(rune('a'+i))+"@example.test"); st != http.StatusAccepted {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	resp, body := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "fresh@example.test"})
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, body) != "rate_limited" {
		t.Fatalf("fourth request from one IP: %d %s", resp.StatusCode, body)
	}
	// Retry when the oldest counted request leaves the 15-minute window.
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 890 || ra > 900 {
		t.Fatalf("Retry-After %q, want about 900 seconds", resp.Header.Get("Retry-After"))
	}
}

// Concurrent requests cannot all count below the limit: the database
// serialises attempts per address.
func TestRateLimitUnderConcurrency(t *testing.T) {
	w := newWorld(t, withPolicy(func(c *auth.InstancePolicy) { c.MaxPerAddress = 3; c.MaxPerSource = 1000 }))
	o := w.createOrg("Race Org")
	w.addMember(o, "racer@example.test", "provider")
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "racer@example.test"})
			if resp.StatusCode == http.StatusAccepted {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var links int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from app.magic_links where verifier_hash is not null`).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if accepted != 3 || links != 3 {
		t.Fatalf("24 concurrent requests with a limit of 3: %d accepted, %d links", accepted, links)
	}
}

// Behind a trusted proxy each client's own address counts; without the
// setting, a forged X-Forwarded-For changes nothing.
func TestClientAddressBehindProxy(t *testing.T) {
	limit := func(c *auth.InstancePolicy) { c.MaxPerSource = 2; c.MaxPerAddress = 100 }
	ask := func(w *world, from string) int {
		resp, _ := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": "p@example.test"},
			"X-Forwarded-For", "198.51.100.9, "+from)
		return resp.StatusCode
	}
	proxied := newWorld(t, withPolicy(limit), withAPIConfig(func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}))
	for i := range 6 {
		// Six clients, one request each: none is limited.
		if st := ask(proxied, fmt.Sprintf("203.0.113.%d", i+1)); st != http.StatusAccepted {
			t.Fatalf("client %d behind the proxy: %d", i, st)
		}
	}
	for range 2 {
		ask(proxied, "203.0.113.50")
	}
	if st := ask(proxied, "203.0.113.50"); st != http.StatusTooManyRequests {
		t.Fatalf("third request from one client behind the proxy: %d", st)
	}
	direct := newWorld(t, withPolicy(limit))
	ask(direct, "203.0.113.1")
	ask(direct, "203.0.113.2")
	if st := ask(direct, "203.0.113.3"); st != http.StatusTooManyRequests {
		t.Fatalf("forged X-Forwarded-For evaded the per-IP limit: %d", st)
	}
}
