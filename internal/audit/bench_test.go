package audit_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// benchLog appends n events shaped like the server's (reads with a patient,
// lists with result ids and counts, denials with a reason) and returns the
// rows and the head.
func benchLog(b *testing.B, db *postgres.DB, org uuid.UUID, n int) ([]audit.Row, *audit.HeadRow) {
	b.Helper()
	ctx := context.Background()
	// audit.append_as refuses a success naming a patient the org lacks.
	if _, err := db.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'bench') on conflict do nothing`, org); err != nil {
		b.Fatalf("org: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset)
		select $1, gen_random_uuid(), '\x00', $2, '\x00' from generate_series(1, 100)`, org, uuid.New()); err != nil {
		b.Fatalf("patients: %v", err)
	}
	_, err := db.Pool.Exec(ctx, `select case i % 10
		when 0 then audit.append_as(p_org => $1, p_action => 'patient.list', p_outcome => 'success',
			p_object_type => 'patient', p_results => array(select gen_random_uuid() from generate_series(1, 10)),
			p_request => 'req-' || i, p_ip => '203.0.113.' || (i % 250), p_ua => 'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0',
			p_details => jsonb_build_object('count', 10, 'by_mrn', false, 'by_email', false), p_actor => $2)
		when 1 then audit.append_as(p_org => $1, p_action => 'patient.read', p_outcome => 'denied',
			p_object_type => 'patient', p_object_id => gen_random_uuid(), p_request => 'req-' || i,
			p_ip => '203.0.113.' || (i % 250), p_ua => 'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0',
			p_details => '{"reason": "not_found"}', p_actor => $2)
		else audit.append_as(p_org => $1, p_action => 'patient.read', p_outcome => 'success',
			p_object_type => 'patient', p_object_id => p, p_patient => p, p_request => 'req-' || i,
			p_ip => '203.0.113.' || (i % 250), p_ua => 'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0', p_actor => $2)
		end
		from generate_series(1, $3) i,
		  lateral (select id p from app.patients where org_id = $1 order by id offset i % 100 limit 1) x`, org, uuid.New(), n)
	if err != nil {
		b.Fatalf("fill: %v", err)
	}
	integrate(b, db, org)
	rows, err := audit.ReadRows(ctx, db.Pool, org)
	if err != nil {
		b.Fatal(err)
	}
	var h audit.HeadRow
	if err := db.Pool.QueryRow(ctx, `select origin, tree_size, chain_hash, frontier, root_hash from audit.heads where org_id = $1`,
		org).Scan(&h.Origin, &h.Size, &h.Chain, &h.Frontier, &h.Root); err != nil {
		b.Fatal(err)
	}
	return rows, &h
}

// BenchmarkVerify measures verification per event, Go side from rows in
// memory, beside a raw SHA-256 of the same canonical bytes; and the whole
// Verify including the database read. Report events/s per core (the
// benchmark is single-goroutine).
func BenchmarkVerify(b *testing.B) {
	env := pgtest.New(b)
	org := uuid.New()
	const n = 20000
	rows, head := benchLog(b, env.Super, org, n)
	var size int
	for _, r := range rows {
		size += len(r.Canonical)
	}
	b.Logf("%d events, mean canonical %d bytes", n, size/n)
	// The machine is shared: besides wall-clock events/s, report events per
	// second of this process's CPU time (user+system, all threads, so GC is
	// included), which is what "per core" means and what other tenants'
	// load does not distort.
	var cpu0 time.Duration
	start := func(b *testing.B) { b.Helper(); cpu0 = processCPU(b) }
	perEvent := func(b *testing.B) {
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		b.ReportMetric(float64(b.N*n)/(processCPU(b)-cpu0).Seconds(), "events/cpu-s")
		b.SetBytes(int64(size))
	}

	b.Run("verifier", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		for b.Loop() {
			v := audit.NewVerifier(org, audit.VerifyOptions{})
			for i := range rows {
				if err := v.Add(&rows[i]); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := v.Finish(head); err != nil {
				b.Fatal(err)
			}
		}
		perEvent(b)
	})
	b.Run("baseline-sha256", func(b *testing.B) {
		var sink [32]byte
		start(b)
		for b.Loop() {
			for i := range rows {
				sink = sha256.Sum256(rows[i].Canonical)
			}
		}
		_ = sink
		perEvent(b)
	})
	b.Run("canonical-only", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		for b.Loop() {
			for i := range rows {
				if _, err := audit.Canonical(rows[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		perEvent(b)
	})
	b.Run("canonical-reused-buffer", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		start(b)
		for b.Loop() {
			for i := range rows {
				var err error
				if buf, err = audit.AppendCanonical(buf[:0], &rows[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		perEvent(b)
	})
	b.Run("hashes-only", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		for b.Loop() {
			chain := audit.ChainSeed(audit.Origin(org))
			tree := audit.NewTree()
			for i := range rows {
				leaf := audit.LeafHash(rows[i].Canonical)
				chain = audit.ChainNext(chain, leaf)
				tree.Append(leaf)
			}
			_ = tree.Root()
		}
		perEvent(b)
	})
	b.Run("from-database", func(b *testing.B) {
		ctx := context.Background()
		start(b)
		for b.Loop() {
			if _, err := audit.Verify(ctx, env.Super.Pool, org, audit.VerifyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		perEvent(b)
	})
}

// BenchmarkAppend measures one autocommitted audit.append beside a plain
// INSERT of the same row (precomputed hashes) into an untriggered copy of
// the table: the cost of canonicalising, hashing and the head row lock.
func BenchmarkAppend(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	org, actor := uuid.New(), uuid.New()
	rows, _ := benchLog(b, env.Super, org, 1)
	r := rows[0]
	var patient uuid.UUID
	if err := env.Super.Pool.QueryRow(ctx, `select id from app.patients where org_id = $1 limit 1`, org).Scan(&patient); err != nil {
		b.Fatal(err)
	}
	b.Run("audit.append", func(b *testing.B) {
		for b.Loop() {
			if _, err := env.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => 'patient.read',
				p_outcome => 'success', p_object_type => 'patient', p_object_id => $3, p_patient => $3,
				p_request => 'req-1', p_ip => '203.0.113.7', p_ua => 'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0',
				p_actor => $2)`, org, actor, patient); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("baseline-insert", func(b *testing.B) {
		if _, err := env.Super.Pool.Exec(ctx, `create table if not exists public.plain_events (like audit.events including all)`); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := env.Super.Pool.Exec(ctx, `insert into public.plain_events (org_id, at, action, outcome,
				actor_id, actor_kind, object_type, object_id, patient_id, request_id, ip, user_agent, canonical, leaf_hash)
				values ($1, now(), 'patient.read', 'success', $2, 'system', 'patient', $3, $3, 'req-1', '203.0.113.7',
				'Mozilla/5.0 (X11; Linux x86_64) Ward/1.0', $4, $5)`,
				org, actor, uuid.New(), r.Canonical, r.LeafHash); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
}

// processCPU returns the user+system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoneEvent writes one credential-bound ai.invoke event (the
// gateway's details) in a transaction of its own, as the gateway does after
// each call: InTenantTx around Record (begin and bind, audit.append,
// commit: three round trips) and RecordAlone (the same in one pipelined
// round trip), beside the same transaction with `select 1` in place of the
// append. The session is an admin's, DPoP-bound, so audit.append resolves
// it through the principal cache as a request would.
func BenchmarkLoneEvent(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	f := newFixture(b, env)
	e := audit.Event{Org: f.org, Action: "ai.invoke", Outcome: audit.OutcomeSuccess, Request: "req-3f2a9c1e",
		IP: "203.0.113.7", UserAgent: "Anthropic/Go 2.15.0",
		Details: map[string]any{"endpoint": "messages", "model": "claude-sonnet-4-5", "stream": false, "latency_ms": 3,
			"provider": "anthropic", "phi": map[string]any{"PERSON": 3, "DATE": 2, "MRN": 1, "PHONE": 1},
			"upstream_status": 200, "input_tokens": 2500, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
			"output_tokens": 120, "unknown_placeholders": 0}}
	b.Run("baseline-select-1", func(b *testing.B) {
		medianLoop(b, func() error {
			return env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `select 1`)
				return err
			})
		})
	})
	b.Run("tx-record", func(b *testing.B) {
		medianLoop(b, func() error {
			return env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
				_, err := audit.Record(ctx, tx, e)
				return err
			})
		})
	})
	b.Run("record-alone", func(b *testing.B) {
		medianLoop(b, func() error { return audit.RecordAlone(ctx, env.App, f.adminCred, e) })
	})
}

// medianLoop runs fn b.N times and reports its median latency beside the
// mean: on a shared machine the median moves less with other jobs.
func medianLoop(b *testing.B, fn func() error) {
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs")
}
