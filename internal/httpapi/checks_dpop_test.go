package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestKeptDPoPCheck: a DPoP-bound session checked in full less than 30 s
// ago with a proof by its key is served with its kept principal on the
// routes that take one (inTx, kept, ahead), and the route's first
// transaction confirms it and records the new proof's jti in the same
// round trip: one jti per request, as a full check records. The jti stands
// when the request's transaction fails after the check (a savepoint
// follows it), so the proof is never accepted twice; a replayed proof is
// found stale and a full check answers its 401 dpop_invalid, with no
// patient.read written; a proof by another key is never served a kept
// principal; a revoked session gets its 401 and records no jti.
func TestKeptDPoPCheck(t *testing.T) {
	w := newWorld(t) // staff sessions are bound to the world's DPoP keys
	o := w.createOrg("Kept DPoP")
	w.populate(o, "kdp")
	ctx := context.Background()
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		t.Fatal("the lead's session is not DPoP-bound")
	}
	jtis := func() int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.dpop_jtis where jkt = $1`, key.jkt()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	reads := func() int { return w.auditCount(o.ID, "patient.read", "success") }
	patient := "/v1/patients/" + o.P1.String()
	// send presents the lead's token with the given proof.
	send := func(method, path, proof string, body any) (*http.Response, []byte) {
		t.Helper()
		return w.request(method, path, "", body, "Authorization", "DPoP "+o.Lead.Token, "DPoP", proof)
	}
	proofFor := func(method, path string) string { return key.proof(method, w.root+path, o.Lead.Token, nil) }

	t.Run("kept, one jti per request", func(t *testing.T) {
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil) // a full check with a proof: kept
		before, n := w.auth.CheckStats(), jtis()
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)        // inTx
		w.do("GET", "/v1/sessions", o.Lead.Token, nil, http.StatusOK, nil) // kept
		w.do("POST", patient+"/entries", o.Lead.Token, map[string]any{"kind": "food", "name": "Rye",
			"observed_at": "2026-12-01T08:00:00Z"}, http.StatusCreated, nil) // ahead
		if d := w.checksSince(before); d.Kept != 3 || d.Full != 0 || d.Alone != 0 || d.Stale != 0 {
			t.Errorf("three requests with a kept DPoP principal: %+v, want three kept, taken over by their transactions", d)
		}
		if got := jtis() - n; got != 3 {
			t.Errorf("%d jtis recorded for three proofs", got)
		}
	})

	t.Run("a replayed proof", func(t *testing.T) {
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
		proof := proofFor("GET", patient)
		if resp, body := send("GET", patient, proof, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use: %d %s", resp.StatusCode, body)
		}
		before, n := w.auth.CheckStats(), reads()
		resp, body := send("GET", patient, proof, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "dpop_invalid" {
			t.Fatalf("a replayed proof with a kept principal: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 1 {
			t.Errorf("a replayed proof: %+v, want kept, refused as stale, then a full check", d)
		}
		if got := reads() - n; got != 0 {
			t.Errorf("%d patient.read events for a replayed proof", got)
		}
	})

	t.Run("the jti stands when the request's transaction fails", func(t *testing.T) {
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
		// An entry for a patient the lead cannot see: the transaction that
		// confirmed the principal then fails and rolls back.
		path := "/v1/patients/" + uuid.NewString() + "/entries"
		proof := proofFor("POST", path)
		entry := map[string]any{"kind": "food", "name": "Rye", "observed_at": "2026-12-01T08:00:00Z"}
		before, n := w.auth.CheckStats(), jtis()
		resp, body := send("POST", path, proof, entry)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("an entry for no patient: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Full != 0 || d.Alone != 0 {
			t.Errorf("a failing write with a kept principal: %+v, want one kept check taken over", d)
		}
		if got := jtis() - n; got != 1 {
			t.Errorf("%d jtis recorded for a proof whose request failed after the check, want 1", got)
		}
		resp, body = send("POST", path, proof, entry)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "dpop_invalid" {
			t.Errorf("the proof of a failed request, replayed: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("another key is never served the kept principal", func(t *testing.T) {
		w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
		thief := newDPoPKey(t, key.alg)
		before := w.auth.CheckStats()
		resp, body := send("GET", patient, thief.proof("GET", w.root+patient, o.Lead.Token, nil), nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the lead's token with another key's proof: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 0 || d.Full != 1 {
			t.Errorf("another key's proof: %+v, want a full check only", d)
		}
		// And a bearer request with the bound token is refused, as before.
		resp, body = w.request("GET", patient, "", nil, "Authorization", "Bearer "+o.Lead.Token)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the bound token as a bearer token: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("revoked behind the server's back", func(t *testing.T) {
		w.do("GET", "/v1/sessions", o.Lead.Token, nil, http.StatusOK, nil)
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
		before, n, r0 := w.auth.CheckStats(), jtis(), reads()
		for _, path := range []string{patient, "/v1/sessions"} {
			resp, body := send("GET", path, proofFor("GET", path), nil)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "session_revoked") {
				t.Fatalf("GET %s with a revoked DPoP session: %d %s", path, resp.StatusCode, body)
			}
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 || d.Full != 2 {
			t.Errorf("a revoked session: %+v, want the kept principal found stale once, then full checks", d)
		}
		if got := jtis() - n; got != 0 {
			t.Errorf("%d jtis recorded for a revoked session", got)
		}
		if got := reads() - r0; got != 0 {
			t.Errorf("%d patient.read events for a revoked session", got)
		}
	})
}

// TestKeptDPoPGateway: a gateway call naming a patient, with a DPoP-bound
// session whose principal is kept, runs its deferred check (which records
// the proof's jti) before the record's read: a replayed proof reads
// nothing, writes no patient.read (nor a denial) and sends nothing
// upstream; the full check answers its 401 dpop_invalid.
func TestKeptDPoPGateway(t *testing.T) {
	g := newGW(t) // staff sessions are DPoP-bound: raw requests, not the SDK
	key, ok := g.boundKey(g.o.Prov.Token)
	if !ok {
		t.Fatal("the provider's session is not DPoP-bound")
	}
	body := map[string]any{"model": model, "max_tokens": 64, "messages": []map[string]any{
		{"role": "user", "content": "Summarise Rosalind Vantongeren's glucose 126 mg/dL."}}}
	call := func(proof string) (*http.Response, []byte) {
		t.Helper()
		return g.request("POST", "/llm/v1/messages", "", body, "Authorization", "DPoP "+g.o.Prov.Token, "DPoP", proof,
			"Ward-Patient", g.patient.String(), "anthropic-version", "2023-06-01")
	}
	proof := func() string { return key.proof("POST", g.root+"/llm/v1/messages", g.o.Prov.Token, nil) }
	reads := func() int {
		return g.auditCount(g.o.ID, "patient.read", "success") + g.auditCount(g.o.ID, "patient.read", "denied")
	}
	if resp, out := call(proof()); resp.StatusCode != http.StatusOK { // a full check: kept
		t.Fatalf("a DPoP call naming a patient: %d %s", resp.StatusCode, out)
	}
	p := proof()
	before, n, calls := g.auth.CheckStats(), reads(), len(g.up.calls())
	if resp, out := call(p); resp.StatusCode != http.StatusOK {
		t.Fatalf("a kept DPoP call naming a patient: %d %s", resp.StatusCode, out)
	}
	if d := g.auth.CheckStats(); d.Kept-before.Kept != 1 || d.Full != before.Full {
		t.Fatalf("the second call was not served with the kept principal: %+v then %+v", before, d)
	}
	if got := reads() - n; got != 1 {
		t.Fatalf("%d patient.read events for one call", got)
	}
	if got := len(g.up.calls()) - calls; got != 1 {
		t.Fatalf("%d upstream calls for one kept call", got)
	}
	n, calls = reads(), len(g.up.calls())
	resp, out := call(p)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(out), "replayed") {
		t.Fatalf("a replayed proof through the gateway: %d %s", resp.StatusCode, out)
	}
	if got := reads() - n; got != 0 {
		t.Errorf("%d patient.read events for a replayed proof", got)
	}
	if got := len(g.up.calls()) - calls; got != 0 {
		t.Errorf("%d upstream calls for a replayed proof", got)
	}
}
