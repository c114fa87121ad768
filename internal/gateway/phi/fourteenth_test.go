package phi

import (
	"strings"
	"testing"
)

// TestNoteTypesFourteenth checks the fourteenth accuracy pass's rules with
// invented lines from note kinds the earlier passes did not see
// (long-term care reviews, ICU flowsheets, anaesthesia records, labour and
// delivery, transplant coordination, contact tracing, audiology, podiatry,
// speech therapy, interpreter-mediated visits, insurance appeals,
// guardianship reports, research consent, workers' compensation
// examinations and claim correspondence): what must be redacted and what
// must stay.
func TestNoteTypesFourteenth(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"an age over 89 recurs as a reading: it stays there", "PT: HALVORSEN, AXEL  96 YO M ADMIT W/ UROSEPSIS. HX DEMENTIA, AFIB.\nRESP: 2L NC SATS 94-96%. HR 96, BP 96/50. TEMP 96.8. GLUCOSE 96 MG/DL.\n" +
			"Mrs. Oyelowo is a 92 yo woman admitted with CAP. SpO2 92% on 2L, HR: 92, weight 92 kg.",
			[]string{"96", "92"}, []string{"94-96%", "HR 96", "96/50", "96.8", "96 MG", "92%", "HR: 92", "92 kg"}},
		{"a day written as an ordinal and day of before the month, as court papers and affidavits date", mixed + "Signed this 20th day of November, 2025. Sworn on the 3rd day of March 2024 before me.",
			[]string{"20th day of November, 2025", "3rd day of March 2024"}, nil},
		{"a day of the month written as an ordinal in words", mixed + "Surgery on the fifteenth of August. Admitted the twenty-first day of March, 2024. Born the thirty first of May 1931.\nSeen August fifteenth and on October twenty-first, 2025, and March the third.",
			[]string{"fifteenth of August", "twenty-first day of March, 2024", "thirty first of May 1931", "August fifteenth", "October twenty-first, 2025", "March the third"}, nil},
		{"no day from an ordinal in words that counts", mixed + "First of all, the second of the two doses was given. The fifth day of the course. Seventh of nine children. A third of August's admissions.",
			nil, []string{"First", "second", "fifth day", "Seventh", "third"}},
		{"the first day of a range of days glued by a hyphen", mixed + "Weight up 1.6 kg in 3 days (11/29-12/2), SBP 158-164. Exposure window 8/15-11/20/2025.",
			[]string{"11/29-12/2", "8/15-11/20/2025"}, []string{"158-164"}},
		{"no range from pressures and chains", mixed + "HR 115-134/65-74. BP 110/70-130/80. ABG 7.38/42/96-7/2.",
			nil, []string{"115-134/65-74", "110/70-130/80", "7.38/42/96"}},
		{"a house number with its letter before a street", mixed + "Lives at 221B Baker Street, London. Her home is 14B Larch Close. Moved to 7A Elm St. in May.",
			[]string{"221B Baker Street", "14B Larch Close", "7A Elm St"}, nil},
		{"no address from a number and a letter before a word", mixed + "Took 2B tabs. Grade 3B ulcer. Stage 4A cancer. Bed 12A Ward.\nCV: BP 118-136/ Hr 70s AV paced. HR 80S AVE.",
			nil, []string{"2B tabs", "3B ulcer", "4A cancer", "70s AV", "80S AVE"}},
		{"the number of a state route or a highway after its name", mixed + "Injured at a job site on State Route 161 near the plant. Crash on Old Highway 61 last year.",
			[]string{"State Route 161", "Old Highway 61"}, nil},
		{"a rural route's number before its box", mixed + "File shows his address as RR 2 Box 47, Punxsutawney, PA 15767. Mail to R.R. 3, Box 12. HC 65 Box 9. Rural Route 3, Box 112.",
			[]string{"RR 2 Box 47", "R.R. 3, Box 12", "HC 65 Box 9", "Rural Route 3, Box 112"}, nil},
		{"an age over 89 at a death", mixed + "Family history: Mother died at 102. Father passed away at 95 in his sleep. Grandmother's death at 97.",
			[]string{"102", "95", "97"}, nil},
		{"no age from a younger death, a reading or a clock", mixed + "Brother died at 61. Sats died at 90%. Pt passed at 0300. Passed at 92 degrees.",
			nil, []string{"61", "90%", "0300", "92 degrees"}},
		{"a surname after a name and an ampersand in a clinical note", mixed + "His attorney is Meredith Szabo of Szabo & Lindqvist, 412-555-0109.",
			[]string{"Meredith Szabo", "Lindqvist"}, nil},
		{"a pair of serial numbers with the side of each", mixed + "Current aids: Phonak Audeo P90-R, serial R 2214X0KLM, L 2214X0KLN, fit 06/2021. Cochlear implant SN left 4471-AB9, right 4471-AC2.",
			[]string{"2214X0KLM", "2214X0KLN", "4471-AB9", "4471-AC2"}, nil},
		{"no second serial from a dose after a side", mixed + "Lot L 4471, R 50 mg. Wound 3x5cm. 2x2 gauze. Gauze 4x4s. Vent set 100% 700x12AC, rate 14.",
			[]string{"4471"}, []string{"50 mg", "3x5cm", "2x2", "4x4s", "700x12AC"}},
		{"a brief interview's score out of its maximum is no date", mixed + "Resident continues on the unit. BIMS 11/15 today, moderate impairment. BIMS: 13/15 last quarter.",
			nil, []string{"11/15", "13/15"}},
		{"a credential written with dots is no name", mixed + "Follow up 3 weeks. Dr. Anneliese Kowalczyk, Au.D., CCC-A. Reviewed by Tomasz Brandt, Pharm.D.",
			[]string{"Anneliese Kowalczyk", "Tomasz Brandt"}, []string{"Au.D.", "CCC-A", "Pharm.D."}},
		{"a city before a country or a state written out that ends its clause", mixed + "Travel: toured Windhoek, Namibia in June. Spent two weeks touring Cuenca, Ecuador.",
			[]string{"Windhoek", "Cuenca"}, []string{"Namibia", "Ecuador"}},
		{"no city from a word before a region that goes on", mixed + "Pain, Georgia aware. Culture: Rice, Texas style.",
			nil, []string{"Pain", "Rice"}},
		{"a first name written with its accents after a surname and a comma", mixed + "Patient: Soto-Villanueva, Ramón   MRN 001847392\nCaller: Okafor, Inés (daughter). Interpreter: Halvorsen, Åsa.",
			[]string{"Ramón", "Inés", "Åsa"}, nil},
		{"an accented word that folds to no name stays", mixed + "Café visit with family. Résumé attached for the vocational rehab counselor. Naïve to opioids.",
			nil, []string{"Café", "Résumé", "Naïve"}},
		{"a weekday abbreviated to four or five letters, or to Thu and Tue", mixed + "Extra furosemide x2 days, recheck weight Thurs. Care conference held Tues with the son. Dialysis Tue/Thu/Sat. Weds visit.",
			[]string{"Thurs", "Tues", "Tue", "Thu", "Weds"}, nil},
		{"a slash date after a month's abbreviation that is a label", mixed + "Pharmacy consultant reviewed MAR 10/9: recommends a dose reduction. MAR 3/4/25 reviewed.",
			[]string{"10/9", "3/4/25"}, []string{"MAR"}},
		{"a month's abbreviation with its day is still a date", mixed + "Seen Mar 10, 2024 and Mar. 12th.",
			[]string{"Mar 10, 2024", "Mar. 12th"}, nil},
		{"a US route or highway after on or off", mixed + "Crash on US Route 20 near the county line. Lives off US Hwy 12 with his son.",
			[]string{"US Route 20", "US Hwy 12"}, nil},
		{"no road from US without a place's preposition", mixed + "Spoke to US about route 5. US 4 cm mass.",
			nil, []string{"route 5", "US 4"}},
		{"a facility's name after a form's label", mixed + "Referral # LFC-25-04471. Hospital: Hennepin Healthcare. Met with husband.\nFacility: Brookhaven Manor Nursing & Rehabilitation, 2250 Old Mill Rd, Kenosha, WI 53144",
			[]string{"Hennepin Healthcare", "Brookhaven Manor Nursing", "Rehabilitation"}, nil},
		{"no facility from a label before ordinary or clinical words", mixed + "Hospital: None. Facility: Skilled Nursing. Facility: N/A. Hospital: Transferred to ICU.\nHospital course: uneventful.",
			nil, []string{"None", "Skilled Nursing", "N/A", "Transferred", "ICU", "course"}},
	}
	_ = mixed
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

// TestAgeRecursAsAge checks that an age over 89 is still redacted wherever
// it recurs as an age or alone, only a reading keeps its digits.
func TestAgeRecursAsAge(t *testing.T) {
	text := "PT: HALVORSEN, AXEL  96 YO M ADMIT W/ UROSEPSIS. HX DEMENTIA, AFIB.\nSOCIAL: NIECE CALLED, SAYS HE IS 96 AND STILL SHARP. Age: 96. 96 on his last birthday."
	r, _ := redact(t, text, nil)
	if strings.Contains(r.Text, "96") {
		t.Errorf("an age left visible: %q", r.Text)
	}
}
