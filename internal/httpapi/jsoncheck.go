package httpapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a request body.
const maxJSONDepth = 64

// checkJSON walks one JSON document and refuses what encoding/json would
// let through: an object key given twice (also in another case, since
// encoding/json matches struct fields regardless of case), invalid UTF-8,
// a lone surrogate escape, and NUL, raw or escaped, in any string or key
// (PostgreSQL text cannot hold it). Its errors name the field path, never
// a value.
func checkJSON(b []byte) error {
	c := &jsonChecker{b: b}
	c.space()
	if err := c.value(); err != nil {
		return err
	}
	if c.space(); c.i != len(b) {
		return badRequest("bad_json", "the body must hold exactly one JSON value")
	}
	return nil
}

type jsonChecker struct {
	b     []byte
	i     int
	path  []pathStep
	depth int
}

// pathStep is an object key, or an array index when index >= 0.
type pathStep struct {
	key   string
	index int
}

func (c *jsonChecker) fail(format string, args ...any) error {
	return badRequest("bad_json", fmt.Sprintf(format, args...))
}

func (c *jsonChecker) syntax() error {
	if c.i >= len(c.b) {
		return badRequest("bad_json", "the body is empty or cut short")
	}
	return c.fail("malformed JSON at byte %d", c.i)
}

// where names the current position: a field path such as
// `field "identifiers.insurance"`, or "the body". Keys that do not look
// like field names are not repeated.
func (c *jsonChecker) where() string {
	if len(c.path) == 0 {
		return "the body"
	}
	var b strings.Builder
	for _, p := range c.path {
		switch {
		case p.index >= 0:
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
			continue
		case b.Len() > 0:
			b.WriteByte('.')
		}
		if fieldName(p.key) {
			b.WriteString(p.key)
		} else {
			b.WriteString("?")
		}
	}
	return strconv.Quote(b.String())
}

// fieldName reports whether a key of the caller's body may be repeated in
// an error: ASCII letters, digits, '_' and '-', starting with a letter or
// '_', with at most three digits. A key that starts with a digit or holds
// more digits is a date, a phone or record number or an SSN a client put
// where a key goes ("1970-03-04", "MRN884213"), never one of Ward's field
// names.
func fieldName(s string) bool {
	if len(s) == 0 || len(s) > 64 || !(s[0] == '_' || s[0] < utf8.RuneSelf && unicode.IsLetter(rune(s[0]))) {
		return false
	}
	digits := 0
	for _, r := range s {
		if !(r == '_' || r == '-' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return false
		}
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits <= 3
}

func (c *jsonChecker) space() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *jsonChecker) value() error {
	if c.i >= len(c.b) {
		return c.syntax()
	}
	switch ch := c.b[c.i]; {
	case ch == '{':
		return c.object()
	case ch == '[':
		return c.array()
	case ch == '"':
		_, err := c.str(false)
		return err
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	case ch == '-' || ch >= '0' && ch <= '9':
		return c.number()
	}
	return c.syntax()
}

func (c *jsonChecker) literal(lit string) error {
	if !strings.HasPrefix(string(c.b[c.i:min(len(c.b), c.i+len(lit))]), lit) {
		return c.syntax()
	}
	c.i += len(lit)
	return nil
}

func (c *jsonChecker) digits() int {
	n := 0
	for c.i < len(c.b) && c.b[c.i] >= '0' && c.b[c.i] <= '9' {
		c.i++
		n++
	}
	return n
}

func (c *jsonChecker) number() error {
	if c.b[c.i] == '-' {
		c.i++
	}
	if c.i < len(c.b) && c.b[c.i] == '0' {
		c.i++
	} else if c.digits() == 0 {
		return c.syntax()
	}
	if c.i < len(c.b) && c.b[c.i] == '.' {
		c.i++
		if c.digits() == 0 {
			return c.syntax()
		}
	}
	if c.i < len(c.b) && (c.b[c.i] == 'e' || c.b[c.i] == 'E') {
		c.i++
		if c.i < len(c.b) && (c.b[c.i] == '+' || c.b[c.i] == '-') {
			c.i++
		}
		if c.digits() == 0 {
			return c.syntax()
		}
	}
	return nil
}

func (c *jsonChecker) enter() error {
	if c.depth++; c.depth > maxJSONDepth {
		return c.fail("the body nests deeper than %d levels", maxJSONDepth)
	}
	c.i++
	return nil
}

func (c *jsonChecker) object() error {
	if err := c.enter(); err != nil {
		return err
	}
	seen := map[string]bool{}
	c.space()
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		c.depth--
		return nil
	}
	for {
		c.space()
		if c.i >= len(c.b) || c.b[c.i] != '"' {
			return c.syntax()
		}
		key, err := c.str(true)
		if err != nil {
			return err
		}
		c.path = append(c.path, pathStep{key: key, index: -1})
		if k := foldKey(key); seen[k] {
			return c.fail("%s is given more than once", c.where())
		} else {
			seen[k] = true
		}
		c.space()
		if c.i >= len(c.b) || c.b[c.i] != ':' {
			return c.syntax()
		}
		c.i++
		c.space()
		if err := c.value(); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		c.space()
		if c.i >= len(c.b) {
			return c.syntax()
		}
		switch c.b[c.i] {
		case ',':
			c.i++
		case '}':
			c.i++
			c.depth--
			return nil
		default:
			return c.syntax()
		}
	}
}

func (c *jsonChecker) array() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.space()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		c.depth--
		return nil
	}
	for n := 0; ; n++ {
		c.path = append(c.path, pathStep{index: n})
		c.space()
		if err := c.value(); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		c.space()
		if c.i >= len(c.b) {
			return c.syntax()
		}
		switch c.b[c.i] {
		case ',':
			c.i++
		case ']':
			c.i++
			c.depth--
			return nil
		default:
			return c.syntax()
		}
	}
}

// str checks the string at c.i and, for keys, returns it decoded.
func (c *jsonChecker) str(decode bool) (string, error) {
	what := func() string {
		if decode {
			if len(c.path) == 0 {
				return "a key of the body"
			}
			return "a key in " + c.where()
		}
		return c.where()
	}
	var out strings.Builder
	c.i++ // the opening quote
	for {
		if c.i >= len(c.b) {
			return "", c.syntax()
		}
		ch := c.b[c.i]
		switch {
		case ch == '"':
			c.i++
			return out.String(), nil
		case ch == 0:
			return "", c.fail("%s holds a NUL character", what())
		case ch < 0x20:
			return "", c.syntax()
		case ch == '\\':
			r, err := c.escape(what)
			if err != nil {
				return "", err
			}
			if decode {
				out.WriteRune(r)
			}
		case ch < utf8.RuneSelf:
			c.i++
			if decode {
				out.WriteByte(ch)
			}
		default:
			r, size := utf8.DecodeRune(c.b[c.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", c.fail("%s is not valid UTF-8", what())
			}
			c.i += size
			if decode {
				out.WriteRune(r)
			}
		}
	}
}

// escape reads the escape sequence at c.i.
func (c *jsonChecker) escape(what func() string) (rune, error) {
	if c.i+1 >= len(c.b) {
		return 0, c.syntax()
	}
	c.i++
	switch ch := c.b[c.i]; ch {
	case '"', '\\', '/':
		c.i++
		return rune(ch), nil
	case 'b':
		c.i++
		return '\b', nil
	case 'f':
		c.i++
		return '\f', nil
	case 'n':
		c.i++
		return '\n', nil
	case 'r':
		c.i++
		return '\r', nil
	case 't':
		c.i++
		return '\t', nil
	case 'u':
		r, ok := c.hex4()
		switch {
		case !ok:
			return 0, c.syntax()
		case r == 0:
			return 0, c.fail("%s holds a NUL character", what())
		case utf16IsLow(r):
			return 0, c.fail("%s holds a lone surrogate escape", what())
		case !utf16IsHigh(r):
			return r, nil
		}
		// A high surrogate must be followed by an escaped low one.
		if c.i+1 < len(c.b) && c.b[c.i] == '\\' && c.b[c.i+1] == 'u' {
			c.i++
			if lo, ok := c.hex4(); ok && utf16IsLow(lo) {
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), nil
			}
		}
		return 0, c.fail("%s holds a lone surrogate escape", what())
	}
	return 0, c.syntax()
}

// hex4 reads "uXXXX" at c.i.
func (c *jsonChecker) hex4() (rune, bool) {
	if c.i+5 > len(c.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(c.b[c.i+1:c.i+5]), 16, 32)
	if err != nil {
		return 0, false
	}
	c.i += 5
	return rune(n), true
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

// foldKey maps a key to one representative of its case-folding class, so
// keys equal under strings.EqualFold collide.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}
