package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/gateway/phi/eval"
)

const deidUsage = `usage: ward deid [flags] < text
       ward deid --input-format jsonl [flags] < lines.jsonl
       ward deid eval [--format table|json] FILE...

De-identify text read on stdin: every identifier is replaced by a typed,
numbered placeholder such as [[PERSON_1]] or [[DATE_2]].

With --input-format jsonl each input line is a JSON object
{"text": "...", "record": {...}} (record optional) and each output line is
{"text": redacted, "spans": [{"start", "end", "type", "placeholder"}]},
offsets in bytes of the UTF-8 input, in the same order.

'ward deid eval' scores the engine on gold-annotated files in the Presidio
JSON format and prints recall, precision, F2 and the leak rate.

flags:
`

// maxDeidInput bounds the text read from stdin in text mode and one line
// in jsonl mode.
const maxDeidInput = 64 << 20

// runDeid implements 'ward deid'. Errors never quote input text.
func runDeid(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "eval" {
		return runDeidEval(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("deid", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recordFile := fs.String("record", "", "JSON `file` of the patient's known identity fields (names, birth_date, mrn, ids, phones, emails, addresses, employers, relatives, care_team, other)")
	format := fs.String("format", "text", "output format for text input: text or json")
	inputFormat := fs.String("input-format", "text", "input format: text (all of stdin) or jsonl (one JSON object per line)")
	shift := fs.Int("date-shift", 0, "shift full dates by this many `days` instead of masking them")
	safeList := fs.Bool("safe-list", false, "redact every word not on the allow-list (highest recall, low precision)")
	zip3 := fs.Bool("zip3", false, "apply the Safe Harbor ZIP rule: keep the first three digits (021XX) where allowed")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), deidUsage)
		fs.PrintDefaults()
	}
	fs.SetOutput(stdout)
	if err := parse(fs, args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("deid: unexpected argument %q (text is read from stdin)", fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("deid: --format must be text or json")
	}
	if *inputFormat != "text" && *inputFormat != "jsonl" {
		return fmt.Errorf("deid: --input-format must be text or jsonl")
	}
	var rec *phi.Record
	if *recordFile != "" {
		r, err := readRecordFile(*recordFile)
		if err != nil {
			return err
		}
		rec = r
	}
	engine, err := phi.New(phi.Config{SafeListMode: *safeList})
	if err != nil {
		return fmt.Errorf("deid: %w", err)
	}
	opts := phi.SessionOptions{DateShiftDays: *shift, ZIP3: *zip3}
	if *inputFormat == "jsonl" {
		return deidLines(ctx, engine, rec, opts, stdin, stdout)
	}
	text, err := io.ReadAll(io.LimitReader(stdin, maxDeidInput+1))
	if err != nil {
		return fmt.Errorf("deid: reading stdin: %w", err)
	}
	if len(text) > maxDeidInput {
		return fmt.Errorf("deid: input larger than %d bytes", maxDeidInput)
	}
	if !utf8.Valid(text) {
		return fmt.Errorf("deid: input is not valid UTF-8 (first bad byte at offset %d)", firstInvalid(text))
	}
	res, err := redactOne(ctx, engine, rec, opts, string(text))
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONLine(stdout, res)
	}
	_, err = io.WriteString(stdout, res.Text)
	return err
}

// deidResult is the JSON output of one text.
type deidResult struct {
	Text  string            `json:"text"`
	Spans []phi.Replacement `json:"spans"`
}

func redactOne(ctx context.Context, engine *phi.Engine, rec *phi.Record, opts phi.SessionOptions, text string) (deidResult, error) {
	res, _, err := redactInto(ctx, engine, rec, opts, text, nil)
	return res, err
}

// redactInto is redactOne with the redacted text written into buf (nil:
// fresh memory), which it returns for reuse; with a buffer, the result's
// text is valid only until the buffer is written again.
func redactInto(ctx context.Context, engine *phi.Engine, rec *phi.Record, opts phi.SessionOptions, text string, buf []byte) (deidResult, []byte, error) {
	s, err := engine.NewSession(rec, opts)
	if err != nil {
		return deidResult{}, buf, fmt.Errorf("deid: %w", err)
	}
	defer s.Close()
	return redactWith(ctx, s, text, buf)
}

// redactWith is redactInto in session s, which the caller made for this
// text alone (fresh, or reset).
func redactWith(ctx context.Context, s *phi.Session, text string, buf []byte) (deidResult, []byte, error) {
	var r phi.Result
	var err error
	if buf == nil {
		r, err = s.Redact(ctx, text)
	} else {
		r, buf, err = s.RedactBuffer(ctx, text, buf)
	}
	if err != nil {
		return deidResult{}, buf, fmt.Errorf("deid: text refused: %w", err)
	}
	if r.Spans == nil {
		r.Spans = []phi.Replacement{}
	}
	return deidResult{Text: r.Text, Spans: r.Spans}, buf, nil
}

// deidLines redacts one JSON object per line, streaming: memory holds one
// line at a time.
func deidLines(ctx context.Context, engine *phi.Engine, defRec *phi.Record, opts phi.SessionOptions, stdin io.Reader, stdout io.Writer) error {
	br := bufio.NewReaderSize(stdin, 64<<10)
	// (64 KiB, not the default 4 KiB: a write is a system call, and each
	// one the process makes costs it more than the bytes it writes)
	bw := bufio.NewWriterSize(stdout, 64<<10)
	defer bw.Flush()
	// One line lives at a time and the lexicon is not on the heap, so the
	// heap stays small and the collector would run every few hundred
	// kilobytes of notes at the default setting; let it grow to four
	// times the live heap between cycles instead.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	// reused from line to line: the line, its decoded text, the redacted
	// text and the output line (each line's result is written before the
	// next line is read)
	line, out, dbuf, rbuf := []byte(nil), []byte(nil), []byte(nil), []byte{}
	var sess *phi.Session
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	for n := 1; ; n++ {
		var readErr error
		line, readErr = readLine(br, line[:0], maxDeidInput)
		if readErr == io.EOF && len(line) == 0 {
			return bw.Flush()
		}
		if readErr != nil && readErr != io.EOF {
			return fmt.Errorf("deid: line %d: %w", n, readErr)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if readErr == io.EOF {
				return bw.Flush()
			}
			continue
		}
		if !utf8.Valid(line) {
			return fmt.Errorf("deid: line %d: not valid UTF-8 (byte %d)", n, firstInvalid(line))
		}
		var in struct {
			Text   *string     `json:"text"`
			Record *phi.Record `json:"record"`
		}
		var text string
		var ok bool
		if text, dbuf, ok = decodeTextLineInto(line, dbuf); ok {
			in.Text = &text // the common line {"text": "..."}, without reflection
		} else {
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return fmt.Errorf("deid: line %d: %s", n, jsonProblem(err))
			}
			if dec.More() {
				return fmt.Errorf("deid: line %d: more than one JSON value", n)
			}
		}
		if in.Text == nil {
			return fmt.Errorf("deid: line %d: missing \"text\"", n)
		}
		rec := defRec
		if in.Record != nil {
			rec = in.Record
		}
		// one session per line, as redactInto makes, but reset from line
		// to line so that its tables' memory is reused
		var err error
		if sess == nil {
			sess, err = engine.NewSession(rec, opts)
		} else {
			err = sess.Reset(rec)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n, fmt.Errorf("deid: %w", err))
		}
		var res deidResult
		res, rbuf, err = redactWith(ctx, sess, *in.Text, rbuf)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		out = append(appendResult(out[:0], res), '\n')
		if _, err := bw.Write(out); err != nil {
			return err
		}
		if readErr == io.EOF {
			return bw.Flush()
		}
	}
}

// decodeTextLine decodes a line that is exactly one object with the single
// member "text" and a string value, as encoding/json would, and reports
// false for anything else (other members, surrogate escapes, control
// characters, trailing data): the caller then decodes the line with
// encoding/json, which also words the errors. The line is valid UTF-8.
func decodeTextLine(line []byte) (string, bool) {
	text, _, ok := decodeTextLineInto(line, nil)
	return strings.Clone(text), ok
}

// decodeTextLineInto is decodeTextLine without an allocation per line: the
// text it returns aliases line (no escapes) or buf (escapes decoded into
// it, grown if needed and returned for reuse), so it is valid only until
// either is written again. deidLines writes a line's result before it
// reads the next, and nothing of a session outlives its line.
func decodeTextLineInto(line, buf []byte) (string, []byte, bool) {
	i := 0
	ws := func() {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
			i++
		}
	}
	lit := func(s string) bool {
		ws()
		if !bytes.HasPrefix(line[i:], []byte(s)) {
			return false
		}
		i += len(s)
		return true
	}
	if !lit("{") || !lit(`"text"`) || !lit(":") || !lit(`"`) {
		return "", buf, false
	}
	// the string: copy runs without escapes, decode the escapes
	b := buf[:0]
	escaped := false
	start := i
	for {
		// eight bytes at a time while none of them is a quote, a
		// backslash or a control character (most of a note)
		for i+8 <= len(line) {
			x := binary.LittleEndian.Uint64(line[i:])
			if hasLess(x, 0x20) || hasByte(x, '"') || hasByte(x, '\\') {
				break
			}
			i += 8
		}
		if i >= len(line) {
			return "", buf, false
		}
		c := line[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", buf, false
		}
		if c != '\\' {
			i++
			continue
		}
		if !escaped {
			escaped = true
			if cap(b) < len(line) {
				b = make([]byte, 0, len(line))
			}
		}
		b = append(b, line[start:i]...)
		if i+1 >= len(line) {
			return "", buf, false
		}
		switch e := line[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+6 > len(line) {
				return "", buf, false
			}
			r, err := strconv.ParseUint(string(line[i+2:i+6]), 16, 32)
			if err != nil || r >= 0xD800 && r < 0xE000 {
				return "", buf, false // surrogates: left to encoding/json
			}
			b = utf8.AppendRune(b, rune(r))
			i += 4
		default:
			return "", buf, false
		}
		i += 2
		start = i
	}
	var text string
	if !escaped {
		text = unsafe.String(unsafe.SliceData(line[start:]), i-start)
	} else {
		b = append(b, line[start:i]...)
		buf = b
		text = unsafe.String(unsafe.SliceData(b), len(b))
	}
	i++ // the closing quote
	if !lit("}") {
		return "", buf, false
	}
	ws()
	return text, buf, i == len(line)
}

// readLine appends one line without its newline to line, refusing lines
// over max.
func readLine(br *bufio.Reader, line []byte, max int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, err
	}
}

// writeJSONLine writes res as one line of JSON, byte for byte what
// json.Marshal writes, without reflection or an allocation per line.
func writeJSONLine(w io.Writer, res deidResult) error {
	_, err := w.Write(append(appendResult(nil, res), '\n'))
	return err
}

func appendResult(b []byte, res deidResult) []byte {
	b = append(b, `{"text":`...)
	b = appendJSONString(b, res.Text)
	b = append(b, `,"spans":[`...)
	for i, sp := range res.Spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"start":`...)
		b = strconv.AppendInt(b, int64(sp.Start), 10)
		b = append(b, `,"end":`...)
		b = strconv.AppendInt(b, int64(sp.End), 10)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, sp.Type.String())
		b = append(b, `,"placeholder":`...)
		b = appendJSONString(b, sp.Placeholder)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// jsonPlain marks the bytes appendJSONString copies as they are: printable
// ASCII but for '"', '\\' and the HTML characters. One table look-up per
// byte instead of six comparisons.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Byte-parallel tests on eight bytes in a uint64 (exact as to whether any
// byte matches, which is all they are asked).
const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// hasLess reports whether a byte of x is less than n (n <= 128).
func hasLess(x uint64, n byte) bool { return less8(x, n) != 0 }

// hasByte reports whether a byte of x is c.
func hasByte(x uint64, c byte) bool { return hasLess(x^(lsb8*uint64(c)), 1) }

// special8 returns the top bit of the first byte of x (in memory order)
// that is not jsonPlain, or 0 when all eight are. (The borrows of the
// subtractions in less8 run upwards only, so the lowest byte flagged is
// exact; higher flags may be false, and are not used.)
func special8(x uint64) uint64 {
	m := x&msb8 | less8(x, 0x20) | less8(x^(lsb8*'"'), 1) | less8(x^(lsb8*'\\'), 1) |
		less8(x^(lsb8*'<'), 1) | less8(x^(lsb8*'>'), 1) | less8(x^(lsb8*'&'), 1)
	return m & -m
}

// less8 flags the bytes of x less than n (n <= 128): exact for the lowest
// byte flagged, see special8.
func less8(x uint64, n byte) uint64 { return (x - lsb8*uint64(n)) &^ x & msb8 }

// plain8 reports whether the eight bytes of x are all jsonPlain.
func plain8(x uint64) bool { return special8(x) == 0 }

// load64 returns the eight bytes of s at i, little endian.
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// appendJSONString appends s as a JSON string escaped as encoding/json
// does: HTML-safe (<, >, & as \u003c…), U+2028 and U+2029 escaped, invalid
// UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// eight plain bytes at a time (most of a note), then straight to
		// the first byte that is not
		if i+8 <= len(s) {
			m := special8(load64(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// readRecordFile loads a phi.Record. Its errors name the file and the
// problem, never the content.
func readRecordFile(path string) (*phi.Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deid: cannot read record file: %w", err)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("deid: record file %s is not valid UTF-8", path)
	}
	var rec phi.Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("deid: record file %s: %s", path, jsonProblem(err))
	}
	if err := rec.Validate(); err != nil {
		return nil, fmt.Errorf("deid: record file %s: %w", path, err)
	}
	return &rec, nil
}

// jsonProblem describes a JSON decoding error without quoting input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type (want %s)", typ.Field, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ") // a field name, not a value
	}
	return "malformed JSON"
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// runDeidEval implements 'ward deid eval'.
func runDeidEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deid eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output: table, json or both")
	safeList := fs.Bool("safe-list", false, "score the safe-list mode")
	nErrors := fs.Int("errors", 0, "also print the `N` most frequent false positives and misses, with context (prints text from the gold files: development data only)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: ward deid eval [flags] FILE...\n\nScores the engine on Presidio-format gold files (full_text, spans with\nentity_type, start_position, end_position in characters; PhysioNet deid\ntypes such as HCPName, PTName, Location, Date and DateYear are understood).\nPrints aggregates only, never gold text, unless --errors is given.\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.SetOutput(stdout)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // printed the usage, once
		}
		var ue *usageError
		if errors.As(err, &ue) {
			ue.err = fmt.Errorf("deid eval: %w", ue.err)
		}
		return err
	}
	if fs.NArg() == 0 {
		return withUsage(fs, errors.New("deid eval: no gold files given"))
	}
	if *format != "table" && *format != "json" && *format != "both" {
		return withUsage(fs, errors.New("deid eval: --format must be table, json or both"))
	}
	var samples []eval.Sample
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("deid eval: %w", err)
		}
		ss, err := eval.LoadPresidio(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("deid eval: %s: %w", path, err)
		}
		samples = append(samples, ss...)
	}
	engine, err := phi.New(phi.Config{SafeListMode: *safeList})
	if err != nil {
		return fmt.Errorf("deid eval: %w", err)
	}
	rep, err := eval.Score(ctx, samples, func(ctx context.Context, text string) ([]phi.Span, error) {
		return engine.Detect(ctx, text, nil)
	}, engine.IsRegion)
	if err != nil {
		return fmt.Errorf("deid eval: %w", err)
	}
	if *format == "json" || *format == "both" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if _, err := stdout.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	if *format == "table" || *format == "both" {
		if err := rep.WriteTable(stdout); err != nil {
			return err
		}
	}
	if *nErrors > 0 {
		return rep.WriteErrors(stdout, *nErrors)
	}
	return nil
}
