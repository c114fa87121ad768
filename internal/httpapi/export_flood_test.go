package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
)

// A patient exporting their own record (§164.524) runs one export at a
// time, documents or not: sealing to a passphrase costs scrypt's 32 MiB
// and about 0.1 s of a core, and before, 16 requests at once (the
// per-user stream cap) all ran: 1.5 s of both cores and 228 MiB of heap
// for one member, again as soon as they finished. The others are refused
// with 429 exports_busy and a Retry-After; the next export after them
// runs.
func TestPatientExportOneAtATime(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Export Flood")
	w.populate(o, "ef")
	path := "/v1/patients/" + o.P1.String() + "/export"
	body := map[string]any{"passphrase": "correct horse battery staple"}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := w.request("POST", path, o.PatUser.Token, body)
			mu.Lock()
			defer mu.Unlock()
			codes[resp.StatusCode]++
			if resp.StatusCode == http.StatusTooManyRequests &&
				(problemCodeOrEmpty(b) != "exports_busy" || resp.Header.Get("Retry-After") == "") {
				t.Errorf("a refused export: %v %s", resp.Header, b)
			}
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] < 1 || codes[http.StatusTooManyRequests] < 1 ||
		codes[http.StatusOK]+codes[http.StatusTooManyRequests] != 16 {
		t.Fatalf("16 exports at once by one patient: %v, want one or a few 200 and the rest 429", codes)
	}
	// The slot is given back, and each caller has their own.
	w.do("POST", path, o.PatUser.Token, body, http.StatusOK, nil)
	w.do("POST", "/v1/patients/"+o.P2.String()+"/export", o.PatUser2.Token, body, http.StatusOK, nil)
}
