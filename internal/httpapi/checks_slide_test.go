package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// TestKeptCheckSlides: a kept principal is served for the check TTL after
// the database last confirmed it, so a credential in use is checked in
// full once, not once per TTL: a DPoP-bound lead on an inTx, a kept and
// an ahead route and a patient's bearer session, each used every quarter
// TTL for two TTLs, are never checked in full again; idle for longer than
// the TTL, each is.
func TestKeptCheckSlides(t *testing.T) {
	const ttl = 3 * time.Second
	w := newWorld(t, withAuthConfig(func(c *auth.Config) { c.CheckTTL = ttl }))
	o := w.createOrg("Sliding Checks")
	w.populate(o, "slide")
	if _, ok := w.boundKey(o.Lead.Token); !ok {
		t.Fatal("the lead's session is not DPoP-bound")
	}
	patient := "/v1/patients/" + o.P1.String()
	leadUses := []func(){
		func() { w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil) },        // inTx
		func() { w.do("GET", "/v1/sessions", o.Lead.Token, nil, http.StatusOK, nil) }, // kept
		func() {
			w.do("POST", patient+"/entries", o.Lead.Token, map[string]any{"kind": "food", "name": "Oats",
				"observed_at": "2026-12-01T08:00:00Z"}, http.StatusCreated, nil) // ahead
		},
	}
	patUse := func() { w.do("GET", "/v1/sessions", o.PatUser.Token, nil, http.StatusOK, nil) }

	leadUses[0]() // full checks: kept
	patUse()
	before, start, n := w.auth.CheckStats(), time.Now(), 0
	for ; time.Since(start) < 2*ttl; n++ {
		time.Sleep(ttl / 4)
		leadUses[n%len(leadUses)]()
		patUse()
	}
	if d := w.checksSince(before); d.Full != 0 || d.Stale != 0 || d.Kept != uint64(2*n) {
		t.Fatalf("%d uses each of two credentials in use for two TTLs: %+v, want all kept, no full check", n, d)
	}

	time.Sleep(ttl + ttl/2)
	before = w.auth.CheckStats()
	leadUses[0]()
	patUse()
	if d := w.checksSince(before); d.Full != 2 || d.Kept != 0 {
		t.Fatalf("two credentials idle for longer than the TTL: %+v, want two full checks", d)
	}
}
