package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"
)

// TestAuditFiltersRefuseStrayParameters: the audit routes read the filters
// they know and ignored the rest, and took the first of a repeated one. An
// admin exporting one patient's events with a misspelt filter
// (?patinet_id=…) was answered 200 with every patient's events; one who
// named two patients got the first one's only; a proxy reading the last of
// two limits saw another request than Ward did. Every audit route now
// answers 400 invalid_query for a parameter it does not take or one given
// twice, as the request queue's list already did; well-formed queries are
// answered as before.
func TestAuditFiltersRefuseStrayParameters(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Stray Filters")
	w.populate(o, "sf")
	w.integrate()
	p1, p2 := o.P1.String(), o.P2.String()
	for _, p := range []string{
		"/v1/audit/events?patinet_id=" + p1,
		"/v1/audit/events?patient_id=" + p1 + "&patient_id=" + p2,
		"/v1/audit/events?action=patient.read&action=patient.create",
		"/v1/audit/events?limit=1&limit=1000",
		"/v1/audit/events?after=0&after=5",
		"/v1/audit/export?patinet_id=" + p1,
		"/v1/audit/export?patient_id=" + p1 + "&patient_id=" + p2,
		"/v1/audit/export?format=csv&format=jsonl",
		"/v1/audit/export?since=2026-01-01T00:00:00Z",
		"/v1/audit/export/bundle?patinet_id=" + p1,
		"/v1/audit/export/bundle?actor_id=" + o.Lead.ID.String() + "&actor_id=" + o.Prov.ID.String(),
		"/v1/patients/" + p1 + "/access-report?limit=1&limit=1000",
		"/v1/patients/" + p1 + "/access-report?befor=3",
		"/v1/audit/proof/inclusion?seq=1&seq=2",
		"/v1/audit/proof/inclusion?seq=1&org=x",
		"/v1/audit/proof/consistency?from=1&form=2",
	} {
		resp, body := w.request("GET", p, o.Admin.Token, nil)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "invalid_query" {
			t.Errorf("GET %s: %d %.200s, want 400 invalid_query", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{
		"/v1/audit/events?patient_id=" + p1 + "&action=patient.create&limit=5&after=0",
		"/v1/audit/export?format=csv&patient_id=" + p1 + "&from=2020-01-01T00:00:00Z",
		"/v1/audit/export/bundle?patient_id=" + p1,
		"/v1/patients/" + p1 + "/access-report?after=0&limit=5",
		"/v1/audit/proof/inclusion?seq=1",
		"/v1/audit/proof/consistency?from=1",
	} {
		if resp, body := w.request("GET", p, o.Admin.Token, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %.200s, want 200", p, resp.StatusCode, body)
		}
	}
}

// TestListsRefuseRepeatedParameters: the list routes refused a parameter
// they do not take but read the first of a repeated one, so
// ?limit=5&limit=500 was a page of 5 to Ward and a request past the limit
// to a proxy reading the last value, and ?status=a&status=b answered
// status a; the member list read no query at all, so ?email=… (an address
// in a URL, which the patient list refuses) answered every member. Each
// now answers 400 invalid_query; well-formed queries are answered as
// before.
func TestListsRefuseRepeatedParameters(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Repeated Params")
	w.populate(o, "rp")
	var kase struct {
		ID string `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &kase)
	var doc struct {
		ID string `json:"id"`
	}
	w.do("POST", "/v1/cases/"+kase.ID+"/documents", o.Lead.Token, map[string]any{"type": "report"}, http.StatusCreated, &doc)
	p1 := o.P1.String()
	for _, p := range []string{
		"/v1/patients?limit=5&limit=500",
		"/v1/patients?limit=5&limit=5",
		"/v1/patients/" + p1 + "/entries?limit=5&limit=900",
		"/v1/cases?status=open&status=closed",
		"/v1/cases?patient_id=" + p1 + "&patient_id=" + o.P2.String(),
		"/v1/cases/" + kase.ID + "/documents?status=pending&status=overdue",
		"/v1/documents/" + doc.ID + "/comments?limit=1&limit=2",
		"/v1/documents/" + doc.ID + "/content?version=1&version=2",
		"/v1/members?email=" + o.PatUser.Email,
	} {
		resp, body := w.request("GET", p, o.Admin.Token, nil)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, body) != "invalid_query" {
			t.Errorf("GET %s: %d %.200s, want 400 invalid_query", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{
		"/v1/patients?limit=5",
		"/v1/patients/" + p1 + "/entries?limit=5",
		"/v1/cases?status=open&patient_id=" + p1 + "&limit=5",
		"/v1/cases/" + kase.ID + "/documents?status=pending&limit=5",
		"/v1/documents/" + doc.ID + "/comments?limit=1",
		"/v1/members",
	} {
		if resp, body := w.request("GET", p, o.Admin.Token, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %.200s, want 200", p, resp.StatusCode, body)
		}
	}
}

// TestBodiesRefuseContentCoding: a body with a Content-Encoding was read as
// if it had none. A JSON body labelled gzip was decoded as plain JSON (what
// a proxy or DLP inspecting the decoded body never saw), and an upload
// labelled gzip was stored as the compressed bytes, its hash and type those
// of the gzip; a merge patch declared in another charset was read as
// UTF-8, which a JSON body already refuses. Each is now 415
// unsupported_media_type, and nothing is stored.
func TestBodiesRefuseContentCoding(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Content Coding")
	w.populate(o, "cc")
	var kase, doc struct {
		ID string `json:"id"`
	}
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Claim"}, http.StatusCreated, &kase)
	w.do("POST", "/v1/cases/"+kase.ID+"/documents", o.Lead.Token, map[string]any{"type": "report"}, http.StatusCreated, &doc)
	entry := map[string]any{"kind": "food", "name": "oats", "observed_at": "2026-12-01T09:00:00Z"}
	want415 := func(what string, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != http.StatusUnsupportedMediaType || problemCode(t, body) != "unsupported_media_type" {
			t.Errorf("%s: %d %.200s, want 415 unsupported_media_type", what, resp.StatusCode, body)
		}
	}
	for _, ce := range []string{"gzip", "br", "identity, gzip"} {
		resp, body := w.request("POST", "/v1/patients/"+o.P1.String()+"/entries", o.Lead.Token, entry, "Content-Encoding", ce)
		want415("JSON body with Content-Encoding "+ce, resp, body)
	}
	resp, body := w.request("PATCH", "/v1/patients/"+o.P1.String(), o.Lead.Token, map[string]any{"name": "Renamed"},
		"Content-Type", "application/merge-patch+json; charset=iso-8859-1")
	want415("merge patch in latin-1", resp, body)
	resp, body = w.request("PATCH", "/v1/patients/"+o.P1.String(), o.Lead.Token, map[string]any{"name": "Renamed"},
		"Content-Type", "application/merge-patch+json", "Content-Encoding", "gzip")
	want415("merge patch with Content-Encoding gzip", resp, body)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a plain text report"))
	zw.Close()
	resp, body = w.upload("PUT", "/v1/documents/"+doc.ID+"/content", o.Lead.Token, "report.txt", gz.Bytes(),
		"Content-Type", "text/plain", "Content-Encoding", "gzip")
	want415("upload with Content-Encoding gzip", resp, body)
	var d struct {
		Versions []json.RawMessage `json:"versions"`
	}
	if w.do("GET", "/v1/documents/"+doc.ID, o.Lead.Token, nil, http.StatusOK, &d); len(d.Versions) != 0 {
		t.Errorf("a refused upload stored a version: %d", len(d.Versions))
	}

	// Without a coding (or with identity) they are answered as before.
	w.do("POST", "/v1/patients/"+o.P1.String()+"/entries", o.Lead.Token, entry, http.StatusCreated, nil)
	if resp, body := w.request("POST", "/v1/patients/"+o.P1.String()+"/entries", o.Lead.Token, entry,
		"Content-Encoding", "identity"); resp.StatusCode != http.StatusCreated {
		t.Errorf("JSON body with Content-Encoding identity: %d %.200s", resp.StatusCode, body)
	}
	if resp, body := w.upload("PUT", "/v1/documents/"+doc.ID+"/content", o.Lead.Token, "report.txt",
		[]byte("a plain text report"), "Content-Type", "text/plain"); resp.StatusCode != http.StatusCreated {
		t.Errorf("plain upload: %d %.200s", resp.StatusCode, body)
	}
}
