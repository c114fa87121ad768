package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// /readyz is public: when not ready it says so with a fixed reason, and the
// cause (a role, a socket path, a host) goes to the log only.
func TestReadyzHidesTheCause(t *testing.T) {
	var logs bytes.Buffer
	cause := errors.New("failed to connect to user=ward_app database=ward: /srv/ward/postgres/run/.s.PGSQL.5432")
	h := handleReadyz(func(context.Context) error { return cause }, slog.New(slog.NewJSONHandler(&logs, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	for _, leak := range []string{"ward_app", "database=", ".s.PGSQL", "/srv/ward"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("the public answer holds %q: %s", leak, rec.Body)
		}
	}
	if !strings.Contains(logs.String(), ".s.PGSQL.5432") {
		t.Errorf("the cause is not in the log: %s", logs.String())
	}
	rec = httptest.NewRecorder()
	handleReadyz(func(context.Context) error { return nil }, slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("ready: status %d", rec.Code)
	}
}

// /metrics answers loopback and the configured networks only.
func TestMetricsOnlyToOperators(t *testing.T) {
	s := newServer(Config{MetricsFrom: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}, Deps{})
	h := s.metricsOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ward_up 1\n")) }))
	for addr, want := range map[string]int{"127.0.0.1:5000": 200, "[::1]:5000": 200, "10.9.3.4:5000": 200,
		"203.0.113.7:5000": 403, "10.10.0.1:5000": 403} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want || want == 403 && strings.Contains(rec.Body.String(), "ward_up") {
			t.Errorf("%s: %d %s, want %d", addr, rec.Code, rec.Body, want)
		}
	}
}

// A client that leaves before its answer (a closed connection, a reset
// stream) is no server failure: no ERROR line, no 500, and the access log
// records 499. An unauthenticated flood of HEADERS then RST_STREAM would
// otherwise fill the log with 500s and false alerts. A probe of /readyz
// its own caller abandoned does not say the server is not ready.
func TestClientGoneIsNoError(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil)) // Info and up
	s := newServer(Config{}, Deps{Log: log, Ready: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	s.routes()
	s.api.route("GET /v1/gone", public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		s.writeError(w, r, fmt.Errorf("records: list: %w", r.Context().Err()))
	}))
	h := s.handler()
	for _, path := range []string{"/v1/gone", "/readyz"} {
		logs.Reset()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(ctx))
		if strings.Contains(logs.String(), `"level":"ERROR"`) || strings.Contains(logs.String(), `"level":"WARN"`) {
			t.Errorf("%s: %s", path, logs.String())
		}
		if !strings.Contains(logs.String(), `"status":499`) {
			t.Errorf("%s: the access log does not record 499: %s", path, logs.String())
		}
		if strings.Contains(rec.Body.String(), "internal") || strings.Contains(rec.Body.String(), "not_ready") {
			t.Errorf("%s: answered %d %s", path, rec.Code, rec.Body)
		}
	}
	// A deadline is no client gone: still an error.
	logs.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(logs.String(), "not ready") {
		t.Errorf("readyz past a deadline: %d %s", rec.Code, logs.String())
	}
}
