package phi

import "strings"

// Columns of a CSV export. A table pasted as comma-separated values names
// its columns once, in a header line ("Name,DOB,MRN,Phone",
// "patient_id,visit_date,weight_kg"); its rows then hold the values bare.
// A number of six or seven digits there has no label beside it and was
// kept as a count ("Halvorsen Ingrid,09/30/1941,7741029,…"). csvColumns
// claims each row's value under a header cell that names an identifier.

// csvHintWords are the last words of a header cell that names an
// identifier: csvColumns runs only in a note holding one (a pass hint).
var csvHintWords = []string{"mrn", "id", "ssn", "acct", "account", "phone", "number", "num", "nbr", "identifier", "fin", "csn", "mbi"}

// csvColumns is the pass: it finds header lines, keeps their words (a
// column's name is no person's), then claims the values of the rows after
// them, while they have the header's number of cells.
func (d *detector) csvColumns() {
	if d.hints&hCSV == 0 {
		return
	}
	var cols [16]Type
	s := d.text
	for p := 0; p < len(s) && !d.stopped(); {
		q := strings.IndexByte(s[p:], '\n')
		if q < 0 {
			q = len(s)
		} else {
			q += p
		}
		// (most lines are passed over by their bytes, without their
		// tokens: a header's first cell is a few letters before a comma,
		// and it has two commas or more)
		if !csvFirstCell(s[p:q]) || strings.Count(s[p:q], ",") < 2 {
			p = q + 1
			continue
		}
		i := d.tokAt(p)
		e := d.lineEnd(i)
		n, ok := d.csvHeader(i, e, &cols)
		if !ok {
			p = q + 1
			continue
		}
		i = d.keep(i, e) // the header's words are no names: "Name,DOB,MRN"
		for i < len(d.toks) && !d.stopped() {
			e = d.lineEnd(i)
			if !d.csvRow(i, e, n, &cols) {
				break
			}
			i = e
		}
		if i >= len(d.toks) {
			return
		}
		p = int(d.toks[i].start)
	}
}

// csvFirstCell reports whether line starts with a header's first cell:
// at most 40 letters, blanks, underscores or '#' before a comma.
func csvFirstCell(line string) bool {
	c := strings.IndexByte(line, ',')
	if c <= 0 || c > 40 {
		return false
	}
	for k := 0; k < c; k++ {
		if b := line[k]; !isASCIILetter(b) && b != ' ' && b != '_' && b != '#' {
			return false
		}
	}
	return true
}

// lineEnd returns the first token of the next line after token i.
func (d *detector) lineEnd(i int) int {
	for i++; i < len(d.toks) && !d.toks[i].has(fNL); i++ {
	}
	return i
}

// csvHeader reports whether the line of tokens [i, e) is a CSV header:
// three to sixteen cells of one to three words (with '_', '#' or blanks
// inside), no digits, parted by commas, one of them at least naming an
// identifier by its last word; cols gets each cell's type (0: none). It
// returns the number of cells. A line of prose fails at its first
// number, other punctuation or fourth word in a cell.
func (d *detector) csvHeader(i, e int, cols *[16]Type) (int, bool) {
	n, any, words, last := 0, false, 0, -1
	for k := i; k <= e; k++ {
		if k < e {
			t := &d.toks[k]
			if t.kind == tkWord {
				if words++; words > 3 {
					return 0, false
				}
				last = k
				continue
			}
			if t.kind != tkPunct {
				return 0, false
			}
			if c := d.text[t.start]; c == '_' || c == '#' {
				continue
			} else if c != ',' {
				return 0, false
			}
		}
		// the end of a cell
		if words == 0 || n >= len(cols) {
			return 0, false
		}
		cols[n] = 0
		if w := d.word(last); csvIDWord(w) {
			tt, ok := idTriggers[w]
			if !ok {
				tt = TypeID // "nbr"
			}
			cols[n], any = tt, true
		}
		n++
		words = 0
	}
	if n < 3 || !any {
		return 0, false
	}
	return n, true
}

// csvIDWord reports whether a header cell's last word w names an
// identifier column.
func csvIDWord(w string) bool {
	for _, h := range csvHintWords {
		if w == h {
			return true
		}
	}
	return false
}

// csvRow claims the values of the row [i, e) under the identifier columns
// of cols when it has n cells; it reports whether it had.
func (d *detector) csvRow(i, e, n int, cols *[16]Type) bool {
	if i >= e {
		return false
	}
	commas := 0
	for k := i; k < e; k++ {
		if d.isPunct(k, ',') {
			commas++
		}
	}
	if commas != n-1 {
		return false
	}
	c, a := 0, i
	for k := i; k <= e; k++ {
		if k < e && !d.isPunct(k, ',') {
			continue
		}
		if typ := cols[c]; typ != 0 && k > a {
			d.csvValue(a, k, typ)
		}
		c++
		a = k + 1
	}
	return true
}

// csvValue claims the cell [a, b) as an identifier of type typ when it is
// one value with a digit, four characters or more, no part of it taken.
func (d *detector) csvValue(a, b int, typ Type) {
	digit := false
	for k := a; k < b; k++ {
		if d.state[k] == stPHI || k > a && d.toks[k].start != d.toks[k-1].end {
			return // taken already, or words: a name's cell
		}
		digit = digit || d.toks[k].kind == tkNum
	}
	if !digit || d.toks[b-1].end-d.toks[a].start < 4 {
		return
	}
	if typ == TypeID || typ == TypeNPI {
		typ = d.recordIDType(d.text[d.toks[a].start:d.toks[b-1].end])
	}
	for k := a; k < b; k++ { // (a kept count: the column says what it is)
		if d.state[k] == stKept {
			d.state[k] = stFree
		}
	}
	d.claim(a, b, typ, prioStruct)
}
