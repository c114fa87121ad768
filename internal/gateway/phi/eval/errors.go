package eval

import (
	"io"
	"sort"
	"strings"
)

// errorKey groups false positives and misses by type and surface text.
type errorKey struct {
	typ, text string
}

// errorCount is how often one surface form was wrong, with the first place
// it was seen.
type errorCount struct {
	n       int
	context string
}

// errorLog collects the surface forms of false positives and misses.
type errorLog struct {
	fp, miss map[errorKey]*errorCount
}

func (l *errorLog) add(m *map[errorKey]*errorCount, typ, text string, start, end int) {
	if *m == nil {
		*m = map[errorKey]*errorCount{}
	}
	k := errorKey{typ, text[start:end]}
	c := (*m)[k]
	if c == nil {
		c = &errorCount{context: snippet(text, start, end)}
		(*m)[k] = c
	}
	c.n++
}

// snippet returns up to 30 bytes either side of [start, end) on one line,
// with the span in brackets.
func snippet(text string, start, end int) string {
	a, b := max(start-30, 0), min(end+30, len(text))
	for a > 0 && a < start && text[a]&0xc0 == 0x80 {
		a++
	}
	for b < len(text) && b > end && text[b]&0xc0 == 0x80 {
		b--
	}
	r := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")
	return r.Replace(text[a:start]) + "[" + r.Replace(text[start:end]) + "]" + r.Replace(text[end:b])
}

// WriteErrors prints the n most frequent false positives (detected spans
// that touch no gold span) and misses (gold spans no detected span
// touches), each with a count and the first context it was seen in.
//
// Unlike WriteTable it prints text from the gold file, which may be PHI:
// it is a development aid for synthetic or surrogate data, never for real
// patient notes.
func (r *Report) WriteErrors(w io.Writer, n int) error {
	ew := &errWriter{w: w}
	for _, part := range []struct {
		title string
		m     map[errorKey]*errorCount
	}{{"false positives", r.errs.fp}, {"misses", r.errs.miss}} {
		keys := make([]errorKey, 0, len(part.m))
		total := 0
		for k, c := range part.m {
			keys = append(keys, k)
			total += c.n
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := part.m[keys[i]], part.m[keys[j]]
			if a.n != b.n {
				return a.n > b.n
			}
			if keys[i].typ != keys[j].typ {
				return keys[i].typ < keys[j].typ
			}
			return keys[i].text < keys[j].text
		})
		ew.printf("\ntop %s (%d in all, %d distinct)\n", part.title, total, len(keys))
		for _, k := range keys[:min(n, len(keys))] {
			c := part.m[k]
			ew.printf("%5d  %-18s %-24q %s\n", c.n, k.typ, k.text, c.context)
		}
	}
	return ew.err
}
