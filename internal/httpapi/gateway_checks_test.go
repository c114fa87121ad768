package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/wardhq/ward/internal/gateway"
)

// TestGatewayKeptSessionCheck: a session this process checked in full
// less than 30 s ago reaches the gateway with its kept principal, and the
// check that it still holds runs while the body is de-identified
// (need.ahead); nothing goes upstream before it has answered. A principal
// changed or revoked behind the server's back is found stale, the request
// is served again after a full check with the body it came with, and a
// revoked session gets its 401 with nothing sent upstream. An API key is
// kept the same way.
func TestGatewayKeptSessionCheck(t *testing.T) {
	g := newGW(t, withUnboundOrgs()) // the SDK sends bearer tokens; DPoP-bound sessions are never kept
	ctx := context.Background()
	invokes := func() int { return g.auditCount(g.o.ID, "ai.invoke", "success") }
	// setRole changes the provider's role by hand: nothing the server sees.
	setRole := func(role string) {
		t.Helper()
		if _, err := g.env.Super.Pool.Exec(ctx, `update app.memberships set role = $3
			where org_id = $1 and user_id = $2`, g.o.ID, g.o.Prov.ID, role); err != nil {
			t.Fatal(err)
		}
	}
	plain := g.client(g.o.Prov.Token)
	withPatient := g.client(g.o.Prov.Token, option.WithHeader("Ward-Patient", g.patient.String()))

	t.Run("kept and confirmed", func(t *testing.T) {
		if _, err := plain.Messages.New(ctx, chartParams()); err != nil {
			t.Fatal(err)
		}
		before, calls, n := g.auth.CheckStats(), len(g.up.calls()), invokes()
		for _, c := range []anthropic.Client{plain, withPatient, plain} {
			msg, err := c.Messages.New(ctx, chartParams())
			if err != nil {
				t.Fatal(err)
			}
			named(t, "text", textOf(msg))
		}
		if d := g.checksSince(before); d.Kept != 3 || d.Full != 0 || d.Stale != 0 {
			t.Fatalf("three calls with a principal kept: %+v", d)
		}
		// Without a record the check runs on its own, beside the
		// de-identification; with one, the record's read confirms it in
		// the same round trip.
		if d := g.checksSince(before); d.Alone != 2 {
			t.Fatalf("%d kept principals confirmed on their own, want 2 (the call with a patient confirms in its read)", d.Alone)
		}
		if got := len(g.up.calls()) - calls; got != 3 {
			t.Fatalf("%d upstream calls for three", got)
		}
		if got := invokes() - n; got != 3 {
			t.Fatalf("%d ai.invoke events for three calls", got)
		}
		noCanary(t, "the upstream request", g.up.all())
	})

	t.Run("changed behind the server's back", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			client anthropic.Client
			role   string
		}{{"with a patient", withPatient, "lead"}, {"without", plain, "provider"}} {
			setRole(c.role)
			before, calls, n := g.auth.CheckStats(), len(g.up.calls()), invokes()
			msg, err := c.client.Messages.New(ctx, chartParams())
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			named(t, c.name, textOf(msg))
			if d := g.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
				t.Fatalf("%s: a changed principal: %+v, want kept, found stale, served after a full check", c.name, d)
			}
			// Served twice, sent once, with the body it came with.
			got := g.up.calls()
			if len(got)-calls != 1 {
				t.Fatalf("%s: %d upstream calls for one request served twice", c.name, len(got)-calls)
			}
			if body := string(got[len(got)-1].Body); !strings.Contains(body, "126 mg/dL") || !placeholderRE.MatchString(body) {
				t.Fatalf("%s: the request served again sent %q", c.name, body)
			}
			if d := invokes() - n; d != 1 {
				t.Fatalf("%s: %d ai.invoke events for one call", c.name, d)
			}
		}
		// Made a patient by hand, who may not read this record: the
		// refusal is the full check's, audited once, not also the kept
		// principal's first pass.
		denied := func() int { return g.auditCount(g.o.ID, "patient.read", "denied") }
		setRole("patient")
		before, calls, d0 := g.auth.CheckStats(), len(g.up.calls()), denied()
		_, err := withPatient.Messages.New(ctx, chartParams())
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
			t.Fatalf("a record the new role may not read: %v", err)
		}
		if d := g.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Fatalf("a demoted principal: %+v, want kept, found stale, served after a full check", d)
		}
		if got := denied() - d0; got != 1 {
			t.Fatalf("%d denied patient.read events for one refused request", got)
		}
		if got := len(g.up.calls()) - calls; got != 0 {
			t.Fatalf("%d upstream calls for a refused record", got)
		}
		setRole("provider")
	})

	// A stale first pass is no call: it gives back what it took of the
	// org's request budget, so the request served again is not refused
	// by the limit its own first pass spent.
	t.Run("a stale pass takes no call of the rate limit", func(t *testing.T) {
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, RequestsPerMinute: 2})
		defer g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
		once := g.client(g.o.Prov.Token, option.WithMaxRetries(0))
		if _, err := once.Messages.New(ctx, chartParams()); err != nil { // one of two
			t.Fatal(err)
		}
		setRole("lead")
		defer setRole("provider")
		before := g.auth.CheckStats()
		if _, err := once.Messages.New(ctx, chartParams()); err != nil { // two of two, served twice
			t.Fatalf("the second call of two in a minute, found stale once: %v", err)
		}
		if d := g.checksSince(before); d.Stale != 1 {
			t.Fatalf("the call was not found stale: %+v", d)
		}
		_, err := once.Messages.New(ctx, chartParams())
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a third call in the minute: %v, want 429", err)
		}
	})

	// An API key with the gateway scope (a server's SDK) is kept as a
	// session is; revoked behind the server's back, its kept principal is
	// found stale and the full check answers 401, with nothing upstream.
	t.Run("an API key", func(t *testing.T) {
		byKey := g.client(g.key)
		keyWithPatient := g.client(g.key, option.WithHeader("Ward-Patient", g.patient.String()))
		if _, err := byKey.Messages.New(ctx, chartParams()); err != nil {
			t.Fatal(err)
		}
		before, calls, n := g.auth.CheckStats(), len(g.up.calls()), invokes()
		for _, c := range []anthropic.Client{byKey, keyWithPatient} {
			msg, err := c.Messages.New(ctx, chartParams())
			if err != nil {
				t.Fatal(err)
			}
			named(t, "text", textOf(msg))
		}
		if d := g.checksSince(before); d.Kept != 2 || d.Full != 0 || d.Stale != 0 || d.Alone != 1 {
			t.Fatalf("two calls with a key's principal kept: %+v, want two kept, one confirmed alone", d)
		}
		if got := len(g.up.calls()) - calls; got != 2 {
			t.Fatalf("%d upstream calls for two", got)
		}
		if got := invokes() - n; got != 2 {
			t.Fatalf("%d ai.invoke events for two calls", got)
		}
		if _, err := g.env.Super.Pool.Exec(ctx, `update app.api_keys set revoked_at = now()
			where key_hash = sha256($1::bytea)`, []byte(g.key)); err != nil {
			t.Fatal(err)
		}
		before, calls, n = g.auth.CheckStats(), len(g.up.calls()), invokes()
		for _, c := range []anthropic.Client{byKey, keyWithPatient} {
			_, err := c.Messages.New(ctx, chartParams())
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a revoked key through the gateway: %v", err)
			}
		}
		if d := g.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 2 {
			t.Fatalf("a revoked key: %+v, want the kept principal found stale once, then full checks", d)
		}
		if got := len(g.up.calls()) - calls; got != 0 {
			t.Fatalf("%d upstream calls for a revoked key", got)
		}
		if got := invokes() - n; got != 0 {
			t.Fatalf("%d ai.invoke events for a revoked key", got)
		}
	})

	t.Run("revoked behind the server's back", func(t *testing.T) {
		if _, err := plain.Messages.New(ctx, chartParams()); err != nil {
			t.Fatal(err)
		}
		if _, err := g.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(g.o.Prov.Token)); err != nil {
			t.Fatal(err)
		}
		before, calls, n := g.auth.CheckStats(), len(g.up.calls()), invokes()
		for _, c := range []anthropic.Client{plain, withPatient} {
			_, err := c.Messages.New(ctx, chartParams())
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a revoked session through the gateway: %v", err)
			}
		}
		if d := g.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 2 {
			t.Fatalf("a revoked session: %+v, want the kept principal found stale once, then full checks", d)
		}
		if got := len(g.up.calls()) - calls; got != 0 {
			t.Fatalf("%d upstream calls for a revoked session", got)
		}
		if got := invokes() - n; got != 0 {
			t.Fatalf("%d ai.invoke events for a revoked session", got)
		}
	})
}

// named checks a reply names the patient again and holds no placeholder
// (wantRestored asks more of a call that names the record).
func named(t *testing.T, where, s string) {
	t.Helper()
	if !strings.Contains(s, "Rosalind Vantongeren") || placeholderRE.MatchString(s) {
		t.Errorf("%s: not restored: %q", where, s)
	}
}
