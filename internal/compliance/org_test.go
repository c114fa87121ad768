package compliance

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestOrgReport: an org's matrix from the facts of that org alone. The
// instance's controls are INSTANCE (never PASS) and point to the
// operator's report; the per-org controls are the operator's functions
// over the one org; the audit controls read the log's facts and say the
// log was not re-verified; the renderings name the org.
func TestOrgReport(t *testing.T) {
	o := liveOrg()
	name := "Harbor <Clinic>"
	o.Name = &name
	idle, size := 30, int64(10)
	o.IdleTimeoutMin = &idle
	o.KeysetCreatedAt, o.HasPRF = ago(24*time.Hour), true
	o.TreeSize, o.CheckpointSize, o.CheckpointAt = 10, &size, ago(time.Minute)
	f := facts{Now: now, Orgs: []orgFacts{o}}
	opts := Options{}
	opts.defaults()
	r := orgReport(f, opts)
	if r.OrgID == nil || *r.OrgID != o.ID || r.OrgName != name || r.Orgs != 1 || len(r.Controls) != 20 {
		t.Fatalf("report of %v %q, %d orgs, %d controls", r.OrgID, r.OrgName, r.Orgs, len(r.Controls))
	}
	marks := map[string]Control{}
	for _, c := range r.Controls {
		marks[c.ID] = c
	}
	for _, id := range []string{"164.308(a)(4)(ii)(B)", "164.308(a)(5)(ii)(D)", "164.312(a)(1)", "164.312(a)(2)(i)", "164.312(e)(1)"} {
		expectMark(t, marks[id], Instance, "see your operator's report")
	}
	if r.Summary[Instance] != 5 || r.Summary[Pass]+r.Summary[Partial]+r.Summary[Gap]+r.Summary[NA] != 15 {
		t.Errorf("summary %v", r.Summary)
	}
	expectMark(t, marks["164.312(a)(2)(iii)"], Pass, "every org logs idle sessions off within 30 minutes")
	expectMark(t, marks["164.312(a)(2)(iv)"], Pass, "1 keyset; the oldest primary key is 1 days old")
	expectMark(t, marks["164.312(b)"], Pass, "does not re-verify the log")
	expectMark(t, marks["164.312(b)"], Pass, "10 events, newest signed checkpoint at 10")
	expectMark(t, marks["164.312(c)(1)"], Partial, "does not re-verify the log")

	// The org's facts turn its marks.
	idle = 45
	o.TreeSize, o.FirstUnsignedAt = 40, ago(2*time.Hour)
	f.Orgs = []orgFacts{o}
	r = orgReport(f, opts)
	for _, c := range r.Controls {
		marks[c.ID] = c
	}
	expectMark(t, marks["164.312(a)(2)(iii)"], Partial, "45 min")
	expectMark(t, marks["164.312(b)"], Partial, "30 events after it")
	o.CheckpointSize, o.CheckpointAt = nil, nil
	f.Orgs = []orgFacts{o}
	expectMark(t, orgAuditControls(f), Partial, "no signed checkpoint yet")

	var md, page bytes.Buffer
	if err := r.Write(&md, "markdown"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `for the org "Harbor <Clinic>" (`+o.ID.String()+`)`) || !strings.Contains(md.String(), "INSTANCE 5") ||
		strings.Contains(md.String(), "orgs)") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if err := r.Write(&page, "html"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "<Clinic>") || !strings.Contains(page.String(), `class="status instance"`) ||
		!strings.Contains(page.String(), "INSTANCE 5") {
		t.Errorf("html:\n%s", page.String())
	}
}
