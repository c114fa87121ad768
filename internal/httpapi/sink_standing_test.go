package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/identity"
)

// A SIEM sink answers to the admin who created or last enabled it, as an
// API key or a SCIM token does to its maker: revoking that admin, or taking
// their admin role, pauses it (recorded as audit.sink.update with the
// reason), so the org's log no longer flows to a destination only they
// chose; another admin enables it again and it answers to them. Before
// migration 00202 the sink went on delivering after its creator left.
func TestAuditSinkPausesWithItsAdmin(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Standing")
	w.populate(o, "ss")
	mallory := w.addMember(o, "sink-mallory@example.test", identity.RoleAdmin)
	dana := w.addMember(o, "sink-dana@example.test", identity.RoleAdmin)

	var batches atomic.Int64
	recv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		batches.Add(1)
	}))
	t.Cleanup(recv.Close)
	d := sink.NewDeliverer(w.env.Super, w.inst, sink.Config{Client: recv.Client(), Site: "ward-test"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	deliver := func() int64 {
		t.Helper()
		before := batches.Load()
		w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil) // something new to send
		w.integrate()
		if _, err := d.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		return batches.Load() - before
	}
	type sinkOut struct {
		Sink sink.Sink `json:"sink"`
	}
	state := func(id uuid.UUID) (s sink.Sink, owner uuid.UUID) {
		t.Helper()
		var list struct{ Sinks []sink.Sink }
		w.do("GET", "/v1/audit/sinks", o.Admin.Token, nil, http.StatusOK, &list)
		for _, x := range list.Sinks {
			if x.ID == id {
				s = x
			}
		}
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select created_by from app.audit_sinks where id = $1`,
			id).Scan(&owner); err != nil {
			t.Fatal(err)
		}
		return s, owner
	}
	paused := func(id uuid.UUID, reason string) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events
			where org_id = $1 and action = 'audit.sink.update' and object_id = $2 and details->>'reason' = $3
			  and details->>'enabled' = 'false'`, o.ID, id, reason).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	var hook sinkOut
	w.do("POST", "/v1/audit/sinks", mallory.Token, map[string]any{"kind": "webhook", "name": "mallory-siem",
		"endpoint": recv.URL + "/hook?api_key=intake-secret"}, http.StatusCreated, &hook)
	if n := deliver(); n == 0 {
		t.Fatal("the new sink delivered nothing")
	}
	// Its creation names where the log goes (not the query, which may
	// hold an intake's key), so a later investigation need not trust the
	// sink's row.
	var dest string
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select coalesce(details->>'endpoint', '') from audit.events
		where org_id = $1 and action = 'audit.sink.create' and object_id = $2 and outcome = 'success'`,
		o.ID, hook.Sink.ID).Scan(&dest); err != nil || dest != recv.URL+"/hook" {
		t.Fatalf("audit.sink.create names the endpoint %q (%v), want %q", dest, err, recv.URL+"/hook")
	}
	if s, owner := state(hook.Sink.ID); !s.Enabled || owner != mallory.ID {
		t.Fatalf("before: enabled %v, owner %s (mallory %s)", s.Enabled, owner, mallory.ID)
	}

	// Mallory leaves: the sink she chose stops.
	w.do("DELETE", "/v1/members/"+mallory.ID.String(), o.Admin.Token, nil, http.StatusNoContent, nil)
	s, _ := state(hook.Sink.ID)
	if s.Enabled || s.PausedReason != "member_revoked" {
		t.Fatalf("after its admin's revocation the sink is enabled=%v, paused_reason %q", s.Enabled, s.PausedReason)
	}
	if paused(hook.Sink.ID, "member_revoked") != 1 {
		t.Fatal("the pause is not in the log as audit.sink.update with reason member_revoked")
	}
	if n := deliver(); n != 0 {
		t.Fatalf("a paused sink delivered %d batches", n)
	}

	// Dana looks at it and enables it: it delivers again and is hers now.
	w.do("PATCH", "/v1/audit/sinks/"+hook.Sink.ID.String(), dana.Token, map[string]any{"enabled": true}, http.StatusOK, nil)
	s, owner := state(hook.Sink.ID)
	if !s.Enabled || s.PausedReason != "" || owner != dana.ID {
		t.Fatalf("re-enabled: enabled %v, paused_reason %q, owner %s (dana %s)", s.Enabled, s.PausedReason, owner, dana.ID)
	}
	if n := deliver(); n == 0 {
		t.Fatal("the re-enabled sink delivered nothing")
	}

	// Dana is made a lead: the sink she answers for pauses again.
	w.do("PATCH", "/v1/members/"+dana.ID.String(), o.Admin.Token, map[string]any{"role": "lead"}, http.StatusOK, nil)
	if s, _ := state(hook.Sink.ID); s.Enabled || s.PausedReason != "admin_role_removed" {
		t.Fatalf("after its admin's demotion the sink is enabled=%v, paused_reason %q", s.Enabled, s.PausedReason)
	}
	if paused(hook.Sink.ID, "admin_role_removed") != 1 {
		t.Fatal("the pause is not in the log with reason admin_role_removed")
	}
	if n := deliver(); n != 0 {
		t.Fatalf("a paused sink delivered %d batches", n)
	}

	// Another admin's sink is left alone.
	var other sinkOut
	w.do("POST", "/v1/audit/sinks", o.Admin.Token, map[string]any{"kind": "syslog", "name": "admin-syslog",
		"endpoint": "siem.example:6514"}, http.StatusCreated, &other)
	if s, owner := state(other.Sink.ID); !s.Enabled || owner != o.Admin.ID {
		t.Fatalf("another admin's sink: enabled %v, owner %s", s.Enabled, owner)
	}
}

// A sink created while its admin is being revoked: the revocation holds
// the membership row, the creation waits for it and is refused (403)
// rather than going through unseen by the revocation and streaming on.
func TestAttackSinkOutlivesRevocation(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Race Org")
	mallory := w.addMember(o, "sink-race-mallory@example.test", identity.RoleAdmin)
	release := make(chan struct{})
	var none string
	held, done := w.holdAs(o.Admin.Token, `select app.update_member($1, null, true)::text`, &none, release, mallory.ID)
	<-held
	status, body := w.raceAgainst("POST", "/v1/audit/sinks", mallory.Token,
		map[string]any{"kind": "syslog", "name": "late", "endpoint": "siem.example:6514"}, release)
	if err := <-done; err != nil {
		t.Fatalf("the revocation: %v", err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("a sink made by an admin whose revocation committed while it waited: %d %s, want 403", status, body)
	}
	var live int
	if err := w.env.Super.Pool.QueryRow(t.Context(), `select count(*) from app.audit_sinks
		where org_id = $1 and enabled`, o.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d enabled sinks after the revocation (%v)", live, err)
	}
}

// A pause takes effect within the batch in flight: a revocation that lands
// while the deliverer works through a sink's backlog stops it there,
// rather than letting the turn send its remaining batches (up to 10 of
// batch_max events each) to the departed admin's endpoint.
func TestAuditSinkStopsMidTurn(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Sink Mid Turn")
	w.populate(o, "smt")
	mallory := w.addMember(o, "sink-midturn-mallory@example.test", identity.RoleAdmin)
	for range 5 {
		w.do("GET", "/v1/patients/"+o.P1.String(), o.Prov.Token, nil, http.StatusOK, nil)
	}
	var hook struct {
		Sink sink.Sink `json:"sink"`
	}
	var batches atomic.Int64
	revoked := make(chan error, 1)
	recv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if batches.Add(1) == 1 {
			// Mallory is revoked while her sink's first batch is in flight.
			_, err := w.env.Super.Pool.Exec(context.Background(), `update app.memberships set revoked_at = now()
				where org_id = $1 and user_id = $2`, o.ID, mallory.ID)
			revoked <- err
		}
	}))
	t.Cleanup(recv.Close)
	w.do("POST", "/v1/audit/sinks", mallory.Token, map[string]any{"kind": "webhook", "name": "mallory-backlog",
		"endpoint": recv.URL + "/hook", "batch_max": 1}, http.StatusCreated, &hook)
	w.integrate()
	d := sink.NewDeliverer(w.env.Super, w.inst, sink.Config{Client: recv.Client(), Site: "ward-test"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-revoked; err != nil {
		t.Fatalf("the revocation: %v", err)
	}
	if n := batches.Load(); n != 1 {
		t.Fatalf("%d batches went out in the turn the sink was paused in, want the 1 in flight", n)
	}
	var enabled bool
	var cursor int64
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select enabled, cursor_seq from app.audit_sinks where id = $1`,
		hook.Sink.ID).Scan(&enabled, &cursor); err != nil || enabled || cursor != 0 {
		t.Fatalf("after the turn: enabled %v, cursor %d (%v); want paused at 0 (the batch in flight is sent again)",
			enabled, cursor, err)
	}
}
