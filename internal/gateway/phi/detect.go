package phi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// Token states.
const (
	stFree   uint8 = iota
	stPHI          // claimed by a detector
	stKept         // vetoed by a keep rule
	stRegion       // a country or state: kept
)

// Candidate priorities: the higher tier wins a type conflict.
const (
	prioDict    = 1
	prioContext = 2
	prioStruct  = 3
	prioRecord  = 4
)

type cand struct {
	start, end int
	typ        Type
	prio       int8
}

// detector holds the state of one Detect call.
type detector struct {
	e        *Engine
	ctx      context.Context
	text     string
	low      string // ASCII lower case of text, same offsets
	toks     []token
	state    []uint8
	cands    []cand
	rec      *compiledRecord
	lowerDoc bool // the text has (almost) no capitals
	clinical bool // a note in clinical register (see markCaseless)
	// lowerClinical: a clinical note written without capitals, judged as
	// one without case; the few capitals its writer did use are evidence
	lowerClinical bool
	sc            *scratch // the pooled buffers this detector uses
	hints         uint64   // the union of the lexicon flags (and pass hints h*) of the note's words
	ocrSeen       bool     // compound met a letter O, o, l or I glued to digits (ocrNumbers runs)
	sepSeen       bool     // single letters or digit groups in a row with a separator (sepPieces runs)
	ocrSteps      int      // tokens ocrNumbers read around its letters (a test bounds them)
	dottedSteps   int      // bytes scanDotted walked back over (a test bounds them)
	spacedSteps   int      // bytes spacedEmail read around its '@' (a test bounds them)
	handleSteps   int      // bytes underscoreHandle walked back over (a test bounds them)
	sepSteps      int      // tokens sepCallContext read back (a test bounds them)
	triggerSteps  int      // tokens trigger read of the values after its trigger words (a test bounds them)
	triggerRunEnd int      // the end of the last value over maxTriggerValue that trigger read
	work          int      // units of work (tokens, lines) counted by stopped
	err           error    // the request's end, once a check saw it (see stopped)
}

// scratch is the memory of one detection, pooled by the Engine so that
// a stream of notes reuses it instead of allocating (and the kernel
// zeroing fresh pages for) a few bytes per input byte every time. Nothing
// in it outlives the detection: spans hold offsets only.
type scratch struct {
	det    detector // cleared after each detection (see Engine.withDetector)
	cands  []cand
	cache  wordCache
	toks   []token
	low    []byte
	state  []uint8
	mark   []uint8
	typ    []Type
	prio   []int8
	inSpan []bool
	lines  []lineCounts
	pend   []pendingWord
	sink   uint32 // keeps the lexicon's touch loads (see resolvePending)
}

// pendingWord is a word token whose flags the word cache did not hold.
type pendingWord struct {
	i int32
	h uint64
}

// scratchKeep is the largest input whose buffers go back to the pool; the
// buffers of a larger one are left to the collector, so that one huge
// request does not pin its memory.
const scratchKeep = 1 << 20

// grow returns (*p)[:n] zeroed, growing *p if needed.
func grow[T any](p *[]T, n int) []T {
	if cap(*p) < n {
		*p = make([]T, n)
		return *p
	}
	s := (*p)[:n]
	clear(s)
	return s
}

func newDetector(e *Engine, ctx context.Context, text string, cr *compiledRecord, sc *scratch) *detector {
	toks, low, upper := tokenize(text, sc.toks[:0], sc.low)
	sc.toks = toks
	if cap(sc.low) < len(text) {
		sc.low = unsafe.Slice(unsafe.StringData(low), len(low))
	}
	d := &sc.det
	*d = detector{e: e, ctx: ctx, text: text, low: low, toks: toks, rec: cr, sc: sc, cands: sc.cands[:0]}
	d.state = grow(&sc.state, len(toks))
	letters := 0
	// Words recur within a note and across notes ("propofol", "sedated",
	// a name): a cache in front of the lexicon saves the cache misses of
	// its large table on repeats.
	wc := &sc.cache
	wc.startNote()
	var c caseCounts
	// the lines' counts for markCaseless: a line starts at the first token
	// and at every token after a line break
	lines := sc.lines[:0]
	pend := sc.pend[:0]
	var ln lineCounts
	for i := range d.toks {
		if i&(cancelEvery-1) == cancelEvery-1 && d.halted() {
			return d // (run returns d.err before it reads anything)
		}
		t := &d.toks[i]
		if t.flags&fNL != 0 && i > int(ln.from) {
			ln.to = int32(i)
			lines = append(lines, ln)
			ln = lineCounts{from: int32(i)}
		}
		if t.kind == tkWord {
			letters += int(t.end - t.start)
			var f uint64
			hit := false
			if t.flags&fNonASCII == 0 && t.end-t.start <= 8 {
				key := packWord(d.low, t.start, t.end)
				if e := wc.fastSlot(key); e.key == key {
					f, hit = e.flags, true
				}
			}
			if !hit {
				w := d.low[t.start:t.end] // d.word(i), written out (word is not inlined)
				if t.flags&fNonASCII != 0 {
					w = strings.ToLower(w)
				}
				h := fnv1a(w)
				var ok bool
				if f, ok = wc.peek(w, h); !ok {
					// looked up below, with the other misses of the note
					pend = append(pend, pendingWord{int32(i), h})
				} else if t.flags&fNonASCII != 0 {
					f = foldedNames(e.lex, w, f)
				}
			}
			d.hints |= f
			t.lex, t.voc = uint16(f), uint16(f>>16)
			if t.end-t.start == 1 && i >= 4 && !d.sepSeen && d.single(i-2) && d.single(i-4) && d.sepLetterHint(i) {
				d.sepSeen = true // three single letters in a row: "V a n", "R.O.S": see sepPieces
			}
			if t.end-t.start >= 2 {
				c.words++
				ln.words++
				switch {
				case t.has(fAllCaps):
					c.upper++
					ln.upper++
				case !t.has(fCap):
					c.lower++
					ln.lower++
				}
				if t.lex&lexClinical != 0 && t.lex&lexCommon == 0 || t.lex&allowListOnly == lexSafe && d.allowListTerm(i) {
					c.clin++
				}
			}
		}
	}
	if len(d.toks) > int(ln.from) {
		ln.to = int32(len(d.toks))
		lines = append(lines, ln)
	}
	sc.lines = lines
	sc.pend = pend
	c.clin += d.resolvePending(pend)
	d.lowerDoc = letters > 0 && upper*100 < letters
	d.markCaseless(c, lines)
	return d
}

// lookAhead is how many of a note's cache misses resolvePending starts
// loading from the lexicon before it looks the first of them up.
const lookAhead = 16

// resolvePending looks up the words that the word cache did not hold, in
// token order (through the cache, as newDetector's loop would have), sets
// their flags and adds them to d.hints, and returns how many are clinical
// terms that are no English word (caseCounts.clin; their counts of case
// were already taken). Most of them miss the CPU caches in the lexicon's
// large table, once for the slot and once for the word; the look-ups of a
// group are independent, so their slots and then their words are first
// read in one sweep each, which lets the processor wait for those misses
// together instead of one after the other.
func (d *detector) resolvePending(pend []pendingWord) (clin int) {
	lx, wc := d.e.lex, &d.sc.cache
	sink := d.sc.sink
	for len(pend) > 0 {
		g := pend[:min(len(pend), lookAhead)]
		pend = pend[len(g):]
		var v [lookAhead]uint32
		for k, p := range g {
			v[k] = lx.slotAt(p.h)
		}
		for k := range g {
			sink += uint32(lx.blob[int(v[k]&0xffffff)])
		}
		for _, p := range g {
			t := &d.toks[p.i]
			w := d.low[t.start:t.end]
			if t.flags&fNonASCII != 0 {
				w = strings.ToLower(w)
			}
			f := wc.lookup(lx, w, p.h)
			if t.flags&fNonASCII != 0 {
				f = foldedNames(lx, w, f)
			}
			d.hints |= f
			t.lex, t.voc = uint16(f), uint16(f>>16)
			if t.end-t.start >= 2 && (t.lex&lexClinical != 0 && t.lex&lexCommon == 0 || t.lex&allowListOnly == lexSafe && d.allowListTerm(int(p.i))) {
				clin++
			}
		}
	}
	d.sc.sink = sink
	return clin
}

// A word counts towards a note's clinical register (caseCounts.clin) when
// it is a clinical term that is no English word ("propofol", "ogt"), or a
// word that only Philter's clinical allow-list holds: its flags masked by
// allowListOnly are lexSafe alone, and allowListTerm holds ("nts", "ett",
// "pacs", "tf").
const allowListOnly = lexSafe | lexCommon | lexFirst | lexLast | lexCity | lexUSCity | lexRegion | lexPhrase

// allowListTerm reports whether word i, which only the allow-list holds,
// is no word of the vocabulary tables ("mrs", "md") and no contraction's
// stem ("weren't").
func (d *detector) allowListTerm(i int) bool {
	return d.toks[i].voc == 0 && !(d.glued(i) && (d.isPunct(i+1, '\'') || d.raw(i+1) == "’"))
}

// lineCounts counts the words of two letters or more of the line of
// tokens [from, to), as caseCounts does for a text.
type lineCounts struct{ from, to, words, upper, lower int32 }

// caseCounts counts the words of a text of two letters or more: all, in
// upper case, in lower case, and clinical terms that are no English word
// (shorthand, drugs).
type caseCounts struct{ words, upper, lower, clin int }

// markCaseless flags the words of every line whose capitalisation carries
// no information: a line (of three words or more) written mostly in upper
// case, or without any capital, and every short line of a note that is
// written so as a whole. On such lines a capital is no evidence of a name.
func (d *detector) markCaseless(c caseCounts, lines []lineCounts) {
	docWords, docUpper, docLower, clin := c.words, c.upper, c.lower, c.clin
	docUpperCase := docWords >= 3 && docUpper*10 >= docWords*7
	docLowerCase := d.lowerDoc || docWords >= 3 && docLower == docWords
	// a clinical note: at least one word in twenty is a clinical term
	// that is no English word; there an unknown word is far more often
	// shorthand or a misspelling than a name
	// (a shorter note written without capitals needs one in ten)
	d.clinical = docWords >= 25 && clin >= 2 && clin*20 >= docWords || d.lowerDoc && docWords >= 8 && clin >= 3 && clin*10 >= docWords
	if docWords < 25 && !d.lowerDoc {
		return // too short to judge; shape stays evidence
	}
	if d.lowerDoc && d.clinical {
		// a long clinical note written without capitals: judge it like
		// one written in upper case, by context and dictionaries (in
		// lower-case prose, an unknown word is still a possible name)
		d.lowerDoc = false
		d.lowerClinical = true
		for k := range d.toks {
			d.toks[k].flags |= fNoCase
		}
		return
	}
	for _, ln := range lines {
		from, to, words, upper, lower := int(ln.from), int(ln.to), int(ln.words), int(ln.upper), int(ln.lower)
		noCase := false
		if words >= 3 {
			noCase = upper*10 >= words*7 || lower == words
		} else {
			noCase = docUpperCase || docLowerCase
		}
		if noCase {
			for k := from; k < to; k++ {
				d.toks[k].flags |= fNoCase
			}
		}
	}
}

// word returns the lower-case form of token i.
func (d *detector) word(i int) string {
	t := &d.toks[i]
	if t.flags&fNonASCII != 0 {
		return strings.ToLower(d.low[t.start:t.end])
	}
	return d.low[t.start:t.end]
}

// is reports whether token i is a word in the vocabulary table v.
func (d *detector) is(i int, v uint64) bool {
	return i >= 0 && i < len(d.toks) && uint64(d.toks[i].voc)<<16&v != 0
}

// raw returns the text of token i.
func (d *detector) raw(i int) string { return d.text[d.toks[i].start:d.toks[i].end] }

func (d *detector) isPunct(i int, c byte) bool {
	return i >= 0 && i < len(d.toks) && d.toks[i].kind == tkPunct && d.text[d.toks[i].start] == c
}

// glued reports whether token i+1 follows token i with no space between.
func (d *detector) glued(i int) bool {
	return i+1 < len(d.toks) && d.toks[i+1].start == d.toks[i].end
}

// tokAt returns the index of the first token starting at or after byte p.
func (d *detector) tokAt(p int) int {
	i, _ := slices.BinarySearchFunc(d.toks, p, func(t token, p int) int { return int(t.start) - p })
	return i
}

func (d *detector) add(start, end int, t Type, prio int8) {
	if start < end {
		d.cands = append(d.cands, cand{start, end, t, prio})
	}
}

// claim records a candidate covering tokens [i, j) and marks them. The
// claim grows over letters and digits glued to either end, so that no
// scanner leaves half of a code such as "0BA" or "AAAA93" visible.
func (d *detector) claim(i, j int, t Type, prio int8) int {
	if j <= i {
		return i
	}
	i, j = d.wholeRun(i, j)
	d.add(int(d.toks[i].start), int(d.toks[j-1].end), t, prio)
	for k := i; k < j; k++ {
		d.state[k] = stPHI
	}
	return j
}

// claimBytes claims from token i to byte q, which must end a token, and
// returns the index of the next token.
func (d *detector) claimBytes(i, q int, t Type) int {
	j := i
	for j < len(d.toks) && int(d.toks[j].start) < q {
		j++
	}
	if j == i {
		return i
	}
	i2, j2 := d.wholeRun(i, j)
	d.add(int(d.toks[i2].start), max(q, int(d.toks[j2-1].end)), t, prioStruct)
	for k := i2; k < j2; k++ {
		d.state[k] = stPHI
	}
	return j2
}

// wholeRun widens tokens [i, j) over glued letter and digit tokens.
func (d *detector) wholeRun(i, j int) (int, int) {
	alnum := func(k int) bool { return d.toks[k].kind == tkWord || d.toks[k].kind == tkNum }
	for i > 0 && d.toks[i-1].end == d.toks[i].start && alnum(i-1) && alnum(i) {
		i--
	}
	for j < len(d.toks) && d.toks[j].start == d.toks[j-1].end && alnum(j) && alnum(j-1) {
		j++
	}
	return i, j
}

func (d *detector) keep(i, j int) int {
	for k := i; k < j && k < len(d.toks); k++ {
		if d.state[k] == stFree {
			d.state[k] = stKept
		}
	}
	return j
}

// cancelEvery is how many units of work (a token, a line) the detector
// does between two reads of the request's context.
const cancelEvery = 1024

// stopped counts a unit of work and reports whether the request ended: it
// reads the context every cancelEvery units, and once it saw the end it
// stays stopped (d.err), so that a pass can leave its loop and its caller
// return. The token loop and the passes after it call it for each token
// or line they read; a request cancelled during a long pass is refused
// within a few thousand tokens instead of at the end of the detection.
func (d *detector) stopped() bool {
	if d.err != nil {
		return true
	}
	d.work++
	return d.work%cancelEvery == 0 && d.halted()
}

// halted reads the request's context now (between passes) and reports
// whether it ended.
func (d *detector) halted() bool {
	if d.err == nil {
		if err := d.ctx.Err(); err != nil {
			d.err = fmt.Errorf("phi: detection stopped: %w", err)
		}
	}
	return d.err != nil
}

func (d *detector) run() error {
	if d.err != nil {
		return d.err // newDetector saw the request end
	}
	d.rawScan()
	if d.halted() {
		return d.err
	}
	// (a unit per step, not per index: a scanner's claim moves i past
	// many tokens, and a test of i itself could skip every check)
	for i := 0; i < len(d.toks); {
		if d.stopped() {
			return d.err
		}
		if t := &d.toks[i]; d.state[i] != stFree || t.kind == tkWord && d.startsNoScanner(i, t) {
			i++
			continue
		}
		if j := d.structAt(i); j > i {
			i = j
			continue
		}
		i++
	}
	// each pass below also checks within its loops
	d.ocrNumbers()
	if d.halted() {
		return d.err
	}
	d.sepPieces()
	if d.halted() {
		return d.err
	}
	d.csvColumns()
	if d.halted() {
		return d.err
	}
	if d.rec != nil {
		d.recordScan()
		if d.halted() {
			return d.err
		}
	}
	d.names()
	if d.halted() {
		return d.err
	}
	if d.e.cfg.SafeListMode {
		d.safeListScan()
	}
	if d.halted() {
		return d.err
	}
	return nil
}

// safeListScan redacts every free word that is not on the allow-list.
func (d *detector) safeListScan() {
	for i, t := range d.toks {
		if d.stopped() {
			return
		}
		if t.kind == tkWord && d.state[i] == stFree && t.lex&lexSafe == 0 && t.end-t.start > 1 {
			d.claim(i, i+1, TypePerson, prioDict)
		}
	}
}

// spans resolves the candidates into sorted, non-overlapping spans, then
// redacts every other occurrence of a detected value ("Dr. Hope ... Hope
// said") and resolves again.
func (d *detector) spans() []Span {
	first := d.resolve()
	if len(first) == 0 {
		return nil
	}
	if d.propagate(first) {
		first = d.resolve()
	}
	return d.brokenWords(first)
}

// brokenWords widens a span that ends where its word is hyphenated across
// a line, as text pasted from a PDF or a fax breaks it ("Patient: Ruth
// Vander-\nmolen", "Phone: 617-555-\n0142", "MRN 00482-\n7719"): the
// rest of the word at the next line's start (lower-case letters after a
// letter, digits after a digit) is part of the identifier, and a span
// there joins it. A capitalised word or a blank line after the break is a
// new one ("Smith-\nJones" is two names, each found on its own).
func (d *detector) brokenWords(spans []Span) []Span {
	s := d.text
	out := spans[:0]
	for k := 0; k < len(spans); k++ {
		sp := spans[k]
		e := sp.End
		if e+2 < len(s) && s[e] == '-' && e > sp.Start {
			q := e + 1
			if s[q] == '\r' {
				q++
			}
			if q+1 < len(s) && s[q] == '\n' {
				q++
				c, r := s[e-1], q
				switch {
				case isDigit(c):
					for r < len(s) && isDigit(s[r]) {
						r++
					}
				case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
					for r < len(s) && s[r] >= 'a' && s[r] <= 'z' {
						r++
					}
				}
				if r > q && (r == len(s) || !isAlnum(s[r])) {
					sp.End = r
					for k+1 < len(spans) && spans[k+1].Start < r {
						sp.End = max(sp.End, spans[k+1].End)
						k++
					}
				}
			}
		}
		out = append(out, sp)
	}
	return out
}

// propagate adds a candidate at every free occurrence of a detected value,
// on token boundaries and in the same case. It reports whether it added any.
func (d *detector) propagate(spans []Span) bool {
	byFirst := map[string][]Span{}
	var firstByte [256]bool
	inSpan := grow(&d.sc.inSpan, len(d.toks))
	k := 0
	for _, sp := range spans {
		for k < len(d.toks) && int(d.toks[k].end) <= sp.Start {
			k++
		}
		if k == len(d.toks) || int(d.toks[k].start) != sp.Start || sp.End-sp.Start < 2 {
			continue
		}
		for m := k; m < len(d.toks) && int(d.toks[m].start) < sp.End; m++ {
			inSpan[m] = true
		}
		ft := d.text[d.toks[k].start:d.toks[k].end]
		if len(byFirst[ft]) >= 16 {
			continue // bounds the work per token on adversarial input
		}
		byFirst[ft] = append(byFirst[ft], sp)
		firstByte[ft[0]] = true
	}
	added := false
	// A value that starts with punctuation (a year written with an
	// apostrophe, "'94"; a handle, "@A00") is skipped by the token loop
	// below: find its other occurrences by text, wherever they stand
	// ("5'94", "'94'", "0@A00"), so that none stays visible.
	var puncts [16]string
	ny := 0
	for _, sp := range spans {
		if c := d.text[sp.Start]; sp.End-sp.Start < 2 || c >= 0x80 || isAlnum(c) || ny == len(puncts) {
			continue
		}
		v := d.text[sp.Start:sp.End]
		if slices.Contains(puncts[:ny], v) {
			continue
		}
		puncts[ny] = v
		ny++
		for off := 0; ; {
			p := strings.Index(d.text[off:], v)
			if p < 0 {
				break
			}
			p += off
			q := p + len(v)
			if p != sp.Start && (q == len(d.text) || !isAlnum(d.text[q]) || !isAlnum(v[len(v)-1])) {
				d.add(p, q, sp.Type, prioDict)
				added = true
			}
			off = p + 1
		}
	}
	if len(byFirst) == 0 {
		return added
	}
	for i := range d.toks {
		t := &d.toks[i]
		if inSpan[i] || t.kind == tkPunct || !firstByte[d.text[t.start]] {
			continue
		}
		if i > 0 && d.toks[i-1].end == t.start && d.toks[i-1].kind != tkPunct {
			continue // the tail of a compound such as "93AAAA"
		}
		vals := byFirst[d.text[t.start:t.end]]
		for _, sp := range vals {
			v := d.text[sp.Start:sp.End]
			p := int(t.start)
			q := p + len(v)
			if q > len(d.text) || d.text[p:q] != v || (q < len(d.text) && isAlnum(d.text[q]) && isAlnum(v[len(v)-1]) && !(sp.Type == TypeLocation && isDigit(d.text[q]) && !isDigit(v[len(v)-1]))) {
				// (a building glued to its floor is still the building:
				// "QUENBY3" after "to Quenby 3")
				continue
			}
			if sp.Type == TypeAge && d.measurementAt(i, p, q) {
				continue
			}
			d.add(p, q, sp.Type, prioDict)
			added = true
			break
		}
	}
	return added
}

// measurementAt reports whether the digits of token i, text[p:q], are a
// reading rather than an age that recurs: glued to a percentage, a ratio,
// a decimal or a range ("SATS 94-96%", "BP 96/50", "TEMP 96.8"), before a
// unit ("92 kg", "96 MG/DL") or after a vital label ("HR 96", "HR: 96").
// An age over 89 is redacted where it recurs, but the same number as a
// reading names nobody, and redacting it there took the vitals of the
// very patients the rule is for ("92 yo ... SpO2 92%").
func (d *detector) measurementAt(i, p, q int) bool {
	if t := &d.toks[i]; t.kind != tkNum || int(t.end) != q {
		return false
	}
	if q < len(d.text) {
		switch c := d.text[q]; c {
		case '%', '/':
			return true
		case '.', '-':
			if q+1 < len(d.text) && isDigit(d.text[q+1]) {
				return true
			}
		}
	}
	if p > 1 && isDigit(d.text[p-2]) {
		switch d.text[p-1] {
		case '/', '-', '.':
			return true
		}
	}
	if n := i + 1; n < len(d.toks) && d.toks[n].kind == tkWord && d.is(n, vUnit) {
		return true
	}
	k := i - 1
	if k >= 0 && d.isPunct(k, ':') {
		k--
	}
	return k >= 0 && d.toks[k].kind == tkWord && d.is(k, vVitalLabel)
}

// resolve merges the candidates into sorted, non-overlapping spans.
func (d *detector) resolve() []Span {
	if len(d.cands) == 0 {
		return nil
	}
	slices.SortFunc(d.cands, func(a, b cand) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	out := make([]cand, 0, len(d.cands))
	for _, c := range d.cands {
		if n := len(out); n > 0 && c.start < out[n-1].end {
			cur := &out[n-1]
			if c.prio > cur.prio || (c.prio == cur.prio && c.end-c.start > cur.end-cur.start) {
				cur.typ, cur.prio = c.typ, c.prio
			}
			cur.end = max(cur.end, c.end)
			continue
		}
		out = append(out, c)
	}
	// Join neighbours of a joinable type separated only by blanks or
	// a hyphen on one line: "Jeffrey Antonaccio", "Garcia-Lopez".
	joined := out[:1]
	for _, c := range out[1:] {
		cur := &joined[len(joined)-1]
		comma := d.text[cur.end:c.start] == ", "
		if joinable(cur.typ, c.typ) && (d.onlyGap(cur.end, c.start) ||
			comma && cur.typ == TypeDate ||
			comma && cur.typ == TypePerson && cur.prio == prioRecord && c.prio == prioRecord) { // "Martinez, Rosa"
			cur.end = c.end
			if c.prio > cur.prio {
				cur.typ, cur.prio = c.typ, c.prio
			}
			continue
		}
		joined = append(joined, c)
	}
	spans := make([]Span, len(joined))
	for i, c := range joined {
		spans[i] = Span{Start: c.start, End: c.end, Type: c.typ}
	}
	return spans
}

func joinable(a, b Type) bool {
	if a != b {
		return false
	}
	switch a {
	case TypePerson, TypeAddress, TypeLocation, TypeDate, TypeOrganization:
		return true
	}
	return false
}

// onlyGap reports whether text[p:q] is a short run of blanks, or one hyphen
// or comma with blanks, on one line.
func (d *detector) onlyGap(p, q int) bool {
	if q-p > 3 {
		return false
	}
	seps := 0
	for _, c := range []byte(d.text[p:q]) {
		switch c {
		case ' ', '\t':
		case '-':
			seps++
		default:
			return false
		}
	}
	return seps <= 1
}

// foldedNames adds the name lists' flags of a word written with accents
// that the lists hold only without them ("Ramón", "Inés", "Zoë", "Jiří":
// Philter's lists are in ASCII) to flags f, the word's own: a first name
// or a surname with its accents was a word on no list, which a clinical
// note keeps ("Soto-Villanueva, Ramón" left the first name). Only the
// name flags are taken, and only for a word on no other list.
func foldedNames(lx *lexicon, w string, f uint64) uint64 {
	if f&(lexFirst|lexLast|lexCity|lexUSCity|lexRegion|lexSafe|lexCommon|lexClinical) != 0 {
		return f // (a place with its accents stays one: "Kraków", "Paraná")
	}
	var buf [32]byte
	b := buf[:0]
	for _, r := range w {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case r >= 0xC0 && int(r-0xC0) < len(latinFold) && latinFold[r-0xC0] != 0:
			b = append(b, latinFold[r-0xC0])
		default:
			return f
		}
		if len(b) == len(buf) {
			return f
		}
	}
	if len(b) == 0 {
		return f
	}
	// (the look-up keeps no key: the folded word is read in place)
	return f | lx.get(unsafe.String(&b[0], len(b)))&(lexFirst|lexLast)
}

// latinFold maps the lower-case letters of Latin-1 and Latin Extended-A
// (U+00C0 to U+017F) to the ASCII letter they carry; 0 where none (ß, æ,
// œ, ð, þ and the upper case, which the lower-cased word no longer has).
var latinFold = func() (t [0x180 - 0xC0]byte) {
	for r, c := range map[rune]byte{
		'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
		'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o',
		'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y', 'ā': 'a', 'ă': 'a', 'ą': 'a', 'ć': 'c', 'ĉ': 'c',
		'ċ': 'c', 'č': 'c', 'ď': 'd', 'đ': 'd', 'ē': 'e', 'ĕ': 'e', 'ė': 'e', 'ę': 'e', 'ě': 'e', 'ĝ': 'g', 'ğ': 'g',
		'ġ': 'g', 'ģ': 'g', 'ĥ': 'h', 'ħ': 'h', 'ĩ': 'i', 'ī': 'i', 'ĭ': 'i', 'į': 'i', 'ı': 'i', 'ĵ': 'j', 'ķ': 'k',
		'ĺ': 'l', 'ļ': 'l', 'ľ': 'l', 'ł': 'l', 'ń': 'n', 'ņ': 'n', 'ň': 'n', 'ō': 'o', 'ŏ': 'o', 'ő': 'o', 'ŕ': 'r',
		'ŗ': 'r', 'ř': 'r', 'ś': 's', 'ŝ': 's', 'ş': 's', 'š': 's', 'ţ': 't', 'ť': 't', 'ũ': 'u', 'ū': 'u', 'ŭ': 'u',
		'ů': 'u', 'ű': 'u', 'ų': 'u', 'ŵ': 'w', 'ŷ': 'y', 'ź': 'z', 'ż': 'z', 'ž': 'z',
	} {
		t[r-0xC0] = c
	}
	return t
}()
