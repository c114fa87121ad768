package httpapi_test

import (
	"net/http"
	"testing"
)

// TestSinkSplunkTokenFitsAHeader: a Splunk HEC token that a header
// cannot carry (a line break, a space, a control, non-ASCII) is refused at
// creation. Before, it was accepted and every delivery then failed before
// reaching the receiver (helper-119's review).
func TestSinkSplunkTokenFitsAHeader(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Token")
	w.populate(o, "st")
	for _, tok := range []string{"abcd1234\r\nX-Injected: 1", "abcd 1234 efgh", "abcd1234\x00", "jeton-é-1234"} {
		resp, body := w.request("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "splunk",
			"name": "hec", "endpoint": "https://hec.example/services/collector/event", "token": tok})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token %q: %d %s, want 400", tok, resp.StatusCode, body)
		}
	}
	w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "splunk", "name": "hec",
		"endpoint": "https://hec.example/services/collector/event", "token": "8d6f2b1e-8c3a-4c55-9a4e-2f1d3b5c7a90"},
		http.StatusCreated, nil)
}
