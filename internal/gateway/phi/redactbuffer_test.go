package phi

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRedactBuffer checks that RedactBuffer, with one buffer reused from
// text to text, gives exactly what Redact gives for each text alone, and
// that a result stays intact until the buffer is written again.
func TestRedactBuffer(t *testing.T) {
	files, err := filepath.Glob("testdata/notes/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("notes: %v", err)
	}
	texts := []string{"", "no identifiers here", "Seen by Dr. Maria Gonzalez on 03/14/2024, call 617-555-0199."}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	texts = append(texts, texts...) // shorter after longer: a buffer larger than needed
	e := testEngine(t)
	ctx := context.Background()
	var buf []byte
	for i, text := range texts {
		s1, _ := e.NewSession(nil, SessionOptions{})
		want, err := s1.Redact(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := e.NewSession(nil, SessionOptions{})
		var got Result
		got, buf, err = s2.RedactBuffer(ctx, text, buf)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want.Text || !reflect.DeepEqual(got.Spans, want.Spans) {
			t.Errorf("text %d: RedactBuffer differs from Redact:\n%q\n%q", i, got.Text, want.Text)
		}
		s1.Close()
		s2.Close()
	}
}
