package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/identity"
)

func newSession(t *testing.T) *phi.Session {
	t.Helper()
	e, err := phi.New(phi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(&phi.Record{Names: []string{`Ann "Nan" O'Hara`}, Phones: []string{"617-555-0142"}},
		phi.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// redacted returns the placeholders the session gives the seeded values.
func redacted(t *testing.T, s *phi.Session, text string) string {
	t.Helper()
	r, err := s.Redact(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	return r.Text
}

// A tool input streamed as partial JSON is restored, JSON-escaped, however
// the fragments split it: at every pair of offsets.
func TestJSONStreamEverySplit(t *testing.T) {
	s := newSession(t)
	red := redacted(t, s, `Call Ann "Nan" O'Hara at 617-555-0142.`)
	if !strings.Contains(red, "[[") {
		t.Fatalf("nothing redacted: %s", red)
	}
	in, _ := json.Marshal(map[string]any{"note": red + ` Tab\there, é \u2603 😀`, "n": 3})
	want := map[string]any{}
	restored, _ := s.Reidentify(red + ` Tab\there, é \u2603 😀`)
	want["note"], want["n"] = restored, float64(3)
	frag := string(in)
	boundary := func(k int) bool { return k == len(frag) || utf8.RuneStart(frag[k]) } // deltas are JSON strings: whole runes
	for i := 0; i <= len(frag); i++ {
		for j := i; j <= len(frag); j += 1 + len(frag)/40 {
			if !boundary(i) || !boundary(j) {
				continue
			}
			js := &jsonStream{rs: newRestorer(s)}
			out := js.Write(frag[:i]) + js.Write(frag[i:j]) + js.Write(frag[j:]) + js.Close()
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("split %d/%d: %v: %s", i, j, err, out)
			}
			if got["note"] != want["note"] || got["n"] != want["n"] {
				t.Fatalf("split %d/%d: %v, want %v", i, j, got, want)
			}
		}
	}
}

// The relay restores a text delta split at every byte offset, passes the
// events and their indexes through in order, and flushes what it held back
// before content_block_stop.
func TestRelayEverySplit(t *testing.T) {
	s := newSession(t)
	red := redacted(t, s, "Ann O'Hara called from 617-555-0142 about her A1c.")
	want, _ := s.Reidentify(red)
	for cut := 0; cut <= len(red); cut++ {
		rl := newRelay(newRestorer(s))
		var got strings.Builder
		var types []string
		feed := func(name string, v any) {
			data, _ := json.Marshal(v)
			evs, err := rl.handle(event{name: name, named: true, data: data})
			if err != nil {
				t.Fatalf("cut %d: %s: %v", cut, name, err)
			}
			for _, e := range evs {
				types = append(types, e.name)
				var d struct {
					Delta struct {
						Text string `json:"text"`
					} `json:"delta"`
				}
				_ = json.Unmarshal(e.data, &d)
				got.WriteString(d.Delta.Text)
			}
		}
		feed("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}})
		for _, part := range []string{red[:cut], red[cut:]} {
			feed("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": part}})
		}
		feed("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
		feed("message_stop", map[string]any{"type": "message_stop"})
		if got.String() != want {
			t.Fatalf("cut %d: %q, want %q", cut, got.String(), want)
		}
		if types[0] != "content_block_start" || types[len(types)-2] != "content_block_stop" ||
			types[len(types)-1] != "message_stop" || !rl.done {
			t.Fatalf("cut %d: events %v", cut, types)
		}
	}
}

func TestReadEvent(t *testing.T) {
	in := ": comment\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\ndata: {\"type\":\"message_stop\"}\r\n\r\nevent: x\ndata: a\ndata: b\n\nevent: cut\ndata: {"
	br := bufio.NewReader(strings.NewReader(in))
	var got []string
	for {
		e, err := readEvent(br)
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("end: %v", err)
			}
			break
		}
		got = append(got, e.typ()+"|"+string(e.data))
	}
	want := []string{`ping|{"type": "ping"}`, `message_stop|{"type":"message_stop"}`, "x|a\nb"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("%q", got)
	}
}

// An event made of many data lines is bounded as one long line is: a
// malicious or broken upstream cannot make Ward hold an event without end.
func TestReadEventBounded(t *testing.T) {
	line := "data: " + strings.Repeat("x", 1<<20) + "\n"
	rs := make([]io.Reader, 0, maxLine>>20+2)
	for range maxLine>>20 + 1 {
		rs = append(rs, strings.NewReader(line))
	}
	rs = append(rs, strings.NewReader("\n"))
	if _, err := readEvent(bufio.NewReader(io.MultiReader(rs...))); !errors.Is(err, errLineTooLong) {
		t.Fatalf("an event of %d MiB of data lines: %v", maxLine>>20+1, err)
	}
}

// Fail closed: a de-identification error refuses the call before anything
// is sent (here the engine's size bound; any engine error takes the same
// path).
func TestForwardFailsClosed(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer up.Close()
	e, err := phi.New(phi.Config{MaxBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(nil, e, Config{Keys: map[string]string{"anthropic": "k"}}, nil)
	org := uuid.New()
	// the org's policy as if read a moment ago (there is no database here)
	svc.policies.m = map[uuid.UUID]cachedPolicy{org: {pol: Policy{Providers: []string{"anthropic"}, Dates: "mask",
		ZIP: "mask", RequestsPerMinute: 10, TokensPerMinute: 10000}, readAt: time.Now()}}
	ctx := identity.WithPrincipal(context.Background(), identity.Principal{OrgID: org})
	body := `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"Ann O'Hara called from 617-555-0142."}]}`
	err = svc.Forward(ctx, Messages, Call{Body: []byte(body), Header: http.Header{}}, httptest.NewRecorder())
	if !errors.Is(err, ErrDeidentify) || hits.Load() != 0 {
		t.Fatalf("err %v, upstream hits %d", err, hits.Load())
	}
	if strings.Contains(err.Error(), "O'Hara") {
		t.Fatal("the error quotes the input")
	}
}

// Placeholders are numbered over a fixed traversal: the same conversation
// gives the same bytes, and a longer one keeps the earlier turns.
func TestRedactDeterministic(t *testing.T) {
	e, err := phi.New(phi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	one := `{"model":"m","system":"Patient Ann O'Hara.","messages":[{"role":"user","content":"Ann O'Hara, 617-555-0142, says [[PERSON_9]] hi."}]}`
	two := `{"model":"m","system":"Patient Ann O'Hara.","messages":[{"role":"user","content":"Ann O'Hara, 617-555-0142, says [[PERSON_9]] hi."},` +
		`{"role":"assistant","content":"Noted."},{"role":"user","content":"Her son Liam O'Hara called."}]}`
	var firsts []string
	for _, body := range []string{one, two, one} {
		s, _ := e.NewSession(nil, phi.SessionOptions{})
		out, m, err := redactRequest(context.Background(), s, []byte(body), Policy{})
		s.Close()
		if err != nil || m.Model != "m" {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "O'Hara") || strings.Contains(string(out), "0142") {
			t.Fatalf("PHI left: %s", out)
		}
		var req struct {
			Messages []json.RawMessage `json:"messages"`
		}
		_ = json.Unmarshal(out, &req)
		firsts = append(firsts, string(req.Messages[0]))
	}
	if firsts[0] != firsts[1] || firsts[0] != firsts[2] {
		t.Fatalf("earlier turn changed: %q", firsts)
	}
}

// A citations_delta quotes the de-identified document: its cited text and
// title are restored; the other fields pass as they came.
func TestRelayCitationsDelta(t *testing.T) {
	s := newSession(t)
	red := redacted(t, s, "Ann O'Hara called from 617-555-0142.")
	want, _ := s.Reidentify(red)
	rl := newRelay(newRestorer(s))
	data, _ := json.Marshal(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{
		"type": "citations_delta", "citation": map[string]any{"type": "char_location", "cited_text": red,
			"document_index": 0, "document_title": "Note: " + red, "start_char_index": 3, "end_char_index": 9}}})
	evs, err := rl.handle(event{name: "content_block_delta", named: true, data: data})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %d", err, len(evs))
	}
	var got struct {
		Delta struct {
			Citation map[string]any `json:"citation"`
		} `json:"delta"`
	}
	if err := json.Unmarshal(evs[0].data, &got); err != nil {
		t.Fatal(err)
	}
	c := got.Delta.Citation
	if c["cited_text"] != want || c["document_title"] != "Note: "+want || c["start_char_index"] != float64(3) {
		t.Fatalf("citation: %v, want cited text %q", c, want)
	}
}

// A policy header narrows and never widens.
func TestPolicyNarrow(t *testing.T) {
	org := Policy{Dates: "shift", ZIP: "zip3", Allow: []string{AllowImages}, Keep: []string{"ORGANIZATION"}}
	h := http.Header{}
	h.Set(PolicyHeader, "dates=mask; zip=mask; redact=ORGANIZATION; allow=")
	got, err := org.narrow(h)
	if err != nil || got.Dates != "mask" || got.ZIP != "mask" || len(got.Keep) != 0 || len(got.Allow) != 0 {
		t.Fatalf("narrowed: %+v %v", got, err)
	}
	if len(org.Keep) != 1 || len(org.Allow) != 1 {
		t.Fatalf("narrowing changed the org's policy: %+v", org)
	}
	for _, v := range []string{"allow=documents", "zip=zip3", "dates=shift"} {
		h.Set(PolicyHeader, v)
		if _, err := (Policy{Dates: "mask", ZIP: "mask"}).narrow(h); !errors.Is(err, ErrPolicyWeakened) {
			t.Errorf("%s under a strict policy: %v", v, err)
		}
	}
	for _, v := range []string{"dates", "redact=NOBODY", "allow=pixels", "speed=fast"} {
		h.Set(PolicyHeader, v)
		if _, err := org.narrow(h); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", v, err)
		}
	}
}

// A server tool's and an MCP server's call stream their input as a
// tool_use does: the deltas are relayed (their placeholders restored),
// not refused as events of an unknown block.
func TestRelayServerToolUse(t *testing.T) {
	s := newSession(t)
	red := redacted(t, s, "Ann O'Hara 617-555-0142")
	want, _ := s.Reidentify(red)
	for _, typ := range []string{"server_tool_use", "mcp_tool_use"} {
		rl := newRelay(newRestorer(s))
		start, _ := json.Marshal(map[string]any{"type": "content_block_start", "index": 1,
			"content_block": map[string]any{"type": typ, "id": "srvtoolu_1", "name": "web_search", "input": map[string]any{}}})
		frag, _ := json.Marshal(map[string]string{"query": red})
		var got strings.Builder
		evs := []event{{name: "content_block_start", named: true, data: start}}
		for i, part := range []string{string(frag[:7]), string(frag[7:])} {
			d, _ := json.Marshal(map[string]any{"type": "content_block_delta", "index": 1,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
			evs = append(evs, event{name: "content_block_delta", named: i%2 == 0, data: d})
		}
		stop, _ := json.Marshal(map[string]any{"type": "content_block_stop", "index": 1})
		evs = append(evs, event{name: "content_block_stop", named: true, data: stop})
		for _, e := range evs {
			out, err := rl.handle(e)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			for _, o := range out {
				var d struct {
					Delta struct {
						PartialJSON string `json:"partial_json"`
					} `json:"delta"`
				}
				_ = json.Unmarshal(o.data, &d)
				got.WriteString(d.Delta.PartialJSON)
			}
		}
		var in map[string]string
		if err := json.Unmarshal([]byte(got.String()), &in); err != nil || in["query"] != want {
			t.Fatalf("%s: streamed input %q (%v), want the query %q", typ, got.String(), err, want)
		}
	}
}

// A tool input's keys pass as the model wrote them, streamed or not: only
// its string values are restored, however the fragments split it.
func TestToolInputKeysNotRestored(t *testing.T) {
	s := newSession(t)
	red := redacted(t, s, `Ann O'Hara at 617-555-0142.`)
	ph := regexp.MustCompile(`\[\[[A-Z_]+_\d+\]\]`).FindAllString(red, -1)
	if len(ph) < 2 {
		t.Fatalf("want two placeholders in %q", red)
	}
	restored, _ := s.Reidentify(red)
	in, _ := json.Marshal(map[string]any{ph[0]: red, "list": []any{map[string]any{ph[1] + `"q`: ph[1]}, ph[0]}})
	name1, _ := s.Reidentify(ph[1])
	name0, _ := s.Reidentify(ph[0])
	want := map[string]any{ph[0]: restored, "list": []any{map[string]any{ph[1] + `"q`: name1}, name0}}
	check := func(what string, out []byte) {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v: %s", what, err, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
	check("whole reply", newRestorer(s).value(in))
	frag := string(in)
	for i := 0; i <= len(frag); i++ {
		if i < len(frag) && !utf8.RuneStart(frag[i]) {
			continue
		}
		js := &jsonStream{rs: newRestorer(s)}
		check(fmt.Sprintf("split %d", i), []byte(js.Write(frag[:i])+js.Write(frag[i:])+js.Close()))
	}
}
