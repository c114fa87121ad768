package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAttackSinkFromSeqPastTheLog: an admin creating a sink may start it
// anywhere in the org's log, but not past its newest event: a sink whose
// cursor is ahead of the log delivers nothing until the log catches up,
// while its list entry shows a lag of 0 and the compliance report counts
// it as delivering, and its cursor never moves back. The database refuses
// it (migration 00347); a sink starting at the newest event is created.
func TestAttackSinkFromSeqPastTheLog(t *testing.T) {
	w := newWorld(t)
	a := w.createOrg("Sink Cursor Org")
	w.populate(a, "sc")
	ctx := context.Background()
	// The integrator sequences what the setup recorded.
	var head int64
	if err := w.env.Super.Pool.QueryRow(ctx, `select tree_size from audit.integrate($1)`, a.ID).Scan(&head); err != nil {
		t.Fatal(err)
	}
	if head == 0 {
		t.Fatal("the org's log has no sequenced event to start after")
	}
	for _, from := range []int64{head + 1, head + 1_000_000, 1 << 62} {
		resp, body := w.request("POST", "/v1/audit/sinks", a.Admin.Token, map[string]any{"kind": "syslog",
			"name": "ahead", "endpoint": "siem.example:6514", "from_seq": from})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "from_seq is past the newest event") {
			t.Errorf("a sink from seq %d, the log at %d: %d %s", from, head, resp.StatusCode, body)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.audit_sinks where org_id = $1`, a.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d sinks after the refusals (%v)", n, err)
	}
	resp, body := w.request("POST", "/v1/audit/sinks", a.Admin.Token, map[string]any{"kind": "syslog",
		"name": "at-head", "endpoint": "siem.example:6514", "from_seq": head})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a sink from the newest event %d: %d %s", head, resp.StatusCode, body)
	}
}
