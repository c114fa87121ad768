// Package httpapi is Ward's JSON API under /v1: routes, decoding, problem
// details and the middleware that authenticates every request against the
// database. Handlers call services; they never run SQL.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
)

// Config configures the API.
type Config struct {
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// SecureCookies marks cookies Secure with the __Host- prefix; off only
	// when serving plain HTTP behind the explicit insecure flag.
	SecureCookies bool
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For the server believes. Empty: the peer address is the
	// client.
	TrustedProxies []netip.Prefix
}

// Deps are the services the API calls.
type Deps struct {
	Auth    *auth.Service
	Records *records.Service
	Audit   *audit.Service
	// Ready reports whether the service can answer (the database is
	// reachable), for /readyz.
	Ready func(ctx context.Context) error
	Log   *slog.Logger
}

type server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
}

// NewServer returns the API handler.
func NewServer(cfg Config, deps Deps) http.Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	s := &server{cfg: cfg, deps: deps, log: deps.Log}
	mux := http.NewServeMux()
	s.routes(mux)
	return s.middleware(mux)
}

// Cookie names. With Secure cookies the __Host- prefix pins them to this
// host, path / and HTTPS.
func (s *server) sessionCookie() string  { return s.cookieName("ward_session") }
func (s *server) verifierCookie() string { return s.cookieName("ward_verifier") }
func (s *server) cookieName(n string) string {
	if s.cfg.SecureCookies {
		return "__Host-" + n
	}
	return n
}

func requestIDFrom(ctx context.Context) string { return identity.RequestFrom(ctx).ID }

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter records the status for the access log, and turns the mux's
// own plain-text 404 and 405 into problem documents.
type statusWriter struct {
	http.ResponseWriter
	r       *http.Request
	status  int
	bytes   int
	swallow bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if (code == http.StatusMethodNotAllowed || code == http.StatusNotFound) &&
		!strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		// The mux's own answer for no route or a wrong method.
		w.swallow = true
		if code == http.StatusNotFound {
			writeProblem(w.ResponseWriter, w.r, code, "no_route", "no such route")
		} else {
			writeProblem(w.ResponseWriter, w.r, code, "method_not_allowed", "method not allowed on this route")
		}
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// middleware adds a request id, security headers, a body limit, panic
// recovery and one access-log line per request. The log line holds the
// route pattern, never the URL (a query may hold a token or an email).
func (s *server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		ctx := identity.WithRequest(r.Context(), identity.Request{ID: id, IP: s.clientIP(r),
			UserAgent: identity.CleanHeader(r.UserAgent())})
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		sw := &statusWriter{ResponseWriter: w, r: r}
		defer func() {
			if p := recover(); p != nil {
				// The panic value may hold anything; log only its type.
				s.log.ErrorContext(ctx, "panic", "request_id", id, "route", r.Pattern, "type", fmt.Sprintf("%T", p))
				if sw.status == 0 {
					writeProblem(sw, r, http.StatusInternalServerError, "internal", "")
				}
			}
			s.log.InfoContext(ctx, "request", "request_id", id, "method", r.Method, "route", r.Pattern,
				"status", sw.status, "bytes", sw.bytes, "ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(sw, r)
	})
}

// requireSession authenticates the request's session token (bearer or
// cookie) in the database and puts the principal in the context.
func (s *server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r)
		if token == "" {
			if c, err := r.Cookie(s.sessionCookie()); err == nil {
				token = c.Value
			}
		}
		if token == "" {
			s.writeError(w, r, auth.ErrUnauthenticated)
			return
		}
		p, err := s.deps.Auth.Authenticate(r.Context(), token, r.Header.Get("Ward-Org"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// rightmost X-Forwarded-For address that is not itself a trusted proxy
// (entries further left are whatever the client claimed).
func (s *server) clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	a = a.Unmap()
	if !s.trusted(a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a // a malformed chain: trust only what we saw
		}
		if h = h.Unmap(); !s.trusted(h) {
			return h
		}
	}
	return a
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// decode reads a JSON body into v: it must be application/json, within the
// size limit, one object with no unknown fields.
func decode(r *http.Request, v any) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return &publicError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "send the body as application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &publicError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
				msg: fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)}
		}
		return badRequest("bad_json", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("bad_json", "the body must hold exactly one JSON object")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "malformed JSON"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// pathID parses a path value as a UUID.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, badRequest("invalid_id", name+" must be a UUID")
	}
	return id, nil
}
