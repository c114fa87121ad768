package auth

import "testing"

// RFC 9449 §4.3: htu is compared after syntax- and scheme-based
// normalization; a claim with a query or a fragment (§4.2: it has none)
// matches no request.
func TestNormalizeHTU(t *testing.T) {
	const want = "https://ward.example/v1/me"
	for _, u := range []string{want, "HTTPS://Ward.Example/v1/me", "https://ward.example:443/v1/me",
		"https://ward.example/v1/%6De"} {
		if got := normalizeHTU(u); got != want {
			t.Errorf("normalizeHTU(%q) = %q, want %q", u, got, want)
		}
	}
	for _, u := range []string{"https://ward.example/v1/ME", "http://ward.example/v1/me", "https://ward.example:8443/v1/me",
		"https://evil.example/v1/me", "https://ward.example/v1/me/", "/v1/me", "", "https://ward.example/v1/me?x=1",
		"https://ward.example/v1/me#f"} {
		if normalizeHTU(u) == want {
			t.Errorf("normalizeHTU(%q) matches %q", u, want)
		}
	}
	if a, b := normalizeHTU("https://w.example/a%2fb"), normalizeHTU("https://w.example/a%2Fb"); a != b || a != "https://w.example/a%2Fb" {
		t.Errorf("escapes of reserved characters: %q %q", a, b)
	}
	if normalizeHTU("http://w.example:80") != "http://w.example/" {
		t.Errorf("empty path and default port: %q", normalizeHTU("http://w.example:80"))
	}
}
