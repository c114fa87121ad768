package phi

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPlaceholdersStable(t *testing.T) {
	r, _ := redact(t, "Dr. Okonkwo saw Mr. Antonaccio. Dr. Okonkwo called Antonaccio on 3/4/2024 and 3/4/2024.", nil)
	want := "Dr. [[PERSON_1]] saw Mr. [[PERSON_2]]. Dr. [[PERSON_1]] called [[PERSON_2]] on [[DATE_1]] and [[DATE_1]]."
	if r.Text != want {
		t.Errorf("got  %q\nwant %q", r.Text, want)
	}
}

func TestPlaceholdersAcrossTurns(t *testing.T) {
	// A client resends its history: redacting the whole transcript in a
	// fresh session numbers the values exactly as before.
	turns := []string{
		"My name is Daniel Okafor, born 7/4/1990.",
		"Dr. Patel at Riverside Clinic saw me.",
		"Daniel Okafor again; call (937) 555-0187.",
	}
	e := testEngine(t)
	var prev []string
	for n := 1; n <= len(turns); n++ {
		s, _ := e.NewSession(nil, SessionOptions{})
		var got []string
		for _, turn := range turns[:n] {
			r, err := s.Redact(context.Background(), turn)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r.Text)
		}
		if !slices.Equal(got[:len(prev)], prev) {
			t.Fatalf("turn %d renumbered earlier turns:\n%q\n%q", n, got, prev)
		}
		prev = got
	}
	if !strings.Contains(prev[2], "[[PERSON_1]]") {
		t.Errorf("repeated name got a new number: %q", prev)
	}
}

func TestReidentifyForms(t *testing.T) {
	_, s := redact(t, "Dr. Okonkwo saw Jeffrey Antonaccio on 3/4/2024.", nil)
	tests := []struct{ reply, want string }{
		{"[[PERSON_1]] will call [[PERSON_2]].", "Okonkwo will call Jeffrey Antonaccio."},
		{"[[PERSON_2]]'s visit on [[DATE_1]]", "Jeffrey Antonaccio's visit on 3/4/2024"},
		{"PERSON_2 is fine", "Jeffrey Antonaccio is fine"},
		{"[PERSON_2] is fine", "Jeffrey Antonaccio is fine"},
		{"[[person_2]] is fine", "Jeffrey Antonaccio is fine"},
		{"person_2 is fine", "Jeffrey Antonaccio is fine"},
		{"PERSON 2 is fine", "Jeffrey Antonaccio is fine"},
		{"PERSON_2]] is fine", "Jeffrey Antonaccio is fine"},
		{"a person 2 metres away", "a person 2 metres away"},
		{"XPERSON_2 stays", "XPERSON_2 stays"},
		{"PERSON_21 stays", "PERSON_21 stays"},
	}
	for _, tt := range tests {
		got, _ := s.Reidentify(tt.reply)
		if got != tt.want {
			t.Errorf("Reidentify(%q) = %q, want %q", tt.reply, got, tt.want)
		}
	}
}

func TestReidentifyUnknown(t *testing.T) {
	_, s := redact(t, "Dr. Okonkwo saw Jeffrey Antonaccio.", nil)
	got, unknown := s.Reidentify("Ask [[PERSON_7]] and [[DATE_1]] and PERSON_9 about [[PERSON_1]].")
	want := "Ask [[PERSON_7]] and [[DATE_1]] and PERSON_9 about Okonkwo."
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !slices.Equal(unknown, []string{"[[PERSON_7]]", "[[DATE_1]]", "[[PERSON_9]]"}) {
		t.Errorf("unknown = %q", unknown)
	}
}

func TestStreamEverySplit(t *testing.T) {
	_, s := redact(t, "Dr. Okonkwo saw Jeffrey Antonaccio on 3/4/2024 at 1200 Oak Street.", nil)
	replies := []string{
		"[[PERSON_1]] saw [[PERSON_2]]'s labs on [[DATE_1]]; PERSON_2 lives at [[ADDRESS_1]]. [[PERSON_9]] unknown.",
		"[[PERSON_2]]",
		"[[[PERSON_1]]]] [ [[x PERSON_ person 1 PERSON 2",
		"ünïcödé [[PERSON_1]] ✓ [[DATE_1]]",
	}
	for _, reply := range replies {
		want, wantUnknown := s.Reidentify(reply)
		// every single split point
		for i := 0; i <= len(reply); i++ {
			checkStream(t, s, reply, []int{i}, want, wantUnknown)
		}
		// every pair of split points
		for i := 0; i <= len(reply); i++ {
			for j := i; j <= len(reply); j++ {
				checkStream(t, s, reply, []int{i, j}, want, wantUnknown)
			}
		}
		// byte by byte
		cuts := make([]int, len(reply)+1)
		for i := range cuts {
			cuts[i] = i
		}
		checkStream(t, s, reply, cuts, want, wantUnknown)
	}
}

func checkStream(t *testing.T, s *Session, reply string, cuts []int, want string, wantUnknown []string) {
	t.Helper()
	st := s.NewStream()
	var b strings.Builder
	last := 0
	for _, c := range cuts {
		b.WriteString(st.Write(reply[last:c]))
		last = c
	}
	b.WriteString(st.Write(reply[last:]))
	tail, unknown := st.Close()
	b.WriteString(tail)
	if b.String() != want {
		t.Fatalf("split %v of %q:\ngot  %q\nwant %q", cuts, reply, b.String(), want)
	}
	if !slices.Equal(unknown, wantUnknown) {
		t.Fatalf("split %v of %q: unknown %q, want %q", cuts, reply, unknown, wantUnknown)
	}
}

func TestStreamHoldsBackOnlyPlaceholders(t *testing.T) {
	_, s := redact(t, "Dr. Okonkwo saw him.", nil)
	st := s.NewStream()
	if got := st.Write("Hello there, "); got != "Hello there, " {
		t.Errorf("plain text held back: %q", got)
	}
	if got := st.Write("ask [[PERS"); got != "ask " {
		t.Errorf("partial placeholder: got %q", got)
	}
	if got := st.Write("ON_1]] now"); got != "Okonkwo now" {
		t.Errorf("completed placeholder: got %q", got)
	}
}

func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no notes: %v", err)
	}
	texts := []string{
		"Dr. Okonkwo and dr. okonkwo and DR. OKONKWO.",
		"Call (217) 555-0199, (217) 555-0199 or 217.555.0199.",
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		for _, shift := range []int{0, 17} {
			s, err := testEngine(t).NewSession(nil, SessionOptions{DateShiftDays: shift})
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Redact(context.Background(), text)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Spans) == 0 && len(text) > 60 {
				t.Errorf("nothing redacted in %.40q", text)
			}
			back, unknown := s.Reidentify(r.Text)
			if want := restoredText(s, text, r); back != want {
				t.Errorf("round trip (shift %d) differs:\n%s\n---\n%s", shift, back, want)
			}
			if len(unknown) > 0 {
				t.Errorf("unknown placeholders %q", unknown)
			}
			// the redacted text holds none of the detected values
			for _, sp := range r.Spans {
				v := text[sp.Start:sp.End]
				if len(v) >= 4 && strings.Contains(r.Text, v) && !(shift != 0 && sp.Type == TypeDate) {
					t.Errorf("detected %v value at %d-%d still in output (shift %d)", sp.Type, sp.Start, sp.End, shift)
				}
			}
		}
	}
}

func TestDateShift(t *testing.T) {
	s, err := testEngine(t).NewSession(nil, SessionOptions{DateShiftDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Redact(context.Background(), "Seen 03/15/2024, again March 3, 2024, and on 3/15 and 2024-12-20.")
	if err != nil {
		t.Fatal(err)
	}
	want := "Seen 04/14/2024, again April 2, 2024, and on [[DATE_1]] and 2025-01-19."
	if r.Text != want {
		t.Errorf("got  %q\nwant %q", r.Text, want)
	}
	back, _ := s.Reidentify("Follow-up after 04/14/2024 and 2025-01-19, not 04/14/20245.")
	if back != "Follow-up after 03/15/2024 and 2024-12-20, not 04/14/20245." {
		t.Errorf("un-shift: %q", back)
	}
}

func TestSessionClose(t *testing.T) {
	_, s := redact(t, "Dr. Okonkwo", nil)
	if c := s.Counts(); c[TypePerson] != 1 {
		t.Errorf("counts = %v", c)
	}
	s.Close()
	if got, _ := s.Reidentify("[[PERSON_1]]"); got != "[[PERSON_1]]" {
		t.Errorf("closed session still maps: %q", got)
	}
}

func TestZIP3(t *testing.T) {
	s, err := testEngine(t).NewSession(nil, SessionOptions{ZIP3: true})
	if err != nil {
		t.Fatal(err)
	}
	in := "Boston, MA 02138; Cambridge, MA 02139-4307; Jackson, WY 83001."
	r, err := s.Redact(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MA 021XX;", "MA [[ZIP_1]];", "WY 000XX."} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("%q lacks %q", r.Text, want)
		}
	}
	if back, _ := s.Reidentify(r.Text); back != in {
		t.Errorf("round trip: %q", back)
	}
}

// TestFirstNameSharesPlaceholder checks that a first name alone shares the
// placeholder of the one full name it starts, before or after it, and
// that an ambiguous first name or a surname alone does not.
func TestFirstNameSharesPlaceholder(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Maria Gonzalez was seen today; Maria said she eats well.", "[[PERSON_1]] was seen today; [[PERSON_1]] said she eats well."},
		{"Maria called. Then Maria Gonzalez came in.", "[[PERSON_1]] called. Then [[PERSON_1]] came in."},
		{"Maria Gonzalez and Maria Lopez came; Maria paid.", "[[PERSON_1]] and [[PERSON_2]] came; [[PERSON_3]] paid."},
		{"Ms. Martinez came with her father, Ernesto Martinez.", "Ms. [[PERSON_1]] came with her father, [[PERSON_2]]."},
	}
	for _, tt := range tests {
		r, s := redact(t, tt.text, nil)
		if r.Text != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.text, r.Text, tt.want)
		}
		if back, _ := s.Reidentify(r.Text); back != restoredText(s, tt.text, r) {
			t.Errorf("round trip of %q: %q", tt.text, back)
		}
	}
	// a later turn keeps the numbering
	_, s := redact(t, "Maria Gonzalez was seen today.", nil)
	r, err := s.Redact(context.Background(), "Maria will call back.")
	if err != nil || r.Text != "[[PERSON_1]] will call back." {
		t.Errorf("second turn: %q, %v", r.Text, err)
	}
}

// TestSpaceFormNames guards placeholderForms' shortcut: every type whose
// placeholder may be written with a blank ends in N or S.
func TestSpaceFormNames(t *testing.T) {
	for typ := range spaceFormTypes {
		if n := typ.String(); n == "" || n[len(n)-1] != 'N' && n[len(n)-1] != 'S' {
			t.Errorf("%s: placeholderForms only looks before a blank after N or S", n)
		}
		if !slices.Contains(spaceFormNames, typ.String()) {
			t.Errorf("%s missing from spaceFormNames", typ)
		}
	}
	if len(spaceFormNames) != len(spaceFormTypes) {
		t.Errorf("spaceFormNames has %d names, spaceFormTypes %d types", len(spaceFormNames), len(spaceFormTypes))
	}
	r, _ := redact(t, "Seen by PERSON 1 and LOCATION-2, BP 120, ADDRESS 3.", nil)
	if strings.Contains(r.Text, "PERSON 1") || strings.Contains(r.Text, "LOCATION-2") || strings.Contains(r.Text, "ADDRESS 3") {
		t.Errorf("a placeholder form in the input was not redacted: %q", r.Text)
	}
}
