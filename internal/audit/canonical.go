package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Row is one stored event: the columns of audit.log (the event and its leaf). Nullable text
// columns are nil for SQL NULL (an empty string is a different event).
type Row struct {
	Org        uuid.UUID
	Seq        int64
	At         time.Time
	Action     string
	Outcome    string
	Actor      uuid.NullUUID
	ActorKind  string
	Session    uuid.NullUUID
	ObjectType *string
	ObjectID   uuid.NullUUID
	Patient    uuid.NullUUID
	Results    []uuid.UUID
	Request    *string
	IP         *string
	UserAgent  *string
	// Details is the JSON of the details column (any key order or spacing;
	// empty means {}).
	Details json.RawMessage
	// V is the canonical version the row was written with: 1 (the
	// foundation) or 2 (which adds the fields below). A v1 row has the
	// zero values for them.
	V int
	// CredentialKind and Credential name the credential the actor
	// presented; Device the device it was bound to; Case the case the event
	// is about; Disclosure the recipient and purpose of a disclosure (JSON,
	// nil for none); BreakGlass whether break-glass access was used.
	CredentialKind *string
	Credential     uuid.NullUUID
	Device         *string
	Case           uuid.NullUUID
	Disclosure     json.RawMessage
	BreakGlass     bool
	// Canonical, LeafHash and ChainHash are the stored bytes, as read.
	Canonical []byte
	LeafHash  []byte
	ChainHash []byte
}

// Canonical rebuilds, from r's columns, the RFC 8785 (JCS) bytes that
// audit.append stored for it: the event object of audit.event_json with
// keys in code-point order, strings escaped as JCS requires and numbers as
// integers. Seq and the stored hashes are not part of it. The error wraps
// ErrInvalidEvent when the columns cannot form an event audit.append would
// have accepted (a non-integer or over-2^53 number, a non-ASCII object key,
// a duplicate key, invalid UTF-8 or JSON).
func Canonical(r Row) ([]byte, error) {
	return appendCanonical(make([]byte, 0, 512), &r)
}

// appendCanonical appends the canonical bytes of r to b. The keys of
// audit.event_json are written in their sorted order:
// action actor actor_kind at details ip object_id object_type org outcome
// patient request results session ua v; version 2 (audit.event_json_v2)
// adds break_glass case credential credential_kind after at, and device
// disclosure after details.
func appendCanonical(b []byte, r *Row) ([]byte, error) {
	var err error
	if r.V != 1 && r.V != 2 {
		return b, fmt.Errorf("%w: unknown canonical version %d", ErrInvalidEvent, r.V)
	}
	v2 := r.V == 2
	b = append(b, `{"action":`...)
	if b, err = appendString(b, r.Action); err != nil {
		return b, fmt.Errorf("action: %w", err)
	}
	b = append(b, `,"actor":`...)
	b = appendNullUUID(b, r.Actor)
	b = append(b, `,"actor_kind":`...)
	if b, err = appendString(b, r.ActorKind); err != nil {
		return b, fmt.Errorf("actor_kind: %w", err)
	}
	b = append(b, `,"at":"`...)
	b = appendTime(b, r.At)
	b = append(b, '"')
	if v2 {
		if r.BreakGlass {
			b = append(b, `,"break_glass":true`...)
		} else {
			b = append(b, `,"break_glass":false`...)
		}
		b = append(b, `,"case":`...)
		b = appendNullUUID(b, r.Case)
		b = append(b, `,"credential":`...)
		b = appendNullUUID(b, r.Credential)
		b = append(b, `,"credential_kind":`...)
		if b, err = appendNullString(b, r.CredentialKind); err != nil {
			return b, fmt.Errorf("credential_kind: %w", err)
		}
	}
	b = append(b, `,"details":`...)
	if len(r.Details) == 0 {
		b = append(b, "{}"...)
	} else if b, err = appendJCS(b, r.Details); err != nil {
		return b, fmt.Errorf("details: %w", err)
	}
	if v2 {
		b = append(b, `,"device":`...)
		if b, err = appendNullString(b, r.Device); err != nil {
			return b, fmt.Errorf("device: %w", err)
		}
		b = append(b, `,"disclosure":`...)
		if len(r.Disclosure) == 0 {
			b = append(b, "null"...)
		} else if b, err = appendJCS(b, r.Disclosure); err != nil {
			return b, fmt.Errorf("disclosure: %w", err)
		}
	}
	b = append(b, `,"ip":`...)
	if b, err = appendNullString(b, r.IP); err != nil {
		return b, fmt.Errorf("ip: %w", err)
	}
	b = append(b, `,"object_id":`...)
	b = appendNullUUID(b, r.ObjectID)
	b = append(b, `,"object_type":`...)
	if b, err = appendNullString(b, r.ObjectType); err != nil {
		return b, fmt.Errorf("object_type: %w", err)
	}
	b = append(b, `,"org":`...)
	b = appendUUID(b, r.Org)
	b = append(b, `,"outcome":`...)
	if b, err = appendString(b, r.Outcome); err != nil {
		return b, fmt.Errorf("outcome: %w", err)
	}
	b = append(b, `,"patient":`...)
	b = appendNullUUID(b, r.Patient)
	b = append(b, `,"request":`...)
	if b, err = appendNullString(b, r.Request); err != nil {
		return b, fmt.Errorf("request: %w", err)
	}
	b = append(b, `,"results":[`...)
	for i, id := range r.Results {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUUID(b, id)
	}
	b = append(b, `],"session":`...)
	b = appendNullUUID(b, r.Session)
	b = append(b, `,"ua":`...)
	if b, err = appendNullString(b, r.UserAgent); err != nil {
		return b, fmt.Errorf("ua: %w", err)
	}
	if v2 {
		return append(b, `,"v":2}`...), nil
	}
	return append(b, `,"v":1}`...), nil
}

const hexDigits = "0123456789abcdef"

// appendUUID appends id as a JSON string in its canonical lower-case form.
// Unrolled: it runs several times per event in the verifier's hot path.
func appendUUID(b []byte, id uuid.UUID) []byte {
	n := len(b)
	b = append(b, `"00000000-0000-0000-0000-000000000000"`...)
	d := (*[36]byte)(b[n+1 : n+37])
	d[0], d[1] = hexDigits[id[0]>>4], hexDigits[id[0]&0x0f]
	d[2], d[3] = hexDigits[id[1]>>4], hexDigits[id[1]&0x0f]
	d[4], d[5] = hexDigits[id[2]>>4], hexDigits[id[2]&0x0f]
	d[6], d[7] = hexDigits[id[3]>>4], hexDigits[id[3]&0x0f]
	d[9], d[10] = hexDigits[id[4]>>4], hexDigits[id[4]&0x0f]
	d[11], d[12] = hexDigits[id[5]>>4], hexDigits[id[5]&0x0f]
	d[14], d[15] = hexDigits[id[6]>>4], hexDigits[id[6]&0x0f]
	d[16], d[17] = hexDigits[id[7]>>4], hexDigits[id[7]&0x0f]
	d[19], d[20] = hexDigits[id[8]>>4], hexDigits[id[8]&0x0f]
	d[21], d[22] = hexDigits[id[9]>>4], hexDigits[id[9]&0x0f]
	d[24], d[25] = hexDigits[id[10]>>4], hexDigits[id[10]&0x0f]
	d[26], d[27] = hexDigits[id[11]>>4], hexDigits[id[11]&0x0f]
	d[28], d[29] = hexDigits[id[12]>>4], hexDigits[id[12]&0x0f]
	d[30], d[31] = hexDigits[id[13]>>4], hexDigits[id[13]&0x0f]
	d[32], d[33] = hexDigits[id[14]>>4], hexDigits[id[14]&0x0f]
	d[34], d[35] = hexDigits[id[15]>>4], hexDigits[id[15]&0x0f]
	return b
}

func appendNullUUID(b []byte, id uuid.NullUUID) []byte {
	if !id.Valid {
		return append(b, "null"...)
	}
	return appendUUID(b, id.UUID)
}

func appendNullString(b []byte, s *string) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	return appendString(b, *s)
}

// appendString appends s as a JCS string: " \ and the controls with a short
// form are escaped with it, other controls as \u00xx, everything else
// (including DEL and all non-ASCII) literally. This is also exactly how
// PostgreSQL's to_json escapes text. s must be valid UTF-8.
func appendString[T ~string | ~[]byte](b []byte, s T) ([]byte, error) {
	b = append(b, '"')
	// Fast path: eight bytes at a time while none needs escaping or is
	// non-ASCII (most strings of an event: the whole of it).
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if plain8(x) {
			continue
		}
		break
	}
	start := 0
	ascii := true
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c >= utf8.RuneSelf {
				ascii = false
			}
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0f])
		}
	}
	if !ascii && !utf8.ValidString(string(s)) {
		return b, fmt.Errorf("invalid UTF-8 in a string: %w", ErrInvalidEvent)
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// Byte-lane constants for plain8.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plain8 reports whether none of the eight bytes in x is a control
// character (< 0x20), '"', '\\' or non-ASCII (>= 0x80): bytes appendString
// copies as they are. The tests (plain8 against a byte loop) hold it exact.
func plain8(x uint64) bool {
	q := x ^ ('"' * lanes01)
	bs := x ^ ('\\' * lanes01)
	special := (x - 0x20*lanes01) | // a byte < 0x20 borrows into its top bit
		(q-lanes01) & ^q | // a byte equal to '"'
		(bs-lanes01) & ^bs | // a byte equal to '\\'
		x // a byte >= 0x80
	return special&lanes80 == 0
}

// appendTime appends t in UTC as audit.event_json formats it,
// YYYY-MM-DDTHH:MI:SS.ffffffZ (years 0..9999; others through time.Format).
// The date comes from the Unix seconds by integer arithmetic (civil from
// days, H. Hinnant's algorithm) rather than t.UTC().Date() and t.Clock(),
// each of which redoes the calendar: this runs once per verified event.
// The tests hold it equal to time.Format across the whole range.
func appendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < minTimeSec || sec >= maxTimeSec {
		return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	}
	days := (sec - minTimeSec) / 86400 // days since 0000-03-01 minus 60, >= 0
	tod := int((sec - minTimeSec) % 86400)
	// Days since 0000-03-01, the start of era 0 of Hinnant's calendar.
	z := int(days) - 60
	year, month, day := civil(z)
	us := t.Nanosecond() / 1000
	n := len(b)
	b = append(b, "0000-00-00T00:00:00.000000Z"...)
	d := (*[27]byte)(b[n : n+27])
	d[0], d[1], d[2], d[3] = byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10)
	d[5], d[6] = byte('0'+month/10), byte('0'+month%10)
	d[8], d[9] = byte('0'+day/10), byte('0'+day%10)
	hour, minute, s := tod/3600, tod/60%60, tod%60
	d[11], d[12] = byte('0'+hour/10), byte('0'+hour%10)
	d[14], d[15] = byte('0'+minute/10), byte('0'+minute%10)
	d[17], d[18] = byte('0'+s/10), byte('0'+s%10)
	for i := 25; i >= 20; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	return b
}

// The Unix seconds of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z:
// appendTime formats [minTimeSec, maxTimeSec) itself.
const (
	minTimeSec = -62167219200
	maxTimeSec = 253402300800
)

// civil returns the proleptic Gregorian date z days after 0000-03-01
// (z >= -60, so the era is never negative).
func civil(z int) (year, month, day int) {
	if z < 0 { // January and February of year 0: era -1
		z += 146097
		year = -400
	}
	era := z / 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	year += yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11], March = 0
	day = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		month = mp + 3
	} else {
		month = mp - 9
	}
	if month <= 2 {
		year++
	}
	return year, month, day
}

// maxInt is the largest magnitude audit.jcs accepts for a number, 2^53.
const maxInt = 1 << 53

// appendJCS appends the RFC 8785 canonical form of the JSON value src,
// restricted as audit.jcs restricts it: object keys printable ASCII,
// numbers integers of magnitude at most 2^53 (written as plain decimals;
// 1.0 and 1e3 are integers).
func appendJCS(b, src []byte) ([]byte, error) {
	p := jcsParser{src: src}
	p.space()
	b, err := p.value(b)
	if err != nil {
		return b, err
	}
	if p.space(); p.i != len(p.src) {
		return b, p.fail("data after the JSON value")
	}
	return b, nil
}

type jcsParser struct {
	src []byte
	i   int
	tmp []byte // decoded strings with escapes
}

func (p *jcsParser) fail(what string) error {
	return fmt.Errorf("canonical JSON: %s at offset %d: %w", what, p.i, ErrInvalidEvent)
}

func (p *jcsParser) space() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jcsParser) value(b []byte) ([]byte, error) {
	if p.i >= len(p.src) {
		return b, p.fail("unexpected end")
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object(b)
	case c == '[':
		return p.array(b)
	case c == '"':
		s, _, err := p.str()
		if err != nil {
			return b, err
		}
		return appendString(b, s)
	case c == 't':
		return p.literal(b, "true")
	case c == 'f':
		return p.literal(b, "false")
	case c == 'n':
		return p.literal(b, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(b)
	}
	return b, p.fail("unexpected character")
}

func (p *jcsParser) literal(b []byte, lit string) ([]byte, error) {
	if !bytes.HasPrefix(p.src[p.i:], []byte(lit)) {
		return b, p.fail("bad literal")
	}
	p.i += len(lit)
	return append(b, lit...), nil
}

type member struct {
	key        []byte
	start, end int // the member's "key":value in the output
}

func (p *jcsParser) object(b []byte) ([]byte, error) {
	p.i++ // {
	p.space()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		return append(b, "{}"...), nil
	}
	open := len(b)
	b = append(b, '{')
	var arr [8]member
	members := arr[:0]
	sorted := true
	for {
		p.space()
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return b, p.fail("expected an object key")
		}
		k, escaped, err := p.str()
		if err != nil {
			return b, err
		}
		for _, c := range k {
			if c < 0x20 || c > 0x7e {
				return b, p.fail("object key that is not printable ASCII")
			}
		}
		if escaped {
			k = slices.Clone(k) // p.tmp is reused by the next string
		}
		if n := len(members); n > 0 {
			if bytes.Compare(members[n-1].key, k) >= 0 {
				sorted = false
			}
			b = append(b, ',')
		}
		start := len(b)
		if b, err = appendString(b, k); err != nil {
			return b, err
		}
		b = append(b, ':')
		p.space()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return b, p.fail("expected ':'")
		}
		p.i++
		p.space()
		if b, err = p.value(b); err != nil {
			return b, err
		}
		members = append(members, member{key: k, start: start, end: len(b)})
		p.space()
		if p.i >= len(p.src) {
			return b, p.fail("unterminated object")
		}
		if p.src[p.i] == ',' {
			p.i++
			continue
		}
		if p.src[p.i] != '}' {
			return b, p.fail("expected ',' or '}'")
		}
		p.i++
		break
	}
	if !sorted {
		slices.SortFunc(members, func(x, y member) int { return bytes.Compare(x.key, y.key) })
		for i := 1; i < len(members); i++ {
			if bytes.Equal(members[i-1].key, members[i].key) {
				return b, p.fail("duplicate object key")
			}
		}
		body := slices.Clone(b[open+1:])
		b = b[:open+1]
		for i, m := range members {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, body[m.start-open-1:m.end-open-1]...)
		}
	}
	return append(b, '}'), nil
}

func (p *jcsParser) array(b []byte) ([]byte, error) {
	p.i++ // [
	b = append(b, '[')
	p.space()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		return append(b, ']'), nil
	}
	for n := 0; ; n++ {
		if n > 0 {
			b = append(b, ',')
		}
		p.space()
		var err error
		if b, err = p.value(b); err != nil {
			return b, err
		}
		p.space()
		if p.i >= len(p.src) {
			return b, p.fail("unterminated array")
		}
		if p.src[p.i] == ',' {
			p.i++
			continue
		}
		if p.src[p.i] != ']' {
			return b, p.fail("expected ',' or ']'")
		}
		p.i++
		return append(b, ']'), nil
	}
}

// str reads a JSON string at p.i and returns its decoded bytes: a slice of
// src when it has no escapes, else (escaped) of p.tmp, valid until the next
// call.
func (p *jcsParser) str() (s []byte, escaped bool, err error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c == '"' {
			p.i++
			return p.src[start : p.i-1], false, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false, p.fail("control character in a string")
		}
		p.i++
	}
	p.tmp = append(p.tmp[:0], p.src[start:p.i]...)
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '"':
			p.i++
			return p.tmp, true, nil
		case c < 0x20:
			return nil, false, p.fail("control character in a string")
		case c != '\\':
			p.tmp = append(p.tmp, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.src) {
			break
		}
		p.i += 2
		switch e := p.src[p.i-1]; e {
		case '"', '\\', '/':
			p.tmp = append(p.tmp, e)
		case 'b':
			p.tmp = append(p.tmp, '\b')
		case 'f':
			p.tmp = append(p.tmp, '\f')
		case 'n':
			p.tmp = append(p.tmp, '\n')
		case 'r':
			p.tmp = append(p.tmp, '\r')
		case 't':
			p.tmp = append(p.tmp, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, false, p.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || p.i+1 >= len(p.src) || p.src[p.i] != '\\' || p.src[p.i+1] != 'u' {
					return nil, false, p.fail("unpaired surrogate")
				}
				p.i += 2
				lo, ok := p.hex4()
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return nil, false, p.fail("unpaired surrogate")
				}
				r = utf16.DecodeRune(r, lo)
			}
			if r == 0 {
				return nil, false, p.fail("NUL in a string") // PostgreSQL text cannot hold it
			}
			p.tmp = utf8.AppendRune(p.tmp, r)
		default:
			return nil, false, p.fail("bad escape")
		}
	}
	return nil, false, p.fail("unterminated string")
}

func (p *jcsParser) hex4() (rune, bool) {
	if p.i+4 > len(p.src) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.src[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

// number reads a JSON number and appends it as audit.jcs does: an integer
// of magnitude at most 2^53 printed as a plain decimal.
func (p *jcsParser) number(b []byte) ([]byte, error) {
	start := p.i
	simple := true // -?(0|[1-9][0-9]*)
	if p.src[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
		p.i++
	}
	nd := p.i - digits
	if nd == 0 || (nd > 1 && p.src[digits] == '0') {
		return b, p.fail("bad number")
	}
	if p.i < len(p.src) && p.src[p.i] == '.' {
		simple = false
		p.i++
		f := p.i
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
		if p.i == f {
			return b, p.fail("bad number")
		}
	}
	if p.i < len(p.src) && (p.src[p.i] == 'e' || p.src[p.i] == 'E') {
		simple = false
		p.i++
		if p.i < len(p.src) && (p.src[p.i] == '+' || p.src[p.i] == '-') {
			p.i++
		}
		e := p.i
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
		if p.i == e || p.i-e > 4 { // |exponent| < 10^4 keeps big.Rat cheap
			return b, p.fail("bad number or exponent too large")
		}
	}
	tok := p.src[start:p.i]
	if simple && nd <= 16 {
		n, err := strconv.ParseInt(string(tok), 10, 64)
		if err == nil && n >= -maxInt && n <= maxInt {
			return strconv.AppendInt(b, n, 10), nil
		}
		return b, p.fail("number beyond 2^53")
	}
	r, ok := new(big.Rat).SetString(string(tok))
	if !ok {
		return b, p.fail("bad number")
	}
	if !r.IsInt() {
		return b, p.fail("number that is not an integer")
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() < -maxInt || n.Int64() > maxInt {
		return b, p.fail("number beyond 2^53")
	}
	return strconv.AppendInt(b, n.Int64(), 10), nil
}
