package phi

import (
	"maps"
	"slices"
	"strings"
)

// Reidentify puts the session's identifiers back into a reply. It accepts
// the exact placeholders and the forms models produce: lost brackets
// (PERSON_1), one bracket ([PERSON_1]), lower case with brackets or an
// underscore ([[person_1]], person_1), trailing brackets only (PERSON_1]])
// and possessives ([[PERSON_1]]'s); for names, places, addresses and
// organisations also a space (PERSON 1). Placeholders the session did not
// issue are left as they are and returned in unknown (placeholder text
// only, no PHI); they are never guessed. Shifted dates and generalised ZIP
// codes the session wrote are restored.
func (s *Session) Reidentify(text string) (out string, unknown []string) {
	var b strings.Builder
	var r reidState
	s.reidentify(&b, &r, text, true, &unknown)
	return b.String(), unknown
}

// Stream re-identifies a reply that arrives in chunks. It holds back the
// tail of a chunk that may be the start of a placeholder until the next
// chunk shows whether it is one, so its output equals Reidentify of the
// whole reply however the reply is split.
type Stream struct {
	s       *Session
	pending string
	st      reidState
	unknown []string
}

type reidState struct {
	prev byte // the last byte written, for word boundaries
}

// NewStream starts re-identifying one streamed reply.
func (s *Session) NewStream() *Stream { return &Stream{s: s} }

// Write consumes the next chunk and returns the text that is now final.
func (st *Stream) Write(chunk string) string {
	var b strings.Builder
	buf := st.pending + chunk
	n := st.s.reidentify(&b, &st.st, buf, false, &st.unknown)
	st.pending = buf[n:]
	return b.String()
}

// Close returns what is still held back, re-identified, and the unknown
// placeholders seen in the whole reply.
func (st *Stream) Close() (string, []string) {
	var b strings.Builder
	st.s.reidentify(&b, &st.st, st.pending, true, &st.unknown)
	st.pending = ""
	return b.String(), st.unknown
}

type matchStatus uint8

const (
	noMatch matchStatus = iota
	matched
	needMore
)

// reidentify writes the re-identified text to b and returns how many bytes
// of text it consumed; without final it stops before a possible
// placeholder that reaches the end of text.
func (s *Session) reidentify(b *strings.Builder, r *reidState, text string, final bool, unknown *[]string) int {
	last := 0
	for p := 0; p < len(text); p++ {
		c := text[p]
		if c != '[' && !isASCIILetter(c) && c < 0x80 && !isDigit(c) {
			continue
		}
		prev := r.prev
		if p > 0 {
			prev = text[p-1]
		}
		end, repl, st := s.matchAt(text, p, final, prev)
		switch st {
		case needMore:
			b.WriteString(text[last:p])
			if p > last {
				r.prev = text[p-1]
			}
			return p
		case matched:
			b.WriteString(text[last:p])
			if repl == "" { // unknown: keep verbatim, report
				*unknown = appendUnique(*unknown, canonicalPH(text[p:end]))
				b.WriteString(text[p:end])
			} else {
				b.WriteString(repl)
			}
			r.prev = text[end-1]
			last = end
			p = end - 1
		}
	}
	b.WriteString(text[last:])
	if len(text) > last {
		r.prev = text[len(text)-1]
	}
	return len(text)
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// canonicalPH normalises a placeholder form to [[TYPE_N]].
func canonicalPH(form string) string {
	f := strings.Trim(form, "[]")
	f = strings.ToUpper(f)
	i := strings.LastIndexAny(f, "_ -")
	if i < 0 {
		return "[[" + f + "]]"
	}
	return "[[" + f[:i] + "_" + f[i+1:] + "]]"
}

// maxTypeName is the length of the longest type name.
var maxTypeName = func() int {
	n := 0
	for _, t := range typeNames {
		n = max(n, len(t))
	}
	return n
}()

// matchAt tries to read a placeholder (or a shifted date) at p. prev is
// the byte before p. repl is the original text, or "" for a placeholder
// the session did not issue.
func (s *Session) matchAt(text string, p int, final bool, prev byte) (end int, repl string, st matchStatus) {
	if s != nil && len(s.shifted) > 0 && (isDigit(text[p]) || isASCIILetter(text[p])) {
		if e, orig, st := s.matchShifted(text, p, final, prev); st != noMatch {
			return e, orig, st
		}
	}
	if isDigit(text[p]) || text[p] >= 0x80 {
		return 0, "", noMatch
	}
	q := p
	nb := 0
	for nb < 2 && q < len(text) && text[q] == '[' {
		nb++
		q++
	}
	if nb == 0 && isWordByte(prev) {
		return 0, "", noMatch
	}
	if q == len(text) {
		if nb > 0 && !final {
			return 0, "", needMore
		}
		return 0, "", noMatch
	}
	// the type word: letters and underscores
	r := q
	for r < len(text) && (isASCIILetter(text[r]) || text[r] == '_') && r-q <= maxTypeName+1 {
		r++
	}
	if r == len(text) && !final {
		if isTypePrefix(text[q:r]) {
			return 0, "", needMore
		}
		return 0, "", noMatch
	}
	name := text[q:r]
	sep := byte(0)
	if strings.HasSuffix(name, "_") {
		name = name[:len(name)-1]
		sep = '_'
	} else if r < len(text) && (text[r] == ' ' || text[r] == '-') {
		sep = text[r]
		r++
	}
	typ := parseTypeFold(name)
	if typ == TypeNone {
		return 0, "", noMatch
	}
	upper := isUpperASCII(name)
	if nb == 0 && !(upper || sep == '_') {
		return 0, "", noMatch // "person 1" in prose is not a placeholder
	}
	if sep == 0 && nb == 0 {
		return 0, "", noMatch
	}
	if nb == 0 && sep != '_' && !spaceFormTypes[typ] {
		return 0, "", noMatch // "SSN 123-45-6789", "IP 10.0.0.1" are labels, not placeholders
	}
	dg := r
	for dg < len(text) && isDigit(text[dg]) && dg-r < 7 {
		dg++
	}
	if dg == len(text) && !final {
		return 0, "", needMore
	}
	if dg == r {
		return 0, "", noMatch
	}
	e := dg
	for k := 0; k < nb; k++ {
		if e == len(text) {
			if !final {
				return 0, "", needMore
			}
			break
		}
		if text[e] != ']' {
			break
		}
		e++
	}
	if nb == 0 {
		if e < len(text) && isWordByte(text[e]) {
			return 0, "", noMatch
		}
		// a "]]" the model kept while dropping the opening brackets
		for k := 0; k < 2; k++ {
			if e == len(text) {
				if !final {
					return 0, "", needMore
				}
				break
			}
			if text[e] != ']' {
				break
			}
			e++
		}
	}
	ph := "[[" + typ.String() + "_" + text[r:dg] + "]]"
	if s == nil {
		return e, ph, matched // placeholderForms: any form counts
	}
	if i, ok := s.byPH[ph]; ok {
		return e, s.entries[i].surface, matched
	}
	if nb == 0 && sep != '_' {
		return 0, "", noMatch // "ID 12345" in prose: restore only if issued
	}
	return e, "", matched
}

// placeholderForms finds text in an input that re-identification would
// read as a placeholder ("[[PERSON_1]]", "ID 1"). Redact replaces such
// text like an identifier, so that it comes back verbatim and is never
// mistaken for a value the session issued.
func placeholderForms(text string, add func(p, q int)) {
	if strings.IndexByte(text, '[') < 0 && strings.IndexByte(text, '_') < 0 {
		// without brackets or '_', a form is a type name in capitals, a
		// blank or hyphen and a digit ("PERSON 1"): most notes have none
		// of the names, and a few searches for them cost less than
		// looking at every byte
		if !containsFormName(text) {
			return
		}
	}
	var s *Session
	last := 0 // the end of the last form found
	// A form starts with '[' or is a short word (letters and '_') that
	// ends in '_', ' ' or '-' before a digit: look for those ends, then
	// back for the word's start, so that most bytes cost one comparison.
	for q := 0; q < len(text); q++ {
		var p int
		switch c := text[q]; {
		case c == '[':
			p = q
		case (c == '_' && (isASCIILetter(text[max(q, 1)-1]) || text[max(q, 1)-1] == '_') ||
			// a form with a blank or a hyphen names a type that ends in N
			// or S, in capitals (PERSON, LOCATION, ORGANIZATION, ADDRESS;
			// see spaceFormTypes): "BP 120" costs two comparisons
			(c == ' ' || c == '-') && (text[max(q, 1)-1] == 'N' || text[max(q, 1)-1] == 'S')) && q > 0 && q+1 < len(text) && isDigit(text[q+1]):
			p = q
			if c == '_' {
				p = q + 1 // the '_' belongs to the word
			}
			for p > 0 && q-p < 14 && (isASCIILetter(text[p-1]) || text[p-1] == '_') {
				p--
			}
			if p > 0 && isWordByte(text[p-1]) {
				continue // no form starts inside a word (or too long a word)
			}
		default:
			continue
		}
		if p < last || !maybeForm(text, p) {
			continue
		}
		var prev byte
		if p > 0 {
			prev = text[p-1]
		}
		if e, _, st := s.matchAt(text, p, true, prev); st == matched {
			add(p, e)
			last = e
			q = max(q, e-1)
		}
	}
}

// maybeForm is a cheap test that a complete placeholder form may start at
// p: brackets, or a short word followed by '_', ' ' or '-' and a digit.
func maybeForm(text string, p int) bool {
	if text[p] == '[' {
		return true
	}
	if p > 0 && isWordByte(text[p-1]) {
		return false
	}
	q := p
	for q < len(text) && q-p <= 13 && (isASCIILetter(text[q]) || text[q] == '_') {
		q++
	}
	if q-p < 2 || q >= len(text) {
		return false
	}
	if text[q-1] == '_' {
		return isDigit(text[q]) && parseTypeFold(text[p:q-1]) != TypeNone
	}
	if (text[q] == ' ' || text[q] == '-') && q+1 < len(text) && isDigit(text[q+1]) && isUpperASCII(text[p:q]) {
		return spaceFormTypes[ParseType(text[p:q])]
	}
	return false
}

// spaceFormTypes may be restored from the bracket-less "PERSON 1" form;
// other type names are ordinary labels in prose ("MRN 12345").
// spaceFormTypes are the types whose placeholders models also write with a
// blank ("PERSON 1"); placeholderForms relies on each name ending in N or S.
var spaceFormTypes = map[Type]bool{TypePerson: true, TypeLocation: true, TypeAddress: true, TypeOrganization: true}

// spaceFormNames are the names of spaceFormTypes (a test checks).
var spaceFormNames = []string{"PERSON", "LOCATION", "ADDRESS", "ORGANIZATION"}

// containsFormName reports whether text contains one of spaceFormNames.
// A strings.Contains per name (the runtime's vector search) is faster
// than one pass that stops at every capital P, L, A or O of a note
// written in capitals: 0.9 against 1.5 ms over the PhysioNet dev notes.
func containsFormName(text string) bool {
	for _, n := range spaceFormNames {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

func isTypePrefix(w string) bool {
	u := strings.ToUpper(strings.TrimSuffix(w, "_"))
	for _, n := range typeNames[1:] {
		if strings.HasPrefix(n, u) || (strings.HasPrefix(u, n) && len(u) == len(n)) {
			return true
		}
	}
	return w == ""
}

// matchShifted matches a shifted date or generalised ZIP the session wrote.
// It looks each of the literals' lengths up in the session's map, the
// longest first, so that a position costs a few look-ups however many
// dates the session shifted; it compared each date that shares the
// position's first bytes ("01/" for all of January), and at the end of a
// streamed chunk all of them, the product of a request's dates and its
// reply's length.
func (s *Session) matchShifted(text string, p int, final bool, prev byte) (int, string, matchStatus) {
	if isAlnum(prev) {
		return 0, "", noMatch
	}
	rest := text[p:]
	lx := s.literalIndex()
	if !final && len(rest) < lx.maxLen && lx.extends(rest) {
		return 0, "", needMore // rest may be the start of a literal
	}
	if len(rest) < literalKey || !lx.heads[rest[:literalKey]] {
		return 0, "", noMatch
	}
	for _, l := range lx.lens {
		if l > len(rest) {
			continue
		}
		lx.steps++
		orig, ok := s.shifted[rest[:l]]
		if !ok {
			continue
		}
		e := p + l
		if e == len(text) && !final {
			return 0, "", needMore
		}
		if e < len(text) && isAlnum(text[e]) {
			continue
		}
		return e, orig, matched
	}
	return 0, "", noMatch
}

// literalKey is the prefix length that indexes the session's literals.
const literalKey = 3

// literalIndex is the session's shifted literals arranged for matchShifted.
type literalIndex struct {
	heads  map[string]bool // the literals' first literalKey bytes
	lens   []int           // the literals' lengths, longest first
	sorted []string        // the literals in order, for extends
	maxLen int
	steps  int // literals compared (a test bounds them)
}

// extends reports whether some literal is longer than rest and starts
// with it (a binary search: the literals that start with rest follow it
// in order).
func (lx *literalIndex) extends(rest string) bool {
	k, _ := slices.BinarySearch(lx.sorted, rest)
	for ; k < len(lx.sorted) && strings.HasPrefix(lx.sorted[k], rest); k++ {
		lx.steps++
		if len(lx.sorted[k]) > len(rest) {
			return true
		}
	}
	return false
}

// literalIndex indexes the shifted literals, again when they changed.
func (s *Session) literalIndex() *literalIndex {
	if s.litIndex == nil || s.litCount != len(s.shifted) {
		lx := &literalIndex{heads: map[string]bool{}, sorted: slices.Sorted(maps.Keys(s.shifted))}
		for _, sh := range lx.sorted {
			if len(sh) >= literalKey {
				lx.heads[sh[:literalKey]] = true
			}
			if !slices.Contains(lx.lens, len(sh)) {
				lx.lens = append(lx.lens, len(sh))
			}
			lx.maxLen = max(lx.maxLen, len(sh))
		}
		slices.Sort(lx.lens)
		slices.Reverse(lx.lens)
		s.litIndex, s.litCount = lx, len(s.shifted)
	}
	return s.litIndex
}
