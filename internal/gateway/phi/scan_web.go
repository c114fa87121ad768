package phi

import "strings"

// rawScan finds identifiers that are easiest to see in the raw bytes:
// email addresses, URLs, bare domains, image file names and IPv6/MAC
// addresses. It claims their tokens before the token scanners run.
func (d *detector) rawScan() {
	placeholderForms(d.text, func(p, q int) { d.claimRange(p, q, TypeID) })
	d.hl7Segments()
	s := d.text
	floor := 0 // the end of the last raw match: a match never reaches back past it
	raise := func() {
		if n := len(d.cands); n > 0 {
			floor = max(floor, d.cands[n-1].end)
		}
	}
	raise()
	for i := 0; i < len(s); i++ {
		if !rawStart[s[i]] {
			continue // most bytes: one table look-up
		}
		switch s[i] {
		case '@':
			if p, q, ok := scanEmail(s, i); ok {
				d.claimRange(p, q, TypeEmail)
				raise()
				i = q - 1
			} else if q, ok := d.handleAt(i); ok && i >= floor {
				d.claimRange(i, q, TypeID)
				raise()
				i = q - 1
			} else if p, q, ok := d.spacedEmail(i); ok && p >= floor {
				d.claimRange(p, q, TypeEmail) // "j o h n @ example . com"
				raise()
				i = q - 1
			}
		case ':':
			if p, q, ok := d.labelledHandle(i); ok && i >= floor {
				d.claimRange(p, q, TypeID)
				raise()
				i = q - 1
			} else if p, q, ok := jsonPlace(s, d.low, i); ok && i >= floor {
				d.claimRange(p, q, TypeLocation)
				raise()
				i = q - 1
			} else if p, q, ok := jsonID(s, d.low, i); ok && i >= floor {
				d.claimRange(p, q, TypeID)
				raise()
				i = q - 1
			} else if i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' {
				p := i
				for p > 0 && isASCIILetter(s[p-1]) {
					p--
				}
				if i-p >= 2 {
					q := scanURLTail(s, i+3)
					if q > i+3 {
						d.claimRange(p, q, TypeURL)
						raise()
						i = q - 1
					}
				}
			}
		case 'w', 'W':
			if (i == 0 || !isAlnum(s[i-1])) && strings.HasPrefix(d.low[i:], "www.") {
				q := scanURLTail(s, i)
				if q > i+6 {
					d.claimRange(i, q, TypeURL)
					raise()
					i = q - 1
				}
			}
		case '_':
			if p, q, ok := d.underscoreHandle(i, floor); ok {
				d.claimRange(p, q, TypeID)
				raise()
				i = q - 1
			}
		case '.':
			if p, q, t, ok := d.scanDotted(i, floor); ok {
				d.claimRange(p, q, t)
				raise()
				i = q - 1
			}
		}
	}
	d.spelledEmails()
	d.spokenNumbers()
}

// jsonPlaceKeys are the keys of a JSON object whose string value is a
// place smaller than a state: FHIR's address has "city" and "district".
var jsonPlaceKeys = set(`city town district county locality municipality suburb`)

// jsonPlace returns the string value of a place's key in a JSON object
// pasted into a note, the colon at c: `"city":"Metairie"` (a FHIR
// resource's address). Its line, its postal code and the names around
// it are found by their own scanners; a city there has no cue before it.
func jsonPlace(s, low string, c int) (int, int, bool) {
	k := c - 1
	for k > 0 && s[k] == ' ' {
		k--
	}
	if k < 1 || s[k] != '"' {
		return 0, 0, false
	}
	a := k
	for a > 0 && isASCIILetter(s[a-1]) && k-a < 14 {
		a--
	}
	if a == 0 || s[a-1] != '"' || !jsonPlaceKeys[low[a:k]] {
		return 0, 0, false
	}
	p := c + 1
	for p < len(s) && s[p] == ' ' {
		p++
	}
	if p >= len(s) || s[p] != '"' {
		return 0, 0, false
	}
	p++
	q := p
	for q < len(s) && q-p <= 60 && s[q] != '"' && s[q] != '\\' && s[q] != '\n' && !isDigit(s[q]) {
		q++
	}
	if q >= len(s) || s[q] != '"' || q == p {
		return 0, 0, false
	}
	return p, q, true
}

// jsonIDKeys are the keys of a JSON object whose string value is a
// record's identifier: FHIR's resource "id", a pasted patient's "mrn".
var jsonIDKeys = set(`id mrn patientid memberid subscriberid accountid encounterid externalid`)

// jsonID returns the string value of an identifier's key in a JSON object
// pasted into a note, the colon at c: `"id": "a91c-4471"`, `"mrn":
// "MR-00418"`. The value holds a digit and only letters, digits, hyphens,
// dots and underscores, four to 64 of them; a hex-shaped id had no shape
// any token scanner knows ("a91c" is a word glued to a number).
func jsonID(s, low string, c int) (int, int, bool) {
	k := c - 1
	for k > 0 && s[k] == ' ' {
		k--
	}
	if k < 2 || s[k] != '"' {
		return 0, 0, false
	}
	a := k
	for a > 0 && isASCIILetter(s[a-1]) && k-a < 13 {
		a--
	}
	if a == 0 || s[a-1] != '"' || !jsonIDKeys[low[a:k]] {
		return 0, 0, false
	}
	p := c + 1
	for p < len(s) && s[p] == ' ' {
		p++
	}
	if p >= len(s) || s[p] != '"' {
		return 0, 0, false
	}
	p++
	q, digit := p, false
	for q < len(s) && q-p <= 64 && (isAlnum(s[q]) || s[q] == '-' || s[q] == '.' || s[q] == '_') {
		digit = digit || isDigit(s[q])
		q++
	}
	if q >= len(s) || s[q] != '"' || q-p < 4 || !digit {
		return 0, 0, false
	}
	return p, q, true
}

// rawStart marks the bytes at which rawScan looks closer.
var rawStart = [256]bool{'@': true, ':': true, 'w': true, 'W': true, '.': true, '_': true}

// claimRange claims the tokens that overlap bytes [p, q).
func (d *detector) claimRange(p, q int, t Type) {
	i := d.tokAt(p)
	if i > 0 && int(d.toks[i-1].end) > p {
		i--
	}
	j := i
	for j < len(d.toks) && int(d.toks[j].start) < q {
		if d.state[j] == stPHI {
			return // already part of another identifier
		}
		j++
	}
	if j > i {
		// never leave part of a glued code visible: "00AA://x"
		i, j = d.wholeRun(i, j)
		p, q = min(p, int(d.toks[i].start)), max(q, int(d.toks[j-1].end))
	}
	d.add(p, q, t, prioStruct)
	for k := i; k < j; k++ {
		d.state[k] = stPHI
	}
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c >= 0x80
}

func isHostChar(c byte) bool { return isAlnum(c) || c == '-' || c == '.' || c >= 0x80 }

// scanEmail expands an email address around the '@' at at.
func scanEmail(s string, at int) (p, q int, ok bool) {
	p = at
	for p > 0 && isEmailLocal(s[p-1]) {
		p--
	}
	for p < at && s[p] == '.' {
		p++
	}
	q = at + 1
	dot := false
	for q < len(s) && isHostChar(s[q]) {
		if s[q] == '.' && q+1 < len(s) && isAlnum(s[q+1]) {
			dot = true
		}
		q++
	}
	for q > at+1 && (s[q-1] == '.' || s[q-1] == '-') {
		q--
	}
	return p, q, p < at && dot && q > at+3
}

// scanURLTail returns the end of a URL whose host starts at p.
func scanURLTail(s string, p int) int {
	q := p
	for q < len(s) {
		c := s[q]
		if c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '`' || c == '{' || c == '}' || c == '|' || c == '^' {
			break
		}
		q++
	}
	for q > p && strings.IndexByte(".,;:!?)'\"]", s[q-1]) >= 0 {
		q--
	}
	return q
}

// maxDottedName is the longest name scanDotted reads before a dot.
const maxDottedName = 255

// scanDotted looks at a '.' inside a word: a bare domain ("example.org/x")
// or an image file name ("IMG_2041.jpg").
func (d *detector) scanDotted(i, floor int) (p, q int, t Type, ok bool) {
	s := d.text
	if i == 0 || i+2 >= len(s) || !isAlnum(s[i-1]) || !isASCIILetter(s[i+1]) {
		return 0, 0, 0, false
	}
	// the extension / TLD
	e := i + 1
	for e < len(s) && isASCIILetter(s[e]) {
		e++
	}
	if e < len(s) && (isDigit(s[e]) || s[e] == '@' || s[e] >= 0x80) {
		return 0, 0, 0, false
	}
	ext := d.low[i+1 : e]
	// The host or file name before the dot: at most maxDottedName bytes
	// (a domain name's 253, a file name's 255). A longer run is neither,
	// and walking back over it from each of its dots would take time
	// quadratic in it ("R.O.S.A.L.I.N.D…" of a megabyte: minutes).
	p = i
	for p > floor && (isAlnum(s[p-1]) || s[p-1] == '-' || s[p-1] == '_' || s[p-1] == '.') {
		if i-p >= maxDottedName {
			return 0, 0, 0, false
		}
		d.dottedSteps++
		p--
	}
	for p < i && (s[p] == '.' || s[p] == '-') {
		p++
	}
	if p > 0 && (s[p-1] == '@' || s[p-1] == '/') {
		return 0, 0, 0, false
	}
	if imageExts[ext] && i-p >= 1 {
		return p, e, TypePhoto, true
	}
	if !tlds[ext] || i-p < 3 || strings.ContainsRune(d.text[p:i], '_') {
		return 0, 0, 0, false
	}
	// Require a lower-case or mixed host label to avoid "Dr.Smith"-like
	// splits and abbreviations such as "e.g.".
	label := d.text[p:i]
	if strings.Count(label, ".") == 0 && len(label) < 3 {
		return 0, 0, 0, false
	}
	q = e
	if q < len(s) && s[q] == '/' {
		q = scanURLTail(s, q)
	} else if len(ext) == 2 && (!strings.Contains(label, ".") && d.sentenceGlue(label, s[i+1]) || strings.Trim(label, "0123456789.") == "") {
		// a missing space after a full stop before a two-letter word:
		// "liquid.no stool", "chair.at times", "12cc.Pt is resting"
		return 0, 0, 0, false
	}
	return p, q, TypeURL, true
}

// scanHexColon finds an IPv6 or MAC address starting at byte p.
func scanHexColon(s string, p int) (q int, t Type, ok bool) {
	q = p
	colons, groupLen, maxGroup, groups, hexLetter, double := 0, 0, 0, 0, false, false
	for q < len(s) {
		c := s[q]
		switch {
		case isDigit(c):
			groupLen++
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			groupLen++
			hexLetter = true
		case c == ':':
			if q+1 < len(s) && s[q+1] == ':' {
				if double {
					return 0, 0, false
				}
				double = true
			}
			colons++
			if groupLen > 0 {
				groups++
			}
			maxGroup = max(maxGroup, groupLen)
			groupLen = 0
		default:
			goto done
		}
		if groupLen > 4 {
			return 0, 0, false
		}
		q++
	}
done:
	if q < len(s) && isAlnum(s[q]) {
		return 0, 0, false
	}
	if groupLen > 0 {
		groups++
	}
	maxGroup = max(maxGroup, groupLen)
	for q > p && s[q-1] == ':' && !(q-2 >= p && s[q-2] == ':') {
		q--
	}
	switch {
	case colons == 5 && !double && maxGroup == 2 && groups == 6:
		return q, TypeDevice, true // MAC address
	case colons >= 7 || (double && colons >= 2 && (hexLetter || maxGroup == 4)) || (colons >= 5 && hexLetter):
		return q, TypeIP, true
	}
	return 0, 0, false
}

// sentenceGlue reports whether label, before a dot and a two-letter word
// starting with c, is rather the end of a sentence written without a space:
// the label is an English or clinical word or starts with a digit (a value
// and its unit), or the next word is capitalised after a lower-case label.
func (d *detector) sentenceGlue(label string, c byte) bool {
	if label == "" || isDigit(label[0]) {
		return true
	}
	if d.e.lex.get(strings.ToLower(label))&(lexSafe|lexCommon|lexClinical) != 0 {
		return true
	}
	return c >= 'A' && c <= 'Z' && strings.ToUpper(label) != label
}
