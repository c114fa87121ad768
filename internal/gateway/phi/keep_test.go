package phi

import (
	"context"
	"strings"
	"testing"
)

// SessionOptions.Keep leaves the listed types as they are, uncounted; the
// others are replaced as always.
func TestSessionKeep(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &Record{Names: []string{"Rosalind Vantongeren"}, Phones: []string{"617-555-0142"}}
	text := "Rosalind Vantongeren called from 617-555-0142."
	for _, keep := range [][]Type{nil, {TypePerson}} {
		s, err := e.NewSession(rec, SessionOptions{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Redact(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		kept := strings.Contains(r.Text, "Rosalind Vantongeren")
		if kept != (len(keep) > 0) || strings.Contains(r.Text, "617-555-0142") {
			t.Errorf("keep %v: %q", keep, r.Text)
		}
		if n := s.Counts()[TypePerson]; (n == 0) != (len(keep) > 0) {
			t.Errorf("keep %v: %d persons counted", keep, n)
		}
		s.Close()
	}
}
