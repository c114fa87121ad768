package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
)

// A streamed call's ai.invoke event is written while the stream is
// relayed: the first delta reaches the client while the event cannot yet
// commit (a superuser holds audit.events in share mode), the stream's end
// (message_delta, message_stop) does not until it has, and an event that cannot be written ends the stream
// with an error instead of message_stop. A non-streamed call whose event
// cannot be written is refused.
func TestGatewayStreamAuditAside(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	c := g.client(g.key)
	params := anthropic.MessageNewParams{Model: model, MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(
			"Rosalind Vantongeren (DOB 07/14/1962) asked about her fasting glucose."))}}
	invokes := func() int {
		var n int
		if err := g.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events
		   where org_id = $1 and action = 'ai.invoke'`, g.o.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := invokes()

	t.Run("first delta before the event commits, message_stop after", func(t *testing.T) {
		lock, err := g.env.Super.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Rollback(ctx)
		if _, err := lock.Exec(ctx, `lock table audit.events in share mode`); err != nil {
			t.Fatal(err)
		}
		type seen struct {
			typ  string
			text string
		}
		events := make(chan seen, 256)
		done := make(chan error, 1)
		go func() {
			s := c.Messages.NewStreaming(ctx, params)
			for s.Next() {
				ev := s.Current()
				events <- seen{typ: ev.Type, text: ev.Delta.Text}
			}
			done <- s.Err()
			close(events)
		}()
		deadline := time.After(30 * time.Second)
		var text string
	first:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("the stream ended before a delta while the event could not commit: %v", <-done)
				}
				if ev.typ == "content_block_delta" {
					text += ev.text
					break first
				}
			case <-deadline:
				t.Fatal("no delta while the event could not commit: the stream waits for its event")
			}
		}
		// Everything the upstream sent is relayed but message_stop: read
		// until the stream has gone quiet for a while.
	quiet:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("the stream ended while its event could not commit: %v", <-done)
				}
				if ev.typ == "message_stop" || ev.typ == "message_delta" {
					t.Fatalf("%s was relayed before the event committed", ev.typ)
				}
				text += ev.text
			case <-time.After(500 * time.Millisecond):
				break quiet
			}
		}
		if n := invokes(); n != before {
			t.Fatalf("%d ai.invoke events while audit.events was locked, want %d", n, before)
		}
		if err := lock.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		var stopped bool
		for ev := range events {
			stopped = stopped || ev.typ == "message_stop"
			text += ev.text
		}
		if err := <-done; err != nil || !stopped {
			t.Fatalf("after the event committed: message_stop %v, %v", stopped, err)
		}
		if n := invokes(); n != before+1 {
			t.Fatalf("%d ai.invoke events, want %d", n, before+1)
		}
		if d := g.lastDetails(g.o.ID, "ai.invoke", "success"); d["stream"] != true {
			t.Errorf("the event: %v", d)
		}
		noCanary(t, "what the upstream received", g.up.all())
		if want := "Rosalind Vantongeren"; !strings.Contains(text, want) {
			t.Errorf("the reply the SDK saw was not restored: %q", text)
		}
	})

	// ai.invoke events cannot be written from here on.
	if _, err := g.env.Super.Pool.Exec(ctx, `alter table audit.events add constraint no_invoke
	   check (action <> 'ai.invoke') not valid`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = g.env.Super.Pool.Exec(context.Background(), `alter table audit.events drop constraint no_invoke`)
	})

	t.Run("an event that cannot be written fails the stream", func(t *testing.T) {
		s := c.Messages.NewStreaming(ctx, params)
		var stopped, delta bool
		for s.Next() {
			stopped = stopped || s.Current().Type == "message_stop" || s.Current().Type == "message_delta"
			delta = delta || s.Current().Type == "content_block_delta"
		}
		var ae *anthropic.Error
		if err := s.Err(); !errors.As(err, &ae) || string(ae.Type()) != "api_error" {
			t.Fatalf("the stream's end: %v", err)
		}
		if stopped || !delta {
			t.Fatalf("message_stop %v, a delta %v: want the deltas and no message_stop", stopped, delta)
		}
	})

	t.Run("an event that cannot be written refuses a non-streamed call", func(t *testing.T) {
		_, err := c.Messages.New(ctx, params)
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode < http.StatusInternalServerError {
			t.Fatalf("a call whose event failed: %v", err)
		}
	})
	if n := invokes(); n != before+1 {
		t.Fatalf("%d ai.invoke events, want %d", n, before+1)
	}
	noCanary(t, "the server log", g.logs.String())
}
