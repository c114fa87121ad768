package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestKeptCheckBeforeEarlyAnswers: on an inTx route, a request that the
// handler refuses before its first transaction (a malformed query or
// path) runs the deferred check on its own before the answer
// (confirmFirst), so a session revoked (or a rotated token reused) within
// the last 30 s still gets its 401, and the reuse is recorded on that
// very request, as with a full check. (From a review of the kept checks,
// where it failed: the answer rested on the kept principal alone.)
func TestKeptCheckBeforeEarlyAnswers(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Review Kept Malformed")
	w.populate(o, "rkm")
	ctx := context.Background()

	t.Run("well-formed answers stay", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Prov.Token, nil, http.StatusOK, nil)
		before := w.auth.CheckStats()
		for _, path := range []string{"/v1/patients?limit=abc", "/v1/patients/not-a-uuid"} {
			if resp, body := w.request("GET", path, o.Prov.Token, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s with a live kept session: %d %s", path, resp.StatusCode, body)
			}
		}
		if now := w.auth.CheckStats(); now.Kept-before.Kept != 2 || now.Stale != before.Stale || now.Full != before.Full {
			t.Errorf("early answers of a live session: %+v then %+v", before, now)
		}
	})

	t.Run("revoked session", func(t *testing.T) {
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, nil) // full check: kept
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/v1/patients?limit=abc", "/v1/patients/not-a-uuid", "/v1/patients?bogus=1"} {
			resp, body := w.request("GET", path, o.Lead.Token, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with a session revoked behind the server's back: %d %s (want 401 as a full check gives)",
					path, resp.StatusCode, body)
			}
		}
	})

	t.Run("rotated token after its grace", func(t *testing.T) {
		old, tok := w.rotatedAAL2(o.Admin.Email, o.ID)
		w.do("GET", "/v1/patients", old, nil, http.StatusOK, nil) // in its grace: full check, kept
		if _, err := w.env.Super.Pool.Exec(ctx,
			`update app.session_tokens set retired_at = now() - interval '31 seconds' where retired_at is not null`); err != nil {
			t.Fatal(err)
		}
		resp, body := w.request("GET", "/v1/patients?limit=abc", old, nil)
		n := w.auditCount(o.ID, "auth.token_reuse", "denied")
		if resp.StatusCode != http.StatusUnauthorized || n != 1 {
			t.Errorf("a rotated token after its grace (malformed query): %d %s, %d token_reuse events (want 401, 1)",
				resp.StatusCode, body, n)
		}
		// The reuse revoked the whole family: the current token no
		// longer works either.
		resp, body = w.request("GET", "/v1/patients", tok, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the current token after reuse of a rotated one: %d %s (want 401 session_revoked)", resp.StatusCode, body)
		}
	})
}

// TestKeptCheckOtherPaths: a cookie-borne session is kept and confirmed
// (no silent mismatch), and the case routes refuse a session revoked
// behind the server's back with a 401 and no case.list audited.
func TestKeptCheckOtherPaths(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Review Kept Other")
	w.populate(o, "rko")
	ctx := context.Background()

	t.Run("cookie", func(t *testing.T) {
		get := func() int {
			resp, _ := w.request("GET", "/v1/patients", "", nil, "Cookie", "ward_session="+o.Prov.Token)
			return resp.StatusCode
		}
		if st := get(); st != http.StatusOK {
			t.Fatalf("a bearer-issued session in the cookie: %d", st)
		}
		before := w.auth.CheckStats()
		for range 3 {
			if st := get(); st != http.StatusOK {
				t.Fatalf("cookie read: %d", st)
			}
		}
		if d := w.checksSince(before); d.Kept != 3 || d.Stale != 0 || d.Full != 0 {
			t.Errorf("cookie session reads: %+v, want 3 kept, none stale", d)
		}
		// The same token as a bearer is another key: a full check first.
		before = w.auth.CheckStats()
		w.do("GET", "/v1/patients", o.Prov.Token, nil, http.StatusOK, nil)
		if d := w.checksSince(before); d.Full != 1 {
			t.Errorf("bearer after cookie: %+v, want a full check", d)
		}
		// Another org's id as the hint: not the kept principal.
		before = w.auth.CheckStats()
		resp, _ := w.request("GET", "/v1/patients", o.Prov.Token, nil, "Ward-Org", "00000000-0000-4000-8000-000000000001")
		if d := w.checksSince(before); d.Kept != 0 || resp.StatusCode == http.StatusOK {
			t.Errorf("another org hint: %d %+v", resp.StatusCode, d)
		}
	})

	t.Run("cases revoked", func(t *testing.T) {
		w.do("GET", "/v1/cases", o.Lead.Token, nil, http.StatusOK, nil)
		n := w.auditCount(o.ID, "case.list", "success")
		if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
			where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
			t.Fatal(err)
		}
		before := w.auth.CheckStats()
		resp, body := w.request("GET", "/v1/cases", o.Lead.Token, nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("cases with a revoked session: %d %s", resp.StatusCode, body)
		}
		if d := w.checksSince(before); d.Kept != 1 || d.Stale != 1 {
			t.Errorf("cases revoked: %+v", d)
		}
		if got := w.auditCount(o.ID, "case.list", "success") - n; got != 0 {
			t.Errorf("%d case.list events for a revoked session", got)
		}
	})
}

// TestKeptCheckConcurrentRevocation: kept reads in parallel while the session is
// revoked: every answer is a 200 or a 401, and patient.read events match
// the 200s exactly (no double audit from a served-again request).
func TestKeptCheckConcurrentRevocation(t *testing.T) {
	// (the 100-odd 401s after the revocation would spend the address's
	// budget of failed checks, whose 429s are another test's)
	w := newWorld(t, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.AuthFailRateLimit = -1 }))
	o := w.createOrg("Review Kept Concurrent")
	w.populate(o, "rkc")
	patient := "/v1/patients/" + o.P1.String()
	w.do("GET", patient, o.Lead.Token, nil, http.StatusOK, nil)
	n0 := w.auditCount(o.ID, "patient.read", "success")
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				req, _ := http.NewRequest("GET", w.srv.URL+patient, nil)
				req.Header.Set("Authorization", "Bearer "+o.Lead.Token)
				resp, err := w.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(30 * time.Millisecond)
	if _, err := w.env.Super.Pool.Exec(context.Background(), `update app.sessions set revoked_at = now(), revoked_reason = 'logout'
		where token_hash = sha256($1::bytea)`, []byte(o.Lead.Token)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	st := w.auth.CheckStats()
	t.Logf("codes %v, stats %+v", codes, st)
	for c := range codes {
		if c != http.StatusOK && c != http.StatusUnauthorized {
			t.Errorf("answer %d", c)
		}
	}
	if got := w.auditCount(o.ID, "patient.read", "success") - n0; got != codes[http.StatusOK] {
		t.Errorf("%d patient.read events for %d 200s", got, codes[http.StatusOK])
	}
}
