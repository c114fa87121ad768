package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// A DPoP proof accepted by one node is a replay on every other (issue 8;
// the jti memory is the database's, app.dpop_jtis, in rings since 00227):
// two servers on one database, each with a principal kept from an earlier
// check (so both serve the proof from memory and confirm it in the
// request's transaction), and a proof each node accepted is refused, as a
// replay, by the other and by itself; a fresh proof passes on both.
func TestDPoPReplayAcrossNodes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DPoP Nodes")
	w.populate(o, "dpn")
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		t.Fatal("the lead's session is not DPoP-bound")
	}
	path := "/v1/patients/" + o.P1.String()
	nodes := []string{w.srv.URL, w.node()}
	send := func(node, proof string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "GET", node+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "DPoP "+o.Lead.Token)
		req.Header.Set("DPoP", proof)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	fresh := func() string { return key.proof("GET", w.root+path, o.Lead.Token, nil) }
	for i, n := range nodes { // a full check on each: its principal kept
		if got := send(n, fresh()); got != http.StatusOK {
			t.Fatalf("node %d, a fresh proof: %d", i, got)
		}
	}
	for i, n := range nodes {
		p := fresh()
		if got := send(n, p); got != http.StatusOK {
			t.Fatalf("node %d, a fresh proof: %d", i, got)
		}
		for j, m := range []string{nodes[1-i], n} {
			if got := send(m, p); got != http.StatusUnauthorized {
				t.Errorf("a proof node %d accepted, replayed on node %d: %d, want 401", i, (i+j+1)%2, got)
			}
		}
	}
}
