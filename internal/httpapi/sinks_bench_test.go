package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkAuditedReadWithSlowSink: the audited read (GET a patient, as
// its provider) while a SIEM deliverer streams the org's log to a webhook
// receiver that takes 200 ms per batch, beside the baseline of the same
// reads with no sink, in the same run. Reports the p50 and p99 latency of
// the reads: delivery runs on its own goroutine and connections, so the
// two should match. Figures in docs/benchmarks.md §8.
func BenchmarkAuditedReadWithSlowSink(b *testing.B) {
	w := newWorld(b, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Slow Sink")
	w.populate(o, "ss")
	var got atomic.Int64
	slow := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		time.Sleep(200 * time.Millisecond)
	}))
	b.Cleanup(slow.Close)
	read := func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			resp, _ := w.request("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil)
			lat = append(lat, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("read: %d", resp.StatusCode)
			}
		}
		reportP50(b, lat, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	// The integrator keeps sequencing in both runs, so the sink always has
	// work and the baseline pays for integration too.
	integrating := func() func() {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				_, _ = w.integrator.Once(ctx)
				time.Sleep(50 * time.Millisecond)
			}
		}()
		return func() { stop(); <-done }
	}
	b.Run("baseline=no-sink", func(b *testing.B) {
		defer integrating()()
		read(b)
	})
	b.Run("slow-webhook-sink", func(b *testing.B) {
		w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "webhook", "name": "slow",
			"endpoint": slow.URL, "batch_max": 10}, http.StatusCreated, nil)
		d := sink.NewDeliverer(w.env.Super, w.inst, sink.Config{Client: slow.Client(), Interval: 10 * time.Millisecond},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		stopIntegrating := integrating()
		read(b)
		stopIntegrating()
		stop()
		<-done
		if got.Load() == 0 {
			b.Fatal("the slow receiver got no batch: the comparison proves nothing")
		}
		b.ReportMetric(float64(got.Load()), "batches")
	})
}
