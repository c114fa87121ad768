package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

var recordVersionRE = regexp.MustCompile(`name="version" value="([0-9a-f]{64})"`)

// recordForm reads the edit page of patient as session and returns its
// version.
func (w *world) recordForm(session, patient string) string {
	w.t.Helper()
	resp, body := w.consolePage("GET", "/patients/"+patient+"/edit", session, nil)
	m := recordVersionRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		w.t.Fatalf("edit page: %d %s", resp.StatusCode, body)
	}
	return m[1]
}

// patientField reads one field of a patient as the world's API does, as
// its lead.
func (w *world) patientField(token string, patient uuid.UUID, field string) string {
	w.t.Helper()
	var p map[string]any
	w.do("GET", "/v1/patients/"+patient.String(), token, nil, http.StatusOK, &p)
	s, _ := p[field].(string)
	return s
}

// consoleVersionForm posts the document page's new-version form as a
// browser does.
func (w *world) consoleVersionForm(session, doc, version, name, content string) (*http.Response, string) {
	w.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("version", version)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {w.base}, "Cookie": {"ward_session=" + session},
		"Content-Type": {mw.FormDataContentType()}}
	resp, b := w.browse("POST", "/documents/"+doc+"/upload", h, buf.String())
	return resp, string(b)
}

// Editing a record from the console: the form carries the version of the
// record it shows, and a save on a form older than another's save is
// refused (412), not written over it; a provider may not change the MRN,
// another org's record and one off the provider's care team are 404, and
// the URLs carry ids only.
func TestConsoleRecordEdit(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Edit Clinic")
	w.populate(o, "cedt")
	other := w.createOrg("Other Edit Clinic")
	w.populate(other, "oedt")
	prov := w.consoleSignIn(o.Prov.Email)
	p1 := o.P1.String()
	// A session owing its second factor is sent to it, and saves nothing.
	pend := w.consoleSignIn(o.Lead.Email)
	if resp, _ := w.consolePage("GET", "/patients/"+p1+"/edit", pend, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/" {
		t.Fatalf("pending session's edit page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := w.consolePage("POST", "/patients/"+p1+"/edit", pend, url.Values{"name": {"Pending"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pending session's save: %d", resp.StatusCode)
	}

	_, body := w.consolePage("GET", "/patients/"+p1, prov, nil)
	if !strings.Contains(body, `href="/patients/`+p1+`/edit"`) || !strings.Contains(body, `href="/patients/`+p1+`/amendments"`) ||
		strings.Contains(body, "/care-team") {
		t.Fatalf("record page's links for a provider: %s", body)
	}
	resp, body := w.consolePage("GET", "/patients/"+p1+"/edit", prov, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="cedt Patient One"`) || strings.Contains(body, `name="mrn"`) ||
		!strings.Contains(body, "cedt-MRN-1") {
		t.Fatalf("provider's edit page: %d %s", resp.StatusCode, body)
	}
	shown := recordVersionRE.FindStringSubmatch(body)[1]
	save := func(session, patient, version, name string, extra ...string) (*http.Response, string) {
		f := url.Values{"version": {version}, "name": {name}, "dob": {"1970-03-04"}, "phone": {"555-0100"}, "email": {""},
			"address": {"12 Example Row"}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return w.consolePage("POST", "/patients/"+patient+"/edit", session, f)
	}
	resp, body = save(prov, p1, shown, "cedt Patient Renamed")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/patients/"+p1+"/edit?done=saved" {
		t.Fatalf("save: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = w.consolePage("GET", "/patients/"+p1+"/edit?done=saved", prov, nil)
	if !strings.Contains(body, "The record was saved.") || !strings.Contains(body, `value="cedt Patient Renamed"`) ||
		!strings.Contains(body, "12 Example Row") {
		t.Fatalf("after the save: %s", body)
	}
	if n, mrn := w.patientField(o.Lead.Token, o.P1, "name"), w.patientField(o.Lead.Token, o.P1, "mrn"); n != "cedt Patient Renamed" || mrn != "cedt-MRN-1" {
		t.Fatalf("the record after the save: %q %q", n, mrn)
	}

	// The form shown before that save is stale now: refused, nothing written.
	resp, body = save(prov, p1, shown, "cedt Stale Overwrite")
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "precondition_failed") {
		t.Fatalf("stale save: %d %s", resp.StatusCode, body)
	}
	// So is a form shown before a change made through the API.
	fresh := w.recordForm(prov, p1)
	w.do("PATCH", "/v1/patients/"+p1, o.Lead.Token, map[string]any{"phone": "555-0199"}, http.StatusOK, nil)
	if resp, body := save(prov, p1, fresh, "cedt Lost Update"); resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("save after the API's change: %d %s", resp.StatusCode, body)
	}
	if n, ph := w.patientField(o.Lead.Token, o.P1, "name"), w.patientField(o.Lead.Token, o.P1, "phone"); n != "cedt Patient Renamed" || ph != "555-0199" {
		t.Fatalf("stale saves wrote: %q %q", n, ph)
	}

	// A provider may not change the MRN (the database refuses it), nor send
	// a form without a field or a version, or with a date that is none.
	fresh = w.recordForm(prov, p1)
	if resp, body := save(prov, p1, fresh, "cedt Patient Renamed", "mrn", "cedt-MRN-X"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider changing the MRN: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []url.Values{
		{"version": {fresh}, "name": {"x"}, "dob": {""}, "phone": {""}, "email": {""}},
		{"name": {"x"}, "dob": {""}, "phone": {""}, "email": {""}, "address": {""}},
	} {
		if resp, body := w.consolePage("POST", "/patients/"+p1+"/edit", prov, bad); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("form %v: %d %s", bad, resp.StatusCode, body)
		}
	}
	if resp, body := save(prov, p1, fresh, "cedt Patient Renamed", "dob", "4 March 1970"); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "dob") {
		t.Fatalf("bad dob: %d %s", resp.StatusCode, body)
	}
	if mrn := w.patientField(o.Lead.Token, o.P1, "mrn"); mrn != "cedt-MRN-1" {
		t.Fatalf("the MRN after refused saves: %q", mrn)
	}

	// A lead changes the MRN; the patient edits their own record.
	lead, _ := w.consoleAdmin(o.Lead.Email)
	_, body = w.consolePage("GET", "/patients/"+p1+"/edit", lead, nil)
	if !strings.Contains(body, `name="mrn"`) {
		t.Fatalf("lead's edit page without the MRN: %s", body)
	}
	if resp, body := save(lead, p1, w.recordForm(lead, p1), "cedt Patient Renamed", "mrn", "cedt-MRN-11"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lead changing the MRN: %d %s", resp.StatusCode, body)
	}
	pat := w.consoleSignIn(o.PatUser.Email)
	if resp, body := save(pat, p1, w.recordForm(pat, p1), "cedt Patient Renamed", "phone", "555-0142"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("patient's own edit: %d %s", resp.StatusCode, body)
	}
	if mrn, ph := w.patientField(o.Lead.Token, o.P1, "mrn"), w.patientField(o.Lead.Token, o.P1, "phone"); mrn != "cedt-MRN-11" || ph != "555-0142" {
		t.Fatalf("after the lead's and the patient's saves: %q %q", mrn, ph)
	}

	// Another org's record and one off the provider's care team: 404 to
	// read and to save, nothing written.
	for _, c := range []struct {
		session string
		patient uuid.UUID
	}{{lead, other.P1}, {prov, o.P2}, {pat, o.P2}} {
		if resp, _ := w.consolePage("GET", "/patients/"+c.patient.String()+"/edit", c.session, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("edit page of %s: %d", c.patient, resp.StatusCode)
		}
		if resp, _ := save(c.session, c.patient.String(), fresh, "Hijacked"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("save of %s: %d", c.patient, resp.StatusCode)
		}
	}
	if n := w.patientField(other.Lead.Token, other.P1, "name"); n != "oedt Patient One" {
		t.Fatalf("another org's record: %q", n)
	}
	if n := w.patientField(o.Lead.Token, o.P2, "name"); n != "cedt Patient Two" {
		t.Fatalf("a record off the care team: %q", n)
	}
	if logs := w.logs.String(); strings.Contains(logs, "Renamed") || strings.Contains(logs, "Example Row") {
		t.Fatalf("a record's values in the log")
	}
}

// The care-team page (leads and admins): assigning a provider lets them
// read the record, removing them takes it away; a provider is refused
// the page and the forms, another org's member and record are 404.
func TestConsoleCareTeam(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Team Clinic")
	w.populate(o, "ctm")
	other := w.createOrg("Other Team Clinic")
	w.populate(other, "octm")
	lead, _ := w.consoleAdmin(o.Lead.Email)
	prov2 := w.consoleSignIn(o.Prov2.Email)
	p2 := o.P2.String()

	_, body := w.consolePage("GET", "/patients/"+p2, lead, nil)
	if !strings.Contains(body, `href="/patients/`+p2+`/care-team"`) {
		t.Fatalf("lead's record page without the care-team link: %s", body)
	}
	resp, body := w.consolePage("GET", "/patients/"+p2+"/care-team", lead, nil)
	assign := "/patients/" + p2 + "/care-team/" + o.Prov2.ID.String() + "/assign"
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="`+assign+`"`) || !strings.Contains(body, o.Prov2.Email) ||
		strings.Contains(body, o.PatUser.Email) {
		t.Fatalf("care-team page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("GET", "/patients/"+p2, prov2, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("provider off the team: %d", resp.StatusCode)
	}
	resp, _ = w.consolePage("POST", assign, lead, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/patients/"+p2+"/care-team?done=assigned" {
		t.Fatalf("assign: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := w.consolePage("GET", "/patients/"+p2, prov2, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "ctm Patient Two") {
		t.Fatalf("provider on the team: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/patients/"+p2+"/care-team?done=assigned", lead, nil); !strings.Contains(body, "put on the care team") {
		t.Fatalf("notice: %s", body)
	}

	// A provider may not change a care team, nor read the page.
	prov := w.consoleSignIn(o.Prov.Email)
	if resp, _ := w.consolePage("GET", "/patients/"+o.P1.String()+"/care-team", prov, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider's care-team page: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", "/patients/"+p2+"/care-team/"+o.Prov2.ID.String()+"/remove", prov, url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider removing: %d", resp.StatusCode)
	}
	// Another org's member, another org's record, a patient and a
	// malformed id: nothing assigned.
	for _, path := range []string{
		"/patients/" + p2 + "/care-team/" + other.Prov.ID.String() + "/assign",
		"/patients/" + other.P1.String() + "/care-team/" + o.Prov2.ID.String() + "/assign",
		"/patients/" + p2 + "/care-team/" + o.PatUser.ID.String() + "/assign",
		"/patients/" + p2 + "/care-team/not-an-id/assign",
	} {
		if resp, body := w.consolePage("POST", path, lead, url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, _ := w.consolePage("GET", "/patients/"+other.P1.String()+"/care-team", lead, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's care-team page: %d", resp.StatusCode)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.care_team
		where patient_id = $1 and provider_id = $2 or patient_id = $3 and provider_id in ($4, $5)`,
		other.P1, o.Prov2.ID, o.P2, other.Prov.ID, o.PatUser.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused assignments wrote %d rows (%v)", n, err)
	}

	resp, _ = w.consolePage("POST", "/patients/"+p2+"/care-team/"+o.Prov2.ID.String()+"/remove", lead, url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("GET", "/patients/"+p2, prov2, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("provider taken off the team: %d", resp.StatusCode)
	}
}

// Amendment requests from the console (HIPAA §164.526): the patient asks,
// the admin denies, the patient disagrees, the admin rebuts, each step on
// the record's amendments page; the steps are refused to the wrong role
// and to another patient, and texts never reach a URL.
func TestConsoleAmendments(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Amend Clinic")
	w.populate(o, "camd")
	pat := w.consoleSignIn(o.PatUser.Email)
	adm, _ := w.consoleAdmin(o.Admin.Email)
	prov := w.consoleSignIn(o.Prov.Email)
	p1 := o.P1.String()
	base := "/patients/" + p1 + "/amendments"

	resp, body := w.consolePage("GET", base, pat, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="no-amendments"`) || !strings.Contains(body, `id="amendment-form"`) {
		t.Fatalf("patient's amendments page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consolePage("POST", base, pat, url.Values{"request": {"My allergy to penicillin is missing."}, "entry_id": {""}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+base+"?done=requested" {
		t.Fatalf("request: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// A provider reads the list, without forms; cannot request or decide.
	_, body = w.consolePage("GET", base, prov, nil)
	ids := regexp.MustCompile(`id="amendment-([0-9a-f-]{36})"`).FindStringSubmatch(body)
	if ids == nil || !strings.Contains(body, "My allergy to penicillin is missing.") || strings.Contains(body, "<form method=\"post\" action=\""+base) {
		t.Fatalf("provider's amendments page: %s", body)
	}
	step := base + "/" + ids[1]
	if resp, _ := w.consolePage("POST", base, prov, url.Values{"request": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider requesting: %d", resp.StatusCode)
	}
	deny := url.Values{"outcome": {"denied"}, "basis": {"accurate_and_complete"}, "statement": {"The chart shows a tolerated course in 2019."}}
	for _, s := range []string{prov, pat} {
		if resp, _ := w.consolePage("POST", step+"/decision", s, deny); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("deciding as a non-admin: %d", resp.StatusCode)
		}
	}
	// Another patient's record: its amendments are none of theirs, and
	// the record is one they cannot name (404, as on the API: its keys are
	// read first, under the record's policy).
	pat2 := w.consoleSignIn(o.PatUser2.Email)
	if resp, _ := w.consolePage("GET", base, pat2, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another patient's amendments: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", base, pat2, url.Values{"request": {"forged"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another patient's request: %d", resp.StatusCode)
	}

	// The admin's page has the decision form; a denial without a basis is
	// refused with its rule.
	_, body = w.consolePage("GET", base, adm, nil)
	if !strings.Contains(body, `action="`+step+`/decision"`) {
		t.Fatalf("admin's page without the decision form: %s", body)
	}
	if resp, body := w.consolePage("POST", step+"/decision", adm, url.Values{"outcome": {"denied"}, "statement": {"no"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "basis") {
		t.Fatalf("denial without a basis: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", step+"/decision", adm, deny); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("decide: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", step+"/decision", adm, deny); resp.StatusCode != http.StatusConflict {
		t.Fatalf("deciding twice: %d", resp.StatusCode)
	}
	// The patient disagrees (the admin may not in their name); the admin rebuts.
	_, body = w.consolePage("GET", base, pat, nil)
	if !strings.Contains(body, "The chart shows a tolerated course in 2019.") || !strings.Contains(body, `action="`+step+`/disagreement"`) {
		t.Fatalf("patient's page after the denial: %s", body)
	}
	if resp, _ := w.consolePage("POST", step+"/disagreement", adm, url.Values{"statement": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin disagreeing: %d", resp.StatusCode)
	}
	if resp, _ := w.consolePage("POST", step+"/rebuttal", pat, url.Values{"statement": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("patient rebutting: %d", resp.StatusCode)
	}
	if resp, body := w.consolePage("POST", step+"/disagreement", pat, url.Values{"statement": {"I had hives in 2021."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disagree: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.consolePage("POST", step+"/rebuttal", adm, url.Values{"statement": {"The 2021 visit found no reaction."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rebut: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", base+"/not-an-id/rebuttal", adm, url.Values{"statement": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("malformed amendment id: %d", resp.StatusCode)
	}
	_, body = w.consolePage("GET", base+"?done=rebutted", pat, nil)
	for _, want := range []string{"I had hives in 2021.", "The 2021 visit found no reaction.", "denied", "accurate_and_complete"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the amendment's steps: no %q in %s", want, body)
		}
	}
	if strings.Contains(body, `action="`+step+`/disagreement"`) {
		t.Fatalf("a second disagreement offered: %s", body)
	}
	// A request about one entry of the record, named from the form's list.
	var entry struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/patients/"+p1+"/entries", o.Prov.Token, map[string]any{"kind": "symptom", "name": "rash",
		"observed_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, http.StatusCreated, &entry)
	if _, body := w.consolePage("GET", base, pat, nil); !strings.Contains(body, `<option value="`+entry.ID.String()+`">`) {
		t.Fatalf("the request form without the entry: %s", body)
	}
	if resp, _ := w.consolePage("POST", base, pat, url.Values{"request": {"x"}, "entry_id": {"rash"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed entry id: %d", resp.StatusCode)
	}
	if resp, body := w.consolePage("POST", base, pat, url.Values{"request": {"It was a bite, not a rash."}, "entry_id": {entry.ID.String()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request about an entry: %d %s", resp.StatusCode, body)
	}
	if _, body := w.consolePage("GET", base, adm, nil); !strings.Contains(body, "about an entry") || !strings.Contains(body, "It was a bite, not a rash.") {
		t.Fatalf("the request about an entry: %s", body)
	}
	var status string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select string_agg(status, ',' order by requested_at) from app.record_amendments where org_id = $1`,
		o.ID).Scan(&status); err != nil || status != "denied,requested" {
		t.Fatalf("amendments: %q (%v)", status, err)
	}
	if logs := w.logs.String(); strings.Contains(logs, "penicillin") || strings.Contains(logs, "hives") {
		t.Fatalf("an amendment's text in the log")
	}
}

// Documents from the case and document pages: a lead requests one from a
// member of the case, that member uploads it from the document page, a
// new version on a page that showed an older one is refused (412), and a
// lead deletes it; a provider may not delete, another org's document is
// 404.
func TestConsoleDocumentRequestsAndVersions(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console Request Clinic")
	w.populate(o, "creq")
	other := w.createOrg("Other Request Clinic")
	w.populate(other, "ocreq")
	lead, _ := w.consoleAdmin(o.Lead.Email)
	var kase, foreign struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Back strain, depot"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/cases", other.Lead.Token, map[string]any{"patient_id": other.P1, "title": "Foreign claim"}, http.StatusCreated, &foreign)
	k := kase.ID.String()
	// Prov2, off the patient's care team, is granted uploads on the case.
	w.do("PUT", "/v1/cases/"+k+"/members/"+o.Prov2.ID.String(), o.Lead.Token, map[string]any{"kind": "staff",
		"permissions": []string{"view", "upload"}}, http.StatusOK, nil)

	_, body := w.consolePage("GET", "/cases/"+k, lead, nil)
	if !strings.Contains(body, `href="/cases/`+k+`/request"`) {
		t.Fatalf("case page without the request link: %s", body)
	}
	resp, body := w.consolePage("GET", "/cases/"+k+"/request", lead, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="`+o.Prov2.ID.String()+`"`) {
		t.Fatalf("request page: %d %s", resp.StatusCode, body)
	}
	due := time.Now().AddDate(0, 0, 7).UTC().Format(time.DateOnly)
	resp, body = w.consolePage("POST", "/cases/"+k+"/documents", lead, url.Values{"type": {"wage_statement"},
		"description": {"Wages for the quarter before the injury"}, "due": {due}, "requested_from": {o.Prov2.ID.String()}})
	m := regexp.MustCompile(`/documents/([0-9a-f-]{36})\?done=requested$`).FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("request: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	doc := m[1]
	_, body = w.consolePage("GET", "/cases/"+k, lead, nil)
	if !strings.Contains(body, "wage_statement") || !strings.Contains(body, due) || !strings.Contains(body, "1 pending") {
		t.Fatalf("case page after the request: %s", body)
	}
	for _, bad := range []url.Values{
		{"type": {"Wage Statement"}},
		{"type": {"x"}, "due": {"next week"}},
		{"type": {"x"}, "requested_from": {"someone"}},
	} {
		if resp, body := w.consolePage("POST", "/cases/"+k+"/documents", lead, bad); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %v: %d %s", bad, resp.StatusCode, body)
		}
	}
	// Prov2 may upload to the case but does not manage it: no request page, no request.
	prov2 := w.consoleSignIn(o.Prov2.Email)
	if resp, body := w.consolePage("POST", "/cases/"+k+"/documents", prov2, url.Values{"type": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a member who does not manage the case requesting: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/cases/"+foreign.ID.String()+"/documents", lead, url.Values{"type": {"forged"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's case: %d", resp.StatusCode)
	}

	// The member it was requested from provides it from the document page.
	resp, body = w.consolePage("GET", "/documents/"+doc, prov2, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/documents/`+doc+`/upload"`) || !strings.Contains(body, `name="version" value="0"`) {
		t.Fatalf("pending document's page: %d %s", resp.StatusCode, body)
	}
	resp, body = w.consoleVersionForm(prov2, doc, "0", "wages.txt", "synthetic wages")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/documents/"+doc+"?done=version" {
		t.Fatalf("first version: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, body := w.consolePage("GET", "/documents/"+doc+"?done=version", prov2, nil); !strings.Contains(body, "The new version was uploaded.") {
		t.Errorf("the document page does not say the version was uploaded: %s", body)
	}
	_, body = w.consolePage("GET", "/documents/"+doc, lead, nil)
	if !strings.Contains(body, "wages.txt") || !strings.Contains(body, `name="version" value="1"`) {
		t.Fatalf("document page after the upload: %s", body)
	}
	if resp, body := w.consoleVersionForm(lead, doc, "1", "wages-corrected.txt", "synthetic wages, corrected"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second version: %d %s", resp.StatusCode, body)
	}
	// A page that showed version 1 is stale now: refused, nothing stored.
	versions := func() int {
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.document_versions where document_id = $1`,
			uuid.MustParse(doc)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	objects := w.objects(o.ID)
	if resp, body := w.consoleVersionForm(lead, doc, "1", "late.txt", "synthetic late"); resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("stale version: %d %s", resp.StatusCode, body)
	}
	if n := versions(); n != 2 || w.objects(o.ID) != objects {
		t.Fatalf("after the stale upload: %d versions, %d objects (was %d)", n, w.objects(o.ID), objects)
	}
	// The form's shape: a version after the file, a second one, another part.
	for _, bad := range []string{"", "x", "-1"} {
		if resp, _ := w.consoleVersionForm(lead, doc, bad, "bad.txt", "x"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("version %q: %d", bad, resp.StatusCode)
		}
	}
	// A provider off the case and another org's document: 404.
	prov := w.consoleSignIn(o.Prov.Email)
	var fdoc struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases/"+foreign.ID.String()+"/documents", other.Lead.Token, map[string]any{"type": "report"}, http.StatusCreated, &fdoc)
	if resp, _ := w.consoleVersionForm(lead, fdoc.ID.String(), "0", "f.txt", "x"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's document: %d", resp.StatusCode)
	}
	if n := versions(); n != 2 {
		t.Fatalf("refused uploads stored versions: %d", n)
	}

	// Deleting: a provider of the patient is refused, another org's
	// document is 404, the lead deletes it.
	if _, body := w.consolePage("GET", "/documents/"+doc, prov, nil); strings.Contains(body, `id="delete-form"`) ||
		!strings.Contains(body, `id="version-form"`) {
		t.Fatalf("provider's document page: %s", body)
	}
	if _, body := w.consolePage("GET", "/documents/"+doc, lead, nil); !strings.Contains(body, `id="delete-form"`) {
		t.Fatalf("lead's document page without the delete form: %s", body)
	}
	if resp, body := w.consolePage("POST", "/documents/"+doc+"/delete", prov, url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("provider deleting: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.consolePage("POST", "/documents/"+fdoc.ID.String()+"/delete", lead, url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's delete: %d", resp.StatusCode)
	}
	if n := versions(); n != 2 {
		t.Fatalf("refused deletes: %d versions", n)
	}
	resp, _ = w.consolePage("POST", "/documents/"+doc+"/delete", lead, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != w.root+"/cases/"+k+"?done=deleted" {
		t.Fatalf("delete: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := w.consolePage("GET", "/documents/"+doc, lead, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted document's page: %d", resp.StatusCode)
	}
	if _, body := w.consolePage("GET", "/cases/"+k+"?done=deleted", lead, nil); !strings.Contains(body, "The document was deleted.") {
		t.Errorf("the case page does not say the document was deleted: %s", body)
	}
	if _, body := w.consolePage("GET", "/cases/"+k, lead, nil); strings.Contains(body, "wage_statement") {
		t.Fatalf("case page lists the deleted document: %s", body)
	}
}

// Every form of console_records.go refused from another origin, in each
// way TestConsoleCrossSitePosts forges one, and nothing changed.
func TestConsoleCrossSiteRecordPosts(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Forged Records Clinic")
	w.populate(o, "frec")
	var kase, doc, amd struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Forged claim"}, http.StatusCreated, &kase)
	if resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "r.txt", []byte("report"),
		"Ward-Document-Type", "report"); resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	w.do("POST", "/v1/patients/"+o.P1.String()+"/amendments", o.PatUser.Token, map[string]any{"request": "Please fix my date of birth."},
		http.StatusCreated, &amd)
	adm, _ := w.consoleAdmin(o.Admin.Email)
	prov := w.consoleSignIn(o.Prov.Email)
	pat := w.consoleSignIn(o.PatUser.Email)
	version := w.recordForm(prov, o.P1.String())
	counts := func() string {
		var out string
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select concat_ws(' ',
			(select md5(string_agg(name_enc::text || coalesce(phone_enc::text, '') || updated_at::text, ',' order by id)) from app.patients where org_id = $1),
			(select count(*) from app.care_team where org_id = $1),
			(select string_agg(status || (disagreement_enc is not null)::text || (rebuttal_enc is not null)::text, ',') from app.record_amendments where org_id = $1),
			(select count(*) from app.record_amendments where org_id = $1),
			(select count(*) from app.documents where org_id = $1),
			(select count(*) from app.document_versions where org_id = $1))`, o.ID).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("version", "1")
	fw, _ := mw.CreateFormFile("file", "n.txt")
	_, _ = fw.Write([]byte("forged"))
	_ = mw.Close()
	form := "application/x-www-form-urlencoded"
	p1, a := "/patients/"+o.P1.String(), "/patients/"+o.P1.String()+"/amendments/"+amd.ID.String()
	posts := []struct {
		path, session, ctype, body string
	}{
		{p1 + "/edit", prov, form, url.Values{"version": {version}, "name": {"Forged"}, "dob": {""}, "phone": {""}, "email": {""},
			"address": {""}}.Encode()},
		{"/patients/" + o.P2.String() + "/care-team/" + o.Prov2.ID.String() + "/assign", adm, form, ""},
		{p1 + "/care-team/" + o.Prov.ID.String() + "/remove", adm, form, ""},
		{p1 + "/amendments", pat, form, url.Values{"request": {"forged"}}.Encode()},
		{a + "/decision", adm, form, url.Values{"outcome": {"accepted"}, "statement": {"forged"}}.Encode()},
		{a + "/disagreement", pat, form, url.Values{"statement": {"forged"}}.Encode()},
		{a + "/rebuttal", adm, form, url.Values{"statement": {"forged"}}.Encode()},
		{"/cases/" + kase.ID.String() + "/documents", adm, form, url.Values{"type": {"forged"}}.Encode()},
		{"/documents/" + doc.ID.String() + "/upload", adm, mw.FormDataContentType(), mp.String()},
		{"/documents/" + doc.ID.String() + "/delete", adm, form, ""},
	}
	u, _ := url.Parse(w.base)
	variants := []http.Header{
		{},
		{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {u.Scheme + "://evil." + u.Hostname()}},
		{"Origin": {"https://evil.example"}},
		{"Origin": {"null"}},
		{"Origin": {strings.Replace(w.base, "http://", "https://", 1)}},
	}
	docs, before := w.objects(o.ID), counts()
	for _, p := range posts {
		for i, v := range variants {
			for _, ctype := range []string{p.ctype, "text/plain"} {
				h := v.Clone()
				h.Set("Content-Type", ctype)
				h.Set("Cookie", "ward_session="+p.session)
				resp, b := w.browse("POST", p.path, h, p.body)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "cross_site_request") {
					t.Fatalf("POST %s, variant %d, %s: %d %s", p.path, i, ctype, resp.StatusCode, b)
				}
			}
		}
	}
	if n := w.objects(o.ID); n != docs {
		t.Fatalf("forged uploads stored %d objects", n-docs)
	}
	if after := counts(); after != before {
		t.Fatalf("forged posts changed records, care teams, amendments or documents: %s, was %s", after, before)
	}
	// The same forms from Ward's own pages do change them (the check above
	// is not vacuous): the record's edit, here.
	if resp, body := w.consolePage("POST", p1+"/edit", prov, url.Values{"version": {version}, "name": {"frec Patient One"},
		"dob": {"1970-03-04"}, "phone": {""}, "email": {""}, "address": {""}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin save: %d %s", resp.StatusCode, body)
	}
	if counts() == before {
		t.Fatal("a same-origin save changed nothing")
	}
}

// The record's edit form and the document page's new-version form in a
// real browser: Chromium's own form posts (the version field before the
// file in its multipart body, every field of the record sent), cookies and
// CSP.
func TestConsoleRecordsInChromium(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Browser Records Clinic")
	w.populate(o, "brec")
	var kase, doc struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Ankle sprain, stairwell"}, http.StatusCreated, &kase)
	if resp, b := w.upload("POST", "/v1/cases/"+kase.ID.String()+"/files", o.Lead.Token, "first.txt", []byte("synthetic first"),
		"Ward-Document-Type", "report"); resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	ctx := chromium(t)
	before := len(linkRE.FindAllString(w.outbox.String(), -1))
	do(t, ctx, "sign-in form",
		chromedp.Navigate(w.root+"/sign-in"),
		chromedp.SendKeys(chromedp.ID("email"), o.Prov.Email),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("link-sent")))
	link := w.waitLink(before)
	do(t, ctx, "link",
		chromedp.Navigate(w.root+"/v1/auth/magic?token="+link),
		chromedp.Click(chromedp.CSS(`form[action="/v1/auth/magic"] button`)),
		chromedp.WaitVisible(chromedp.ID("role")))
	do(t, ctx, "edit the record",
		chromedp.Navigate(w.root+"/patients/"+o.P1.String()),
		chromedp.Click(chromedp.ID("to-edit")),
		chromedp.WaitVisible(chromedp.ID("record-form")),
		chromedp.SetValue(chromedp.ID("record-phone"), "555-0123"),
		chromedp.Click(chromedp.ID("save-record")),
		chromedp.WaitVisible(chromedp.ID("notice")))
	if ph, n := w.patientField(o.Lead.Token, o.P1, "phone"), w.patientField(o.Lead.Token, o.P1, "name"); ph != "555-0123" || n != "brec Patient One" {
		t.Fatalf("after the browser's save: %q %q", ph, n)
	}
	file := filepath.Join(t.TempDir(), "second.txt")
	if err := os.WriteFile(file, []byte("synthetic second"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "new version",
		chromedp.Navigate(w.root+"/documents/"+doc.ID.String()),
		chromedp.WaitVisible(chromedp.ID("version-form")),
		chromedp.SetUploadFiles(chromedp.ID("version-file"), []string{file}),
		chromedp.Click(chromedp.ID("upload-version")),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/content?version=2"]`)))
	if v := read(t, ctx, "versions", chromedp.Text(chromedp.ID("versions"))); !strings.Contains(v, "second.txt") {
		t.Fatalf("versions after the browser's upload: %q", v)
	}
}

// The request page is for those who manage the case, as the request is
// (docs/console.md): an outside party on the case, its patient and a staff
// member granted uploads are refused it, with no form and no member list,
// and the refusal is audited as a refused request; a lead gets the form.
func TestConsoleDocumentRequestPageManagersOnly(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Request Page Clinic")
	w.populate(o, "crpg")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Wrist sprain"}, http.StatusCreated, &kase)
	k := kase.ID.String()
	w.do("PUT", "/v1/cases/"+k+"/members/"+o.Prov2.ID.String(), o.Lead.Token, map[string]any{"kind": "staff",
		"permissions": []string{"view", "upload"}}, http.StatusOK, nil)
	att := w.joined(o.Lead.Token, k, "counsel@law-crpg.example", "attorney", "view", "upload")
	denied := w.auditCount(o.ID, "document.request", "denied")
	for name, s := range map[string]string{"attorney": att.Token, "patient": w.consoleSignIn(o.PatUser.Email),
		"granted provider": w.consoleSignIn(o.Prov2.Email)} {
		resp, body := w.consolePage("GET", "/cases/"+k+"/request", s, nil)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, `id="request-form"`) {
			t.Errorf("%s's request page: %d %s", name, resp.StatusCode, body)
		}
	}
	if n := w.auditCount(o.ID, "document.request", "denied"); n != denied+3 {
		t.Errorf("%d refused requests audited, want %d", n, denied+3)
	}
	lead, _ := w.consoleAdmin(o.Lead.Email)
	if resp, body := w.consolePage("GET", "/cases/"+k+"/request", lead, nil); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, `id="request-form"`) || !strings.Contains(body, att.ID.String()) {
		t.Errorf("lead's request page: %d %s", resp.StatusCode, body)
	}
}

// TestConsoleFormsRefuseNUL: a console form with a NUL character in a
// field is refused before its handler (400 bad_form), as the JSON API
// refuses one, and nothing is saved; the value is not echoed.
func TestConsoleFormsRefuseNUL(t *testing.T) {
	w := newWorld(t, withLocalhost())
	o := w.createOrg("Console NUL Clinic")
	w.populate(o, "cnul")
	prov := w.consoleSignIn(o.Prov.Email)
	p1 := o.P1.String()
	_, body := w.consolePage("GET", "/patients/"+p1+"/edit", prov, nil)
	shown := recordVersionRE.FindStringSubmatch(body)[1]
	for _, f := range []url.Values{
		{"version": {shown}, "name": {"cnul Zed\x00Hidden"}, "dob": {"1970-03-04"}},
		{"version": {shown}, "name": {"cnul Patient One"}, "dob": {"1970-03-04"}, "x\x00": {"1"}},
	} {
		resp, body := w.consolePage("POST", "/patients/"+p1+"/edit", prov, f)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "NUL") || strings.Contains(body, "Hidden") {
			t.Errorf("a NUL in the form: %d %s", resp.StatusCode, body)
		}
	}
	_, body = w.consolePage("GET", "/patients/"+p1+"/edit", prov, nil)
	if !strings.Contains(body, `value="cnul Patient One"`) || recordVersionRE.FindStringSubmatch(body)[1] != shown {
		t.Errorf("the record changed: %s", body)
	}
}
