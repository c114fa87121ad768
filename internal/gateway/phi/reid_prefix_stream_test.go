package phi

import (
	"context"
	"strings"
	"testing"
)

// A guard for the length look-up of re-identification (f82f4c1): shifted
// dates of which one is the start of another ("3/5/20", "3/5/2021",
// "3/5/21") are each restored to their own original, whole and streamed in
// chunks of every size from every offset, and no shifted date is left.
func TestReidPrefixDatesStreamed(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(nil, SessionOptions{DateShiftDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	src := "seen 3/4/20 and 3/4/2021 and 03/04/2021 and March 4, 2021 and 2021-03-04 and 3/4/21.\n"
	res, err := s.Redact(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	reply := res.Text + " " + res.Text
	want, _ := s.Reidentify(reply)
	if want != src+" "+src {
		t.Fatalf("restored %q, want the source twice", want)
	}
	for step := 1; step <= 12; step++ {
		for off := 0; off < step; off++ {
			st := s.NewStream()
			var got strings.Builder
			got.WriteString(st.Write(reply[:off]))
			for p := off; p < len(reply); p += step {
				got.WriteString(st.Write(reply[p:min(p+step, len(reply))]))
			}
			r, _ := st.Close()
			got.WriteString(r)
			if got.String() != want {
				t.Errorf("step %d off %d: %q", step, off, got.String())
			}
		}
	}
	if strings.Contains(want, "3/5/") {
		t.Errorf("left shifted: %q", want)
	}
}
