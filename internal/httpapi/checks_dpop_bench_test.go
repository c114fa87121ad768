package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
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
// §24; the lead-bearer baselines (the same lead, unbound) in §43; the
// pair= rows (bearer and DPoP requests alternated in one loop, their p50s'
// difference) in §49.
func BenchmarkKeptDPoPRead(b *testing.B) {
	w := newWorld(b, withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	o := w.createOrg("Kept DPoP Bench")
	w.populate(o, "kdb")
	key, ok := w.boundKey(o.Lead.Token)
	if !ok {
		b.Fatal("the lead's session is not DPoP-bound")
	}
	patient := "/v1/patients/" + o.P1.String()
	// The same lead's second session, unbound (the org stops requiring
	// the binding once the bound one is made): the same principal on the
	// same routes, so a DPoP row minus its lead-bearer baseline is what
	// the proof adds to a request.
	if _, err := w.env.Super.Pool.Exec(context.Background(),
		`update app.orgs set device_binding_required_for = '{}' where id = $1`, o.ID); err != nil {
		b.Fatal(err)
	}
	plain := w.operatorSignIn(o.Lead.Email, o.ID)
	if _, bound := w.boundKey(plain); bound {
		b.Fatal("the lead's second session is DPoP-bound")
	}
	run := func(path, token string, dpop bool) func(b *testing.B) {
		return func(b *testing.B) {
			var lat []time.Duration
			pg0, go0 := backendsCPU(b, w), selfCPU()
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
			pg1, go1 := backendsCPU(b, w), selfCPU()
			reportP50(b, lat, "p50-ms")
			// CPU per request: PostgreSQL's, and this process's (the
			// server and the client, whose proof signing is in it)
			b.ReportMetric(float64((pg1-pg0).Nanoseconds())/1e3/float64(b.N), "pg-cpu-µs/req")
			b.ReportMetric(float64((go1-go0).Nanoseconds())/1e3/float64(b.N), "go-cpu-µs/req")
		}
	}
	// pair alternates, in each iteration, the lead's bearer request and
	// its DPoP request on path (which goes first alternates too), so that
	// the two meet the same load: it reports each one's p50, the
	// difference of the p50s, and the median of the pairs' differences,
	// in µs: what the proof adds to a request, read within one run.
	pair := func(path string) func(b *testing.B) {
		return func(b *testing.B) {
			var bearer, bound, diff []time.Duration
			pg0, go0 := backendsCPU(b, w), selfCPU()
			i := 0
			for b.Loop() {
				htu, _, _ := strings.Cut(path, "?")
				proof := key.proof("GET", w.root+htu, o.Lead.Token, nil) // signed before the clock starts
				one := func(hdr ...string) time.Duration {
					start := time.Now()
					resp, out := w.request("GET", path, "", nil, hdr...)
					d := time.Since(start)
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("GET %s: %d %s", path, resp.StatusCode, out)
					}
					return d
				}
				var db, dd time.Duration
				if i%2 == 0 {
					db = one("Authorization", "Bearer "+plain)
					dd = one("Authorization", "DPoP "+o.Lead.Token, "DPoP", proof)
				} else {
					dd = one("Authorization", "DPoP "+o.Lead.Token, "DPoP", proof)
					db = one("Authorization", "Bearer "+plain)
				}
				i++
				bearer, bound, diff = append(bearer, db), append(bound, dd), append(diff, dd-db)
			}
			pg1, go1 := backendsCPU(b, w), selfCPU()
			med := func(d []time.Duration) float64 {
				slices.Sort(d)
				return float64(d[len(d)/2].Nanoseconds()) / 1e3
			}
			mb, md := med(bearer), med(bound)
			b.ReportMetric(mb, "bearer-p50-µs")
			b.ReportMetric(md, "dpop-p50-µs")
			b.ReportMetric(md-mb, "dpop-minus-bearer-p50-µs")
			b.ReportMetric(med(diff), "paired-diff-p50-µs")
			// CPU per pair (one bearer and one DPoP request): PostgreSQL's,
			// and this process's (the server's, and the client's signing).
			b.ReportMetric(float64((pg1-pg0).Nanoseconds())/1e3/float64(b.N), "pg-cpu-µs/pair")
			b.ReportMetric(float64((go1-go0).Nanoseconds())/1e3/float64(b.N), "go-cpu-µs/pair")
		}
	}
	b.Run("baseline=bearer-get-patient", run(patient, o.PatUser.Token, false))
	b.Run("baseline=lead-bearer-get-patient", run(patient, plain, false))
	b.Run("dpop-get-patient", run(patient, o.Lead.Token, true))
	b.Run("dpop-sessions", run("/v1/sessions", o.Lead.Token, true))
	b.Run("baseline=lead-bearer-sessions", run("/v1/sessions", plain, false))
	// GET /v1/patients (one a page): an inTx route whose first transaction is explicit
	// (InTenantTx): a kept DPoP principal's proof signature is checked
	// while that transaction's first round trip runs. GET
	// /v1/patients/{id} commits in its one round trip (InTenantBatch): the
	// signature is checked before it.
	b.Run("pair=list-patients", pair("/v1/patients?limit=1"))
	b.Run("pair=get-patient", pair(patient))
}
