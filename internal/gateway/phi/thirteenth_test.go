package phi

import "testing"

// TestNoteTypesThirteenth checks the thirteenth accuracy pass's rules with
// invented lines from note kinds the earlier passes saw less (ambulance run
// reports, genetic-counselling, psychiatric-intake, ophthalmology, wound-care,
// chaplaincy and case-management notes, dictated operative reports and
// patient-portal messages): what must be redacted and what must stay.
func TestNoteTypesThirteenth(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"the left eye's acuity is no Polish street", mixed + "VA cc: OD 20/40, OS 20/25. IOP 18/19 by tonopen.",
			nil, []string{"OS 20/25", "20/40"}},
		{"the left eye's acuity in a short note", "Ophthalmology clinic\nVA sc OS 20/200 pinhole 20/60.",
			nil, []string{"OS 20/200"}},
		{"a nickname in parentheses that is an English word and the name's short form", mixed + "Counselor: Philippa (Pip) Hargreave, MS, CGC. Pip will call with results.\nAunt Hermione (Hen) Farraday called; Hen will call back.",
			[]string{"Philippa", "Pip", "Hargreave", "Hermione", "Hen", "Farraday"}, nil},
		{"a word in parentheses after a name that is no short form of it stays", mixed + "Son Marcus (MICU) called. Dr. Patel (PT) aware. Dr. Shah (Surgery) aware. Nurse Kim (Kids) aware.",
			[]string{"Marcus", "Patel", "Shah", "Kim"}, []string{"MICU", "PT", "Surgery", "Kids"}},
		{"a writer's name after a sign-off with exclamation marks", "hi dr. abernethy, quick question about my meds. i ran out of metoprolol on monday and the pharmacy said i need a new rx. can you send it to walgreens? bp has been 150s.\nthanks!! -gwen",
			[]string{"gwen"}, nil},
		{"a writer's name in capitals after a sign-off with an exclamation mark", "hi dr k, pls refill my metoprolol, ran out yesterday\nthanks! - Rose",
			[]string{"Rose"}, nil},
		{"no name after a sign-off with exclamation marks that goes on", "hi dr k, pls refill my metoprolol, ran out yesterday\nthanks!! -see you at the visit",
			nil, []string{"see", "visit"}},
		{"a transcriptionist's initials in lower case", "OPERATIVE REPORT\nSURGEON: Fenwick Adeyemi, MD\nPROCEDURE: Laparoscopic cholecystectomy.\nD: 01/04/2026 14:22  T: 01/05/2026 07:10\nTranscribed by kls   Job #: 5520194\nTranscribed by: jmr on 1/5. Typist: dlw.",
			[]string{"kls", "jmr", "dlw"}, nil},
		{"no initials from words after a transcription's verb", mixed + "Transcribed by hand. Typed by me. Typist: n/a. Transcribed by the unit clerk.",
			nil, []string{"hand", "me", "n/a", "the unit clerk"}},
		{"a place named for a saint and an English word after a residence's cue", mixed + "He lives in St. Cloud with a roommate. Son moved to Saint Joseph last year.",
			[]string{"Cloud", "Joseph"}, nil},
		{"a city in lower case after a residence's cue where case is evidence", mixed + "He grew up in duluth, moved here in 2019. Sister lives in fargo with her kids.",
			[]string{"duluth", "fargo"}, nil},
		{"no place from an ordinary word or a region after a residence's cue", mixed + "pt grew up in poverty. lives in mobile home. moved to rehab. lives in texas. born in india. lives in St. Mary's parish housing.",
			nil, []string{"poverty", "mobile", "rehab", "texas", "india", "parish", "housing"}},
		{"a pager's number after its abbreviation", mixed + "Page Dr. Lee, pgr 3-4471, with results. Anesthesia pgr 52210.",
			[]string{"3-4471", "52210"}, nil},
		{"a health card's number with its issue number or version code", mixed + "Medicare no. 2951 64127 1 exp 05/2027. OHIP 4482 117 339 KT. PHN 9876 543 210.",
			[]string{"2951 64127 1", "4482 117 339 KT", "9876 543 210"}, []string{"OHIP", "PHN"}},
		{"no version code from a credential or a word after a number", mixed + "MRN 123 456 789 MD note. Acct # 4412 8890 1234 PA aware. Group 12 4 5 today. Policy 1234 5 units.",
			[]string{"123 456 789", "4412 8890 1234"}, []string{"MD", "PA", "12 4 5", "5 units"}},
		{"a name before an emergency medical technician's or a paramedic's credential", mixed + "Crew: J. Lindqvist EMT-B and Rafferty Oduya, NRP. Counselor Ilse Marwood, CGC.",
			[]string{"J. Lindqvist", "Rafferty Oduya", "Ilse Marwood"}, []string{"EMT", "NRP", "CGC"}},
		{"an emergency medical technician's title alone is no name", mixed + "EMT at bedside. Pt was seen by EMT. Transported by EMT-B crew.",
			nil, []string{"EMT"}},
		{"a phone number written with dots before a word in parentheses", "Telephone Encounter\nCaller: daughter, callback 415-555-0163 (home) / 415.555.0177 (work). Her husband: 415.555.0188 (cell).\nINR 4.1, hold warfarin.",
			[]string{"415.555.0177", "415.555.0188"}, []string{"work", "cell", "4.1"}},
		{"a holiday named with Day or Eve", mixed + "Syncope at a wedding on New Year's Day. Fell on New Years Eve, on Memorial Day and on Mother's Day. Veterans Day visit.\nMVC ON LABOR DAY.",
			[]string{"New Year's Day", "New Years Eve", "Memorial Day", "Mother's Day", "Veterans Day", "LABOR DAY"}, nil},
		{"a holiday's first word alone is a word", mixed + "Mother at bedside. Labor and delivery aware. New onset AF. Memorial Hospital lab. Veterans in group. my mother day care.",
			nil, []string{"Mother", "Labor", "New", "Veterans", "mother"}},
		{"a town after a name and a comma that ends the sentence", mixed + "Family physician Dr. Haruto Sinclair, Mississauga. Referred by Dr. Amara Obi, Saskatoon. Son Paul, Omaha; daughter in town.",
			[]string{"Mississauga", "Saskatoon", "Omaha"}, nil},
		{"no town from a word that goes on after a name and a comma", mixed + "Seen by Dr. Lee, Cardiology. Wife Mary, Denver General. Son Paul, today.",
			nil, []string{"Cardiology", "today"}},
		{"an ordinal over 89 before a birthday is an age", mixed + "Family celebrated her 98th birthday on the unit. His 100th bday party was cancelled. Turning 101st birthday plans.",
			[]string{"98th", "100th", "101st"}, nil},
		{"no age from another ordinal or a younger birthday", mixed + "Weight at the 92nd percentile. Her 45th birthday. 90th day of stay. 95th percentile BMI.",
			nil, []string{"92nd", "45th", "90th", "95th"}},
		{"a street in lower case whose name is also a clinical word before ave or rd", "hi, i ran out of lisinopril and the pharmacy on grand ave said i need a new rx. bp 150s at home. my sister can pick it up",
			[]string{"grand ave"}, []string{"lisinopril", "pharmacy"}},
		{"a drug before st stays sinus tachycardia in lower case", "pt on neo st 110s, on heparin rd 2, on levo ave 70s",
			nil, []string{"neo st", "heparin", "levo"}},
		{"a street corner named by an ordinal or two capitalised streets", mixed + "She lives near the corner of 5th and Main. Meet at Oak and Elm.\nhi, can you send my lisinopril rx to the walgreens on 7th and main? bp 150s",
			[]string{"5th and Main", "Oak and Elm", "7th and main"}, nil},
		{"no street corner from days, doses or ordinary words", mixed + "Met friends at school and church. Seen on 5th and 6th. BP stable on 2nd and 3rd checks. Focus on main and side effects.",
			nil, []string{"school and church", "5th and 6th", "2nd and 3rd", "main and side"}},
		{"a user name in lower case after a verb of the record's keeping and by", mixed + "Report completed by paokafor on tablet. Note entered by jmarlowe. Documented by: tkovach at 0300.",
			[]string{"paokafor", "jmarlowe", "tkovach"}, nil},
		{"no user name from a word after a verb of the record's keeping", mixed + "Form completed by patient. Entered by mistake. Signed by attending. Documented by nursing staff. Updated by pharmacy.",
			nil, []string{"patient", "mistake", "attending", "nursing", "pharmacy"}},
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
