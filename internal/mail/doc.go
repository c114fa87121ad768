// Package mail sends Ward's transactional email: magic links, invites and
// notices. It has two senders with the same method,
//
//	Send(ctx context.Context, m Message) error
//
// so that a consumer declares the one-method interface it needs and is given
// either:
//
//   - [SMTP], for staging and production. It speaks SMTP through net/smtp,
//     upgrades with STARTTLS whenever the server offers it (and refuses to
//     send when [SMTPConfig.RequireTLS] is set and the server does not), only
//     authenticates over TLS or to a loopback server, bounds the whole
//     exchange by the context and [SMTPConfig.Timeout], and writes RFC 5322
//     plain-text messages: Date, Message-ID, Q-encoded Subject, UTF-8 body in
//     quoted-printable.
//   - [Console], the development "console outbox": it prints each message to
//     a writer (normally the server's stderr) so that a developer can follow
//     a magic link without a mail server.
//
// # Secrets
//
// Message bodies are secrets: a magic-link or invite body carries a bearer
// token. Nothing in this package logs a body, and no error from it contains
// the body or the recipient's local part; an error may name the recipient's
// domain. Callers must keep to the same rule. Console exists to show bodies
// and must never be wired up outside development.
//
// # Header injection
//
// To and Subject are single header lines. A CR or LF in either is refused
// with [ErrHeaderInjection] before anything is written or dialled, by both
// senders.
package mail
