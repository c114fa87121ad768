package phi

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRedactFolded: the engine reads a text as Normalize folds it, so an
// identifier written with no-break spaces, Unicode hyphens, full-width
// digits, a control character or an invisible format character inside is
// found as its ASCII spelling is, and the spans and the redacted text are
// those of the text as given: each span covers the identifier's bytes as
// written, and every character outside the spans stays as it was.
func TestRedactFolded(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		text, id string
		typ      Type
	}{
		{"Call her on 617\u00a0555\u00a00142 after six, caf\u00e9\u00a0au lait.", "617\u00a0555\u00a00142", TypePhone},
		{"SSN 123\u201045\u20106789 on file; r\u00e9sum\u00e9 attached.", "123\u201045\u20106789", TypeSSN},
		{"Phone \uff16\uff11\uff17-\uff15\uff15\uff15-\uff10\uff11\uff14\uff12 \u2014 \u00bfs\u00ed?", "\uff16\uff11\uff17-\uff15\uff15\uff15-\uff10\uff11\uff14\uff12", TypePhone},
		{"SSN 123-45-\u200b6789\u3000ok", "123-45-\u200b6789", TypeSSN},
		{"Mail rosa.diaz\u00ad@example.org \u2028 today", "rosa.diaz\u00ad@example.org", TypeEmail},
		{"SSN 123-45-\x006789\fnext page", "123-45-\x006789", TypeSSN},
		// A tab between digits is a space though an invisible character
		// stands beside it (the neighbours a reader sees).
		{"Call 617\t\u200b555\t\u200b0142 now", "617\t\u200b555\t\u200b0142", TypePhone},
		{"SSN 123\t\x0045\t\x006789 ok", "123\t\x0045\t\x006789", TypeSSN},
		// Decimal digits of other scripts and styled digits (Arabic-Indic,
		// Devanagari, mathematical bold, superscript, circled) read as
		// their ASCII digits; every dash as a hyphen; a middle dot between
		// digits as a dot; an underscore as a phone number's separator.
		{"Phone \u0666\u0661\u0667-\u0665\u0665\u0665-\u0660\u0661\u0664\u0662 ok", "\u0666\u0661\u0667-\u0665\u0665\u0665-\u0660\u0661\u0664\u0662", TypePhone},
		{"Phone \u096c\u0967\u096d-\u096b\u096b\u096b-\u0966\u0967\u096a\u0968 ok", "\u096c\u0967\u096d-\u096b\u096b\u096b-\u0966\u0967\u096a\u0968", TypePhone},
		{"Phone \U0001d7d4\U0001d7cf\U0001d7d5-\U0001d7d3\U0001d7d3\U0001d7d3-\U0001d7ce\U0001d7cf\U0001d7d2\U0001d7d0 ok", "\U0001d7d4\U0001d7cf\U0001d7d5-\U0001d7d3\U0001d7d3\U0001d7d3-\U0001d7ce\U0001d7cf\U0001d7d2\U0001d7d0", TypePhone},
		{"Phone \u2465\u2460\u2466-\u2464\u2464\u2464-\u24ea\u2460\u2463\u2461 ok", "\u2465\u2460\u2466-\u2464\u2464\u2464-\u24ea\u2460\u2463\u2461", TypePhone},
		{"Born \u00b9\u2079\u2076\u00b2-\u2070\u2077-\u00b9\u2074 in clinic", "\u00b9\u2079\u2076\u00b2-\u2070\u2077-\u00b9\u2074", TypeDate},
		{"SSN 123\u204345\u20436789 ok", "123\u204345\u20436789", TypeSSN},
		{"SSN 123\u058a45\u058a6789 ok", "123\u058a45\u058a6789", TypeSSN},
		{"Born 1962\u205307\u205314 here", "1962\u205307\u205314", TypeDate},
		{"Born 1962-0\u03017-1\u03084 here", "1962-0\u03017-1\u03084", TypeDate},
		{"Phone 6\ufe0f\u20e317-555-0142 ok", "6\ufe0f\u20e317-555-0142", TypePhone},
		{"Phone 617\u00b7555\u00b70142 ok", "617\u00b7555\u00b70142", TypePhone},
		{"Phone 617_555_0142 ok", "617_555_0142", TypePhone},
	} {
		r, _ := redact(t, c.text, nil)
		var found *Replacement
		for i, sp := range r.Spans {
			if c.text[sp.Start:sp.End] == c.id {
				found = &r.Spans[i]
			}
		}
		if found == nil {
			t.Errorf("%q: no span is exactly %q: %+v", c.text, c.id, r.Spans)
			continue
		}
		if found.Type != c.typ {
			t.Errorf("%q: %q is %s, want %s", c.text, c.id, found.Type, c.typ)
		}
		// The text as given, with each span replaced by its placeholder.
		var want strings.Builder
		last := 0
		for _, sp := range r.Spans {
			want.WriteString(c.text[last:sp.Start])
			want.WriteString(sp.Placeholder)
			last = sp.End
		}
		want.WriteString(c.text[last:])
		if r.Text != want.String() || strings.Contains(r.Text, c.id) {
			t.Errorf("%q: redacted %q, want %q", c.text, r.Text, want.String())
		}
		spans, err := testEngine(t).Detect(ctx, c.text, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) != len(r.Spans) {
			t.Errorf("%q: Detect found %d spans, Redact %d", c.text, len(spans), len(r.Spans))
		}
		for i := range spans {
			if i < len(r.Spans) && spans[i] != r.Spans[i].Span {
				t.Errorf("%q: Detect's span %d is %+v, Redact's %+v", c.text, i, spans[i], r.Spans[i].Span)
			}
		}
	}
	// A folded name is the same person as the name written plainly.
	r, _ := redact(t, "Seen: Dr.\u00a0Marguerite\u00a0Okonkwo-Bassey. Later Dr. Marguerite Okonkwo-Bassey called.", nil)
	if len(r.Spans) < 2 || r.Spans[0].Placeholder != r.Spans[len(r.Spans)-1].Placeholder {
		t.Errorf("the name with no-break spaces and without: %+v", r.Spans)
	}
}

// TestFoldOffsets: each byte of a folded text maps to the rune of the
// text it came from, and a span unfolds to whole runes of the text.
func TestFoldOffsets(t *testing.T) {
	s := "a\u00a0b\x00c\uff11\u200bd\u2028e"
	f, offs := fold(s, true, false)
	if f != "a bc1d\ne" || len(offs) != len(f) {
		t.Fatalf("fold(%q) = %q, %v", s, f, offs)
	}
	for i, want := range []int32{0, 1, 3, 5, 6, 12, 13, 16} {
		if offs[i] != want {
			t.Errorf("offs[%d] = %d, want %d", i, offs[i], want)
		}
	}
	if sp := unfold(Span{Start: 2, End: 5}, s, offs); s[sp.Start:sp.End] != "b\x00c\uff11" {
		t.Errorf("unfold of %q = %q", f[2:5], s[sp.Start:sp.End])
	}
	if f, offs := fold("plain text\n", true, false); f != "plain text\n" || offs != nil {
		t.Errorf("plain text folded to %q, %v", f, offs)
	}
	// A text fold leaves as it is costs no copy and no map.
	for _, s := range []string{"plain text\n", "caf\u00e9 au lait, na\u00efve", "a\ttab\tb", "\U0001F468\u200d\U0001F469 \u2019s"} {
		if n := testing.AllocsPerRun(20, func() { fold(s, true, false) }); n != 0 {
			t.Errorf("fold(%q) allocates %v times", s, n)
		}
	}
}

// FuzzNormalize: Normalize is idempotent, leaves a text it does not change
// as it is, and its offsets map every byte of the result to a rune of the
// text, in order.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"617\t\x00555", "a\u200d\x00b", "\U0001F468\u200d\U0001F469", "\uff16\t\uff17",
		"x\t\u00ad\t1", "1\t\u200c\t2", "plain", "", "\x00", "caf\u00e9\u00a0au lait",
		"\u0661\u00b7\u200b\u2460", "a\u200d\U0001d41b", "1\t\u0662", "\u00b2\u2043\u058a", "1\u0301\t2", "1\t\u0301 2", "\u0661\u20e3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		n, offs := fold(s, true, false)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize(%q) = %q, again %q", s, n, again)
		}
		if Normalize(s) != n {
			t.Fatalf("Normalize and fold differ on %q", s)
		}
		if offs == nil {
			if n != s {
				t.Fatalf("%q changed to %q without offsets", s, n)
			}
			return
		}
		if len(offs) != len(n) {
			t.Fatalf("%d offsets for %d bytes", len(offs), len(n))
		}
		for i := range offs {
			if offs[i] < 0 || int(offs[i]) >= len(s) || !utf8.RuneStart(s[offs[i]]) || i > 0 && offs[i] < offs[i-1] {
				t.Fatalf("offset %d of %q: %v", i, s, offs)
			}
		}
	})
}

// A run of joiners between two letters is looked past once, not once a
// joiner (which made a megabyte of them take minutes), and folds as before.
func TestFoldJoinerRunReadOnce(t *testing.T) {
	scans := 0
	defer func(orig func(string) (rune, int)) { peekScan = orig }(peekScan)
	orig := peekScan
	peekScan = func(s string) (rune, int) { scans++; return orig(s) }
	zwj := strings.Repeat("\u200d", 10000)
	if got := Normalize("a" + zwj + "b"); got != "ab" {
		t.Errorf("joiners between letters: %d bytes left, want 2", len(got))
	}
	if scans > 2 {
		t.Errorf("%d looks ahead for one run of joiners", scans)
	}
	// The same as a fold that looks ahead afresh at every rune, on texts
	// of letters, digits, joiners, tabs, dots and invisible characters.
	alphabet := []string{"a", "b", "1", "2", " ", "\u200d", "\u200c", "\u200b", "\t", "\u00b7", "\x01", "\uff19", "\U0001d7d7", "\u0915"}
	rng := rand.New(rand.NewPCG(164, 70))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := b.String()
		var want strings.Builder
		prev := rune(-1)
		for j := 0; j < len(in); {
			r, n := utf8.DecodeRuneInString(in[j:])
			if out, keep := foldRune(r, prev, in[j+n:], &folder{}); keep {
				want.WriteRune(out)
				prev = out
			}
			j += n
		}
		if got := Normalize(in); got != want.String() {
			t.Fatalf("Normalize(%q) = %q, want %q", in, got, want.String())
		}
	}
}
