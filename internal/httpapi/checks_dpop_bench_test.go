package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkKeptDPoPRead: serial GET requests through the server with a
// DPoP-bound lead's session (a fresh proof each, signed by the client
// before the clock starts: the server's verification is measured, the
// client's signature is not), beside the baseline of an unbound bearer
// session (the patient's own record, kept in both binaries) in the same
// run. Before, a DPoP request always paid a full check (its proof's jti
// recorded in that check's round trip); now a principal kept from a full
// check with the same key is confirmed in the route's transaction, which
// records the jti. Reports the p50 latency. Figures in docs/benchmarks.md
// §24.
func BenchmarkKeptDPoPRead(b *testing.B) {
	w := newWorld(b, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Kept DPoP Bench")
	w.populate(o, "kdb")
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		b.Fatal("the lead's session is not DPoP-bound")
	}
	patient := "/v1/patients/" + o.P1.String()
	run := func(path, token string, dpop bool) func(b *testing.B) {
		return func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				hdr := []string{"Authorization", "Bearer " + token}
				if dpop {
					hdr = []string{"Authorization", "DPoP " + token, "DPoP", key.proof("GET", w.root+path, token, nil)}
				}
				start := time.Now()
				resp, out := w.request("GET", path, "", nil, hdr...)
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d %s", path, resp.StatusCode, out)
				}
			}
			reportP50(b, lat, "p50-ms")
		}
	}
	b.Run("baseline=bearer-get-patient", run(patient, o.PatUser.Token, false))
	b.Run("dpop-get-patient", run(patient, o.Lead.Token, true))
	b.Run("dpop-sessions", run("/v1/sessions", o.Lead.Token, true))
}
