package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// BenchmarkPatientList: serial GET /v1/patients as a lead and as a
// provider (on the care team of one patient in four) of an org with 402
// patients, 50 a page: the first page, and the page after the first
// page's cursor (ListPatientsAfter, whose index scan starts at the
// cursor's time). Reports the p50 latency. Figures in docs/benchmarks.md
// §47.
func BenchmarkPatientList(b *testing.B) {
	w := newWorld(b, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Patient List Bench")
	w.populate(o, "plb")
	for i := range 400 {
		id := w.createPatient(o.Lead.Token, map[string]any{"name": fmt.Sprintf("plb Bench %d", i)})
		if i%4 == 0 {
			w.do("PUT", "/v1/patients/"+id.String()+"/care-team/"+o.Prov.ID.String(), o.Lead.Token, nil,
				http.StatusNoContent, nil)
		}
	}
	run := func(token string, second bool) func(b *testing.B) {
		return func(b *testing.B) {
			path := "/v1/patients?limit=50"
			if second {
				var first struct {
					Next string `json:"next_cursor"`
				}
				w.do("GET", path, token, nil, http.StatusOK, &first)
				if first.Next == "" {
					b.Fatal("no second page")
				}
				path += "&cursor=" + url.QueryEscape(first.Next)
			}
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
	b.Run("lead/first", run(o.Lead.Token, false))
	b.Run("lead/second", run(o.Lead.Token, true))
	b.Run("provider/first", run(o.Prov.Token, false))
	b.Run("provider/second", run(o.Prov.Token, true))
}
