package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// A surface is one HTTP face of Ward (the JSON API, the web console, SCIM,
// the LLM gateway) with its own middleware stack: request id, client
// address, security headers, access log, panic recovery, and errors (its
// own and the mux's "no route" and "wrong method") in its own shape. Each
// route on it gets the surface's body limit and deadline unless it asks
// for others.
type surface struct {
	s        *server
	name     string
	mux      *http.ServeMux
	encode   encoder
	maxBody  int64
	deadline time.Duration
	headers  map[string]string
}

// Security headers. The API, SCIM and the gateway answer data, never pages;
// the console serves pages whose scripts and styles are its own files.
var (
	apiHeaders = map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
		"Cache-Control":           "no-store",
		// no other site, a sibling subdomain included, may load an answer
		// (a document's content as an <img>) into its page
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	consoleHeaders = map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
			"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Cache-Control":              "no-store",
	}
)

func (s *server) newSurface(name string, enc encoder, maxBody int64, deadline time.Duration, headers map[string]string) *surface {
	return &surface{s: s, name: name, mux: http.NewServeMux(), encode: enc, maxBody: maxBody, deadline: deadline,
		headers: headers}
}

// A routeOption overrides a surface default for one route.
type routeOption func(*routeConfig)

type routeConfig struct {
	maxBody  int64
	deadline time.Duration
	limit    time.Duration
}

// bodyLimit sets the route's request body limit in bytes (a streamed
// upload sets a large one and reads the body as it comes).
func bodyLimit(n int64) routeOption { return func(c *routeConfig) { c.maxBody = n } }

// deadline sets how long the route may take to read the request and write
// the response; noDeadline lifts it (server-sent events).
func deadline(d time.Duration) routeOption { return func(c *routeConfig) { c.deadline = d } }

const noDeadline time.Duration = -1

// streamLimit bounds the whole of a route without a deadline (an export):
// its context ends at now + d, and so does the connection's write
// deadline, which each write moves only closer (responseWriter.limit).
func streamLimit(d time.Duration) routeOption { return func(c *routeConfig) { c.limit = d } }

// route registers h for pattern on the surface: the route's body limit and
// deadline apply, then what n asks of the caller.
func (sf *surface) route(pattern string, n need, h http.Handler, opts ...routeOption) {
	rc := routeConfig{maxBody: sf.maxBody, deadline: sf.deadline}
	for _, o := range opts {
		o(&rc)
	}
	if rc.deadline == noDeadline {
		h = sf.s.streams.cap(sf, h)
	}
	if sf.name == "console" {
		h = formWithoutNUL(h)
	}
	sf.mux.Handle(pattern, sf.limited(rc, sf.s.guard(sf, n, h)))
}

// formWithoutNUL refuses a console form that holds a NUL character in a
// field's name or value (400 bad_form), as the JSON API refuses one in a
// string: no form stores one, or hands one to the database, whose text
// refuses it with an error of its own. A multipart form (an upload) is
// read by its handler, which checks its own fields.
func formWithoutNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
				if err := r.ParseForm(); err != nil {
					writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form could not be read")
					return
				}
				for k, vs := range r.PostForm {
					if strings.ContainsRune(k, 0) || slices.ContainsFunc(vs, func(v string) bool { return strings.ContainsRune(v, 0) }) {
						writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "a form field holds a NUL character")
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxStreams is how many requests without a deadline (uploads, downloads,
// exports, gateway calls) one user's sessions, or one API key, may have
// open at once: each holds a connection, a goroutine and a segment buffer
// for as long as its client keeps up.
const maxStreams = 16

// streamCounts counts each user's open requests without a deadline.
type streamCounts struct {
	mu   sync.Mutex
	open map[uuid.UUID]int
}

// cap refuses a user's request without a deadline while maxStreams of
// theirs are open (429, retry after a second), and counts it while it
// runs.
func (c *streamCounts) cap(sf *surface, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := identity.PrincipalFrom(r.Context())
		who := p.UserID
		if p.Kind == identity.KindAPIKey || who == uuid.Nil {
			who = p.CredentialID // each key its own count, apart from its maker's
		}
		if !ok || who == uuid.Nil { // (no principal: none of these routes today)
			next.ServeHTTP(w, r)
			return
		}
		c.mu.Lock()
		if c.open == nil {
			c.open = map[uuid.UUID]int{}
		}
		if c.open[who] >= maxStreams {
			c.mu.Unlock()
			sf.writeError(w, r, rateLimited(time.Second,
				fmt.Sprintf("at most %d uploads, downloads, exports and gateway calls may be open at once", maxStreams)))
			return
		}
		c.open[who]++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			if c.open[who]--; c.open[who] <= 0 {
				delete(c.open, who)
			}
			c.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// unreadBodyGrace is how long the server goes on taking the unread rest of
// a body it answered without (at most net/http's 256 KiB) before it closes
// the connection: as long as net/http lingers after a close so that the
// client reads its answer before a reset.
//
// net/http reads that rest before it writes the answer, at the client's
// pace, until the connection's read deadline: without this bound, the
// route's or the surface's (30 s on the API, the console and SCIM, 10
// minutes on the gateway), so a client that announced a body and sent
// none held its connection and a goroutine that long, signed in or not,
// and waited as long for its answer (TestRefusedBodyHoldsNoConnection).
const unreadBodyGrace = 500 * time.Millisecond

// graceUnread bounds, once a request is answered, how long the server
// waits for the unread rest of its body: until unreadBodyGrace from now,
// or end when that is earlier (zero: no earlier end). A body that does
// not come by then is given up and the connection closed after the
// answer. Only for a body not read to its end: after its end net/http
// reads ahead in the background, and a deadline that fires there would
// end the connection's context.
func graceUnread(ctl *http.ResponseController, end time.Time) {
	d := time.Now().Add(unreadBodyGrace)
	if !end.IsZero() && end.Before(d) {
		d = end
	}
	_ = ctl.SetReadDeadline(d)
}

// watchedBody records whether its reader reached the end of the body (or
// an error, which ends it too).
type watchedBody struct {
	io.ReadCloser
	done bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

// boundUnread wraps r's body, if it has one, and returns what to run once
// r is answered: a body left unread then has until unreadBodyGrace from
// now (or end, when earlier) to come (graceUnread).
func boundUnread(r *http.Request, ctl *http.ResponseController, end time.Time) (answered func()) {
	if r.Body == nil || r.Body == http.NoBody {
		return func() {}
	}
	b := &watchedBody{ReadCloser: r.Body}
	r.Body = b
	return func() {
		if !b.done {
			graceUnread(ctl, end)
		}
	}
}

// limited applies a route's deadline, through http.ResponseController so
// the connection's read and write deadlines move with it, and its body
// limit.
func (sf *surface) limited(rc routeConfig, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctl := http.NewResponseController(w)
		switch {
		case rc.deadline > 0:
			end := time.Now().Add(rc.deadline)
			_ = ctl.SetReadDeadline(end)
			_ = ctl.SetWriteDeadline(end)
			ctx, cancel := context.WithDeadline(r.Context(), end)
			defer cancel()
			r = r.WithContext(ctx)
			// A body left unread has unreadBodyGrace, not the rest of
			// the deadline, to come.
			defer boundUnread(r, ctl, end)()
		case rc.deadline == noDeadline:
			// No deadline for the whole request, but the client must keep
			// up: a body that stalls or trickles, or a response the client
			// stops reading, ends the request (progressBody,
			// responseWriter.stall). A body not read yet keeps a read
			// deadline one window away until its first read.
			var end time.Time
			if rc.limit > 0 {
				end = time.Now().Add(rc.limit)
				ctx, cancel := context.WithDeadline(r.Context(), end)
				defer cancel()
				r = r.WithContext(ctx)
			}
			_ = ctl.SetWriteDeadline(end)
			if r.Body == nil || r.Body == http.NoBody {
				_ = ctl.SetReadDeadline(time.Time{})
			} else {
				_ = ctl.SetReadDeadline(time.Now().Add(sf.s.cfg.StallWindow))
				pb := &progressBody{ReadCloser: r.Body, ctl: ctl, window: sf.s.cfg.StallWindow}
				r.Body = pb
				// A request answered without its whole body (refused
				// before it was read, or cut short): the server reads
				// and discards up to 256 KiB of the rest before it
				// answers, at the client's pace. A read deadline
				// unreadBodyGrace away bounds that: a body already on
				// its way is taken and the client reads its answer on
				// a connection that stays open (closing on a client
				// still writing resets the connection, and the client
				// sees a broken pipe instead of the answer); one that
				// does not come in time is given up and the connection
				// closed after the answer.
				defer boundUnread(r, ctl, end)()
			}
			if rw, ok := w.(*responseWriter); ok {
				rw.stall, rw.ctl, rw.limit = sf.s.cfg.StallWindow, ctl, end
			}
		}
		r.Body = http.MaxBytesReader(unwrap(w), r.Body, rc.maxBody)
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP runs the surface's stack around its mux. The access log line
// holds the route pattern, never the URL (a query may hold a token).
func (sf *surface) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sf.serve(w, r, nil)
}

// serve runs the surface's stack around inner, or around its mux when
// inner is nil: handler() sends it what the top-level mux answers itself (a
// redirect to a cleaned path, OPTIONS *), so that those answers too carry
// the security headers and an access log line.
func (sf *surface) serve(w http.ResponseWriter, r *http.Request, inner http.Handler) {
	start := time.Now()
	id := newRequestID()
	ctx, span := sf.startSpan(r.Context(), r, id)
	ctx = identity.WithRequest(ctx, identity.Request{ID: id, IP: sf.s.clientIP(r),
		UserAgent: identity.CleanHeader(r.UserAgent())})
	r = r.WithContext(ctx)
	h := w.Header()
	h.Set("X-Request-Id", id)
	for k, v := range sf.headers {
		h.Set(k, v)
	}
	if sf.s.secure {
		h.Set("Strict-Transport-Security", "max-age=63072000")
	}
	// The surface's deadline holds for every request, routed or not (a
	// route may move it); a kept-alive connection never carries an earlier
	// request's.
	end := start.Add(sf.deadline)
	ctl := http.NewResponseController(w)
	_ = ctl.SetReadDeadline(end)
	_ = ctl.SetWriteDeadline(end)
	rw := &responseWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The panic value may hold anything; log only its type.
			sf.s.log.ErrorContext(ctx, "panic", "request_id", id, "surface", sf.name, "route", r.Pattern,
				"type", fmt.Sprintf("%T", p))
			if rw.status == 0 {
				sf.encode(rw, r, http.StatusInternalServerError, "internal", "")
			}
		}
		sf.s.log.InfoContext(ctx, "request", "request_id", id, "surface", sf.name, "method", r.Method,
			"route", r.Pattern, "status", rw.status, "bytes", rw.bytes,
			"ms", float64(time.Since(start).Microseconds())/1000)
		endSpan(span, r, rw.status)
	}()
	if headerBytes(r) > MaxHeaderBytes {
		if r.ProtoMajor == 1 {
			rw.Header().Set("Connection", "close")
		}
		sf.encode(rw, r, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large",
			fmt.Sprintf("the request line and headers may hold at most %d KiB", MaxHeaderBytes>>10))
		return
	}
	if inner != nil {
		answered := boundUnread(r, ctl, end)
		inner.ServeHTTP(rw, r)
		answered()
		return
	}
	if _, pattern := sf.mux.Handler(r); pattern == "" {
		// The answer reads no body: what was sent of it has
		// unreadBodyGrace to come, not the surface's deadline.
		answered := boundUnread(r, ctl, end)
		sf.noRoute(rw, r)
		answered()
		return
	}
	sf.mux.ServeHTTP(rw, r)
}

// MaxHeaderBytes is the most a request line and its headers may hold
// (counted as HTTP/1.1 writes them); a request over it is answered 431
// headers_too_large in its surface's shape. The http.Server in front must
// read more than this (its MaxHeaderBytes; cmd/ward allows twice as much),
// or it answers first, in plain text, for HTTP/1.1 (internal/httpapi/wireproblem
// rewrites that answer where it can).
const MaxHeaderBytes = 64 << 10

// headerBytes is the size of r's request line and headers as HTTP/1.1
// writes them, what net/http counts against its own MaxHeaderBytes.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

// noRoute answers a request no route matched, as the mux would (404, or
// 405 with Allow), in the surface's own shape.
func (sf *surface) noRoute(w http.ResponseWriter, r *http.Request) {
	h, _ := sf.mux.Handler(r)
	p := &probe{header: http.Header{}}
	h.ServeHTTP(p, r)
	if p.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", p.header.Get("Allow"))
		sf.encode(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
		return
	}
	sf.encode(w, r, http.StatusNotFound, "no_route", "no such route")
}

// writeError answers err in the surface's shape. Unmapped errors are 500s
// whose text goes to the log only (it carries ids at most, a package rule).
func (sf *surface) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if markStale(r, err) {
		return // the guard serves the request again after a full check
	}
	status, code, detail := problemFor(err)
	if status == http.StatusInternalServerError && clientGone(w, r) {
		// What failed failed because the client left (a reset stream, a
		// closed connection): nothing to answer, nothing to alert on. (An
		// answer of its own, such as the 408 of a stalled body whose
		// refusal also ends the context, is still sent.)
		sf.s.log.DebugContext(r.Context(), "client gone", "request_id", requestIDFrom(r.Context()),
			"surface", sf.name, "route", r.Pattern)
		return
	}
	if d, ok := errkind.RetryAfter(err); ok && d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	if status == http.StatusInternalServerError {
		sf.s.log.ErrorContext(r.Context(), "request failed", "request_id", requestIDFrom(r.Context()),
			"surface", sf.name, "route", r.Pattern, "err", err)
	}
	sf.encode(w, r, status, code, detail)
}

// statusClientGone is what the access log records for a request whose
// client left before it was answered (nginx's 499; never sent).
const statusClientGone = 499

// clientGone reports whether r's client has left (its context was
// cancelled: a closed connection or a reset stream, not a deadline), and
// if so records statusClientGone on w for the access log.
func clientGone(w http.ResponseWriter, r *http.Request) bool {
	if !errors.Is(r.Context().Err(), context.Canceled) {
		return false
	}
	for {
		switch x := w.(type) {
		case *responseWriter:
			if x.status == 0 {
				x.status = statusClientGone
			}
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return true
		}
	}
}

// writeError answers err on the JSON API.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.api.writeError(w, r, err)
}

// responseWriter records the status and size for the access log. It
// passes Flush through and unwraps, so http.ResponseController reaches the
// connection (deadlines, streaming).
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	// stall, when set (routes without a deadline), is how long one write
	// may wait for the client to take the bytes: each write arms the
	// connection's write deadline at now + stall through ctl.
	stall time.Duration
	ctl   *http.ResponseController
	// limit, when set (streamLimit), is when the whole response must have
	// been written: a write's deadline is never later, and between writes
	// the connection's write deadline stays at limit.
	limit time.Time
}

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		w.ResponseWriter.WriteHeader(code) // informational: more follow
		return
	}
	if w.status != 0 {
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.stall > 0 {
		// Armed for this write only: under HTTP/2 a deadline is a timer
		// that resets the stream when it fires, whether or not a write
		// is waiting, so a stream silent between writes (an upstream
		// thinking) must not carry one.
		// A limit stays armed between writes: the response ends there,
		// written or not.
		d := time.Now().Add(w.stall)
		if !w.limit.IsZero() && w.limit.Before(d) {
			d = w.limit
		}
		_ = w.ctl.SetWriteDeadline(d)
		defer func() { _ = w.ctl.SetWriteDeadline(w.limit) }()
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends what is buffered to the client.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unwrap returns the connection's own writer under ours, so that
// http.MaxBytesReader can tell the server to close an oversized request.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if rw, ok := w.(*responseWriter); ok {
		return rw.ResponseWriter
	}
	return w
}

// probe captures what the mux would answer for a request without a route.
type probe struct {
	header http.Header
	status int
}

func (p *probe) Header() http.Header         { return p.header }
func (p *probe) Write(b []byte) (int, error) { return len(b), nil }
func (p *probe) WriteHeader(code int)        { p.status = code }

// errorWriter answers an error in a surface's shape; handlers take their
// surface's.
type errorWriter func(w http.ResponseWriter, r *http.Request, err error)

// A route without a deadline (uploads, downloads, exports, streams) may
// take as long as its data takes, but not as long as a client cares to
// hold the connection: the body must not stall for the stall window
// (Config.StallWindow), and after the first window it must have arrived
// at minBodyRate on average (a slowloris that sends a byte just before
// each window ends is cut too); a response write the client does not take
// within the window ends the request (responseWriter.stall).
const minBodyRate = 1024 // bytes per second

// errBodyTooSlow is the 408 for a request body that stalled or trickled.
var errBodyTooSlow = &publicError{status: http.StatusRequestTimeout, code: "body_too_slow",
	msg: fmt.Sprintf("the request body stalled or arrived slower than %d bytes per second; nothing of it was kept",
		minBodyRate)}

// progressBody enforces the body's progress: each read waits at most the
// stall window (a read deadline armed for that read only: under HTTP/2 a
// deadline is a timer that closes the body when it fires, even while the
// server is busy with what it read), and it refuses to go on once the
// average rate since the first read falls under minBodyRate.
type progressBody struct {
	io.ReadCloser
	ctl    *http.ResponseController
	window time.Duration
	start  time.Time
	n      int64
	done   bool
}

func (b *progressBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	if el := now.Sub(b.start); el > b.window && float64(b.n) < minBodyRate*el.Seconds() {
		b.refuse()
		return 0, errBodyTooSlow
	}
	_ = b.ctl.SetReadDeadline(now.Add(b.window))
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.refuse()
		return n, errBodyTooSlow
	}
	b.done = err != nil // the end of the body, or the client's error
	_ = b.ctl.SetReadDeadline(time.Time{})
	return n, err
}

// refuse ends the body for good: the read deadline stays in the past, so
// the server does not wait for the rest of a trickling body before it
// answers (it would, to keep the connection) and closes the connection
// after the answer.
func (b *progressBody) refuse() {
	b.done = true
	_ = b.ctl.SetReadDeadline(time.Now())
}
