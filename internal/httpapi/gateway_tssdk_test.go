package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// tsMessage is what scripts/validators/anthropic-client.mjs reports of a
// Message the TypeScript SDK returned.
type tsMessage struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Role       string         `json:"role"`
	Model      string         `json:"model"`
	StopReason string         `json:"stop_reason"`
	Text       string         `json:"text"`
	ToolInput  map[string]any `json:"tool_input"`
	Usage      map[string]any `json:"usage"`
}

// tsError is what it reports of an error the SDK threw.
type tsError struct {
	Class          string `json:"class"`
	APIError       bool   `json:"api_error"`
	RateLimit      bool   `json:"rate_limit"`
	Overloaded     bool   `json:"overloaded"`
	InternalServer bool   `json:"internal_server"`
	BadRequest     bool   `json:"bad_request"`
	Authentication bool   `json:"authentication"`
	NotFound       bool   `json:"not_found"`
	Status         *int   `json:"status"`
	Type           string `json:"type"`
	RetryAfter     string `json:"retry_after"`
	RequestID      string `json:"request_id"`
	Message        string `json:"message"`
}

// tsResult is one scenario's line.
type tsResult struct {
	Scenario    string         `json:"scenario"`
	Message     *tsMessage     `json:"message"`
	First       *tsMessage     `json:"first"`
	Second      *tsMessage     `json:"second"`
	Unexpected  *tsMessage     `json:"unexpected"`
	Error       *tsError       `json:"error"`
	Thrown      *tsError       `json:"thrown"`
	Events      int            `json:"events"`
	TextDeltas  string         `json:"text_deltas"`
	Types       []string       `json:"types"`
	Text        string         `json:"text"`
	ToolInput   map[string]any `json:"tool_input"`
	StopReason  string         `json:"stop_reason"`
	InputTokens int            `json:"input_tokens"`
	ModelIDs    []string       `json:"model_ids"`
	ModelInfo   *struct {
		ID             string `json:"id"`
		DisplayName    string `json:"display_name"`
		MaxInputTokens int    `json:"max_input_tokens"`
	} `json:"model_info"`
	Sent []struct {
		URL     string            `json:"url"`
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
	} `json:"sent"`
}

// tsClient runs the official TypeScript SDK (scripts/validators, installed by
// scripts/deps.sh validators) against Ward's gateway: one line of JSON per
// scenario. The SDK sees no environment of the host (no ANTHROPIC_*
// variable, a fresh HOME): only what env sets.
func tsClient(t *testing.T, g *gw, env map[string]string, scenarios ...string) map[string]tsResult {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "validators")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@anthropic-ai", "sdk", "package.json")); err != nil {
		t.Fatal("the TypeScript SDK is not installed: run scripts/deps.sh validators")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node: %v (run scripts/deps.sh validators)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, "anthropic-client.mjs")}, scenarios...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "WARD_BASE_URL=" + g.srv.URL + "/llm",
		"WARD_MODEL=" + model}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node anthropic-client.mjs %v: %v\n%s%s (run scripts/deps.sh validators)", scenarios, err, stdout.Bytes(),
			stderr.Bytes())
	}
	out := map[string]tsResult{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r tsResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("anthropic-client.mjs: %v: %s", err, sc.Bytes())
		}
		if r.Thrown != nil {
			t.Errorf("%s: the TypeScript SDK threw %s (status %v, %s): %s", r.Scenario, r.Thrown.Class, r.Thrown.Status,
				r.Thrown.Type, r.Thrown.Message)
		}
		out[r.Scenario] = r
		noCanary(t, "the TypeScript SDK's request headers", fmt.Sprint(r.Sent))
	}
	for _, s := range scenarios {
		if _, ok := out[s]; !ok {
			t.Fatalf("anthropic-client.mjs printed no %s: %s%s", s, stdout.Bytes(), stderr.Bytes())
		}
	}
	return out
}

// wantSDKHeaders checks the SDK sent its own headers, as it does to the
// real API, and the credential the way auth says.
func wantSDKHeaders(t *testing.T, r tsResult, auth, key string) {
	t.Helper()
	if len(r.Sent) == 0 {
		t.Fatalf("%s: no request recorded", r.Scenario)
	}
	for _, s := range r.Sent {
		h := s.Headers
		if h["anthropic-version"] == "" || h["x-stainless-lang"] != "js" || h["x-stainless-package-version"] == "" ||
			h["x-stainless-retry-count"] == "" || !strings.HasPrefix(h["user-agent"], "Anthropic/JS ") {
			t.Errorf("%s: not the SDK's own headers: %v", r.Scenario, h)
		}
		switch auth {
		case "bearer":
			if h["authorization"] != "Bearer "+key || h["x-api-key"] != "" {
				t.Errorf("%s: authorization %q, x-api-key %q", r.Scenario, h["authorization"], h["x-api-key"])
			}
		case "x-api-key":
			if h["x-api-key"] != key || h["authorization"] != "" {
				t.Errorf("%s: authorization %q, x-api-key %q", r.Scenario, h["authorization"], h["x-api-key"])
			}
		}
	}
}

// upstreamClean checks what Ward sent upstream for a call: its own key, the
// client's anthropic-version, none of the client's other headers.
func upstreamClean(t *testing.T, where string, c upstreamCall, version string) {
	t.Helper()
	if c.Header.Get("X-Api-Key") != upstreamKey || c.Header.Get("Authorization") != "" {
		t.Errorf("%s: upstream credentials: x-api-key %q, authorization %q", where, c.Header.Get("X-Api-Key"),
			c.Header.Get("Authorization"))
	}
	if v := c.Header.Get("Anthropic-Version"); v != version {
		t.Errorf("%s: anthropic-version upstream %q, want %q", where, v, version)
	}
	for k := range c.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-stainless") || strings.EqualFold(k, "Ward-Patient") {
			t.Errorf("%s: the client's header %s went upstream", where, k)
		}
	}
}

// The official TypeScript SDK (@anthropic-ai/sdk, pinned in
// scripts/validators), unchanged but for its base URL, key and a default
// Ward-Patient header, against Ward in front of the fake upstream: nothing
// identifying leaves, everything comes back, in JSON and in streams, in
// text and in tool inputs; its own headers are accepted and its typed
// errors carry the right status.
func TestGatewayTypeScriptSDK(t *testing.T) {
	// As in TestGatewaySDK: the SDK sends a bearer token and cannot sign
	// DPoP proofs, so its org binds no staff sessions.
	g := newGW(t, withUnboundOrgs())
	prov := map[string]string{"WARD_KEY": g.o.Prov.Token, "WARD_PATIENT": g.patient.String()}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range prov {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	last := func() upstreamCall {
		calls := g.up.calls()
		if len(calls) == 0 {
			t.Fatal("nothing reached the upstream")
		}
		return calls[len(calls)-1]
	}

	t.Run("messages.create with a tool", func(t *testing.T) {
		r := tsClient(t, g, prov, "create")["create"]
		wantSDKHeaders(t, r, "bearer", g.o.Prov.Token)
		if r.Message == nil {
			t.Fatalf("no message: %+v", r)
		}
		wantRestored(t, "text", r.Message.Text)
		if in := r.Message.ToolInput; in["who"] != "Rosalind Vantongeren" || in["n"] != float64(1) {
			t.Errorf("tool input not restored: %v", in)
		}
		if r.Message.StopReason != "tool_use" || r.Message.Role != "assistant" || r.Message.Model != model {
			t.Errorf("message: %+v", r.Message)
		}
		up := last()
		upstreamClean(t, "create", up, "2026-10-21")
		var body map[string]json.RawMessage
		if err := json.Unmarshal(up.Body, &body); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"system", "tools", "messages"} {
			if !placeholderRE.Match(body[f]) {
				t.Errorf("%s: no placeholder upstream: %s", f, body[f])
			}
		}
		if !strings.Contains(string(up.Body), "126 mg/dL") || !strings.Contains(string(up.Body), "metformin 500 mg") {
			t.Errorf("clinical signal lost upstream: %s", up.Body)
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("streaming", func(t *testing.T) {
		defer func() {
			g.up.mu.Lock()
			g.up.chunk = 3
			g.up.mu.Unlock()
		}()
		for _, chunk := range []int{1, 3, 7, 64} {
			g.up.mu.Lock()
			g.up.chunk = chunk
			g.up.mu.Unlock()
			rs := tsClient(t, g, prov, "stream", "stream-raw")
			s := rs["stream"]
			wantSDKHeaders(t, s, "bearer", g.o.Prov.Token)
			if s.Message == nil {
				t.Fatalf("chunk %d: no final message: %+v", chunk, s)
			}
			where := fmt.Sprintf("chunk %d: messages.stream", chunk)
			wantRestored(t, where, s.Message.Text)
			wantRestored(t, where+" text events", s.TextDeltas)
			if in := s.Message.ToolInput; in["who"] != "Rosalind Vantongeren" || in["n"] != float64(1) {
				t.Errorf("%s: tool input not restored: %v", where, in)
			}
			if s.Message.StopReason != "tool_use" || s.Events < 8 {
				t.Errorf("%s: stop %q after %d events", where, s.Message.StopReason, s.Events)
			}
			raw := rs["stream-raw"]
			where = fmt.Sprintf("chunk %d: create with stream: true", chunk)
			wantRestored(t, where, raw.Text)
			if in := raw.ToolInput; in["who"] != "Rosalind Vantongeren" {
				t.Errorf("%s: tool input not restored: %v", where, in)
			}
			if len(raw.Types) < 2 || raw.Types[0] != "message_start" || raw.Types[len(raw.Types)-1] != "message_stop" ||
				raw.StopReason != "tool_use" {
				t.Errorf("%s: events %v, stop %q", where, raw.Types, raw.StopReason)
			}
			upstreamClean(t, where, last(), "2026-10-21")
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("history resent byte-identical", func(t *testing.T) {
		before := len(g.up.calls())
		r := tsClient(t, g, prov, "history")["history"]
		if r.First == nil || r.Second == nil {
			t.Fatalf("history: %+v", r)
		}
		wantRestored(t, "first reply", r.First.Text)
		wantRestored(t, "second reply", r.Second.Text)
		if !strings.Contains(r.Second.Text, "Philippa Vantongeren") || !strings.Contains(r.Second.Text, "617-555-0199") {
			t.Errorf("the new turn's identifiers not restored: %q", r.Second.Text)
		}
		calls := g.up.calls()[before:]
		if len(calls) != 2 {
			t.Fatalf("%d upstream calls, want 2", len(calls))
		}
		first, second := upstreamMessages(t, calls[:1]), upstreamMessages(t, calls)
		if len(first) != 3 || len(second) != 5 {
			t.Fatalf("turns upstream: %d then %d", len(first), len(second))
		}
		for i := range first {
			if !bytes.Equal(first[i], second[i]) {
				t.Errorf("turn %d differs upstream:\n%s\n%s", i, first[i], second[i])
			}
		}
		// the reply the SDK got back (identifiers restored) goes upstream
		// again with the placeholders the upstream wrote
		var reply struct {
			Content []struct {
				Type  string         `json:"type"`
				Text  string         `json:"text"`
				Input map[string]any `json:"input"`
			} `json:"content"`
		}
		if err := json.Unmarshal(second[3], &reply); err != nil {
			t.Fatal(err)
		}
		if len(reply.Content) != 2 || !placeholderRE.MatchString(reply.Content[0].Text) ||
			reply.Content[1].Input["who"] != placeholderRE.FindString(string(calls[0].Body)) {
			t.Errorf("the resent reply upstream: %s", second[3])
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("models", func(t *testing.T) {
		// models.list, paged two at a time by the SDK, and models.retrieve:
		// the upstream's entries of the models the org may call.
		r := tsClient(t, g, prov, "models")["models"]
		wantSDKHeaders(t, r, "bearer", g.o.Prov.Token)
		if !slices.Equal(r.ModelIDs, fakeModels) || r.ModelInfo == nil || r.ModelInfo.ID != model ||
			r.ModelInfo.DisplayName != "Fake "+model || r.ModelInfo.MaxInputTokens != 200000 {
			t.Fatalf("models: %+v (thrown %+v)", r, r.Thrown)
		}
		if up := last(); up.Path != "/v1/models/"+model || up.Header.Get("X-Api-Key") != upstreamKey {
			t.Errorf("upstream %s with key %q", up.Path, up.Header.Get("X-Api-Key"))
		}
	})

	t.Run("count_tokens", func(t *testing.T) {
		r := tsClient(t, g, prov, "count")["count"]
		wantSDKHeaders(t, r, "bearer", g.o.Prov.Token)
		if r.InputTokens <= 0 {
			t.Fatalf("count_tokens: %+v", r)
		}
		up := last()
		if up.Path != "/v1/messages/count_tokens" {
			t.Errorf("upstream path %s", up.Path)
		}
		if !placeholderRE.Match(up.Body) {
			t.Errorf("no placeholder in the count_tokens request upstream: %s", up.Body)
		}
		upstreamClean(t, "count_tokens", up, "2026-10-21")
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("beta surface", func(t *testing.T) {
		r := tsClient(t, g, prov, "beta")["beta"]
		wantSDKHeaders(t, r, "bearer", g.o.Prov.Token)
		if r.Message == nil {
			t.Fatalf("beta: %+v", r)
		}
		wantRestored(t, "beta", r.Message.Text)
		// this SDK sends its beta calls to /v1/messages (older ones added
		// ?beta=true): the upstream gets the path and query it sent
		up := last()
		want := strings.TrimPrefix(r.Sent[0].URL, g.srv.URL+"/llm")
		if up.Path != want || up.Header.Get("Anthropic-Beta") != "token-efficient-tools-2025-02-19" {
			t.Errorf("beta upstream: %s (the SDK sent %s), anthropic-beta %q", up.Path, r.Sent[0].URL,
				up.Header.Get("Anthropic-Beta"))
		}
		upstreamClean(t, "beta", up, "2026-10-21")
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("x-api-key with a gateway key", func(t *testing.T) {
		r := tsClient(t, g, with("WARD_KEY", g.key, "WARD_AUTH", "x-api-key"), "create", "stream")
		for _, s := range []string{"create", "stream"} {
			wantSDKHeaders(t, r[s], "x-api-key", g.key)
			if r[s].Message == nil {
				t.Fatalf("%s: %+v", s, r[s])
			}
			wantRestored(t, s, r[s].Message.Text)
		}
		if strings.Contains(g.up.all(), g.key) {
			t.Error("the Ward key went upstream")
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("typed errors", func(t *testing.T) {
		set := func(fn func(w http.ResponseWriter, r *http.Request) bool) {
			g.up.mu.Lock()
			g.up.override = fn
			g.up.mu.Unlock()
		}
		defer set(nil)
		for _, tc := range []struct {
			status     int
			typ, class string
			flag       func(e *tsError) bool
			retryAfter string
		}{
			{429, "rate_limit_error", "RateLimitError", func(e *tsError) bool { return e.RateLimit }, "7"},
			{529, "overloaded_error", "OverloadedError", func(e *tsError) bool { return e.Overloaded }, ""},
			{400, "invalid_request_error", "BadRequestError", func(e *tsError) bool { return e.BadRequest }, ""},
		} {
			set(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("retry-after", "7")
				anthropicError(w, tc.status, tc.typ, "upstream says no")
				return true
			})
			r := tsClient(t, g, prov, "error")["error"]
			e := r.Error
			if e == nil || e.Status == nil || *e.Status != tc.status || e.Type != tc.typ || e.Class != tc.class ||
				!e.APIError || !tc.flag(e) {
				t.Errorf("%d: %+v (unexpected reply %+v)", tc.status, e, r.Unexpected)
				continue
			}
			if e.RequestID != "req_fake" {
				t.Errorf("%d: the upstream's request id not relayed: %q", tc.status, e.RequestID)
			}
			if tc.retryAfter != "" && e.RetryAfter != tc.retryAfter {
				t.Errorf("%d: retry-after %q, want %q", tc.status, e.RetryAfter, tc.retryAfter)
			}
			noCanary(t, "the error", e.Message)
		}

		// a mid-stream error event
		set(func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n")
			fmt.Fprint(w, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")
			return true
		})
		r := tsClient(t, g, prov, "stream-error")["stream-error"]
		if e := r.Error; e == nil || !e.APIError || !strings.Contains(e.Message+e.Type, "overloaded_error") {
			t.Errorf("mid-stream error: %+v (unexpected reply %+v)", e, r.Unexpected)
		}
		set(nil)

		// Ward's own refusals, in the same shape
		for _, tc := range []struct {
			name   string
			env    map[string]string
			status int
			class  string
			flag   func(e *tsError) bool
		}{
			{"bad key", with("WARD_KEY", "sk_live_nope"), 401, "AuthenticationError", func(e *tsError) bool { return e.Authentication }},
			{"bad x-api-key", with("WARD_KEY", "sk_live_nope", "WARD_AUTH", "x-api-key"), 401, "AuthenticationError",
				func(e *tsError) bool { return e.Authentication }},
			{"unassigned patient", with("WARD_PATIENT", g.o.P2.String()), 404, "NotFoundError",
				func(e *tsError) bool { return e.NotFound }},
		} {
			before := len(g.up.calls())
			r := tsClient(t, g, tc.env, "error")["error"]
			e := r.Error
			if e == nil || e.Status == nil || *e.Status != tc.status || e.Class != tc.class || !tc.flag(e) {
				t.Errorf("%s: %+v", tc.name, e)
				continue
			}
			// the SDK reads the request id from the request-id header
			if e.RequestID == "" || !strings.Contains(e.Message, e.RequestID) {
				t.Errorf("%s: the SDK's error has request id %q: %s", tc.name, e.RequestID, e.Message)
			}
			if len(g.up.calls()) != before {
				t.Errorf("%s: the refused call reached the upstream", tc.name)
			}
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	noCanary(t, "the upstream requests", g.up.all())
	noCanary(t, "the server log", g.logs.String())
}
