package phi

import "testing"

// TestNoteTypesTwentieth checks the twentieth accuracy pass's rules with
// invented lines: numbers whose groups are joined by unusual separators,
// numbers spelled digit by digit, names spelled letter by letter, a
// first name signing a message after a dash, an employer's name after
// its label without a colon, a user name built from a name, and ordinary clinical text of the same look
// that must stay.
func TestNoteTypesTwentieth(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a phone with unusual separators", mixed + "Call daughter at 508~555~0199 or 413*555*0177; son 617'555'0142, work 774|555|0123, cell 978:555:0166.",
			[]string{"508~555~0199", "413*555*0177", "617'555'0142", "774|555|0123", "978:555:0166"}, nil},
		{"a phone with blanks around its separators", mixed + "Reach her at 617 . 555 . 0142 or 508 - 555 - 0199 or 413 – 555 – 0177.",
			[]string{"617 . 555 . 0142", "508 - 555 - 0199", "413 – 555 – 0177"}, nil},
		{"a phone with a country code and unusual separators, beside forms already found", mixed + "Wife at +1.617.555.0142; fax (508)5550176 attn records; home (413) 5550177; call +1~617~555~0142.",
			[]string{"+1.617.555.0142", "(508)5550176", "(413) 5550177", "+1~617~555~0142"}, nil},
		{"an SSN with unusual separators", mixed + "SSN 042~68~3305. Social 521*44*7810. SS# 318'22'4409. SSN 233 . 71 . 5520.",
			[]string{"042~68~3305", "521*44*7810", "318'22'4409", "233 . 71 . 5520"}, nil},
		{"a date with unusual separators", mixed + "DOB 03~14~1952. Admitted 07*04*2026 via ED. Born 14'03'1948. Seen 1952_03_14.",
			[]string{"03~14~1952", "07*04*2026", "14'03'1948", "1952_03_14"}, nil},
		{"an identifier with unusual separators", mixed + "MRN 448~120~77 in chart. Acct 7710_2291_04 pending.",
			[]string{"448~120~77", "7710_2291_04"}, nil},
		{"a number spelled digit by digit", mixed + "Call me at 2 1 2 5 5 5 0 1 9 8 thx. Callback 6.1.7.5.5.5.0.1.4.2 please. SSN 5 2 1 4 4 7 8 1 0 on file.",
			[]string{"2 1 2 5 5 5 0 1 9 8", "6.1.7.5.5.5.0.1.4.2", "5 2 1 4 4 7 8 1 0"}, nil},
		{"a name spelled letter by letter", mixed + "Last name is K o w a l c z y k. Surname V-a-n-t-o-n-g-e-r-e-n. First name R.O.S.A.L.I.N.D. Spell it: d u b r o v s k y.",
			[]string{"K o w a l c z y k", "V-a-n-t-o-n-g-e-r-e-n", "R.O.S.A.L.I.N.D", "d u b r o v s k y"}, nil},
		{"readings and doses that look split stay", mixed + "BP 120/80, HR 72. Give 1 . 5 mg IV q 4 h prn. Ratio 3:1, I:E 1:2. A&O x3. Na/K/Cl 138/4.2/101. Grip 20 . 25 . 30 kg. Pain 7 - 8 / 10. Sodium 138 * 140 * 141. Cells 1000*1000 per field. Dilute 1:10:100. Times 10:30:45.",
			nil, []string{"120/80", "1 . 5 mg", "q 4 h", "3:1", "1:2", "A&O x3", "138/4.2/101", "20 . 25 . 30", "7 - 8 / 10", "138 * 140 * 141", "1000*1000", "1:10:100", "10:30:45"}},
		{"short digit runs and words spelled in a test stay", mixed + "Digit span 6 1 7 4 2 forward. Spelled w o r l d forward and d l r o w backward; spelled h o u s e. Spelling test: c a t, d o g. A B C D E assessment. Tx: E.C.G. and N.P.O. after midnight.",
			nil, []string{"6 1 7 4 2", "w o r l d", "d l r o w", "h o u s e", "c a t", "A B C D E", "E.C.G.", "N.P.O."}},
		{"a row of scores spelled with blanks stays", mixed + "AIMS items 4 2 3 2 1 3 2 2 3 1, total 23. PHQ-9 items 1 0 2 1 0 1 2 0 1.",
			nil, []string{"4 2 3 2 1 3 2 2 3 1", "1 0 2 1 0 1 2 0 1"}},
		{"a first name that is a word too signing a message after a dash", "Can u call me back?? -jasmine\nHi Dr, refill pls -amber",
			[]string{"jasmine", "amber"}, nil},
		{"a word after a dash at a line's end stays", "Plan: continue meds -done\nFollow up in 2 wks -ok\nTake 1 tab daily -prn",
			nil, []string{"done", "ok", "prn"}},
		{"an employer's name after its label without a colon", mixed + "Employer ABC Roofing, no restrictions.\nEmployer Sunrise Landscaping LLC since 2019.",
			[]string{"ABC Roofing", "Sunrise Landscaping LLC"}, nil},
		{"a department or a verb after the label without a colon stays", mixed + "Employer Health clinic did the screening. Employer notified of restrictions.",
			nil, []string{"Health", "notified"}},
		{"a user name built from a name, with no digit, after its label", mixed + "Username rosalindvantongeren on the portal.\nUser rvantongeren logged in. Login: mkowalczyk reset.",
			[]string{"rosalindvantongeren", "rvantongeren", "mkowalczyk"}, nil},
		{"a word after a user name's label stays", mixed + "Username field left blank.\nUser reports pain. Login successful. IV drug user xylazine noted.",
			nil, []string{"field", "reports", "successful", "xylazine"}},
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
