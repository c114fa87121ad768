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
