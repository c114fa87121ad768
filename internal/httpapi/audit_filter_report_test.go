package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

// TestAuditReadNamesItsFilter: an admin's read of the log records its
// filter, and a page filtered on a patient that shows events about them
// names the patient, so the read is in that patient's access report, as
// an export about them is; an id that names nobody gets the same answer and
// names nobody. Before, neither the filter nor the patient was recorded
// (helper-119's review).
func TestAuditReadNamesItsFilter(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Audit Filter")
	w.populate(o, "af")
	ctx := context.Background()
	nowhere := uuid.New()
	w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	w.integrate()
	var page struct{ Events []audit.Entry }
	w.do("GET", "/v1/audit/events?limit=1000&patient_id="+o.P1.String(), o.Admin.Token, nil, http.StatusOK, &page)
	if len(page.Events) == 0 {
		t.Fatal("no events about P1")
	}
	// The same answer for an id that names nobody: an empty page.
	var none struct{ Events []audit.Entry }
	w.do("GET", "/v1/audit/events?patient_id="+nowhere.String(), o.Admin.Token, nil, http.StatusOK, &none)
	if len(none.Events) != 0 {
		t.Fatalf("%d events about nobody", len(none.Events))
	}
	w.integrate()
	var filters []string
	rows, err := w.env.Super.Pool.Query(ctx, `select details->>'patient', coalesce(patient_id::text, '') from audit.events
	    where org_id = $1 and action = 'audit.read' and outcome = 'success' and details ? 'patient' order by at`, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var filter, named string
		if err := rows.Scan(&filter, &named); err != nil {
			t.Fatal(err)
		}
		filters = append(filters, filter+" "+named)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{o.P1.String() + " " + o.P1.String(), nowhere.String() + " "}
	if strings.Join(filters, ",") != strings.Join(want, ",") {
		t.Fatalf("audit.read events record filter and patient %q, want %q", filters, want)
	}
	var rep struct{ Accesses []audit.Access }
	w.do("GET", "/v1/patients/"+o.P1.String()+"/access-report", o.PatUser.Token, nil, http.StatusOK, &rep)
	found := false
	for _, a := range rep.Accesses {
		found = found || a.Action == "audit.read" && a.Actor.Valid && a.Actor.UUID == o.Admin.ID
	}
	if !found {
		t.Fatal("the admin's read of P1's events is not in P1's access report")
	}
	// A key that reads the log is recorded the same way.
	key := w.createKey(o, "audit:read")
	w.do("GET", "/v1/audit/events?patient_id="+o.P1.String(), key.Key, nil, http.StatusOK, &page)
	var named int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'audit.read'
	    and outcome = 'success' and credential_id = $2 and patient_id = $3`, o.ID, key.ID, o.P1).Scan(&named); err != nil || named != 1 {
		t.Fatalf("the key's read names P1 in %d events (%v), want 1", named, err)
	}
}

// TestAuditRoutesRefuseOtherScopes: API keys of the other scopes read
// neither the checkpoint, the log nor its proofs (held before; the only
// check of these routes against them).
func TestAuditRoutesRefuseOtherScopes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Audit Scopes")
	w.populate(o, "as")
	// Held before this review; kept as the only check of these
	// routes against keys of the other scopes.
	w.integrate()
	for _, scope := range []string{"members", "dsr", "gateway"} {
		key := w.createKey(o, scope).Key
		for _, p := range []string{"/v1/audit/checkpoint", "/v1/audit/events", "/v1/audit/proof/inclusion?seq=1",
			"/v1/audit/proof/consistency?from=1"} {
			if resp, body := w.request("GET", p, key, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s key GET %s: %d %.200s, want 403", scope, p, resp.StatusCode, body)
			}
		}
	}
}
