package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestServeExportsSpans: `ward serve --otlp-endpoint` sends each request's
// span over OTLP/HTTP (the protobuf a collector receives) under the
// service name ward, named for the route pattern, and flushes what it
// batched when it shuts down.
func TestServeExportsSpans(t *testing.T) {
	var mu sync.Mutex
	var names []string
	var services []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, err := io.ReadAll(body)
		var req collectortrace.ExportTraceServiceRequest
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(raw, &req) != nil {
			http.Error(w, "not an OTLP traces request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					services = append(services, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(collector.Close)

	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServeWith(t, dir, noEnv, "--otlp-endpoint", collector.URL+"/v1/traces")
	s.call("GET", "/healthz", "", nil, http.StatusOK, nil)
	s.call("GET", "/v1/me", "", nil, http.StatusUnauthorized, nil)
	s.stop()

	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(names, "GET /healthz") || !slices.Contains(names, "GET /v1/me") {
		t.Errorf("the collector received spans %q, want GET /healthz and GET /v1/me", names)
	}
	if len(services) == 0 || slices.ContainsFunc(services, func(s string) bool { return s != "ward" }) {
		t.Errorf("service names %q, want ward", services)
	}
}
