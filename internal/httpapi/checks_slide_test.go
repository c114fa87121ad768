package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// TestKeptCheckSlides: a kept principal is served for the check TTL after
// the database last confirmed it, so a credential in use is checked in
// full once, not once per TTL. Each kind of route renews on its own: a
// DPoP-bound lead on an ahead route, a DPoP-bound provider on an inTx
// route and another on a kept one, and two patients' bearer sessions on
// an inTx and a kept route, each used every half TTL for two and a half
// TTLs, are never checked in full again (a route kind that did not renew
// would have its credential checked in full by its third use); idle for
// longer than the TTL, each is. The TTL is measured on a clock the test
// moves (auth.Config.Now): a round of requests slowed down by a loaded
// machine neither lets an entry lapse nor keeps one alive.
func TestKeptCheckSlides(t *testing.T) {
	const ttl = 4 * time.Second
	clock := &stepClock{at: time.Now()}
	w := newWorld(t, withAuthConfig(func(c *auth.Config) { c.CheckTTL, c.Now = ttl, clock.now }))
	o := w.createOrg("Sliding Checks")
	w.populate(o, "slide")
	for _, m := range []string{o.Lead.Token, o.Prov.Token, o.Prov2.Token} {
		if _, ok := w.boundKey(m); !ok {
			t.Fatal("a staff session is not DPoP-bound")
		}
	}
	patient := "/v1/patients/" + o.P1.String()
	uses := []func(){
		func() {
			w.do("POST", patient+"/entries", o.Lead.Token, map[string]any{"kind": "food", "name": "Oats",
				"observed_at": "2026-12-01T08:00:00Z"}, http.StatusCreated, nil) // ahead
		},
		func() { w.do("GET", patient, o.Prov.Token, nil, http.StatusOK, nil) },            // inTx
		func() { w.do("GET", "/v1/sessions", o.Prov2.Token, nil, http.StatusOK, nil) },    // kept
		func() { w.do("GET", patient, o.PatUser.Token, nil, http.StatusOK, nil) },         // inTx, bearer
		func() { w.do("GET", "/v1/sessions", o.PatUser2.Token, nil, http.StatusOK, nil) }, // kept, bearer
	}
	useAll := func() {
		for _, use := range uses {
			use()
		}
	}

	useAll() // full checks: kept
	before, n := w.auth.CheckStats(), 0
	for ; n < 5; n++ { // every half TTL for two and a half TTLs
		clock.advance(ttl / 2)
		useAll()
	}
	if d := w.checksSince(before); d.Full != 0 || d.Stale != 0 || d.Kept != uint64(len(uses)*n) {
		t.Fatalf("%d uses each of %d credentials in use for 2.5 TTLs: %+v, want all kept, no full check", n, len(uses), d)
	}

	clock.advance(ttl + ttl/2)
	before = w.auth.CheckStats()
	useAll()
	if d := w.checksSince(before); d.Full != uint64(len(uses)) || d.Kept != 0 {
		t.Fatalf("%d credentials idle for longer than the TTL: %+v, want as many full checks", len(uses), d)
	}
}

// stepClock is a clock that moves only when told to.
type stepClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}
