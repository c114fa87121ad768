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
	for w := range clinicalWords {
		extra[w] |= lexSafe | lexClinical
	}
	for w := range foodNames {
		extra[w] |= lexFoodName
		extra[firstWord(w)] |= lexFoodHead
	}
	for bit, tbl := range vocabTables() {
		for w := range tbl {
			extra[w] |= bit
		}
	}
	for w := range stopwords {
		extra[w] |= lexSafe
	}
	for w := range languages {
		extra[w] |= lexSafe
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
		return
	}
	if !bytes.Equal([]byte(overlayBin), want) {
		t.Fatal("data/overlay.bin does not match the vocabulary tables (run go test -run TestOverlayTable -update)")
	}
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
