package phi

import (
	_ "embed"
	"errors"
	"unsafe"
)

//go:generate go run ./internal/gen -philter ../../../../shared/data/philter -clinical ../../../../shared/data/clinical-vocab -food ../../../../shared/data/food-vocab -words /usr/share/dict/american-english -out data/lexicon.bin
//go:generate go test -run TestOverlayTable -update .

// lexiconBin is the embedded lexicon: a precomputed hash table of lower-case
// words and their flags that is read in place, so that New parses nothing.
// internal/gen writes it and documents the format; see there for its
// sources and licences.
//
//go:embed data/lexicon.bin
var lexiconBin string

// Lexicon flag bits; internal/gen writes the same values.
const (
	lexFirst    = 1 << 0  // a first name (Philter)
	lexLast     = 1 << 1  // a surname (Philter)
	lexSafe     = 1 << 2  // an ordinary or clinical word (Philter safe list, clinicalWords)
	lexCity     = 1 << 3  // a one-word city name (GeoNames)
	lexUSCity   = 1 << 4  // a one-word US city name
	lexRegion   = 1 << 5  // a one-word country or US state
	lexPhrase   = 1 << 6  // the first word of a multi-word place
	lexPlace    = 1 << 7  // a whole multi-word city name
	lexRegionMW = 1 << 8  // a whole multi-word country or state
	lexCommon   = 1 << 9  // a lower-case English word (SCOWL)
	lexClinical = 1 << 10 // a clinical term: drug, condition, anatomy, code, abbreviation
	lexFood     = 1 << 11 // a lower-case food word: evidence only inside a food phrase
	lexFoodHead = 1 << 12 // the first word of a multi-word food or brand name
	lexFoodName = 1 << 13 // a whole multi-word food or brand name
)

// Pass hints: bits above the 32 stored in a token, set in the overlay for
// the few words that a whole pass over a note's tokens looks for. A note
// none of whose words carries a pass's hint skips that pass (it could
// mark nothing); detector.hints is their union over the note.
const (
	hFacilityPair uint64 = 1 << (32 + iota) // the second word of facilityPairs' pairs
	hUniversity                             // "university", "univ", "u"
	hEmployer                               // employerVerbs, and "employer" (employerField)
	hCounty                                 // countyWords
	hPlaceGeneric                           // placeSuffixes, placePrefixes, placeOfHeads
	hCareHome                               // the words careHomes looks for
	hPractice                               // doctorsPractices: the last words of a practice in capitals
	hDot                                    // "dot", which spelledEmails looks for
	hViet                                   // the middle names vietnameseNames looks for
	hGoesBy                                 // "goes", "went", "known": goesBy's heads
	hSpoken                                 // spokenHintWords: digits in words that spokenNumbers looks for
	hVehicle                                // vehicleMakes: the makes of cars that vehicles looks for
	hCSV                                    // csvHintWords: the header words of identifier columns csvColumns looks for
	hYearWord                               // romanceYears: "años", "ans", "jahre"…, after which romanceAge reads an age in words
)

// passHints lists the words of each pass hint.
func passHints() map[uint64][]string {
	emp := make([]string, 0, len(employerVerbs)+1)
	for w := range employerVerbs {
		emp = append(emp, w)
	}
	emp = append(emp, "employer") // employerField's label
	var generic []string
	for _, m := range []map[string]bool{placeSuffixes, placePrefixes, placeOfHeads} {
		for w := range m {
			generic = append(generic, w)
		}
	}
	practices := make([]string, 0, len(doctorsPractices))
	for w := range doctorsPractices {
		practices = append(practices, w)
	}
	makes := make([]string, 0, len(vehicleMakes))
	for w := range vehicleMakes {
		makes = append(makes, w)
	}
	return map[uint64][]string{
		hPractice:     practices,
		hFacilityPair: facilityPairWords,
		hUniversity:   {"university", "univ", "u"},
		hEmployer:     emp,
		hCounty:       {"county", "parish", "borough", "township"},
		hPlaceGeneric: generic,
		hCareHome:     {"living", "memory", "school", "elementary", "daycare", "preschool"},
		hDot:          {"dot"},
		hViet:         {"thi", "van", "thị", "văn"},
		hGoesBy:       {"goes", "went", "known"},
		hSpoken:       spokenHintWords,
		hVehicle:      makes,
		hCSV:          csvHintWords,
		hYearWord:     {"años", "anos", "anni", "ans", "jahre", "jahren", "jaar"},
	}
}

// lexicon maps lower-case words (and space-joined phrases) to their flags:
// the embedded table, plus a small embedded overlay of the hand-written
// vocabulary tables of this package, whose entries carry every flag.
type lexicon struct {
	slots string // little-endian uint32 per slot (see internal/gen)
	blob  string
	mask  uint32
	over  string // overlay slots, overSlotSize bytes each (see overlayHeader)
	oblob string
	omask uint32
	// phrases is a Bloom filter of the entries that carry a phrase flag
	// (phraseFlags): a phrase look-up that it answers "absent" for is
	// spared the cache misses of the embedded table (see phraseFlags)
	phrases string
	pmask   uint64
}

// phraseFlags are the flags of multi-word entries: whole foods and
// brands, places, countries and states.
const phraseFlags = lexFoodName | lexPlace | lexRegionMW

// The phrase filter (data/phrases.bin), written with the overlay by
// writePhraseFilter from the embedded table and the overlay (so it is
// derived from the same lists, whose licences LICENSES/ holds): "WPH1", a uint32 bit count (a power of two, at most
// 2^21), then the bits, little endian within each byte. A key is in it
// when bits h, h>>21 and h>>42 (of its fnv1a hash h, modulo the bit
// count) are all set.
//
//go:embed data/phrases.bin
var phrasesBin string

const phraseHeader = 8

// phraseMayHold reports whether the phrase filter may hold the key with
// hash h (false: no entry with a phrase flag has this key).
func (lx *lexicon) phraseMayHold(h uint64) bool {
	for k := 0; k < 3; k++ {
		b := (h >> (21 * k)) & lx.pmask
		if lx.phrases[b>>3]&(1<<(b&7)) == 0 {
			return false
		}
	}
	return true
}

// phrase returns the phraseFlags of key, or 0. Most multi-word keys that
// the phrase rules try are no phrase, and the filter answers them without
// touching the embedded table.
func (lx *lexicon) phrase(key string) uint64 {
	h := fnv1a(key)
	if !lx.phraseMayHold(h) {
		return 0
	}
	return lx.getHash(key, h) & phraseFlags
}

// The overlay (data/overlay.bin) is a hash table of the words of the
// vocabulary tables of this package (clinicalWords, foodNames,
// vocabTables, stopwords, languages, passHints) with their whole flags:
// the vocabulary bits and pass hints, and the embedded table's own flags
// of the word, merged when it is written, so that New parses nothing and
// a look-up that finds a word there needs no other. It is written by
// writeOverlay (go test -run TestOverlayTable -update), and
// TestOverlayTable fails when it no longer matches the tables.
//
//	header  "WOV1", uint32 slot count (a power of two), uint32 blob length
//	slots   overSlotSize bytes each: uint64 flags, uint32 blob offset of the
//	        word (0: an empty slot; the blob starts with one unused byte),
//	        one byte word length, one byte hash tag (fnv1a >> 56), two
//	        zero bytes; all little endian, linear probing from fnv1a
//	blob    the words
const (
	overlayHeader = 12
	overSlotSize  = 16
)

//go:embed data/overlay.bin
var overlayBin string

func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func le32(s string, p uint32) uint32 {
	return uint32(s[p]) | uint32(s[p+1])<<8 | uint32(s[p+2])<<16 | uint32(s[p+3])<<24
}

func le64(s string, p uint32) uint64 {
	return uint64(le32(s, p)) | uint64(le32(s, p+4))<<32
}

// get returns the flags of lower-case word w, or 0.
func (lx *lexicon) get(w string) uint64 { return lx.getHash(w, fnv1a(w)) }

// getHash is get for a word whose fnv1a hash h is known.
func (lx *lexicon) getHash(w string, h uint64) uint64 {
	tag := byte(h >> 56)
	for i := uint32(h) & lx.omask; ; i = (i + 1) & lx.omask {
		p := overSlotSize * i
		off := le32(lx.over, p+8)
		if off == 0 {
			break
		}
		if lx.over[p+13] == tag && int(lx.over[p+12]) == len(w) && lx.oblob[off:off+uint32(len(w))] == w {
			return le64(lx.over, p)
		}
	}
	return uint64(lx.base(w, h))
}

// slotAt returns the first slot of the embedded table that a look-up of
// a word with hash h reads (its blob offset in the low 24 bits).
func (lx *lexicon) slotAt(h uint64) uint32 {
	return le32(lx.slots, 4*(uint32(h)&lx.mask))
}

// base looks w (with hash h) up in the embedded table.
func (lx *lexicon) base(w string, h uint64) uint16 {
	tag := byte(h >> 56)
	for i := uint32(h) & lx.mask; ; i = (i + 1) & lx.mask {
		p := 4 * i
		v := le32(lx.slots, p)
		if v == 0 {
			return 0
		}
		if byte(v>>24) != tag {
			continue
		}
		off := int(v & 0xffffff)
		if int(lx.blob[off]) == len(w) && lx.blob[off+3:off+3+len(w)] == w {
			return uint16(lx.blob[off+1]) | uint16(lx.blob[off+2])<<8
		}
	}
}

// errLexicon reports a damaged embedded lexicon.
var errLexicon = errors.New("phi: embedded lexicon is damaged")

func loadLexicon() (*lexicon, error) {
	b := lexiconBin
	if len(b) < 12 || b[:4] != "WLX1" {
		return nil, errLexicon
	}
	n := le32(b, 4)
	nb := le32(b, 8)
	if n == 0 || n&(n-1) != 0 || uint64(len(b)) != 12+4*uint64(n)+uint64(nb) {
		return nil, errLexicon
	}
	lx := &lexicon{slots: b[12 : 12+4*n], blob: b[12+4*n:], mask: n - 1}
	o := overlayBin
	if len(o) < overlayHeader || o[:4] != "WOV1" {
		return nil, errLexicon
	}
	on, onb := le32(o, 4), le32(o, 8)
	if on == 0 || on&(on-1) != 0 || uint64(len(o)) != overlayHeader+overSlotSize*uint64(on)+uint64(onb) {
		return nil, errLexicon
	}
	lx.over, lx.oblob, lx.omask = o[overlayHeader:overlayHeader+overSlotSize*on], o[overlayHeader+overSlotSize*on:], on-1
	for p := uint32(0); p < uint32(len(lx.over)); p += overSlotSize {
		// every word lies inside the blob, so that a look-up never
		// reads past it (a damaged table fails here, not in a request)
		if off := le32(lx.over, p+8); off != 0 && uint64(off)+uint64(lx.over[p+12]) > uint64(onb) {
			return nil, errLexicon
		}
	}
	p := phrasesBin
	if len(p) < phraseHeader || p[:4] != "WPH1" {
		return nil, errLexicon
	}
	pn := le32(p, 4)
	if pn < 8 || pn > 1<<21 || pn&(pn-1) != 0 || uint64(len(p)) != phraseHeader+uint64(pn/8) {
		return nil, errLexicon
	}
	lx.phrases, lx.pmask = p[phraseHeader:], uint64(pn-1)
	return lx, nil
}

func firstWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

// wordCache remembers the flags of recently seen short words across the
// texts an Engine redacts: nursing notes repeat the same few thousand words
// ("pt", "propofol", "sedated"), and a hit here costs one fixed-size compare
// in a table that stays in the CPU cache, where the embedded table costs a
// cache miss or two. It holds no pointers (so the collector never scans it)
// and only words that are no name or place (see lookup).
// One cache serves one detector at a time (it lives in the pooled scratch).
type wordCache struct {
	// fast holds the most recently used of the words below that are at
	// most eight ASCII letters long, keyed by the word's bytes packed into
	// a uint64 (see packWord): small enough for the first-level CPU
	// cache, and a hit needs neither the word's hash nor a string compare.
	// Most of a note's words are among its few hundred most frequent.
	fast  [fastSize]fastEntry
	words [wordCacheSize]wordCacheEntry
	// memo holds the other words (names, places, unknown words) for one
	// note only: an entry counts only while gen is the generation of the
	// current detection (see startNote), so that a word of an earlier
	// request is looked up as if it had never been seen. Names and
	// shorthand recur within a note.
	memo [noteMemoSize]noteMemoEntry
	gen  uint32
}

type noteMemoEntry struct {
	gen   uint32
	n     uint8
	key   [wordCacheLen]byte
	flags uint64
}

const noteMemoSize = 512 // entries; a power of two

// startNote starts a new generation of the per-note memo: every entry of
// an earlier note is stale from now on.
func (c *wordCache) startNote() {
	c.gen++
	if c.gen == 0 {
		// after 2^32 notes, clear rather than let a stale entry match
		c.memo = [noteMemoSize]noteMemoEntry{}
		c.gen = 1
	}
}

// note remembers the flags of w for the rest of the current note.
func (c *wordCache) note(w string, h uint64, f uint64) {
	if len(w) > wordCacheLen || c.gen == 0 {
		return
	}
	m := &c.memo[uint32(h>>8)&(noteMemoSize-1)]
	m.gen, m.n, m.flags = c.gen, uint8(len(w)), f
	copy(m.key[:], w)
}

const (
	wordCacheSize = 8192 // entries, a power of two, in sets of two (192 KiB: about 7,300 distinct words in the dev notes; at 4,096 entries, direct-mapped, a tenth of the look-ups were conflict misses, and at 8,192 direct-mapped still one in twenty)
	wordCacheLen  = 15   // longest word cached, in bytes
)

const (
	fastBits = 11
	fastSize = 1 << fastBits // entries, direct mapped (32 KiB)
)

type fastEntry struct {
	key   uint64 // packWord of the word; 0 for an empty entry (a word has no zero byte)
	flags uint64
}

// packWord returns the lower-case ASCII word low[start:end], at most
// eight bytes long, packed little endian into a uint64 (zero bytes after
// the word).
func packWord(low string, start, end int32) uint64 {
	n := end - start
	if int(start)+8 <= len(low) {
		v := *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(low)), start))
		return v & (^uint64(0) >> (64 - 8*uint(n)))
	}
	var v uint64
	for k := int32(0); k < n; k++ {
		v |= uint64(low[start+k]) << (8 * uint(k))
	}
	return v
}

// fastSlot returns the entry of the fast table for packed word key.
func (c *wordCache) fastSlot(key uint64) *fastEntry {
	return &c.fast[(key*0x9e3779b97f4a7c15)>>(64-fastBits)]
}

// remember puts word w (with its flags, which must be cacheable: see
// lookup) into the fast table when it fits there.
func (c *wordCache) remember(w string, f uint64) {
	if len(w) == 0 || len(w) > 8 {
		return
	}
	for k := 0; k < len(w); k++ {
		if w[k] >= 0x80 {
			return
		}
	}
	v := packWord(w, 0, int32(len(w)))
	e := c.fastSlot(v)
	e.key, e.flags = v, f
}

type wordCacheEntry struct {
	n     uint8 // length of the word, 0 for an empty entry
	key   [wordCacheLen]byte
	flags uint64
}

// peek returns the flags of lower-case word w with fnv1a hash h when the
// cache holds them (lookup's answer, without touching the lexicon).
func (c *wordCache) peek(w string, h uint64) (uint64, bool) {
	if len(w) == 0 || len(w) > wordCacheLen {
		return 0, false
	}
	set := uint32(h>>8) & (wordCacheSize/2 - 1)
	if e := &c.words[2*set]; int(e.n) == len(w) && string(e.key[:len(w)]) == w {
		c.remember(w, e.flags)
		return e.flags, true
	}
	if e := &c.words[2*set+1]; int(e.n) == len(w) && string(e.key[:len(w)]) == w {
		c.remember(w, e.flags)
		return e.flags, true
	}
	if m := &c.memo[uint32(h>>8)&(noteMemoSize-1)]; m.gen == c.gen && int(m.n) == len(w) && string(m.key[:len(w)]) == w {
		return m.flags, true
	}
	return 0, false
}

// lookup returns the flags of lower-case word w with fnv1a hash h, from the
// cache when it holds w, else from the lexicon (and remembers them).
func (c *wordCache) lookup(lx *lexicon, w string, h uint64) uint64 {
	if len(w) == 0 || len(w) > wordCacheLen {
		return lx.getHash(w, h)
	}
	// two ways per set: the word most recently stored in the set first
	set := uint32(h>>8) & (wordCacheSize/2 - 1)
	e := &c.words[2*set]
	if int(e.n) == len(w) && string(e.key[:len(w)]) == w {
		return e.flags
	}
	if e2 := &c.words[2*set+1]; int(e2.n) == len(w) && string(e2.key[:len(w)]) == w {
		return e2.flags
	}
	if m := &c.memo[uint32(h>>8)&(noteMemoSize-1)]; m.gen == c.gen && int(m.n) == len(w) && string(m.key[:len(w)]) == w {
		return m.flags
	}
	f := lx.getHash(w, h)
	if (f&(lexSafe|lexCommon|lexClinical) == 0 || f&(lexFirst|lexLast|lexCity|lexUSCity) != 0) && f&vStopword == 0 {
		// only ordinary and clinical words that are no name or place are
		// kept: the cache outlives a request, and neither its content nor
		// the time a look-up takes may tell one request about the
		// identifiers of another. Function words ("to", "on", "he", which
		// a name or place list also holds) are kept too: every text has
		// them, so their presence tells nothing, and they are the most
		// frequent words of all
		c.note(w, h, f)
		return f
	}
	c.words[2*set+1] = *e
	e.n = uint8(len(w))
	copy(e.key[:], w)
	e.flags = f
	c.remember(w, f)
	return f
}
