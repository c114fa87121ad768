package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/cases"
)

// The policies page's document retention form: an admin saves the whole
// policy as PUT /v1/org/retention-policy does (read back through the
// API); a provider reads it as a sentence and may not save; a malformed
// line or a bound the database refuses changes nothing; a stale second
// factor is asked again; another origin is refused.
func TestConsoleRetentionPolicy(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Console Retention Clinic")
	w.populate(o, "cret")
	adm, _ := w.consoleAdmin(o.Admin.Email)
	policy := func() map[string]int {
		t.Helper()
		var p struct {
			DocumentTypes map[string]int `json:"document_types"`
		}
		w.do("GET", "/v1/org/retention-policy", o.Admin.Token, nil, http.StatusOK, &p)
		return p.DocumentTypes
	}

	resp, body := w.consolePage("POST", "/policies/retention", adm, url.Values{"document_types": {"wage_statement 2555\r\n\r\nmedical_record: 3650\n"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	// The types were added: pending for 30 days (migration 00256). The
	// page lists them with their date and the form shows the days wanted,
	// so saving it again keeps the date rather than cancelling them.
	pending := func() map[string]cases.RetentionPending {
		t.Helper()
		var p cases.RetentionPolicy
		w.do("GET", "/v1/org/retention-policy", o.Admin.Token, nil, http.StatusOK, &p)
		return p.Pending
	}
	before := pending()
	if p := policy(); len(p) != 0 || len(before) != 2 || before["wage_statement"].RetainDays != 2555 {
		t.Fatalf("saved policy %v, pending %v", p, before)
	}
	_, body = w.consolePage("GET", "/policies", adm, nil)
	if !strings.Contains(body, "medical_record 3650\nwage_statement 2555</textarea>") ||
		!strings.Contains(body, `id="retention-pending"`) ||
		!strings.Contains(body, "<li>wage_statement: 2555 days from "+before["wage_statement"].EffectiveAt.UTC().Format(time.RFC3339)+"; until then kept for ever</li>") {
		t.Errorf("the form does not show the policy and its pending changes: %s", body)
	}
	if resp, body := w.consolePage("POST", "/policies/retention", adm, url.Values{"document_types": {"medical_record 3650\nwage_statement 2555"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save again: %d %s", resp.StatusCode, body)
	}
	if after := pending(); !after["wage_statement"].EffectiveAt.Equal(before["wage_statement"].EffectiveAt) {
		t.Errorf("saving the form again moved the date: %v, was %v", after, before)
	}
	w.retentionInForce(o.ID)
	if p := policy(); len(p) != 2 || p["wage_statement"] != 2555 || p["medical_record"] != 3650 {
		t.Fatalf("the policy in force %v", p)
	}
	_, body = w.consolePage("GET", "/policies", adm, nil)
	if !strings.Contains(body, "medical_record 3650\nwage_statement 2555</textarea>") || strings.Contains(body, `id="retention-pending"`) {
		t.Errorf("the form does not show the policy: %s", body)
	}
	// The form carries the version it showed: a save from a version
	// another admin replaced since is refused and changes nothing.
	if !strings.Contains(body, `name="version" value="`) {
		t.Errorf("the form carries no version: %s", body)
	}
	if resp, body := w.consolePage("POST", "/policies/retention", adm, url.Values{"document_types": {"wage_statement 1"},
		"version": {strings.Repeat("0", 64)}}); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("a save from a replaced version: %d %s", resp.StatusCode, body)
	}
	prov := w.consoleSignIn(o.Prov.Email)
	if _, body := w.consolePage("GET", "/policies", prov, nil); !strings.Contains(body, `id="retention-policy"`) ||
		strings.Contains(body, `action="/policies/retention"`) {
		t.Errorf("a provider's page: %s", body)
	}
	if resp, _ := w.consolePage("POST", "/policies/retention", prov, url.Values{"document_types": {"wage_statement 1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a provider's save: %d", resp.StatusCode)
	}
	for name, v := range map[string]string{
		"no days":    "wage_statement",
		"not a days": "wage_statement forever",
		"three":      "wage statement 30",
		"twice":      "wage_statement 30\nwage_statement 40",
		"too long":   "wage_statement 99999",
		"zero":       "wage_statement 0",
	} {
		if resp, body := w.consolePage("POST", "/policies/retention", adm, url.Values{"document_types": {v}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	h := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"},
		"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {"ward_session=" + adm}}
	if resp, b := w.browse("POST", "/policies/retention", h, url.Values{"document_types": {"wage_statement 1"}}.Encode()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: %d %s", resp.StatusCode, b)
	}
	w.age(adm, 20*time.Minute)
	resp, body = w.consolePage("POST", "/policies/retention", adm, url.Values{"document_types": {""}})
	stepUpPage(t, "retention", resp, body)
	if p := policy(); len(p) != 2 || p["wage_statement"] != 2555 {
		t.Fatalf("refused saves changed the policy: %v", p)
	}
}
