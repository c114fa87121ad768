package phi

import (
	"strings"
	"sync"
)

// Rules for words on lines without case evidence (see markCaseless). There
// a capital proves nothing, and an unknown word is far more often clinical
// shorthand, a truncation or a misspelling ("ADEQ", "HEMODY", "RECIEVED")
// than a name. A word is a name only with evidence beyond its shape: the
// patient's record, a title, label or credential next to it, a verb that
// takes a person ("spoke with", "<name> aware"), or a name-list word that is
// no English or clinical word next to another name.

// afterNameVerbs follow a person in notes: "Dr Spring aware", "MILLER NOTIFIED".
var afterNameVerbs = set(`aware notified paged informed updated consulted called emailed texted`)

// afterNameVerbsWeak follow a person too, but also a drug or an order
// ("NYSTATIN POWDER ORDERED", "CULTURE REPORTS"): they count only after a
// word that is no English word. Most are what a relative says or wants:
// "KOWALCZYK STATES", "Brankowicz wishes to", "Osric verbalizes".
var afterNameVerbsWeak = set(`ordered contacted spoke requested stated agreed examined evaluated
states says said wishes wished wants wanted verbalizes verbalized reports requests declines declined
understands agrees`)

// languageSet is languages, built on first use (only for the rare word
// that caselessName asks about).
var languageSet = sync.OnceValue(languages)

// abbrevTitles are short titles that are nothing else: after them even an
// English word is a name ("DR LARKSPUR"), unlike after "priest" or "sister".
var abbrevTitles = set(`dr mr mrs mx prof`) // not "ms": mental status, morphine, mid-sternal

// shorthandTitles are titles that are also clinical shorthand: SR (sinus
// rhythm), MS (mental status, morphine), FR (French, the catheter size).
var shorthandTitles = set(`sr ms fr`)

// prevWord returns the index of the word before i, across one dot, or -1.
func (d *detector) prevWord(i int) int {
	k := i - 1
	if k >= 0 && d.isPunct(k, '.') {
		k--
	}
	if k >= 0 && d.toks[k].kind == tkWord {
		return k
	}
	return -1
}

// titleCredentials are credentials written before a name like a title:
// "NP Cordes", "W/MD GROUSE".
var titleCredentials = set(`md np pa rn rrt pac lpn crna aprn fnp ho`)

// caselessName marks word i (free, not part of a glued compound) on a line
// without case evidence.
func (d *detector) caselessName(i int, w string, lf uint16, set func(int, uint8, Type, int8)) int {
	t := d.toks[i]
	// a place of two words or more: with a word that is no English or
	// clinical word, or after a word that introduces a place ("from
	// Grand Rapids, MI", "returned to long beach")
	if cue := lf&lexPhrase != 0 && d.placeCue(i); lf&lexPhrase != 0 && (cue || d.uncommonIn(i, min(i+5, len(d.toks)))) {
		if j, region, ok := d.placePhraseCase(i, true); ok && (d.uncommonIn(i, j) || cue && j-i >= 2) {
			for k := i; k < j; k++ {
				if region {
					d.state[k] = stRegion
				} else if d.toks[k].kind == tkWord {
					set(k, mStrong, TypeLocation, prioDict)
				}
			}
			return j - 1
		}
	}
	if t.end-t.start == 1 && d.is(i, vUnit|vStopword) && !d.contraction(i) {
		// "per d cordes": a letter that is also a unit (d, h, l) or a word is
		// an initial only after "per" (initialName checks)
		if k := i - 1; k >= 0 && d.toks[k].kind == tkWord && d.word(k) == "per" {
			if j := d.initialName(i); j > i {
				set(i, mStrong, TypePerson, prioContext)
				set(j, mStrong, TypePerson, prioContext)
				return j
			}
		}
		return i
	}
	if d.is(i, vStopword|vNameLabel|vTitle|vCredential|vUnit|vVitalLabel|vMonth) || d.contraction(i) || d.eponym(i) {
		return i
	}
	nameDict := lf&(lexFirst|lexLast) != 0
	ordinary := lf&(lexSafe|lexCommon|lexClinical) != 0
	if t.end-t.start == 1 {
		if d.titleBefore(i) && d.isPunct(i+1, '.') {
			set(i, mStrong, TypePerson, prioContext) // "DR B. TUCKER"
		} else if j := d.initialName(i); j > i {
			set(i, mStrong, TypePerson, prioContext)
			set(j, mStrong, TypePerson, prioContext)
			return j
		}
		return i
	}
	if t.end-t.start == 2 {
		// two letters without case are shorthand ("HO AWARE", "PT NT
		// SXN'D") unless a title stands before them: "DR HO"
		if d.titleBefore(i) && abbrevTitles[d.word(d.prevWord(i))] && (nameDict || !ordinary) {
			// (an abbreviated title only: "SR WO Q'S" is sinus rhythm
			// without Q waves)
			set(i, mStrong, TypePerson, prioContext)
		}
		return i
	}
	if d.homeBefore(i) || d.facilityIn(i) {
		// where the patient lives: a word on no list ("lives in
		// marbleton"), or an ordinary word and one on no list ("lives
		// alone in white quenbury"); where a facility is ("MEDICAL CENTER
		// IN KWIATOSZ")
		if !ordinary && lf&lexRegion == 0 {
			set(i, mStrong, TypeLocation, prioContext)
			return i
		}
		if j := i + 1; lf&lexRegion == 0 && j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && d.toks[j].start-t.end == 1 && d.toks[j].end-d.toks[j].start >= 3 &&
			d.toks[j].lex&(lexSafe|lexCommon|lexClinical|lexRegion) == 0 && !d.is(j, vStopword|vUnit) {
			set(i, mStrong, TypeLocation, prioContext)
			set(j, mStrong, TypeLocation, prioContext)
			return j
		}
	}
	switch {
	case d.initialBefore(i) && (nameDict || !ordinary || lf&lexClinical == 0 && (d.titledInitial(i-2) || d.agentInitial(i-2) || d.afterNameVerb(i) || d.credentialAfter(i))):
		// "B. KORVATH"; an ordinary word after a title and an initial ("DR
		// B. THIMBLE"), after "by", "per" or "with" and an initial
		// ("PLACED BY C. LANTERN"), or before a verb that takes a person
		// ("K. LANTERN AWARE") or a credential ("J. LANTERN BSN/RN"), not
		// a germ ("E. COLI") nor a note's part ("S. INTUBATED")
		set(i, mStrong, TypePerson, prioContext)
	case !ordinary && !nameDict && lf&lexRegion == 0 && t.end-t.start > 3 && d.stateZipAfter(i):
		set(i, mStrong, TypeLocation, prioContext) // a city on no list before its state and ZIP code: "QUENBURY VT 05301"
	case lf&(lexCity|lexUSCity) != 0 && lf&lexRegion == 0 && (!ordinary || lf&(lexCommon|lexClinical) == 0 && !languageSet()[w]) && t.end-t.start > 3 && d.locContext(i) || !ordinary && d.wardName(i):
		// (a short word after "to" is shorthand: "NGT TO LIS", "to CT";
		// a city on the allow-list that is no English or clinical word is
		// a place after "from" or "in": "SON CALLED FROM BOSTON"; a
		// language is none: "CONVERSE IN ENGLISH")
		set(i, mStrong, TypeLocation, prioContext)
	case d.titleBefore(i) && (nameDict && !(ordinary && shorthandTitles[d.word(d.prevWord(i))]) || !ordinary || abbrevTitles[d.word(d.prevWord(i))]):
		// (after a title that is also shorthand, an English or clinical
		// word is none: "SR PACS", "MS INTACT")
		set(i, mStrong, TypePerson, prioContext)
	case (nameDict && lf&lexClinical == 0 || !ordinary) && d.credentialBefore(i) && (nameDict || d.nameLike(i)):
		// "NP CORDES", "W/MD GROUSE", and a word on no list that is no
		// misspelling: "SPOKE WITH HO KWIATOSZ"
		set(i, mStrong, TypePerson, prioContext)
	case nameDict && (!ordinary || lf&lexFirst != 0) && d.nameContext(i):
		// (an English word that is only a surname is no name after a
		// relation: "A FRIEND CAME")
		set(i, mStrong, TypePerson, prioContext)
	case !nameDict && !ordinary && d.fieldLabelBefore(i) && d.nameLike(i):
		// a form's name field: "NAME: VOSKUIJLEN, TEODOR", "SURGEON:
		// ABERCROMBIE" (a word on no list that is no misspelling)
		set(i, mStrong, TypePerson, prioContext)
	case !nameDict && !ordinary && d.relationBefore(i) && d.nameLike(i):
		// a word on no list after a relation: "SON KWIATOSZ IN TO
		// VISIT", "wife, quellmorn, gave" (surnames are on no list as
		// often as on one; a misspelling is no name: "SON PRESNT")
		set(i, mStrong, TypePerson, prioContext)
	case d.lowerClinical && t.has(fCap) && !t.has(fAllCaps) && !t.has(fSent) && lf&(lexCommon|lexClinical) == 0:
		// a capital mid-sentence in a note written without them: the
		// writer marked a name ("mother, Mirra Bargeman, called")
		if lf&(lexCity|lexUSCity) != 0 && lf&(lexFirst|lexLast) == 0 {
			set(i, mStrong, TypeLocation, prioContext)
		} else {
			set(i, mStrong, TypePerson, prioContext)
		}
	case lf&lexFirst != 0 && lf&lexClinical == 0 && d.perName(i), !ordinary && d.perPair(i) && d.nameLike(i):
		// "per clement whaley": an order's author, first and last name;
		// or two words that may be names, one on a name list: "per
		// grzelak brankowicz"
		set(i, mStrong, TypePerson, prioContext)
		set(i+1, mStrong, TypePerson, prioContext)
		return i + 1
	case !ordinary && !nameDict && d.credentialAfter(i):
		set(i, mStrong, TypePerson, prioContext) // "brankowicz rrt"
	case nameDict && lf&lexClinical == 0 && d.afterNameVerb(i):
		set(i, mStrong, TypePerson, prioContext)
	case lf&lexRegion != 0:
		d.state[i] = stRegion
	case nameDict && !ordinary:
		set(i, mWeak, TypePerson, prioDict)
	}
	return i
}

// relations are the family and the people close to a patient, whose names
// follow them: "SON KWIATOSZ", "wife, quellmorn,".
var relations = set(`wife husband son daughter mother father mom dad sister brother aunt uncle cousin niece
nephew grandson granddaughter grandmother grandfather grandma grandpa friend partner spouse fiance
fiancee guardian proxy caregiver roommate boyfriend girlfriend stepson stepdaughter stepmother
stepfather stepbrother stepsister neighbor neighbour dtr dau sis bro husb nok hcp poa granddtr
wife's husband's daughters sons sisters brothers friends`)

// relationBefore reports whether a relation stands right before word i on
// its line, across a comma, a quote or in parentheses ("SON KWIATOSZ",
// "wife, quellmorn", "daughter \"dorvanek\"", "WIFE (KWIATOSZ)"), or one
// follows it in parentheses ("KWIATOSZ (SIGNIFICANT OTHER)").
func (d *detector) relationBefore(i int) bool {
	if j := i + 2; j < len(d.toks) && d.isPunct(i+1, '(') && !d.toks[i+1].has(fNL) && d.toks[j].kind == tkWord && d.relationAt(j) {
		return true
	}
	k := i - 1
	if k >= 0 && (d.isPunct(k, ',') || d.isPunct(k, '"') || d.isPunct(k, '(') && d.isPunct(i+1, ')')) {
		k--
	}
	return k >= 0 && d.toks[k].kind == tkWord && !d.toks[k+1].has(fNL) && !d.toks[i].has(fNL) && d.relationEnds(k)
}

// relationEnds reports whether word k ends a relation: "son", "contact
// person", "significant other".
func (d *detector) relationEnds(k int) bool {
	switch d.word(k) {
	case "person":
		return k > 0 && d.toks[k-1].kind == tkWord && d.word(k-1) == "contact"
	case "other":
		return k > 0 && d.toks[k-1].kind == tkWord && d.word(k-1) == "significant"
	}
	return relations[d.word(k)]
}

// relationAt reports whether word j starts a relation: "son", "significant
// other".
func (d *detector) relationAt(j int) bool {
	if w := d.word(j); relations[w] {
		return true
	} else if w == "significant" || w == "contact" {
		return j+1 < len(d.toks) && d.toks[j+1].kind == tkWord && d.relationEnds(j+1)
	}
	return false
}

// wardName reports whether unknown word i names a building or ward with its
// floor, after a preposition: "to Ellison 12", "from Blake 4". (An unknown
// word after a bare preposition is far more often shorthand: "to LIS",
// "from OSH", "at KVO".)
func (d *detector) wardName(i int) bool {
	t := d.toks[i]
	if t.end-t.start < 5 || t.has(fNonASCII) {
		return false
	}
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "to", "from", "on", "at", "in":
	default:
		return false
	}
	return d.floorAfter(i)
}

// motionWard reports whether word i names a building or ward with its
// floor after a verb of motion and "to" or "from", whatever the word:
// "transfer to bay 2", "admitted to Memorial 3", "go to bay 6" (not a
// unit of the hospital, a clinical word or a label: "transfer to CCU 2",
// "to room 4").
func (d *detector) motionWard(i int) bool {
	t := d.toks[i]
	k := i - 1
	if i+1 >= len(d.toks) || d.toks[i+1].kind != tkNum || k < 1 || t.end-t.start < 2 || t.has(fNL) || d.toks[k].kind != tkWord || d.toks[k].has(fNL) || d.toks[k-1].kind != tkWord {
		return false // (the cheapest test first: a number after it)
	}
	if p := d.word(k); p != "to" && p != "from" {
		return false
	}
	for n := 0; n < 2 && k >= 2 && d.toks[k-2].kind == tkWord && motionAdverbs[d.word(k-1)] && !d.toks[k-1].has(fNL); n++ {
		k-- // "GOING TOMORROW TO", "sent tonight to"
	}
	if v := d.word(k - 1); !motionVerbs[v] && v != "go" || v == "back" && !(k >= 2 && d.toks[k-2].kind == tkWord && motionVerbs[d.word(k-2)]) {
		return false // ("changed back to PS 5")
	}
	if t.lex&lexClinical != 0 || careUnits[d.word(i)] || d.is(i, vStopword|vUnit|vUnitWord|vVitalLabel|vTitle|vCredential|vNameLabel|vMonth|vWeekday|vFacilityEnder) {
		return false
	}
	return d.floorAfter(i)
}

// floorAfter reports whether a floor number (1 to 20) follows word i, with
// nothing glued after it but a sentence's punctuation, and no unit or
// value next: "Blake 4.", "bay 2 today".
func (d *detector) floorAfter(i int) bool {
	t := d.toks[i]
	j := i + 1
	if j >= len(d.toks) || d.toks[j].kind != tkNum || d.toks[j].has(fNL) || d.toks[j].start-t.end > 1 || d.toks[j].end-d.toks[j].start > 2 {
		return false
	}
	if n := d.text[d.toks[j].start:d.toks[j].end]; len(n) == 2 && n > "20" {
		return false
	}
	// nothing glued after the number, and no unit or value next
	m := j + 1
	if m >= len(d.toks) || d.toks[m].has(fNL) {
		return true
	}
	if d.toks[m].start == d.toks[j].end {
		// only a sentence's punctuation glued: "to Blake 4."
		return d.toks[m].kind == tkPunct && strings.IndexByte(".,;)", d.text[d.toks[m].start]) >= 0 &&
			!(m+1 < len(d.toks) && d.toks[m+1].kind == tkNum && d.toks[m+1].start == d.toks[m].end)
	}
	return !(d.toks[m].kind == tkWord && d.is(m, vUnit|vUnitWord)) && d.toks[m].kind != tkNum
}

// uncommonIn reports whether one of the words [i, j) is neither an English
// nor a clinical word.
func (d *detector) uncommonIn(i, j int) bool {
	for k := i; k < j; k++ {
		if d.toks[k].kind == tkWord && d.toks[k].lex&(lexSafe|lexCommon|lexClinical) == 0 {
			return true
		}
	}
	return false
}

// titleBefore reports whether a title (Dr, Mr, Mrs…) precedes word i,
// across a dot.
func (d *detector) titleBefore(i int) bool {
	k := i - 1
	if k >= 0 && d.isPunct(k, '.') {
		k--
	}
	return k >= 0 && d.toks[k].kind == tkWord && d.is(k, vTitle) && !d.toks[k+1].has(fNL) && !d.sizeUnit(k)
}

// credentialBefore reports whether a credential used as a title (NP, MD,
// RN) precedes word i: "per NP Cordes".
func (d *detector) credentialBefore(i int) bool {
	k := i - 1
	return k >= 0 && d.toks[k].kind == tkWord && titleCredentials[d.word(k)] && !d.toks[i].has(fNL) && d.toks[i].start-d.toks[k].end == 1
}

// afterNameVerb reports whether word i is followed by "aware", "notified"…
func (d *detector) afterNameVerb(i int) bool {
	j := i + 1
	if j < len(d.toks) && (d.isPunct(j, ',') || d.isPunct(j, '.')) {
		j++
	}
	if j < len(d.toks) && d.toks[j].kind == tkWord && d.word(j) == "made" {
		j++
	}
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) {
		return false
	}
	w := d.word(j)
	return afterNameVerbs[w] || afterNameVerbsWeak[w] && d.toks[i].lex&(lexSafe|lexCommon|lexClinical) == 0
}

// initialName returns the index of the surname after initial i when the
// two name a person by their context: "per d cordes", "J CORDES ORDERED"
// (an initial that stands alone, not a letter used as shorthand: c, s, w,
// x, p), or i.
func (d *detector) initialName(i int) int {
	j := i + 1
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) || d.toks[j].start-d.toks[i].end != 1 || d.state[j] != stFree || !d.standsAlone(i) {
		return i
	}
	if strings.IndexByte("acinopswx", d.low[d.toks[i].start]) >= 0 || d.toks[j].end-d.toks[j].start < 3 {
		return i
	}
	nl := d.toks[j].lex
	if d.is(j, vStopword|vUnit|vVitalLabel|vCredential|vTitle|vNameLabel|vMonth) || nl&lexCommon != 0 && nl&(lexFirst|lexLast) == 0 {
		return i
	}
	if k := d.prevWord(i); k >= 0 && k == i-1 && d.word(k) == "per" && (nl&(lexFirst|lexLast) != 0 || nl&(lexSafe|lexClinical) == 0) {
		// an order's author: "per d cordes", "per b korvath"
		return j
	}
	if nl&(lexFirst|lexLast) == 0 || nl&lexClinical != 0 {
		return i
	}
	// a verb that takes a person after the surname, the weak ones too
	// (the initial makes the surname a name, not a drug)
	if m := j + 1; m < len(d.toks) && d.toks[m].kind == tkWord && !d.toks[m].has(fNL) && (afterNameVerbs[d.word(m)] || afterNameVerbsWeak[d.word(m)]) {
		return j
	}
	return i
}

// perName reports whether word i follows "per" and a surname follows it:
// "per clement whaley".
func (d *detector) perName(i int) bool {
	k, j := d.prevWord(i), i+1
	if k < 0 || d.word(k) != "per" || j >= len(d.toks) || d.toks[j].kind != tkWord || d.state[j] != stFree || d.toks[j].has(fNL) || d.toks[j].start-d.toks[i].end != 1 {
		return false
	}
	nl := d.toks[j].lex
	return nl&lexLast != 0 && nl&lexClinical == 0 && !d.is(j, vStopword|vUnit|vVitalLabel|vCredential)
}

// nameLike reports whether word i may be a name where case is no evidence:
// on a name list and no English or clinical word, or on no list at all and
// no misspelt word, of three letters or more.
func (d *detector) nameLike(i int) bool {
	t := d.toks[i]
	if t.kind != tkWord || t.end-t.start < 3 || t.has(fNonASCII) || d.is(i, vStopword|vUnit|vVitalLabel|vCredential|vTitle|vNameLabel|vMonth) {
		return false
	}
	switch f := t.lex; {
	case f&(lexSafe|lexCommon|lexClinical) == 0 && f&(lexFirst|lexLast) != 0:
		return true
	case f&(lexSafe|lexCommon|lexClinical|lexFirst|lexLast) == 0:
		w := d.word(i)
		return !d.misspelt(w) && !d.letterDropped(w)
	}
	return false
}

// perPair reports whether word i follows "per" and, with the word after
// it, makes two words that may be names, one of them on a name list:
// "per grzelak brankowicz" (an order's author).
func (d *detector) perPair(i int) bool {
	k, j := d.prevWord(i), i+1
	if k < 0 || d.word(k) != "per" || j >= len(d.toks) || d.toks[j].kind != tkWord || d.state[j] != stFree || d.toks[j].has(fNL) || d.toks[j].start-d.toks[i].end != 1 {
		return false
	}
	return (d.toks[i].lex|d.toks[j].lex)&(lexFirst|lexLast) != 0 && d.nameLike(j)
}

// credentialAfter reports whether a credential follows word i, across a
// comma: "ROE, RN", "brankowicz rrt".
func (d *detector) credentialAfter(i int) bool {
	j := i + 1
	if j < len(d.toks) && d.isPunct(j, ',') {
		j++
	}
	return j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && plainCredentials[d.word(j)]
}

// plainCredentials are credentials that are no clinical shorthand too (not
// "PA", "OT", "DO").
var plainCredentials = set(`md rn rrt np bsn msn lpn crna aprn fnp ccrn cnp phd`)

// initialBefore reports whether an initial and its dot precede word i:
// "B. KORVATH" (a letter that stands alone: not "U/O. HANDS", "40'S. ALINE").
func (d *detector) initialBefore(i int) bool {
	return i >= 2 && d.isPunct(i-1, '.') && d.glued(i-2) && d.toks[i-2].kind == tkWord && d.toks[i-2].end-d.toks[i-2].start == 1 &&
		d.toks[i-2].has(fCap) && !d.toks[i].has(fNL) && d.toks[i].start-d.toks[i-1].end <= 1 && d.standsAlone(i-2)
}

// titledInitial reports whether an abbreviated title precedes initial i:
// "DR B.", "MRS. J.".
func (d *detector) titledInitial(i int) bool {
	return d.titleBefore(i) && abbrevTitles[d.word(d.prevWord(i))]
}

// agentInitial reports whether "by", "per" or "with" precedes initial i:
// "PLACED BY C.", "PER B.".
func (d *detector) agentInitial(i int) bool {
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "by", "per", "with":
		return true
	}
	return false
}

// standsAlone reports whether token i starts a line or follows a blank.
func (d *detector) standsAlone(i int) bool {
	p := int(d.toks[i].start)
	return p == 0 || d.text[p-1] == ' ' || d.text[p-1] == '\n' || d.text[p-1] == '\t' || d.text[p-1] == '('
}

// motionVerbs move a patient between facilities: "transferred from", "admitted to".
var motionVerbs = set(`transferred transfered tranfered transfer transferring txr trx tx txd txed admitted admit readmitted
taken sent went brought enroute arrived returned discharged transported flown flighted medflighted airlifted
helicoptered presented presents came coming going back retired fly flew flying drove driving traveled travelled
traveling travelling travel travels trip trips vacation vacationed vacationing`)

// motionAdverbs may stand between a verb of motion and its "to": "going
// tomorrow to", "sent tonight to".
var motionAdverbs = set(`today tomorrow tonight now again out later soon then possibly probably likely eventually
finally safely`)

// facilityNext follow a facility's name: "GH ER", "Memorial Hospital".
var facilityNext = set(`er ed ew hospital hosp clinic rehab icu ccu tcu micu sicu cath`)

// facilityContext reports whether word i stands where a facility does:
// after "transferred to", "admitted from", or before "ER", "hospital".
func (d *detector) facilityContext(i int) bool {
	k := i - 1
	if k >= 0 && d.toks[k].kind == tkWord && d.word(k) == "the" {
		k--
	}
	if k >= 1 && d.toks[k].kind == tkNum && d.state[k] == stFree && d.toks[k].end-d.toks[k].start <= 4 && d.standsAlone(k) && d.toks[k].end < d.toks[i].start && !d.toks[i].has(fNL) {
		k-- // a room before the building: "transferred to 209 Ostrander"
	}
	if k >= 1 && d.toks[k].kind == tkWord && !d.toks[k+1].has(fNL) {
		switch d.word(k) {
		case "to", "from", "at", "in":
			v := k - 1
			if d.toks[v].kind == tkWord && d.word(v) == "back" && v > 0 {
				v-- // "transferred back to", but not "changed back to NRB"
			}
			if d.toks[v].kind == tkWord && motionVerbs[d.word(v)] && d.word(v) != "back" {
				return true
			}
			// "c/o to": called out to
			if d.word(k) == "to" && v >= 2 && d.toks[v].kind == tkWord && d.word(v) == "o" && d.isPunct(v-1, '/') && d.word(v-2) == "c" && d.glued(v-2) && d.glued(v-1) {
				return true
			}
		}
	}
	j := i + 1
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) || d.glued(i) {
		return false
	}
	nw := d.word(j)
	if facilityNext[nw] && (d.toks[i].end-d.toks[i].start <= 5 && (d.toks[i].has(fAllCaps) || !d.toks[i].has(fCap)) || d.toks[i].lex&(lexCity|lexUSCity) != 0 ||
		d.prepBefore(i) && d.nameLike(i)) {
		// (a longer word on no list, or only on a name list, after a
		// preposition too: "home from KWIATOSZ TCU", "at Velmarde EW")
		return true
	}
	// a word on no list (or only on a name list) before a word that names
	// a site of care: "OSTRANDER REHAB", "quennbury campus"
	return facilitySites[nw] && d.toks[i].end-d.toks[i].start >= 3 && d.toks[i].lex&(lexSafe|lexCommon|lexClinical) == 0
}

// prepBefore reports whether "to", "from", "at", "in" or "@" stands right
// before word i, across "the".
func (d *detector) prepBefore(i int) bool {
	k := i - 1
	if k >= 0 && d.toks[k].kind == tkWord && d.word(k) == "the" {
		k--
	}
	if k < 0 || d.toks[k+1].has(fNL) {
		return false
	}
	if d.isPunct(k, '@') {
		return true
	}
	if d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "to", "from", "at", "in":
		return true
	}
	return false
}

// facilitySites follow the name of a facility or its site, and nothing
// else: unlike "ER" or "cath", which follow shorthand too.
var facilitySites = set(`rehab hospital hosp clinic campus`)

// fieldStart reports whether word i starts a field under a clinical label
// ("Pulm: Conts on the vent").
func (d *detector) fieldStart(i int) bool {
	k := i - 1
	for k >= 0 && d.toks[k].kind == tkPunct && (d.isPunct(k, '-') || d.isPunct(k, '>')) {
		k--
	}
	if k < 1 || !d.isPunct(k, ':') || d.toks[k-1].kind != tkWord {
		return false
	}
	// the label is a clinical section that starts a line or sentence:
	// "Resp:", "Neuro:", "GI:" (not "the same: Bořivoj")
	return d.toks[k-1].has(fSent) && d.toks[k-1].lex&lexClinical != 0 && d.toks[k-1].lex&(lexFirst|lexLast) == 0
}

// misspelt reports whether w is one swap of two neighbouring letters, one
// undoubled letter or (in words of eight letters or more) one letter too
// many away from an English or clinical word that is not a name:
// "Recieved", "Transfered", "Remians".
func (d *detector) misspelt(w string) bool {
	if len(w) < 6 || len(w) > 24 {
		return false
	}
	var buf [25]byte
	ok := func(v string) bool {
		f := d.e.lex.get(v)
		return f&(lexSafe|lexCommon|lexClinical) != 0 && f&(lexFirst|lexLast) == 0
	}
	// interior letters only: a first or last letter more or less is
	// how names are made from words ("Zorchard", "Harvesta")
	for k := 1; k+2 < len(w); k++ {
		n := copy(buf[:], w)
		buf[k], buf[k+1] = buf[k+1], buf[k]
		if ok(string(buf[:n])) {
			return true
		}
	}
	// a letter too many: only in longer words, where a name one letter
	// away from a word is rare ("Gardien", "Pastrel" are names)
	for k := 1; k+1 < len(w) && len(w) >= 8; k++ {
		n := copy(buf[:], w[:k])
		n += copy(buf[n:], w[k+1:])
		if ok(string(buf[:n])) {
			return true
		}
	}
	// a doubled letter dropped: "transfered" → "transferred"
	for k := 1; k+1 < len(w); k++ {
		n := copy(buf[:], w[:k])
		buf[n] = w[k-1]
		n++
		n += copy(buf[n:], w[k:])
		if ok(string(buf[:n])) {
			return true
		}
	}
	return false
}

// letterDropped reports whether w is an English or clinical word that is no
// name with one inner letter left out: "PRESNT", "visitng". It tries every
// letter at every place, so it is asked only where a rule is about to make
// a name of a word on no list.
func (d *detector) letterDropped(w string) bool {
	if len(w) < 5 || len(w) > 23 {
		return false
	}
	var buf [24]byte
	for k := 1; k < len(w); k++ {
		n := copy(buf[:], w[:k])
		n += copy(buf[n+1:], w[k:]) + 1
		for c := byte('a'); c <= 'z'; c++ {
			buf[k] = c
			if f := d.e.lex.get(string(buf[:n])); f&(lexSafe|lexCommon|lexClinical) != 0 && f&(lexFirst|lexLast) == 0 {
				return true
			}
		}
	}
	return false
}

// foodAtRisk reports whether a food phrase starting at word i could be
// taken for a name, so that foodPhrase is worth its lookups: the head is
// capitalised (or case is no evidence) and it or the next word is on a
// name list or no known word ("Graham crackers", "Eggs Benedict").
func (d *detector) foodAtRisk(i int) bool {
	t := d.toks[i]
	if !(t.has(fCap) || t.has(fNoCase) || d.lowerDoc) {
		return false
	}
	risky := func(k int) bool {
		f := d.toks[k].lex
		return f&(lexFirst|lexLast) != 0 || f&(lexSafe|lexCommon|lexClinical) == 0
	}
	if risky(i) {
		return true
	}
	k := i + 1
	if k < len(d.toks) && d.toks[k].kind == tkPunct && k+1 < len(d.toks) {
		k++ // "Dr. Pepper"
	}
	return k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && risky(k)
}

// foodPhrase matches a whole food or brand name of two to five words
// starting at word i ("Graham crackers", "Eggs Benedict", "Dr. Pepper"),
// singular or plural, with at least one word that is no name, and returns
// the index after it, or i.
func (d *detector) foodPhrase(i int) int {
	var buf [96]byte
	n := 0
	best := i
	k := i
	plain := false // an English word or no name: "O'Brien" alone is no food
	for words := 0; words < 5 && k < len(d.toks); words++ {
		t := d.toks[k]
		if t.kind != tkWord || words > 0 && t.has(fNL) || n+int(t.end-t.start)+1 > len(buf) {
			break
		}
		if words > 0 {
			buf[n] = ' '
			n++
		}
		n += copy(buf[n:], d.low[t.start:t.end])
		if (t.lex&(lexFirst|lexLast) == 0 || t.lex&lexCommon != 0) && t.end-t.start > 2 {
			plain = true
		}
		if words > 0 && plain {
			key := string(buf[:n])
			if d.e.lex.phrase(key)&lexFoodName != 0 || key[len(key)-1] == 's' && d.e.lex.phrase(key[:len(key)-1])&lexFoodName != 0 {
				best = k + 1
			}
		}
		// the next word, across blanks or one dot, hyphen or apostrophe
		m := k + 1
		if m < len(d.toks) && d.toks[m].kind == tkPunct && (d.isPunct(m, '.') || d.isPunct(m, '-') || d.isPunct(m, '\'')) {
			m++
		}
		if m >= len(d.toks) || d.toks[m].start-d.toks[m-1].end > 1 {
			break
		}
		k = m
	}
	return best
}

// fieldLabelBefore reports whether a label that introduces a name and a
// colon stand right before word i on its line: "NAME: VOSKUIJLEN",
// "ATTENDING: KWIATOSZ". A form's field holds its value; "PT:" is left
// out, as notes open a sentence with it ("PT: LETHARIC").
func (d *detector) fieldLabelBefore(i int) bool {
	k := i - 2
	return k >= 0 && d.isPunct(i-1, ':') && d.toks[k].kind == tkWord && !d.toks[i].has(fNL) && !d.toks[i-1].has(fNL) &&
		d.is(k, vNameLabel) && d.word(k) != "pt"
}
