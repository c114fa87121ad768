package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// TestKeptCheckSlides: a kept principal is served for the check TTL after
// the database last confirmed it, so a credential in use is checked in
// full once, not once per TTL. Each kind of route renews on its own: a
// DPoP-bound lead on an ahead route, a DPoP-bound provider on an inTx
// route and another on a kept one, and two patients' bearer sessions on
// an inTx and a kept route, each used every half TTL for two
// and a half TTLs, are never checked in full again (a route kind that did
// not renew would have its credential checked in full by its third use);
// idle for longer than the TTL, each is.
func TestKeptCheckSlides(t *testing.T) {
	const ttl = 4 * time.Second
	w := newWorld(t, withAuthConfig(func(c *auth.Config) { c.CheckTTL = ttl }))
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
	before, start, n := w.auth.CheckStats(), time.Now(), 0
	// A quarter TTL between rounds: a round's own requests may take a
	// while on a loaded machine, and each credential's uses must stay
	// within a TTL of each other for the window to slide.
	for ; time.Since(start) < 2*ttl+ttl/2; n++ {
		time.Sleep(ttl / 4)
		useAll()
	}
	if d := w.checksSince(before); d.Full != 0 || d.Stale != 0 || d.Kept != uint64(len(uses)*n) {
		t.Fatalf("%d uses each of %d credentials in use for 2.5 TTLs: %+v, want all kept, no full check", n, len(uses), d)
	}

	time.Sleep(ttl + ttl/2)
	before = w.auth.CheckStats()
	useAll()
	if d := w.checksSince(before); d.Full != uint64(len(uses)) || d.Kept != 0 {
		t.Fatalf("%d credentials idle for longer than the TTL: %+v, want as many full checks", len(uses), d)
	}
}
