package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestMalformedRequestsAnswerProblems: through `ward serve`, headers over
// the limit and a plain HTTP request on the TLS port are answered as
// problem details, not in net/http's plain text.
func TestMalformedRequestsAnswerProblems(t *testing.T) {
	s := startServe(t, filepath.Join(reachableTempDir(t), "var"))
	codeOf := func(resp *http.Response) string {
		t.Helper()
		b, _ := io.ReadAll(resp.Body)
		var p struct{ Code string }
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(b, &p) != nil {
			t.Fatalf("%d %s %q, want a problem", resp.StatusCode, ct, b)
		}
		return p.Code
	}
	req, err := http.NewRequest("GET", s.base+"/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Note", strings.Repeat("a", httpapi.MaxHeaderBytes+32<<10)) // past what net/http alone would read
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if code := codeOf(resp); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || code != "headers_too_large" {
		t.Errorf("headers over the limit: %d %s", resp.StatusCode, code)
	}

	c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	plain, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := codeOf(plain); plain.StatusCode != http.StatusBadRequest || code != "https_required" {
		t.Errorf("plain HTTP on the TLS port: %d %s", plain.StatusCode, code)
	}
	s.stop()
}
