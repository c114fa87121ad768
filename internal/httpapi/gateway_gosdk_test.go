package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/ssestream"
)

// accumulate reads a stream of the SDK's to its end into add (a message's
// Accumulate), failing on any error.
func accumulate[E any](t *testing.T, s *ssestream.Stream[E], add func(E) error) {
	t.Helper()
	for s.Next() {
		if err := add(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// The Go SDK's paths the other gateway tests leave out: the gateway over
// TLS with HTTP/2 (what `ward serve` offers the SDK's transport, with its
// server timeouts), the beta surface, count_tokens with a system prompt and
// tools, the upstream's request id on a reply, and the SDK's own retries
// left on: an upstream retry-after honoured, and Ward's retries of an
// overloaded upstream not multiplied by the SDK's (x-should-retry: false).
func TestGatewayGoSDKPaths(t *testing.T) {
	g := newGW(t, withUnboundOrgs())
	ctx := context.Background()
	// The server cmd/ward/serve.go builds: TLS (HTTP/2 negotiated), its
	// timeouts, the same handler.
	h2 := httptest.NewUnstartedServer(g.srv.Config.Handler)
	h2.EnableHTTP2 = true
	h2.Config.ReadHeaderTimeout, h2.Config.ReadTimeout, h2.Config.WriteTimeout, h2.Config.IdleTimeout =
		10*time.Second, 60*time.Second, 60*time.Second, 120*time.Second
	h2.Config.MaxHeaderBytes = 64 << 10
	h2.StartTLS()
	t.Cleanup(h2.Close)
	var sent atomic.Int64 // requests the SDK made, retries included
	client := func(opts ...option.RequestOption) anthropic.Client {
		return anthropic.NewClient(append([]option.RequestOption{option.WithBaseURL(h2.URL + "/llm"),
			option.WithHTTPClient(h2.Client()), option.WithAPIKey(g.o.Prov.Token), option.WithoutEnvironmentDefaults(),
			option.WithHeader("Ward-Patient", g.patient.String()),
			option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
				sent.Add(1)
				return next(r)
			})}, opts...)...)
	}
	c := client(option.WithMaxRetries(0))
	last := func() upstreamCall {
		calls := g.up.calls()
		return calls[len(calls)-1]
	}

	t.Run("messages over HTTP/2", func(t *testing.T) {
		var resp *http.Response
		msg, err := c.Messages.New(ctx, chartParams(), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 || resp.Header.Get("Request-Id") != "req_fake" {
			t.Errorf("%s, request-id %q", resp.Proto, resp.Header.Get("Request-Id"))
		}
		wantRestored(t, "messages", textOf(msg))
		if in := toolInputOf(t, msg); in["who"] != "Rosalind Vantongeren" {
			t.Errorf("tool input: %v", in)
		}
		var acc anthropic.Message
		accumulate(t, c.Messages.NewStreaming(ctx, chartParams()), acc.Accumulate)
		wantRestored(t, "stream", textOf(&acc))
		if in := toolInputOf(t, &acc); in["who"] != "Rosalind Vantongeren" {
			t.Errorf("streamed tool input: %v", in)
		}
		p := chartParams()
		n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: model, Messages: p.Messages,
			System: anthropic.MessageCountTokensParamsSystemUnion{OfTextBlockArray: p.System},
			Tools:  []anthropic.MessageCountTokensToolUnionParam{{OfTool: p.Tools[0].OfTool}}})
		if err != nil || n.InputTokens <= 0 {
			t.Fatalf("count_tokens: %v %+v", err, n)
		}
		if up := last(); up.Path != "/v1/messages/count_tokens" || !placeholderRE.Match(up.Body) {
			t.Errorf("count_tokens upstream: %s %s", up.Path, up.Body)
		}
	})

	t.Run("beta surface", func(t *testing.T) {
		params := anthropic.BetaMessageNewParams{Model: model, MaxTokens: 64,
			Betas:  []anthropic.AnthropicBeta{"token-efficient-tools-2025-02-19", "context-1m-2025-08-07"},
			System: []anthropic.BetaTextBlockParam{{Text: "Patient Rosalind Vantongeren, MRN-884213, 617-555-0142."}},
			Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(
				anthropic.NewBetaTextBlock("Write to rosalind.v@example.org."))}}
		text := func(content []anthropic.BetaContentBlockUnion) string {
			var b strings.Builder
			for _, c := range content {
				b.WriteString(c.Text)
			}
			return b.String()
		}
		m, err := c.Beta.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		wantRestored(t, "beta", text(m.Content))
		if h := last().Header.Get("Anthropic-Beta"); h != "token-efficient-tools-2025-02-19,context-1m-2025-08-07" {
			t.Errorf("anthropic-beta upstream %q", h)
		}
		var acc anthropic.BetaMessage
		accumulate(t, c.Beta.Messages.NewStreaming(ctx, params), acc.Accumulate)
		wantRestored(t, "beta stream", text(acc.Content))
		n, err := c.Beta.Messages.CountTokens(ctx, anthropic.BetaMessageCountTokensParams{Model: model,
			Messages: params.Messages, Betas: params.Betas})
		if err != nil || n.InputTokens <= 0 {
			t.Fatalf("beta count_tokens: %v %+v", err, n)
		}
	})

	t.Run("the SDK's retries", func(t *testing.T) {
		var n atomic.Int64
		failing := func(status int, typ string, times int64, retryAfter string) {
			n.Store(0)
			g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
				if n.Add(1) > times {
					return false
				}
				if retryAfter != "" {
					w.Header().Set("retry-after", retryAfter)
				}
				anthropicError(w, status, typ, "upstream says no")
				return true
			})
		}
		defer g.setOverride(nil)
		retrying := client() // the SDK's default: two retries

		// overloaded throughout: Ward's three attempts, the SDK's one
		failing(529, "overloaded_error", 100, "")
		sent.Store(0)
		_, err := retrying.Messages.New(ctx, chartParams())
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != 529 || sent.Load() != 1 || n.Load() != 3 {
			t.Fatalf("overloaded: %v; the SDK sent %d, the upstream got %d", err, sent.Load(), n.Load())
		}

		// the upstream's 429 with retry-after: relayed, and the SDK waits it
		failing(429, "rate_limit_error", 1, "1")
		sent.Store(0)
		start := time.Now()
		msg, err := retrying.Messages.New(ctx, chartParams())
		if err != nil || sent.Load() != 2 || time.Since(start) < 900*time.Millisecond {
			t.Fatalf("429 then success: %v; %d requests in %v", err, sent.Load(), time.Since(start))
		}
		wantRestored(t, "after the retry", textOf(msg))
	})
	noCanary(t, "the upstream requests", g.up.all())
	noCanary(t, "the server log", g.logs.String())
}
