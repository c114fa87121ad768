package phi

// Numbers and names written in pieces. A writer who wants an identifier
// past a filter, or a chat's user, splits it with a character no scanner
// reads as a number's punctuation ("617~555~0142", "123*45*6789",
// "03'14'1952", "617 . 555 . 0142"),
// or spells it digit by digit (with blanks, after a phone's or an SSN's
// label or a verb of calling) or letter by letter ("6 1 7 5 5 5 0 1 4 2",
// "V a n t o n g e r e n", "R.O.S.A.L.I.N.D"). The other scanners took a
// piece or nothing. sepPieces reads a run of digit groups joined by one
// and the same separator, with the same blanks around each, and claims it
// when its groups have the shape of a North American phone number, a
// social security number or a date with a four-digit year, or, in three
// groups or more glued to separators no number uses (~ ' _ |), seven
// digits or more as an identifier. A run of five or more single letters joined the same way is
// a name when the word they spell is no word on the lists (a name that is
// also a word stays, as a word spelled in a test does: "w o r l d"), nor
// one spelled backwards in a memory test ("d l r o w"), nor the alphabet.

// single reports whether token k is a word of one letter.
func (d *detector) single(k int) bool {
	return d.toks[k].kind == tkWord && d.toks[k].end-d.toks[k].start == 1
}

// sepLetterHint reports whether the single letters i-4, i-2 and i are
// joined by blanks (with a fourth at i-3 or i-1 then) or by one and the
// same dot or dash glued: "V a n t", "R.O.S", "V-a-n".
func (d *detector) sepLetterHint(i int) bool {
	if d.single(i-1) && d.single(i-3) {
		return d.toks[i].start-d.toks[i-1].end == 1 && d.toks[i-1].start-d.toks[i-2].end == 1
	}
	p, q := &d.toks[i-1], &d.toks[i-3]
	if p.kind != tkPunct || q.kind != tkPunct || p.start != d.toks[i-2].end || d.toks[i].start != p.end || q.end != d.toks[i-2].start {
		return false
	}
	c := d.text[p.start]
	return (c == '.' || c == '-') && d.text[q.start] == c
}

// sepHint reports whether number i, with another number two tokens on,
// may start a number in pieces: nine single digits or more apart by
// blanks, or three groups joined by one and the same punctuation with the
// same blanks: a separator no number uses, a colon or a comma between
// three digits each glued, a dot, a slash or a dash with blanks around it
// or between single digits. structAt and numAt call it; it must be cheap.
func (d *detector) sepHint(i int) bool {
	n := len(d.toks)
	if i+4 >= n {
		return false
	}
	t, u, v, w, x := &d.toks[i], &d.toks[i+1], &d.toks[i+2], &d.toks[i+3], &d.toks[i+4]
	if u.kind == tkNum {
		return i+8 < n && t.end-t.start == 1 && u.end-u.start == 1 && v.end-v.start == 1 && w.kind == tkNum && x.kind == tkNum && d.toks[i+8].kind == tkNum
	}
	if u.kind != tkPunct || w.kind != tkPunct || x.kind != tkNum || d.text[u.start:u.end] != d.text[w.start:w.end] {
		return false
	}
	gap := u.start - t.end
	if gap > 1 || v.start-u.end != gap || w.start-v.end != gap || x.start-w.end != gap {
		return false
	}
	switch c := d.text[u.start]; c {
	case '~', '\'', '_', '|', '*':
		return true
	case ':', ',':
		return gap == 0 && t.end-t.start == 3 && v.end-v.start == 3
	case '.', '/', '-':
		return gap == 1 || t.end-t.start == 1 && v.end-v.start == 1 && x.end-x.start == 1
	default:
		return c >= 0x80 // a dash of another width
	}
}

// sepOdd reports whether separator s is one no ordinary number uses.
func sepOdd(s string) bool {
	switch s {
	case "~", "'", "_", "|":
		return true
	}
	return false // "*" joins a product too: "1000*1000"
}

// sepOK reports whether s may join the groups of a number split in pieces.
func sepOK(s string, spaced bool) bool {
	switch s {
	case "~", "*", "'", "_", "|", "/", ".", "-", "–", "—":
		return true
	case ":", ",":
		return !spaced // "617:555:0142"; "12, 10, 1952" is a list
	}
	return false
}

// sepPieces is the pass; it runs after the other number scanners and
// before names, and only in a note where newDetector met three single
// letters in a row, or structAt a separator or numAt a single digit where
// sepHint accepts the number before it.
func (d *detector) sepPieces() {
	if !d.sepSeen {
		return
	}
	n := len(d.toks)
	for i := 0; i+2 < n && !d.stopped(); i++ {
		t := &d.toks[i]
		switch {
		case t.kind == tkNum:
			if d.toks[i+1].kind == tkPunct || t.end-t.start == 1 && d.toks[i+1].kind == tkNum {
				i = d.sepNumber(i)
			}
		case t.kind == tkWord && t.end-t.start == 1:
			if u := &d.toks[i+1]; u.kind == tkWord && u.end-u.start == 1 || u.kind == tkPunct && u.start == t.end {
				i = d.sepLetters(i)
			}
		}
	}
}

// sepRun collects the run of tokens of kind k starting at token i, each
// one byte long when single, joined by one and the same separator (a
// punctuation rune glued to both sides or with one blank on each, or one
// blank alone), all on one line. It returns the indexes of the pieces and
// the separator, "" for a blank.
func (d *detector) sepRun(i int, k tokKind, single bool) (pieces []int, sep string, spaced bool) {
	pieces = append(pieces, i)
	n := len(d.toks)
	first := true
	for j := i; j+1 < n && len(pieces) < 16; {
		nx := &d.toks[j+1]
		if nx.has(fNL) {
			break
		}
		gap := nx.start - d.toks[j].end
		var s string
		var sp bool
		next := j + 1
		if nx.kind == tkPunct {
			if j+2 >= n || d.toks[j+2].has(fNL) {
				break
			}
			g2 := d.toks[j+2].start - nx.end
			if gap != g2 || gap > 1 {
				break
			}
			s, sp, next = d.text[nx.start:nx.end], gap == 1, j+2
		} else if gap == 1 && single {
			s, sp = "", false
		} else {
			break
		}
		if gap == 1 && !isSpaceRange(d.text, int(d.toks[j].end), int(nx.start)) {
			break
		}
		nt := &d.toks[next]
		if nt.kind != k || single && nt.end-nt.start != 1 {
			break
		}
		if first {
			sep, spaced, first = s, sp, false
		} else if s != sep || sp != spaced {
			break
		}
		pieces = append(pieces, next)
		j = next
	}
	return pieces, sep, spaced
}

// sepCallContext reports whether a phone's or an SSN's label or a verb of
// calling is among the four words before token i: digits spelled with
// blanks alone are as often a row of scores.
func (d *detector) sepCallContext(i int) bool {
	// (at most twelve tokens back: a run of single digits "1 1 1 …" holds no
	// word, and reading it back from each of its digits was quadratic)
	for k, words := i-1, 0; k >= 0 && k >= i-12 && words < 4 && !d.toks[k+1].has(fNL); k-- {
		d.sepSteps++
		if d.toks[k].kind != tkWord {
			continue
		}
		words++
		w := d.word(k)
		switch idTriggers[w] {
		case TypePhone, TypeFax, TypeSSN:
			return true
		}
		switch w {
		case "text", "txt", "callback", "dial", "reach", "number", "ssn", "social":
			return true
		}
	}
	return false
}

// isSpaceRange reports whether text[a:b] is one blank.
func isSpaceRange(s string, a, b int) bool {
	return b == a+1 && s[a] == ' '
}

// sepNumber tries the run of digit groups at token i and returns the last
// token it consumed.
func (d *detector) sepNumber(i int) int {
	// not in the middle of a run, nor after a decimal point
	if i >= 2 && d.toks[i-1].kind == tkPunct && d.toks[i-2].kind == tkNum && !d.toks[i-1].has(fNL) && d.toks[i-1].start-d.toks[i-2].end <= 1 {
		if c := d.text[d.toks[i-1].start]; c != '(' && c != '+' {
			return i
		}
	}
	if i >= 1 && d.toks[i-1].end == d.toks[i].start && d.toks[i-1].kind == tkWord {
		return i
	}
	single := d.toks[i].end-d.toks[i].start == 1
	pieces, sep, spaced := d.sepRun(i, tkNum, false)
	if len(pieces) < 2 && single {
		pieces, sep, spaced = d.sepRun(i, tkNum, true)
	}
	if len(pieces) < 2 {
		return i
	}
	last := pieces[len(pieces)-1]
	// nothing glued after it that continues a number
	if e := last + 1; e < len(d.toks) && d.toks[e].start == d.toks[last].end {
		if d.toks[e].kind == tkWord || e+1 < len(d.toks) && d.toks[e].kind == tkPunct && d.toks[e+1].start == d.toks[e].end && d.toks[e+1].kind == tkNum {
			return last
		}
	}
	allPHI := true
	var digits []byte
	lens := make([]int, 0, len(pieces))
	for _, k := range pieces {
		if d.state[k] != stPHI {
			allPHI = false
		}
		digits = append(digits, d.text[d.toks[k].start:d.toks[k].end]...)
		lens = append(lens, int(d.toks[k].end-d.toks[k].start))
	}
	if allPHI && d.oneCand(int(d.toks[i].start), int(d.toks[last].end)) {
		return last // one scanner took it whole
	}
	singles := true
	for _, l := range lens {
		singles = singles && l == 1
	}
	if sep == "" && (!singles || !d.sepCallContext(i)) {
		return i // a row of scores: "AIMS items 2 3 4 2 2 3 1 2 3 4"
	}
	if !sepOK(sep, spaced) && !(sep == "" || singles && !spaced && (sep == "." || sep == "-")) {
		return last
	}
	first := i
	if first > 0 && d.isPunct(first-1, '+') && d.toks[first-1].end == d.toks[first].start {
		first--
	}
	var typ Type
	switch {
	case singles:
		switch {
		case len(digits) == 10 && nanpDigits(string(digits)),
			len(digits) == 11 && digits[0] == '1' && nanpDigits(string(digits[1:])):
			typ = TypePhone
		case len(digits) == 9 && ssnDigits(string(digits)):
			typ = TypeSSN
		}
	case sepShape(lens, 1, 3, 3, 4) && digits[0] == '1' && nanpDigits(string(digits[1:])),
		sepShape(lens, 3, 3, 4) && nanpDigits(string(digits)):
		typ = TypePhone
	case sepShape(lens, 3, 2, 4) && ssnDigits(string(digits)):
		typ = TypeSSN
	case len(lens) == 3 && sepDate(d, pieces):
		typ = TypeDate
	case sepOdd(sep) && !spaced && len(lens) >= 3 && len(digits) >= 7:
		typ = TypeID
	}
	if typ == 0 {
		return last
	}
	d.add(int(d.toks[first].start), int(d.toks[last].end), typ, prioStruct)
	for k := first; k <= last; k++ {
		d.state[k] = stPHI
	}
	return last
}

// oneCand reports whether one candidate covers bytes [a, b).
func (d *detector) oneCand(a, b int) bool {
	for k := len(d.cands) - 1; k >= 0; k-- {
		if c := &d.cands[k]; c.start <= a && c.end >= b {
			return true
		}
	}
	return false
}

func sepShape(lens []int, want ...int) bool {
	if len(lens) != len(want) {
		return false
	}
	for k := range lens {
		if lens[k] != want[k] {
			return false
		}
	}
	return true
}

// nanpDigits reports whether ten digits may be a North American number:
// area code and exchange start with 2 to 9.
func nanpDigits(s string) bool {
	return len(s) == 10 && s[0] >= '2' && s[3] >= '2'
}

// ssnDigits reports whether nine digits may be a social security number.
func ssnDigits(s string) bool {
	return len(s) == 9 && s[0] != '9' && s[:3] != "000" && s[:3] != "666" && s[3:5] != "00" && s[5:] != "0000"
}

// sepDate reports whether three groups are a month, a day and a
// four-digit year from 1900 to 2099, either order of month and day, or a
// year first.
func sepDate(d *detector, pieces []int) bool {
	g := func(k int) string { return d.text[d.toks[pieces[k]].start:d.toks[pieces[k]].end] }
	a, b, c := g(0), g(1), g(2)
	year := func(s string) bool { return len(s) == 4 && (s[:2] == "19" || s[:2] == "20") }
	md := func(m, dd string) bool {
		if len(m) > 2 || len(dd) > 2 {
			return false
		}
		mi, di := atoi(m), atoi(dd)
		return mi >= 1 && mi <= 12 && di >= 1 && di <= 31
	}
	switch {
	case year(c):
		return md(a, b) || md(b, a)
	case year(a):
		return md(b, c)
	}
	return false
}

// sepLetters tries the run of single letters at token i and returns the
// last token it consumed.
func (d *detector) sepLetters(i int) int {
	if i >= 1 && d.toks[i-1].end == d.toks[i].start && d.toks[i-1].kind != tkPunct {
		return i
	}
	pieces, sep, spaced := d.sepRun(i, tkWord, true)
	if len(pieces) < 5 {
		return pieces[len(pieces)-1]
	}
	last := pieces[len(pieces)-1]
	if e := last + 1; e < len(d.toks) && d.toks[e].start == d.toks[last].end && d.toks[e].kind != tkPunct {
		return last
	}
	if !(sep == "" || sep == "." || sep == "-") || spaced && sep != "" {
		return last
	}
	w := make([]byte, 0, len(pieces))
	abc := true
	for n, k := range pieces {
		c := d.text[d.toks[k].start] | 0x20
		if n > 0 && c != w[n-1]+1 {
			abc = false
		}
		w = append(w, c)
	}
	if abc {
		return last // "a b c d e": the alphabet
	}
	f := d.e.lex.get(string(w))
	rev := make([]byte, len(w))
	for k := range w {
		rev[len(w)-1-k] = w[k]
	}
	r := d.e.lex.get(string(rev))
	word := func(f uint64) bool { return f&(lexSafe|lexCommon|lexClinical) != 0 }
	if word(f) || word(r) {
		return last // a word spelled, or spelled backwards ("d l r o w")
	}
	d.add(int(d.toks[i].start), int(d.toks[last].end), TypePerson, prioStruct)
	for k := i; k <= last; k++ {
		d.state[k] = stPHI
	}
	return last
}
