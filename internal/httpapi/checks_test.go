package httpapi_test

import (
	"context"
	"net/http"
	"testing"
)

// TestKeptSessionCheck: a route whose handler goes straight to its first
// transaction is served with the principal an earlier full check resolved
// for the credential, and that transaction confirms it before anything
// else (app.whoami compared, app.stale_principal). A principal that no longer holds fails the
// transaction before any of the request's statements runs (no
// patient.read is written by that pass), is forgotten, and the request is
// answered as a full check decides: 401 for a session revoked behind the
// server's back, the new answer for a changed principal, each audited
// once.
func TestKeptSessionCheck(t *testing.T) {
	w := newWorld(t, withUnboundOrgs()) // bearer sessions: a DPoP-bound one is never kept
	o := w.createOrg("Kept Checks")
	w.populate(o, "kept")
	ctx := context.Background()
	patient := "/v1/patients/" + o.P1.String()
	reads := func() int { return w.auditCount(o.ID, "patient.read", "success") }

	t.Run("kept and confirmed", func(t *testing.T) {
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
		before, n := w.auth.CheckStats(), reads()
		for range 3 {
			w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
			w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil)
		}
		if d := w.checksSince(before); d.Kept != 6 || d.Full != 0 || d.Stale != 0 {
			t.Fatalf("six reads with a principal kept: %+v", d)
		}
		if got := reads() - n; got != 3 {
			t.Fatalf("%d patient.read events for three reads", got)
		}
	})

	t.Run("changed behind the server's back", func(t *testing.T) {
		// Prov2 is not on P1's care team: 404, and the principal is kept.
		w.do("GET", patient, o.Prov2.Token, nil, http.StatusNotFound, nil)
		// Made a lead by hand (no rotation, nothing the server sees).
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.memberships set role = 'lead'
			where org_id = $1 and user_id = $2`, o.ID, o.Prov2.ID); err != nil {
			t.Fatal(err)
		}
		before, n := w.auth.CheckStats(), reads()
		w.do("GET", patient, o.Prov2.Token, nil, http.StatusOK, nil)
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Fatalf("a changed principal: %+v, want kept, found stale, served after a full check", d)
		}
		if got := reads() - n; got != 1 {
			t.Fatalf("%d patient.read events for one read served twice", got)
		}
		before = w.auth.CheckStats()
		w.do("GET", patient, o.Prov2.Token, nil, http.StatusOK, nil)
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 0 || d.Full != 0 {
			t.Fatalf("the new principal is not the one kept: %+v", d)
		}
	})

	t.Run("revoked behind the server's back", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
		before, n := w.auth.CheckStats(), reads()
		for _, path := range []string{patient, "/v1/patients"} {
			resp, body := w.request("GET", path, o.Lead.Token, nil)
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "session_revoked" {
				t.Fatalf("GET %s with a revoked session: %d %s", path, resp.StatusCode, body)
			}
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 2 {
			t.Fatalf("a revoked session: %+v, want the kept principal found stale once, then full checks", d)
		}
		if got := reads() - n; got != 0 {
			t.Fatalf("%d patient.read events for a revoked session", got)
		}
	})

	t.Run("a pending session is never kept", func(t *testing.T) {
		aal1 := w.signInAAL1(o.Admin.Email, o.ID)
		for range 2 {
			if resp, _ := w.request("GET", "/v1/patients", aal1, nil); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("a pending admin session lists patients: %d", resp.StatusCode)
			}
		}
		before := w.auth.CheckStats()
		if resp, _ := w.request("GET", "/v1/patients", aal1, nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a pending admin session lists patients: %d", resp.StatusCode)
		}
		if d := w.checksSince(before); d.Kept != 0 || d.Full != 1 {
			t.Fatalf("a pending session: %+v", d)
		}
	})
}
