package phi

import "testing"

// TestNoteTypesEighteenth checks the eighteenth accuracy pass's rules
// with invented lines: the seventeenth pass's leftovers (an age in a
// relative clause or before "per"), then forms the earlier passes did not
// see (transcribed speech that spells a phone number or a date in words,
// text pasted from a PDF with its words hyphenated across lines, notes
// signed with initials alone): what must be redacted and what must stay.
func TestNoteTypesEighteenth(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a phone number spoken in words", mixed + "Voicemail (auto transcript): hi this is his niece, please call back at four one two, five five five, oh eight six three. bye",
			[]string{"four one two, five five five, oh eight six three"}, nil},
		{"seven digits in words and the area code named after them", mixed + "Dictated: her cell is five five five, zero one nine seven, area code nine one nine.",
			[]string{"five five five, zero one nine seven", "nine one nine"}, nil},
		{"a chat's phone in lower-case words", "my number is three one oh five five five oh two two one if u need it",
			[]string{"three one oh five five five oh two two one"}, nil},
		{"counts in words stay", mixed + "Take one or two tabs, three times a day, for five days. Counted one two three four five six aloud.",
			nil, []string{"one or two", "three times", "five days", "one two three four five six"}},
		{"a social security number, a ZIP code and a record number spoken in words", mixed + "Intake call transcript: social is four one two, seven seven, oh three eight six. zip code is two seven six oh one. MRN is eight eight one oh four four two.",
			[]string{"four one two, seven seven, oh three eight six", "two seven six oh one", "eight eight one oh four four two"}, nil},
		{"five digits in words without a ZIP's cue stay", mixed + "Counted five six seven eight nine on the clock test.",
			nil, []string{"five six seven eight nine"}},
		{"a date with blanks around its slashes", mixed + "Form (scanned): DOB: 7 / 21 / 1958   Visit: 11 - 04 - 2026",
			[]string{"7 / 21 / 1958", "11 - 04 - 2026"}, nil},
		{"scores and ratios with blanks stay", mixed + "Pain 4 / 5 / 10 at rest. BP 128 / 76. Strength 5 / 5 / 5.",
			nil, []string{"4 / 5 / 10", "128 / 76", "5 / 5 / 5"}},
		{"a day in words before a lower-case month", mixed + "Transcript: her birthday is the twelfth of may nineteen fifty one; the third of june too.",
			[]string{"twelfth of may", "third of june"}, []string{"nineteen fifty"}},
		{"a share before the verb may stays", mixed + "About a third of may be eligible.",
			nil, []string{"third of may"}},
		{"a date spoken with its day as an ordinal in words", mixed + "Transcript: pt states she was born on march ninth nineteen forty eight. Daughter says her dob is july twenty first.",
			[]string{"march ninth", "july twenty first"}, nil},
		{"the verb may stays before first or second", mixed + "You may first try the oatmeal; the team may second that plan.",
			nil, []string{"may first", "may second"}},
		{"a name hyphenated across a line of a pasted PDF", mixed + "Pasted from referral PDF: Patient: Ottilie Vander-\nmolen DOB on file\nReferring physician Dr. Cassius Brenne-\nman, MD",
			[]string{"Ottilie Vander-\nmolen", "Cassius Brenne-\nman"}, nil},
		{"a number hyphenated across a line", mixed + "Home phone: 724-555-\n0186 (best after 5)\nMRN: 30917-\n4482",
			[]string{"724-555-\n0186", "30917-\n4482"}, nil},
		{"a phone number without a cue broken across a line", mixed + "Contacts (from the scanned face sheet)\nHome: 608-555-\n0147   Work: none",
			[]string{"608-555-\n0147"}, nil},
		{"values broken across a line stay", mixed + "Goal range 120-130-\n1400 kcal? no: 1200-1400 kcal.",
			nil, []string{"120-130-\n1400"}},
		{"a word hyphenated across a line after no identifier stays", mixed + "Pain is well-\ncontrolled and the wound well-\napproximated.",
			nil, []string{"controlled", "approximated"}},
		{"a note signed with initials alone", mixed + "Signed: W.K.T.  Cosigned: H.R.\nElectronically signed by: D.V.\nCo-signed: P.J.",
			[]string{"W.K.T", "H.R", "D.V", "P.J"}, []string{"Signed", "Cosigned"}},
		{"initials after a verb of completing a form and by", mixed + "Intake form completed by: R.S.V. Prepared by H.D. Witnessed by: G.T.",
			[]string{"R.S.V", "H.D", "G.T"}, nil},
		{"credentials after a verb of signing stay", mixed + "Signed: M.D. on call. Signed by R.N. at bedside.",
			nil, []string{"M.D", "R.N"}},
		{"a mobile-home park's space after a street", mixed + "Lives at 2290 Saguaro Mesa Rd Space 41, Apache Junction. Mail: 615 Dune Crest Ln Spc #7.",
			[]string{"Space 41", "Spc #7"}, nil},
		{"a space without a street, or after a sentence's end, stays", mixed + "Lives on 12 Oak St. Space 4 in the lot is hers. Tenderness at the 5th intercostal space 4 cm lateral.",
			nil, []string{"Space 4 in", "space 4 cm"}},
		{"an age over 89 in a relative clause", mixed + "Her aunt, who at 96 lives alone, brings her meals.",
			[]string{"96"}, nil},
		{"an age over 89 before its source", mixed + "He's 92 per his son and still drives. Pt is 94 per chart.",
			[]string{"92", "94"}, nil},
		{"an age over 89 before a dash between words", mixed + "Voicemail: hi, it's about my dad, he's 93 - can someone call back.",
			[]string{"93"}, nil},
		{"a range with a dash stays", mixed + "Pt is 92 - 94 on 2L overnight.",
			nil, []string{"92 - 94"}},
		{"a time or a rate after who at or per stays", mixed + "Patients who at 90 days had relapse were excluded. He's 92 per minute on the monitor.",
			nil, []string{"90 days", "92 per minute"}},
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
