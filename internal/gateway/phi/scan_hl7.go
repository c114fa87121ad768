package phi

import "strings"

// HL7 version 2 messages are pasted into notes as they come from an
// interface viewer: one segment a line, its fields split by '|', their
// components by '^' and repetitions by '~'
// ("PID|1||7730192^^^MRN^MR||KOWALCZYK^DOROTA^M||19540612|F"). The name
// of a field is its place, not a word before it, and names there are in
// capitals with '^' between family and given name, so neither a label
// rule nor case found them. hl7Segments claims the fields of the segments
// below by their place.

// Kinds of HL7 field: what each component holds.
const (
	hxName  uint8 = iota + 1 // XPN: family^given^middle
	hxStaff                  // XCN: id^family^given^middle
	hxAddr                   // XAD: street^other^city^state^zip
	hxPhone                  // XTN: number^use^type^email^country^area^local
	hxFirst                  // CX, EI, HD, DTM: the first component, of the field's type
	hxWhole                  // the whole field, of its type (an SSN)
)

// hl7Field is a field of a segment that holds an identifier: its number
// (MSH counts its field separator as field 1), its kind and, for hxFirst
// and hxWhole, its type.
type hl7Field struct {
	n    uint8
	kind uint8
	typ  Type
}

// hl7Fields are the fields read, by segment.
var hl7Fields = map[string][]hl7Field{
	"MSH": {{4, hxFirst, TypeLocation}, {6, hxFirst, TypeLocation}, {7, hxFirst, TypeDate}, {10, hxFirst, TypeID}},
	"PID": {{2, hxFirst, TypeID}, {3, hxFirst, TypeMRN}, {4, hxFirst, TypeID}, {5, hxName, 0}, {6, hxName, 0},
		{7, hxFirst, TypeDate}, {9, hxName, 0}, {11, hxAddr, 0}, {13, hxPhone, 0}, {14, hxPhone, 0},
		{18, hxFirst, TypeAccount}, {19, hxWhole, TypeSSN}, {20, hxFirst, TypeLicense}, {21, hxFirst, TypeID},
		{29, hxFirst, TypeDate}},
	"PD1": {{4, hxStaff, 0}},
	"MRG": {{1, hxFirst, TypeMRN}, {3, hxFirst, TypeAccount}, {5, hxFirst, TypeID}, {7, hxName, 0}},
	"NK1": {{2, hxName, 0}, {4, hxAddr, 0}, {5, hxPhone, 0}, {6, hxPhone, 0}, {16, hxFirst, TypeDate},
		{30, hxName, 0}, {31, hxPhone, 0}, {32, hxAddr, 0}, {33, hxFirst, TypeID}, {37, hxWhole, TypeSSN}},
	"PV1": {{7, hxStaff, 0}, {8, hxStaff, 0}, {9, hxStaff, 0}, {17, hxStaff, 0}, {19, hxFirst, TypeID},
		{44, hxFirst, TypeDate}, {45, hxFirst, TypeDate}, {50, hxFirst, TypeID}, {52, hxStaff, 0}},
	"ORC": {{2, hxFirst, TypeID}, {3, hxFirst, TypeID}, {4, hxFirst, TypeID}, {9, hxFirst, TypeDate},
		{10, hxStaff, 0}, {11, hxStaff, 0}, {12, hxStaff, 0}, {22, hxAddr, 0}, {23, hxPhone, 0}, {24, hxAddr, 0}},
	"OBR": {{2, hxFirst, TypeID}, {3, hxFirst, TypeID}, {6, hxFirst, TypeDate}, {7, hxFirst, TypeDate},
		{8, hxFirst, TypeDate}, {14, hxFirst, TypeDate}, {16, hxStaff, 0}, {17, hxPhone, 0},
		{22, hxFirst, TypeDate}, {28, hxStaff, 0}},
	"OBX": {{14, hxFirst, TypeDate}, {16, hxStaff, 0}, {19, hxFirst, TypeDate}},
	"GT1": {{2, hxFirst, TypeID}, {3, hxName, 0}, {5, hxAddr, 0}, {6, hxPhone, 0}, {7, hxPhone, 0},
		{8, hxFirst, TypeDate}, {12, hxWhole, TypeSSN}},
	"IN1": {{16, hxName, 0}, {18, hxFirst, TypeDate}, {19, hxAddr, 0}, {36, hxFirst, TypeHealthPlan},
		{49, hxFirst, TypeHealthPlan}},
	"RXA": {{3, hxFirst, TypeDate}, {10, hxStaff, 0}, {15, hxFirst, TypeDevice}},
	"TXA": {{4, hxFirst, TypeDate}, {5, hxStaff, 0}, {9, hxStaff, 0}, {12, hxFirst, TypeID}, {22, hxStaff, 0}},
}

// hl7Segments claims the identifier fields of HL7 segments that open a
// line (perhaps after blanks) or follow a label's colon with five bars on
// the line.
func (d *detector) hl7Segments() {
	s := d.text
	for off := 0; off < len(s); {
		k := strings.IndexByte(s[off:], '|')
		if k < 0 {
			return
		}
		k += off
		off = k + 1
		ls := k - 3
		if ls < 0 {
			continue
		}
		p := ls
		for p > 0 && (s[p-1] == ' ' || s[p-1] == '\t') {
			p--
		}
		label := p > 0 && p < ls && s[p-1] == ':' // "ADT copy: PV1|1|I|..."
		if p > 0 && s[p-1] != '\n' && s[p-1] != '\r' && !label {
			continue
		}
		fields, ok := hl7Fields[s[ls:k]]
		if !ok {
			continue
		}
		e := k + 1
		bars := 1
		for e < len(s) && s[e] != '\n' && s[e] != '\r' {
			if s[e] == '|' {
				bars++
			}
			e++
		}
		if label && bars < 5 {
			continue // (a segment after a label has its fields: not "PID|notes: see above")
		}
		d.hl7Line(k, e, fields, s[ls:k] == "MSH")
		off = e
	}
}

// hl7Line claims the fields of the segment whose first separator is at
// bar and whose line ends at e.
func (d *detector) hl7Line(bar, e int, fields []hl7Field, msh bool) {
	s := d.text
	n := 1
	if msh {
		n = 2
	}
	for a := bar + 1; a <= e; n++ {
		b := a
		for b < e && s[b] != '|' {
			b++
		}
		for _, f := range fields {
			if int(f.n) == n && b > a {
				d.hl7Field(a, b, f)
			}
		}
		a = b + 1
	}
}

// hl7Field claims the identifiers of field f, bytes [a, b), in each of its
// repetitions.
func (d *detector) hl7Field(a, b int, f hl7Field) {
	s := d.text
	for a < b {
		r := a
		for r < b && s[r] != '~' {
			r++
		}
		switch f.kind {
		case hxName:
			d.hl7Claim(hl7Comps(s, a, r, 1, 3), TypePerson)
		case hxStaff:
			d.hl7Claim(hl7Comps(s, a, r, 1, 1), TypeID)
			d.hl7Claim(hl7Comps(s, a, r, 2, 4), TypePerson)
		case hxAddr:
			d.hl7Claim(hl7Comps(s, a, r, 1, 2), TypeAddress)
			d.hl7Claim(hl7Comps(s, a, r, 3, 3), TypeLocation)
			d.hl7Claim(hl7Comps(s, a, r, 5, 5), TypeZIP)
		case hxPhone:
			if c := hl7Comps(s, a, r, 1, 1); digitCount(s[c[0]:c[1]]) >= 7 {
				d.hl7Claim(c, TypePhone)
			}
			d.hl7Claim(hl7Comps(s, a, r, 6, 7), TypePhone)
		case hxFirst:
			d.hl7Claim(hl7Comps(s, a, r, 1, 1), f.typ)
		case hxWhole:
			d.hl7Claim([2]int{a, r}, f.typ)
		}
		a = r + 1
	}
}

// hl7Comps returns the bytes from the start of component from to the end
// of the last component up to to that is not empty, of the field
// repetition [a, b), or an empty range.
func hl7Comps(s string, a, b, from, to int) [2]int {
	p, q := -1, -1
	c := 1
	for k := a; k <= b && c <= to; k++ {
		if k == b || s[k] == '^' {
			c++
			continue
		}
		if c >= from {
			if p < 0 {
				p = k
			}
			q = k + 1
		}
	}
	if p < 0 {
		return [2]int{}
	}
	return [2]int{p, q}
}

// hl7Claim claims bytes [c[0], c[1]), trimmed of blanks, when they hold
// a letter or a digit.
func (d *detector) hl7Claim(c [2]int, t Type) {
	s, p, q := d.text, c[0], c[1]
	for p < q && s[p] == ' ' {
		p++
	}
	for q > p && s[q-1] == ' ' {
		q--
	}
	for k := p; k < q; k++ {
		if isAlnum(s[k]) || s[k] >= 0x80 {
			d.claimRange(p, q, t)
			return
		}
	}
}

func digitCount(s string) int {
	n := 0
	for k := 0; k < len(s); k++ {
		if isDigit(s[k]) {
			n++
		}
	}
	return n
}
