package phi

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Re-identification reads a bounded number of the session's shifted dates
// at each position of a reply: it compared every shifted date that shares
// the position's first three bytes ("01/" for every date in January), and
// every one of them at the end of each streamed chunk, so that a request
// of many dates and a long reply cost their product (a megabyte of dates
// against a streamed reply of a megabyte: hours). What it restores is
// unchanged, whole or streamed.
func TestReidShiftedDatesBounded(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(nil, SessionOptions{DateShiftDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for y := 1901; y <= 2020; y++ {
		for d := 1; d <= 20; d++ {
			fmt.Fprintf(&src, "seen 01/%02d/%d.\n", d, y)
		}
	}
	res, err := s.Redact(context.Background(), src.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.shifted) < 2000 {
		t.Fatalf("%d dates shifted, want 2400", len(s.shifted))
	}
	const n = 2000
	head := func(s string) string { return strings.Join(strings.SplitAfter(s, "\n")[:10], "") }
	reply := strings.Repeat("01/0 ", n) + head(res.Text)
	want, _ := s.Reidentify(reply)
	if !strings.HasSuffix(want, head(src.String())) || strings.Contains(res.Text, "01/01/1901") {
		t.Fatalf("the dates were not shifted and restored: %q", want[len(want)-200:])
	}
	bound := 64 * n
	lx := s.literalIndex()
	lx.steps = 0
	s.Reidentify(reply)
	if lx.steps > bound {
		t.Errorf("Reidentify compared %d shifted dates over %d positions, want at most %d", lx.steps, n, bound)
	}
	lx.steps = 0
	st := s.NewStream()
	var got strings.Builder
	for p := 0; p < len(reply); p += 3 {
		got.WriteString(st.Write(reply[p:min(p+3, len(reply))]))
	}
	rest, _ := st.Close()
	got.WriteString(rest)
	if got.String() != want {
		t.Errorf("streamed re-identification differs from whole")
	}
	if lx.steps > bound {
		t.Errorf("the stream compared %d shifted dates over %d positions, want at most %d", lx.steps, n, bound)
	}
}
