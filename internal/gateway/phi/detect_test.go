package phi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDetectCategories(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // must be fully redacted
		typ  Type   // TypeNone: any type
	}{
		// (A) names
		{"title", "Seen by Dr. Okonkwo today.", "Okonkwo", TypePerson},
		{"full name", "Patient Jeffrey Antonaccio presents.", "Jeffrey Antonaccio", TypePerson},
		{"relative", "Her daughter Lucia found her.", "Lucia", TypePerson},
		{"safe word after label", "Attending: Hope Rose", "Hope Rose", TypePerson},
		{"credential", "Signed: Jane Roe, RN", "Jane Roe", TypePerson},
		{"initial", "Received from S. Kowalski at 7.", "S. Kowalski", TypePerson},
		{"hyphenated", "Ms. Garcia-Lopez called.", "Garcia-Lopez", TypePerson},
		{"apostrophe", "Mr. O'Brien is here.", "O'Brien", TypePerson},
		{"list", "They had 6: Corlis, Mark, Vieva and Chasey.", "Mark", TypePerson},
		{"lower-case text", "my name is jeffrey antonaccio", "jeffrey antonaccio", TypePerson},
		{"spoke with", "Spoke with Grace about the plan.", "Grace", TypePerson},
		// (B) geography
		{"street", "Lives at 1200 Oak Street with son.", "1200 Oak Street", TypeAddress},
		{"street abbrev", "Address: 4417 W. Belmont Ave, Chicago", "4417 W. Belmont Ave", TypeAddress},
		{"unit", "Apt. 318 on the left", "Apt. 318", TypeAddress},
		{"po box", "Mail to PO Box 1234 please", "PO Box 1234", TypeAddress},
		{"european street", "Wohnt in der Lindenstrasse 21 seit Jahren", "Lindenstrasse 21", TypeAddress},
		{"via", "sent to Via Benedetto Castellani 18 today", "Via Benedetto Castellani 18", TypeAddress},
		{"city after in", "She lives in Quincy now.", "Quincy", TypeLocation},
		{"city before state", "Springfield, IL 62704", "Springfield", TypeLocation},
		{"zip", "Springfield, IL 62704", "62704", TypeZIP},
		{"zip+4", "Dayton OH 45402-1234.", "45402-1234", TypeZIP},
		{"facility", "presented to Northwestern Memorial Hospital today", "Northwestern Memorial Hospital", TypeLocation},
		{"multi-word city", "He moved to Forest Park last year", "Forest Park", TypeLocation},
		// (C) dates and ages
		{"us date", "DOB: 03/15/1952", "03/15/1952", TypeDate},
		{"short year", "seen 3/15/52 in clinic", "3/15/52", TypeDate},
		{"iso date", "Collected 1952-03-15 at noon", "1952-03-15", TypeDate},
		{"iso datetime", "at 1998-06-21 09:37:15 we", "1998-06-21 09:37:15", TypeDate},
		{"dotted", "Geboren 15.03.1952 in Wien", "15.03.1952", TypeDate},
		{"month day year", "on March 3, 2024 at", "March 3, 2024", TypeDate},
		{"abbrev month", "on Mar. 3rd the", "Mar. 3rd", TypeDate},
		{"day month year", "on 15 January 1952 she", "15 January 1952", TypeDate},
		{"dash month", "DOB 15-Mar-1952.", "15-Mar-1952", TypeDate},
		{"ordinal of", "the 4th of July party", "4th of July", TypeDate},
		{"month year", "since October 2019.", "October 2019", TypeDate},
		{"month alone", "Seen in January for", "January", TypeDate},
		{"may alone", "Next visit in May, then", "May", TypeDate},
		{"march alone", "Seen in March for", "March", TypeDate},
		{"weekday", "follow up on Monday", "Monday", TypeDate},
		{"holiday", "fell at Thanksgiving dinner", "Thanksgiving", TypeDate},
		{"month/day", "Labs 3/1: normal", "3/1", TypeDate},
		{"age over 89", "a 93-year-old man", "93", TypeAge},
		{"age yo", "91 y/o female", "91", TypeAge},
		{"age glued", "92yo M", "92", TypeAge},
		{"aged", "aged 97, lives alone", "97", TypeAge},
		// (D, E) phones and faxes
		{"nanp parens", "Call (217) 555-0199 now", "(217) 555-0199", TypePhone},
		{"nanp dots", "cell 519.732.4086", "519.732.4086", TypePhone},
		{"intl", "call +1-652-917-3048x51873 today", "+1-652-917-3048x51873", TypePhone},
		{"extension", "(914)382-5067x20419 ok", "(914)382-5067x20419", TypePhone},
		{"spaced groups", "ring 071 45 38 92 please", "071 45 38 92", TypePhone},
		{"digits only", "phone 3174290856.", "3174290856", TypePhone},
		{"fax", "fax 217-555-0100.", "217-555-0100", TypeFax},
		{"pager", "Pager 4432", "4432", TypePhone},
		// (F) email
		{"email", "write jsmith52@example.com today", "jsmith52@example.com", TypeEmail},
		// (G) SSN
		{"ssn", "SSN 123-45-6789.", "123-45-6789", TypeSSN},
		{"ssn spaces", "social 123 45 6789.", "123 45 6789", TypeSSN},
		// (H-K) record, plan, account, licence numbers
		{"mrn", "MRN: 00123456", "00123456", TypeMRN},
		{"mrn alnum", "MRN A4471920 noted", "A4471920", TypeMRN},
		{"member id", "Insurance member ID: XJH448812301.", "XJH448812301", TypeHealthPlan},
		{"account", "Acct #: 55012-7781", "55012-7781", TypeAccount},
		{"licence", "license A1234567;", "A1234567", TypeLicense},
		{"medicare", "Medicare ID 1EG4-TE5-MK72.", "1EG4-TE5-MK72", TypeHealthPlan},
		// (L, M) vehicle and device
		{"vin", "VIN 1HGCM82633A004352.", "1HGCM82633A004352", TypeVehicle},
		{"plate", "license plate 7ABC123 seen", "7ABC123", TypeVehicle},
		{"serial", "pump serial# 7734-AX-1190.", "7734-AX-1190", TypeDevice},
		{"mac", "MAC 00:1A:2B:3C:4D:5E on", "00:1A:2B:3C:4D:5E", TypeDevice},
		// (N, O) URL and IP
		{"url", "see http://portal.example.org/x?id=5 now", "http://portal.example.org/x?id=5", TypeURL},
		{"www", "visit www.example.com/me.", "www.example.com/me", TypeURL},
		{"bare domain", "on mychart.example.org today", "mychart.example.org", TypeURL},
		{"ipv4", "from 192.168.1.20 at", "192.168.1.20", TypeIP},
		{"ipv6", "addr d91:a3c2:54fe:1b07:9e3a:602d:7c45:e810 x", "d91:a3c2:54fe:1b07:9e3a:602d:7c45:e810", TypeIP},
		// (P, Q) biometric and photo
		{"photo file", "uploaded as IMG_4021.jpg to chart", "IMG_4021.jpg", TypePhoto},
		{"fingerprint", "fingerprint id FP-20931 on file", "FP-20931", TypeBiometric},
		// (R) other numbers
		{"long number", "ref 8842719 given", "8842719", TypeID},
		{"alnum id", "code KR518204M issued", "KR518204M", TypeID},
		{"claim", "Claim # 2023-88172 denied", "2023-88172", TypeID},
		// payment
		{"card", "card 4916 2703 5518 8040 lost", "4916 2703 5518 8040", TypeCreditCard},
		{"card run", "cc 4532017745902133 on", "4532017745902133", TypeCreditCard},
		{"iban", "IBAN GB57QXRT40218765309124.", "GB57QXRT40218765309124", TypeIBAN},
		{"npi", "NPI 1234567893 for", "1234567893", TypeNPI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := redact(t, tt.text, nil)
			ok, typ := covered(tt.text, r.Spans, tt.want)
			if !ok {
				t.Fatalf("%q not fully redacted in %q: got %q", tt.want, tt.text, r.Text)
			}
			if tt.typ != TypeNone && typ != tt.typ {
				t.Errorf("%q: type %v, want %v (%q)", tt.want, typ, tt.typ, r.Text)
			}
		})
	}
}

func TestKeepClinicalSignal(t *testing.T) {
	tests := []struct {
		text string
		keep []string
	}{
		{"BP 120/80, HR 88, RR 16, SpO2 97% RA, Temp 98.6 F.", []string{"120/80", "88", "16", "97%", "98.6"}},
		{"Metformin 500 mg BID, lisinopril 10 mg daily.", []string{"Metformin", "500 mg", "lisinopril", "10 mg"}},
		{"1/2 tab at bedtime", []string{"1/2 tab"}},
		{"Pain 3/10 at rest.", []string{"3/10"}},
		{"Na 140, K 4.1, Cr 1.3, glucose 142 mg/dL.", []string{"140", "4.1", "1.3", "142"}},
		{"A1c 7.2%, LDL 162 mg/dL, HbA1c 6.1%", []string{"A1c", "7.2%", "162", "HbA1c"}},
		{"Protein 150 g, carbs 200 g, 2,000 kcal per day", []string{"150 g", "200 g", "2,000 kcal"}},
		{"Weight 82 kg, height 180 cm, BMI 25.3", []string{"82 kg", "180 cm", "25.3"}},
		{"walks 8,000 steps a day", []string{"8,000 steps"}},
		{"follow up in 3 months; 72 yo M", []string{"3 months", "72"}},
		{"Parkinson's disease and Crohn disease", []string{"Parkinson", "Crohn"}},
		{"HTN, T2DM, CKD 3, COPD, CHF (EF 35%)", []string{"HTN", "T2DM", "CKD 3", "COPD", "CHF", "35%"}},
		{"Given at 0715 and 14:30.", []string{"0715", "14:30"}},
		{"platelets 250000 /uL", []string{"250000"}},
		{"BNP 1,240 pg/mL, troponin 0.02 ng/mL", []string{"1,240", "0.02"}},
		{"Insulin glargine 18 units at bedtime", []string{"Insulin glargine", "18 units"}},
		{"She is 67 years old.", []string{"67"}},
		{"Seen in the year 2019.", []string{"2019"}},
		{"The patient denies chest pain.", []string{"patient", "chest pain"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, _ := redact(t, tt.text, nil)
			for _, k := range tt.keep {
				if touched(tt.text, r.Spans, k) {
					t.Errorf("%q was redacted: %q", k, r.Text)
				}
			}
		})
	}
}

func TestRegionsStay(t *testing.T) {
	r, _ := redact(t, "She moved here from Austria to Texas, then to New York.", nil)
	for _, k := range []string{"Austria", "Texas", "New York"} {
		if touched("She moved here from Austria to Texas, then to New York.", r.Spans, k) {
			t.Errorf("%q was redacted: %q", k, r.Text)
		}
	}
}

func TestDetectErrors(t *testing.T) {
	e := testEngine(t)
	if _, err := e.Detect(context.Background(), "bad \xff byte", nil); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Detect(ctx, "John Smith", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	// An internal failure (here a missing lexicon) is an error, not a
	// pass-through and not a crash.
	broken := &Engine{cfg: Config{MaxBytes: 1 << 20}}
	if spans, err := broken.Detect(context.Background(), "John Smith", nil); !errors.Is(err, ErrInternal) || spans != nil {
		t.Errorf("internal failure: spans %v err %v", spans, err)
	}
	bs := &Session{e: broken, index: map[string]int{}, byPH: map[string]int{}}
	if r, err := bs.Redact(context.Background(), "John Smith"); err == nil || r.Text != "" {
		t.Errorf("broken session returned text %q, err %v", r.Text, err)
	}
	small := &Engine{cfg: Config{MaxBytes: 4}, lex: e.lex}
	if _, err := small.Detect(context.Background(), "John Smith", nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: err = %v", err)
	}
	// Errors never quote the input.
	s, _ := e.NewSession(nil, SessionOptions{})
	_, err := s.Redact(context.Background(), "Jeffrey \xff Antonaccio")
	if err == nil || strings.Contains(err.Error(), "Antonaccio") {
		t.Errorf("error leaks input or is nil: %v", err)
	}
}

func TestSpansValid(t *testing.T) {
	for _, text := range []string{"", " ", "Dr.", "ü Müller-Lüdenscheidt wohnt in Köln, 50667.", "((((", "1/2/3/4/5", "[[PERSON_1]]"} {
		spans, err := testEngine(t).Detect(context.Background(), text, nil)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		checkSpans(t, text, spans)
	}
}

func checkSpans(t testing.TB, text string, spans []Span) {
	t.Helper()
	last := 0
	for _, sp := range spans {
		if sp.Start < last || sp.End <= sp.Start || sp.End > len(text) {
			t.Fatalf("bad span %+v (prev end %d, len %d)", sp, last, len(text))
		}
		if !utf8.ValidString(text[sp.Start:sp.End]) {
			t.Fatalf("span %+v splits a rune", sp)
		}
		if sp.Type <= TypeNone || sp.Type >= numTypes {
			t.Fatalf("span %+v has no type", sp)
		}
		last = sp.End
	}
}

// growth returns how much longer run takes on 16n bytes than on n bytes:
// the least CPU time of five tries each, the two sizes alternating, on one
// locked thread (threadCPU), so that neither a busy machine's waits for a
// core nor a moment of contention count. Linear code gives about 16,
// quadratic about 256: the ratio does not depend on how fast or busy the
// machine is, so this is a complexity check, not a timed test.
func growth(run func(text string), unit string, n int) float64 {
	small, large := strings.Repeat(unit, n/len(unit)), strings.Repeat(unit, 16*n/len(unit))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	bestSmall, bestLarge := time.Duration(1<<62), time.Duration(1<<62)
	for range 5 {
		start := threadCPU()
		run(small)
		bestSmall = min(bestSmall, threadCPU()-start)
		start = threadCPU()
		run(large)
		bestLarge = min(bestLarge, threadCPU()-start)
	}
	return float64(bestLarge) / float64(max(bestSmall, time.Microsecond))
}

// maxGrowth is the ratio above which growth is not linear (16x input):
// four times the linear ratio, a quarter of the quadratic one.
const maxGrowth = 64

// TestLinearTime feeds adversarial shapes that a quadratic scanner would
// choke on and fails if the work grows faster than the input.
func TestLinearTime(t *testing.T) {
	shapes := map[string]string{
		"spaced digits":  "12 ",
		"dashed digits":  "1-",
		"dotted digits":  "1.",
		"glued alnum":    "a1",
		"hyphen words":   "Ab-",
		"titles":         "Dr. ",
		"cities":         "Boston ",
		"punctuation":    ",;",
		"brackets":       "[[",
		"triggers":       "MRN # ",
		"capital words":  "Zyx ",
		"placeholders":   "[[PERSON_1]] ",
		"month numbers":  "March 3 ",
		"unit words":     "Apt ",
		"email-ish":      "a@",
		"newlines":       "\n",
		"street numbers": "12 Oak ",
	}
	e := testEngine(t)
	for name, unit := range shapes {
		var err error
		run := func(text string) {
			if _, derr := e.Detect(context.Background(), text, nil); derr != nil {
				err = derr
			}
		}
		// Wall-clock ratios are noisy on a shared machine: a quadratic
		// scanner exceeds the bound on every try (256x), noise rarely on
		// three in a row.
		g := growth(run, unit, 32<<10)
		for try := 1; try < 3 && g > maxGrowth; try++ {
			g = min(g, growth(run, unit, 32<<10))
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g > maxGrowth {
			t.Errorf("%s: 16x the input took %.1fx the time on each of three tries", name, g)
		}
	}
}

func TestReidentifyLinearTime(t *testing.T) {
	s, err := testEngine(t).NewSession(nil, SessionOptions{DateShiftDays: 5})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&sb, "Dr. Zyx%c%c seen %d/%d/19%02d. ", 'a'+i%26, 'a'+i/26%26, i%12+1, i%28+1, i%100)
	}
	if _, err := s.Redact(context.Background(), sb.String()); err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"[[", "PERSON_", "[[PERSON_1", "1/1/19", "person 1 ", "Zyx "} {
		run := func(text string) {
			s.Reidentify(text)
			st := s.NewStream()
			for i := 0; i < len(text); i += 4096 {
				st.Write(text[i:min(i+4096, len(text))])
			}
			st.Close()
		}
		// a shared machine makes one ratio noisy: fail only if three
		// tries all grow too fast
		g := growth(run, unit, 32<<10)
		for try := 1; try < 3 && g > maxGrowth; try++ {
			g = min(g, growth(run, unit, 32<<10))
		}
		if g > maxGrowth {
			t.Errorf("%q: 16x the input took %.1fx the time on each of three tries", unit, g)
		}
	}
}

// TestClinicalTextUntouched: clinical prose without identifiers passes
// through unchanged.
func TestClinicalTextUntouched(t *testing.T) {
	for _, s := range []string{
		"ASSESSMENT AND PLAN: Type 2 Diabetes Mellitus, uncontrolled. Hashimoto's thyroiditis. Continue Ozempic 0.5 mg weekly. Follow up with Endocrinology. Apley test negative. Babinski sign absent. Glasgow Coma Scale 15.",
		"Metformin XR 750 mg. Lantus 20 units qHS. Vitamin D 2000 IU daily. Lipid panel: LDL 98, HDL 45. Zofran 4 mg PRN. Keflex 500 mg QID x 7 days. Eliquis 5 mg BID.",
		"Review of Systems: Negative except as noted in HPI. Physical Exam: General: NAD. HEENT: PERRLA, EOMI. Cardiovascular: RRR, no murmurs. Lungs: CTAB.",
		"Patient reports eating 3 meals per day, ~1800 kcal, 90 g protein. Walked 10,000 steps. Slept 7 hours. Weight down 2.3 kg since last visit. HbA1c 6.8% (prev 7.4%).",
		"Chest X-ray showed no acute process. MRI brain w/o contrast. EKG: NSR, rate 72, QTc 430 ms. Troponin x2 negative. D-dimer 0.4.",
		"i have been feeling tired and my sugar was 180 this morning. i take metformin twice a day and walk after dinner. should i worry about my kidneys?",
	} {
		r, _ := redact(t, s, nil)
		if r.Text != s {
			t.Errorf("changed:\n%s\n%s", s, r.Text)
		}
	}
}

// TestScratchReuse checks that the pooled buffers and word cache of one
// detection leave nothing behind for the next: every note gives the same
// spans on an engine that has just redacted longer and shorter texts
// (some with capitals, some without, some non-ASCII) as on a fresh one.
func TestScratchReuse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	texts := []string{"Seen by Dr. Okonkwo on 3/4/2024.", "PT SEEN BY DR GREEN, WIFE ROSE AT BEDSIDE", "Müller, José — Zürich, 8004"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b), strings.ToLower(string(b)), strings.ToUpper(string(b)))
	}
	shared, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := 0; round < 2; round++ {
		for i := range texts {
			text := texts[(i*7+round)%len(texts)] // a different order each round
			fresh, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Detect(ctx, text, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := shared.Detect(ctx, text, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("text %d, round %d: a reused engine found %d spans, a fresh one %d", i, round, len(got), len(want))
			}
			if len(want) == 0 && len(text) > 100 {
				t.Fatalf("text %d: no spans at all; the test compares nothing", i)
			}
		}
	}
}

// TestPassHints checks the words that let a note skip a whole pass: each
// carries its hint in the lexicon, and the passes still find what they
// look for.
func TestPassHints(t *testing.T) {
	e := testEngine(t)
	for bit, words := range passHints() {
		for _, w := range words {
			if e.lex.get(w)&bit == 0 {
				t.Errorf("%q lacks its pass hint %#x", w, bit)
			}
		}
	}
	for _, tc := range []struct{ text, value string }{
		{"Transferred to Good Samaritan for rehab.", "Good Samaritan"},
		{"transferred to mount sinai today", "mount sinai"},
		{"pt was transferred to univ of maryland", "univ of maryland"},
		{"She works for Vantaro Logistics as a driver.", "Vantaro Logistics"},
	} {
		spans, err := e.Detect(context.Background(), tc.text, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, sp := range spans {
			if strings.Contains(tc.text[sp.Start:sp.End], tc.value) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: %q not redacted (spans %v)", tc.text, tc.value, spans)
		}
	}
}

// TestConcurrentDetect runs one engine from several goroutines at once (as
// the gateway does): each detection must get buffers and a word cache of
// its own from the pool and find what a lone detection finds. Run it with
// -race too.
func TestConcurrentDetect(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	var texts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b), strings.ToUpper(string(b)))
	}
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := make([][]Span, len(texts))
	for i, text := range texts {
		if want[i], err = e.Detect(ctx, text, nil); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for round := 0; round < 5; round++ {
				for k := range texts {
					i := (k + g + round) % len(texts)
					got, err := e.Detect(ctx, texts[i], nil)
					if err == nil && !slices.Equal(got, want[i]) {
						err = fmt.Errorf("text %d: %d spans concurrently, %d alone", i, len(got), len(want[i]))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestWordCacheHoldsNoNames checks that the word cache, which outlives a
// request, keeps ordinary and clinical words but no name, place or unknown
// word.
func TestWordCacheHoldsNoNames(t *testing.T) {
	e := testEngine(t)
	var c wordCache
	c.startNote()
	for _, w := range []string{"propofol", "sedated", "the", "to", "on", "okonkwo", "maria", "boston", "xqzvw", "hope"} {
		c.lookup(e.lex, w, fnv1a(w))
	}
	// the names are remembered for the current note only
	noted := func() int {
		n := 0
		for _, m := range c.memo {
			if m.gen == c.gen && m.n > 0 {
				n++
			}
		}
		return n
	}
	if n := noted(); n == 0 {
		t.Errorf("no word noted for the current note")
	}
	c.startNote()
	if n := noted(); n != 0 {
		t.Errorf("%d words of the previous note still count", n)
	}
	held := map[string]bool{}
	for _, en := range c.words {
		if en.n > 0 {
			held[string(en.key[:en.n])] = true
		}
	}
	fast := map[string]bool{}
	for _, en := range c.fast {
		var b []byte
		for v := en.key; v != 0; v >>= 8 {
			b = append(b, byte(v))
		}
		if len(b) > 0 {
			fast[string(b)] = true
			if !held[string(b)] {
				t.Errorf("%q in the fast table but not in the cache", b)
			}
		}
	}
	for _, w := range []string{"sedated", "the"} {
		if !fast[w] {
			t.Errorf("%q not in the fast table", w)
		}
	}
	for _, w := range []string{"propofol", "sedated", "the", "to", "on"} {
		if !held[w] {
			t.Errorf("%q not cached", w)
		}
	}
	for _, w := range []string{"okonkwo", "maria", "boston", "xqzvw", "hope"} {
		if held[w] {
			t.Errorf("%q cached: the cache must hold no name, place or unknown word", w)
		}
	}
}
