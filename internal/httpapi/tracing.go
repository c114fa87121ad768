package httpapi

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName is the instrumentation scope of Ward's spans.
const tracerName = "github.com/wardhq/ward/internal/httpapi"

// traceContext reads a caller's W3C traceparent. Ward's span does not
// continue it: it starts a trace of Ward's own, linked to the caller's
// span (startSpan). Nothing is propagated onwards: Ward's outbound calls
// (an LLM upstream, an identity provider, a SIEM) are other parties, who
// learn no trace id of Ward's.
var traceContext = propagation.TraceContext{}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// startSpan starts a request's server span, named for its surface and
// method until the route is known. Its attributes are what the access log
// line holds, and no more: the method, later the route pattern and the
// status, the request id. Never the URL (a path names records, a query
// may hold a token), an address, a user agent or a header.
//
// A caller's traceparent does not make the span its child: whether a
// request is sampled is Ward's decision, its tracer provider's sampler's
// (OTEL_TRACES_SAMPLER), not whoever sends the request, who could
// otherwise force every request's span onto the collector (-01) or keep
// its requests out of it (-00). The span is a new root, with a trace id
// of Ward's, and links the caller's span (trace and span id, for
// correlation; not its tracestate, the caller's text). The root matters
// beside the flag: a ratio sampler (traceidratio) decides on the trace
// id, which a continued trace would take from the caller, so a caller
// choosing a low trace id would be sampled at any ratio. This is what
// OpenTelemetry's instrumentation does for a public endpoint (otelhttp's
// WithPublicEndpoint); the sign-in that could tell a trusted caller from
// another comes after the span starts.
func (sf *surface) startSpan(ctx context.Context, r *http.Request, id string) (context.Context, trace.Span) {
	method := spanMethod(r.Method)
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", method),
			attribute.String("ward.surface", sf.name), attribute.String("ward.request_id", id))}
	caller := trace.SpanContextFromContext(traceContext.Extract(context.Background(), propagation.HeaderCarrier(r.Header)))
	if caller.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: caller.WithTraceState(trace.TraceState{})}))
	}
	return sf.s.tracer.Start(ctx, method, opts...)
}

// endSpan names the span for its route (the pattern, as in the access
// log), records the status and ends it.
func endSpan(span trace.Span, r *http.Request, status int) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if r.Pattern != "" {
		route := r.Pattern
		if _, path, ok := strings.Cut(route, " "); ok {
			route = path
		}
		span.SetName(spanMethod(r.Method) + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// spanMethod is the request's method when it is a standard one, else
// "_OTHER" (OpenTelemetry's semantic conventions): a client's made-up
// method names no span.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
