package phi

import "strings"

// Ages over 89 written in words in Spanish, Portuguese, Italian, French,
// German and Dutch, as bilingual notes and interpreters write them:
// "noventa y dos años", "noventa e dois anos", "cien años", "ciento un
// años", "novantadue anni", "quatre-vingt-quinze ans", "nonante-deux ans",
// "cent ans", "zweiundneunzig Jahre", "tweeënnegentig jaar". The year word
// must follow ("el noventa por ciento", "quatre-vingt-dix pour cent" are no
// age), as it must after the digits ("92 años", "92 Jahre").

// romanceUnits are the units after "noventa y", "noventa e", "ciento" or
// "cento e": Spanish, Portuguese and Italian.
var romanceUnits = set(`un uno una dos tres cuatro cinco seis siete ocho nueve um uma dois duas três tres quatro sete oito nove
due quattro sei otto`)

// romanceYears are the year words after an age.
var romanceYears = set(`años anos anni ans jahre jahren jaar`)

// frenchTeens are the numbers after "quatre-vingt": 90 to 96 ("dix" may
// take "sept", "huit" or "neuf" after it: "quatre-vingt-dix-sept").
var frenchTeens = set(`dix onze douze treize quatorze quinze seize`)

// frenchUnits are the units after "nonante" (Belgian and Swiss French) or
// "cent".
var frenchUnits = set(`un une deux trois quatre cinq six sept huit neuf`)

// romanceAgeStart reports whether w (in lower case) may open an age in
// words of romanceAge: one test of its first letter for most words.
func romanceAgeStart(w string) bool {
	switch w[0] {
	case 'n':
		return strings.HasPrefix(w, "novent") || strings.HasPrefix(w, "novant") || w == "nonante" ||
			strings.HasSuffix(w, "neunzig") || strings.HasSuffix(w, "negentig")
	case 'c':
		return w == "cien" || w == "ciento" || w == "cem" || w == "cento" || w == "cent"
	case 'q':
		return w == "quatre"
	case 'h':
		return strings.HasPrefix(w, "hundert") || strings.HasPrefix(w, "honderd")
	}
	// a German or Dutch number in one word: "zweiundneunzig",
	// "tweeënnegentig"
	return len(w) > 10 && (strings.HasSuffix(w, "undneunzig") || strings.HasSuffix(w, "negentig"))
}

// wordAfter returns the word token after token j on its line, across one
// hyphen glued to both (the French compound numbers: "quatre-vingt-dix"),
// or -1.
func (d *detector) wordAfter(j int) int {
	k := j + 1
	if k+1 < len(d.toks) && d.glued(j) && d.isPunct(k, '-') && d.glued(k) {
		k++
	} else if k < len(d.toks) && d.toks[k].start != d.toks[j].end+1 {
		return -1
	}
	if k >= len(d.toks) || d.toks[k].kind != tkWord || d.toks[k].has(fNL) {
		return -1
	}
	return k
}

// frenchAge returns the last word of a French age over 89 in words
// starting at word i (w, in lower case), or -1: "quatre-vingt-dix",
// "quatre vingt douze", "quatre-vingt-dix-sept", "nonante-et-un",
// "nonante deux", "cent", "cent trois". It reads at most five words.
func (d *detector) frenchAge(i int, w string) int {
	switch w {
	case "quatre":
		k := d.wordAfter(i)
		if k < 0 || (d.word(k) != "vingt" && d.word(k) != "vingts") {
			return -1
		}
		if k = d.wordAfter(k); k < 0 || !frenchTeens[d.word(k)] {
			return -1
		}
		if d.word(k) == "dix" {
			if l := d.wordAfter(k); l >= 0 && (d.word(l) == "sept" || d.word(l) == "huit" || d.word(l) == "neuf") {
				k = l
			}
		}
		return k
	case "nonante", "cent":
		k := i
		if l := d.wordAfter(k); l >= 0 && d.word(l) == "et" {
			if m := d.wordAfter(l); m >= 0 && (d.word(m) == "un" || d.word(m) == "une") {
				return m
			}
			return i
		}
		if l := d.wordAfter(k); l >= 0 && (frenchUnits[d.word(l)] || w == "cent" && frenchTeens[d.word(l)]) {
			k = l
		}
		return k
	}
	return -1
}

// romanceAge returns the end of an age over 89 in words starting at word
// i (w, in lower case) before a year word, or i. It reads at most eleven
// tokens.
func (d *detector) romanceAge(i int, w string) int {
	j := i + 1
	switch {
	case w == "quatre" || w == "nonante" || w == "cent":
		k := d.frenchAge(i, w)
		if k < 0 {
			return i
		}
		j = k + 1
	case w[0] == 'h' || strings.HasSuffix(w, "neunzig") || strings.HasSuffix(w, "negentig"):
		// German and Dutch write the number in one word: "neunzig",
		// "einundneunzig", "hundert", "hundertzwei", "negentig",
		// "tweeënnegentig", "honderd"
	case w == "noventa" || w == "novanta" || w == "ciento" || w == "cento":
		// "noventa y dos", "noventa e dois", "ciento dos", "cento e due"
		k := j
		if k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && (d.word(k) == "y" || d.word(k) == "e") {
			k++
		}
		if k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && romanceUnits[d.word(k)] {
			j = k + 1
		} else if w == "ciento" || w == "cento" {
			return i // (no "ciento" alone)
		}
	case w == "cien" || w == "cem":
	case len(w) > 7 && (strings.HasPrefix(w, "novanta") || strings.HasPrefix(w, "novant")):
		// Italian writes the number in one word: "novantadue", "novantuno"
		if !romanceUnits[strings.TrimPrefix(strings.TrimPrefix(w, "novanta"), "novant")] && !strings.HasSuffix(w, "uno") && !strings.HasSuffix(w, "tré") {
			return i
		}
	default:
		return i
	}
	if j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && d.toks[j].start == d.toks[j-1].end+1 && romanceYears[d.word(j)] {
		if j == i+1 && (w == "cent" || w == "hundert" || w == "honderd") {
			// the year word too, so that the value, redacted where it
			// recurs, is not the number alone: "pour cent", "hundert Meter"
			return j + 1
		}
		return j
	}
	return i
}
