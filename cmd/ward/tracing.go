package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// startTracing sends each request's span (internal/httpapi, tracing.go)
// to an OpenTelemetry collector over OTLP/HTTP at endpoint, e.g.
// https://otel.example.org:4318/v1/traces. The exporter reads the
// standard OTEL_EXPORTER_OTLP_* variables for what the flag does not say
// (headers, a CA file, a client certificate, compression), and the SDK
// OTEL_TRACES_SAMPLER (default: every request). The sampler decides for
// every request, on a trace id of Ward's: a caller's traceparent is
// linked, not a parent (httpapi's startSpan), so a caller neither forces
// nor suppresses sampling. A plain http:// endpoint is refused unless it is on this host
// (a collector beside the server): spans hold no PHI, but routes, timings
// and request ids are the instance's business (checkOTLPEndpoint, which
// serve's flag checks have run). The returned stop flushes what is
// batched.
func startTracing(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, func(), error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "ward"), attribute.String("service.version", version()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(sctx)
	}
	return tp, stop, nil
}

// checkOTLPEndpoint refuses what --otlp-endpoint may not be (empty: off).
func checkOTLPEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
		return errors.New("--otlp-endpoint: give an https:// URL of an OTLP/HTTP traces endpoint, e.g. https://collector:4318/v1/traces")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("--otlp-endpoint: plain http is allowed only to a collector on this host (localhost, 127.0.0.1, ::1), not %q", host)
		}
	}
	return nil
}
