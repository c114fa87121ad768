package sink

import (
	"context"
	"testing"
)

// TestSinkPausedAfterListingGetsNothing: a pass lists the due sinks, and
// an org's sinks wait their turn behind each other (up to Turn); a sink
// paused, disabled or deleted after the list was read and before its turn
// came must receive nothing more, not one batch sent after its admin (or
// the database, for a revoked admin) turned it off.
func TestSinkPausedAfterListingGetsNothing(t *testing.T) {
	for _, c := range []struct{ name, sql string }{
		{"disabled", `update app.audit_sinks set enabled = false where id = $1`},
		{"failed for good", `update app.audit_sinks set disabled_at = now() where id = $1`},
		{"deleted", `delete from app.audit_sinks where id = $1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			org := e.org(t, 12)
			r := newReceiver(t)
			id := e.sink(t, org, Webhook, r.srv.URL+"/hook", newWebhookSecret(), "jsonl", 5)
			d := e.deliverer(t, e.reader, r.srv.Client())
			orgs, err := d.pending(ctx)
			if err != nil || len(orgs) != 1 {
				t.Fatalf("pending: %d orgs (%v)", len(orgs), err)
			}
			if _, err := e.Super.Pool.Exec(ctx, c.sql, id); err != nil {
				t.Fatal(err)
			}
			if n := d.turn(ctx, orgs[0]); n != 0 {
				t.Errorf("%d events acknowledged after the sink was %s", n, c.name)
			}
			if got := r.requests(); len(got) != 0 {
				t.Errorf("the receiver got %d batches after the sink was %s", len(got), c.name)
			}
		})
	}
}
