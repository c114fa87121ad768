package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/identity"
)

// Exports: admins who stepped up get their own org's log in every format,
// filtered; everyone else is refused; every export is audited before it
// leaves; no PHI is in any of them; a bundle verifies with the published
// key and is refused as another org's.
func TestAuditExportAPI(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Export A")
	w.populate(a, "xa")
	b := w.createOrg("Export B")
	w.populate(b, "xb")
	w.do("GET", "/v1/patients/"+a.P1.String(), a.Prov.Token, nil, http.StatusOK, nil)
	w.do("GET", "/v1/patients/"+b.P2.String(), b.Lead.Token, nil, http.StatusOK, nil)
	w.integrate()

	canaries := []string{"Patient One", "Patient Two", "MRN-1", "MRN-2", "1970-03-04", "1981-05-06"}
	exports := 0
	for _, f := range export.Formats {
		resp, body := w.request("GET", "/v1/audit/export?format="+string(f), a.Admin.Token, nil)
		exports++
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", f, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != f.ContentType() {
			t.Errorf("%s: content type %q", f, ct)
		}
		if !strings.Contains(string(body), a.ID.String()) || strings.Contains(string(body), b.ID.String()) {
			t.Errorf("%s: the export is not exactly org A's", f)
		}
		for _, c := range canaries {
			if strings.Contains(string(body), c) {
				t.Errorf("%s: PHI canary %q in the export", f, c)
			}
		}
	}
	// JSON Lines, filtered to a patient: only events about P1.
	_, body := w.request("GET", "/v1/audit/export?patient_id="+a.P1.String(), a.Admin.Token, nil)
	exports++
	n := 0
	for _, l := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var rec struct {
			Event struct {
				Org, Patient string
				Results      []string
			}
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Event.Org != a.ID.String() || (rec.Event.Patient != a.P1.String() && !contains(rec.Event.Results, a.P1.String())) {
			t.Fatalf("patient filter let through %s", l)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("the patient filter kept %d events", n)
	}
	// Each export was recorded; the one about P1 names the patient.
	if got := w.auditCount(a.ID, "audit.export", "success"); got != exports {
		t.Fatalf("%d exports audited, want %d", got, exports)
	}
	var named int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events where org_id = $1
		and action = 'audit.export' and patient_id = $2`, a.ID, a.P1).Scan(&named); err != nil || named != 1 {
		t.Fatalf("export about P1 recorded with the patient %d times (%v)", named, err)
	}

	// Refusals: other roles, a stale second factor, bad input.
	for _, m := range []*member{a.Lead, a.Prov, a.PatUser} {
		resp, body := w.request("GET", "/v1/audit/export", m.Token, nil)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "forbidden" {
			t.Errorf("non-admin export: %d %s", resp.StatusCode, body)
		}
	}
	if got := w.auditCount(a.ID, "audit.export", "denied"); got < 1 {
		t.Errorf("refused exports not audited (%d)", got)
	}
	for _, q := range []string{"format=xlsx", "from=yesterday", "patient_id=nope", "action=no.such.action",
		"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
		// year -1 in UTC: a manifest and an audit.export event with a
		// date no RFC 3339 reader takes
		"from=0000-01-01T00:00:00%2B23:59", "to=9999-12-31T23:59:59-23:59"} {
		resp, body := w.request("GET", "/v1/audit/export?"+q, a.Admin.Token, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	// A patient of another org is not a filter of this one.
	resp, body := w.request("GET", "/v1/audit/export?patient_id="+b.P1.String(), a.Admin.Token, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "no such patient in this org") {
		t.Errorf("another org's patient: %d %s", resp.StatusCode, body)
	}

	// The evidence bundle.
	w.integrate()
	resp, tarball := w.request("GET", "/v1/audit/export/bundle?format=csv", a.Admin.Token, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Fatalf("bundle: %d %s", resp.StatusCode, tarball)
	}
	v, err := export.VerifyBundle(bytes.NewReader(tarball), w.vkey, a.ID)
	if err != nil {
		t.Fatalf("the bundle does not verify with the published key: %v", err)
	}
	if v.Events < 10 || !v.Complete {
		t.Fatalf("bundle: %s", v)
	}
	if _, err := export.VerifyBundle(bytes.NewReader(tarball), w.vkey, b.ID); !errors.Is(err, export.ErrBadBundle) {
		t.Fatalf("org A's bundle passed as org B's: %v", err)
	}

	w.age(a.Admin.Token, 11*time.Minute)
	resp, body = w.request("GET", "/v1/audit/export", a.Admin.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Fatalf("stale second factor: %d %s", resp.StatusCode, body)
	}
	resp, body = w.request("GET", "/v1/audit/export/bundle", a.Admin.Token, nil)
	if resp.StatusCode != http.StatusForbidden || problemCode(t, body) != "step_up_required" {
		t.Fatalf("stale second factor, bundle: %d %s", resp.StatusCode, body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// At most two exports of an org run at once: with two exports of a large
// log stalled on clients that stopped reading, a third is refused with
// 429 exports_busy and a Retry-After (not recorded: nothing was
// exported); once those clients leave, exports run again.
func TestAuditExportConcurrencyCap(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Export cap")
	w.populate(a, "xc")
	// About 35 MB of FHIR: more than the loopback socket buffers hold.
	if _, err := w.env.Super.Pool.Exec(context.Background(), `select audit.append_as(p_org => $1,
		p_action => 'patient.read', p_outcome => 'success', p_object_type => 'patient', p_object_id => $2,
		p_patient => $2, p_results => '{}', p_request => 'req-' || i, p_ip => '192.0.2.7', p_ua => 'cap test',
		p_details => jsonb_build_object('i', i), p_actor => $3) from generate_series(1, 10000) i`,
		a.ID, a.P1, a.Admin.ID); err != nil {
		t.Fatal(err)
	}
	w.integrate()
	const path = "/v1/audit/export?format=fhir-ndjson"
	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	// Each admin holds one slot at a time: one who stalls an export and
	// starts another is refused, so that one admin cannot hold both of the
	// org's slots and refuse every other admin's investigation for an
	// hour. Before, the same admin held both.
	admin2 := w.addMember(a, "xc-admin2@example.test", identity.RoleAdmin)
	for i, token := range []string{a.Admin.Token, admin2.Token} {
		conn, err := net.Dial("tcp", w.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, conn)
		req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
		w.authorize(req, token)
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req) // the headers, then no more reading
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stalled export: %v %v", resp, err)
		}
		if i == 0 {
			resp, body := w.request("GET", "/v1/audit/export?action=auth.signin", a.Admin.Token, nil)
			if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, body) != "exports_busy" {
				t.Fatalf("an admin's second export beside their stalled one: %d %.200s", resp.StatusCode, body)
			}
		}
	}
	if len(stalled) != export.MaxPerOrg {
		t.Fatalf("%d stalled exports, want the org's %d", len(stalled), export.MaxPerOrg)
	}
	before := w.auditCount(a.ID, "audit.export", "success")
	resp, body := w.request("GET", path, a.Admin.Token, nil)
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, body) != "exports_busy" ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third export: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = w.request("GET", "/v1/audit/export/bundle", a.Admin.Token, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a bundle beside them: %d %s", resp.StatusCode, body)
	}
	if got := w.auditCount(a.ID, "audit.export", "success"); got != before {
		t.Fatalf("refused exports recorded: %d, were %d", got, before)
	}
	// Another org's export still runs while a holds its maximum.
	b := w.createOrg("Export cap other")
	if resp, body := w.request("GET", "/v1/audit/export?action=auth.signin", b.Admin.Token, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("org b's export while org a holds its maximum: %d %.200s", resp.StatusCode, body)
	}
	for _, c := range stalled {
		c.Close()
	}
	stalled = nil
	// The stalled exports end at their next write; then there is room.
	for i := 0; ; i++ {
		resp, body = w.request("GET", "/v1/audit/export?action=auth.signin", a.Admin.Token, nil)
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || i == 100 {
			t.Fatalf("after the clients left: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
