package docstream_test

import (
	"testing"

	"github.com/wardhq/ward/internal/vault/docstream"
)

// boundarySizes are plaintext sizes around every kind of segment edge.
func boundarySizes() []int64 {
	var s []int64
	for _, base := range []int64{0, firstPlain, firstPlain + plainSeg, firstPlain + 2*plainSeg, 1 << 20, 2 << 20, 3 << 20} {
		for d := int64(-2); d <= 2; d++ {
			if base+d >= 0 {
				s = append(s, base+d)
			}
		}
	}
	return append(s, 17, 4096, 1<<20-1, 1<<20+1)
}

func TestSizes(t *testing.T) {
	for _, c := range []struct{ p, c int64 }{
		{0, 40 + 16},
		{1, 40 + 1 + 16},
		{firstPlain, 1 << 20},
		{firstPlain + 1, 1<<20 + 1 + 16},
		{firstPlain + plainSeg, 2 << 20},
		{firstPlain + plainSeg + 1, 2<<20 + 1 + 16},
		{64 << 20, 40 + 64<<20 + 16*65},
	} {
		if got := docstream.CiphertextSize(c.p); got != c.c {
			t.Errorf("CiphertextSize(%d) = %d, want %d", c.p, got, c.c)
		}
	}
	if got := docstream.CiphertextSize(-1); got != -1 {
		t.Errorf("CiphertextSize(-1) = %d, want -1", got)
	}
	// PlaintextSize inverts CiphertextSize, and refuses every size in the
	// gaps between two consecutive ciphertext sizes.
	sizes := boundarySizes()
	for p := int64(0); p < 300; p++ {
		sizes = append(sizes, p)
	}
	for _, p := range sizes {
		c := docstream.CiphertextSize(p)
		got, err := docstream.PlaintextSize(c)
		if err != nil || got != p {
			t.Errorf("PlaintextSize(CiphertextSize(%d) = %d) = %d, %v", p, c, got, err)
		}
		next := docstream.CiphertextSize(p + 1)
		for gap := c + 1; gap < next; gap++ {
			if _, err := docstream.PlaintextSize(gap); !isIntegrity(err) {
				t.Errorf("PlaintextSize(%d), between %d and %d: %v, want ErrIntegrity", gap, c, next, err)
			}
		}
	}
	for _, c := range []int64{-1, 0, 1, 40, 55} {
		if _, err := docstream.PlaintextSize(c); !isIntegrity(err) {
			t.Errorf("PlaintextSize(%d): %v, want ErrIntegrity", c, err)
		}
	}
}
