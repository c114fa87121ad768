package phi

import "testing"

// TestNoteTypesSixteenth checks the sixteenth accuracy pass's rules with
// invented lines: the fifteenth pass's leftovers, then note kinds the
// earlier passes did not see (voicemail and chat transcripts, rooming
// lines, trial adverse-event reports, genetic test reports, optometry,
// allergy component tests, equipment orders, vaccine records) and
// addresses written in French, Spanish and Portuguese: what must be
// redacted and what must stay.
func TestNoteTypesSixteenth(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"the last four digits after the whole number", mixed + "SSN on file; caller gave last four 4407 to confirm. Card last 4 digits: 0925.",
			[]string{"4407", "0925"}, []string{"four", "digits"}},
		{"a count after last four stays", mixed + "Over the last four weeks 2 falls. Last 4 visits normal.",
			nil, []string{"weeks", "2 falls", "visits"}},
		{"staff initials before a slash and a role", mixed + "Vitals taken by RQW/MA at 0910. Roomed by DLH/LPN. Injection given by KT/CMA.",
			[]string{"RQW", "DLH", "KT"}, []string{"MA", "LPN", "CMA"}},
		{"no initials from shorthand before a slash", mixed + "Rhythm SB/SR, no ectopy. PT/OT consulted. RN/MA to room. LPN/MA aware. IABP/PA line intact.",
			nil, []string{"SB/SR", "PT/OT", "RN/MA", "LPN/MA", "IABP/PA"}},
		{"a Korean given name with its lower-case second syllable", mixed + "Sung-min Park came in with his mother. Min-jun Lee, his cousin, translated.",
			[]string{"Sung-min Park", "Min-jun Lee"}, nil},
		{"no Korean name from a hyphenated word", mixed + "Follow-up in two weeks. So-so appetite. Sun-dried tomato allergy. Ha-ha, she said.",
			nil, []string{"Follow-up", "So-so", "Sun-dried", "Ha-ha"}},
		{"a skin type's scale is no name", mixed + "Skin type Fitzpatrick III, no atypical nevi. Fitzpatrick skin type V.",
			nil, []string{"Fitzpatrick III", "Fitzpatrick skin"}},
		{"a surname Fitzpatrick stays a name", mixed + "Referred by Dr. Fitzpatrick II. Her aunt Nuala Fitzpatrick drove her.",
			[]string{"Fitzpatrick", "Nuala Fitzpatrick"}, nil},
		{"a vaccine maker is no name", mixed + "Influenza vaccine (Seqirus) given L deltoid; Gardasil 9 from Merck, lot Y00712.",
			[]string{"Y00712"}, []string{"Seqirus", "Merck"}},
		{"an allergen's component is no name", mixed + "Component testing: Ara h 2 4.1 kU/L, Ara h 8 <0.10, Gal d 1 negative, Bet v 1 0.6.",
			nil, []string{"Ara h 2", "Ara h 8", "Gal d 1", "Bet v 1"}},
		{"HCPCS codes are no identifiers", mixed + "Equipment order: HCPCS E0260 semi-electric hospital bed, E0143 walker, K0001 wheelchair.",
			nil, []string{"E0260", "E0143", "K0001"}},
		{"a letter and four digits without HCPCS stay an identifier", mixed + "Member ref E0260 on the card.",
			[]string{"E0260"}, nil},
		{"a car park's lot is no address", mixed + "Parked in lot B near the east entrance.",
			nil, []string{"lot B"}},
		{"a lot's number stays an address", mixed + "Lives at Lot 12, Wattle Creek Road.",
			[]string{"Lot 12"}, nil},
		{"a refraction after OS is no street", mixed + "Manifest refraction: OD -2.25 -0.50 x 180, OS -2.00 sph; add +2.00 OU.",
			nil, []string{"OS -2.00", "-2.25"}},
		{"a self-introduction in lower case on a line with capitals", mixed + "Voicemail 12/3: hi this is bernadette calling about my refill.\nChat: hi its kevin obrien, my appt is tomorrow",
			[]string{"bernadette", "kevin obrien"}, nil},
		{"no name from an ordinary word after an introduction", mixed + "Chat: its fine, this is ok, its will power, this is mark 2 on the chart",
			nil, []string{"fine", "ok", "will", "mark"}},
		{"a phone number spoken digit by digit", mixed + "Voicemail: my number is 6 0 8 5 5 5 0 1 9 2, please call me back at 1 4 1 4 5 5 5 0 1 3 9.",
			[]string{"6 0 8 5 5 5 0 1 9 2", "1 4 1 4 5 5 5 0 1 3 9"}, nil},
		{"no phone from a row of scores", mixed + "AIMS items 2 3 4 2 2 3 1 2 3 4, total 26. Edinburgh 0 0 0 0 1 0 0 0 0 0.",
			nil, []string{"2 3 4 2 2 3 1 2 3 4", "0 0 0 0 1 0 0 0 0 0"}},
		{"a birth date after a chat's speaker label", mixed + "agent: can you confirm your dob? pt: 3/4/88\npatient: 11-02-79",
			[]string{"3/4/88", "11-02-79"}, nil},
		{"a prothrombin time after PT stays", mixed + "PT: 13.1, INR 1.1. PT 12/5 sec? no.",
			nil, []string{"13.1", "1.1"}},
		{"a trial subject's initials", mixed + "SAE report: Subject 014-0032, initials K.M.R., onset of grade 3 neutropenia.",
			[]string{"K.M.R"}, nil},
		{"a variant's protein change is no identifier", mixed + "Result: BRCA2 c.5946delT (p.Ser1982fs), TP53 p.Arg175His, KRAS p.Gly12Asp.",
			nil, []string{"Ser1982fs", "Arg175His", "Gly12Asp"}},
		{"a street in French, Spanish or Portuguese in lower case after its number", mixed + "Adresse: 12 rue de la Paix, Paris. Domicile 8 avenue Jean Jaurès, Lyon. Vive en 45 calle Mayor, Madrid. Mora na 7 rua do Carmo.",
			[]string{"12 rue de la Paix", "8 avenue Jean Jaurès", "45 calle Mayor", "7 rua do Carmo"}, nil},
		{"no street from an English word after a number", mixed + "Walked 2 avenue blocks. Gave 5 via IV. 3 via Dr. Ruiz.",
			nil, []string{"2 avenue", "5 via"}},
		{"an Australian landline in its groups after ph", mixed + "Daughter ph 03 9123 4567, or Ph: 02 9876 5432 after hours.",
			[]string{"03 9123 4567", "02 9876 5432"}, nil},
		{"a pH after ph stays", mixed + "Urine ph 6.5, ABG ph 7.31, ph 7.28-7.35.",
			nil, []string{"6.5", "7.31", "7.28-7.35"}},
		{"a German street abbreviated with its dot", mixed + "Wohnt Goethestr. 7, 80336 München. Praxis in der Lindenstr. 21.",
			[]string{"Goethestr. 7", "Lindenstr. 21"}, nil},
		{"hearing aids are no names", "HEARING AID FITTING\nPatient Walter Grzybowski, age 81. Phonak Audeo L90 RIC fitted, real-ear verified. Daughter Irene will bring him back.",
			[]string{"Walter Grzybowski", "Irene"}, []string{"Phonak", "Audeo", "RIC"}},
		{"contact lenses are no names", "OPTOMETRY\nEvelyn Marchetti seen today. Contacts Acuvue Oasys, Biofinity trial. Dr. Priya Venkataraman, OD.",
			[]string{"Evelyn Marchetti", "Priya Venkataraman"}, []string{"Oasys", "Biofinity"}},
		{"a chat transcript's heading is no name", "CHAT TRANSCRIPT\nChat started 12/04/2026. pt: hi its about my refill",
			[]string{"12/04/2026"}, []string{"CHAT", "Chat"}},
		{"a medical examiner's case number after Autopsy", "AUTOPSY SUMMARY\nAutopsy: A-26-118, decedent Lucille Ostrander, pronounced at 0412.",
			[]string{"A-26-118", "Lucille Ostrander"}, nil},
		{"no case number from a count after autopsy", mixed + "Autopsy 2 days after death showed PE. Autopsy findings: 3 vessel disease.",
			nil, []string{"2 days", "3 vessel"}},
		{"a French social security number in its groups", mixed + "Assurée sociale, NIR 2 91 07 69 123 045 18; son père, n° 1 58 11 2A 004 217.",
			[]string{"2 91 07 69 123 045 18", "1 58 11 2A 004 217"}, nil},
		{"no NIR from numbers whose month is none", mixed + "Counts 1 85 13 78 006 084 36 by hour.",
			nil, []string{"1 85"}},
		{"a Quebec health card's letters", mixed + "Coverage: RAMQ LAPM 8503 1512; her husband's RAMQ: TREM 5462 0811.",
			[]string{"LAPM 8503 1512", "TREM 5462 0811"}, nil},
		{"no health card from a plan's word and two years", mixed + "Insurance BLUE 2024 2025 renewal pending.",
			nil, []string{"BLUE 2024 2025"}},
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
