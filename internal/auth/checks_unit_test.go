package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestChecksDropKeepsAFresherEntry: a deferred check found stale forgets
// the entry it was served from, not one a full check kept since (a
// concurrent request of the same credential, served again first).
func TestChecksDropKeepsAFresherEntry(t *testing.T) {
	c := newChecks(0, nil)
	k := checkKey{hash: "h", org: "", binding: ""}
	old, fresh := time.Now().Add(-time.Second), time.Now()
	c.put(k, checkEntry{at: old, seen: old})
	c.put(k, checkEntry{at: fresh, seen: fresh})
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

// TestChecksRenewSlides: a kept principal the database confirmed again is
// served for the TTL after that confirmation, not after the full check
// that kept it; a renewal for an entry a full check replaced since leaves
// the newer one as it is, and a stale finding still forgets a renewed one.
func TestChecksRenewSlides(t *testing.T) {
	c := newChecks(10*time.Second, nil)
	k := checkKey{hash: "h"}
	t0 := time.Now()
	c.put(k, checkEntry{at: t0, seen: t0})
	c.renew(k, t0, t0.Add(8*time.Second))
	if _, ok := c.get(k, t0.Add(17*time.Second)); !ok {
		t.Fatal("a principal confirmed 9 s ago (10 s TTL), kept 17 s ago, is no longer served")
	}
	if _, ok := c.get(k, t0.Add(18*time.Second+time.Millisecond)); ok {
		t.Fatal("a principal not confirmed for longer than the TTL is still served")
	}

	t1 := t0.Add(time.Minute)
	c.put(k, checkEntry{at: t1, seen: t1})
	c.renew(k, t0, t1.Add(9*time.Second)) // for the entry replaced
	if _, ok := c.get(k, t1.Add(11*time.Second)); ok {
		t.Fatal("renewing a replaced entry renewed the one a full check kept since")
	}
	c.put(k, checkEntry{at: t1, seen: t1})
	c.renew(k, t1, t1.Add(5*time.Second))
	c.renew(k, t1, t1.Add(2*time.Second)) // an older confirmation, finishing late
	if _, ok := c.get(k, t1.Add(14*time.Second)); !ok {
		t.Fatal("a late, older confirmation moved the entry's time back")
	}
	c.drop(k, t1)
	if _, ok := c.get(k, t1.Add(6*time.Second)); ok {
		t.Fatal("a renewed entry found stale is still kept")
	}
}

// TestDPoPProofComplete: a proof goes to the database only with its key's
// thumbprint, its jti and its iat (the iat chooses the jti's ring since
// migration 00227, and the database refuses a key bound without one with
// a server error): a proof missing any of them is ErrDPoPInvalid before.
func TestDPoPProofComplete(t *testing.T) {
	full := DPoPProof{JKT: strings.Repeat("K", 43), JTI: "a-jti", IAT: 1_800_000_000}
	if err := full.complete(); err != nil {
		t.Fatalf("a complete proof: %v", err)
	}
	for name, p := range map[string]DPoPProof{
		"no key": {JTI: full.JTI, IAT: full.IAT}, "no jti": {JKT: full.JKT, IAT: full.IAT},
		"no iat": {JKT: full.JKT, JTI: full.JTI}, "a negative iat": {JKT: full.JKT, JTI: full.JTI, IAT: -1},
	} {
		if err := p.complete(); !errors.Is(err, ErrDPoPInvalid) {
			t.Errorf("%s: %v, want ErrDPoPInvalid", name, err)
		}
	}
}
