package sink

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkDeliver: webhook delivery of a 5,000-event log to a local TLS
// receiver (read, format as OCSF, sign, POST, advance the cursor), batches
// of 100 and 1,000, beside the baseline of POSTing bodies of the same
// size over the same client with no database and no formatting.
func BenchmarkDeliver(b *testing.B) {
	const events = 5000
	e := benchEnv(b)
	org := e.orgB(b, events)
	var received int64
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received += n
	}))
	b.Cleanup(recv.Close)
	client := recv.Client()
	for _, batch := range []int{100, 1000} {
		b.Run("webhook/batch="+strconv.Itoa(batch), func(b *testing.B) {
			received = 0
			for b.Loop() {
				e.sinkB(b, org, Webhook, recv.URL, newWebhookSecret(), "ocsf", batch)
				d := NewDeliverer(e.reader, e.inst, Config{Client: client, MaxBatchesPerPass: 1 << 20},
					slog.New(slog.NewTextHandler(io.Discard, nil)))
				if n, err := d.Once(context.Background()); err != nil || n != events {
					b.Fatalf("delivered %d: %v", n, err)
				}
				// Only the new sink is due next time.
				if _, err := e.Super.Pool.Exec(context.Background(), `update app.audit_sinks set enabled = false`); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(received)/b.Elapsed().Seconds()/1e6, "MB/s")
		})
		b.Run("baseline=post-only/batch="+strconv.Itoa(batch), func(b *testing.B) {
			// The same bytes per batch as the webhook run sent.
			body := bytes.Repeat([]byte("x"), int(1250*batch))
			for b.Loop() {
				for range events / batch {
					resp, err := client.Post(recv.URL, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
