package phi

import "testing"

// TestIsParticleGuard checks isParticle's early refusal against its list:
// every particle passes the guard, and the guard changes no answer.
func TestIsParticleGuard(t *testing.T) {
	particles := []string{"de", "del", "della", "di", "da", "do", "dos", "das", "van", "von", "der", "den", "la", "le", "les", "du", "des", "y", "e", "st", "san", "santa", "bin", "al", "el", "ter", "ten",
		"ó", "mac", "mc", "ibn", "bint", "abu", "ben", "ap", "zu", "dei", "dal", "af", "los", "las"}
	for _, w := range particles {
		if !isParticle(w) {
			t.Errorf("isParticle(%q) = false", w)
		}
	}
	for _, w := range []string{"", "d", "dee", "santos", "delano", "x", "vonn", "a", "t", "s", "st.", "de la"} {
		if isParticle(w) {
			t.Errorf("isParticle(%q) = true", w)
		}
	}
}
