package gateway

import (
	"bytes"
	"testing"

	"github.com/google/uuid"
)

// The date shift is a keyed function of the org, the patient and the
// conversation's first message: the same three give the same shift on every
// call and every node with the key, and changing any one of them (or the
// key) gives an independent shift.
func TestDateShiftStable(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s := NewService(nil, nil, Config{DateShiftKey: key}, nil)
	other := NewService(nil, nil, Config{DateShiftKey: key}, nil) // another node, same key
	org, patient := uuid.New(), uuid.New()
	first := []byte(`{"role":"user","content":"Seen on 03/14/2024."}`)

	a := s.dateShift(org, patient, first)
	if a == 0 || a < -365 || a > 365 {
		t.Fatalf("shift %d is outside 1..365 days either way", a)
	}
	if b := other.dateShift(org, patient, first); b != a {
		t.Fatalf("two nodes with one key shift the same conversation by %d and %d", a, b)
	}

	// Over many conversations the shifts spread over the whole range, in
	// both directions: none of the inputs is ignored.
	seen := map[int]bool{}
	neg, pos := 0, 0
	for i := range 200 {
		var d int
		switch i % 4 {
		case 0:
			d = s.dateShift(uuid.New(), patient, first)
		case 1:
			d = s.dateShift(org, uuid.New(), first)
		case 2:
			d = s.dateShift(org, patient, append([]byte(`{"role":"user","content":"`), uuid.NewString()...))
		case 3:
			d = NewService(nil, nil, Config{}, nil).dateShift(org, patient, first) // a random key
		}
		if d == 0 || d < -365 || d > 365 {
			t.Fatalf("shift %d is outside 1..365 days either way", d)
		}
		seen[d] = true
		if d < 0 {
			neg++
		} else {
			pos++
		}
	}
	if len(seen) < 150 || neg < 60 || pos < 60 {
		t.Fatalf("200 independent shifts gave %d distinct values, %d back and %d forward", len(seen), neg, pos)
	}
}

func TestFirstElement(t *testing.T) {
	for raw, want := range map[string]string{
		` [ {"a":1} , {"b":2}]`: `{"a":1}`,
		`["x"]`:                 `"x"`,
		`[]`:                    ``,
		` [ ] `:                 ``,
		`{"a":1}`:               ``,
		``:                      ``,
	} {
		if got := string(firstElement([]byte(raw))); got != want {
			t.Errorf("firstElement(%q) = %q, want %q", raw, got, want)
		}
	}
}
