package phi

import (
	"context"
	"strings"
	"sync"
	"testing"
)

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// testEngine returns one shared Engine: parsing the lexicon once keeps the
// suite fast.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = New(Config{}) })
	if engineErr != nil {
		t.Fatalf("New: %v", engineErr)
	}
	return engine
}

// redact redacts text in a fresh session.
func redact(t testing.TB, text string, rec *Record) (Result, *Session) {
	t.Helper()
	s, err := testEngine(t).NewSession(rec, SessionOptions{})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	r, err := s.Redact(context.Background(), text)
	if err != nil {
		t.Fatalf("Redact: %v", err)
	}
	return r, s
}

// covered reports whether every non-space byte of sub (at its first
// occurrence in text) lies inside a span, and the type of the first span.
func covered(text string, spans []Replacement, sub string) (bool, Type) {
	p := strings.Index(text, sub)
	if p < 0 {
		return false, TypeNone
	}
	var typ Type
	for b := p; b < p+len(sub); b++ {
		if text[b] == ' ' {
			continue
		}
		in := false
		for _, sp := range spans {
			if sp.Start <= b && b < sp.End {
				in = true
				if typ == TypeNone {
					typ = sp.Type
				}
				break
			}
		}
		if !in {
			return false, TypeNone
		}
	}
	return true, typ
}

// touched reports whether any byte of sub (first occurrence) lies in a span.
func touched(text string, spans []Replacement, sub string) bool {
	p := strings.Index(text, sub)
	if p < 0 {
		return false
	}
	for _, sp := range spans {
		if sp.Start < p+len(sub) && p < sp.End {
			return true
		}
	}
	return false
}

// restoredText is what re-identifying r.Text must give back: the input,
// except that a one-word name sharing a full name's placeholder comes back
// as the full name, and that a value the engine read normalized (a text
// Normalize changes) comes back as it read it: "617\u00a0555\u00a00142"
// as "617 555 0142".
func restoredText(s *Session, text string, r Result) string {
	var b strings.Builder
	last := 0
	folded := Normalize(text) != text
	for _, sp := range r.Spans {
		b.WriteString(text[last:sp.Start])
		v := text[sp.Start:sp.End]
		if i, ok := s.byPH[sp.Placeholder]; ok && sp.Type == TypePerson {
			v = s.entries[i].surface
		} else if folded {
			v = Normalize(v)
		}
		b.WriteString(v)
		last = sp.End
	}
	b.WriteString(text[last:])
	return b.String()
}
