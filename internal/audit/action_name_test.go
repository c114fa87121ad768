package audit

import (
	"regexp"
	"testing"
)

// TestValidAction checks the hand-written action name check against the
// regular expression it replaces.
func TestValidAction(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
	long := "a"
	for len(long) < 70 {
		long += "b"
	}
	cases := []string{"", "a", "z", "A", "1a", "_a", ".a", "case.create", "document.comment.list", "a_b.c9", "a-b", "a b",
		"a\n", "\na", "aé", "Abc", "abC", long[:63], long[:64], long[:65], long}
	for name := range Actions {
		cases = append(cases, name)
	}
	for _, s := range cases {
		if got, want := validAction(s), re.MatchString(s); got != want {
			t.Errorf("validAction(%q) = %v, want %v", s, got, want)
		}
	}
}
