package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
)

// TestGatewayModelsUpstream: what a hostile or slow upstream, or a caller
// choosing the API version, does to the model list. An id the upstream
// lists twice is listed once (the SDK's auto-paging would otherwise go
// round forever); each API version keeps its own list, so callers
// alternating versions do not send every request upstream; and a request
// waiting for a stalled upstream's list gives up when its client does.
func TestGatewayModelsUpstream(t *testing.T) {
	ctx := context.Background()
	isList := func(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.Path == "/v1/models" }

	t.Run("an id listed twice", func(t *testing.T) {
		g := newGW(t)
		g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
			if !isList(r) {
				return false
			}
			var data []map[string]any
			for _, id := range []string{model, "claude-other", model, "claude-other", "claude-old-1"} {
				data = append(data, fakeModel(id))
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "has_more": false,
				"first_id": model, "last_id": "claude-old-1"})
			return true
		})
		c := g.client(g.key)
		it := c.Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2)})
		var got []string
		for len(got) < 20 && it.Next() {
			got = append(got, it.Current().ID)
		}
		if want := []string{model, "claude-other", "claude-old-1"}; it.Err() != nil || !slices.Equal(got, want) {
			t.Fatalf("auto-paged %v (%v), want %v", got, it.Err(), want)
		}
	})

	t.Run("a list too large to keep", func(t *testing.T) {
		g := newGW(t)
		// Three pages of three 1 MiB entries: each page under the 8 MiB a
		// page may hold, the list over the 8 MiB a list may.
		g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
			if !isList(r) {
				return false
			}
			page := 0
			if a := r.URL.Query().Get("after_id"); a != "" {
				page = int(a[len(a)-1]-'0') + 1
			}
			var data []map[string]any
			for i := range 3 {
				m := fakeModel(fmt.Sprintf("claude-pad-%d-%d", page, i))
				m["padding"] = strings.Repeat("x", 1<<20)
				data = append(data, m)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "has_more": page < 2,
				"last_id": fmt.Sprintf("claude-pad-%d", page)})
			return true
		})
		resp, body := g.request("GET", "/llm/v1/models", "", nil, "Authorization", "Bearer "+g.key)
		if resp.StatusCode < 500 {
			t.Fatalf("a 9 MiB model list: %d (%d bytes), want the upstream's failure", resp.StatusCode, len(body))
		}
	})

	t.Run("each API version keeps its list", func(t *testing.T) {
		g := newGW(t)
		lists := func() (n int) {
			for _, c := range g.up.calls() {
				if strings.HasPrefix(c.Path, "/v1/models?") {
					n++
				}
			}
			return n
		}
		for i := range 6 {
			v := []string{"2023-06-01", "2026-10-21"}[i%2]
			resp, body := g.request("GET", "/llm/v1/models", "", nil, "Authorization", "Bearer "+g.key,
				"Anthropic-Version", v)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("list with version %s: %d %s", v, resp.StatusCode, body)
			}
		}
		if n := lists(); n != 2 {
			t.Fatalf("six lists alternating two versions read the upstream's list %d times, want 2", n)
		}
	})

	t.Run("a waiting request leaves with its client", func(t *testing.T) {
		g := newGW(t)
		stall := make(chan struct{})
		g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
			if isList(r) {
				select {
				case <-stall:
				case <-r.Context().Done():
				}
			}
			return false
		})
		first := make(chan error, 1)
		c := g.client(g.key)
		go func() {
			_, err := c.Models.List(ctx, anthropic.ModelListParams{})
			first <- err
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if len(g.up.calls()) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the first list never reached the upstream")
			}
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := c.Models.List(short, anthropic.ModelListParams{})
		cancel()
		if err == nil {
			t.Fatal("a list answered while the upstream stalled")
		}
		// The second request's client has gone: its handler must not go on
		// waiting for the first one's refresh.
		var waiting int
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			buf := make([]byte, 1<<22)
			buf = buf[:runtime.Stack(buf, true)]
			waiting = 0
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "internal/gateway.(*Service).catalogue(") {
					waiting++
				}
			}
			if waiting <= 1 || time.Now().After(deadline) {
				break
			}
		}
		close(stall)
		if err := <-first; err != nil {
			t.Errorf("the first list: %v", err)
		}
		if waiting != 1 {
			t.Fatalf("%d requests in the model list's refresh after the second client left, want 1", waiting)
		}
	})
}

// TestGatewayModelsCallers: the model routes serve the org's members,
// patients included, and refuse a session pending its second factor and a
// device-bound session presented without its proof, before anything goes
// upstream.
func TestGatewayModelsCallers(t *testing.T) {
	g := newGW(t)
	pending := g.signInAAL1(g.o.Admin.Email, g.o.ID)
	for _, path := range []string{"/llm/v1/models", "/llm/v1/models/" + model} {
		resp, body := g.request("GET", path, g.o.PatUser.Token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a patient's %s: %d %s", path, resp.StatusCode, body)
		}
		sent := len(g.up.calls())
		for _, c := range []struct {
			what   string
			token  string
			hdr    []string
			status int
			code   string
		}{
			{"a session pending its second factor", pending, nil, http.StatusForbidden, "mfa_required"},
			{"a bound session as a bearer token", "", []string{"Authorization", "Bearer " + g.o.Prov.Token},
				http.StatusUnauthorized, "unauthenticated"},
			{"a bound session without its proof", "", []string{"Authorization", "DPoP " + g.o.Prov.Token},
				http.StatusUnauthorized, "dpop_invalid"},
		} {
			resp, body := g.request("GET", path, c.token, nil, c.hdr...)
			var e struct {
				Error struct {
					Details struct {
						Code string `json:"error_code"`
					} `json:"details"`
				} `json:"error"`
			}
			if resp.StatusCode != c.status || json.Unmarshal(body, &e) != nil || e.Error.Details.Code != c.code {
				t.Errorf("%s, %s: %d %s; want %d %s", c.what, path, resp.StatusCode, body, c.status, c.code)
			}
		}
		if n := len(g.up.calls()); n != sent {
			t.Errorf("%s: a refused caller reached the upstream (%d calls)", path, n-sent)
		}
	}
}
