package phi

import "testing"

// TestNoteTypesEleventh checks the eleventh accuracy pass's rules with
// invented lines from note kinds the earlier passes did not cover
// (hospice and palliative notes, occupational health and return to work,
// school nurses, prior authorization letters, lab requisitions, sleep
// studies and EEG reports) and the tenth pass's leftovers: what must be
// redacted and what must stay.
func TestNoteTypesEleventh(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"a serial number after S/N", mixed + "Infusion pump S/N 4471-AK-2290 swapped out. CPAP unit s/n: RX88213Q returned to vendor.",
			[]string{"4471-AK-2290", "RX88213Q"}, nil},
		{"an accession number joined by colons", mixed + "Specimen received, accession 26:SP:0041. Case # SP26:00412 signed out. Accession: 2026:CY:771 added on.",
			[]string{"26:SP:0041", "SP26:00412", "2026:CY:771"}, nil},
		{"no identifier from a time or a word after a colon", mixed + "Visit 2:30 pm with family. Case 3:Pt declined. Specimen 4:Urine sent. Order 10:1 ratio.",
			nil, []string{"30", "Pt", "Urine", "10:1"}},
		{"a weekday before school names a class, no date", mixed + "Teaches Sunday School at her church. Son has Saturday school for tardies.\nGRANDDAUGHTER ATTENDS SUNDAY SCHOOL.",
			nil, []string{"Sunday", "Saturday", "SUNDAY"}},
		{"a weekday elsewhere is still a date", mixed + "Seen Sunday, school nurse called Monday. Back to school on Tuesday.",
			[]string{"Sunday", "Monday", "Tuesday"}, nil},
		{"a developmental test's edition is no name's suffix", "Pt seen today in clinic with mother.\nDenver II screen passed at 18 months. Did a Denver II today; Bayley III scheduled.",
			nil, []string{"Denver", "Bayley", "II", "III"}},
		{"a surname of a test's list with a suffix after a name or a title is a name", "Pt seen today in clinic with mother.\nSeen by Ellis Harris III and Dr. Tanner II. Mr. Denver II called.",
			[]string{"Harris", "Tanner", "Denver"}, nil},
		{"a payment or social handle after its app with no colon", mixed + "Pt's son pays via Venmo maribelqf each week; sister sent $40 on cashapp tkovachh. Daughter posts as instagram larkqart.",
			[]string{"maribelqf", "tkovachh", "larkqart"}, nil},
		{"an English word after an app is no handle", mixed + "Venmo payment declined. Paid by Zelle transfer. Zelle to daughter. Uses Venmo and Instagram daily; snap judgement avoided.",
			nil, []string{"payment", "transfer", "daughter", "and", "daily", "judgement"}},
		{"a practice in capitals after a cue", mixed + "MOTHER STATES CHILD SEEN AT NORTHSTAR PEDIATRICS LAST WEEK.\nFOLLOWS WITH KESTRELWOOD FAMILY MEDICINE. RECORDS FROM BRAYMOOR ORTHODONTICS.",
			[]string{"NORTHSTAR", "KESTRELWOOD", "BRAYMOOR"}, []string{"PEDIATRICS", "FAMILY MEDICINE", "ORTHODONTICS"}},
		{"a specialty in capitals names no practice", mixed + "SEEN AT INTERNAL MEDICINE. REFERRED TO PEDIATRIC CARDIOLOGY. FOLLOWS WITH SLEEP MEDICINE. CHILD GOES TO DENTAL. NEEDS NORTHSTAR PEDIATRICS REFERRAL.",
			nil, []string{"INTERNAL", "PEDIATRIC", "SLEEP", "DENTAL", "NORTHSTAR"}},
		{"a street in lower case whose name holds a street's word", mixed + "Daughter lives at 88 quarry hill rd. Meds delivered to 4 oak park ln, apt 2. Son moved to 310 mill pond road.",
			[]string{"88 quarry hill rd", "4 oak park ln", "310 mill pond road"}, nil},
		{"no street from shorthand after a value", mixed + "titrated to 20 mcg hill st. weaned to 2 lpm park st. seen at 3 pm hill rd.",
			nil, []string{"20 mcg", "2 lpm", "3 pm"}},
		{"the kind of a residence is no part of its name", mixed + "Considering Brookdale Senior Living or Walden Independent Living. Mother at Cedar Knoll Senior Living.",
			[]string{"Brookdale", "Walden", "Cedar Knoll"}, []string{"Senior Living", "Independent Living"}},
		{"a state's code before a ZIP code is no street", "Thank you for seeing her. Follow-up at 4410 Larkspur Blvd, Huntsville, AL 35801. Mail to 12 Pine Rd, Dothan, AL 36301-2210.",
			[]string{"4410 Larkspur Blvd", "Huntsville", "35801", "12 Pine Rd", "Dothan", "36301"}, []string{"AL"}},
		{"words of notes in other languages that open a sentence are no names", mixed + "Nota de la visita: paciente estable. Esposo Rigoberto presente. Hija Marisol llamó.\nTochter informiert. Filha Joana acompanha.",
			[]string{"Rigoberto", "Marisol", "Joana"}, []string{"Nota", "Esposo", "Hija", "Tochter", "Filha"}},
		{"a licence's label in capitals before its number is no name", "Prior authorization request.\nPrescriber: Halima Dursun, PA-C, NPI 1750392281, DEA MD4412345. DEA AB1234567 on file.",
			[]string{"Halima Dursun", "1750392281", "MD4412345", "AB1234567"}, []string{"DEA"}},
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
