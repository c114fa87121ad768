package phi

import "unsafe"

// OCR noise in numbers. A scanned or faxed page read by OCR gives a
// letter for a digit of the same shape: O or o for 0, l or I for 1
// ("DOB: O6/14/1952", "Echo 1O/29/2026", "(937) 555-O181", "12/O3/l948").
// The date and phone scanners saw a word glued to digits there and left
// the number. ocrNumbers reads such a run with the letters folded to
// their digits and claims it when it is a date with a four-digit year, a
// North American phone number in its groups or a social security number.

// ocrDigit returns the digit that OCR letter c stands for, or 0.
func ocrDigit(c byte) byte {
	switch c {
	case 'O', 'o':
		return '0'
	case 'l', 'I':
		return '1'
	}
	return 0
}

// ocrNumbers is the pass. It looks only at one-letter words O, o, l and
// I glued to a digit run, which ordinary text seldom holds, after the
// other scanners have run, and only in a note where compound met one
// (ocrSeen); a folded copy of the text is made only when one is found.
func (d *detector) ocrNumbers() {
	if !d.ocrSeen {
		return // no such letter glued to digits met compound
	}
	var folded []byte
	lo, runEnd := 0, -1
	d.ocrSteps = 0
	for i := 0; i+1 < len(d.toks) && !d.stopped(); i++ {
		t := &d.toks[i]
		if t.kind != tkWord || t.end-t.start != 1 || ocrDigit(d.text[t.start]) == 0 || d.state[i] == stPHI {
			continue
		}
		if !(d.glued(i) && d.toks[i+1].kind == tkNum || i > 0 && d.toks[i-1].end == t.start && d.toks[i-1].kind == tkNum) {
			continue
		}
		// the run of digits, OCR letters and a number's punctuation
		// around it, on its line
		// (not back past what the pass looked at already, and a run's end
		// found once: a long run of such numbers was read again from its
		// start and to its end at each of them, quadratic)
		a, b := i, i
		for a > lo && d.ocrPart(a-1) && !d.toks[a].has(fNL) && d.toks[a].start-d.toks[a-1].end <= 1 {
			a--
		}
		newRun := i > runEnd
		if !newRun {
			b = runEnd
		}
		for b+1 < len(d.toks) && d.ocrPart(b+1) && !d.toks[b+1].has(fNL) && d.toks[b+1].start-d.toks[b].end <= 1 {
			b++
		}
		runEnd = b
		if folded == nil {
			folded = []byte(d.text)
		}
		for k := a; newRun && k <= b; k++ { // (a run's letters folded at once)
			if d.toks[k].kind == tkWord {
				for p := d.toks[k].start; p < d.toks[k].end; p++ {
					folded[p] = ocrDigit(d.text[p])
				}
			}
		}
		// (a view of folded, not a copy of the whole text for each run,
		// which made the pass quadratic: folded changes only between
		// calls, and nothing ocrClaim reads of it outlives the call)
		// (never back: a run's numbers claimed already are passed over,
		// and the pass goes on from the last token it looked at)
		i = max(i, d.ocrClaim(a, b, unsafe.String(&folded[0], len(folded))))
		lo = i + 1
	}
}

// ocrPart reports whether token k may be part of a number read by OCR:
// digits, a one-letter OCR word, or a date's or a phone's punctuation.
func (d *detector) ocrPart(k int) bool {
	d.ocrSteps++
	t := &d.toks[k]
	switch t.kind {
	case tkNum:
		return true
	case tkWord:
		return t.end-t.start == 1 && ocrDigit(d.text[t.start]) != 0
	case tkPunct:
		switch d.text[t.start] {
		case '/', '-', '.', '(', ')':
			return true
		}
	}
	return false
}

// ocrClaim tries the scanners on the folded text at each token of the run
// [a, b] that starts with a digit or a parenthesis and is not claimed
// already, claims the first match, and returns the last token it looked
// at.
func (d *detector) ocrClaim(a, b int, folded string) int {
	text := d.text
	d.text = folded
	defer func() { d.text = text }()
	for k := a; k <= b; k++ {
		if d.state[k] == stPHI {
			continue // a number of the run claimed already ("O6/14/1952-O7/15/1953")
		}
		p := int(d.toks[k].start)
		if c := folded[p]; !isDigit(c) && c != '(' || k > a && d.toks[k-1].end == d.toks[k].start && d.toks[k-1].kind != tkPunct {
			continue
		}
		if q, ok := d.numDate(p); ok && fullYearDate(folded[p:q]) && d.ocrEnd(q) {
			d.claimBytes(k, q, TypeDate)
			return d.tokAt(q) - 1
		}
		if q, ok := scanSSN(folded, p); ok && d.ocrEnd(q) {
			d.claimBytes(k, q, TypeSSN)
			return d.tokAt(q) - 1
		}
		if q, typ, ok := d.phone(p); ok && nanpGroups(folded[p:q]) && d.ocrEnd(q) {
			d.claimBytes(k, q, typ)
			return d.tokAt(q) - 1
		}
	}
	return b
}

// ocrEnd reports whether byte q ends a number: no letter or digit glued
// after it.
func (d *detector) ocrEnd(q int) bool {
	return q >= len(d.text) || !isAlnum(d.text[q])
}
