package export_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// benchEvents is the log size of the export benchmarks.
const benchEvents = 20000

// benchLog fills an org with benchEvents varied events (reads, lists with
// results, denials) and sequences them.
func benchLog(b testing.TB) (*pgtest.Env, uuid.UUID) {
	b.Helper()
	env := pgtest.New(b)
	ctx := context.Background()
	org, p := uuid.New(), uuid.New()
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'Bench')`, org); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`,
		org, p, uuid.New()); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1,
		p_action => case when i % 4 = 0 then 'patient.list' else 'patient.read' end,
		p_outcome => case when i % 10 = 0 then 'denied' else 'success' end, p_object_type => 'patient',
		p_object_id => $2, p_patient => $2,
		p_results => case when i % 4 = 0 then array[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()] else '{}' end,
		p_request => 'req-' || i, p_ip => '192.0.2.' || (i % 250), p_ua => 'Mozilla/5.0 (bench) ' || (i % 7),
		p_details => jsonb_build_object('i', i, 'route', 'GET /v1/patients/{id}'), p_actor => $3)
		from generate_series(1, $4) i`, org, p, uuid.New(), benchEvents); err != nil {
		b.Fatal(err)
	}
	for {
		var n int
		if err := env.Super.Pool.QueryRow(ctx, `select sequenced from audit.integrate($1)`, org).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	return env, org
}

// BenchmarkExport: each format's throughput over the whole log, beside
// the baseline of `COPY (the same rows) TO STDOUT` in PostgreSQL's text
// format, both into io.Discard over the same connection pool.
func BenchmarkExport(b *testing.B) {
	env, org := benchLog(b)
	ctx := context.Background()
	b.Run("baseline=copy-to-stdout", func(b *testing.B) {
		var n int64
		for b.Loop() {
			conn, err := env.Super.Pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			tag, err := conn.Conn().PgConn().CopyTo(ctx, countDiscard{&n}, `copy (select org_id, seq, at, action, outcome,
				actor_id, actor_kind, session_id, object_type, object_id, patient_id, result_ids, request_id, ip, user_agent,
				details, canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure,
				break_glass from audit.log where org_id = '`+org.String()+`' and seq between 1 and 4611686018427387904
				order by seq) to stdout`)
			conn.Release()
			if err != nil || tag.RowsAffected() != benchEvents {
				b.Fatalf("copy: %v (%d rows)", err, tag.RowsAffected())
			}
		}
		report(b, n)
	})
	for _, f := range export.Formats {
		b.Run("format="+string(f), func(b *testing.B) {
			var n int64
			for b.Loop() {
				sum, err := export.Write(ctx, export.Direct(env.Super.Pool), org, audit.Selection{}, f, export.Options{}, io.Discard)
				if err != nil || sum.Events != benchEvents {
					b.Fatalf("%v (%d events)", err, sum.Events)
				}
				n += sum.Bytes
			}
			report(b, n)
		})
	}
}

func report(b *testing.B, bytes int64) {
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(benchEvents)*float64(b.N)/sec, "events/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
	b.ReportMetric(float64(bytes)/float64(b.N)/benchEvents, "B/event")
}

type countDiscard struct{ n *int64 }

func (c countDiscard) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

// BenchmarkExportPages: the JSON Lines export at several page sizes (500
// is the default), over the same pool.
func BenchmarkExportPages(b *testing.B) {
	env, org := benchLog(b)
	ctx := context.Background()
	for _, rows := range []int64{100, 500, 2000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			export.SetPageSize(b, rows, 8192)
			var n int64
			for b.Loop() {
				sum, err := export.Write(ctx, export.Direct(env.Super.Pool), org, audit.Selection{}, export.JSONL, export.Options{}, io.Discard)
				if err != nil || sum.Events != benchEvents {
					b.Fatalf("%v (%d events)", err, sum.Events)
				}
				n += sum.Bytes
			}
			report(b, n)
		})
	}
}
