package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/audit/sink"
)

// TestSinkEndpointShownWithoutIntakeKey: a webhook's endpoint is answered
// with its query values redacted (a SIEM intake's key is often one), on
// creation and in the list, while the deliverer keeps it whole. Before,
// every admin's list showed the key, though the log and the server's log
// leave the query out (helper-119's review).
func TestSinkEndpointShownWithoutIntakeKey(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Endpoint")
	w.populate(o, "se")
	ctx := context.Background()
	var created struct {
		Sink sink.Sink `json:"sink"`
	}
	w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "webhook", "name": "intake",
		"endpoint": "https://siem.example/v1/input?api_key=intake-secret-119&source=ward&flag"}, http.StatusCreated, &created)
	const shown = "https://siem.example/v1/input?api_key=redacted&source=redacted&redacted"
	if created.Sink.Endpoint != shown {
		t.Errorf("created sink's endpoint %q, want %q", created.Sink.Endpoint, shown)
	}
	resp, body := w.request("GET", "/v1/audit/sinks", o.Admin.Token, nil)
	var list struct{ Sinks []sink.Sink }
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "intake-secret-119") ||
		json.Unmarshal(body, &list) != nil || len(list.Sinks) != 1 || list.Sinks[0].Endpoint != shown {
		t.Fatalf("sink list: %d %s", resp.StatusCode, body)
	}
	// The deliverer still sends to the endpoint as given.
	var stored string
	if err := w.env.Super.Pool.QueryRow(ctx, `select endpoint from app.audit_sinks where id = $1`,
		created.Sink.ID).Scan(&stored); err != nil || !strings.Contains(stored, "api_key=intake-secret-119") {
		t.Fatalf("stored endpoint %q (%v)", stored, err)
	}
}
