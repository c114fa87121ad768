package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestPatientShred crypto-shreds one patient (migration 00275): the
// refusals (role, step-up, confirmation, another org, an open request, a
// legal hold), what the shred destroys and counts, every read and write
// after it, the row as the superuser sees it, and the ciphertext kept from
// before opening only under the destroyed keyset, never the org's keys.
func TestPatientShred(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shred Patient Org")
	w.populate(o, "sp")
	other := w.createOrg("Shred Other Org")
	w.populate(other, "so")
	ctx := context.Background()
	p1 := "/v1/patients/" + o.P1.String()
	shred := func(token, id, confirm string) (*http.Response, []byte) {
		return w.request("POST", "/v1/patients/"+id+"/shred", token, map[string]any{"confirm": confirm})
	}
	wantRefusal := func(what string, status int, code string, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != status || problemCode(t, body) != code {
			t.Fatalf("%s: %d %s (want %d %s)", what, resp.StatusCode, body, status, code)
		}
	}

	// The record: an entry with a note, an amendment request, a case with
	// a reference, a document with a comment.
	var entry struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "biomarker", "name": "HbA1c", "value": 9.7,
		"unit": "%", "observed_at": time.Now().UTC().Format(time.RFC3339), "note": "fasting sample, Tuesday clinic"},
		http.StatusCreated, &entry)
	var amendment struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "My birth date is wrong."},
		http.StatusCreated, &amendment)
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Shoulder strain at the depot",
		"reference": "WC-SP-1"}, http.StatusCreated, &kase)
	resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "claim-form.txt",
		[]byte("claim form text"), "Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var doc docJSON
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	w.do("POST", "/v1/documents/"+doc.ID.String()+"/comments", o.Lead.Token, map[string]any{"body": "Signed by the claimant."},
		http.StatusCreated, nil)
	invite, _ := w.inviteOutbox(o.Lead.Token, kase.ID.String(), "adjuster@payer-sp.test", "payer", []string{"view"},
		time.Now().Add(30*24*time.Hour))

	// What the superuser sees before: the keyset and a ciphertext.
	var keyset, nameBefore, noteBefore []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset, name_enc from app.patients where id = $1`, o.P1).
		Scan(&keyset, &nameBefore); err != nil || len(keyset) == 0 {
		t.Fatalf("the patient has no keyset (%v)", err)
	}
	if err := w.env.Super.Pool.QueryRow(ctx, `select note_enc from app.clinical_entries where id = $1`, entry.ID).
		Scan(&noteBefore); err != nil {
		t.Fatal(err)
	}

	// Refusals, each changing nothing.
	id := o.P1.String()
	for who, token := range map[string]string{"a lead": o.Lead.Token, "a provider": o.Prov.Token, "the patient": o.PatUser.Token} {
		resp, body := shred(token, id, id)
		wantRefusal(who, http.StatusForbidden, "forbidden", resp, body)
	}
	resp, body = shred(o.Admin.Token, id, o.P2.String())
	wantRefusal("another id confirmed", http.StatusBadRequest, "confirm_mismatch", resp, body)
	resp, body = shred(other.Admin.Token, id, id)
	wantRefusal("another org's admin", http.StatusNotFound, "not_found", resp, body)
	resp, body = shred(o.Admin.Token, id, id)
	wantRefusal("an open amendment request", http.StatusConflict, "conflict", resp, body)
	w.do("POST", p1+"/amendments/"+amendment.ID.String()+"/decision", o.Admin.Token,
		map[string]any{"outcome": "accepted", "statement": "Corrected."}, http.StatusOK, nil)
	var hold struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/legal-holds", o.Admin.Token, map[string]any{"case_id": kase.ID, "reason": "matter 9"},
		http.StatusCreated, &hold)
	resp, body = shred(o.Admin.Token, id, id)
	wantRefusal("a legal hold on the patient's case", http.StatusConflict, "conflict", resp, body)
	w.do("POST", "/v1/legal-holds/"+hold.ID.String()+"/release", o.Admin.Token, map[string]any{"note": "settled"},
		http.StatusNoContent, nil)
	stale := w.operatorSignIn(o.Admin.Email, o.ID)
	w.age(stale, 11*time.Minute)
	resp, body = shred(stale, id, id)
	wantRefusal("an admin who did not step up", http.StatusForbidden, "step_up_required", resp, body)
	// The database refuses on its own, as a server bug past the route would
	// call it: a lead is refused, whatever the route checked.
	err := w.env.App.InTenantTx(ctx, w.cred(o.Lead.Token), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select * from app.patient_shred($1)`, o.P1)
		return err
	})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("a lead's direct call: %v", err)
	}
	w.do("GET", p1, o.Lead.Token, nil, http.StatusOK, nil) // still whole
	if n := w.auditCount(o.ID, "patient.shred", "denied"); n < 5 {
		t.Errorf("%d denied shreds audited, want at least 5", n)
	}

	// A CCPA deletion request about the patient, which the shred fulfils.
	var ccpa struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/compliance/dsr", o.Admin.Token, map[string]any{"kind": "ccpa_delete", "patient_id": o.P1},
		http.StatusCreated, &ccpa)

	// The shred.
	var got struct {
		Entries, Amendments, Cases, Documents, Comments int
		DataKeys                                        int `json:"data_keys"`
	}
	w.do("POST", p1+"/shred", o.Admin.Token, map[string]any{"confirm": id}, http.StatusOK, &got)
	if got.Entries != 1 || got.Amendments != 1 || got.Cases != 1 || got.Documents != 1 || got.DataKeys != 1 || got.Comments != 1 {
		t.Fatalf("shredded %+v", got)
	}
	if n := w.auditCount(o.ID, "patient.shred", "success"); n != 1 {
		t.Fatalf("%d patient.shred events", n)
	}
	var closed struct {
		Status string `json:"status"`
	}
	w.do("GET", "/v1/compliance/dsr/"+ccpa.ID.String(), o.Admin.Token, nil, http.StatusOK, &closed)
	var closes int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'dsr.close'
		and outcome = 'success' and object_id = $2 and details->>'by' = 'patient.shred'`, o.ID, ccpa.ID).Scan(&closes); err != nil ||
		closed.Status != "fulfilled" || closes != 1 {
		t.Fatalf("the CCPA deletion request after the shred: %q, %d dsr.close events (%v)", closed.Status, closes, err)
	}

	// Every read and write of the record is 410; the list and the search
	// leave it out; the other patient and the other org are whole.
	for _, path := range []string{p1, p1 + "/entries", p1 + "/amendments"} {
		resp, body := w.request("GET", path, o.Lead.Token, nil)
		wantRefusal("GET "+path, http.StatusGone, "patient_shredded", resp, body)
	}
	resp, body = w.request("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "food", "name": "Toast",
		"observed_at": time.Now().UTC().Format(time.RFC3339)})
	wantRefusal("a new entry", http.StatusGone, "patient_shredded", resp, body)
	resp, body = w.request("PATCH", p1, o.Lead.Token, map[string]any{"phone": "555-0100"})
	wantRefusal("an update", http.StatusGone, "patient_shredded", resp, body)
	resp, body = w.request("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Again"})
	wantRefusal("a new case", http.StatusGone, "patient_shredded", resp, body)
	resp, body = shred(o.Admin.Token, id, id)
	wantRefusal("a second shred", http.StatusGone, "patient_shredded", resp, body)
	var list struct {
		Patients []struct {
			ID uuid.UUID `json:"id"`
		} `json:"patients"`
	}
	w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, &list)
	if len(list.Patients) != 1 || list.Patients[0].ID != o.P2 {
		t.Fatalf("the list after the shred: %+v", list.Patients)
	}
	w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]any{"mrn": "sp-MRN-1"}, http.StatusOK, &list)
	if len(list.Patients) != 0 {
		t.Fatalf("the MRN still finds %+v", list.Patients)
	}
	var p2 struct {
		Name string `json:"name"`
	}
	w.do("GET", "/v1/patients/"+o.P2.String(), o.Lead.Token, nil, http.StatusOK, &p2)
	if p2.Name != "sp Patient Two" {
		t.Fatalf("the other patient reads %q", p2.Name)
	}
	w.do("GET", "/v1/patients/"+other.P1.String(), other.Lead.Token, nil, http.StatusOK, nil)
	var c caseJSON
	w.do("GET", "/v1/cases/"+kase.ID.String(), o.Lead.Token, nil, http.StatusOK, &c)
	if c.Status != "closed" || c.Title != "" || c.Reference != "" {
		t.Fatalf("the case after the shred: %+v", c)
	}
	if resp, _, _ := w.download("/v1/documents/"+doc.ID.String()+"/content", o.Lead.Token); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the document after the shred: %d", resp.StatusCode)
	}

	// The row as the superuser sees it, and what the triggers refuse.
	var left struct {
		keyset, name, mrn []byte
		dob               []byte
		shredded          *time.Time
	}
	if err := w.env.Super.Pool.QueryRow(ctx, `select keyset, name_enc, mrn_bidx, dob_enc, shredded_at from app.patients where id = $1`,
		o.P1).Scan(&left.keyset, &left.name, &left.mrn, &left.dob, &left.shredded); err != nil {
		t.Fatal(err)
	}
	if left.keyset != nil || len(left.name) != 0 || left.mrn != nil || left.dob != nil || left.shredded == nil {
		t.Fatalf("the shredded row keeps keyset %d, name %d, mrn %d, dob %d bytes (shredded %v)",
			len(left.keyset), len(left.name), len(left.mrn), len(left.dob), left.shredded)
	}
	var entryName string
	var value *float64
	if err := w.env.Super.Pool.QueryRow(ctx, `select name, value from app.clinical_entries where id = $1`, entry.ID).
		Scan(&entryName, &value); err != nil || entryName != "shredded" || value != nil {
		t.Fatalf("the entry keeps %q %v (%v)", entryName, value, err)
	}
	for _, stmt := range []string{
		`update app.patients set name_enc = '\x01' where id = $1`,
		`insert into app.clinical_entries (org_id, patient_id, kind, name, observed_at, created_by)
		   select org_id, id, 'food', 'x', now(), created_by from app.patients where id = $1`,
	} {
		_, err := w.env.Super.Pool.Exec(ctx, stmt, o.P1)
		if !errors.As(err, &pe) || pe.Code != "55000" || pe.Hint != "patient_shredded" {
			t.Errorf("%s: %v", stmt, err)
		}
	}

	// The released hold's texts (sealed under the org's keys, which stay)
	// are overwritten, and the case's pending invitation is revoked.
	var reason, note *string
	var reasonEnc, noteEnc []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select reason, reason_enc, release_note, release_note_enc
		from app.legal_holds where id = $1`, hold.ID).Scan(&reason, &reasonEnc, &note, &noteEnc); err != nil ||
		reason == nil || *reason != "shredded" || note == nil || *note != "shredded" || reasonEnc != nil || noteEnc != nil {
		t.Errorf("the released hold keeps reason %v (%d sealed bytes), note %v (%d sealed bytes) (%v)",
			reason, len(reasonEnc), note, len(noteEnc), err)
	}
	var revoked *time.Time
	if err := w.env.Super.Pool.QueryRow(ctx, `select revoked_at from app.case_invites where id = $1`, invite).
		Scan(&revoked); err != nil || revoked == nil {
		t.Errorf("the case's pending invitation was not revoked (%v)", err)
	}

	// The crypto: the ciphertexts kept from before open under the keyset
	// that was destroyed, and never under the org's own keys.
	var org *envelope.OrgKeys
	if err := w.env.App.InTenantTx(ctx, w.cred(o.Admin.Token), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		org, err = w.keys.Org(ctx, tx, o.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nameAD := envelope.AD{Table: "patients", Column: "name", Org: o.ID, Row: o.P1}
	if _, err := org.Open(nameBefore, nameAD); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("the org's keys open the shredded patient's name: %v", err)
	}
	pk, err := org.PatientKeys(o.P1, keyset)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := pk.Open(nameBefore, nameAD); err != nil || !bytes.Equal(name, []byte("sp Patient One")) {
		t.Fatalf("the destroyed keyset opened %q, %v", name, err)
	}
	noteAD := envelope.AD{Table: "clinical_entries", Column: "note", Org: o.ID, Row: entry.ID}
	if _, err := org.Open(noteBefore, noteAD); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("the org's keys open the entry's note: %v", err)
	}
	if note, err := pk.Open(noteBefore, noteAD); err != nil || string(note) != "fasting sample, Tuesday clinic" {
		t.Fatalf("the destroyed keyset opened the note as %q, %v", note, err)
	}
}

// TestConsolePatientShred shreds a patient from the console's record page:
// the form is an admin's alone, asks for the id again, and the page then
// answers 410.
func TestConsolePatientShred(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Shred Org")
	w.populate(o, "cs")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	page := "/patients/" + o.P1.String()
	if _, body := w.consolePage("GET", page, adm, nil); !strings.Contains(body, `id="shred-patient"`) {
		t.Fatal("the admin's record page has no shred form")
	}
	lead := w.consoleSignIn(o.Lead.Email)
	if _, body := w.consolePage("GET", page, lead, nil); strings.Contains(body, `id="shred-patient"`) {
		t.Fatal("a lead's record page has the shred form")
	}
	if resp, _ := w.consolePage("POST", page+"/shred", lead, url.Values{"confirm": {o.P1.String()}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a lead's shred: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", page+"/shred", adm, url.Values{"confirm": {o.P2.String()}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("another id confirmed: %d", resp.StatusCode)
	}
	resp, _ := w.consolePage("POST", page+"/shred", adm, url.Values{"confirm": {o.P1.String()}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/patients?done=shredded" {
		t.Fatalf("the shred: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := w.consolePage("GET", "/patients?done=shredded", adm, nil); !strings.Contains(body, "crypto-shredded") ||
		strings.Contains(body, "cs Patient One") || !strings.Contains(body, "cs Patient Two") {
		t.Fatalf("the list after the shred:\n%s", body)
	}
	if resp, _ := w.consolePage("GET", page, adm, nil); resp.StatusCode != http.StatusGone {
		t.Fatalf("the record page after the shred: %d", resp.StatusCode)
	}
}
