package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres"
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

// A fallback model answers with its entry's own max_tokens, so the
// reservation holds the largest of the request's and its fallbacks': a
// request asking for one token with a fallback allowed four million
// reserves four million.
func TestReservationCountsFallbacks(t *testing.T) {
	for _, tc := range []struct {
		fallbacks string
		want      int64 // -1: refused
	}{
		{`[{"model":"a","max_tokens":4194304}]`, 100 + 4194304},
		{`[{"model":"a"},{"model":"b","max_tokens":9000},{"model":"c","max_tokens":null}]`, 100 + 9000},
		{`[{"model":"a","max_tokens":10}]`, 100 + 400},
		{`"default"`, 100 + 400},
		{`[{"model":"a","max_tokens":4194305}]`, -1},
		{`[{"model":"a","max_tokens":"9"}]`, -1},
	} {
		top := map[string]json.RawMessage{"max_tokens": json.RawMessage("400"), "fallbacks": json.RawMessage(tc.fallbacks)}
		got, err := reservation(Messages, top, 400)
		switch {
		case tc.want < 0 && !errors.Is(err, ErrBadRequest):
			t.Errorf("fallbacks %s: %d, %v; want refused", tc.fallbacks, got, err)
		case tc.want >= 0 && (err != nil || got != tc.want):
			t.Errorf("fallbacks %s: %d, %v; want %d", tc.fallbacks, got, err, tc.want)
		}
	}
}

// A node remembers that an org's buckets admit nothing under the policy's
// limits until the time it was given, and forgets it then or when the
// limits change.
func TestLimiterRemembersEmptyBucket(t *testing.T) {
	l := &limiter{}
	org, other := uuid.New(), uuid.New()
	pol := Policy{RequestsPerMinute: 60, TokensPerMinute: 1000}
	now := time.Now()
	if _, refused := l.refused(org, pol, now); refused {
		t.Fatal("refused before the database said anything")
	}
	l.remember(org, pol, now, time.Second)
	if wait, refused := l.refused(org, pol, now.Add(400*time.Millisecond)); !refused || wait != 600*time.Millisecond {
		t.Fatalf("within the second: refused %v, wait %v; want refused, 600ms", refused, wait)
	}
	if _, refused := l.refused(other, pol, now); refused {
		t.Fatal("another org refused")
	}
	for _, changed := range []Policy{{RequestsPerMinute: 600, TokensPerMinute: 1000}, {RequestsPerMinute: 60, TokensPerMinute: 2000}} {
		if _, refused := l.refused(org, changed, now); refused {
			t.Fatalf("refused under other limits (a policy change): %+v", changed)
		}
	}
	if _, refused := l.refused(org, pol, now.Add(time.Second)); refused {
		t.Fatal("refused once the buckets could admit a call again")
	}
	if len(l.empty) != 0 {
		t.Fatalf("%d entries kept after they ended", len(l.empty))
	}

	// Buckets empty for longer than the node may remember: refused
	// without a round trip for memoryLimit only, with the wait the
	// database gave (a client that honours the Retry-After is admitted
	// on its first retry), not the end of the node's memory.
	l.remember(org, pol, now, 8*time.Second)
	if wait, refused := l.refused(org, pol, now.Add(time.Second)); !refused || wait != 7*time.Second {
		t.Fatalf("a second in: refused %v, wait %v; want refused, 7s", refused, wait)
	}
	if _, refused := l.refused(org, pol, now.Add(memoryLimit)); refused {
		t.Fatal("refused past the node's memory: the database decides again")
	}
}

// A call gives its request back only when it is served again: the check
// Forward awaited refused the principal (giveBack), or a pass that ended
// before awaiting it finds it stale. A later call of the check that
// answers with the request's end (a client that hung up after it was
// served) gives nothing back.
func TestDueGivesRequestBackOnlyWhenServedAgain(t *testing.T) {
	admitted := func() admission { return admission{ok: true, reservation: 7} }
	for _, tc := range []struct {
		name     string
		checked  bool
		giveBack bool
		answer   error
		want     bool
	}{
		{"served, then the client hung up", true, false, context.Canceled, false},
		{"the awaited check refused it", true, true, postgres.ErrStalePrincipal, true},
		{"ended early, stale", false, false, fmt.Errorf("confirm: %w", postgres.ErrStalePrincipal), true},
		{"ended early, the client hung up", false, false, context.Canceled, false},
		{"ended early, confirmed", false, false, nil, false},
	} {
		inv := invocation{admission: admitted, checked: tc.checked, giveBack: tc.giveBack,
			confirmed: func() error { return tc.answer }}
		r, give, ok := inv.due()
		if !ok || r != 7 || give != tc.want {
			t.Errorf("%s: reservation %d, give back %v, due %v; want 7, %v, true", tc.name, r, give, ok, tc.want)
		}
	}
	inv := invocation{admission: func() admission { return admission{ok: false} }}
	if _, _, ok := inv.due(); ok {
		t.Error("a call the limit refused has something to settle")
	}
}
