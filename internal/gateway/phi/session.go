package phi

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// SessionOptions tune one Session.
type SessionOptions struct {
	// DateShiftDays, when non-zero, rewrites each full date (day, month and
	// year) as the date this many days later, in the same format, instead of
	// masking it; re-identification shifts it back. Dates without a year,
	// and formats the shifter does not know, are still masked. Pick a fresh
	// random offset per request.
	DateShiftDays int
	// ZIP3, when set, applies the Safe Harbor ZIP rule instead of masking
	// ZIP codes: the first three digits stay ("021XX") unless the
	// three-digit area holds 20,000 people or fewer, which become "000XX".
	// Re-identification restores a generalised ZIP only while it is
	// unambiguous; a second ZIP with the same prefix gets a placeholder.
	ZIP3 bool
	// Keep are types found but left as they are (an org's policy may let
	// organisation names through). They are neither replaced nor counted.
	Keep []Type
}

// Session redacts the texts of one request and re-identifies the replies.
// Its mapping lives only in memory and dies with Close. A Session is not
// safe for concurrent use.
type Session struct {
	e    *Engine
	rec  *compiledRecord
	opts SessionOptions

	index   map[string]int // type byte + surface → entry
	entries []entry
	byPH    map[string]int // placeholder → entry
	count   [numTypes]int
	shifted map[string]string // shifted date or generalised ZIP text → original

	// parts maps the first word of each multi-word person name to that
	// name's entry, or -1 when two names share the word.
	parts map[string]int

	litIndex *literalIndex // the shifted, indexed for matchShifted (reid.go)
	litCount int
}

type entry struct {
	typ         Type
	surface     string
	placeholder string
}

// Replacement is one identifier replaced in a redacted text. Start and End
// are byte offsets into the input; Placeholder is what replaced it (a
// shifted date for shifted dates).
type Replacement struct {
	Span
	Placeholder string `json:"placeholder"`
}

// Result is a redacted text and what was replaced.
type Result struct {
	Text  string        `json:"text"`
	Spans []Replacement `json:"spans"`
}

// NewSession starts a request-scoped session. rec may be nil. It fails if
// rec is invalid; the error names the field only.
func (e *Engine) NewSession(rec *Record, opts SessionOptions) (*Session, error) {
	s := &Session{e: e, opts: opts}
	if rec != nil {
		if err := rec.Validate(); err != nil {
			return nil, err
		}
		s.rec = compileRecord(rec)
	}
	return s, nil
}

// Reset makes s a new session for rec (may be nil), as NewSession(rec,
// opts) with s's engine and options would, but keeps the memory of its
// tables for the next texts: for a caller that redacts a stream of
// unrelated texts one session each (ward deid --input-format jsonl), where
// a fresh session's maps were most of what a short note allocated. Nothing
// of the earlier texts stays reachable. On error s is left closed.
func (s *Session) Reset(rec *Record) error {
	var cr *compiledRecord
	if rec != nil {
		if err := rec.Validate(); err != nil {
			s.Close()
			return err
		}
		cr = compileRecord(rec)
	}
	clear(s.entries)
	clear(s.index)
	clear(s.byPH)
	clear(s.shifted)
	clear(s.parts)
	*s = Session{e: s.e, opts: s.opts, rec: cr, entries: s.entries[:0], index: s.index, byPH: s.byPH, shifted: s.shifted, parts: s.parts}
	return nil
}

// Redact replaces every identifier in text with its placeholder. The same
// surface text of the same type always gets the same placeholder within a
// session, numbered by first occurrence, so redacting a whole transcript
// turn by turn gives stable numbers. On any error it returns no text: the
// caller must refuse the input.
func (s *Session) Redact(ctx context.Context, text string) (Result, error) {
	res, _, err := s.redact(ctx, text, nil)
	return res, err
}

// RedactBuffer is Redact with the redacted text written into buf (grown
// if it is too small) instead of fresh memory, for a caller that redacts a
// stream of texts one at a time: Result.Text aliases the returned buffer,
// so it is valid only until that buffer is written again (pass it back
// for the next text). Everything else is as Redact.
func (s *Session) RedactBuffer(ctx context.Context, text string, buf []byte) (Result, []byte, error) {
	return s.redact(ctx, text, buf[:0])
}

// Holds reports whether text holds an identifier the engine is sure of:
// a value of the session's record (a name, a date, a number, an address),
// or one found by its shape (an e-mail or web address, an SSN, a phone
// number, a labelled MRN or other number, a date written with its label,
// a street address) — not a name, place or date inferred only from
// dictionaries and context, which in an enum, an identifier or a model's
// own prose is as often a false alarm. The gateway asks it of the strings
// it sends as they are (tool names and ids, structural fields, object
// keys, thinking blocks) and refuses the call when one holds an
// identifier, since rewriting them would break the request. An error
// means the text could not be checked; the caller must refuse it.
func (s *Session) Holds(ctx context.Context, text string) (bool, error) {
	found := false
	if len(text) <= s.e.cfg.MaxBytes && utf8.ValidString(text) {
		text = Normalize(text)
	}
	err := s.e.withDetector(ctx, text, s.rec, func(d *detector) {
		for _, c := range d.cands {
			if c.prio == prioRecord && d.recordWord(c) || c.prio == prioStruct && sureShape[c.typ] {
				found = true
				return
			}
		}
	})
	return found, err
}

// HasRecord reports whether the session has a record.
func (s *Session) HasRecord() bool { return s.rec != nil }

// HoldsRecord reports whether text holds a value of the session's record
// (false without one) of at least minLen bytes, read as Holds reads it
// but only for the record's values. The gateway asks it of a string it
// sends as it is, with the record's values written as words of their own
// there ("rosalind_vantongeren" split at its underscore): where Holds
// alone would also take the shapes of random ids for identifiers, the
// record's own values are no false alarm once they are long enough (a
// short name, "Wu", is a word of many a random id split apart).
func (s *Session) HoldsRecord(ctx context.Context, text string, minLen int) (bool, error) {
	if s.rec == nil {
		return false, nil
	}
	found := false
	if len(text) <= s.e.cfg.MaxBytes && utf8.ValidString(text) {
		text = Normalize(text)
	}
	err := s.e.withDetector(ctx, text, s.rec, func(d *detector) {
		for _, c := range d.cands {
			if c.prio == prioRecord && c.end-c.start >= minLen && d.recordWord(c) {
				found = true
				return
			}
		}
	})
	return found, err
}

// recordWord reports whether candidate c, a value of the record, is sure
// enough for Holds: anything but a name that is one part of the record's
// names, an English word written in lower case or in capitals, with no
// title or label before it. A record naming Ann Walker makes no identifier
// of a tool's enum "walker" or "ASSISTIVE_DEVICE_WALKER", nor of "rolling
// walker"; "Walker", "ann walker", "Mrs. walker" and "WILL HOPE" (two
// parts) still are. It reads the candidate's tokens once.
func (d *detector) recordWord(c cand) bool {
	if c.typ != TypePerson || d.rec == nil {
		return true
	}
	parts := 0
	for k := d.tokAt(c.start); k < len(d.toks) && int(d.toks[k].start) < c.end; k++ {
		t := d.toks[k]
		if t.kind != tkWord {
			continue
		}
		if _, ok := d.rec.nameParts[d.word(k)]; !ok {
			continue
		}
		parts++
		if parts >= 2 || t.lex&lexSafe == 0 || t.has(fCap) && !t.has(fAllCaps) || d.nameContext(k) {
			return true
		}
		if p := d.prevWord(k); p >= 0 && d.is(p, vTitle|vNameLabel) && !d.is(p, vStopword) {
			return true
		}
	}
	return parts == 0 // (a near miss of a name part, "Walkr": as before)
}

// sureShape are the types whose shape alone (an @, the dashes of an SSN, a
// label such as "MRN") makes them identifiers wherever they are written;
// dates, ages, phone numbers and bare numbers are not among them, since
// version and model names and random ids are made of such digits
// ("web_search_20250305", "claude-sonnet-4-5-20250929", "toolu_01…"). The
// record's own values, those included, always count.
var sureShape = map[Type]bool{TypeEmail: true, TypeURL: true, TypeIP: true, TypeSSN: true, TypeMRN: true,
	TypeCreditCard: true, TypeIBAN: true, TypeAddress: true}

// redact implements Redact (b nil) and RedactBuffer (b the caller's
// buffer, emptied): the redacted text is written into b, or into fresh
// memory when b is too small, and b is returned.
func (s *Session) redact(ctx context.Context, text string, b []byte) (Result, []byte, error) {
	// The values are read from the folded text (a name is the same name
	// with a no-break space inside); the replacements are made in text as
	// given, whose characters outside them stay as they are.
	folded, spans, offs, err := s.e.detectFolded(ctx, text, s.rec)
	if err != nil {
		return Result{}, b, err
	}
	if need := len(text) + len(spans)*8; cap(b) < need {
		b = make([]byte, 0, need)
	}
	res := Result{Spans: make([]Replacement, 0, len(spans))}
	full := fullNames(folded, spans)
	last := 0
	for _, fsp := range spans {
		if fsp.End > len(folded) || fsp.Start >= fsp.End {
			return Result{}, b, ErrInternal
		}
		sp := fsp
		if offs != nil {
			sp = unfold(fsp, text, offs)
		}
		if sp.Start < last || sp.End > len(text) || sp.Start >= sp.End {
			return Result{}, b, ErrInternal // spans must be sorted and disjoint
		}
		if len(s.opts.Keep) > 0 && slices.Contains(s.opts.Keep, sp.Type) {
			continue
		}
		b = append(b, text[last:sp.Start]...)
		ph := s.replacePerson(sp.Type, folded[fsp.Start:fsp.End], full)
		b = append(b, ph...)
		res.Spans = append(res.Spans, Replacement{Span: sp, Placeholder: ph})
		last = sp.End
	}
	b = append(b, text[last:]...)
	// as strings.Builder does: the bytes are not written again while the
	// string lives (Redact's are the string's own; RedactBuffer's caller
	// keeps them until it is done with the result)
	res.Text = unsafe.String(unsafe.SliceData(b), len(b))
	return res, b, nil
}

// replace returns the placeholder (or shifted date) for one surface value.
// fullNames maps the first word of each multi-word person name in spans
// to the name ("Maria" → "Maria Gonzalez"), or to "" when two names share
// the word.
func fullNames(text string, spans []Span) map[string]string {
	var m map[string]string
	for _, sp := range spans {
		v := text[sp.Start:sp.End]
		if sp.Type != TypePerson || !strings.Contains(v, " ") {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		// the first word only: relatives share a surname ("Ms. Martinez"
		// and her father "Ernesto Martinez"), rarely a first name
		p, _, _ := strings.Cut(v, " ")
		if len(p) < 2 || strings.HasSuffix(p, ".") || strings.HasSuffix(p, ",") {
			continue // an initial, "Martinez, Rosa"
		}
		if old, ok := m[p]; ok && old != v {
			m[p] = ""
		} else {
			m[p] = v
		}
	}
	return m
}

// replacePerson is replace, except that a one-word person name that is
// the first word of one full name named in this text or earlier
// in the session shares that name's placeholder ("Maria" and "Maria
// Gonzalez" are both [[PERSON_1]]); re-identification restores the full
// name.
func (s *Session) replacePerson(t Type, surface string, full map[string]string) string {
	if t != TypePerson {
		return s.replace(t, surface)
	}
	key := string(rune('A'+t)) + surface
	if i, ok := s.index[key]; ok {
		return s.entries[i].placeholder
	}
	if strings.Contains(surface, " ") {
		ph := s.replace(t, surface)
		i := s.index[key]
		p, _, _ := strings.Cut(surface, " ")
		if len(p) < 2 || strings.HasSuffix(p, ".") || strings.HasSuffix(p, ",") {
			return ph
		}
		if s.parts == nil {
			s.parts = map[string]int{}
		}
		if old, ok := s.parts[p]; ok && old != i {
			s.parts[p] = -1
		} else {
			s.parts[p] = i
		}
		return ph
	}
	if f := full[surface]; f != "" {
		if i, ok := s.parts[surface]; !ok || i >= 0 && s.entries[i].surface == f {
			ph := s.replacePerson(t, f, nil)
			s.index[key] = s.index[string(rune('A'+t))+f]
			return ph
		}
	}
	if i, ok := s.parts[surface]; ok && i >= 0 && full[surface] == "" && !inFull(full, surface) {
		s.index[key] = i
		return s.entries[i].placeholder
	}
	return s.replace(t, surface)
}

// inFull reports whether w is a part that two names in this text share.
func inFull(full map[string]string, w string) bool {
	_, ok := full[w]
	return ok
}

func (s *Session) replace(t Type, surface string) string {
	key := string(rune('A'+t)) + surface
	if i, ok := s.index[key]; ok {
		return s.entries[i].placeholder
	}
	ph := ""
	if t == TypeDate && s.opts.DateShiftDays != 0 {
		if shifted, ok := shiftDate(surface, s.opts.DateShiftDays); ok {
			if orig, taken := s.shifted[shifted]; !taken || orig == surface {
				ph = shifted
				if s.shifted == nil {
					s.shifted = map[string]string{}
				}
				s.shifted[shifted] = surface
			}
		}
	}
	if t == TypeZIP && s.opts.ZIP3 && len(surface) >= 5 {
		gen := generalizeZIP(surface)
		if _, taken := s.shifted[gen]; !taken {
			ph = gen
			if s.shifted == nil {
				s.shifted = map[string]string{}
			}
			s.shifted[gen] = surface
		}
	}
	if s.index == nil {
		s.index, s.byPH = make(map[string]int, 8), make(map[string]int, 8)
	}
	if ph == "" {
		s.count[t]++
		ph = "[[" + t.String() + "_" + strconv.Itoa(s.count[t]) + "]]"
		s.byPH[ph] = len(s.entries)
	}
	s.index[key] = len(s.entries)
	s.entries = append(s.entries, entry{typ: t, surface: surface, placeholder: ph})
	return ph
}

// Counts returns how many distinct values of each type the session has
// replaced. It holds no PHI and may be logged or audited.
func (s *Session) Counts() map[Type]int {
	m := map[Type]int{}
	for _, e := range s.entries {
		m[e.typ]++
	}
	return m
}

// Close drops the mapping. The session must not be used afterwards.
func (s *Session) Close() {
	for i := range s.entries {
		s.entries[i] = entry{}
	}
	s.entries, s.index, s.byPH, s.shifted, s.rec, s.litIndex = nil, nil, nil, nil, nil, nil
}

// LogValue implements slog.LogValuer with counts only.
func (s *Session) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("phi.Session(values=%d)", len(s.entries)))
}

// restrictedZIP3 are the three-digit ZIP areas with 20,000 people or
// fewer (HHS de-identification guidance, 2000 Census), which Safe Harbor
// requires to be written as 000.
var restrictedZIP3 = set(`036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893`)

// generalizeZIP keeps the first three digits of a ZIP code: "02138-1234"
// → "021XX".
func generalizeZIP(zip string) string {
	z3 := zip[:3]
	if restrictedZIP3[z3] {
		z3 = "000"
	}
	return z3 + "XX"
}

// shiftDate rewrites a full date by days in its own format.
func shiftDate(surface string, days int) (string, bool) {
	for _, l := range dateLayouts {
		t, err := time.Parse(l, surface)
		if err != nil || t.Format(l) != surface {
			continue
		}
		return t.AddDate(0, 0, days).Format(l), true
	}
	return "", false
}
