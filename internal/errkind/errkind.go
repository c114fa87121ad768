// Package errkind is the one set of error kinds every service shares, and
// the explicit type for the text a user may see.
//
// A service declares its sentinels with New: each has a Kind (what the
// caller did wrong, or that nothing was wrong with the call), a stable Code
// that clients branch on, and optionally the public text of that code. A
// service adds detail a user may read with Visible or Visiblef, which say so
// in the type: only that text, never an error's own message, reaches a
// client. Everything else (wrapping with %w, ids in messages) is for logs.
//
// The HTTP surfaces map Kind to a status and render Code and the visible
// text in their own error shape (problem details, SCIM errors, the
// Anthropic error shape); an error of no kind is Internal: a 500 whose
// detail stays in the log.
package errkind

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for every surface.
type Kind uint8

// The kinds.
const (
	// Internal is anything unclassified: the server's fault.
	Internal Kind = iota
	// Invalid means the request is malformed or breaks a rule.
	Invalid
	// Unauthenticated means no live credential was presented.
	Unauthenticated
	// Forbidden means the credential may not do this.
	Forbidden
	// NotFound means no such thing, or none the credential may see.
	NotFound
	// Conflict means the state does not allow it (a duplicate, the last admin).
	Conflict
	// RateLimited means too many requests; try again later.
	RateLimited
	// TooLarge means the request body exceeds its limit.
	TooLarge
	// Unavailable means a dependency is down; try again later.
	Unavailable
	// PreconditionFailed means a condition the request named (If-Match, a
	// version) does not hold: the state moved on since the caller read it.
	PreconditionFailed
	// Gone means the thing existed and was destroyed for good (a
	// crypto-shredded record): asking again will not bring it back.
	Gone
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not_found", "conflict",
	"rate_limited", "too_large", "unavailable", "precondition_failed", "gone"}

// String is the kind's name, which is also its default code.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Sentinel is a classified error value: compare with errors.Is.
type Sentinel struct {
	kind   Kind
	code   string
	msg    string
	public string
}

// New returns a sentinel of kind with a stable code (snake_case; empty
// means the kind's name) and a message for logs (package-prefixed, no PHI).
func New(kind Kind, code, msg string) *Sentinel {
	if code == "" {
		code = kind.String()
	}
	return &Sentinel{kind: kind, code: code, msg: msg}
}

// WithPublic sets the text a user sees for this sentinel when nothing more
// specific is made visible, and returns s.
func (s *Sentinel) WithPublic(text string) *Sentinel {
	s.public = text
	return s
}

func (s *Sentinel) Error() string { return s.msg }

// Kind returns the sentinel's kind.
func (s *Sentinel) Kind() Kind { return s.kind }

// Code returns the sentinel's stable code.
func (s *Sentinel) Code() string { return s.code }

// visible is an error carrying text a user may see.
type visible struct {
	err  error
	text string
}

func (v *visible) Error() string { return v.err.Error() + ": " + v.text }
func (v *visible) Unwrap() error { return v.err }

// Visible wraps err with text a user may read. The text must name fields,
// rules and limits, never values a client sent or PHI.
func Visible(err error, text string) error { return &visible{err: err, text: text} }

// Visiblef is Visible with a format. The arguments must not be PHI.
func Visiblef(err error, format string, args ...any) error {
	return &visible{err: err, text: fmt.Sprintf(format, args...)}
}

// Of returns err's kind: the kind of the first sentinel in its chain, or
// Internal when it has none (or err is nil).
func Of(err error) Kind {
	var s *Sentinel
	if errors.As(err, &s) {
		return s.kind
	}
	return Internal
}

// Code returns err's stable code: its sentinel's, or "internal".
func Code(err error) string {
	var s *Sentinel
	if errors.As(err, &s) {
		return s.code
	}
	return Internal.String()
}

// PublicText returns the text a user may see for err: the outermost text
// made visible with Visible, else the sentinel's public text, else "".
func PublicText(err error) string {
	var v *visible
	if errors.As(err, &v) {
		return v.text
	}
	var s *Sentinel
	if errors.As(err, &s) {
		return s.public
	}
	return ""
}

// retry is an error the caller may retry after a while.
type retry struct {
	err   error
	after time.Duration
}

func (r *retry) Error() string { return r.err.Error() }
func (r *retry) Unwrap() error { return r.err }

// WithRetry marks err as retryable after d (a surface sends Retry-After).
func WithRetry(err error, d time.Duration) error { return &retry{err: err, after: d} }

// RetryAfter returns how long err says to wait, if it says.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retry
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
