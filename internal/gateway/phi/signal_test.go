package phi

import (
	"context"
	"testing"
)

// TestClinicalSignalKept checks notes made only of clinical signal (drugs,
// doses, vitals, labs, macros, foods and shorthand) in upper, lower and
// mixed case: nothing in them is an identifier, so nothing is redacted.
func TestClinicalSignalKept(t *testing.T) {
	notes := map[string]string{
		"upper": "PT REMAINS INTUBATED ON PROPOFOL 20 MCG/KG/MIN. BP 110/60, HR 88 SR, NO ECTOPY.\n" +
			"RESP: AC 500X14, PEEP 5, FIO2 40%. LUNGS CLEAR BILAT. SX FOR SCANT WHITE SECRETIONS.\n" +
			"GI: ABD SOFT, TOLERATING TUBE FEEDS AT GOAL. GU: FOLEY DRAINING CLEAR YELLOW URINE.\n" +
			"PLAN: CONTINUE CURRENT MANAGEMENT, WEAN AS TOLERATED, FOLLOW LYTES.\n",
		"lower": "neuro: alert and oriented x3, moves all extremities, pupils equal and reactive.\n" +
			"cv: sinus rhythm 70s, k 3.9 repleted with 40 meq kcl po, mg 2.1.\n" +
			"resp: lungs clear, sats 97% on 2l nasal cannula, strength 5/5 in all extremities.\n" +
			"plan: continue lasix 40 mg iv bid, metoprolol 25 mg po bid, heparin sq.\n",
		"mixed": "Pt is alert and oriented. Received metformin 500 mg and lisinopril 10 mg this morning.\n" +
			"A1c 7.2%, LDL 96, creatinine 1.1, glucose 142. Pain 3/10, GCS 15/15.\n" +
			"Diet: 1800 kcal, 90 g protein, 200 g carbs. Ate 12/12 meals, 1/2 tab at bedtime.\n" +
			"Breakfast: Graham crackers, Greek yogurt and Caesar salad for lunch, Earl Grey tea.\n",
	}
	e := testEngine(t)
	for name, text := range notes {
		spans, err := e.Detect(context.Background(), text, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range spans {
			t.Errorf("%s: %s %q redacted", name, sp.Type, text[sp.Start:sp.End])
		}
	}
}
