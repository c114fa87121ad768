package httpapi

import (
	"encoding/json"
	"testing"
)

// FuzzCheckJSON: whatever checkJSON accepts, encoding/json accepts too, and
// decodes without U+FFFD standing in for a bad byte or surrogate.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,2,{"c":"d"}]}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ud800"}`,
		`{"a":1,"A":2}`, "{\"a\":\"\xff\"}", `{"a":"\u0000"}`, `[1e5,-0.5,true,false,null]`, `"x"`, `{"a":"\uFFFD"}`,
		`{"a":01}`, `{"a":1,}`, ` {"a" : "b\"c\\"} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkJSON(b) != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("checkJSON accepts what encoding/json does not: %q", b)
		}
	})
}
