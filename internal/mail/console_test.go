package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wardhq/ward/internal/mail"
)

func TestConsoleSend(t *testing.T) {
	var out bytes.Buffer
	c := mail.NewConsole(&out)
	m := mail.Message{
		To:      "alice@example.test",
		Subject: "Your Ward sign-in link — ✓",
		Text:    "Sign in:\r\nhttps://ward.example/auth/magic?token=" + secretToken,
	}
	if err := c.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"To: alice@example.test\n",
		"Subject: Your Ward sign-in link — ✓\n",
		"Sign in:\nhttps://ward.example/auth/magic?token=" + secretToken + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if first, last := lines[0], lines[len(lines)-1]; !strings.Contains(first, "ward console outbox") || !strings.Contains(last, "end") {
		t.Errorf("block is not delimited: first %q, last %q", first, last)
	}
}

func TestConsoleSendRejects(t *testing.T) {
	var out bytes.Buffer
	c := mail.NewConsole(&out)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		msg  mail.Message
		want error
	}{
		{"injection in To", t.Context(), mail.Message{To: "a@example.test\nBcc: b@evil.test", Subject: "s"}, mail.ErrHeaderInjection},
		{"injection in Subject", t.Context(), mail.Message{To: "a@example.test", Subject: "s\r\nBcc: b@evil.test"}, mail.ErrHeaderInjection},
		{"bad address", t.Context(), mail.Message{To: "nobody", Subject: "s"}, mail.ErrInvalidAddress},
		{"canceled", canceled, mail.Message{To: "a@example.test", Subject: "s"}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Send(tt.ctx, tt.msg); !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, want %v", err, tt.want)
			}
		})
	}
	if out.Len() != 0 {
		t.Errorf("rejected messages were written:\n%s", out.String())
	}
}

func TestConsoleConcurrent(t *testing.T) {
	var out bytes.Buffer // not safe for concurrent use: Console must serialise
	c := mail.NewConsole(&out)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := strings.Repeat(fmt.Sprintf("line of message %d\n", i), 20)
			if err := c.Send(t.Context(), mail.Message{To: fmt.Sprintf("u%d@example.test", i), Subject: fmt.Sprint(i), Text: body}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	blocks := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n======== ward console outbox: end ========")
	blocks = blocks[:len(blocks)-1] // after the last end marker
	if len(blocks) != n {
		t.Fatalf("got %d blocks, want %d", len(blocks), n)
	}
	seen := map[string]bool{}
	for _, b := range blocks {
		lines := strings.Split(strings.TrimPrefix(b, "\n"), "\n")
		subject := strings.TrimPrefix(lines[2], "Subject: ")
		want := strings.Split(strings.Repeat(fmt.Sprintf("line of message %s\n", subject), 20), "\n")
		want = want[:len(want)-1]
		if diff := cmp.Diff(want, lines[4:]); diff != "" {
			t.Errorf("block for message %s is interleaved (-want +got):\n%s", subject, diff)
		}
		seen[subject] = true
	}
	if len(seen) != n {
		t.Errorf("saw %d distinct messages, want %d", len(seen), n)
	}
}
