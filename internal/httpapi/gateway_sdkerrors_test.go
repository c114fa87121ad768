package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/httpapi"
)

// Ward's own refusals carry their stable code in error.details.error_code,
// where the official SDKs read the API's codes (the Go SDK's
// Error.ErrorCode(), the TypeScript SDK's error.errorCode): an app branches
// on the code, as the SDKs tell it to, not on the message's wording.
func TestGatewaySDKErrorCodes(t *testing.T) {
	g := newGW(t, withUnboundOrgs())
	ctx := context.Background()
	members := g.createKey(g.o, auth.ScopeMembers).Key
	for _, tc := range []struct {
		name   string
		c      anthropic.Client
		setup  func()
		call   func(c anthropic.Client) error
		status int
		typ    string
		code   string
	}{
		{name: "bad key", c: g.client("sk_live_nope"), status: 401, typ: "authentication_error", code: "api_key_malformed"},
		{name: "key without the gateway scope", c: g.client(members), status: 403, typ: "permission_error", code: "scope_required"},
		{name: "unassigned patient", c: g.client(g.o.Prov.Token, option.WithHeader("Ward-Patient", g.o.P2.String())),
			status: 404, typ: "not_found_error", code: "not_found"},
		{name: "unknown anthropic-version", c: g.client(g.key, option.WithHeader("anthropic-version", "2099-01-01")),
			status: 400, typ: "invalid_request_error", code: "invalid_request"},
		{name: "a route the gateway does not serve", c: g.client(g.key), status: 404, typ: "not_found_error", code: "no_route",
			call: func(c anthropic.Client) error {
				_, err := c.Messages.Batches.List(ctx, anthropic.MessageBatchListParams{})
				return err
			}},
		{name: "provider not enabled", c: g.client(g.key), status: 403, typ: "permission_error", code: "provider_not_enabled",
			setup: func() { g.setPolicy(gateway.Policy{Providers: []string{}}) }},
		{name: "org rate limit", c: g.client(g.key), status: 429, typ: "rate_limit_error", code: "org_rate_limited",
			setup: func() {
				g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, RequestsPerMinute: 1})
				c := g.client(g.key)
				if _, err := c.Messages.New(ctx, chartParams()); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			call := tc.call
			if call == nil {
				call = func(c anthropic.Client) error { _, err := c.Messages.New(ctx, chartParams()); return err }
			}
			err := call(tc.c)
			var ae *anthropic.Error
			if !errors.As(err, &ae) || ae.StatusCode != tc.status || string(ae.Type()) != tc.typ {
				t.Fatalf("%v, want %d %s", err, tc.status, tc.typ)
			}
			if got := string(ae.ErrorCode()); got != tc.code {
				t.Errorf("ErrorCode() %q, want %q: %s", got, tc.code, ae.RawJSON())
			}
			if ae.RequestID == "" || ae.Message == "" {
				t.Errorf("request id %q, message %q", ae.RequestID, ae.Message)
			}
			// streamed, the same refusal comes before the stream begins
			if tc.call == nil {
				s := tc.c.Messages.NewStreaming(ctx, chartParams())
				for s.Next() {
				}
				if !errors.As(s.Err(), &ae) || ae.StatusCode != tc.status || string(ae.ErrorCode()) != tc.code {
					t.Errorf("stream: %v", s.Err())
				}
			}
		})
	}

	t.Run("a stream the upstream cuts short", func(t *testing.T) {
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
		g.up.mu.Lock()
		g.up.override = func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n")
			return true
		}
		g.up.mu.Unlock()
		defer func() {
			g.up.mu.Lock()
			g.up.override = nil
			g.up.mu.Unlock()
		}()
		c := g.client(g.key)
		s := c.Messages.NewStreaming(ctx, chartParams())
		for s.Next() {
		}
		var ae *anthropic.Error
		if !errors.As(s.Err(), &ae) || ae.Type() != "api_error" || ae.ErrorCode() != "upstream_stream_incomplete" {
			t.Fatalf("%v", s.Err())
		}
	})

	t.Run("413 above 32 MB", func(t *testing.T) {
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
		big := make([]byte, 33<<20)
		for i := range big {
			big[i] = 'a'
		}
		// The SDK's body goes over a connection of its own: Ward answers
		// and closes while the rest is on its way, and net/http's client
		// may return the write's reset instead of the answer.
		c := g.client(g.key, option.WithHTTPClient(&http.Client{Transport: httpapi.RawTransportForTest{}}))
		_, err := c.Messages.New(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 1,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(string(big)))}})
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusRequestEntityTooLarge || ae.Type() != "request_too_large" ||
			ae.ErrorCode() != "body_too_large" {
			t.Fatalf("%v (code %q)", err, ae.ErrorCode())
		}
	})
	noCanary(t, "the upstream requests", g.up.all())
}

// An upstream that refuses Ward's own key answers 401: that is the
// operator's to fix, not the caller's. Relayed as it came, the SDK would
// raise its AuthenticationError about the key the app gave it (its Ward
// credential), and an app would sign its user out.
func TestGatewayUpstreamKeyRefused(t *testing.T) {
	g := newGW(t, withUnboundOrgs(), withGatewayConfig(func(c *gateway.Config) {
		c.Keys = map[string]string{"anthropic": "sk-ant-revoked"}
	}))
	ctx := context.Background()
	c := g.client(g.o.Prov.Token, option.WithHeader("Ward-Patient", g.patient.String()))
	_, err := c.Messages.New(ctx, chartParams())
	stream := c.Messages.NewStreaming(ctx, chartParams())
	for stream.Next() {
	}
	for what, err := range map[string]error{"messages": err, "stream": stream.Err()} {
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable || ae.ErrorCode() != "upstream_key_refused" {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if n := len(g.up.calls()); n != 2 {
		t.Fatalf("%d upstream calls, want 2", n)
	}
	if n := g.auditCount(g.o.ID, "ai.invoke", "failure"); n != 2 {
		t.Errorf("%d failed ai.invoke events, want 2", n)
	}
	if !strings.Contains(g.logs.String(), "the upstream refused the gateway's key") {
		t.Error("the refusal of Ward's key was not logged for the operator")
	}
	noCanary(t, "the upstream requests", g.up.all())
	noCanary(t, "the server log", g.logs.String())
}

// The SDKs honour Retry-After: they wait that long, then retry, within a
// small budget (two retries by default). A refusal from the node's memory
// of an empty bucket (no round trip) answers the wait the database gave,
// as the database's own refusal does, not the end of the node's memory (at
// most 5 s): a client that waits what it is told is not refused again.
func TestGatewayRateLimitRetryAfter(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	// one request every 30 s
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, RequestsPerMinute: 2})
	c := g.client(g.key)
	for i := range 2 {
		if _, err := c.Messages.New(ctx, chartParams()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	var waits []int
	for i := range 2 { // the database's refusal, then the node's
		_, err := c.Messages.New(ctx, chartParams())
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.ErrorCode() != "org_rate_limited" {
			t.Fatalf("refusal %d: %v", i, err)
		}
		s, err := strconv.Atoi(ae.Response.Header.Get("Retry-After"))
		if err != nil {
			t.Fatalf("refusal %d: Retry-After %q", i, ae.Response.Header.Get("Retry-After"))
		}
		waits = append(waits, s)
	}
	if waits[0] < 25 || waits[0] > 30 || waits[1] < waits[0]-1 || waits[1] > waits[0] {
		t.Fatalf("Retry-After %d s from the database, then %d s from the node's memory; want about 30 both", waits[0], waits[1])
	}
}
