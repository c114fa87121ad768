package phi

import (
	"cmp"
	"strings"
	"testing"
)

// TestLexiconLayout checks that the embedded table's entries are laid out
// as internal/gen's blobOrder lays them out: ordinary and clinical single
// words first, then names, then other single words, then phrases, shorter
// before longer within each, so that the entries ordinary text meets sit
// in as few pages as possible.
func TestLexiconLayout(t *testing.T) {
	lx := testEngine(t).lex
	class := func(w string, f uint16) int {
		switch {
		case strings.Contains(w, " "):
			return 3
		case f&(lexSafe|lexCommon|lexClinical) != 0:
			return 0
		case f&(lexFirst|lexLast) != 0:
			return 1
		}
		return 2
	}
	prevClass, prevLen, prev, n := -1, 0, "", 0
	for p := 1; p < len(lx.blob); n++ {
		l := int(lx.blob[p])
		f := uint16(lx.blob[p+1]) | uint16(lx.blob[p+2])<<8
		w := lx.blob[p+3 : p+3+l]
		c := class(w, f)
		if k := cmp.Or(cmp.Compare(c, prevClass), cmp.Compare(l, prevLen), strings.Compare(w, prev)); k <= 0 {
			t.Fatalf("entry %d (class %d, %d bytes) after one of class %d, %d bytes: not in blobOrder", n, c, l, prevClass, prevLen)
		}
		prevClass, prevLen, prev = c, l, w
		p += 3 + l
	}
	if n < 600000 {
		t.Errorf("%d entries", n)
	}
}
