package phi

import "strings"

// wordAt tries the scanners that start with a word.
func (d *detector) wordAt(i int) int {
	s := d.text
	t := d.toks[i]
	p := int(t.start)
	w := d.low[t.start:t.end] // d.word(i), written out (word is not inlined)
	if t.flags&fNonASCII != 0 {
		w = strings.ToLower(w)
	}
	// (a word of five bytes or more holds no ':' in its first five, so
	// hexColonAhead would refuse it)
	if t.end-t.start <= 4 && hexColonAhead(s, p) {
		if q, typ, ok := scanHexColon(s, p); ok {
			return d.claimBytes(i, q, typ)
		}
	}
	if t.end-t.start == 1 && w == "x" && i+3 < len(d.toks) {
		if j := d.extension(i); j > i {
			return j
		}
	}
	if t.end-t.start == 1 && d.glued(i) && d.toks[i+1].kind == tkNum {
		if q, ok := d.eircode(i); ok {
			return d.claimBytes(i, q, TypeZIP) // "Dublin D02 X285, Ireland"
		}
	}
	if d.glued(i) && (d.toks[i+1].kind == tkNum || (d.toks[i+1].kind == tkWord)) {
		if j := d.compound(i); j > i {
			return j
		}
	}
	if w == "s" && d.glued(i) && d.isPunct(i+1, '/') && d.glued(i+1) && i+2 < len(d.toks) && d.word(i+2) == "n" {
		// "S/N 4471-AK-2290": the slash splits the serial number's label
		if j := d.trigger(i+2, TypeDevice); j > i+2 {
			return j
		}
	}
	if i+3 < len(d.toks) && d.glued(i) && d.isPunct(i+1, '.') && d.glued(i+1) && d.toks[i+2].end-d.toks[i+2].start == 1 && credentials[w+d.word(i+2)] {
		return d.keep(i, i+3) // a credential written with dots: "Au.D.", "Pharm.D." (Au and Pharm are no names here)
	}
	if d.is(i, vMonth) {
		if j, ok := d.monthDate(i); ok {
			if j == i+1 || j == i+2 && d.isPunct(i+1, '.') {
				j = d.spelledDayAfter(j)
			}
			return d.claimBytes(d.spelledDayBefore(i), d.timeTail(int(d.toks[j-1].end)), TypeDate)
		}
	}
	if d.is(i, vWeekday|vHoliday) {
		if d.is(i, vWeekday) && d.weekdayClass(i) {
			return d.keep(i, i+2)
		}
		if dayHolidays[w] && !d.is(i, vWeekday) {
			if j := d.holidayDay(i, w); j > i {
				return d.claim(i, j, TypeDate, prioStruct) // "Memorial Day", "New Year's Eve"
			}
			if !holidayWords[w] {
				return i
			}
		}
		j := i + 1
		if d.is(i, vHoliday) && d.toks[i].has(fCap) && j < len(d.toks) && d.toks[j].kind == tkWord && d.toks[j].has(fCap) && !d.toks[j].has(fNL) && d.toks[j].start == d.toks[i].end+1 {
			if v := d.word(j); v == "day" || v == "eve" {
				j++ // "Christmas Eve"
			}
		}
		return d.claim(i, j, TypeDate, prioStruct)
	}
	if d.is(i, vTrigger) {
		if j := d.trigger(i, idTriggers[w]); j > i {
			return j
		}
	}
	if d.is(i, vUnitWord) {
		if j := d.unitAddress(i); j > i {
			return j
		}
	}
	if j := d.streetFromWord(i, w); j > i {
		return j
	}
	if j := d.placeRoute(i, w); j > i {
		return j
	}
	return i
}

// startsNoScanner reports whether word token t at i starts none of
// wordAt's scanners, as most words do: no vocabulary of theirs, not glued
// to the next token (a hex colon run and a compound need a ':' or a digit
// right after the letters), and either in lower case where case is
// evidence or an English or clinical word (no street morpheme can make it
// a street). run asks it before wordAt, sparing the scanners' own tests.
func (d *detector) startsNoScanner(i int, t *token) bool {
	return uint64(t.voc)<<16&wordScanVocab == 0 && !d.glued(i) &&
		(!(t.has(fCap) || d.lowerDoc) || t.lex&(lexSafe|lexCommon|lexClinical) != 0 && !(d.lowerDoc && t.lex&lexCommon == 0))
}

// wordScanVocab are the vocabularies that wordAt's scanners start from.
const wordScanVocab = vMonth | vWeekday | vHoliday | vTrigger | vUnitWord | vStreetPrefix | vStreetSuffix

// compound handles a glued run of letters and digits starting at token i:
// units ("500mg") and ages ("92yo") are kept or aged; IBANs, VINs and IDs
// are claimed.
func (d *detector) compound(i int) int {
	if d.toks[i].end-d.toks[i].start == 1 && ocrDigit(d.text[d.toks[i].start]) != 0 || d.toks[i+1].end-d.toks[i+1].start == 1 && ocrDigit(d.text[d.toks[i+1].start]) != 0 {
		d.ocrSeen = true // "O6/14/1952", "1O/29/2026": see ocrNumbers
	}
	if j := d.postcode(i); j > i {
		return j
	}
	if j := d.gridNumber(i); j > i {
		return j
	}
	if q, ok := d.gluedDate(i); ok {
		return d.claimBytes(i, q, TypeDate) // "fx6/95": the word goes with it, as with any glued run
	}
	j := i
	nd, nl := 0, 0
	for j < len(d.toks) && (d.toks[j].kind == tkNum || d.toks[j].kind == tkWord) && (j == i || d.toks[j].start == d.toks[j-1].end) {
		n := int(d.toks[j].end - d.toks[j].start)
		if d.toks[j].kind == tkNum {
			nd += n
		} else {
			nl += n
		}
		j++
	}
	if nd == 0 || nl == 0 {
		return i
	}
	// The compound must not continue into an e-mail or a hex colon run.
	if j < len(d.toks) && d.toks[j].start == d.toks[j-1].end && d.toks[j].kind == tkPunct {
		if c := d.text[d.toks[j].start]; c == '@' {
			return i
		}
	}
	raw := d.text[d.toks[i].start:d.toks[j-1].end]
	if d.times(i, j) {
		return d.keep(i, j) // a setting or a size: "500x14", "2x2", "400x10x30"
	}
	// number + unit, ordinal, decade, age
	if d.toks[i].kind == tkNum && j == i+2 {
		u := d.word(i + 1)
		v := atoi(d.raw(i))
		switch {
		case u == "yo" || u == "y" || u == "yr" || u == "yrs" || u == "yof" || u == "yom":
			if v >= 90 && v < 130 {
				return d.claim(i, i+1, TypeAge, prioStruct)
			}
			return d.keep(i, j)
		case (u == "f" || u == "m") && v >= 90 && v < 130 && !d.keptNum(i, i) && d.historyLead(i):
			// "92F presents with a fall", "a 94M with" (not "T 101F")
			return d.claim(i, i+1, TypeAge, prioStruct)
		case (u == "st" || u == "nd" || u == "rd" || u == "th") && v >= 1 && v <= 31 && d.dayOfMonth(i, j):
			// a day of the month: "had my baby on the 12th", "by the 15th"
			return d.claim(i, j, TypeDate, prioStruct)
		case d.is(i+1, vUnit) || u == "st" || u == "nd" || u == "rd" || u == "th" || u == "s" || u == "am" || u == "pm" || u == "a" || u == "p":
			return d.keep(i, j)
		}
	}
	if rt, ok := d.recordShape(raw); ok {
		return d.claim(i, j, rt, prioRecord)
	}
	if d.quantity(i) || d.labelled(i) {
		return d.keep(i, j) // "200MCGS", "10cmH2O", "500ccNS"; "TYLENOL650", "sbp146"
	}
	if obstetricHistory(raw) {
		return d.keep(i, j) // gravidity and parity: "G3P2002", "G2P1011", "g4p3"
	}
	if d.toks[i].kind == tkWord && d.proteinChange(i, raw) {
		return d.keep(i, j) // a variant's protein change: "p.Ser1982fs", "p.Arg175His"
	}
	if j == i+2 && nl == 1 && nd == 4 && d.toks[i].kind == tkWord && d.hcpcsBefore(i) {
		return d.keep(i, j) // an equipment code: "HCPCS E0260 hospital bed, E0143 walker"
	}
	n := nd + nl
	switch {
	case n >= 15 && n <= 34 && nl >= 2 && isIBANShape(raw):
		return d.claim(i, j, TypeIBAN, prioStruct)
	case n == 17 && nd >= 3 && !strings.ContainsAny(strings.ToUpper(raw), "IOQ"):
		return d.claim(i, j, TypeVehicle, prioStruct)
	case nd >= 4 || (nd >= 3 && n >= 6):
		return d.claim(i, j, TypeID, prioStruct)
	}
	return d.keep(i, j)
}

// gridNumber claims a house number of a grid address, as Wisconsin and
// northern Illinois write them in the country, with its street: a
// direction's capital glued to its digits, once or twice, then a street
// ("N5421 State Hwy 13", "W3391 County Rd K", "W156N11500 Pilgrim Rd").
// The number alone was an identifier, the street stayed. It returns the
// end, or i.
func (d *detector) gridNumber(i int) int {
	j := i
	for k := 0; k < 2 && j+1 < len(d.toks); k++ {
		t, n := &d.toks[j], &d.toks[j+1]
		if t.kind != tkWord || t.end-t.start != 1 || n.kind != tkNum || n.start != t.end || n.end-n.start < 3 || n.end-n.start > 6 || (k > 0 && t.start != d.toks[j-1].end) {
			break
		}
		if c := d.text[t.start]; c != 'N' && c != 'S' && c != 'E' && c != 'W' {
			break
		}
		j += 2
	}
	if j == i || j < len(d.toks) && d.toks[j].start == d.toks[j-1].end && d.toks[j].kind != tkPunct {
		return i
	}
	if e := d.addressFromNumber(j - 1); e > j-1 {
		return e // (claimed from the number, over the glued letters before)
	}
	return i
}

// eircodeLetters are the letters of an Irish postcode (Eircode).
const eircodeLetters = "ACDEFHKNPRTVWXY"

// eircode matches an Irish postcode at word i, its routing key (a letter
// and two digits, or D6W) and its unique identifier (four of its letters
// and digits, one letter at least) after a blank: "D02 X285", "T12 K7PC".
// The shape alone is a code of many kinds, so an Irish place must be next
// to it: a town on the place list before it (perhaps with a comma),
// "Eircode" before it, or "Ireland" after it. It returns the end.
func (d *detector) eircode(i int) (int, bool) {
	s := d.text
	p := int(d.toks[i].start)
	if p+8 > len(s) || strings.IndexByte(eircodeLetters, s[p]) < 0 || !isDigit(s[p+1]) || !(isDigit(s[p+2]) || s[p] == 'D' && s[p+1] == '6' && s[p+2] == 'W') || s[p+3] != ' ' {
		return 0, false
	}
	letters := 0
	for k := p + 4; k < p+8; k++ {
		if c := s[k]; !isDigit(c) {
			if strings.IndexByte(eircodeLetters, c) < 0 {
				return 0, false
			}
			letters++
		}
	}
	q := p + 8
	if letters == 0 || q < len(s) && isAlnum(s[q]) {
		return 0, false
	}
	k := i - 1
	if d.isPunct(k, ':') || d.isPunct(k, ',') {
		k--
	}
	if k >= 0 && d.toks[k].kind == tkWord && !d.toks[i].has(fNL) && (d.toks[k].lex&lexCity != 0 && d.toks[k].has(fCap) || d.word(k) == "eircode") {
		return q, true
	}
	r := q
	if r < len(s) && s[r] == ',' {
		r++
	}
	for r < len(s) && s[r] == ' ' {
		r++
	}
	return q, strings.HasPrefix(d.low[r:], "ireland")
}

// proteinChange reports whether the compound raw at token i is a
// variant's change of an amino acid after "p." (HGVS, as a genetic test
// report writes it): a three-letter amino acid, its position, and
// another amino acid, "fs", "del", "dup", "ins", "Ter" or nothing
// ("p.Ser1982fs", "p.Arg175His", "p.Gly12Asp").
func (d *detector) proteinChange(i int, raw string) bool {
	if len(raw) < 4 || i < 2 || !aminoAcids[strings.ToLower(raw[:3])] || !d.isPunct(i-1, '.') || !d.glued(i-2) || d.toks[i-2].kind != tkWord || d.word(i-2) != "p" {
		return false
	}
	q := digitsEnd(raw, 3)
	if q == 3 {
		return false
	}
	rest := strings.ToLower(raw[q:])
	return rest == "" || aminoAcids[rest] || rest == "fs" || rest == "del" || rest == "dup" || rest == "ins" || len(rest) > 3 && aminoAcids[rest[:3]] && rest[3:] == "fs"
}

// aminoAcids are the three-letter codes of the amino acids, and "ter",
// the stop.
var aminoAcids = set(`ala arg asn asp cys gln glu gly his ile leu lys met phe pro ser thr trp tyr val ter sec pyl`)

// hcpcsBefore reports whether "HCPCS" stands before token i on its line,
// at most twelve tokens back, so that a capital and four digits there are
// the code set's (an equipment order's "HCPCS E0260, E0143"), no
// identifier.
func (d *detector) hcpcsBefore(i int) bool {
	if c := d.text[d.toks[i].start]; c < 'A' || c > 'V' {
		return false
	}
	for k := i - 1; k >= 0 && k >= i-12 && !d.toks[k+1].has(fNL); k-- {
		if d.toks[k].kind == tkWord && d.toks[k].end-d.toks[k].start == 5 && d.word(k) == "hcpcs" {
			return true
		}
	}
	return false
}

// obstetricHistory reports whether s is gravidity and parity written
// together, as obstetric notes open: "G3P2002" (the four TPAL counts),
// "G2P1", "G5P4A1", "G1P0Ab1" (abortions). Each count has at most two
// digits, parity one or four, and no more births than pregnancies, so an
// identifier of that shape stays one ("G12P4471").
func obstetricHistory(s string) bool {
	if len(s) < 4 || len(s) > 12 || s[0]|0x20 != 'g' {
		return false
	}
	p := 1
	q := digitsEnd(s, p)
	if q == p || q-p > 2 || q >= len(s) || s[q]|0x20 != 'p' {
		return false
	}
	g := atoi(s[p:q])
	p = q + 1
	q = digitsEnd(s, p)
	switch q - p {
	case 1: // deliveries, no more than pregnancies
		if int(s[p]-'0') > g {
			return false
		}
	case 4: // term, preterm, abortions, living: the first three no more than pregnancies
		if int(s[p]-'0')+int(s[p+1]-'0')+int(s[p+2]-'0') > g {
			return false
		}
	default:
		return false
	}
	if q == len(s) {
		return true
	}
	// an abortion count after: "A1", "Ab1"
	p = q
	if s[p]|0x20 != 'a' {
		return false
	}
	p++
	if p < len(s) && s[p]|0x20 == 'b' {
		p++
	}
	q = digitsEnd(s, p)
	return q > p && q-p <= 2 && q == len(s)
}

func isIBANShape(s string) bool {
	return len(s) >= 15 && isASCIILetter(s[0]) && isASCIILetter(s[1]) && isDigit(s[2]) && isDigit(s[3])
}

// dayMonth matches dates that start with the day: "15 March 2020",
// "15th of Mar", "15-Mar-2020".
func (d *detector) dayMonth(i int) (int, bool) {
	v := atoi(d.raw(i))
	if d.toks[i].end-d.toks[i].start > 2 || v < 1 || v > 31 {
		return 0, false
	}
	j := i + 1
	if j < len(d.toks) && d.glued(i) && d.toks[j].kind == tkWord {
		switch d.word(j) {
		case "st", "nd", "rd", "th":
			j++
			// "the 20th day of November, 2025", as deeds and court
			// papers date themselves
			if j+1 < len(d.toks) && d.toks[j].kind == tkWord && d.word(j) == "day" && d.word(j+1) == "of" && !d.toks[j].has(fNL) {
				j++
			}
		default:
			return 0, false
		}
	}
	if j < len(d.toks) && (d.isPunct(j, '-') || d.isPunct(j, '/') || d.isPunct(j, '.')) && d.glued(j) {
		j++
	}
	de := false
	if j == i+1 && j+1 < len(d.toks) && d.isPunct(j, '.') && d.glued(i) && !d.glued(j) && d.toks[j+1].kind == tkWord &&
		!d.toks[j+1].has(fNL) && foreignMonths[d.word(j+1)] && months[d.word(j+1)] == 0 {
		j++ // "5. Mai 1960", the German way
	}
	if j < len(d.toks) && d.toks[j].kind == tkWord {
		switch d.word(j) {
		case "of":
			j++
		case "de":
			j, de = j+1, true
		}
	}
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) {
		return 0, false
	}
	if _, ok := months[d.word(j)]; !ok || de {
		return d.foreignDayMonth(j, de)
	}
	m := j
	j++
	if j < len(d.toks) && d.isPunct(j, '.') && d.glued(j-1) {
		j++
	}
	end := d.yearTail(j)
	// where case is no evidence, a short month that is also a word or
	// shorthand ("02 dec from 4->2", "5 mar") needs a year
	if end == j && d.toks[m].has(fNoCase) && !d.lowerDoc && len(d.word(m)) == 3 && d.toks[m].lex&(lexCommon|lexClinical) != 0 {
		return 0, false
	}
	return end, true
}

// foreignDayMonth ends a date written day first in Spanish, Portuguese,
// French, German or Italian whose month is token m: "12 de marzo de
// 1979", "3 de noviembre", "4 novembre 2026", "5. Mai 1960". de says a
// "de" stood between the day and the month. A month that is also an
// English word or a name ("mars", "Mai", "August") needs the "de" or a
// year after it.
func (d *detector) foreignDayMonth(m int, de bool) (int, bool) {
	w := d.word(m)
	if len(w) < 3 || len(w) > 10 || !foreignMonths[w] {
		// an abbreviated month between glued slashes or hyphens, before
		// a year: "14/ene/2027", "3-dic-2026", "22-out-2025"
		if !de && foreignMonthAbbrevs[w] && m >= 1 && m+2 < len(d.toks) && d.glued(m-1) && d.glued(m) && d.toks[m+1].kind == tkPunct &&
			d.text[d.toks[m-1].start] == d.text[d.toks[m+1].start] && d.toks[m+2].kind == tkNum {
			if end := d.yearTail(m + 1); end > m+1 {
				return end, true
			}
		}
		return 0, false
	}
	j := m + 1
	k := j
	if k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) {
		switch d.word(k) {
		case "de", "del":
			k++
		}
	}
	if end := d.yearTail(k); end > k {
		return end, true
	}
	if de || d.toks[m].lex&(lexCommon|lexClinical|lexFirst|lexLast) == 0 {
		return j, true
	}
	return 0, false
}

// foreignMonthYear returns the first token of a month and year written in
// Spanish, Portuguese, French, German or Italian before the four-digit year
// at token i ("marzo de 2026", "noviembre del 2025", "juin 2024", "im
// Oktober 2023"), or i. A month that is also an English word or a name
// ("mars", "Mai") needs the "de" here too; English months are the month
// scanner's.
func (d *detector) foreignMonthYear(i int) int {
	if d.toks[i].has(fNL) || d.glued(i) && d.toks[i+1].kind == tkWord {
		return i
	}
	y := atoi(d.raw(i))
	if y < 1900 || y > 2100 {
		return i
	}
	m, de := i-1, false
	if w := d.word(m); w == "de" || w == "del" {
		m, de = m-1, true
	} else if k := i - 1; k >= 2 && (d.isPunct(k, ',') && d.glued(k-1) && d.toks[k-1].kind == tkNum || d.toks[k].kind == tkNum) {
		// the month first, then the day, as in English: "enero 4, 2027",
		// "marzo 15 1967"
		if d.isPunct(k, ',') {
			k--
		}
		if v := atoi(d.raw(k)); d.toks[k].kind == tkNum && k >= 1 && d.toks[k].end-d.toks[k].start <= 2 && v >= 1 && v <= 31 && !d.toks[k].has(fNL) && !d.glued(k-1) {
			m, de = k-1, true // (the day makes it a date as "de" does)
		}
	}
	if m < 0 || d.toks[m].kind != tkWord || d.toks[m+1].has(fNL) {
		return i
	}
	w := d.word(m)
	if len(w) < 3 || len(w) > 10 || !foreignMonths[w] || months[w] != 0 {
		return i
	}
	if !de && d.toks[m].lex&(lexCommon|lexClinical|lexFirst|lexLast) != 0 {
		return i
	}
	return m
}

// foreignMonths are the months of Spanish, Portuguese, French, German and
// Italian, spelled in full, with and without their accents.
var foreignMonths = set(`enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
janeiro fevereiro março marco maio junho julho setembro outubro novembro dezembro
janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre decembre
januar jänner jaenner februar märz maerz juni juli oktober dezember
gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
january february march april may june july august september october november december`)

// foreignMonthAbbrevs are the abbreviated months of Spanish, Portuguese,
// French, German and Italian that are no English month's abbreviation.
var foreignMonthAbbrevs = set(`ene abr ago dic set out dez fev janv févr fevr avr juil déc mrz mär okt gen mag giu lug ott`)

// yearTail extends a date ending before token j over a year: ", 2020",
// " 2020", "-2020", " '92".
func (d *detector) yearTail(j int) int {
	k := j
	if k < len(d.toks) && (d.isPunct(k, ',') || d.isPunct(k, '-') || d.isPunct(k, '/')) {
		k++
	}
	if k < len(d.toks) && d.isPunct(k, '\'') && k+1 < len(d.toks) && d.glued(k) && d.toks[k+1].kind == tkNum && d.toks[k+1].end-d.toks[k+1].start == 2 {
		return k + 2
	}
	if k < len(d.toks) && d.toks[k].kind == tkNum && !d.toks[k].has(fNL) {
		n := d.toks[k].end - d.toks[k].start
		if n == 4 || (n == 2 && d.isPunct(k-1, '-')) {
			if !(d.glued(k) && d.toks[k+1].kind == tkWord) {
				return k + 1
			}
		}
	}
	return j
}

// monthDate matches dates that start with the month: "March 15, 1952",
// "Mar. 15th", "March 2019", or a month name alone.
func (d *detector) monthDate(i int) (int, bool) {
	w := d.word(i)
	t := d.toks[i]
	j := i + 1
	if j < len(d.toks) && d.isPunct(j, '.') && d.glued(i) {
		j++
	}
	sep := j
	if j < len(d.toks) && (d.isPunct(j, '-') || d.isPunct(j, '/')) {
		j++
	}
	day := false
	if j < len(d.toks) && d.toks[j].kind == tkNum && !d.toks[j].has(fNL) && d.toks[j].end-d.toks[j].start <= 2 {
		if v := atoi(d.raw(j)); v >= 1 && v <= 31 && !(d.glued(j) && d.toks[j+1].kind == tkWord && !isOrdinal(d.word(j+1))) && !d.keptNum(j, j+1) && !d.slashDateAt(j) {
			j++
			day = true
			if j < len(d.toks) && d.glued(j-1) && d.toks[j].kind == tkWord && isOrdinal(d.word(j)) {
				j++
			}
		}
	}
	if !day {
		j = sep
	}
	end := d.yearTail(j)
	if day || end > j {
		return end, true
	}
	// "march of 2022", "in May of '92"
	if k := j; k+1 < len(d.toks) && d.toks[k].kind == tkWord && d.word(k) == "of" && !d.toks[k].has(fNL) {
		if e := d.yearTail(k + 1); e > k+1 {
			return e, true
		}
	}
	// a month name alone ("May" and "March" capitalised mid-sentence
	// only, and not a name after a title: "Dr. May")
	full := len(w) > 4 || w == "june" || w == "july" || w == "may"
	switch {
	case !full:
		// an abbreviated month alone, capitalised mid-sentence after a
		// word that dates ("in Feb", "since Jan.", "better by Dec"):
		// elsewhere "dec" is decreased and "Jan" a name
		if t.has(fCap) && !t.has(fAllCaps) && !t.has(fSent) && !t.has(fNoCase) && !d.lowerDoc {
			if k := d.prevWord(i); k == i-1 && monthPreps[d.word(k)] {
				return i + 1, true // (a dot after may end the sentence: "since Jan.")
			}
		}
		return 0, false
	case w == "march" || w == "may":
		return i + 1, t.has(fCap) && !t.has(fSent) && !t.has(fAllCaps) && !d.titleBefore(i) || d.spokenDay(i, w)
	}
	return i + 1, t.has(fCap) || d.lowerDoc || d.spokenDay(i, w)
}

// spokenYearWords open a year spoken after a date: "may nineteen fifty".
var spokenYearWords = set(`nineteen twenty two`)

// spokenDay reports whether the month w at token i, in lower case or at a
// sentence's start, has a day after it as an ordinal in words, as a
// transcript or a chat writes a date ("born march fourth nineteen fifty",
// "dob july twenty first"), or before it ("the twelfth of may"): the verb
// stays before "first" or "second" ("you may first try", "may second the
// motion").
func (d *detector) spokenDay(i int, w string) bool {
	if d.titleBefore(i) {
		return false
	}
	if d.spelledDayBefore(i) < i {
		// "the twelfth of may"; the verb stays ("a third of may be")
		k := i + 1
		return w != "may" || k >= len(d.toks) || d.toks[k].has(fNL) || d.toks[k].kind != tkWord || spokenYearWords[d.word(k)]
	}
	k := i + 1
	if k >= len(d.toks) || d.toks[k].kind != tkWord || d.toks[k].has(fNL) || d.spelledDayAfter(k) == k {
		return false
	}
	if w == "may" {
		v := d.word(k)
		return v != "first" && v != "second" && v != "the"
	}
	return true
}

// slashDateAt reports whether the number at token j opens a date written
// with slashes ("10/9", "10/9/25"): then it is no day of a month name before
// it, which is a label ("reviewed MAR 10/9", the medication administration
// record, left "/9" visible beside "MAR 10").
func (d *detector) slashDateAt(j int) bool {
	if !d.glued(j) || !d.isPunct(j+1, '/') || !d.glued(j+1) || j+2 >= len(d.toks) || d.toks[j+2].kind != tkNum {
		return false
	}
	_, ok := d.numDate(int(d.toks[j].start))
	return ok
}

// monthPreps date the month after them: "in Feb", "since Jan.", "by Dec".
var monthPreps = set(`in since by until till through thru during from last next early mid late before after`)

func isOrdinal(w string) bool { return w == "st" || w == "nd" || w == "rd" || w == "th" }

// spelledOrdinals are the days of a month as ordinals in words; the
// twenties and thirties are written "twenty-first" or "twenty first".
var spelledOrdinals = set(`first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth`)

// spelledDayStart returns the first token of a day written as an ordinal
// in words that ends with word k ("fifteenth", "twenty-first", "thirty
// first"), or -1.
func (d *detector) spelledDayStart(k int) int {
	if k < 0 || d.toks[k].kind != tkWord || !spelledOrdinals[d.word(k)] {
		return -1
	}
	switch d.word(k) {
	case "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth":
	default:
		return k // no tens before "tenth" … "nineteenth", "twentieth", "thirtieth"
	}
	m := k - 1
	if m >= 1 && d.isPunct(m, '-') && d.glued(m) && d.glued(m-1) {
		m--
	} else if m >= 0 && d.toks[m].end == d.toks[k].start {
		return k
	}
	if m >= 0 && d.toks[m].kind == tkWord && !d.toks[m+1].has(fNL) {
		if w := d.word(m); w == "twenty" || w == "thirty" && (d.word(k) == "first") {
			return m
		}
	}
	return k
}

// spelledDayBefore returns the first token of a day of the month written
// as an ordinal in words before the month at i, "the fifteenth of August",
// "the twenty-first day of March", or i. The day joins the date only
// while its tokens are free.
func (d *detector) spelledDayBefore(i int) int {
	k := d.prevWord(i)
	if k < 0 || k != i-1 || d.word(k) != "of" || d.toks[i].has(fNL) || d.glued(i) && d.isPunct(i+1, '\'') {
		return i // ("a third of August's admissions")
	}
	k--
	if k >= 0 && d.toks[k].kind == tkWord && d.word(k) == "day" {
		k--
	}
	s := d.spelledDayStart(k)
	if s < 0 {
		return i
	}
	for m := s; m < i; m++ {
		if d.state[m] != stFree {
			return i
		}
	}
	return s
}

// spelledDayAfter extends a month alone that ends before token j over a
// day written as an ordinal in words, "August fifteenth", "October
// twenty-first", "March the third"; it returns the new end.
func (d *detector) spelledDayAfter(j int) int {
	k := j
	if k < len(d.toks) && d.toks[k].kind == tkWord && d.word(k) == "the" && !d.toks[k].has(fNL) {
		k++
		// the day in digits: "December the 7th", "March the 3rd, 2026"
		if o := k + 1; o < len(d.toks) && d.toks[k].kind == tkNum && d.toks[k].end-d.toks[k].start <= 2 && !d.toks[k].has(fNL) && d.glued(k) &&
			d.toks[o].kind == tkWord && isOrdinal(d.word(o)) && !(d.glued(o) && d.toks[o+1].kind != tkPunct) {
			if v := atoi(d.raw(k)); v >= 1 && v <= 31 {
				if e := d.yearTail(o + 1); e > o+1 || d.dayEnds(o+1) {
					return e // (not before a noun it counts: "in March the 3rd floor")
				}
			}
		}
	}
	if k >= len(d.toks) || d.toks[k].kind != tkWord || d.toks[k].has(fNL) {
		return j
	}
	e := k
	if w := d.word(k); w == "twenty" || w == "thirty" {
		e = k + 1
		if e < len(d.toks) && d.isPunct(e, '-') && d.glued(k) && d.glued(e) {
			e++
		}
	}
	if e >= len(d.toks) || d.spelledDayStart(e) != k {
		return j
	}
	return d.yearTail(e + 1)
}

// age claims ages over 89: "92 years old", "92-year-old", "age 93", "aged 95".
// Younger ages are kept so that no other scanner takes them.
func (d *detector) age(i int) (int, bool) {
	v := atoi(d.raw(i))
	if d.toks[i].end-d.toks[i].start > 3 || v > 130 {
		return 0, false
	}
	isAge := false
	// before: "age 92", "aged: 92"
	for k := i - 1; k >= 0 && k >= i-2; k-- {
		if d.toks[k].kind == tkWord {
			w := d.word(k)
			isAge = w == "age" || w == "aged" || w == "ages" || w == "edad" || w == "idade" || // (Spanish, Portuguese)
				// a report's "Age/Sex: 95/F", "Age/Gender: 92 M"
				(w == "sex" || w == "gender") && k >= 2 && d.isPunct(k-1, '/') && d.toks[k-2].kind == tkWord && d.word(k-2) == "age" ||
				// a form's qualified age label: "Age (yrs): 93", "Age at onset: 91"
				k == i-2 && d.isPunct(i-1, ':') && d.qualifiedAgeLabel(k)
			break
		}
		if !d.isPunct(k, ':') && !d.isPunct(k, '=') && !(k == i-2 && d.isPunct(k, ')') && d.isPunct(i-1, ':') && d.qualifiedAgeLabel(k)) {
			break
		}
		if d.isPunct(k, ')') {
			isAge = true
			break
		}
	}
	j := i + 1
	if !isAge {
		k := j
		if k < len(d.toks) && d.isPunct(k, '-') {
			k++
		}
		if k < len(d.toks) && d.toks[k].kind == tkWord {
			switch d.word(k) {
			case "year", "years", "yr", "yrs", "y":
				k++
				if k < len(d.toks) && (d.isPunct(k, '-') || d.isPunct(k, '/') || d.isPunct(k, '.')) {
					k++
				}
				if k < len(d.toks) && d.toks[k].kind == tkWord {
					switch d.word(k) {
					case "old", "o", "of":
						isAge = true
					}
				}
			case "yo", "yof", "yom":
				isAge = true
			case "años", "anos", "ans", "anni", "jahre", "jaar":
				// the year word of a note in Spanish, Portuguese, French,
				// Italian, German or Dutch: "Paciente de 92 años", "tem
				// 96 anos", "94 ans" (a younger age is kept, as "yo")
				isAge = d.toks[k].start == d.toks[j-1].end+1
			}
		}
	}
	if !isAge && v >= 90 && v < 130 && (d.oldAge(i) || d.turnedAge(i) || d.relationIs(i, i+1)) {
		return d.claim(i, j, TypeAge, prioStruct), true
	}
	if !isAge {
		return 0, false
	}
	if v >= 90 {
		return d.claim(i, j, TypeAge, prioStruct), true
	}
	return d.keep(i, j), true
}

// qualifiedAgeLabel reports whether token k, before a colon and an age's
// number, ends a form's age label with its unit in parentheses or its
// moment: "Age (yrs): 93", "Age (years): 91", "Age at onset: 92", "Age at
// diagnosis: 90", "Age at death: 101". The number after such a label is an
// age whatever its value.
func (d *detector) qualifiedAgeLabel(k int) bool {
	if d.isPunct(k, ')') {
		u, o, a := k-1, k-2, k-3
		return a >= 0 && d.toks[u].kind == tkWord && ageUnits[d.word(u)] && d.isPunct(o, '(') && d.toks[a].kind == tkWord && d.word(a) == "age" && !d.toks[o].has(fNL) && !d.toks[u].has(fNL)
	}
	at, a := k-1, k-2
	return a >= 0 && d.toks[k].kind == tkWord && ageMoments[d.word(k)] && d.toks[at].kind == tkWord && d.word(at) == "at" &&
		d.toks[a].kind == tkWord && d.word(a) == "age" && !d.toks[at].has(fNL) && !d.toks[k].has(fNL)
}

var (
	ageUnits   = set(`y yr yrs year years`)
	ageMoments = set(`onset diagnosis dx death enrollment enrolment consent admission injury menarche menopause`)
)

// oldAge reports whether the number at token i (90 to 129) is an age by
// the way such ages are written besides "92 yo": before the patient's sex
// at the start of a history ("92 F presents", "a 94 M with"), before
// "years" without "old" ("is 92 yrs"), or in apposition to a person
// ("her mother, 97, lives alone", "Pt (93)"). A vital label before it
// keeps it a value ("T 101 F").
func (d *detector) oldAge(i int) bool {
	j := i + 1
	if j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) {
		switch d.word(j) {
		case "year", "years", "yr", "yrs":
			return true
		case "f", "m":
			return !d.keptNum(i, i) && d.historyLead(i)
		}
	}
	// apposition: "<person>, 97," or "<person> (97)"
	if i >= 2 && j < len(d.toks) && (d.isPunct(i-1, ',') && (d.isPunct(j, ',') || d.isPunct(j, ';') || d.isPunct(j, ')')) ||
		d.isPunct(i-1, '(') && d.isPunct(j, ')')) {
		k := i - 2
		if d.toks[k].kind == tkNum {
			return d.birthDateBefore(k) // "DOB 1/1/1930 (96)", "(DOB 2/2/1931, 95)"
		}
		if d.toks[k].kind != tkWord {
			return false
		}
		if d.is(k, vNameLabel) || d.state[k] == stPHI {
			return true
		}
		// a name after a relation or a title: "her husband Virgil (94)",
		// "Mr. Lindqvist, 92,"; a reading after a label stays ("Pt
		// Weight (92)")
		l := k - 1
		if l >= 1 && d.isPunct(l, '.') && d.glued(l-1) {
			l--
		}
		return l >= 0 && d.toks[k].has(fCap) && !d.toks[k].has(fNL) && d.toks[k].lex&(lexCommon|lexClinical|lexSafe) == 0 && !d.is(k, vVitalLabel|vUnit|vStopword|vCredential) &&
			d.toks[l].kind == tkWord && d.is(l, vNameLabel|vTitle)
	}
	return false
}

// birthDateBefore reports whether token k, a number, ends a date already
// taken after a birth date's label on its line: "DOB 1/1/1930 (96)",
// "Born: 03/14/1931 (95)", where the age in parentheses after it is the
// patient's. A number in parentheses after another date stays ("Echo
// 10/29/2026 (92)").
func (d *detector) birthDateBefore(k int) bool {
	if d.state[k] != stPHI {
		return false
	}
	for m := k - 1; m >= 0 && m >= k-8; m-- {
		t := &d.toks[m]
		if d.state[m] != stPHI {
			if t.kind == tkPunct && (d.text[t.start] == ':' || d.text[t.start] == '#') && !t.has(fNL) {
				continue
			}
			if t.kind != tkWord {
				return false
			}
			switch d.word(m) {
			case "dob", "born", "birth", "birthdate", "birthday", "nacimiento", "nacido", "nacida":
				return true
			case "b":
				return m+1 < k && d.isPunct(m+1, '.') // "b. 1/1/1930"
			}
			return false
		}
		if t.has(fNL) {
			return false
		}
	}
	return false
}

// birthdayOrdinal reports whether the number at token i (90 to 129) is an
// ordinal before a birthday: "her 98th birthday", "his 100th bday".
func (d *detector) birthdayOrdinal(i int) bool {
	s, b := i+1, i+2
	if b >= len(d.toks) || !d.glued(i) || d.toks[s].kind != tkWord || d.toks[b].kind != tkWord || d.toks[b].has(fNL) || d.toks[b].start != d.toks[s].end+1 {
		return false
	}
	switch d.word(s) {
	case "th", "st", "nd", "rd":
	default:
		return false
	}
	switch d.word(b) {
	case "birthday", "birthdays", "bday", "birthday's":
		return true
	}
	return false
}

// turnedAge reports whether the number at token i (90 to 129) is an age
// after a verb of birthdays: "she turned 100 last month", "turns 95 in
// May", "will turn 90", or of a death ("died at 102"); not before a unit or a percent ("turned 90
// degrees", "turned up to 100%").
func (d *detector) turnedAge(i int) bool {
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "turned", "turns", "turning", "turn":
	case "at":
		// the age at a death: "Mother died at 102", "passed away at 95",
		// as family histories and guardianship papers give it
		m := d.prevWord(k)
		if m == k-1 && d.word(m) == "who" {
			// a relative clause's age: "her aunt, who at 96 lives
			// alone"; a time stays ("who at 90 days had")
			return d.ageEnds(i, i+1) || i+1 < len(d.toks) && d.toks[i+1].kind == tkWord && !d.toks[i+1].has(fNL) && !d.is(i+1, vUnit) && !timeWords[d.word(i+1)]
		}
		if m >= 0 && d.word(m) == "away" {
			m = d.prevWord(m)
		}
		if m < 0 || m != k-1 && m != k-2 {
			return false
		}
		switch d.word(m) {
		case "died", "passed", "death", "deceased":
		default:
			return false
		}
	default:
		return false
	}
	j := i + 1
	return j >= len(d.toks) || !(d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && d.is(j, vUnit)) && !(d.isPunct(j, '%') || d.isPunct(j, '°'))
}

// relationIs reports whether the age at tokens [i, j) (a number from 90,
// or in words) is what a relative is: "her mother is 101", "brother is
// ninety-eight", "Father was 94 when he died"; not before a unit or a
// percent.
func (d *detector) relationIs(i, j int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "is", "was", "now":
	case "s":
		// a contraction: "He's 93 now", "she's 96" (the subject's age)
		if k < 3 || !d.glued(k-1) || !(d.isPunct(k-1, '\'') || d.raw(k-1) == "’") || !d.glued(k-2) || d.toks[k-2].kind != tkWord || !ageSubjects[d.word(k-2)] {
			return false
		}
		return d.ageEnds(i, j)
	case "m":
		// the writer's own age: "I'm 95 and still mowing"
		if k < 3 || !d.glued(k-1) || !(d.isPunct(k-1, '\'') || d.raw(k-1) == "’") || !d.glued(k-2) || d.toks[k-2].kind != tkWord || d.word(k-2) != "i" {
			return false
		}
		return d.ageEnds(i, j)
	case "am":
		if d.toks[k-1].kind != tkWord || d.word(k-1) != "i" || d.toks[k].has(fNL) {
			return false
		}
		return d.ageEnds(i, j) // "I am 96, and"
	default:
		return false
	}
	r := k - 1
	if d.toks[r].kind != tkWord {
		return false
	}
	if ageSubjects[d.word(r)] {
		return d.ageEnds(i, j)
	}
	if !relations[d.word(r)] {
		return false
	}
	return j >= len(d.toks) || d.toks[j].has(fNL) || !(d.toks[j].kind == tkWord && d.is(j, vUnit)) && !d.isPunct(j, '%')
}

// ageSubjects are the subjects whose "is 96" is their age, as relations'
// are: "She is 96.", "Pt is 92 and frail", "the patient is 94, widowed".
var ageSubjects = set(`she he pt patient client resident`)

// ageEnds reports whether the number at tokens [i, j) ends a clause, as an
// age after a subject does: the end of the line or the text, a comma, a
// dot that ends a sentence (no decimal), a semicolon or a parenthesis, or
// "and", "but", "today", "now", "yesterday" ("She is 96 and lives
// alone"); not a reading ("pt is 92 on 2L", "he is 98.6", "is 90/60").
func (d *detector) ageEnds(i, j int) bool {
	if j >= len(d.toks) || d.toks[j].has(fNL) {
		return true
	}
	if d.decimalAround(i, j) {
		return false
	}
	t := d.toks[j]
	if t.kind == tkPunct {
		switch d.text[t.start] {
		case '.', ',', ';', ')', '!':
			return true
		case '-':
			// a dash between blanks, then words: "he's 91 - can someone
			// call" (a range stays: "is 92 - 94 on 2L")
			return j > 0 && t.start > d.toks[j-1].end && j+1 < len(d.toks) && d.toks[j+1].start > t.end && d.toks[j+1].kind == tkWord
		}
		return false
	}
	if t.kind != tkWord {
		return false
	}
	switch d.word(j) {
	case "and", "but", "today", "now", "yesterday":
		return true
	case "per":
		// a source: "He's 92 per her daughter", "pt is 94 per chart";
		// a rate stays ("92 per minute")
		m := j + 1
		return m < len(d.toks) && d.toks[m].kind == tkWord && !d.toks[m].has(fNL) && !d.is(m, vUnit) && !timeWords[d.word(m)]
	}
	return false
}

// timeWords are the units of time and rates that a number before them
// measures: "at 90 days", "94 per minute".
var timeWords = set(`second seconds sec secs minute minutes min mins hour hours hr hrs day days week weeks wk wks month months mo year years yr yrs minuto beat beats breath breaths cent percent`)

// historyLead reports whether the number at token i opens a history's
// first line: at the start of a line or sentence, or after "a", "an",
// "is", "pt", "patient", "this", "the" or a title.
func (d *detector) historyLead(i int) bool {
	if i == 0 || d.toks[i].has(fNL) {
		return true
	}
	k := i - 1
	if d.isPunct(k, '.') || d.isPunct(k, ':') {
		return true
	}
	if d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "a", "an", "is", "pt", "patient", "this", "the", "mr", "mrs", "ms":
		return true
	}
	return false
}

// userNameValue reports whether word j alone, [j, k), after the label at
// word i is a user name with no digit, as a portal issues one from a
// name ("Username rosalindvantongeren", "User rvantongeren logged in"):
// the label is "username", "login" or "userid", or "User" capitalised at
// the start of its line or sentence; the value is in lower case, of five
// letters or more, and no English or clinical word ("Username field",
// "login issues", "User reports" stay).
func (d *detector) userNameValue(i, j, k int) bool {
	if k != j+1 || d.toks[j].kind != tkWord || d.toks[j].flags&(fCap|fNonASCII) != 0 || d.toks[j].end-d.toks[j].start < 5 {
		return false
	}
	switch d.word(i) {
	case "username", "login", "userid":
	case "user":
		if !d.toks[i].has(fCap) || !d.toks[i].has(fSent) {
			return false
		}
	default:
		return false
	}
	return d.toks[j].lex&(lexSafe|lexCommon|lexClinical) == 0 && !d.is(j, vStopword|vUnit)
}

// maxTriggerValue is the length of value after which trigger remembers
// where the value ended: the longest identifiers (a card, an accession
// number, a member id with its group) are well under it.
const maxTriggerValue = 128

// trigger claims the identifier that follows a trigger word: "MRN: 12345",
// "Member ID # W123-456", "license no. A1234567".
func (d *detector) trigger(i int, typ Type) int {
	if k := d.prevWord(i); k >= 0 && k == i-1 && d.codeSystemAt(k) {
		return i // "CPT code 97802", "billing code 99213": a service's code (see codeBefore)
	}
	j := i + 1
	wrapped := false // the value is on the next line of a wrapped sentence
	for steps := 0; j < len(d.toks) && steps < 5; steps++ {
		t := d.toks[j]
		if t.has(fNL) && !d.isPunct(j-1, ':') {
			if j != i+1 || !d.wrappedAfter(i) {
				return i
			}
			wrapped = true
		}
		if d.isPunct(j, '*') {
			// the masked digits of an identifier whose last ones show:
			// "SSN ***-**-2290", "Card ****4471" (one step for the mask)
			if k := d.maskEnd(j); k > j {
				j = k
				continue
			}
		}
		if t.kind == tkPunct && strings.IndexByte(":#-.=/", d.text[t.start]) >= 0 {
			// A dot ends an abbreviation ("No.", "Acct.") but not a
			// sentence ("at the last visit. HbA1c 6.8%").
			if d.text[t.start] == '.' && j+1 < len(d.toks) && !d.glued(j) && !(d.toks[j-1].kind == tkWord && d.toks[j-1].end-d.toks[j-1].start <= 4) {
				return i
			}
			j++
			continue
		}
		if t.kind == tkWord {
			w := d.word(j)
			if typ == TypeDevice && sideWords[w] && !d.glued(j) && j+1 < len(d.toks) && !d.toks[j+1].has(fNL) && d.toks[j+1].kind != tkPunct {
				j++ // the ear or the side of a pair: "serial R 2214X0KLM, L 2214X0KLN"
				continue
			}
			if tt, trig := idTriggers[w]; trig || idFillers[w] {
				if trig && tt != TypeID {
					typ = tt // "license plate" is a plate
				}
				j++
				continue
			}
		}
		if t.kind == tkNum && t.end-t.start == 1 && d.text[t.start] == '4' && d.toks[j-1].kind == tkWord && d.word(j-1) == "last" && j+1 < len(d.toks) && !d.toks[j+1].has(fNL) {
			j++ // the count of the digits shown: "SSN last 4: 2231", "acct last 4 - 0917"
			continue
		}
		break
	}
	if typ == TypeVehicle && j+1 < len(d.toks) && d.toks[j].kind == tkWord && d.toks[j].end-d.toks[j].start == 2 && stateAbbrevs[d.word(j)] &&
		!d.glued(j) && !d.toks[j+1].has(fNL) && d.toks[j+1].kind != tkPunct {
		j++ // the issuing state before a plate: "plate MN ABC-1234"
	}
	if j >= len(d.toks) || d.state[j] != stFree || (d.toks[j].kind != tkNum && d.toks[j].kind != tkWord) {
		return i
	}
	if k := d.postcode(j); k > j {
		return k // "Postal code: H2X 1Y4"
	}
	// the value: glued alnum tokens, with inner - / . between them. A
	// value longer than an identifier is read to its end once: the
	// trigger words glued inside it ("MRN:MRN:MRN:…", "Mr.Mr.Mr.…") do
	// not read it again, each to its end, quadratic in its length
	if j < d.triggerRunEnd {
		return i
	}
	k, nd, n := j, 0, 0
	letters := false // a word in the value before k (see colonJoined)
	for k < len(d.toks) {
		t := d.toks[k]
		if k > j && t.start != d.toks[k-1].end {
			break
		}
		d.triggerSteps++
		if t.kind == tkPunct {
			c := d.text[t.start]
			if (c == '-' || c == '/' || c == '.') && k+1 < len(d.toks) && d.glued(k) && d.toks[k+1].kind != tkPunct {
				k++
				continue
			}
			if c == ':' && k > j && k+1 < len(d.toks) && d.glued(k) && d.colonJoined(letters, k) {
				k++ // an accession number's parts: "26:SP:0041"
				continue
			}
			break
		}
		if t.kind == tkNum {
			nd += int(t.end - t.start)
		}
		letters = letters || t.kind == tkWord
		n += int(t.end - t.start)
		k++
	}
	if int(d.toks[k-1].end-d.toks[j].start) > maxTriggerValue {
		d.triggerRunEnd = k
	}
	if typ == TypeVehicle && n <= 5 {
		k, nd, n = d.plateGroups(k, nd, n)
	}
	if nd == 0 && k == j+1 && typ == TypeHealthPlan && d.toks[j].end-d.toks[j].start == 4 && d.toks[j].has(fAllCaps) && j+1 < len(d.toks) &&
		d.toks[j+1].kind == tkNum && d.toks[j+1].start == d.toks[j].end+1 && !d.toks[j+1].has(fNL) {
		// a Quebec health card: the letters of the surname and the given
		// name, then the birth date's digits in groups, the month after
		// the year (plus 50 for a woman): "RAMQ LAPM 8503 1512", whose
		// letters stayed; "Insurance BLUE 2024 2025" is none
		if mm := atoi(d.raw(j+1)) % 100; d.toks[j+1].end-d.toks[j+1].start == 4 && (mm >= 1 && mm <= 12 || mm >= 51 && mm <= 62) {
			if e := d.spacedGroups(j+1, j+2); e > j+2 {
				k, nd = e, 8
			}
		}
	}
	if nd == 0 && d.userNameValue(i, j, k) {
		return d.claim(j, k, TypeID, prioStruct) // "Username rosalindvantongeren"
	}
	if nd == 0 || n < 3 {
		return i
	}
	if wrapped && !d.codeValue(j, k) {
		return i // a value across a line's break is a code: "plate\n4471-KT", not "License\n2019 Ford"
	}
	if typ != TypePhone && typ != TypeFax && k == j+1 && d.toks[j].kind == tkNum && n >= 3 {
		k = d.spacedGroups(j, k)
	}
	if typ == TypePhone && k == j+1 && d.toks[j].kind == tkNum && serviceNumbers[d.raw(j)] && !(d.glued(j) && d.toks[j+1].kind != tkPunct) &&
		!(d.glued(j) && (d.isPunct(j+1, '-') || d.isPunct(j+1, '.')) && j+2 < len(d.toks) && d.glued(j+1) && d.toks[j+2].kind == tkNum) {
		return d.keep(j, k) // an emergency or a service number: "call 911", "call 988"
	}
	if typ == TypePhone || typ == TypeFax {
		if q, pt, ok := d.phone(int(d.toks[j].start)); ok {
			return d.claimBytes(j, q, pt)
		}
	}
	if k == j+3 && d.toks[j].kind == tkNum && d.toks[j+2].kind == tkNum && (d.isPunct(j+1, '.') || d.isPunct(j+1, '/')) &&
		d.toks[j].end-d.toks[j].start <= 3 && d.toks[j+2].end-d.toks[j+2].start <= 3 {
		return i // a measurement or a ratio: "ID: 98.9", "PA #- 35/18"
	}
	if d.isPunct(i, '#') && d.toks[j].kind == tkNum && d.toks[j].end-d.toks[j].start <= 2 && k > j+1 && d.toks[j+1].kind == tkWord {
		return i // a size or a count: "#20G", "#8 ET", "#4PRBC"
	}
	if d.measured(j, k) {
		return i // a dose or a value: "order of 4mg", "ID- T101.2" (infectious disease: a temperature)
	}
	if d.toks[j].kind == tkNum {
		p := int(d.toks[j].start)
		if _, ok := d.numDate(p); ok {
			return i
		}
		if d.keptNum(j, k) {
			return i
		}
		if q, ok := scanSSN(d.text, p); ok {
			return d.claimBytes(j, q, TypeSSN)
		}
		if q, ct, ok := scanCard(d.text, p); ok {
			return d.claimBytes(j, q, ct)
		}
	}
	if rt, ok := d.recordShape(d.text[d.toks[j].start:d.toks[k-1].end]); ok {
		typ = rt
	}
	if (typ == TypeLicense || typ == TypeHealthPlan) && d.toks[i].has(fAllCaps) {
		d.keep(i, i+1) // the label of the number claimed is no name: "DEA MD4412345" ("Dea" is a first name)
	}
	if typ == TypeDevice {
		e := d.claim(j, k, typ, prioStruct)
		return d.pairedSerial(e, typ)
	}
	return d.claim(j, k, typ, prioStruct)
}

// plateGroups extends a licence plate's value that ends before token k
// (nd digits and n characters so far) over the groups after it, each after
// one blank on its line, as plates are written with a space: "plate ABC
// 1234", "tag 4GHT 552", "plate 8 GHT 552". A group is digits or capitals,
// four characters at most, and the plate eight at most; a state's code
// stays ("plate ABC 123 TX"). The whole must have five characters or more,
// letters and digits ("Tag 2 AM meds" stays). The first group alone was
// taken, or none when it held no digit.
func (d *detector) plateGroups(k, nd, n int) (int, int, int) {
	k0, nd0, n0 := k, nd, n
	for groups := 0; groups < 2 && k < len(d.toks); groups++ {
		t := &d.toks[k]
		l := int(t.end - t.start)
		if t.start != d.toks[k-1].end+1 || t.has(fNL) || l > 4 || n+l > 8 || d.state[k] != stFree ||
			t.kind != tkNum && !(t.kind == tkWord && t.has(fAllCaps) && !(l == 2 && stateAbbrevs[d.word(k)])) {
			break
		}
		if d.glued(k) && d.toks[k+1].kind != tkPunct {
			break // a code of its own glued on: "ABC 12B4"
		}
		if t.kind == tkNum {
			nd += l
		}
		n += l
		k++
	}
	if k > k0 && (n < 5 || nd == 0 || nd == n) {
		return k0, nd0, n0 // a time or a count: "Tag 2 AM meds"
	}
	return k, nd, n
}

// sideWords name the side of a pair of devices: hearing aids, implants.
var sideWords = set(`r l rt lt right left`)

// pairedSerial claims the second of a pair of serial numbers after the
// first ends before token e: a comma or a slash, the other side's word and
// a value with digits ("serial R 2214X0KLM, L 2214X0KLN"). It returns the
// next token.
func (d *detector) pairedSerial(e int, typ Type) int {
	m := e
	if m+2 >= len(d.toks) || !(d.isPunct(m, ',') || d.isPunct(m, '/') || d.isPunct(m, ';')) {
		return e
	}
	s := m + 1
	if d.toks[s].kind != tkWord || !sideWords[d.word(s)] || d.toks[s].has(fNL) || d.glued(s) {
		return e
	}
	v := s + 1
	if d.toks[v].has(fNL) || d.state[v] != stFree || d.toks[v].kind == tkPunct {
		return e
	}
	q, nd := v, 0
	for q < len(d.toks) && (q == v || d.toks[q].start == d.toks[q-1].end) {
		if d.toks[q].kind == tkPunct {
			if c := d.text[d.toks[q].start]; q > v && (c == '-' || c == '/' || c == '.') && d.glued(q) && q+1 < len(d.toks) && d.toks[q+1].kind != tkPunct {
				q++
				continue
			}
			break
		}
		if d.toks[q].kind == tkNum {
			nd += int(d.toks[q].end - d.toks[q].start)
		}
		q++
	}
	if nd < 3 || d.measured(v, q) {
		return e
	}
	return d.claim(v, q, typ, prioStruct)
}

// colonJoined reports whether the colon at token k, inside a value that
// holds a word before it if letters, joins the parts of one identifier, as laboratories
// write accession numbers ("26:SP:0041", "SP26:00412"): a number and a
// code on either side, or two numbers once the value holds letters; never
// a time or a ratio ("2:30", "10:1"), a word of the dictionaries, a
// capitalised word or an hour's mark ("Case 3:Pt", "2:PM").
func (d *detector) colonJoined(letters bool, k int) bool {
	a, b := d.toks[k-1], d.toks[k+1]
	if a.kind != tkNum && a.kind != tkWord || b.kind != tkNum && b.kind != tkWord {
		return false
	}
	if a.kind == tkNum && b.kind == tkNum {
		return letters // "SP26:00412"; not "12:30"
	}
	for _, m := range [2]int{k - 1, k + 1} {
		t := d.toks[m]
		if t.kind != tkWord {
			continue
		}
		if w := d.word(m); w == "am" || w == "pm" || !t.has(fAllCaps) && (t.lex&(lexSafe|lexCommon|lexClinical) != 0 || t.has(fCap) && t.end-t.start > 1) {
			return false
		}
	}
	return true
}

// holidayWords are the holidays of one word, dates alone: "on Christmas".
var holidayWords = set(`christmas thanksgiving easter halloween hanukkah kwanzaa ramadan diwali passover`)

// holidayDay returns the end of a holiday named by word i (w in lower
// case, one of dayHolidays, capitalised) and "Day" or "Eve", with "'s" or
// "s" between where the name takes it ("Mother's Day", "Veterans Day",
// "New Year's Eve", "New Years Day", "St. Patrick's Day"), or i.
func (d *detector) holidayDay(i int, w string) int {
	if !d.toks[i].has(fCap) || d.toks[i].has(fAllCaps) && !d.toks[i].has(fNoCase) {
		return i
	}
	j := i + 1
	if w == "new" {
		// "New Year's Day", "New Years Eve"
		if j >= len(d.toks) || d.toks[j].kind != tkWord || !d.toks[j].has(fCap) || d.toks[j].start != d.toks[i].end+1 || d.word(j) != "year" && d.word(j) != "years" {
			return i
		}
		j++
	}
	if j+1 < len(d.toks) && (d.isPunct(j, '\'') || d.raw(j) == "’") && d.glued(j-1) && d.glued(j) && d.word(j+1) == "s" {
		j += 2
	} else {
		switch w {
		case "mother", "father", "valentine", "patrick", "veteran":
			return i // "Father Day" is a father named Day; the holiday takes "'s"
		}
	}
	if j >= len(d.toks) || d.toks[j].kind != tkWord || !d.toks[j].has(fCap) || d.toks[j].has(fNL) || d.toks[j].start != d.toks[j-1].end+1 {
		return i
	}
	if v := d.word(j); v == "day" || v == "eve" {
		return j + 1
	}
	return i
}

// weekdayClass reports whether the weekday at token i names a class that
// meets on it, no date: "Sunday School", "Saturday school" (a detention),
// one space before the noun on the same line.
func (d *detector) weekdayClass(i int) bool {
	if i+1 >= len(d.toks) || d.toks[i+1].kind != tkWord || d.toks[i+1].has(fNL) || d.toks[i+1].start != d.toks[i].end+1 {
		return false
	}
	switch d.word(i + 1) {
	case "school", "schools":
		return true
	}
	return false
}

// measured reports whether the glued tokens [j, k) are a number with its
// unit ("2mg", "0.5mg") or a label with its value ("T100.1", "sbp146"):
// a measurement, never an identifier.
func (d *detector) measured(j, k int) bool {
	// a decimal: "0.5", "100.1"
	decimal := func(m int) int {
		if m+2 < k && d.isPunct(m+1, '.') && d.toks[m+2].kind == tkNum {
			return m + 2
		}
		return m
	}
	switch d.toks[j].kind {
	case tkNum:
		m := decimal(j)
		return k == m+2 && d.quantity(m)
	case tkWord:
		return d.labelled(j) && k == decimal(j+1)+1
	}
	return false
}

// spacedGroups extends the value of an identifier label, a digit run of
// three or four digits at token j ending before token k, over further
// groups of two to four digits each after one blank on the line: "MRN:
// 123 456 789", "Acct # 4412 8890 1234". It returns the new end, or k
// when the groups are no identifier (fewer than six digits in all, or a
// unit after them: "Order 100 200 mg").
func (d *detector) spacedGroups(j, k int) int {
	if n := d.toks[j].end - d.toks[j].start; n < 3 || n > 4 {
		return k
	}
	e, digits := k, int(d.toks[j].end-d.toks[j].start)
	for e < len(d.toks) && e-j < 8 {
		t := d.toks[e]
		if t.kind != tkNum || t.has(fNL) || t.start != d.toks[e-1].end+1 || d.text[t.start-1] != ' ' || t.end-t.start > 5 {
			break
		}
		if t.end-t.start == 1 && digits < 8 {
			break // one digit ends a long number only: "2951 64127 1"
		}
		if e+1 < len(d.toks) && d.glued(e) && d.toks[e+1].kind != tkPunct {
			break // glued to letters or more digits: "200mg"
		}
		digits += int(t.end - t.start)
		e++
		if t.end-t.start == 1 {
			break // an Australian Medicare card's issue number
		}
	}
	if e == k || digits < 6 || d.keptNum(j, e) || e < len(d.toks) && d.glued(e-1) && (d.isPunct(e, '.') || d.isPunct(e, '/') || d.isPunct(e, ':')) && d.glued(e) && e+1 < len(d.toks) && d.toks[e+1].kind == tkNum {
		return k
	}
	if digits >= 9 && d.versionCode(e) {
		return e + 1 // an Ontario health card's version code: "4482 117 339 KT"
	}
	return e
}

// versionCode reports whether token e, one blank after a number's last
// group on its line, is one or two capital letters that end the value
// (punctuation or the line's end after them): a health card's version
// code. A credential, a unit or a word stays.
func (d *detector) versionCode(e int) bool {
	if e >= len(d.toks) {
		return false
	}
	t := d.toks[e]
	if t.kind != tkWord || t.has(fNL) || t.start != d.toks[e-1].end+1 || t.end-t.start > 2 || !t.has(fCap) || t.end-t.start == 2 && !t.has(fAllCaps) ||
		d.is(e, vCredential|vUnit|vStopword) {
		return false
	}
	n := e + 1
	return n >= len(d.toks) || d.toks[n].has(fNL) || d.toks[n].kind == tkPunct
}

// unitAddress claims "Apt. 318", "Suite 204", "PO Box 12", "PSC 2719",
// "APO AP 96318" starting at unit word i.
func (d *detector) unitAddress(i int) int {
	w := d.word(i)
	j := i + 1
	if w == "po" || w == "p" {
		// "PO Box", "P.O. Box"
		for j < len(d.toks) && (d.isPunct(j, '.') || (d.toks[j].kind == tkWord && d.word(j) == "o")) {
			j++
		}
		if j < len(d.toks) && d.toks[j].kind == tkWord && d.word(j) == "box" {
			j++
		} else {
			return i // "PO" alone is by mouth
		}
	}
	if w == "apo" || w == "dpo" || w == "fpo" {
		if j+1 < len(d.toks) && d.toks[j].kind == tkWord && d.toks[j].has(fAllCaps) && d.toks[j+1].kind == tkNum {
			return d.claim(i, j+2, TypeAddress, prioStruct)
		}
		if !(d.toks[i].has(fAllCaps) || d.lowerDoc) {
			return i
		}
	}
	for j < len(d.toks) && (d.isPunct(j, '.') || d.isPunct(j, '#') || d.isPunct(j, ':')) && !d.toks[j].has(fNL) {
		j++
	}
	if j >= len(d.toks) || d.toks[j].has(fNL) || d.state[j] != stFree {
		return i
	}
	t := d.toks[j]
	switch {
	case t.kind == tkNum && t.end-t.start <= 6:
	case t.kind == tkWord && t.end-t.start == 1 && t.has(fCap) && !(d.word(j) == "x" && d.glued(j)):
		// (not "x3": three times)
	default:
		return i
	}
	k := j + 1
	for k < len(d.toks) && d.toks[k].start == d.toks[k-1].end && (d.toks[k].kind == tkNum || d.toks[k].kind == tkWord) {
		k++
	}
	if d.keptNum(j, k) {
		return i
	}
	if k == j+1 && t.kind == tkWord && w == "lot" {
		return i // a car park's lot: "parked in lot B" (a lot's number stays an address: "Lot 12")
	}
	if t.kind == tkNum && k+1 < len(d.toks) && d.isPunct(k, '-') && d.glued(k-1) && d.glued(k) && d.toks[k+1].kind == tkNum {
		// digit groups joined by hyphens are a record's unit number, not
		// a flat's: "Unit #: 441-88-02" (the whole of it, no part left)
		for k+1 < len(d.toks) && d.isPunct(k, '-') && d.glued(k-1) && d.glued(k) && d.toks[k+1].kind == tkNum {
			k += 2
		}
		return d.claim(j, k, TypeID, prioStruct)
	}
	if w == "box" {
		i = d.ruralRouteBefore(i)
	}
	return d.claim(i, k, TypeAddress, prioStruct)
}

// ruralRouteBefore returns the first token of a rural route and its number
// before the box at i ("RR 2 Box 47", "R.R. 3, Box 12", "Rural Route 3,
// Box 112", "HC 65 Box 9", a highway contract route), or i: the box was
// redacted and the route's number left beside it.
func (d *detector) ruralRouteBefore(i int) int {
	m := i - 1
	if m >= 0 && d.isPunct(m, ',') {
		m--
	}
	if m < 1 || d.toks[m].kind != tkNum || d.toks[m].end-d.toks[m].start > 3 || d.toks[i].has(fNL) || d.toks[m+1].has(fNL) || d.toks[m].has(fNL) {
		return i
	}
	k := m - 1
	if d.isPunct(k, '.') && k >= 3 && d.word(k-1) == "r" && d.isPunct(k-2, '.') && d.word(k-3) == "r" {
		return k - 3 // "R.R. 3"
	}
	if d.toks[k].kind != tkWord {
		return i
	}
	switch d.word(k) {
	case "rr", "hc", "rfd":
		if d.toks[k].has(fAllCaps) || d.lowerDoc {
			return k
		}
	case "route":
		if k >= 1 && d.toks[k-1].kind == tkWord && d.word(k-1) == "rural" {
			return k - 1
		}
	}
	return i
}

// addressFromNumber claims "12 Oak Street", "37 St. Anne Street",
// "14 Via del Mulino 9" starting at the house number i.
func (d *detector) addressFromNumber(i int) int {
	if d.toks[i].end-d.toks[i].start > 6 {
		return i
	}
	j := i + 1
	if j < len(d.toks) && d.glued(i) && d.toks[j].kind == tkWord && d.toks[j].end-d.toks[j].start == 1 {
		j++ // 12B
	}
	words := 0
	lower := false // a street in lower case where case is evidence: "908 south elm street"
	for k := j; k < len(d.toks) && k < j+8; k++ {
		t := d.toks[k]
		if t.has(fNL) {
			return i
		}
		switch t.kind {
		case tkPunct:
			c := d.text[t.start]
			if c == '.' || c == '-' || c == '\'' {
				continue
			}
			return i
		case tkNum:
			if d.ordinalStreet(k) {
				words++ // "3340 S 188th St", "221 W 34th Street"
				k++
				continue
			}
			return i
		}
		if t.has(fSent) || d.is(k, vStopword) && words > 0 {
			return i // a street name does not cross a sentence: "97477. Maria Gonzalez drinks Dr Pepper"
		}
		w := d.word(k)
		if words == 0 {
			if (t.has(fCap) || d.lowerDoc) && (len(w) <= 2 || w == "state" || w == "county" || w == "farm" || w == "ranch") {
				if e := d.numberedRoad(k, w); e > k {
					return d.claim(i, e, TypeAddress, prioStruct) // "2210 US Hwy 41 N", "22 FM 1960", "N5421 State Hwy 13"
				}
			}
			if d.is(k, vUnit|vStopword) {
				return i
			}
			if !(t.has(fCap) || d.lowerDoc) && lowerPrefixes[w] && d.namedAfter(k+1) {
				return d.streetTail(i, k+1) // written in lower case after its number: "12 rue de la Paix", "8 avenue Victor Hugo"
			}
			if !(t.has(fCap) || d.lowerDoc) {
				if lower = d.lowerStreet(k, d.addressCue(i)); !lower {
					return i
				}
			}
			if d.streetStart(k, w) {
				return d.streetTail(i, k+1)
			}
			if routeWords[w] && d.routeNumber(k+1) {
				return d.claim(i, k+2, TypeAddress, prioStruct) // "16 Route 9"
			}
		}
		if words == 1 && (t.has(fCap) || d.lowerDoc) && d.is(k, vStreetPrefix) && d.streetStart(k, w) {
			if p, n := d.prevWord(k), k+1; p >= j && isDirection(d.word(p)) && n < len(d.toks) && d.toks[n].kind == tkWord && !d.toks[n].has(fNL) && (d.toks[n].has(fCap) || d.lowerDoc) && !d.is(n, vStopword) {
				return d.streetTail(i, k+1) // a direction before a street's prefix: "4410 E Calle Aurora"
			}
		}
		if words > 0 && d.is(k, vStreetSuffix) && (lower && (lowerSuffixes[w] || cuedSuffixes[w] && d.addressCue(i)) || !lower && (t.has(fCap) || d.lowerDoc) && (!t.has(fNoCase) && !d.lowerDoc || plainSuffixes[w])) {
			end := k + 1
			if end < len(d.toks) && d.isPunct(end, '.') && d.glued(k) {
				end++
			}
			if end < len(d.toks) && d.toks[end].kind == tkWord && !d.toks[end].has(fNL) && isDirection(d.word(end)) {
				end++
			}
			if (routeWords[w] || w == "road" || w == "rd") && end == k+1 && d.routeNumber(end) {
				end = d.directionAfter(end + 1) // "1200 County Road 5", "400 Ranch Road 620 N"
			}
			return d.claim(i, d.parkSpace(end), TypeAddress, prioStruct)
		}
		words++
	}
	return i
}

// lowerSuffixes end a street written in lower case after a house number;
// "rd", "ln", "dr" or "st" there are as often shorthand.
var lowerSuffixes = set(`street avenue ave road boulevard blvd drive lane court parkway terrace circle highway`)

// lowerStreet reports whether the lower-case words from k, after a house
// number, are a street: one to three words that are no unit, number or
// clinical-only word, then a suffix of lowerSuffixes that ends the phrase
// (the line, a comma or a dot, or a word such as "with", "in", "near"
// after it): "908 south elm street, fresno", "lives at 12 oak avenue with
// her son". "2 lane road", "20 mile drive" stay: the first word may be
// neither a suffix nor a unit.
func (d *detector) lowerStreet(k int, cued bool) bool {
	if d.is(k, vStreetSuffix) {
		return false
	}
	named := false // a word that is no direction: "2 west st" is a ward
	for words := 0; k < len(d.toks) && words < 4; k++ {
		t := &d.toks[k]
		if t.kind != tkWord || t.has(fNL) && words > 0 || t.has(fCap) || t.has(fSent) && words > 0 {
			return false
		}
		w := d.word(k)
		if words > 0 && (lowerSuffixes[w] || cued && cuedSuffixes[w] && named) {
			e := k + 1
			if e < len(d.toks) && d.isPunct(e, '.') && d.glued(k) {
				e++
			}
			if e == len(d.toks) || d.toks[e].has(fNL) || d.toks[e].kind == tkPunct && strings.IndexByte(",.;)", d.text[d.toks[e].start]) >= 0 ||
				e > k+1 && d.toks[e].has(fSent) {
				return true // (the abbreviation's dot ends the sentence too: "lives at 419 linden st. moved")
			}
			return d.toks[e].kind == tkWord && (d.is(e, vStopword) || isDirection(d.word(e)))
		}
		// a street's word that is English inside the name is no clinical
		// shorthand there: "88 quarry hill rd", "4 oak park ln"
		inner := words > 0 && d.is(k, vStreetSuffix) && t.lex&lexCommon != 0
		if d.is(k, vUnit|vStopword|vVitalLabel) || t.lex&lexClinical != 0 && t.lex&(lexCommon|lexFirst|lexLast) == 0 && !isDirection(w) ||
			cued && (t.lex&lexClinical != 0 && !isDirection(w) && !inner || w == "am" || w == "pm" || w == "noon") {
			return false
		}
		named = named || !isDirection(w)
		words++
	}
	return false
}

// cuedSuffixes end a street in lower case after a house number that an
// address's cue introduces ("lives at 419 linden st", "delivered to 22
// birch ct"); elsewhere they are as often shorthand.
var cuedSuffixes = set(`st rd ln ct pl`)

// addressCue reports whether the house number at token i follows "at",
// "to" or "address": "lives at 419 linden st", "delivered to 22 birch ct".
func (d *detector) addressCue(i int) bool {
	k := i - 1
	if k >= 0 && d.isPunct(k, ':') {
		k--
	}
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "at", "to", "address", "addr":
		return true
	}
	return false
}

// numberedRoad returns the end of a road named by its number that starts
// at word k (w, capitalised) after a house number, or k: a US highway
// ("US Hwy 41 N", "U.S. Route 1"), a state or county road ("State Hwy
// 13", "State Route 9", "County Rd K", "County Road 18"), a Texas
// farm-to-market or ranch road ("FM 1960", "RM 620", "Farm to Market Rd
// 1960"), perhaps with a direction after. "US" was a stopword there,
// "to" ended the street, and "State Hwy" after a Wisconsin grid number
// had no house number before it.
func (d *detector) numberedRoad(k int, w string) int {
	e := k + 1
	next := func() string {
		for e < len(d.toks) && d.isPunct(e, '.') && d.glued(e-1) {
			e++ // "U.S.", "Hwy."
		}
		if e >= len(d.toks) || d.toks[e].kind != tkWord || d.toks[e].has(fNL) {
			return ""
		}
		return d.word(e)
	}
	switch w {
	case "us", "u":
		if w == "u" {
			if next() != "s" {
				return k
			}
			e++
		}
		if !routeWords[next()] {
			return k
		}
		e++
	case "fm", "rm":
		if !d.toks[k].has(fAllCaps) {
			return k
		}
	case "farm", "ranch":
		if next() != "to" {
			return k
		}
		e++
		if next() != "market" {
			return k
		}
		e++
		if r := next(); r == "road" || r == "rd" {
			e++
		}
	case "state", "county":
		r := next()
		if !routeWords[r] && r != "road" && r != "rd" {
			return k
		}
		e++
		if w == "county" && e < len(d.toks) && d.toks[e].kind == tkWord && d.toks[e].end-d.toks[e].start <= 2 && d.toks[e].has(fCap) && !d.toks[e].has(fNL) && !(d.glued(e) && d.toks[e+1].kind != tkPunct) &&
			strings.ToUpper(d.raw(e)) == d.raw(e) {
			return d.directionAfter(e + 1) // "County Rd K", "County Road JJ"
		}
	default:
		return k
	}
	if e < len(d.toks) && d.isPunct(e, '.') && d.glued(e-1) {
		e++ // "Hwy. 41"
	}
	if !d.routeNumber(e) {
		return k
	}
	e++
	if e < len(d.toks) && d.glued(e-1) && d.toks[e].kind == tkWord {
		e++ // "Hwy 9A"
	}
	return d.directionAfter(e)
}

// directionAfter returns e, or e+1 when a direction's word follows it on
// its line: "US Hwy 41 N".
func (d *detector) directionAfter(e int) int {
	if e < len(d.toks) && d.toks[e].kind == tkWord && !d.toks[e].has(fNL) && isDirection(d.word(e)) {
		return e + 1
	}
	return e
}

// routeWords name a road by its number: "16 Route 9", "off Hwy 101".
var routeWords = set(`route rte highway hwy`)

// serviceNumbers are the emergency and information lines that name no
// one: after "call" they were taken for a pager's number.
var serviceNumbers = set(`911 999 112 988 411 311 211 000 111 811`)

// routeNumber reports whether token k is a road's number on the same
// line: one to four digits, perhaps with a letter glued ("9A"), no unit
// or value after it.
func (d *detector) routeNumber(k int) bool {
	if k >= len(d.toks) || d.toks[k].kind != tkNum || d.toks[k].has(fNL) || d.toks[k].end-d.toks[k].start > 4 || d.toks[k].start == d.toks[k-1].end {
		return false
	}
	if d.glued(k) && !(d.toks[k+1].kind == tkWord && d.toks[k+1].end-d.toks[k+1].start == 1) && !d.isPunct(k+1, ',') && !d.isPunct(k+1, '.') && !d.isPunct(k+1, ';') {
		return false
	}
	return !d.keptNum(k, k+1)
}

// dayOfMonth reports whether the ordinal [i, j) is a day of the month:
// after "on the", "since the", "by the", "until the", "from the", "after
// the" or "before the", and before no noun it counts ("on the 2nd floor",
// "on the 3rd day" stay): punctuation, the end, or "of", "at", "and",
// "or", "but", "so" after it.
func (d *detector) dayOfMonth(i, j int) bool {
	if i < 2 || d.toks[i-1].kind != tkWord || d.word(i-1) != "the" || d.toks[i-2].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(i - 2) {
	case "on", "since", "by", "until", "till", "from", "after", "before":
	case "and", "or", "to", "through", "thru":
		// the second of two days: "on the 2nd and the 9th"
		if k := i - 3; k < 1 || !d.glued(k-1) || d.toks[k-1].kind != tkNum || d.state[k-1] != stPHI || !isOrdinal(d.word(k)) {
			return false
		}
	default:
		if !d.is(i-2, vWeekday) || !d.toks[i-2].has(fCap) && !d.lowerDoc {
			return false // "Monday the 30th"
		}
	}
	return d.dayEnds(j)
}

// dayEnds reports whether a day's ordinal ending before token j ends its
// phrase: the end of the line or the text, punctuation, or "of", "at",
// "and", "or", "but", "so" ("on the 2nd floor" is no day).
func (d *detector) dayEnds(j int) bool {
	if j >= len(d.toks) || d.toks[j].has(fNL) || d.toks[j].kind == tkPunct {
		return true
	}
	switch d.word(j) {
	case "of", "at", "and", "or", "but", "so":
		return d.toks[j].kind == tkWord
	}
	return false
}

// ordinalStreet reports whether number token k, glued to an ordinal
// suffix, names a street whose name is an ordinal: "188th" in "3340 S
// 188th St". The suffix word must follow on the line.
func (d *detector) ordinalStreet(k int) bool {
	if d.toks[k].end-d.toks[k].start > 4 || !d.glued(k) || d.toks[k+1].kind != tkWord || !isOrdinal(d.word(k+1)) || d.glued(k+1) && d.toks[k+2].kind != tkPunct {
		return false
	}
	n := k + 2
	return n < len(d.toks) && d.toks[n].kind == tkWord && !d.toks[n].has(fNL) && d.is(n, vStreetSuffix) && (d.toks[n].has(fCap) || d.lowerDoc)
}

// placeRoute claims a numbered road after a word that introduces a place:
// "lives off Hwy 101", "an accident on Route 9".
func (d *detector) placeRoute(i int, w string) int {
	if !routeWords[w] || !(d.toks[i].has(fCap) || d.lowerDoc) || !d.routeNumber(i+1) {
		return i
	}
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return i
	}
	s := i
	if d.word(k) == "us" && d.toks[k].has(fAllCaps) && k > 0 && d.toks[k-1].kind == tkWord {
		s, k = k, k-1 // "on US Route 20", "off US Hwy 12"
	}
	if p := d.word(k); !d.is(k, vLocPrep) && p != "off" && p != "on" && p != "along" && p != "via" {
		return i
	}
	return d.claim(s, i+2, TypeAddress, prioStruct)
}

// plainSuffixes end a street even where case is no evidence; "ST", "DR",
// "PT", "RUN" or "WAY" there are as often shorthand or words.
var plainSuffixes = set(`street avenue ave road rd boulevard blvd lane ln drive highway hwy parkway pkwy terrace court circle`)

// lowerPrefixes are the street prefixes of French, Spanish, Portuguese and
// Italian, which those languages write in lower case after the house
// number: "12 rue de la Paix", "45 calle Mayor" (not "via", an English
// word too: "5 via IV").
var lowerPrefixes = set(`rue avenue boulevard bd chemin impasse allée allee quai calle carrer paseo avenida rua travessa
estrada viale corso piazza largo`)

// namedAfter reports whether a street's name starts at token k, on the
// line: a capitalised word, or particles and then one ("de la Paix",
// "do Carmo").
func (d *detector) namedAfter(k int) bool {
	for n := 0; k < len(d.toks) && n < 3 && d.toks[k].kind == tkWord && !d.toks[k].has(fNL); n, k = n+1, k+1 {
		if d.toks[k].has(fCap) {
			return true
		}
		if !isParticle(d.word(k)) {
			return false
		}
	}
	return false
}

// streetTail extends a street that started at token i with a prefix word
// over capitalised words and an optional trailing house number.
func (d *detector) streetTail(i, k int) int {
	end := k
	for n := 0; end < len(d.toks) && n < 5; n++ {
		t := d.toks[end]
		if t.has(fNL) {
			break
		}
		if t.kind == tkWord && (t.has(fCap) || d.lowerDoc || isParticle(d.word(end))) {
			end++
			continue
		}
		if t.kind == tkPunct && (d.text[t.start] == '.' || d.text[t.start] == '-') && d.glued(end-1) {
			end++
			continue
		}
		if t.kind == tkNum && t.end-t.start <= 5 {
			end++
		}
		break
	}
	return d.claim(i, end, TypeAddress, prioStruct)
}

// streetFromWord claims streets that start with a word: "Via Roma 12",
// "Lindenstrasse 21", and "Harrow Avenue" (looking back from the suffix).
func (d *detector) streetFromWord(i int, w string) int {
	t := d.toks[i]
	if d.is(i, vStreetSuffix) && (shortSuffixes[w] || w == "street" || w == "avenue") {
		if k := d.streetLivedOn(i); k < i {
			return d.claim(k, d.roadNumber(i, i+1), TypeAddress, prioStruct)
		}
	}
	if !(t.has(fCap) || d.lowerDoc || d.lowerClinical && len(w) <= 4 && shortSuffixes[w]) {
		return i
	}
	if (w == "carr" || w == "carretera" || w == "ctra") && t.has(fCap) {
		if e := d.kilometreRoad(i); e > i {
			return d.claim(i, e, TypeAddress, prioStruct) // "Carr. 2 Km 15.3", as Puerto Rico writes a rural address
		}
	}
	if d.streetStart(i, w) && !d.stateBeforeZIP(i, w) {
		// needs a house number within five tokens on the line
		for k := i + 1; k < len(d.toks) && k <= i+6; k++ {
			tk := d.toks[k]
			if tk.has(fNL) {
				break
			}
			if tk.kind == tkNum {
				if tk.end-tk.start > 5 || d.keptNum(k, k+1) {
					break
				}
				return d.claim(i, k+1, TypeAddress, prioStruct)
			}
			if tk.kind == tkWord && !(tk.has(fCap) || d.lowerDoc || isParticle(d.word(k))) {
				break
			}
		}
	}
	if len(w) >= 4 && d.is(i, vStreetSuffix) && !t.has(fSent) && !(t.has(fNoCase) && !d.lowerDoc && !plainSuffixes[w]) && !d.endsPlace(i) {
		// look back over capitalised words: "Korvenoja Street"; where
		// case is no evidence, over words that are no English word
		// ("ADJUSTED DRIVE PRESSURE" stays)
		k := i
		for k > 0 && i-k < 3 {
			p := d.toks[k-1]
			if p.kind != tkWord || d.toks[k].has(fNL) || !(p.has(fCap) || d.lowerDoc) || d.is(k-1, vStopword) || d.state[k-1] == stKept ||
				p.has(fNoCase) && !d.lowerDoc && p.lex&(lexSafe|lexCommon|lexClinical) != 0 || p.has(fSent) && d.sentenceVerb(k-1) {
				break
			}
			k--
		}
		if k < i {
			end := i + 1
			if end < len(d.toks) && d.toks[end].kind == tkWord && !d.toks[end].has(fNL) && isDirection(d.word(end)) {
				end++
			}
			return d.claim(k, d.roadNumber(i, end), TypeAddress, prioStruct)
		}
	}
	if len(w) <= 4 && shortSuffixes[w] && (t.has(fCap) && !t.has(fNoCase) && !t.has(fSent) || d.lowerDoc && !d.clinical || d.lowerClinical && w != "rd" && w != "ln") {
		if k := d.streetOn(i); k < i {
			return d.claim(k, d.roadNumber(i, i+1), TypeAddress, prioStruct)
		}
	}
	return i
}

// kilometreRoad returns the end of a road's number and the kilometre on
// it after "Carr." or "Carretera" at word i ("Carr. 2 Km 15.3", "Carretera
// 172 km 8.1", "Carr. PR-52 Km 3"), or i. "Carr." alone is a surname.
func (d *detector) kilometreRoad(i int) int {
	k := i + 1
	if k < len(d.toks) && d.isPunct(k, '.') && d.glued(i) {
		k++
	}
	if k+1 < len(d.toks) && d.toks[k].kind == tkWord && d.word(k) == "pr" && d.isPunct(k+1, '-') && d.glued(k) {
		k += 2 // "PR-52"
	}
	if k >= len(d.toks) || d.toks[k].kind != tkNum || d.toks[k].end-d.toks[k].start > 3 || d.toks[k].has(fNL) {
		return i
	}
	k++
	if k+1 >= len(d.toks) || d.toks[k].kind != tkWord || d.word(k) != "km" || d.toks[k].has(fNL) || d.toks[k+1].kind != tkNum {
		return i
	}
	e := k + 2
	if e+1 < len(d.toks) && d.isPunct(e, '.') && d.glued(e-1) && d.glued(e) && d.toks[e+1].kind == tkNum {
		e += 2 // "15.3"
	}
	return e
}

// roadNumber returns the end of a street whose suffix at word i is a
// road's, ending at token end, with the road's number after it when one
// follows ("off County Rd 130", "on Farm Road 1960"), or end.
func (d *detector) roadNumber(i, end int) int {
	switch d.word(i) {
	case "rd", "road", "route", "rte", "highway", "hwy":
		// ("County Road 12", "State Route 161": the number is the road's)
		if end == i+1 && d.routeNumber(end) {
			return end + 1
		}
	}
	return end
}

// commonStreets are the commonest names of American streets: after "on"
// and before a suffix they name a street in any case, clinical word or
// not ("on main st", "ON OAK ST").
var commonStreets = set(`main oak pine maple cedar elm walnut chestnut church mill market broad front union spring park
lake hill water river center centre state school washington lincoln jefferson franklin madison jackson`)

// livedOnVerbs say where someone lives or something stands before "on":
// "lives on maple st", "LIVES ON MAIN ST".
var livedOnVerbs = set(`lives lived living resides resided residing located house home apartment apt`)

// streetLivedOn returns the first word of a street named without a house
// number before the suffix at word i, in any case, or i: after "on" and
// perhaps a direction, one or two words that are no stop word, none
// clinical only and of three letters or more, either after a verb of
// living ("lives on maple st", "LIVES ON ELM ST") or the one right before
// the suffix among the commonest street names ("store on main st", "on W
// Main St"; "ON HIGH FLOW ST", "on neo st 110s" stay).
func (d *detector) streetLivedOn(i int) int {
	cue := false
	k := i - 1
	for n := 0; n < 3 && k > 0; n, k = n+1, k-1 {
		p := &d.toks[k]
		if d.toks[k+1].has(fNL) || p.kind != tkWord {
			return i
		}
		w := d.word(k)
		if w == "on" && n > 0 {
			break
		}
		if d.state[k] != stFree && !(n == 0 && commonStreets[w] && d.state[k] == stKept) {
			return i
		}
		if isDirection(w) && n > 0 && k+1 < i && !isDirection(d.word(k+1)) {
			continue // "on W Main St"
		}
		if n == 0 && commonStreets[w] {
			cue = true // right before the suffix: "on main st", not "on high flow st"
			continue
		}
		if n == 2 || d.is(k, vStopword|vUnit|vTitle|vNameLabel|vStreetSuffix) || p.end-p.start < 3 || p.lex&lexClinical != 0 && p.lex&lexCommon == 0 {
			return i
		}
	}
	if k <= 0 || k == i-1 || d.word(k) != "on" || d.toks[k+1].has(fNL) {
		return i
	}
	if !cue {
		q := k - 1
		if q < 0 || d.toks[q].kind != tkWord || d.toks[k].has(fNL) || !livedOnVerbs[d.word(q)] {
			return i
		}
	}
	return k + 1
}

// shortSuffixes are the abbreviated street suffixes that streetOn reads;
// "Dr" and "Ct" are left out (a title, a scan).
var shortSuffixes = set(`st ave rd blvd ln pkwy`)

// streetOn returns the first word of a street named without a house
// number before its abbreviated suffix at word i, in a note with case:
// one or two capitalised words after "on", "off" or "near", and no
// capitalised word after the suffix, which would make "St." a saint ("on
// Elm St. for a bite", "lives on Maple Ave. near the park"; not "on St.
// Mary's", "near Mercy St. Vincent"). It returns i if there is none.
func (d *detector) streetOn(i int) int {
	j := i + 1
	if j < len(d.toks) && d.isPunct(j, '.') && d.glued(i) {
		j++
	}
	if j < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind == tkWord && d.toks[j].has(fCap) && !d.lowerDoc {
		return i
	}
	if k := i - 2; k >= 1 && d.toks[k].kind == tkNum && d.glued(k) && d.toks[k+1].kind == tkWord && isOrdinal(d.word(k+1)) && d.toks[k-1].kind == tkWord && !d.toks[k].has(fNL) {
		switch d.word(k - 1) {
		case "on", "off", "near":
			return k // a street named by an ordinal: "the station on 5th Ave"
		}
	}
	st := d.word(i) == "st"
	for k, n := i-1, 0; k > 0 && n < 2; k, n = k-1, n+1 {
		p := &d.toks[k]
		if p.kind != tkWord || !(p.has(fCap) || d.lowerDoc || d.lowerClinical) || p.has(fSent) || d.toks[k+1].has(fNL) || d.is(k, vStopword|vTitle|vStreetSuffix) || d.state[k] != stFree ||
			!p.has(fCap) && (p.lex&lexClinical != 0 && (st || p.lex&lexCommon == 0) || p.end-p.start < 3) {
			// (in lower case, a clinical word before "st" is a drug and
			// sinus tachycardia: "on neo st 110s"; before "ave" or "rd"
			// an English word that is also a clinical one names the
			// street: "the pharmacy on grand ave")
			return i
		}
		if q := k - 1; d.toks[q].kind == tkWord && !d.toks[k].has(fNL) {
			switch d.word(q) {
			case "on", "off", "near":
				return k
			}
		}
	}
	return i
}

// morphemeTails are the last two bytes of the street morphemes: a quick
// reject before comparing suffixes.
var morphemeTails = func() map[[2]byte]bool {
	m := map[[2]byte]bool{}
	for _, s := range streetMorphemes {
		m[[2]byte{s[len(s)-2], s[len(s)-1]}] = true
	}
	return m
}()

// endsPlace reports whether word i ends a known multi-word place such as
// "Forest Park".
func (d *detector) endsPlace(i int) bool {
	for k := i - 1; k >= 0 && k >= i-4; k-- {
		if d.toks[k].kind != tkWord {
			continue
		}
		if j, _, ok := d.placePhrase(k); ok && j == i+1 {
			return true
		}
	}
	return false
}

// streetStart reports whether word i starts a street: a prefix ("Via",
// "Rue") where case is evidence, or a word ending in a street morpheme
// ("Lindenstrasse"), or abbreviated with its dot ("Goethestr. 7"), that is
// no English or clinical word ("REQUIRING" ends in "ring").
func (d *detector) streetStart(i int, w string) bool {
	t := d.toks[i]
	if d.is(i, vStreetPrefix) {
		if w == "os" && d.acuityAfter(i) {
			return false // the left eye's acuity: "OD 20/40, OS 20/25"
		}
		if d.glued(i) && d.isPunct(i+1, '-') && d.glued(i+1) && d.toks[i+2].kind == tkWord {
			return false // the first half of a hyphenated surname: "Gloria Estrada-Whitfield  Tel: 336-555-0198"
		}
		return !t.has(fNoCase) || d.lowerDoc || t.lex&(lexSafe|lexCommon|lexClinical) == 0
	}
	return (t.lex&(lexSafe|lexCommon|lexClinical) == 0 || d.lowerDoc && t.lex&lexCommon == 0) &&
		(hasStreetMorpheme(w) || len(w) >= 6 && strings.HasSuffix(w, "str") && d.glued(i) && d.isPunct(i+1, '.'))
}

// acuityAfter reports whether a visual acuity follows word i, an eye's
// abbreviation: a number, a slash and a number glued ("OS 20/25", "os
// 20/200"), which is no house number after Polish "os." (osiedle).
// A refraction is the eye's too: a sign glued to a number ("OS -2.00
// sph", "OS +1.25"), which no house number carries.
func (d *detector) acuityAfter(i int) bool {
	n := i + 1
	if n+1 < len(d.toks) && (d.isPunct(n, '-') || d.isPunct(n, '+')) && d.glued(n) && d.toks[n+1].kind == tkNum && !d.toks[n].has(fNL) {
		return true
	}
	return n+2 < len(d.toks) && d.toks[n].kind == tkNum && !d.toks[n].has(fNL) && d.glued(n) && d.isPunct(n+1, '/') && d.glued(n+1) && d.toks[n+2].kind == tkNum
}

func hasStreetMorpheme(w string) bool {
	if len(w) < 6 || !morphemeTails[[2]byte{w[len(w)-2], w[len(w)-1]}] {
		return false
	}
	for _, m := range streetMorphemes {
		if len(w) > len(m)+2 && strings.HasSuffix(w, m) {
			return true
		}
	}
	return false
}

// stateBeforeZIP reports whether word i, a street's prefix in another
// language that is also a state's code ("AL", as Polish "al." for
// "aleja"), is the state: in capitals, after a comma, before a ZIP code
// of five digits on the line ("Huntsville, AL 35801").
func (d *detector) stateBeforeZIP(i int, w string) bool {
	if len(w) != 2 || !stateAbbrevs[w] || !d.toks[i].has(fAllCaps) || !d.isPunct(i-1, ',') || d.glued(i) {
		return false
	}
	z := i + 1
	return z < len(d.toks) && d.toks[z].kind == tkNum && !d.toks[z].has(fNL) && d.toks[z].end-d.toks[z].start == 5
}

func isParticle(w string) bool {
	// most words are longer or start otherwise: answer those without the
	// string compares of the switch (the names' promotion loop asks this
	// of every free word, up to three times)
	if len(w) == 0 || len(w) > 5 || !particleStart[w[0]] {
		return false
	}
	switch w {
	case "de", "del", "della", "di", "da", "do", "dos", "das", "van", "von", "der", "den", "la", "le", "les", "du", "des", "y", "e", "st", "san", "santa", "bin", "al", "el", "ter", "ten",
		"ó", "mac", "mc", "ibn", "bint", "abu", "ben", "ap", "zu", "dei", "dal", "af", "los", "las":
		return true
	}
	return false
}

// particleStart holds the first bytes of isParticle's words ("ó" starts
// with 0xc3 in UTF-8).
var particleStart = [256]bool{'a': true, 'b': true, 'd': true, 'e': true, 'i': true, 'l': true, 'm': true, 's': true, 't': true, 'v': true, 'y': true, 'z': true, 0xc3: true}

func isDirection(w string) bool {
	switch w {
	case "n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest":
		return true
	}
	return false
}

// times reports whether tokens [i, j) alternate numbers and the letter x:
// "500x14", "4X4".
func (d *detector) times(i, j int) bool {
	if j-i < 3 || (j-i)%2 == 0 {
		return false
	}
	for k := i; k < j; k++ {
		if (k-i)%2 == 0 != (d.toks[k].kind == tkNum) || (k-i)%2 == 1 && d.word(k) != "x" {
			return false
		}
	}
	return true
}

// gluedDate reports whether a slash date follows word i glued to it, and
// where it ends: "s/p hip fx6/95", "cabg10/3/02". The word is no label
// or unit ("peep5/10", "ps10/5" are settings), and the day is no score or
// fraction ("mag2/3"); a day without a year needs a word of two letters
// or more before it.
func (d *detector) gluedDate(i int) (int, bool) {
	j := i + 1
	t := d.toks[i]
	if t.kind != tkWord || j+2 >= len(d.toks) || d.toks[j].kind != tkNum || !d.glued(j) || !d.isPunct(j+1, '/') || t.end-t.start < 2 ||
		d.is(i, vVitalLabel|vUnit) || i > 0 && d.glued(i-1) && d.toks[i-1].kind != tkPunct {
		return 0, false
	}
	q, ok := d.numDate(int(d.toks[j].start))
	if !ok || d.scoreLike(j, q) {
		return 0, false
	}
	return q, true
}

// quantity reports whether number token i (at most four digits, or the
// decimals of a number) is glued to a word that starts with a unit: "200MCGS",
// "350mls", "10cmH2O", "500ccNS". A unit of one letter counts only as the
// whole word ("20G").
func (d *detector) quantity(i int) bool {
	if d.toks[i].kind != tkNum || d.toks[i].end-d.toks[i].start > 4 || i+1 >= len(d.toks) || d.toks[i+1].kind != tkWord || !d.glued(i) {
		return false
	}
	u := d.word(i + 1)
	if u == "x" && i+3 < len(d.toks) && d.glued(i+1) && d.glued(i+2) && d.toks[i+2].kind == tkNum && d.toks[i+3].kind == tkWord && d.word(i+3) != "x" && !d.is(i+3, vUnit|vVitalLabel) && d.toks[i+3].lex&lexClinical == 0 {
		return false // no times but a code's letter: "2214X0KLM", a hearing aid's serial number ("3x5cm", "700x12AC" stay)
	}
	if d.is(i+1, vUnit) {
		return true
	}
	for l := min(len(u)-1, 6); l >= 2; l-- {
		if d.e.lex.get(u[:l])&vUnit != 0 {
			return true
		}
	}
	if len(u) == 3 && u[:2] == "mc" {
		return true // "250MCQ", "380mck": micrograms mistyped
	}
	// a value glued to what it measures: "140sys", "700stv", "110sinus"
	// (not a code: more letters or digits glued after)
	f := d.toks[i+1].lex
	return !(i+2 < len(d.toks) && d.glued(i+1) && d.toks[i+2].kind != tkPunct) &&
		(d.is(i+1, vVitalLabel) || f&lexClinical != 0 && f&(lexFirst|lexLast) == 0 && len(u) >= 4)
}

// labelled reports whether word token i is a vital or lab label or a
// clinical term glued to the number after it: "sbp146", "TYLENOL650",
// "T100.1".
func (d *detector) labelled(i int) bool {
	if d.toks[i].kind != tkWord || i+1 >= len(d.toks) || d.toks[i+1].kind != tkNum || !d.glued(i) || d.toks[i+1].end-d.toks[i+1].start > 4 {
		return false
	}
	if i+2 < len(d.toks) && d.glued(i+1) && d.toks[i+2].kind == tkWord && !d.is(i+2, vUnit) {
		return false // more letters after: a code
	}
	return d.is(i, vVitalLabel) || d.toks[i].lex&lexClinical != 0 && d.toks[i].lex&(lexFirst|lexLast) == 0 && d.toks[i].end-d.toks[i].start >= 4
}

// extension claims a hospital's internal extension written after "x": one
// or two digits, a hyphen and four digits ("x5-3381", "x 4-4471"), with
// no unit after it. "x" before a count or a range is "times" ("x3", "x2-3
// days") and stays.
func (d *detector) extension(i int) int {
	j := i + 1
	if d.toks[j].kind != tkNum || d.toks[j].start-d.toks[i].end > 1 || d.toks[j].has(fNL) || d.toks[j].end-d.toks[j].start > 2 ||
		!d.isPunct(j+1, '-') || !d.glued(j) || !d.glued(j+1) || d.toks[j+2].kind != tkNum || d.toks[j+2].end-d.toks[j+2].start != 4 {
		return i
	}
	k := j + 3
	if k < len(d.toks) && (d.toks[k].start == d.toks[k-1].end && d.toks[k].kind != tkPunct || d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && d.is(k, vUnit|vUnitWord)) {
		return i // glued to more, or a quantity: "x 1-2000 units"
	}
	return d.claim(i, k, TypePhone, prioStruct)
}

// maskEnd returns the token after a mask that hides an identifier's first
// digits, starting at the '*' of token j: three asterisks or more, with
// dashes or dots between groups, glued to the digits that show
// ("***-**-2290", "************4471", "***.***.8812"), or j.
func (d *detector) maskEnd(j int) int {
	k, stars := j, 0
	for k < len(d.toks) && d.toks[k].kind == tkPunct && (k == j || d.glued(k-1)) {
		switch d.text[d.toks[k].start] {
		case '*':
			stars++
		case '-', '.':
			if !d.isPunct(k-1, '*') {
				return j
			}
		default:
			return j
		}
		k++
	}
	if stars < 3 || k >= len(d.toks) || !d.glued(k-1) || d.toks[k].kind != tkNum {
		return j
	}
	return k
}

// wrappedAfter reports whether the trigger word i ends a line that a
// writer's editor wrapped mid-sentence ("... in his 2019 Ford F-150, NH
// plate\n4471-KT, where ..."), so that its value opens the next line: the
// trigger is the line's last token and follows another word of the line
// (not a heading's label alone on its line), and the line does not end a
// sentence.
func (d *detector) wrappedAfter(i int) bool {
	k := i + 1
	if k >= len(d.toks) || !d.toks[k].has(fNL) || d.toks[i].has(fNL) {
		return false
	}
	p := i - 1
	return p >= 0 && !d.toks[i].has(fNL) && d.toks[p].kind == tkWord && d.toks[k].kind != tkPunct && !d.blankLineBefore(k)
}

// blankLineBefore reports whether token k starts a paragraph: an empty
// line (blanks aside) lies between it and the token before.
func (d *detector) blankLineBefore(k int) bool {
	if k == 0 {
		return true
	}
	return strings.Count(d.text[d.toks[k-1].end:d.toks[k].start], "\n") > 1
}

// codeValue reports whether tokens [j, k) are a code: letters and digits
// both, or five digits or more ("4471-KT", "rachterberg47", "00418827").
func (d *detector) codeValue(j, k int) bool {
	letters, digits := false, 0
	for m := j; m < k; m++ {
		switch d.toks[m].kind {
		case tkWord:
			letters = true
		case tkNum:
			digits += int(d.toks[m].end - d.toks[m].start)
		}
	}
	return letters && digits > 0 || digits >= 5
}

// parkSpace extends a street address that ends before token j over a
// mobile-home park's or a marina's space, as its residents write their
// unit: "4410 Ridgecrest Rd Space 12", "Spc 7", "Space #31"; a number of
// one to four digits, perhaps with a letter glued to it, on the same line.
// "Space" elsewhere is no unit ("intercostal space 4" has no street).
func (d *detector) parkSpace(j int) int {
	if j+1 >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) || d.toks[j].end-d.toks[j].start > 5 || d.isPunct(j-1, '.') {
		return j // (nor after a dot, which may end the sentence: "Oak St. Space 4 is hers")
	}
	if w := d.word(j); w != "space" && w != "spc" {
		return j
	}
	k := j + 1
	if d.isPunct(k, '#') && k+1 < len(d.toks) {
		k++
	}
	if d.toks[k].kind != tkNum || d.toks[k].has(fNL) || d.toks[k].end-d.toks[k].start > 4 || d.state[k] != stFree {
		return j
	}
	return k + 1
}
