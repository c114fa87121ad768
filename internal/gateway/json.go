package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// The gateway rewrites a few fields of bodies it otherwise passes through.
// encoding/json validates every value again at every level it is decoded
// into json.RawMessage, and validates and compacts every RawMessage again
// when it is encoded: for a prompt nested four deep (body, messages,
// blocks, text) that is about ten passes over every byte, as much time as
// the de-identification itself. This file does one validating pass
// (json.Valid, in object) and then splits the already valid value level by
// level and appends the values it does not change as they are.
//
// The splitters are only ever given bytes that json.Valid accepted (the
// body, or a part of it): for valid JSON a value's extent is unambiguous,
// so they see the structure encoding/json sees. Keys with escapes or
// anything but printable ASCII are decoded by encoding/json, and a repeated
// key keeps its last value, as encoding/json does (so {"text": …,
// "te\u0078t": …} is one field, rewritten, never two).

// object decodes a JSON object into its members. Errors: ErrBadRequest
// naming what, when raw is not valid JSON or not an object.
func object(raw []byte, what string) (map[string]json.RawMessage, error) {
	if !json.Valid(raw) {
		return nil, bad("%s must be a JSON object", what)
	}
	m, ok := splitObject(raw)
	if !ok {
		return nil, bad("%s must be a JSON object", what)
	}
	return m, nil
}

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the valid JSON value starting at
// b[i] (no leading space).
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// stringEnd returns the index just past the string whose opening quote is
// b[i].
func stringEnd(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return len(b)
		}
		i += j
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // a backslash and the byte it escapes
	}
}

// splitArray returns the elements of a valid JSON value; ok is false when
// it is not an array.
func splitArray(raw []byte) (elems []json.RawMessage, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false
	}
	elems = []json.RawMessage{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return elems, true
	}
	for i < len(raw) {
		end := valueEnd(raw, i)
		elems = append(elems, raw[i:end:end])
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return elems, true
}

// firstElement returns the first element of a valid JSON array, or nil when
// raw is not an array or is empty.
func firstElement(raw []byte) []byte {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] == ']' {
		return nil
	}
	return raw[i:valueEnd(raw, i)]
}

// splitObject returns the members of a valid JSON value; ok is false when
// it is not an object.
func splitObject(raw []byte) (m map[string]json.RawMessage, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	m = map[string]json.RawMessage{}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kend := stringEnd(raw, i)
		key := decodeKey(raw[i:kend])
		i = skipSpace(raw, kend)
		i = skipSpace(raw, i+1) // the colon
		end := valueEnd(raw, i)
		m[key] = raw[i:end:end]
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			break
		}
		i = skipSpace(raw, i+1)
	}
	return m, true
}

// decodeKey decodes a quoted key: directly when it is printable ASCII
// without escapes, else by encoding/json (escapes, invalid UTF-8).
func decodeKey(q []byte) string {
	plain := true
	for _, c := range q[1 : len(q)-1] {
		if c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s) // valid: cannot fail
	return s
}

// unquote decodes a JSON string value. Errors when raw is not a string.
func unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		in := raw[1 : len(raw)-1]
		if bytes.IndexByte(in, '\\') < 0 && bytes.IndexByte(in, '"') < 0 && utf8.Valid(in) && !hasControl(in) {
			return string(in), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// appendString appends s as a JSON string, as marshal would (no HTML
// escaping).
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			// escapes, U+2028/U+2029 and invalid UTF-8: encoding/json's rules
			q, err := marshalSlow(s)
			return append(b, q...), err
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// appendRaw appends a valid JSON value as it is, compacted only when it
// holds a line break (a reply's value may be framed as server-sent events).
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	switch {
	case raw == nil:
		return append(b, "null"...), nil // as json.RawMessage encodes
	case len(raw) == 0:
		return nil, fmt.Errorf("gateway: encode: empty value")
	}
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return append(b, raw...), nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return nil, fmt.Errorf("gateway: encode: %w", err)
	}
	return append(b, c.Bytes()...), nil
}

// appendObject appends m with its keys sorted.
func appendObject(b []byte, m map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendRaw(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// marshal encodes v without HTML escaping (so text keeps its <, > and &)
// and without the encoder's trailing newline. The gateway's own shapes
// (strings, objects and arrays of valid json.RawMessage values) are
// appended directly; anything else goes through encoding/json.
func marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(nil, x)
	case map[string]json.RawMessage:
		if x != nil {
			return appendObject(make([]byte, 0, 256), x)
		}
	case []json.RawMessage:
		if x != nil {
			b := append(make([]byte, 0, 256), '[')
			var err error
			for i, r := range x {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendRaw(b, r); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		}
	case []map[string]json.RawMessage:
		if x != nil {
			b := append(make([]byte, 0, 256), '[')
			var err error
			for i, m := range x {
				if i > 0 {
					b = append(b, ',')
				}
				if m == nil {
					b = append(b, "null"...)
					continue
				}
				if b, err = appendObject(b, m); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		}
	}
	return marshalSlow(v)
}

func marshalSlow(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("gateway: encode: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
