package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/gateway/phi"
)

func TestLoadPresidioCharOffsets(t *testing.T) {
	in := `[{"full_text": "Jörg lives in Köln", "spans": [
		{"entity_type": "PERSON", "entity_value": "Jörg", "start_position": 0, "end_position": 4},
		{"entity_type": "LOCATION", "entity_value": "Köln", "start_position": 14, "end_position": 18}]}]`
	ss, err := LoadPresidio(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	if got := s.Text[s.Gold[0].Start:s.Gold[0].End]; got != "Jörg" {
		t.Errorf("span 0 = %q", got)
	}
	if got := s.Text[s.Gold[1].Start:s.Gold[1].End]; got != "Köln" {
		t.Errorf("span 1 = %q", got)
	}
}

func TestLoadPresidioErrors(t *testing.T) {
	for _, in := range []string{`{`, `[{"full_text": "ab", "spans": [{"entity_type": "X", "start_position": 1, "end_position": 9}]}]`} {
		_, err := LoadPresidio(strings.NewReader(in))
		if err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestScore(t *testing.T) {
	samples := []Sample{
		{Text: "John Smith in Paris, Texas", Gold: []Gold{{0, 10, "PERSON"}, {14, 19, "LOCATION"}, {21, 26, "LOCATION"}}},
		{Text: "call 555-0100 now", Gold: []Gold{{5, 13, "PHONE_NUMBER"}}},
	}
	pred := map[string][]phi.Span{
		samples[0].Text: {{Start: 0, End: 4}, {Start: 21, End: 26}},  // John only; Texas (a state: non-HIPAA)
		samples[1].Text: {{Start: 5, End: 13}, {Start: 14, End: 17}}, // exact + a false positive
	}
	det := func(_ context.Context, s string) ([]phi.Span, error) { return pred[s], nil }
	isRegion := func(s string) bool { return s == "Texas" }
	rep, err := Score(context.Background(), samples, det, isRegion)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	if rep.All.Gold != 4 || rep.All.Caught != 3 || rep.All.CaughtStrict != 2 {
		t.Errorf("all = %+v", rep.All)
	}
	if rep.HIPAA.Gold != 3 || rep.HIPAA.Caught != 2 || rep.NonHIPAA.Gold != 1 {
		t.Errorf("hipaa = %+v non = %+v", rep.HIPAA, rep.NonHIPAA)
	}
	// John Smith: 9 non-space chars, 5 leaked; Paris: 5 leaked; phone 0
	if rep.HIPAA.GoldChars != 22 || rep.HIPAA.LeakedChars != 10 {
		t.Errorf("chars = %d leaked %d", rep.HIPAA.GoldChars, rep.HIPAA.LeakedChars)
	}
	if !near(rep.All.Precision, 3.0/4) {
		t.Errorf("precision = %v", rep.All.Precision)
	}
	// the Texas span hits only non-HIPAA gold: left out of HIPAA precision
	if rep.HIPAA.Predicted != 3 || !near(rep.HIPAA.Precision, 2.0/3) {
		t.Errorf("HIPAA precision = %d %v", rep.HIPAA.Predicted, rep.HIPAA.Precision)
	}
	p, r := rep.All.Precision, rep.All.Recall
	if !near(rep.All.F2, 5*p*r/(4*p+r)) {
		t.Errorf("F2 = %v", rep.All.F2)
	}
	var tbl bytes.Buffer
	if err := rep.WriteTable(&tbl); err != nil || !strings.Contains(tbl.String(), "HIPAA TYPES") {
		t.Errorf("table: %v\n%s", err, tbl.String())
	}
	if strings.Contains(tbl.String(), "John") {
		t.Error("table prints gold text")
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}

func TestCategoryPhysioNet(t *testing.T) {
	for typ, want := range map[string]string{
		"HCPName": "names", "PTName": "names", "PTNameInitial": "names", "RelativeProxyName": "names",
		"Location": "geographic", "Date": "dates", "Phone": "telephone/fax", "Age": "ages over 89",
		"Other": "other ids", "DateYear": "",
	} {
		if got := Category(typ, "x", nil); got != want {
			t.Errorf("Category(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	samples := []Sample{{Text: "Seen by Okonkwo at GH today", Gold: []Gold{{8, 15, "HCPName"}, {19, 21, "Location"}}}}
	det := func(_ context.Context, s string) ([]phi.Span, error) {
		return []phi.Span{{Start: 8, End: 15, Type: phi.TypePerson}, {Start: 22, End: 27, Type: phi.TypePerson}}, nil
	}
	rep, err := Score(context.Background(), samples, det, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteErrors(&b, 5); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`PERSON`, `"today"`, `Location`, `"GH"`, `at [GH] today`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, `"Okonkwo"`) {
		t.Errorf("a caught span listed as an error:\n%s", out)
	}
}
