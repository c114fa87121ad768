package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestTracingSpans: with a tracer provider, each request gets one server
// span named for its route pattern (never its URL), with the method, the
// route, the status and the request id the response carried; a caller's
// traceparent is continued; a made-up method is _OTHER; an unrouted
// request keeps the surface's generic name. No span
// holds a patient's id, name or a query string.
func TestTracingSpans(t *testing.T) {
	rec := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	w := newWorld(t, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.Tracing = tp }))
	o := w.createOrg("Trace Clinic")
	w.populate(o, "trace")
	rec.Reset()

	spans := func() tracetest.SpanStubs {
		t.Helper()
		if err := tp.ForceFlush(t.Context()); err != nil {
			t.Fatal(err)
		}
		s := rec.GetSpans()
		rec.Reset()
		return s
	}
	attr := func(s tracetest.SpanStub, key string) string {
		for _, a := range s.Attributes {
			if string(a.Key) == key {
				return a.Value.Emit()
			}
		}
		return ""
	}

	// A routed read, continuing the caller's trace.
	parent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, _ := w.request("GET", "/v1/patients/"+o.P1.String()+"?fields=name", o.Lead.Token, nil, "traceparent", parent)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d", resp.StatusCode)
	}
	got := spans()
	if len(got) != 1 {
		t.Fatalf("%d spans for one request, want 1: %+v", len(got), got)
	}
	s := got[0]
	if s.Name != "GET /v1/patients/{id}" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want the route pattern, a server span", s.Name, s.SpanKind)
	}
	if s.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the caller's traceparent was not continued: trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	for k, want := range map[string]string{"http.request.method": "GET", "http.route": "/v1/patients/{id}",
		"http.response.status_code": "200", "ward.surface": "api", "ward.request_id": resp.Header.Get("X-Request-Id")} {
		if got := attr(s, k); got != want || want == "" {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	dump := fmt.Sprintf("%+v", s)
	for _, leak := range []string{o.P1.String(), "trace Patient One", "fields=name", o.Lead.Token, "127.0.0.1"} {
		if strings.Contains(dump, leak) {
			t.Errorf("the span holds %q: %s", leak, dump)
		}
	}

	// A made-up method, and a path no route has.
	resp, _ = w.request("BREW", "/v1/patients", o.Lead.Token, nil)
	resp2, _ := w.request("GET", "/v1/no/such/route/"+o.P2.String(), o.Lead.Token, nil)
	got = spans()
	if len(got) != 2 {
		t.Fatalf("%d spans for two requests, want 2", len(got))
	}
	for i, want := range []struct {
		name, method, status string
	}{{"_OTHER", "_OTHER", fmt.Sprint(resp.StatusCode)}, {"GET", "GET", fmt.Sprint(resp2.StatusCode)}} {
		if got[i].Name != want.name || attr(got[i], "http.request.method") != want.method ||
			attr(got[i], "http.response.status_code") != want.status || attr(got[i], "http.route") != "" {
			t.Errorf("span %d: %q %v, want %+v", i, got[i].Name, got[i].Attributes, want)
		}
		if strings.Contains(fmt.Sprintf("%+v", got[i]), o.P2.String()) {
			t.Errorf("span %d holds the path's id", i)
		}
	}

	// The console is a surface of its own.
	w.request("GET", "/sign-in", "", nil)
	if got = spans(); len(got) != 1 || attr(got[0], "ward.surface") != "console" || got[0].Name != "GET /sign-in" {
		t.Errorf("console span: %+v", got)
	}
}
