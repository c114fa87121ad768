package httpapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/netip"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// A flood of made-up tokens from one address is refused before it reaches
// the database once the address has spent its budget of failed checks:
// 401 for the first ten, then 429 with Retry-After, on the API and on
// SCIM alike. Another address has its own budget, and a member whose
// credential this node kept from an earlier check is still served from
// the flooded address.
func TestFailedCredentialChecksLimitedPerAddress(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) {
		c.AuthFailRateLimit, c.AuthFailRateBurst = 0.01, 10
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}))
	o := w.createOrg("Flood Clinic")
	w.populate(o, "fl")
	const flooder, other = "198.51.100.7", "203.0.113.9"
	made := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	patient := "/v1/patients/" + o.P1.String()
	// The provider's credential is kept by this node.
	if resp, body := w.request("GET", patient, o.Prov.Token, nil, "X-Forwarded-For", flooder); resp.StatusCode != http.StatusOK {
		t.Fatalf("the provider's read: %d %s", resp.StatusCode, body)
	}
	for i := range 10 {
		if resp, body := w.request("GET", "/v1/me", made(), nil, "X-Forwarded-For", flooder); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("made-up token %d: %d %s, want 401", i, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/v1/me", patient} {
		resp, body := w.request("GET", path, made(), nil, "X-Forwarded-For", flooder)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("GET %s past the budget: %d (Retry-After %q) %s, want 429", path, resp.StatusCode,
				resp.Header.Get("Retry-After"), body)
		}
	}
	req, _ := http.NewRequest("GET", w.srv.URL+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+made())
	req.Header.Set("X-Forwarded-For", flooder)
	if resp, err := w.srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("SCIM past the budget: %v %v, want 429", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if resp, body := w.request("GET", "/v1/me", made(), nil, "X-Forwarded-For", other); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("another address: %d %s, want 401", resp.StatusCode, body)
	}
	if resp, body := w.request("GET", patient, o.Prov.Token, nil, "X-Forwarded-For", flooder); resp.StatusCode != http.StatusOK {
		t.Fatalf("the kept provider from the flooded address: %d %s, want 200", resp.StatusCode, body)
	}
}
