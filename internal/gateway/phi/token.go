package phi

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

type tokKind uint8

const (
	tkWord  tokKind = 1 + iota // letters
	tkNum                      // ASCII digits
	tkPunct                    // one other rune
)

// Token flags (fSent must be fNL<<1: see tokenize).
const (
	fCap      uint16 = 1 << iota // first letter upper case
	fAllCaps                     // every letter upper case, two or more letters
	fSpace                       // white space before
	fNL                          // a line break before
	fSent                        // starts a sentence or line
	fNonASCII                    // holds a non-ASCII rune
	fNoCase                      // on a line whose writer does not use case (all upper or all lower)
)

// tokenize turns a line break into fSent by a shift: fails to compile
// unless fSent is fNL<<1.
var _ [0]struct{} = [fSent - fNL<<1]struct{}{}

// token is one word, digit run or punctuation rune of the input.
type token struct {
	start, end int32
	kind       tokKind
	flags      uint16
	lex        uint16 // lexicon flags, words only
	voc        uint16 // vocabulary flags (v*) >> 16, words only
}

func (t *token) has(f uint16) bool { return t.flags&f != 0 }

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool       { return isDigit(c) || isASCIILetter(c) }

// sentFlag returns fSent for a token that follows toks with the flags
// pending: it starts a sentence when it is the first token, after a line
// break, or after . ! ? unless the dot ends a title or an initial.
func sentFlag(s string, low []byte, toks []token, pending uint16) uint16 {
	k := len(toks)
	if k == 0 || pending&fNL != 0 {
		return fSent
	}
	if toks[k-1].kind != tkPunct {
		return 0
	}
	return sentAfterPunct(s, low, toks)
}

// sentAfterPunct is sentFlag for a token after punctuation on the same line.
func sentAfterPunct(s string, low []byte, toks []token) uint16 {
	k := len(toks)
	p := &toks[k-1]
	switch s[p.start] {
	case '!', '?':
		return fSent
	case '.':
		if k >= 2 && toks[k-2].kind == tkWord && toks[k-2].end == p.start {
			w := low[toks[k-2].start:toks[k-2].end]
			if len(w) == 1 || titles[string(w)] || string(w) == "st" || string(w) == "vs" || string(w) == "no" {
				return 0
			}
		}
		return fSent
	}
	return 0
}

// byteClass sorts the bytes for tokenize's main loop: an ASCII letter,
// a digit, white space other than a line break, a line break, other ASCII
// (punctuation), or a byte of a non-ASCII rune.
const (
	bcLetter uint8 = iota
	bcDigit
	bcSpace
	bcNL
	bcPunct
	bcHigh
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case isASCIILetter(b):
			t[c] = bcLetter
		case isDigit(b):
			t[c] = bcDigit
		case b == ' ' || b == '\t' || b == '\r' || b == '\f' || b == '\v':
			t[c] = bcSpace
		case b == '\n':
			t[c] = bcNL
		case b < utf8.RuneSelf:
			t[c] = bcPunct
		default:
			t[c] = bcHigh
		}
	}
	return t
}()

// push appends a token to toks, written field by field into the slice:
// a token built whole and copied in stalls the processor (its fields are
// narrow stores that a wide load of the copy cannot forward from).
func push(toks []token, start, end int, kind tokKind, flags uint16) []token {
	n := len(toks)
	if n == cap(toks) {
		toks = slices.Grow(toks, 1)
	}
	toks = toks[:n+1]
	t := &toks[n]
	t.start, t.end, t.kind, t.flags = int32(start), int32(end), kind, flags
	t.lex, t.voc = 0, 0
	return toks
}

// tokenize splits s into tokens and returns them with an ASCII-lower-cased
// copy of s (byte offsets unchanged), written into buf when it is large
// enough. It appends to toks.
func tokenize(s string, toks []token, buf []byte) ([]token, string, int) {
	var low []byte
	if cap(buf) >= len(s) {
		low = buf[:len(s)] // every byte is written below
	} else {
		low = make([]byte, len(s))
	}
	upper := 0
	var pending uint16 // flags for the next token
	// after is sentFlag of the next token without a line break before it:
	// it changes only when a token is appended (fSent after the first
	// token, or after the punctuation that ends a sentence)
	after := sentFlag(s, low, toks, 0)
	i := 0
	for i < len(s) {
		c := s[i]
		switch byteClass[c] {
		case bcSpace:
			low[i] = c
			pending |= fSpace
			i++
		case bcNL:
			low[i] = c
			pending |= fSpace | fNL
			i++
		case bcDigit:
			j := i
			for j < len(s) && isDigit(s[j]) {
				low[j] = s[j]
				j++
			}
			toks = push(toks, i, j, tkNum, pending|after|(pending&fNL)<<1)
			after = 0
			pending = 0
			i = j
		case bcPunct:
			low[i] = c
			toks = push(toks, i, i+1, tkPunct, pending|after|(pending&fNL)<<1)
			after = sentAfterPunct(s, low, toks)
			pending = 0
			i++
		default:
			// A word: ASCII letters and non-ASCII letters and marks.
			j := i
			var fl uint16
			nUp := 0
			firstUp := c <= 'Z' // c is an ASCII letter or a non-ASCII byte here
			extra := 0          // bytes of multi-byte runes beyond their first
			// eight bytes at a time while they are all ASCII letters
			// (most words, and the head of longer ones): see letters8
			for j+8 <= len(s) {
				l, k, up := letters8(s, j)
				binary.LittleEndian.PutUint64(low[j:], l) // bytes past the letters are written again below
				nUp += up
				j += k
				if k < 8 {
					break
				}
			}
			for j < len(s) {
				b := s[j]
				// an ASCII letter, without a branch on the case: the
				// lower-case form has bit 0x20 set, the upper-case one has not
				if l := b | 0x20; l-'a' <= 'z'-'a' {
					nUp += int(l^b) >> 5
					low[j] = l
					j++
					continue
				}
				if b < utf8.RuneSelf {
					break // ASCII, not a letter
				}
				r, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r) && !unicode.IsMark(r) {
					break
				}
				if unicode.IsUpper(r) {
					if j == i {
						firstUp = true
					}
					nUp++
				}
				fl |= fNonASCII
				copy(low[j:j+n], s[j:j+n])
				j += n
				extra += n - 1
			}
			nLet := j - i - extra
			if j == i { // a non-letter, non-ASCII rune
				r, n := utf8.DecodeRuneInString(s[i:])
				copy(low[i:i+n], s[i:i+n])
				if unicode.IsSpace(r) {
					pending |= fSpace
					if r == '\u2028' || r == '\u2029' || r == '\u0085' {
						pending |= fNL
					}
				} else {
					toks = push(toks, i, i+n, tkPunct, pending|after|(pending&fNL)<<1)
					after = sentAfterPunct(s, low, toks)
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
			toks = push(toks, i, j, tkWord, pending|fl|after|(pending&fNL)<<1)
			after = 0
			pending = 0
			i = j
		}
	}
	// low is not written again while the string is in use: share its
	// bytes instead of copying (a pooled buffer is reused only after the
	// detector that reads it is done; see Engine.scratch)
	return toks, unsafe.String(unsafe.SliceData(low), len(low)), upper
}

// letters8 reads the eight bytes of s at j and returns them with bit 0x20
// set in each (the lower-case form of the letters among them), how many
// of them from the first on are ASCII letters (k, 0 to 8), and how many
// of those k are upper case. It is the tokenizer's letter loop for eight
// bytes at once, with one load and no branch per byte (SWAR): for a byte
// x below 0x80, x+0x1f has its top bit set when x >= 'a', and x+0x05
// when x > 'z'; neither sum carries into the next byte.
func letters8(s string, j int) (l uint64, k int, up int) {
	const (
		ones = 0x0101010101010101
		high = 0x80 * ones
	)
	v := *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), j))
	l = v | 0x20*ones
	lo := l &^ high
	letter := (lo + 0x1f*ones) &^ (lo + 0x05*ones) &^ v & high // top bit of each ASCII letter
	other := letter ^ high                                     // top bit of each other byte
	k = bits.TrailingZeros64(other) >> 3                       // 8 when other is 0
	prefix := (other & -other) - 1                             // the bits of the first k bytes (all when other is 0)
	// an upper-case letter has bit 0x20 clear: shifted left by two, that
	// bit lands on the byte's top bit
	up = bits.OnesCount64(letter &^ (v << 2) & prefix)
	return l, k, up
}
