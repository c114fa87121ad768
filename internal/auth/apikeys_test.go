package auth_test

import (
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/auth"
)

// A key is sk_live_ + 43 base62 characters + a 6-character CRC32: every
// single-character typo and every swap of two neighbours fails the
// checksum, so the server refuses it without a lookup.
func TestAPIKeyChecksum(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		k := auth.NewAPIKey()
		if !auth.ValidAPIKey(k) || !strings.HasPrefix(k, "sk_live_") || len(k) != 57 || seen[k] {
			t.Fatalf("new key %q", k)
		}
		seen[k] = true
	}
	k := auth.NewAPIKey()
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for i := len("sk_live_"); i < len(k); i++ {
		for _, c := range []byte(alphabet) {
			if c == k[i] {
				continue
			}
			typo := k[:i] + string(c) + k[i+1:]
			if auth.ValidAPIKey(typo) {
				t.Fatalf("typo at %d accepted", i)
			}
		}
		if i+1 < len(k) && k[i] != k[i+1] {
			swap := k[:i] + string(k[i+1]) + string(k[i]) + k[i+2:]
			if auth.ValidAPIKey(swap) {
				t.Fatalf("swap at %d accepted", i)
			}
		}
	}
	for _, bad := range []string{"", "sk_live_", k[:len(k)-1], k + "0", "sk_test_" + k[8:], strings.Replace(k, "sk_live_", "sk_live-", 1),
		k[:20] + "!" + k[21:]} {
		if auth.ValidAPIKey(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}
