package phi

// Postcodes outside the United States, in an address: a UK postcode
// ("SW1A 1AA", "M1 1AE") or a Canadian postal code ("K1A 0B1"). Their
// shapes are codes of letters and digits that the compound scanner would
// otherwise keep; they are claimed only beside an address or after a
// postcode label or a Canadian province's code, since a code of that shape
// alone may be a lab's or a device's.

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// postcodeShape returns the end of a UK or Canadian postcode at byte p,
// written in capitals with at most one blank inside, or p.
func postcodeShape(s string, p int) int {
	at := func(k int, f func(byte) bool) bool { return k < len(s) && f(s[k]) }
	end := func(q int) int {
		if q < len(s) && (isAlnum(s[q]) || s[q] == '-' || s[q] >= 0x80) {
			return p
		}
		return q
	}
	// Canada: A9A 9A9 (or A9A9A9)
	if at(p, isUpper) && at(p+1, isDigit) && at(p+2, isUpper) {
		q := p + 3
		if at(q, func(c byte) bool { return c == ' ' }) {
			q++
		}
		if at(q, isDigit) && at(q+1, isUpper) && at(q+2, isDigit) {
			if e := end(q + 3); e > p {
				return e
			}
		}
	}
	// UK: an outward code A9, A99, AA9, AA99, A9A or AA9A, a blank, then 9AA
	q := p
	for k := 0; k < 2 && at(q, isUpper); k++ {
		q++
	}
	if q == p || !at(q, isDigit) {
		return p
	}
	q++
	if at(q, isDigit) || at(q, isUpper) {
		q++
	}
	if !at(q, func(c byte) bool { return c == ' ' }) || !at(q+1, isDigit) || !at(q+2, isUpper) || !at(q+3, isUpper) {
		return p
	}
	return end(q + 4)
}

// postcodeLabels precede a postcode: "Postcode: SW1A 1AA".
var postcodeLabels = set(`postcode postal post zip`)

// provinces are the postal codes of Canada's provinces and territories.
var provinces = set(`ab bc mb nb nl ns nt nu on pe qc sk yt`)

// postcode claims a postcode at token i in an address: a street address
// claimed before it on the line or the line before (within 80 bytes), or
// a postcode label, or a province's code in capitals just before it.
func (d *detector) postcode(i int) int {
	p := int(d.toks[i].start)
	if i > 0 && d.toks[i-1].end == d.toks[i].start && d.toks[i-1].kind != tkPunct {
		return i
	}
	q := postcodeShape(d.text, p)
	if q == p {
		return i
	}
	ctx := false
	if n := len(d.cands); n > 0 {
		c := d.cands[n-1]
		ctx = c.typ == TypeAddress && c.end <= p && p-c.end <= 80
	}
	for k, steps := i-1, 0; !ctx && k >= 0 && steps < 4; k, steps = k-1, steps+1 {
		t := d.toks[k]
		if t.kind == tkPunct {
			if c := d.text[t.start]; c == ':' || c == ',' || c == '#' {
				continue
			}
			break
		}
		if t.kind != tkWord {
			break
		}
		w := d.word(k)
		if postcodeLabels[w] {
			d.keep(k, i) // the label is no name: "Postal code:"
			ctx = true
		}
		ctx = ctx || provinces[w] && t.has(fAllCaps)
		if w != "code" {
			break
		}
	}
	if !ctx {
		return i
	}
	if k := i - 1; k >= 0 && d.toks[k].kind == tkWord && !d.toks[i].has(fNL) {
		d.townBefore(k) // "Reading RG4 7AB"
		if from := d.localitiesBefore(k); from >= 0 {
			d.claimLocalities(from, k) // "27 Mill Lane, Great Snoring, Fakenham NR21 0HP"
		}
	}
	return d.claimBytes(i, q, TypeZIP)
}
