package phi

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"
)

// overlayWords returns the words of the overlay with their flags beyond
// the embedded table's: the vocabulary tables of this package.
func overlayWords() map[string]uint64 {
	extra := map[string]uint64{}
	for w := range clinicalWords() {
		extra[w] |= lexSafe | lexClinical
	}
	for w := range foodNames() {
		extra[w] |= lexFoodName
		extra[firstWord(w)] |= lexFoodHead
	}
	for bit, tbl := range vocabTables() {
		for w := range tbl {
			extra[w] |= bit
		}
	}
	for w := range stopwords() {
		extra[w] |= lexSafe
	}
	for w := range productNames() {
		extra[w] |= lexSafe
	}
	for w := range adminWords() {
		extra[w] |= lexSafe | lexCommon
	}
	for w := range planNames() {
		extra[w] |= lexSafe | lexCommon
	}
	for w := range languages() {
		extra[w] |= lexSafe
	}
	for w := range foreignNoteWords() {
		extra[w] |= lexSafe | lexCommon
	}
	for bit, words := range passHints() {
		for _, w := range words {
			extra[w] |= bit
		}
	}
	return extra
}

// writeOverlay returns the overlay table (the format is described at
// overlayHeader) of the vocabulary tables, each word's flags merged with
// those of the embedded table base. Words are inserted in sorted order,
// so the output is deterministic.
func writeOverlay(base *lexicon) []byte {
	extra := overlayWords()
	words := make([]string, 0, len(extra))
	for w := range extra {
		words = append(words, w)
	}
	slices.Sort(words)
	size := uint32(1)
	for size < uint32(len(extra))*2 {
		size <<= 1
	}
	slots := make([]byte, overSlotSize*size)
	blob := []byte{0}
	for _, w := range words {
		if len(w) > 255 {
			panic("overlay word longer than 255 bytes")
		}
		h := fnv1a(w)
		i := uint32(h) & (size - 1)
		for binary.LittleEndian.Uint32(slots[overSlotSize*i+8:]) != 0 {
			i = (i + 1) & (size - 1)
		}
		s := slots[overSlotSize*i:]
		binary.LittleEndian.PutUint64(s, extra[w]|uint64(base.base(w, h)))
		binary.LittleEndian.PutUint32(s[8:], uint32(len(blob)))
		s[12], s[13] = byte(len(w)), byte(h>>56)
		blob = append(blob, w...)
	}
	out := []byte("WOV1")
	out = binary.LittleEndian.AppendUint32(out, size)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(blob)))
	out = append(out, slots...)
	return append(out, blob...)
}

// writePhraseFilter returns the phrase filter (see phraseHeader) of every
// entry of the embedded table base and of the overlay that carries a
// phrase flag.
func writePhraseFilter(base *lexicon) []byte {
	var keys []string
	for off := 1; off < len(base.blob); {
		l := int(base.blob[off])
		if f := uint64(base.blob[off+1]) | uint64(base.blob[off+2])<<8; f&phraseFlags != 0 {
			keys = append(keys, base.blob[off+3:off+3+l])
		}
		off += 3 + l
	}
	for w, f := range overlayWords() {
		if f&phraseFlags != 0 {
			keys = append(keys, w)
		}
	}
	// about 16 bits a key: a phrase that is none passes the filter about
	// once in 200 tries
	n := uint32(8)
	for n < uint32(len(keys))*16 && n < 1<<21 {
		n <<= 1
	}
	bits := make([]byte, n/8)
	for _, w := range keys {
		h := fnv1a(w)
		for k := 0; k < 3; k++ {
			b := (h >> (21 * k)) & uint64(n-1)
			bits[b>>3] |= 1 << (b & 7)
		}
	}
	out := []byte("WPH1")
	out = binary.LittleEndian.AppendUint32(out, n)
	return append(out, bits...)
}

// TestOverlayTable checks that data/overlay.bin holds the vocabulary
// tables of this package as they are now (run with -update to rewrite it)
// and that every word of them is found there with its flags.
func TestOverlayTable(t *testing.T) {
	lx, err := loadLexicon()
	if err != nil && !*update {
		t.Fatal(err)
	}
	if lx == nil {
		// the overlay itself is damaged or stale in format: rebuild
		// it from the embedded table alone
		b := lexiconBin
		n := binary.LittleEndian.Uint32([]byte(b[4:8]))
		lx = &lexicon{slots: b[12 : 12+4*n], blob: b[12+4*n:], mask: n - 1}
	}
	want := writeOverlay(lx)
	if *update {
		if err := os.WriteFile("data/overlay.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		// the filter holds the overlay's phrases too: read it back
		overlayBin = string(want)
		if lx, err = loadLexicon(); err != nil && lx == nil {
			b := lexiconBin
			n := binary.LittleEndian.Uint32([]byte(b[4:8]))
			lx = &lexicon{slots: b[12 : 12+4*n], blob: b[12+4*n:], mask: n - 1}
		}
		if err := os.WriteFile("data/phrases.bin", writePhraseFilter(lx), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal([]byte(overlayBin), want) {
		t.Fatal("data/overlay.bin does not match the vocabulary tables (run go test -run TestOverlayTable -update)")
	}
	if !bytes.Equal([]byte(phrasesBin), writePhraseFilter(lx)) {
		t.Fatal("data/phrases.bin does not match the tables (run go test -run TestOverlayTable -update)")
	}
	// no entry with a phrase flag is lost by the filter, and a word
	// that is no phrase passes it rarely
	phrases, passed, tried := 0, 0, 0
	for off := 1; off < len(lx.blob); {
		l := int(lx.blob[off])
		w := lx.blob[off+3 : off+3+l]
		if f := lx.get(w); f&phraseFlags != 0 {
			phrases++
			if got := lx.phrase(w); got != f&phraseFlags {
				t.Fatalf("%q: phrase flags %#x, want %#x", w, got, f&phraseFlags)
			}
		} else {
			tried++
			if lx.phraseMayHold(fnv1a(w)) {
				passed++
			}
		}
		off += 3 + l
	}
	for w, f := range overlayWords() {
		if f&phraseFlags != 0 && lx.phrase(w) != lx.get(w)&phraseFlags {
			t.Fatalf("%q: phrase flags %#x, want %#x", w, lx.phrase(w), lx.get(w)&phraseFlags)
		}
	}
	if phrases < 1000 || passed*50 > tried {
		t.Errorf("%d phrases; %d of %d other words pass the phrase filter", phrases, passed, tried)
	}
	t.Logf("%d phrases; %d of %d other words pass the phrase filter", phrases, passed, tried)
	for w, f := range overlayWords() {
		h := fnv1a(w)
		if got, base := lx.get(w), uint64(lx.base(w, h)); got != f|base {
			t.Errorf("%q: flags %#x, want %#x", w, got, f|base)
		}
	}
	// a word of the embedded table that is no vocabulary word, and one on
	// no list, come from the embedded table alone
	for _, w := range []string{"propofol", "zzqxv"} {
		if _, ok := overlayWords()[w]; ok {
			t.Fatalf("%q is in the overlay", w)
		}
		if got, want := lx.get(w), uint64(lx.base(w, fnv1a(w))); got != want {
			t.Errorf("%q: flags %#x, want %#x", w, got, want)
		}
	}
}
