package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestRecordReadsContinueTheSessionCheck covers the routes whose session
// check leaves its transaction open for the handler's first transaction
// (need.inTx, postgres.RequestTx): bearer and cookie sessions read as
// before, every outcome (served, hidden, malformed, pending, revoked,
// refused by a policy) answers as before and leaves no connection held,
// and many more concurrent requests than the pool has connections, half
// of them audited denials written after the read's transaction, all
// finish: no request holds one connection while it waits for another.
func TestRecordReadsContinueTheSessionCheck(t *testing.T) {
	w := newWorld(t, withUnboundOrgs())
	o := w.createOrg("Request Tx Org")
	w.populate(o, "rt")
	other := w.createOrg("Request Tx Other")
	w.populate(other, "rx")
	pool := w.env.App.Pool
	idle := func(t *testing.T) {
		t.Helper()
		// The check's transaction ends when the handler returns, just
		// after the response is written.
		for i := 0; pool.Stat().AcquiredConns() != 0; i++ {
			if i == 200 {
				t.Fatalf("%d connections still held after the requests", pool.Stat().AcquiredConns())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	p1 := "/v1/patients/" + o.P1.String()

	t.Run("outcomes", func(t *testing.T) {
		var p struct{ Name string }
		w.do("GET", p1, o.Prov.Token, nil, http.StatusOK, &p)
		if p.Name != "rt Patient One" {
			t.Errorf("read %+v", p)
		}
		var list struct{ Patients []struct{ ID uuid.UUID } }
		w.do("GET", "/v1/patients", o.Lead.Token, nil, http.StatusOK, &list)
		if len(list.Patients) != 2 {
			t.Errorf("the lead lists %d patients, want 2", len(list.Patients))
		}
		w.do("GET", p1+"/entries", o.Prov.Token, nil, http.StatusOK, nil)

		denied := w.auditCount(o.ID, "patient.read", "denied")
		resp, b := w.request("GET", "/v1/patients/"+other.P1.String(), o.Prov.Token, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("another org's patient: %d %s", resp.StatusCode, b)
		}
		resp, b = w.request("GET", "/v1/patients/"+o.P2.String(), o.Prov.Token, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("an unassigned patient: %d %s", resp.StatusCode, b)
		}
		if n := w.auditCount(o.ID, "patient.read", "denied"); n != denied+2 {
			t.Errorf("%d denials audited for two hidden patients", n-denied)
		}
		resp, b = w.request("GET", "/v1/patients/not-a-uuid", o.Prov.Token, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a malformed id: %d %s", resp.StatusCode, b)
		}
		resp, b = w.request("GET", "/v1/patients?limit=9999", o.Lead.Token, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a bad limit: %d %s", resp.StatusCode, b)
		}

		// A lead with one factor is pending: 403, nothing read.
		pendingLead := w.signInAAL1(o.Lead.Email, o.ID)
		resp, b = w.request("GET", p1, pendingLead, nil)
		if resp.StatusCode != http.StatusForbidden || problemCode(t, b) != "mfa_required" {
			t.Errorf("a pending session: %d %s", resp.StatusCode, b)
		}
		// A patient reads their own record and no one else's.
		w.do("GET", p1, o.PatUser.Token, nil, http.StatusOK, nil)
		resp, _ = w.request("GET", "/v1/patients/"+o.P2.String(), o.PatUser.Token, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a patient reading another: %d", resp.StatusCode)
		}
		// An org hint that names another org: no credential.
		resp, b = w.request("GET", p1, o.Prov.Token, nil, "Ward-Org", other.ID.String())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a wrong org hint: %d %s", resp.StatusCode, b)
		}
		// A logged-out session: 401 that says so.
		gone := w.operatorSignIn(o.Prov2.Email, o.ID)
		w.do("POST", "/v1/auth/logout", gone, nil, http.StatusNoContent, nil)
		resp, b = w.request("GET", p1, gone, nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, b) != "session_revoked" {
			t.Errorf("a revoked session: %d %s", resp.StatusCode, b)
		}
		idle(t)
	})

	t.Run("the browser's cookie", func(t *testing.T) {
		req, err := http.NewRequest("GET", w.srv.URL+p1, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: sessionCookieName(w), Value: o.Prov.Token})
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a cookie session: %d", resp.StatusCode)
		}
		idle(t)
	})

	t.Run("more requests than connections", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conns := int(pool.Config().MaxConns)
		workers := 4 * conns
		paths := []string{p1, "/v1/patients/" + o.P2.String(), "/v1/patients", "/v1/patients/" + other.P1.String(), "/v1/patients/x",
			"/v1/cases", "/v1/cases/" + uuid.NewString()}
		want := []int{http.StatusOK, http.StatusNotFound, http.StatusOK, http.StatusNotFound, http.StatusBadRequest,
			http.StatusOK, http.StatusNotFound}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 8 {
					k := (i + j) % len(paths)
					req, err := http.NewRequestWithContext(ctx, "GET", w.srv.URL+paths[k], nil)
					if err != nil {
						errs <- err
						return
					}
					req.Header.Set("Authorization", "Bearer "+o.Prov.Token)
					resp, err := w.srv.Client().Do(req)
					if err != nil {
						errs <- fmt.Errorf("%s: %w (a request waiting for a connection another holds?)", paths[k], err)
						return
					}
					resp.Body.Close()
					// A provider's list is allowed (their assigned patients).
					if resp.StatusCode != want[k] && resp.StatusCode != http.StatusTooManyRequests {
						errs <- fmt.Errorf("%s: %d, want %d", paths[k], resp.StatusCode, want[k])
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		idle(t)
	})
}

// sessionCookieName is the API's session cookie (its name depends on
// whether the base URL is https).
func sessionCookieName(w *world) string {
	if strings.HasPrefix(w.base, "https://") {
		return "__Host-ward_session"
	}
	return "ward_session"
}

// TestRecordReadKeepsTheDPoPProofWhenItFails pins the DPoP side of the
// request transaction: a read by a key-bound session continues the check's
// transaction, and when the read fails there, the proof's jti the check
// recorded stays committed (it precedes a savepoint), so the same proof is
// refused afterwards as a replay.
func TestRecordReadKeepsTheDPoPProofWhenItFails(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Request Tx DPoP")
	w.populate(o, "rd")
	k, ok := w.boundKey(o.Prov.Token)
	if !ok {
		t.Fatal("the provider's session is not bound to a key")
	}
	path := "/v1/patients/" + o.P1.String()
	send := func(proof string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", w.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "DPoP "+o.Prov.Token)
		req.Header.Set("DPoP", proof)
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	fresh := func() string { return k.proof("GET", w.root+path, o.Prov.Token, nil) }
	if st, b := send(fresh()); st != http.StatusOK {
		t.Fatalf("a bound read: %d %s", st, b)
	}
	ctx := context.Background()
	if _, err := w.env.Super.Pool.Exec(ctx, `
		create function public.refuse_patient_read() returns trigger language plpgsql as $$
		begin
		  raise exception 'injected: patient.read refused';
		end $$;
		create trigger refuse_patient_read before insert on audit.events
		  for each row when (new.action = 'patient.read') execute function public.refuse_patient_read();`); err != nil {
		t.Fatal(err)
	}
	proof := fresh()
	if st, b := send(proof); st != http.StatusInternalServerError || strings.Contains(string(b), "Patient One") {
		t.Errorf("a read that fails in its transaction: %d %s, want 500 without the record", st, b)
	}
	if _, err := w.env.Super.Pool.Exec(ctx, `drop trigger refuse_patient_read on audit.events;
		drop function public.refuse_patient_read()`); err != nil {
		t.Fatal(err)
	}
	if st, b := send(proof); st != http.StatusUnauthorized {
		t.Errorf("the failed read's proof again: %d %s, want 401 (its jti was recorded)", st, b)
	}
	if st, b := send(fresh()); st != http.StatusOK {
		t.Errorf("a fresh proof after: %d %s", st, b)
	}
	for i := 0; w.env.App.Pool.Stat().AcquiredConns() != 0; i++ {
		if i == 200 {
			t.Fatalf("%d connections still held", w.env.App.Pool.Stat().AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
