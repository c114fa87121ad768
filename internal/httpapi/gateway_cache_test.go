package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/gateway"
)

// The registry entry is kept for at most RegistryTTL: a BAA withdrawn by an
// operator is enforced once that bound has passed (and not before: the
// cache is real), the refusal is audited and nothing reaches the upstream.
func TestGatewayRegistryCache(t *testing.T) {
	const ttl = 2 * time.Second
	g := newGW(t, withGatewayConfig(func(c *gateway.Config) { c.RegistryTTL = ttl }))
	body := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": "Rosalind Vantongeren, glucose 126 mg/dL."}}}
	call := func() (int, string) {
		resp, rb := g.request("POST", "/llm/v1/messages", g.key, body)
		return resp.StatusCode, string(rb)
	}

	start := time.Now()
	if st, rb := call(); st != http.StatusOK {
		t.Fatalf("first call: %d %s", st, rb)
	}
	// The entry was read during the first call: not before start, not
	// after read.
	read := time.Now()
	g.register(gateway.Provider{ZeroRetention: true}) // the BAA withdrawn
	st, rb := call()
	switch {
	case time.Since(start) < ttl && st != http.StatusOK:
		t.Fatalf("within the bound the kept entry should serve: %d %s", st, rb)
	case time.Since(start) >= ttl:
		t.Logf("the machine was too slow to check the kept entry (%v)", time.Since(start))
	}

	time.Sleep(time.Until(read.Add(ttl + 50*time.Millisecond)))
	before := len(g.up.calls())
	st, rb = call()
	if st != http.StatusForbidden || gatewayErr(t, []byte(rb)) != "permission_error" || !strings.Contains(rb, "baa_required") {
		t.Fatalf("after the bound: %d %s, want 403 baa_required", st, rb)
	}
	if len(g.up.calls()) != before {
		t.Fatal("the refused call reached the upstream")
	}
	if n := g.auditCount(g.o.ID, "ai.invoke", "denied"); n != 1 {
		t.Errorf("%d denied ai.invoke events, want 1", n)
	}

	// An unregistered provider is not kept: registering it takes effect on
	// the next call.
	g2 := newGW(t, withGatewayConfig(func(c *gateway.Config) {
		c.RegistryTTL, c.Provider, c.Keys = time.Hour, "other", map[string]string{"other": upstreamKey}
	}))
	g2.setPolicy(gateway.Policy{Providers: []string{"other"}})
	if resp, rb := g2.request("POST", "/llm/v1/messages", g2.key, body); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(string(rb), "provider_not_registered") {
		t.Fatalf("unregistered: %d %s", resp.StatusCode, rb)
	}
	if err := gateway.PutProvider(context.Background(), g2.env.Super, gateway.Provider{Name: "other", BaseURL: g2.up.srv.URL,
		BAASignedAt: time.Now().Add(-time.Hour), ZeroRetention: true}); err != nil {
		t.Fatal(err)
	}
	if resp, rb := g2.request("POST", "/llm/v1/messages", g2.key, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("registered: %d %s", resp.StatusCode, rb)
	}
}
