package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/wardhq/ward/internal/httpapi"
)

// TestGatewayLatency measures what the gateway adds beside calling the same
// fake upstream directly, in the same run, with the official SDK as the
// client: p50/p99 of a non-streaming call and of the time to the first
// streamed text delta, for 4, 10 and 64 KB prompts of clinical notes with
// PHI, record-aware. It runs with WARD_GATEWAY_BENCH=1 (figures in
// docs/benchmarks.md).
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
	fmt.Printf("| prompt | mode | direct p50 | direct p99 | via Ward p50 | via Ward p99 | added p50 |\n|---|---|---|---|---|---|---|\n")
	for _, size := range []int{4 << 10, 10 << 10, 64 << 10} {
		text := strings.Repeat(note, size/len(note)+1)[:size]
		p := anthropic.MessageNewParams{Model: model, MaxTokens: 256,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}}
		for _, mode := range []string{"JSON", "SSE, first delta", "JSON, no Ward-Patient"} {
			stream, ward := mode == "SSE, first delta", withRecord
			if mode == "JSON, no Ward-Patient" {
				ward = noRecord
			}
			measure := func(c anthropic.Client) []time.Duration {
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
			d1, w1 := measure(direct), measure(ward)
			d2, w2 := measure(direct), measure(ward)
			d, w := append(d1, d2...), append(w1, w2...)
			slices.Sort(d)
			slices.Sort(w)
			pct := func(ds []time.Duration, q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }
			ms := func(x time.Duration) string { return fmt.Sprintf("%.2f ms", float64(x.Microseconds())/1000) }
			fmt.Printf("| %d KB | %s | %s | %s | %s | %s | %s |\n", size>>10, mode, ms(pct(d, .5)), ms(pct(d, .99)),
				ms(pct(w, .5)), ms(pct(w, .99)), ms(pct(w, .5)-pct(d, .5)))
		}
	}
}
