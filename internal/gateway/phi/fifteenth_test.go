package phi

import "testing"

// TestNoteTypesFifteenth checks the fifteenth accuracy pass's rules with
// invented lines from note kinds the earlier passes did not see
// (dermatology, oncology infusion, urgent care, allergy, rheumatology,
// diabetes education, bariatric surgery, addiction medicine, palliative
// family meetings, pre-operative clearance, vaccine records, camp
// physicals, immigration examinations, equipment orders, HL7 and FHIR
// snippets pasted into notes, fax cover sheets, pathology reports and
// pharmacy refill requests): what must be redacted and what must stay.
func TestNoteTypesFifteenth(t *testing.T) {
	mixed := "Pt tolerated infusion, port flushed, labs reviewed with oncology, ondansetron given prn, no nausea, ambulating.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a phone number with its extension after ph", mixed + "Pump disconnect at home by the infusion pharmacy (ph 414-555-0139 ext 22). Clinic ph: 262.555.0117 x4.",
			[]string{"414-555-0139", "262.555.0117"}, nil},
		{"a pH stays", mixed + "ABG pH 7.31, pCO2 48. Urine ph 6.5. ph 7.28-7.35 overnight.",
			nil, []string{"7.31", "6.5", "7.28-7.35"}},
		{"the identifier fields of HL7 segments pasted into a note", "Interface message pasted for review:\n" +
			"MSH|^~\\&|RADIS|NORTHFIELDIMG|EHR|NORTHFIELDMC|20261130142210||ORU^R01|RAD0098812|P|2.3\n" +
			"PID|1|4471902|M0028813^^^MRN||ABERNATHY-COLE^LUCINDA^R^^MRS||19480203|F||W|77 Quarry Hill Rd^Apt 4^MONTPELIER^VT^05602||802-555-0133|||M||A00918273|044-29-7716\n" +
			"NK1|1|COLE^WINSTON^J|SPO|77 QUARRY HILL RD^^MONTPELIER^VT^05602|(802)555-0177\n" +
			"  PV1|1|O|XR^^^NFI||||00432^HOLLOWAY^DESMOND^P^^^MD|||||||||||V88120044\n" +
			"OBX|1|TX|IMP^IMPRESSION||No acute cardiopulmonary process.||||||F",
			[]string{"NORTHFIELDIMG", "NORTHFIELDMC", "ABERNATHY-COLE^LUCINDA^R", "Apt 4", "MONTPELIER", "COLE^WINSTON^J", "00432", "HOLLOWAY^DESMOND^P", "V88120044", "044-29-7716"},
			[]string{"ORU^R01", "MRN", "MRS", "VT", "SPO", "IMP^IMPRESSION", "No acute cardiopulmonary process", "MD"}},
		{"no HL7 fields from a table with bars", mixed + "Vaccine | Lot | Site\nDTaP-IPV | given | L thigh\nOBX is a segment name. PID|notes: see above. Tdap|Boostrix|IM",
			nil, []string{"Vaccine", "Lot", "Site", "given", "thigh", "notes", "Boostrix", "IM"}},
		{"the second half of a hyphenated surname that is short or a word", mixed + "Her neighbour Mrs. Fitzwilliam-Ng found her on the floor. Records faxed to Dr. Abbott-Wu.",
			[]string{"Fitzwilliam-Ng", "Abbott-Wu"}, nil},
		{"no surname from a hyphenated eponym or a credential", mixed + "Hx Guillain-Barre, Non-Hodgkin lymphoma in remission. Swan-Ganz out. Reviewed by Dr. Lindgren-MD.",
			[]string{"Lindgren"}, []string{"Guillain-Barre", "Non-Hodgkin", "Swan-Ganz", "MD"}},
		{"an age over 89 after a report's Age/Sex", mixed + "Patient: HALVERSON, INGRID K    Age/Sex: 95/F    MRN: 1029384\nAge/Gender: 93 M",
			[]string{"95", "93"}, []string{"F"}},
		{"no age from a younger Age/Sex or a sex alone", mixed + "Age/Sex: 45/M. Sex: 95 kg? no. Gender 92 lbs.",
			nil, []string{"45", "95 kg", "92 lbs"}},
		{"a code whose letters are a label's, glued by a hyphen", mixed + "Component testing sent, req AC-7734102. FHIR resource {\"id\":\"pt-88213047\"}.",
			[]string{"7734102", "88213047"}, nil},
		{"a label's value after a hyphen stays", mixed + "PLT-250000. WBC-11.2. Hgb-9.8. AC-12/5. PT-13.1.",
			nil, []string{"250000", "11.2", "9.8", "12/5", "13.1"}},
		{"a weekday's short form before a date", mixed + "Pump disconnect Wed 12/3 at home. Seen Fri 12/4 and Mon 11/30/26.",
			[]string{"Wed 12/3", "Fri 12/4", "Mon 11/30/26"}, nil},
		{"a short weekday alone stays", mixed + "Sat 92% on RA. Mon. Wed: none. Sun exposure limited; Fri night rest.",
			nil, []string{"Sat", "Mon", "Wed", "Sun", "Fri"}},
		{"a day of the month after a weekday or a day and 'and'", mixed + "Discharged Monday the 30th. Port accessed on the 2nd and the 9th of the month.",
			[]string{"Monday", "30th", "2nd", "9th"}, nil},
		{"no day from an ordinal after 'and' that counts", mixed + "Moved from the 4th floor and the 5th floor. Lesions on the 1st and the 3rd toes. First and the 6th doses. Monday the 7th cycle.",
			nil, []string{"4th floor", "5th floor", "3rd toes", "6th doses", "7th cycle"}},
		{"a joint count out of 28 is no date", mixed + "DAS28-CRP 3.4. Tender 6/28, swollen 4/28. TJC 10/28. SJC 12/66.",
			nil, []string{"6/28", "4/28", "10/28", "12/66"}},
		{"no joint count without the word", mixed + "Seen 6/28 and on 4/28, swollen since 5/28.",
			[]string{"6/28", "4/28", "5/28"}, nil},
		{"a port's needle", mixed + "Port accessed, 20G 3/4 in Huber, + blood return.",
			nil, []string{"Huber"}},
		{"credentials of fellowships after a letter", "The family was given an action plan for the school and will schedule a food challenge. Questions: call the nurse line.\nMarta Lindqvist, MD, FAAAAI",
			[]string{"Marta Lindqvist"}, []string{"FAAAAI"}},
		{"credentials of fellowships after a letter: FAAP", "We reviewed the growth chart and the vaccine record together and answered all questions today.\nJuan Ortiz, MD, FAAP",
			[]string{"Juan Ortiz"}, []string{"FAAP"}},
		{"no street from the first half of a hyphenated surname", "FAX COVER SHEET\nFrom: Gloria Estrada-Whitfield  Tel: 336-555-0198\nPages (including cover): 7. Please call if any pages are missing.",
			[]string{"Estrada-Whitfield", "336-555-0198"}, nil},
		{"a street after its prefix stays a street", mixed + "Lives at Estrada 12, Lisbon, with her daughter. Moved to Via Roma 4.",
			[]string{"Estrada 12", "Via Roma 4"}, nil},
		{"a city in a JSON object pasted into a note", mixed + "Outside record: {\"address\":[{\"line\":[\"77 Esplanade Ave\"],\"city\":\"Metairie\",\"district\": \"Jefferson Parish\",\"state\":\"LA\"}]}",
			[]string{"Metairie", "Jefferson Parish"}, []string{"LA", "city", "district"}},
		{"no city from a JSON key's empty or numbered value", mixed + "{\"city\":\"\",\"town\":\"12 Main\",\"country\":\"Canada\"}",
			nil, []string{"12", "Main", "Canada"}},
		{"a phone's extension after a comma", mixed + "Call (415) 555-0176, extension 3, or 414-555-0139, ext. 22.",
			[]string{"(415) 555-0176, extension 3", "414-555-0139, ext. 22"}, nil},
		{"no extension from a comma and a word", mixed + "Call 312-555-0100, excellent rapport. Call 312-555-0101, #2 on the list.",
			[]string{"312-555-0100", "312-555-0101"}, []string{"excellent", "#2"}},
		{"a Vietnamese name with its middle name", mixed + "Applicant: Tran Thi Thu Ha   A-Number: A214-889-302\nHusband Le Van An was present. Sister Pham Thi Mai Anh interpreted.",
			[]string{"Tran Thi Thu Ha", "Le Van An", "Pham Thi Mai Anh"}, nil},
		{"no Vietnamese name without a family name before the middle one", mixed + "Van Cleve family. Pt rode the Van to clinic. Do Van rides count?",
			nil, []string{"rides", "clinic"}},
		{"a patient's initials with their dots after pt", mixed + "Pt D.L. is a 56 yo man seen for a wound check. Patient R.M.K. returns today.",
			[]string{"D.L", "R.M.K"}, nil},
		{"no initials from shorthand with dots after pt", mixed + "Pt A.O. x3. Pt D.C.'d home with family. Pt: N.P.O. after midnight. Pt O.K. with plan.",
			nil, []string{"A.O.", "D.C.", "N.P.O.", "O.K."}},
		{"a participant, an applicant, a camper or a sponsor before a name", mixed + "Participant: Hemi Walker-Tuhiwai   Educator: on file\nSponsor Dale checks in daily. Applicant: Oyelaran Bisi. Camper: Tamsin Ravel.",
			[]string{"Hemi Walker-Tuhiwai", "Dale", "Oyelaran Bisi", "Tamsin Ravel"}, nil},
		{"an HL7 segment after a label on its line", mixed + "ADT copy: PV1|1|I|HAH^^^MPLS||||08812^OKONJO^CHINWE^A|||||||||||V77120931",
			[]string{"08812", "OKONJO^CHINWE^A", "V77120931"}, nil},
		{"an emergency or a service number after call stays", mixed + "Red zone (<140): albuterol 6 puffs, call 911. In crisis call 988.",
			nil, []string{"911", "988"}},
		{"a number that starts with 911 after call is a phone", mixed + "Call 911-555-0134 for the crisis team.",
			[]string{"911-555-0134"}, nil},
		{"the name one goes by", mixed + "Patient Lam Chau Ngoc (goes by Hong) came in with her son, Minh, who goes by Danny.",
			[]string{"Hong", "Danny"}, nil},
		{"no name from a ride or a word one goes by", mixed + "He goes by Uber to dialysis. Known as Type 2 before. Goes by Metro Transit. Went by Walgreens for the refill.",
			nil, []string{"Uber", "Type", "Metro Transit", "Walgreens"}},
		{"the last four digits after a trigger and 'last 4'", mixed + "Identity verified: SSN last 4: 2231. Acct last 4 - 0917. Member ID last 4 8812.",
			[]string{"2231", "0917", "8812"}, nil},
		{"no identifier from 'last 4' and a unit", mixed + "Policy last 4 weeks unchanged. Member last 4 visits were virtual.",
			nil, []string{"4 weeks", "4 visits"}},
		{"a lab's day before its bounded result", mixed + "Graves disease on methimazole. TSH 11/20 <0.01, FT4 1.9. Trop 3/2 <0.03 x2.",
			[]string{"11/20", "3/2"}, []string{"<0.01", "<0.03"}},
		{"no day from a setting, a pressure or a score before a bound", mixed + "BP 120/80 >90 goal. PS 10/5 >40%. Pain 3/10 <5 with meds. PEEP 5/5 >7.35 pH.",
			nil, []string{"120/80", "10/5", "3/10", "5/5"}},
		{"a practice named before Surgery, Pathology or Laboratories", mixed + "BCC of the ala, Mohs 2019 at Bayou Teche Dermatologic Surgery. Slides reviewed at Kessling Ridge Pathology. Drawn by Velcourt Laboratories.",
			[]string{"Bayou Teche", "Kessling", "Velcourt"}, nil},
		{"no practice from an operation or a service before Surgery", mixed + "Mohs Surgery planned. Consult General Surgery. Called Surgery. Whipple Surgery 2019. Sent to Pathology.",
			nil, []string{"Mohs", "General", "Called", "Whipple", "Pathology"}},
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
