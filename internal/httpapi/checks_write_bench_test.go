package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkKeptWriteRoute: a write with no body that goes straight to its
// first tenant transaction (a provider put on a care team and taken off
// again, one lead's session), each with its p50, beside a patient read
// (inTx, kept since §20) in the same run: with ahead(...) the write's
// transaction confirms the kept principal, without it a full check runs in
// a transaction of its own first (docs/benchmarks.md §25).
func BenchmarkKeptWriteRoute(b *testing.B) {
	w := newWorld(b, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Kept Write Bench")
	w.populate(o, "kwb")
	read := "/v1/patients/" + o.P1.String()
	team := read + "/care-team/" + o.Prov2.ID.String()
	b.Run("baseline=get-patient", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			resp, out := w.request("GET", read, o.Lead.Token, nil)
			lat = append(lat, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d %s", read, resp.StatusCode, out)
			}
		}
		reportP50(b, lat, "p50-ms")
	})
	b.Run("care-team-put-delete", func(b *testing.B) {
		var put, del []time.Duration
		for b.Loop() {
			for _, m := range []string{"PUT", "DELETE"} {
				start := time.Now()
				resp, out := w.request(m, team, o.Lead.Token, nil)
				if m == "PUT" {
					put = append(put, time.Since(start))
				} else {
					del = append(del, time.Since(start))
				}
				if resp.StatusCode != http.StatusNoContent {
					b.Fatalf("%s %s: %d %s", m, team, resp.StatusCode, out)
				}
			}
		}
		reportP50(b, put, "put-p50-ms")
		reportP50(b, del, "delete-p50-ms")
	})
}
