package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// A patient's access report names no other patient: when another patient
// of the org tries to read the record, the patient's own report shows the
// denied read by role only, with no actor id (their address was already
// withheld), while staff keep their id; the org's admin still sees who it
// was. Before, the other patient's user id was in the report.
func TestAccessReportHidesOtherPatients(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Other Patient Clinic")
	w.populate(o, "opc")
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+o.P1.String(), o.PatUser2.Token, nil, http.StatusNotFound, nil)
	type entry struct {
		Action    string        `json:"action"`
		Outcome   string        `json:"outcome"`
		Actor     uuid.NullUUID `json:"actor_id"`
		ActorRole string        `json:"actor_role"`
	}
	var rep struct {
		Accesses []entry `json:"accesses"`
	}
	find := func(es []entry, outcome, role string) entry {
		t.Helper()
		for _, e := range es {
			if e.Action == "patient.read" && e.Outcome == outcome && e.ActorRole == role {
				return e
			}
		}
		t.Fatalf("no %s patient.read by a %s in %+v", outcome, role, es)
		return entry{}
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	if e := find(rep.Accesses, "denied", "patient"); e.Actor.Valid {
		t.Fatalf("the patient's report names the other patient who tried: %+v", e)
	}
	if e := find(rep.Accesses, "success", "provider"); e.Actor != (uuid.NullUUID{UUID: o.Prov.ID, Valid: true}) {
		t.Fatalf("the provider's read lost its actor: %+v", e)
	}
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.Admin.Token, nil, http.StatusOK, &rep)
	if e := find(rep.Accesses, "denied", "patient"); e.Actor != (uuid.NullUUID{UUID: o.PatUser2.ID, Valid: true}) {
		t.Fatalf("the admin's report of the denied read: %+v", e)
	}
}
