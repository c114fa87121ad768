package phi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
)

//go:generate go run ./internal/gen -philter ../../../../shared/data/philter -words /usr/share/dict/american-english -out data/lexicon.gz

// lexiconGz is the embedded lexicon: "word<TAB>hexflags" lines, sorted,
// gzip-compressed. See internal/gen for its sources and licences.
//
//go:embed data/lexicon.gz
var lexiconGz []byte

// Lexicon flag bits; internal/gen writes the same values.
const (
	lexFirst    = 1 << 0 // a first name (Philter)
	lexLast     = 1 << 1 // a surname (Philter)
	lexSafe     = 1 << 2 // an ordinary or clinical word (Philter safe list, clinicalWords)
	lexCity     = 1 << 3 // a one-word city name (GeoNames)
	lexUSCity   = 1 << 4 // a one-word US city name
	lexRegion   = 1 << 5 // a one-word country or US state
	lexPhrase   = 1 << 6 // the first word of a multi-word place
	lexPlace    = 1 << 7 // a whole multi-word city name
	lexRegionMW = 1 << 8 // a whole multi-word country or state
	lexCommon   = 1 << 9 // a lower-case English word (SCOWL)
)

// lexicon maps lower-case words (and space-joined multi-word places) to
// their flags. It is an open-addressing hash table over one string, with no
// pointer per entry, so that the garbage collector never walks it.
type lexicon struct {
	blob  string
	slots []lexSlot
	mask  uint64
	seed  maphash.Seed
}

type lexSlot struct {
	off   uint32 // offset in blob + 1; 0 marks an empty slot
	n     uint32
	flags uint64 // low 16 bits: lex* flags; high bits: v* vocabulary flags
}

// get returns the flags of lower-case word w, or 0.
func (lx *lexicon) get(w string) uint64 {
	i := maphash.String(lx.seed, w) & lx.mask
	for {
		sl := &lx.slots[i]
		if sl.off == 0 {
			return 0
		}
		if int(sl.n) == len(w) && lx.blob[sl.off-1:sl.off-1+sl.n] == w {
			return sl.flags
		}
		i = (i + 1) & lx.mask
	}
}

func newLexicon(words map[string]uint64) *lexicon {
	size := uint64(1)
	for size < uint64(len(words))*2 {
		size <<= 1
	}
	var blob strings.Builder
	lx := &lexicon{slots: make([]lexSlot, size), mask: size - 1, seed: maphash.MakeSeed()}
	for w, f := range words {
		i := maphash.String(lx.seed, w) & lx.mask
		for lx.slots[i].off != 0 {
			i = (i + 1) & lx.mask
		}
		lx.slots[i] = lexSlot{off: uint32(blob.Len() + 1), n: uint32(len(w)), flags: f}
		blob.WriteString(w)
	}
	lx.blob = blob.String()
	return lx
}

// errLexicon reports a damaged embedded lexicon.
var errLexicon = errors.New("phi: embedded lexicon is damaged")

func loadLexicon() (*lexicon, error) {
	zr, err := gzip.NewReader(bytes.NewReader(lexiconGz))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLexicon, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errLexicon, err)
	}
	// One string holds every word; map keys are substrings of it.
	all := string(raw)
	words := make(map[string]uint64, 600_000)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	off := 0
	for sc.Scan() {
		line := sc.Bytes()
		n := len(line)
		tab := bytes.IndexByte(line, '\t')
		if tab <= 0 {
			return nil, fmt.Errorf("%w: line at byte %d", errLexicon, off)
		}
		f, err := strconv.ParseUint(string(line[tab+1:]), 16, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: line at byte %d", errLexicon, off)
		}
		words[all[off:off+tab]] = f
		off += n + 1
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errLexicon, err)
	}
	for w := range clinicalWords {
		words[w] |= lexSafe
	}
	for bit, tbl := range vocabTables() {
		for w := range tbl {
			words[w] |= bit
		}
	}
	for w := range stopwords {
		words[w] |= lexSafe
	}
	return newLexicon(words), nil
}
