package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
)

// TestRecordsAuthzAttack is an attacker's review of the authorization
// logic of the record, care-team, amendment, data-subject request, export
// and disclosure routes: each role tries the step of a role above it, a
// body names what the server sets, and two ids (one that exists where the
// caller may not see it, one that exists nowhere) must be answered alike.
// The cases TestIDOR, TestAmendments, TestDSRQueue and TestPatientExport
// already hold are not repeated.
func TestRecordsAuthzAttack(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Authz Clinic")
	w.populate(o, "az")
	other := w.createOrg("Authz Other")
	w.populate(other, "ot")
	P := func(id uuid.UUID) string { return "/v1/patients/" + id.String() }
	p1 := P(o.P1)

	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Knee"}, http.StatusCreated, &kase)
	outsider := w.joined(o.Lead.Token, kase.ID.String(), "payer@insurer.test", "payer", "view", "download")

	// A denied amendment of P1 (for the disagreement steps) and an open
	// access request about P1.
	var denied amendmentJSON
	w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "My birth year is wrong."},
		http.StatusCreated, &denied)
	w.do("POST", p1+"/amendments/"+denied.ID.String()+"/decision", o.Admin.Token,
		map[string]any{"outcome": "denied", "basis": "accurate_and_complete", "statement": "The year is right."},
		http.StatusOK, nil)
	var access struct {
		ID uuid.UUID `json:"id"`
	}
	w.do("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1},
		http.StatusCreated, &access)
	dsr := "/v1/compliance/dsr/" + access.ID.String()
	step := func(what string) string { return p1 + "/amendments/" + denied.ID.String() + "/" + what }
	decide := map[string]any{"outcome": "accepted", "statement": "x"}
	say := map[string]any{"statement": "x"}

	t.Run("roles beyond their role", func(t *testing.T) {
		for _, c := range []struct {
			name, method, path, token string
			body                      any
			want                      int
		}{
			{"provider decides an amendment", "POST", step("decision"), o.Prov.Token, decide, http.StatusForbidden},
			{"provider rebuts", "POST", step("rebuttal"), o.Prov.Token, say, http.StatusForbidden},
			{"lead rebuts", "POST", step("rebuttal"), o.Lead.Token, say, http.StatusForbidden},
			{"patient rebuts their own", "POST", step("rebuttal"), o.PatUser.Token, say, http.StatusForbidden},
			{"provider disagrees for the patient", "POST", step("disagreement"), o.Prov.Token, say, http.StatusForbidden},
			{"admin disagrees for the patient", "POST", step("disagreement"), o.Admin.Token, say, http.StatusForbidden},
			{"other patient disagrees", "POST", step("disagreement"), o.PatUser2.Token, say, http.StatusNotFound},
			{"other org's patient disagrees", "POST", step("disagreement"), other.PatUser.Token, say, http.StatusNotFound},
			{"patient closes their own request", "POST", dsr + "/close", o.PatUser.Token,
				map[string]any{"outcome": "fulfilled"}, http.StatusForbidden},
			{"provider closes a request", "POST", dsr + "/close", o.Prov.Token,
				map[string]any{"outcome": "withdrawn"}, http.StatusForbidden},
			{"lead extends a request", "POST", dsr + "/extend", o.Lead.Token,
				map[string]any{"reason": "volume"}, http.StatusForbidden},
			{"other org's admin closes it", "POST", dsr + "/close", other.Admin.Token,
				map[string]any{"outcome": "withdrawn"}, http.StatusNotFound},
			{"provider files an access request for an assigned patient", "POST", "/v1/compliance/dsr", o.Prov.Token,
				map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusForbidden},
			{"provider files a CCPA request about a patient user", "POST", "/v1/compliance/dsr", o.Prov.Token,
				map[string]any{"kind": "ccpa_delete", "subject_user_id": o.PatUser.ID}, http.StatusForbidden},
			{"provider reads the request", "GET", dsr, o.Prov.Token, nil, http.StatusNotFound},
			{"patient adds themself to the care team", "PUT", p1 + "/care-team/" + o.PatUser.ID.String(), o.PatUser.Token,
				nil, http.StatusForbidden},
			{"patient removes their provider", "DELETE", p1 + "/care-team/" + o.Prov.ID.String(), o.PatUser.Token,
				nil, http.StatusForbidden},
			{"provider removes themself", "DELETE", p1 + "/care-team/" + o.Prov.ID.String(), o.Prov.Token,
				nil, http.StatusForbidden},
			{"provider adds a colleague", "PUT", p1 + "/care-team/" + o.Prov2.ID.String(), o.Prov.Token,
				nil, http.StatusForbidden},
			{"provider links a patient user", "PUT", P(o.P2) + "/users/" + o.PatUser.ID.String(), o.Prov.Token,
				nil, http.StatusForbidden},
			{"provider reads the disclosures of an assigned patient", "GET", p1 + "/disclosures", o.Prov.Token,
				nil, http.StatusForbidden},
			{"lead reads the disclosures", "GET", p1 + "/disclosures", o.Lead.Token, nil, http.StatusForbidden},
			{"other patient reads the disclosures", "GET", p1 + "/disclosures", o.PatUser2.Token, nil, http.StatusNotFound},
			{"other org's admin reads the disclosures", "GET", p1 + "/disclosures", other.Admin.Token, nil, http.StatusNotFound},
			{"stakeholder reads the patient", "GET", p1, outsider.Token, nil, http.StatusNotFound},
			{"stakeholder reads the entries", "GET", p1 + "/entries", outsider.Token, nil, http.StatusNotFound},
			{"stakeholder reads the amendments", "GET", p1 + "/amendments", outsider.Token, nil, http.StatusNotFound},
			{"stakeholder asks for an amendment", "POST", p1 + "/amendments", outsider.Token,
				map[string]any{"request": "x"}, http.StatusForbidden},
			{"stakeholder reads the access report", "GET", p1 + "/access-report", outsider.Token, nil, http.StatusForbidden},
			{"stakeholder reads the disclosures", "GET", p1 + "/disclosures", outsider.Token, nil, http.StatusForbidden},
			{"stakeholder exports the patient", "POST", p1 + "/export", outsider.Token,
				map[string]any{"passphrase": "correct horse battery", "documents": true}, http.StatusForbidden},
			{"stakeholder files an access request", "POST", "/v1/compliance/dsr", outsider.Token,
				map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusForbidden},
			{"stakeholder reads the request", "GET", dsr, outsider.Token, nil, http.StatusNotFound},
		} {
			if resp, body := w.request(c.method, c.path, c.token, c.body); resp.StatusCode != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
			}
		}
		// Lists give the stakeholder and the provider nothing of the patient's.
		var pl struct {
			Patients []any `json:"patients"`
		}
		w.do("GET", "/v1/patients", outsider.Token, nil, http.StatusOK, &pl)
		var dl struct {
			Requests []any `json:"requests"`
		}
		w.do("GET", "/v1/compliance/dsr?patient_id="+o.P1.String(), o.Prov.Token, nil, http.StatusOK, &dl)
		if len(pl.Patients) != 0 || len(dl.Requests) != 0 {
			t.Fatalf("the stakeholder lists %d patients, the provider %d requests about P1", len(pl.Patients), len(dl.Requests))
		}
	})

	// A body that names what the server sets is refused whole.
	t.Run("mass assignment", func(t *testing.T) {
		for _, c := range []struct {
			name, method, path, token string
			body                      map[string]any
		}{
			{"a request's status", "POST", "/v1/compliance/dsr", o.PatUser.Token,
				map[string]any{"kind": "ccpa_know", "status": "fulfilled"}},
			{"a request's requester", "POST", "/v1/compliance/dsr", o.PatUser.Token,
				map[string]any{"kind": "access", "patient_id": o.P1, "requested_by": o.Admin.ID}},
			{"a request's deadline", "POST", "/v1/compliance/dsr", o.PatUser.Token,
				map[string]any{"kind": "access", "patient_id": o.P1, "due_at": "2099-01-01T00:00:00Z"}},
			{"a request's org", "POST", "/v1/compliance/dsr", o.Admin.Token,
				map[string]any{"kind": "access", "patient_id": other.P1, "org_id": other.ID}},
			{"an amendment's patient", "POST", p1 + "/amendments", o.PatUser.Token,
				map[string]any{"request": "x", "patient_id": o.P2}},
			{"a decision's author", "POST", p1 + "/amendments/" + uuid.NewString() + "/decision", o.Admin.Token,
				map[string]any{"outcome": "accepted", "statement": "x", "decided_by": o.Lead.ID}},
			{"a patient's org", "PATCH", p1, o.PatUser.Token, map[string]any{"org_id": other.ID}},
			{"a patient's id", "PATCH", p1, o.PatUser.Token, map[string]any{"id": o.P2}},
			{"a patient's creator", "PATCH", p1, o.Prov.Token, map[string]any{"created_by": o.Prov.ID}},
			{"an entry's author", "POST", p1 + "/entries", o.Prov.Token, map[string]any{"kind": "food", "name": "Tea",
				"observed_at": time.Now().UTC().Format(time.RFC3339), "created_by": o.Lead.ID}},
			{"an export's patient", "POST", p1 + "/export", o.PatUser.Token,
				map[string]any{"passphrase": "correct horse battery", "patient_id": o.P2}},
		} {
			if resp, body := w.request(c.method, c.path, c.token, c.body); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", c.name, resp.StatusCode, body)
			}
		}
	})

	// Nothing tells an id that exists where the caller may not look from
	// one that exists nowhere: same status, same problem code.
	t.Run("existence oracles", func(t *testing.T) {
		nobody := uuid.New()
		entry := map[string]any{"kind": "food", "name": "Tea", "observed_at": time.Now().UTC().Format(time.RFC3339)}
		for _, c := range []struct {
			name, method, token string
			path                func(id uuid.UUID) string
			body                any
			hidden              uuid.UUID
		}{
			{"provider reads", "GET", o.Prov.Token, P, nil, o.P2},
			{"provider adds an entry", "POST", o.Prov.Token, func(id uuid.UUID) string { return P(id) + "/entries" }, entry, o.P2},
			{"provider lists amendments", "GET", o.Prov.Token, func(id uuid.UUID) string { return P(id) + "/amendments" }, nil, o.P2},
			{"patient asks for an amendment", "POST", o.PatUser.Token, func(id uuid.UUID) string { return P(id) + "/amendments" },
				map[string]any{"request": "x"}, o.P2},
			{"patient exports", "POST", o.PatUser.Token, func(id uuid.UUID) string { return P(id) + "/export" },
				map[string]any{"passphrase": "correct horse battery"}, o.P2},
			{"patient's access report", "GET", o.PatUser.Token, func(id uuid.UUID) string { return P(id) + "/access-report" }, nil, o.P2},
			{"admin's access report, other org", "GET", o.Admin.Token, func(id uuid.UUID) string { return P(id) + "/access-report" }, nil, other.P1},
			{"admin exports, other org", "POST", o.Admin.Token, func(id uuid.UUID) string { return P(id) + "/export" },
				map[string]any{"passphrase": "correct horse battery"}, other.P1},
			{"admin asks for an amendment, other org", "POST", o.Admin.Token, func(id uuid.UUID) string { return P(id) + "/amendments" },
				map[string]any{"request": "x"}, other.P1},
			{"lead assigns to another org's patient", "PUT", o.Lead.Token,
				func(id uuid.UUID) string { return P(id) + "/care-team/" + o.Prov2.ID.String() }, nil, other.P1},
			{"lead assigns another org's provider", "PUT", o.Lead.Token,
				func(id uuid.UUID) string { return p1 + "/care-team/" + id.String() }, nil, other.Prov.ID},
			{"admin files for another org's patient", "POST", o.Admin.Token, func(uuid.UUID) string { return "/v1/compliance/dsr" },
				nil, other.P1},
			{"patient files for another patient", "POST", o.PatUser.Token, func(uuid.UUID) string { return "/v1/compliance/dsr" },
				nil, o.P2},
			{"admin files about another org's member", "POST", o.Admin.Token, func(uuid.UUID) string { return "/v1/compliance/dsr" },
				"subject", other.PatUser.ID},
			{"provider files about a colleague", "POST", o.Prov.Token, func(uuid.UUID) string { return "/v1/compliance/dsr" },
				"subject", o.Prov2.ID},
		} {
			try := func(id uuid.UUID) (int, string) {
				body := c.body
				switch c.body {
				case nil:
					if c.path(id) == "/v1/compliance/dsr" {
						body = map[string]any{"kind": "access", "patient_id": id}
					}
				case "subject":
					body = map[string]any{"kind": "ccpa_know", "subject_user_id": id}
				}
				resp, b := w.request(c.method, c.path(id), c.token, body)
				return resp.StatusCode, problemCode(t, b)
			}
			hs, hc := try(c.hidden)
			ns, nc := try(nobody)
			if hs != ns || hc != nc || hs < 400 {
				t.Errorf("%s: a hidden id answers %d %s, an unknown one %d %s", c.name, hs, hc, ns, nc)
			}
		}
	})

	// Two admins decide one request at once, one accepting, one denying:
	// one decision stands, the other is a conflict, and the queue entry
	// closes with the one that stood.
	t.Run("racing decisions", func(t *testing.T) {
		admin2 := w.addMember(o, "az-admin2@example.test", identity.RoleAdmin)
		var a amendmentJSON
		w.do("POST", p1+"/amendments", o.PatUser.Token, map[string]any{"request": "My phone number changed."},
			http.StatusCreated, &a)
		ctx := context.Background()
		lock, err := w.env.Super.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = lock.Rollback(ctx) }()
		if _, err := lock.Exec(ctx, `select 1 from app.record_amendments where id = $1 for update`, a.ID); err != nil {
			t.Fatal(err)
		}
		bodies := []map[string]any{
			{"outcome": "accepted", "statement": "Updated."},
			{"outcome": "denied", "basis": "accurate_and_complete", "statement": "Unchanged."},
		}
		type result struct {
			status int
			body   []byte
			err    error
		}
		results := make([]result, 2)
		var wg sync.WaitGroup
		for i, token := range []string{o.Admin.Token, admin2.Token} {
			b, _ := json.Marshal(bodies[i])
			req, err := http.NewRequest("POST", w.srv.URL+p1+"/amendments/"+a.ID.String()+"/decision", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			w.authorize(req, token)
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := w.srv.Client().Do(req)
				if err != nil {
					results[i].err = err
					return
				}
				defer resp.Body.Close()
				results[i].status = resp.StatusCode
				results[i].body, results[i].err = io.ReadAll(resp.Body)
			}()
		}
		// Both updates wait on the row lock before it is let go (a bound
		// on the wait only turns a hang into a failure).
		for tries := 0; ; tries++ {
			var n int
			if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from pg_stat_activity
				where wait_event_type = 'Lock' and query like '%DecideAmendment%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 2 {
				break
			}
			if tries == 6000 {
				t.Fatalf("%d decisions wait on the row", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := lock.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		won := -1
		for i, r := range results {
			switch {
			case r.err != nil:
				t.Fatalf("decision %d: %v", i, r.err)
			case r.status == http.StatusOK && won < 0:
				won = i
			case r.status != http.StatusConflict:
				t.Fatalf("decision %d: %d %s", i, r.status, r.body)
			}
		}
		if won < 0 {
			t.Fatalf("no decision stood: %+v", results)
		}
		var queued struct {
			Status string `json:"status"`
		}
		w.do("GET", "/v1/compliance/dsr/"+a.DSRID.String(), o.Admin.Token, nil, http.StatusOK, &queued)
		want := map[int]string{0: "fulfilled", 1: "denied"}[won]
		if queued.Status != want {
			t.Fatalf("decision %d stood, the queue entry is %q, want %q", won, queued.Status, want)
		}
	})
}
