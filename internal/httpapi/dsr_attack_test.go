package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// An attacker's review of data-subject requests, legal holds and retention
// (helper 175), with real requests. Each attacker holds one legitimate
// credential of their own; the tests hold what withstood them.

// TestDSRAttackWhoMay: who may file, read, extend and close a request,
// across patients, roles, credentials and orgs. A patient files and reads
// only about their own record; a provider, even on the care team, files
// nothing about a patient; a member's API key without the dsr scope, an
// admin whose session still owes its second factor, and another org's
// admin do nothing; nobody but an admin (or a dsr key) changes a request.
// Nothing refused is filed or changed.
func TestDSRAttackWhoMay(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Attack Clinic")
	w.populate(o, "da")
	other := w.createOrg("DSR Attack Elsewhere")
	w.populate(other, "de")
	const base = "/v1/compliance/dsr"
	type dsr struct {
		ID        uuid.UUID  `json:"id"`
		PatientID *uuid.UUID `json:"patient_id"`
		Status    string     `json:"status"`
	}
	// The requests under attack: P2's (filed by the admin), and P1's own.
	var theirs, mine dsr
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, &theirs)
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, &mine)

	pending := w.signInAAL1(o.Admin.Email, o.ID)
	members := w.createKey(o, "members").Key
	dsrKey := w.createKey(o, "dsr").Key
	count := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(),
			`select count(*) from app.dsr_requests where org_id = $1`, o.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"a patient files for another patient", "POST", base, o.PatUser.Token,
			map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusForbidden},
		{"a patient files for another org's patient", "POST", base, o.PatUser.Token,
			map[string]any{"kind": "access", "patient_id": other.P1}, http.StatusForbidden},
		{"a patient files a CCPA request about another member", "POST", base, o.PatUser.Token,
			map[string]any{"kind": "ccpa_delete", "subject_user_id": o.Prov.ID}, http.StatusForbidden},
		{"a patient files a CCPA request about another patient's record", "POST", base, o.PatUser.Token,
			map[string]any{"kind": "ccpa_know", "patient_id": o.P2}, http.StatusForbidden},
		{"a care-team provider files for their patient", "POST", base, o.Prov.Token,
			map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusForbidden},
		{"a lead files for a patient", "POST", base, o.Lead.Token,
			map[string]any{"kind": "amendment", "patient_id": o.P1}, http.StatusForbidden},
		{"an admin owing the second factor files", "POST", base, pending,
			map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusForbidden},
		{"a members key files", "POST", base, members,
			map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusForbidden},
		// Another org's admin is told the id is no subject of theirs, as
		// for an id of nobody (docs/dsr.md: 404).
		{"another org's admin files for this org's patient", "POST", base, other.Admin.Token,
			map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusNotFound},
		{"another org's admin files about this org's member", "POST", base, other.Admin.Token,
			map[string]any{"kind": "ccpa_delete", "subject_user_id": o.Prov.ID}, http.StatusNotFound},
		{"a patient reads another patient's request", "GET", base + "/" + theirs.ID.String(), o.PatUser.Token, nil,
			http.StatusNotFound},
		{"a care-team provider reads the patient's request", "GET", base + "/" + mine.ID.String(), o.Prov.Token, nil,
			http.StatusNotFound},
		{"a members key reads a request", "GET", base + "/" + mine.ID.String(), members, nil, http.StatusForbidden},
		{"another org's admin reads a request", "GET", base + "/" + mine.ID.String(), other.Admin.Token, nil,
			http.StatusNotFound},
		{"the patient closes their own request", "POST", base + "/" + mine.ID.String() + "/close", o.PatUser.Token,
			map[string]any{"outcome": "withdrawn"}, http.StatusForbidden},
		{"the patient extends their own request", "POST", base + "/" + mine.ID.String() + "/extend", o.PatUser.Token,
			map[string]any{"reason": "volume"}, http.StatusForbidden},
		{"a lead closes a request", "POST", base + "/" + mine.ID.String() + "/close", o.Lead.Token,
			map[string]any{"outcome": "fulfilled"}, http.StatusForbidden},
		{"an admin owing the second factor closes", "POST", base + "/" + mine.ID.String() + "/close", pending,
			map[string]any{"outcome": "fulfilled"}, http.StatusForbidden},
		{"a members key closes", "POST", base + "/" + mine.ID.String() + "/close", members,
			map[string]any{"outcome": "fulfilled"}, http.StatusForbidden},
		{"another org's admin closes", "POST", base + "/" + mine.ID.String() + "/close", other.Admin.Token,
			map[string]any{"outcome": "fulfilled"}, http.StatusNotFound},
		{"another org's admin extends", "POST", base + "/" + mine.ID.String() + "/extend", other.Admin.Token,
			map[string]any{"reason": "volume"}, http.StatusNotFound},
	} {
		resp, body := w.request(c.method, c.path, c.token, c.body)
		// An AAL1 admin is refused before any handler (401 or 403); the
		// others as stated.
		if resp.StatusCode != c.want && !(c.token == pending && resp.StatusCode == http.StatusUnauthorized) {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}
	if n := count(); n != before {
		t.Fatalf("the refused attempts filed %d requests", n-before)
	}
	for _, id := range []uuid.UUID{theirs.ID, mine.ID} {
		var d dsr
		w.do("GET", base+"/"+id.String(), o.Admin.Token, nil, http.StatusOK, &d)
		if d.Status != "open" {
			t.Fatalf("request %s is %s after the refused changes", id, d.Status)
		}
	}
	// The patient's list holds their own request and not the other's,
	// even filtered on the other patient.
	for _, q := range []string{"", "?patient_id=" + o.P2.String()} {
		var l struct {
			Requests []dsr `json:"requests"`
		}
		w.do("GET", base+q, o.PatUser.Token, nil, http.StatusOK, &l)
		for _, d := range l.Requests {
			if d.ID == theirs.ID || d.PatientID == nil || *d.PatientID != o.P1 {
				t.Errorf("the patient's list%s holds %+v", q, d)
			}
		}
	}
	// A dsr key closes as an admin would.
	w.do("POST", base+"/"+theirs.ID.String()+"/close", dsrKey, map[string]any{"outcome": "fulfilled"}, http.StatusOK, nil)
}

// TestDSRAttackStateMachine: a closed request takes no second close, no
// other outcome and no extension; twenty closes and extensions sent at once
// to one open request leave exactly one close, recorded once.
func TestDSRAttackStateMachine(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR State Clinic")
	w.populate(o, "ds")
	const base = "/v1/compliance/dsr"
	var d struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, &d)
	id := d.ID.String()
	w.do("POST", base+"/"+id+"/close", o.Admin.Token, map[string]any{"outcome": "denied"}, http.StatusOK, nil)
	for _, c := range []struct{ path, field, value string }{
		{"/close", "outcome", "denied"},
		{"/close", "outcome", "fulfilled"},
		{"/close", "outcome", "withdrawn"},
		{"/extend", "reason", "volume"},
	} {
		resp, body := w.request("POST", base+"/"+id+c.path, o.Admin.Token, map[string]any{c.field: c.value})
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("%s %s after the close: %d %s, want 409", c.path, c.value, resp.StatusCode, body)
		}
	}

	// Twenty at once against one open request.
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, &d)
	id = d.ID.String()
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			path, body := "/close", map[string]any{"outcome": []string{"fulfilled", "denied", "withdrawn"}[i%3]}
			if i%4 == 3 {
				path, body = "/extend", map[string]any{"reason": "complexity"}
			}
			resp, _ := w.request("POST", base+"/"+id+path, o.Admin.Token, body)
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	closes, ok := 0, 0
	for i, st := range statuses {
		switch {
		case st == http.StatusOK:
			ok++
			if i%4 != 3 {
				closes++
			}
		case st != http.StatusConflict:
			t.Errorf("request %d: %d, want 200 or 409", i, st)
		}
	}
	var events, closedEvents int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) filter (where action in ('dsr.close', 'dsr.extend')), count(*) filter (where action = 'dsr.close')
		   from audit.events where org_id = $1 and object_id = $2 and outcome = 'success'`, o.ID, d.ID).
		Scan(&events, &closedEvents); err != nil {
		t.Fatal(err)
	}
	if closes != 1 || closedEvents != 1 || events != ok {
		t.Fatalf("twenty at once: %d closes and %d successes answered, %d close and %d change events recorded; want one close",
			closes, ok, closedEvents, events)
	}
}

// TestShredAttackHoldRace: a legal hold on one of the patient's cases that
// is being placed when the shred starts is waited for and then refuses the
// shred (409, nothing destroyed); a hold placed while the shred runs waits
// for it and is then refused (410). The case's row lock does not order
// them (the hold's foreign key takes the case for key share, which the
// shred's lock for no key update does not wait for); two locks do: the
// hold's trigger (app.refuse_shredded_patient_case) reads the case's
// patient for key share, which the shred's row lock waits for (enough
// alone: the test holds with the shred's hold lock taken out), and the
// org's hold lock, which app.patient_shred takes shared before it reads
// the holds. Two shreds of one patient at once shred it once.
func TestShredAttackHoldRace(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Shred Race Clinic")
	w.populate(o, "sr")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Race claim"}, http.StatusCreated, &kase)
	shredPath := "/v1/patients/" + o.P1.String() + "/shred"
	confirm := map[string]any{"confirm": o.P1.String()}

	// A hold on the case begun (not committed) before the shred.
	release := make(chan struct{})
	var hold uuid.UUID
	held, done := w.holdAs(o.Admin.Token, `insert into app.legal_holds (org_id, case_id, reason_enc, created_by)
	    values ($1, $2, '\x01', $3) returning id`, &hold, release, o.ID, kase.ID, o.Admin.ID)
	<-held
	status, body := w.raceAgainst("POST", shredPath, o.Admin.Token, confirm, release)
	if err := <-done; err != nil {
		t.Fatalf("the hold: %v", err)
	}
	if status != http.StatusConflict {
		t.Fatalf("a shred begun while a hold on the patient's case was being placed: %d %s, want 409", status, body)
	}
	var shredded bool
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select shredded_at is not null from app.patients where id = $1`, o.P1).Scan(&shredded); err != nil || shredded {
		t.Fatalf("the patient was shredded under the hold (%v)", err)
	}
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.legal_holds set released_at = now(),
	    released_by = created_by, release_note_enc = '\x02' where id = $1`, hold); err != nil {
		t.Fatal(err)
	}

	// A shred in progress (not committed) when a hold on the case is placed.
	release = make(chan struct{})
	var entries int
	held, done = w.holdAs(o.Admin.Token, `select entries from app.patient_shred($1)`, &entries, release, o.P1)
	<-held
	status, body = w.raceAgainst("POST", "/v1/legal-holds", o.Admin.Token,
		map[string]any{"case_id": kase.ID, "reason": "matter 12"}, release)
	if err := <-done; err != nil {
		t.Fatalf("the shred: %v", err)
	}
	if status != http.StatusGone || problemCode(t, body) != "patient_shredded" {
		t.Fatalf("a hold placed while the shred ran: %d %s, want 410 patient_shredded", status, body)
	}

	// Two shreds at once of another patient: one 200, one 410, one event.
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, _ := w.request("POST", "/v1/patients/"+o.P2.String()+"/shred", o.Admin.Token,
				map[string]any{"confirm": o.P2.String()})
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	if got := fmt.Sprint(statuses); got != "[200 410]" && got != "[410 200]" {
		t.Fatalf("two shreds at once: %s, want one 200 and one 410", got)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
	   where org_id = $1 and action = 'patient.shred' and outcome = 'success' and patient_id = $2`, o.ID, o.P2).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d patient.shred events (%v), want 1", n, err)
	}
}

// TestAccessReportShowsStaffCaseReads: a staff member's read of a
// patient's case documents (their list, a document's description, its
// comments) is in the patient's access report, and so in their access
// export, as a stakeholder's read of them is (as a disclosure, 00159) and
// a staff member's read of the case itself and download of a version
// are. The events named the case and no patient, so a lead who browsed
// the file names, descriptions and comments of a patient's claim (PHI:
// docs/cases.md) left nothing in the report the patient reads (MEDIUM,
// migration 00336: audit.append_event names the case's patient on the
// success of those reads, whoever the caller).
func TestAccessReportShowsStaffCaseReads(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Access Report Cases")
	w.populate(o, "ac")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Back strain claim"},
		http.StatusCreated, &kase)
	resp, body := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "intake-form.txt",
		[]byte("synthetic intake form"), "Ward-Document-Type", "note")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var doc docJSON
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	w.do("POST", "/v1/documents/"+doc.ID.String()+"/comments", o.Lead.Token, map[string]any{"body": "Form checked."},
		http.StatusCreated, nil)
	// The care-team provider reads what the case holds.
	w.do("GET", "/v1/cases/"+kase.ID.String()+"/documents", o.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/documents/"+doc.ID.String(), o.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/documents/"+doc.ID.String()+"/comments", o.Prov.Token, nil, http.StatusOK, nil)

	var rep struct {
		Accesses []struct {
			Actor   uuid.UUID `json:"actor_id"`
			Action  string    `json:"action"`
			Outcome string    `json:"outcome"`
		} `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	for _, action := range []string{"document.list", "document.view", "document.comment.list"} {
		found := false
		for _, a := range rep.Accesses {
			found = found || (a.Action == action && a.Actor == o.Prov.ID && a.Outcome == "success")
		}
		if !found {
			t.Errorf("the provider's %s of the patient's case is not in the patient's access report", action)
		}
	}
	// Nor is it a disclosure: staff reads are not in the accounting.
	var acc struct {
		Disclosures []json.RawMessage `json:"disclosures"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/disclosures", o.PatUser.Token, nil, http.StatusOK, &acc)
	if len(acc.Disclosures) != 0 {
		t.Errorf("staff reads in the accounting of disclosures: %d", len(acc.Disclosures))
	}
	// Another patient's report shows none of it.
	w.do("GET", "/v1/patients/"+o.P2.String()+"/access-report", o.PatUser2.Token, nil, http.StatusOK, &rep)
	for _, a := range rep.Accesses {
		if a.Actor == o.Prov.ID {
			t.Errorf("P2's report holds the provider's %s", a.Action)
		}
	}
}

// TestAccessReportShowsCaseLists: a case list's event names the cases it
// showed (their titles are PHI), not their patients; the patient whose case
// was listed finds the listing in their access report (listed: true), and a
// patient whose case was not in it does not (migration 00348; before, no
// patient's report held a case list).
func TestAccessReportShowsCaseLists(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Access Report Case Lists")
	w.populate(o, "acl")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Shoulder claim"},
		http.StatusCreated, &kase)
	w.do("GET", "/v1/cases", o.Prov.Token, nil, http.StatusOK, nil)

	type access struct {
		Actor   uuid.UUID `json:"actor_id"`
		Action  string    `json:"action"`
		Outcome string    `json:"outcome"`
		Listed  bool      `json:"listed"`
	}
	var rep struct {
		Accesses []access `json:"accesses"`
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	if !slices.ContainsFunc(rep.Accesses, func(a access) bool {
		return a.Action == "case.list" && a.Actor == o.Prov.ID && a.Outcome == "success" && a.Listed
	}) {
		t.Errorf("the provider's listing of P1's case is not in P1's access report: %+v", rep.Accesses)
	}
	rep.Accesses = nil
	w.do("GET", "/v1/patients/"+o.P2.String()+"/access-report", o.PatUser2.Token, nil, http.StatusOK, &rep)
	if slices.ContainsFunc(rep.Accesses, func(a access) bool { return a.Action == "case.list" }) {
		t.Errorf("P2, without a case, finds a case list in their report: %+v", rep.Accesses)
	}
}
