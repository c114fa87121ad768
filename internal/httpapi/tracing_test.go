package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestTracingSpans: with a tracer provider, each request gets one server
// span named for its route pattern (never its URL), with the method, the
// route, the status and the request id the response carried; a caller's
// traceparent is linked (TestTracingSamplingIsLocal); a made-up method is _OTHER; an unrouted
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

	// A routed read, linking the caller's trace.
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
	if s.Parent.IsValid() || len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		s.Links[0].SpanContext.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the caller's traceparent is not linked: parent %v, links %+v", s.Parent, s.Links)
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

// switchSampler is the test's stand-in for the sampler OTEL_TRACES_SAMPLER
// configures, changed between requests.
type switchSampler struct {
	s atomic.Pointer[sdktrace.Sampler]
}

func (w *switchSampler) set(s sdktrace.Sampler) { w.s.Store(&s) }
func (w *switchSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return (*w.s.Load()).ShouldSample(p)
}
func (w *switchSampler) Description() string { return "switch" }

// fixedIDs gives every trace Ward starts one id whose low 64 bits are all
// ones: a ratio sampler (which reads those bits) never samples it below a
// ratio of 1, so what a ratio decides is deterministic.
type fixedIDs struct{}

var wardTraceID = trace.TraceID{0xaa, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (fixedIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	return wardTraceID, trace.SpanID{0xbb, 0, 0, 0, 0, 0, 0, 1}
}
func (fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	return trace.SpanID{0xbb, 0, 0, 0, 0, 0, 0, 2}
}

// TestTracingSamplingIsLocal: whether a request is sampled is the
// sampler's decision, never the caller's traceparent. A caller's sampled
// flag does not force a span the sampler refuses, nor does a trace id a
// ratio sampler would take (low bits zero), and its unsampled flag does
// not suppress one the sampler takes. A recorded span starts a trace of
// Ward's and links the caller's span, without its tracestate. The caller
// is anonymous: no credential is needed to send a traceparent.
func TestTracingSamplingIsLocal(t *testing.T) {
	rec := tracetest.NewInMemoryExporter()
	sampler := &switchSampler{}
	sampler.set(sdktrace.ParentBased(sdktrace.AlwaysSample()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rec), sdktrace.WithSampler(sampler), sdktrace.WithIDGenerator(fixedIDs{}))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.Tracing = tp }))

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	lowTrace := "4bf92f3577b34da60000000000000000" // a ratio sampler's yes, were it Ward's trace id
	for _, c := range []struct {
		name        string
		sampler     sdktrace.Sampler
		traceparent string
		recorded    bool
	}{
		{"sampled flag, the sampler says no", sdktrace.ParentBased(sdktrace.NeverSample()),
			"00-" + callerTrace + "-" + callerSpan + "-01", false},
		{"sampled flag and a low trace id, a ratio of one half says no to Ward's",
			sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.5)), "00-" + lowTrace + "-" + callerSpan + "-01", false},
		{"unsampled flag, the sampler says yes", sdktrace.ParentBased(sdktrace.AlwaysSample()),
			"00-" + callerTrace + "-" + callerSpan + "-00", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sampler.set(c.sampler)
			rec.Reset()
			resp, _ := w.request("GET", "/v1/patients", "", nil, "traceparent", c.traceparent, "tracestate", "vendor=caller-text")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous list: %d, want 401", resp.StatusCode)
			}
			if err := tp.ForceFlush(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := rec.GetSpans()
			if !c.recorded {
				if len(got) != 0 {
					t.Fatalf("%d spans recorded, want none: the caller's traceparent decided (%+v)", len(got), got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d spans recorded, want 1: the caller's traceparent decided", len(got))
			}
			s := got[0]
			if s.SpanContext.TraceID() != wardTraceID || s.Parent.IsValid() {
				t.Errorf("span in trace %s with parent %v, want a root of Ward's trace %s", s.SpanContext.TraceID(), s.Parent, wardTraceID)
			}
			if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != callerTrace ||
				s.Links[0].SpanContext.SpanID().String() != callerSpan || s.Links[0].SpanContext.TraceState().Len() != 0 {
				t.Errorf("links %+v, want the caller's span alone, without its tracestate", s.Links)
			}
			if s.SpanContext.TraceState().Len() != 0 {
				t.Errorf("the span carries the caller's tracestate %q", s.SpanContext.TraceState())
			}
		})
	}
}
