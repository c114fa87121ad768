// Package eval scores a de-identifier against gold-annotated text: entity
// recall (any-overlap and strict), precision, F2 and the character-level
// leak rate, overall, per gold type and per HIPAA Safe Harbor category.
//
// It prints aggregates only, never gold text: the gold files hold PHI (or
// synthetic stand-ins that must be treated as PHI).
package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/wardhq/ward/internal/gateway/phi"
)

// Gold is one annotated identifier: bytes [Start, End) of the sample text.
type Gold struct {
	Start, End int
	Type       string
}

// Sample is one annotated text.
type Sample struct {
	Text string
	Gold []Gold
}

// LoadPresidio reads the Presidio research JSON format: an array of
// {"full_text", "spans": [{"entity_type", "start_position", "end_position"}]}
// with offsets in characters, which it converts to bytes. Errors name the
// sample index, never its text.
func LoadPresidio(r io.Reader) ([]Sample, error) {
	var raw []struct {
		FullText string `json:"full_text"`
		Spans    []struct {
			EntityType string `json:"entity_type"`
			Start      int    `json:"start_position"`
			End        int    `json:"end_position"`
		} `json:"spans"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("eval: not a Presidio JSON array: %w", errors.Unwrap(err))
	}
	out := make([]Sample, 0, len(raw))
	for i, x := range raw {
		if !utf8.ValidString(x.FullText) {
			return nil, fmt.Errorf("eval: sample %d: text is not valid UTF-8", i)
		}
		// character index → byte offset
		offs := make([]int, 0, len(x.FullText)+1)
		for b := range x.FullText {
			offs = append(offs, b)
		}
		offs = append(offs, len(x.FullText))
		s := Sample{Text: x.FullText}
		for j, sp := range x.Spans {
			if sp.Start < 0 || sp.End > len(offs)-1 || sp.Start >= sp.End {
				return nil, fmt.Errorf("eval: sample %d span %d: offsets out of range", i, j)
			}
			s.Gold = append(s.Gold, Gold{Start: offs[sp.Start], End: offs[sp.End], Type: sp.EntityType})
		}
		out = append(out, s)
	}
	return out, nil
}

// Category returns the HIPAA Safe Harbor category of a gold type, or ""
// for types that are not HIPAA identifiers (organisations, titles,
// countries). isRegion tells countries and states, which Safe Harbor keeps,
// from smaller places; text is the gold span's text.
func Category(goldType, text string, isRegion func(string) bool) string {
	switch goldType {
	case "PERSON", "NAME", "PATIENT", "DOCTOR", "PER",
		"HCPName", "PTName", "PTNameInitial", "RelativeProxyName": // PhysioNet deid
		return "names"
	case "LOCATION", "GPE", "LOC", "CITY", "Location":
		if isRegion != nil && isRegion(text) {
			return ""
		}
		return "geographic"
	case "ADDRESS", "STREET", "ZIP", "ZIP_CODE", "STREET_ADDRESS", "HOSPITAL":
		return "geographic"
	case "DATE_TIME", "DATE", "DOB", "BIRTHDATE", "Date":
		return "dates"
	case "AGE", "Age":
		return "ages over 89"
	case "PHONE_NUMBER", "PHONE", "FAX", "Phone":
		return "telephone/fax"
	case "EMAIL_ADDRESS", "EMAIL":
		return "email"
	case "US_SSN", "SSN":
		return "ssn"
	case "MEDICAL_RECORD", "MRN":
		return "medical record"
	case "HEALTHPLAN", "HEALTH_PLAN":
		return "health plan"
	case "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "ACCOUNT":
		return "account"
	case "US_DRIVER_LICENSE", "US_PASSPORT", "MEDICAL_LICENSE", "LICENSE":
		return "certificate/licence"
	case "DOMAIN_NAME", "URL":
		return "url"
	case "IP_ADDRESS", "IP":
		return "ip"
	case "ID", "IDNUM", "DEVICE", "VEHICLE", "BIOID", "Other":
		return "other ids"
	}
	// DateYear (PhysioNet) is a year alone, which Safe Harbor lets stay:
	// it is reported as its own gold type, outside the HIPAA group.
	return ""
}

// Metrics are the scores of one group of gold spans.
type Metrics struct {
	Gold         int     `json:"gold"`
	Caught       int     `json:"caught_any_overlap"`
	CaughtStrict int     `json:"caught_strict"`
	Recall       float64 `json:"recall"`
	StrictRecall float64 `json:"recall_strict"`
	GoldChars    int     `json:"gold_chars"`
	LeakedChars  int     `json:"leaked_chars"`
	LeakRate     float64 `json:"leak_rate"`
	// Precision figures are set for the overall and HIPAA groups only.
	Predicted int     `json:"predicted,omitempty"`
	PredHit   int     `json:"predicted_hit,omitempty"`
	Precision float64 `json:"precision,omitempty"`
	F1        float64 `json:"f1,omitempty"`
	F2        float64 `json:"f2,omitempty"`
}

// Report is the result of Score.
type Report struct {
	Samples    int                 `json:"samples"`
	All        Metrics             `json:"all_types"`
	HIPAA      Metrics             `json:"hipaa_types"`
	NonHIPAA   Metrics             `json:"non_hipaa_types"`
	ByType     map[string]*Metrics `json:"by_gold_type"`
	ByCategory map[string]*Metrics `json:"by_hipaa_category"`
	Bytes      int                 `json:"bytes"`

	errs errorLog // for WriteErrors
}

// Detect is the de-identifier under test.
type Detect func(ctx context.Context, text string) ([]phi.Span, error)

// Score runs detect on every sample and scores it. It stops at the first
// detection error, naming the sample index.
func Score(ctx context.Context, samples []Sample, detect Detect, isRegion func(string) bool) (*Report, error) {
	rep := &Report{ByType: map[string]*Metrics{}, ByCategory: map[string]*Metrics{}}
	for i, s := range samples {
		pred, err := detect(ctx, s.Text)
		if err != nil {
			return nil, fmt.Errorf("eval: sample %d: %w", i, err)
		}
		rep.Samples++
		rep.Bytes += len(s.Text)
		covered := make([]bool, len(s.Text))
		for _, p := range pred {
			for b := max(p.Start, 0); b < p.End && b < len(covered); b++ {
				covered[b] = true
			}
		}
		for _, g := range s.Gold {
			cat := Category(g.Type, s.Text[g.Start:g.End], isRegion)
			any, strict := false, false
			for _, p := range pred {
				if p.Start < g.End && g.Start < p.End {
					any = true
				}
				if p.Start == g.Start && p.End == g.End {
					strict = true
				}
			}
			chars, leaked := 0, 0
			for b, r := range s.Text[g.Start:g.End] {
				if unicode.IsSpace(r) {
					continue
				}
				chars++
				if !covered[g.Start+b] {
					leaked++
				}
			}
			if !any {
				rep.errs.add(&rep.errs.miss, g.Type, s.Text, g.Start, g.End)
			}
			groups := []*Metrics{&rep.All, get(rep.ByType, g.Type)}
			if cat != "" {
				groups = append(groups, &rep.HIPAA, get(rep.ByCategory, cat))
			} else {
				groups = append(groups, &rep.NonHIPAA)
			}
			for _, m := range groups {
				m.Gold++
				m.Caught += btoi(any)
				m.CaughtStrict += btoi(strict)
				m.GoldChars += chars
				m.LeakedChars += leaked
			}
		}
		for _, p := range pred {
			hitAny, hitHIPAA, hitOther := false, false, false
			for _, g := range s.Gold {
				if p.Start < g.End && g.Start < p.End {
					hitAny = true
					if Category(g.Type, s.Text[g.Start:g.End], isRegion) != "" {
						hitHIPAA = true
					} else {
						hitOther = true
					}
				}
			}
			if !hitAny {
				rep.errs.add(&rep.errs.fp, p.Type.String(), s.Text, p.Start, p.End)
			}
			rep.All.Predicted++
			rep.All.PredHit += btoi(hitAny)
			// For HIPAA precision a span that only hits a non-HIPAA gold
			// span is neither right nor wrong.
			if !(hitOther && !hitHIPAA) {
				rep.HIPAA.Predicted++
				rep.HIPAA.PredHit += btoi(hitHIPAA)
			}
		}
	}
	for _, m := range append([]*Metrics{&rep.All, &rep.HIPAA, &rep.NonHIPAA}, values(rep.ByType, rep.ByCategory)...) {
		m.finish()
	}
	return rep, nil
}

func get(m map[string]*Metrics, k string) *Metrics {
	if m[k] == nil {
		m[k] = &Metrics{}
	}
	return m[k]
}

func values(ms ...map[string]*Metrics) []*Metrics {
	var out []*Metrics
	for _, m := range ms {
		for _, v := range m {
			out = append(out, v)
		}
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (m *Metrics) finish() {
	m.Recall = ratio(m.Caught, m.Gold)
	m.StrictRecall = ratio(m.CaughtStrict, m.Gold)
	m.LeakRate = ratio(m.LeakedChars, m.GoldChars)
	if m.Predicted > 0 {
		m.Precision = ratio(m.PredHit, m.Predicted)
		p, r := m.Precision, m.Recall
		if p+r > 0 {
			m.F1 = 2 * p * r / (p + r)
			m.F2 = 5 * p * r / (4*p + r)
		}
	}
}

// WriteTable prints the report as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%d samples, %d bytes\n\n", r.Samples, r.Bytes)
	ew.printf("%-24s %6s %8s %8s %8s %8s %8s\n", "group", "gold", "recall", "strict", "leak", "prec", "F2")
	row := func(name string, m *Metrics) {
		prec, f2 := "-", "-"
		if m.Predicted > 0 {
			prec, f2 = fmt.Sprintf("%.3f", m.Precision), fmt.Sprintf("%.3f", m.F2)
		}
		ew.printf("%-24s %6d %8.3f %8.3f %8.3f %8s %8s\n", name, m.Gold, m.Recall, m.StrictRecall, m.LeakRate, prec, f2)
	}
	row("ALL TYPES", &r.All)
	row("HIPAA TYPES", &r.HIPAA)
	row("non-HIPAA types", &r.NonHIPAA)
	ew.printf("\nby HIPAA category\n")
	for _, k := range sortedKeys(r.ByCategory) {
		row(k, r.ByCategory[k])
	}
	ew.printf("\nby gold type\n")
	for _, k := range sortedKeys(r.ByType) {
		row(k, r.ByType[k])
	}
	return ew.err
}

func sortedKeys(m map[string]*Metrics) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}
