package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/records"
)

// Problem is an RFC 9457 problem details body. Code is stable: clients
// branch on it, never on Title or Detail.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// publicError is an error whose message a client may read: it names
// fields and rules, never values.
type publicError struct {
	status int
	code   string
	msg    string
}

func (e *publicError) Error() string { return e.msg }

func badRequest(code, msg string) error {
	return &publicError{status: http.StatusBadRequest, code: code, msg: msg}
}

// problemFor is the one place mapping errors to status and code. Anything
// unmapped is a 500 "internal" whose detail stays in the log.
func problemFor(err error) (status int, code string, detail string) {
	var pe *publicError
	switch {
	case errors.As(err, &pe):
		return pe.status, pe.code, pe.msg
	case errors.Is(err, auth.ErrInvalidInput), errors.Is(err, records.ErrInvalidInput), errors.Is(err, audit.ErrInvalidFilter):
		// These messages are written to name fields and rules only.
		return http.StatusBadRequest, "invalid_input", err.Error()
	case errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, records.ErrUnauthenticated),
		errors.Is(err, audit.ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated", "a live session is required"
	case errors.Is(err, auth.ErrForbidden), errors.Is(err, records.ErrForbidden), errors.Is(err, audit.ErrForbidden):
		return http.StatusForbidden, "forbidden", ""
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, records.ErrNotFound):
		return http.StatusNotFound, "not_found", ""
	case errors.Is(err, auth.ErrConflict), errors.Is(err, records.ErrConflict):
		return http.StatusConflict, "conflict", ""
	case errors.Is(err, auth.ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited", "too many sign-in requests; try again later"
	case errors.Is(err, auth.ErrLinkInvalid):
		return http.StatusUnauthorized, "link_invalid", "this sign-in link is not valid"
	case errors.Is(err, auth.ErrLinkExpired):
		return http.StatusUnauthorized, "link_expired", "this sign-in link has expired; ask for a new one"
	case errors.Is(err, auth.ErrLinkUsed):
		return http.StatusUnauthorized, "link_used", "this sign-in link was already used; ask for a new one"
	case errors.Is(err, auth.ErrWrongBrowser):
		return http.StatusUnauthorized, "wrong_browser", "open the link in the browser where you asked for it"
	}
	return http.StatusInternalServerError, "internal", ""
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, detail := problemFor(err)
	if status == http.StatusInternalServerError {
		// The error text carries ids at most (a package rule), never PHI.
		s.log.ErrorContext(r.Context(), "request failed", "request_id", requestIDFrom(r.Context()),
			"route", r.Pattern, "err", err)
	}
	writeProblem(w, r, status, code, detail)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	p := Problem{
		Type:      "https://ward.dev/problems/" + code,
		Title:     http.StatusText(status),
		Status:    status,
		Code:      code,
		Detail:    detail,
		RequestID: requestIDFrom(r.Context()),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ward"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
