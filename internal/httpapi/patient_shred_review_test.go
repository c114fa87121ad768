package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/identity"
)

// shredWorld makes an org whose first patient has a case holding one
// uploaded document, for the shred's edge cases.
func shredWorld(t *testing.T, prefix string) (*world, *org, caseJSON, docJSON) {
	t.Helper()
	w := newWorld(t)
	o := w.createOrg("Shred Edge " + prefix)
	w.populate(o, prefix)
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Knee injury of " + prefix,
		"reference": "REF-" + prefix}, http.StatusCreated, &kase)
	resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "intake.txt",
		[]byte("intake form text"), "Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var doc docJSON
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return w, o, kase, doc
}

// waitForShredBlockedBy waits, for 30 s at most, until a statement calling
// app.patient_shred in the test's database is blocked by the backend pid
// (the transaction holding the write in flight): the observable state,
// not another wait of the shred's (on a lock of the server's own
// work), nor another database's backend.
func waitForShredBlockedBy(ctx context.Context, w *world, pid uint32) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
			 where datname = current_database() and $1 = any(pg_blocking_pids(pid))
			   and query like '%app.patient_shred(%' and query not like '%pg_stat_activity%'`, int32(pid)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the shred was not blocked by the write in flight within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPatientShredReopen: a shredded patient's case, closed by the shred,
// is not reopened, so nothing sealed under the org's keys (a new title, a
// reference, an upload) is linked to the patient again.
func TestPatientShredReopen(t *testing.T) {
	w, o, kase, _ := shredWorld(t, "sr")
	id := o.P1.String()
	w.do("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)

	path := "/v1/cases/" + kase.ID.String()
	for who, token := range map[string]string{"the lead": o.Lead.Token, "the admin": o.Admin.Token} {
		resp, body := w.request("PATCH", path, token, map[string]any{"status": "open", "title": "Knee injury of the patient again"})
		if resp.StatusCode != http.StatusGone || problemCode(t, body) != "patient_shredded" {
			t.Fatalf("%s reopens the shredded patient's case: %d %s", who, resp.StatusCode, body)
		}
		resp, body = w.request("PATCH", path, token, map[string]any{"status": "open"})
		if resp.StatusCode != http.StatusGone || problemCode(t, body) != "patient_shredded" {
			t.Fatalf("%s reopens the shredded patient's case (status alone): %d %s", who, resp.StatusCode, body)
		}
	}
	var status string
	var title []byte
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select status, title_enc from app.cases where id = $1`,
		kase.ID).Scan(&status, &title); err != nil {
		t.Fatal(err)
	}
	if status != "closed" || len(title) != 0 {
		t.Fatalf("the case after the refused reopen: %s, title %d bytes", status, len(title))
	}
	// The database refuses on its own, whoever asks.
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.cases set status = 'open', closed_at = null where id = $1`, kase.ID); err == nil {
		t.Fatal("the superuser reopened the shredded patient's case")
	}
}

// TestPatientShredInFlightWrite: a write to one of the patient's cases
// in flight when the shred starts (a new version of a document, a comment:
// app.case_closed's shared lock taken, not yet committed) is waited for
// and then destroyed with the rest, never left with its data key, file
// name or comment sealed under the org's keys.
func TestPatientShredInFlightWrite(t *testing.T) {
	w, o, kase, doc := shredWorld(t, "sf")
	ctx := context.Background()
	id := o.P1.String()

	// The write in flight, as the upload and comment routes' statements
	// leave it before their commit (the superuser's: ward_app writes
	// versions through the upload's own statements).
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var version, comment uuid.UUID
	if err := tx.QueryRow(ctx, `insert into app.document_versions (org_id, case_id, document_id, version,
		  storage_key, data_key, size, sha256, content_type, filename_enc, uploaded_by)
		select org_id, case_id, document_id, version + 1, 'orgs/' || org_id || '/obj/' || gen_random_uuid(),
		  data_key, size, sha256, content_type, filename_enc, uploaded_by
		  from app.document_versions where document_id = $1 order by version desc limit 1
		returning id`, doc.ID).Scan(&version); err != nil {
		t.Fatalf("version: %v", err)
	}
	if err := tx.QueryRow(ctx, `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
		select org_id, case_id, id, '\x0102'::bytea, created_by from app.documents where id = $1
		returning id`, doc.ID).Scan(&comment); err != nil {
		t.Fatalf("comment: %v", err)
	}
	ids := [2]uuid.UUID{version, comment}
	done := make(chan error, 1)
	// The in-flight write commits once the shred waits on a lock.
	waited := make(chan error, 1)
	pid := tx.Conn().PgConn().PID()
	go func() {
		defer func() { done <- tx.Commit(ctx) }()
		waited <- waitForShredBlockedBy(ctx, w, pid)
	}()
	w.do("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the write in flight: %v", err)
	}

	var dataKey, filename []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select data_key, filename_enc from app.document_versions where id = $1`,
		ids[0]).Scan(&dataKey, &filename); err != nil {
		t.Fatal(err)
	}
	var body []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select body_enc from app.document_comments where id = $1`, ids[1]).
		Scan(&body); err != nil {
		t.Fatal(err)
	}
	if dataKey != nil || len(filename) != 0 || len(body) != 0 {
		t.Fatalf("the write in flight outlived the shred: data key %d, file name %d, comment %d bytes",
			len(dataKey), len(filename), len(body))
	}
	var status string
	if err := w.env.Super.Pool.QueryRow(ctx, `select status from app.cases where id = $1`, kase.ID).Scan(&status); err != nil ||
		status != "closed" {
		t.Fatalf("the case: %q %v", status, err)
	}
}

// TestPatientShredFrozenWrites: after the shred nothing writes the
// patient's record back: an entry takes no change but the shred's own
// overwrite (whoever writes: ward_app holds UPDATE on its clear columns
// and note), and no care-team assignment or patient link names the
// patient again.
func TestPatientShredFrozenWrites(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shred Frozen Org")
	w.populate(o, "sz")
	ctx := context.Background()
	id := o.P1.String()
	var entry struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/patients/"+id+"/entries", o.Prov.Token, map[string]any{"kind": "biomarker", "name": "LDL",
		"value": 4.1, "unit": "mmol/L", "observed_at": time.Now().UTC().Format(time.RFC3339), "note": "after the fast"},
		http.StatusCreated, &entry)
	pat3 := w.addMember(o, "sz-pat3@example.test", identity.RolePatient)
	w.do("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)

	for _, stmt := range []string{
		`update app.clinical_entries set name = 'LDL', value = 4.1 where id = $1`,
		`update app.clinical_entries set note_enc = '\x0102' where id = $1`,
	} {
		_, err := w.env.Super.Pool.Exec(ctx, stmt, entry.ID)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55000" || pe.Hint != "patient_shredded" {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	// The shred's own overwrite, as the org's shred repeats it, stays.
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.clinical_entries e
		   set name = 'shredded', value = null, unit = null, kcal = null, protein_g = null, carbs_g = null,
		       fat_g = null, observed_at = e.created_at
		 where id = $1`, entry.ID); err != nil {
		t.Fatalf("the shred's overwrite again: %v", err)
	}
	var name string
	var value *float64
	if err := w.env.Super.Pool.QueryRow(ctx, `select name, value from app.clinical_entries where id = $1`, entry.ID).
		Scan(&name, &value); err != nil || name != "shredded" || value != nil {
		t.Fatalf("the entry reads %q %v (%v)", name, value, err)
	}

	for what, path := range map[string]string{
		"a care-team assignment": "/v1/patients/" + id + "/care-team/" + o.Prov2.ID.String(),
		"a patient link":         "/v1/patients/" + id + "/users/" + pat3.ID.String(),
	} {
		resp, body := w.request("PUT", path, o.Lead.Token, nil)
		if resp.StatusCode != http.StatusGone || problemCode(t, body) != "patient_shredded" {
			t.Errorf("%s after the shred: %d %s", what, resp.StatusCode, body)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(ctx, `select (select count(*) from app.care_team where patient_id = $1 and provider_id = $2)
		  + (select count(*) from app.patient_links where patient_id = $1 and user_id = $3)`,
		o.P1, o.Prov2.ID, pat3.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d new links to the shredded patient (%v)", n, err)
	}
}

// TestPatientShredNoHoldOrRequestAfter: after the shred no legal hold is
// placed on one of the patient's cases (it would claim to preserve what
// was destroyed) and no access or amendment request names the patient
// (the org could not answer it); an accounting of disclosures, which the
// kept audit log answers, still may be asked for.
func TestPatientShredNoHoldOrRequestAfter(t *testing.T) {
	w, o, kase, _ := shredWorld(t, "sh")
	id := o.P1.String()
	w.do("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)

	for what, req := range map[string]struct {
		path string
		body map[string]any
	}{
		"a hold on the patient's case": {"/v1/legal-holds", map[string]any{"case_id": kase.ID, "reason": "matter 12"}},
		"a hold on the patient":        {"/v1/legal-holds", map[string]any{"patient_id": o.P1, "reason": "matter 13"}},
		"an access request":            {"/v1/compliance/dsr", map[string]any{"kind": "access", "patient_id": o.P1}},
	} {
		resp, body := w.request("POST", req.path, o.Admin.Token, req.body)
		if resp.StatusCode != http.StatusGone || problemCode(t, body) != "patient_shredded" {
			t.Errorf("%s after the shred: %d %s", what, resp.StatusCode, body)
		}
	}
	w.do("POST", "/v1/compliance/dsr", o.Admin.Token, map[string]any{"kind": "accounting", "patient_id": o.P1},
		http.StatusCreated, nil)
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select (select count(*) from app.legal_holds where case_id = $1 or patient_id = $2)
		  + (select count(*) from app.dsr_requests where patient_id = $2 and kind = 'access')`, kase.ID, o.P1).
		Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d holds or access requests on the shredded patient (%v)", n, err)
	}
}

// TestPatientShredAmendmentsFrozen: a shredded patient's amendment
// requests take no change, so no statement of disagreement or rebuttal
// sealed under the org's keys (which the shred keeps) is written to them
// after the shred, even by a statement the API would not make.
func TestPatientShredAmendmentsFrozen(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shred Amendment Org")
	w.populate(o, "sa")
	ctx := context.Background()
	id := o.P1.String()
	var a struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/patients/"+id+"/amendments", o.PatUser.Token, map[string]any{"request": "My allergy list is wrong."},
		http.StatusCreated, &a)
	w.do("POST", "/v1/patients/"+id+"/amendments/"+a.ID.String()+"/decision", o.Admin.Token,
		map[string]any{"outcome": "denied", "basis": "accurate_and_complete", "statement": "The list is accurate."},
		http.StatusOK, nil)
	w.do("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)

	resp, body := w.request("POST", "/v1/patients/"+id+"/amendments/"+a.ID.String()+"/disagreement", o.PatUser.Token,
		map[string]any{"statement": "I still disagree."})
	if resp.StatusCode != http.StatusGone || problemCode(t, body) != "patient_shredded" {
		t.Fatalf("a disagreement through the API: %d %s", resp.StatusCode, body)
	}
	// The patient's own credential, writing the row directly.
	err := w.env.App.InTenantTx(ctx, w.cred(o.PatUser.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update app.record_amendments set disagreement_enc = '\x0102'
			where id = $1`, a.ID)
		return err
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "55000" || pe.Hint != "patient_shredded" {
		t.Fatalf("the patient's direct update of the shredded amendment: %v", err)
	}
	var disagreement []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select disagreement_enc from app.record_amendments where id = $1`, a.ID).
		Scan(&disagreement); err != nil || disagreement != nil {
		t.Fatalf("the amendment keeps a disagreement of %d bytes (%v)", len(disagreement), err)
	}
}

// TestPatientShredOtherRoutes reads a shredded patient through the routes
// beside /v1/patients/{id}: the LLM gateway's Ward-Patient header, the
// export (the patient's own, an admin's), the console's record page and
// record form. Each refuses, none reaches the upstream or shows a field.
func TestPatientShredOtherRoutes(t *testing.T) {
	g := newGW(t, withLocalhost())
	id := g.patient.String()
	var before struct {
		Name string `json:"name"`
	}
	g.do("GET", "/v1/patients/"+id, g.o.Lead.Token, nil, http.StatusOK, &before)
	if before.Name == "" {
		t.Fatal("the seeded patient has no name")
	}
	g.do("POST", "/v1/patients/"+id+"/shred", g.o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, nil)

	calls := len(g.up.calls())
	body := json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"Summarise the record."}]}`)
	resp, b := g.request("POST", "/llm/v1/messages", "", body, "x-api-key", g.key, "anthropic-version", "2023-06-01",
		"Ward-Patient", id)
	if resp.StatusCode != http.StatusGone || len(g.up.calls()) != calls {
		t.Fatalf("the gateway with the shredded patient: %d %s (%d upstream calls)", resp.StatusCode, b,
			len(g.up.calls())-calls)
	}
	resp, b = g.request("POST", "/v1/patients/"+id+"/export", g.o.Admin.Token,
		map[string]any{"passphrase": "a long export passphrase for the test"})
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("the admin's export: %d %s", resp.StatusCode, b)
	}
	session := g.consoleSignIn(g.o.Prov.Email) // on the patient's care team
	for _, path := range []string{"/patients/" + id, "/patients/" + id + "/edit"} {
		resp, page := g.consolePage("GET", path, session, nil)
		if resp.StatusCode != http.StatusGone || strings.Contains(page, before.Name) {
			t.Errorf("the console's %s: %d (shows the name: %v)", path, resp.StatusCode, strings.Contains(page, before.Name))
		}
	}
}

// TestPatientShredWaitsForALockedDocument: a new version whose upload has
// locked its document (cases' LockDocument, the row before app.case_closed's
// shared lock, as every update of a document takes them) when the shred
// starts is waited for, not deadlocked with: the shred takes the rows it
// changes before the cases' status locks, in the writers' order. The
// version then commits and is destroyed with the rest.
func TestPatientShredWaitsForALockedDocument(t *testing.T) {
	w, o, _, doc := shredWorld(t, "sd")
	ctx := context.Background()
	id := o.P1.String()

	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `select id from app.documents where id = $1 for no key update`, doc.ID); err != nil {
		t.Fatal(err)
	}
	type written struct {
		version uuid.UUID
		err     error
	}
	done := make(chan written, 1)
	pid := tx.Conn().PgConn().PID()
	go func() {
		var out written
		defer func() {
			if out.err != nil {
				// Release the document, so the shred does not wait on it
				// until the test's time-out.
				_ = tx.Rollback(ctx)
			}
			done <- out
		}()
		if out.err = waitForShredBlockedBy(ctx, w, pid); out.err != nil {
			return
		}
		if out.err = tx.QueryRow(ctx, `insert into app.document_versions (org_id, case_id, document_id, version,
			  storage_key, data_key, size, sha256, content_type, filename_enc, uploaded_by)
			select org_id, case_id, document_id, version + 1, 'orgs/' || org_id || '/obj/' || gen_random_uuid(),
			  data_key, size, sha256, content_type, filename_enc, uploaded_by
			  from app.document_versions where document_id = $1 order by version desc limit 1
			returning id`, doc.ID).Scan(&out.version); out.err != nil {
			return
		}
		out.err = tx.Commit(ctx)
	}()
	resp, body := w.request("POST", "/v1/patients/"+id+"/shred", o.Admin.Token, map[string]any{"confirm": id})
	got := <-done
	if resp.StatusCode != http.StatusOK || got.err != nil {
		t.Fatalf("the shred %d %s; the upload holding its document: %v", resp.StatusCode, body, got.err)
	}
	var dataKey, filename []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select data_key, filename_enc from app.document_versions where id = $1`,
		got.version).Scan(&dataKey, &filename); err != nil {
		t.Fatal(err)
	}
	if dataKey != nil || len(filename) != 0 {
		t.Fatalf("the version written while the shred waited keeps a data key of %d, a file name of %d bytes",
			len(dataKey), len(filename))
	}
}
