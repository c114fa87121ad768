package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// Document retention over the API (docs/retention.md): members read the
// policy, only an admin who stepped up replaces it; the purge job, elected
// across nodes, deletes a document past its type's retention (its content
// gone: object removed, data key destroyed) and keeps one under a legal
// hold and one whose type has no policy.
func TestRetentionPurge(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Retention Clinic")
	w.populate(o, "rt")
	ctx := context.Background()

	var pol cases.RetentionPolicy
	w.do("GET", "/v1/org/retention-policy", o.PatUser.Token, nil, http.StatusOK, &pol)
	if pol.DocumentTypes == nil || len(pol.DocumentTypes) != 0 {
		t.Fatalf("a new org's policy: %+v", pol)
	}
	// An admin API key is no member's session: refused.
	if resp, b := w.request("GET", "/v1/org/retention-policy", w.createKey(o, auth.ScopeMembers).Key, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an API key read the policy: %d %s", resp.StatusCode, b)
	}
	body := map[string]any{"document_types": map[string]int{"wage_statement": 30}}
	w.do("PUT", "/v1/org/retention-policy", o.Lead.Token, body, http.StatusForbidden, nil)
	w.do("PUT", "/v1/org/retention-policy", o.Prov.Token, body, http.StatusForbidden, nil)
	for _, bad := range []any{
		map[string]any{"document_types": map[string]int{"wage_statement": 0}},
		map[string]any{"document_types": map[string]int{"wage_statement": 36501}},
		map[string]any{"document_types": map[string]any{"wage_statement": 1.5}},
		map[string]any{"document_types": map[string]int{"Wage Statement": 30}},
		map[string]any{},
	} {
		if resp, b := w.request("PUT", "/v1/org/retention-policy", o.Admin.Token, bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("policy %v: %d %s", bad, resp.StatusCode, b)
		}
	}
	w.do("PUT", "/v1/org/retention-policy", o.Admin.Token, body, http.StatusOK, &pol)
	// A type added waits 30 days (migration 00256): pending, none in force.
	if p := pol.Pending["wage_statement"]; len(pol.DocumentTypes) != 0 || len(pol.Pending) != 1 || p.RetainDays != 30 ||
		time.Until(p.EffectiveAt) < 29*24*time.Hour || time.Until(p.EffectiveAt) > 31*24*time.Hour {
		t.Fatalf("policy as set: %+v", pol)
	}
	w.retentionInForce(o.ID)
	pol = cases.RetentionPolicy{}
	w.do("GET", "/v1/org/retention-policy", o.Prov.Token, nil, http.StatusOK, &pol)
	if pol.DocumentTypes["wage_statement"] != 30 || len(pol.Pending) != 0 {
		t.Fatalf("policy as a provider reads it: %+v", pol)
	}
	if n := w.auditCount(o.ID, "org.retention_policy.update", "success"); n != 1 {
		t.Fatalf("%d policy events", n)
	}

	// Three documents, uploaded 40 days ago: a wage statement (purged), a
	// wage statement on a case under a legal hold (kept), a note, a type
	// with no policy (kept).
	newCase := func(title string) string {
		var k caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": title}, http.StatusCreated, &k)
		return k.ID.String()
	}
	upload := func(kase, typ string) docJSON {
		t.Helper()
		resp, b := w.upload("POST", "/v1/cases/"+kase+"/files", o.Lead.Token, "slip.pdf", []byte("%PDF-1.4 pay slip of March"),
			"Ward-Document-Type", typ)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		var d docJSON
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	free, held := newCase("Shoulder claim"), newCase("Knee claim")
	gone, kept, note := upload(free, "wage_statement"), upload(held, "wage_statement"), upload(free, "note")
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"case_id": held, "reason": "matter 21"}, http.StatusCreated, nil)
	for _, q := range []string{
		`update app.documents set created_at = now() - interval '40 days' where org_id = $1`,
		`update app.document_versions set created_at = now() - interval '40 days' where org_id = $1`,
	} {
		if _, err := w.env.Super.Pool.Exec(ctx, q, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	storageKey := func(doc uuid.UUID) string {
		t.Helper()
		var k string
		if err := w.env.Super.Pool.QueryRow(ctx, `select storage_key from app.document_versions where document_id = $1`, doc).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	goneKey := storageKey(gone.ID)

	beforePurge := time.Now().Add(-time.Second)
	// Two nodes' purgers: one holds the lease and purges; the other waits.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node := func() *cases.Purger {
		ops, err := postgres.OpenAs(ctx, w.env.SuperURL(), "ward_ops")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ops.Close)
		return cases.NewPurger(ops, w.blobs, log)
	}
	a, b := node(), node()
	t.Cleanup(a.Release)
	t.Cleanup(b.Release)
	type step struct {
		active bool
		n      int
		err    error
	}
	results := make(chan step, 2)
	for _, p := range []*cases.Purger{a, b} {
		go func() {
			active, n, err := p.Step(ctx)
			results <- step{active, n, err}
		}()
	}
	var actives, purged int
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.active {
			actives++
		}
		purged += r.n
	}
	if actives != 1 || purged != 1 || a.Active() == b.Active() {
		t.Fatalf("two purgers: %d active, %d purged", actives, purged)
	}

	// The purge's event names the admin who set the policy (actor_kind
	// system), but it is the job's deletion, not that admin's use of a
	// record: a breach scoped to the admin's account (a compromised admin)
	// lists the event in its timeline and counts no individual for it.
	var scope breachScopeJSON
	w.do("POST", "/v1/compliance/breach/scope", o.Admin.Token, map[string]any{"from": beforePurge,
		"to": time.Now().Add(time.Minute), "discovered": time.Now(), "actors": []uuid.UUID{o.Admin.ID}}, http.StatusOK, &scope)
	listed := false
	for _, e := range scope.Timeline {
		listed = listed || e.Action == "document.purge"
	}
	if !listed || len(scope.Individuals) != 0 {
		t.Fatalf("a breach scoped to the policy's admin: %+v", scope)
	}

	// The purged document is gone: no read, no download, no object, no key.
	w.do("GET", "/v1/documents/"+gone.ID.String(), o.Admin.Token, nil, http.StatusNotFound, nil)
	if resp, _, _ := w.download("/v1/documents/"+gone.ID.String()+"/content", o.Admin.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("download of a purged document: %d", resp.StatusCode)
	}
	if _, err := w.blobs.Size(ctx, goneKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("the purged document's object: %v", err)
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.document_versions where document_id = $1 and data_key is not null`,
		gone.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("the purged document's data keys: %d %v", live, err)
	}
	if n := w.auditCount(o.ID, "document.purge", "success"); n != 1 {
		t.Fatalf("%d document.purge events", n)
	}
	// The held one and the one without a policy are there, whole.
	for _, d := range []docJSON{kept, note} {
		resp, got, err := w.download("/v1/documents/"+d.ID.String()+"/content", o.Admin.Token)
		if err != nil || resp.StatusCode != http.StatusOK || string(got) != "%PDF-1.4 pay slip of March" {
			t.Fatalf("kept document %s: %d %v", d.ID, resp.StatusCode, err)
		}
	}

	// The active purger steps again (nothing left); when it lets go, the
	// other takes over at its next step.
	active, first := a, b
	if b.Active() {
		active, first = b, a
	}
	if ok, n, err := active.Step(ctx); !ok || n != 0 || err != nil {
		t.Fatalf("the active purger again: %v %d %v", ok, n, err)
	}
	if ok, _, err := first.Step(ctx); ok || err != nil {
		t.Fatalf("the waiting purger took the lease while it was held: %v %v", ok, err)
	}
	active.Release()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, _, err := first.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiting purger never took over")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// retentionInForce makes the org's pending retention changes take effect
// now, as their 30-day notice would (migration 00256): the superuser moves
// their effective time, which no caller can.
func (w *world) retentionInForce(org uuid.UUID) {
	w.t.Helper()
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.document_retention set effective_at = now()
	    where org_id = $1 and effective_at > now()`, org); err != nil {
		w.t.Fatal(err)
	}
}
