package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/mail/mailtest"
)

// secretToken stands in for a magic-link token; it must never appear in an
// error.
const secretToken = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPSendRoundTrip(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	sender := mail.NewSMTP(mail.SMTPConfig{
		Addr: srv.SMTPAddr(),
		From: "Ward <noreply@ward.example>",
	})
	magicURL := "https://ward.example/auth/magic?token=" + secretToken + strings.Repeat("0123456789", 8) + "&next=%2Fcases%2F42%3Ftab%3Ddocuments"
	if len(magicURL) <= 76 {
		t.Fatalf("test URL is only %d chars; it must exceed a quoted-printable line", len(magicURL))
	}
	tests := []struct {
		name string
		to   string
		msg  mail.Message
	}{
		{
			name: "magic link",
			to:   "alice@example.test",
			msg: mail.Message{
				Subject: "Your Ward sign-in link",
				Text:    "Hello,\n\nSign in to Ward:\n\n" + magicURL + "\n\nThe link works once, for 15 minutes.\n",
			},
		},
		{
			name: "non-ascii subject and body",
			to:   "Zoë Müller <zoe@example.test>",
			msg: mail.Message{
				Subject: "Einladung zur Fallakte für Müller — ✓ 日本語のテキスト und noch ein bisschen mehr Text",
				Text:    "Grüße aus Köln — ✓\n" + magicURL + "\n",
			},
		},
		{
			name: "qp and smtp specials",
			to:   "bob+cases@example.test",
			msg: mail.Message{
				Subject: "a=b ?= =?utf-8?q?not-an-encoded-word?=",
				Text:    "a=b=3D\n.\n.leading dot\nFrom the start\ntrailing space \n" + strings.Repeat("é", 100) + "\nno final newline",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			msg := tt.msg
			msg.To = tt.to
			if err := sender.Send(ctx, msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			addr := tt.to
			if i := strings.IndexByte(addr, '<'); i >= 0 {
				addr = strings.Trim(addr[i:], "<>")
			}
			got, err := srv.WaitFor(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			wantText := msg.Text
			if !strings.HasSuffix(wantText, "\n") {
				wantText += "\n"
			}
			want := mailtest.Msg{
				From:    "noreply@ward.example",
				To:      []string{addr},
				Subject: msg.Subject,
				Text:    wantText,
			}
			opt := cmp.FilterPath(func(p cmp.Path) bool {
				switch p.String() {
				case "ID", "MessageID", "Headers":
					return true
				}
				return false
			}, cmp.Ignore())
			if diff := cmp.Diff(want, got, opt); diff != "" {
				t.Errorf("received message (-want +got):\n%s", diff)
			}

			h := got.Headers
			for name, want := range map[string]string{
				"Content-Type":              "text/plain; charset=utf-8",
				"Content-Transfer-Encoding": "quoted-printable",
				"Mime-Version":              "1.0",
			} {
				if len(h[name]) != 1 || h[name][0] != want {
					t.Errorf("header %s = %q, want [%q]", name, h[name], want)
				}
			}
			if !strings.HasSuffix(got.MessageID, "@ward.example") {
				t.Errorf("Message-ID = %q, want ...@ward.example (set by us, not Mailpit)", got.MessageID)
			}
			if len(h["Date"]) != 1 {
				t.Fatalf("Date headers = %q, want one", h["Date"])
			}
			date, err := time.Parse(time.RFC1123Z, h["Date"][0])
			if err != nil || time.Since(date).Abs() > time.Minute {
				t.Errorf("Date = %q (%v), want now in RFC 1123Z", h["Date"][0], err)
			}

			raw, err := srv.Raw(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 78 && !strings.HasPrefix(line, "Received:") {
					t.Errorf("raw line %d is %d chars: %q", i, len(line), line)
				}
			}
		})
	}
}

func TestSMTPSendAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	ctx := testContext(t)
	sender := mail.NewSMTP(mail.SMTPConfig{
		Addr:     srv.SMTPAddr(),
		From:     "noreply@ward.example",
		Username: "ward",
		Password: "hunter2",
	})
	if err := sender.Send(ctx, mail.Message{To: "auth@example.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatalf("Send with AUTH to loopback: %v", err)
	}
	if _, err := srv.WaitFor(ctx, "auth@example.test"); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPSendSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.WithSTARTTLS())
	ctx := testContext(t)
	msg := mail.Message{To: "tlsuser@example.test", Subject: "over TLS", Text: secretToken}

	t.Run("trusted", func(t *testing.T) {
		sender := mail.NewSMTP(mail.SMTPConfig{
			Addr:       srv.SMTPAddr(),
			From:       "noreply@ward.example",
			Username:   "ward",
			Password:   "hunter2",
			RequireTLS: true,
			TLSConfig:  &tls.Config{RootCAs: srv.RootCAs()},
		})
		if err := sender.Send(ctx, msg); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got, err := srv.WaitFor(ctx, msg.To)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != msg.Subject {
			t.Errorf("Subject = %q, want %q", got.Subject, msg.Subject)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		if err := srv.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		sender := mail.NewSMTP(mail.SMTPConfig{Addr: srv.SMTPAddr(), From: "noreply@ward.example"})
		err := sender.Send(ctx, msg)
		var certErr *tls.CertificateVerificationError
		if !errors.As(err, &certErr) {
			t.Fatalf("Send = %v, want a certificate verification error", err)
		}
		assertNoSecrets(t, err, "tlsuser")
		if n, err := srv.Count(ctx, msg.To); err != nil || n != 0 {
			t.Errorf("Count = %d, %v; want 0", n, err)
		}
	})
}

func TestSMTPSendRequireTLSWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	ctx := testContext(t)
	sender := mail.NewSMTP(mail.SMTPConfig{Addr: srv.SMTPAddr(), From: "noreply@ward.example", RequireTLS: true})
	err := sender.Send(ctx, mail.Message{To: "plain@example.test", Subject: "s", Text: secretToken})
	if !errors.Is(err, mail.ErrTLSRequired) {
		t.Fatalf("Send = %v, want ErrTLSRequired", err)
	}
	assertNoSecrets(t, err, "plain")
	if n, err := srv.Count(ctx, "plain@example.test"); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

func TestSMTPSendRejectedRecipient(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.WithArgs("--smtp-allowed-recipients", `^allowed@`))
	ctx := testContext(t)
	sender := mail.NewSMTP(mail.SMTPConfig{Addr: srv.SMTPAddr(), From: "noreply@ward.example"})
	err := sender.Send(ctx, mail.Message{To: "secret-person@example.test", Subject: "s", Text: secretToken})
	var reply *mail.ReplyError
	if !errors.As(err, &reply) || reply.Command != "RCPT" || reply.Code/100 != 5 || reply.Temporary() {
		t.Fatalf("Send = %v, want a permanent RCPT *ReplyError", err)
	}
	assertNoSecrets(t, err, "secret-person")
	if !strings.Contains(err.Error(), "example.test") {
		t.Errorf("error %q should name the recipient domain", err)
	}
}

func TestSMTPSendHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	ctx := testContext(t)
	sender := mail.NewSMTP(mail.SMTPConfig{Addr: srv.SMTPAddr(), From: "noreply@ward.example"})
	for _, m := range []mail.Message{
		{To: "victim@example.test\r\nBcc: mallory@evil.test", Subject: "s", Text: secretToken},
		{To: "victim@example.test\nBcc: mallory@evil.test", Subject: "s", Text: secretToken},
		{To: "victim@example.test", Subject: "hello\r\nBcc: mallory@evil.test", Text: secretToken},
		{To: "victim@example.test", Subject: "hello\rBcc: mallory@evil.test", Text: secretToken},
	} {
		err := sender.Send(ctx, m)
		if !errors.Is(err, mail.ErrHeaderInjection) {
			t.Errorf("Send(%q, %q) = %v, want ErrHeaderInjection", m.To, m.Subject, err)
		}
		assertNoSecrets(t, err, "victim", "mallory")
	}
	for _, to := range []string{"victim@example.test", "mallory@evil.test"} {
		if n, err := srv.Count(ctx, to); err != nil || n != 0 {
			t.Errorf("Count(%s) = %d, %v; want 0", to, n, err)
		}
	}
}

func TestSMTPSendDeadServer(t *testing.T) {
	t.Parallel()
	// refused: a port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()

	// silent: accepts connections but never sends a greeting.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name    string
		addr    string
		timeout time.Duration // SMTPConfig.Timeout
		ctx     func() (context.Context, context.CancelFunc)
		want    error // nil: any error
	}{
		{"refused", refused, 0, func() (context.Context, context.CancelFunc) { return t.Context(), func() {} }, nil},
		{"canceled before send", silent.Addr().String(), 0, func() (context.Context, context.CancelFunc) { return canceled, func() {} }, context.Canceled},
		{"ctx deadline, silent server", silent.Addr().String(), 0, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"config timeout, silent server", silent.Addr().String(), 200 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return t.Context(), func() {}
		}, context.DeadlineExceeded},
		{"canceled mid-session", silent.Addr().String(), 0, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			sender := mail.NewSMTP(mail.SMTPConfig{Addr: tt.addr, From: "noreply@ward.example", Timeout: tt.timeout})
			start := time.Now()
			err := sender.Send(ctx, mail.Message{To: "dead@example.test", Subject: "s", Text: secretToken})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded against a dead server")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, want %v", err, tt.want)
			}
			if elapsed > 2*time.Second {
				t.Errorf("Send took %v, want < 2s", elapsed)
			}
			assertNoSecrets(t, err, "dead@")
		})
	}
}

// assertNoSecrets fails if err's text holds the body token or any of the
// given fragments (local parts, which errors must not name).
func assertNoSecrets(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append([]string{secretToken}, fragments...) {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}
