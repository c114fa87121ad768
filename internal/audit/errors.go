package audit

import (
	"errors"

	"github.com/wardhq/ward/internal/errkind"
)

// Errors returned by this package. Each is wrapped with context (ids and
// positions, never PHI); test with errors.Is.
var (
	// ErrInvalidEvent means an event audit.append would refuse: no org, a
	// malformed action, an unknown outcome, or details that are not an
	// object of ASCII keys with integer, string, boolean or null leaves.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrForbidden means the credential of the transaction belongs to
	// another org than the event's.
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "audit: credential does not belong to the event's org")
	// ErrInvalidFilter means a List filter out of range (limit above 1000,
	// a negative cursor, a malformed action).
	ErrInvalidFilter = errkind.New(errkind.Invalid, "invalid_input", "audit: invalid filter")
	// ErrTampered means verification found a log that is not what
	// audit.append wrote: an edited, deleted, inserted or reordered event,
	// or a head that does not match the events.
	ErrTampered = errors.New("audit: log failed verification")
	// ErrTruncated means the log is shorter than, or diverges from, a head
	// verified earlier and kept outside the database. Errors wrapping it
	// also wrap ErrTampered.
	ErrTruncated = errors.New("audit: log is shorter than or diverges from a known head")
)
