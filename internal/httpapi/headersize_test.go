package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// A request whose headers are over httpapi.MaxHeaderBytes, as one field or
// as many, is answered 431 in its surface's shape (a problem on the API),
// not in net/http's plain text; one under it is served.
func TestHeadersTooLarge(t *testing.T) {
	w := newWorld(t)
	one := http.Header{"X-Note": {strings.Repeat("a", httpapi.MaxHeaderBytes)}}
	many := http.Header{}
	for i := range 40 {
		many.Add("X-Note-"+strings.Repeat("n", i%5+1), strings.Repeat("b", 2<<10))
	}
	for name, hdr := range map[string]http.Header{"one field": one, "many fields": many} {
		resp, body := w.send("GET", "/v1/me", hdr, nil)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s %q, want a 431 problem", name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if code, _ := problemOf(t, body); code != "headers_too_large" {
			t.Errorf("%s: code %s", name, code)
		}
		// (without the random request id, which holds "aaaa" once in
		// 3,000 answers)
		if quoted := string(requestIDRE.ReplaceAll(body, nil)); strings.Contains(quoted, "aaaa") || strings.Contains(quoted, "bbbb") {
			t.Errorf("%s: the answer quotes the headers", name)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: the answer lacks the surface's headers: %v", name, resp.Header)
		}
	}
	// The console answers in its own shape.
	resp, _ := w.send("GET", "/", one, nil)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("console: %d %s, want a 431 page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Just under the limit: served (401, no credential).
	under := http.Header{"X-Note": {strings.Repeat("a", httpapi.MaxHeaderBytes-1<<10)}}
	if resp, body := w.send("GET", "/v1/me", under, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("headers under the limit: %d %s", resp.StatusCode, body)
	}
}
