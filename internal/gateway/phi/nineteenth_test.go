package phi

import "testing"

// TestNoteTypesNineteenth checks the nineteenth accuracy pass's rules with
// invented lines: notes in Spanish, Portuguese and French beside English
// (an age in their words, a date with a month of theirs, their form
// labels), ages after a birth date, roads named by their number and
// Wisconsin's grid house numbers, cars named by make and model, and
// numbers read by OCR with letters for digits: what must be redacted and
// what must stay.
func TestNoteTypesNineteenth(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"an age over 89 in Spanish, Portuguese and French words", mixed + "Paciente de 92 años, vive sola. Edad: 97 años. Ela tem 96 anos. Il a 94 ans.",
			[]string{"92", "97", "96", "94"}, nil},
		{"an age over 89 after a Spanish age label", mixed + "Edad: 93. Vive con su hija.",
			[]string{"93"}, nil},
		{"a younger age in those words stays", mixed + "Paciente de 45 años. Hace 3 años tuvo un infarto.",
			nil, []string{"45", "3 años"}},
		{"an age in parentheses after a birth date", mixed + "DOB 1/1/1930 (96). Born: 03/14/1931 (95), widowed.",
			[]string{"96", "95"}, nil},
		{"a number in parentheses after another date stays", mixed + "Echo 10/29/2026 (92) and labs 11/02/2026 (104) reviewed.",
			nil, []string{"92", "104"}},
		{"an age after a birth date and a comma", mixed + "Phone f/u w/ Mrs. Ikeoluwa (DOB 2/2/1931, 95): appetite fair.",
			[]string{"95"}, nil},
		{"an age in apposition to a name after a relation or a title", mixed + "Her husband Virgil (94) is the caregiver. Seen with Mr. Lindqvist, 92, today.",
			[]string{"94", "92"}, nil},
		{"a reading in parentheses after a label stays", mixed + "Pt Weight (92) kg. Daughter Rosa (45) visits. Echo 10/29/2026, 92) noted.",
			nil, []string{"92) kg", "45", "92) noted"}},
		{"a Spanish date with the month first", mixed + "Fecha: enero 4, 2027. Visto marzo 15 1967.",
			[]string{"enero 4, 2027", "marzo 15 1967"}, nil},
		{"a date with an abbreviated Spanish or Portuguese month", mixed + "Cita el 14/ene/2027 a las 10. Laboratorio 3-dic-2026. Consulta 22-out-2025.",
			[]string{"14/ene/2027", "3-dic-2026", "22-out-2025"}, nil},
		{"numbers with those letters stay", mixed + "Set 4/set/3 reps, then out 2-out-2 drills; gave 4, 2027 units.",
			nil, []string{"4/set/3", "2-out-2", "4, 2027"}},
		{"Spanish form labels and titles are no names", mixed + "Dirección: Av. Juárez 1200, Monterrey. Teléfono: 956-555-0188. Correo: lupita88@example.com. Llamar al 956-555-0137. Señora de 101 años de edad.",
			[]string{"Av. Juárez 1200", "956-555-0188", "lupita88@example.com", "101"}, []string{"Dirección", "Teléfono", "Correo", "Llamar", "Señora"}},
		{"a road named by its number after a house number", mixed + "Lives at 2210 US Hwy 41 N, Marquette. Mail: 22 FM 1960, Humble TX. Son at 480 Farm to Market Rd 2920; daughter at 400 Ranch Road 620 N.",
			[]string{"2210 US Hwy 41 N", "22 FM 1960", "480 Farm to Market Rd 2920", "400 Ranch Road 620 N"}, nil},
		{"a Wisconsin grid address", mixed + "Address: N5421 State Hwy 13, Medford WI. Farm at W3391 County Rd K. Son: W156N11500 Pilgrim Rd, Germantown.",
			[]string{"N5421 State Hwy 13", "W3391 County Rd K", "W156N11500 Pilgrim Rd"}, nil},
		{"road words after a count stay", mixed + "Took 2 US Hwy exits. Gave 3 FM units. Lot N4410 in stock.",
			nil, []string{"US Hwy", "FM units"}},
		{"a car's make and model are no names", mixed + "Pt drives a 2015 Toyota Corolla; wife drives a Subaru Outback. Came in her Chevy Malibu; a 2008 Ford F-150 hit her. Plate 7XKP214.",
			[]string{"7XKP214"}, []string{"Toyota", "Corolla", "Subaru", "Outback", "Chevy", "Malibu", "Ford", "F-150"}},
		{"a make alone stays a name", mixed + "Seen with Dr. Honda. Her neighbor Henry Ford drove her.",
			[]string{"Honda", "Henry Ford"}, nil},
		{"IMEI is a label", mixed + "Phone IMEI: 35-693803-564380-9 registered to the app.",
			[]string{"35-693803-564380-9"}, []string{"IMEI"}},
		{"a profile's address after a social label", mixed + "Daughter's fb: facebook.com/rosa.gomez.1987 and ig: instagram.com/rosag_87 for updates.",
			[]string{"facebook.com/rosa.gomez.1987", "instagram.com/rosag_87"}, nil},
		{"a licence plate written in groups", mixed + "Pt's car, plate ABC 1234 (NY); son's truck, tag 4GHT 552 (TX); plate# 8 GHT 552.",
			[]string{"ABC 1234", "4GHT 552", "8 GHT 552"}, nil},
		{"a time after tag stays", mixed + "Tag 2 AM meds on the MAR.",
			nil, []string{"2 AM"}},
		{"a month with the day as an ordinal in digits after the", mixed + "Seen December the 7th; next visit March the 3rd, 2027.",
			[]string{"December the 7th", "March the 3rd, 2027"}, nil},
		{"an ordinal before a noun after a month stays", mixed + "In March the 3rd floor closed for repairs.",
			nil, []string{"3rd floor"}},
		{"a Mexican mobile with its old prefix", mixed + "Her sister in Mexico: 044 55 1234 5678, after 6 pm.",
			[]string{"044 55 1234 5678"}, nil},
		{"a rural road and its kilometre in Puerto Rico", mixed + "Vive en Carr. 2 Km 15.3, Cataño PR 00962. Hija en Carretera 172 km 8.1, Cidra.",
			[]string{"Carr. 2 Km 15.3", "Carretera 172 km 8.1"}, nil},
		{"the surname Carr stays a name", mixed + "Seen by Dr. Carr 2 days ago.",
			[]string{"Carr"}, []string{"2 days"}},
		{"EIN is a label", mixed + "First report filed. EIN 12-3456789 on the form.",
			[]string{"12-3456789"}, []string{"EIN"}},
		{"a record number under a CSV export's header", mixed + "Export:\nName,DOB,MRN,Phone\nHalvorsen Ingrid,09/30/1941,7741029,608-555-0192\nBaptiste Lorenzo,01/02/1950,7741088,608-555-0177\npatient_id,visit_date,weight_kg\n448120,2026-12-01,82.4",
			[]string{"7741029", "7741088", "448120"}, []string{"DOB", "82.4"}},
		{"a CSV column of counts stays", mixed + "Order:\nitem,qty,unit\napples,12,each\npears,1200,grams",
			nil, []string{"12", "1200"}},
		{"a date and a phone read by OCR with letters for digits", mixed + "D0B: O6/14/1952. Echo 1O/29/2026. Seen 12/O3/l948. Ph0ne: (937) 555-O181.",
			[]string{"O6/14/1952", "1O/29/2026", "12/O3/l948", "(937) 555-O181"}, nil},
		{"an SSN read by OCR stays redacted", mixed + "SSN: 4l2-68-33O5 on file.",
			[]string{"4l2-68-33O5"}, nil},
		{"letters beside numbers that are no OCR noise stay", mixed + "Plan: O2 2-3 L, wean. Pt says I 2/3 of the time. Sats 9O-95% on RA.",
			nil, []string{"O2 2-3", "I 2/3", "9O-95"}},
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
