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
			"GI: ABD SOFT, TOLERATING TUBE FEEDS AT GOAL. GU: FOLEY WITH CLEAR YELLOW URINE.\n" +
			"PLAN: CONTINUE CURRENT MANAGEMENT, WEAN AS TOLERATED, FOLLOW LYTES.\n",
		"lower": "neuro: alert and oriented x3, moves all extremities, pupils equal and reactive.\n" +
			"cv: sinus rhythm 70s, k 3.9 repleted with 40 meq kcl po, mg 2.1.\n" +
			"resp: lungs clear, sats 96% with 2l nasal cannula, strength 5/5 in all extremities.\n" +
			"plan: continue lasix 40 mg iv bid, metoprolol 25 mg po bid, heparin sq.\n",
		"mixed": "Pt is alert and oriented. Received metformin 500 mg and lisinopril 10 mg this morning.\n" +
			"A1c 7.2%, LDL 96, creatinine 1.1, glucose 142. Pain 3/10, GCS 15/15.\n" +
			"Diet: 1800 kcal, 90 g protein, 200 g carbs. Ate 12/12 meals, 1/2 tab at bedtime.\n" +
			"Breakfast: Graham crackers, Greek yogurt and Caesar salad for lunch, Earl Grey tea.\n",
	}
	// ICU shorthand as nurses write it: truncations, misspellings, units
	// glued to numbers, settings and scores that look like dates, sentence
	// glue that looks like a domain (written for this test)
	notes["upper shorthand"] = "NEURO: PT STILL SEDATED ON PROPOFOL 40MCG/KG/MIN, FENTANYL 200MCGS/HR. MAEW, PERRL.\n" +
		"CV: SR 80S NO VEA. ABP 105-125/45-55'S VIA ALINE. HO AWARE OF K 3.2, REPLETED. TYLENOL650 PR.\n" +
		"RESP: SIMV 600X12, PEEP 5/5, FIO2 50% 8/5. RSBI 66. SXN FOR THICK TAN SPUTUM. OGT TO LIS.\n" +
		"GU: FOLEY DRAINING 40-70CC/HR. LOS 1000-1200. PLAN: WEAN AS TOL, CONT ANTIBX, OOB TO CHAIR.\n"
	notes["lower shorthand"] = "neuro: conts sedated on propofol, vea freq, ogt to lws draining bile.\n" +
		"resp: cpap .5% 5/8, simv 900 10/25, abg 7.32/42/84. sxn'd for lg amt, tol well.\n" +
		"cv: hr 70s sr, bp 100-110/40-60, on 1/2 ns at 60cc/hr, c/o 5-6/10 pain, nc 02 dec from 5->3.\n" +
		"gi: npo, abd soft, +bs. plan: extub in am, see careview for data, chair.no distress.\n"
	notes["mixed shorthand"] = "Pulm: Conts on the vent, PSV 10/5, Integrelin gtt at 12 ml/hr, 350mls out.\n" +
		"Cardiac: Pt in SR, HR 76-92 no ectopy. MS incision with DSD. Still has a cough.\n" +
		"Neuro: A&O x3, speaking Russian with family. Pt NPO after MN. Urine dark maroon.no clots.\n" +
		"ID: 98.9 po. Tmax ED 104.2. Pt went to OR, then traveling to CT. Plan: wean, Criticare HN at 20.\n"
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
