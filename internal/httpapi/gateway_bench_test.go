package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/postgres"
)

// TestGatewayLatency measures what the gateway adds beside calling the same
// fake upstream directly, in the same run, with the official SDK as the
// client: p50/p99 of a non-streaming call and of the time to the first
// streamed text delta, for 4, 10 and 64 KB prompts of clinical notes with
// PHI, record-aware. It runs with WARD_GATEWAY_BENCH=1 (figures in
// docs/benchmarks.md). Beside the wall clock it reports the CPU time per
// call, which a loaded machine moves far less: this process's (the SDK,
// Ward and the fake upstream alike; the direct calls pay the SDK and the
// upstream only) and the test's PostgreSQL cluster's (its postmaster and
// backends), so that "added" is what a call through Ward costs beyond
// the direct one.
func TestGatewayLatency(t *testing.T) {
	if os.Getenv("WARD_GATEWAY_BENCH") == "" {
		t.Skip("set WARD_GATEWAY_BENCH=1")
	}
	// The SDK cannot sign DPoP proofs: the org binds no staff sessions, as
	// in TestGatewaySDK.
	g := newGW(t, withUnboundOrgs(), withAPIConfig(func(c *httpapi.Config) { c.RateLimit = -1 }))
	ctx := context.Background()
	direct := anthropic.NewClient(option.WithBaseURL(g.up.srv.URL), option.WithAPIKey("unused"),
		option.WithHeader("x-api-key", upstreamKey), option.WithoutEnvironmentDefaults(), option.WithMaxRetries(0))
	withRecord := g.client(g.o.Prov.Token, option.WithHeader("Ward-Patient", g.patient.String()))
	noRecord := g.client(g.o.Prov.Token)
	note := "Rosalind Vantongeren (DOB 07/14/1962, MRN-884213) logged breakfast: oatmeal 40 g, " +
		"blueberries 75 g, coffee with 2% milk. Fasting glucose 126 mg/dL, BP 132/84. She asked Dr. Okafor " +
		"to call 617-555-0142 about metformin 500 mg BID. "
	const n, warm = 300, 30
	postmaster := postmasterPID(t, g.env.Super)
	fmt.Printf("| prompt | mode | direct p50 | direct p99 | via Ward p50 | via Ward p99 | added p50 | added CPU/call (Go + PostgreSQL) |\n" +
		"|---|---|---|---|---|---|---|---|\n")
	for _, size := range []int{4 << 10, 10 << 10, 64 << 10} {
		text := strings.Repeat(note, size/len(note)+1)[:size]
		p := anthropic.MessageNewParams{Model: model, MaxTokens: 256,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}
		for _, mode := range []string{"JSON", "SSE, first delta", "JSON, no Ward-Patient"} {
			stream, ward := mode == "SSE, first delta", withRecord
			if mode == "JSON, no Ward-Patient" {
				ward = noRecord
			}
			var cpu [2]struct{ goCPU, pgCPU time.Duration }
			measure := func(c anthropic.Client, k int) []time.Duration { // k: 0 direct, 1 via Ward
				go0, pg0 := cpuNow(t, postmaster)
				defer func() {
					go1, pg1 := cpuNow(t, postmaster)
					cpu[k].goCPU += go1 - go0
					cpu[k].pgCPU += pg1 - pg0
				}()
				var ds []time.Duration
				for i := 0; i < n+warm; i++ {
					start := time.Now()
					if stream {
						s := c.Messages.NewStreaming(ctx, p)
						for s.Next() {
							if s.Current().Type == "content_block_delta" {
								break
							}
						}
						d := time.Since(start)
						for s.Next() {
						}
						if err := s.Err(); err != nil {
							t.Fatal(err)
						}
						s.Close()
						if i >= warm {
							ds = append(ds, d)
						}
						continue
					}
					if _, err := c.Messages.New(ctx, p); err != nil {
						t.Fatal(err)
					}
					if i >= warm {
						ds = append(ds, time.Since(start))
					}
				}
				slices.Sort(ds)
				return ds
			}
			// interleave the two so drift hits both alike
			d1, w1 := measure(direct, 0), measure(ward, 1)
			d2, w2 := measure(direct, 0), measure(ward, 1)
			d, w := append(d1, d2...), append(w1, w2...)
			slices.Sort(d)
			slices.Sort(w)
			pct := func(ds []time.Duration, q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }
			ms := func(x time.Duration) string { return fmt.Sprintf("%.2f ms", float64(x.Microseconds())/1000) }
			// per call, warm-up included in both
			per := func(x time.Duration) string {
				return fmt.Sprintf("%.2f", float64(x.Microseconds())/1000/float64(2*(n+warm)))
			}
			fmt.Printf("| %d KB | %s | %s | %s | %s | %s | %s | %s + %s ms |\n", size>>10, mode, ms(pct(d, .5)), ms(pct(d, .99)),
				ms(pct(w, .5)), ms(pct(w, .99)), ms(pct(w, .5)-pct(d, .5)), per(cpu[1].goCPU-cpu[0].goCPU),
				per(cpu[1].pgCPU-cpu[0].pgCPU))
		}
	}
	st := g.auth.CheckStats()
	fmt.Printf("\nSession checks: %d kept (confirmed while the body was de-identified), %d full, %d stale\n",
		st.Kept, st.Full, st.Stale)
}

// postmasterPID is the pid of the PostgreSQL server db's connections run
// under: the parent of a backend.
func postmasterPID(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var backend int
	if err := db.Pool.QueryRow(context.Background(), `select pg_backend_pid()`).Scan(&backend); err != nil {
		t.Fatal(err)
	}
	st, err := procStat(backend)
	if err != nil {
		t.Fatal(err)
	}
	return st.ppid
}

type procStatus struct {
	ppid                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

// procStat reads /proc/pid/stat.
func procStat(pid int) (procStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStatus{}, err
	}
	// the command may hold spaces and parentheses: fields start after the last ')'
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStatus{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var st procStatus
	st.ppid, _ = strconv.Atoi(f[1])
	for j, dst := range []*int64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		*dst, _ = strconv.ParseInt(f[11+j], 10, 64)
	}
	return st, nil
}

// cpuNow is the CPU time used so far by this process and by the
// PostgreSQL server whose postmaster is postmaster: the postmaster, its
// live children and those it has reaped. /proc counts in ticks of 10 ms.
func cpuNow(t *testing.T, postmaster int) (goCPU, pgCPU time.Duration) {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	goCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	pm, err := procStat(postmaster)
	if err != nil {
		t.Fatal(err)
	}
	ticks := pm.utime + pm.stime + pm.cutime + pm.cstime
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procStat(pid); err == nil && st.ppid == postmaster {
			ticks += st.utime + st.stime
		}
	}
	return goCPU, time.Duration(ticks) * 10 * time.Millisecond
}
