package phi

// Names written as one word without a label: "rosalindvantongeren",
// "mariagonzalez", as a user name, a handle or a writer hiding a name
// writes them (the twentieth pass took them only after a label: "Username
// rosalindvantongeren", "Login: mkowalczyk").

// joinedName reports whether w, a lower-case word of nine to twenty-four
// letters on no word list, is a first name of four letters or more on the
// lists (no clinical word and none of the safe list: "excel" + "lant")
// joined to a surname of four letters or more on them (not of the safe
// list either: "truli" + "city"), and no English or
// clinical word misspelt ("maitenance" is "maite" + "nance", "tolerting"
// "toler" + "ting": the name lists hold many such rare words). It makes at
// most forty look-ups, and the misspelling's only for a word that splits.
func (d *detector) joinedName(w string) bool {
	if len(w) < 9 || len(w) > 24 {
		return false
	}
	for cut := 4; cut <= len(w)-4 && cut <= 10; cut++ { // (a first name of ten letters at most)
		if !isASCIILetter(w[cut-1]) {
			return false
		}
		f := d.e.lex.get(w[:cut])
		if f&lexFirst == 0 || f&(lexClinical|lexSafe) != 0 {
			continue
		}
		if r := d.e.lex.get(w[cut:]); r&lexLast != 0 && r&(lexClinical|lexSafe) == 0 {
			return !d.misspelt(w) && !d.letterDropped(w)
		}
	}
	return false
}
