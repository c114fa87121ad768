package gateway

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonSeeds are valid JSON values the splitters must see as encoding/json
// does: escapes in keys and strings, repeated keys, nesting, brackets and
// quotes inside strings, space everywhere JSON allows it.
var jsonSeeds = []string{
	`{}`, `[]`, ` { } `, `[ ]`, `null`, `"x"`, `12`, `true`,
	`{"a":1,"b":[1,2,{"c":"]}"}],"d":{"e":"\"}"}}`,
	` { "text" : "a" , "te\u0078t" : "b" } `,
	`{"text":"PHI","text":"later"}`,
	`[{"type":"text","text":"a\\"},{"type":"text","text":"\\\""}, null, 1, "s", [], {}]`,
	"{\"k\\u00e9\":\"v\",\"\xc3\xa9\":[ 1 ,\n2 ]\t}",
	`{"a":-1.5e+10,"b":false,"c":null,"d":"\u2028<&>"}`,
	`[[[[{"a":[{"b":"}}}]]]"}]}]]]]`,
	"{\"\xff\":1,\"a\":\"\xfe\"}",
}

func TestSplitMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkSplit(t, []byte(s))
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) {
			checkSplit(t, b)
		}
	})
}

func checkSplit(t *testing.T, b []byte) {
	t.Helper()
	var wantObj map[string]json.RawMessage
	errObj := json.Unmarshal(b, &wantObj)
	gotObj, ok := splitObject(b)
	if isObj := errObj == nil && wantObj != nil; ok != isObj {
		t.Fatalf("%q: splitObject ok=%v, encoding/json object=%v", b, ok, isObj)
	}
	if ok {
		if d := cmp.Diff(wantObj, gotObj); d != "" {
			t.Fatalf("%q: splitObject differs (-encoding/json +split):\n%s", b, d)
		}
		// re-encoding: the same JSON as encoding/json's, up to space
		got, err := marshal(gotObj)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := marshalSlow(wantObj)
		if !json.Valid(got) || !bytes.Equal(compact(t, got), want) {
			t.Fatalf("%q: marshal gave %q, encoding/json %q", b, got, want)
		}
	}
	var wantArr []json.RawMessage
	errArr := json.Unmarshal(b, &wantArr)
	gotArr, ok := splitArray(b)
	if isArr := errArr == nil && wantArr != nil; ok != isArr {
		t.Fatalf("%q: splitArray ok=%v, encoding/json array=%v", b, ok, isArr)
	}
	if ok {
		if d := cmp.Diff(wantArr, gotArr); d != "" {
			t.Fatalf("%q: splitArray differs (-encoding/json +split):\n%s", b, d)
		}
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		got, err := unquote(b)
		if err != nil || got != s {
			t.Fatalf("%q: unquote %q %v, want %q", b, got, err, s)
		}
		q, _ := marshal(s)
		want, _ := marshalSlow(s)
		if !bytes.Equal(q, want) {
			t.Fatalf("%q: marshal %q, want %q", s, q, want)
		}
	}
}

func TestMarshalNilRaw(t *testing.T) {
	got, err := marshal(map[string]json.RawMessage{"a": nil, "b": json.RawMessage(`1`)})
	want, _ := marshalSlow(map[string]json.RawMessage{"a": nil, "b": json.RawMessage(`1`)})
	if err != nil || string(got) != string(want) {
		t.Fatalf("%s %v, want %s", got, err, want)
	}
	if _, err := marshal([]json.RawMessage{{}}); err == nil {
		t.Fatal("an empty value encoded")
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		t.Fatal(err)
	}
	return c.Bytes()
}

// object validates before it splits: the splitters never see anything
// encoding/json would refuse.
func TestObjectRefusesInvalid(t *testing.T) {
	for _, s := range []string{``, `{`, `{"messages":[{"content":"x"}]`, `{"a":} `, `{"a":1} {"b":2}`, `[{"a":1}]`,
		`null`, `"{}"`, "{\"a\":\"\x01\"}", `{"a":1,}`, `{'a':1}`} {
		if _, err := object([]byte(s), "the body"); err == nil {
			t.Errorf("object(%q) accepted", s)
		}
	}
}
