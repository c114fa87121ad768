package phi

import "strings"

// Ages over 89 written in words in Spanish, Portuguese and Italian, as
// bilingual notes and interpreters write them: "noventa y dos años",
// "noventa e dois anos", "cien años", "ciento un años", "novantadue anni".
// The year word must follow ("el noventa por ciento" is no age), as it
// must after the digits ("92 años").

// romanceUnits are the units after "noventa y", "noventa e", "ciento" or
// "cento e": Spanish, Portuguese and Italian.
var romanceUnits = set(`un uno una dos tres cuatro cinco seis siete ocho nueve um uma dois duas três tres quatro sete oito nove
due quattro sei otto`)

// romanceYears are the year words after an age.
var romanceYears = set(`años anos anni`)

// romanceAgeStart reports whether w (in lower case) may open an age in
// words of romanceAge: one test of its first letter for most words.
func romanceAgeStart(w string) bool {
	switch w[0] {
	case 'n':
		return strings.HasPrefix(w, "novent") || strings.HasPrefix(w, "novant")
	case 'c':
		return w == "cien" || w == "ciento" || w == "cem" || w == "cento"
	}
	return false
}

// romanceAge returns the end of an age over 89 in words starting at word
// i (w, in lower case) before a year word, or i. It reads at most four
// tokens.
func (d *detector) romanceAge(i int, w string) int {
	j := i + 1
	switch {
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
		return j
	}
	return i
}
