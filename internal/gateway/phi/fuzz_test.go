package phi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f.Add(line)
			}
		}
	}
	for _, s := range []string{"", "[[PERSON_1]]", "Dr. O'Brien-Smith, MD", "1/2/3/4", "+1 (", "a@b.co", "::1", "12 Oak St.",
		"fe80::1ff:fe23:4567:890a", "GB57QXRT40218765309124", "MRN: ", "MRN:\n123", "Hope. Hope", "\xff", "ü\u0301ber Müller"} {
		f.Add(s)
	}
}

// FuzzDetect checks the scanner: no panic, offsets valid, and the redacted
// text never contains a value it detected.
func FuzzDetect(f *testing.F) {
	addSeeds(f)
	e := testEngine(f)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := e.NewSession(nil, SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Redact(context.Background(), text)
		if !utf8.ValidString(text) {
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("invalid UTF-8: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Redact: %v", err)
		}
		spans := make([]Span, len(r.Spans))
		for i, sp := range r.Spans {
			spans[i] = sp.Span
		}
		checkSpans(t, text, spans)
		// Cut the placeholders out, then look for each detected value as
		// a whole token sequence, in the text as the engine reads it
		// (normalized: a control character between two words is no
		// boundary to it).
		rest := stripPlaceholders(Normalize(r.Text))
		for _, sp := range r.Spans {
			v := Normalize(text[sp.Start:sp.End])
			if len(strings.TrimSpace(v)) < 2 || sp.Type == TypeAge && strings.Trim(v, "0123456789") == "" {
				// An age's digits may stay where they recur as a reading
				// ("96 YO ... SATS 94-96%"): see measurementAt.
				continue
			}
			if containsToken(rest, v) {
				t.Fatalf("detected %v value at %d-%d survives in the output", sp.Type, sp.Start, sp.End)
			}
		}
		back, _ := s.Reidentify(r.Text)
		if back != restoredText(s, text, r) {
			t.Fatalf("round trip differs")
		}
	})
}

func stripPlaceholders(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "[[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "]]")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString("\x00")
		s = s[i+j+2:]
	}
}

// containsToken reports whether v occurs in s not glued to a letter or
// digit on either side (the engine's token boundaries: a value is not
// propagated into the tail of a code such as "93AAAA").
func containsToken(s, v string) bool {
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	for off := 0; ; {
		i := strings.Index(s[off:], v)
		if i < 0 {
			return false
		}
		p := off + i
		q := p + len(v)
		before, _ := utf8.DecodeLastRuneInString(s[:p])
		after, _ := utf8.DecodeRuneInString(s[q:])
		if (p == 0 || !isWordRune(before) || !isWordRune(first)) && (q == len(s) || !isWordRune(after) || !isWordRune(last)) {
			return true
		}
		off = p + 1
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// FuzzReidentify checks the re-identifier: no panic, the streamed result
// equals the whole-text result at any split, and text without placeholder
// forms passes unchanged.
func FuzzReidentify(f *testing.F) {
	f.Add("[[PERSON_1]] saw [[PERSON_2]]'s labs on [[DATE_1]]", 5, 17)
	f.Add("PERSON 2 and person_1 and [PERSON_3]", 0, 1)
	f.Add("[[[[[[", 2, 3)
	f.Add("ünï [[DATE_1]] ✓", 3, 9)
	e := testEngine(f)
	s, err := e.NewSession(nil, SessionOptions{DateShiftDays: 3})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Redact(context.Background(), "Dr. Okonkwo saw Jeffrey Antonaccio on 3/4/2024, 2024-03-04 and March 4."); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, reply string, a, b int) {
		want, wantUnknown := s.Reidentify(reply)
		if !strings.ContainsAny(reply, "[_ 0123456789") && want != reply {
			t.Fatalf("plain text changed")
		}
		n := len(reply) + 1
		a, b = abs(a)%n, abs(b)%n
		if a > b {
			a, b = b, a
		}
		st := s.NewStream()
		got := st.Write(reply[:a]) + st.Write(reply[a:b]) + st.Write(reply[b:])
		tail, unknown := st.Close()
		got += tail
		if got != want {
			t.Fatalf("stream split (%d, %d): got %q want %q", a, b, got, want)
		}
		if strings.Join(unknown, ",") != strings.Join(wantUnknown, ",") {
			t.Fatalf("unknown differ: %q vs %q", unknown, wantUnknown)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		if x == -x { // math.MinInt
			return 0
		}
		return -x
	}
	return x
}
