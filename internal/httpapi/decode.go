package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// contentCoding refuses a body sent with a content coding (RFC 9110
// §8.4.1: 415). Ward decodes none, so a body labelled gzip was read as if
// it had none, or stored compressed: not what a proxy or a DLP that
// decodes it inspected. identity is no coding.
func contentCoding(r *http.Request) error {
	for _, v := range r.Header.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return &publicError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
					msg: "send the body without a Content-Encoding (Ward decodes none)"}
			}
		}
	}
	return nil
}

// decode reads a JSON body into v: it must be application/json, within the
// size limit, one value that passes checkJSON, with no unknown fields.
func decode(r *http.Request, v any) error {
	if err := contentCoding(r); err != nil {
		return err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if cs, ok := params["charset"]; mt != "application/json" || ok && !strings.EqualFold(cs, "utf-8") {
		// JSON between systems is UTF-8 (RFC 8259 §8.1): a body declared in
		// another charset would be misread, not converted
		return &publicError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "send the body as application/json in UTF-8"}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	keepBody(r, b) // for a request served again after a stale kept principal (need.ahead)
	if err := checkJSON(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) {
			if field := badTimeField(b, v); field != "" {
				return badRequest("bad_json", fmt.Sprintf("field %q must be an RFC 3339 date-time such as "+
					"2026-11-30T08:15:00Z (with a time and an offset)", field))
			}
		}
		return badRequest("bad_json", jsonProblem(err))
	}
	return checkTimes(v)
}

// checkTimes refuses a decoded body holding a date-time outside years
// 0001 to 9999 in UTC. JSON's RFC 3339 writes four-digit years, and the
// database hands a time back in UTC, where "0000-01-01T00:00:00+23:59"
// is in year -1: stored, it would make every later answer that holds it
// (a patient's entries) unencodable.
func checkTimes(v any) error {
	if field := badTimeRange(reflect.ValueOf(v), ""); field != "" {
		return badRequest("invalid_input", fmt.Sprintf("field %q must be a date-time between the years 0001 and 9999 "+
			"(in UTC)", field))
	}
	return nil
}

// representable reports whether t falls between the years 0001 and 9999 in
// UTC: what RFC 3339 writes, and JSON can carry back (checkTimes).
func representable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// badTimeRange names the field of v (a decoded body: structs, pointers and
// slices of them) holding the first time.Time outside years 1 to 9999 in
// UTC, or "".
func badTimeRange(v reflect.Value, name string) string {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return badTimeRange(v.Elem(), name)
		}
	case reflect.Slice, reflect.Array:
		if k := v.Type().Elem().Kind(); k != reflect.Struct && k != reflect.Pointer {
			return "" // bytes, strings, ids: no time in them (and a RawMessage is long)
		}
		for i := range v.Len() {
			if bad := badTimeRange(v.Index(i), name+"["+strconv.Itoa(i)+"]"); bad != "" {
				return bad
			}
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			if !representable(t) {
				return name
			}
			return ""
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || tag == "-" {
				continue
			}
			n := name
			if !f.Anonymous || tag != "" {
				if tag == "" {
					tag = f.Name
				}
				if n != "" {
					n += "."
				}
				n += tag
			}
			if bad := badTimeRange(v.Field(i), n); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// badTimeField names the top-level field of v (a pointer to a struct) of
// type time.Time whose value in body does not parse, or "".
func badTimeField(body []byte, v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return ""
	}
	var fields func(t reflect.Type) string
	fields = func(t reflect.Type) string {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				if name := fields(f.Type); name != "" {
					return name
				}
				continue
			}
			if f.Type != reflect.TypeOf(time.Time{}) && f.Type != reflect.TypeOf(&time.Time{}) {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			for k, val := range raw {
				if strings.EqualFold(k, name) {
					var tm time.Time
					if json.Unmarshal(val, &tm) != nil {
						return name
					}
				}
			}
		}
		return ""
	}
	return fields(t.Elem())
}

// decodeMergePatch reads an RFC 7396 merge patch (application/merge-patch+json,
// or application/json) into v, with the same checks as decode.
func decodeMergePatch(r *http.Request, v *map[string]any) error {
	if err := contentCoding(r); err != nil {
		return err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	cs, ok := params["charset"]
	if mt != "application/merge-patch+json" && mt != "application/json" || ok && !strings.EqualFold(cs, "utf-8") {
		return &publicError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "send the patch as application/merge-patch+json (RFC 7396) in UTF-8"}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	keepBody(r, b)
	if err := checkJSON(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil || *v == nil {
		return badRequest("bad_json", "a merge patch is one JSON object")
	}
	return nil
}

// mergePatch applies an RFC 7396 merge patch to doc and returns it: null
// removes a member, an object merges into an object, anything else
// replaces.
func mergePatch(doc, patch map[string]any) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	for k, pv := range patch {
		switch pv := pv.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			cur, _ := doc[k].(map[string]any)
			doc[k] = mergePatch(cur, pv)
		default:
			doc[k] = pv
		}
	}
	return doc
}

// strictUnmarshal decodes an already checked JSON object (its members) into
// v, refusing unknown fields.
func strictUnmarshal(raw map[string]json.RawMessage, v any) error {
	b, err := json.Marshal(raw)
	if err != nil {
		return badRequest("bad_json", "malformed JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad_json", jsonProblem(err))
	}
	return checkTimes(v)
}

// bodyError describes a failure to read a request body: too large, or cut
// short.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &publicError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
			msg: fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)}
	}
	return badRequest("bad_body", "the body could not be read")
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Type != nil && strings.HasPrefix(te.Value, "number") {
			switch te.Type.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				return fmt.Sprintf("field %q must be a whole number that fits in %d bits", te.Field, te.Type.Bits())
			}
		}
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The key is the caller's text: repeated only when it looks like a
		// field name (as checkJSON's paths), never an address, a name or a
		// date a client put where a key goes.
		if key, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field ")); uerr == nil && fieldName(key) {
			return fmt.Sprintf("unknown field %q", key)
		}
		return "unknown field (a key that is no field name of this body)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "malformed JSON"
}

// pathID parses a path value as a UUID.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, ok := idOf(r.PathValue(name))
	if !ok {
		return uuid.Nil, badRequest("invalid_id", name+" must be a UUID, not the nil UUID")
	}
	return id, nil
}

// queryOnly refuses a query that holds a parameter outside names, or one
// of them more than once (400 invalid_query). A route that reads only the
// parameters it knows answers a misspelt filter (patinet_id) as no filter
// at all, and one that reads the first of two values answers another
// request than a proxy reading the last saw.
func queryOnly(r *http.Request, names ...string) error {
	for name, v := range r.URL.Query() {
		if len(names) == 0 {
			return badRequest("invalid_query", "this route takes no query parameters")
		}
		if !slices.Contains(names, name) || len(v) != 1 {
			return badRequest("invalid_query", "the query parameters are "+listNames(names)+", each at most once")
		}
	}
	return nil
}

// queryOnce refuses a query parameter given more than once (400
// invalid_query): the first value would be Ward's and the last a proxy's
// or a log's reading of the same request.
func queryOnce(r *http.Request) error {
	for _, v := range r.URL.Query() {
		if len(v) != 1 {
			return badRequest("invalid_query", "a query parameter is given more than once")
		}
	}
	return nil
}

// listNames joins names as prose: "a", "a and b", "a, b and c".
func listNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// queryID parses the query parameter name, when given, as a UUID (ok
// false when it is absent).
func queryID(r *http.Request, name string) (id uuid.UUID, ok bool, err error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return uuid.Nil, false, nil
	}
	if id, ok = idOf(v); !ok {
		return uuid.Nil, false, badRequest("invalid_query", name+" must be a UUID, not the nil UUID")
	}
	return id, true, nil
}

// idOf parses v as an id: a UUID in its 36-character form, other than the
// nil UUID (which names nothing: as a filter it would be taken for none).
func idOf(v string) (uuid.UUID, bool) {
	id, err := uuid.Parse(v)
	return id, err == nil && len(v) == 36 && id != uuid.Nil
}

func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("invalid_query", name+" must be an integer")
	}
	return n, nil
}

// queryLimit reads a list's page size, the query parameter limit: 0 when
// it is absent (the list's default), otherwise an integer in 1..max. A
// limit given empty, not an integer or out of range is 400 invalid_query,
// the same on every list route (none clamps).
func queryLimit(r *http.Request, max int) (int, error) {
	if !r.URL.Query().Has("limit") {
		return 0, nil
	}
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n < 1 || n > max {
		return 0, badRequest("invalid_query", fmt.Sprintf("limit must be an integer in 1..%d", max))
	}
	return n, nil
}
