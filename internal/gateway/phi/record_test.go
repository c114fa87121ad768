package phi

import (
	"context"
	"strings"
	"testing"
)

func TestRecordAware(t *testing.T) {
	rec := &Record{
		Names:     []string{"Rosa Linda Martinez-Pena"},
		Nicknames: []string{"Rosie"},
		BirthDate: "1956-03-15",
		MRN:       "A4471920",
		IDs:       []string{"XJH-448812"},
		Phones:    []string{"(773) 555-0142"},
		Emails:    []string{"rosa.martinez67@gmail.com"},
		Addresses: []string{"4417 W. Belmont Ave, Chicago, IL 60641"},
		Employers: []string{"Acme Widget Works"},
		Relatives: []string{"Ernesto Martinez"},
		CareTeam:  []string{"Will Hope"},
	}
	tests := []struct {
		text string
		want string
	}{
		{"MARTINEZ-PENA, ROSA seen today", "MARTINEZ-PENA, ROSA"},
		{"Martinez, Rosa L. seen today", "Martinez, Rosa"},
		{"R. Martinez's daughter called", "R. Martinez"},
		{"rosie came in", "rosie"},
		{"Rosie came in", "Rosie"},
		{"Mrs. Martnez came in", "Martnez"}, // typo
		{"Mrs. Martinez-Pena came in", "Martinez-Pena"},
		{"Born March 15, 1956 in town", "March 15, 1956"},
		{"Born 15.03.1956 in town", "15.03.1956"},
		{"dob 03151956 on file", "03151956"},
		{"MRN a4471920 on file", "a4471920"},
		{"record B9912345 is hers", "B9912345"}, // the record's MRN format
		{"id XJH-448812 on file", "XJH-448812"},
		{"call 773 555 0142 or 7735550142", "773 555 0142"},
		{"call 7735550142 now", "7735550142"},
		{"wrote rosa.martinez67@gmail.com", "rosa.martinez67@gmail.com"},
		{"the handle rosa.martinez67 online", "rosa.martinez67"},
		{"lives on 4417 W. Belmont Ave near", "4417 W. Belmont Ave"},
		{"works at Acme Widget Works as a clerk", "Acme Widget Works"},
		{"her brother Ernesto visited", "Ernesto"},
		{"Dr. Hope said to Will Hope", "Will Hope"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, _ := redact(t, tt.text, rec)
			if ok, _ := covered(tt.text, r.Spans, tt.want); !ok {
				t.Errorf("%q not redacted: %q", tt.want, r.Text)
			}
		})
	}
	// ordinary words stay even when they are record name parts
	r, _ := redact(t, "We hope you will feel better.", rec)
	if len(r.Spans) != 0 {
		t.Errorf("ordinary words redacted: %q", r.Text)
	}
}

func TestRecordValidate(t *testing.T) {
	_, err := testEngine(t).NewSession(&Record{BirthDate: "15/03/1956"}, SessionOptions{})
	if err == nil || strings.Contains(err.Error(), "1956") {
		t.Errorf("err = %v", err)
	}
	var r *Record
	if s := r.String(); strings.Contains(s, "Rosa") {
		t.Error(s)
	}
	r = &Record{Names: []string{"Rosa Martinez"}}
	if s := r.String(); strings.Contains(s, "Rosa") {
		t.Errorf("String leaks PHI: %s", s)
	}
}

func TestWithinEdits(t *testing.T) {
	tests := []struct {
		a, b string
		k    int
		want bool
	}{
		{"martinez", "martinez", 0, true},
		{"martnez", "martinez", 1, true},
		{"matrinez", "martinez", 1, true}, // transposition
		{"marteenez", "martinez", 1, false},
		{"marteenez", "martinez", 2, true},
		{"smith", "smyth", 1, true},
		{"smith", "jones", 2, false},
		{"", "ab", 2, true},
	}
	for _, tt := range tests {
		if got := withinEdits(tt.a, tt.b, tt.k); got != tt.want {
			t.Errorf("withinEdits(%q, %q, %d) = %v", tt.a, tt.b, tt.k, got)
		}
	}
	_ = context.Background
}

// TestRecordKeepsState checks that a record address redacts its ZIP code
// but leaves the state, which Safe Harbor keeps.
func TestRecordKeepsState(t *testing.T) {
	rec := &Record{Names: []string{"Maria Gonzalez"}, Addresses: []string{"12 Oak Street, Eugene, OR 97477"}}
	text := "Maria lives in Eugene, OR 97477 with her husband."
	r, _ := redact(t, text, rec)
	if touched(text, r.Spans, "OR") {
		t.Errorf("state redacted: %q", r.Text)
	}
	for _, w := range []string{"Maria", "Eugene", "97477"} {
		if ok, _ := covered(text, r.Spans, w); !ok {
			t.Errorf("%q not redacted: %q", w, r.Text)
		}
	}
}
