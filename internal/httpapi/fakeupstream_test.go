package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstreamKey is Ward's own key for the fake upstream; clients never see it.
const upstreamKey = "sk-ant-upstream-test-0123456789"

// fakeUpstream is the one stand-in the gateway tests use: an httptest
// server that speaks the Anthropic Messages wire format (JSON and SSE, as
// research/gateway.md §1 describes the real API) and records exactly what
// it received. Its reply names back every placeholder it saw, so the
// client's view shows whether re-identification worked.
type fakeUpstream struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	got      []upstreamCall
	chunk    int  // bytes per text delta (default 3)
	unnamed  bool // frames without event: lines
	override func(w http.ResponseWriter, r *http.Request) bool
	// cancelled is closed when a streaming request's context ends early.
	cancelled chan struct{}
	// hold makes a stream wait after its first delta until the client goes.
	hold bool
	// modelPage bounds a page of the model list whatever limit asks
	// (0: the limit alone), so that a reader of the list pages.
	modelPage int
}

// fakeModels is the fake upstream's model catalogue, newest first, as the
// Models API lists it.
var fakeModels = []string{"claude-fake-opus-9-1", model, "claude-other", "claude-sonnet-9-0", "claude-old-1"}

// fakeModel is the fake upstream's entry for id, with the fields the
// Models API gives (capabilities and limits Ward does not know).
func fakeModel(id string) map[string]any {
	return map[string]any{"type": "model", "id": id, "display_name": "Fake " + id,
		"created_at": "2026-01-02T03:04:05Z", "deprecated_at": nil, "lifecycle": "active",
		"max_input_tokens": 200000, "max_tokens": 64000,
		"capabilities": map[string]any{"effort": map[string]any{"supported": true}}}
}

// models serves GET /v1/models (paged by limit, after_id, before_id) and
// GET /v1/models/{id}.
func (f *fakeUpstream) models(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_fake")
	if id, ok := strings.CutPrefix(r.URL.Path, "/v1/models/"); ok {
		if !slices.Contains(fakeModels, id) {
			anthropicError(w, http.StatusNotFound, "not_found_error", "model: "+id)
			return
		}
		_ = json.NewEncoder(w).Encode(fakeModel(id))
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = 20
	}
	f.mu.Lock()
	if f.modelPage > 0 {
		limit = min(limit, f.modelPage)
	}
	f.mu.Unlock()
	lo, hi := 0, min(limit, len(fakeModels))
	if a := q.Get("after_id"); a != "" {
		lo = slices.Index(fakeModels, a) + 1
		hi = min(len(fakeModels), lo+limit)
	}
	data, first, last := []map[string]any{}, any(nil), any(nil)
	for _, id := range fakeModels[lo:max(lo, hi)] {
		data = append(data, fakeModel(id))
	}
	if hi > lo {
		first, last = fakeModels[lo], fakeModels[hi-1]
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "has_more": hi < len(fakeModels),
		"first_id": first, "last_id": last})
}

type upstreamCall struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	f := &fakeUpstream{t: t, chunk: 3, cancelled: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// calls returns what the upstream received so far.
func (f *fakeUpstream) calls() []upstreamCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]upstreamCall(nil), f.got...)
}

// all is every byte the upstream received: paths, headers and bodies.
func (f *fakeUpstream) all() string {
	var b strings.Builder
	for _, c := range f.calls() {
		fmt.Fprintf(&b, "%s\n%v\n%s\n", c.Path, c.Header, c.Body)
	}
	return b.String()
}

var placeholderRE = regexp.MustCompile(`\[\[[A-Z_]+_[0-9]+\]\]`)

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_fake")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q},"request_id":"req_fake"}`, typ, msg)
}

func (f *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.got = append(f.got, upstreamCall{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	override, chunk, unnamed, hold := f.override, f.chunk, f.unnamed, f.hold
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if r.Header.Get("X-Api-Key") != upstreamKey {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if v := r.Header.Get("Anthropic-Version"); v != "2023-06-01" && v != "2026-10-21" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version")
		return
	}
	if r.Method == http.MethodGet && (r.URL.Path == "/v1/models" || strings.HasPrefix(r.URL.Path, "/v1/models/")) {
		f.models(w, r)
		return
	}
	var req struct {
		Model  string            `json:"model"`
		Stream bool              `json:"stream"`
		Tools  []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "body is not JSON")
		return
	}
	if strings.HasSuffix(r.URL.Path, "/count_tokens") {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"input_tokens":%d}`, len(body)/4)
		return
	}
	// The reply names every placeholder the request held, in order.
	var phs []string
	seen := map[string]bool{}
	for _, p := range placeholderRE.FindAllString(string(body), -1) {
		if !seen[p] {
			seen[p] = true
			phs = append(phs, p)
		}
	}
	text := "Noted: " + strings.Join(phs, ", ") + "."
	var toolInput map[string]any
	if len(req.Tools) > 0 && len(phs) > 0 {
		toolInput = map[string]any{"who": phs[0], "all": phs, "n": 1}
	}
	if !req.Stream {
		content := []map[string]any{{"type": "text", "text": text}}
		stop := "end_turn"
		if toolInput != nil {
			content = append(content, map[string]any{"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": toolInput})
			stop = "tool_use"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req_fake")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "msg_01", "type": "message", "role": "assistant",
			"model": req.Model, "content": content, "stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": len(body) / 4, "output_tokens": len(text) / 4,
				"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("request-id", "req_fake")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	send := func(name string, v any) {
		b, _ := json.Marshal(v)
		if !unnamed {
			fmt.Fprintf(w, "event: %s\n", name)
		}
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_01",
		"type": "message", "role": "assistant", "model": req.Model, "content": []any{}, "stop_reason": nil,
		"stop_sequence": nil, "usage": map[string]any{"input_tokens": len(body) / 4, "output_tokens": 1}}})
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	for i := 0; i < len(text); i += chunk {
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": text[i:min(i+chunk, len(text))]}})
		if i == 0 {
			send("ping", map[string]any{"type": "ping"})
			if hold {
				select {
				case <-r.Context().Done():
					close(f.cancelled)
				case <-time.After(10 * time.Second):
				}
				return
			}
		}
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	stop := "end_turn"
	if toolInput != nil {
		stop = "tool_use"
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 1,
			"content_block": map[string]any{"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": map[string]any{}}})
		js, _ := json.Marshal(toolInput)
		for i := 0; i < len(js); i += chunk {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 1,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": string(js[i:min(i+chunk, len(js))])}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 1})
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop,
		"stop_sequence": nil}, "usage": map[string]any{"output_tokens": len(text) / 4}})
	send("message_stop", map[string]any{"type": "message_stop"})
}
