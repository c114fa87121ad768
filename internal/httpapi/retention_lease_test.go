package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
)

// The purge's lease does not keep one of the ops pool's connections: with
// a pool of one (--ops-url '…?pool_max_conns=1'), the active purger still
// purges (its transactions need a connection of the pool) and another job
// on the same pool still runs while it holds the lease; once it lets go,
// another purger takes the lease.
func TestRetentionPurgeLeasePoolOfOne(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Lease Clinic")
	w.populate(o, "rtl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.do("PUT", "/v1/org/retention-policy", o.Admin.Token,
		map[string]any{"document_types": map[string]int{"wage_statement": 30}}, http.StatusOK, nil)
	w.retentionInForce(o.ID)
	var k caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Elbow claim"}, http.StatusCreated, &k)
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.documents (org_id, case_id, doc_type, created_by, created_at)
	    values ($1, $2, 'wage_statement', $3, now() - interval '40 days')`, o.ID, k.ID, o.Lead.ID); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops", postgres.MaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	p := cases.NewPurger(ops, w.blobs, log)
	t.Cleanup(p.Release)
	if active, n, err := p.Step(ctx); !active || n != 1 || err != nil {
		t.Fatalf("the purger on a pool of one: active %v, %d purged, %v", active, n, err)
	}
	// Another job on the same pool, while the purger holds the lease.
	jobs := cases.NewJobs(ops, nil, w.blobs, nil, "https://ward.example", log)
	if _, err := jobs.RecordExpiries(ctx); err != nil {
		t.Fatalf("another job on the pool of one while the purger is active: %v", err)
	}
	if active, _, err := p.Step(ctx); !active || err != nil {
		t.Fatalf("the purger's next step: active %v, %v", active, err)
	}
	// The lease is still held (another purger, on a pool of its own, waits),
	// and released with the purger's connection.
	ops2, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops", postgres.MaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops2.Close)
	q := cases.NewPurger(ops2, w.blobs, log)
	t.Cleanup(q.Release)
	if active, _, err := q.Step(ctx); active || err != nil {
		t.Fatalf("a second purger while the first holds the lease: active %v, %v", active, err)
	}
	p.Release()
	if active, _, err := q.Step(ctx); !active || err != nil {
		t.Fatalf("the second purger once the first let go: active %v, %v", active, err)
	}
	if _, err := jobs.RecordExpiries(ctx); err != nil {
		t.Fatalf("the pool after the lease went: %v", err)
	}
}
