package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/httpapi"
)

// TestAuditDSRAttack is an attacker's review of the audit transparency
// routes (events, checkpoint, proofs, the access report), the audit export,
// the sinks' configuration and the data-subject queue: malformed and
// out-of-range parameters answer 400 problem documents (never a 500),
// every role below admin is refused the admin's audit data, another org's
// ids are answered as ids that exist nowhere, a patient's access report
// names no other patient's address, proofs are of the caller's own org,
// two decisions on one request race to exactly one, closing an erasure
// request leaves the log whole, break-glass administration takes no other
// org's members, and one principal's rate limit covers these routes.
// Cases TestAuditProofs,
// TestAuditExportAPI, TestAuditSinksAPI, TestDSRQueue and
// TestRecordsAuthzAttack already hold are not repeated.
func TestAuditDSRAttack(t *testing.T) {
	clock := &haltClock{}
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.Now = clock.now }))
	a := w.createOrg("Attack Audit A")
	w.populate(a, "aa")
	b := w.createOrg("Attack Audit B")
	w.populate(b, "ab")
	for _, o := range []*org{a, b} {
		w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	}
	w.integrate()
	var cpA, cpB audit.Checkpoint
	w.do("GET", "/v1/audit/checkpoint", a.Admin.Token, nil, http.StatusOK, &cpA)
	w.do("GET", "/v1/audit/checkpoint", b.Admin.Token, nil, http.StatusOK, &cpB)
	var kase caseJSON
	w.do("POST", "/v1/cases", a.Lead.Token, map[string]any{"patient_id": a.P1, "title": "Claim"}, http.StatusCreated, &kase)
	payer := w.joined(a.Lead.Token, kase.ID.String(), "aa-payer@insurer.test", "payer", "view")
	membersKey := w.createKey(a, "members").Key
	readKey := w.createKey(a, "audit:read").Key
	nowhere := uuid.New().String()
	q := url.QueryEscape

	t.Run("malformed parameters are 400 problem documents", func(t *testing.T) {
		size := strconv.FormatInt(cpA.Size, 10)
		huge := "99999999999999999999"
		paths := []string{
			"/v1/audit/events?after=-1", "/v1/audit/events?after=abc", "/v1/audit/events?after=1e3",
			"/v1/audit/events?after=" + huge, "/v1/audit/events?after=9007199254740993",
			"/v1/audit/events?limit=-1", "/v1/audit/events?limit=1001", "/v1/audit/events?limit=" + huge,
			"/v1/audit/events?limit=0x10", "/v1/audit/events?action=" + q("patient.read' or '1'='1"),
			"/v1/audit/events?action=" + strings.Repeat("a", 600), "/v1/audit/events?patient_id=abc",
			"/v1/audit/events?patient_id=00000000-0000-0000-0000-000000000000",
			"/v1/audit/events?patient_id=" + q(a.P1.String()+"' or true--"),
			"/v1/audit/proof/inclusion", "/v1/audit/proof/inclusion?seq=0", "/v1/audit/proof/inclusion?seq=-1",
			"/v1/audit/proof/inclusion?seq=abc", "/v1/audit/proof/inclusion?seq=" + huge,
			"/v1/audit/proof/inclusion?seq=9223372036854775807", "/v1/audit/proof/inclusion?seq=-9223372036854775808",
			"/v1/audit/proof/inclusion?seq=1.5", "/v1/audit/proof/consistency?from=0",
			"/v1/audit/proof/consistency?from=-5", "/v1/audit/proof/consistency?from=" + size + "1",
			"/v1/audit/proof/consistency?from=" + huge, "/v1/audit/proof/consistency?from=%00",
			"/v1/audit/export?format=xml", "/v1/audit/export?from=yesterday",
			"/v1/audit/export?from=2026-13-01T00:00:00Z", "/v1/audit/export?to=0000-01-01T00:00:00Z",
			"/v1/audit/export?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z",
			"/v1/audit/export?action=" + q("patient.read'--"), "/v1/audit/export?actor_id=1",
			"/v1/audit/export?patient_id=" + q("x' union select 1--"), "/v1/audit/export/bundle?format=cef",
			"/v1/audit/export/bundle?case_id=nope", "/v1/compliance/dsr?status=bogus", "/v1/compliance/dsr?patient_id=abc",
			"/v1/compliance/dsr?status=open&status=closed", "/v1/compliance/dsr?sort=due_at",
			"/v1/compliance/dsr/not-a-uuid", "/v1/patients/not-a-uuid/access-report",
		}
		for _, p := range paths {
			resp, body := w.request("GET", p, a.Admin.Token, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %.90s: %d %s, want 400", p, resp.StatusCode, body)
				continue
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %.90s: a 400 as %q", p, resp.Header.Get("Content-Type"))
			}
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/v1/compliance/dsr", map[string]any{"kind": "access", "patient_id": "x' or '1'='1"}},
			{"POST", "/v1/compliance/dsr", map[string]any{"kind": "access'; delete from app.dsr_requests;--", "patient_id": a.P1}},
			{"POST", "/v1/compliance/dsr", map[string]any{"kind": "access", "patient_id": a.P1, "due_at": "2099-01-01T00:00:00Z"}},
			{"POST", "/v1/compliance/dsr", map[string]any{"kind": "access", "patient_id": a.P1, "status": "fulfilled"}},
			{"POST", "/v1/compliance/dsr", map[string]any{"kind": "ccpa_delete", "patient_id": a.P1, "subject_user_id": a.PatUser.ID}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "x", "endpoint": "siem.example:6514", "batch_max": 1 << 40}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "x", "endpoint": "siem.example:6514", "from_seq": -1}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "x", "endpoint": "siem.example:99999"}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "syslog", "name": "x", "endpoint": "siem.example:6514", "created_by": a.Lead.ID}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "webhook", "name": "x\nInjected: 1", "endpoint": "https://siem.example"}},
			{"POST", "/v1/audit/sinks", map[string]any{"kind": "webhook", "name": "x", "endpoint": "https://siem.example/" + strings.Repeat("a", 600)}},
			{"PATCH", "/v1/audit/sinks/not-a-uuid", map[string]any{"enabled": true}},
			{"PATCH", "/v1/audit/sinks/" + nowhere, map[string]any{}},
		} {
			resp, body := w.request(c.method, c.path, a.Admin.Token, c.body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s %v: %d %s, want 400", c.method, c.path, c.body, resp.StatusCode, body)
			}
		}
	})

	t.Run("below admin, no audit data", func(t *testing.T) {
		admins := []string{"/v1/audit/events", "/v1/audit/events?patient_id=" + a.P1.String(),
			"/v1/audit/proof/inclusion?seq=1", "/v1/audit/proof/consistency?from=1", "/v1/audit/export",
			"/v1/audit/export/bundle", "/v1/audit/sinks", "/v1/org/break-glass/activations"}
		for name, tok := range map[string]string{"patient": a.PatUser.Token, "provider": a.Prov.Token,
			"lead": a.Lead.Token, "stakeholder": payer.Token, "members key": membersKey} {
			for _, p := range admins {
				if resp, body := w.request("GET", p, tok, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s GET %s: %d %.200s, want 403", name, p, resp.StatusCode, body)
				}
			}
		}
		// A key that reads the log does not export it (sessions that
		// stepped up only), nor configure where it streams.
		for _, p := range []string{"/v1/audit/export", "/v1/audit/export/bundle", "/v1/audit/sinks"} {
			if resp, body := w.request("GET", p, readKey, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("audit:read key GET %s: %d %.200s, want 403", p, resp.StatusCode, body)
			}
		}
		if resp, body := w.request("POST", "/v1/audit/sinks", readKey, map[string]any{"kind": "syslog", "name": "k",
			"endpoint": "siem.example:6514"}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("audit:read key creates a sink: %d %s", resp.StatusCode, body)
		}
		// The stakeholder reads no checkpoint, and no one reads another
		// org's through their own.
		if resp, _ := w.request("GET", "/v1/audit/checkpoint", payer.Token, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("stakeholder reads the checkpoint: %d", resp.StatusCode)
		}
	})

	t.Run("another org's ids answer as ids that exist nowhere", func(t *testing.T) {
		same := func(what string, a1, a2 int, b1, b2 []byte) {
			t.Helper()
			if a1 != a2 || problemCodeOrEmpty(b1) != problemCodeOrEmpty(b2) {
				t.Errorf("%s: %d %s for another org's id, %d %s for none", what, a1, b1, a2, b2)
			}
		}
		// The audit list filtered by another org's patient: an empty page.
		for _, id := range []string{a.P1.String(), nowhere} {
			var page struct{ Events []json.RawMessage }
			w.do("GET", "/v1/audit/events?patient_id="+id, b.Admin.Token, nil, http.StatusOK, &page)
			if len(page.Events) != 0 {
				t.Errorf("org B's admin reads %d events filtered by %s", len(page.Events), id)
			}
		}
		for _, c := range []struct{ what, theirs, none string }{
			{"access report", "/v1/patients/" + a.P1.String() + "/access-report", "/v1/patients/" + nowhere + "/access-report"},
			{"disclosures", "/v1/patients/" + a.P1.String() + "/disclosures", "/v1/patients/" + nowhere + "/disclosures"},
			{"export by patient", "/v1/audit/export?patient_id=" + a.P1.String(), "/v1/audit/export?patient_id=" + nowhere},
			{"bundle by patient", "/v1/audit/export/bundle?patient_id=" + a.P1.String(), "/v1/audit/export/bundle?patient_id=" + nowhere},
		} {
			r1, b1 := w.request("GET", c.theirs, b.Admin.Token, nil)
			r2, b2 := w.request("GET", c.none, b.Admin.Token, nil)
			same("org B's admin, "+c.what, r1.StatusCode, r2.StatusCode, b1, b2)
		}
		// Another org's sink and request, to its admin and to a dsr key.
		var hook struct {
			Sink struct {
				ID uuid.UUID `json:"id"`
			} `json:"sink"`
		}
		w.do("POST", "/v1/audit/sinks", a.Admin.Token, map[string]any{"kind": "syslog", "name": "a-siem",
			"endpoint": "siem.example:6514"}, http.StatusCreated, &hook)
		var req struct {
			ID uuid.UUID `json:"id"`
		}
		w.do("POST", "/v1/compliance/dsr", a.PatUser.Token, map[string]any{"kind": "accounting", "patient_id": a.P1},
			http.StatusCreated, &req)
		dsrKeyB := w.createKey(b, "dsr").Key
		for _, c := range []struct {
			what, method, theirs, none string
			body                       any
		}{
			{"sink enable", "PATCH", "/v1/audit/sinks/" + hook.Sink.ID.String(), "/v1/audit/sinks/" + nowhere, map[string]any{"enabled": false}},
			{"sink rotate", "POST", "/v1/audit/sinks/" + hook.Sink.ID.String() + "/rotate", "/v1/audit/sinks/" + nowhere + "/rotate", nil},
			{"dsr read", "GET", "/v1/compliance/dsr/" + req.ID.String(), "/v1/compliance/dsr/" + nowhere, nil},
			{"dsr close", "POST", "/v1/compliance/dsr/" + req.ID.String() + "/close", "/v1/compliance/dsr/" + nowhere + "/close",
				map[string]any{"outcome": "withdrawn"}},
			{"dsr extend", "POST", "/v1/compliance/dsr/" + req.ID.String() + "/extend", "/v1/compliance/dsr/" + nowhere + "/extend",
				map[string]any{"reason": "volume"}},
		} {
			for who, tok := range map[string]string{"admin": b.Admin.Token, "dsr key": dsrKeyB} {
				if strings.HasPrefix(c.what, "sink") && who == "dsr key" {
					continue
				}
				r1, b1 := w.request(c.method, c.theirs, tok, c.body)
				r2, b2 := w.request(c.method, c.none, tok, c.body)
				same("org B's "+who+", "+c.what, r1.StatusCode, r2.StatusCode, b1, b2)
				if r1.StatusCode != http.StatusNotFound {
					t.Errorf("org B's %s, %s: %d %s, want 404", who, c.what, r1.StatusCode, b1)
				}
			}
		}
		// Filing about another org's patient or member answers as filing
		// about nobody; listing by them returns nothing.
		for _, body := range []map[string]any{
			{"kind": "access", "patient_id": a.P1}, {"kind": "ccpa_know", "subject_user_id": a.PatUser.ID},
		} {
			r1, b1 := w.request("POST", "/v1/compliance/dsr", b.Admin.Token, body)
			alt := map[string]any{"kind": body["kind"]}
			for k := range body {
				if k != "kind" {
					alt[k] = nowhere
				}
			}
			r2, b2 := w.request("POST", "/v1/compliance/dsr", b.Admin.Token, alt)
			same("org B's admin files "+body["kind"].(string), r1.StatusCode, r2.StatusCode, b1, b2)
		}
		// Within the org, a patient or a provider filing about a record not
		// theirs learns nothing of whether it exists.
		for name, tok := range map[string]string{"other patient": a.PatUser2.Token, "provider": a.Prov.Token} {
			r1, b1 := w.request("POST", "/v1/compliance/dsr", tok, map[string]any{"kind": "access", "patient_id": a.P1})
			r2, b2 := w.request("POST", "/v1/compliance/dsr", tok, map[string]any{"kind": "access", "patient_id": nowhere})
			same(name+" files about P1", r1.StatusCode, r2.StatusCode, b1, b2)
			if r1.StatusCode < 400 {
				t.Errorf("%s filed about P1: %d", name, r1.StatusCode)
			}
		}
		var list struct{ Requests []json.RawMessage }
		w.do("GET", "/v1/compliance/dsr?patient_id="+a.P1.String(), b.Admin.Token, nil, http.StatusOK, &list)
		if len(list.Requests) != 0 {
			t.Errorf("org B's admin lists %d of org A's requests", len(list.Requests))
		}
		// The state of org A's sink and request is as it was.
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.audit_sinks s
			join app.dsr_requests d on d.org_id = s.org_id
			where s.id = $1 and s.enabled and d.id = $2 and d.status = 'open' and d.extended_at is null`,
			hook.Sink.ID, req.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("org A's sink or request changed (%d, %v)", n, err)
		}
	})

	t.Run("proofs are of the caller's own org", func(t *testing.T) {
		if cpA.Origin == cpB.Origin || cpB.Origin != "ward/audit/"+b.ID.String() {
			t.Fatalf("origins %q and %q", cpA.Origin, cpB.Origin)
		}
		var incA, incB audit.Inclusion
		w.do("GET", "/v1/audit/proof/inclusion?seq=1", a.Admin.Token, nil, http.StatusOK, &incA)
		w.do("GET", "/v1/audit/proof/inclusion?seq=1", b.Admin.Token, nil, http.StatusOK, &incB)
		if _, err := incB.Verify(w.vkey); err != nil || incB.Checkpoint.Origin != cpB.Origin {
			t.Fatalf("org B's proof: %v, origin %q", err, incB.Checkpoint.Origin)
		}
		if incA.LeafHash == incB.LeafHash {
			t.Fatal("two orgs' first events share a leaf")
		}
		// Org A's leaf under org B's checkpoint does not verify.
		cross := incB
		cross.LeafHash = incA.LeafHash
		if _, err := cross.Verify(w.vkey); err == nil {
			t.Fatal("org A's event verified in org B's log")
		}
		// Paging org B's log never reaches org A's events, whatever the cursor.
		for _, after := range []int{0, int(cpA.Size) - 1, 1 << 40} {
			var page struct{ Events []audit.Entry }
			w.do("GET", "/v1/audit/events?limit=1000&after="+strconv.Itoa(after), b.Admin.Token, nil, http.StatusOK, &page)
			for _, e := range page.Events {
				if e.Patient.Valid && (e.Patient.UUID == a.P1 || e.Patient.UUID == a.P2) {
					t.Fatalf("org B's page after %d holds an event about org A's patient", after)
				}
				if e.Actor.Valid && (e.Actor.UUID == a.Admin.ID || e.Actor.UUID == a.Prov.ID) {
					t.Fatalf("org B's page after %d holds org A's actor", after)
				}
			}
		}
	})

	t.Run("a patient's report names no other patient", func(t *testing.T) {
		// The other patient probes P1: each probe is about P1, so it is in
		// P1's report, but as a patient's, by role only: without their
		// address or their user id.
		w.request("GET", "/v1/patients/"+a.P1.String(), a.PatUser2.Token, nil)
		w.request("POST", "/v1/compliance/dsr", a.PatUser2.Token, map[string]any{"kind": "access", "patient_id": a.P1})
		w.request("GET", "/v1/patients/"+a.P1.String()+"/access-report", a.PatUser2.Token, nil)
		w.integrate()
		resp, body := w.request("GET", "/v1/patients/"+a.P1.String()+"/access-report", a.PatUser.Token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("own report: %d %s", resp.StatusCode, body)
		}
		var rep struct {
			Accesses []audit.Access `json:"accesses"`
		}
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		probes := 0
		for _, e := range rep.Accesses {
			if e.Actor.Valid && e.Actor.UUID == a.PatUser2.ID {
				t.Errorf("the other patient's user id in the report: %+v", e)
			}
			if e.ActorRole == "patient" && !e.Actor.Valid {
				probes++
				if e.ActorEmail != "" {
					t.Errorf("the other patient's address in the report: %+v", e)
				}
			}
		}
		if probes == 0 {
			t.Error("the other patient's probes are not in the report")
		}
		for _, leak := range []string{a.PatUser2.Email, a.PatUser2.ID.String(), "aa-payer@insurer.test", "aa Patient Two", "aa-MRN-2", "1981-05-06"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("the report holds %q", leak)
			}
		}
		// Another patient's report, and a report of nobody, answer alike.
		r1, b1 := w.request("GET", "/v1/patients/"+a.P1.String()+"/access-report", a.PatUser2.Token, nil)
		r2, b2 := w.request("GET", "/v1/patients/"+nowhere+"/access-report", a.PatUser2.Token, nil)
		if r1.StatusCode != r2.StatusCode || r1.StatusCode != http.StatusNotFound {
			t.Errorf("another patient's report: %d %s; nobody's: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
		}
	})

	t.Run("two decisions race to one", func(t *testing.T) {
		admin2 := w.addMember(a, "aa-admin2@example.test", "admin")
		for round := range 3 {
			var req struct {
				ID uuid.UUID `json:"id"`
			}
			w.do("POST", "/v1/compliance/dsr", a.Admin.Token, map[string]any{"kind": "ccpa_know", "subject_user_id": a.Prov.ID},
				http.StatusCreated, &req)
			path := "/v1/compliance/dsr/" + req.ID.String()
			var wg sync.WaitGroup
			codes := make([]int, 4)
			steps := []struct {
				tok, step string
				body      map[string]any
			}{
				{a.Admin.Token, "/close", map[string]any{"outcome": "fulfilled"}},
				{admin2.Token, "/close", map[string]any{"outcome": "denied"}},
				{a.Admin.Token, "/extend", map[string]any{"reason": "volume"}},
				{admin2.Token, "/extend", map[string]any{"reason": "complexity"}},
			}
			for i, s := range steps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, _ := w.request("POST", path+s.step, s.tok, s.body)
					codes[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			closes, extends := 0, 0
			for i, c := range codes {
				switch {
				case c == http.StatusOK && i < 2:
					closes++
				case c == http.StatusOK:
					extends++
				case c != http.StatusConflict:
					t.Errorf("round %d: step %d answered %d, want 200 or 409", round, i, c)
				}
			}
			var status string
			var due, received time.Time
			var closedEvents, extendEvents int
			if err := w.env.Super.Pool.QueryRow(context.Background(), `select status, due_at, received_at,
				(select count(*) from audit.events e where e.org_id = d.org_id and e.object_id = d.id
				   and e.action = 'dsr.close' and e.outcome = 'success'),
				(select count(*) from audit.events e where e.org_id = d.org_id and e.object_id = d.id
				   and e.action = 'dsr.extend' and e.outcome = 'success')
				from app.dsr_requests d where d.id = $1`, req.ID).Scan(&status, &due, &received, &closedEvents, &extendEvents); err != nil {
				t.Fatal(err)
			}
			if closes != 1 || status == "open" || closedEvents != 1 {
				t.Errorf("round %d: %d closes answered 200, status %s, %d dsr.close events; want exactly one", round, closes, status,
					closedEvents)
			}
			if extends > 1 || extendEvents != extends {
				t.Errorf("round %d: %d extensions answered 200, %d recorded", round, extends, extendEvents)
			}
			if days := due.Sub(received).Hours() / 24; days < 44.9 || days > 45.1+45*float64(extends) {
				t.Errorf("round %d: due %.1f days after receipt with %d extensions", round, days, extends)
			}
			// Once closed, nothing moves it.
			for _, s := range steps {
				if resp, body := w.request("POST", path+s.step, s.tok, s.body); resp.StatusCode != http.StatusConflict {
					t.Errorf("round %d: %s after the close: %d %s, want 409", round, s.step, resp.StatusCode, body)
				}
			}
		}
	})

	t.Run("an erasure request leaves the log whole", func(t *testing.T) {
		count := func() (n int) {
			if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
				where org_id = $1 and (actor_id = $2 or patient_id = $3)`, a.ID, a.PatUser.ID, a.P1).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var req struct {
			ID uuid.UUID `json:"id"`
		}
		w.do("POST", "/v1/compliance/dsr", a.PatUser.Token, map[string]any{"kind": "ccpa_delete"}, http.StatusCreated, &req)
		before := count()
		w.do("POST", "/v1/compliance/dsr/"+req.ID.String()+"/close", a.Admin.Token, map[string]any{"outcome": "fulfilled"},
			http.StatusOK, nil)
		w.integrate()
		if after := count(); after < before {
			t.Fatalf("closing an erasure request removed %d audit events", before-after)
		}
		// The patient's record, and the user's standing, are as they were:
		// HIPAA-governed PHI is exempt from CCPA deletion (docs/dsr.md).
		w.do("GET", "/v1/patients/"+a.P1.String(), a.PatUser.Token, nil, http.StatusOK, nil)
		// And the patient cannot close or extend it themself.
		for step, body := range map[string]any{"/close": map[string]any{"outcome": "withdrawn"},
			"/extend": map[string]any{"reason": "volume"}} {
			if resp, _ := w.request("POST", "/v1/compliance/dsr/"+req.ID.String()+step, a.PatUser.Token, body); resp.StatusCode !=
				http.StatusForbidden {
				t.Errorf("the patient's own %s: %d, want 403", step, resp.StatusCode)
			}
		}
	})

	t.Run("break-glass administration takes no other org's members", func(t *testing.T) {
		// Designating another org's provider, a patient, or nobody answers
		// alike (404); a review of an item that does not exist is a 404.
		var codes []string
		for _, id := range []uuid.UUID{b.Prov.ID, a.PatUser.ID, uuid.New()} {
			resp, body := w.request("PUT", "/v1/org/break-glass/users/"+id.String(), a.Admin.Token, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("designating %s: %d %s, want 404", id, resp.StatusCode, body)
			}
			codes = append(codes, problemCodeOrEmpty(body))
		}
		if codes[0] != codes[2] || codes[1] != codes[2] {
			t.Errorf("designations answered %v", codes)
		}
		var users struct{ Users []json.RawMessage }
		w.do("GET", "/v1/org/break-glass/users", a.Admin.Token, nil, http.StatusOK, &users)
		if len(users.Users) != 0 {
			t.Errorf("%d emergency-access users after refused designations", len(users.Users))
		}
		if resp, body := w.request("POST", "/v1/org/break-glass/activations/"+nowhere+"/review", a.Admin.Token,
			map[string]any{"note": "reviewed"}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("reviewing nothing: %d %s", resp.StatusCode, body)
		}
		if resp, body := w.request("GET", "/v1/org/break-glass/activations?open=maybe", a.Admin.Token, nil); resp.StatusCode !=
			http.StatusBadRequest {
			t.Errorf("open=maybe: %d %s", resp.StatusCode, body)
		}
		// Below admin, no designation and no list of reasons.
		for _, tok := range []string{a.Lead.Token, a.Prov.Token, a.PatUser.Token} {
			for _, c := range []struct{ m, p string }{{"GET", "/v1/org/break-glass/activations"},
				{"GET", "/v1/org/break-glass/users"}, {"PUT", "/v1/org/break-glass/users/" + a.Prov.ID.String()}} {
				if resp, _ := w.request(c.m, c.p, tok, nil); resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s below admin: %d", c.m, c.p, resp.StatusCode)
				}
			}
		}
	})

	t.Run("a patient hammering the audit routes is slowed", func(t *testing.T) {
		// One principal's bucket (20 a second, 100 at once) covers these
		// routes as every other: the report and the proofs it carries are
		// the costliest a patient can ask for. The limit's clock stands
		// still meanwhile: on the wall clock, a loaded machine that took
		// over 50 ms a request never emptied the bucket (400 reads in a
		// row were never limited).
		clock.halt()
		defer clock.run()
		limited := 0
		for i := 0; i < 400 && limited == 0; i++ {
			resp, body := w.request("GET", "/v1/audit/checkpoint", b.PatUser.Token, nil)
			switch resp.StatusCode {
			case http.StatusOK:
			case http.StatusTooManyRequests:
				limited = i
				if resp.Header.Get("Retry-After") == "" || problemCodeOrEmpty(body) == "" {
					t.Errorf("a 429 without Retry-After or problem document: %v %s", resp.Header, body)
				}
			default:
				t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
			}
		}
		if limited == 0 {
			t.Fatal("400 checkpoint reads in a row were never limited")
		}
		// The same bucket, empty, limits the report and the queue.
		for _, p := range []string{"/v1/patients/" + b.P1.String() + "/access-report", "/v1/compliance/dsr"} {
			got := false
			for i := 0; i < 50 && !got; i++ {
				resp, body := w.request("GET", p, b.PatUser.Token, nil)
				got = resp.StatusCode == http.StatusTooManyRequests
				if !got && resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
				}
			}
			if !got {
				t.Errorf("GET %s was not limited with the bucket nearly empty", p)
			}
		}
		t.Logf("limited after %d requests", limited)
	})
}

// problemCodeOrEmpty is the problem document's code, or "" for another
// body.
func problemCodeOrEmpty(b []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Code
}
