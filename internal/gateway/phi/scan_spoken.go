package phi

// Numbers spoken digit by digit and transcribed in words, as speech-to-text
// and dictation give a phone number: "five five five, oh one four two",
// "six one seven, five five five, oh one three four", and its area code
// named after it ("area code six one seven"). Seven digits in words in a
// row, perhaps parted by commas or hyphens on one line, name a number no
// prose writes otherwise; a count stays ("two or three", "one, two, three
// times": fewer than seven, or another word between).

// spokenHintWords are the digits in words whose presence lets a note run
// spokenNumbers (a pass hint): "one", "two" and "o" are left out, being
// common in notes that spell no number (568 of the 984 PhysioNet notes
// hold a digit in words, 13 one of these), so a number spoken only with
// zeros, ones and twos ("two one two, one two oh…" with "o") is missed.
var spokenHintWords = []string{"zero", "oh", "three", "four", "five", "six", "seven", "eight", "nine"}

// spokenDigit reports whether word w (in lower case) is a digit spoken:
// "zero", "oh", "o", "one" to "nine".
func spokenDigit(w string) bool {
	switch len(w) {
	case 1:
		return w == "o"
	case 2:
		return w == "oh"
	case 3:
		return w == "one" || w == "two" || w == "six"
	case 4:
		return w == "zero" || w == "four" || w == "five" || w == "nine"
	case 5:
		return w == "three" || w == "seven" || w == "eight"
	}
	return false
}

// spokenSep reports whether word w (in lower case) is a comma, a hyphen or
// a dash said aloud, as dictation transcribes the pauses in a number.
func spokenSep(w string) bool {
	return w == "comma" || w == "dash" || w == "hyphen"
}

// spokenNumbers claims the numbers spoken in words of the note: seven to
// eleven digit words in a row, typed by the word that asks for them
// (spokenCue), five after "zip", and three after "area code".
func (d *detector) spokenNumbers() {
	if d.hints&hSpoken == 0 {
		return // no digit in words but "one", "two" or "o" in the note
	}
	n := len(d.toks)
	for i := 0; i < n; i++ {
		t := &d.toks[i]
		if t.kind != tkWord || t.end-t.start > 5 || d.state[i] != stFree {
			continue
		}
		if c := d.low[t.start]; c != 'z' && c != 'o' && c != 't' && c != 'f' && c != 's' && c != 'e' && c != 'n' || !spokenDigit(d.low[t.start:t.end]) {
			continue
		}
		// the run: digit words parted by blanks, or by one comma or hyphen,
		// written or said
		digits, j, last := 1, i+1, i
		for j < n && !d.toks[j].has(fNL) {
			if d.toks[j].kind == tkPunct && (d.isPunct(j, ',') || d.isPunct(j, '-')) && j+1 < n && !d.toks[j+1].has(fNL) {
				j++
			} else if d.toks[j].kind == tkWord && spokenSep(d.word(j)) && j+1 < n && !d.toks[j+1].has(fNL) {
				j++ // punctuation dictated aloud: "five five five comma two one two"
			}
			u := &d.toks[j]
			if u.kind != tkWord || u.end-u.start > 5 || d.state[j] != stFree || !spokenDigit(d.low[u.start:u.end]) {
				break
			}
			digits++
			last = j
			j++
		}
		switch {
		case digits >= 5 && digits <= 11:
			if typ, ok := d.spokenCue(i, digits); ok {
				d.claim(i, last+1, typ, prioStruct) // "five five five, oh one four two", "zip code is nine four one one oh"
			}
		case digits == 3 && i >= 2 && d.toks[i-1].kind == tkWord && d.toks[i-2].kind == tkWord && d.word(i-1) == "code" && d.word(i-2) == "area":
			d.claim(i, last+1, TypePhone, prioStruct) // "area code six one seven"
		}
		i = last
	}
}

// spokenCue types a number of n digits spoken in words at token i by the
// words before it on its line (up to six): a social security number, a
// record number, a ZIP code (five digits, which need their cue); else
// seven, ten or eleven digits are a phone, eight or nine another number.
func (d *detector) spokenCue(i, n int) (Type, bool) {
	for k := i - 1; k >= 0 && k >= i-6 && !d.toks[k+1].has(fNL); k-- {
		if d.toks[k].kind != tkWord {
			continue
		}
		switch d.word(k) {
		case "social", "ssn", "security":
			return TypeSSN, n == 9
		case "mrn", "record", "chart":
			return TypeMRN, n >= 6
		case "zip", "postal", "postcode":
			return TypeZIP, n == 5 || n == 9
		}
	}
	switch n {
	case 5, 6:
		return TypeNone, false
	case 7, 10, 11:
		return TypePhone, true
	}
	return TypeID, true
}
