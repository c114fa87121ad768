package auth

import (
	"testing"
	"time"
)

// TestChecksDropKeepsAFresherEntry: a deferred check found stale forgets
// the entry it was served from, not one a full check kept since (a
// concurrent request of the same credential, served again first).
func TestChecksDropKeepsAFresherEntry(t *testing.T) {
	c := newChecks()
	k := checkKey{hash: "h", org: "", binding: ""}
	old, fresh := time.Now().Add(-time.Second), time.Now()
	c.put(k, checkEntry{at: old})
	c.put(k, checkEntry{at: fresh})
	c.drop(k, old)
	if e, ok := c.get(k, time.Now()); !ok || !e.at.Equal(fresh) {
		t.Fatalf("the fresher entry is gone after the stale one was dropped: %v %v", ok, e.at)
	}
	c.drop(k, fresh)
	if _, ok := c.get(k, time.Now()); ok {
		t.Fatal("the entry found stale is still kept")
	}
	if n := c.stale.Load(); n != 2 {
		t.Fatalf("stale count %d, want 2", n)
	}
}
