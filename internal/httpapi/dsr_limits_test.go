package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
)

// A member who is not an admin holds at most five open requests of a kind;
// the sixth is a 409 until one is answered; an admin files on.
func TestDSRFloodRefused(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Flood Clinic")
	w.populate(o, "df")
	const base = "/v1/compliance/dsr"
	var first struct {
		ID string `json:"id"`
	}
	for i := range 5 {
		var r struct {
			ID string `json:"id"`
		}
		w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "ccpa_know"}, http.StatusCreated, &r)
		if i == 0 {
			first = r
		}
	}
	resp, b := w.request("POST", base, o.PatUser.Token, map[string]any{"kind": "ccpa_know"})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("a sixth open request: %d %s", resp.StatusCode, b)
	}
	// another kind is its own count
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "access", "patient_id": o.P1}, http.StatusCreated, nil)
	// once one is answered, the member files again
	w.do("POST", base+"/"+first.ID+"/close", o.Admin.Token, map[string]any{"outcome": "fulfilled"}, http.StatusOK, nil)
	w.do("POST", base, o.PatUser.Token, map[string]any{"kind": "ccpa_know"}, http.StatusCreated, nil)
	// an admin logging requests for patients is not limited
	for range 6 {
		w.do("POST", base, o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P2}, http.StatusCreated, nil)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.dsr_requests
	   where org_id = $1 and status = 'open'`, o.ID).Scan(&n); err != nil || n != 5+1+6 {
		t.Fatalf("%d open requests (%v), want 12", n, err)
	}
}

// The cap holds under concurrency (00265): twenty requests of one kind
// sent at once by a member with none open leave exactly five open; the
// others are 409. Counted without a lock, each saw the same few and about
// eight went in.
func TestDSRFloodConcurrent(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Flood Race")
	w.populate(o, "dr")
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, _ := w.request("POST", "/v1/compliance/dsr", o.PatUser.Token, map[string]any{"kind": "ccpa_know"})
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("a request answered %d, want 201 or 409", s)
		}
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from app.dsr_requests
	   where org_id = $1 and requested_by = $2 and status = 'open'`, o.ID, o.PatUser.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if created != 5 || n != 5 {
		t.Fatalf("%d answered 201, %d open (%v), want 5", created, n, statuses)
	}
}

// A request is extended once, whatever the reason given again (00266):
// twenty extensions with one reason sent at once, then one more, leave one
// 200 and one dsr.extend event; the others are 409. The same reason again
// was a 200 recorded as a second extension while the due date stayed.
func TestDSRExtendedOnceWithTheSameReason(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DSR Extend Race")
	w.populate(o, "de")
	var d struct {
		ID string `json:"id"`
	}
	w.do("POST", "/v1/compliance/dsr", o.Admin.Token, map[string]any{"kind": "access", "patient_id": o.P1},
		http.StatusCreated, &d)
	ext := "/v1/compliance/dsr/" + d.ID + "/extend"
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, _ := w.request("POST", ext, o.Admin.Token, map[string]any{"reason": "volume"})
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("an extension answered %d, want 200 or 409", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d extensions answered 200 (%v), want 1", ok, statuses)
	}
	w.do("POST", ext, o.Admin.Token, map[string]any{"reason": "volume"}, http.StatusConflict, nil)
	if n := w.auditCount(o.ID, "dsr.extend", "success"); n != 1 {
		t.Errorf("%d dsr.extend events, want 1", n)
	}
}
