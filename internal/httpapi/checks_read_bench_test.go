package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkKeptReadRoute: serial requests through the server to GET
// routes marked kept(...) (no body, no call out: their first tenant
// transaction takes a kept principal's check over), a session's and an
// API key's, beside the baseline of a patient read (GET, need.inTx) in the
// same run. Before, each ran a full check in a round trip of its own, and
// an API key was never kept. Reports the p50 latency. Figures in
// docs/benchmarks.md §23.
func BenchmarkKeptReadRoute(b *testing.B) {
	w := newWorld(b, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Kept Read Bench")
	w.populate(o, "krb")
	membersKey := w.createKey(o, auth.ScopeMembers).Key
	run := func(path, token string) func(b *testing.B) {
		return func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, out := w.request("GET", path, token, nil)
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d %s", path, resp.StatusCode, out)
				}
			}
			reportP50(b, lat, "p50-ms")
		}
	}
	b.Run("baseline=get-patient", run("/v1/patients/"+o.P1.String(), o.Lead.Token))
	b.Run("sessions", run("/v1/sessions", o.Lead.Token))
	b.Run("session-policy", run("/v1/org/session-policy", o.Lead.Token))
	b.Run("members-by-key", run("/v1/members", membersKey))
}
