package phi

import (
	"slices"
	"strings"
)

// structAt runs the structured-identifier scanners at token i and returns
// the index of the first token after what they claimed or kept, or i.
func (d *detector) structAt(i int) int {
	t := d.toks[i]
	switch t.kind {
	case tkNum:
		return d.numAt(i)
	case tkWord:
		return d.wordAt(i)
	case tkPunct:
		switch d.text[t.start] {
		case '(', '+':
			if q, typ, ok := d.phone(int(t.start)); ok {
				return d.claimBytes(i, q, typ)
			}
		case '#':
			return d.trigger(i, TypeID)
		case '~', '\'', '_', '|', '*', ':', ',', '.', '/', '-', 0xe2:
			if !d.sepSeen && i >= 1 && d.toks[i-1].kind == tkNum && i+1 < len(d.toks) && d.toks[i+1].kind == tkNum {
				d.sepSeen = d.sepHint(i - 1) // see sepPieces
			}
		}
	}
	return i
}

func digitsEnd(s string, p int) int {
	for p < len(s) && isDigit(s[p]) {
		p++
	}
	return p
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// hexColonAhead reports whether a hex run of at most 4 characters followed
// by ':' starts at p.
func hexColonAhead(s string, p int) bool {
	for k := p; k < len(s) && k <= p+4; k++ {
		c := s[k]
		if c == ':' {
			return k > p || (k+1 < len(s) && s[k+1] == ':')
		}
		if !isDigit(c) && !(c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return false
}

// numAt tries the scanners that start with a digit run.
func (d *detector) numAt(i int) int {
	if t := &d.toks[i]; t.end-t.start == 1 && !d.sepSeen && i+2 < len(d.toks) && d.toks[i+1].kind == tkNum {
		d.sepSeen = d.sepHint(i) // digits spelled with blanks: see sepPieces
	}
	s := d.text
	p := int(d.toks[i].start)
	if k := i - 1; k >= 0 && d.toks[k].kind == tkWord && d.toks[k].end-d.toks[k].start == 1 && d.low[d.toks[k].start] == 'x' && d.state[k] == stFree && i+2 < len(d.toks) {
		if j := d.extension(k); j > k {
			return j // "x 4-4471" (wordAt takes "x5-3381")
		}
	}
	if d.toks[i].end-d.toks[i].start == 2 && i > 0 && d.toks[i-1].end == d.toks[i].start && d.toks[i-1].kind == tkPunct {
		if a := int(d.toks[i-1].start); (s[a] == '\'' || s[a:p] == "’") && (a == 0 || !isDigit(s[a-1]) && s[a-1] != '\'' && s[a-1] != '\\') {
			// a year written with an apostrophe: "CABG '94", "CA'02"
			// (not 5'10, nor a quoted number: '12')
			if q := p + 2; q == len(s) || !isAlnum(s[q]) && s[q] != '\'' && s[q] != '"' {
				d.add(a, q, TypeDate, prioStruct)
				d.state[i] = stPHI
				return i + 1
			}
		}
	}
	if d.toks[i].end-d.toks[i].start == 1 && i+6 < len(d.toks) && d.toks[i+1].start == d.toks[i].end+1 && s[d.toks[i].end] == ' ' {
		if q, ok := scanNIR(s, p); ok && (i == 0 || d.toks[i-1].end < d.toks[i].start) {
			return d.claimBytes(i, q, TypeSSN) // a French social security number: "NIR 1 85 05 78 006 084 36"
		}
		if j := d.spacedPhone(i); j > i {
			return d.claim(i, j, TypePhone, prioStruct) // "my number is 6 0 8 5 5 5 0 1 9 2"
		}
	}
	if d.toks[i].end-d.toks[i].start <= 2 && i+4 < len(d.toks) && d.toks[i+1].start == d.toks[i].end+1 {
		if q, ok := scanSpacedDate(s, p); ok {
			return d.claimBytes(i, q, TypeDate) // text from a PDF or a form: "DOB: 3 / 14 / 1951"
		}
	}
	// (a digit run of five or more holds no ':' in its first five, so
	// hexColonAhead would refuse it)
	if d.toks[i].end-d.toks[i].start <= 4 && hexColonAhead(s, p) {
		if q, typ, ok := scanHexColon(s, p); ok {
			return d.claimBytes(i, q, typ)
		}
	}
	if d.toks[i].end-d.toks[i].start == 4 && i >= 2 && d.lastFourBefore(i) {
		return d.claim(i, i+1, TypeID, prioStruct) // "SSN 123 45 6789 on file; last four 6789"
	}
	if d.toks[i].end-d.toks[i].start == 4 && i >= 2 && d.cardEnding(i) {
		return d.claim(i, i+1, TypeAccount, prioStruct) // "paid Visa ending 4421", "card ending in 7731"
	}
	if q, ok := d.numDate(p); ok {
		j := d.tokAt(q)
		// (a label before keeps it; a one-letter "unit" after only when it
		// is no shorthand for a word: keptNum(i, i) asks for the label)
		// (a date with its four-digit year is no value a label keeps:
		// "next appt for pt is 04/12/2024", "last dose was 03/14/2024")
		if !fullYearDate(s[p:q]) && !d.speakerDate(i, s[p:q]) && (!d.dateEvidence(i, q) && d.keptNum(i, j) && !(d.letterBeforeWord(j) && !d.keptNum(i, i)) || d.scoreLike(i, q)) {
			if k := d.ratedWordBefore(i); k >= 0 {
				d.keep(k, k+1) // what a rating rates is no name: "Hunger 3/10"
			}
			return d.keep(i, d.tokAt(q))
		}
		return d.claimBytes(d.weekdayBefore(d.rangeStart(i)), d.timeTail(q), TypeDate)
	}
	if j, ok := d.dayMonth(i); ok {
		return d.claimBytes(i, d.timeTail(int(d.toks[j-1].end)), TypeDate)
	}
	if d.toks[i].end-d.toks[i].start == 4 && i >= 1 && (d.toks[i-1].kind != tkPunct || d.isPunct(i-1, ',')) {
		if k := d.foreignMonthYear(i); k < i {
			return d.claim(k, i+1, TypeDate, prioStruct)
		}
	}
	if q, ok := scanSSN(s, p); ok {
		if s[p+3] == ' ' && q+1 < len(s) && s[q] == ' ' && isDigit(s[q+1]) {
			// more groups after it: no SSN but a longer number, a
			// Mexican mobile with its old prefix ("044 55 1234 5678"),
			// whose last group stayed
			if q2, pt, ok := d.phone(p); ok && q2 > q {
				return d.claimBytes(i, q2, pt)
			}
		}
		return d.claimBytes(i, q, TypeSSN)
	}
	if d.toks[i].end-d.toks[i].start == 5 && int(d.toks[i].end)+5 <= len(s) && s[d.toks[i].end] == '-' && digitsEnd(s, int(d.toks[i].end)+1) == int(d.toks[i].end)+5 &&
		(int(d.toks[i].end)+5 == len(s) || !isAlnum(s[d.toks[i].end+5]) && s[d.toks[i].end+5] != '-') {
		return d.claimBytes(i, int(d.toks[i].end)+5, TypeZIP) // ZIP+4
	}
	if q, ok := scanIPv4(s, p); ok {
		return d.claimBytes(i, q, TypeIP)
	}
	if q, typ, ok := scanCard(s, p); ok {
		return d.claimBytes(i, q, typ)
	}
	if q, typ, ok := d.phone(p); ok && !d.afterValue(i) {
		// (a North American number in its usual groups is no value a
		// label keeps: "called pt at 617-555-0163", "T: 617.555.0163")
		if j := d.tokAt(q); nanpGroups(s[p:q]) || !d.keptNum(i, j) {
			return d.claimBytes(i, q, typ)
		}
	}
	if d.glued(i) && d.toks[i+1].kind == tkWord {
		// (a capital, no decade after a label: "Hr 70s AV paced")
		if l := d.text[d.toks[i+1].start]; l >= 'A' && l <= 'Z' && l != 'S' && d.toks[i+1].end-d.toks[i+1].start == 1 && !d.glued(i+1) && !d.keptNum(i, i) {
			if j := d.addressFromNumber(i); j > i {
				return j // a house number with its letter: "221B Baker Street", "14B Larch Close"
			}
		}
		if v := atoi(d.raw(i)); v >= 90 && v < 130 && d.toks[i].end-d.toks[i].start <= 3 && d.birthdayOrdinal(i) {
			return d.claim(i, i+2, TypeAge, prioStruct) // "her 98th birthday"
		}
		if v := atoi(d.raw(i)); (v == 90 || v == 100) && d.toks[i].end-d.toks[i].start <= 3 && d.decadeOfLife(i) {
			return d.claim(i, i+2, TypeAge, prioStruct) // "a woman in her 90s", "in his early 90s"
		}
		if j := d.compound(i); j > i {
			return j
		}
	}
	if j, ok := d.age(i); ok {
		return j
	}
	if j := d.addressFromNumber(i); j > i && !d.afterValue(i) {
		return j
	}
	n := int(d.toks[i].end) - p
	// A digit run glued to letters on its left is part of a compound
	// handled by the word scanner.
	if i > 0 && d.toks[i-1].end == d.toks[i].start && d.toks[i-1].kind == tkWord {
		return i
	}
	if n == 4 && !d.glued(i) {
		if t := d.townAfterZIP(i, i+1); t > i+1 {
			// a postcode of four digits before its town after a street
			// address: "Bahnhofstrasse 12, 8001 Zürich", "Rue Haute 5,
			// 1000 Bruxelles"
			d.claim(i, i+1, TypeZIP, prioStruct)
			return d.claim(i+1, t, TypeLocation, prioStruct)
		}
	}
	if n == 4 {
		if from, ok := d.postcodeAfterTown(i); ok {
			d.claimLocalities(from, i)
			return d.claim(i, i+1, TypeZIP, prioStruct)
		}
	}
	if n == 4 && d.dutchPostcode(i) {
		return d.claim(i, i+2, TypeZIP, prioStruct) // "Keizersgracht 221, 1012 AB Amsterdam"
	}
	if n == 8 && i+3 < len(d.toks) {
		if q, ok := citizenCard(s, p); ok {
			return d.claimBytes(i, q, TypeID) // a Portuguese citizen card with its check digits: "12345678 9 ZZ1"
		}
	}
	if n == 4 && d.afterAUState(i) {
		d.keep(i-1, i)                              // the state stays (Safe Harbor allows it), no name: "TAS", "VIC"
		return d.claim(i, i+1, TypeZIP, prioStruct) // "Gordon NSW 2072"
	}
	if n == 5 {
		q := p + 5
		if q+5 <= len(s) && s[q] == '-' && digitsEnd(s, q+1) == q+5 {
			q += 5
		}
		j := d.tokAt(q)
		// (after a state's code it is a ZIP code whatever label the code
		// also is: "Los Angeles, CA 90033", "Burlington, VT 05401"; with a
		// sign glued before it is a balance: "+12480 since midnight")
		if !d.afterStateCode(i) && (d.keptNum(i, j) || d.decimalAround(i, j) || d.codeBefore(i) || d.signed(i)) {
			return d.keep(i, j)
		}
		if k := i - 3; k >= 0 && d.isPunct(i-2, ',') && d.afterStateCode(i) {
			d.townBefore(k) // "Mobile, AL 36602"
		}
		e := d.claimBytes(i, q, TypeZIP)
		if t := d.townAfterZIP(i, e); t > e {
			return d.claim(e, t, TypeLocation, prioStruct) // "Lindenstraße 14, 80331 München"
		}
		return e
	}
	if n >= 6 {
		// (a run with a leading zero, or of nine digits or more, is an
		// identifier a label does not keep: "Pt: 00482913"; a count such
		// as "PLT 250000" is kept)
		if (d.keptNum(i, i+1) && s[p] != '0' && n < 9 && !d.labelCode(i, n)) || d.decimalAround(i, i+1) {
			return d.keep(i, i+1)
		}
		return d.claim(i, i+1, d.recordIDType(d.raw(i)), prioStruct)
	}
	return i
}

// townAfterZIP returns the end of the town after the postcode at token i
// whose next token is j, or j: where a street address claimed before it
// ends right before a comma and the postcode, as Europe writes an address
// ("Lindenstraße 14, 80331 München", "Bahnhofstrasse 12, 8001 Zürich"),
// one capitalised word, or two joined by a hyphen, that is no English,
// clinical or region word unless a city, before punctuation or the line's
// end. It reads at most four tokens and the last few candidates.
func (d *detector) townAfterZIP(i, j int) int {
	if i < 2 || j+1 > len(d.toks) || !d.isPunct(i-1, ',') || d.toks[i].has(fNL) || !d.addressEndsAt(int(d.toks[i-2].end)) {
		return j
	}
	ok := func(k int) bool {
		t := d.toks[k]
		return t.kind == tkWord && !t.has(fNL) && t.has(fCap) && t.end-t.start >= 3 &&
			(t.lex&lexCity != 0 || t.lex&(lexCommon|lexClinical|lexRegion) == 0) && t.lex&lexRegion == 0 &&
			!d.is(k, vStreetSuffix|vUnitWord|vStopword|vUnit|vVitalLabel|vMonth|vWeekday|vTitle|vNameLabel)
	}
	if d.toks[j].start != d.toks[j-1].end+1 || !ok(j) {
		return j
	}
	e := j + 1
	if e+1 < len(d.toks) && d.isPunct(e, '-') && d.glued(j) && d.glued(e) && ok(e+1) {
		e += 2 // "Saint-Étienne"
	}
	if e < len(d.toks) && !d.toks[e].has(fNL) && d.toks[e].kind != tkPunct {
		return j // more words: a sentence goes on
	}
	return e
}

// localitiesBefore returns the first token of the localities between a
// street address claimed before word k (a town, before its postcode) and
// k, when a comma stands before k: k itself where the address ends right
// before the comma ("24 Kowhai Cres, Otaki 5512"), the first word of up
// to two segments of one to three capitalised words, each after a comma,
// where they stand between ("Mill Lane, Great Snoring, Fakenham NR21
// 0HP", "Jacaranda Ave, Hatfield, Pretoria 0083"); -1 where no address
// ends there. It reads at most ten tokens back.
func (d *detector) localitiesBefore(k int) int {
	from := k
	for seg := 0; seg <= 2; seg++ {
		c := from - 1
		if c < 1 || !d.isPunct(c, ',') || d.toks[from].has(fNL) {
			return -1
		}
		if d.addressEndsAt(int(d.toks[c-1].end)) {
			return from
		}
		if seg == 2 {
			return -1
		}
		m := c - 1
		for n := 0; n < 3 && m >= 0 && d.toks[m].kind == tkWord && d.toks[m].has(fCap) && d.state[m] == stFree && !d.toks[m+1].has(fNL) &&
			!d.is(m, vStopword|vTitle|vNameLabel|vStreetSuffix|vUnitWord); n++ {
			m--
		}
		if m == c-1 {
			return -1
		}
		from = m + 1
	}
	return -1
}

// postcodeAfterTown reports whether the four digits at token i, after a
// capitalised town and before the end of the line or punctuation, are a
// postcode after a street address and a comma, as New Zealand, South
// Africa and others write it ("24 Kowhai Cres, Otaki 5512", "22 Jacaranda
// Ave, Hatfield, Pretoria 0083"); from is the first locality's token.
func (d *detector) postcodeAfterTown(i int) (from int, ok bool) {
	k := i - 1
	if k < 3 || d.glued(k) || d.toks[k].kind != tkWord || !d.toks[k].has(fCap) || d.toks[i].has(fNL) || d.toks[k].has(fAllCaps) && d.toks[k].end-d.toks[k].start <= 3 ||
		d.toks[k].lex&(lexCommon|lexClinical|lexRegion) != 0 && d.toks[k].lex&lexCity == 0 || d.is(k, vStopword|vUnit|vVitalLabel|vStreetSuffix|vUnitWord|vMonth|vWeekday) {
		return 0, false
	}
	if e := i + 1; e < len(d.toks) && !d.toks[e].has(fNL) && !(d.toks[e].kind == tkPunct && !d.isPunct(e, '-') && !d.isPunct(e, '/')) {
		return 0, false
	}
	if d.glued(i) && d.toks[i+1].kind == tkPunct && d.glued(i+1) && d.toks[i+2].kind == tkNum {
		return 0, false // a decimal or a ratio: "Otaki 5512.5"
	}
	from = d.localitiesBefore(k)
	return from, from >= 0
}

// claimLocalities claims the words of localities [from, k), parted by
// commas: "Great Snoring", "Hatfield".
func (d *detector) claimLocalities(from, k int) {
	for m := from; m < k; m++ {
		if d.toks[m].kind == tkWord && d.state[m] == stFree {
			d.claim(m, m+1, TypeLocation, prioStruct)
		}
	}
}

// addressEndsAt reports whether one of the last candidates is a street
// address ending at byte p.
func (d *detector) addressEndsAt(p int) bool {
	for k := len(d.cands) - 1; k >= 0 && k >= len(d.cands)-4; k-- {
		if d.cands[k].end == p && d.cands[k].typ == TypeAddress {
			return true
		}
	}
	return false
}

// dutchPostcode reports whether the four digits at token i (not starting
// with 0) and two capitals after one blank are a Dutch postcode before its
// town, as an address writes it: "1012 AB Amsterdam", "3511 LX Utrecht"
// (the letters are never SA, SD or SS). The town must be on the place
// list, so that a count and a pair of capitals stay ("2000 IU Vitamin D",
// "1000 ML NS").
func (d *detector) dutchPostcode(i int) bool {
	l, c := i+1, i+2
	if c >= len(d.toks) || d.text[d.toks[i].start] == '0' || d.toks[l].kind != tkWord || d.toks[l].end-d.toks[l].start != 2 || d.toks[l].start != d.toks[i].end+1 ||
		!d.toks[l].has(fAllCaps) || d.toks[c].kind != tkWord || d.toks[c].start != d.toks[l].end+1 || !d.toks[c].has(fCap) || d.toks[c].has(fAllCaps) || d.toks[c].lex&lexCity == 0 {
		return false
	}
	switch d.word(l) {
	case "sa", "sd", "ss":
		return false
	}
	return !d.is(l, vUnit)
}

// citizenCard matches a Portuguese citizen card's number with its check
// digits at p: eight digits, one digit and two capitals with a digit,
// after single blanks ("12345678 9 ZZ1"). The eight digits alone were an
// identifier; the check digits stayed.
func citizenCard(s string, p int) (int, bool) {
	q := p + 8
	if q+6 > len(s) || s[q] != ' ' || !isDigit(s[q+1]) || s[q+2] != ' ' || s[q+3] < 'A' || s[q+3] > 'Z' || s[q+4] < 'A' || s[q+4] > 'Z' || !isDigit(s[q+5]) {
		return 0, false
	}
	if e := q + 6; e < len(s) && isAlnum(s[e]) {
		return 0, false
	}
	return q + 6, true
}

// decadeOfLife reports whether the number at token i, glued to an "s",
// is a decade of a person's life after "in" and a possessive,
// perhaps with "early", "mid" or "late" between: "in her 90s", "in his
// late 90s", as "in her nineties" is one. Readings stay: "HR in the 90s",
// "sats low 90s".
func (d *detector) decadeOfLife(i int) bool {
	e := i + 1
	if e >= len(d.toks) || d.toks[e].kind != tkWord || d.toks[e].end-d.toks[e].start != 1 || d.low[d.toks[e].start] != 's' || d.glued(e) && d.toks[e+1].kind != tkPunct {
		return false
	}
	k := d.prevWord(i)
	if k >= 0 && k == i-1 {
		if w := d.word(k); w == "early" || w == "mid" || w == "late" {
			k = d.prevWord(k)
		}
	}
	if k < 0 {
		return false
	}
	switch d.word(k) {
	case "her", "his", "their":
	default:
		return false
	}
	k = d.prevWord(k)
	return k >= 0 && d.word(k) == "in"
}

// lastFourBefore reports whether the four digits at token i follow "last
// four" or "last 4" with no trigger before (a trigger takes them itself:
// "SSN last 4: 2231"), perhaps with "digits", "are" or "is" and a colon
// or a hyphen between: "last four 6789", "last 4 digits: 0917".
func (d *detector) lastFourBefore(i int) bool {
	k := i - 1
	for steps := 0; k >= 1 && steps < 3; steps++ {
		t := &d.toks[k]
		if t.has(fNL) && k < i-1 {
			return false
		}
		if t.kind == tkPunct && (d.text[t.start] == ':' || d.text[t.start] == '-') || t.kind == tkWord && lastFourFillers[d.word(k)] {
			k--
			continue
		}
		break
	}
	if k < 1 || d.toks[k].has(fNL) || d.toks[k-1].kind != tkWord || d.word(k-1) != "last" {
		return false
	}
	return d.toks[k].kind == tkWord && d.word(k) == "four" || d.toks[k].kind == tkNum && d.raw(k) == "4"
}

// cardEnding reports whether the four digits at token i follow "ending" or
// "ending in" after a card's or an account's word up to two words before
// it on the line: "Visa ending 4421", "card ending in 7731", "acct ending
// 0917".
func (d *detector) cardEnding(i int) bool {
	k := d.prevWord(i)
	if k < 1 || k < i-2 || d.toks[i].has(fNL) {
		return false
	}
	if d.word(k) == "in" {
		if k = d.prevWord(k); k < 1 {
			return false
		}
	}
	if d.word(k) != "ending" || d.toks[k].has(fNL) {
		return false
	}
	for m, n := d.prevWord(k), 0; m >= 0 && n < 2; m, n = d.prevWord(m), n+1 {
		if cardWords[d.word(m)] {
			return true
		}
		if d.toks[m].has(fNL) {
			break
		}
	}
	return false
}

// cardWords name a payment card or an account before "ending".
var cardWords = set(`card visa mastercard amex discover debit credit account acct`)

// lastFourFillers stand between "last four" and its digits.
var lastFourFillers = set(`digits digit are is were of ssn`)

// scanNIR matches a French social security number (NIR) written in its
// groups at p: the sex (1, 2, 7 or 8), the year and month of birth, the
// département (two digits, 2A or 2B), the commune and the birth's rank
// (three digits each), perhaps the two-digit key: "1 85 05 78 006 084
// 36". Only the first group was taken for nothing and the rest for a
// phone, which left "1 85" visible.
func scanNIR(s string, p int) (int, bool) {
	if c := s[p]; c != '1' && c != '2' && c != '7' && c != '8' {
		return 0, false
	}
	q := p + 1
	for g, n := range [...]int{2, 2, 2, 3, 3, 2} {
		if q >= len(s) || s[q] != ' ' {
			if g == 5 {
				break // no key
			}
			return 0, false
		}
		e := q + 1 + n
		if e > len(s) {
			if g == 5 {
				break
			}
			return 0, false
		}
		for k := q + 1; k < e; k++ {
			if !isDigit(s[k]) && !(g == 2 && k == q+2 && s[q+1] == '2' && (s[k] == 'A' || s[k] == 'B')) {
				if g == 5 {
					return q, true
				}
				return 0, false
			}
		}
		if g == 1 && (s[q+1] > '1' || s[q+1] == '0' && s[q+2] == '0' || s[q+1] == '1' && s[q+2] > '2') {
			return 0, false // the month: 01 to 12
		}
		q = e
	}
	if q < len(s) && isAlnum(s[q]) {
		return 0, false
	}
	return q, true
}

// spacedPhone returns the end of a phone number spoken digit by digit
// and written so at token i, as a voicemail's transcript gives it ("6 0
// 8 5 5 5 0 1 9 2"): ten single digits each after one blank, the area
// code and the exchange starting with 2 to 9, or eleven with a 1 before
// them, after a word that asks for a number; or i. A longer run is
// none, nor one whose digit before is spaced so, nor a table's row of
// scores with no such word ("Scores 2 3 4 2 2 3 1 2 3 4").
func (d *detector) spacedPhone(i int) int {
	s := d.text
	if i > 0 && d.toks[i-1].kind == tkNum && d.toks[i-1].end-d.toks[i-1].start == 1 && d.toks[i-1].end+1 == d.toks[i].start {
		return i
	}
	j := i + 1
	for j < len(d.toks) && j-i < 12 && d.toks[j].kind == tkNum && d.toks[j].end-d.toks[j].start == 1 && d.toks[j].start == d.toks[j-1].end+1 && s[d.toks[j-1].end] == ' ' {
		j++
	}
	n, a := j-i, i
	if n == 11 && s[d.toks[i].start] == '1' {
		a++
	} else if n != 10 {
		return i
	}
	if s[d.toks[a].start] < '2' || s[d.toks[a+3].start] < '2' || j < len(d.toks) && d.toks[j].start == d.toks[j-1].end && d.toks[j].kind != tkPunct {
		return i
	}
	// a word that asks for a number within four tokens before, on the
	// line: "my number is", "call me at", "callback", "cell"
	for k := i - 1; k >= 0 && k >= i-4 && !d.toks[k+1].has(fNL); k-- {
		if d.toks[k].kind == tkWord && spokenPhoneCues[d.word(k)] {
			return j
		}
	}
	return i
}

// spokenPhoneCues ask for a phone number spoken digit by digit.
var spokenPhoneCues = set(`number call callback calling reach reached phone cell mobile tel telephone text`)

// speakerDate reports whether the date s at token i, written with its
// year, follows "pt" or "patient" and its colon: a chat's or a
// transcript's speaker giving a birth date ("agent: whats ur dob? pt:
// 3/4/88"). PT, the prothrombin time, keeps a value after it, but none
// written in three parts.
func (d *detector) speakerDate(i int, s string) bool {
	k := i - 1
	if k < 1 || !d.isPunct(k, ':') || d.toks[k-1].kind != tkWord || strings.Count(s, "/")+strings.Count(s, "-")+strings.Count(s, ".") < 2 {
		return false
	}
	w := d.word(k - 1)
	return w == "pt" || w == "patient"
}

// labelCode reports whether the run of n digits at token i is glued by a
// hyphen to a word before it, so that a label's letters open a code
// rather than name a value ("req AC-7734102", a requisition;
// `"id":"pt-88213047"`): seven digits or more, which no count written so
// reaches.
func (d *detector) labelCode(i, n int) bool {
	return n >= 7 && i >= 2 && d.isPunct(i-1, '-') && d.glued(i-1) && d.glued(i-2) && d.toks[i-2].kind == tkWord
}

// signed reports whether a plus or minus sign is glued before the number
// at token i, with no digit before it: "+12480", "LOS -2150".
func (d *detector) signed(i int) bool {
	k := i - 1
	return k >= 0 && (d.isPunct(k, '+') || d.isPunct(k, '-')) && d.glued(k) && !(k > 0 && d.glued(k-1) && d.toks[k-1].kind != tkPunct)
}

// codeSystems name the code sets whose codes are no identifiers of a
// person: "CPT 97802" is a service, not a ZIP code.
var codeSystems = set(`cpt hcpcs icd icd9 icd10 loinc snomed rxnorm ndc drg cdt rvu`)

// codeUses name a code set by its use, before "code": "billing code
// 99213", "procedure code 93000" (not "Billing: 55821").
var codeUses = set(`billing procedure diagnosis dx charge`)

// codeSystemAt reports whether word k names a code set: a code system, or
// a use before "code" or "codes".
func (d *detector) codeSystemAt(k int) bool {
	w := d.word(k)
	if codeSystems[w] {
		return true
	}
	j := k + 1
	return codeUses[w] && j < len(d.toks) && d.toks[j].kind == tkWord && (d.word(j) == "code" || d.word(j) == "codes")
}

// codeBefore reports whether the number at token i is a code of a code
// system named just before it, perhaps after "code", a colon or earlier
// codes of a list: "CPT 97802", "CPT code: 97802, 97803".
func (d *detector) codeBefore(i int) bool {
	for k, steps := i-1, 0; k >= 0 && steps < 8; k, steps = k-1, steps+1 {
		t := d.toks[k]
		switch {
		case d.toks[k+1].has(fNL):
			return false
		case t.kind == tkPunct && strings.IndexByte(":#,-/(", d.text[t.start]) >= 0:
		case t.kind == tkNum && t.end-t.start == 5:
		case t.kind == tkWord && d.codeSystemAt(k):
			return true
		case t.kind == tkWord && (d.word(k) == "code" || d.word(k) == "codes" || d.word(k) == "and" || d.word(k) == "or"):
		default:
			return false
		}
	}
	return false
}

// digitRuns returns the runs of digits in s, in order.
func digitRuns(s string) []string {
	var runs []string
	for q := 0; q < len(s); {
		e := digitsEnd(s, q)
		if e == q {
			q++
			continue
		}
		runs = append(runs, s[q:e])
		q = e
	}
	return runs
}

// fullYearDate reports whether s, a numeric date numDate matched, has
// three parts, one of them a year of four digits from 1900 to 2099
// (03/14/2024, 2024-03-14, 14.03.1952), or three parts of two digits with
// a month or a day padded with a zero (05/03/67, 09/20/74): settings and
// readings are not written so ("SIMV 12/5/40").
func fullYearDate(s string) bool {
	runs := digitRuns(s)
	if len(runs) == 3 && len(runs[0]) == 2 && len(runs[1]) == 2 && len(runs[2]) == 2 {
		return runs[0][0] == '0' || runs[1][0] == '0'
	}
	return len(runs) == 3 && slices.ContainsFunc(runs, func(r string) bool {
		return len(r) == 4 && (r[:2] == "19" || r[:2] == "20")
	})
}

// nanpGroups reports whether s, a phone number phone matched, is written
// in North American groups: 3-3-4 digits, the area code perhaps in
// parentheses and a country code 1 perhaps before it, and perhaps an
// extension after it ("414-555-0139 ext 22": with its extension the
// number was a value after "ph", the pH, and stayed whole); or in an
// Australian landline's, 2-4-4 with the area code's 0 ("03 9123 4567",
// whose area code stayed beside the redacted rest after "ph").
func nanpGroups(s string) bool {
	for k := 0; k < len(s); k++ {
		if isASCIILetter(s[k]) || s[k] == '#' {
			s = s[:k]
			break
		}
	}
	runs := digitRuns(s)
	if len(runs) == 4 && runs[0] == "1" {
		runs = runs[1:]
	}
	if len(runs) == 3 && len(runs[0]) == 2 && runs[0][0] == '0' && runs[0][1] >= '2' && len(runs[1]) == 4 && len(runs[2]) == 4 {
		return true // an Australian landline in its groups: "03 9123 4567" (after "ph", no pH)
	}
	return len(runs) == 3 && len(runs[0]) == 3 && len(runs[1]) == 3 && len(runs[2]) == 4
}

// afterStateCode reports whether token i follows a US state's postal code
// written in capitals, itself after a comma or a word: "Boston, MA 02118".
func (d *detector) afterStateCode(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.toks[k].end-d.toks[k].start != 2 || d.toks[k].has(fNL) {
		return false
	}
	w := d.raw(k)
	if !stateAbbrevs[strings.ToLower(w)] {
		return false
	}
	if !(w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z') {
		return w[0] >= 'a' && w[0] <= 'z' && w[1] >= 'a' && w[1] <= 'z' && d.lowerCityBefore(k)
	}
	return d.isPunct(k-1, ',') || d.toks[k-1].kind == tkWord
}

// lowerCityBefore reports whether the state's code in lower case at token
// k follows a city as a message in lower case writes an address
// ("oakland ca 94610", "fresno, ca 93721"): a US city's word before it, on
// its line, perhaps with a comma between, that is no English or clinical
// word, and the ZIP code after the code ends the line or a clause.
func (d *detector) lowerCityBefore(k int) bool {
	c := k - 1
	if d.isPunct(c, ',') && c > 0 {
		c--
	}
	t := d.toks[c]
	if t.kind != tkWord || d.toks[c+1].has(fNL) || t.lex&lexUSCity == 0 || t.lex&(lexCommon|lexClinical) != 0 {
		return false
	}
	j := k + 2
	return j >= len(d.toks) || d.toks[j].has(fNL) || d.toks[j].kind == tkPunct && !d.decimalAround(k+1, j)
}

// townBefore claims word k as a town when it is one by its place in an
// address, before ", ST" and a ZIP code or before a postcode, though it is
// an English word ("Mobile, AL 36602", "Normal, IL 61761", "Reading RG4
// 7AB", "Bath BA1 2BT"): a capitalised word on the line, not claimed, no
// street's or unit's word, no clinical term, no region.
func (d *detector) townBefore(k int) {
	t := d.toks[k]
	if t.kind != tkWord || d.state[k] != stFree || !t.has(fCap) || t.end-t.start < 3 || d.toks[k+1].has(fNL) && !d.isPunct(k+1, ',') {
		return
	}
	if t.lex&(lexRegion|lexClinical) != 0 && t.lex&lexCommon == 0 || t.lex&lexRegion != 0 || d.is(k, vStreetSuffix|vUnitWord|vStopword|vUnit|vVitalLabel|vMonth|vWeekday) {
		return
	}
	d.claim(k, k+1, TypeLocation, prioStruct)
}

// auStates are the codes of Australia's states and territories.
var auStates = set(`nsw vic qld tas act nt sa wa`)

// afterAUState reports whether the four digits at token i are an
// Australian postcode: after a state's or territory's code in capitals,
// itself after a place's word or a comma ("St Leonards NSW 2065",
// "Fitzroy, VIC 3065"), and before the end of the line or punctuation,
// not a unit ("NSW 2000 beds").
func (d *detector) afterAUState(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || !d.toks[k].has(fAllCaps) || d.toks[k].has(fNL) || d.toks[i].has(fNL) || !auStates[d.word(k)] {
		return false
	}
	if !d.isPunct(k-1, ',') && !(d.toks[k-1].kind == tkWord && d.toks[k-1].has(fCap)) {
		return false
	}
	j := i + 1
	if j >= len(d.toks) || d.toks[j].has(fNL) {
		return true
	}
	if d.toks[j].kind != tkPunct || d.decimalAround(i, j) {
		return false
	}
	// (not a time, a ratio or a range: "SA 1400:30", "NT 2000/24")
	return !(d.glued(i) && j+1 < len(d.toks) && d.glued(j) && d.toks[j+1].kind == tkNum)
}

// afterValue reports whether the digit run at token i continues a value
// glued before it: the decimals of "7.35-39-142" (a blood gas), the upper
// end of a range "115-134/65-74" (a blood pressure), "90/60".
func (d *detector) afterValue(i int) bool {
	if i < 2 || d.toks[i-1].end != d.toks[i].start || d.toks[i-2].end != d.toks[i-1].start || d.toks[i-2].kind != tkNum {
		return false
	}
	switch d.text[d.toks[i-1].start] {
	case '.', '-', '/':
		return true
	}
	return false
}

// decimalAround reports whether tokens [i, j) are part of a decimal or
// thousands-grouped number such as 12345.6 or 1,250,000.
func (d *detector) decimalAround(i, j int) bool {
	if j < len(d.toks) && d.glued(j-1) && (d.isPunct(j, '.') || d.isPunct(j, ',')) && d.glued(j) && d.toks[j+1].kind == tkNum {
		return true
	}
	if i >= 2 && d.toks[i-1].end == d.toks[i].start && (d.isPunct(i-1, '.') || d.isPunct(i-1, ',')) && d.toks[i-2].kind == tkNum && d.toks[i-2].end == d.toks[i-1].start {
		return true
	}
	return false
}

// keptNum reports whether the number in tokens [i, j) is clinical: a vital
// or lab label before it, or a unit after it.
func (d *detector) keptNum(i, j int) bool {
	// label before
	for k, steps := i-1, 0; k >= 0 && steps < 3; k, steps = k-1, steps+1 {
		t := d.toks[k]
		if t.kind == tkPunct {
			c := d.text[t.start]
			if c == ':' || c == '=' || c == '-' || c == '(' {
				continue
			}
			break
		}
		if t.kind != tkWord {
			break
		}
		w := d.word(k)
		if d.is(k, vVitalLabel) && !d.is(k, vStopword) {
			return true // (not "TO BE 7/26": base excess is no verb)
		}
		if len(w) > 2 && w[len(w)-1] == 's' && d.e.lex.get(w[:len(w)-1])&vVitalLabel != 0 && !d.is(k, vStopword) {
			return true // a label in the plural: "CPKs 12345", "plts 250000"
		}
		switch w {
		case "of", "is", "was", "at", "to", "peak", "max", "nadir", "trough":
			continue // "CPK peak 14000"
		}
		break
	}
	// unit after
	if j < len(d.toks) && !d.toks[j].has(fNL) {
		t := d.toks[j]
		switch t.kind {
		case tkWord:
			// a unit, not the first letter of shorthand ("3/81 c/b") nor of
			// a code ("4TE7-RJ2-QK83   M0065": a form's next item; "1.8
			// m2" is a unit)
			return d.is(j, vUnit) && !(d.glued(j) && d.isPunct(j+1, '/') && j+2 < len(d.toks) && d.glued(j+1) && d.toks[j+2].kind == tkWord && !d.is(j+2, vUnit)) &&
				!(d.glued(j) && d.toks[j+1].kind == tkNum && d.toks[j+1].end-d.toks[j+1].start >= 3)
		case tkPunct:
			c := d.text[t.start]
			if c == '%' {
				return true
			}
			if c == '/' && j+1 < len(d.toks) && d.glued(j) && d.toks[j+1].kind == tkWord && d.is(j+1, vUnit) {
				return true // "250000 /uL"
			}
			if t.end-t.start > 1 && d.text[t.start:t.end] == "°" {
				return true
			}
		}
	}
	return false
}

// numDate matches numeric dates at p: 3/15/1952, 03-15-52, 1952-03-15,
// 15.03.1952, 3/15, 03/2019, 2019-03.
func (d *detector) numDate(p int) (int, bool) {
	s := d.text
	a := digitsEnd(s, p)
	la := a - p
	if a+1 >= len(s) || la > 4 || la == 3 {
		return 0, false
	}
	sep := s[a]
	if sep != '/' && sep != '-' && sep != '.' {
		return 0, false
	}
	b := digitsEnd(s, a+1)
	lb := b - a - 1
	if lb == 0 || lb > 4 {
		return 0, false
	}
	x, y := atoi(s[p:a]), atoi(s[a+1:b])
	if b+1 < len(s) && s[b] == sep && isDigit(s[b+1]) {
		c := digitsEnd(s, b+1)
		lc := c - b - 1
		iso := la == 4 && sep == '-' && c+1 < len(s) && s[c] == 'T' && isDigit(s[c+1]) // 2023-04-12T14:32
		if !iso && c < len(s) && (isAlnum(s[c]) || s[c] == '%' || (c+1 < len(s) && (s[c] == sep || s[c] == '.') && isDigit(s[c+1]))) {
			return 0, false // (a setting's chain: "11/6/45%")
		}
		z := atoi(s[b+1 : c])
		switch {
		case la == 4 && lb <= 2 && lc <= 2:
			return c, validMD(y, z)
		case la <= 2 && lb <= 2 && (lc == 4 || lc == 2):
			return c, validMD(x, y) || validMD(y, x)
		}
		return 0, false
	}
	if b < len(s) && (isAlnum(s[b]) || ((s[b] == '/' || s[b] == '-' || s[b] == '.') && b+1 < len(s) && isDigit(s[b+1]))) {
		return 0, false
	}
	switch {
	case sep == '/' && la <= 2 && lb <= 2:
		return b, validMD(x, y) || lb == 2 && x >= 1 && x <= 12 && y > 31 // 3/15, 8/88

	case sep != '.' && la <= 2 && lb == 4:
		return b, x >= 1 && x <= 12 && y >= 1900 && y <= 2100
	case sep != '.' && la == 4 && lb <= 2:
		return b, lb == 2 && x >= 1900 && x <= 2100 && y >= 1 && y <= 12
	}
	return 0, false
}

func validMD(m, d int) bool { return m >= 1 && m <= 12 && d >= 1 && d <= 31 }

// rangeStart returns the first token of a month and day glued by a hyphen
// before the date at token i, the start of a range of days ("(11/29-12/2)",
// "window 8/15-11/20/2025"), or i. numDate refuses an m/d before a hyphen
// and a digit, since pressures and settings are written so ("115-134/65-74"),
// which left the range's first day visible beside its redacted last. The
// first day must stand alone (no chain glued before it) and be free.
func (d *detector) rangeStart(i int) int {
	k := i - 4
	if k < 0 || !d.isPunct(i-1, '-') || !d.isPunct(i-3, '/') || d.toks[k].kind != tkNum || d.toks[i-2].kind != tkNum {
		return i
	}
	for m := k; m < i; m++ {
		if !d.glued(m) || d.state[m] != stFree {
			return i
		}
	}
	if d.toks[k].end-d.toks[k].start > 2 || d.toks[i-2].end-d.toks[i-2].start > 2 || !validMD(atoi(d.raw(k)), atoi(d.raw(i-2))) {
		return i
	}
	if k > 0 && d.glued(k-1) {
		if c := d.text[d.toks[k-1].end-1]; isAlnum(c) || c == '/' || c == '-' || c == '.' {
			return i
		}
	}
	return k
}

// shortWeekdays are the weekdays' abbreviations that are words too ("Mon",
// "Wed", "Fri", "Sat", "Sun"): alone they stay, before a date they are
// its weekday.
var shortWeekdays = set(`mon wed fri sat sun`)

// weekdayBefore returns the index of a weekday's short form, capitalised,
// right before the date that starts at token i on its line ("pump
// disconnect Wed 12/3", "seen Fri 12/4"), or i. The date was redacted
// and its weekday, a word too, left beside it.
func (d *detector) weekdayBefore(i int) int {
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.state[k] != stFree || !d.toks[k].has(fCap) || d.toks[k].end-d.toks[k].start != 3 ||
		!shortWeekdays[d.word(k)] || int(d.toks[i].start)-int(d.toks[k].end) != 1 || d.text[d.toks[k].end] != ' ' {
		return i
	}
	return k
}

// timeTail extends a date ending at q over an attached clock time:
// "1998-06-21 09:37:15", "3/4/2020 at 10:30 am".
func (d *detector) timeTail(q int) int {
	s := d.text
	r := q
	iso := r < len(s) && s[r] == 'T'
	switch {
	case r < len(s) && (s[r] == 'T' || s[r] == ' '):
		r++
	case r+1 < len(s) && s[r] == ',' && s[r+1] == ' ':
		r += 2
	default:
		return q
	}
	if r+3 < len(s) && (s[r:r+3] == "at " || s[r:r+3] == "@ ") {
		r += 3
	}
	h := digitsEnd(s, r)
	if h == r || h-r > 2 || h+2 >= len(s) || s[h] != ':' {
		return q
	}
	m := digitsEnd(s, h+1)
	if m-h-1 != 2 {
		return q
	}
	e := m
	if e+2 < len(s) && s[e] == ':' && digitsEnd(s, e+1) == e+3 {
		e += 3
		if e+1 < len(s) && s[e] == '.' && isDigit(s[e+1]) {
			e = digitsEnd(s, e+1)
		}
	}
	if e+2 <= len(s) {
		k := e
		if k < len(s) && s[k] == ' ' {
			k++
		}
		if k+2 <= len(s) && (s[k]|0x20 == 'a' || s[k]|0x20 == 'p') && s[k+1]|0x20 == 'm' && (k+2 == len(s) || !isAlnum(s[k+2])) {
			e = k + 2
		}
	}
	if e < len(s) && s[e] == 'Z' {
		e++
	} else if iso && e < len(s) && (s[e] == '+' || s[e] == '-') {
		// the zone offset of an ISO 8601 time: "+02:00", "-0500"
		h := digitsEnd(s, e+1)
		switch {
		case h == e+3 && h+2 < len(s) && s[h] == ':' && digitsEnd(s, h+1) == h+3:
			h += 3
		case h == e+5:
		default:
			h = e
		}
		if h > e && (h == len(s) || !isAlnum(s[h])) {
			e = h
		}
	}
	return e
}

// scanSSN matches ddd-dd-dddd and ddd dd dddd.
func scanSSN(s string, p int) (int, bool) {
	if p+11 > len(s) || digitsEnd(s, p) != p+3 {
		return 0, false
	}
	sep := s[p+3]
	if (sep != '-' && sep != ' ') || digitsEnd(s, p+4) != p+6 || s[p+6] != sep || digitsEnd(s, p+7) != p+11 {
		return 0, false
	}
	if p+11 < len(s) && (isAlnum(s[p+11]) || (s[p+11] == '-' && p+12 < len(s) && isDigit(s[p+12]))) {
		return 0, false
	}
	return p + 11, true
}

// scanIPv4 matches a dotted quad.
func scanIPv4(s string, p int) (int, bool) {
	q := p
	for part := 0; part < 4; part++ {
		if part > 0 {
			if q >= len(s) || s[q] != '.' {
				return 0, false
			}
			q++
		}
		e := digitsEnd(s, q)
		if e == q || e-q > 3 || atoi(s[q:e]) > 255 {
			return 0, false
		}
		q = e
	}
	if q < len(s) && (isAlnum(s[q]) || (s[q] == '.' && q+1 < len(s) && isDigit(s[q+1]))) {
		return 0, false
	}
	return q, true
}

// scanCard matches 13-19 digits, alone or in groups of four, that pass the
// Luhn check.
func scanCard(s string, p int) (int, Type, bool) {
	var digits [19]byte
	n, q := 0, p
	var sep byte
	for {
		e := digitsEnd(s, q)
		g := e - q
		if g == 0 || n+g > 19 {
			return 0, 0, false
		}
		n += copy(digits[n:], s[q:e])
		q = e
		if g != 4 && !(n == g) { // only the first group may be long
			if !(q >= len(s) || s[q] != ' ' && s[q] != '-') {
				return 0, 0, false
			}
		}
		if q+1 < len(s) && (s[q] == ' ' || s[q] == '-') && isDigit(s[q+1]) && (sep == 0 || sep == s[q]) && g == 4 {
			sep = s[q]
			q++
			continue
		}
		break
	}
	if n < 13 || (q < len(s) && isAlnum(s[q])) {
		return 0, 0, false
	}
	if luhn(digits[:n]) {
		return q, TypeCreditCard, true
	}
	if sep != 0 && n == 16 {
		return q, TypeID, true
	}
	return 0, 0, false
}

func luhn(digits []byte) bool {
	sum, dbl := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		v := int(digits[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

// phone matches telephone numbers at p in the common written forms:
// (914)382-5067x204, +1-652-917-3048, 519.732.4086, 071 45 38 92.
func (d *detector) phone(p int) (int, Type, bool) {
	s := d.text
	q := p
	plus := false
	if q < len(s) && s[q] == '+' {
		plus = true
		q++
	}
	nd, groups, lastGroup, minGroup := 0, 0, 0, 99
	var glen [9]int // the length of each digit group
	dots, spaces, others, parens := 0, 0, 0, 0
	afterParen := false
	for q < len(s) && nd <= 15 && groups <= 8 {
		if s[q] == '(' {
			e := digitsEnd(s, q+1)
			if e == q+1 || e-q-1 > 5 || e >= len(s) || s[e] != ')' {
				break
			}
			nd += e - q - 1
			glen[groups] = e - q - 1
			groups++
			parens++
			lastGroup = e - q - 1
			q = e + 1
			afterParen = true
		} else {
			e := digitsEnd(s, q)
			if e == q || e-q > 12 {
				break
			}
			g := e - q
			nd += g
			glen[groups] = g
			groups++
			lastGroup = g
			if groups > 1 || !plus {
				minGroup = min(minGroup, g)
			}
			q = e
			afterParen = false
		}
		// separator (a parenthesis after it must open digits: "415.555.0177
		// (work)" ends before it)
		if q+1 < len(s) && (isDigit(s[q+1]) || s[q+1] == '(' && q+2 < len(s) && isDigit(s[q+2])) {
			switch s[q] {
			case ' ':
				if !afterParen {
					spaces++
				}
				q++
				continue
			case '-', '/', '_':
				others++
				q++
				continue
			case '.':
				dots++
				q++
				continue
			}
		}
		if afterParen && q < len(s) && isDigit(s[q]) {
			continue
		}
		if q+3 < len(s) && s[q] == ' ' && s[q+1] == '-' && s[q+2] == ' ' && isDigit(s[q+3]) {
			others++
			q += 3
			continue
		}
		if q+2 < len(s) && s[q] == '-' && s[q+1] == ' ' && isDigit(s[q+2]) && groups < 3 {
			others++ // "212- 555- 0142"
			q += 2
			continue
		}
		if q+5 < len(s) && s[q] == '-' && s[q+1] == '\n' && groups == 2 && glen[0] == 3 && glen[1] == 3 && !plus && s[p] >= '2' && s[p+4] >= '2' && digitsEnd(s, q+2) == q+6 {
			others++ // broken across a line, as a PDF pastes it: "608-555-\n0147"
			q += 2
			continue
		}
		break
	}
	if q > 0 && s[q-1] == ' ' {
		q--
	}
	if nd < 7 || nd > 15 || lastGroup < 2 {
		return 0, 0, false
	}
	if k := strings.IndexByte(s[p:q], '/'); k >= 0 && !(nd == 10 && groups == 3 && glen[0] == 3 && glen[1] == 3 && glen[2] == 4 && k == 3) {
		return 0, 0, false // "134/65-74", "1000/2200", "100-110/40-50": values, not a number
	}
	if groups == 2 && !plus && parens == 0 && dots == 0 {
		a, b := atoi(s[p:p+glen[0]]), atoi(s[q-glen[1]:q])
		switch {
		case glen[0] == 4 && clockTime(a) && (glen[1] == 4 && clockTime(b) || spaces > 0 && glen[1] <= 3):
			return 0, 0, false // a shift or a time and a value: "0700-1900", "1515 373"
		case others > 0 && a%10 == 0 && b%100 == 0 && a < b:
			return 0, 0, false // a range of round values: "950-1000", "900-1500"
		}
	}
	if q < len(s) && (isASCIILetter(s[q]) && !(s[q]|0x20 == 'x' || s[q]|0x20 == 'e')) {
		return 0, 0, false
	}
	if q+1 < len(s) && (s[q] == '.' || s[q] == ',' || s[q] == '/') && isDigit(s[q+1]) {
		return 0, 0, false
	}
	switch {
	case groups == 1:
		if !(nd == 10 || (nd == 11 && s[p] == '1') || plus) {
			return 0, 0, false
		}
	case dots > 0:
		if spaces+others > 0 || groups < 3 || minGroup < 2 {
			return 0, 0, false
		}
	case others == 0 && parens == 0 && !plus:
		// space-separated digit groups
		if minGroup < 2 || groups > 5 {
			return 0, 0, false
		}
	}
	if d.numDateLike(p, q) {
		return 0, 0, false
	}
	// extension (after a comma too: "(415) 555-0176, extension 3"; in
	// French, German, Spanish, Portuguese, Italian and Dutch too: "+33 1
	// 42 68 53 00 poste 221", "Durchwahl 45", "ramal 12")
	r := q
	comma := r+1 < len(s) && s[r] == ',' && s[r+1] == ' '
	if comma {
		r++
	}
	if r < len(s) && s[r] == ' ' {
		r++
	}
	lr := d.low
	for _, x := range []string{"extension", "ext.", "ext", "x", "poste", "durchwahl", "dw.", "anexo", "ramal", "interno", "toestel", "#"} {
		if comma && x == "#" {
			break
		}
		if len(lr)-r >= len(x) && lr[r:r+len(x)] == x {
			k := r + len(x)
			if k < len(s) && s[k] == ' ' {
				k++
			}
			if e := digitsEnd(s, k); e > k && e-k <= 6 && (e == len(s) || !isAlnum(s[e])) {
				q = e
			}
			break
		}
	}
	return q, d.phoneType(p, q), true
}

// numDateLike reports whether bytes [p, q) hold a slash date.
func (d *detector) numDateLike(p, q int) bool {
	for k := p; k < q; k++ {
		if d.text[k] == '/' {
			_, ok := d.numDate(p)
			return ok
		}
	}
	return false
}

// phoneType returns TypeFax when "fax" is next to the number.
func (d *detector) phoneType(p, q int) Type {
	i := d.tokAt(p)
	for k := i - 1; k >= 0 && k >= i-4; k-- {
		if d.toks[k].kind == tkWord {
			if d.word(k) == "fax" {
				return TypeFax
			}
			if d.word(k) != "f" && d.word(k) != "no" && d.word(k) != "number" && d.word(k) != "num" {
				break
			}
		}
	}
	// "(801)264-3390-Fax", "555-0100 (fax)"
	j := d.tokAt(q)
	if j < len(d.toks) && (d.isPunct(j, '-') || d.isPunct(j, '(')) {
		j++
	}
	if j < len(d.toks) && d.toks[j].kind == tkWord && d.word(j) == "fax" && !d.toks[j].has(fNL) {
		if k := j + 1; k >= len(d.toks) || (d.toks[k].kind != tkNum && !d.isPunct(k, '(') && !d.isPunct(k, ':') && !d.isPunct(k, '+')) {
			return TypeFax
		}
	}
	return TypePhone
}

// dateWords before a bare m/d make it a date even when it looks like a
// score: "on 5/5", "since 1/2".
var dateWords = set(`on since from until till thru through dated date of last next starting started effective
admitted admission discharged seen born dob due appt appts appointment`)

// countNouns are what a pathology or a procedure note counts as a part of
// a whole: "2/14 nodes", "1/18 lymph nodes", "3/12 cores".
var countNouns = set(`nodes node lymph ln lns cores core biopsies specimens fragments slides blocks margins sites levels`)

// scoreLike reports whether the m/d at token i (ending at byte q) is a
// score, a fraction or a setting rather than a date: 5/5 strength, 1/2 NS,
// 12/12 meals, a chain such as 10/5/40, unless a date word precedes it.
func (d *detector) scoreLike(i, q int) bool {
	s := d.text
	p := int(d.toks[i].start)
	a := digitsEnd(s, p)
	if a >= len(s) || s[a] != '/' || digitsEnd(s, a+1) != q {
		return false // not a bare m/d
	}
	x, y := atoi(s[p:a]), atoi(s[a+1:q])
	if q < len(s) && s[q] == '/' || p > 0 && s[p-1] == '/' {
		return true // part of a chain: 10/5/40, a blood gas 7.2/98/131/4/45
	}
	if (y == 28 || y == 66 || y == 68) && x <= y && i >= 1 && d.toks[i-1].kind == tkWord && jointCounts[d.word(i-1)] {
		return true // a joint count: "Tender 6/28", "swollen 4/28", "SJC 2/66"
	}
	if y > 31 {
		return false // 8/88: a month and a year
	}
	if d.settingBefore(i) {
		return true // "50% 8/5", "CPAP .5% 5/8", "simv 900 10/25"
	}
	next := d.nextWord(i, q)
	if d.weanBefore(i) || next >= 0 && ventLabels[d.word(next)] || q < len(s) && s[q] == '%' || percentAfter(s, q) {
		return true // "weaned down to 12/5", "trialed on 8/8", "8/5 peep", "9/4%", "9/4 35%"
	}
	if x < y && y <= 4 && next >= 0 && d.valueWord(next) {
		return true // a fraction of a dose: "on 1/2 NS", "1/4 tab"
	}
	// a pain score: "3-4/10", "#9/10", "6/10 cp"; the next rating of a
	// list after one: "Pain: 5/10 at rest, 8/10 with reaching"
	if y == 10 && x <= 10 && (p >= 2 && s[p-1] == '-' && isDigit(s[p-2]) || p >= 1 && s[p-1] == '#' || next >= 0 && painWords[d.word(next)] || d.ratingBefore(i)) {
		return true
	}
	if k := i - 1; k >= 0 && d.toks[k].kind == tkWord && dateWords[d.word(k)] {
		return false
	}
	if x <= y && next >= 0 && countNouns[d.word(next)] {
		return true // a count of a whole: "1/18 lymph nodes", "3/5 cores", "0/4 margins"
	}
	if p >= 2 && s[p-1] == '(' && q < len(s) && s[q] == ')' && d.unitBeforeParen(i) {
		return false // the day of a measurement: "Wt 63.0 kg (2/3)", "Cr 1.4 mg/dL (1/1)"
	}
	if r := q + 1; q < len(s) && s[q] == ' ' && r < len(s) && (s[r] == '@' || digitsEnd(s, r)-r == 4 || atClock(s, r)) {
		return false // a time follows: "9/9 @ 1900", "11/19 0400", "4/4 at 9:30", "2/2 at 10am"
	}
	if d.clockBefore(i) || d.eventBefore(i) {
		return false // "at 9p 4/4", "until 8am 5/5"; "admission note 6/6", "extubated 1/3"
	}
	if d.statusPostBefore(i) {
		return false // the day of an event: "s/p knee repair 4/4", "S/P FALL 7/7", "heparin d/c 2/2", "f/u 3/3"
	}
	if k := i - 1; k >= 0 && !d.toks[i].has(fNL) && d.toks[k].kind == tkWord && (d.is(k, vWeekday) || actionsDone[d.word(k)]) {
		return false // the weekday of the day: "booked for Thursday 1/2"; "PICC removed 2/2"
	}
	// a rating on a scale after what it rates: "mood 4/10", "hunger 3/10",
	// "murmur 2/6", "strength 4/5", "passed 4/5 trials"
	if x <= y && y <= 10 && (d.ratedBefore(i) || next >= 0 && ratedWords[d.word(next)]) {
		return true
	}
	// a screening test's score out of its own maximum: "MNA-SF 9/14",
	// "Braden 12/23" (an invalid day needs no rule: "MoCA 24/30")
	if k := d.ratedWordBefore(i); x <= y && k >= 0 && instruments[d.word(k)] {
		return true
	}
	if d.toks[i].has(fSent) && next >= 0 && !d.valueWord(next) && !painWords[d.word(next)] {
		return false // a day that opens a line or sentence of a history: "7/7 ANTIBIOTICS STOPPED", "3/4 BACK TO CATH LAB"
	}
	return x == y || y <= 4 && x < y
}

// unitBeforeParen reports whether a number and its unit stand right
// before the "(" before token i: a measurement whose day follows it in
// parentheses, as weight and lab histories write it ("63.0 kg (2/3)").
func (d *detector) unitBeforeParen(i int) bool {
	k := i - 2 // the unit, before "("
	if k < 1 || !d.isPunct(i-1, '(') || d.toks[k].kind != tkWord || !d.is(k, vUnit) || d.toks[i-1].has(fNL) {
		return false
	}
	m := k - 1
	for m > 0 && d.isPunct(m, '/') && d.toks[m-1].kind == tkWord && d.is(m-1, vUnit) {
		m -= 2 // "mg/dL"
	}
	return m >= 0 && d.toks[m].kind == tkNum
}

// atClock reports whether a clock time written with a colon or with its
// half of the day, after "at", starts at byte r: "at 9:30", "at 10am",
// "at 2 pm" (an appointment's day and hour: "f/u 4/4 at 9:30").
func atClock(s string, r int) bool {
	if len(s) < r+4 || s[r] != 'a' && s[r] != 'A' || s[r+1] != 't' && s[r+1] != 'T' || s[r+2] != ' ' {
		return false
	}
	a := r + 3
	b := digitsEnd(s, a)
	if b == a || b-a > 2 || atoi(s[a:b]) > 23 {
		return false
	}
	if b+2 < len(s) && s[b] == ':' && digitsEnd(s, b+1) == b+3 {
		return true
	}
	if b < len(s) && s[b] == ' ' {
		b++
	}
	if b+1 < len(s) && (s[b]|0x20 == 'a' || s[b]|0x20 == 'p') && s[b+1]|0x20 == 'm' {
		return b+2 == len(s) || s[b+2]|0x20 < 'a' || s[b+2]|0x20 > 'z'
	}
	return false
}

// ratingBefore reports whether a rating out of ten that a label or a word
// rated keeps stands a few words before the x/10 at token i in the same
// sentence, as a list of ratings goes on: "Pain: 5/10 at rest, 8/10 with
// reaching", "pain 2/10 now, 6/10 at worst". A list of days ("seen 3/10,
// 4/10") has no rated word before its first.
func (d *detector) ratingBefore(i int) bool {
	if i > 0 && d.toks[i-1].kind == tkWord && dateWords[d.word(i-1)] {
		return false // "Pain 4/10 since 3/10"
	}
	for k, n := i-1, 0; k >= 0 && n < 6; k, n = k-1, n+1 {
		t := &d.toks[k]
		if d.toks[k+1].has(fNL) || d.isPunct(k, '.') || d.isPunct(k, ';') {
			return false
		}
		if t.kind != tkNum {
			continue
		}
		p, a := int(t.start), int(t.end)
		if a+3 > len(d.text) || d.text[a:a+3] != "/10" || digitsEnd(d.text, a+1) != a+3 || k > 0 && d.isPunct(k-1, '/') || atoi(d.text[p:a]) > 10 {
			continue
		}
		return d.ratedBefore(k)
	}
	return false
}

// clockBefore reports whether a clock time with its half of the day
// stands right before the m/d at token i: "at 9p 4/4", "until 8am 5/5",
// "AT 3A 2/2" (the time, then the day).
func (d *detector) clockBefore(i int) bool {
	k := i - 1
	if k < 1 || d.toks[i].has(fNL) || d.toks[k].kind != tkWord || d.toks[k-1].kind != tkNum || !d.glued(k-1) || d.glued(k) {
		return false
	}
	switch d.word(k) {
	case "a", "p", "am", "pm":
		return d.toks[k-1].end-d.toks[k-1].start <= 2 && atoi(d.raw(k-1)) <= 12
	}
	return false
}

// eventWords are the events of a stay whose day a note gives after them:
// "admission note 6/6", "extubated 1/3", "admitted to ccu 3/4".
var eventWords = set(`note admitted admit readmitted admission transferred transfered extubated extub intubated intub
discharged`)

// eventBefore reports whether an event of a stay stands before the m/d at
// token i, at most three words back with no punctuation between: "SEE PT
// ADMISSION NOTE 11/11", "admitted to ccu 3/4".
func (d *detector) eventBefore(i int) bool {
	for k, n := i-1, 0; k >= 0 && n < 3; k, n = k-1, n+1 {
		if d.toks[k].kind != tkWord || d.toks[k+1].has(fNL) {
			return false
		}
		if eventWords[d.word(k)] {
			return true
		}
	}
	return false
}

// statusPostBefore reports whether "s/p" (status post) stands one to three
// words before the m/d at token i on its line, with no other punctuation
// between, or "d/c" (discontinued, discharged) or "f/u" (follow-up) up to
// three words before it: what a patient is status post is an event, and a
// day after it is its date ("s/p knee repair 4/4", "S/P FALL 7/7",
// "heparin d/c 2/2", "f/u 3/3 in clinic"). A dose fraction was kept before this
// is asked ("d/c 1/4 NS").
func (d *detector) statusPostBefore(i int) bool {
	for k, n := i-1, 0; k >= 2 && n < 4; k, n = k-1, n+1 {
		if d.toks[k].kind != tkWord || d.toks[k+1].has(fNL) {
			return false
		}
		if !d.isPunct(k-1, '/') || d.toks[k-2].kind != tkWord || !d.glued(k-2) || !d.glued(k-1) {
			continue
		}
		switch d.word(k-2) + "/" + d.word(k) {
		case "s/p":
			if n > 0 {
				return true
			}
		case "d/c", "f/u":
			return true
		}
	}
	return false
}

// actionsDone are what is done to a patient, whose day a note gives right
// after them: "PICC removed 2/2", "urine cx sent 4/4", "drain pulled 1/1".
var actionsDone = set(`placed inserted removed pulled drawn sent done started stopped changed cultured pancultured
obtained performed dc'd dced discontinued resited rewired`)

// ratedWords are what a clinician or a patient rates on a scale (x/10,
// x/6, x/5), written before the rating or after it.
var ratedWords = set(`mood anxiety hunger fullness satiety pain energy stress sleep fatigue nausea craving cravings
appetite motivation confidence readiness importance depression dyspnea itch itching rating score scale severity
murmur strength reflexes power grade trials trial effort discomfort bloating cp headache ache rates
cog mini-cog minicog moca mmse slums cage apgar apgars mna berg braden tinetti gds bims`)

// jointCounts count the tender or swollen joints of a rheumatology exam
// out of 28, 66 or 68.
var jointCounts = set(`tender swollen tjc sjc tjc28 sjc28 joints`)

// instruments are screening tests scored out of a maximum of their own
// (Mini-Cog 5, MNA-SF 14, Braden 23, GDS 15): a score m/d after one is no
// date whatever d is.
var instruments = set(`cog mini-cog minicog moca mmse slums cage apgar apgars mna sf berg braden tinetti gds bims`)

// ratedBefore reports whether the rating at token i follows what it rates,
// perhaps after a colon or "of"/"at"/"is"/"was"/"as": "Mood 4/10",
// "anxiety: 7/10", "hunger at 3/10", "pain as 7/10".
func (d *detector) ratedBefore(i int) bool { return d.ratedWordBefore(i) >= 0 }

// ratedWordBefore returns the index of the word that the rating at token i
// rates (see ratedBefore), or -1.
func (d *detector) ratedWordBefore(i int) int {
	for k, steps := i-1, 0; k >= 0 && steps < 3; k, steps = k-1, steps+1 {
		switch {
		case d.isPunct(k, ':') || d.isPunct(k, '='):
		case d.toks[k].kind != tkWord:
			return -1
		case ratedWords[d.word(k)] || d.word(k) == "sf" && k >= 2 && d.isPunct(k-1, '-') && d.word(k-2) == "mna":
			return k
		case d.word(k) == "of" || d.word(k) == "at" || d.word(k) == "is" || d.word(k) == "was" || d.word(k) == "rated" || d.word(k) == "as":
		default:
			return -1
		}
	}
	return -1
}

// dateEvidence reports whether the date-shaped value at token i, ending at
// byte q, is a date whatever label or unit stands next to it: a clock time
// follows ("SVR (11/19 0400)"), or a date word precedes a value that is no
// simple fraction ("BC from 7/4 gm+ rods"; "on 1/2 tab" stays a dose).
func (d *detector) dateEvidence(i, q int) bool {
	s := d.text
	if r := q + 1; q < len(s) && s[q] == ' ' && r < len(s) && (s[r] == '@' || digitsEnd(s, r)-r == 4 && clockTime(atoi(s[r:r+4]))) {
		return true
	}
	if p := int(d.toks[i].start); p > 0 && s[p-1] == '(' && q < len(s) && s[q] == ')' {
		// a month and a year in parentheses, as a history dates what it
		// lists: "COLON CA (11/94)" (CA is a label too)
		if a := digitsEnd(s, p); a+3 == q && s[a] == '/' && atoi(s[p:a]) <= 12 && atoi(s[a+1:q]) > 31 {
			return true
		}
	}
	if r := q + 2; q+1 < len(s) && s[q] == ' ' && (s[q+1] == '<' || s[q+1] == '>') && r < len(s) && (isDigit(s[r]) || s[r] == '.' && r+1 < len(s) && isDigit(s[r+1])) {
		// a lab's result after the day it was drawn, bounded: "TSH 11/20
		// <0.01", "Trop 3/2 <0.03" (a setting or a ratio is followed by
		// no bound)
		return true
	}
	k := i - 1
	if k >= 0 && d.isPunct(k, ':') {
		k--
	}
	if k >= 0 && d.toks[k].kind == tkWord && bodyMeasures[d.word(k)] && !d.toks[i].has(fNL) && d.measureAfter(q) {
		// a weight log's day before the weight: "Wt 11/3 182 lb",
		// "Weight 12/1: 176.4" (a weight or a height is never written
		// with a slash)
		return true
	}
	k = i - 1
	if k < 0 || d.toks[k].kind != tkWord || !dateWords[d.word(k)] {
		return false
	}
	if d.word(k) == "of" && k > 0 && (d.is(k-1, vVitalLabel) || d.isPunct(k-1, '/') && k > 1 && d.is(k-2, vVitalLabel)) {
		return false // a setting: "PSV of 10/5", "Pressure Support/CPAP of 14/6"
	}
	p := int(d.toks[i].start)
	a := digitsEnd(s, p)
	if a < q && s[a] == '/' && digitsEnd(s, a+1) == q {
		x, y := atoi(s[p:a]), atoi(s[a+1:q])
		return !(x < y && y <= 4)
	}
	return true
}

// bodyMeasures are the labels of a weight or a height, whose value is
// never written with a slash.
var bodyMeasures = set(`wt weight wgt ht height bw`)

// measureAfter reports whether a reading follows byte q after a blank or
// a colon and a blank: a number of two digits or more, perhaps with its
// decimals ("182 lb", ": 176.4"), and no slash after it ("Wt 10/2 150/90"
// is none).
func (d *detector) measureAfter(q int) bool {
	s := d.text
	r := q
	if r < len(s) && s[r] == ':' {
		r++
	}
	if r >= len(s) || s[r] != ' ' {
		return false
	}
	e := digitsEnd(s, r+1)
	if e-(r+1) < 2 || e-(r+1) > 3 {
		return false
	}
	if e < len(s) && s[e] == '.' && e+1 < len(s) && isDigit(s[e+1]) {
		e = digitsEnd(s, e+1)
	}
	return e == len(s) || s[e] != '/' && s[e] != '-' && !isAlnum(s[e]) || s[e] == 'k' || s[e] == 'l'
}

// letterBeforeWord reports whether token j is a single letter followed by a
// word on the same line: after a date that is shorthand ("4/19 c AMI", c
// for with), not a unit.
func (d *detector) letterBeforeWord(j int) bool {
	if j+1 >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].end-d.toks[j].start != 1 {
		return false
	}
	n := d.toks[j+1]
	return n.kind == tkWord && !n.has(fNL) && n.start-d.toks[j].end == 1 && !d.is(j+1, vUnit)
}

// painWords follow a pain score: "6/10 cp".
var painWords = set(`pain cp pains discomfort ache aches ha headache cpain`)

// percentAfter reports whether a percentage follows byte q after one
// blank: "9/4 35%" (pressures, then the oxygen).
func percentAfter(s string, q int) bool {
	if q+2 >= len(s) || s[q] != ' ' {
		return false
	}
	e := digitsEnd(s, q+1)
	return e > q+1 && e-q-1 <= 3 && e < len(s) && s[e] == '%'
}

// ventLabels name a ventilator's setting after its values: "8/5 peep".
var ventLabels = set(`peep ps psv cpap bipap ipap epap fio2 fi02 simv imv ac prvc`)

// weanBefore reports whether a ventilator is weaned or trialed to the m/d
// at token i: "wean down to 12/5", "weaned to 8/8", "trialed on 8/8".
func (d *detector) weanBefore(i int) bool {
	k := i - 1
	if k < 1 || d.toks[i].has(fNL) || d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "to", "on":
	default:
		return false
	}
	k--
	if d.toks[k].kind == tkWord && (d.word(k) == "down" || d.word(k) == "back") && k > 0 {
		k--
	}
	if d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "wean", "weaned", "weaning", "trial", "trialed", "trialled", "trialing":
		return true
	}
	return false
}

// settingBefore reports whether the m/d at token i follows a percentage
// ("FiO2 50% 8/5") or a vital or ventilator label and one value ("simv
// 900 10/25"): a setting, not a date.
func (d *detector) settingBefore(i int) bool {
	k := i - 1
	if k >= 0 && (d.isPunct(k, '&') || d.toks[k].kind == tkWord && d.word(k) == "and") {
		k-- // "50%, & 6/8"
	}
	if k >= 0 && d.isPunct(k, ',') {
		k--
	}
	if k < 0 || d.toks[i].has(fNL) {
		return false
	}
	if d.toks[k].kind == tkWord && ventLabels[d.word(k)] {
		return true // "face mask bipap, 14/6"
	}
	if d.isPunct(k, '%') && k > 0 && d.toks[k-1].kind == tkNum && d.glued(k-1) {
		return true
	}
	if d.toks[k].kind == tkNum && d.toks[k].end-d.toks[k].start <= 4 && k > 0 && d.toks[k-1].kind == tkWord && !d.glued(k-1) && d.is(k-1, vVitalLabel) {
		return true
	}
	return false
}

// nextWord returns the word token that follows byte q after one blank on
// the same line, or -1.
func (d *detector) nextWord(i, q int) int {
	j := d.tokAt(q)
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) || int(d.toks[j].start) != q+1 {
		return -1
	}
	return j
}

// valueWord reports whether word j says what a number measures: a unit or a
// clinical term that is no English word ("NS", "tab", "cp").
func (d *detector) valueWord(j int) bool {
	return d.is(j, vUnit) || d.toks[j].lex&lexClinical != 0 && d.toks[j].lex&(lexCommon|lexFirst|lexLast) == 0
}

// clockTime reports whether n, written with four digits, is a 24-hour time.
func clockTime(n int) bool { return n/100 < 24 && n%100 < 60 }

// scanSpacedDate matches a date whose parts are parted by a slash, a
// hyphen or a dot with a blank either side, as text extracted from a PDF
// or a form's boxes gives it: "3 / 14 / 1951", "03 - 14 - 1951". The
// year must have its four digits (1900 to 2099), so that a row of scores
// or a ratio stays ("4 / 5 / 10", "120 / 80"), and the month and the day
// must be one (either first).
func scanSpacedDate(s string, p int) (int, bool) {
	if p > 0 && (isAlnum(s[p-1]) || s[p-1] == '/' || s[p-1] == '.' || s[p-1] == '-') {
		return 0, false
	}
	var v [2]int
	var sep byte
	q := p
	for g := 0; g < 2; g++ {
		e := digitsEnd(s, q)
		if e == q || e-q > 2 || e+3 >= len(s) || s[e] != ' ' || s[e+2] != ' ' {
			return 0, false
		}
		c := s[e+1]
		if c != '/' && c != '-' && c != '.' || g == 1 && c != sep {
			return 0, false
		}
		sep = c
		v[g] = atoi(s[q:e])
		q = e + 3
	}
	e := digitsEnd(s, q)
	if e-q != 4 || e < len(s) && (isAlnum(s[e]) || s[e] == '/' || s[e] == '-' && e+1 < len(s) && isDigit(s[e+1])) {
		return 0, false
	}
	if y := atoi(s[q:e]); y < 1900 || y > 2099 || v[0] < 1 || v[1] < 1 || v[0] > 31 || v[1] > 31 || v[0] > 12 && v[1] > 12 {
		return 0, false
	}
	return e, true
}
