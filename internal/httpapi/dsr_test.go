package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
)

type dsrJSON struct {
	ID              uuid.UUID  `json:"id"`
	Kind            string     `json:"kind"`
	PatientID       *uuid.UUID `json:"patient_id"`
	SubjectUserID   *uuid.UUID `json:"subject_user_id"`
	RequestedBy     uuid.UUID  `json:"requested_by"`
	ReceivedAt      time.Time  `json:"received_at"`
	DueAt           time.Time  `json:"due_at"`
	ExtendedBy      *uuid.UUID `json:"extended_by"`
	ExtensionReason *string    `json:"extension_reason"`
	Status          string     `json:"status"`
	ClosedBy        *uuid.UUID `json:"closed_by"`
	Overdue         bool       `json:"overdue"`
}

// The data-subject request queue over the API (docs/dsr.md): who files
// about whom, who sees what, the deadlines the database sets, one
// extension, closing, and the audit trail of each step.
func TestDSRQueue(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Org")
	w.populate(o, "dsr")
	other := w.createOrg("DSR Other Org")
	const base = "/v1/compliance/dsr"
	days := func(d dsrJSON) float64 { return d.DueAt.Sub(d.ReceivedAt).Hours() / 24 }

	// An admin files an access request for P1: 30 days, received now.
	var access dsrJSON
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, &access)
	if access.Status != "open" || days(access) != 30 || time.Since(access.ReceivedAt) > time.Minute ||
		access.RequestedBy != o.Admin.ID || access.PatientID == nil || *access.PatientID != o.P1 || access.Overdue {
		t.Fatalf("access request: %+v", access)
	}
	// The patient files an amendment of their record (60 days) and a CCPA
	// request about themself (45), but nothing about another patient.
	var amend, know dsrJSON
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "amendment", "patient_id": o.P1}, http.StatusCreated, &amend)
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "ccpa_know"}, http.StatusCreated, &know)
	if days(amend) != 60 || days(know) != 45 || know.SubjectUserID == nil || *know.SubjectUserID != o.PatUser.ID {
		t.Fatalf("patient's requests: %+v %+v", amend, know)
	}
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusForbidden, nil)
	w.do("POST", base, other.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusNotFound, nil)
	// Bad input: 400 before any write.
	for _, body := range []map[string]any{
		{"kind": "erase_everything", "patient_id": o.P1},
		{"kind": "access"},
		{"kind": "ccpa_know", "patient_id": o.P1, "subject_user_id": o.PatUser.ID},
		{"kind": "access", "patient_id": o.P1, "due_at": "2099-01-01T00:00:00Z"},
	} {
		w.do("POST", base, o.Admin.Token, body, http.StatusBadRequest, nil)
	}

	// Who sees what.
	list := func(token, query string, want int) []dsrJSON {
		t.Helper()
		var out struct {
			Requests []dsrJSON `json:"requests"`
		}
		w.do("GET", base+query, token, nil, want, &out)
		return out.Requests
	}
	if got := list(o.Admin.Token, "", http.StatusOK); len(got) != 3 {
		t.Fatalf("the admin sees %d requests, want 3", len(got))
	}
	if got := list(o.PatUser.Token, "", http.StatusOK); len(got) != 3 { // about P1 (two) and about themself
		t.Fatalf("the patient sees %d requests, want 3", len(got))
	}
	for _, who := range []*member{o.PatUser2, o.Prov, o.Lead, other.Admin} {
		if got := list(who.Token, "", http.StatusOK); len(got) != 0 {
			t.Fatalf("%s sees %d requests of others", who.Email, len(got))
		}
	}
	if got := list(o.Admin.Token, "?patient_id="+o.P1.String(), http.StatusOK); len(got) != 2 {
		t.Fatalf("P1's requests: %d", len(got))
	}
	list(o.Admin.Token, "?status=pending", http.StatusBadRequest)
	list(o.Admin.Token, "?patient_id=x", http.StatusBadRequest)
	dsrKey := w.createKey(o, auth.ScopeDSR).Key
	membersKey := w.createKey(o, auth.ScopeMembers).Key
	if got := list(dsrKey, "?status=open", http.StatusOK); len(got) != 3 {
		t.Fatalf("the dsr key sees %d requests", len(got))
	}
	list(membersKey, "", http.StatusForbidden)
	// A key names the subject (it is nobody itself); a CCPA subject is a
	// member of this org, not another org's user.
	w.do("POST", base, dsrKey, map[string]any{"kind": "ccpa_know"}, http.StatusBadRequest, nil)
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "ccpa_delete", "subject_user_id": other.Admin.ID},
		http.StatusNotFound, nil)
	w.do("GET", base+"/"+access.ID.String(), o.PatUser.Token, nil, http.StatusOK, nil)
	w.do("GET", base+"/"+access.ID.String(), o.PatUser2.Token, nil, http.StatusNotFound, nil)
	w.do("GET", base+"/"+access.ID.String(), other.Admin.Token, nil, http.StatusNotFound, nil)
	w.do("GET", base+"/not-a-uuid", o.Admin.Token, nil, http.StatusBadRequest, nil)
	w.do("POST", base+"/not-a-uuid/extend", o.Admin.Token, map[string]any{"reason": "volume"}, http.StatusBadRequest, nil)
	w.do("POST", base+"/not-a-uuid/close", o.Admin.Token, map[string]any{"outcome": "denied"}, http.StatusBadRequest, nil)

	// One extension, by an admin or a dsr key, with a reason code.
	ext := base + "/" + access.ID.String() + "/extend"
	w.do("POST", ext, o.PatUser.Token, map[string]any{"reason": "volume"}, http.StatusForbidden, nil)
	w.do("POST", ext, o.Admin.Token, map[string]any{"reason": "because"}, http.StatusBadRequest, nil)
	w.do("POST", ext, other.Admin.Token, map[string]any{"reason": "volume"}, http.StatusNotFound, nil)
	var extended dsrJSON
	w.do("POST", ext, dsrKey, map[string]any{"reason": "records_elsewhere"}, http.StatusOK, &extended)
	if days(extended) != 60 || extended.ExtendedBy == nil || *extended.ExtendedBy != o.Admin.ID ||
		extended.ExtensionReason == nil || *extended.ExtensionReason != "records_elsewhere" {
		t.Fatalf("extended: %+v", extended)
	}
	w.do("POST", ext, o.Admin.Token, map[string]any{"reason": "volume"}, http.StatusConflict, nil)

	// Closing, once.
	cl := base + "/" + access.ID.String() + "/close"
	w.do("POST", cl, o.Admin.Token, map[string]any{"outcome": "done"}, http.StatusBadRequest, nil)
	w.do("POST", cl, o.Admin.Token, map[string]any{"outcome": "fulfilled", "note": "x"}, http.StatusBadRequest, nil)
	w.do("POST", cl, o.Admin.Token, map[string]any{"outcome": 1}, http.StatusBadRequest, nil)
	w.do("POST", cl, o.Admin.Token, map[string]any{}, http.StatusBadRequest, nil)
	var closed dsrJSON
	w.do("POST", cl, o.Admin.Token, map[string]any{"outcome": "fulfilled"}, http.StatusOK, &closed)
	if closed.Status != "fulfilled" || closed.ClosedBy == nil || *closed.ClosedBy != o.Admin.ID || !closed.DueAt.Equal(extended.DueAt) {
		t.Fatalf("closed: %+v", closed)
	}
	w.do("POST", cl, o.Admin.Token, map[string]any{"outcome": "denied"}, http.StatusConflict, nil)
	w.do("POST", ext, o.Admin.Token, map[string]any{"reason": "volume"}, http.StatusConflict, nil)
	if got := list(o.Admin.Token, "?status=fulfilled", http.StatusOK); len(got) != 1 || got[0].ID != access.ID {
		t.Fatalf("fulfilled: %+v", got)
	}

	// Every step is in the log; those about P1 name P1 (its access report
	// shows them), and refusals are recorded as denials, in the org of the
	// one refused (the other org's admin's are in that org's log).
	ctx := context.Background()
	count := func(action, outcome string, patient *uuid.UUID) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = $2
			and outcome = $3 and ($4::uuid is null or patient_id = $4)`, o.ID, action, outcome, patient).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	p1 := o.P1
	for _, c := range []struct {
		action, outcome string
		patient         *uuid.UUID
		want            int
	}{
		{"dsr.open", "success", nil, 3}, {"dsr.open", "success", &p1, 2}, {"dsr.open", "denied", nil, 2},
		{"dsr.extend", "success", &p1, 1}, {"dsr.extend", "denied", nil, 3},
		{"dsr.close", "success", &p1, 1}, {"dsr.close", "denied", nil, 1},
		{"dsr.read", "success", &p1, 1}, {"dsr.read", "denied", nil, 1},
	} {
		if got := count(c.action, c.outcome, c.patient); got != c.want {
			t.Errorf("%s %s (patient %v): %d events, want %d", c.action, c.outcome, c.patient != nil, got, c.want)
		}
	}
}

// The right of access (§164.524): a patient's record set, encrypted with age
// to the requester's key or passphrase, for the patient themself or an
// admin (sessions); never in the clear, never to anyone else; audited.
func TestPatientExport(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Export Org")
	w.populate(o, "exp")
	other := w.createOrg("Export Other Org")
	p1 := "/v1/patients/" + o.P1.String()
	var oats struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/entries", o.Prov.Token, map[string]any{"kind": "food", "name": "Steel-cut oats",
		"observed_at": time.Now().UTC().Format(time.RFC3339)}, http.StatusCreated, &oats)
	w.do("GET", p1, o.Prov.Token, nil, http.StatusOK, nil) // an access for the report
	var amendment struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"entry_id": oats.ID, "request": "I had porridge, not oats."},
		http.StatusCreated, &amendment)

	identity, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	const pass = "correct horse battery staple"
	export := func(token string, body any, want int) []byte {
		t.Helper()
		resp, b := w.request("POST", p1+"/export", token, body)
		if resp.StatusCode != want {
			t.Fatalf("export: %d, want %d: %s", resp.StatusCode, want, b)
		}
		if want == http.StatusOK && (resp.Header.Get("Content-Type") != "application/octet-stream" ||
			bytes.Contains(b, []byte("Steel-cut")) || bytes.Contains(b, []byte("Patient One"))) {
			t.Fatalf("export served %q, or in the clear", resp.Header.Get("Content-Type"))
		}
		return b
	}
	open := func(b []byte, id age.Identity) map[string]any {
		t.Helper()
		r, err := age.Decrypt(bytes.NewReader(b), id)
		if err != nil {
			t.Fatal(err)
		}
		var x map[string]any
		if err := json.NewDecoder(r).Decode(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	check := func(x map[string]any) {
		t.Helper()
		patient, _ := x["patient"].(map[string]any)
		entries, _ := x["entries"].([]any)
		accesses, _ := x["accesses"].([]any)
		if x["format"] != "ward.patient-export/1" || patient["id"] != o.P1.String() || patient["name"] != "exp Patient One" ||
			patient["mrn"] != "exp-MRN-1" || len(entries) != 1 || len(accesses) == 0 {
			t.Fatalf("export: format %v, patient %v, %d entries, %d accesses", x["format"], patient["id"], len(entries), len(accesses))
		}
		e, _ := entries[0].(map[string]any)
		if e["name"] != "Steel-cut oats" {
			t.Fatalf("entry: %v", e)
		}
		// The entry links to the amendment requested about it.
		if marks, _ := e["amendments"].([]any); len(marks) != 1 || marks[0].(map[string]any)["id"] != amendment.ID.String() ||
			marks[0].(map[string]any)["status"] != "requested" {
			t.Fatalf("the entry's amendments in the export: %v", e["amendments"])
		}
		// The record's amendment requests are part of it (§164.526).
		if a, _ := x["amendments"].([]any); len(a) != 1 || a[0].(map[string]any)["request"] != "I had porridge, not oats." {
			t.Fatalf("amendments in the export: %v", x["amendments"])
		}
	}

	// The patient, to their own key.
	check(open(export(o.PatUser.Token, map[string]any{"recipient": identity.Recipient().String()}, http.StatusOK), identity))
	// An admin, to a passphrase given out of band; the wrong one opens nothing.
	sealed := export(o.Admin.Token, map[string]any{"passphrase": pass}, http.StatusOK)
	sid, err := age.NewScryptIdentity(pass)
	if err != nil {
		t.Fatal(err)
	}
	check(open(sealed, sid))
	wrong, _ := age.NewScryptIdentity("not the passphrase at all")
	if _, err := age.Decrypt(bytes.NewReader(sealed), wrong); err == nil {
		t.Fatal("the wrong passphrase opened the export")
	}
	// No API key (keys read no patient rows), provider, lead, other
	// patient or other org may.
	export(w.createKey(o, auth.ScopeDSR).Key, map[string]any{"passphrase": pass}, http.StatusForbidden)
	export(w.createKey(o, auth.ScopeGateway).Key, map[string]any{"passphrase": pass}, http.StatusForbidden)
	export(o.Prov.Token, map[string]any{"passphrase": pass}, http.StatusForbidden)
	export(o.Lead.Token, map[string]any{"passphrase": pass}, http.StatusForbidden)
	export(o.PatUser2.Token, map[string]any{"passphrase": pass}, http.StatusNotFound)
	export(other.Admin.Token, map[string]any{"passphrase": pass}, http.StatusNotFound)
	// Bad input: 400, nothing read.
	w.do("POST", "/v1/patients/not-a-uuid/export", o.Admin.Token, map[string]any{"passphrase": pass}, http.StatusBadRequest, nil)
	for _, body := range []map[string]any{
		{}, {"passphrase": "short"}, {"recipient": "age1notakey"}, {"recipient": identity.Recipient().String(), "passphrase": pass},
		{"passphrase": pass, "format": "zip"},
	} {
		export(o.Admin.Token, body, http.StatusBadRequest)
	}

	var ok, denied int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) filter (where outcome = 'success'),
		count(*) filter (where outcome = 'denied') from audit.events where org_id = $1 and action = 'patient.export'
		and patient_id = $2`, o.ID, o.P1).Scan(&ok, &denied); err != nil {
		t.Fatal(err)
	}
	if ok != 2 || denied != 5 { // the two keys', the provider's, the lead's and the other patient's
		t.Fatalf("patient.export events of P1: %d successes, %d denials; want 2 and 5", ok, denied)
	}
}
