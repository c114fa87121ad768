package phi

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// tokenizeRef is tokenize before its word loop lost the branch on case,
// kept as the oracle the faster loop must agree with. It splits s into tokens and returns them with an ASCII-lower-cased
// copy of s (byte offsets unchanged), written into buf when it is large
// enough. It appends to toks.
func tokenizeRef(s string, toks []token) ([]token, string, int) {
	low := make([]byte, len(s))
	upper := 0
	var pending uint16 // flags for the next token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			low[i] = c
			pending |= fSpace
			i++
		case c == '\n':
			low[i] = c
			pending |= fSpace | fNL
			i++
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				low[j] = s[j]
				j++
			}
			toks = append(toks, token{start: int32(i), end: int32(j), kind: tkNum, flags: pending})
			pending = 0
			i = j
		case c < utf8.RuneSelf && !isASCIILetter(c):
			low[i] = c
			toks = append(toks, token{start: int32(i), end: int32(i + 1), kind: tkPunct, flags: pending})
			pending = 0
			i++
		default:
			// A word: ASCII letters and non-ASCII letters and marks.
			j := i
			var fl uint16
			nUp, nLet := 0, 0
			firstUp := false
			for j < len(s) {
				b := s[j]
				if b < utf8.RuneSelf {
					if !isASCIILetter(b) {
						break
					}
					if b <= 'Z' {
						if nLet == 0 {
							firstUp = true
						}
						nUp++
						low[j] = b + 32
					} else {
						low[j] = b
					}
					nLet++
					j++
					continue
				}
				r, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r) && !unicode.IsMark(r) {
					break
				}
				if unicode.IsUpper(r) {
					if nLet == 0 {
						firstUp = true
					}
					nUp++
				}
				nLet++
				fl |= fNonASCII
				copy(low[j:j+n], s[j:j+n])
				j += n
			}
			if j == i { // a non-letter, non-ASCII rune
				r, n := utf8.DecodeRuneInString(s[i:])
				copy(low[i:i+n], s[i:i+n])
				if unicode.IsSpace(r) {
					pending |= fSpace
					if r == '\u2028' || r == '\u2029' || r == '\u0085' {
						pending |= fNL
					}
				} else {
					toks = append(toks, token{start: int32(i), end: int32(i + n), kind: tkPunct, flags: pending})
					pending = 0
				}
				i += n
				continue
			}
			if firstUp {
				fl |= fCap
			}
			if nUp == nLet && nLet >= 2 {
				fl |= fAllCaps
			}
			upper += nUp
			toks = append(toks, token{start: int32(i), end: int32(j), kind: tkWord, flags: pending | fl})
			pending = 0
			i = j
		}
	}
	// Sentence starts: the first token, after a line break, after . ! ?
	// unless the dot ends a title or an initial.
	for k := range toks {
		t := &toks[k]
		if k == 0 || t.has(fNL) {
			t.flags |= fSent
			continue
		}
		p := toks[k-1]
		if p.kind != tkPunct {
			continue
		}
		switch s[p.start] {
		case '!', '?':
			t.flags |= fSent
		case '.':
			if k >= 2 && toks[k-2].kind == tkWord && toks[k-2].end == p.start {
				w := low[toks[k-2].start:toks[k-2].end]
				if len(w) == 1 || titles[string(w)] || string(w) == "st" || string(w) == "vs" || string(w) == "no" {
					continue
				}
			}
			t.flags |= fSent
		}
	}
	// low is not written again while the string is in use: share its
	// bytes instead of copying (a pooled buffer is reused only after the
	// detector that reads it is done; see Engine.scratch)
	return toks, unsafe.String(unsafe.SliceData(low), len(low)), upper
}

// TestTokenizeRef checks tokenize against tokenizeRef on the test notes,
// the fuzz corpus and edge cases, in their case and upper and lower case.
func TestTokenizeRef(t *testing.T) {
	texts := []string{"", "a", "A", "Ab", "AB", "aB", "ÉCOLE école Éa aÉ K Kelvin İstanbul ǅ", "x@y.z [[ID_1]] 12ab AB12 O'Brien Dr. Mr. U.S. st. vs. no. 5",
		"`{}[]^_@\x7f", "a\u2028b\u2029c\u0085d\u00a0e\r\n\tf"}
	// the eight-byte letter loop (letters8): words of every length at
	// every offset of a block, ended by each byte just outside the letter
	// ranges ('@', '[', '`', '{', 0x7f, 0xc1 and 0xfa, whose bit 0x20 makes
	// no letter, and a non-ASCII letter), and random strings of those bytes
	r := rand.New(rand.NewPCG(14, 8))
	edges := []string{"@", "[", "`", "{", "\x7f", "\xc1", "\xfa", "é", "É", " ", ".", "0", "\n"}
	for n := 1; n <= 19; n++ {
		for _, e := range edges {
			w := make([]byte, n)
			for k := range w {
				w[k] = "aBzZmQ"[r.IntN(6)]
			}
			for off := 0; off < 9; off++ {
				texts = append(texts, strings.Repeat(" ", off)+string(w)+e+string(w))
			}
		}
	}
	alphabet := "aAzZyB@[`{\x7f\xc1\xfa\x80\xc3\xa9 .0\n"
	for range 3000 {
		b := make([]byte, r.IntN(40))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		texts = append(texts, string(b))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "notes", "*.txt"))
	fuzz, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	for _, f := range append(files, fuzz...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		for _, v := range []string{text, strings.ToUpper(text), strings.ToLower(text)} {
			want, wlow, wup := tokenizeRef(v, nil)
			got, glow, gup := tokenize(v, nil, nil)
			if !slices.Equal(got, want) || glow != wlow || gup != wup {
				t.Fatalf("%.60q: tokenize and tokenizeRef disagree", v)
			}
			// a pooled buffer holds an earlier text's tokens, with their
			// lexicon flags set: none of them may show through
			dirty := make([]token, len(v)+1)
			for k := range dirty {
				dirty[k] = token{start: -1, end: -1, kind: tkWord, flags: 0xffff, lex: 0xffff, voc: 0xffff}
			}
			got, glow, gup = tokenize(v, dirty[:0], make([]byte, len(v)))
			if !slices.Equal(got, want) || glow != wlow || gup != wup {
				t.Fatalf("%.60q: tokenize into used buffers and tokenizeRef disagree", v)
			}
		}
	}
}
