package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// Each principal has its own bucket: one user running out does not slow
// another, and the refusal says when to come back.
func TestRateLimitPerPrincipal(t *testing.T) {
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = 0.01; c.RateBurst = 5 }))
	o := w.createOrg("Limit Org")
	prov := w.addMember(o, "busy@example.test", "provider") // the admin's first request
	for range 4 {
		w.do("GET", "/v1/me", o.Admin.Token, nil, http.StatusOK, nil)
	}
	resp, body := w.request("GET", "/v1/me", o.Admin.Token, nil)
	if resp.StatusCode != http.StatusTooManyRequests || problemCode(t, body) != "rate_limited" {
		t.Fatalf("sixth request: %d %s", resp.StatusCode, body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 100 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Another member of the same org has a bucket of their own.
	w.do("GET", "/v1/me", prov.Token, nil, http.StatusOK, nil)
	// A new session of the same user shares the user's bucket.
	again := w.operatorSignIn(o.Admin.Email, o.ID)
	if resp, _ := w.request("GET", "/v1/me", again, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a second session escaped the user's limit: %d", resp.StatusCode)
	}
	// Public routes are not counted here.
	w.do("GET", "/healthz", "", nil, http.StatusOK, nil)
}
