package phi

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSessionReset checks that a session reset from text to text redacts
// and re-identifies each text exactly as a fresh session does, with or
// without a record and with the options that fill its other tables
// (shifted dates, ZIP3), and that nothing of an earlier text survives a
// reset: its placeholders no longer re-identify.
func TestSessionReset(t *testing.T) {
	files, err := filepath.Glob("testdata/notes/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("notes: %v", err)
	}
	texts := []string{"", "no identifiers here",
		"Seen by Dr. Maria Gonzalez on 03/14/2024 at 12 Main St, Boston MA 02138, call 617-555-0199. Maria agreed.",
		"Husband Carlos Gonzalez called; Carlos says she moved to 90210 on 01/02/2023."}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	rec := &Record{Names: []string{"Rosa Martinez"}, BirthDate: "1956-03-15", MRN: "A4471920"}
	e := testEngine(t)
	ctx := context.Background()
	for _, opts := range []SessionOptions{{}, {DateShiftDays: 5, ZIP3: true}} {
		reused, err := e.NewSession(nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		var prev Result
		for i, text := range append(texts, texts...) {
			r := []*Record{nil, rec}[i%2]
			fresh, err := e.NewSession(r, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := reused.Reset(r); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(prev.Text, "[[") {
				if back, _ := reused.Reidentify(prev.Text); back != prev.Text {
					t.Errorf("text %d: the previous text's placeholders re-identify after Reset", i)
				}
			}
			want, err := fresh.Redact(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := reused.Redact(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != want.Text || !reflect.DeepEqual(got.Spans, want.Spans) ||
				!reflect.DeepEqual(reused.Counts(), fresh.Counts()) {
				t.Errorf("text %d (opts %+v): a reset session differs from a fresh one:\n%q\n%q", i, opts, got.Text, want.Text)
			}
			wb, wu := fresh.Reidentify(want.Text)
			gb, gu := reused.Reidentify(got.Text)
			if wb != gb || !reflect.DeepEqual(wu, gu) {
				t.Errorf("text %d: re-identification differs after Reset", i)
			}
			fresh.Close()
			prev = got
		}
		reused.Close()
	}
	// an invalid record fails as NewSession fails, and leaves the session closed
	s, _ := e.NewSession(rec, SessionOptions{})
	if _, err := s.Redact(ctx, texts[2]); err != nil {
		t.Fatal(err)
	}
	bad := &Record{BirthDate: "not a date"}
	_, wantErr := e.NewSession(bad, SessionOptions{})
	if err := s.Reset(bad); err == nil || wantErr == nil || err.Error() != wantErr.Error() {
		t.Errorf("Reset(invalid) = %v, NewSession gives %v", err, wantErr)
	}
	if len(s.entries) != 0 || s.index != nil || s.rec != nil {
		t.Error("a failed Reset leaves the session's values")
	}
}

// TestSessionResetFields fails when Session gains a field, so that Reset
// (which lists what it keeps) is checked for it.
func TestSessionResetFields(t *testing.T) {
	got := []string{}
	typ := reflect.TypeFor[Session]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	want := []string{"e", "rec", "opts", "index", "entries", "byPH", "count", "shifted", "parts", "litIndex", "litCount"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Session's fields are %v; update Reset (and this list) for %v", got, want)
	}
}

// TestDetectorCleared checks that the pooled scratch keeps neither the
// text, nor the record, nor the context of the detection it served.
func TestDetectorCleared(t *testing.T) {
	e := testEngine(t)
	s, _ := e.NewSession(&Record{Names: []string{"Rosa Martinez"}}, SessionOptions{})
	if _, err := s.Redact(context.Background(), "Rosa Martinez was seen on 03/14/2024."); err != nil {
		t.Fatal(err)
	}
	sc := e.caches.Get().(*scratch)
	if !reflect.DeepEqual(sc.det, detector{}) {
		t.Error("the pooled scratch still holds the last detection's detector")
	}
	e.caches.Put(sc)
}
