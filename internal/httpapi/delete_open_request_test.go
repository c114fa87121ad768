package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestDocumentDeleteWaitsForAccessRequest: while an access request of the
// patient is open, a lead or admin cannot delete a document of the
// patient's cases by hand (409 open_request, the refusal audited), as the
// retention purge keeps it; once the request is closed, the deletion goes
// through. Another patient's documents are not held.
func TestDocumentDeleteWaitsForAccessRequest(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Delete Waits Org")
	w.populate(o, "dw")
	doc := func(patient uuid.UUID) string {
		var c caseJSON
		w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": patient, "title": "Claim"}, http.StatusCreated, &c)
		var d docJSON
		w.do("POST", "/v1/cases/"+c.ID.String()+"/documents", o.Lead.Token, map[string]any{"type": "medical_report"},
			http.StatusCreated, &d)
		return "/v1/documents/" + d.ID.String()
	}
	mine, theirs := doc(o.P1), doc(o.P2)
	var dsr struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1},
		http.StatusCreated, &dsr)
	for _, token := range []string{o.Lead.Token, o.Admin.Token} {
		resp, body := w.request("DELETE", mine, token, nil)
		if resp.StatusCode != http.StatusConflict || problemCode(t, body) != "open_request" {
			t.Fatalf("delete while the access request is open: %d %s", resp.StatusCode, body)
		}
	}
	if n := w.auditCount(o.ID, "document.delete", "denied"); n != 2 {
		t.Errorf("%d refused deletions audited, want 2", n)
	}
	w.do("DELETE", theirs, o.Lead.Token, nil, http.StatusNoContent, nil)
	w.do("POST", "/v1/compliance/dsr/"+dsr.ID.String()+"/close", o.Admin.Token, map[string]any{"outcome": "fulfilled"},
		http.StatusOK, nil)
	w.do("DELETE", mine, o.Lead.Token, nil, http.StatusNoContent, nil)
}
