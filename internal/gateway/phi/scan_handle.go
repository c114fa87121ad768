package phi

import "strings"

// Social media handles: "@jane_doe42", "instagram: janedoe". A handle
// names one person as surely as an e-mail address does; it is claimed as
// an identifier (Safe Harbor (R)).

// socialLabels introduce a handle after a colon: "IG: janedoe".
var socialLabels = set(`instagram insta ig twitter tiktok snapchat snap facebook fb threads telegram discord
reddit youtube linkedin bluesky mastodon handle username`)

// dottedLabels head a message's sender or recipient or a log-in ("From:
// gwendolyn.mbeki", "Login: k.tanaka"). After them only a user name joined
// by a dot is a handle: a name there is the name scanners' to judge ("User:
// Ada Lowe"), a code with digits the triggers' ("Login: rachterberg47").
var dottedLabels = set(`from to cc bcc sender recipient login user userid`)

func isHandleChar(c byte) bool { return isAlnum(c) || c == '_' || c == '.' }

// handleEnd returns the end of the run of handle characters at p (a
// trailing dot is punctuation), or p.
func handleEnd(s string, p int) int {
	r := p
	for r < len(s) && r-p <= 30 && isHandleChar(s[r]) {
		r++
	}
	if r-p > 30 || r < len(s) && (s[r] == '@' || s[r] >= 0x80) {
		return p // too long, or an e-mail or a word in another script
	}
	for r > p && s[r-1] == '.' {
		r--
	}
	return r
}

// ordinaryHandle reports whether the word s[p:q] after an '@' or a
// label is no handle: a word of the dictionaries ("@home", "@hs",
// "instagram: none"), a time or a dose ("@1900", "@45ml", "@q6h").
func (d *detector) ordinaryHandle(p, q int) bool {
	s := d.text
	if q-p < 2 || !isASCIILetter(s[p]) && s[p] != '_' {
		return true
	}
	w := d.low[p:q]
	if f := d.e.lex.get(w); f&(lexSafe|lexCommon|lexClinical) != 0 || f&(vUnit|vStopword|vVitalLabel) != 0 {
		return true
	}
	if w[0] == 'q' && q-p >= 2 && isDigit(w[1]) {
		return true // a dose's interval: "q6h", "q12hr"
	}
	plain := true // letters only
	upper := true
	for k := p; k < q; k++ {
		plain = plain && isASCIILetter(s[k])
		upper = upper && !(s[k] >= 'a' && s[k] <= 'z')
	}
	// in a clinical note or in capitals, a word of letters after '@' is
	// shorthand: "IVF @KVO", "@TKO"
	return plain && (d.clinical || upper)
}

// handleAt matches a handle at the '@' at byte at: the '@' starts a word
// and a name on no word list follows it.
func (d *detector) handleAt(at int) (int, bool) {
	s := d.text
	if at > 0 && (isEmailLocal(s[at-1]) || s[at-1] == '@') {
		return 0, false
	}
	q := handleEnd(s, at+1)
	if q == at+1 || d.ordinaryHandle(at+1, q) {
		return 0, false
	}
	return q, true
}

// labelledHandle matches the handle after a social label and the colon at
// byte c: "instagram: janedoe", "IG: @jane.doe".
func (d *detector) labelledHandle(c int) (int, int, bool) {
	s := d.text
	l := c
	for l > 0 && isASCIILetter(s[l-1]) {
		l--
	}
	header := dottedLabels[d.low[l:c]]
	if l == c || l > 0 && isAlnum(s[l-1]) || !socialLabels[d.low[l:c]] && !header {
		return 0, 0, false
	}
	p := c + 1
	for p < len(s) && s[p] == ' ' {
		p++
	}
	if p < len(s) && s[p] == '@' {
		p++
	}
	q := handleEnd(s, p)
	if q == p || d.ordinaryHandle(p, q) || header && (!dottedName(s[p:q]) || d.dictionaryParts(p, q)) {
		return 0, 0, false
	}
	if q < len(s) && s[q] == '/' {
		// a profile's address after the label, no handle: "fb:
		// facebook.com/rosa.gomez.1987" (the URL scanner takes it whole;
		// as a handle its path stayed)
		return 0, 0, false
	}
	k := d.tokAt(l)
	d.keep(k, k+1) // the label is no name: "Instagram: janedoe"
	return p, q, true
}

// maxHandleWalk bounds underscoreHandle's walk back from an underscore:
// a handle's 30 characters and room for dots before it.
const maxHandleWalk = 64

// underscoreHandle matches a user name joined by an underscore at byte u,
// as portals, chat and e-mail systems issue them: "dmarchetti_77",
// "j.smith_22", "kraus_wilhelmina". The run needs an underscore between
// two letters or digits, three letters or more, and a digit or three
// letters on each side of the underscore; not inside a path or a URL.
func (d *detector) underscoreHandle(u, floor int) (int, int, bool) {
	s := d.text
	if u == 0 || u+1 >= len(s) || u < floor || !isAlnum(s[u-1]) || !isAlnum(s[u+1]) {
		return 0, 0, false
	}
	// A handle is at most 30 characters (handleEnd): a run longer than
	// maxHandleWalk before the underscore is none, and walking back over
	// it from each of its underscores would take time quadratic in it
	// ("a_a_a_…" of a megabyte: minutes).
	p := u
	for p > floor && isHandleChar(s[p-1]) {
		if u-p >= maxHandleWalk {
			return 0, 0, false
		}
		d.handleSteps++
		p--
	}
	if p > 0 && strings.IndexByte("/\\@=-{[<$%", s[p-1]) >= 0 || p > 0 && s[p-1] >= 0x80 {
		return 0, 0, false // a path, a URL's query, a template's field: "{street_name}"
	}
	for p < u && s[p] == '.' {
		p++
	}
	q := handleEnd(s, p)
	if q <= u+1 || q-p < 6 {
		return 0, 0, false
	}
	letters, digits, before, after, upper := 0, 0, 0, 0, false
	for k := p; k < q; k++ {
		switch c := s[k]; {
		case isDigit(c):
			digits++
		case isASCIILetter(c):
			letters++
			upper = upper || c <= 'Z'
			if k < u {
				before++
			} else {
				after++
			}
		}
	}
	// (without digits, a user name is in lower case: "NPO_status" is a
	// template's field; with one digit, it has five letters: "file_2")
	if letters < 3 || digits == 0 && (before < 3 || after < 3 || upper) || digits == 1 && letters < 5 {
		return 0, 0, false
	}
	if q < len(s) && strings.IndexByte("}]>%", s[q]) >= 0 || strings.IndexByte(s[u:q], '.') >= 0 {
		// (a dot after the underscore makes a file's name: "IMG_4021.jpg")
		return 0, 0, false
	}
	if digits == 0 {
		// words of the dictionaries joined are a field's name: "first_name"
		words := true
		for _, part := range strings.FieldsFunc(d.low[p:q], func(r rune) bool { return r == '_' || r == '.' }) {
			words = words && d.e.lex.get(part)&(lexSafe|lexCommon|lexClinical) != 0
		}
		if words {
			return 0, 0, false
		}
	}
	return p, q, true
}

// dottedName reports whether s is a user name of lower-case letters joined
// by dots, as portals issue them ("gwendolyn.mbeki", "k.tanaka", "mbeki.g"):
// six characters or more, a letter on each side of every dot, digits only
// at the end.
func dottedName(s string) bool {
	if len(s) < 6 || strings.IndexByte(s, '.') < 0 {
		return false
	}
	digits := false
	for k := 0; k < len(s); k++ {
		switch c := s[k]; {
		case c == '.':
			if k == 0 || k+1 == len(s) || !isASCIILetter(s[k-1]) || !isASCIILetter(s[k+1]) {
				return false
			}
		case isDigit(c):
			digits = true
		case c >= 'a' && c <= 'z':
			if digits {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// dictionaryParts reports whether every part of the run s[p:q] between
// dots and underscores is a word of the dictionaries: "resp.therapy" and
// "first_name" are no user names.
func (d *detector) dictionaryParts(p, q int) bool {
	for _, part := range strings.FieldsFunc(d.low[p:q], func(r rune) bool { return r == '_' || r == '.' }) {
		if d.e.lex.get(part)&(lexSafe|lexCommon|lexClinical) == 0 {
			return false
		}
	}
	return true
}
