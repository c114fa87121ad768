package phi

import (
	"strings"
	"testing"
)

// TestContainsFormName checks the one-pass search against a
// strings.Contains per name.
func TestContainsFormName(t *testing.T) {
	texts := []string{"", "P", "PERSO", "PERSON", "xPERSONx", "LOCATIO N", "ORGANIZATIO", "ORGANIZATION 2",
		"PT ALERT AND ORIENTED, LOCATED ON PAIN", "AADDRESS", "ADDRES", "a person, location", "PPERSON", "…ADDRESS"}
	for _, text := range texts {
		want := false
		for _, n := range spaceFormNames {
			want = want || strings.Contains(text, n)
		}
		if got := containsFormName(text); got != want {
			t.Errorf("containsFormName(%q) = %v, want %v", text, got, want)
		}
	}
}
