package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/wardhq/ward/internal/httpapi"
)

// The gateway bodies a node holds at once are bounded over all callers: a
// call whose body does not fit while another's is held is refused (503
// overloaded_error, gateway_busy, Retry-After) before it reaches the
// upstream, and fits again once the other call ends.
func TestGatewayBodyBudget(t *testing.T) {
	g := newGW(t, withAPIConfig(func(c *httpapi.Config) { c.GatewayBodyBudget = 12 << 10 }))
	note := "Fasting glucose 126 mg/dL today. " + strings.Repeat("Walked 30 minutes after lunch. ", 250) // ≈ 8 KiB
	body := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": note}}}
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("one call alone: %d %s", resp.StatusCode, rb)
	}

	// A stream held open by the upstream keeps its 8 KiB body counted.
	g.up.mu.Lock()
	g.up.hold = true
	g.up.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := g.client(g.key)
	s := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(note))}})
	for s.Next() && s.Current().Type != "content_block_delta" {
	}
	upstream := len(g.up.calls())

	resp, rb := g.request("POST", "/llm/v1/messages", g.key, body)
	if resp.StatusCode != http.StatusServiceUnavailable || gatewayErr(t, rb) != "overloaded_error" ||
		!strings.Contains(string(rb), `"error_code":"gateway_busy"`) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a second 8 KiB body over a 12 KiB budget: %d %s (Retry-After %q)", resp.StatusCode, rb,
			resp.Header.Get("Retry-After"))
	}
	if n := len(g.up.calls()); n != upstream {
		t.Fatalf("the refused call reached the upstream (%d calls, %d before)", n, upstream)
	}
	// A body without a declared length is counted as it is read.
	resp, rb = g.requestChunked("POST", "/llm/v1/messages", g.key, body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(rb), `"error_code":"gateway_busy"`) {
		t.Fatalf("a chunked 8 KiB body over the budget: %d %s", resp.StatusCode, rb)
	}

	// The stream ends: its body is given back.
	cancel()
	s.Close()
	<-g.up.cancelled
	g.up.mu.Lock()
	g.up.hold = false
	g.up.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, rb := g.request("POST", "/llm/v1/messages", g.key, body)
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the held call ended: %d %s", resp.StatusCode, rb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, rb = g.requestChunked("POST", "/llm/v1/messages", g.key, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a chunked body within the budget: %d %s", resp.StatusCode, rb)
	}
}

// requestChunked is request with a body of no declared length.
func (w *world) requestChunked(method, path, token string, body any) (*http.Response, []byte) {
	w.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		w.t.Fatal(err)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, io.MultiReader(bytes.NewReader(b)))
	if err != nil {
		w.t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	w.authorize(req, token)
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp, rb
}
