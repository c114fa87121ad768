package httpapi_test

import (
	"net/http"
	"testing"

	"filippo.io/age"

	"github.com/wardhq/ward/internal/auth"
)

// TestDSRDocContract walks docs/dsr.md "The API" for what TestDSRQueue
// leaves out: an admin's CCPA request about a member (subject_user_id), a
// HIPAA kind naming a member alone (400), the list's order (open first by
// due date, closed after), a ccpa_limit request, which has no extension
// (409), what a member who is neither admin nor patient may file, and the
// access export's headers and its refusal to a dsr key.
func TestDSRDocContract(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Doc Org")
	w.populate(o, "dsrd")
	const base = "/v1/compliance/dsr"

	var del, limit, access dsrJSON
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "ccpa_delete", "subject_user_id": o.Prov.ID},
		http.StatusCreated, &del)
	if del.SubjectUserID == nil || *del.SubjectUserID != o.Prov.ID || del.PatientID != nil {
		t.Fatalf("a CCPA request about a member: %+v", del)
	}
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "subject_user_id": o.PatUser.ID},
		http.StatusBadRequest, nil)
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, &access)
	w.do("POST", base, o.Admin.Token, map[string]any{"kind": "ccpa_limit", "subject_user_id": o.Lead.ID},
		http.StatusCreated, &limit)

	resp, b := w.request("POST", base+"/"+limit.ID.String()+"/extend", o.Admin.Token, map[string]any{"reason": "volume"})
	if resp.StatusCode != http.StatusConflict || problemCode(t, b) != "conflict" {
		t.Fatalf("extending a ccpa_limit request: %d %s", resp.StatusCode, b)
	}
	w.do("POST", base+"/"+limit.ID.String()+"/close", o.Admin.Token, map[string]any{"outcome": "fulfilled"}, http.StatusOK, nil)

	var list struct {
		Requests []dsrJSON `json:"requests"`
	}
	w.do("GET", base, o.Admin.Token, nil, http.StatusOK, &list)
	// Open by due date: access (30 days), then ccpa_delete (45); the
	// closed ccpa_limit (15) last.
	if len(list.Requests) != 3 || list.Requests[0].ID != access.ID || list.Requests[1].ID != del.ID ||
		list.Requests[2].ID != limit.ID {
		t.Fatalf("list order: %+v", list.Requests)
	}

	// "Who does what": another member files a CCPA request about
	// themself, nothing about a patient's record or another member.
	var mine dsrJSON
	w.do("POST", base, o.Prov.Token, map[string]any{"kind": "ccpa_know"}, http.StatusCreated, &mine)
	if mine.SubjectUserID == nil || *mine.SubjectUserID != o.Prov.ID || mine.RequestedBy != o.Prov.ID {
		t.Fatalf("a provider's CCPA request about themself: %+v", mine)
	}
	for _, body := range []map[string]any{
		{"kind": "access", "patient_id": o.P1},
		{"kind": "ccpa_delete", "subject_user_id": o.Prov2.ID},
	} {
		resp, b := w.request("POST", base, o.Prov.Token, body)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "forbidden" {
			t.Fatalf("a provider files %v: %d %s", body, resp.StatusCode, b)
		}
	}

	// The access export: an attachment nobody keeps; no key exports, even
	// one with the dsr scope.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	export := "/v1/patients/" + o.P1.String() + "/export"
	resp, b = w.request("POST", export, o.PatUser.Token, map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="patient-`+o.P1.String()+`.json.age"` {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	resp, b = w.request("POST", export, w.createKey(o, auth.ScopeDSR).Key, map[string]any{"recipient": id.Recipient().String()})
	if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "credential_not_accepted" {
		t.Fatalf("export with a dsr key: %d %s", resp.StatusCode, b)
	}
}
