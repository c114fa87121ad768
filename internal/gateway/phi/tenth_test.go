package phi

import "testing"

// TestNoteTypesTenth checks the tenth accuracy pass's rules with invented
// lines from note kinds the earlier passes did not cover (discharge
// summaries with family and follow-up, pharmacy reconciliation, telehealth,
// dental, behavioural health, paediatric, social work home visits, lab
// reports, motor vehicle crashes, notes in other languages): what must be
// redacted and what must stay.
func TestNoteTypesTenth(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a date in another language, day first", mixed + "Fecha de nacimiento: 14 de febrero de 1958. Vista el 2 de octubre del 2025; cita el 9 de julio.\n" +
			"Vu le 6 février 2026. Né le 30 juin 1941. Geboren am 5. Mai 1960, Aufnahme 7. März 2026. Nato il 21 settembre 1939. Nascido em 3 de setembro de 1972.",
			[]string{"14 de febrero de 1958", "2 de octubre del 2025", "9 de julio", "6 février 2026", "30 juin 1941", "5. Mai 1960", "7. März 2026", "21 settembre 1939", "3 de setembro de 1972"}, nil},
		{"no date from a foreign month that is a word without its year", mixed + "Gave 3 mars bars at lunch, had 2 mai tais.",
			nil, []string{"mars", "mai"}},
		{"an age over 89 after a verb of birthdays", mixed + "Per daughter she turned 100 last month. Her brother turns 95 in the spring; father will turn 91.",
			[]string{"100", "95", "91"}, nil},
		{"no age after turned before a unit", mixed + "Pt turned 90 degrees in bed q2h; O2 turned up to 100%. Feeds turned to 120 ml.",
			nil, []string{"90", "100", "120"}},
		{"a school or a daycare named before its kind", mixed + "Child is in 2nd grade at Lincoln Elementary; attends Little Sprouts Daycare after school. Brother at Washburn High School, sister at Bright Horizons Preschool.",
			[]string{"Lincoln Elementary", "Little Sprouts", "Washburn", "Bright Horizons"}, nil},
		{"a kind of school names none", mixed + "Pt is a nursing student, finished High School, in Nursing School now; mother teaches at a Middle School. Graduated from Medical School; attends Summer School.",
			nil, []string{"High School", "Nursing School", "Middle School", "Medical School", "Summer School"}},
		{"a verb that starts a sentence is no part of a place's name", mixed + "Attends Normandale Community College part-time. Visited Harvard Medical School. Visited Maple Terrace with son.",
			[]string{"Normandale", "Harvard", "Maple Terrace"}, []string{"Attends", "Visited"}},
		{"a residence named before the kind of care it gives", mixed + "Considering Sunrise Assisted Living or Brookdale Senior Living; previously at sunrise assisted living in town. Sister at Maple Knoll Memory Care.\n" +
			"PT WAS AT GOLDEN PINES ASSISTED LIVING FOR 2 YEARS.",
			[]string{"Sunrise", "Brookdale", "sunrise", "Maple Knoll", "GOLDEN PINES"}, []string{"Assisted Living", "assisted living", "Memory Care"}},
		{"the kind of care alone names no residence", mixed + "Lives in assisted living. Moved to an assisted living facility. Needs Assisted Living placement. Discussed independent living vs memory care. Activities of Daily Living intact.\nPT NEEDS ASSISTED LIVING.",
			nil, []string{"assisted living", "Assisted Living", "independent living", "memory care", "Daily Living", "NEEDS"}},
		{"a vehicle's plate after its state's code", mixed + "Restrained driver, plate MN ABC-1234, per trooper. Other car's tag WI 447-KX2.",
			[]string{"ABC-1234", "447-KX2"}, []string{"trooper"}},
		{"a dental practice named by ordinary words", mixed + "Seen at Quarry Hill Dental last year. Follows with Lakeshore Orthodontics for braces.",
			[]string{"Quarry Hill", "Lakeshore"}, []string{"Dental", "Orthodontics"}},
		{"a dental specialty names no practice", mixed + "Referred to Pediatric Dentistry and to Oral Surgery; seen in Dental clinic. Follows with Orthodontics.",
			nil, []string{"Pediatric Dentistry", "Oral Surgery", "Dental", "Orthodontics"}},
		{"a dash between spaces ends a facility's name", "Medication Reconciliation - Pharmacy\nReviewed home meds with pt and daughter. Lisinopril 10 mg daily, metoprolol 25 mg BID.",
			nil, []string{"Medication Reconciliation"}},
		{"a school named where case is no evidence", mixed + "Grandson attends blake school and went to quellmorn elementary.\nSCHOOL: PINE HOLLOW ELEMENTARY, 3RD GRADE. SISTER ATTENDS ROSEMOUNT DAYCARE.",
			[]string{"blake", "quellmorn", "PINE HOLLOW", "ROSEMOUNT"}, []string{"school", "elementary", "3RD GRADE", "SISTER ATTENDS"}},
		{"a kind of school in lower case or capitals names none", mixed + "Son goes to school. Went back to school. Attends online school and night school, at the high school, in grad school; daughter at a new school. Attends school regularly.\n" +
			"PT ATTENDS NIGHT SCHOOL. GOES TO HIGH SCHOOL. PT AT TRADE SCHOOL. SCHOOL: HOME SCHOOLED.",
			nil, []string{"online", "night", "high", "grad", "new", "regularly", "NIGHT", "HIGH", "TRADE", "HOME"}},
		{"a state's code that is also a surname after a place", "Thank you for seeing her. Follow-up at 4410 Larkspur Blvd, Eau Claire, WI 54701. Her daughter lives in Fresno, WI.",
			[]string{"4410 Larkspur Blvd", "Eau Claire", "54701", "Fresno"}, []string{"WI"}},
		{"a user name joined by an underscore", mixed + "Message from: dmarchetti_77 (patient portal). Portal user j.smith_22 logged in; reply to kraus_wilhelmina.",
			[]string{"dmarchetti_77", "j.smith_22", "kraus_wilhelmina"}, nil},
		{"no user name in a template's field or a short code", mixed + "See file_2. BP_2 120. NPO_status yes. Blank ____ here. Scan at C:\\docs\\scan_2024.pdf.",
			nil, []string{"file_2", "BP_2", "NPO_status", "____", "street_name", "last_name", "first_name"}},
		{"titles of other languages", mixed + "Vista por la Dra. Ana Villalobos. Sra. Pilar Ochoa llamó. Mme Lacasse appelle. Herr Vogelsang und Frau Dietl. Dott. Ferri.",
			[]string{"Ana Villalobos", "Pilar Ochoa", "Lacasse", "Vogelsang", "Dietl", "Ferri"}, nil},
		{"an age over 89 that a relative is", mixed + "Her brother is ninety-eight and her mother is 101. Father was 94 when he died.",
			[]string{"ninety-eight", "101", "94"}, nil},
		{"no age after a relative before a unit", mixed + "Husband is 95% sure. Wife is 90 minutes away.",
			nil, []string{"95", "90"}},
		{"the last digits of an identifier", mixed + "SSN ending 4471 on file. SS# last four 2290. Card ending 8812 declined. MRN last digits 0041.",
			[]string{"4471", "2290", "8812", "0041"}, nil},
		{"scores and diseases of paediatrics named for people", "Pt seen today in clinic with mother.\nVanderbilt forms given to teacher. Conners scale pending. Tanner stage 2. Beck inventory 12. Morse fall score 45. Wong-Baker 4. Dx: Osgood-Schlatter; r/o Legg-Calve-Perthes.",
			nil, []string{"Vanderbilt", "Conners", "Tanner", "Beck", "Morse", "Wong-Baker", "Osgood-Schlatter", "Legg-Calve-Perthes"}},
		{"a surname of a score's list is still a name with a title or a label", "Pt seen today in clinic with mother.\nSeen by Dr. Tanner. Mr. Morse called. Attending: Beck, Ada. Ellis Baker visited.",
			[]string{"Tanner", "Morse", "Beck", "Baker"}, nil},
		{"a practice named by ordinary words in a parenthesis of its own", mixed + "Called prescriber office (Lakeside Internal Medicine) re dose. PCP office (Meadow Brook Pediatrics) faxed.",
			[]string{"Lakeside", "Meadow Brook"}, []string{"Internal Medicine", "Pediatrics"}},
		{"a specialty in a parenthesis names no practice", mixed + "Seen by cardiology (Internal Medicine consult). Referred (Family Medicine). Follows with PCP (Sleep Medicine).",
			nil, []string{"Internal Medicine", "Family Medicine", "Sleep Medicine"}},
		{"a street in lower case with an abbreviated suffix after an address's cue", mixed + "Meds delivered to 419 linden st n, apt 2. Daughter lives at 88 quarry rd.",
			[]string{"419 linden st n", "88 quarry rd"}, nil},
		{"no street from a value before shorthand", mixed + "hr up to 110 st. titrated to 20 mcg st. seen at 3 pm rd. at 2 am st. weaned to 40 percent st. went to 2 west st.",
			nil, []string{"110", "20 mcg", "3 pm", "2 am", "40 percent", "2 west"}},
		{"the apps of telehealth, messaging and payment are no names", "Telehealth Behavioral Health Follow-up\nSession conducted via VSee; client at home. Client's Instagram @lark.q.art and Venmo shared in error; advised. Zelle payment declined; messaged on MyChart.",
			[]string{"lark.q.art"}, []string{"VSee", "Instagram", "Venmo", "Zelle", "MyChart"}},
		{"a month and year in another language", mixed + "Cirugía en marzo de 2026 y noviembre del 2025. Opéré en juin 2024. Nascido em setembro de 1950.",
			[]string{"marzo de 2026", "noviembre del 2025", "juin 2024", "setembro de 1950"}, nil},
		{"no month from a word before a year", mixed + "Class of 2024. Won 2 mars in 2019. Plan 2025.",
			nil, []string{"Class", "mars", "Plan"}},
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
