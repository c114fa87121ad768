package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
)

// Purger.Once clamps its batch as the database does (1..1000): with a
// Batch above 1000, a full batch of 1000 is not taken for a short one (the
// last), and one pass purges all 1,005 documents past retention in two
// batches.
func TestRetentionPurgeBatchClamped(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Batch Clinic")
	w.populate(o, "rtb")
	ctx := context.Background()
	w.do("PUT", "/v1/org/retention-policy", o.Admin.Token,
		map[string]any{"document_types": map[string]int{"wage_statement": 30}}, http.StatusOK, nil)
	w.retentionInForce(o.ID)
	var k caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Wrist claim"}, http.StatusCreated, &k)
	// 1,005 requests for a wage statement, made 40 days ago, nothing
	// uploaded, no due date.
	if _, err := w.env.Super.Pool.Exec(ctx, `insert into app.documents (org_id, case_id, doc_type, created_by, created_at)
	    select $1, $2, 'wage_statement', $3, now() - interval '40 days' from generate_series(1, 1005)`,
		o.ID, k.ID, o.Lead.ID); err != nil {
		t.Fatal(err)
	}
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	p := cases.NewPurger(ops, w.blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.Batch, p.Batches = 5000, 50
	if n, err := p.Once(ctx); err != nil || n != 1005 {
		t.Fatalf("one pass with Batch 5000: %d purged (%v), want all 1005", n, err)
	}
	if n := w.auditCount(o.ID, "document.purge", "success"); n != 1005 {
		t.Fatalf("%d document.purge events", n)
	}
}
