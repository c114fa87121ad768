package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/httpapi"
)

// forge breaks a proof's signature and nothing else: one character in the
// middle of its signature segment (all six bits of it are the signature's,
// so the segment stays canonical base64url). The header is the one the
// server kept from the client's earlier proofs, the claims are the proof's.
func forge(t *testing.T, proof string) string {
	t.Helper()
	i := strings.LastIndexByte(proof, '.')
	if i < 0 || len(proof)-i < 40 {
		t.Fatalf("not a compact JWS: %q", proof)
	}
	at := i + (len(proof)-i)/2
	c := byte('A')
	if proof[at] == 'A' {
		c = 'B'
	}
	return proof[:at] + string(c) + proof[at+1:]
}

// TestKeptDPoPForgedSignature: a DPoP-bound session whose principal is kept,
// then a proof with the client's kept header and well-formed claims but a
// signature that does not verify. On an inTx route the signature is
// checked while the deferred check's first round trip runs
// (auth.VerifyDPoPClaims, postgres.Confirm.Wait); every path waits for it
// before anything stands. On each path the forged proof gets the 401
// dpop_invalid (WWW-Authenticate: DPoP) a forged proof always got, and has
// no effect: no jti recorded, no audit event (no patient.read, no entry,
// no list), the session not touched, the kept principal not forgotten.
// Its jti was never recorded, so the client's own proof with the same jti
// is then served (a forger cannot spend a client's proof ids), once: its
// replay is refused.
func TestKeptDPoPForgedSignature(t *testing.T) {
	w := newWorld(t) // staff sessions are bound to the world's DPoP keys
	o := w.createOrg("Forged DPoP")
	w.populate(o, "fdp")
	ctx := context.Background()
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		t.Fatal("the lead's session is not DPoP-bound")
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jtis := func() int { return count(`select count(*) from app.dpop_jtis where jkt = $1`, key.jkt()) }
	events := func() int { return count(`select count(*) from audit.events where org_id = $1`, o.ID) }
	entries := func() int { return count(`select count(*) from app.clinical_entries where org_id = $1`, o.ID) }
	idle := func() {
		t.Helper()
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set last_seen_at = now() - interval '10 minutes'
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
	}
	touched := func() bool {
		return count(`select count(*) from app.sessions where token_hash = sha256($1::bytea)
			and last_seen_at > now() - interval '1 minute'`, []byte(o.Lead.Token)) == 1
	}
	send := func(method, path, proof string, body any) (*http.Response, []byte) {
		t.Helper()
		return w.request(method, path, "", body, "Authorization", "DPoP "+o.Lead.Token, "DPoP", proof)
	}
	patient := "/v1/patients/" + o.P1.String()
	entry := map[string]any{"kind": "food", "name": "Oat", "observed_at": "2026-12-01T08:00:00Z"}
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int // the client's own proof's answer
	}{
		{"inTx, its own transaction (confirmedTx)", "GET", "/v1/patients", nil, http.StatusOK},
		{"inTx, a batch committed in its round trip (confirmedBatch)", "GET", patient, nil, http.StatusOK},
		{"inTx, answered before any transaction (Confirm on its own)", "GET", "/v1/patients/not-an-id", nil, http.StatusBadRequest},
		{"ahead, a write with a body", "POST", patient + "/entries", entry, http.StatusCreated},
		{"kept, a read", "GET", "/v1/sessions", nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.do("GET", "/v1/sessions", o.Lead.Token, nil, http.StatusOK, nil) // kept, and its header too
			w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
			proof := key.proof(tc.method, w.root+tc.path, o.Lead.Token, nil)
			idle()
			before, j0, e0, n0 := w.auth.CheckStats(), jtis(), events(), entries()
			resp, body := send(tc.method, tc.path, forge(t, proof), tc.body)
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, body) != "dpop_invalid" ||
				!strings.Contains(string(body), "signature") {
				t.Fatalf("a forged signature: %d %s", resp.StatusCode, body)
			}
			if h := resp.Header.Get("WWW-Authenticate"); !strings.Contains(h, "DPoP") {
				t.Errorf("a forged signature: WWW-Authenticate %q names no DPoP", h)
			}
			if d := jtis() - j0; d != 0 {
				t.Errorf("%d jtis recorded for a forged proof", d)
			}
			if d := events() - e0; d != 0 {
				t.Errorf("%d audit events written for a forged proof", d)
			}
			if d := entries() - n0; d != 0 {
				t.Errorf("%d entries written for a forged proof", d)
			}
			if touched() {
				t.Error("the session was touched by a forged proof")
			}
			if d := w.checksSince(before); d.Stale != 0 || d.Full != 0 {
				t.Errorf("a forged proof: %+v, want no full check and the kept principal not forgotten", d)
			}
			// The client's own proof, with the jti the forgery carried.
			before = w.auth.CheckStats()
			if resp, body := send(tc.method, tc.path, proof, tc.body); resp.StatusCode != tc.want {
				t.Fatalf("the client's own proof after a forgery with its jti: %d %s", resp.StatusCode, body)
			}
			if d := w.checksSince(before); d.Kept != 1 || d.Full != 0 {
				t.Errorf("the client's own proof: %+v, want it served with the kept principal", d)
			}
			if d := jtis() - j0; d != 1 {
				t.Errorf("%d jtis recorded for the client's own proof, want 1", d)
			}
			if resp, body := send(tc.method, tc.path, proof, tc.body); resp.StatusCode != http.StatusUnauthorized ||
				!strings.Contains(string(body), "replayed") {
				t.Errorf("the client's proof replayed: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestKeptDPoPForgedRateLimit: a kept DPoP principal's rate limit is spent
// only once its proof's signature verified: forged proofs on an inTx
// route (whose signature is checked while the request's first round trip
// runs) spend nothing from the principal's bucket, so a token thief
// without the key cannot run the client out of requests; the client's own
// proofs spend as before, and a dry bucket answers 429 to them (and still
// 401 to a forgery).
func TestKeptDPoPForgedRateLimit(t *testing.T) {
	const burst = 60 // more than setting the org up spends; no refill to speak of
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = 0.0001; c.RateBurst = burst }))
	o := w.createOrg("Forged DPoP Limit")
	w.populate(o, "fdl")
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		t.Fatal("the lead's session is not DPoP-bound")
	}
	send := func(proof string) (*http.Response, []byte) {
		t.Helper()
		return w.request("GET", "/v1/patients", "", nil, "Authorization", "DPoP "+o.Lead.Token, "DPoP", proof)
	}
	proof := func() string { return key.proof("GET", w.root+"/v1/patients", o.Lead.Token, nil) }
	w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil) // a full check: kept
	// As many forgeries as the whole burst: had any of them spent, the
	// bucket would be dry.
	for range burst {
		if resp, body := send(forge(t, proof())); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a forged proof: %d %s", resp.StatusCode, body)
		}
	}
	before := w.auth.CheckStats()
	if resp, body := send(proof()); resp.StatusCode != http.StatusOK {
		t.Fatalf("the client's own request after %d forgeries: %d %s (the forgeries spent its bucket)", burst, resp.StatusCode, body)
	}
	if d := w.checksSince(before); d.Kept != 1 || d.Full != 0 {
		t.Errorf("the client's request: %+v, want it served with the kept principal", d)
	}
	// The client's own requests spend: the bucket runs dry within the burst.
	for i := 0; ; i++ {
		resp, body := send(proof())
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		if resp.StatusCode != http.StatusOK || i > burst {
			t.Fatalf("the client's request %d: %d %s, never limited", i, resp.StatusCode, body)
		}
	}
	if resp, body := send(forge(t, proof())); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged proof with the bucket dry: %d %s, want the forgery's 401", resp.StatusCode, body)
	}
}
