package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/mail"
)

// slowMailer stands in for an SMTP server: each delivery takes delay.
type slowMailer struct {
	delay time.Duration
	sent  atomic.Int64
}

func (m *slowMailer) Send(ctx context.Context, _ mail.Message) error {
	select {
	case <-time.After(m.delay):
		m.sent.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Timing of POST /v1/auth/magic-link must not tell a member's address from
// an unknown one: same status, same body (but the random verifier), and
// about the same latency.
//
// The margin. Requests for the known address and for fresh unknown
// addresses are interleaved (alternating which goes first, to cancel
// drift), and the medians are compared. The test fails when they differ by
// more than max(5 ms, 25% of the unknown median), capped at half the
// simulated mail delay (100 ms). That is generous on purpose, so a loaded
// 2-core machine does not fail it; it catches work of the order of a mail
// round trip done only for members (sending synchronously, a slow lookup),
// not sub-millisecond differences such as the extra insert and audit
// append a known address costs (the medians are logged).
func TestLinkRequestTiming(t *testing.T) {
	const (
		pairs     = 120
		warmup    = 15
		mailDelay = 100 * time.Millisecond
	)
	mailer := &slowMailer{delay: mailDelay}
	// Each request comes from its own client address (behind a trusted
	// proxy), so neither the per-address-and-source limit (at most 100 by
	// the instance policy's hard cap) nor the per-address one (raised to its
	// cap of 1000) answers first.
	w := newWorld(t, withMailer(mailer),
		withPolicy(func(c *auth.InstancePolicy) { c.MaxPerAddress = 100; c.MaxPerAddressAll = 1000; c.MaxPerSource = 10000 }),
		withAPIConfig(func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }))
	client := 0
	o := w.createOrg("Timing Org")
	known := w.addMember(o, "timed-member@example.test", identity.RoleProvider).Email

	var reference *answer
	ask := func(email string) time.Duration {
		t.Helper()
		start := time.Now()
		client++
		resp, body := w.request("POST", "/v1/auth/magic-link", "", map[string]string{"email": email},
			"X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", client/250, client%250+1))
		d := time.Since(start)
		a := answerOf(t, resp, body)
		if reference == nil {
			reference = &a
		} else if a != *reference {
			t.Fatalf("answers differ between addresses:\n  %+v\n  %+v", *reference, a)
		}
		return d
	}

	var k, u []time.Duration
	n := 0
	unknown := func() string { n++; return fmt.Sprintf("stranger-%d@example.test", n) }
	for i := range warmup + pairs {
		var dk, du time.Duration
		if i%2 == 0 {
			dk, du = ask(known), ask(unknown())
		} else {
			du, dk = ask(unknown()), ask(known)
		}
		if i >= warmup {
			k, u = append(k, dk), append(u, du)
		}
	}
	mk, mu := median(k), median(u)
	margin := min(max(5*time.Millisecond, mu/4), mailDelay/2)
	t.Logf("median latency: known %v, unknown %v (margin %v; %d pairs)", mk, mu, margin, pairs)
	if diff := (mk - mu).Abs(); diff > margin {
		t.Fatalf("a known address answers %v slower or faster than an unknown one (medians %v vs %v), more than %v",
			mk-mu, mk, mu, margin)
	}
	// The links for the known address were sent (in the background).
	deadline := time.Now().Add(10 * time.Second)
	for mailer.sent.Load() < int64(warmup+pairs) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := mailer.sent.Load(); got < int64(warmup+pairs) {
		t.Fatalf("%d links mailed to the member, want %d", got, warmup+pairs)
	}
}

// answer is what a client can see of a link request, with the random
// verifier reduced to its length.
type answer struct {
	status      int
	contentType string
	length      int64
	keys        string
	message     string
	verifierLen int
	cookieLen   int
}

func answerOf(t *testing.T, resp *http.Response, body []byte) answer {
	t.Helper()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("link request: %d %s", resp.StatusCode, body)
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("link request body: %v: %s", err, body)
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	a := answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), length: resp.ContentLength,
		keys: fmt.Sprint(keys), message: m["status"], verifierLen: len(m["verifier"])}
	for _, c := range resp.Cookies() {
		a.cookieLen += len(c.String())
	}
	return a
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
