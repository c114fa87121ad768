package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A verdict is what a download's conditional headers and Range make of a
// version before any of its content is read (RFC 9110 §13.2.2: If-Match,
// If-Unmodified-Since, If-None-Match, If-Modified-Since, then Range and
// If-Range). Anything but serve sends no content, so the download is
// opened for its headers only and recorded as a view, not a download (nor
// a disclosure).
type verdict int

const (
	serve               verdict = iota // the content, whole or the ranges asked for
	notModified                        // 304: the client's copy is this version
	preconditionFailed                 // 412: If-Match or If-Unmodified-Since does not hold
	rangeNotSatisfiable                // 416: no range asked for starts within the content
)

// judge evaluates r's conditions against a version with the strong entity
// tag etag, last modified at mod, of size bytes.
func judge(r *http.Request, etag string, mod time.Time, size int64) verdict {
	mod = mod.Truncate(time.Second) // what Last-Modified says
	if im := etags(r, "If-Match"); im.Any || len(im.ETags) > 0 {
		if !im.Any && !slices.Contains(im.ETags, etag) { // strong comparison: W/ never matches
			return preconditionFailed
		}
	} else if t, err := http.ParseTime(r.Header.Get("If-Unmodified-Since")); err == nil && mod.After(t) {
		return preconditionFailed
	}
	if inm := etags(r, "If-None-Match"); inm.Any || len(inm.ETags) > 0 {
		if inm.Any || slices.ContainsFunc(inm.ETags, func(t string) bool { return strings.TrimPrefix(t, "W/") == etag }) {
			return notModified
		}
	} else if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !mod.After(t) {
		return notModified
	}
	if _, n, ok := byteRanges(r, etag, mod, size); r.Method == http.MethodGet && ok && n == 0 {
		return rangeNotSatisfiable
	}
	return serve
}

// byteRanges reads r's Range header against the content's size, as
// http.ServeContent should see it: ok is false when there is nothing to
// honour (no Range, another unit, a malformed range set, or an If-Range
// that does not hold: RFC 9110 §14.2 has the server ignore it and send
// the whole content); else the header holds the n ranges that start
// within the content, a last position past its end (however many digits)
// taken as its end, a suffix longer than it as all of it.
func byteRanges(r *http.Request, etag string, mod time.Time, size int64) (header string, n int, ok bool) {
	h := r.Header.Get("Range")
	if h == "" || !ifRangeHolds(r.Header.Get("If-Range"), etag, mod) {
		return "", 0, false
	}
	set, found := strings.CutPrefix(h, "bytes=")
	if !found {
		return "", 0, false
	}
	var out []string
	specs := 0
	for _, spec := range strings.Split(set, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		specs++
		first, last, found := strings.Cut(spec, "-")
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		if !found || !digits(first) && first != "" || !digits(last) && last != "" || first == "" && last == "" {
			return "", 0, false
		}
		if first == "" { // a suffix: the last n bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err == nil && n == 0 || size == 0 {
				continue // nothing of the content
			}
			if err != nil || n > size { // err: more digits than int64 holds
				n = size
			}
			out = append(out, "-"+strconv.FormatInt(n, 10))
			continue
		}
		if last != "" && decimalLess(last, first) {
			return "", 0, false // a last position before the first: no valid range set
		}
		start, err := strconv.ParseInt(first, 10, 64)
		if err != nil || start >= size {
			continue // starts past the end
		}
		end := size - 1
		if e, err := strconv.ParseInt(last, 10, 64); err == nil && e < end {
			end = e
		}
		out = append(out, strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10))
	}
	if specs == 0 {
		return "", 0, false
	}
	return "bytes=" + strings.Join(out, ","), len(out), true
}

// ifRangeHolds reports whether an If-Range header (RFC 9110 §13.1.5)
// lets Range apply: absent, the version's strong entity tag, or its exact
// last-modified date.
func ifRangeHolds(h, etag string, mod time.Time) bool {
	switch {
	case h == "":
		return true
	case strings.HasPrefix(h, `"`):
		return h == etag
	}
	t, err := http.ParseTime(h)
	return err == nil && mod.Truncate(time.Second).Equal(t)
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// decimalLess compares two strings of decimal digits of any length.
func decimalLess(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
