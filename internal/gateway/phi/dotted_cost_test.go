package phi

import (
	"context"
	"strings"
	"testing"
)

// A long run of single characters joined by dots ("R.O.S.A.L.I.N.D.…") is
// not walked back over from each of its dots: scanDotted read the whole
// run before every dot, quadratic in its length (80 KB took a second, a
// megabyte minutes, on the gateway's request path). It reads at most a
// domain name's length back; a domain and a file name are still found.
func TestDottedRunReadOnce(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4000
	text := "spelled " + strings.Join(strings.Split(strings.Repeat("ROSALIND", n/8), ""), ".")
	steps := 0
	if err := e.withDetector(context.Background(), text, nil, func(d *detector) { steps = d.dottedSteps }); err != nil {
		t.Fatal(err)
	}
	if steps > (maxDottedName+1)*n {
		t.Errorf("%d dots: %d bytes walked back over", n, steps)
	}
	for text, want := range map[string]Type{
		"portal at my-clinic.example.org/login today": TypeURL,
		"attached IMG_2041.jpg of the wound":          TypePhoto,
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
