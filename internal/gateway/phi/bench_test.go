package phi

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchCorpus is the synthetic clinical notes in testdata/notes, repeated
// to about 256 KiB.
func benchCorpus(b *testing.B) string {
	files, _ := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	var sb strings.Builder
	for sb.Len() < 256<<10 {
		for _, f := range files {
			t, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			sb.Write(t)
			sb.WriteString("\n\n")
		}
	}
	return sb.String()
}

// BenchmarkRedact measures Session.Redact on clinical-style text.
func BenchmarkRedact(b *testing.B) {
	text := benchCorpus(b)
	e := testEngine(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		s, _ := e.NewSession(nil, SessionOptions{})
		if _, err := s.Redact(context.Background(), text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedactNote measures one note at a time, as the gateway sees
// them (per-request set-up included).
func BenchmarkRedactNote(b *testing.B) {
	note, err := os.ReadFile(filepath.Join("testdata", "notes", "discharge.txt"))
	if err != nil {
		b.Fatal(err)
	}
	e := testEngine(b)
	rec := &Record{Names: []string{"Rosa Martinez"}, BirthDate: "1956-03-15", MRN: "A4471920"}
	b.SetBytes(int64(len(note)))
	for b.Loop() {
		s, _ := e.NewSession(rec, SessionOptions{})
		if _, err := s.Redact(context.Background(), string(note)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReidentify measures re-identifying a reply full of placeholders.
func BenchmarkReidentify(b *testing.B) {
	text := benchCorpus(b)
	s, _ := testEngine(b).NewSession(nil, SessionOptions{})
	r, err := s.Redact(context.Background(), text)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(r.Text)))
	for b.Loop() {
		s.Reidentify(r.Text)
	}
}

// BenchmarkBaselineToLower is the floor the redaction figures are read
// against: bytes.ToLower over the same input.
func BenchmarkBaselineToLower(b *testing.B) {
	text := []byte(benchCorpus(b))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		bytes.ToLower(text)
	}
}

// BenchmarkBaselineTokenize is the tokenizer alone over the same input.
func BenchmarkBaselineTokenize(b *testing.B) {
	text := benchCorpus(b)
	b.SetBytes(int64(len(text)))
	toks := make([]token, 0, len(text)/4)
	buf := make([]byte, len(text))
	for b.Loop() {
		toks, _, _ = tokenize(text, toks[:0], buf)
	}
}

// BenchmarkPresidioSamples redacts every sample of the Presidio
// development set (short sentences, one session each), when the shared
// data directory is present; ns/op covers the whole set.
func BenchmarkPresidioSamples(b *testing.B) {
	benchSamples(b, filepath.Join("presidio-dev", "generated_large.json"), "full_text")
}

// BenchmarkPhysioNetNotes redacts every note of the PhysioNet development
// set (984 ICU nursing notes, one session each), when the shared data
// directory is present; ns/op covers the whole set.
func BenchmarkPhysioNetNotes(b *testing.B) {
	benchSamples(b, filepath.Join("physionet-dev", "notes.json"), "full_text")
}

// benchSamples redacts the field of every object of a JSON array file
// under shared/data, one session each.
func benchSamples(b *testing.B, rel, field string) {
	var texts []string
	for dir := "."; ; dir = filepath.Join(dir, "..") {
		p := filepath.Join(dir, "shared", "data", rel)
		if env := os.Getenv("WARD_SHARED_DIR"); env != "" {
			p = filepath.Join(env, "data", rel)
		}
		raw, err := os.ReadFile(p)
		if err == nil {
			var samples []map[string]any
			if err := json.Unmarshal(raw, &samples); err != nil {
				b.Fatal(err)
			}
			for _, s := range samples {
				t, _ := s[field].(string)
				texts = append(texts, t)
			}
			break
		}
		if abs, _ := filepath.Abs(dir); abs == "/" || len(dir) > 40 {
			b.Skip("shared/data/" + rel + " not found")
		}
	}
	e := testEngine(b)
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	b.SetBytes(int64(n))
	ctx := context.Background()
	for b.Loop() {
		for _, t := range texts {
			s, _ := e.NewSession(nil, SessionOptions{})
			if _, err := s.Redact(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts))/1000, "µs/sample")
}
