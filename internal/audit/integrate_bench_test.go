package audit_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// BenchmarkIntegrate measures the integrator per event: batches of 500
// pending events (appended with the timer stopped) sequenced by one
// audit.integrate call, beside the append that queued them (the same events,
// autocommitted one by one) as its baseline. The integrator runs beside
// every audited access, so what it costs per event is taken from the load
// the nodes can serve.
func BenchmarkIntegrate(b *testing.B) {
	const batch = 500
	env := pgtest.New(b)
	ctx := context.Background()
	org, actor := uuid.New(), uuid.New()
	fill(b, env.Super, org, 1)
	appendN := func(b *testing.B) {
		b.Helper()
		for range batch {
			if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => 'audit.read',
				p_outcome => 'success', p_request => 'req-1', p_ip => '203.0.113.7',
				p_ua => 'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0', p_actor => $2)`, org, actor); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline=append", func(b *testing.B) {
		for b.Loop() {
			appendN(b)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/event")
		b.StopTimer()
		integrate(b, env.Super, org) // the next run starts from an empty queue
	})
	b.Run("integrate", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			appendN(b)
			b.StartTimer()
			var n int
			if err := env.Super.Pool.QueryRow(ctx, `select sequenced from audit.integrate($1, $2)`, org, batch).Scan(&n); err != nil || n != batch {
				b.Fatalf("integrate: %d sequenced, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/event")
	})
}
