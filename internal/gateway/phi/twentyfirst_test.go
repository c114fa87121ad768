package phi

import (
	"context"
	"testing"
)

// TestNoteTypesTwentyFirst checks the twenty-first accuracy pass's rules
// with invented lines: eponyms before a finding, a tube, a grade or a
// test, also with a word, a numeral, "and" or a given name between and in
// notes without case, which stay; a name before a head that is also a
// verb ("signs"), ages over 89 in Spanish, Portuguese and Italian words,
// e-mail addresses spaced out around their '@' or spelled with
// "underscore", and names joined into one word, which go; and names,
// readings and misspellings of the same look that must not change.
func TestNoteTypesTwentyFirst(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	lower := "pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with pt.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"eponyms before a finding, a tube, a tool or a grade", mixed + "Austin Flint murmur at the apex. Sengstaken-Blakemore tube placed. Hoyer lift for transfers. " +
			"Greenfield filter in the IVC. Killip class II. Cobb angle 35 degrees. Ziehl-Neelsen stain negative. Brugada pattern in V1. Janeway lesions on the soles.",
			nil, []string{"Austin Flint", "Sengstaken-Blakemore", "Hoyer", "Greenfield", "Killip", "Cobb", "Ziehl-Neelsen", "Brugada", "Janeway"}},
		{"an eponym with a word, a numeral or a second eponym before its head", mixed + "Apley scratch test limited. Hamilton anxiety scale 18. Bristol stool type 6. " +
			"Ortolani and Barlow maneuvers negative. Weber and Rinne tests done. Salter-Harris II fracture of the radius. Marcus Gunn pupil on the left.",
			nil, []string{"Apley", "Hamilton", "Bristol", "Ortolani", "Barlow", "Weber", "Rinne", "Salter-Harris", "Marcus Gunn"}},
		{"an eponym's pair with one half on the list", mixed + "Dix-Hallpike positive to the right. Cockcroft-Gault CrCl 42 mL/min. Henderson-Hasselbalch used.",
			nil, []string{"Dix-Hallpike", "Cockcroft-Gault", "Henderson-Hasselbalch"}},
		{"a double surname of eponyms after a title is a name", mixed + "Spoke with Dr. Gault-Hallpike today. Mr. Guillain-Barre here for his visit.",
			[]string{"Gault-Hallpike", "Guillain-Barre"}, nil},
		{"a score named for a person before its label and its value", mixed + "Katz ADL 4/6, Lawton IADL 5/8, both stable since the last visit.",
			nil, []string{"Katz", "4/6", "Lawton", "5/8"}},
		{"a surname before a label after a title or a verb stays a name", mixed + "Dr. Katz BP 120/80 checked. Spoke with Lawton Wt 80 kg.",
			[]string{"Katz", "Lawton"}, nil},
		{"eponyms in a note without capitals", lower + "hx of stevens-johnson syndrome from a sulfa drug. mallory-weiss tear suspected. cirrhosis, child-pugh class b.",
			nil, []string{"stevens-johnson", "mallory-weiss", "pugh"}},
		{"a relative's name before a head that is a verb too", mixed + "Mother Yolanda signs consent for the procedure. Daughter Ileana signs the form.",
			[]string{"Yolanda", "Ileana"}, nil},
		{"a name with a title, a role or a relation before an eponym's head stays a name", mixed + "Dr. Hoyer lift team called. Nurse Fowler position change done. " +
			"Husband Marcus Gunn at bedside. Wife Hilda tube feeding at home. Sister Marta and brother Jonas tests negative.",
			[]string{"Hoyer", "Fowler", "Marcus Gunn", "Hilda", "Marta", "Jonas"}, nil},
		{"an age over 89 in Spanish, Portuguese or Italian words", mixed + "Abuelo de cien años. La paciente tiene noventa y dos años. Tem noventa e dois anos. Ha novantadue anni.",
			[]string{"cien", "noventa y dos", "noventa e dois", "novantadue"}, nil},
		{"a number in Spanish words that is no age stays", mixed + "El noventa por ciento de los casos. Costó ciento veinte pesos.",
			nil, []string{"noventa", "ciento veinte"}},
		{"an e-mail spaced out or spelled with underscore", mixed + "Email: j o h n @ example . com for the forms. Or rosa.perez @ gmail.com. Or ileana underscore ruiz at gmail dot com.",
			[]string{"j o h n @ example . com", "rosa.perez @ gmail.com", "ileana underscore ruiz at gmail dot com"}, nil},
		{"an '@' before a time or a place and a sentence's end stays", mixed + "BP 120/80 @ 1400. Pt resting. Seen @ clinic . Pt to return. Bolus @ 10 . Done.",
			nil, []string{"1400", "clinic", "Pt resting", "10"}},
		{"a name joined into one word without a label", mixed + "Msg from yolandabrennan about the refill. the note was from rosalindvantongeren yesterday.",
			[]string{"yolandabrennan", "rosalindvantongeren"}, nil},
		{"a misspelt word or a drug that splits into names stays", mixed + "Pt tolerting diet, excellant appetite, maitenance fluids at 75, on trulicity weekly.",
			nil, []string{"tolerting", "excellant", "maitenance", "trulicity"}},
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

// TestHoldsOrdinaryRecordWord checks that a part of the record's names
// that is an English word, written in lower case or in capitals alone, is
// no identifier for Holds (a tool's enum "walker" when the record names
// Ann Walker is the device), while the name written as a name, with a
// title or a label, or with another part of the record's names, still is.
func TestHoldsOrdinaryRecordWord(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		names []string
		no    []string
		yes   []string
	}{
		{[]string{"Ann Walker"}, []string{"walker", "WALKER", "rolling walker", "ASSISTIVE DEVICE WALKER", "walker cane wheelchair"},
			[]string{"Walker", "ann walker", "ANN WALKER", "mrs. walker", "wife: walker", "the Walker family"}},
		{[]string{"Will Hope"}, []string{"hope", "we hope you will"}, []string{"will hope", "WILL HOPE", "Will", "Hope"}},
	} {
		s, err := testEngine(t).NewSession(&Record{Names: c.names}, SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range c.no {
			if h, err := s.Holds(ctx, v); err != nil || h {
				t.Errorf("%v: Holds(%q) = %v, %v; want false", c.names, v, h, err)
			}
			if h, err := s.HoldsRecord(ctx, v, 4); err != nil || h {
				t.Errorf("%v: HoldsRecord(%q) = %v, %v; want false", c.names, v, h, err)
			}
		}
		for _, v := range c.yes {
			if h, err := s.Holds(ctx, v); err != nil || !h {
				t.Errorf("%v: Holds(%q) = %v, %v; want true", c.names, v, h, err)
			}
		}
		s.Close()
	}
}
