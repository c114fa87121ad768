package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkKeptBodyRoute: serial requests through the server, one
// session, to two JSON routes that decode a body and then go to their
// first tenant transaction (need.ahead): a patient search by MRN (an
// audited read) and an entry's creation (an audited write), beside the
// baseline of a patient read (GET, need.inTx: its session check taken over
// by its transaction) in the same run. Before these routes were ahead,
// each ran a full session check in a round trip of its own; now a session
// checked in the last 30 s is confirmed in the route's transaction.
// Reports the p50 latency. Figures in docs/benchmarks.md §22.
func BenchmarkKeptBodyRoute(b *testing.B) {
	w := newWorld(b, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Kept Body Bench")
	w.populate(o, "kbb")
	p1 := "/v1/patients/" + o.P1.String()
	entry := map[string]any{"kind": "food", "name": "Oats", "observed_at": time.Now().UTC().Format(time.RFC3339)}
	run := func(method, path string, body any, want int) func(b *testing.B) {
		return func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, out := w.request(method, path, o.Lead.Token, body)
				lat = append(lat, time.Since(start))
				if resp.StatusCode != want {
					b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
				}
			}
			reportP50(b, lat, "p50-ms")
		}
	}
	b.Run("baseline=get-patient", run("GET", p1, nil, http.StatusOK))
	b.Run("search-patients", run("POST", "/v1/patients/search", map[string]any{"mrn": "kbb-MRN-1"}, http.StatusOK))
	b.Run("create-entry", run("POST", p1+"/entries", entry, http.StatusCreated))
}
