package mail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCompose(t *testing.T) {
	from := &netmail.Address{Name: "Ward", Address: "noreply@ward.example"}
	to := &netmail.Address{Address: "alice@example.test"}
	longURL := "https://ward.example/auth/magic?token=" + strings.Repeat("0123456789abcdef", 6) + "&next=%2Fcases%2F42"
	tests := []struct {
		name string
		msg  Message
	}{
		{"ascii", Message{Subject: "Your sign-in link", Text: "Hello\n\nSign in: " + longURL + "\n"}},
		{"unicode subject", Message{Subject: "Ihr Anmeldelink für Ward — ✓ 日本語", Text: "Grüße\n"}},
		{"long unicode subject", Message{Subject: strings.Repeat("Einladung zur Fallakte für Müller ", 6), Text: "x"}},
		{"long ascii subject", Message{Subject: strings.Repeat("word ", 40) + "end", Text: "x"}},
		{"qp specials", Message{Subject: "a=b ?= =?utf-8?q?x?=", Text: "a=b\n.leading dot\nFrom here\ntrailing space \t\nno final newline"}},
		{"long word subject", Message{Subject: "token " + strings.Repeat("x", 200) + " end", Text: "x"}},
		{"crlf body", Message{Subject: "s", Text: "one\r\ntwo\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			raw, err := compose(from, to, tt.msg, now)
			if err != nil {
				t.Fatalf("compose: %v", err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
				if len(line) > 78 {
					t.Errorf("line %d is %d chars: %q", i, len(line), line)
				}
				if strings.ContainsAny(line, "\r\n") {
					t.Errorf("line %d has a bare CR or LF: %q", i, line)
				}
			}
			parsed, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			h := parsed.Header
			var dec mime.WordDecoder
			subject, err := dec.DecodeHeader(h.Get("Subject"))
			if err != nil {
				t.Fatalf("decode Subject: %v", err)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
			if err != nil {
				t.Fatalf("decode body: %v", err)
			}
			date, err := h.Date()
			if err != nil || !date.Equal(now) {
				t.Errorf("Date = %v, %v; want %v", date, err, now)
			}
			got := map[string]string{
				"Subject":                   subject,
				"Text":                      strings.ReplaceAll(string(body), "\r\n", "\n"),
				"From":                      h.Get("From"),
				"To":                        h.Get("To"),
				"MIME-Version":              h.Get("MIME-Version"),
				"Content-Type":              h.Get("Content-Type"),
				"Content-Transfer-Encoding": h.Get("Content-Transfer-Encoding"),
			}
			wantText := strings.ReplaceAll(tt.msg.Text, "\r\n", "\n")
			if !strings.HasSuffix(wantText, "\n") {
				wantText += "\n"
			}
			want := map[string]string{
				"Subject":                   tt.msg.Subject,
				"Text":                      wantText,
				"From":                      `"Ward" <noreply@ward.example>`,
				"To":                        "<alice@example.test>",
				"MIME-Version":              "1.0",
				"Content-Type":              "text/plain; charset=utf-8",
				"Content-Transfer-Encoding": "quoted-printable",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("composed message (-want +got):\n%s", diff)
			}
			if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@ward.example>") {
				t.Errorf("Message-ID = %q, want <random@ward.example>", id)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"ok", Message{To: "alice@example.test", Subject: "s"}, nil},
		{"ok with name", Message{To: "Alice Ä <alice@example.test>", Subject: "s"}, nil},
		{"LF in To", Message{To: "alice@example.test\nBcc: mallory@evil.test", Subject: "s"}, ErrHeaderInjection},
		{"CR in To", Message{To: "alice@example.test\rBcc: mallory@evil.test", Subject: "s"}, ErrHeaderInjection},
		{"CRLF in Subject", Message{To: "alice@example.test", Subject: "hi\r\nBcc: mallory@evil.test"}, ErrHeaderInjection},
		{"two addresses", Message{To: "alice@example.test, bob@example.test", Subject: "s"}, ErrInvalidAddress},
		{"no address", Message{To: "alice", Subject: "s"}, ErrInvalidAddress},
		{"empty", Message{Subject: "s"}, ErrInvalidAddress},
		{"bad utf-8", Message{To: "alice@example.test", Subject: "s", Text: "\xff"}, ErrInvalidText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.msg.validate()
			if !errors.Is(err, tt.want) {
				t.Fatalf("validate() = %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), "alice") || strings.Contains(err.Error(), "mallory")) {
				t.Errorf("error %q names an address", err)
			}
		})
	}
}

func TestFoldHeaderTooLong(t *testing.T) {
	_, err := foldHeader("Subject", strings.Repeat("x", 1000))
	if !errors.Is(err, ErrInvalidText) {
		t.Fatalf("foldHeader(1000 x) = %v, want ErrInvalidText", err)
	}
}
