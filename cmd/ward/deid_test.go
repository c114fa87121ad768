package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/gateway/phi"
)

func deid(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runDeid(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeidText(t *testing.T) {
	out, _, err := deid(t, "Seen by Dr. Okonkwo on 3/4/2024. BP 120/80.\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Seen by Dr. [[PERSON_1]] on [[DATE_1]]. BP 120/80.\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestDeidJSON(t *testing.T) {
	in := "Jörg Okonkwo, MRN 00123456"
	out, _, err := deid(t, in, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Text  string `json:"text"`
		Spans []struct {
			Start, End  int
			Type        string
			Placeholder string
		} `json:"spans"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res.Spans) != 2 {
		t.Fatalf("spans = %+v", res.Spans)
	}
	// offsets are bytes of the UTF-8 input
	if got := in[res.Spans[0].Start:res.Spans[0].End]; got != "Jörg Okonkwo" || res.Spans[0].Type != "PERSON" || res.Spans[0].Placeholder != "[[PERSON_1]]" {
		t.Errorf("span 0 = %+v (%q)", res.Spans[0], got)
	}
	if got := in[res.Spans[1].Start:res.Spans[1].End]; got != "00123456" || res.Spans[1].Type != "MRN" {
		t.Errorf("span 1 = %+v (%q)", res.Spans[1], got)
	}
}

func TestDeidRecord(t *testing.T) {
	rec := writeFile(t, "rec.json", `{"names": ["Hope Will"], "birth_date": "1956-03-15", "mrn": "A4471920"}`)
	out, _, err := deid(t, "WILL, HOPE born 15 Mar 1956, chart a4471920.", "--record", rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"WILL", "HOPE", "1956", "a4471920"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survived: %q", leak, out)
		}
	}
}

func TestDeidJSONL(t *testing.T) {
	in := `{"text": "Dr. Okonkwo saw her."}
{"text": "Call Hope at 555-0100.", "record": {"names": ["Hope Rose"]}}

{"text": ""}
`
	out, _, err := deid(t, in, "--input-format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %q", len(lines), out)
	}
	want := []string{"Dr. [[PERSON_1]] saw her.", "Call [[PERSON_1]] at [[PHONE_1]].", ""}
	for i, l := range lines {
		var r struct{ Text string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Text != want[i] {
			t.Errorf("line %d: %q, want %q", i+1, r.Text, want[i])
		}
	}
}

func TestDeidJSONLStreams(t *testing.T) {
	// Many lines through a pipe: output keeps order and count.
	var in bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&in, `{"text": "Note %d: seen by Dr. Okonkwo on 3/%d/2024."}`+"\n", i, i%28+1)
	}
	var out bytes.Buffer
	if err := runDeid(context.Background(), []string{"--input-format", "jsonl"}, &in, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		if !strings.Contains(sc.Text(), fmt.Sprintf("Note %d: seen", n)) {
			t.Fatalf("line %d out of order: %s", n, sc.Text())
		}
		n++
	}
	if n != 2000 {
		t.Errorf("%d lines out", n)
	}
}

func TestDeidErrors(t *testing.T) {
	badRec := writeFile(t, "bad.json", `{"names": ["Secret Name"`)
	wrongRec := writeFile(t, "wrong.json", `{"names": "Secret Name"}`)
	unknownRec := writeFile(t, "unknown.json", `{"nmes": ["Secret Name"]}`)
	dobRec := writeFile(t, "dob.json", `{"birth_date": "03/15/1956"}`)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"invalid utf-8", "Secret \xff Name", nil, "not valid UTF-8"},
		{"jsonl invalid utf-8", "{\"text\": \"Secret \xff\"}\n", []string{"--input-format", "jsonl"}, "line 1: not valid UTF-8"},
		{"jsonl malformed", "{\"text\": \"Secret Name\"}\n{\"text\": Secret}\n", []string{"--input-format", "jsonl"}, "line 2: malformed JSON"},
		{"jsonl missing text", "{\"record\": {}}\n", []string{"--input-format", "jsonl"}, "missing \"text\""},
		{"jsonl unknown field", "{\"txt\": \"Secret\"}\n", []string{"--input-format", "jsonl"}, "unknown field"},
		{"missing record", "x", []string{"--record", "/nonexistent/rec.json"}, "cannot read record file"},
		{"malformed record", "x", []string{"--record", badRec}, "truncated JSON"},
		{"wrong type record", "x", []string{"--record", wrongRec}, "wrong type"},
		{"unknown record field", "x", []string{"--record", unknownRec}, "unknown field"},
		{"bad birth date", "x", []string{"--record", dobRec}, "birth_date"},
		{"bad format", "x", []string{"--format", "xml"}, "--format"},
		{"bad input format", "x", []string{"--input-format", "csv"}, "--input-format"},
		{"bad flag", "x", []string{"--nope"}, "flag provided but not defined"},
		{"stray argument", "x", []string{"file.txt"}, "unexpected argument"},
		{"eval no files", "", []string{"eval"}, "no gold files"},
		{"eval missing file", "", []string{"eval", "/nonexistent.json"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := deid(t, tt.stdin, tt.args...)
			if err == nil {
				t.Fatalf("no error; output %q", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "Secret") {
				t.Errorf("error quotes input: %q", err)
			}
		})
	}
}

func TestDeidHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"eval", "--help"}} {
		out, _, err := deid(t, "", args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if n := strings.Count(out, "usage: ward deid"); n != 1 {
			t.Errorf("%v: usage printed %d times: %q", args, n, out)
		}
	}
}

func TestDeidEval(t *testing.T) {
	gold := writeFile(t, "gold.json", `[
 {"full_text": "Jörg Okonkwo lives in Quincy.", "spans": [
   {"entity_type": "PERSON", "entity_value": "Jörg Okonkwo", "start_position": 0, "end_position": 12},
   {"entity_type": "LOCATION", "entity_value": "Quincy", "start_position": 22, "end_position": 28}]},
 {"full_text": "Call 217-555-0199 now.", "spans": [
   {"entity_type": "PHONE_NUMBER", "entity_value": "217-555-0199", "start_position": 5, "end_position": 17}]}]`)
	out, _, err := deid(t, "", "eval", "--format", "both", gold)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"hipaa_types"`, "HIPAA TYPES", "PHONE_NUMBER", "names"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Okonkwo") {
		t.Error("eval prints gold text")
	}
	jsonOut, _, err := deid(t, "", "eval", "--format", "json", gold)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		All struct {
			Recall float64 `json:"recall"`
		} `json:"all_types"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.All.Recall != 1 {
		t.Errorf("recall = %v", rep.All.Recall)
	}
}

// TestDeidJSONEncoding checks that the hand-written output encoder writes
// what json.Marshal writes.
func TestDeidJSONEncoding(t *testing.T) {
	texts := []string{"", "plain", "quote \" backslash \\ <b>&amp;</b>", "\x00\x01\x1f\t\n\r\b\f\x7f", "é ü 漢字 🙂",
		"\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "[[PERSON_1]] at [[DATE_2]]"}
	var every []byte // every byte value, alone and in a run
	for c := 0; c < 256; c++ {
		texts = append(texts, string([]byte{byte(c)}))
		every = append(every, byte(c))
	}
	texts = append(texts, string(every))
	// every special byte or rune at every offset of a long plain run, where
	// the encoder skips eight bytes at a time
	for _, sp := range []string{"\"", "\\", "<", ">", "&", "\x00", "\x1f", "\n", "\x7f", "é", "\u2028", "\xff", "🙂"} {
		for k := 0; k < 17; k++ {
			texts = append(texts, strings.Repeat("a", k)+sp+strings.Repeat("b", 19)+sp)
		}
	}
	for _, text := range texts {
		res := deidResult{Text: text, Spans: []phi.Replacement{{Span: phi.Span{Start: 1, End: 12, Type: phi.TypePerson}, Placeholder: "[[PERSON_1]]"}}}
		for _, r := range []deidResult{res, {Text: text, Spans: []phi.Replacement{}}} {
			want, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendResult(nil, r); string(got) != string(want) {
				t.Errorf("appendResult(%q) =\n%s\nwant\n%s", text, got, want)
			}
		}
	}
}

// TestDecodeTextLine checks the fast JSON line decoder against
// encoding/json: where it accepts a line it must decode the same text, and
// it must refuse (leaving the line to encoding/json) everything else.
func TestDecodeTextLine(t *testing.T) {
	lines := []string{
		`{"text":"plain"}`, ` { "text" : "spaced" } `, "{\"text\":\"tab\\tnew\\nline\\r\"}",
		`{"text":"quote \" slash \\ solidus \/ b\b f\f"}`, `{"text":"\u00e9\u4e2d\u0041"}`,
		`{"text":"é 中 😀 raw"}`, `{"text":""}`, `{"text":"\ud83d\ude00 pair"}`, `{"text":"\ud800 lone"}`,
		`{"text":"a","record":{}}`, `{"TEXT":"case"}`, `{"text":"a"} x`, `{"text":"a"`, `{"text":"bad \x escape"}`,
		`{"text":"short \u12"}`, `{"text":1}`, `{"text":"ctl ` + "\x01" + `"}`, `["text"]`, `{"text":"a","text":"b"}`,
	}
	// every escape, raw rune or refused byte at every offset of a long
	// plain run, where the decoder skips eight bytes at a time
	for _, sp := range []string{`\"`, `\\`, `\n`, `\u00e9`, "é", "\x01", "\x1f", "\x7f", `"`, `\u2028`, "🙂"} {
		for k := 0; k < 17; k++ {
			lines = append(lines, `{"text":"`+strings.Repeat("a", k)+sp+strings.Repeat("b", 19)+sp+`"}`)
		}
	}
	// and every string encoding/json writes for some awkward runes
	for _, r := range []rune{0, 0x1f, '"', '\\', '<', '>', '&', 0x7f, 0xe9, 0x2028, 0x2029, 0xfffd, 0x1f600} {
		b, _ := json.Marshal(map[string]string{"text": "x" + string(r) + "y"})
		lines = append(lines, string(b))
	}
	for _, l := range lines {
		got, ok := decodeTextLine([]byte(l))
		var want struct {
			Text *string `json:"text"`
		}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		err := dec.Decode(&want)
		if !ok {
			continue // left to encoding/json
		}
		if err != nil || dec.More() || want.Text == nil {
			t.Errorf("%q: fast path accepted a line encoding/json refuses (%v)", l, err)
			continue
		}
		if got != *want.Text {
			t.Errorf("%q: fast path %q, encoding/json %q", l, got, *want.Text)
		}
	}
	for _, l := range []string{`{"text":"plain"}`, `{"text":"\u00e9"}`, `{"text":"a\nb"}`} {
		if _, ok := decodeTextLine([]byte(l)); !ok {
			t.Errorf("%q: fast path refused a plain line", l)
		}
	}
	// with one buffer reused across lines, as deidLines does, each text is
	// what the line alone decodes to (and the line is left as it was)
	var buf []byte
	for _, l := range append(lines, lines...) {
		want, wantOK := decodeTextLine([]byte(l))
		line := []byte(l)
		var got string
		var ok bool
		got, buf, ok = decodeTextLineInto(line, buf)
		if ok != wantOK || ok && got != want {
			t.Errorf("%q: with a reused buffer %q %v, alone %q %v", l, got, ok, want, wantOK)
		}
		if string(line) != l {
			t.Errorf("%q: line changed to %q", l, line)
		}
	}
}

// TestByteParallel checks the eight-byte tests of the JSON line code
// against a byte-by-byte answer: every byte value at every position among
// plain bytes, and random words.
func TestByteParallel(t *testing.T) {
	check := func(b [8]byte) {
		x := binary.LittleEndian.Uint64(b[:])
		less, quote, plain := false, false, true
		first := 8 // the first byte that is not jsonPlain
		for k, c := range b {
			less = less || c < 0x20
			quote = quote || c == '"'
			plain = plain && jsonPlain[c]
			if !jsonPlain[c] && first == 8 {
				first = k
			}
		}
		if m := special8(x); bits.TrailingZeros64(m)>>3 != first || m&(m-1) != 0 {
			t.Fatalf("% x: special8 %#x, want the top bit of byte %d alone", b, m, first)
		}
		if hasLess(x, 0x20) != less || hasByte(x, '"') != quote || plain8(x) != plain || load64(string(b[:]), 0) != x {
			t.Fatalf("% x: hasLess %v hasByte %v plain8 %v, want %v %v %v", b, hasLess(x, 0x20), hasByte(x, '"'), plain8(x), less, quote, plain)
		}
	}
	for p := 0; p < 8; p++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', 0x00, 0x21, 0x7f, 0x80, 0xff} {
				b := [8]byte{fill, fill, fill, fill, fill, fill, fill, fill}
				b[p] = byte(c)
				check(b)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rng.Uint64())
		check(b)
	}
}
