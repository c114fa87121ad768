package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
)

type complianceReportJSON struct {
	OrgID    *uuid.UUID     `json:"org_id"`
	OrgName  string         `json:"org_name"`
	Orgs     int            `json:"orgs"`
	Database string         `json:"database"`
	Summary  map[string]int `json:"summary"`
	Controls []struct {
		ID       string   `json:"id"`
		Title    string   `json:"title"`
		Status   string   `json:"status"`
		Evidence []string `json:"evidence"`
	} `json:"controls"`
}

// mark is the status of the control cited id, and its evidence.
func (r complianceReportJSON) mark(t *testing.T, id string) (string, string) {
	t.Helper()
	for _, c := range r.Controls {
		if c.ID == id {
			return c.Status, strings.Join(c.Evidence, "\n")
		}
	}
	t.Fatalf("no control %s in %+v", id, r.Controls)
	return "", ""
}

// complianceReport is token's GET /v1/compliance/report, decoded, and its
// body.
func (w *world) complianceReport(token string) (complianceReportJSON, string) {
	w.t.Helper()
	var r complianceReportJSON
	body := w.do("GET", "/v1/compliance/report", token, nil, http.StatusOK, nil)
	if err := json.Unmarshal(body, &r); err != nil {
		w.t.Fatalf("report: %v: %s", err, body)
	}
	return r, string(body)
}

// The controls whose evidence is the instance's: an org's report marks
// them INSTANCE, never PASS.
var instanceControls = []string{"164.308(a)(4)(ii)(B)", "164.308(a)(5)(ii)(D)", "164.312(a)(1)", "164.312(a)(2)(i)", "164.312(e)(1)"}

const (
	logoffControl   = "164.312(a)(2)(iii)"
	baaControl      = "164.308(b)(1), 164.314(a)"
	encryptControl  = "164.312(a)(2)(iv)"
	emergencyAccess = "164.312(a)(2)(ii)"
)

// An org admin's compliance report: the matrix of their own org, computed
// from its facts (a longer idle timeout or a provider without a BAA
// changes its mark), nothing of another org, the instance's controls
// pointed to the operator's report, each read recorded; anyone else is
// refused.
func TestComplianceReportOrgAdmin(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Compliance Clinic")
	w.populate(o, "cmp")
	other := w.createOrg("Compliance Elsewhere")
	w.populate(other, "cme")
	ctx := context.Background()

	reads := w.auditCount(o.ID, "org.compliance.read", "success")
	rep, body := w.complianceReport(o.Admin.Token)
	if rep.OrgID == nil || *rep.OrgID != o.ID || rep.OrgName != "Compliance Clinic" || rep.Orgs != 1 || rep.Database != "" {
		t.Fatalf("report names org %v %q (%d orgs, database %q), want %s", rep.OrgID, rep.OrgName, rep.Orgs, rep.Database, o.ID)
	}
	if len(rep.Controls) != 20 {
		t.Fatalf("%d controls, want the operator's 20", len(rep.Controls))
	}
	for _, id := range instanceControls {
		if st, ev := rep.mark(t, id); st != "INSTANCE" || !strings.Contains(ev, "operator's report") {
			t.Errorf("%s: %s (%s), want INSTANCE pointing to the operator's report", id, st, ev)
		}
	}
	if st, ev := rep.mark(t, logoffControl); st != "PASS" || !strings.Contains(ev, "within 30 minutes (longest: 30)") {
		t.Errorf("automatic logoff of a new org: %s (%s)", st, ev)
	}
	if st, _ := rep.mark(t, baaControl); st != "N/A" {
		t.Errorf("business associates with no provider enabled: %s", st)
	}
	if st, ev := rep.mark(t, encryptControl); st != "PASS" || !strings.Contains(ev, "1 keyset;") {
		t.Errorf("encryption: %s (%s), want this org's one keyset", st, ev)
	}
	if st, ev := rep.mark(t, emergencyAccess); st != "GAP" || !strings.Contains(ev, o.ID.String()) {
		t.Errorf("emergency access with no break-glass user: %s (%s)", st, ev)
	}
	if st, ev := rep.mark(t, "164.312(b)"); !strings.Contains(ev, "does not re-verify") || st == "GAP" {
		t.Errorf("audit controls: %s (%s), want the log's facts, said not re-verified", st, ev)
	}
	if strings.Contains(body, other.ID.String()) || strings.Contains(body, "Elsewhere") {
		t.Fatalf("the report names another org: %s", body)
	}
	if got := w.auditCount(o.ID, "org.compliance.read", "success"); got != reads+1 {
		t.Errorf("org.compliance.read events: %d, want %d", got, reads+1)
	}

	// The org's facts change: a longer idle timeout, a provider enabled
	// with no BAA on file. Its marks follow; the other org's do not.
	for _, q := range []string{
		`update app.orgs set session_idle_timeout_min = 90 where id = $1`,
		`insert into app.gateway_providers (name, base_url, zero_retention) values ('nobaa', 'https://nobaa.example.test', true)`,
		`update app.orgs set gateway_providers = '{nobaa}' where id = $1`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{o.ID}
		}
		if _, err := w.env.Super.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rep, _ = w.complianceReport(o.Admin.Token)
	if st, ev := rep.mark(t, logoffControl); st != "PARTIAL" || !strings.Contains(ev, "90 min") {
		t.Errorf("automatic logoff at 90 minutes: %s (%s)", st, ev)
	}
	if st, ev := rep.mark(t, baaControl); st != "PARTIAL" || !strings.Contains(ev, "provider nobaa") || !strings.Contains(ev, "no executed BAA") {
		t.Errorf("business associates with a provider without a BAA: %s (%s)", st, ev)
	}
	theirs, theirBody := w.complianceReport(other.Admin.Token)
	if st, _ := theirs.mark(t, logoffControl); st != "PASS" {
		t.Errorf("the other org's logoff: %s", st)
	}
	if st, _ := theirs.mark(t, baaControl); st != "N/A" {
		t.Errorf("the other org's business associates: %s", st)
	}
	if strings.Contains(theirBody, o.ID.String()) || strings.Contains(theirBody, "nobaa") || strings.Contains(theirBody, "Compliance Clinic") {
		t.Errorf("the other org's report shows this org's facts: %s", theirBody)
	}

	// Renderings.
	resp, b := w.request("GET", "/v1/compliance/report?format=markdown", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(string(b), "| §164.312(a)(2)(iii) | Technical | Automatic logoff | **PARTIAL** |") ||
		!strings.Contains(string(b), "**INSTANCE** |") {
		t.Errorf("markdown: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, b = w.request("GET", "/v1/compliance/report?format=html", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), `class="status instance"`) {
		t.Errorf("html: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if resp, b := w.request("GET", "/v1/compliance/report?format=pdf", o.Admin.Token, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format=pdf: %d %s", resp.StatusCode, b)
	}

	// Anyone but an admin's session is refused, and the refusal recorded.
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Lead.Token, map[string]any{"patient_id": o.P1, "title": "Compliance case"}, http.StatusCreated, &kase)
	attorney := w.joined(o.Lead.Token, kase.ID.String(), "cmp-attorney@example.test", "attorney", "view")
	key := w.createKey(o, auth.ScopeMembers, auth.ScopeAuditRead).Key
	denied := w.auditCount(o.ID, "org.compliance.read", "denied")
	for who, token := range map[string]string{"lead": o.Lead.Token, "provider": o.Prov.Token, "patient": o.PatUser.Token,
		"stakeholder": attorney.Token, "API key": key} {
		resp, b := w.request("GET", "/v1/compliance/report", token, nil)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), "controls") {
			t.Errorf("%s: %d %s, want 403", who, resp.StatusCode, b)
		}
	}
	if got := w.auditCount(o.ID, "org.compliance.read", "denied"); got <= denied {
		t.Errorf("refusals recorded: %d, want more than %d", got, denied)
	}
	if got := w.auditCount(o.ID, "org.compliance.read", "success"); got != reads+4 {
		t.Errorf("org.compliance.read successes: %d, want %d (two JSON reads, the Markdown and the HTML; no refused one)", got, reads+4)
	}
}

// The console's compliance page: an admin's matrix, linked from the admin
// navigation, every value escaped; a lead is refused it.
func TestConsoleCompliance(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Compliance Clinic")
	w.populate(o, "ccmp")
	other := w.createOrg("Console Compliance Elsewhere")
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.orgs set name = 'Clinic <b>"bold"</b> & Co' where id = $1`, o.ID); err != nil {
		t.Fatal(err)
	}
	adm, _ := w.consoleAdmin(o.Admin.Email)
	resp, body := w.consolePage("GET", "/compliance", adm, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/compliance"`) || !strings.Contains(body, `id="controls"`) ||
		!strings.Contains(body, "Automatic logoff") || !strings.Contains(body, `class="status instance">INSTANCE`) {
		t.Fatalf("compliance page: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Clinic &lt;b&gt;&#34;bold&#34;&lt;/b&gt; &amp; Co") || strings.Contains(body, "<b>") {
		t.Errorf("the org's name is not escaped: %s", body)
	}
	if strings.Contains(body, other.ID.String()) || strings.Contains(body, "Elsewhere") {
		t.Errorf("the page shows another org: %s", body)
	}
	lead, _ := w.consoleAdmin(o.Lead.Email)
	if resp, body := w.consolePage("GET", "/compliance", lead, nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, `id="controls"`) {
		t.Errorf("a lead's compliance page: %d %s", resp.StatusCode, body)
	}
	if _, body := w.consolePage("GET", "/", lead, nil); strings.Contains(body, `href="/compliance"`) {
		t.Errorf("a lead's navigation links the compliance page")
	}
}

// The per-patient key tier in an org admin's report (migration 00295): the
// encryption control counts the patients sealed under keysets of their
// own and names the org while a patient is still under the org's keys;
// the disposal control counts the patients shredded one by one, with the
// day of the newest.
func TestComplianceReportPatientKeys(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Compliance Patient Keys")
	w.populate(o, "cpk")
	ctx := context.Background()
	legacy := w.createPatient(o.Lead.Token, map[string]any{"name": "cpk Patient Three", "dob": "1990-01-02"})

	rep, _ := w.complianceReport(o.Admin.Token)
	_, enc := rep.mark(t, encryptControl)
	if !strings.Contains(enc, "3 patients' records sealed under keysets of their own") || strings.Contains(enc, "still sealed under their org's keys") {
		t.Fatalf("every patient keyed:\n%s", enc)
	}

	// A patient made before the per-patient tier: no keyset (set as the
	// superuser, with the triggers off, as a row written before 00275 is).
	tx, err := w.env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `update app.patients set keyset = null where id = $1`, legacy); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.do("POST", "/v1/patients/"+o.P2.String()+"/shred", o.Admin.Token, map[string]any{"confirm": o.P2.String()}, http.StatusOK, nil)

	rep, _ = w.complianceReport(o.Admin.Token)
	status, enc := rep.mark(t, encryptControl)
	label := o.ID.String() + ` ("Compliance Patient Keys")`
	if status != "PASS" || !strings.Contains(enc, "1 patient's record sealed under a keyset of their own") ||
		!strings.Contains(enc, "they are crypto-shredded with their org, not alone, until `ward patient key` gives them keysets of their own: "+label+": 1") {
		t.Fatalf("after a legacy patient and a shred: %s\n%s", status, enc)
	}
	var day string
	if err := w.env.Super.Pool.QueryRow(ctx, `select to_char(shredded_at at time zone 'UTC', 'YYYY-MM-DD') from app.patients where id = $1`,
		o.P2).Scan(&day); err != nil {
		t.Fatal(err)
	}
	_, disp := rep.mark(t, "164.310(d)(2)(i), (ii)")
	if !strings.Contains(disp, "patients crypto-shredded one by one, their keysets destroyed (POST /v1/patients/{id}/shred): "+label+": 1, the newest on "+day) {
		t.Fatalf("disposal after the shred:\n%s", disp)
	}
}
