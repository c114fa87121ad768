package httpapi

import (
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// limiter is a token bucket per principal (org and user) in memory,
// bounded: a bucket idle long enough to have refilled is the same as a new
// one and is dropped, and past max buckets the idlest are dropped first.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	max     int
	idle    time.Duration // a bucket refills completely in this time
	buckets map[[32]byte]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst, maxBuckets int) *limiter {
	burst = max(burst, 1)
	l := &limiter{every: rate.Limit(perSecond), burst: burst, max: maxBuckets, buckets: map[[32]byte]*bucket{}}
	if perSecond < 0 {
		l.every = rate.Inf
	} else {
		l.idle = time.Duration(float64(burst) / perSecond * float64(time.Second))
	}
	return l
}

// allow takes one token from p's bucket, or reports how long until one is
// there.
func (l *limiter) allow(p identity.Principal, now time.Time) (ok bool, retry time.Duration) {
	return l.allowKey(principalKey(p), now)
}

// principalKey is p's bucket key: its org and user (or credential).
func principalKey(p identity.Principal) (k [32]byte) {
	copy(k[:16], p.OrgID[:])
	who := p.UserID
	if who == uuid.Nil {
		who = p.CredentialID
	}
	copy(k[16:], who[:])
	return k
}

// available reports whether p's bucket holds a token now, without taking
// it: for a request whose spend waits for something (spend).
func (l *limiter) available(p identity.Principal, now time.Time) bool {
	if l.every == rate.Inf {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[principalKey(p)]
	return b == nil || b.lim.TokensAt(now) >= 1
}

// spend takes one token from p's bucket for a request available let
// through: when concurrent requests took the last one meanwhile, the
// bucket goes into debt (the requests after wait the longer), so over time
// the rate holds, and at most the requests in flight at once pass beyond
// it.
func (l *limiter) spend(p identity.Principal, now time.Time) {
	if l.every == rate.Inf {
		return
	}
	k := principalKey(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketFor(k, now)
	b.lim.ReserveN(now, 1)
}

// allowAddr is allow for a client address: an IPv4 address, or the /64 of
// an IPv6 one (a host holds a whole /64). Its keys cannot meet a
// principal's: their first 16 bytes are zero and no org id is.
func (l *limiter) allowAddr(a netip.Addr, now time.Time) (ok bool, retry time.Duration) {
	return l.allowKey(addrKey(a), now)
}

// addrKey is a client address's bucket key.
func addrKey(a netip.Addr) (k [32]byte) {
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	b := a.As16()
	copy(k[16:], b[:])
	return k
}

// spentAddr reports whether a's bucket (allowAddr's) has no token left,
// and then how long until one is there, without taking one.
func (l *limiter) spentAddr(a netip.Addr, now time.Time) (retry time.Duration, spent bool) {
	if l.every == rate.Inf {
		return 0, false
	}
	k := addrKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		return 0, false
	}
	if tokens := b.lim.TokensAt(now); tokens < 1 {
		return time.Duration((1 - tokens) / float64(l.every) * float64(time.Second)), true
	}
	return 0, false
}

func (l *limiter) allowKey(k [32]byte, now time.Time) (ok bool, retry time.Duration) {
	if l.every == rate.Inf {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketFor(k, now)
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimited is the 429 problem for a limiter's refusal; the surface
// sends Retry-After from retry.
func rateLimited(retry time.Duration, msg string) error {
	return errkind.WithRetry(&publicError{status: http.StatusTooManyRequests, code: "rate_limited", msg: msg}, retry)
}

// sweep drops refilled buckets; if that leaves the map full, it drops the
// least recently seen half.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.idle {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	seen := make([]time.Time, 0, len(l.buckets))
	for _, b := range l.buckets {
		seen = append(seen, b.seen)
	}
	slices.SortFunc(seen, time.Time.Compare)
	cut := seen[len(seen)/2]
	for k, b := range l.buckets {
		if !b.seen.After(cut) {
			delete(l.buckets, k)
		}
	}
}

// bucketFor is k's bucket, made if it has none, marked seen now; idle
// buckets are swept first when due. l.mu is held.
func (l *limiter) bucketFor(k [32]byte, now time.Time) *bucket {
	if now.Sub(l.swept) > l.idle || len(l.buckets) >= l.max {
		l.sweep(now)
	}
	b := l.buckets[k]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[k] = b
	}
	b.seen = now
	return b
}
