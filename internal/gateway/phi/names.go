package phi

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"
)

// Name marks.
const (
	mNone   uint8 = iota
	mWeak         // an ordinary word that is also a name: promoted only next to a strong mark
	mStrong       // a name or place
)

// names finds person and place names among the words that no structured
// scanner took: the patient's record, titles and labels, dictionaries and
// the allow-list, multi-word places and facility names.
func (d *detector) names() {
	n := len(d.toks)
	mark := grow(&d.sc.mark, n)
	typ := grow(&d.sc.typ, n)
	prio := grow(&d.sc.prio, n)
	set := func(i int, m uint8, t Type, p int8) {
		if m > mark[i] || (m == mark[i] && p > prio[i]) {
			mark[i], typ[i], prio[i] = m, t, p
		}
	}
	d.vehicles()
	for i := 0; i < n && !d.stopped(); i++ {
		t := d.toks[i]
		if t.kind != tkWord || d.state[i] != stFree {
			continue
		}
		if i > 0 && d.toks[i-1].end == t.start && d.toks[i-1].kind == tkNum {
			continue // part of a compound such as "3AA"
		}
		var gluedTo byte // the punctuation glued after the word, if any
		if i+1 < n && d.toks[i+1].start == t.end {
			if d.toks[i+1].kind == tkNum {
				continue // part of a compound such as "AAAA93"
			}
			if d.toks[i+1].kind == tkPunct {
				gluedTo = d.text[t.end]
			}
		}
		w := d.low[t.start:t.end] // d.word(i), written out (word is not inlined)
		if t.flags&fNonASCII != 0 {
			w = strings.ToLower(w)
		}
		if gluedTo == ',' && t.has(fCap) && t.end-t.start >= 4 && houseWords[w] && d.houseName(i) {
			// a house's name before its street address: "Hillcrest
			// Cottage, 27 Mill Lane" (the words before are final)
			for k := i; k >= 0 && k >= i-3 && d.toks[k].kind == tkWord && d.toks[k].has(fCap) && d.state[k] == stFree && !d.is(k, vStopword|vTitle|vNameLabel) && (k == i || !d.toks[k+1].has(fNL)); k-- {
				set(k, mStrong, TypeLocation, prioContext)
			}
			continue
		}
		if t.flags&(fCap|fNoCase|fNL) == fCap && t.end-t.start >= 4 && t.lex&(lexCommon|lexClinical) != 0 && practiceEnders[w] {
			d.practice(i, mark, typ, prio) // (the words before are final)
		} else if d.hints&hPractice != 0 && t.flags&fNoCase != 0 && !d.lowerDoc && doctorsPractices[w] {
			// (only in a note holding a practice's word: a pass hint)
			d.practiceNoCase(i, mark, typ, prio)
		}
		if (w[0] == 'p' || w[0] == 'c' || w[0] == 'r' || w[0] == 'i') && (w == "pt" || w == "patient" || w == "client" || w == "resident" || w == "initials") {
			d.labelInitials(i, mark, typ, prio) // "Pt D.L. is a 56 yo man", a trial subject's "initials K.M.R."
		} else if (w[0] == 's' || w[0] == 'c' || w[0] == 'p' || w[0] == 'w') && (w == "signed" || w == "cosigned" || w == "countersigned" ||
			(w == "completed" || w == "prepared" || w == "witnessed") && d.wordAfterIs(i, "by")) && d.labelInitials(i, mark, typ, prio) {
			d.keep(i, i+1) // a signature by initials alone: "Signed: J.K.L.", "Cosigned: M.R.", "electronically signed by T.W."
			continue
		}
		lf := t.lex
		if d.hints&hYearWord != 0 && len(w) >= 3 && romanceAgeStart(w) {
			if j := d.romanceAge(i, w); j > i {
				d.claim(i, j, TypeAge, prioStruct) // "noventa y dos años", "cien años"
				i = j - 1
				continue
			}
		}
		if w[0] == 'n' && len(w) >= 6 && w[:5] == "ninet" {
			if j := d.spelledAge(i, w); j > i {
				d.claim(i, j, TypeAge, prioStruct) // "a ninety-one year old woman", "in her nineties"
				i = j - 1
				continue
			}
		}
		// Shapes of words glued to a comma or a dot (one test of a byte
		// for the other words: speed).
		switch gluedTo {
		case ',':
			if !t.has(fCap) {
				break
			}
			if (i+2 >= n || d.toks[i+2].has(fNL)) && (i == 0 || t.has(fNL)) && signOffs[w] {
				d.keep(i, i+1) // a sign-off alone on its line is no place: "Best,\nMarco Fiorentino" (Best is a town)
				continue
			}
			if j := d.commaName(i); j > i {
				for k := i; k < j; k++ {
					if d.toks[k].kind == tkWord && d.state[k] == stFree {
						set(k, mStrong, TypePerson, prioContext) // "Subscriber: DOE, JOHN Q", "Guarantor: MILLER, JUNE"
					}
				}
				i = j - 1
				continue
			}
		case '.':
			if t.end-t.start == 1 && t.has(fCap) && d.doubleInitial(i) {
				d.claim(i, i+6, TypePerson, prioContext) // "Dr M.-C. Dufresne", "J.-P. Lambert"
				i += 5
				continue
			}
			if t.flags&(fCap|fNonASCII) == 0 && lf&lexFirst != 0 && d.dottedUserName(i) {
				d.claim(i, i+3, TypeID, prioContext) // a user name "first.last": "posted by ruthie.kwan"
				i += 2
				continue
			}
		}
		capd := t.has(fCap) || d.lowerDoc
		if d.rec != nil {
			if rt, ok := d.rec.matchWord(w, t, lf, d.lowerDoc); ok {
				set(i, mStrong, rt, prioRecord)
				continue
			}
		}
		if lf&lexFoodHead != 0 && d.foodAtRisk(i) {
			// a whole food or brand name, before the title rule: "Dr Pepper"
			if j := d.foodPhrase(i); j > i && !d.placeWhole(i, j) {
				d.keep(i, j)
				i = j - 1
				continue
			}
		}
		if len(w) == 3 && w == "and" {
			if a, b := d.streetCorner(i); b > a {
				d.claim(a, b, TypeAddress, prioStruct) // "the corner of 5th and Main"
				i = b - 1
				continue
			}
		}
		if lf&(lexFirst|lexLast|lexSafe|lexCommon|lexClinical|lexCity) == 0 && len(w) >= 2 && len(w) <= 4 && t.flags&(fCap|fNonASCII) == 0 && d.transcriberBefore(i) {
			set(i, mStrong, TypePerson, prioContext) // "Transcribed by kls"
			continue
		}
		if lf&(lexFirst|lexLast|lexSafe|lexCommon|lexClinical|lexCity|lexFood) == 0 && len(w) >= 6 && len(w) <= 16 && t.flags&(fCap|fNonASCII|fNoCase) == 0 && !(d.glued(i) && (d.toks[i+1].kind != tkPunct || d.glued(i+1))) && d.recordedByBefore(i) {
			set(i, mStrong, TypeID, prioContext) // "Report completed by paokafor"
			continue
		}
		if lf&(lexFirst|lexLast|lexSafe|lexCommon|lexClinical) == 0 && d.pluralFood(w) {
			d.keep(i, i+1) // a brand's plural: "Doritos", "Triscuits"
			continue
		}
		if lf&(lexCommon|lexClinical|lexRegion) == 0 && (t.has(fCap) || t.has(fNoCase)) && t.end-t.start > 1 && !d.is(i, vStopword|vTitle|vNameLabel|vVitalLabel|vUnit|vFacilityEnder) &&
			!facilityNext[w] && !(d.glued(i) && d.isPunct(i+1, '/')) && d.facilityContext(i) {
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if j := d.apostropheNameAt(i); j > i {
			// "O'Brien", "o'dowd", "D'Angelo": a name by its shape
			for k := i; k < j; k += 2 {
				set(k, mStrong, TypePerson, prioContext)
			}
			i = j - 1
			continue
		}
		if t.has(fAllCaps) && len(w) >= 4 && len(w) <= 6 && w[len(w)-2:] == "mc" && lf&(lexSafe|lexCommon|lexClinical) == 0 && !(d.glued(i) && d.toks[i+1].kind != tkPunct) {
			// a medical center by its acronym: "HCMC", "UMMC"
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if (t.has(fAllCaps) && len(w) >= 2 && lf&lexCommon == 0 && (len(w) <= 6 || lf&(lexSafe|lexClinical) == 0) || t.has(fCap) && !t.has(fAllCaps) && lf&(lexSafe|lexCommon|lexClinical) == 0) &&
			d.orientedIn(i) && !careUnits[w] && !facilityNext[w] && !d.is(i, vStopword|vUnit|vVitalLabel|vFacilityEnder|vTitle|vCredential) {
			// where the patient knows he is: "knows he is in KVH", "I'm in
			// BMC", "knew he was in Velmarde", "believes she is in KWIATOSZ" (a
			// longer word in capitals when it is no English or clinical
			// word)
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if i >= 2 && (d.toks[i-1].end-d.toks[i-1].start == 2 || d.toks[i-1].end-d.toks[i-1].start == 4) && lf&(lexCommon|lexRegion) == 0 &&
			(lf&(lexSafe|lexClinical) == 0 || t.end-t.start <= 3) && t.end-t.start >= 2 && d.relativeFrom(i) && !careUnits[w] && !facilityNext[w] && !stateAbbrevs[w] &&
			!d.is(i, vStopword|vUnit|vVitalLabel|vFacilityEnder|vTitle|vCredential|vNameLabel|vMonth|vWeekday) {
			// where a relative lives or comes from: "NIECE IN KWIATOSZ",
			// "sister from QH", in any case (an acronym there names a
			// town or a hospital, not a clinical term)
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if t.end-t.start <= 4 && t.end-t.start >= 2 && lf&(lexCommon|lexClinical|lexRegion|lexFirst|lexLast) == 0 && d.acronymPlace(i, w) {
			// a hospital's acronym with its floor: "ON KVH 6", "paged To qh 6"
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if lf&lexCommon != 0 && lf&(lexFirst|lexLast) != 0 && (t.has(fCap) || t.has(fNoCase)) && d.relationSurname(i) {
			// an English word that is a surname, right after a relation and
			// before the end of the phrase: "SON COOK, 555-0142",
			// "dtr marsh will call"
			set(i, mStrong, TypePerson, prioContext)
			continue
		}
		if t.has(fSent) && i+1 < n && d.signedPair(i) {
			// a signature: a name and a surname that is an English word
			// before a credential, "Quennby Fields, RN", "velmarde cook rn"
			set(i, mStrong, TypePerson, prioContext)
			set(i+1, mStrong, TypePerson, prioContext)
			i++
			continue
		}
		if i+1 < n && d.toks[i+1].kind == tkNum && d.motionWard(i) || t.end-t.start >= 4 && i >= 2 && d.toks[i-1].end-d.toks[i-1].start == 3 && d.placeAfterThe(i) && (d.nameLike(i) || lf&(lexCity|lexUSCity) != 0 && lf&(lexCommon|lexClinical) == 0) {
			// (the cheap tests of both inline: most words have no number
			// after them and no "the" before)
			// "transfer to bay 2", "CONSULT NOTE FROM THE KWIATOSZ", in any
			// case; a city that is no English word too: "at the Wenatchee
			// orchard", "a nurse at the Spokane clinic"
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if t.has(fNoCase) && isParticle(w) {
			if j := d.particleSurname(i); j > i {
				// particles and the surname after a title on a line
				// without case: "DR. VAN HOUTEN", "MR DE LA ROSA"
				for k := i; k < j; k++ {
					if d.toks[k].kind == tkWord {
						set(k, mStrong, TypePerson, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if lf&(lexFirst|lexLast|lexSafe|lexCommon|lexClinical|lexCity|lexUSCity|lexRegion) == 0 && len(w) >= 9 &&
			t.flags&fNonASCII == 0 && (t.flags&fCap == 0 || t.flags&fNoCase != 0) && d.joinedName(w) {
			set(i, mStrong, TypePerson, prioContext) // "the note was from rosalindvantongeren"
			continue
		}
		if t.has(fNoCase) && !d.lowerDoc {
			i = d.caselessName(i, w, lf, set)
			continue
		}
		// Shapes of capitalised words on lines with case (after the
		// caseless branch, which most words of an ICU note take: speed).
		if n := t.end - t.start; t.has(fCap) && (n <= 5 || n == 11) {
			if t.flags&(fAllCaps|fNL) == fAllCaps && (n == 2 || n == 3) && lf&(lexClinical|lexSafe) == 0 && d.benchLabelBefore(i) {
				set(i, mStrong, TypePerson, prioContext) // "Tech: KLM", "Operator: JRB", "Verified by: RTW"
				continue
			}
			if n == 4 && w == "bill" && i+2 < len(d.toks) && d.toks[i+1].kind == tkWord && d.word(i+1) == "to" && d.isPunct(i+2, ':') {
				d.keep(i, i+2) // a claim's billing label: "Bill to: Mutual of Omaha"
				i++
				continue
			}
			if n == 11 {
				if w == "fitzpatrick" && d.skinTypeAfter(i) {
					d.keep(i, i+1) // the skin type's scale: "Fitzpatrick II", "Fitzpatrick type IV"
					continue
				}
			} else if !d.glued(i) {
				if (n == 3 || n == 4) && !t.has(fAllCaps) && d.allergenComponent(i) {
					i = d.keep(i, i+3) - 1 // an allergen's component: "Ara h 2", "Gal d 1", "Bet v 1"
					continue
				}
			} else if d.isPunct(i+1, '/') {
				if t.has(fAllCaps) && n <= 4 && lf&(lexCommon|lexClinical) == 0 && d.staffInitials(i) {
					set(i, mStrong, TypePerson, prioContext) // "Vitals taken by JKW/MA", "TLB/LPN"
					continue
				}
			} else if koreanSyllables[w] && d.isPunct(i+1, '-') {
				if a, b := d.koreanName(i); b > i {
					for k := a; k < b; k++ {
						if d.toks[k].kind == tkWord && d.state[k] == stFree {
							set(k, mStrong, TypePerson, prioContext)
						}
					}
					i = b - 1
					continue
				}
			}
		}
		if lf&(lexSafe|lexCommon|lexClinical) == 0 && !d.lowerDoc && d.wardName(i) {
			set(i, mStrong, TypeLocation, prioContext) // "called to blakemore 6", in any case
			continue
		}
		if !t.has(fCap) && !d.lowerDoc && d.titleBefore(i) && abbrevTitles[d.word(d.prevWord(i))] && !d.is(i, vStopword|vUnit|vVitalLabel) &&
			(lf&(lexCommon|lexClinical) == 0 || d.afterNameVerb(i)) {
			// a name written in lower case after a title: "Dr. nosbusch aware", "dr spring aware"
			set(i, mStrong, TypePerson, prioContext)
			continue
		}
		if !t.has(fCap) && isParticle(w) {
			if j := d.titledParticles(i); j > i {
				for k := i; k < j; k++ {
					if d.toks[k].kind == tkWord {
						set(k, mStrong, TypePerson, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if capd && lf&lexPhrase != 0 {
			if j, region, ok := d.placePhrase(i); ok {
				region = region && !d.stateCodeAt(j)
				for k := i; k < j; k++ {
					if region {
						d.state[k] = stRegion
					} else if d.toks[k].kind == tkWord {
						set(k, mStrong, TypeLocation, prioDict)
					}
				}
				i = j - 1
				continue
			}
		}
		if !capd && lf&lexPhrase != 0 && d.placeCue(i) {
			// a place of two words or more written in lower case after a
			// word that introduces a place: "returned to long beach"
			if j, region, ok := d.placePhraseCase(i, true); ok && j-i >= 2 {
				for k := i; k < j; k++ {
					if region {
						d.state[k] = stRegion
					} else if d.toks[k].kind == tkWord {
						set(k, mStrong, TypeLocation, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if !capd && !t.has(fNoCase) && i >= 1 && lf&lexFirst != 0 && lf&(lexCommon|lexClinical) == 0 {
			if j := d.relationLowerName(i); j > i {
				// a first name in lower case after a relation where case is
				// evidence: "mom keisha reports", "mom (keisha
				// washington-bell)"
				for k := i; k < j; k++ {
					if d.toks[k].kind == tkWord {
						set(k, mStrong, TypePerson, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if !capd && !t.has(fNoCase) && lf&lexFirst != 0 && d.dashSignature(i) {
			set(i, mStrong, TypePerson, prioContext) // "Can u call me?? -jasmine"
			continue
		}
		if !capd && !t.has(fNoCase) && i >= 2 && d.isPunct(i-1, ':') {
			if j := d.lowerFieldName(i); j > i {
				// a name typed in lower case into a form's field where
				// case is evidence: "Patient: mateo ruiz-hernandez, 4 yo"
				for k := i; k < j; k++ {
					if d.toks[k].kind == tkWord {
						set(k, mStrong, TypePerson, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if !capd && lf&(lexSafe|lexCommon|lexClinical|lexFood) == 0 && !t.has(fNoCase) && d.handleAfterApp(i) {
			// a handle after the app that issued it, with no colon:
			// "Venmo maribelqf", "paid via cashapp tkovach"
			set(i, mStrong, TypeID, prioContext)
			continue
		}
		if !capd && !t.has(fNoCase) && lf&(lexCity|lexUSCity) != 0 && lf&(lexCommon|lexClinical|lexRegion) == 0 && len(w) >= 4 && d.homeBefore(i) {
			// a city in lower case where case is evidence, after "lives
			// in", "grew up in", "moved to": "grew up in duluth"
			set(i, mStrong, TypeLocation, prioContext)
			continue
		}
		if len(w) <= 5 && (w == "st" || w == "ste" || w == "saint") && (t.has(fCap) || t.has(fNoCase)) {
			if j := d.saintPlace(i); j > i {
				// "lives in St. Cloud", "moved to Ste. Genevieve"
				for k := i + 1; k < j; k++ {
					if d.toks[k].kind == tkWord {
						set(k, mStrong, TypeLocation, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if !capd {
			// every rule below needs a capital, or text in lower case
			continue
		}
		if t.flags&(fSent|fNoCase) == fSent && d.glued(i) && d.isPunct(i+1, ':') && facilityLabels[w] {
			if j := d.labelledFacility(i); j > i {
				for k := i + 2; k < j; k++ {
					if d.toks[k].kind == tkWord && !facilityJoiners[d.word(k)] {
						set(k, mStrong, TypeLocation, prioContext)
					}
				}
				i = j - 1
				continue
			}
		}
		if d.is(i, vTitle) && t.has(fCap) || (d.is(i, vCredential) && (t.has(fAllCaps) || (t.has(fCap) && len(w) > 3))) {
			continue
		}
		if d.contraction(i) || d.eponym(i) || d.namedFor(i) && !(lf&lexFirst != 0 && i >= 2 && d.isPunct(i-1, ',') && mark[i-2] == mStrong && typ[i-2] == TypePerson && !d.toks[i-1].has(fNL)) {
			// (an eponym that is also a first name is the first name after
			// a surname and a comma: "Name: Okoro, Benedict")
			continue
		}
		safe := lf&lexSafe != 0
		nameDict := lf&(lexFirst|lexLast) != 0
		single := t.end-t.start == 1 || t.has(fNonASCII) && utf8.RuneCountInString(d.text[t.start:t.end]) == 1
		switch {
		case lf&(lexCity|lexUSCity) != 0 && lf&lexRegion == 0 && t.has(fCap) && !(t.has(fAllCaps) && len(w) <= 3) && !(d.clinical && lf&lexClinical != 0 && !d.placeBefore(i)) && !(t.has(fSent) && d.isPunct(i+1, ':')) && (d.locContext(i) || d.aloneOnLine(i, i+1) || d.cityAfterName(i, mark, typ)):
			// (not a state, not "CT" or "OR" in capitals, not a label "Plan:")
			set(i, mStrong, TypeLocation, prioContext)
		case capd && !single && !d.is(i, vStopword|vNameLabel) && !(safe && d.isPunct(i+1, ':') && !nameDict) && (t.has(fCap) || !safe || d.lowerDoc && nameDict) && d.nameContext(i):
			set(i, mStrong, TypePerson, prioContext)
		case capd && nameDict && !single && !d.is(i, vStopword|vNameLabel) && (d.speakerLabel(i) || d.relationOwner(i) || d.agentVerb(i) && !(d.clinical && lf&lexCommon != 0)):
			// (not "Still has a cough" in a clinical note, nor a relation
			// or role that is also a surname: "Husband has dementia")
			set(i, mStrong, TypePerson, prioContext)
		case lf&lexRegion != 0 && (t.has(fCap) || d.lowerDoc) && !(nameDict && d.nameContext(i)):
			if d.stateCodeAt(i + 1) {
				// a city named as a state, with its state after it
				set(i, mStrong, TypeLocation, prioContext)
			} else {
				d.state[i] = stRegion
			}
		case d.lowerDoc && !t.has(fCap) && lf&lexCommon != 0:
			// an ordinary lower-case word in all-lower-case text
			if nameDict && !single {
				set(i, mWeak, TypePerson, prioDict)
			}
		case capd && !safe && !single:
			if t.has(fAllCaps) && len(w) <= 3 && !nameDict {
				continue // an acronym
			}
			if lf&lexClinical != 0 && !nameDict || !nameDict && d.fieldStart(i) || !nameDict && len(w) >= 7 && d.misspelt(w) {
				continue // a clinical term, a capitalised first word, a misspelt word
			}
			// (a word on no list before a state's code and a ZIP code is the
			// city, in capitals too: "Brattleboro VT 05301")
			inPlace := !t.has(fAllCaps) && !nameDict && d.inUnknown(i, w) || !nameDict && lf&(lexCommon|lexClinical) == 0 && d.stateZipAfter(i)
			if d.clinical && (!nameDict || t.has(fAllCaps) && (len(w) <= 5 || lf&(lexCommon|lexClinical) != 0)) && !d.afterNameVerb(i) && !d.firstNameBeside(i) &&
				!(!t.has(fAllCaps) && d.placeBefore(i)) && !inPlace {
				// in a clinical note, a capitalised word on no list is
				// shorthand, a brand or a misspelling ("Conts",
				// "Integrelin"), and a short upper-case word an acronym
				// ("NPO", "RSBI"), unless context makes it a name
				if nameDict {
					set(i, mWeak, TypePerson, prioDict) // "MARTINEZ, ROSA L."
				}
				continue
			}
			if d.clinical && lf&(lexCommon|lexClinical) != 0 && !d.afterNameVerb(i) && !d.firstNameBeside(i) {
				// an English or clinical word that is also a name, alone in
				// a clinical note: "Still has a cough", "Ted stockings on"
				set(i, mWeak, TypePerson, prioDict)
				continue
			}
			tt := TypePerson
			if lf&lexCity != 0 && !nameDict || inPlace {
				tt = TypeLocation
			}
			set(i, mStrong, tt, prioDict)
		case (t.has(fCap) && !(t.has(fSent) && lf&lexCommon != 0) || d.lowerDoc) && safe && nameDict && !t.has(fAllCaps):
			// (a capital that starts a sentence is no evidence: "Later Maria")
			set(i, mWeak, TypePerson, prioDict)
		}
	}
	if d.halted() {
		return
	}
	d.facilities(mark, typ, prio)
	d.careHomes(mark, typ, prio)
	d.facilityPairs(mark, typ, prio)
	d.universities(mark, typ, prio)
	d.employers(mark, typ, prio)
	d.counties(mark, typ, prio)
	d.genericPlaces(mark, typ, prio)
	d.ageSubjects(mark, typ, prio)
	d.facilityLists(mark, typ, prio)
	d.typistInitials(mark, typ, prio)
	d.titledSurnames(mark, typ, prio)
	d.vietnameseNames(mark, typ, prio)
	d.goesBy(mark, typ, prio)
	if d.halted() {
		return
	}
	// Promote weak marks, initials and particles next to strong marks.
	for pass := 0; pass < 3; pass++ {
		changed := false
		for i := 0; i < n && !d.stopped(); i++ {
			if mark[i] == mNone {
				// every rule below needs a weak mark on the word itself or a
				// strong one on a word adjacentWord can return (at most two
				// tokens away): most words of a note have neither, so skip
				// to two tokens before the next marked one (marks change
				// only at i and after it, so none appears behind i)
				k := nextMark(mark, max(0, i-2))
				if k < 0 {
					break
				}
				if k > i+2 {
					i = k - 3 // the loop's i++ makes it k-2
					continue
				}
				if !strongNear(mark, i) {
					continue
				}
			}
			if d.state[i] == stRegion && mark[i] == mNone && d.regionInName(i, mark, typ) {
				// a state or country that is also a name, beside a name:
				// "Aaliyah Washington", "Georgia Banks", "Jordan Kim"
				d.state[i] = stFree
				set(i, mStrong, TypePerson, prioContext)
				changed = true
				continue
			}
			if mark[i] == mStrong || d.toks[i].kind != tkWord || d.state[i] != stFree {
				continue
			}
			t := d.toks[i]
			w := d.word(i)
			if i >= 2 && t.flags&(fCap|fNoCase) == 0 && d.hyphenHalf(i, mark, typ) {
				// the lower-case second half of a hyphenated given name
				// after its capitalised first: "Jun-seo", "Hye-jin",
				// "Ji-hoon" (romanised Korean and Chinese names)
				set(i, mStrong, TypePerson, prioDict)
				changed = true
				continue
			}
			if k := i - 2; k >= 0 && t.has(fCap) && !t.has(fAllCaps) && !t.has(fNoCase) && d.isPunct(i-1, '-') && d.glued(k) && d.glued(i-1) &&
				mark[k] == mStrong && typ[k] == TypePerson && d.toks[k].has(fCap) && !d.is(i, vTitle|vCredential|vNameLabel|vStopword) {
				// the second half of a hyphenated surname, glued to its
				// first, where the second is short or a word: "Mrs.
				// Fitzwilliam-Ng", "Dr. Abbott-Wu" ("Ng" is nanograms)
				set(i, mStrong, TypePerson, prioDict)
				changed = true
				continue
			}
			if k := i - 1; k >= 0 && t.end-t.start == 2 && t.has(fCap) && !t.has(fAllCaps) && !t.has(fNoCase) && !t.has(fNL) && mark[k] == mStrong && typ[k] == TypePerson &&
				d.toks[k].kind == tkWord && t.start == d.toks[k].end+1 && t.lex&lexCommon == 0 && !d.is(i, vStopword|vTitle|vCredential|vNameLabel|vVitalLabel) && d.shortSurnameEnds(i) {
				// a surname of two letters after a name, where a unit or
				// shorthand of its spelling has no number before it:
				// "member Percival Ng, DOB", "Dr. Mei Wu."
				set(i, mStrong, TypePerson, prioContext)
				changed = true
				continue
			}
			if t.has(fCap) && !t.has(fAllCaps) && !t.has(fNoCase) && d.surnameFirst(i, mark, typ) {
				// a surname on no list before a comma and a first name:
				// "member Oduya, Folasade (DOB ...)", as forms and claims
				// write a name
				set(i, mStrong, TypePerson, prioDict)
				changed = true
				continue
			}
			cand := mark[i] == mWeak ||
				(t.has(fCap) && t.end-t.start == 1) || // an initial
				(t.has(fNoCase) && t.end-t.start == 1 && d.glued(i) && d.isPunct(i+1, '.')) || // "s. cornelio rrt"
				(t.has(fCap) && t.lex&(lexFirst|lexLast) != 0 && !t.has(fAllCaps)) ||
				(t.has(fNoCase) && t.lex&lexFirst != 0 && t.lex&lexClinical == 0 && !d.is(i, vStopword|vTitle|vCredential|vNameLabel)) ||
				isParticle(w)
			// a capitalised ordinary word that ends a name a label or a
			// title introduced: "Attending: Mark Day", "Client: Sandra Lee"
			// (any word in a field or a signature: "Attending: Mark Day",
			// "Sincerely,\nFrank Long"; elsewhere only a name on the lists,
			// not "Dr. Ames Cardiology")
			if t.has(fCap) && !t.has(fNoCase) && t.end-t.start > 1 && t.has(fAllCaps) == d.allCapsBefore(i) &&
				!d.is(i, vStopword|vTitle|vCredential|vNameLabel|vVitalLabel|vMonth) && d.nameEnds(i) {
				if l := d.adjacentWord(i, -1); l >= 0 && l == i-1 && mark[l] == mStrong && typ[l] == TypePerson && d.nameContext(l) &&
					(d.fieldOrSignature(l) || t.lex&(lexFirst|lexLast) != 0 && t.lex&lexClinical == 0) {
					set(i, mStrong, TypePerson, prioContext)
					changed = true
					continue
				}
			}
			// an unknown word or a surname right after a name on a line
			// without case: "zena vantrosk", "clement whaley"
			tail := !cand && t.has(fNoCase) && t.end-t.start > 1 && !t.has(fNonASCII) && (t.lex&(lexSafe|lexCommon|lexClinical) == 0 || t.lex&lexLast != 0 && t.lex&lexClinical == 0) &&
				!d.is(i, vStopword|vTitle|vCredential|vNameLabel|vUnit|vVitalLabel|vMonth)
			if tail {
				if l := d.adjacentWord(i, -1); l >= 0 && mark[l] == mStrong && typ[l] == TypePerson {
					set(i, mStrong, TypePerson, prioDict)
					changed = true
				} else if r := d.adjacentWord(i, 1); r >= 0 && mark[r] == mStrong && typ[r] == TypePerson && d.toks[r].has(fNoCase) && t.lex&(lexSafe|lexCommon|lexClinical) == 0 {
					// and a word on no list, or only on a name list, right
					// before a name: "KWIATOSZ C. VELMARDE, RRT"
					set(i, mStrong, TypePerson, prioDict)
					changed = true
				}
				continue
			}
			// a capitalised word on no list beside a name ("Ardwin
			// O'Burney"), or one that is on the allow-list but no English
			// or clinical word right after a first name ("Mirra Bargeman")
			if !cand && t.has(fCap) && !t.has(fAllCaps) && !t.has(fNoCase) && t.end-t.start > 2 && t.lex&(lexCommon|lexClinical|lexFirst|lexLast) == 0 && !d.is(i, vStopword|vTitle|vCredential|vNameLabel) {
				for _, dir := range [2]int{-1, 1} {
					k := d.adjacentWord(i, dir)
					if k < 0 || mark[k] != mStrong || typ[k] != TypePerson || t.lex&lexSafe != 0 && (dir > 0 || d.toks[k].lex&lexFirst == 0) {
						continue
					}
					set(i, mStrong, TypePerson, prioDict)
					changed = true
					break
				}
				// and after a name and "&", as firms of partners are named:
				// "Meredith Szabo of Szabo & Lindqvist"
				if k := i - 2; mark[i] != mStrong && k >= 0 && d.isPunct(i-1, '&') && !d.toks[i-1].has(fNL) && !t.has(fNL) && d.toks[k].kind == tkWord && mark[k] == mStrong && typ[k] == TypePerson {
					set(i, mStrong, TypePerson, prioDict)
					changed = true
				}
				continue
			}
			if !cand || d.is(i, vNameLabel|vTitle) || t.has(fSent) && t.end-t.start > 1 && d.is(i, vStopword) {
				continue // a relation or role is signal: "Husband Carlos"; "Then Maria"
			}
			l, r := d.adjacentWord(i, -1), d.adjacentWord(i, 1)
			ls := l >= 0 && mark[l] == mStrong
			rs := r >= 0 && mark[r] == mStrong
			if isParticle(w) && !(ls && rs) && !(rs && t.has(fCap)) {
				// (a capitalised particle before a name, or one between
				// names, is promoted below as before: "E. CARAWAY AWARE")
				ok, k := d.particleJoins(i, mark, typ)
				if !ok {
					continue
				}
				set(i, mStrong, TypePerson, prioDict)
				if k >= 0 {
					set(k, mStrong, TypePerson, prioDict)
				}
				changed = true
				continue
			}
			if ls || rs {
				nt := typ[r*btoi(rs)+l*btoi(!rs)]
				if nt != TypePerson && nt != TypeLocation {
					continue
				}
				if !rs && t.lex&lexCommon != 0 && (afterNameVerbs[w] || afterNameVerbsWeak[w]) {
					continue // a verb after a name: "my mom dorothea said to", "at st vincent said"
				}
				set(i, mStrong, nt, prioDict)
				changed = true
				continue
			}
			// a first name and a surname, both no ordinary word, on a line
			// without case: "TEODORO WHALEY"
			if mark[i] == mWeak && !d.lowerDoc && t.has(fNoCase) && t.lex&lexFirst != 0 && r >= 0 && mark[r] == mWeak && d.toks[r].has(fNoCase) &&
				(t.lex|d.toks[r].lex)&(lexSafe|lexCommon|lexClinical) == 0 {
				set(i, mStrong, TypePerson, prioDict)
				set(r, mStrong, TypePerson, prioDict)
				changed = true
				continue
			}
			// a name in a list of names: "Corlis, Mark, Vieva and Chasey";
			// a first name after "LAST," in capitals: "MARTINEZ, ROSA L."
			if mark[i] == mWeak && (d.listNeighbour(i, -1, mark, typ) || d.listNeighbour(i, 1, mark, typ)) ||
				mark[i] == mWeak && t.has(fAllCaps) && t.lex&lexFirst != 0 && i >= 2 && d.isPunct(i-1, ',') && mark[i-2] == mStrong && typ[i-2] == TypePerson && d.toks[i-2].has(fAllCaps) {
				set(i, mStrong, TypePerson, prioDict)
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	if d.halted() {
		return
	}
	d.nameEchoes(mark, typ, prio)
	d.stateCodesAfterPlaces(mark, typ)
	// Emit runs of adjacent strong marks of one type.
	for i := 0; i < n && !d.stopped(); i++ {
		if mark[i] != mStrong {
			if mark[i] == mNone {
				k := nextMark(mark, i)
				if k < 0 {
					break
				}
				i = k - 1
			}
			continue
		}
		j := i
		for {
			k := d.adjacentWord(j, 1)
			if k < 0 || mark[k] != mStrong || typ[k] != typ[i] {
				break
			}
			j = k
		}
		p := prio[i]
		for k := i; k <= j; k++ {
			p = max(p, prio[k])
			d.state[k] = stPHI
		}
		d.add(int(d.toks[i].start), int(d.toks[j].end), typ[i], p)
		i = j
	}
	d.houseNumbers()
}

// pluralFood reports whether w is the plural of a food or a food brand
// on the lists: "oreos", "cheezits".
func (d *detector) pluralFood(w string) bool {
	if len(w) < 5 || w[len(w)-1] != 's' {
		return false
	}
	return d.e.lex.get(w[:len(w)-1])&(lexFood|lexFoodHead) != 0
}

// particleJoins reports whether the particle at word i belongs to a name:
// its run of particles ("de la", "van der") has a name on one side and,
// on the other, a name, a title, a capital that starts the run ("Van
// Houten", "Ó Briain") or a capitalised word that may be a name ("Ana de
// la Cruz", "Dr. van Houten"). It also returns that word (or -1), which
// is then part of the name.
func (d *detector) particleJoins(i int, mark []uint8, typ []Type) (bool, int) {
	person := func(k int) bool { return k >= 0 && mark[k] == mStrong && typ[k] == TypePerson }
	nameish := d.particleNameWord
	first, r := i, d.adjacentWord(i, 1)
	for n := 0; r >= 0 && n < 3 && isParticle(d.word(r)); n++ {
		r = d.adjacentWord(r, 1)
	}
	l := d.adjacentWord(i, -1)
	for n := 0; l >= 0 && n < 3 && isParticle(d.word(l)); n++ {
		first = l
		l = d.adjacentWord(l, -1)
	}
	title := l < 0 && d.titleBefore(first)
	switch {
	case person(r) && (person(l) || title || d.toks[first].has(fCap) && !d.toks[first].has(fNoCase)):
		return true, -1
	case person(r) && nameish(l):
		return true, l
	case (person(l) || title) && nameish(r):
		return true, r
	}
	return false, -1
}

// particleNameWord reports whether free word k may be a name beside a
// particle: capitalised on a line with case, and no English or clinical
// word unless a first name of the lists.
func (d *detector) particleNameWord(k int) bool {
	if k < 0 || d.state[k] != stFree {
		return false
	}
	t := d.toks[k]
	return t.kind == tkWord && t.has(fCap) && !t.has(fNoCase) && !t.has(fAllCaps) && t.end-t.start > 1 &&
		(t.lex&(lexCommon|lexClinical) == 0 || t.lex&lexFirst != 0 && t.lex&lexClinical == 0) &&
		!d.is(k, vStopword|vTitle|vNameLabel|vCredential|vMonth|vWeekday|vUnit)
}

// titledParticles returns the end of a name that a title introduces with
// particles, "Dr. van Houten", "Mr. de la Vega", or i.
func (d *detector) titledParticles(i int) int {
	if !d.titleBefore(i) || !d.toks[d.prevWord(i)].has(fCap) {
		return i
	}
	r := d.adjacentWord(i, 1)
	for n := 0; r >= 0 && n < 3 && isParticle(d.word(r)); n++ {
		r = d.adjacentWord(r, 1)
	}
	if !d.particleNameWord(r) {
		return i
	}
	return r + 1
}

// nextMark returns the index of the first marked token at or after from,
// or -1: eight marks at a time, since most of a note carries none.
func nextMark(mark []uint8, from int) int {
	i := from
	for ; i+8 <= len(mark); i += 8 {
		if binary.LittleEndian.Uint64(mark[i:]) != 0 {
			break
		}
	}
	for ; i < len(mark); i++ {
		if mark[i] != mNone {
			return i
		}
	}
	return -1
}

// strongNear reports whether a token within two of token i (i itself
// excluded) carries a strong mark: every word adjacentWord(i, ±1) can
// return is one of them.
func strongNear(mark []uint8, i int) bool {
	for k := max(0, i-2); k <= i+2 && k < len(mark); k++ {
		if k != i && mark[k] == mStrong {
			return true
		}
	}
	return false
}

// adjacentWord returns the word token next to i in direction dir (±1) on
// the same line, across blanks, one hyphen, an apostrophe ("O'Brien") or an
// initial's dot, or -1.
func (d *detector) adjacentWord(i, dir int) int {
	k := i + dir
	if k < 0 || k >= len(d.toks) {
		return -1
	}
	// the boundary between the two tokens, in text order
	lo, hi := i, k
	if dir < 0 {
		lo, hi = k, i
	}
	t := d.toks[k]
	if t.kind == tkWord {
		if d.toks[hi].has(fNL) || d.toks[hi].start-d.toks[lo].end > 2 || d.toks[hi].start == d.toks[lo].end {
			return -1
		}
		return k
	}
	if t.kind != tkPunct {
		return -1
	}
	c := d.text[t.start]
	m := k + dir
	if m < 0 || m >= len(d.toks) || d.toks[m].kind != tkWord {
		return -1
	}
	switch c {
	case '-', '\'':
		// glued on both sides
		if d.toks[k].start == d.toks[k-1].end && d.toks[k+1].start == d.toks[k].end {
			return m
		}
	case '.':
		// "J. Smith": the dot is glued to a one-letter word before it
		prev := k - 1
		if d.toks[k].start == d.toks[prev].end && d.toks[prev].end-d.toks[prev].start == 1 && !d.toks[k+1].has(fNL) && d.toks[k+1].start-d.toks[k].end <= 1 {
			return m
		}
	}
	return -1
}

// speakerLabel reports whether word i labels a line of dialogue:
// `Mary: "I'm fine"`.
func (d *detector) speakerLabel(i int) bool {
	if !d.toks[i].has(fSent) || !d.isPunct(i+1, ':') || i+2 >= len(d.toks) || d.toks[i+2].has(fNL) {
		return false
	}
	switch d.text[d.toks[i+2].start] {
	case '"', '\\', '\'':
		return true
	}
	return d.raw(i+2) == "“"
}

// relationOwner reports whether word i owns a relative: "Mary's daughter".
func (d *detector) relationOwner(i int) bool {
	j := i + 1
	if j+2 < len(d.toks) && (d.isPunct(j, '\\') && d.glued(j)) {
		j++ // an escaped quote in JSON-ish text
	}
	if j+2 >= len(d.toks) || !(d.isPunct(j, '\'') || d.raw(j) == "’") || !d.glued(j-1) || d.word(j+1) != "s" {
		return false
	}
	return d.is(j+2, vNameLabel) && !d.is(j+2, vStopword)
}

// agentVerbs follow a person at the start of a sentence: "Joe had given".
var agentVerbs = set(`had has said says told asked shouted yelled called went came lives lived works worked wants
wanted thinks thought knows knew saw met gave given reports reported states stated denies denied
complains complained presents presented returned arrived feels felt wrote writes replied answered`)

// agentVerb reports whether sentence-initial word i is followed by a verb
// that takes a person: "Joe had given Corlis the keys".
func (d *detector) agentVerb(i int) bool {
	t := d.toks[i]
	if !t.has(fSent) || !t.has(fCap) || i+1 >= len(d.toks) || d.toks[i+1].kind != tkWord || d.toks[i+1].has(fNL) {
		return false
	}
	return agentVerbs[d.word(i+1)]
}

// listNeighbour reports whether the word before (dir -1) or after (dir 1)
// word i, across ", ", " and ", " or " or " & ", is a strong person mark.
func (d *detector) listNeighbour(i, dir int, mark []uint8, typ []Type) bool {
	k := i + dir
	if k < 0 || k >= len(d.toks) {
		return false
	}
	switch {
	case d.isPunct(k, ','), d.isPunct(k, '&'):
	case d.toks[k].kind == tkWord && (d.word(k) == "and" || d.word(k) == "or"):
	default:
		return false
	}
	m := k + dir
	if m < 0 || m >= len(d.toks) || d.toks[max(m, i)].has(fNL) || d.toks[max(k, i)].has(fNL) {
		return false
	}
	return d.toks[m].kind == tkWord && mark[m] == mStrong && typ[m] == TypePerson
}

// eponymHeads follow an eponym: "Parkinson's disease", "Bell palsy", and
// the operating room's instruments and operations: "Hasson trocar",
// "Lichtenstein repair", "Pfannenstiel incision", "Kelly clamp"; the
// findings, tubes, lines, appliances, stains and grades named for people
// ("Austin Flint murmur", "Sengstaken-Blakemore tube", "Hoyer lift",
// "Ziehl-Neelsen stain", "Killip class", "Cobb angle"), and a pump named
// by its maker ("Alaris pump").
func eponymHeads() map[string]bool {
	return set(`disease diseases syndrome sign signs palsy phenomenon test maneuver manoeuvre reflex
thyroiditis disorder lymphoma sarcoma tumor tumour ulcer fracture procedure operation classification
criteria score scale equation formula law cell cells body bodies node nodes esophagus encephalopathy
anomaly contracture cyst node neuroma disease's type pouch repair incision trocar retractor clamp forceps scissors
drain needle technique fundoplication anastomosis stitch
tests maneuvers manoeuvres murmur pupil pupils protein papules nodules lesion lesions spots rings plates triad
diverticulum tear chromosome stain pattern curve angle depth class grade stage index screen inventory
tube tubes catheter drains filter sump shunt valve mask lift splint collar position pump`)
}

// eponymModHeads follow an eponym with one ordinary word between: "Apley
// scratch test", "Hamilton anxiety scale", "Beck Depression Inventory",
// "Bristol stool type", "Neer impingement signs".
var eponymModHeads = set(`test tests sign signs scale score screen inventory type`)

// eponymPairHeads follow an eponym of two words, a given name and a
// surname ("Austin Flint murmur", "Marcus Gunn pupil", "Bence Jones
// protein", "Argyll Robertson pupils"): heads that no verb or everyday
// noun shares ("Have Rosa Lopez sign here" is a name).
var eponymPairHeads = set(`disease syndrome palsy phenomenon reflex murmur pupil pupils protein papules nodules
lesion lesions spots rings triad lymphoma sarcoma tumor tumour ulcer fracture anomaly cyst`)

// eponym reports whether word i, capitalised or on a line without case,
// names a disease, sign, test, tool or grade: "Parkinson's disease",
// "Crohn disease", "Guillain-Barre syndrome", "stevens-johnson syndrome",
// "Hunt and Hess grade", "Austin Flint murmur". A name's context before it
// makes it the person's ("Dr. Blake drain", "Mother Rosa signs consent").
func (d *detector) eponym(i int) bool {
	if !d.toks[i].has(fCap) && !d.toks[i].has(fNoCase) || d.hints&vEponymHead == 0 { // (no "disease", "syndrome"… in the note)
		return false
	}
	if !(d.is(i+1, vEponymHead) || d.is(i+2, vEponymHead) || d.is(i+3, vEponymHead) || d.is(i+4, vEponymHead) || d.is(i+5, vEponymHead)) ||
		d.eponymHead(i, true) < 0 && !d.eponymPair(i) {
		return false // (no head in reach: most words, one test of a bit each)
	}
	c := i
	if i >= 2 && d.isPunct(i-1, '-') && d.glued(i-2) && d.glued(i-1) && d.toks[i-2].kind == tkWord {
		c = i - 2 // the second half of a pair: the context is the first's ("child-pugh class")
	}
	// "Dr. Blake drain", "Nurse Fowler position change", "Patient Rosa
	// Lopez disease education" are the person's
	// (a title across its dot, "Dr. Blake"; a label or a role only right
	// before: "Patient. Austin Flint murmur" ends a sentence)
	k := d.prevWord(c)
	if k >= 0 && !d.toks[c].has(fNL) && !d.is(k, vStopword) && (d.is(k, vTitle) || k == c-1 && d.is(k, vNameLabel)) {
		return false
	}
	return !d.nameContext(c)
}

// eponymHead returns the index of the head after eponym word i ("disease"
// in "Parkinson's disease", "Guillain-Barre syndrome"), with one ordinary
// word between when mod is set ("Apley scratch test"), or -1. It reads
// at most five tokens.
func (d *detector) eponymHead(i int, mod bool) int {
	j := i + 1
	// skip "-Barre", "'s"
	for steps := 0; j+1 < len(d.toks) && steps < 2; steps++ {
		if (d.isPunct(j, '-') || d.isPunct(j, '\'') || d.raw(j) == "’") && d.glued(j-1) && d.glued(j) && d.toks[j+1].kind == tkWord {
			j += 2
			continue
		}
		break
	}
	if j >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) {
		return -1
	}
	if d.is(j, vEponymHead) {
		return j
	}
	// (the bit of the word after first: most words precede no head)
	m := j + 1
	if m >= len(d.toks) || !d.is(m, vEponymHead) || d.toks[m].kind != tkWord || d.toks[m].has(fNL) {
		return -1
	}
	if n := d.toks[j].end - d.toks[j].start; (n == 2 || n == 3) && d.toks[j].has(fCap) == d.toks[i].has(fCap) && editionNumerals[d.word(j)] {
		return m // a type's numeral between: "Salter-Harris II fracture", "Mobitz II block"
	}
	if mod && d.toks[j].lex&(lexCommon|lexClinical) != 0 && d.toks[j].lex&(lexFirst|lexLast) == 0 && !d.is(j, vStopword|vTitle|vNameLabel) && eponymModHeads[d.word(m)] {
		return m
	}
	return -1
}

// eponymPair reports whether word i starts an eponym of two people joined
// by "and" ("Hunt and Hess grade", "Weber and Rinne tests", "Osler nodes
// and Janeway lesions" reads "Janeway" alone), or of a given name and a
// surname before a head of eponymPairHeads ("Marcus Gunn pupil"). The
// second word is written as word i is (capitalised, or on a line without
// case).
func (d *detector) eponymPair(i int) bool {
	j := i + 1
	if j+1 >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) ||
		!(d.is(i+2, vEponymHead) || d.is(i+3, vEponymHead) || d.is(i+4, vEponymHead) || d.is(i+5, vEponymHead)) {
		return false // (no head in reach: most words)
	}
	sameCase := func(k int) bool {
		return d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && d.toks[k].has(fCap) == d.toks[i].has(fCap) && d.toks[k].has(fNoCase) == d.toks[i].has(fNoCase)
	}
	if d.toks[j].end-d.toks[j].start == 3 && d.word(j) == "and" {
		return sameCase(j+1) && !d.is(j+1, vStopword) && d.eponymHead(j+1, true) >= 0
	}
	if !sameCase(j) || d.toks[j].start-d.toks[i].end != 1 || d.toks[i].lex&lexFirst == 0 && d.toks[i].lex&(lexCommon|lexClinical|lexSafe) != 0 {
		return false
	}
	h := d.eponymHead(j, false)
	return h >= 0 && eponymPairHeads[d.word(h)]
}

// eponyms are the diseases, signs, scores and equations named for people
// that notes write without a head noun ("Parkinson's", "Hashimoto's",
// "Harris-Benedict", "Braden 12"); scoreEponyms are surnames too, and
// name a score only before a number or in a hyphenated pair.
var (
	eponyms = set(`parkinson parkinson's alzheimer alzheimer's hashimoto hashimoto's crohn crohn's cushing cushing's
addison addison's huntington huntington's hodgkin hodgkin's raynaud raynaud's sjogren sjogren's kawasaki tourette
tourette's asperger asperger's babinski mcburney whipple whipple's kussmaul korotkoff trendelenburg valsalva heimlich
karnofsky apgar braden glasgow gleason snellen romberg lachman tinel phalen mifflin ireton benedict cheyne stokes
pugh jeor guillain barre fenton schofield hamwi satter segar neer hallpike hasselbalch cockcroft gault westergren`)
	scoreEponyms = set(`morse clark katz lawton wells ranson bishop tanner harris jones child breslow denver holliday olsen
vanderbilt conners beck wong baker legg calve perthes osgood schlatter bayley`)
	// scoreHeads follow a score named for a person: "Tanner stage 2",
	// "Vanderbilt forms", "Beck inventory", "Denver II", "Morse fall score".
	scoreHeads = set(`stage stages scale scales score scores inventory forms form questionnaire assessment screen screening
rating ratings ii iii iv fall`)
)

// namedFor reports whether word i is an eponym used as the name of a
// disease, sign, score or equation: on the eponyms list and after no
// title or label, or a surname on scoreEponyms before a number or joined
// by a hyphen to another eponym ("Harris-Benedict", "Child-Pugh").
func (d *detector) namedFor(i int) bool {
	if !d.toks[i].has(fCap) {
		return false
	}
	w := d.word(i)
	c := i
	if i >= 2 && d.isPunct(i-1, '-') && d.glued(i-2) && d.glued(i-1) && d.toks[i-2].kind == tkWord {
		c = i - 2 // the second half of a pair takes the first's context: "Dr. Gault-Hallpike", "Mr. Guillain-Barre"
	}
	if eponyms[w] && !d.nameContext(c) {
		return true
	}
	if !scoreEponyms[w] && !eponyms[w] {
		// the other half of a pair with an eponym of the list:
		// "Dix-Hallpike", "Cockcroft-Gault" (not of a score's surname:
		// "Rosa-Harris" is a double surname)
		for _, k := range [2]int{i - 2, i + 2} {
			if k >= 0 && k < len(d.toks) && d.isPunct((i+k)/2, '-') && d.glued(min(i, k)) && d.glued((i+k)/2) && d.toks[k].kind == tkWord && eponyms[d.word(k)] {
				return !d.nameContext(min(i, k))
			}
		}
		return false
	}
	if j := i + 1; j < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind == tkNum {
		return true // "Morse 60", "Braden 12"
	}
	if j := i + 1; j+1 < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind == tkWord && d.is(j, vVitalLabel) && d.toks[j+1].kind == tkNum && !d.toks[j+1].has(fNL) && !d.nameContext(i) {
		return true // a score's label between: "Katz ADL 4/6", "Lawton IADL 5/8"
	}
	if j := i + 1; j < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind == tkWord && !d.glued(i) && d.toks[j].start-d.toks[i].end == 1 &&
		editionNumerals[d.word(j)] && d.toks[j].has(fAllCaps) && !d.titleBefore(i) && !d.credentialBefore(i) && !d.nameBefore(i) {
		// a test's edition, no generation's suffix: "Denver II", "Bayley
		// III" ("Ellis Harris III", "Mr. Tanner II" stay names)
		return true
	}
	if j := i + 1; j < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind == tkWord && !d.glued(i) && scoreHeads[d.word(j)] && !d.nameContext(i) {
		return true // "Tanner stage 2", "Vanderbilt forms"
	}
	for _, k := range [2]int{i - 2, i + 2} {
		if k >= 0 && k < len(d.toks) && d.isPunct((i+k)/2, '-') && d.glued(min(i, k)) && d.glued((i+k)/2) && d.toks[k].kind == tkWord &&
			(eponyms[d.word(k)] || scoreEponyms[d.word(k)]) {
			return !d.nameContext(min(i, k)) // "Harris-Benedict", "Child-Pugh", "Ireton-Jones"; not "Mr. Guillain-Barre"
		}
	}
	return false
}

// paymentApps issue the handles that people pay each other by: "Venmo
// maribelqf".
var paymentApps = set(`venmo cashapp paypal zelle`)

// handleAfterApp reports whether word i, in lower case and on no word list,
// is a handle: one space after a payment app's or a social network's name
// on its line ("Venmo maribelqf", "instagram larkqart"), three letters or
// more, no unit, label, month or weekday. A network's name that is an
// English word ("snap", "threads") introduces none.
func (d *detector) handleAfterApp(i int) bool {
	k := i - 1
	t := d.toks[i]
	if k < 0 || d.toks[k].kind != tkWord || t.has(fNL) || t.start-d.toks[k].end != 1 || t.end-t.start < 3 ||
		d.is(i, vStopword|vUnit|vVitalLabel|vMonth|vWeekday) {
		return false
	}
	w := d.word(k)
	return paymentApps[w] || socialLabels[w] && d.toks[k].lex&lexCommon == 0
}

// editionNumerals are the editions of a developmental test named for a
// person: "Denver II", "Bayley III".
var editionNumerals = set(`ii iii iv`)

// nameBefore reports whether a capitalised word on the name lists, or a
// word already marked a person, stands right before word i on its line:
// "Ellis Harris III".
func (d *detector) nameBefore(i int) bool {
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.toks[i].start-d.toks[k].end != 1 {
		return false
	}
	return d.toks[k].has(fCap) && d.toks[k].lex&(lexFirst|lexLast) != 0 || d.state[k] == stPHI
}

// contraction reports whether word i is the stem of "don't", "can't", "I'm".
func (d *detector) contraction(i int) bool {
	if i+2 >= len(d.toks) || !d.glued(i) || !d.isPunct(i+1, '\'') && !(d.toks[i+1].kind == tkPunct && d.raw(i+1) == "’") || !d.glued(i+1) {
		return false
	}
	switch d.word(i + 2) {
	case "t", "m", "ll", "re", "ve", "d":
		return true
	}
	return false
}

// regionInName reports whether word i, a state or a country, is part of
// the person's name right beside it: on the name lists, capitalised (not
// in capitals: "PT FROM GEORGIA"), no place word before it, and glued by
// a space to a word marked a person (not after a comma: "Boston,
// Washington").
func (d *detector) regionInName(i int, mark []uint8, typ []Type) bool {
	t := d.toks[i]
	if !t.has(fCap) || t.has(fAllCaps) || t.lex&(lexFirst|lexLast) == 0 || d.placeBefore(i) || d.is(i, vStopword) {
		return false
	}
	for _, k := range [2]int{i - 1, i + 1} {
		if k >= 0 && k < len(d.toks) && d.toks[k].kind == tkWord && mark[k] == mStrong && typ[k] == TypePerson &&
			!d.toks[max(i, k)].has(fNL) && d.toks[min(i, k)].end+1 == d.toks[max(i, k)].start {
			return true
		}
	}
	return false
}

// fieldOrSignature reports whether word l starts a form's field value
// ("Attending: Mark") or a signature after a sign-off ("Sincerely,\nFrank").
func (d *detector) fieldOrSignature(l int) bool {
	if l >= 2 && d.isPunct(l-1, ':') && d.toks[l-2].kind == tkWord && d.is(l-2, vNameLabel) {
		return true
	}
	return d.afterSignOff(l)
}

// afterSignOff reports whether word w follows a sign-off and a comma or a
// dash: "Best regards,\nSandra", "thx, sandra", "thanks - Rose".
func (d *detector) afterSignOff(w int) bool {
	if w < 2 || !(d.isPunct(w-1, ',') || d.isPunct(w-1, '-')) {
		return false
	}
	k := w - 2
	// exclamation marks glued to the sign-off: "thanks!! -gwen"
	for n := 0; n < 3 && k > 0 && d.isPunct(k, '!') && d.glued(k-1); n++ {
		k--
	}
	return d.toks[k].kind == tkWord && signOffs[d.word(k)]
}

// dashSignature reports whether word i, a first name of the lists that
// is no word of the safe list (though it may be an English word:
// "jasmine", "amber"), signs a message after a dash glued to it, with a
// blank or a line break before the dash, as the last word of its line:
// "can u call me?? -jasmine" ("-prn", "-ok", "-done" stay).
func (d *detector) dashSignature(i int) bool {
	k := i - 1
	if k < 0 || !d.isPunct(k, '-') || !d.glued(k) || !d.toks[k].has(fSpace|fNL) || d.toks[i].has(fNL) {
		return false
	}
	if !(i+1 == len(d.toks) || d.toks[i+1].has(fNL) || d.toks[i+1].kind == tkPunct && (i+2 == len(d.toks) || d.toks[i+2].has(fNL))) {
		return false
	}
	lf := d.toks[i].lex
	return lf&lexFirst != 0 && lf&lexSafe == 0 && !d.is(i, vStopword|vUnit|vMonth|vWeekday)
}

// relationLowerName returns the end of a name in lower case after a
// relation, word i being a first name of the lists that is no English or
// clinical word, or i: the relation right before it or before a
// parenthesis glued to it ("mom keisha", "wife (odile)"), and up to two
// more words of the name lists, no English or clinical word, joined by a
// space or a hyphen ("mom (keisha washington-bell)").
func (d *detector) relationLowerName(i int) int {
	k := i - 1
	if d.isPunct(k, '(') && d.glued(k) {
		k--
	}
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.toks[k+1].has(fNL) || !(relations[d.word(k)] || d.introAt(k)) || d.toks[i].end-d.toks[i].start < 3 ||
		d.is(i, vStopword|vNameLabel|vTitle|vCredential|vUnit|vMonth|vWeekday) {
		return i
	}
	j := i + 1
	for n := 0; n < 2 && j < len(d.toks); n++ {
		m, hyphen := j, false
		if d.isPunct(m, '-') && d.glued(m-1) && d.glued(m) {
			m, hyphen = m+1, true
		}
		if m >= len(d.toks) {
			break
		}
		t := &d.toks[m]
		// (after a hyphen an English word may be a surname: "okafor-bell")
		if t.kind != tkWord || t.has(fNL) || t.has(fCap) || t.has(fNoCase) || t.end-t.start < 2 || t.lex&(lexFirst|lexLast) == 0 || t.lex&lexClinical != 0 || t.lex&lexCommon != 0 && !hyphen ||
			d.is(m, vStopword|vNameLabel|vTitle|vCredential|vUnit|vMonth|vWeekday) {
			break
		}
		j = m + 1
	}
	return j
}

// koreanName returns the tokens [a, b) of a Korean name whose given name
// is two syllables joined by a hyphen, the second in lower case, as it is
// romanised ("Sung-min Park", "Park Ji-hoon", "Kim Hye-jin"): the given
// name at i, and a capitalised family name of koreanFamilies right before
// or after it. Both halves are syllables of koreanSyllables and differ
// ("Ha-ha" is none); b is i when the shape does not hold. The second half
// alone is a word as often ("min", minutes), which left it visible.
func (d *detector) koreanName(i int) (a, b int) {
	m := i + 2
	if m >= len(d.toks) || !d.glued(i+1) || d.toks[m].kind != tkWord || d.toks[m].has(fCap) || d.toks[m].has(fNoCase) && !d.lowerDoc {
		return i, i
	}
	v := d.word(m)
	if !koreanSyllables[v] || v == d.word(i) || d.glued(m) && d.toks[m+1].kind != tkPunct {
		return i, i
	}
	a, b = i, m+1
	if f := i - 1; f >= 0 && d.toks[f].kind == tkWord && d.toks[f].has(fCap) && !d.toks[i].has(fNL) && d.toks[f].end+1 == d.toks[i].start && koreanFamilies[d.word(f)] {
		a = f
	}
	if f := m + 1; f < len(d.toks) && d.toks[f].kind == tkWord && d.toks[f].has(fCap) && !d.toks[f].has(fNL) && d.toks[m].end+1 == d.toks[f].start && koreanFamilies[d.word(f)] {
		b = f + 1
	}
	return a, b
}

// koreanSyllables are the syllables of Korean given names as they are
// romanised.
var koreanSyllables = set(`ah bin bo chan chang chul dae dong eun gi gyu hae hee hoon hwa hwan hye hyo hyuk hyun
ja jae jeong ji jin jong joo ju jun jung kyu kyung mi min myung nam ok rae seo seok seon seong seung sik
sol soo sook su suk sun sung tae won woo woong yeon yeong yong yoon young yu yul yun`)

// koreanFamilies are the commonest Korean family names.
var koreanFamilies = set(`kim lee park choi jung chung kang cho jo yoon yun jang lim han oh seo shin kwon hwang ahn
song yoo hong jeon ko moon yang son bae baek heo nam noh ha kwak sung cha joo woo min ryu na jin ji
chae won chun bang gong hyun`)

// allergenComponent reports whether word i opens an allergen's
// component in its nomenclature: the genus's first letters, the species'
// letter in lower case and a number, each after one blank ("Ara h 2",
// peanut; "Gal d 1", egg; "Bet v 1", birch), as allergy reports list
// them; no title stands before it ("Dr. Ana b 2" is none).
func (d *detector) allergenComponent(i int) bool {
	l, m := i+1, i+2
	if m >= len(d.toks) || d.toks[l].kind != tkWord || d.toks[l].end-d.toks[l].start != 1 || d.toks[l].has(fCap) || d.toks[l].start != d.toks[i].end+1 ||
		d.toks[m].kind != tkNum || d.toks[m].end-d.toks[m].start > 2 || d.toks[m].start != d.toks[l].end+1 {
		return false
	}
	if d.glued(m) && d.toks[m+1].kind != tkPunct {
		return false
	}
	return !d.titleBefore(i)
}

// skinTypeAfter reports whether a skin type's grade or its word follows
// "Fitzpatrick" at i: a Roman numeral up to VI, "type", "skin",
// "phototype" or "scale" ("Fitzpatrick II", "Fitzpatrick skin type IV"),
// with no title before ("Dr. Fitzpatrick" is a name).
func (d *detector) skinTypeAfter(i int) bool {
	j := i + 1
	return j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && skinTypeWords[d.word(j)] && !d.titleBefore(i)
}

var skinTypeWords = set(`i ii iii iv v vi type skin phototype scale`)

// staffInitials reports whether word i, two to four capitals glued to a
// slash and a credential ("JKW/MA", "TLB/LPN"), are a staff member's
// initials, as a rooming or a vitals line signs them: the role is one of
// staffRoles, the letters are no credential, unit, label or clinical term
// themselves ("RN/MA", "PT/OT" stay), and the role ends the pair.
func (d *detector) staffInitials(i int) bool {
	c := i + 2
	if c >= len(d.toks) || d.toks[c].kind != tkWord || !d.glued(i+1) || !staffRoles[d.word(c)] ||
		d.is(i, vCredential|vUnit|vVitalLabel|vTitle|vNameLabel|vStopword|vMonth|vWeekday) || careUnits[d.word(i)] {
		return false
	}
	return !d.glued(c) || d.toks[c+1].kind == tkPunct && !d.isPunct(c+1, '/') && !d.isPunct(c+1, '-')
}

// staffRoles sign a line after a staff member's initials and a slash:
// nurses, assistants and technicians. Credentials that are shorthand too
// are left out ("SB/SR", sinus rhythm; "IAPB/PA", the pulmonary artery).
var staffRoles = set(`ma cma rma ccma lna pct rn lpn lvn cna np rrt crna emt aprn`)

// introAt reports whether word k ends a self-introduction, after which a
// caller or a chat's writer gives a first name in lower case on a line
// with capitals (a voicemail or a chat transcript): "its kevin obrien",
// "it's dana", "im rosa", "this is bernadette calling", "my name is
// tomas".
func (d *detector) introAt(k int) bool {
	w := d.word(k)
	switch {
	case selfIntro[w]:
		return true
	case w == "s" || w == "m":
		return k >= 2 && (d.isPunct(k-1, '\'') || d.raw(k-1) == "’") && d.glued(k-1) && d.toks[k-2].kind == tkWord && (d.word(k-2) == "it" || d.word(k-2) == "i")
	case w == "is":
		return k >= 1 && d.toks[k-1].kind == tkWord && !d.toks[k].has(fNL) && (d.word(k-1) == "this" || d.word(k-1) == "name")
	}
	return false
}

// dottedUserName reports whether the lower-case first name at word i, a
// dot and a surname glued after it are a user name as apps and portals
// issue them ("ruthie.kwan", "marisol.ortega"), which no scanner took: the
// surname is on a name list, neither half is an English or clinical word,
// and nothing but punctuation or a blank follows (an e-mail or a domain
// is the raw scanner's).
func (d *detector) dottedUserName(i int) bool {
	l := i + 2
	if l >= len(d.toks) || !d.glued(i+1) || d.toks[l].kind != tkWord || d.toks[l].flags&(fCap|fNonASCII) != 0 || d.toks[l].end-d.toks[l].start < 2 {
		return false
	}
	if d.toks[i].lex&(lexCommon|lexClinical) != 0 || d.toks[l].lex&(lexCommon|lexClinical) != 0 || d.toks[l].lex&lexLast == 0 {
		return false
	}
	return !d.glued(l) || d.toks[l+1].kind == tkPunct && !d.isPunct(l+1, '.') && !d.isPunct(l+1, '@') && !d.isPunct(l+1, '_') && !d.isPunct(l+1, '-')
}

// doubleInitial reports whether the capital at word i opens a French
// double initial before a surname: two capitals with their dots joined by
// a hyphen, and a capitalised word after one blank ("M.-C. Dufresne",
// "J.-P. Lambert", for Marie-Claire and Jean-Pierre). The surname was
// found with the second initial, and "M.-" stayed.
func (d *detector) doubleInitial(i int) bool {
	h, c, dot, s := i+2, i+3, i+4, i+5
	if s >= len(d.toks) || !d.glued(i+1) || !d.isPunct(h, '-') || !d.glued(h) || d.toks[c].kind != tkWord || d.toks[c].end-d.toks[c].start != 1 ||
		!d.toks[c].has(fCap) || !d.glued(c) || !d.isPunct(dot, '.') {
		return false
	}
	n := &d.toks[s]
	return n.kind == tkWord && n.start == d.toks[dot].end+1 && n.has(fCap) && !n.has(fNL) && n.end-n.start >= 2 && !d.is(s, vStopword|vTitle|vCredential|vMonth|vWeekday)
}

// commaName returns the end of a name written "SURNAME, GIVEN" (perhaps
// with a middle initial) as the whole value of a name field, the surname
// at word i glued to its comma: "Subscriber: DOE, JOHN Q", "Guarantor:
// MILLER, JUNE", "Patient Name: FIELD, HOPE", as eligibility responses,
// claims and registration forms write it. Either half alone is an English
// word or a month as often, which left it visible; together, after the
// label and ending the field (the line's end, two blanks, a semicolon or
// a parenthesis), they are a name. Both are written alike (in capitals,
// or capitalised), one is on a name list, and neither is a label, title,
// credential, unit or clinical word ("Pt: ALERT, ORIENTED" stays). It
// returns i when the shape does not hold.
func (d *detector) commaName(i int) int {
	l := i - 1
	if d.isPunct(l, ':') {
		l--
	}
	if l < 0 || d.toks[l].kind != tkWord || d.toks[i].has(fNL) || d.toks[l+1].has(fNL) {
		return i
	}
	if lw := d.word(l); lw == "name" {
		if p := l - 1; p < 0 || d.toks[p].kind != tkWord || d.toks[l].has(fNL) || !(d.is(p, vNameLabel) || fieldLabels[d.word(p)]) {
			return i
		}
	} else if !d.is(l, vNameLabel) && !fieldLabels[lw] {
		return i
	}
	g := i + 2
	if g >= len(d.toks) || d.toks[g].kind != tkWord || d.toks[g].has(fNL) || d.toks[g].start != d.toks[i+1].end+1 {
		return i
	}
	a, b := &d.toks[i], &d.toks[g]
	if a.has(fAllCaps) != b.has(fAllCaps) || !b.has(fCap) || a.end-a.start < 2 || b.end-b.start < 2 || (a.lex|b.lex)&(lexFirst|lexLast) == 0 {
		return i
	}
	for _, k := range [2]int{i, g} {
		if d.is(k, vNameLabel|vTitle|vCredential|vUnit|vVitalLabel|vWeekday) || d.toks[k].lex&lexClinical != 0 && d.toks[k].lex&(lexFirst|lexLast) == 0 ||
			d.is(k, vStopword) && (k == i || d.toks[k].lex&lexFirst == 0) {
			return i // (a given name may be a stopword: "BAKER, WILL")
		}
	}
	j := g + 1
	if j < len(d.toks) && d.toks[j].kind == tkWord && d.toks[j].end-d.toks[j].start == 1 && d.toks[j].has(fCap) && !d.toks[j].has(fNL) && d.toks[j].start == d.toks[g].end+1 {
		j++ // the middle initial
		if d.isPunct(j, '.') && d.glued(j-1) {
			j++
		}
	}
	if j < len(d.toks) && !d.toks[j].has(fNL) && int(d.toks[j].start)-int(d.toks[j-1].end) < 2 {
		if t := d.toks[j]; t.kind != tkPunct || !(d.text[t.start] == ';' || d.text[t.start] == '(') {
			return i
		}
	}
	return j
}

// fieldLabels are the form fields whose value is a person's name, beside
// the name labels: "Employee: ...", "Claimant: ...".
var fieldLabels = set(`employee claimant insured subscriber member policyholder guarantor responsible dependent dependant beneficiary`)

// lowerFieldName returns the end of a name written in lower case as the
// whole value of a form's field, word i being its first word after the
// colon, or i: the label (a name label or a field of fieldLabels) starts
// its line or follows "patient", "legal" or a possessive ("Patient Name:",
// "Mother's name:"); the value is one to four words and initials (glued
// hyphens and apostrophes inside: "ruiz-hernandez", "o'neil") up to the
// line's end, a comma, a semicolon, a dot, a parenthesis or a number; one word at
// least is on a name list, and none is an English or clinical word that is
// no name, nor a label, a unit or a credential ("Pt: alert, oriented",
// "Contact: son" stay).
func (d *detector) lowerFieldName(i int) int {
	l := i - 2
	if d.toks[l].kind != tkWord || d.toks[i].has(fNL) || d.toks[i-1].has(fNL) || !(d.is(l, vNameLabel) || fieldLabels[d.word(l)]) {
		return i
	}
	if !d.toks[l].has(fNL) && l > 0 {
		p := l - 1
		if d.isPunct(p, '\'') && p > 0 {
			p-- // "Mother's name:"
		}
		if d.toks[p].kind != tkWord {
			return i
		}
		if pw := d.word(p); d.word(l) != "name" || !(pw == "patient" || pw == "legal" || pw == "s" || pw == "full" || pw == "employee" || pw == "member" || d.is(p, vNameLabel)) {
			return i
		}
	}
	named, words := false, 0
	j := i
	for ; j < len(d.toks); j++ {
		t := &d.toks[j]
		if j > i && t.has(fNL) {
			break
		}
		if t.kind == tkNum {
			break
		}
		if t.kind == tkPunct {
			c := d.text[t.start]
			if (c == '-' || c == '\'') && d.glued(j-1) && d.glued(j) && d.toks[j-1].kind == tkWord && d.toks[j+1].kind == tkWord {
				continue
			}
			if c == '.' && d.glued(j-1) && d.toks[j-1].kind == tkWord && d.toks[j-1].end-d.toks[j-1].start == 1 {
				continue // an initial: "jane q. public"
			}
			if strings.IndexByte(",;(.", c) >= 0 {
				break
			}
			return i
		}
		if t.kind != tkWord || t.has(fCap) || t.has(fNoCase) {
			return i
		}
		if words++; words > 4 {
			return i
		}
		lf := t.lex
		if t.end-t.start == 1 {
			continue // an initial
		}
		if d.is(j, vStopword|vNameLabel|vTitle|vCredential|vUnit|vVitalLabel|vMonth|vWeekday) || lf&(lexCommon|lexClinical) != 0 && (lf&(lexFirst|lexLast) == 0 || lf&lexClinical != 0 && lf&lexCommon != 0) {
			return i
		}
		named = named || lf&(lexFirst|lexLast) != 0
	}
	if !named {
		return i
	}
	return j
}

// particleSurname returns the end of a name that an abbreviated title
// introduces with one to three particles from word i on a line without
// case, or i: a particle is no surname, so the word after the particles
// ends the name ("DR. VAN HOUTEN SAW PT", "MR DE LA ROSA"). A stop word, a
// unit, a label, a verb after a name or a clinical word that is no name
// stays ("DR LA AWARE").
func (d *detector) particleSurname(i int) int {
	if !d.titleBefore(i) || !abbrevTitles[d.word(d.prevWord(i))] {
		return i
	}
	r := d.adjacentWord(i, 1)
	for n := 0; r >= 0 && n < 2 && isParticle(d.word(r)); n++ {
		r = d.adjacentWord(r, 1)
	}
	if r < 0 {
		return i
	}
	t := &d.toks[r]
	if t.kind != tkWord || !t.has(fNoCase) || d.state[r] != stFree || t.end-t.start < 2 || isParticle(d.word(r)) || t.lex&lexClinical != 0 && t.lex&(lexFirst|lexLast|lexCity) == 0 ||
		d.is(r, vStopword|vTitle|vCredential|vNameLabel|vUnit|vVitalLabel|vMonth|vWeekday) || afterNameVerbs[d.word(r)] {
		return i
	}
	return r + 1
}

// surnameFirst reports whether word i, capitalised and on no list but the
// surnames, written "Last, First": a comma glued after it, then a first
// name marked as a name on the same line, which ends there (the line, a
// punctuation mark, an initial or a credential after it).
func (d *detector) surnameFirst(i int, mark []uint8, typ []Type) bool {
	t := &d.toks[i]
	f := i + 2
	if f >= len(d.toks) || t.end-t.start < 3 || t.lex&(lexCommon|lexClinical|lexSafe|lexFirst) != 0 || !d.isPunct(i+1, ',') || !d.glued(i) ||
		mark[f] != mStrong || typ[f] != TypePerson || d.toks[f].has(fNL) || d.toks[f].lex&lexFirst == 0 || !d.toks[f].has(fCap) || d.toks[f].has(fAllCaps) {
		return false
	}
	if d.is(i, vStopword|vTitle|vCredential|vNameLabel|vUnit|vVitalLabel|vMonth|vWeekday) {
		return false
	}
	e := f
	if k := d.adjacentWord(f, 1); k > f && mark[k] == mStrong && typ[k] == TypePerson {
		e = k // "Oduya, Folasade Ife"
	}
	if k := e + 1; k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && d.toks[k].end-d.toks[k].start == 1 && d.toks[k].has(fCap) {
		return true // an initial: "Oduya, Folasade T."
	}
	return d.nameEnds(e)
}

// hyphenHalf reports whether word i, in lower case, is glued by a hyphen
// to a name in mixed case before it, and may end a name: two to five
// letters, no unit or stop word, and no English or clinical word unless a
// name list holds it too and it is not both ("Mei-ling": "ling" is a fish
// too; "Smith-like", "Lee-type" stay).
func (d *detector) hyphenHalf(i int, mark []uint8, typ []Type) bool {
	t := &d.toks[i]
	n := t.end - t.start
	if n < 2 || n > 5 || !d.isPunct(i-1, '-') || !d.glued(i-1) || !d.glued(i-2) || mark[i-2] != mStrong || typ[i-2] != TypePerson {
		return false
	}
	if p := &d.toks[i-2]; !p.has(fCap) || p.has(fAllCaps) || p.kind != tkWord {
		return false
	}
	if d.glued(i) && d.toks[i+1].kind != tkPunct {
		return false
	}
	ordinary := t.lex & (lexCommon | lexClinical)
	return (ordinary == 0 || t.lex&(lexFirst|lexLast) != 0 && ordinary != lexCommon|lexClinical) && !d.is(i, vStopword|vUnit|vMonth|vWeekday)
}

// allCapsBefore reports whether the token before i is in capitals.
func (d *detector) allCapsBefore(i int) bool {
	return i > 0 && d.toks[i-1].has(fAllCaps)
}

// nameEnds reports whether a name can end at word i: the text, the line
// or the clause ends after it (a comma, a dot, a parenthesis, a dash or a
// colon), or a credential follows.
func (d *detector) nameEnds(i int) bool {
	j := i + 1
	if j == len(d.toks) || d.toks[j].has(fNL) {
		return true
	}
	if d.toks[j].kind == tkPunct {
		return strings.IndexByte(",.;:()-", d.text[d.toks[j].start]) >= 0
	}
	return d.toks[j].kind == tkWord && d.is(j, vCredential) && d.toks[j].has(fAllCaps)
}

// lineEndsName reports whether word i starts what can be a signature: at
// most three more words (initials, a credential after a comma) before the
// line or the text ends.
func (d *detector) lineEndsName(i int) bool {
	for j, words := i+1, 1; j <= len(d.toks); j++ {
		if j == len(d.toks) || d.toks[j].has(fNL) {
			return true
		}
		switch {
		case d.toks[j].kind == tkWord:
			if words++; words > 4 {
				return false
			}
		case d.toks[j].kind == tkPunct && strings.IndexByte(".,-'", d.text[d.toks[j].start]) >= 0:
		default:
			return false
		}
	}
	return true
}

// nameContext reports whether word i follows a title, a label or a verb
// phrase that introduces a name, or precedes a credential.
func (d *detector) nameContext(i int) bool {
	k := i - 1
	// "O'Brien", "D'Angelo": look before the prefix
	if k >= 1 && (d.isPunct(k, '\'') || d.raw(k) == "’") && d.glued(k) && d.glued(k-1) && d.toks[k-1].kind == tkWord && d.toks[k-1].end-d.toks[k-1].start == 1 {
		k -= 2
	}
	// "w/ Sarah": the shorthand of "with", after a word that takes a
	// person ("appt w/ sarah", "spoke w/ Dr")
	if k >= 2 && d.isPunct(k, '/') && d.glued(k-1) && d.toks[k-1].kind == tkWord && d.word(k-1) == "w" &&
		d.toks[k-2].kind == tkWord && (nameVerbHeads[d.word(k-2)] || meetingWords[d.word(k-2)]) {
		lf := d.toks[i].lex
		return lf&(lexFirst|lexLast) != 0 && !(d.clinical && lf&(lexCommon|lexClinical) != 0 && lf&lexFirst == 0)
	}
	// the writer's name after a sign-off: "Best regards,\nSandra",
	// "thx, sandra", "thanks - Rose" (a name on the list, or a capitalised
	// word on no list, as the text's last line or alone on its line)
	if d.afterSignOff(k+1) && (d.toks[i].has(fNL) || !d.toks[k].has(fNL)) && d.lineEndsName(i) {
		lf := d.toks[i].lex
		return lf&(lexFirst|lexLast) != 0 || lf&(lexCommon|lexClinical) == 0
	}
	if k == i-1 && d.dashSignature(i) {
		return true
	}
	// a self-introduction in a message: "its Jessica", "it's marcus",
	// "I'm Sarah" (a first name on the list, no English word)
	if k >= 0 && d.toks[k].kind == tkWord {
		pw := d.word(k)
		intro := selfIntro[pw] || (pw == "s" || pw == "m") && k >= 2 && (d.isPunct(k-1, '\'') || d.raw(k-1) == "’") &&
			d.toks[k-2].kind == tkWord && (d.word(k-2) == "it" || d.word(k-2) == "i")
		if lf := d.toks[i].lex; intro && lf&lexFirst != 0 && lf&(lexCommon|lexClinical) == 0 {
			return true
		}

	}
	dot, colon := false, false // a dot or a colon between the word before and word i
	for steps := 0; k >= 0 && steps < 2 && d.toks[k].kind == tkPunct; steps++ {
		c := d.text[d.toks[k].start]
		if c != '.' && c != ':' && c != ',' && c != '-' && c != '?' && c != '"' && !(c == '(' && k == i-1 && d.isPunct(i+1, ')')) {
			break // (a name in parentheses: "CONTACT PERSON (KWIATOSZ)")
		}
		dot = dot || c == '.'
		colon = colon || c != '.' && c != '"'
		k--
	}
	if k >= 1 && d.toks[k].kind == tkWord && d.toks[k].end-d.toks[k].start == 1 && d.toks[k].has(fCap) && !colon && !d.toks[i].has(fNL) {
		// an initial between a title and the name: "Dr B Crane", "Dr. J. Smith"
		if t := d.prevWord(k); t >= 0 && d.is(t, vTitle) && abbrevTitles[d.word(t)] && d.toks[t].has(fCap) {
			return true
		}
	}
	if k >= 0 && d.toks[k].kind == tkWord && !(d.toks[k+1].has(fNL) && !d.isPunct(k+1, ':')) {
		pw := d.word(k)
		switch {
		case d.is(k, vTitle) && (d.toks[k].has(fCap) || d.lowerDoc || abbrevTitles[pw] && d.toks[i].has(fCap)) && !colon:
			// "Dr. Hope", "spoke with dr. Kwiatosz" (a title in lower
			// case before a capital), not "ms: toward" (a section label), nor a
			// value or a clinical term after a title that is also
			// shorthand: "SR BP 93/50" (sinus rhythm), "MS INCISION"
			lf := d.toks[i].lex
			if d.is(i, vVitalLabel|vUnit) && !(abbrevTitles[pw] && d.toks[k].has(fCap) && !d.toks[k].has(fAllCaps) && d.toks[i].has(fCap) && !d.toks[i].has(fAllCaps)) ||
				!abbrevTitles[pw] && d.toks[k].has(fAllCaps) && lf&(lexSafe|lexCommon|lexClinical) != 0 && lf&(lexFirst|lexLast) == 0 ||
				d.sizeUnit(k) {
				// (but "Dr. Ng", "Dr. Mg" are names; "#18 FR FOLEY" is a
				// catheter's size)
				return false
			}
			return true
		case d.is(k, vNameLabel) && !dot && (k+1 < i || d.toks[i].has(fCap) || d.toks[i].has(fNoCase)) && !(pw == "attending" && k > 0 && d.toks[k-1].kind == tkWord && attendsBefore[d.word(k-1)]) &&
			!(k+1 == i && !relations[pw] && !d.toks[i].has(fNoCase) && d.toks[i].lex&(lexCommon|lexClinical) != 0 && d.toks[i].lex&lexFirst == 0):
			// (a role before an ordinary or clinical word without a colon
			// heads a title or a phrase: "Dietitian Note", "Dietitian
			// Telehealth Note", "Employer HR contact")
			// "Patient: Hope", not "pt. Suction" (a sentence ends), nor
			// "attending" as a verb ("has been attending AA meetings")
			if k+1 == i && (pw == "pt" || pw == "patient") && (d.toks[i].lex&(lexSafe|lexCommon|lexClinical) != 0 || d.toks[i].has(fAllCaps) && d.toks[i].end-d.toks[i].start <= 5) {
				return false // the patient is the subject of the sentence: "PT STILL", "Pt NPO"
			}
			return true
		case nameVerbs[pw] && k > 0 && d.toks[k-1].kind == tkWord && nameVerbHeads[d.word(k-1)]:
			// in a clinical note "seen by Speech", "discussed with Renal"
			// name a service
			lf := d.toks[i].lex
			if m := i + 1; m < len(d.toks) && d.toks[m].kind == tkWord && !d.toks[m].has(fNL) && (d.toks[m].has(fCap) || d.toks[m].has(fNoCase)) && lf&(lexCommon|lexClinical) != 0 &&
				(serviceWords[d.word(m)] || doctorsPractices[d.word(m)] || d.word(m) == "surgery") {
				// a service named by an ordinary word: "referred to Elder
				// Services"; a specialty: "referred to Pediatric Surgery",
				// "discussed with Internal Medicine"
				return false
			}
			return !(d.clinical && lf&(lexCommon|lexClinical) != 0 && lf&lexFirst == 0)
		case pw == "person" && !dot && k > 0 && d.toks[k-1].kind == tkWord && d.word(k-1) == "contact":
			return true // "contact person Chasey Boynton"
		}
	}
	// a role in parentheses after: "Jorita Quitadamo (daughter)", "Duke Stalford (resident)"
	if j := i + 2; j < len(d.toks) && d.isPunct(i+1, '(') && d.toks[j].kind == tkWord && !d.toks[i+1].has(fNL) &&
		(d.is(j, vNameLabel|vCredential) && !d.is(j, vStopword) || d.word(j) == "significant") {
		lf := d.toks[i].lex
		return lf&(lexFirst|lexLast) != 0 || lf&(lexSafe|lexCommon|lexClinical) == 0
	}
	// a credential after: "Jane Roe, RN", "Taylor Brennagh MD"
	j := i + 1
	if j < len(d.toks) && d.isPunct(j, ',') {
		j++
	}
	if j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && d.is(j, vCredential) && (d.toks[j].has(fAllCaps) || len(d.word(j)) > 3 && d.toks[j].has(fCap) || d.toks[j].has(fNoCase) && d.word(j) != "do") {
		// a credential is weaker evidence than a title: an ordinary word
		// before it is no name ("Elevated PA numbers")
		lf := d.toks[i].lex
		return lf&(lexFirst|lexLast) != 0 || lf&(lexSafe|lexCommon|lexClinical) == 0
	}
	return false
}

// placeSuffixes and placePrefixes are the generic words of places named
// with an ordinary word: "Hemlock Bay", "Cedar Falls", "Port Jarrow".
var (
	placeSuffixes = set(`bay falls harbor harbour springs beach heights hills valley ridge creek village junction grove landing hollow mills crossing`)
	placePrefixes = set(`port fort mount mt lake`)
	placeOfHeads  = set(`port city town village county`)
)

// genericPlace returns the end of a place named by a generic word and a
// name at word i (w in lower case, lf its lexicon flags), or i: after
// "lives in" and its kin, or after "in" or "from" after a relation or a
// verb of motion or travel, a word and a generic word after it ("LIVES IN
// HEMLOCK BAY"), or a generic word before a word that is no English or
// clinical word ("CALLED FROM PORT JARROW"); and, in any context, a city
// that is no English word after "Port of", "City of" ("PORT OF TACOMA").
// Where case is evidence, the words are capitalised.
func (d *detector) genericPlace(i int, w string, lf uint16) int {
	j := i + 1
	if j+1 >= len(d.toks) || d.toks[j].kind != tkWord || d.toks[j].has(fNL) || d.toks[j].start-d.toks[i].end != 1 || len(w) < 3 || i < 2 {
		return i
	}
	// (the cheapest tests first: most words follow no "in", "to", "at" or
	// "from" and precede no "of")
	of := d.toks[j].end-d.toks[j].start == 2 && d.low[d.toks[j].start] == 'o' && d.low[d.toks[j].start+1] == 'f'
	if !of {
		switch d.low[d.toks[i-1].start:d.toks[i-1].end] {
		case "in", "to", "at", "from":
		default:
			return i
		}
	}
	capOK := func(k int) bool { return d.toks[k].has(fCap) || d.toks[k].has(fNoCase) }
	if of {
		if !placeOfHeads[w] || !capOK(i) {
			return i
		}
		k := j + 1
		if u := d.toks[k]; u.kind == tkWord && !u.has(fNL) && capOK(k) && u.lex&(lexCity|lexUSCity) != 0 && u.lex&(lexCommon|lexClinical|lexRegion) == 0 && d.state[k] == stFree {
			return k + 1
		}
		return i
	}
	suffix, prefix := placeSuffixes[d.word(j)], placePrefixes[w]
	if !suffix && !prefix || !capOK(i) || !capOK(j) || d.state[j] != stFree {
		return i
	}
	if !(d.homeBefore(i) || d.relativeFrom(i) || d.travelFrom(i)) {
		return i
	}
	if suffix {
		if lf&lexClinical != 0 && lf&(lexCity|lexUSCity|lexFirst|lexLast) == 0 || careUnits[w] || d.is(i, vStopword|vUnit|vTitle|vNameLabel|vMonth|vWeekday|vFacilityEnder) {
			return i
		}
		return j + 1
	}
	if nl := d.toks[j].lex; nl&(lexCommon|lexClinical) != 0 || d.is(j, vStopword|vUnit) || len(d.word(j)) < 3 {
		return i
	}
	return j + 1
}

// genericPlaces marks the places genericPlace finds ("LIVES IN HEMLOCK
// BAY", "wife called from port jarrow", "PORT OF TACOMA"), in a note that
// holds one of their generic words.
func (d *detector) genericPlaces(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hPlaceGeneric == 0 {
		return
	}
	for i := 2; i+1 < len(d.toks); i++ {
		t := d.toks[i]
		if t.kind != tkWord || d.state[i] != stFree || mark[i] == mStrong && prio[i] > prioDict {
			continue
		}
		j := d.genericPlace(i, d.word(i), t.lex)
		if j == i {
			continue
		}
		k := i
		if d.word(i+1) == "of" {
			k = j - 1 // the city alone: "PORT OF [TACOMA]"
		}
		for ; k < j; k++ {
			mark[k], typ[k], prio[k] = mStrong, TypeLocation, prioContext
		}
		i = j - 1
	}
}

// travelFrom reports whether "from" or "in" follows a verb of motion or
// travel right before word i: "called from", "drove in from", "flew in
// from" (a relative's town).
func (d *detector) travelFrom(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.word(k) != "from" {
		return false
	}
	p := k - 1
	if p > 0 && d.toks[p].kind == tkWord && (d.word(p) == "in" || d.word(p) == "up" || d.word(p) == "down") {
		p--
	}
	if p < 0 || d.toks[p].kind != tkWord {
		return false
	}
	switch d.word(p) {
	case "called", "calling", "calls", "phoned", "drove", "driving", "flew", "flying", "came", "coming", "visiting", "moved", "transferred", "arrived", "traveled", "travelled":
		return true
	}
	return false
}

// attendsBefore make "attending" a verb: "has been attending AA
// meetings", "pt is attending classes".
var attendsBefore = set(`been is was are were be am not still currently regularly started continues pt he she they i we`)

// serviceWords end the name of a service or a programme, whose first word
// is then no person after "referred to", "discussed with": "Elder
// Services", "Hope Program", "Grace Team".
var serviceWords = set(`services service program programs team agency department dept network council coalition
ministries ministry association foundation outreach`)

// sizeUnit reports whether word k, a title that is also shorthand, follows
// a number: "#18 FR", "14 Fr" is French, a catheter's size.
func (d *detector) sizeUnit(k int) bool {
	return k > 0 && shorthandTitles[d.word(k)] && d.toks[k-1].kind == tkNum
}

// aloneOnLine reports whether words [i, j) are the only words on their line
// (list markers such as "> " or "- " aside).
func (d *detector) aloneOnLine(i, j int) bool {
	for k := i - 1; k >= 0; k-- {
		if d.toks[k+1].has(fNL) {
			break
		}
		if d.toks[k].kind != tkPunct {
			return false
		}
	}
	for k := j; k < len(d.toks); k++ {
		if d.toks[k].has(fNL) {
			break
		}
		if d.toks[k].kind == tkWord || d.toks[k].kind == tkNum && !(k == j && d.toks[k].end-d.toks[k].start <= 2) {
			return false
		}
	}
	return true
}

// locContext reports whether word i follows "in", "from", "lives in" or
// precedes ", ST" or a state's code and a ZIP code.
func (d *detector) locContext(i int) bool {
	if k := i - 1; k >= 0 && d.toks[k].kind == tkWord && d.is(k, vLocPrep) {
		return true
	}
	if j := i + 2; j < len(d.toks) && d.isPunct(i+1, ',') && d.toks[j].kind == tkWord && d.toks[j].has(fAllCaps) && stateAbbrevs[d.word(j)] {
		return true
	}
	// "12 Oak Street, Springfield", also dictated: "88 Pelican Way comma
	// Sarasota"
	if k := i - 2; k >= 0 && (d.isPunct(i-1, ',') || d.toks[i-1].kind == tkWord && d.word(i-1) == "comma") && d.state[k] == stPHI {
		return true
	}
	// "visited Hue, Vietnam in June": a country or a state written out
	// after a comma, which ends its clause
	if j := i + 2; j < len(d.toks) && d.isPunct(i+1, ',') && d.toks[j].kind == tkWord && d.toks[j].has(fCap) && !d.toks[j].has(fAllCaps) && !d.toks[j].has(fNL) &&
		d.toks[j].lex&lexRegion != 0 && d.toks[j].lex&lexFirst == 0 && d.toks[i].lex&lexCity != 0 {
		if e := j + 1; e >= len(d.toks) || d.toks[e].has(fNL) || d.toks[e].kind == tkPunct || d.toks[e].kind == tkWord && d.is(e, vStopword) {
			return true
		}
	}
	if d.stateZipAfter(i) {
		return true
	}
	// "Perth WA 6000": an Australian state's code, then a postcode
	if j := i + 1; j+1 < len(d.toks) && d.toks[j+1].kind == tkNum && d.toks[j+1].end-d.toks[j+1].start == 4 && d.toks[j].kind == tkWord &&
		d.toks[j].has(fAllCaps) && !d.toks[j].has(fNL) && auStates[d.word(j)] && d.afterAUState(j+1) {
		return true
	}
	return false
}

// houseWords end the name of a house, as British and Irish addresses
// give one before the street: "Hillcrest Cottage", "Ashby Farm".
var houseWords = set(`cottage cottages house farm farmhouse lodge barn manor villa grange`)

// houseName reports whether capitalised word i, a house word glued to a
// comma, follows a capitalised word on its line and comes before a street
// address claimed from its house number, a number and a word claimed
// after one blank each: "Hillcrest Cottage, 27 Mill Lane".
func (d *detector) houseName(i int) bool {
	k, a := i-1, i+2
	if k < 0 || a+1 >= len(d.toks) || d.toks[k].kind != tkWord || !d.toks[k].has(fCap) || d.toks[i].has(fNL) || d.state[k] != stFree {
		return false
	}
	num, street := d.toks[a], d.toks[a+1]
	return num.kind == tkNum && !num.has(fNL) && d.state[a] == stPHI && num.start == d.toks[a-1].end+1 &&
		street.kind == tkWord && street.has(fCap) && d.state[a+1] == stPHI && street.start == num.end+1 && !d.is(a+1, vMonth)
}

// shortSurnameEnds reports whether the phrase ends after word i: at the
// line's or the text's end, or before a comma, a full stop, a semicolon,
// a parenthesis or a dash (not a label's colon: "Rosa Lopez Hx:").
func (d *detector) shortSurnameEnds(i int) bool {
	j := i + 1
	if j >= len(d.toks) || d.toks[j].has(fNL) {
		return true
	}
	if d.toks[j].kind != tkPunct {
		return false
	}
	switch d.text[d.toks[j].start] {
	case ',', '.', ';', ')', '(', '-':
		return true
	}
	return false
}

// stateZipAfter reports whether a US state's code in capitals and a ZIP
// code follow word i on its line: "Fresno CA 93706", "Brattleboro VT
// 05301, 802-555-0166". The word before them is the city, whatever lists
// hold it. The ZIP code may end its clause with a comma, a semicolon, a
// closing parenthesis or a full stop, or go on with a hyphen (ZIP+4).
func (d *detector) stateZipAfter(i int) bool {
	j := i + 1
	if !(j+1 < len(d.toks) && d.toks[j+1].kind == tkNum && d.toks[j+1].end-d.toks[j+1].start == 5 && d.toks[j].kind == tkWord && d.toks[j].end-d.toks[j].start == 2 &&
		d.toks[j].has(fAllCaps) && !d.toks[j].has(fNL) && !d.toks[j+1].has(fNL) && stateAbbrevs[d.word(j)]) {
		return false
	}
	if z := j + 1; d.glued(z) {
		switch p := d.text[d.toks[z+1].start]; {
		case d.toks[z+1].kind != tkPunct:
			return false
		case p == '.':
			// a full stop, not a decimal point: "VT 05301." but not "05301.5"
			return !d.glued(z+1) || d.toks[z+2].kind != tkNum
		case p != ',' && p != ';' && p != ')' && p != '-':
			return false
		}
	}
	return true
}

// stateCodesAfterPlaces unmarks a state's postal code in capitals that a
// name list holds too ("WI" is a surname) after a place and a comma, before
// a ZIP code, punctuation or the line's end: "Eau Claire, WI 54701",
// "lives in Fresno, WI." The state stays, as Safe Harbor allows.
func (d *detector) stateCodesAfterPlaces(mark []uint8, typ []Type) {
	for i := 2; i < len(d.toks); i++ {
		t := d.toks[i]
		if mark[i] == mNone || t.kind != tkWord || t.end-t.start != 2 || !t.has(fAllCaps) || !d.isPunct(i-1, ',') || !stateAbbrevs[d.word(i)] {
			continue
		}
		k := i - 2
		if d.toks[k].kind != tkWord || !(d.state[k] == stPHI || mark[k] == mStrong && typ[k] == TypeLocation) {
			continue
		}
		j := i + 1
		if j < len(d.toks) && !d.toks[j].has(fNL) && d.toks[j].kind != tkPunct && !(d.toks[j].kind == tkNum && d.toks[j].end-d.toks[j].start == 5) {
			continue
		}
		mark[i] = mNone
	}
}

// placeWhole reports whether words [i, j) are exactly a multi-word place or
// region, which a brand of the same name ("New York") does not make a food:
// the place rules below decide it.
func (d *detector) placeWhole(i, j int) bool {
	e, _, ok := d.placePhrase(i)
	return ok && e == j
}

// stateCodeAt reports whether token j is a comma followed by a US state's
// postal code in capitals: a place named as a state or
// a country before it is a city of that state ("New York, NY 10001",
// "Washington, DC", "Nevada, MO", "Indiana, PA"), which Safe Harbor
// removes. A state is not followed by another state's code.
func (d *detector) stateCodeAt(j int) bool {
	k := j + 1
	if !d.isPunct(j, ',') || k >= len(d.toks) || d.toks[k].kind != tkWord || d.toks[k].end-d.toks[k].start != 2 || d.toks[k].has(fNL) {
		return false
	}
	w := d.raw(k)
	if !(w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z') || !stateAbbrevs[strings.ToLower(w)] {
		return false
	}
	// not a list of states: "Georgia, OR Alabama"
	return k+1 >= len(d.toks) || d.toks[k+1].kind != tkWord || d.toks[k+1].lex&(lexRegion|lexPhrase) == 0
}

// placePhrase matches a multi-word place starting at word i: "Forest Park",
// "Costa Rica". region reports a country or state, which stays.
func (d *detector) placePhrase(i int) (end int, region, ok bool) {
	return d.placePhraseCase(i, d.lowerDoc)
}

// placePhraseCase is placePhrase, with lower-case words allowed when
// lower is set.
func (d *detector) placePhraseCase(i int, lower bool) (end int, region, ok bool) {
	// a quick reject: the next word must be able to continue a place
	if k := i + 1; k >= len(d.toks) || d.toks[k].kind != tkWord || !(d.toks[k].has(fCap) || lower || isParticle(d.word(k))) {
		return 0, false, false
	}
	for l := 5; l >= 2; l-- {
		j := i + l - 1
		if j >= len(d.toks) {
			continue
		}
		good, ascii := true, true
		for k := i; k <= j; k++ {
			t := d.toks[k]
			if t.kind != tkWord || (k > i && (t.start-d.toks[k-1].end != 1 || d.text[t.start-1] != ' ')) {
				good = false
				break
			}
			if !(t.has(fCap) || lower || isParticle(d.word(k))) {
				good = false
				break
			}
			if t.has(fNonASCII) {
				ascii = false
			}
		}
		if !good {
			continue
		}
		key := d.low[d.toks[i].start:d.toks[j].end]
		if !ascii {
			key = strings.ToLower(d.text[d.toks[i].start:d.toks[j].end])
		}
		f := d.e.lex.phrase(key)
		if f&lexRegionMW != 0 {
			return j + 1, true, true
		}
		if f&lexPlace != 0 {
			return j + 1, false, true
		}
	}
	return 0, false, false
}

// facilityEnders end a facility name.
func facilityEnders() map[string]bool {
	return set(`hospital hosp clinic center centre institute university college infirmary hospice pharmacy sanatorium manor
school elementary daycare preschool`)
}

// schoolEnders end a school's name, and schoolKinds say what kind of
// school it is rather than which: "Washburn High School", "Lincoln
// Elementary", "Little Sprouts Daycare"; "High School", "Nursing School",
// "Sunday School" alone name none.
var schoolEnders = set(`school elementary daycare preschool`)

var schoolKinds = set(`high middle junior senior elementary primary secondary grade grammar nursing medical law
graduate grad summer sunday public private charter boarding special alternative vocational technical trade day
night home bible hebrew catholic christian parochial magnet montessori charter pre k kindergarten art music
language driving dance cooking beauty flight business dental pharmacy residential therapeutic`)

// sentenceVerb reports whether word p starts a sentence as a verb rather
// than a name: an English word (no name or city) ending in -s or -ed,
// "Attends Normandale Community College", "Toured Evergreen Terrace".
func (d *detector) sentenceVerb(p int) bool {
	t := d.toks[p]
	if !t.has(fSent) || t.lex&lexCommon == 0 || t.lex&(lexFirst|lexLast|lexCity|lexUSCity) != 0 {
		return false
	}
	w := d.word(p)
	return len(w) > 3 && (strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "ed")) &&
		!genericFacility[w] && !facilityNameWords[w]
}

// genericFacility words name no particular facility on their own; the
// kinds of a hospital's service name its department ("Outpatient
// Pharmacy", "Clinical Pharmacy Consult", "Infusion Center").
var genericFacility = set(`community regional county university medical city state
children children's childrens veterans va christian baptist methodist presbyterian lutheran
adventist catholic jewish women's womens mens men's health behavioral mental rehabilitation
specialty surgical cancer heart eye dental urgent primary family pediatric the of and
national international central north south east west northern southern eastern western new
outpatient inpatient retail clinical ambulatory infusion compounding satellite main discharge employee`)

// facilityNameWords are the ordinary words hospitals are most often named
// with: they are evidence of a facility even where case is none ("MERCY
// GENERAL HOSPITAL", "GOOD SHEPHERD HOSP").
var facilityNameWords = set(`memorial general mercy providence samaritan sacred heart holy cross trinity sinai
deaconess saint st good shepherd hope grace redeemer resurrection incarnate word angels lady union
university`)

// facilities marks "Mercy Hospital", "St. Mary's Medical Center": capitalised
// words before a facility word, when one of them is a name or unknown word.
func (d *detector) facilities(mark []uint8, typ []Type, prio []int8) {
	if d.hints&vFacilityEnder == 0 {
		return // no facility word in the note ("hospital", "clinic"…)
	}
	// a capital, or a line without case evidence
	capOK := func(p int) bool { return d.toks[p].has(fCap) || d.toks[p].has(fNoCase) && !d.lowerDoc }
	for i := range d.toks {
		t := d.toks[i]
		if t.kind != tkWord || !d.is(i, vFacilityEnder) || d.state[i] != stFree || !capOK(i) && !d.namedBefore(i) {
			continue
		}
		k, evidence := i, false
		clinic := d.word(i) == "clinic" || d.word(i) == "clinics"
		school := schoolEnders[d.word(i)]
		for steps := 0; k > 0 && steps < 6; steps++ {
			p := k - 1
			pt := d.toks[p]
			if d.toks[k].has(fNL) {
				break
			}
			if pt.kind == tkPunct && (d.text[pt.start] == '.' || d.text[pt.start] == '\'' || d.text[pt.start] == '-') {
				if d.text[pt.start] == '.' && (p == 0 || d.toks[p-1].kind != tkWord || !d.glued(p-1) || d.toks[p-1].end-d.toks[p-1].start > 3) {
					break // a sentence's end, not an abbreviation's dot ("St. Mary", "Mt. Sinai"): "Dr. Hwang. Hospice eval"
				}
				if d.text[pt.start] == '-' && (p == 0 || !d.glued(p-1) || !d.glued(p)) {
					break // a dash between spaces parts a heading: "Medication Reconciliation - Pharmacy"
				}
				k = p
				continue
			}
			if pt.kind != tkWord || (!capOK(p) && d.word(p) != "s" && !isParticle(d.word(p))) || d.is(p, vStopword) && d.word(p) != "of" || d.sentenceVerb(p) ||
				pt.has(fNoCase) && (attendVerbs[d.word(p)] || relations[d.word(p)]) {
				break // (in capitals: "SISTER ATTENDS ROSEMOUNT DAYCARE")
			}
			// Evidence: a name, or a word that is no generic facility word
			// (where case is no evidence, an English word is none either,
			// unless hospitals are named with it: "PROLONGED HOSPITAL
			// STAY", "UNION MEMORIAL HOSPITAL"); a state or city inside the
			// name; "University of" ("University of Vermont Medical Center").
			// A clinic named by its specialty or what it treats is a
			// department ("Cardiology Clinic", "Renal Clinic", "Heart
			// Failure Clinic"), not a name ("Mayo Clinic").
			if mark[p] == mStrong || (capOK(p) && !genericFacility[d.word(p)] && !isParticle(d.word(p)) && d.word(p) != "s" &&
				!(pt.has(fNoCase) && !d.lowerDoc && pt.lex&(lexSafe|lexCommon|lexClinical) != 0 && !facilityNameWords[d.word(p)]) &&
				!(clinic && d.departmentWord(p)) && !(school && (schoolKinds[d.word(p)] || pt.lex&lexClinical != 0 && pt.lex&(lexFirst|lexLast|lexCity|lexUSCity) == 0))) ||
				pt.lex&lexRegion != 0 && p+1 < i || (d.word(p) == "university" || d.word(p) == "univ" || d.word(p) == "u") && d.word(p+1) == "of" {
				evidence = true
			}
			k = p
		}
		for k < i && (d.toks[k].kind != tkWord || k > 0 && d.toks[k-1].end == d.toks[k].start && d.toks[k-1].kind == tkNum) {
			k++
		}
		if !evidence || k == i {
			continue
		}
		last := i
		if !capOK(i) {
			last = i - 1 // the name only: "Meadow hospital"
		}
		for m := k; m <= last; m++ {
			if d.toks[m].kind == tkWord {
				mark[m], typ[m], prio[m] = mStrong, TypeLocation, prioContext
			}
		}
		// cover the punctuation in between as well
		d.add(int(d.toks[k].start), int(d.toks[last].end), TypeLocation, prioContext)
	}
}

// careHomes marks the name of a residence for the old or the sick before
// the kind of care it gives: "Sunrise Assisted Living", "SUNRISE ASSISTED
// LIVING", "Brookdale Senior Living", "Maple Knoll Memory Care", and in
// lower case after "at", "from", "to", "in" ("previously at sunrise
// assisted living"). The name is one to three words on the line before the
// kind, none a stop word, a kind of residence ("home", "group", "adult")
// or a clinical word; in mixed case they must be capitalised, unless such
// a preposition comes right before them.
func (d *detector) careHomes(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hCareHome == 0 {
		return // no word of a residence's or a school's kind in the note
	}
	for i := 2; i < len(d.toks); i++ {
		n := d.toks[i].end - d.toks[i].start
		if d.toks[i].kind != tkWord || n < 4 || n > 10 || d.toks[i].has(fNL) {
			continue
		}
		kind, school := i-1, false
		switch w := d.word(i); {
		case w == "living" && careKinds[d.word(i-1)] && d.toks[i-1].kind == tkWord:
		case w == "care" && d.word(i-1) == "memory":
		case schoolEnders[w] && d.state[i] == stFree && mark[i] != mStrong:
			// "pine hollow elementary", "HERMANTOWN HIGH SCHOOL"
			kind, school = i, true
			for kind > 0 && d.toks[kind-1].kind == tkWord && !d.toks[kind].has(fNL) && schoolKinds[d.word(kind-1)] {
				kind--
			}
		default:
			continue
		}
		if d.toks[kind].has(fNL) {
			continue
		}
		k, caps, named := kind, true, false
		for p := kind - 1; p >= 0 && kind-p <= 3; p-- {
			t := d.toks[p]
			if t.kind != tkWord || d.toks[p+1].has(fNL) || d.state[p] != stFree && mark[p] != mStrong || d.is(p, vStopword|vTitle|vNameLabel|vFacilityEnder) ||
				careHomeWords[d.word(p)] || genericFacility[d.word(p)] || schoolKinds[d.word(p)] || attendVerbs[d.word(p)] || t.lex&lexClinical != 0 && !facilityNameWords[d.word(p)] || d.sentenceVerb(p) || len(d.word(p)) < 2 {
				break
			}
			if !t.has(fCap) && !t.has(fNoCase) || d.lowerDoc {
				caps = false
			}
			if t.lex&lexCommon == 0 || t.lex&(lexFirst|lexLast|lexCity|lexUSCity) != 0 || mark[p] == mStrong {
				named = true
			}
			k = p
		}
		if k == kind {
			continue
		}
		if !caps || d.toks[k].has(fNoCase) {
			// lower case, or a line in capitals: a preposition or a field's
			// label must introduce the name ("previously at sunrise assisted
			// living", "SCHOOL: PINE HOLLOW ELEMENTARY", "attends blake
			// school"); a school's own word must be a name's there
			q := k - 1
			if q < 0 || d.toks[k].has(fNL) {
				continue
			}
			label := d.isPunct(q, ':') && q > 0 && d.toks[q-1].kind == tkWord && (schoolEnders[d.word(q-1)] || d.word(q-1) == "facility" || d.word(q-1) == "residence")
			if !label && (d.toks[q].kind != tkWord || !careHomePreps[d.word(q)] && !(school && attendVerbs[d.word(q)])) {
				continue
			}
			if school && !label && d.word(i) == "school" && !named {
				continue
			}
		} else if school {
			continue // capitalised in mixed case: facilities judged it
		}
		for m := k; m < kind; m++ {
			mark[m], typ[m], prio[m] = mStrong, TypeLocation, prioContext
		}
		if !school {
			// the kind is no part of the name, though "Senior" is a
			// surname: "Brookdale Senior Living"
			for m := kind; m <= i; m++ {
				mark[m] = mNone
			}
			d.keep(kind, i+1)
		}
	}
}

// attendVerbs introduce a school's name: "attends blake school".
var attendVerbs = set(`attends attend attended attending went goes enrolled`)

// careKinds come before "living" in the name of a residence.
var careKinds = set(`assisted senior independent supportive`)

// careHomeWords say what kind of residence one is, not which.
var careHomeWords = set(`home homes group adult local nearby private residential skilled long term new current previous
her his their an a the my our your facility facilities apartment apartments an independent senior retirement
community county state veterans continuing an into considering consider needs need moved move moving placement
online virtual regular normal usual same different another other old culinary cosmetology beauty`)

// careHomePreps introduce the name of a residence in lower case.
var careHomePreps = set(`at from to in into of`)

// departmentWord reports whether word p names a clinic's specialty or
// what it treats: a clinical word that is no name or city ("Renal",
// "Diabetes", "Transplant"; not "Hope"), a specialty ("Cardiology") or a
// kind of practice ("Pediatric", "Sleep").
func (d *detector) departmentWord(p int) bool {
	w := d.word(p)
	return d.toks[p].lex&lexClinical != 0 && d.toks[p].lex&(lexFirst|lexLast|lexCity|lexUSCity) == 0 || doctorsPractices[w] || practiceKinds[w]
}

// namedBefore reports whether a facility word written in lower case in a
// note with case follows a capitalised word that names it: "followed by
// Meadow hospital", "at Velmarde clinic" (not at a sentence's start, not
// a short acronym or a clinical word: "OSH hospital").
func (d *detector) namedBefore(i int) bool {
	p := i - 1
	if p < 0 || d.lowerDoc || d.toks[i].has(fNoCase) || d.toks[i].has(fNL) || d.toks[p].kind != tkWord {
		return false
	}
	t := d.toks[p]
	return t.has(fCap) && !t.has(fSent) && !t.has(fNoCase) && !(t.has(fAllCaps) && t.end-t.start <= 3) && t.lex&lexClinical == 0 &&
		!genericFacility[d.word(p)] && !d.is(p, vStopword|vTitle|vNameLabel|vFacilityEnder)
}

// houseNumbers joins a bare house number to the street name it precedes
// ("91 Vila Serena") or follows at the end of a line ("Hoge Dijk 212,").
func (d *detector) houseNumbers() {
	// both rules need a word or number taken as PHI beside the number
	if bytes.IndexByte(d.state[:len(d.toks)], stPHI) < 0 {
		return
	}
	for i, t := range d.toks {
		if t.kind != tkNum || d.state[i] != stFree || t.end-t.start > 5 {
			continue
		}
		// before a street name on the same line
		if j := i + 1; j < len(d.toks) && d.state[j] == stPHI && (d.toks[j].kind == tkNum && !(d.glued(j) && d.toks[j+1].kind == tkPunct) || d.toks[j].has(fCap) || d.lowerDoc) && !d.toks[j].has(fNL) && d.toks[j].start-t.end == 1 && (d.lineStartOrComma(i) || i > 0 && d.state[i-1] == stPHI) {
			d.claim(i, i+1, TypeAddress, prioDict)
			continue
		}
		// after a name, before a comma or a line end (not a ward's floor:
		// "TRANSFER TO BLAKEMORE 2")
		if k := i - 1; k >= 0 && d.state[k] == stPHI && d.toks[k].kind == tkWord && !t.has(fNL) && t.start-d.toks[k].end == 1 && !d.wardName(k) && !d.motionWard(k) {
			j := i + 1
			if j >= len(d.toks) || d.toks[j].has(fNL) || d.isPunct(j, ',') || (d.toks[j].kind == tkWord && d.is(j, vUnitWord)) {
				if !d.keptNum(i, i+1) {
					d.claim(i, i+1, TypeAddress, prioDict)
				}
			}
		}
	}
}

// lineStartOrComma reports whether token i starts a line or follows a
// comma, a colon or a word such as "at".
func (d *detector) lineStartOrComma(i int) bool {
	if i == 0 || d.toks[i].has(fNL) {
		return true
	}
	p := d.toks[i-1]
	if p.kind == tkPunct {
		c := d.text[p.start]
		return c == ',' || c == ':' || c == '>' || c == '(' || c == '"'
	}
	if p.kind == tkWord {
		switch d.word(i - 1) {
		case "at", "to", "is", "on", "of", "address", "lives", "live", "in":
			return true
		}
	}
	return false
}

// firstNameBeside reports whether a capitalised first name that is no
// English or clinical word stands right before or after word i, in mixed
// case: "Ned Vantrosk".
func (d *detector) firstNameBeside(i int) bool {
	for _, dir := range [2]int{-1, 1} {
		k := d.adjacentWord(i, dir)
		if k < 0 {
			continue
		}
		t := d.toks[k]
		// (in capitals only beside a word in capitals: "JOHN KOWALCZYK")
		if t.has(fCap) && (!t.has(fAllCaps) || d.toks[i].has(fAllCaps)) && t.lex&lexFirst != 0 && t.lex&(lexCommon|lexClinical) == 0 && !d.is(k, vStopword|vTitle|vNameLabel) {
			return true
		}
	}
	return false
}

// apostropheNameAt is apostropheName with its cheapest test inline.
func (d *detector) apostropheNameAt(i int) int {
	if d.toks[i].end-d.toks[i].start != 1 {
		return i
	}
	return d.apostropheName(i)
}

// apostropheName returns the index after an Irish or Italian surname
// written "O'Brien" or "D'Angelo" starting at word i (one letter, an
// apostrophe, three letters or more; not "o'clock"), or i.
func (d *detector) apostropheName(i int) int {
	t := d.toks[i]
	if t.end-t.start != 1 || i+2 >= len(d.toks) || !d.glued(i) || !d.glued(i+1) || !(d.isPunct(i+1, '\'') || d.raw(i+1) == "’") {
		return i
	}
	c := d.low[t.start]
	if c != 'o' && !(c == 'd' && t.has(fCap)) {
		return i
	}
	n := d.toks[i+2]
	if n.kind != tkWord || n.end-n.start < 3 || d.word(i+2) == "clock" || n.lex&(lexCommon|lexClinical) != 0 && n.lex&lexLast == 0 {
		return i
	}
	return i + 3
}

// facilityPairs are two-word hospital names that need no facility word
// after them: "went to Good Shepherd", "transferred from Mount Sinai".
var facilityPairs = set(`holy+cross sacred+heart good+samaritan good+sam good+shepherd mount+sinai mt+sinai
st+mary st+marys st+joseph st+josephs st+luke st+lukes st+john st+johns st+vincent st+francis`)

// facilityPairWords are the second words of facilityPairs, and the words
// that follow a name in "Liberty Memorial", "Mercy General".
var facilityPairWords = []string{"memorial", "general", "cross", "heart", "samaritan", "sam", "shepherd", "sinai", "mary", "marys", "joseph", "josephs", "luke", "lukes", "john", "johns", "vincent", "francis"}

// facilityPairs marks a hospital named by a common pair ("Good Shepherd") or
// by a word and "Memorial" or "General" ("Liberty Memorial"), after a
// preposition or "@": "at Liberty Memorial", "went to good shepherd".
func (d *detector) facilityPairs(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hFacilityPair == 0 {
		return // no second word of a pair in the note
	}
	for i := 1; i+1 < len(d.toks); i++ {
		t, n := d.toks[i], d.toks[i+1]
		if t.kind != tkWord || n.kind != tkWord || d.state[i] != stFree || d.state[i+1] != stFree || n.has(fNL) || n.start-t.end != 1 {
			continue
		}
		if l := n.end - n.start; l < 3 || l > 9 || strings.IndexByte("mgchsjlvf", d.low[n.start]) < 0 {
			continue
		}
		nw := d.word(i + 1)
		if !slices.Contains(facilityPairWords, nw) {
			continue
		}
		// a preposition or "@" before, across "the"
		k := i - 1
		if d.toks[k].kind == tkWord && d.word(k) == "the" {
			k--
		}
		if k < 0 || d.toks[k+1].has(fNL) || !(d.isPunct(k, '@') || d.toks[k].kind == tkWord && (d.is(k, vLocPrep) || motionVerbs[d.word(k)])) {
			continue
		}
		w := d.word(i)
		pair := facilityPairs[w+"+"+nw]
		if !pair && !((nw == "memorial" || nw == "general") && !d.is(i, vStopword|vUnit|vVitalLabel) && t.lex&lexClinical == 0 && len(w) > 2) {
			continue
		}
		for m := i; m <= i+1; m++ {
			mark[m], typ[m], prio[m] = mStrong, TypeLocation, prioContext
		}
	}
}

// universities marks "University of Vermont" (or "U of VT") after a
// preposition or a motion verb, in any case: a university hospital named by
// its state or city.
func (d *detector) universities(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hUniversity == 0 {
		return
	}
	for i := 1; i+2 < len(d.toks); i++ {
		t := d.toks[i]
		if t.kind != tkWord || d.low[t.start] != 'u' || mark[i] == mStrong && typ[i] != TypeLocation || d.state[i] != stFree {
			continue
		}
		if w := d.word(i); w != "university" && w != "univ" && w != "u" {
			continue
		}
		if d.toks[i+1].kind == tkWord && !d.toks[i+1].has(fNL) && d.toks[i+1].lex&(lexRegion|lexCity|lexUSCity) != 0 && d.toks[i+1].start-t.end == 1 &&
			(t.has(fCap) || t.has(fNoCase)) && d.toks[i+1].lex&(lexCommon|lexClinical) == 0 {
			// "U Vermont ER", "admitted to Univ Vermont": the university's
			// hospital, with its state or city right after and a site of
			// care after it or a motion verb before it
			j := i + 2
			site := j < len(d.toks) && d.toks[j].kind == tkWord && !d.toks[j].has(fNL) && facilityNext[d.word(j)]
			k := i - 1
			if site || d.toks[k].kind == tkWord && motionVerbs[d.word(k)] || k > 0 && d.toks[k].kind == tkWord && d.is(k, vLocPrep) && d.toks[k-1].kind == tkWord && motionVerbs[d.word(k-1)] {
				if d.state[i+1] == stFree || d.state[i+1] == stRegion {
					for m := i; m <= i+1; m++ {
						mark[m], typ[m], prio[m] = mStrong, TypeLocation, prioContext
					}
				}
			}
			continue
		}
		if d.toks[i+1].kind != tkWord || d.word(i+1) != "of" || d.toks[i+2].kind != tkWord || d.toks[i+2].has(fNL) || d.toks[i+1].has(fNL) {
			continue
		}
		k := i - 1
		if d.toks[k].kind == tkWord && d.word(k) == "the" {
			k--
		}
		if k < 0 || d.toks[k].kind != tkWord || !(d.is(k, vLocPrep) || motionVerbs[d.word(k)]) {
			continue
		}
		place := d.toks[i+2].lex
		if place&(lexRegion|lexCity|lexUSCity) == 0 && place&(lexCommon|lexClinical) != 0 {
			continue // "university of the arts" aside, a place follows
		}
		if d.state[i+2] != stFree && d.state[i+2] != stRegion {
			continue
		}
		for m := i; m <= i+2; m++ {
			mark[m], typ[m], prio[m] = mStrong, TypeLocation, prioContext
		}
	}
}

// employerVerbs introduce an employer: "works for Acme Widgets", "employed
// by Vantaro Logistics", "works at Brightline Foods".
var employerVerbs = set(`works worked working employed work`)

// counties marks the name of a county, parish, borough or township, a
// place below a state that Safe Harbor removes, even where it is an
// ordinary word: "transported by Manatee County EMS", "Lake County",
// "PER CLAY COUNTY SHERIFF". The name is one or two words right before
// the capitalised place word on its line (not "the County", "Each
// county").
func (d *detector) counties(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hCounty == 0 {
		return
	}
	for i := 1; i < len(d.toks); i++ {
		t := d.toks[i]
		if t.kind != tkWord || t.has(fNL) || !(t.has(fCap) || t.has(fNoCase) && !d.lowerDoc) {
			continue
		}
		switch d.word(i) {
		case "county", "parish", "borough", "township":
		default:
			continue
		}
		for k, n := i-1, 0; k >= 0 && n < 2; k, n = k-1, n+1 {
			u := d.toks[k]
			if u.kind != tkWord || d.toks[k+1].has(fNL) || d.toks[k+1].start-u.end != 1 || !(u.has(fCap) || u.has(fNoCase) && !d.lowerDoc) ||
				u.end-u.start < 3 || d.state[k] != stFree && d.state[k] != stPHI || d.is(k, vStopword|vTitle|vNameLabel|vCredential|vMonth|vWeekday) || genericFacility[d.word(k)] ||
				u.has(fNoCase) && u.lex&lexClinical != 0 && u.lex&(lexCity|lexUSCity) == 0 {
				break
			}
			if mark[k] != mStrong || prio[k] <= prioDict {
				mark[k], typ[k], prio[k] = mStrong, TypeLocation, prioContext
			}
		}
	}
}

// jobLead are the words after "works" that say what the patient does or
// when, before "at" or "for" and the employer: "works as a cook at",
// "works part time as", "works nights at", "works from home as".
var jobLead = set(`as from part full part-time full-time nights days evenings weekends currently now still also mostly remotely`)

// workplaceNouns end a phrase that names a kind of workplace or a shift,
// and workplaceLeads start one: "works at nursing home", "WORKS AT NIGHT
// SHIFT", "works for local construction company".
var (
	workplaceNouns = set(`home homes shift shifts job jobs store shop shops restaurant restaurants farm farms factory plant mill
office offices bank warehouse company companies firm business site sites school schools college hospital clinic daycare
center centre church department agency facility station depot yard lot garage kitchen cafe diner bar hotel motel mall
market plant nights days weekends time health care services`)
	workplaceLeads = set(`local nearby family part full night day small big large new old same another his her their my our
nursing assisted fast grocery retail construction government federal state city county auto car gas coffee home`)
)

// plainEmployer returns the end of an employer named by ordinary words
// in [s, e) after "works at" and its kin on a line without case, or s:
// two words or more before the phrase ends (the line, a punctuation mark,
// a stop word, "per", or what the patient does there), no word clinical
// only or a label, the first no lead of a kind of workplace and the last
// no kind of workplace ("WORKS AT HARBOR FREIGHT PER SON"; "WORKS AT
// NIGHT SHIFT", "works at nursing home" stay).
func (d *detector) plainEmployer(s, e int) int {
	if !d.toks[s].has(fNoCase) || workplaceLeads[d.word(s)] {
		return s
	}
	m := s
	for ; m < e; m++ {
		if w := d.word(m); w == "per" || jobLead[w] || d.is(m, vNameLabel) && m > s {
			break
		}
		t := &d.toks[m]
		if !t.has(fNoCase) || t.lex&lexClinical != 0 && t.lex&lexCommon == 0 || d.is(m, vUnit|vMonth|vWeekday|vTitle|vCredential|vNameLabel) {
			return s
		}
	}
	if m-s < 2 || workplaceNouns[d.word(m-1)] {
		return s
	}
	if m == e && e < len(d.toks) && !d.toks[e].has(fNL) && d.toks[e].kind != tkPunct && !(d.toks[e].kind == tkWord && d.is(e, vStopword)) {
		return s // the phrase goes on
	}
	return m
}

// employerField marks the employer's whole name after a form's label,
// "Employer:" or "Employer name:" at word i, as workers' compensation and
// intake forms write it: capitalised words, joined by blanks, hyphens,
// "&", "and" or "of", and a company's suffix after a comma ("Employer:
// Tri-County Pallet Co.", "Employer: Bluewater Marine Supply, Inc."). The
// name label took only the first word. A status stays ("Employer: None",
// "Retired", "Self"). Without its colon the label must start its line or
// sentence and the name hold two words at least ("Employer ABC Roofing";
// "Employer Health clinic" stays). It returns the end of the name, or i.
func (d *detector) employerField(i int, mark []uint8, typ []Type, prio []int8) int {
	k := i + 1
	if k < len(d.toks) && d.toks[k].kind == tkWord && d.word(k) == "name" {
		k++
	}
	start := k + 1
	switch {
	case d.isPunct(k, ':') && !d.toks[k].has(fNL):
	case k < len(d.toks) && d.toks[i].has(fSent) && d.toks[i].has(fCap) && !d.toks[k].has(fNL) && d.toks[k].start-d.toks[k-1].end == 1:
		start = k // a form's label without its colon, starting its line or sentence: "Employer ABC Roofing"
	default:
		return i
	}
	if start >= len(d.toks) || d.toks[start].kind != tkWord || d.toks[start].has(fNL) || !d.toks[start].has(fCap) || employerStatus[d.word(start)] {
		return i
	}
	j, last := start, start
	for n := 0; j < len(d.toks) && n < 8; n++ {
		t := d.toks[j]
		if j > start && (t.has(fNL) || t.start-d.toks[j-1].end > 1) {
			break
		}
		if t.kind == tkWord && (t.has(fCap) || j > start && (d.word(j) == "and" || d.word(j) == "of") && j+1 < len(d.toks) && d.toks[j+1].has(fCap)) {
			last = j
			j++
			continue
		}
		if t.kind == tkPunct && (d.text[t.start] == '-' && d.glued(j-1) && d.glued(j) || d.text[t.start] == '&') && j+1 < len(d.toks) && d.toks[j+1].has(fCap) {
			j++
			continue
		}
		if d.isPunct(j, ',') && j+1 < len(d.toks) && d.toks[j+1].kind == tkWord && !d.toks[j+1].has(fNL) && companySuffixes[d.word(j+1)] {
			last = j + 1
			j += 2
			continue
		}
		break
	}
	if last == start && !d.isPunct(k, ':') {
		return i // one word after the label alone may be a department's: "Employer Health clinic"
	}
	for m := start; m <= last; m++ {
		if d.toks[m].kind == tkWord && d.state[m] == stFree {
			mark[m], typ[m], prio[m] = mStrong, TypeOrganization, prioContext
		}
	}
	return last + 1
}

// employerStatus stands after "Employer:" where there is none.
var employerStatus = set(`none retired unemployed self disabled student homemaker unknown na n not`)

// companySuffixes follow a company's name after a comma: "Supply, Inc.".
var companySuffixes = set(`inc llc ltd corp co lp llp plc pllc pc gmbh`)

// orgSuffixes end the name of a company or an organisation.
var orgSuffixes = set(`health healthcare inc corp corporation co company llc ltd group systems services industries
associates partners foods motors logistics bank insurance`)

// employers marks the capitalised words after "works for", "employed by"
// and the like as an organisation (employers matter for workers'
// compensation; not a Safe Harbor category, redacted all the same). Where
// case is no evidence, one of them must be no English or clinical word.
func (d *detector) employers(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hEmployer == 0 {
		return
	}
	for i := 0; i+2 < len(d.toks); i++ {
		if c := d.low[d.toks[i].start]; c != 'w' && c != 'e' || d.toks[i].kind != tkWord {
			continue
		}
		if w := d.word(i); w == "employer" {
			if j := d.employerField(i, mark, typ, prio); j > i {
				i = j - 1
			}
			continue
		} else if !employerVerbs[w] {
			continue
		}
		k := i + 1
		if d.toks[k].kind != tkWord || d.toks[k].has(fNL) {
			continue
		}
		if jobLead[d.word(k)] {
			// what the patient does there, first: "works as a line cook at
			// Copperleaf Coffee", "works part time as a cashier at", "works
			// from home as a claims processor for Allstate"
			for n := 0; n < 7 && k+1 < len(d.toks); n++ {
				k++
				u := d.toks[k]
				if u.has(fNL) || u.kind == tkPunct && d.text[u.start] != '-' || u.kind == tkNum || u.kind == tkWord && u.has(fCap) && !u.has(fNoCase) {
					break
				}
				if w := d.word(k); w == "for" || w == "at" {
					break
				}
			}
		}
		switch d.word(k) {
		case "for", "at", "by":
		default:
			continue
		}
		j := k + 1
		if j < len(d.toks) && d.toks[j].kind == tkWord && d.word(j) == "the" {
			j++
		}
		start, evidence := j, false
		for n := 0; j < len(d.toks) && n < 4; n, j = n+1, j+1 {
			t := d.toks[j]
			if t.kind != tkWord || t.has(fNL) || j > start && t.start-d.toks[j-1].end != 1 || d.is(j, vStopword) || d.state[j] != stFree && d.state[j] != stPHI {
				break
			}
			noCase := t.has(fNoCase) || d.lowerDoc
			if !t.has(fCap) && !noCase {
				break
			}
			if t.lex&(lexSafe|lexCommon|lexClinical) == 0 || t.has(fCap) && !noCase && !d.is(j, vTitle) ||
				j > start && orgSuffixes[d.word(j)] && !genericFacility[d.word(start)] && !workplaceLeads[d.word(start)] && d.word(start) != "home" {
				// (or a name that ends like an organisation's: "summit health";
				// not "local construction company")
				evidence = true
			}
		}
		if !evidence && j-start >= 2 {
			if e := d.plainEmployer(start, j); e > start {
				// two or more ordinary words where case is no evidence, not
				// a kind of workplace: "WORKS AT HARBOR FREIGHT PER SON"
				evidence, j = true, e
			}
		}
		if j == start || !evidence {
			continue
		}
		for m := start; m < j; m++ {
			// the employer context outweighs a dictionary guess ("Vantaro"
			// taken for a surname), not a context or the record
			if mark[m] != mStrong || prio[m] <= prioDict {
				mark[m], typ[m], prio[m] = mStrong, TypeOrganization, prioContext
			}
		}
		i = j - 1
	}
}

// ageSubjects marks the name that opens a history as the subject of its
// age, in any case: "kwiatosz is a 64 yr old female", "Osric Thimble is
// a 64 yo man". The one to three words between the sentence's start and
// "is" may be a title or label and the name; each is no stopword or
// clinical word, and one may be a name (a name-list word, or a word on no
// list that is no misspelling) unless a title or label leads.
func (d *detector) ageSubjects(mark []uint8, typ []Type, prio []int8) {
	// most notes state no age after "is a": find the phrase in the lower-case
	// text first, and only then its tokens
	for p := 0; ; {
		q := strings.Index(d.low[p:], " is a")
		if q < 0 {
			return
		}
		p += q + 1
		i := d.tokAt(p)
		if i < 1 || i+3 >= len(d.toks) || int(d.toks[i].start) != p || d.toks[i].end-d.toks[i].start != 2 || !d.ageAfter(i+1) {
			continue
		}
		first, named := -1, false
		for k, n, last := i-1, 0, i; k >= 0 && n < 3; k, n = k-1, n+1 {
			if d.isPunct(k, '.') && k > 0 && d.glued(k-1) && d.toks[k-1].end-d.toks[k-1].start <= 3 {
				k-- // "Mr.", "B."
			}
			if d.toks[k].kind != tkWord || d.toks[k+1].has(fNL) && k+1 < i {
				break
			}
			if d.is(k, vTitle|vNameLabel) && d.toks[k].has(fSent) {
				// "Mr. Thimble is a", "Patient Kwiatosz is a"
				first, named = last, true
				break
			}
			if d.is(k, vStopword|vTitle|vNameLabel|vCredential|vUnit|vVitalLabel|vMonth|vWeekday) || d.toks[k].lex&lexClinical != 0 || d.state[k] != stFree && d.state[k] != stPHI || personNouns[d.word(k)] {
				break
			}
			named = named || d.toks[k].lex&(lexFirst|lexLast) != 0 || d.nameLike(k)
			if last = k; d.toks[k].has(fSent) {
				first = k
				break
			}
		}
		if first < 0 || first == i || !named {
			continue
		}
		for k := first; k < i; k++ {
			if d.toks[k].kind == tkWord && d.state[k] == stFree && mark[k] != mStrong {
				mark[k], typ[k], prio[k] = mStrong, TypePerson, prioContext
			}
		}
	}
}

// personNouns name a kind of person, not one: "Gentleman is a 70 yo".
var personNouns = set(`man woman gentleman gent lady female male guy boy girl infant baby child toddler teen
teenager adolescent veteran vet individual person`)

// ageAfter reports whether an age starts at token j: "a 70 yr old", "an
// 81 year old", "a 64 yo", "a 58-year-old".
func (d *detector) ageAfter(j int) bool {
	if w := d.word(j); d.toks[j].kind != tkWord || w != "a" && w != "an" {
		return false
	}
	j++
	if j+1 >= len(d.toks) || d.toks[j].kind != tkNum || d.toks[j].end-d.toks[j].start > 3 {
		return false
	}
	j++
	if d.isPunct(j, '-') && j+1 < len(d.toks) {
		j++
	}
	if d.toks[j].kind != tkWord {
		return false
	}
	switch d.word(j) {
	case "year", "years", "yr", "yrs", "y", "yo", "yof", "yom", "yoa":
		return true
	}
	return false
}

// placeCue reports whether a word that introduces a place stands before
// word i ("lives in", "from"), or "to", "from", "in" after a verb of motion
// ("returned to", "went to").
func (d *detector) placeCue(i int) bool {
	if d.placeBefore(i) {
		return true
	}
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.toks[k-1].kind != tkWord || d.toks[i].has(fNL) || d.toks[k].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "to", "in", "from":
		return motionVerbs[d.word(k-1)]
	}
	return false
}

// relativeFrom reports whether a relation and "in" or "from" stand right
// before word i on its line, perhaps with a parenthesis or a quote between
// ("NIECE IN KWIATOSZ", "sister from QH", `niece ("from Velmarde")`):
// what follows is where the relative lives or comes from.
func (d *detector) relativeFrom(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.toks[k].has(fNL) {
		return false
	}
	if p := d.word(k); p != "in" && p != "from" {
		return false
	}
	for k--; k > 0 && (d.isPunct(k, '(') || d.isPunct(k, '"')) && !d.toks[k+1].has(fNL); k-- {
	}
	return d.toks[k].kind == tkWord && !d.toks[k+1].has(fNL) && relations[d.word(k)]
}

// relationSurname reports whether word i, an English word on a name list,
// follows a relation on its line and ends the phrase: punctuation, a
// number (a phone) or the end of the line after it, or a verb that takes a
// person ("SON COOK.", "WIFE HILLS 555-0142", "dtr marsh will call",
// "son cook aware"). A verb, an adjective or a place after the
// relation stays ("SON UPDATED.", "WIFE PRESENT", "DAUGHTER HOME", "SON
// SMOKES.").
func (d *detector) relationSurname(i int) bool {
	k := i - 1
	t := d.toks[i]
	if k < 0 || d.toks[k].kind != tkWord || t.has(fNL) || t.end-t.start < 3 || t.lex&lexClinical != 0 || d.state[i] != stFree || !d.relationEnds(k) {
		return false
	}
	w := d.word(i)
	if strings.HasSuffix(w, "ed") || strings.HasSuffix(w, "ing") || strings.HasSuffix(w, "ly") || afterNameVerbs[w] || afterNameVerbsWeak[w] || relativeStates[w] ||
		d.is(i, vStopword|vUnit|vVitalLabel|vTitle|vCredential|vNameLabel|vMonth|vWeekday|vFacilityEnder) || careUnits[w] {
		return false
	}
	// a word in -s may be a verb in the present ("HUSBAND SMOKES."): a
	// number or a verb must follow it
	verb := w[len(w)-1] == 's' && w[len(w)-2] != 's'
	j := i + 1
	if j >= len(d.toks) || d.toks[j].has(fNL) {
		return !verb
	}
	switch u := d.toks[j]; {
	case u.kind == tkNum:
		return true
	case u.kind == tkPunct:
		c := d.text[u.start]
		return !verb && (c == ',' || c == '.' || c == ';' || c == ')')
	}
	return afterNameVerbs[d.word(j)] || afterNameVerbsWeak[d.word(j)] || personAux[d.word(j)]
}

// relativeStates are words that say where or how a relative is, right
// after the relation: "WIFE PRESENT", "SON HOME", "DAUGHTER HERE".
var relativeStates = set(`present home here there away alone well ill sick upset tearful visiting aware arrived left gone
available unavailable involved supportive concerned pleased happy`)

// personAux are verbs after a person's name: "dtr marsh will call".
var personAux = set(`does did is was will would has had can could`)

// signedPair reports whether word i, which opens a line or a sentence, and
// the word after it sign a note: word i may be a name (on a name list and
// no English or clinical word, or on no list and no misspelling), the next
// is an English word that is no clinical word, and an unambiguous
// credential follows ("Quennby Fields, RN", "velmarde cook rn"). Where the
// line has case, both are capitalised.
func (d *detector) signedPair(i int) bool {
	j := i + 1
	if d.toks[j].kind != tkWord || d.toks[j].has(fNL) || d.toks[j].start-d.toks[i].end != 1 || !d.credentialAfter(j) {
		return false // (the cheapest tests first: most words have no credential two words on)
	}
	u := d.toks[j]
	if u.end-u.start < 3 || u.lex&(lexClinical|lexRegion) != 0 || u.lex&(lexCommon|lexSafe|lexFirst|lexLast) == 0 || d.state[j] != stFree ||
		d.is(j, vStopword|vUnit|vVitalLabel|vTitle|vCredential|vNameLabel|vMonth|vWeekday) {
		return false
	}
	if !(d.toks[i].has(fCap) && u.has(fCap) || d.toks[i].has(fNoCase) && u.has(fNoCase)) {
		return false
	}
	return d.nameLike(i)
}

// careUnits are the units and services of a hospital: where a patient is,
// but no identifier ("in ICU", "to CSRU").
var careUnits = set(`icu ccu micu sicu nicu picu csru tsicu cvicu pacu ct mri ir ep cath lab floor rehab tcu snf ltac ltach
or er ed ew ob icn pcu cvu sdu stepdown ward unit`)

// orientationVerbs precede what a patient knows or believes of where he
// is: "knows he is in KVH".
var orientationVerbs = set(`know knows knew aware thinks thought believes believed states stated says said realizes understands`)

// orientedIn reports whether word i names where the patient knows he is:
// "knows he is in KVH", "I know I'm in BMC".
func (d *detector) orientedIn(i int) bool {
	k := i - 1
	if k < 3 || d.toks[k].kind != tkWord || d.word(k) != "in" || d.toks[i].has(fNL) {
		return false
	}
	k--
	if d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "m", "s":
		// "I'm", "he's"
		if !d.isPunct(k-1, '\'') && d.raw(k-1) != "’" || k < 3 {
			return false
		}
		k -= 2
	case "is", "am", "was", "are":
		k--
	default:
		return false
	}
	if k < 1 || d.toks[k].kind != tkWord {
		return false
	}
	switch d.word(k) {
	case "he", "she", "i", "they", "we", "pt", "patient":
	default:
		return false
	}
	k--
	return d.toks[k].kind == tkWord && orientationVerbs[d.word(k)]
}

// facilityLists marks a word on no list joined by "and" or "or" to a
// facility: "SCREENED BY DEARBORN REHAB AND OSTRANDERVILLE".
func (d *detector) facilityLists(mark []uint8, typ []Type, prio []int8) {
	for i := 2; i < len(d.toks); i++ {
		// the cheapest test first: a location two or three tokens back
		if mark[i-2] != mStrong && (i < 3 || mark[i-3] != mStrong) {
			// skip to two tokens after the next strong mark: marks
			// before i are final, and this loop sets mark[j] only where
			// j-2 or j-3 is strong, so none between can qualify
			k := bytes.IndexByte(mark[i-1:len(d.toks)], mStrong)
			if k < 0 {
				return
			}
			i += k // i-1+k+2, less the loop's increment
			continue
		}
		t := d.toks[i]
		if t.kind != tkWord || mark[i] == mStrong || d.state[i] != stFree || t.end-t.start < 3 || t.has(fNL) || d.toks[i-1].has(fNL) ||
			t.lex&(lexSafe|lexCommon|lexClinical|lexRegion) != 0 || !(t.has(fCap) || t.has(fNoCase)) || d.is(i, vStopword|vUnit|vTitle|vCredential|vNameLabel) {
			continue
		}
		if c := d.word(i - 1); d.toks[i-1].kind != tkWord || c != "and" && c != "or" {
			continue
		}
		p := i - 2
		if p > 0 && d.toks[p].kind == tkWord && facilitySites[d.word(p)] {
			p-- // "DEARBORN REHAB AND …"
		}
		if d.toks[p].kind != tkWord || mark[p] != mStrong || typ[p] != TypeLocation || prio[p] < prioContext || d.toks[p+1].has(fNL) {
			continue
		}
		mark[i], typ[i], prio[i] = mStrong, TypeLocation, prioContext
	}
}

// placeBefore reports whether a word that introduces a place stands right
// before word i: "lives in", "moved to", "from", "near" ("lives in
// Marbleton" is a place even in a clinical note; "to" and "at" alone are
// not enough there: "to Neo", "at Baseline").
func (d *detector) placeBefore(i int) bool {
	k := i - 1
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "from", "near", "lives", "resides", "born", "visiting":
		return true
	case "in", "to", "at":
		return d.homeBefore(i) || d.facilityIn(i)
	}
	return false
}

// inUnknown reports whether capitalised word i (w in lower case) is on no
// list, of five letters or more, no misspelling, and follows "in" in the
// middle of a sentence: where a clinical note's writer capitalises a word
// after "in", it names a place ("a shop in Kwiatosz", "a Medical Center
// in Velmarde"), not shorthand.
func (d *detector) inUnknown(i int, w string) bool {
	k := i - 1
	if k < 0 || len(w) < 5 || d.toks[i].has(fSent) || d.toks[i].lex&(lexSafe|lexCommon|lexClinical|lexFirst|lexLast) != 0 || d.toks[k].kind != tkWord || d.word(k) != "in" {
		return false
	}
	return !d.misspelt(w) && !d.letterDropped(w)
}

// placeAfterThe reports whether "from the", "at the" or "to the" stands
// right before word i: there a word that may be a name is a place ("A
// CONSULT FROM THE KWIATOSZ"); shorthand there is a unit of the hospital
// ("FROM THE EW", "TO THE OR").
func (d *detector) placeAfterThe(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].end-d.toks[k].start != 3 || d.low[d.toks[k].start] != 't' || d.toks[i].has(fNL) || d.toks[k].has(fNL) || d.toks[k].kind != tkWord || d.word(k) != "the" || d.toks[k-1].kind != tkWord {
		return false // (the cheapest tests first: most words follow no "the")
	}
	switch d.word(k - 1) {
	case "from", "at", "to":
		return !careUnits[d.word(i)] && !facilityNext[d.word(i)]
	}
	return false
}

// facilityIn reports whether a facility and "in" stand right before word
// i: "Medical Center in Kwiatosz", "a rehab in quenby".
func (d *detector) facilityIn(i int) bool {
	k := i - 1
	return k >= 1 && d.toks[k].end-d.toks[k].start == 2 && d.low[d.toks[k].start] == 'i' && d.low[d.toks[k].start+1] == 'n' && d.toks[k-1].kind == tkWord &&
		!d.toks[k].has(fNL) && (d.is(k-1, vFacilityEnder) || facilitySites[d.word(k-1)])
}

// cityAfterName reports whether city i, no English or clinical word, ends
// a sentence or a line after a person's name and a comma, as a letter names
// a doctor and the town of the practice: "Family physician Dr. Haruto
// Sinclair, Mississauga." A word that goes on ("Dr. Lee, Boston General")
// is no such town.
func (d *detector) cityAfterName(i int, mark []uint8, typ []Type) bool {
	k := i - 2
	if k < 0 || !d.isPunct(i-1, ',') || d.toks[i].has(fNL) || d.toks[i].lex&(lexCommon|lexClinical|lexFirst|lexLast) != 0 || mark[k] != mStrong || typ[k] != TypePerson || d.toks[k].kind != tkWord {
		return false
	}
	n := i + 1
	return n >= len(d.toks) || d.toks[n].has(fNL) || d.isPunct(n, '.') || d.isPunct(n, ';')
}

// saintPlace returns the end of a place named for a saint at word i ("St",
// "Ste", "Saint", with or without a dot) after "lives in", "grew up in",
// "from" after a relation or a verb of travel and their kin, or i: one or
// two words in the case of "St" after it, no stopword, unit, title or
// month ("lives in St. Cloud", "moved to Ste. Genevieve", "LIVES IN ST
// CLAIR SHORES"). A saint's name that is an English word ("Cloud") is a
// place there too, as "St. Paul" is.
func (d *detector) saintPlace(i int) int {
	j := i + 1
	if d.isPunct(j, '.') && d.glued(i) {
		j++
	}
	if j >= len(d.toks) || d.toks[j].has(fNL) || !(d.homeBefore(i) || d.relativeFrom(i) || d.travelFrom(i)) {
		return i
	}
	t, e := d.toks[i], j
	for n := 0; n < 2 && e < len(d.toks); n++ {
		u := &d.toks[e]
		if u.kind != tkWord || u.has(fNL) || u.end-u.start < 3 || u.has(fNoCase) != t.has(fNoCase) || !u.has(fCap) && !u.has(fNoCase) || d.state[e] != stFree ||
			d.is(e, vStopword|vUnit|vUnitWord|vTitle|vCredential|vNameLabel|vMonth|vWeekday|vVitalLabel) || n > 0 && d.toks[e-1].end+1 != u.start {
			break
		}
		if n > 0 && u.lex&(lexCity|lexUSCity|lexFirst|lexLast) == 0 && !placeSuffixes[d.word(e)] && u.lex&(lexSafe|lexCommon|lexClinical) != 0 {
			break // "St. Cloud Hospital" leaves the hospital's word alone
		}
		e++
	}
	if e == j {
		return i
	}
	return e
}

// homeBefore reports whether "lives in", "moved to", "born in" (across
// "alone", "together"…) stands right before word i.
func (d *detector) homeBefore(i int) bool {
	k := i - 1
	if k < 1 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "in", "to", "at":
		p := k - 1
		if p > 0 && d.toks[p].kind == tkWord {
			switch d.word(p) {
			case "alone", "together", "independently", "currently", "now", "still":
				p--
			}
		}
		if p < 0 || d.toks[p].kind != tkWord {
			return false
		}
		if d.word(p) == "up" && p > 0 && d.toks[p-1].kind == tkWord {
			p-- // "grew up in"
		}
		switch d.word(p) {
		case "lives", "live", "lived", "living", "moved", "moving", "resides", "born", "raised", "grew", "growing", "stays", "staying", "home":
			return true
		}
	}
	return false
}

// acronymPlace reports whether word i, two to four letters that are no
// English, clinical or name-list word (w in lower case), names a building
// with its floor after "to", "from", "on" or "at" ("ON KVH 6", "paged To
// qh 6"): a hospital is named by its acronym as often as by its name. A
// state's code, a unit of the hospital, a label and the oxygen, feeds and
// lines that take a setting stay ("back to OR 2", "weaned to NC 2", "on TF
// 20").
func (d *detector) acronymPlace(i int, w string) bool {
	if i < 2 || i+1 >= len(d.toks) || d.toks[i+1].kind != tkNum || d.toks[i].has(fNL) || d.toks[i-1].kind != tkWord || stateAbbrevs[w] || careUnits[w] || facilityNext[w] || settingShorthand[w] ||
		d.is(i, vStopword|vUnit|vUnitWord|vVitalLabel|vFacilityEnder|vTitle|vCredential|vNameLabel|vMonth|vWeekday) {
		return false
	}
	switch d.word(i - 1) {
	case "to", "from", "on", "at":
		return d.floorAfter(i)
	}
	return false
}

// settingShorthand are oxygen devices, feeds, fluids and lines that a
// number follows as their setting: "on NC 2", "TF at 20".
var settingShorthand = set(`nc fm nrb nrfm hfnc tm vm tf tfs hd ett ngt ogt lr ns ivf tpn ppn`)

// typistInitials marks the reference initials that close a dictated
// report: the author's in capitals (or with a particle's letters in lower
// case, "PvdS"), a slash (or a colon) and the typist's in lower case, at the start of a line that holds nothing else but the
// dictation's dates and labels ("LTW/kmq", "RS/dlt 2/11/91", "PAS/jw  DD
// 7/27/84"). Elsewhere such a pair is shorthand or a ratio ("PA/lat",
// "MG/dl" in a list) and stays.
func (d *detector) typistInitials(mark []uint8, typ []Type, prio []int8) {
	for _, ln := range d.sc.lines {
		i := int(ln.from) // (only a line's first token can open the initials)
		if i+2 >= len(d.toks) {
			break
		}
		t := &d.toks[i]
		if t.kind != tkWord || !t.has(fCap) || t.end-t.start > 5 || !d.glued(i) || !(d.isPunct(i+1, '/') || d.isPunct(i+1, ':')) || !d.glued(i+1) ||
			!t.has(fAllCaps) && !initialsShape(d.raw(i)) {
			continue // (the cheapest tests first: a capitalised word that opens a line)
		}
		k := i + 2
		u := &d.toks[k]
		if u.kind != tkWord || u.has(fCap) || u.end-u.start < 2 || u.end-u.start > 3 || t.has(fNonASCII) || u.has(fNonASCII) || d.is(i, vUnit) ||
			d.state[i] != stFree && d.state[i] != stPHI || d.state[k] != stFree || k+1 < len(d.toks) && d.toks[k+1].start == u.end && !d.toks[k+1].has(fNL) && d.toks[k+1].kind != tkWord {
			continue // (nothing glued after the typist's letters: "MCG/kg/min")
		}
		if !d.dictationRest(k + 1) {
			continue
		}
		if d.isPunct(i+1, ':') && !d.dictationAfter(k+1, u.lex&(lexSafe|lexCommon|lexClinical) == 0) {
			// with a colon, a section and its finding are alike ("CV:rrr",
			// "GI:nt"): the initials need the dictation's dates after them
			// on their line ("LP:bw  D: 07/07/69"), or to close the text
			// with letters that are no word ("FA:qz")
			continue
		}
		for _, m := range [2]int{i, k} {
			if mark[m] != mStrong || typ[m] != TypePerson {
				mark[m], typ[m], prio[m] = mStrong, TypePerson, prioContext
			}
		}
		for j := k + 1; j < len(d.toks) && !d.toks[j].has(fNL); j++ {
			if d.toks[j].kind == tkWord && mark[j] == mNone {
				d.keep(j, j+1) // the labels are no initials: "LP:bw  D: 07/07/69"
			}
		}
	}
}

// streetCorner returns the tokens [a, b) of a street corner around "and"
// at token i, or a == b: two streets, each an ordinal ("5th") or a common
// street's name ("Main", "Elm"), one of them an ordinal or both
// capitalised where case is evidence, after "on", "at", "near" or "corner
// of" / "intersection of" ("the corner of 5th and Main", "the walgreens
// on 7th and main", "at Oak and Elm"). "at school and church" stays.
func (d *detector) streetCorner(i int) (int, int) {
	if i < 2 || i+1 >= len(d.toks) || d.toks[i].has(fNL) || d.toks[i+1].has(fNL) {
		return i, i
	}
	// (the cheapest tests first: most "and"s follow no street after a
	// preposition)
	c := i - 2
	if d.toks[i-1].kind == tkWord && d.toks[c].kind == tkNum && d.glued(c) {
		c--
	}
	if c < 0 || d.toks[c].kind != tkWord || d.toks[c].end-d.toks[c].start > 4 || d.toks[c].end-d.toks[c].start < 2 {
		return i, i
	}
	switch d.word(c) {
	case "on", "at", "near", "of":
	default:
		return i, i
	}
	a, aOrd := i-1, false
	switch u := &d.toks[a]; {
	case u.kind == tkWord && isOrdinal(d.word(a)) && a >= 1 && d.toks[a-1].kind == tkNum && d.glued(a-1) && d.toks[a-1].end-d.toks[a-1].start <= 3:
		a, aOrd = a-1, true
	case u.kind == tkWord && commonStreets[d.word(a)]:
	default:
		return i, i
	}
	b, bOrd := i+2, false
	switch u := &d.toks[i+1]; {
	case u.kind == tkNum && u.end-u.start <= 3 && d.glued(i+1) && b < len(d.toks) && d.toks[b].kind == tkWord && isOrdinal(d.word(b)):
		b, bOrd = b+1, true
	case u.kind == tkWord && commonStreets[d.word(i+1)]:
	default:
		return i, i
	}
	if b < len(d.toks) && d.glued(b-1) && d.toks[b].kind != tkPunct {
		return i, i // glued to more: "main2"
	}
	if aOrd && bOrd {
		return i, i // "on 5th and 6th" are days as often
	}
	if !aOrd && !bOrd {
		l, r := d.toks[a], d.toks[i+1]
		if !l.has(fCap) || !r.has(fCap) || l.has(fNoCase) || r.has(fNoCase) || d.lowerDoc {
			return i, i
		}
	}
	for k := a; k < b; k++ {
		if d.state[k] == stPHI {
			return i, i
		}
	}
	if c != a-1 || d.toks[a].has(fNL) {
		return i, i
	}
	switch d.word(c) {
	case "on", "at", "near":
		return a, b
	case "of":
		if p := c - 1; p >= 0 && d.toks[p].kind == tkWord && (d.word(p) == "corner" || d.word(p) == "intersection") {
			return a, b
		}
	}
	return i, i
}

// recordedByBefore reports whether word i, a user name in lower case
// where case is evidence, follows "by" after a verb of the record's
// keeping ("completed by paokafor", "entered by jmarlowe", "documented
// by: tkovach"), as an electronic record writes who wrote it.
func (d *detector) recordedByBefore(i int) bool {
	k := i - 1
	if k >= 1 && d.isPunct(k, ':') && d.glued(k-1) {
		k--
	}
	if k < 1 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.word(k) != "by" || d.toks[k-1].kind != tkWord || d.toks[k].has(fNL) {
		return false
	}
	switch d.word(k - 1) {
	case "completed", "entered", "documented", "charted", "recorded", "created", "modified", "updated", "edited", "transcribed", "typed", "signed", "authored", "filed":
		return true
	}
	return false
}

// transcriberBefore reports whether word i, a transcriptionist's initials
// in lower case, follows "transcribed by" or "typed by" (a colon may
// follow "by") or "transcriptionist:" or "typist:" on its line:
// "Transcribed by kls", "Typist: jmr".
func (d *detector) transcriberBefore(i int) bool {
	k := i - 1
	if d.isPunct(k, ':') {
		k--
	}
	if k < 0 || d.toks[k].kind != tkWord || d.toks[i].has(fNL) || d.toks[k+1].has(fNL) {
		return false
	}
	switch d.word(k) {
	case "transcriptionist", "typist":
		return k+1 < i
	case "by":
		h := k - 1
		return h >= 0 && d.toks[h].kind == tkWord && !d.toks[k].has(fNL) && (d.word(h) == "transcribed" || d.word(h) == "typed")
	}
	return false
}

// benchLabelBefore reports whether the capitals at word i (two or three,
// on the label's line) are a staff member's initials after a lab's or an
// instrument's label, as a printout or a result signs them: "Tech: KLM",
// "Operator: JRB", "Lab tech DMS", "Verified by: RTW", "Collected by
// PLK". They are no credential, unit or title ("Performed by: RN"), are
// not glued to a slash or a hyphen (staffInitials reads "JKW/MA"), and no
// shorthand a clinical list holds.
func (d *detector) benchLabelBefore(i int) bool {
	if d.glued(i) && (d.toks[i+1].kind != tkPunct || d.isPunct(i+1, '/') || d.isPunct(i+1, '-')) || d.is(i, vCredential|vUnit|vTitle|vStopword|vMonth|vWeekday|vNameLabel) {
		return false
	}
	k := i - 1
	if d.isPunct(k, ':') {
		k--
	}
	if k < 0 || d.toks[k].kind != tkWord || d.toks[k+1].has(fNL) {
		return false
	}
	w := d.word(k)
	if benchLabels[w] || benchVerbs[w] && d.isPunct(k+1, ':') {
		return true // "Tech: KLM", "Reviewed: PLK"
	}
	h := k - 1
	return w == "by" && h >= 0 && d.toks[h].kind == tkWord && !d.toks[k].has(fNL) && benchVerbs[d.word(h)]
}

// benchLabels name the one who ran a sample or an instrument; benchVerbs
// come before "by" on a result's line.
var (
	benchLabels = set(`tech technician technologist operator phlebotomist analyst`)
	benchVerbs  = set(`verified reviewed performed collected drawn run tested released resulted processed entered
accessioned validated checked calibrated read`)
)

// initialsShape reports whether w, capitalised, holds another capital
// after its first and no more than five letters: the author's initials with
// a particle, "PvdS" (Pim van der Sloot), "JdlC".
func initialsShape(w string) bool {
	if len(w) > 5 {
		return false
	}
	for k := 1; k < len(w); k++ {
		if w[k] >= 'A' && w[k] <= 'Z' {
			return true
		}
	}
	return false
}

// dictationRest reports whether the tokens from j to the end of their
// line are only numbers, punctuation and the labels of a dictation's dates
// ("DD: 7/27/84", "D: 05/03/67 T: 05/05/67").
func (d *detector) dictationRest(j int) bool {
	for ; j < len(d.toks) && !d.toks[j].has(fNL); j++ {
		if d.toks[j].kind == tkWord && !dictationLabels[d.word(j)] {
			return false
		}
	}
	return true
}

// dictationAfter reports whether a dictation's label stands on the line of
// token j, from j on, or, when last is set, nothing follows j at all.
func (d *detector) dictationAfter(j int, last bool) bool {
	for ; j < len(d.toks); j++ {
		if d.toks[j].has(fNL) {
			return false
		}
		if d.toks[j].kind == tkWord && dictationLabels[d.word(j)] {
			return true
		}
	}
	return last
}

// dictationLabels head a dictated report's dates: dictated, transcribed.
var dictationLabels = set(`d t dd dt td dict trans job am pm`)

// practiceEnders end the name of a practice or an agency: "Bellmont Family
// Medicine", "Harborview Internal Medicine", "Sunnyvale Home Health",
// "Eastgate Kidney Associates", "Bayou Teche Dermatologic Surgery" (with
// two words at least before "Surgery" or "Pathology").
var practiceEnders = set(`medicine practice care associates health physicians partners group
pediatrics paediatrics orthopedics orthopaedics cardiology dermatology oncology urology neurology podiatry
endocrinology gastroenterology pulmonology nephrology rheumatology obstetrics gynecology psychiatry audiology
chiropractic dentistry therapy rehabilitation counseling nutrition surgery dermatopathology pathology
laboratory laboratories pulmonary
dental endodontics orthodontics periodontics prosthodontics optometry ophthalmology otolaryngology`)

// practice marks the name of a practice or an agency in a note with case,
// before its last word at i: a capitalised word that is no English or
// clinical word (a name, a city or a word on no list) up to three
// capitalised words before it ("Bellmont Family Medicine", "Sunnyvale Home
// Health"), or right after it and "of" ("Oncology Associates of
// Fallowmere"). A specialty or a service stays: "Internal Medicine",
// "Primary Care", "Home Health".
func (d *detector) practice(i int, mark []uint8, typ []Type, prio []int8) {
	if w := d.word(i); (w == "surgery" || w == "pathology") && !(i >= 2 && d.toks[i-1].kind == tkWord && d.toks[i-2].kind == tkWord && d.toks[i-2].has(fCap) && !d.toks[i-1].has(fNL)) {
		return // an operation named for its surgeon, or a pathologist's name: "Whipple Surgery", "Kaplan Pathology" alone
	}
	s, named := i, false // the run's first word; a word of it marked
	for k, steps := i-1, 0; k >= 0 && steps < 3; k, steps = k-1, steps+1 {
		p := &d.toks[k]
		if p.kind != tkWord || !p.has(fCap) || d.is(k, vStopword) || d.toks[k+1].has(fNL) || p.end < d.toks[k+1].start-1 {
			break
		}
		s = k
		if d.practiceName(k) {
			mark[k], typ[k], prio[k] = mStrong, TypeLocation, prioContext
			named = true
		}
		if p.has(fNL) {
			break
		}
	}
	if !named && s < i && doctorsPractices[d.word(i)] && d.practiceCue(s, i) {
		d.plainPractice(s, i, mark, typ, prio)
	}
	if j := i + 2; j < len(d.toks) && d.toks[i+1].kind == tkWord && d.word(i+1) == "of" && !d.toks[j].has(fNL) && d.toks[j].has(fCap) && d.practiceName(j) {
		mark[j], typ[j], prio[j] = mStrong, TypeLocation, prioContext
	}
}

// practiceNoCase marks the name of a doctors' practice on a line without
// case, before its last word at i: up to three words before it after a
// word that introduces a place of care, the words on no word list among
// them ("SEEN AT NORTHSTAR PEDIATRICS", "FOLLOWS WITH KESTRELWOOD FAMILY
// MEDICINE"); a specialty stays ("SEEN AT INTERNAL MEDICINE").
func (d *detector) practiceNoCase(i int, mark []uint8, typ []Type, prio []int8) {
	s := i
	for k, steps := i-1, 0; k >= 0 && steps < 3; k, steps = k-1, steps+1 {
		p := &d.toks[k]
		if p.kind != tkWord || !p.has(fNoCase) || d.is(k, vStopword) || d.toks[k+1].has(fNL) || p.end < d.toks[k+1].start-1 {
			break
		}
		s = k
		if p.has(fNL) {
			break
		}
	}
	if s == i || !d.practiceCue(s, i) {
		return
	}
	for k := s; k < i; k++ {
		if d.practiceName(k) && !d.is(k, vUnit|vVitalLabel|vFacilityEnder) {
			mark[k], typ[k], prio[k] = mStrong, TypeLocation, prioContext
		}
	}
}

// doctorsPractices end the name of a doctors' practice, which may be
// named by ordinary words ("Sagebrush Family Practice", "Juniper
// Pediatrics") after a cue; "care", "health", "therapy" or "counseling"
// end services as often ("Personal Care", "Couples Counseling").
var doctorsPractices = set(`medicine practice associates physicians partners pediatrics paediatrics orthopedics orthopaedics
cardiology dermatology oncology urology neurology podiatry endocrinology gastroenterology pulmonology nephrology
rheumatology obstetrics gynecology psychiatry audiology chiropractic dentistry
dental endodontics orthodontics periodontics prosthodontics optometry ophthalmology otolaryngology`)

// practiceKinds say what kind of practice a name is, not whose: "Family
// Medicine", "Internal Medicine", "Sleep Medicine", "Pediatric
// Cardiology" name a specialty or a service.
var practiceKinds = set(`family internal general primary pediatric paediatric adult geriatric adolescent child children women
men community regional university academic hospital emergency urgent critical sleep addiction travel sports
lifestyle preventive preventative functional integrative holistic concierge direct occupational employee student
behavioral behavioural mental physical osteopathic surgical medical clinical interventional nuclear advanced
comprehensive complete total premier digital virtual senior veterans veteran military reproductive maternal fetal`)

// practiceCue reports whether the capitalised run [s, e) of a practice's
// name follows a word that introduces a place of care ("seen at",
// "follows with", "referred to", "records from", "PCP is ... at"), or is
// a line of its own (a letter's heading, an address block) or a field's
// whole value.
func (d *detector) practiceCue(s, e int) bool {
	ends := e+1 >= len(d.toks) || d.toks[e+1].has(fNL)
	if k := s - 1; k >= 1 && d.isPunct(k, ':') && !d.toks[s].has(fNL) && !d.toks[k].has(fNL) {
		return ends // a field's whole value: "PCP: Juniper Pediatrics"
	}
	if k := s - 1; k >= 1 && d.isPunct(k, '(') && e+1 < len(d.toks) && d.isPunct(e+1, ')') && !d.toks[s].has(fNL) {
		return true // a parenthesis's whole content: "called her office (Lakeside Internal Medicine)"
	}
	if k := s - 1; k >= 0 && d.toks[k].kind == tkWord && !d.toks[s].has(fNL) {
		switch d.word(k) {
		case "at", "with", "from", "to", "by", "via":
			return true
		}
		return false
	}
	return d.toks[s].has(fNL) && ends
}

// plainPractice marks the name of a practice named by ordinary words,
// the run [s, e) before its last word e: the words before the first kind
// of practice ("Cannon Valley" in "Cannon Valley Family Medicine"), one
// of them at least no clinical word ("Vascular Medicine", "General
// Surgery" and "Family Practice" alone stay).
func (d *detector) plainPractice(s, e int, mark []uint8, typ []Type, prio []int8) {
	g := s
	for g < e && !practiceKinds[d.word(g)] && !doctorsPractices[d.word(g)] {
		g++
	}
	ok := false
	for k := s; k < g; k++ {
		t := &d.toks[k]
		if d.state[k] != stFree || t.end-t.start < 3 || d.is(k, vTitle|vCredential|vNameLabel|vMonth|vWeekday|vUnit) {
			return
		}
		ok = ok || t.lex&lexClinical == 0
	}
	if !ok {
		return
	}
	for k := s; k < g; k++ {
		mark[k], typ[k], prio[k] = mStrong, TypeLocation, prioContext
	}
}

// practiceName reports whether word k may name a practice: a word of three
// letters or more, free, that is no English, clinical or region word.
func (d *detector) practiceName(k int) bool {
	p := &d.toks[k]
	return p.kind == tkWord && d.state[k] == stFree && p.end-p.start >= 3 && p.lex&(lexSafe|lexCommon|lexClinical|lexRegion) == 0 &&
		!d.is(k, vStopword|vTitle|vCredential|vNameLabel|vMonth|vWeekday)
}

// unitNumbers are the words of a spelled-out number after "ninety-".
var unitNumbers = set(`one two three four five six seven eight nine`)

// spelledAge returns the end of an age over 89 written in words at word i
// (w, in lower case): "ninety" or "ninety-one" before "year(s) old",
// "years of age", "yo" or "y/o", or after "age" or "aged" ("a ninety-one
// year old woman", "aged ninety-two"); "nineties" after a possessive
// ("in her nineties", "in his early nineties"). Other numbers stay
// ("ninety minutes", "ninety years ago", "sats in the nineties").
func (d *detector) spelledAge(i int, w string) int {
	if w == "nineties" {
		k := d.prevWord(i)
		if k >= 0 && k == i-1 && (d.word(k) == "early" || d.word(k) == "mid" || d.word(k) == "late") {
			k = d.prevWord(k)
		}
		if k >= 0 && (d.word(k) == "her" || d.word(k) == "his" || d.word(k) == "their") {
			return i + 1
		}
		return i
	}
	if w != "ninety" {
		return i
	}
	j := i + 1
	if j+1 < len(d.toks) && (d.isPunct(j, '-') && d.glued(i) || d.toks[j].kind == tkWord) && !d.toks[j].has(fNL) {
		n := j
		if d.isPunct(j, '-') {
			n++
		}
		if d.toks[n].kind == tkWord && unitNumbers[d.word(n)] {
			j = n + 1
		}
	}
	if k := d.prevWord(i); k >= 0 && (d.word(k) == "aged" || d.word(k) == "age") || d.relationIs(i, j) {
		return j
	}
	k := j
	if k < len(d.toks) && d.isPunct(k, '-') {
		k++
	}
	if k >= len(d.toks) || d.toks[k].kind != tkWord || d.toks[k].has(fNL) {
		return i
	}
	switch d.word(k) {
	case "yo":
		return j
	case "y":
		if d.isPunct(k+1, '/') {
			return j
		}
	case "year", "years", "yr", "yrs":
		m := k + 1
		if m < len(d.toks) && d.isPunct(m, '-') {
			m++
		}
		if m < len(d.toks) && d.toks[m].kind == tkWord && (d.word(m) == "old" || d.word(m) == "of" && m+1 < len(d.toks) && d.toks[m+1].kind == tkWord && d.word(m+1) == "age") {
			return j
		}
	}
	return i
}

// wordAfterIs reports whether the token after i is the word w (in lower
// case) on the same line.
func (d *detector) wordAfterIs(i int, w string) bool {
	k := i + 1
	return k < len(d.toks) && d.toks[k].kind == tkWord && !d.toks[k].has(fNL) && d.word(k) == w
}

// initialsNot are the pairs and triples of letters with dots that follow
// "pt" as shorthand, not as a patient's initials: "Pt A.O. x3", "pt
// D.C.'d", "Pt N.P.O.", "pt S.P. fall".
var initialsNot = set(`ao dc co sp op ok npo aox ox ob gi gu er or ed us uk nh pm am md do rn np pa po iv im sq`)

// labelInitials marks a patient's initials with their dots after "pt",
// "patient", "client" or "resident", the word at i, as case reports and
// teaching notes name one, or after "initials", as a trial's adverse-event
// report names its subject:
// "Pt D.L. is a 56 yo man", "Patient R.M.K. seen", "Subject 014-0032,
// initials K.M.R.", or after a verb of signing, as a note or a form is
// signed by initials alone ("Signed: J.K.L.", "Cosigned: M.R.", "signed by
// T.W."), and after "completed", "prepared" or "witnessed" with "by"
// ("Completed by: F.K.B.", "Prepared by R.T.", "Witnessed by: L.M.").
// Shorthand written so stays (initialsNot: "Signed: M.D."). It reports
// whether it marked any.
func (d *detector) labelInitials(i int, mark []uint8, typ []Type, prio []int8) bool {
	k := i + 1
	if k+1 < len(d.toks) && d.toks[k].kind == tkWord && d.toks[k].end-d.toks[k].start == 2 && d.word(k) == "by" {
		k++ // "signed by T.W."
	}
	if d.isPunct(k, ':') {
		k++
	}
	e := k
	var b [3]byte
	n := 0
	for e+1 < len(d.toks) && n < 3 && d.toks[e].kind == tkWord && d.toks[e].end-d.toks[e].start == 1 && d.toks[e].has(fCap) &&
		d.glued(e) && d.isPunct(e+1, '.') && (e == k || d.glued(e-1)) {
		b[n] = d.low[d.toks[e].start]
		n++
		e += 2
	}
	if n < 2 || d.toks[k].has(fNL) || d.toks[k].start == d.toks[i].end || initialsNot[string(b[:n])] ||
		e < len(d.toks) && d.toks[e].start == d.toks[e-1].end && d.toks[e].kind != tkPunct {
		return false
	}
	for m := k; m < e; m += 2 {
		if d.state[m] == stFree {
			mark[m], typ[m], prio[m] = mStrong, TypePerson, prioContext
		}
	}
	return true
}

// goesBy marks the name a person goes by or is known as, capitalised
// after "goes by", "went by" or "known as": "Le Thi Hong
// (goes by Hong)", "also known as Beto". The name is on a name list or on
// no list at all; an English or clinical word stays ("known as Type 2"),
// and so does a ride ("goes by Uber").
func (d *detector) goesBy(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hGoesBy == 0 {
		return // no "goes", "went" or "known" in the note
	}
	for i := 2; i < len(d.toks); i++ {
		t := &d.toks[i]
		if t.kind != tkWord || !t.has(fCap) || t.has(fAllCaps) || t.has(fNoCase) || t.has(fNL) || d.state[i] != stFree || mark[i] == mStrong ||
			t.lex&(lexCommon|lexClinical) != 0 || t.lex&lexSafe != 0 && t.lex&(lexFirst|lexLast) == 0 || d.toks[i-1].kind != tkWord {
			continue
		}
		v, h := d.word(i-1), d.word(i-2)
		if v == "by" && rides[d.word(i)] {
			continue
		}
		if !(v == "by" && (h == "goes" || h == "went") || v == "as" && h == "known") || d.toks[i-2].kind != tkWord {
			continue
		}
		mark[i], typ[i], prio[i] = mStrong, TypePerson, prioContext
	}
}

// rides are what one goes by that are names too: "goes by Uber".
var rides = set(`uber lyft amtrak greyhound`)

// vietSurnames are the commonest Vietnamese family names, with and without
// their accents.
var vietSurnames = set(`nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly trinh dinh lam truong dao doan luong luu quach
nguyễn trần lê phạm hoàng huỳnh võ vũ đặng bùi đỗ hồ ngô dương lý trịnh đinh lâm trương đào đoàn lương lưu quách`)

// vietnameseNames marks a Vietnamese name written family name first with
// the middle name that marks it, "Thi" (women) or "Van" (men), and the one
// to three given names after it: "Tran Thi Thu Ha", "Le Van An", "Pham
// Thi Mai Anh". The given names are often English words, weekdays or
// shorthand ("An", "Thu", "Ha"), which left them beside a redacted family
// name.
func (d *detector) vietnameseNames(mark []uint8, typ []Type, prio []int8) {
	if d.hints&hViet == 0 {
		return // no "Thi" or "Van" in the note
	}
	for i := 1; i+1 < len(d.toks); i++ {
		t := &d.toks[i]
		if t.kind != tkWord || !t.has(fCap) || t.end-t.start < 3 || t.end-t.start > 4 || t.has(fNL) {
			continue
		}
		if w := d.word(i); w != "thi" && w != "van" && w != "thị" && w != "văn" {
			continue
		}
		f := i - 1
		if d.toks[f].kind != tkWord || !d.toks[f].has(fCap) || d.toks[f].end+1 != t.start || !vietSurnames[d.word(f)] {
			continue
		}
		e := i + 1
		for e < len(d.toks) && e < i+4 && d.toks[e].kind == tkWord && d.toks[e].has(fCap) && !d.toks[e].has(fNL) &&
			d.toks[e].start == d.toks[e-1].end+1 && d.toks[e].end-d.toks[e].start <= 8 {
			e++
		}
		if e == i+1 {
			continue
		}
		for k := f; k < e; k++ {
			if d.state[k] == stFree {
				mark[k], typ[k], prio[k] = mStrong, TypePerson, prioContext
			}
		}
		i = e - 1
	}
}

// titledSurnames marks, on a line without case, the surname that follows a
// first name after an abbreviated title or a name field's label, where the
// name ends after it, also when the surname is an English or clinical word
// ("DR. GRACE WOOD IN 2 WEEKS", "ATTENDING: ROSE HILL, M.D.", "CC: DR.
// MAYA STONE;"). A word that goes on ("DR. GRACE AWARE") or is no surname
// stays.
func (d *detector) titledSurnames(mark []uint8, typ []Type, prio []int8) {
	for i := nextMark(mark, 1); i >= 0 && i+1 < len(d.toks); i = nextMark(mark, i+1) {
		t := &d.toks[i]
		if mark[i] != mStrong || typ[i] != TypePerson || !t.has(fNoCase) || t.lex&lexFirst == 0 || t.kind != tkWord {
			continue // (the cheapest tests first)
		}
		j := i + 1
		u := &d.toks[j]
		if u.kind != tkWord || u.has(fNL) || u.start-t.end != 1 || mark[j] == mStrong || d.state[j] != stFree || u.lex&lexLast == 0 || u.end-u.start < 3 ||
			d.is(j, vStopword|vTitle|vCredential|vNameLabel|vUnit|vVitalLabel|vMonth|vWeekday) {
			continue
		}
		if !(d.titleBefore(i) && abbrevTitles[d.word(d.prevWord(i))] || d.fieldLabelBefore(i)) {
			continue
		}
		if e := j + 1; !(d.nameEnds(j) || d.toks[e].kind == tkWord && !d.toks[e].has(fNL) && d.is(e, vStopword)) {
			continue
		}
		mark[j], typ[j], prio[j] = mStrong, TypePerson, prioContext
	}
}

// nameEchoes marks what a note writes of a name it has found elsewhere:
// a nickname in parentheses right after the name ("Genevieve (Gen)",
// "Son Robert (Bob)"), a first name on the lists or the start of the name;
// and the first name of a full name found with its surname, capitalised
// again mid-sentence where it is an ordinary word ("Patient: Wren
// Abernathy" … "grandmother watches Wren days"), as therapy, dietitian
// and paediatric notes call a patient by a first name once the header has
// named them in full.
func (d *detector) nameEchoes(mark []uint8, typ []Type, prio []int8) {
	person := func(k int) bool { return k >= 0 && mark[k] == mStrong && typ[k] == TypePerson }
	var firsts [4]string
	nf := 0
	// only the words of names matter: jump from one marked token to the next
	for i := nextMark(mark, 0); i >= 0 && i < len(d.toks); i = nextMark(mark, i+1) {
		if !person(i) {
			continue
		}
		t := &d.toks[i]
		if k := i + 2; k+1 < len(d.toks) && d.isPunct(i+1, '(') && d.isPunct(k+1, ')') && d.toks[k].kind == tkWord && !person(k) {
			// "(Gen)" right after a name
			u := &d.toks[k]
			if d.state[k] == stFree && u.has(fCap) && u.has(fAllCaps) == t.has(fAllCaps) &&
				!d.is(k, vStopword|vTitle|vCredential|vNameLabel|vVitalLabel|vMonth|vWeekday|vUnit) {
				w, name := d.word(k), d.word(i)
				if u.lex&lexFirst != 0 && u.lex&lexClinical == 0 && len(w) >= 3 || len(w) >= 2 && len(w) < len(name) && strings.HasPrefix(name, w) || shortFormOf(name, w, u.lex) {
					mark[k], typ[k], prio[k] = mStrong, TypePerson, prioContext
				}
			}
		}
		if m := i + 4; m < len(d.toks) && d.surnameAfterNickname(i) {
			// "Leopold "Leo" Karamanlis", "Robert (Bob) Fitzhugh"
			for _, k := range [2]int{i + 2, m} {
				if !person(k) && d.state[k] == stFree {
					mark[k], typ[k], prio[k] = mStrong, TypePerson, prioContext
				}
			}
		}
		// the first word of a full name in a note with case: "Wren" of
		// "Wren Abernathy"
		if nf < len(firsts) && t.kind == tkWord && t.has(fCap) && !t.has(fAllCaps) && !t.has(fNoCase) && t.end-t.start >= 3 &&
			!person(d.adjacentWord(i, -1)) && person(d.adjacentWord(i, 1)) && !d.is(i, vStopword|vTitle|vNameLabel|vCredential) {
			firsts[nf] = d.raw(i)
			nf++
		}
	}
	if nf == 0 {
		return
	}
	for i := range d.toks {
		t := &d.toks[i]
		if t.kind != tkWord || t.flags&(fCap|fAllCaps|fSent|fNoCase) != fCap || mark[i] == mStrong || d.state[i] != stFree {
			continue
		}
		for _, f := range firsts[:nf] {
			if int(t.end-t.start) == len(f) && d.raw(i) == f {
				mark[i], typ[i], prio[i] = mStrong, TypePerson, prioContext
				break
			}
		}
	}
}

// surnameAfterNickname reports whether the name at token i is followed by
// a nickname in quotes or in parentheses and then a surname, as notes name
// a relative in full ("Leopold "Leo" Karamanlis", "Robert (Bob) Fitzhugh",
// "MARGARET "PEGGY" OLSEN"): one word inside, glued to its marks; after
// them, on the line, a word in the name's case that no word list but the
// surnames' holds, and no label, title, unit or month. The nickname is a
// first name or a word on no list ("(RESIDENT)" is a role).
func (d *detector) surnameAfterNickname(i int) bool {
	o, k, c, m := i+1, i+2, i+3, i+4
	open, close := d.isPunct(o, '"') && d.isPunct(c, '"') || d.isPunct(o, '(') && d.isPunct(c, ')'), d.glued(o) && d.glued(k)
	if !open || !close || d.toks[k].kind != tkWord || d.toks[m].kind != tkWord || d.toks[m].has(fNL) || d.glued(c) {
		return false
	}
	t, u := d.toks[i], d.toks[m]
	if !u.has(fCap) || u.has(fAllCaps) != t.has(fAllCaps) || !d.toks[k].has(fCap) || u.end-u.start < 2 {
		return false
	}
	if u.lex&lexLast == 0 && u.lex&(lexCommon|lexSafe|lexClinical|lexCity|lexRegion) != 0 {
		return false
	}
	// the nickname is a first name, on no list or a short form of the
	// name: "(RESIDENT)" is a role
	if n := d.toks[k].lex; n&lexClinical != 0 || n&lexFirst == 0 && n&(lexCommon|lexSafe) != 0 && !shortFormOf(d.word(i), d.word(k), n) {
		return false
	}
	return !d.is(m, vStopword|vTitle|vCredential|vNameLabel|vVitalLabel|vMonth|vWeekday|vUnit|vUnitWord|vStreetSuffix)
}

// shortFormOf reports whether w, a word in quotes or in parentheses after
// the first name name (both lower case), is a short form of it that is
// also an English word: one of the built-in table's ("Margaret (Peggy)",
// "Dorothy (Dot)"), or a word of two to four letters shorter than the name
// and starting with its letter ("Philippa (Pip)", "Bartholomew (Bat)").
// No clinical word is one: "Patel (PT)".
func shortFormOf(name, w string, lex uint16) bool {
	if lex&lexClinical != 0 || len(w) < 2 || len(w) >= len(name) {
		return false
	}
	if len(w) <= 4 && w[0] == name[0] {
		return true
	}
	return slices.Contains(nicknames()[name], w)
}

// facilityLabels name the field of a form that holds a hospital's or a
// residence's name: "Hospital: Hennepin Healthcare", "Facility: Brookhaven
// Manor Nursing & Rehabilitation".
var facilityLabels = set(`hospital facility agency`)

// facilityJoiners may stand between the words of a facility's name.
var facilityJoiners = set(`of and the for`)

// labelledFacility returns the end of a facility's name after the label at
// word i, which opens its line or sentence, and a colon: capitalised words
// on the same line, perhaps joined by "&", "of", "and", up to punctuation
// or the line's end, with at least one that is no English or clinical word
// (a name: "Hennepin Healthcare"; "Hospital: None", "Facility: Skilled
// Nursing" stay). It returns i when there is none.
func (d *detector) labelledFacility(i int) int {
	if !d.isPunct(i+1, ':') || !d.glued(i) {
		return i
	}
	named, words := false, 0
	j := i + 2
	for ; j < len(d.toks) && words < 6; j++ {
		t := &d.toks[j]
		if t.has(fNL) {
			break // the name is on the label's line
		}
		if d.isPunct(j, '&') && j > i+2 {
			continue
		}
		if t.kind != tkWord {
			break
		}
		w := d.word(j)
		if facilityJoiners[w] && j > i+2 && !t.has(fCap) {
			continue
		}
		if !t.has(fCap) || t.has(fNoCase) || d.is(j, vStopword|vTitle|vNameLabel|vCredential|vMonth|vWeekday) {
			break
		}
		if t.lex&(lexCommon|lexClinical|lexRegion) == 0 && d.state[j] == stFree {
			named = true
		}
		words++
	}
	for j > i+2 && d.toks[j-1].kind != tkWord || j > i+2 && facilityJoiners[d.word(j-1)] {
		j-- // no joiner or "&" at the end
	}
	if !named || words == 0 {
		return i
	}
	for k := i + 2; k < j; k++ {
		if d.toks[k].kind == tkWord && d.state[k] != stFree {
			return i
		}
	}
	return j
}

// vehicleMakes are the makes of cars that notes name with a model or a
// model year: "drives a 2015 Toyota Corolla", "her Subaru Outback". Most
// are surnames or first names too (Toyota, Honda, Nissan, Ford), which
// made a car a person; the plate and the VIN are the identifiers.
var vehicleMakes = set(`toyota honda subaru nissan hyundai kia mazda chevy chevrolet ford dodge jeep
tesla buick cadillac gmc volkswagen vw audi bmw mercedes lexus acura infiniti volvo chrysler lincoln
mitsubishi pontiac`)

// vehicleModels are models of cars that notes name after their make.
var vehicleModels = set(`camry corolla prius rav4 highlander tacoma tundra sienna civic accord cr-v crv pilot odyssey
outback forester impreza legacy crosstrek ascent altima sentra rogue maxima versa pathfinder frontier elantra
sonata tucson santa kona optima sorento soul forte sportage cx-5 cx5 malibu silverado equinox tahoe impala
cruze traverse suburban colorado f-150 f150 f-250 explorer escape focus fusion mustang ranger expedition bronco
wrangler cherokee compass liberty grand charger durango caravan challenger model jetta passat tiguan atlas
sierra yukon acadia enclave encore escalade navigator`)

// vehicles keeps a car's make, and its model after it, when a model
// year stands before the make ("2019 Toyota Camry", "a 2008 Ford
// F-150") or a model after it ("Subaru Outback", "Chevy Malibu", "Honda
// Civic"); a make alone stays what it was ("Dr. Honda", "Henry Ford").
// It runs only in a note holding a make (a pass hint).
func (d *detector) vehicles() {
	if d.hints&hVehicle == 0 {
		return
	}
	for i := 1; i+1 < len(d.toks); i++ {
		t := &d.toks[i]
		if t.kind != tkWord || !t.has(fCap) || t.end-t.start < 2 || t.end-t.start > 10 || d.state[i] != stFree || d.glued(i) && d.toks[i+1].kind != tkPunct || !vehicleMakes[d.word(i)] {
			continue
		}
		p := &d.toks[i-1]
		year := p.kind == tkNum && p.end-p.start == 4 && p.end+1 == t.start && !t.has(fNL)
		if year {
			v := atoi(d.raw(i - 1))
			year = v >= 1950 && v <= 2039 && (i < 2 || d.toks[i-2].end < p.start)
		}
		m := i + 1 // the model
		if d.toks[m].kind != tkWord || d.toks[m].has(fNL) || d.toks[m].start != t.end+1 {
			if year {
				d.keep(i, i+1)
			}
			continue
		}
		_, e := d.wholeRun(m, m+1) // "F-150", "CR-V", "RAV4"
		for e+1 < len(d.toks) && d.isPunct(e, '-') && d.glued(e-1) && d.glued(e) && d.toks[e+1].kind != tkPunct {
			_, e = d.wholeRun(e+1, e+2)
		}
		model := vehicleModels[strings.ToLower(d.text[d.toks[m].start:d.toks[e-1].end])] || vehicleModels[d.word(m)]
		if !model && !(year && d.toks[m].has(fCap) && !d.is(m, vStopword|vNameLabel|vTitle|vCredential)) {
			if year {
				d.keep(i, i+1)
			}
			continue
		}
		if d.word(m) == "model" && e < len(d.toks) && d.toks[e].kind == tkNum && d.toks[e].start == d.toks[e-1].end+1 {
			e++ // "Tesla Model 3"
		}
		i = d.keep(i, e) - 1
	}
}
