package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/wardhq/ward/internal/auth"
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

// The jti memory's rotation is a job of every node (migration 00236,
// auth.Service.RotateDPoPJTIs), each call a transaction of its own as
// ward_app. Two nodes call it at once with the slot not yet cleared: at
// most one truncates, exactly one when the database's clock is in a slot's
// first two minutes, none otherwise; and a proof accepted just before is
// still refused as a replay after, on both nodes: the job never empties a
// ring a live proof's jti is in.
func TestDPoPJTIRotationJobNodes(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DPoP Rotation")
	w.populate(o, "dpr")
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
	ctx := context.Background()
	clock := func() int64 {
		t.Helper()
		var now int64
		if err := w.env.Super.Pool.QueryRow(ctx, `select floor(extract(epoch from clock_timestamp()))::bigint`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now
	}
	jobs := []*auth.Service{w.auth, auth.NewService(w.env.App, w.keys, nil, auth.Config{}, slog.New(slog.DiscardHandler))}
	for {
		p := key.proof("GET", w.root+path, o.Lead.Token, nil)
		if got := send(nodes[0], p); got != http.StatusOK {
			t.Fatalf("a fresh proof: %d", got)
		}
		if _, err := w.env.Super.Pool.Exec(ctx, `select setval('app.dpop_jti_cleared', 0, true)`); err != nil {
			t.Fatal(err)
		}
		before := clock()
		var (
			wg      sync.WaitGroup
			rotated [2]bool
			errs    [2]error
		)
		for i, j := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); rotated[i], errs[i] = j.RotateDPoPJTIs(ctx) }()
		}
		wg.Wait()
		after := clock()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d's job: %v", i, err)
			}
		}
		if before/600 != after/600 || before%600 < 120 && after%600 >= 120 {
			continue // the calls straddled a boundary: again
		}
		n := 0
		for _, r := range rotated {
			if r {
				n++
			}
		}
		if want := before%600 < 120; n > 1 || (n == 1) != want {
			t.Fatalf("at %d s into the slot, %d of the two nodes truncated; want one %v", before%600, n, want)
		}
		for i, node := range nodes {
			if got := send(node, p); got != http.StatusUnauthorized {
				t.Fatalf("the proof replayed on node %d after the job: %d, want 401", i, got)
			}
		}
		return
	}
}
