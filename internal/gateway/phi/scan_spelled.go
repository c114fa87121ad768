package phi

import "strings"

// E-mail addresses spelled out so that a machine will not read them, as
// patients write them in portal messages and staff copy them into notes:
// "jane dot doe at gmail dot com", "rosa(at)example(dot)org", "k.tan [at]
// clinic [dot] org". The domain must spell at least one of its dots, and
// end in a top-level domain; the local part is one to four words or
// numbers joined by dots (spelled or not) or underscores, none a
// stopword ("write me at gmail dot com" names nobody).

// spelledEmails claims the spelled-out e-mail addresses of the note. It
// runs only in a note that holds the word "dot" (a pass hint: searching
// every note's text for it cost about 1% of the engine's instructions).
func (d *detector) spelledEmails() {
	if d.hints&hDot == 0 {
		return
	}
	for i := 1; i+2 < len(d.toks); i++ {
		if d.toks[i].kind != tkWord || d.toks[i].end-d.toks[i].start != 2 || d.word(i) != "at" {
			continue
		}
		at, after := i, i+1
		if d.bracketed(i) {
			at, after = i-1, i+2
		}
		end, ok := d.spelledDomain(after)
		if !ok {
			continue
		}
		start := d.spelledLocal(at - 1)
		if start < 0 {
			continue
		}
		d.claimRange(int(d.toks[start].start), int(d.toks[end-1].end), TypeEmail)
		i = end - 1
	}
}

// bracketed reports whether word k stands alone in parentheses or square
// brackets glued to it: "(at)", "[dot]".
func (d *detector) bracketed(k int) bool {
	return k >= 1 && k+1 < len(d.toks) && d.glued(k-1) && d.glued(k) &&
		(d.isPunct(k-1, '(') && d.isPunct(k+1, ')') || d.isPunct(k-1, '[') && d.isPunct(k+1, ']'))
}

// spelledSep returns the token after a dot between two parts of an
// address at token k ("dot", "(dot)", "[dot]", or a '.' glued to both
// sides, or an underscore too in a local part) and whether it was spelled,
// or k.
func (d *detector) spelledSep(k int, local bool) (int, bool) {
	if k+1 >= len(d.toks) {
		return k, false
	}
	t := d.toks[k]
	switch {
	case t.kind == tkWord && t.end-t.start == 3 && d.word(k) == "dot" && !d.glued(k-1) && !d.glued(k):
		return k + 1, true
	case local && t.kind == tkWord && (t.end-t.start == 10 && d.word(k) == "underscore" || t.end-t.start == 4 && d.word(k) == "dash") && !d.glued(k-1) && !d.glued(k):
		return k + 1, true // "rosa underscore perez at gmail dot com"
	case (d.isPunct(k, '(') || d.isPunct(k, '[')) && k+2 < len(d.toks) && d.toks[k+1].kind == tkWord && d.word(k+1) == "dot" && d.bracketed(k+1):
		return k + 3, true
	case (d.isPunct(k, '.') || local && d.isPunct(k, '_')) && k > 0 && d.glued(k-1) && d.glued(k):
		return k + 1, false
	}
	return k, false
}

// spelledDomain matches the domain of a spelled-out address from token j:
// labels joined by dots, one of them spelled, the last a top-level
// domain. It returns the token after it.
func (d *detector) spelledDomain(j int) (int, bool) {
	spelled := false
	for parts := 0; parts < 5; parts++ {
		if j >= len(d.toks) || d.toks[j].kind != tkWord && d.toks[j].kind != tkNum || d.toks[j].has(fNL) {
			return 0, false
		}
		k, sp := d.spelledSep(j+1, false)
		if k == j+1 {
			return j + 1, spelled && parts > 0 && tlds[d.word(j)]
		}
		spelled = spelled || sp
		j = k
	}
	return 0, false
}

// spelledLocal returns the first token of the local part of a spelled-out
// address that ends at token k, or -1.
func (d *detector) spelledLocal(k int) int {
	if k < 0 || d.toks[k].kind != tkWord && d.toks[k].kind != tkNum || d.is(k, vStopword) {
		return -1
	}
	start := k
	for parts := 1; parts < 4; parts++ {
		// a separator ends at start: step back over it and its word
		found := false
		for w := 1; w <= 3 && start-w-1 >= 0; w++ {
			if e, _ := d.spelledSep(start-w, true); e == start && (d.toks[start-w-1].kind == tkWord || d.toks[start-w-1].kind == tkNum) &&
				!d.is(start-w-1, vStopword) && !d.toks[start-w].has(fNL) {
				start, found = start-w-1, true
				break
			}
		}
		if !found {
			break
		}
	}
	return start
}

// spacedEmail returns the e-mail address written with blanks around its
// '@' or its dots, the '@' at at ("j o h n @ example . com", "rosa.perez @
// gmail.com", "jdoe@example . org"), as a writer spaces one out to get it
// past a filter: a domain of two to five labels whose last is a top-level
// domain, and a local part, one word or letters parted by single blanks
// that is no stopword ("write me @ gmail . com" names nobody). Each side
// is read over at most 64 bytes, so a run of '@' stays linear.
func (d *detector) spacedEmail(at int) (p, q int, ok bool) {
	s, low := d.text, d.low
	blanks := func(k, dir int) int { // past at most three blanks
		for n := 0; n < 3 && k >= 0 && k < len(s) && s[k] == ' '; n++ {
			k += dir
		}
		return k
	}
	spaced := at > 0 && s[at-1] == ' ' || at+1 < len(s) && s[at+1] == ' '
	// the domain
	k, labels, last, lastA := blanks(at+1, 1), 0, "", 0
	for labels < 5 {
		a, letter := k, false
		for k < len(s) && k-a < 64 && (isAlnum(s[k]) || s[k] == '-' && k > a) {
			letter = letter || isASCIILetter(s[k])
			k++
			d.spacedSteps++
		}
		if k == a || !letter {
			return 0, 0, false // (no label of digits alone: "@ 1400")
		}
		labels, last, lastA, q = labels+1, low[a:k], a, k
		m := blanks(k, 1)
		if m >= len(s) || s[m] != '.' {
			break
		}
		// a dot glued on both sides or spaced on both: not a sentence's
		// end ("@ 1400. Pt resting")
		if (m > k) != (m+1 < len(s) && s[m+1] == ' ') {
			break
		}
		spaced = spaced || m > k
		k = blanks(m+1, 1)
		if k >= len(s) || !isAlnum(s[k]) {
			break
		}
	}
	// a top-level domain in lower case ("clinic . Pt" ends a sentence), or
	// in capitals after a glued dot ("ROSA.PEREZ @ GMAIL.COM"), or a
	// generic one in capitals after a spaced dot where the whole address is
	// in capitals ("J O H N @ EXAMPLE . COM"; not "ICU . PT", a country's)
	tld := s[lastA:q]
	upperTLD := tld != last && tld == strings.ToUpper(last)
	if labels < 2 || !tlds[last] || !spaced || tld != last && !(upperTLD && (s[lastA-1] == '.' || genericTLDs[last])) {
		return 0, 0, false
	}
	// the local part: a word glued together, or single letters and digits
	// parted by single blanks
	e := blanks(at-1, -1)
	if e < 0 || !isAlnum(s[e]) {
		return 0, 0, false
	}
	p = e
	for p > 0 && e-p < 64 && isEmailLocal(s[p-1]) {
		p--
		d.spacedSteps++
	}
	if p == e && (p == 0 || !isAlnum(s[p-1])) {
		// a single letter: more before it, each after one blank
		for p >= 2 && e-p < 64 && s[p-1] == ' ' && isAlnum(s[p-2]) && (p == 2 || !isAlnum(s[p-3])) {
			p -= 2
			d.spacedSteps += 2
		}
	}
	for p < e && s[p] == '.' {
		p++
	}
	if k := d.tokAt(p); k < len(d.toks) && int(d.toks[k].start) == p && int(d.toks[k].end) == e+1 && d.is(k, vStopword) {
		return 0, 0, false
	}
	if upperTLD && s[lastA-1] != '.' && strings.ToUpper(s[p:q]) != s[p:q] {
		return 0, 0, false // a capital top-level domain after a spaced dot, in an address that is not all capitals
	}
	return p, q, true
}

// genericTLDs are the generic top-level domains, which a spaced address in
// capitals may end with ("EXAMPLE . COM"); the two-letter ones are words
// and shorthand there too ("ICU . PT").
var genericTLDs = set(`com org net edu gov mil info biz`)
