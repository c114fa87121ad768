package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/gateway"
)

// TestGatewayModels: the official SDK's Models.List and Models.Get against
// Ward list and describe the models the caller's org may call, as the
// upstream describes them (entries relayed whole), narrowed by the
// registry's list and the org's, paged as the API pages; refused like a
// Messages call where the gate refuses; Ward's key goes upstream, the
// caller's never does.
func TestGatewayModels(t *testing.T) {
	// Registry and policy read on every call: the test changes both.
	g := newGW(t, withGatewayConfig(func(c *gateway.Config) { c.RegistryTTL = -1 }))
	ctx := context.Background()
	c := g.client(g.key)
	g.up.mu.Lock()
	g.up.modelPage = 2 // Ward reads the upstream's list over three pages
	g.up.mu.Unlock()
	ids := func(list []anthropic.ModelInfo) []string {
		var out []string
		for _, m := range list {
			out = append(out, m.ID)
		}
		return out
	}

	t.Run("the whole list, entries as the upstream wrote them", func(t *testing.T) {
		page, err := c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(100)})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(page.Data); !slices.Equal(got, fakeModels) || page.HasMore {
			t.Fatalf("models %v (has_more %v), want %v", got, page.HasMore, fakeModels)
		}
		m := page.Data[1]
		if m.DisplayName != "Fake "+model || m.MaxInputTokens != 200000 || m.MaxTokens != 64000 ||
			!m.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || !m.Capabilities.Effort.Supported ||
			page.FirstID != fakeModels[0] || page.LastID != fakeModels[len(fakeModels)-1] {
			t.Fatalf("entry %+v, first %s last %s", m, page.FirstID, page.LastID)
		}
	})

	t.Run("the beta surface", func(t *testing.T) {
		// client.Beta.Models: ?beta=true and the SDK's anthropic-beta header
		var got []string
		it := c.Beta.Models.ListAutoPaging(ctx, anthropic.BetaModelListParams{Limit: anthropic.Int(3),
			Betas: []anthropic.AnthropicBeta{"token-efficient-tools-2025-02-19"}})
		for it.Next() {
			got = append(got, it.Current().ID)
		}
		if err := it.Err(); err != nil || !slices.Equal(got, fakeModels) {
			t.Fatalf("beta auto-paged %v (%v), want %v", got, err, fakeModels)
		}
		m, err := c.Beta.Models.Get(ctx, model, anthropic.BetaModelGetParams{})
		if err != nil || m.ID != model {
			t.Fatalf("beta get %s: %+v (%v)", model, m, err)
		}
	})

	t.Run("paged by the SDK", func(t *testing.T) {
		var got []string
		it := c.Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2)})
		for it.Next() {
			got = append(got, it.Current().ID)
		}
		if err := it.Err(); err != nil || !slices.Equal(got, fakeModels) {
			t.Fatalf("auto-paged %v (%v), want %v", got, err, fakeModels)
		}
		page, err := c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2), BeforeID: anthropic.String("claude-sonnet-9-0")})
		if err != nil || !slices.Equal(ids(page.Data), []string{model, "claude-other"}) || !page.HasMore {
			t.Fatalf("before claude-sonnet-9-0: %v has_more %v (%v)", ids(page.Data), page.HasMore, err)
		}
		page, err = c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(3), AfterID: anthropic.String("claude-other")})
		if err != nil || !slices.Equal(ids(page.Data), []string{"claude-sonnet-9-0", "claude-old-1"}) || page.HasMore {
			t.Fatalf("after claude-other: %v has_more %v (%v)", ids(page.Data), page.HasMore, err)
		}
	})

	t.Run("narrowed by the registry and the org", func(t *testing.T) {
		g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/anthropic-baa.pdf",
			ZeroRetention: true, Models: []string{model, "claude-other", "claude-unreleased"}})
		page, err := c.Models.List(ctx, anthropic.ModelListParams{})
		if err != nil || !slices.Equal(ids(page.Data), []string{model, "claude-other"}) {
			t.Fatalf("the registry's models: %v (%v)", ids(page.Data), err)
		}
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Models: []string{model}})
		page, err = c.Models.List(ctx, anthropic.ModelListParams{})
		if err != nil || !slices.Equal(ids(page.Data), []string{model}) {
			t.Fatalf("the org's models: %v (%v)", ids(page.Data), err)
		}
		m, err := c.Models.Get(ctx, model, anthropic.ModelGetParams{})
		if err != nil || m.ID != model || m.DisplayName != "Fake "+model {
			t.Fatalf("get %s: %+v (%v)", model, m, err)
		}
		sent := len(g.up.calls())
		_, err = c.Models.Get(ctx, "claude-other", anthropic.ModelGetParams{})
		wantSDKError(t, "a model the org does not enable", err, http.StatusForbidden, "model_not_enabled")
		_, err = c.Models.Get(ctx, "claude-old-1", anthropic.ModelGetParams{})
		wantSDKError(t, "a model the registry does not list", err, http.StatusForbidden, "model_not_allowed")
		if n := len(g.up.calls()); n != sent {
			t.Fatalf("a refused model reached the upstream: %d calls", n-sent)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/anthropic-baa.pdf",
			ZeroRetention: true})
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
		_, err := c.Models.Get(ctx, "claude-none-1", anthropic.ModelGetParams{})
		wantSDKError(t, "a model the upstream does not know", err, http.StatusNotFound, "not_found")
		_, err = c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(1001)})
		wantSDKError(t, "limit above 1000", err, http.StatusBadRequest, "invalid_request")
		members := g.client(g.createKey(g.o, auth.ScopeMembers).Key)
		_, err = members.Models.List(ctx, anthropic.ModelListParams{})
		wantSDKError(t, "a key without the gateway scope", err, http.StatusForbidden, "scope_required")
		nope := g.client("sk_live_nope")
		_, err = nope.Models.List(ctx, anthropic.ModelListParams{})
		wantSDKError(t, "a bad key", err, http.StatusUnauthorized, "api_key_malformed")

		g.setPolicy(gateway.Policy{Providers: []string{}})
		_, err = c.Models.List(ctx, anthropic.ModelListParams{})
		wantSDKError(t, "provider not enabled", err, http.StatusForbidden, "provider_not_enabled")
		g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
		g.register(gateway.Provider{ZeroRetention: true})
		_, err = c.Models.List(ctx, anthropic.ModelListParams{})
		wantSDKError(t, "no BAA", err, http.StatusForbidden, "baa_required")
		g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/anthropic-baa.pdf"})
		_, err = c.Models.Get(ctx, model, anthropic.ModelGetParams{})
		wantSDKError(t, "no zero retention", err, http.StatusForbidden, "zero_retention_required")

		// A model id goes into the upstream's path: a dot segment or an
		// escaped separator is refused before anything is sent, though no
		// model list narrows what may be asked.
		g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/anthropic-baa.pdf",
			ZeroRetention: true})
		sent := len(g.up.calls())
		for _, id := range []string{"..", "..%2F..%2Fv1%2Forganizations", "claude%3Fx=1", "%2E%2E"} {
			resp, body := g.request("GET", "/llm/v1/models/"+id, "", nil, "Authorization", "Bearer "+g.key)
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("model id %s: %d %s", id, resp.StatusCode, body)
			}
		}
		if n := len(g.up.calls()); n != sent {
			t.Errorf("an unsafe model id reached the upstream: %d calls", n-sent)
		}

		resp, body := g.request("GET", "/llm/v1/models?order=asc", "", nil, "Authorization", "Bearer "+g.key)
		var e struct {
			Type  string                `json:"type"`
			Error struct{ Type string } `json:"error"`
		}
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Error.Type != "invalid_request_error" {
			t.Fatalf("an unknown query parameter: %d %s", resp.StatusCode, body)
		}
	})

	// What went upstream: Ward's key on every models call, never a
	// caller's credential.
	var seen int
	for _, call := range g.up.calls() {
		if !strings.HasPrefix(call.Path, "/v1/models") {
			continue
		}
		seen++
		if call.Header.Get("X-Api-Key") != upstreamKey || call.Header.Get("Authorization") != "" ||
			strings.Contains(call.Path, g.key) {
			t.Errorf("upstream models call %s with headers %v", call.Path, call.Header)
		}
	}
	if seen == 0 {
		t.Fatal("no models call reached the upstream")
	}
}
