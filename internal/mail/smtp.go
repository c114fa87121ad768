package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"
)

// DefaultTimeout bounds one SMTP.Send when SMTPConfig.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	// Addr is the submission server's host:port, e.g. "smtp.example.org:587".
	// Its host is also the TLS server name and the name PLAIN auth is bound to.
	Addr string
	// From is the sender, "noreply@example.org" or "Ward <noreply@example.org>".
	From string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN. The password is only sent over TLS or to a loopback server.
	Username string
	Password string
	// RequireTLS makes Send fail with ErrTLSRequired, before MAIL FROM, when
	// the server does not offer STARTTLS. Without it STARTTLS is still used
	// whenever it is offered (opportunistic TLS); set it in production.
	RequireTLS bool
	// TLSConfig, if set, is used for STARTTLS (ServerName defaults to the
	// host of Addr). Nil means the system roots; tests pass a private pool.
	TLSConfig *tls.Config
	// Timeout bounds one whole Send: dial, TLS, auth and the transfer.
	// Zero means DefaultTimeout. The context passed to Send also bounds it.
	Timeout time.Duration
}

// SMTP sends mail through one SMTP submission server, one connection per
// message. It is safe for concurrent use.
type SMTP struct {
	cfg SMTPConfig
}

// ErrTLSRequired is returned by SMTP.Send when SMTPConfig.RequireTLS is set
// and the server does not offer STARTTLS. Nothing has been sent.
var ErrTLSRequired = errors.New("mail: TLS required but the server does not offer STARTTLS")

// helloName is the name sent in EHLO; a submission server does not check it.
const helloName = "localhost"

// ReplyError is a refusal from the SMTP server. It holds the reply code but
// not the server's text, which may quote the recipient's address.
type ReplyError struct {
	Command string // "greeting", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT" or "DATA"
	Code    int    // e.g. 421, 450, 550
}

// Error reports the command and reply code.
func (e *ReplyError) Error() string {
	return "smtp " + e.Command + ": server replied " + strconv.Itoa(e.Code)
}

// Temporary reports whether the reply is a transient (4xx) failure worth
// retrying later.
func (e *ReplyError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// NewSMTP returns a sender for cfg. The configuration is checked on each
// Send, so a bad From or Addr surfaces as a Send error.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &SMTP{cfg: cfg}
}

// Send delivers m to the server. It validates m first: ErrHeaderInjection,
// ErrInvalidAddress or ErrInvalidText, before any connection is made. Then
// it returns ErrTLSRequired, a *ReplyError for a refusal, the context's
// error (wrapped) if ctx ends or the Timeout passes, or a wrapped network or
// TLS error. Errors name at most the recipient's domain, never the body.
// A nil error means the server accepted the message for delivery.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := m.validate()
	if err != nil {
		return err
	}
	from, err := parseAddress(s.cfg.From)
	if err != nil {
		return fmt.Errorf("%w (From in SMTPConfig)", err)
	}
	msg, err := compose(from, to, m, time.Now())
	if err != nil {
		return err
	}
	err = s.send(ctx, from, to, msg)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTLSRequired):
		return fmt.Errorf("%w (%s)", ErrTLSRequired, s.cfg.Addr)
	default:
		return fmt.Errorf("mail: send to domain %s via %s: %w", domainOf(to.Address), s.cfg.Addr, err)
	}
}

// send runs one SMTP session. Its errors carry no message content.
func (s *SMTP) send(ctx context.Context, from, to *netmail.Address, msg []byte) error {
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("bad Addr in SMTPConfig: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return stepErr(ctx, "dial", err)
	}
	// ctx always has a deadline (the Timeout). When it ends, for either
	// reason, the connection's deadline moves to now, which fails any blocked
	// read or write; ctx.Err() is already set by then, so stepErr reports it.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return stepErr(ctx, "greeting", err)
	}
	defer c.Close()

	if err := c.Hello(helloName); err != nil {
		return stepErr(ctx, "EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(s.tlsConfig(host)); err != nil {
			return stepErr(ctx, "STARTTLS", err)
		}
	} else if s.cfg.RequireTLS {
		return ErrTLSRequired
	}

	if s.cfg.Username != "" {
		// PlainAuth itself refuses an unencrypted non-loopback server.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)); err != nil {
			return stepErr(ctx, "AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return stepErr(ctx, "MAIL", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return stepErr(ctx, "RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return stepErr(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return stepErr(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil { // reads the server's verdict on the message
		return stepErr(ctx, "DATA", err)
	}
	// The message is accepted; a failed QUIT does not change that.
	_ = c.Quit()
	return nil
}

func (s *SMTP) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if s.cfg.TLSConfig != nil {
		cfg = s.cfg.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// stepErr names the failed step. A server refusal becomes a *ReplyError
// without the server's text; if ctx has ended, its error is what is wrapped.
func stepErr(ctx context.Context, step string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("smtp %s: %w", step, cerr)
	}
	if tperr, ok := errors.AsType[*textproto.Error](err); ok {
		return &ReplyError{Command: step, Code: tperr.Code}
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("smtp %s: connection closed by server: %w", step, err)
	}
	return fmt.Errorf("smtp %s: %w", step, err)
}
