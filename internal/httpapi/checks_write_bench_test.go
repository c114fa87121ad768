package httpapi_test

import (
	"net/http"
	"slices"
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
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
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
		slices.Sort(put)
		slices.Sort(del)
		b.ReportMetric(float64(put[len(put)/2].Microseconds())/1000, "put-p50-ms")
		b.ReportMetric(float64(del[len(del)/2].Microseconds())/1000, "delete-p50-ms")
	})
}
