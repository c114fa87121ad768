package phi

import (
	"context"
	"strings"
	"testing"
)

// Runs that scanners read back over from each of their separators are
// read back a bounded length: scanDotted from each dot of
// "R.O.S.A.L.I.N.D.…", underscoreHandle from each underscore of
// "a_a_a_…" and sepCallContext from each digit of "1 1 1 …" read the whole
// run before it, quadratic in its length (80 KB took a second, a megabyte
// minutes, on the gateway's request path). What they find is unchanged.
func TestRunsReadBackBounded(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	for _, c := range []struct {
		name, text string
		steps      func(*detector) int
		bound      int
	}{
		{"dotted", "spelled " + strings.Join(strings.Split(strings.Repeat("ROSALIND", n/8), ""), "."),
			func(d *detector) int { return d.dottedSteps }, (maxDottedName + 1) * n},
		{"underscored", "id " + strings.Repeat("a_", n), func(d *detector) int { return d.handleSteps }, (maxHandleWalk + 1) * n},
		{"digits", "scores " + strings.Repeat("1 ", n), func(d *detector) int { return d.sepSteps }, 13 * n},
		{"glued triggers", "chart " + strings.Repeat("MRN:", n), func(d *detector) int { return d.triggerSteps }, (maxTriggerValue + 1) * n},
		{"glued titles", "seen by " + strings.Repeat("Mr.", n), func(d *detector) int { return d.triggerSteps }, (maxTriggerValue + 1) * n},
		// (a spaced e-mail reads at most 64 bytes of its local part and of
		// each of five labels: 6*64 a '@')
		{"spaced letters and '@'", "mail " + strings.Repeat("j o h n @ ", n/5), func(d *detector) int { return d.spacedSteps }, 6 * 64 * n / 5},
		{"spaced labels and '@'", "mail " + strings.Repeat("ab . ", n/2) + strings.Repeat("@ ab . ", n/4), func(d *detector) int { return d.spacedSteps }, 6 * 64 * n / 4},
	} {
		steps := 0
		if err := e.withDetector(context.Background(), c.text, nil, func(d *detector) { steps = c.steps(d) }); err != nil {
			t.Fatal(err)
		}
		if steps > c.bound {
			t.Errorf("%s run of %d: %d steps read back, want at most %d", c.name, n, steps, c.bound)
		}
	}
	for text, want := range map[string]Type{
		"portal at my-clinic.example.org/login today":    TypeURL,
		"attached IMG_2041.jpg of the wound":             TypePhoto,
		"her login is dmarchetti_77 on the portal":       TypeID,
		"please call me at 6 1 7 5 5 5 0 1 4 2 tomorrow": TypePhone,
		"chart MRN: 0041-2290-77 on file":                TypeMRN,
		"accession 26:SP:0041 sent":                      TypeID,
	} {
		spans, err := e.Detect(context.Background(), text, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, sp := range spans {
			found = found || sp.Type == want
		}
		if !found {
			t.Errorf("%q: no %s span (%+v)", text, want, spans)
		}
	}
}
