package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestIDOR tries every route that takes an id with another org's ids and
// with other patients' ids: the answer is 404 or 403, never data, and each
// denied access to a patient record is audited in the caller's org.
func TestIDOR(t *testing.T) {
	w := newWorld(t)
	a, b := w.createOrg("Org A"), w.createOrg("Org B")
	w.populate(a, "a")
	w.populate(b, "b")
	entry := map[string]any{"kind": "food", "name": "oatmeal", "kcal": 150, "observed_at": time.Now().UTC().Format(time.RFC3339)}
	patient := map[string]any{"name": "Mallory Overwrite", "dob": "", "phone": "", "email": "", "address": "",
		"mrn": "", "identifiers": map[string]string{}}

	// The session id of B's admin, to try revoking it from A.
	var bSessions struct {
		Sessions []struct {
			ID uuid.UUID `json:"id"`
		} `json:"sessions"`
	}
	w.do("GET", "/v1/sessions", b.Admin.Token, nil, http.StatusOK, &bSessions)
	bSession := bSessions.Sessions[0].ID

	type attempt struct {
		name   string
		actor  *member
		method string
		path   string
		body   any
		// audited: the denial must appear in A's log as this action.
		audited string
	}
	P := func(id uuid.UUID) string { return "/v1/patients/" + id.String() }
	attempts := []attempt{
		// Another org's ids, by every role of A.
		{"admin reads B patient", a.Admin, "GET", P(b.P1), nil, "patient.read"},
		{"lead reads B patient", a.Lead, "GET", P(b.P1), nil, "patient.read"},
		{"provider reads B patient", a.Prov, "GET", P(b.P1), nil, "patient.read"},
		{"patient reads B patient", a.PatUser, "GET", P(b.P1), nil, "patient.read"},
		{"lead updates B patient", a.Lead, "PUT", P(b.P1), patient, "patient.update"},
		{"lead patches B patient", a.Lead, "PATCH", P(b.P1), map[string]any{"name": "Mallory"}, "patient.update"},
		{"lead lists B entries", a.Lead, "GET", P(b.P1) + "/entries", nil, "entry.list"},
		{"lead adds B entry", a.Lead, "POST", P(b.P1) + "/entries", entry, "entry.create"},
		{"lead assigns to B patient", a.Lead, "PUT", P(b.P1) + "/care-team/" + b.Prov.ID.String(), nil, "care_team.assign"},
		{"lead assigns B provider to A patient", a.Lead, "PUT", P(a.P1) + "/care-team/" + b.Prov.ID.String(), nil, "care_team.assign"},
		{"lead unassigns B care team", a.Lead, "DELETE", P(b.P1) + "/care-team/" + b.Prov.ID.String(), nil, "care_team.unassign"},
		{"lead links B patient", a.Lead, "PUT", P(b.P1) + "/users/" + b.PatUser.ID.String(), nil, "patient_link.create"},
		{"lead links B user to A patient", a.Lead, "PUT", P(a.P2) + "/users/" + b.PatUser.ID.String(), nil, "patient_link.create"},
		{"admin reads B access report", a.Admin, "GET", P(b.P1) + "/access-report", nil, "patient.access_report"},
		{"admin changes B member", a.Admin, "PATCH", "/v1/members/" + b.Lead.ID.String(), map[string]string{"role": "admin"}, ""},
		{"admin revokes B member", a.Admin, "DELETE", "/v1/members/" + b.Lead.ID.String(), nil, ""},
		{"admin revokes B session", a.Admin, "DELETE", "/v1/sessions/" + bSession.String(), nil, ""},
		// Other patients' ids inside the org.
		{"patient reads other patient", a.PatUser, "GET", P(a.P2), nil, "patient.read"},
		{"patient updates other patient", a.PatUser, "PUT", P(a.P2), patient, "patient.update"},
		{"patient patches other patient", a.PatUser, "PATCH", P(a.P2), map[string]any{"phone": "555"}, "patient.update"},
		{"patient lists other entries", a.PatUser, "GET", P(a.P2) + "/entries", nil, "entry.list"},
		{"patient adds other entry", a.PatUser, "POST", P(a.P2) + "/entries", entry, "entry.create"},
		{"patient reads other access report", a.PatUser, "GET", P(a.P2) + "/access-report", nil, "patient.access_report"},
		{"provider reads unassigned patient", a.Prov, "GET", P(a.P2), nil, "patient.read"},
		{"provider updates unassigned patient", a.Prov, "PUT", P(a.P2), patient, "patient.update"},
		{"provider lists unassigned entries", a.Prov, "GET", P(a.P2) + "/entries", nil, "entry.list"},
		{"unassigned provider reads patient", a.Prov2, "GET", P(a.P1), nil, "patient.read"},
		{"provider assigns self", a.Prov2, "PUT", P(a.P1) + "/care-team/" + a.Prov2.ID.String(), nil, "care_team.assign"},
		{"patient links self", a.PatUser, "PUT", P(a.P2) + "/users/" + a.PatUser.ID.String(), nil, "patient_link.create"},
		{"provider reads access report", a.Prov, "GET", P(a.P1) + "/access-report", nil, "patient.access_report"},
		{"patient revokes admin session", a.PatUser, "DELETE", "/v1/sessions/" + bSession.String(), nil, ""},
		{"lead changes member", a.Lead, "PATCH", "/v1/members/" + a.Prov.ID.String(), map[string]string{"role": "admin"}, ""},
		{"provider reads audit log", a.Prov, "GET", "/v1/audit/events", nil, "audit.read"},
	}
	secrets := []string{"b Patient One", "b Patient Two", "b-MRN-1", "a Patient Two", "1981-05-06"}
	for _, at := range attempts {
		t.Run(at.name, func(t *testing.T) {
			before := 0
			if at.audited != "" {
				before = w.auditCount(a.ID, at.audited, "denied")
			}
			resp, body := w.request(at.method, at.path, at.actor.Token, at.body)
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 404 or 403: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q, want a problem document", ct)
			}
			for _, s := range secrets {
				if strings.Contains(string(body), s) {
					t.Fatalf("response leaks %q: %s", s, body)
				}
			}
			if at.audited != "" {
				if after := w.auditCount(a.ID, at.audited, "denied"); after != before+1 {
					t.Fatalf("denied %s audited %d times, want 1", at.audited, after-before)
				}
			}
		})
	}

	// Lists and searches return nothing of B's, rather than an error.
	t.Run("search B MRN", func(t *testing.T) {
		var r struct {
			Patients []any `json:"patients"`
		}
		w.do("POST", "/v1/patients/search", a.Admin.Token, map[string]string{"mrn": "b-MRN-1"}, http.StatusOK, &r)
		if len(r.Patients) != 0 {
			t.Fatalf("found %d of B's patients", len(r.Patients))
		}
	})
	t.Run("audit log filtered on B patient", func(t *testing.T) {
		// A's log holds only A's own refused attempts on that id; nothing of
		// B's log (B's reads, lists, creation of the patient) shows.
		var r struct {
			Events []struct {
				Outcome string    `json:"outcome"`
				Actor   uuid.UUID `json:"actor_id"`
			} `json:"events"`
		}
		w.do("GET", "/v1/audit/events?patient_id="+b.P1.String(), a.Admin.Token, nil, http.StatusOK, &r)
		aMembers := map[uuid.UUID]bool{a.Admin.ID: true, a.Lead.ID: true, a.Prov.ID: true, a.Prov2.ID: true,
			a.PatUser.ID: true, a.PatUser2.ID: true}
		for _, e := range r.Events {
			if e.Outcome != "denied" || !aMembers[e.Actor] {
				t.Fatalf("A's admin sees an event about B's patient that is not A's own denial: %+v", e)
			}
		}
	})
	t.Run("forged org header", func(t *testing.T) {
		resp, body := w.request("GET", P(b.P1), a.Admin.Token, nil, "Ward-Org", b.ID.String())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged Ward-Org: status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("B unchanged", func(t *testing.T) {
		var role string
		if err := w.env.Super.Pool.QueryRow(context.Background(),
			`select role from app.memberships where org_id = $1 and user_id = $2 and revoked_at is null`, b.ID, b.Lead.ID).Scan(&role); err != nil || role != "lead" {
			t.Fatalf("B's lead changed: %q %v", role, err)
		}
		var n int
		_ = w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.clinical_entries where org_id = $1`, b.ID).Scan(&n)
		if n != 0 {
			t.Fatalf("B has %d entries written from A", n)
		}
	})
}
