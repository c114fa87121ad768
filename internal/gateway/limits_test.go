package gateway

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A reservation counts the body at a token per four bytes and max_tokens
// for messages; a max_tokens Ward could not reserve is refused.
func TestReservation(t *testing.T) {
	for _, tc := range []struct {
		ep   Endpoint
		max  string // "" for absent
		want int64  // -1: refused
	}{
		{Messages, "400", 100 + 400},
		{Messages, " 1 ", 100 + 1},
		{Messages, "", 100},
		{CountTokens, "9223372036854775807", 100},
		{Messages, "4194304", 100 + 4194304},
		{Messages, "4194305", -1},
		{Messages, "9223372036854775807", -1},
		{Messages, "99999999999999999999", -1},
		{Messages, "1e9", -1},
		{Messages, "4096.0", -1},
		{Messages, "1.5", -1},
		{Messages, `"10"`, -1},
		{Messages, "null", -1},
		{Messages, "0", -1},
		{Messages, "-5", -1},
	} {
		top := map[string]json.RawMessage{}
		if tc.max != "" {
			top["max_tokens"] = json.RawMessage(tc.max)
		}
		got, err := reservation(tc.ep, top, 400)
		switch {
		case tc.want < 0 && !errors.Is(err, ErrBadRequest):
			t.Errorf("%s max_tokens %s: %d, %v; want refused", tc.ep, tc.max, got, err)
		case tc.want >= 0 && (err != nil || got != tc.want):
			t.Errorf("%s max_tokens %s: %d, %v; want %d", tc.ep, tc.max, got, err, tc.want)
		}
	}
}

// A reservation settled against what was used leaves the bucket as the
// use alone would; one larger than the bucket passes only a full bucket;
// a wait is never more than an hour.
func TestLimiterReserveSettle(t *testing.T) {
	l := &orgLimiter{}
	org := uuid.New()
	pol := Policy{RequestsPerMinute: 100, TokensPerMinute: 1000}
	now := time.Now()
	bucket := func() float64 { return l.m[org].tokens }

	if _, ok := l.reserve(org, pol, 450, now); !ok {
		t.Fatal("450 of a full bucket of 1000 refused")
	}
	if _, ok := l.reserve(org, pol, 450, now); !ok {
		t.Fatal("450 of 550 refused")
	}
	if wait, ok := l.reserve(org, pol, 450, now); ok || wait <= 0 {
		t.Fatalf("450 of 100: admitted %v, wait %v", ok, wait)
	}
	l.settle(org, pol, 450, 30, now)
	l.settle(org, pol, 450, 500, now)
	if got := bucket(); math.Abs(got-(1000-30-500)) > 1e-6 {
		t.Fatalf("after using 30 and 500: %v", got)
	}

	// larger than the bucket: only when it is full, then it goes negative
	if _, ok := l.reserve(org, pol, 5000, now); ok {
		t.Fatal("5000 admitted by a bucket that is not full")
	}
	later := now.Add(time.Minute)
	if _, ok := l.reserve(org, pol, 5000, later); !ok {
		t.Fatal("5000 refused by a full bucket")
	}
	l.settle(org, pol, 5000, 0, later.Add(time.Nanosecond))
	if got := bucket(); got != 1000 {
		t.Fatalf("a call that used nothing left the bucket at %v", got)
	}
	if d := minutes(1e30); d != time.Hour {
		t.Fatalf("a long wait: %v", d)
	}
}
