package phi

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestAdjacentWordReach checks what strongNear relies on: the word that
// adjacentWord returns is never more than two tokens away.
func TestAdjacentWordReach(t *testing.T) {
	files, _ := filepath.Glob("testdata/notes/*.txt")
	texts := []string{"J. Smith and O'Brien-Lee, Mary - Jo; e.g. A.B. Cde's x-y 'z'", "Dr. s. cornelio rrt\nCORLIS, MARK, VIEVA and CHASEY"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	e := testEngine(t)
	for _, text := range texts {
		sc := e.caches.Get().(*scratch)
		d := newDetector(e, context.Background(), text, nil, sc)
		for i := range d.toks {
			for _, dir := range []int{-1, 1} {
				if k := d.adjacentWord(i, dir); k >= 0 && (k-i > 2 || i-k > 2) {
					t.Errorf("adjacentWord(%d, %d) = %d: more than two tokens away", i, dir, k)
				}
			}
		}
	}
}
