package httpapi

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"sync"

	"github.com/wardhq/ward/internal/errkind"
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

// problemFor is the one place mapping errors to status and code: by the
// error's kind (internal/errkind), with the code of its sentinel and only
// the text made visible to users. Anything unclassified is a 500
// "internal" whose detail stays in the log.
func problemFor(err error) (status int, code string, detail string) {
	var pe *publicError
	if errors.As(err, &pe) {
		return pe.status, pe.code, pe.msg
	}
	kind := errkind.Of(err)
	status, ok := kindStatus[kind]
	if !ok || kind == errkind.Internal {
		return http.StatusInternalServerError, "internal", ""
	}
	return status, errkind.Code(err), errkind.PublicText(err)
}

var kindStatus = map[errkind.Kind]int{
	errkind.Invalid:            http.StatusBadRequest,
	errkind.Unauthenticated:    http.StatusUnauthorized,
	errkind.Forbidden:          http.StatusForbidden,
	errkind.NotFound:           http.StatusNotFound,
	errkind.Conflict:           http.StatusConflict,
	errkind.RateLimited:        http.StatusTooManyRequests,
	errkind.TooLarge:           http.StatusRequestEntityTooLarge,
	errkind.Unavailable:        http.StatusServiceUnavailable,
	errkind.PreconditionFailed: http.StatusPreconditionFailed,
	errkind.Gone:               http.StatusGone,
}

// An encoder writes an error in its surface's shape: status, a stable
// code, and a detail that names fields and rules, never values.
type encoder func(w http.ResponseWriter, r *http.Request, status int, code, detail string)

// writeProblem is the JSON API's encoder: RFC 9457 problem details.
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
	switch {
	case status == http.StatusUnauthorized && code == "dpop_invalid":
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"`)
	case status == http.StatusUnauthorized:
		// A session bound to a DPoP key is refused without a proof.
		w.Header().Set("WWW-Authenticate", `Bearer realm="ward", DPoP algs="ES256 EdDSA"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// errorPage is parsed on first use, not at start-up.
var errorPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Ward</title></head>
<body><main><h1>{{.Title}}</h1>{{if .Detail}}<p>{{.Detail}}</p>{{end}}
<p><small>Error {{.Status}} · {{.Code}} · request {{.RequestID}}</small></p></main></body></html>
`))
})

// writeHTMLError is the web console's encoder: a small HTML page.
func writeHTMLError(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = errorPage().Execute(w, Problem{Title: http.StatusText(status), Status: status, Code: code, Detail: detail,
		RequestID: requestIDFrom(r.Context())})
}

// scimError is a SCIM 2.0 error response (RFC 7644 §3.12). Status is a
// string there.
type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	SCIMType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeSCIMError is the SCIM surface's encoder.
func writeSCIMError(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	e := scimError{Schemas: []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, Status: strconv.Itoa(status),
		Detail: detail}
	switch code {
	case "bad_json", "unsupported_media_type", "invalid_syntax":
		e.SCIMType = "invalidSyntax"
	case "invalid_input", "invalid_id":
		e.SCIMType = "invalidValue"
	case "conflict":
		e.SCIMType = "uniqueness"
	case "invalid_filter":
		e.SCIMType = "invalidFilter"
	case "invalid_path":
		e.SCIMType = "invalidPath"
	case "no_target":
		e.SCIMType = "noTarget"
	case "mutability":
		e.SCIMType = "mutability"
	}
	if e.Detail == "" {
		e.Detail = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "application/scim+json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ward-scim"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// gatewayError is the LLM gateway's error body: the Anthropic Messages
// API shape, so the official SDKs raise their own typed errors. Ward's
// stable code goes in error.details.error_code, where the SDKs read the
// API's own codes (the TypeScript SDK's error.errorCode, the Go SDK's
// Error.ErrorCode()), and stays at the end of the message for clients
// that read only the message.
type gatewayError struct {
	Type  string `json:"type"` // always "error"
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Details struct {
			ErrorCode string `json:"error_code"`
		} `json:"details"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// writeGatewayError is the LLM gateway's encoder.
func writeGatewayError(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	e := gatewayError{Type: "error", RequestID: requestIDFrom(r.Context())}
	switch {
	case status == http.StatusUnauthorized:
		e.Error.Type = "authentication_error"
	case status == http.StatusForbidden:
		e.Error.Type = "permission_error"
	case status == http.StatusNotFound:
		e.Error.Type = "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		e.Error.Type = "request_too_large"
	case status == http.StatusTooManyRequests:
		e.Error.Type = "rate_limit_error"
	case status == http.StatusServiceUnavailable || status == 529:
		e.Error.Type = "overloaded_error"
	case status >= 500:
		e.Error.Type = "api_error"
	default:
		e.Error.Type = "invalid_request_error"
	}
	e.Error.Message = detail
	if e.Error.Message == "" {
		e.Error.Message = http.StatusText(status)
	}
	e.Error.Message += " (" + code + ")"
	e.Error.Details.ErrorCode = code
	w.Header().Set("Content-Type", "application/json")
	// The SDKs read an error's request id from the request-id header (the
	// TypeScript SDK's error.requestID), not from the body: Ward's own
	// refusals name it there too, as the upstream's relayed errors do.
	if e.RequestID != "" {
		w.Header().Set("Request-Id", e.RequestID)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}
