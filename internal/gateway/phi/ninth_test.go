package phi

import "testing"

// TestNoteTypesNinth checks the ninth accuracy pass's rules with invented
// lines from note kinds the earlier passes did not cover (obstetric,
// paediatric, emergency, workers' compensation, referral letters): what
// must be redacted and what must stay.
func TestNoteTypesNinth(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"gravidity and parity are no identifier", mixed + "Pt is a 31 y/o G3P2002 at 39w2d. G2P1011, now 12 weeks. G5P4A1 with twins. g1p0 in labor. Chart G12P4471.",
			[]string{"G12P4471"}, []string{"G3P2002", "G2P1011", "G5P4A1", "g1p0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := redact(t, tt.text, nil)
			for _, w := range tt.redact {
				if ok, _ := covered(tt.text, r.Spans, w); !ok {
					t.Errorf("%q not redacted: %q", w, r.Text)
				}
			}
			for _, w := range tt.keep {
				if touched(tt.text, r.Spans, w) {
					t.Errorf("%q redacted: %q", w, r.Text)
				}
			}
		})
	}
}
