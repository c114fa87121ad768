package phi

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize rewrites the characters that hide an identifier from the
// engine without changing what a reader sees: text pasted from a record
// system or a word processor brings them, and the engine reads
// "617 555 0142" and "123-45-6789" but not the same digits joined by
// no-break spaces or non-breaking hyphens, nor a name with a zero-width
// space inside. The engine reads every text through it (Detect, Redact,
// Holds map what they find back to the text as given); the gateway also
// sends the upstream the normalized text.
//
//   - every space separator (no-break, thin, figure, ideographic…) → ' ',
//     a line or paragraph separator → '\n';
//   - the hyphens and dashes U+2010–U+2015, the minus sign and the small
//     and full-width hyphen-minus → '-';
//   - full-width ASCII (U+FF01–U+FF5E: "６１７", "Ｒｏｓａ") → ASCII;
//   - every other decimal digit (Arabic-Indic "٦١٧", Devanagari "६१७",
//     mathematical bold "𝟔𝟏𝟕"…) → its ASCII digit, and the styled
//     letters and digits a reader reads as plain ones (mathematical
//     alphanumerics "𝐑𝐨𝐬𝐚", superscripts and subscripts "¹⁹⁶²", circled
//     and parenthesised ones "①"; each whose compatibility form is one
//     ASCII letter or digit) → that letter or digit;
//   - every other dash (Unicode's dash punctuation, the hyphen bullet, the
//     swung dash, the modifier and heavy minus signs) → '-';
//   - invisible format characters (zero-width space, soft hyphen, word
//     joiner, byte order mark, direction marks and embeddings) removed;
//     a zero-width joiner or non-joiner only between two ASCII letters or
//     digits, since elsewhere it shapes a script or joins an emoji;
//   - control characters (C0, DEL, C1: NUL, backspace, unit separator…)
//     removed, but for tab, line feed and carriage return; NEL, vertical
//     tab and form feed → '\n' (whitespace, which would join words if
//     dropped): a client's text can hold them where a reader sees nothing,
//     and "Van\x00tongeren" or "07/14/\x001962" would otherwise pass whole;
//   - a combining mark (or an enclosing one, a variation selector) on a
//     digit removed: "1962-0\u03017-14" reads as the date it is;
//   - a middle dot, a one-dot leader, a hyphenation point, a bullet or
//     dot operator between two digits → '.', so "617·555·0142" reads as
//     "617.555.0142";
//   - a tab between two ASCII digits → ' ', so "617\t555\t0142" reads as
//     the number it is (elsewhere a tab stays: code and tables keep it).
//
// A text of printable ASCII and line breaks alone is returned as it is,
// without a copy. s must be valid UTF-8 (an invalid byte becomes U+FFFD).
func Normalize(s string) string {
	n, _ := fold(s, false, false)
	return n
}

// NormalizeSent is Normalize as the gateway sends a text upstream: the
// styled letters and digits (superscripts and subscripts, circled ones,
// mathematical alphanumerics) stay as they are, since their style is
// their meaning there ("x²", "m³", "H₂O", "2³ = 8": "x2", "23 = 8" say
// something else). The engine finds an identifier written with them all
// the same (it reads the text as Normalize folds it, and replaces the
// characters the identifier was written with).
func NormalizeSent(s string) string {
	n, _ := fold(s, false, true)
	return n
}

// fold is Normalize, and with offsets, when the text changed, where each
// byte of the result came from: offs[i] is the offset in s of the rune
// that wrote byte i of the result (nil when the text is unchanged). It
// allocates nothing for a text it leaves as it is.
func fold(s string, offsets, keepStyled bool) (string, []int32) {
	f := folder{keepStyled: keepStyled}
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && !asciiControl(s[i]) {
		i++
	}
	prev := rune(-1)
	if i > 0 {
		prev = rune(s[i-1])
	}
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if out, keep := foldRune(r, prev, s[i+n:], &f); !keep || out != r {
			return foldFrom(s, i, prev, offsets, &f)
		}
		prev = r
		i += n
	}
	return s, nil
}

// foldFrom is fold of s whose first i bytes stay as they are and whose
// rune at i changes; prev is the last rune before i (-1: none).
func foldFrom(s string, i int, prev rune, offsets bool, f *folder) (string, []int32) {
	var b strings.Builder
	var offs []int32
	b.Grow(len(s))
	b.WriteString(s[:i])
	if offsets {
		offs = make([]int32, i, len(s))
		start := 0
		for k := range offs {
			if utf8.RuneStart(s[k]) {
				start = k
			}
			offs[k] = int32(start)
		}
	}
	for j := i; j < len(s); {
		r, n := utf8.DecodeRuneInString(s[j:])
		if out, keep := foldRune(r, prev, s[j+n:], f); keep {
			w, _ := b.WriteRune(out)
			for ; offsets && w > 0; w-- {
				offs = append(offs, int32(j))
			}
			prev = out
		}
		j += n
	}
	return b.String(), offs
}

// unfold maps sp, a span of the folded text, to the text s that fold
// folded with offsets offs: from the first rune of s that wrote into it
// to the end of the last one.
func unfold(sp Span, s string, offs []int32) Span {
	start, last := int(offs[sp.Start]), int(offs[sp.End-1])
	_, n := utf8.DecodeRuneInString(s[last:])
	sp.Start, sp.End = start, last+n
	return sp
}

// foldRune is fold's rule for r, after prev (the last rune written, -1:
// none) and before the text after: the rune to write and whether to write
// one at all. The neighbours the tab and joiner rules look at are those a
// reader sees: the folded rune before, and the next rune after that fold
// keeps.
func foldRune(r rune, prev rune, after string, f *folder) (rune, bool) {
	switch {
	case r == '\t':
		if isDigitRune(prev) && isDigitRune(f.next(after)) {
			return ' ', true
		}
		return r, true
	case r == '\v' || r == '\f':
		// Vertical tab and form feed are whitespace (a page break in an
		// exported note): dropped, they would join the words beside them.
		return '\n', true
	case r < utf8.RuneSelf && asciiControl(byte(r)):
		return 0, false
	case r < utf8.RuneSelf:
		return r, true
	case r == '\u0085':
		return '\n', true
	case r < '\u00a0':
		return 0, false // C1 controls
	case r == '\u2028' || r == '\u2029':
		return '\n', true
	case unicode.Is(unicode.Zs, r):
		return ' ', true
	case r >= '\u2010' && r <= '\u2015' || r == '\u2212' || r == '\uFE58' || r == '\uFE63':
		return '-', true
	case r >= '\uFF01' && r <= '\uFF5E':
		return r - 0xFF01 + '!', true
	case isDigitRune(prev) && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)):
		// a combining mark on a digit ("0\u0301", a keycap "1\ufe0f\u20e3"):
		// a reader reads the digit; no script writes one
		return 0, false
	case middleDot(r) && isDigitRune(prev) && isDigitRune(f.next(after)):
		return '.', true
	case r == '\u2043' || r == '\u2053' || r == '\u02D7' || r == '\u2796' || unicode.Is(unicode.Pd, r):
		return '-', true
	case unicode.Is(unicode.Nd, r):
		return ndDigit(r), true
	case !f.keepStyled && styledAlnum(r):
		return plainAlnum(r), true
	case r == '\u200C' || r == '\u200D':
		return r, !(asciiAlnum(prev) && asciiAlnum(f.next(after)))
	case unicode.Is(unicode.Cf, r):
		return 0, false
	}
	return r, true
}

// folder is the state of one fold: whether it keeps the styled letters
// and digits (NormalizeSent), and nextKeptAt's last answer. The runes
// nextKeptAt skips are skipped from wherever among them it starts, so its
// answer holds for every text after that begins among them or at the rune
// found: a run of joiners between two letters is read once, not once a
// joiner ("a", 40,000 joiners and "b" took seconds, a megabyte of them
// minutes).
type folder struct {
	keepStyled bool
	ok         bool
	from, to   int  // len(after) where the last look began and where its rune lies (0: the end)
	r          rune // what it found
}

// next is nextKeptAt's rune of after, a suffix of the text folded.
func (f *folder) next(after string) rune {
	if n := len(after); f.ok && n <= f.from && n >= f.to {
		return f.r
	}
	r, at := peekScan(after)
	f.ok, f.from, f.to, f.r = true, len(after), len(after)-at, r
	return r
}

// peekScan is nextKeptAt (a test counts its calls).
var peekScan = nextKeptAt

// nextKeptAt is the first rune of s that fold writes, as far as the tab
// and joiner rules care (runes fold always drops and the joiners
// themselves are skipped, a full-width ASCII one is read as ASCII; -1 at
// the end), and its offset in s (len(s) at the end).
func nextKeptAt(s string) (rune, int) {
	for i, q := range s {
		switch {
		case q < utf8.RuneSelf && asciiControl(byte(q)) && q != '\t' && q != '\v' && q != '\f',
			q >= 0x80 && q < 0xa0 && q != 0x85,
			q == '\u200C' || q == '\u200D',
			q >= 0xa0 && unicode.Is(unicode.Cf, q):
			continue
		case q >= '\uFF01' && q <= '\uFF5E':
			return q - 0xFF01 + '!', i
		case q >= utf8.RuneSelf && unicode.Is(unicode.Nd, q):
			return ndDigit(q), i
		case styledAlnum(q):
			return plainAlnum(q), i
		}
		return q, i
	}
	return -1, len(s)
}

// asciiControl reports a C0 control or DEL that fold rewrites: all but
// line feed and carriage return (a tab is looked at too).
func asciiControl(c byte) bool {
	return c < 0x20 && c != '\n' && c != '\r' || c == 0x7f
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' }

func asciiAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// ndDigit is the ASCII digit of r, a decimal digit (Unicode's Nd): each
// script's digits are a run of ten code points from its zero, and Nd's
// ranges are made of such runs.
func ndDigit(r rune) rune {
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return '0' + (r-rune(rg.Lo))%10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return '0' + (r-rune(rg.Lo))%10
		}
	}
	return r
}

// styledAlnum reports whether r is a styled letter or digit a reader reads
// as a plain one: in the blocks of superscripts and subscripts, enclosed
// alphanumerics, dingbat circled digits and mathematical alphanumerics,
// and whose compatibility form (NFKC) is one ASCII letter or digit.
func styledAlnum(r rune) bool {
	switch {
	case r == '\u00B2' || r == '\u00B3' || r == '\u00B9',
		r >= '\u2070' && r <= '\u209F',
		r >= '\u2460' && r <= '\u24FF',
		r >= '\u2776' && r <= '\u2793',
		r >= 0x1D400 && r <= 0x1D7FF,
		r >= 0x1F100 && r <= 0x1F1FF:
		return plainAlnum(r) != r
	}
	return false
}

// plainAlnum is r's compatibility form when that is one ASCII letter or
// digit, else r.
func plainAlnum(r rune) rune {
	var buf [utf8.UTFMax]byte
	k := norm.NFKC.Bytes(buf[:utf8.EncodeRune(buf[:], r)])
	if len(k) == 1 && asciiAlnum(rune(k[0])) {
		return rune(k[0])
	}
	return r
}

// middleDot reports the dots a number's groups are written apart with
// that fold reads as '.' between two digits.
func middleDot(r rune) bool {
	switch r {
	case '\u00B7', '\u2024', '\u2027', '\u2219', '\u22C5', '\u30FB', '\uFF65':
		return true
	}
	return false
}
