package records

import (
	"strings"
	"unicode"
)

// usStates maps the USPS codes of the States, the District of Columbia and
// the territories to their names, the jurisdictions the Breach
// Notification Rule counts residents of (§164.406 "a State or
// jurisdiction"; §160.103 counts DC and the territories as States).
var usStates = map[string]string{
	"AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california",
	"CO": "colorado", "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia",
	"HI": "hawaii", "ID": "idaho", "IL": "illinois", "IN": "indiana", "IA": "iowa",
	"KS": "kansas", "KY": "kentucky", "LA": "louisiana", "ME": "maine", "MD": "maryland",
	"MA": "massachusetts", "MI": "michigan", "MN": "minnesota", "MS": "mississippi", "MO": "missouri",
	"MT": "montana", "NE": "nebraska", "NV": "nevada", "NH": "new hampshire", "NJ": "new jersey",
	"NM": "new mexico", "NY": "new york", "NC": "north carolina", "ND": "north dakota", "OH": "ohio",
	"OK": "oklahoma", "OR": "oregon", "PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina",
	"SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah", "VT": "vermont",
	"VA": "virginia", "WA": "washington", "WV": "west virginia", "WI": "wisconsin", "WY": "wyoming",
	"DC": "district of columbia", "PR": "puerto rico", "VI": "virgin islands", "GU": "guam",
	"AS": "american samoa", "MP": "northern mariana islands",
}

// USState returns the USPS code of the State a free-text US postal address
// names in its last line (`…, Springfield, IL 62704`, `Portland, Oregon`,
// `Austin TX 78701-1234, USA`), or "" when it names none. The State is read
// from the end: after a trailing country and ZIP code, a two-letter code
// (in any case when a ZIP code or a comma marks it as one, in capitals
// otherwise) or a State's name. Two names it does not guess: Washington
// (the State, or the city of the District of Columbia, or another town) is
// WA or DC only by its ZIP code's range, and Georgia (the State or the
// country) is GA only with a ZIP code of the State or a trailing US; an
// address that does not say is "" (the scope counts it unknown).
func USState(address string) string {
	words := addressWords(address)
	// A trailing country.
	us := false
	for _, country := range [][]string{{"united", "states", "of", "america"}, {"united", "states"}, {"usa"}, {"us"},
		{"u", "s", "a"}, {"u", "s"}} {
		if hasSuffix(words, country) && len(words) > len(country) {
			words, us = words[:len(words)-len(country)], true
			break
		}
	}
	// A trailing ZIP code: five digits, or ZIP+4 as one word or two.
	zip := ""
	if n := len(words); n > 0 && isDigits(words[n-1].text, 4) && n > 1 && isDigits(words[n-2].text, 5) {
		words, zip = words[:n-2], words[n-2].text
	} else if n > 0 && (isDigits(words[n-1].text, 5) || isZIP4(words[n-1].text)) {
		words, zip = words[:n-1], words[n-1].text[:5]
	}
	if len(words) == 0 {
		return ""
	}
	last := words[len(words)-1]
	code := strings.ToUpper(last.text)
	if _, ok := usStates[code]; ok && len(last.text) == 2 && (zip != "" || last.comma || last.upper) && !unitOrPostal(words, zip != "") {
		return code
	}
	// Dotted capitals (`N.Y.`) split into letters.
	if n := len(words); n > 1 && len(words[n-1].text) == 1 && len(words[n-2].text) == 1 && words[n-1].upper && words[n-2].upper {
		if _, ok := usStates[strings.ToUpper(words[n-2].text+words[n-1].text)]; ok {
			return strings.ToUpper(words[n-2].text + words[n-1].text)
		}
	}
	// A State's name, the longest that ends the address (West Virginia
	// before Virginia).
	best, bestLen := "", 0
	for c, name := range usStates {
		parts := strings.Fields(name)
		if len(parts) > bestLen && hasSuffix(words, parts) {
			best, bestLen = c, len(parts)
		}
	}
	switch {
	case best == "WA" && bestLen == 1 && len(words) > 1 && strings.EqualFold(words[len(words)-2].text, "of"):
		return "" // "District of Washington" and the like name no State
	case best == "WA":
		return zipState(zip, "WA", "DC")
	case best == "GA" && us && zip == "":
		return "GA"
	case best == "GA":
		return zipState(zip, "GA")
	}
	return best
}

// zipRanges are the three-digit ZIP prefixes of the States whose names
// USState reads only with a ZIP code (USPS: 200–205 and 569 are the
// District of Columbia's, 980–994 Washington's, 300–319 and 398–399
// Georgia's).
var zipRanges = map[string][][2]string{
	"DC": {{"200", "205"}, {"569", "569"}},
	"WA": {{"980", "994"}},
	"GA": {{"300", "319"}, {"398", "399"}},
}

// zipState returns the one of states whose ZIP codes zip is among, or ""
// (no ZIP code, or one of none of them).
func zipState(zip string, states ...string) string {
	if zip == "" {
		return ""
	}
	for _, st := range states {
		for _, r := range zipRanges[st] {
			if zip[:3] >= r[0] && zip[:3] <= r[1] {
				return st
			}
		}
	}
	return ""
}

// unitDesignators are the words (USPS Publication 28's secondary unit
// designators and a post office box) after which a two-letter word is a
// unit, not a State: `Apt IN`, `Unit ME`.
var unitDesignators = map[string]bool{
	"apt": true, "apartment": true, "unit": true, "ste": true, "suite": true, "box": true, "fl": true,
	"floor": true, "rm": true, "room": true, "bldg": true, "building": true, "lot": true, "spc": true,
	"space": true, "trlr": true, "dept": true, "ofc": true, "office": true, "no": true, "flat": true,
}

// unitOrPostal reports whether the two-letter word that ends words is a
// unit (it follows a unit designator) or, with no ZIP code after it,
// follows a number: a unit's (`Ste 5 DE`, `PO Box 44 ME`) or another
// country's postal code (`Toronto, ON M5H 1K5, CA`, `Mumbai 400001, IN`),
// where a US address has its city.
func unitOrPostal(words []word, zip bool) bool {
	if len(words) < 2 {
		return false
	}
	prev := words[len(words)-2].text
	if unitDesignators[strings.ToLower(prev)] {
		return true
	}
	return !zip && strings.ContainsFunc(prev, unicode.IsDigit)
}

type word struct {
	text  string
	comma bool // a comma stands right before it
	upper bool // written in capitals
}

// addressWords splits s into its words (letters and digits, with `-` kept
// inside a word), noting which follow a comma.
func addressWords(s string) []word {
	var out []word
	var b strings.Builder
	comma := false
	flush := func() {
		if b.Len() == 0 {
			return
		}
		t := strings.Trim(b.String(), "-")
		b.Reset()
		if t == "" {
			return
		}
		out = append(out, word{text: t, comma: comma, upper: strings.ToUpper(t) == t && strings.ToLower(t) != t})
		comma = false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-':
			b.WriteRune(r)
		default:
			flush()
			if r == ',' || r == '\n' {
				comma = true
			}
		}
	}
	flush()
	return out
}

func hasSuffix(words []word, suffix []string) bool {
	if len(suffix) > len(words) {
		return false
	}
	off := len(words) - len(suffix)
	for i, w := range suffix {
		if !strings.EqualFold(words[off+i].text, w) {
			return false
		}
	}
	return true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isZIP4(s string) bool {
	return len(s) == 10 && s[5] == '-' && isDigits(s[:5], 5) && isDigits(s[6:], 4)
}
