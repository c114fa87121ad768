package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/identity"
)

// surfaceServer is a server with test routes on the surfaces that have no
// real ones yet. None of them touches a service.
func surfaceServer(t *testing.T, cfg Config, add func(s *server)) *httptest.Server {
	t.Helper()
	s := newServer(cfg, Deps{})
	s.routes()
	if add != nil {
		add(s)
	}
	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, method, path string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return SendForTest(t, srv.Client(), req)
}

// Each surface answers "no route" and "wrong method" in its own shape,
// with its own security headers.
func TestSurfaceErrors(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := surfaceServer(t, Config{}, func(s *server) {
		s.console.route("POST /console/thing", public, ok)
		s.scim.route("POST /scim/v2/Users", public, ok)
		s.gateway.route("POST /llm/v1/messages", public, ok)
	})
	type check func(t *testing.T, resp *http.Response, body []byte)
	problem := func(code string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			var p Problem
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Code != code || p.Status != resp.StatusCode {
				t.Fatalf("problem %s: %+v %v", body, p, err)
			}
		}
	}
	html := func(code string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
			if !strings.HasPrefix(string(body), "<!doctype html>") || !strings.Contains(string(body), code) {
				t.Fatalf("page: %s", body)
			}
		}
	}
	scim := func(scimType string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			var e map[string]any
			if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
				t.Fatalf("content type %q", ct)
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			schemas, _ := e["schemas"].([]any)
			if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" ||
				e["status"] != strconv.Itoa(resp.StatusCode) || e["detail"] == "" {
				t.Fatalf("SCIM error: %s", body)
			}
			if st, _ := e["scimType"].(string); st != scimType {
				t.Fatalf("scimType %q, want %q", st, scimType)
			}
		}
	}
	anthropic := func(typ string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			var e struct {
				Type  string `json:"type"`
				Error *struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" || e.Error == nil ||
				e.Error.Type != typ || e.Error.Message == "" {
				t.Fatalf("gateway error: %s", body)
			}
		}
	}
	cases := []struct {
		name, method, path string
		status             int
		csp                string
		check              check
	}{
		{"api no route", "GET", "/v1/nothing", 404, "default-src 'none'", problem("no_route")},
		{"api wrong method", "DELETE", "/v1/me", 405, "default-src 'none'", problem("method_not_allowed")},
		{"console no route", "GET", "/nothing", 404, "script-src 'self'; style-src 'self'", html("no_route")},
		{"console root signed out", "GET", "/", 200, "script-src 'self'", func(t *testing.T, resp *http.Response, body []byte) {
			// (the client follows the redirect to the sign-in page)
			if resp.Request.URL.Path != "/sign-in" || !strings.Contains(string(body), `action="/sign-in"`) {
				t.Fatalf("console root signed out: %s %s", resp.Request.URL, body)
			}
		}},
		{"console wrong method", "GET", "/console/thing", 405, "script-src 'self'", html("method_not_allowed")},
		{"scim no route", "GET", "/scim/v2/Nothing", 404, "default-src 'none'", scim("")},
		{"scim wrong method", "GET", "/scim/v2/Users", 405, "default-src 'none'", scim("")},
		{"gateway no route", "POST", "/llm/v1/complete", 404, "default-src 'none'", anthropic("not_found_error")},
		{"gateway wrong method", "GET", "/llm/v1/messages", 405, "default-src 'none'", anthropic("invalid_request_error")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, srv, c.method, c.path, nil)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			c.check(t, resp, body)
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, c.csp) ||
				strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Fatalf("CSP %q", csp)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
				t.Fatalf("headers %v", resp.Header)
			}
			// data surfaces: no other site may load an answer into its page
			if c.csp == "default-src 'none'" && resp.Header.Get("Cross-Origin-Resource-Policy") != "same-origin" {
				t.Fatalf("Cross-Origin-Resource-Policy %q", resp.Header.Get("Cross-Origin-Resource-Policy"))
			}
			if c.status == 405 && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

// A streaming handler flushes through the surface's writer: the client
// reads the first event while the handler still waits to send the second.
func TestSurfaceStreams(t *testing.T) {
	next := make(chan struct{})
	deadlineErr := make(chan error, 1)
	srv := surfaceServer(t, Config{}, func(s *server) {
		s.gateway.route("POST /llm/v1/messages", public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctl := http.NewResponseController(w)
			deadlineErr <- ctl.SetWriteDeadline(time.Now().Add(time.Minute))
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message_start\ndata: {}\n\n")
			if err := ctl.Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
			select {
			case <-next:
			case <-time.After(10 * time.Second):
				return // the client never saw the first event
			}
			_, _ = io.WriteString(w, "event: message_stop\ndata: {}\n\n")
		}), deadline(noDeadline))
	})
	resp, err := srv.Client().Post(srv.URL+"/llm/v1/messages", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := <-deadlineErr; err != nil {
		t.Fatalf("SetWriteDeadline through the wrapper: %v", err)
	}
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || line != "event: message_start\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	close(next)
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "event: message_stop") {
		t.Fatalf("second event: %q", rest)
	}
}

// Each route gets its surface's body limit unless it sets its own, and a
// too-large body is refused in the surface's shape.
func TestSurfaceBodyLimits(t *testing.T) {
	read := func(sf **surface) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				(*sf).writeError(w, r, bodyError(err))
				return
			}
			writeJSON(w, http.StatusOK, map[string]int64{"read": n})
		})
	}
	var scim, console *surface
	srv := surfaceServer(t, Config{}, func(s *server) {
		scim, console = s.scim, s.console
		s.scim.route("POST /scim/v2/Small", public, read(&scim), bodyLimit(16))
		s.scim.route("POST /scim/v2/Default", public, read(&scim))
		s.console.route("POST /console/upload", public, read(&console), bodyLimit(4<<20))
		s.console.route("POST /console/form", public, read(&console))
	})
	twoMiB := strings.Repeat("x", 2<<20)
	cases := []struct {
		path   string
		body   string
		status int
		ct     string
	}{
		{"/scim/v2/Small", strings.Repeat("x", 16), 200, "application/json"},
		{"/scim/v2/Small", strings.Repeat("x", 17), 413, "application/scim+json"},
		{"/scim/v2/Default", strings.Repeat("x", 17), 200, "application/json"},
		{"/scim/v2/Default", twoMiB, 413, "application/scim+json"},
		{"/console/upload", twoMiB, 200, "application/json"},
		{"/console/form", twoMiB, 413, "text/html; charset=utf-8"},
	}
	for _, c := range cases {
		resp, body := get(t, srv, "POST", c.path, strings.NewReader(c.body))
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != c.ct {
			t.Errorf("%s with %d bytes: %d %s, want %d %s: %.200s", c.path, len(c.body), resp.StatusCode,
				resp.Header.Get("Content-Type"), c.status, c.ct, body)
		}
	}
}

// A route's deadline bounds its context; the surface default applies
// otherwise.
func TestSurfaceDeadlines(t *testing.T) {
	left := func(w http.ResponseWriter, r *http.Request) {
		d, ok := r.Context().Deadline()
		if !ok {
			writeJSON(w, http.StatusOK, map[string]any{"deadline": false})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deadline": true, "left_ms": time.Until(d).Milliseconds()})
	}
	srv := surfaceServer(t, Config{}, func(s *server) {
		s.gateway.route("POST /llm/v1/short", public, http.HandlerFunc(left), deadline(2*time.Second))
		s.gateway.route("POST /llm/v1/default", public, http.HandlerFunc(left))
		s.gateway.route("POST /llm/v1/stream", public, http.HandlerFunc(left), deadline(noDeadline))
		s.gateway.route("POST /llm/v1/slow", public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The context ends at the deadline (or a moment before, when
			// the connection's read deadline closes it first).
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
				t.Error("the deadline did not end the slow handler")
			}
		}), deadline(100*time.Millisecond))
	})
	for _, c := range []struct {
		path     string
		has      bool
		min, max int64
	}{
		{"/llm/v1/short", true, 1000, 2000},
		{"/llm/v1/default", true, 9 * 60 * 1000, 10 * 60 * 1000},
		{"/llm/v1/stream", false, 0, 0},
	} {
		var got struct {
			Deadline bool  `json:"deadline"`
			Left     int64 `json:"left_ms"`
		}
		_, body := get(t, srv, "POST", c.path, nil)
		if err := json.Unmarshal(body, &got); err != nil || got.Deadline != c.has || got.Left < c.min || got.Left > c.max {
			t.Errorf("%s: %s", c.path, body)
		}
	}
	// The connection's deadlines moved with the route's: the client sees it
	// cut, not a response after the handler gave up.
	resp, err := srv.Client().Post(srv.URL+"/llm/v1/slow", "application/json", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("slow route answered %d past its deadline", resp.StatusCode)
	}
}

func TestNeedCheck(t *testing.T) {
	now := time.Now()
	sess := identity.Principal{Kind: identity.KindSession, AAL: 1, Role: identity.RoleProvider, AuthTime: now.Add(-time.Hour)}
	with := func(f func(*identity.Principal)) identity.Principal { p := sess; f(&p); return p }
	cases := []struct {
		name string
		n    need
		p    identity.Principal
		code string
	}{
		{"session route, session", session, sess, ""},
		{"session route, api key", session, with(func(p *identity.Principal) { p.Kind = identity.KindAPIKey }), "credential_not_accepted"},
		{"session route, no kind", session, with(func(p *identity.Principal) { p.Kind = "" }), "credential_not_accepted"},
		{"aal2 route, aal1", need{kinds: session.kinds, aal: 2}, sess, "insufficient_assurance"},
		{"aal2 route, aal2", need{kinds: session.kinds, aal: 2}, with(func(p *identity.Principal) { p.AAL = 2 }), ""},
		{"lead route, provider", need{kinds: session.kinds, aal: 1, role: identity.RoleLead}, sess, "forbidden"},
		{"provider route, provider", need{kinds: session.kinds, aal: 1, role: identity.RoleProvider}, sess, ""},
		{"fresh route, stale", need{kinds: session.kinds, aal: 1, fresh: 5 * time.Minute}, sess, "step_up_required"},
		{"fresh route, unknown", need{kinds: session.kinds, aal: 1, fresh: 5 * time.Minute},
			with(func(p *identity.Principal) { p.AuthTime = time.Time{} }), "step_up_required"},
		{"fresh route, fresh", need{kinds: session.kinds, aal: 1, fresh: 5 * time.Minute},
			with(func(p *identity.Principal) { p.AuthTime = now.Add(-time.Minute) }), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.n.check(c.p, now)
			var pe *publicError
			switch {
			case c.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.code != "" && (!errors.As(err, &pe) || pe.code != c.code || pe.status != http.StatusForbidden):
				t.Fatalf("got %v, want 403 %s", err, c.code)
			}
		})
	}
}

// A streamed route with a limit (the exports) ends at the limit even while
// its client keeps up: the context ends then, and the connection's write
// deadline holds there, each write moving it no later (a write re-armed
// per stall window and cleared after used to lift it). The handler here
// ignores its context, so only the write deadline can stop it.
func TestSurfaceStreamLimit(t *testing.T) {
	ended := make(chan string, 1)
	hasDeadline := make(chan bool, 1)
	srv := surfaceServer(t, Config{StallWindow: 5 * time.Second}, func(s *server) {
		s.api.route("GET /v1/stream", public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := r.Context().Deadline()
			hasDeadline <- ok
			chunk := strings.Repeat("x", 1024)
			for stop := time.Now().Add(15 * time.Second); time.Now().Before(stop); {
				if _, err := io.WriteString(w, chunk); err != nil {
					ended <- "write"
					return
				}
				_ = http.NewResponseController(w).Flush()
				time.Sleep(20 * time.Millisecond)
			}
			ended <- "the stream outlived its limit"
		}), deadline(noDeadline), streamLimit(500*time.Millisecond))
	})
	resp, err := srv.Client().Get(srv.URL + "/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // a client that keeps up
	resp.Body.Close()
	if !<-hasDeadline {
		t.Error("the handler's context has no deadline")
	}
	if why := <-ended; why != "write" {
		t.Fatal(why)
	}
}

// What the top-level mux answers itself carries the security headers and
// an access log line: the redirect to a cleaned path (//v1/me), and
// OPTIONS * on a server that passes it on (cmd/ward's does).
func TestOuterAnswersHaveHeaders(t *testing.T) {
	var logs syncLog
	s := newServer(Config{}, Deps{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.routes()
	srv := httptest.NewUnstartedServer(s.handler())
	srv.Config.DisableGeneralOptionsHandler = true
	srv.Start()
	t.Cleanup(srv.Close)
	check := func(what string, status int, hdr http.Header) {
		t.Helper()
		for k, v := range apiHeaders {
			if hdr.Get(k) != v {
				t.Errorf("%s (%d): %s is %q", what, status, k, hdr.Get(k))
			}
		}
		if hdr.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", what)
		}
		if !strings.Contains(logs.String(), `"status":`+strconv.Itoa(status)) {
			t.Errorf("%s: no access log line: %s", what, logs.String())
		}
	}
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(srv.URL + "//v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("//v1/me: %d", resp.StatusCode)
	}
	check("//v1/me", resp.StatusCode, resp.Header)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "OPTIONS * HTTP/1.1\r\nHost: ward.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "OPTIONS"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OPTIONS *: %d", resp.StatusCode)
	}
	check("OPTIONS *", resp.StatusCode, resp.Header)
}

// syncLog is a log buffer written by the server's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
