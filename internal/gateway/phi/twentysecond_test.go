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
		{"a town after its postcode, after a street address and a comma", mixed + "Anschrift: Lindenstraße 14, 80331 München. Tel. 089 1234567.\n" +
			"Adresse : Bahnhofstrasse 12, 8001 Zürich\nAdres: Keizersgracht 221, 1016 DV Amsterdam.",
			[]string{"München", "8001", "Zürich", "Keizersgracht 221"}, nil},
		{"a postcode of four digits after its town, and the localities before it", mixed + "Mum: 24 Kowhai Cres, Otaki 5512. Ph 021 555 7781.\n" +
			"Home: 22 Jacaranda Ave, Hatfield, Pretoria 0083.\nHillcrest Cottage, 27 Mill Lane, Great Snoring, Fakenham NR21 0HP.",
			[]string{"Otaki", "5512", "Hatfield", "Pretoria", "0083", "Great Snoring", "Fakenham"}, nil},
		{"a quantity after an address and a comma stays", mixed + "Seen at 12 Oak Street, Tylenol 1000. Walked to 4 Elm Road, 2000 Calories a day.",
			nil, []string{"Tylenol", "1000", "2000", "Calories"}},
		{"the writer's own age over 89", mixed + "Message from the patient: \"I'm 95 and still mowing my lawn.\" Another: I am 96, thanks.",
			[]string{"95", "96"}, nil},
		{"a reading after I am stays", mixed + "I'm 92 percent sure. I am 98.6 today.", nil, []string{"92", "98.6"}},
		{"a city after an address and a dictated comma", "dictation: he lives at 88 Pelican Way comma Sarasota comma Florida period.",
			[]string{"Sarasota"}, []string{"Florida"}},
		{"a direction between a house number and a street's prefix", mixed + "Send updates to 4410 E Calle Aurora, Tucson AZ 85718. Also 210 N. Via Linda, Scottsdale.",
			[]string{"4410 E Calle Aurora", "210 N. Via Linda"}, nil},
		{"a direction and a prefix before no name stay", mixed + "Gave 40 W Via the NGT.", nil, []string{"40 W Via"}},
		{"a surname of two letters after a name", mixed + "Re: member Percival Ng, DOB 6/6/1944. Seen by Dr. Mei Wu. Husband John Li (cell 555-0101).",
			[]string{"Percival Ng", "Mei Wu", "John Li"}, nil},
		{"a unit or a label after a name stays", mixed + "Pt Rosa Lopez Hx: CHF. Gave Rosa 5 Ng.", nil, []string{"Hx", "Ng"}},
		{"a card's last four digits after ending", mixed + "Total $284.50 paid Visa ending 4421. Paid by card ending in 7731. Acct ending 0917.",
			[]string{"4421", "7731", "0917"}, nil},
		{"a time or a year after ending stays", mixed + "Shift ending 1900. Week ending in 2026.", nil, []string{"1900", "2026"}},
		{"a name after a Dutch relation", mixed + "Dochter Marloes belt morgen. Echtgenoot Joost aanwezig. De dochter is boos.",
			[]string{"Marloes", "Joost"}, []string{"Dochter", "Echtgenoot", "boos"}},
		{"a house's name before its street address", mixed + "Home: Hillcrest Cottage, 27 Mill Lane, Fakenham NR21 0HP. Previously Ashby Farm, 4 Church Road, Leeds LS6 2AB.",
			[]string{"Hillcrest Cottage", "Ashby Farm"}, nil},
		{"a house word before no address stays", mixed + "Patient went to the House, 12 units given. Old Farm, 12 March 2020 visit.",
			nil, []string{"House", "Old Farm"}},
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

// TestRecordNearMissIndexed checks that a record of many names looks a
// word's near misses up in its index: the same answers as comparing the
// word with every name part (a part's own spelling, one edit, a
// transposition, two edits from eight letters, and words too far), at a
// number of comparisons that does not grow with the record.
func TestRecordNearMissIndexed(t *testing.T) {
	var names []string
	for i := 0; i < 400; i++ {
		// invented names: a syllable pair and a suffix, so parts share
		// letters as real surnames do
		a := []string{"kel", "mar", "dor", "vin", "tal", "ros", "bren", "quil", "sev", "ath"}[i%10]
		b := []string{"ow", "ing", "ett", "ard", "im", "ola"}[(i/10)%6]
		c := []string{"sky", "ton", "berg", "wick", "mere", "dale", "croft"}[(i/60)%7]
		names = append(names, a+b+c+" "+a+"ria")
	}
	cr := compileRecord(&Record{Names: names})
	if cr.fuzzyIdx == nil {
		t.Fatal("a record of 400 names has no index")
	}
	linear := &compiledRecord{fuzzy: cr.fuzzy}
	words := []string{"kelowsky", "kelowksy", "kelowskyy", "kleowsky", "kelowxkz", "kelowsk", "marria", "maria", "mrria",
		"quilolacroft", "quilolacrotf", "quilolacraft", "quilolcroft", "qulolacrof", "athimdale", "athimdael", "zzzzzzzz",
		"kelo", "abcd", "tallardmere", "tallardmer", "tallardmeree", "sevettwick", "sevetwik", "sevetwikc", "bren", "brenria", "brenrai"}
	for _, w := range words {
		var steps int
		got, want := cr.nearMiss(w, &steps), linear.nearMiss(w, nil)
		if got != want {
			t.Errorf("nearMiss(%q) = %v with the index, %v without", w, got, want)
		}
		if steps > 64 {
			t.Errorf("nearMiss(%q) compared %d name parts; want at most 64 of the record's %d", w, steps, len(cr.fuzzy))
		}
	}
	// every part, and every part with one byte changed, dropped, doubled
	// or swapped, gets the same answer both ways
	for _, p := range cr.fuzzy {
		vs := []string{p, p[1:], p[:len(p)-1] + "x", p[:2] + p[3:], p[:3] + p[2:], p[:1] + p[2:3] + p[1:2] + p[3:], "q" + p[:len(p)-2]}
		for _, v := range vs {
			if got, want := cr.nearMiss(v, nil), linear.nearMiss(v, nil); got != want {
				t.Errorf("nearMiss(%q) = %v with the index, %v without", v, got, want)
			}
		}
	}
}
