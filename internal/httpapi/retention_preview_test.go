package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
)

// The purge's dry run (GET /v1/org/retention-policy/preview,
// docs/retention.md): per type of the policy, the documents past
// retention, those a legal hold keeps, those a request keeps, and the ones
// the purge deletes, by id and oldest first; nothing is deleted, the read
// is audited as a list of the listed documents, only admins may run it,
// another org's documents are not counted, and the purge then deletes
// exactly the documents the preview listed.
func TestRetentionPreview(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Preview Clinic")
	w.populate(o, "rpv")
	other := w.createOrg("Preview Other Clinic")
	w.populate(other, "rpo")
	ctx := context.Background()

	policy := map[string]any{"document_types": map[string]int{"wage_statement": 30, "lab_report": 3650}}
	w.do("PUT", "/v1/org/retention-policy", o.Admin.Token, policy, http.StatusOK, nil)
	w.do("PUT", "/v1/org/retention-policy", other.Admin.Token, policy, http.StatusOK, nil)
	w.retentionInForce(o.ID)
	w.retentionInForce(other.ID)
	// Then lab_report is shortened to 10 days: pending for 30 days
	// (migration 00256), wage_statement unchanged.
	w.do("PUT", "/v1/org/retention-policy", o.Admin.Token,
		map[string]any{"document_types": map[string]int{"wage_statement": 30, "lab_report": 10}}, http.StatusOK, nil)

	newCase := func(o *org, title string) string {
		var k caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": title}, http.StatusCreated, &k)
		return k.ID.String()
	}
	upload := func(o *org, kase, typ string) uuid.UUID {
		t.Helper()
		resp, b := w.upload("POST", "/v1/cases/"+kase+"/files", o.Lead.Token, "slip.pdf", []byte("%PDF-1.4 a pay slip"),
			"Ward-Document-Type", typ)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		var d docJSON
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	age := func(doc uuid.UUID, days int) {
		t.Helper()
		for _, q := range []string{
			`update app.documents set created_at = now() - make_interval(days => $2) where id = $1`,
			`update app.document_versions set created_at = now() - make_interval(days => $2) where document_id = $1`,
		} {
			if _, err := w.env.Super.Pool.Exec(ctx, q, doc, days); err != nil {
				t.Fatal(err)
			}
		}
	}
	free, held := newCase(o, "Shoulder claim"), newCase(o, "Knee claim")
	var second caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P2, "title": "Hip claim"}, http.StatusCreated, &second)
	older, old := upload(o, free, "wage_statement"), upload(o, free, "wage_statement")
	age(older, 50)
	age(old, 40)
	onHold := upload(o, held, "wage_statement")
	age(onHold, 45)
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"case_id": held, "reason": "matter 7"}, http.StatusCreated, nil)
	// A request made 40 days ago, due in ten days: its request keeps it.
	var req docJSON
	w.do("POST", "/v1/cases/"+free+"/documents", o.Lead.Token,
		map[string]any{"type": "wage_statement", "due_at": time.Now().Add(10 * 24 * time.Hour)}, http.StatusCreated, &req)
	age(req.ID, 40)
	upload(o, free, "wage_statement") // within retention
	note := upload(o, free, "note")   // a type with no policy
	age(note, 400)
	// The second patient asked to see their record: an open access
	// request keeps their document past retention (00256).
	asked := upload(o, second.ID.String(), "wage_statement")
	age(asked, 45)
	w.do("POST", "/v1/compliance/dsr", o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, nil)
	// A lab report 20 days old: kept by the 3650 days in force, purged
	// once the pending 10 days apply.
	lab := upload(o, free, "lab_report")
	age(lab, 20)
	theirs := upload(other, newCase(other, "Their claim"), "wage_statement")
	age(theirs, 60)

	type preview struct {
		DocumentTypes []cases.PurgePreviewType `json:"document_types"`
	}
	var p preview
	w.do("GET", "/v1/org/retention-policy/preview", o.Admin.Token, nil, http.StatusOK, &p)
	if len(p.DocumentTypes) != 2 || p.DocumentTypes[0].DocType != "lab_report" || p.DocumentTypes[1].DocType != "wage_statement" {
		t.Fatalf("preview types: %+v", p.DocumentTypes)
	}
	if lab := p.DocumentTypes[0]; lab.RetainDays == nil || *lab.RetainDays != 3650 || lab.PastRetention != 0 || lab.Purge != 0 ||
		lab.OldestEnd != nil || lab.DocumentIDs == nil || len(lab.DocumentIDs) != 0 || lab.Pending == nil ||
		lab.Pending.RetainDays != 10 || lab.Pending.Purge != 1 || time.Until(lab.Pending.EffectiveAt) < 29*24*time.Hour {
		t.Errorf("lab_report: %+v (pending %+v)", lab, lab.Pending)
	}
	wage := p.DocumentTypes[1]
	if wage.RetainDays == nil || *wage.RetainDays != 30 || wage.PastRetention != 5 || wage.KeptByHold != 1 ||
		wage.KeptByRequest != 1 || wage.KeptByDSR != 1 || wage.Purge != 2 || wage.Pending != nil {
		t.Errorf("wage_statement counts: %+v", wage)
	}
	if !slices.Equal(wage.DocumentIDs, []uuid.UUID{older, old}) {
		t.Errorf("wage_statement ids %v, want the 50-day-old %s then the 40-day-old %s", wage.DocumentIDs, older, old)
	}
	if wage.OldestEnd == nil || time.Since(*wage.OldestEnd) < 19*24*time.Hour || time.Since(*wage.OldestEnd) > 21*24*time.Hour {
		t.Errorf("wage_statement oldest end %v, want 20 days ago", wage.OldestEnd)
	}

	// Nothing was deleted.
	var live int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.documents where org_id = $1 and deleted_at is null`,
		o.ID).Scan(&live); err != nil || live != 8 {
		t.Fatalf("%d live documents after the preview (%v), want 8", live, err)
	}
	if n := w.auditCount(o.ID, "document.purge", "success"); n != 0 {
		t.Fatalf("%d document.purge events after a preview", n)
	}
	// The read is audited as a list of the documents it named.
	var results []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select result_ids from audit.events
	    where org_id = $1 and action = 'document.list' and outcome = 'success' and details->>'retention_preview' = 'true'
	      and actor_id = $2`, o.ID, o.Admin.ID).Scan(&results); err != nil {
		t.Fatalf("the preview's audit event: %v", err)
	}
	if !slices.Equal(results, []uuid.UUID{older, old}) {
		t.Errorf("the preview's event lists %v", results)
	}

	// Only admins: a lead and a provider are refused, and the refusal is
	// audited.
	denied := w.auditCount(o.ID, "document.list", "denied")
	w.do("GET", "/v1/org/retention-policy/preview", o.Lead.Token, nil, http.StatusForbidden, nil)
	w.do("GET", "/v1/org/retention-policy/preview", o.Prov.Token, nil, http.StatusForbidden, nil)
	if n := w.auditCount(o.ID, "document.list", "denied"); n != denied+2 {
		t.Errorf("%d refused previews audited, want 2", n-denied)
	}

	// The purge deletes exactly what the preview listed.
	ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ops.Close)
	purger := cases.NewPurger(ops, w.blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := purger.Once(ctx); err != nil || n != 3 {
		t.Fatalf("purge: %d %v, want this org's two and the other org's one", n, err)
	}
	var gone []uuid.UUID
	if err := w.env.Super.Pool.QueryRow(ctx, `select coalesce(array_agg(id order by created_at), '{}') from app.documents
	    where org_id = $1 and deleted_at is not null`, o.ID).Scan(&gone); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gone, []uuid.UUID{older, old}) {
		t.Errorf("the purge deleted %v, the preview listed %v", gone, wage.DocumentIDs)
	}
	w.do("GET", "/v1/org/retention-policy/preview", o.Admin.Token, nil, http.StatusOK, &p)
	if wage := p.DocumentTypes[1]; wage.PastRetention != 3 || wage.KeptByDSR != 1 || wage.Purge != 0 || len(wage.DocumentIDs) != 0 || wage.OldestEnd != nil {
		t.Errorf("preview after the purge: %+v", wage)
	}
}
