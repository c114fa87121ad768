package phi

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSetLists checks that set, which splits on ASCII white space only,
// makes of every word list written in this package's sources the set that
// strings.Fields would, so that a list with another kind of space (or a
// word with a non-ASCII byte next to one) cannot lose or merge words.
func TestSetLists(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	lists := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "set" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != gotoken.STRING {
				t.Errorf("%s: set called with something other than a string literal", fset.Position(call.Pos()))
				return true
			}
			words, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			lists++
			want := map[string]bool{}
			for _, w := range strings.Fields(words) {
				want[w] = true
			}
			if got := set(words); !maps.Equal(got, want) {
				t.Errorf("%s: set gives %d words, strings.Fields %d", fset.Position(call.Pos()), len(got), len(want))
			}
			return true
		})
	}
	if lists < 30 {
		t.Fatalf("found %d word lists; the parse missed them", lists)
	}
	for _, s := range []string{"", " ", "a", " a ", "a\tb\nc\r\nd  e", "a\u00a0b"} {
		want := map[string]bool{}
		for _, w := range strings.Fields(s) {
			want[w] = true
		}
		if s == "a\u00a0b" {
			// not ASCII space: one word for set, two for Fields; no list may hold it
			want = map[string]bool{"a\u00a0b": true}
		}
		if got := set(s); !maps.Equal(got, want) {
			t.Errorf("set(%q) = %v, want %v", s, got, want)
		}
	}
}
