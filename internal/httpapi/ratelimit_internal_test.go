package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
)

// The limiter's memory is bounded: refilled buckets are dropped, and past
// the cap the least recently seen go first.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(10, 5, 8) // refills in half a second
	now := time.Now()
	org := uuid.New()
	p := func() identity.Principal { return identity.Principal{OrgID: org, UserID: uuid.New()} }
	busy := p()
	for range 5 {
		if ok, _ := l.allow(busy, now); !ok {
			t.Fatal("refused within the burst")
		}
	}
	if ok, retry := l.allow(busy, now); ok || retry <= 0 || retry > 100*time.Millisecond {
		t.Fatalf("past the burst: ok %v retry %s", ok, retry)
	}
	for i := range 100 {
		l.allow(p(), now.Add(time.Duration(i)*time.Millisecond))
		if n := len(l.buckets); n > 8 {
			t.Fatalf("%d buckets, cap 8", n)
		}
	}
	// Idle past the refill time: swept on the next call.
	later := now.Add(time.Minute)
	l.allow(p(), later)
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets after every other went idle", n)
	}
	if ok, _ := l.allow(busy, later); !ok {
		t.Fatal("a refilled principal is refused")
	}
	if ok, _ := newLimiter(-1, 0, 1).allow(busy, now); !ok {
		t.Fatal("a negative rate does not turn the limit off")
	}
}
