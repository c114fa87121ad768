package sink

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// A delivery failure's log line names the endpoint's host and path but not
// its query or user information, which can be the SIEM intake's key.
func TestLogCauseHidesEndpointSecrets(t *testing.T) {
	ue := &url.Error{Op: "Post", URL: "https://u:pw@siem.example:8088/hook?api_key=SIEMSECRET123&x=1", Err: fmt.Errorf("connection refused")}
	for _, cause := range []error{ue, fmt.Errorf("webhook: %w", ue)} {
		got := logCause(cause)
		if strings.Contains(got, "SIEMSECRET123") || strings.Contains(got, "pw@") || !strings.Contains(got, "https://siem.example:8088/hook") ||
			!strings.Contains(got, "connection refused") {
			t.Fatalf("logged cause: %s", got)
		}
	}
}
