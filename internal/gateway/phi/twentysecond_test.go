package phi

import "testing"

// TestNoteTypesTwentySecond checks the twenty-second accuracy pass's rules
// with invented lines, from note types the earlier passes had not seen
// (veterinary slips, bilingual French, German and Dutch letters, dictated
// notes, insurer call logs): a city on no list before a state's code and a
// ZIP code, ages over 89 in French, German and Dutch words, an e-mail
// address spaced out in capitals, which go; and numbers and words of the
// same look that must stay.
func TestNoteTypesTwentySecond(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a city before its state's code and a ZIP code that ends a clause", mixed +
			"Owner: Delphine Marchetti, 88 Orchard Hollow Rd, Brattleboro VT 05301, 802-555-0166.\nMailing: PO Box 12, Quenbury VT 05301.\nADDRESS: PO BOX 40, QUENBURY VT 05301",
			[]string{"Brattleboro", "Quenbury", "QUENBURY"}, nil},
		{"a state's code and a number that is no ZIP code stay", mixed + "Pt to CT WA 98101.5 order. Seen in Clinic VT 05301/2 scan.",
			nil, []string{"Clinic"}},
		{"an age over 89 in French words", mixed + "Patiente âgée de quatre-vingt-quinze ans. Son père avait quatre vingt dix-sept ans, " +
			"sa tante nonante-deux ans, son oncle nonante et un ans, sa grand-mère cent ans, son grand-père cent trois ans.",
			[]string{"quatre-vingt-quinze", "quatre vingt dix-sept", "nonante-deux", "nonante et un", "cent ans", "cent trois"}, nil},
		{"French numbers that are no age over 89 stay", mixed + "Quatre-vingt-dix pour cent des cas. Il a quatre-vingts ans. Quatre vingt quinze patients vus. Cent euros.",
			nil, []string{"Quatre-vingt-dix", "cent des", "quatre-vingts", "Quatre vingt quinze", "Cent euros"}},
		{"an age over 89 in German or Dutch words", mixed + "Der Patient ist zweiundneunzig Jahre alt, seine Mutter wurde hundert Jahre. Mevrouw is tweeënnegentig jaar, haar zus negentig jaar.",
			[]string{"zweiundneunzig", "hundert Jahre", "tweeënnegentig", "negentig"}, nil},
		{"German numbers that are no age stay", mixed + "Die Klinik ist hundert Meter entfernt, neunzig Prozent der Fälle.",
			nil, []string{"hundert", "neunzig"}},
		{"an e-mail address spaced out in capitals", mixed + "COPY TO J O H N @ EXAMPLE . COM AND ROSA.PEREZ @ GMAIL . ORG TODAY.",
			[]string{"J O H N @ EXAMPLE . COM", "ROSA.PEREZ @ GMAIL . ORG"}, nil},
		{"an '@' before a unit and a country's code in capitals stays", mixed + "SEEN @ CLINIC . PT TO RETURN. Bolus @ Icu . COM line. pain @ rest . ORG",
			nil, []string{"CLINIC", "Icu", "rest"}},
		{"a phone number dictated with its punctuation said aloud", mixed + "phone number five five five comma two one two comma eight eight four one period. " +
			"cell six one seven dash five five five dash oh one three four.",
			[]string{"five five five comma two one two comma eight eight four one", "six one seven dash five five five dash oh one three four"}, nil},
		{"a count dictated with commas stays", mixed + "counted one comma two comma three period then five comma six.",
			nil, []string{"one comma two", "five comma six"}},
		{"a court's or a jail's number", mixed + "Custody evaluation (Docket FC-26-1187). Inmate 4471-22 interviewed at the jail.",
			[]string{"FC-26-1187", "4471-22"}, []string{"Docket", "Inmate"}},
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
