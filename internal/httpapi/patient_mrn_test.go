package httpapi_test

import (
	"net/http"
	"testing"
)

// A lead's change of a patient's MRN is kept: the record reads the new
// MRN and a search finds it by the new one only. The MRN is sealed both as
// its blind index and inside the identifiers blob, and an update that kept
// the old blob when no other identifier changed lost the new MRN (found by
// TestConsoleRecordEdit).
func TestPatientMRNChange(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("MRN Clinic")
	w.populate(o, "mrnc")
	w.do("PATCH", "/v1/patients/"+o.P1.String(), o.Lead.Token, map[string]any{"mrn": "mrnc-MRN-9"}, http.StatusOK, nil)
	var p struct {
		MRN string `json:"mrn"`
	}
	if w.do("GET", "/v1/patients/"+o.P1.String(), o.Lead.Token, nil, http.StatusOK, &p); p.MRN != "mrnc-MRN-9" {
		t.Fatalf("MRN after the change: %q", p.MRN)
	}
	for mrn, want := range map[string]int{"mrnc-MRN-9": 1, "mrnc-MRN-1": 0} {
		var page struct {
			Patients []struct {
				MRN string `json:"mrn"`
			} `json:"patients"`
		}
		w.do("POST", "/v1/patients/search", o.Lead.Token, map[string]any{"mrn": mrn}, http.StatusOK, &page)
		if len(page.Patients) != want || want == 1 && page.Patients[0].MRN != mrn {
			t.Fatalf("search by %s: %+v", mrn, page.Patients)
		}
	}
}
