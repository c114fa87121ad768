package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one plain-text email to one recipient. Text is a secret (see
// the package doc); To and Subject must each fit on one header line.
type Message struct {
	// To is the recipient: "alice@example.org" or "Alice <alice@example.org>".
	To string
	// Subject is the subject line; any Unicode is allowed, CR and LF are not.
	Subject string
	// Text is the UTF-8 body. Lines end in "\n" or "\r\n"; any length is fine.
	Text string
}

var (
	// ErrHeaderInjection is returned when To or Subject contains CR or LF.
	ErrHeaderInjection = errors.New("mail: header injection: CR or LF in header field")
	// ErrInvalidAddress is returned when To, or the configured From, is not
	// a single RFC 5322 address.
	ErrInvalidAddress = errors.New("mail: invalid address")
	// ErrInvalidText is returned when Subject or Text is not valid UTF-8, or
	// Subject cannot be folded into header lines.
	ErrInvalidText = errors.New("mail: invalid message text")
)

const (
	maxHeaderLine  = 78  // RFC 5322 §2.1.1 "SHOULD"
	hardHeaderLine = 998 // RFC 5322 §2.1.1 "MUST"
)

// validate checks m's header fields and body and returns the parsed
// recipient. Its errors name the field, never its value.
func (m Message) validate() (*netmail.Address, error) {
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, fmt.Errorf("%w (To)", ErrHeaderInjection)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w (Subject)", ErrHeaderInjection)
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidText)
	}
	to, err := parseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w (To)", err)
	}
	return to, nil
}

// parseAddress parses one address. It does not wrap net/mail's error, whose
// text may quote part of the address.
func parseAddress(s string) (*netmail.Address, error) {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, ErrInvalidAddress
	}
	return a, nil
}

// domainOf returns the part of addr after the last "@", the most of an
// address an error may show.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "?"
}

// compose renders m as an RFC 5322 message with CRLF line endings, ready for
// the SMTP DATA command (which does the dot-stuffing).
func compose(from, to *netmail.Address, m Message, now time.Time) ([]byte, error) {
	subject, err := foldHeader("Subject", encodeSubject(m.Subject))
	if err != nil {
		return nil, err
	}
	id, err := messageID(domainOf(from.Address))
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	header("Date", now.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	b.WriteString(subject) // folded, ends in CRLF
	header("Message-ID", id)
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b) // text mode: line breaks become CRLF
	if _, err := qp.Write([]byte(m.Text)); err != nil {
		return nil, fmt.Errorf("mail: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("mail: encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// encodeSubject returns s as header text: unchanged if it is plain ASCII that
// folds into short lines and cannot be mistaken for an encoded-word, else as
// RFC 2047 Q encoded-words (each at most 75 characters, whole runes only).
func encodeSubject(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	if enc != s {
		return enc // mime encoded it: non-ASCII or control characters
	}
	force := strings.Contains(s, "=?")
	for word := range strings.SplitSeq(s, " ") {
		if len(word) > maxHeaderLine-len("Subject: ") {
			force = true
		}
	}
	if !force {
		return s
	}
	const (
		prefix = "=?utf-8?q?"
		maxLen = 75 - len(prefix) - len("?=")
	)
	var b strings.Builder
	n := 0
	b.WriteString(prefix)
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			for _, c := range []byte(string(r)) {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if n+len(enc) > maxLen {
			b.WriteString("?= " + prefix)
			n = 0
		}
		b.WriteString(enc)
		n += len(enc)
	}
	b.WriteString("?=")
	return b.String()
}

// foldHeader returns "name: value\r\n", folded at spaces so lines stay within
// 78 characters where the words allow (a first word too long to share the
// line with the name starts on the next line). Folding at a space is safe for an
// unstructured field, and between encoded-words (which mime.WordEncoder
// separates by single spaces) the whitespace is ignored by decoders.
func foldHeader(name, value string) (string, error) {
	var b strings.Builder
	line := len(name) + 2
	b.WriteString(name)
	b.WriteString(":")
	for i, word := range strings.Split(value, " ") {
		if i == 0 {
			if line+len(word) > maxHeaderLine {
				// A full-length encoded-word goes on its own line.
				b.WriteString("\r\n")
				line = 1
			}
			b.WriteByte(' ')
		} else {
			if word != "" && line+1+len(word) > maxHeaderLine && line > 1 {
				b.WriteString("\r\n")
				line = 0
			}
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
		if line > hardHeaderLine {
			return "", fmt.Errorf("%w: %s has a word too long for a header line", ErrInvalidText, name)
		}
	}
	b.WriteString("\r\n")
	return b.String(), nil
}

// messageID returns a new "<random@domain>" Message-ID.
func messageID(domain string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}
