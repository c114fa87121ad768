package phi

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
