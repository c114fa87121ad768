package phi

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden redacts each note in testdata/notes (synthetic notes written
// for these tests) and compares with testdata/golden. Run with -update to
// accept a change after reading the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no notes: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := redact(t, string(in), nil)
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, []byte(r.Text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if r.Text != string(want) {
				gl, wl := strings.Split(r.Text, "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					g, w := line(gl, i), line(wl, i)
					if g != w {
						t.Errorf("line %d:\ngot  %s\nwant %s", i+1, g, w)
					}
				}
			}
		})
	}
}

func line(ls []string, i int) string {
	if i < len(ls) {
		return ls[i]
	}
	return "<EOF>"
}
