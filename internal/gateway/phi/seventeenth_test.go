package phi

import "testing"

// TestNoteTypesSeventeenth checks the seventeenth accuracy pass's rules
// with invented lines: the sixteenth pass's leftovers (a French double
// initial, a JSON id, an Irish, a Dutch and a Portuguese number), then
// forms the earlier passes did not see (lab instrument printouts,
// eligibility responses and registration forms that write a name
// "SURNAME, GIVEN", workers' compensation forms naming an employer,
// dietitians' weight logs, ages written as a decade or after a qualified
// label, extensions in other languages, e-mail signatures and pharmacy
// benefit labels): what must be redacted and what must stay.
func TestNoteTypesSeventeenth(t *testing.T) {
	mixed := "Pt seen for follow-up, vitals stable, meds reviewed, questions answered, plan discussed with the patient.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"staff initials after a lab's or an instrument's label", mixed + "CBC run on analyzer 2. Tech: QLM at 0715. Operator: DWF. Verified by: HNB. Reviewed: DLR. Lab tech GRV repeated the K.",
			[]string{"QLM", "DWF", "HNB", "DLR", "GRV"}, []string{"Tech", "Operator", "Verified"}},
		{"no initials from shorthand after a lab's label", mixed + "Performed by: RN. Tech: CBC pending. Operator: MD on call. Drawn by: PT/OT",
			nil, []string{"RN", "CBC", "MD on call"}},
		{"an employer's whole name after its label", mixed + "Claimant: Ruben Ortega\nEmployer: Tri-Valley Crate Co.\nEmployer name: Harbor Point Cold Storage\nEmployer: Bluefin Marine Supply, Inc.",
			[]string{"Tri-Valley Crate Co", "Harbor Point Cold Storage", "Bluefin Marine Supply"}, nil},
		{"a name written SURNAME, GIVEN in a name field", mixed + "Eligibility reply: Subscriber DOE, JOHN Q; plan active.\nGuarantor: MILLER, JUNE\nPatient Name: FIELD, HOPE   MRN on file\nClaimant: BAKER, WILL  Rel: self\nInsured: White, Rose\nDependent: HALE, AUTUMN  DOB on file",
			[]string{"DOE", "JOHN", "MILLER", "JUNE", "FIELD", "HOPE", "BAKER", "WILL", "White", "Rose", "HALE", "AUTUMN"}, nil},
		{"no name from two findings after a label", mixed + "PT: ALERT, ORIENTED\nContact: WIFE, SON\nPatient: STABLE, WILL FOLLOW UP",
			nil, []string{"ALERT", "ORIENTED", "WIFE", "STABLE", "FOLLOW"}},
		{"an age as a decade of life", mixed + "Her mother, in her 90s, lives alone.",
			[]string{"90s"}, nil},
		{"an age as a decade of life after early, mid or late", mixed + "His father is in his late 90s and still drives.",
			[]string{"90s"}, nil},
		{"a reading in the 90s stays", mixed + "HR in the 90s overnight. Sats low 90s on 2L. BP 90s/50s.",
			nil, []string{"90s overnight", "low 90s"}},
		{"an age after a contraction or a qualified age label", mixed + "He's 93 now and walks daily. She's 91, widowed.\nAge (yrs): 95\nAge at onset: 92",
			[]string{"93", "91", "95", "92"}, nil},
		{"a younger age or a reading after a contraction stays", mixed + "He's 45 now. She's 98.6 orally? no, T 98.6. Age (yrs): 62",
			nil, []string{"45", "98.6", "62"}},
		{"a weight log's day before the weight", mixed + "Weight log: Wt 11/3 182 lb, Wt 11/17 179. Weight 12/1: 176.4 lb. Ht 12/1 64 in.",
			[]string{"11/3", "11/17", "12/1"}, []string{"182", "179", "176.4"}},
		{"a weight's fraction or a pressure stays", mixed + "Wt 1/2 lb gained. BP 11/3 ratio? no: BP 118/76 72. Wt bearing 50/50.",
			nil, []string{"1/2", "118/76", "50/50"}},
		{"an extension in French, German or Portuguese", mixed + "Cabinet +33 1 42 68 53 00 poste 221. Praxis +49 89 1234567 Durchwahl 45. Clínica +351 21 555 0147 ramal 12.",
			[]string{"221", "45", "12"}, nil},
		{"a French double initial", mixed + "Consultation du Dr M.-C. Dufresne. Vu par J.-P. Lambert.",
			[]string{"M.-C. Dufresne", "J.-P. Lambert"}, nil},
		{"an id in a pasted JSON object", mixed + `FHIR copy: {"resourceType":"Patient","id": "b73e-5510","mrn":"MR-00418"}`,
			[]string{"b73e-5510", "MR-00418"}, []string{"resourceType", "Patient"}},
		{"no id from a JSON value without a digit", mixed + `{"id": "example", "status": "active", "code": "7"}`,
			nil, []string{"example", "active"}},
		{"an Irish postcode beside its town or country", mixed + "Address: 9 Quay Street, Galway H91 X2KD, Ireland. Eircode: D6W Y7N3.",
			[]string{"H91 X2KD", "D6W Y7N3"}, nil},
		{"no Eircode from a code without an Irish place", mixed + "Ref code T12 4471 on the form.",
			nil, []string{"T12 4471"}},
		{"a Dutch postcode before its town", mixed + "Adres: Prinsengracht 263, 1016 GV Amsterdam. Woont in 3511 LX Utrecht.",
			[]string{"1016 GV", "3511 LX"}, nil},
		{"no Dutch postcode from a dose and a unit", mixed + "Vitamin D 2000 IU Daily. Bolus 1000 ML Bag.",
			nil, []string{"2000 IU", "1000 ML"}},
		{"a Portuguese citizen card with its check digits", mixed + "Cartão de cidadão 31427658 4 ZX7 apresentado.",
			[]string{"31427658 4 ZX7"}, nil},
		{"an e-mail signature's sign-off and credentials are no names", "Thanks for the update on the meal plan.\n\nBest,\nMarco Fiorentino, MS, CHES\nWellness Coach\n\nWarmly,\nOdalys Brenner, NBC-HWC",
			[]string{"Marco Fiorentino", "Odalys Brenner"}, []string{"Best", "CHES", "NBC-HWC", "Warmly"}},
		{"a user name first.last in an app's export", "MEAL LOG (app export)\n2026-12-01 07:40 breakfast - posted by odalys.brenner\n2026-12-01 12:10 lunch - posted by marisol.quintanilla, edited",
			[]string{"odalys.brenner", "marisol.quintanilla"}, nil},
		{"no user name from a file or shorthand with a dot", mixed + "Files: report.pdf, data.csv. See fig.3 and vs.lower; mark.will be sent.",
			nil, []string{"report.pdf", "data.csv", "fig.3", "mark.will"}},
		{"a claim's billing label is no name", mixed + "Bill to: Mutual of Omaha, policy MO4471903. Bill Tomlin, the son, pays.",
			[]string{"MO4471903", "Bill Tomlin"}, []string{"Bill to"}},
		{"pharmacy benefit labels are no names", mixed + "Member ID: XQH884120517 RxBIN: 003858 RxPCN: A4 RxGroup: RX4471",
			[]string{"XQH884120517"}, []string{"RxBIN", "RxPCN", "RxGroup"}},
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
