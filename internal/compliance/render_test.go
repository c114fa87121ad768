package compliance

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestWrite: each format renders every control; Markdown keeps a table
// intact when a title holds a pipe; HTML escapes; JSON round-trips; an
// unknown format is refused with nothing written.
func TestWrite(t *testing.T) {
	r := &Report{GeneratedAt: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Database: "PostgreSQL 15", Orgs: 1,
		Summary: map[Status]int{Pass: 1, Gap: 1},
		Controls: []Control{
			{ID: "164.312(a)(1)", Safeguard: technical, Title: "A | B", Status: Pass, Evidence: []string{"line one\nline two"}},
			{ID: "164.312(b)", Safeguard: technical, Title: "Audit", Status: Gap, Evidence: []string{`org "<i>x</i>"`}},
		}}
	var md bytes.Buffer
	if err := r.Write(&md, "markdown"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `| §164.312(a)(1) | Technical | A \| B | **PASS** |`) ||
		!strings.Contains(md.String(), "- line one line two\n") || !strings.Contains(md.String(), "PASS 1 · PARTIAL 0 · GAP 1 · N/A 0") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var page bytes.Buffer
	if err := r.Write(&page, "html"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "<i>x</i>") || !strings.Contains(page.String(), `class="status gap"`) {
		t.Errorf("html:\n%s", page.String())
	}
	var js bytes.Buffer
	if err := r.Write(&js, "json"); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Controls) != 2 || back.Summary[Gap] != 1 ||
		back.Controls[1].Evidence[0] != `org "<i>x</i>"` {
		t.Errorf("json round trip: %v %+v", err, back)
	}
	var none bytes.Buffer
	if err := r.Write(&none, "pdf"); err == nil || none.Len() != 0 {
		t.Errorf("pdf: %v, wrote %d bytes", err, none.Len())
	}
}

// TestWorst: a control built from several checks takes the worst mark.
func TestWorst(t *testing.T) {
	for _, c := range []struct{ a, b, want Status }{
		{Pass, Partial, Partial}, {Partial, Pass, Partial}, {Partial, Gap, Gap}, {Gap, Pass, Gap}, {NA, Pass, Pass}, {Pass, Pass, Pass},
	} {
		if got := worst(c.a, c.b); got != c.want {
			t.Errorf("worst(%s, %s) = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}
