package phi

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Record is what the caller already knows about the patient. Every field is
// optional. The engine looks for every rendering of these values (case,
// order, initials, possessives, hyphenation, each date format of the birth
// date, digits-only phones, near-miss spellings of names), and a match is
// the strongest evidence it has.
//
// A Record holds PHI: never log it. Its String and LogValue methods print
// only field counts.
type Record struct {
	Names     []string `json:"names,omitempty"`      // the patient's full names: "Jane Q. Doe"
	Nicknames []string `json:"nicknames,omitempty"`  // "Janie"
	BirthDate string   `json:"birth_date,omitempty"` // YYYY-MM-DD
	MRN       string   `json:"mrn,omitempty"`
	IDs       []string `json:"ids,omitempty"` // plan, account, licence and other numbers
	Phones    []string `json:"phones,omitempty"`
	Emails    []string `json:"emails,omitempty"`
	Addresses []string `json:"addresses,omitempty"` // "12 Oak St, Springfield, IL 62704"
	Employers []string `json:"employers,omitempty"`
	Relatives []string `json:"relatives,omitempty"` // names of relatives and contacts
	CareTeam  []string `json:"care_team,omitempty"` // names of clinicians
	Other     []string `json:"other,omitempty"`     // any other identifying strings
}

// String prints field counts only.
func (r *Record) String() string {
	if r == nil {
		return "phi.Record(nil)"
	}
	return fmt.Sprintf("phi.Record(names=%d ids=%d phones=%d emails=%d addresses=%d)",
		len(r.Names)+len(r.Nicknames)+len(r.Relatives)+len(r.CareTeam), len(r.IDs)+btoi(r.MRN != ""),
		len(r.Phones), len(r.Emails), len(r.Addresses))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Validate checks the record's formats. Its error names the field, never
// the value.
func (r *Record) Validate() error {
	if r.BirthDate != "" {
		if _, err := time.Parse("2006-01-02", r.BirthDate); err != nil {
			return fmt.Errorf("phi: record birth_date is not YYYY-MM-DD")
		}
	}
	return nil
}

// recPhrase is a literal to find case-insensitively on word boundaries.
type recPhrase struct {
	low string
	typ Type
}

// compiledRecord is a Record expanded into lookup structures.
type compiledRecord struct {
	nameParts map[string]Type // lower-case name tokens
	fuzzy     []string        // name parts long enough for near-miss matching
	// fuzzyIdx maps the hashes of the deletion neighbourhoods of the fuzzy
	// parts (each part with up to the edits it allows deleted) to their
	// indexes in fuzzy; nil for a record of fewer than fuzzyIndexMin parts
	fuzzyIdx  map[uint64][]int32
	fuzzyMax  int // the longest fuzzy part, in bytes
	phrases   []recPhrase
	digits    map[string]Type // digit strings of phones and numeric IDs
	maxDigits int
	shapes    map[string]Type // shapes of the record's IDs: "A9999999"
}

func compileRecord(r *Record) *compiledRecord {
	cr := &compiledRecord{
		nameParts: map[string]Type{},
		digits:    map[string]Type{},
		shapes:    map[string]Type{},
	}
	addName := func(full string) {
		for _, part := range strings.FieldsFunc(strings.ToLower(full), func(c rune) bool {
			return c == ' ' || c == ',' || c == '.' || c == '-' || c == '\'' || c == '"' || c == '(' || c == ')'
		}) {
			if len([]rune(part)) < 2 || titles[part] || credentials[part] {
				continue
			}
			cr.nameParts[part] = TypePerson
			for _, nick := range nicknames()[part] {
				cr.nameParts[nick] = TypePerson
			}
		}
	}
	for _, n := range r.Names {
		addName(n)
	}
	for _, n := range r.Nicknames {
		addName(n)
	}
	for _, n := range r.Relatives {
		addName(n)
	}
	for _, n := range r.CareTeam {
		addName(n)
	}
	for p := range cr.nameParts {
		if len(p) >= 4 {
			cr.fuzzy = append(cr.fuzzy, p)
		}
	}
	if len(cr.fuzzy) >= fuzzyIndexMin {
		cr.fuzzyIdx = make(map[uint64][]int32, len(cr.fuzzy)*16)
		for n, p := range cr.fuzzy {
			if len(p) > 64 {
				continue // (withinEdits matches such a part exactly: nameParts has it)
			}
			cr.fuzzyMax = max(cr.fuzzyMax, len(p))
			deletions(p, fuzzyEdits(p), func(key uint64) {
				if l := cr.fuzzyIdx[key]; len(l) == 0 || l[len(l)-1] != int32(n) {
					cr.fuzzyIdx[key] = append(l, int32(n))
				}
			})
		}
	}
	addID := func(id string, t Type) {
		id = strings.TrimSpace(id)
		if len(id) < 3 {
			return
		}
		cr.phrases = append(cr.phrases, recPhrase{asciiLower(id), t})
		ds := onlyDigits(id)
		if len(ds) >= 4 && len(ds)*2 >= len(id) {
			cr.addDigits(ds, t)
		}
		if sh := shape(id); strings.ContainsRune(sh, '9') && len(sh) >= 5 {
			cr.shapes[sh] = t
		}
	}
	if r.MRN != "" {
		addID(r.MRN, TypeMRN)
	}
	for _, id := range r.IDs {
		addID(id, TypeID)
	}
	for _, ph := range r.Phones {
		ds := onlyDigits(ph)
		if len(ds) >= 7 {
			cr.addDigits(ds, TypePhone)
			if len(ds) == 11 && ds[0] == '1' {
				cr.addDigits(ds[1:], TypePhone)
			}
			if len(ds) == 10 {
				cr.addDigits(ds[3:], TypePhone) // the local part alone
			}
		}
	}
	for _, e := range r.Emails {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		cr.phrases = append(cr.phrases, recPhrase{asciiLower(e), TypeEmail})
		if local, _, ok := strings.Cut(e, "@"); ok && len(local) >= 4 {
			cr.phrases = append(cr.phrases, recPhrase{asciiLower(local), TypeEmail})
		}
	}
	for _, a := range r.Addresses {
		for _, part := range strings.Split(a, ",") {
			part = strings.TrimSpace(part)
			if len(part) < 3 || stateAbbrevs[strings.ToLower(part)] {
				continue
			}
			// "IL 62704": the ZIP alone; Safe Harbor keeps the state
			if f := strings.Fields(part); len(f) == 2 && stateAbbrevs[strings.ToLower(f[0])] {
				cr.phrases = append(cr.phrases, recPhrase{asciiLower(f[1]), TypeZIP})
				continue
			}
			cr.phrases = append(cr.phrases, recPhrase{asciiLower(part), TypeAddress})
		}
	}
	for _, e := range r.Employers {
		if e = strings.TrimSpace(e); len(e) >= 3 {
			cr.phrases = append(cr.phrases, recPhrase{asciiLower(e), TypeOrganization})
		}
	}
	for _, o := range r.Other {
		if o = strings.TrimSpace(o); len(o) >= 3 {
			cr.phrases = append(cr.phrases, recPhrase{asciiLower(o), TypeID})
		}
	}
	if t, err := time.Parse("2006-01-02", r.BirthDate); err == nil {
		// The date scanners find every written form of the birth date;
		// the record adds the digit-only forms they leave to the ID rules.
		for _, l := range []string{"01022006", "20060102", "010206", "02012006"} {
			cr.addDigits(t.Format(l), TypeDate)
		}
	}
	return cr
}

func (cr *compiledRecord) addDigits(ds string, t Type) {
	cr.digits[ds] = t
	cr.maxDigits = max(cr.maxDigits, len(ds))
}

// dateLayouts are the full-date formats that date shifting can rewrite in
// place (time.Parse layouts; a date in any other format is masked).
var dateLayouts = []string{
	"1/2/2006", "01/02/2006", "1/2/06", "01/02/06", "1-2-2006", "01-02-2006", "1-2-06", "01-02-06",
	"2006-01-02", "2006/01/02", "2006.01.02", "2.1.2006", "02.01.2006",
	"January 2, 2006", "January 2 2006", "Jan 2, 2006", "Jan 2 2006", "Jan. 2, 2006",
	"2 January 2006", "2 Jan 2006", "02 Jan 2006", "2-Jan-2006", "02-Jan-2006", "02-Jan-06",
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// shape maps letters to 'A' and digits to '9': "MRN-00123" → "AAA-99999".
func shape(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case isDigit(c):
			b[i] = '9'
		case isASCIILetter(c):
			b[i] = 'A'
		}
	}
	return string(b)
}

// matchWord reports whether lower-case word w is one of the record's name
// parts, exactly or within a small edit distance.
func (cr *compiledRecord) matchWord(w string, t token, lf uint16, lowerDoc bool) (Type, bool) {
	if len(cr.nameParts) == 0 {
		return 0, false
	}
	safe := lf&lexSafe != 0
	capd := t.has(fCap) || lowerDoc
	if typ, ok := cr.nameParts[w]; ok && (capd || !safe) {
		return typ, true
	}
	if safe || len(w) < 4 || !capd {
		return 0, false
	}
	if cr.nearMiss(w, nil) {
		return TypePerson, true
	}
	return 0, false
}

// fuzzyIndexMin is the number of name parts from which nearMiss looks a
// word's near misses up in an index rather than comparing the word with
// each part: a patient's record has a few, where the comparisons cost
// less than the look-ups.
const fuzzyIndexMin = 16

// fuzzyEdits is the number of edits a near miss of name part p may have:
// one, two from eight letters.
func fuzzyEdits(p string) int {
	if len(p) >= 8 {
		return 2
	}
	return 1
}

// nearMiss reports whether lower-case word w is within fuzzyEdits of one of
// the record's fuzzy name parts. With the index, it compares w only with
// the parts that share a deletion neighbour with it (every pair within k
// edits, a transposition counted as one, does: deleting the same k
// characters, or one of each swapped pair, from both leaves the same
// string), so a word costs a number of look-ups bounded by its length,
// however many names the record holds; steps, if not nil, counts the
// comparisons (a test bounds them).
func (cr *compiledRecord) nearMiss(w string, steps *int) bool {
	if cr.fuzzyIdx == nil {
		for _, p := range cr.fuzzy {
			if steps != nil {
				*steps++
			}
			if withinEdits(w, p, fuzzyEdits(p)) {
				return true
			}
		}
		return false
	}
	if len(w) > cr.fuzzyMax+2 {
		return false
	}
	k := 1
	if len(w) >= 6 {
		k = 2 // (a part allowing two edits has eight letters or more)
	}
	found := false
	deletions(w, k, func(key uint64) {
		if found {
			return
		}
		for _, n := range cr.fuzzyIdx[key] {
			if steps != nil {
				*steps++
			}
			if p := cr.fuzzy[n]; withinEdits(w, p, fuzzyEdits(p)) {
				found = true
				return
			}
		}
	})
	return found
}

// deletions calls fn with a hash of s (at most 64 bytes) and of each
// string made by deleting one, and if k is 2 two, of its bytes, in
// O(len(s)^2) in all. Equal strings give equal hashes; a collision only
// costs nearMiss a comparison.
func deletions(s string, k int, fn func(key uint64)) {
	const mul = 1099511628211
	n := len(s)
	if n > 64 {
		return
	}
	var pre, pw [65]uint64 // pre[i]: the hash of s[:i]; pw[i]: mul^i
	pw[0] = 1
	for i := 0; i < n; i++ {
		pre[i+1] = pre[i]*mul + uint64(s[i]) + 1
		pw[i+1] = pw[i] * mul
	}
	seg := func(x, y int) uint64 { return pre[y] - pre[x]*pw[y-x] } // the hash of s[x:y]
	key := func(h uint64, l int) uint64 { return h ^ uint64(l)*0x9e3779b97f4a7c15 }
	fn(key(pre[n], n))
	for a := 0; a < n; a++ {
		fn(key(pre[a]*pw[n-a-1]+seg(a+1, n), n-1))
		if k < 2 {
			continue
		}
		for b := a + 1; b < n; b++ {
			fn(key(pre[a]*pw[n-a-2]+seg(a+1, b)*pw[n-b-1]+seg(b+1, n), n-2))
		}
	}
}

// withinEdits reports whether the optimal-string-alignment distance
// between a and b is at most k.
func withinEdits(a, b string, k int) bool {
	if len(a)-len(b) > k || len(b)-len(a) > k {
		return false
	}
	if len(a) > 64 || len(b) > 64 {
		return a == b
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)] <= k
}

// recordScan finds the record's literal values (IDs, emails, address parts,
// employer, birth date renderings) and digit sequences (phones, IDs).
func (d *detector) recordScan() {
	cr := d.rec
	for _, ph := range cr.phrases {
		if ph.low == "" || d.halted() {
			continue
		}
		for off := 0; ; {
			k := strings.Index(d.low[off:], ph.low)
			if k < 0 {
				break
			}
			p := off + k
			q := p + len(ph.low)
			if (p == 0 || !isAlnum(d.low[p-1])) && (q == len(d.low) || !isAlnum(d.low[q])) {
				d.add(p, q, ph.typ, prioRecord)
			}
			if d.stopped() {
				return
			}
			off = p + 1
		}
	}
	if len(cr.digits) == 0 {
		return
	}
	// digit sequences: runs of digits joined by separators
	s := d.text
	var buf [32]byte
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		if d.stopped() {
			return
		}
		n, q := 0, i
		bestEnd, bestT := -1, TypeNone
		for q < len(s) && n < len(buf) && n <= cr.maxDigits {
			c := s[q]
			if isDigit(c) {
				buf[n] = c
				n++
				q++
				if q == len(s) || !isDigit(s[q]) {
					if t, ok := cr.digits[string(buf[:n])]; ok && (q == len(s) || !isAlnum(s[q])) {
						bestEnd, bestT = q, t
					}
				}
				continue
			}
			if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') && q+1 < len(s) && (isDigit(s[q+1]) || s[q+1] == ' ' || s[q+1] == '(') {
				q++
				continue
			}
			break
		}
		if bestEnd > 0 {
			d.add(i, bestEnd, bestT, prioRecord)
			i = bestEnd - 1
		}
	}
}

// recordShape reports whether id has the shape of one of the record's IDs.
func (d *detector) recordShape(id string) (Type, bool) {
	if d.rec == nil || len(d.rec.shapes) == 0 {
		return 0, false
	}
	t, ok := d.rec.shapes[shape(id)]
	return t, ok
}

// recordIDType returns the type for a long digit run: the record's ID type
// when the shape matches, else TypeID.
func (d *detector) recordIDType(id string) Type {
	if t, ok := d.recordShape(id); ok {
		return t
	}
	return TypeID
}

// nicknames maps a formal first name to common short forms and back. It
// is built on first use (only a record needs it), not at start-up.
var nicknames = sync.OnceValue(func() map[string][]string {
	groups := []string{
		"william bill billy will willy liam", "robert bob bobby rob robbie bert", "richard rick ricky dick rich",
		"james jim jimmy jamie", "john jack johnny jon", "joseph joe joey", "thomas tom tommy",
		"charles charlie chuck chas", "christopher chris kit", "daniel dan danny", "matthew matt",
		"anthony tony", "michael mike mikey mick", "david dave davey", "steven steve stevie", "stephen steve",
		"edward ed eddie ted teddy ned", "andrew andy drew", "benjamin ben benny", "samuel sam sammy",
		"alexander alex al xander", "nicholas nick nicky", "jonathan jon jonny", "timothy tim timmy",
		"patrick pat paddy", "gregory greg", "kenneth ken kenny", "lawrence larry", "raymond ray",
		"gerald jerry gerry", "peter pete", "henry hank harry", "harold hal harry", "frederick fred freddie",
		"elizabeth liz lizzie beth betty betsy eliza libby", "margaret maggie meg peggy marge margie",
		"katherine kate katie kathy kat kitty", "catherine cathy cat kate katie", "jennifer jen jenny",
		"patricia pat patty trish tricia", "susan sue susie", "deborah deb debbie", "rebecca becky becca",
		"barbara barb babs", "dorothy dot dottie", "christina chris tina", "christine chris chrissy",
		"victoria vicky tori", "jessica jess jessie", "samantha sam sammy", "alexandra alex lexi sandra",
		"abigail abby", "jacqueline jackie", "kimberly kim", "theresa terry tess", "teresa terry tess",
		"judith judy", "pamela pam", "cynthia cindy", "sandra sandy", "josephine jo josie",
		"eleanor ellie nell nora", "helen nell", "virginia ginny", "frances fran frankie",
		"francis frank frankie", "ronald ron ronnie", "donald don donnie", "douglas doug", "leonard len lenny",
	}
	m := map[string][]string{}
	for _, g := range groups {
		f := strings.Fields(g)
		for _, a := range f {
			for _, b := range f {
				if a != b {
					m[a] = append(m[a], b)
				}
			}
		}
	}
	return m
})

// LogValue implements slog.LogValuer with counts only.
func (r *Record) LogValue() slog.Value { return slog.StringValue(r.String()) }

// lowerKey lower-cases s and joins its words with single spaces, as the
// lexicon stores multi-word entries.
func lowerKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
