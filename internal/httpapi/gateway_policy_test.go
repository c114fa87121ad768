package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/gateway"
)

// setOverride makes the fake upstream answer with fn (nil: its own reply).
func (g *gw) setOverride(fn func(w http.ResponseWriter, r *http.Request) bool) {
	g.up.mu.Lock()
	g.up.override = fn
	g.up.mu.Unlock()
}

// lastDetails is the details of the org's newest event of action.
func (g *gw) lastDetails(org uuid.UUID, action, outcome string) map[string]any {
	g.t.Helper()
	var raw []byte
	if err := g.env.Super.Pool.QueryRow(context.Background(), `select details from audit.events
	   where org_id = $1 and action = $2 and outcome = $3 order by qid desc limit 1`, org, action, outcome).Scan(&raw); err != nil {
		g.t.Fatalf("%s %s: %v", action, outcome, err)
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		g.t.Fatal(err)
	}
	return d
}

// echoUpstream answers every call with one text block holding the text of
// the request's last user turn, as it received it.
func echoUpstream(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &req)
	var text string
	if n := len(req.Messages); n > 0 {
		c := req.Messages[n-1].Content
		if json.Unmarshal(c, &text) != nil {
			var blocks []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			_ = json.Unmarshal(c, &blocks)
			for _, b := range blocks {
				text += b.Text
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": "msg_echo", "type": "message", "role": "assistant",
		"model": model, "content": []any{map[string]any{"type": "text", "text": text}}, "stop_reason": "end_turn",
		"stop_sequence": nil, "usage": map[string]any{"input_tokens": 10, "output_tokens": 10}})
}

// The org's gateway policy: who may set it, the gate it adds (providers
// and models the org enabled), content it lets through, date shifting,
// and what a request may narrow (never weaken).
func TestGatewayPolicy(t *testing.T) {
	g := newGW(t)
	msg := func(content any) map[string]any {
		return map[string]any{"model": model, "max_tokens": 64,
			"messages": []any{map[string]any{"role": "user", "content": content}}}
	}
	text := msg("Rosalind Vantongeren, 617-555-0142, asks about her HbA1c.")
	call := func(body any, hdr ...string) (int, string, []byte) {
		t.Helper()
		resp, rb := g.request("POST", "/llm/v1/messages", g.key, body, hdr...)
		typ := ""
		if resp.StatusCode != http.StatusOK {
			typ = gatewayErr(t, rb)
		}
		return resp.StatusCode, typ, rb
	}

	var pol gateway.Policy
	g.do("GET", "/v1/org/gateway-policy", g.o.Prov.Token, nil, http.StatusOK, &pol)
	if strings.Join(pol.Providers, ",") != "anthropic" || pol.Dates != "mask" || pol.ZIP != "mask" || len(pol.Allow) != 0 {
		t.Fatalf("policy as the provider reads it: %+v", pol)
	}
	// Only an admin sets it, and only to values the policy knows.
	if resp, b := g.request("PUT", "/v1/org/gateway-policy", g.o.Lead.Token, pol); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("policy by a lead: %d %s", resp.StatusCode, b)
	}
	for _, bad := range []gateway.Policy{
		{Providers: []string{"Anthropic!"}, Dates: "mask", ZIP: "mask", RequestsPerMinute: 10, TokensPerMinute: 10000},
		{Dates: "blur", ZIP: "mask", RequestsPerMinute: 10, TokensPerMinute: 10000},
		{Dates: "mask", ZIP: "mask", Allow: []string{"pixels"}, RequestsPerMinute: 10, TokensPerMinute: 10000},
		{Dates: "mask", ZIP: "mask", Keep: []string{"PERSON"}, RequestsPerMinute: 10, TokensPerMinute: 10000},
		{Dates: "mask", ZIP: "mask", RequestsPerMinute: 0, TokensPerMinute: 10000},
	} {
		resp, b := g.request("PUT", "/v1/org/gateway-policy", g.o.Admin.Token, bad)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "invalid_policy" {
			t.Errorf("policy %+v: %d %s", bad, resp.StatusCode, b)
		}
	}
	// PUT sets the whole policy: one that leaves the limits out (an admin
	// enabling a provider, {"providers": [...]}) is told which field is
	// missing, not that a value it never sent is out of range.
	resp, b := g.request("PUT", "/v1/org/gateway-policy", g.o.Admin.Token, map[string]any{"providers": []string{"anthropic"}})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, b) != "missing_field" ||
		!strings.Contains(string(b), "requests_per_minute") || strings.Contains(string(b), "1..100000") {
		t.Errorf("policy without its limits: %d %s", resp.StatusCode, b)
	}
	before := g.auditCount(g.o.ID, "org.gateway_policy.update", "success")

	// A provider the org has not enabled, a model outside its list: refused
	// at the gate, audited, nothing upstream.
	calls := len(g.up.calls())
	g.setPolicy(gateway.Policy{})
	if st, typ, b := call(text); st != http.StatusForbidden || typ != "permission_error" ||
		!strings.Contains(string(b), "provider_not_enabled") {
		t.Fatalf("provider not enabled: %d %s", st, b)
	}
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Models: []string{"claude-other"}})
	if st, _, b := call(text); st != http.StatusForbidden || !strings.Contains(string(b), "model_not_enabled") {
		t.Fatalf("model not enabled: %d %s", st, b)
	}
	if len(g.up.calls()) != calls {
		t.Fatal("a call the org's policy refuses reached the upstream")
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "denied"); d["reason"] != "model_not_enabled" {
		t.Errorf("denied event: %v", d)
	}
	if n := g.auditCount(g.o.ID, "org.gateway_policy.update", "success"); n != before+2 {
		t.Errorf("%d policy events, want %d", n-before, 2)
	}
	d := g.lastDetails(g.o.ID, "org.gateway_policy.update", "success")
	if old, _ := d["old"].(map[string]any); old == nil || fmt.Sprint(old["providers"]) != "[]" {
		t.Errorf("policy event details: %v", d)
	}

	// Images pass only when the org allows them; a request may narrow that
	// for itself, and may not widen what the org allows.
	image := msg([]any{map[string]any{"type": "image", "source": map[string]any{"type": "base64",
		"media_type": "image/png", "data": "iVBORw0KGgo="}}, map[string]any{"type": "text", "text": "What is this?"}})
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
	if st, typ, b := call(image); st != http.StatusBadRequest || typ != "invalid_request_error" {
		t.Fatalf("image under a policy without images: %d %s", st, b)
	}
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Allow: []string{gateway.AllowImages}})
	if st, _, b := call(image); st != http.StatusOK {
		t.Fatalf("image under a policy with images: %d %s", st, b)
	}
	if up := g.up.calls(); !strings.Contains(string(up[len(up)-1].Body), "iVBORw0KGgo=") {
		t.Error("the allowed image did not reach the upstream unchanged")
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "success"); d["unredacted_blocks"] != float64(1) {
		t.Errorf("ai.invoke does not count the unredacted block: %v", d)
	}
	if st, _, b := call(image, gateway.PolicyHeader, "allow="); st != http.StatusBadRequest {
		t.Fatalf("image with the request narrowing allow to nothing: %d %s", st, b)
	}
	if st, _, b := call(text, gateway.PolicyHeader, "allow=images+documents"); st != http.StatusForbidden ||
		!strings.Contains(string(b), "policy_weakening_refused") {
		t.Fatalf("a request widening allow: %d %s", st, b)
	}
	if st, _, b := call(text, gateway.PolicyHeader, "dates=shift"); st != http.StatusForbidden ||
		!strings.Contains(string(b), "policy_weakening_refused") {
		t.Fatalf("a request asking to shift under a masking policy: %d %s", st, b)
	}
	if st, _, b := call(text, gateway.PolicyHeader, "colour=blue"); st != http.StatusBadRequest {
		t.Fatalf("an unknown directive: %d %s", st, b)
	}

	// Date shifting: the upstream sees another real date, the client gets
	// its own back; a request may still ask for masking.
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Dates: "shift"})
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		up := g.up.calls()
		echoUpstream(w, r, up[len(up)-1].Body)
		return true
	})
	defer g.setOverride(nil)
	dated := msg("Rosalind Vantongeren was admitted on 03/14/2024 with chest pain.")
	st, _, b := call(dated)
	up := g.up.calls()
	sent := string(up[len(up)-1].Body)
	if st != http.StatusOK || strings.Contains(sent, "03/14/2024") || !datePattern(sent) {
		t.Fatalf("shifted date: %d upstream got %s", st, sent)
	}
	if !strings.Contains(string(b), "03/14/2024") || !strings.Contains(string(b), "Rosalind Vantongeren") {
		t.Fatalf("the reply did not get the date back: %s", b)
	}
	// The shift is a keyed function of the org, the patient and the
	// conversation's first message: the conversation resent with more turns
	// reaches the upstream with the same shifted date (prompt caching keeps
	// working); other conversations get other shifts.
	shiftedDate := regexp.MustCompile(`\d{2}/\d{2}/\d{4}`)
	firstShift := shiftedDate.FindString(sent)
	longer := msg("Rosalind Vantongeren was admitted on 03/14/2024 with chest pain.")
	longer["messages"] = append(longer["messages"].([]any),
		map[string]any{"role": "assistant", "content": "Noted."},
		map[string]any{"role": "user", "content": "Summarise the admission."})
	if st, _, b := call(longer); st != http.StatusOK {
		t.Fatalf("the conversation resent: %d %s", st, b)
	}
	up = g.up.calls()
	if again := shiftedDate.FindString(string(up[len(up)-1].Body)); again != firstShift {
		t.Fatalf("the resent conversation's date reached the upstream as %q, first as %q", again, firstShift)
	}
	shifts := map[string]bool{firstShift: true}
	for i := range 6 {
		if st, _, b := call(msg(fmt.Sprintf("Visit %d: seen on 03/14/2024.", i))); st != http.StatusOK {
			t.Fatalf("another conversation: %d %s", st, b)
		}
		up = g.up.calls()
		shifts[shiftedDate.FindString(string(up[len(up)-1].Body))] = true
	}
	if len(shifts) < 3 {
		t.Fatalf("seven conversations got %d distinct shifts of one date: %v", len(shifts), shifts)
	}
	if st, _, _ = call(dated, gateway.PolicyHeader, "dates=mask"); st != http.StatusOK {
		t.Fatalf("narrowed to masking: %d", st)
	}
	up = g.up.calls()
	if sent := string(up[len(up)-1].Body); !strings.Contains(sent, "[[DATE_1]]") {
		t.Fatalf("a request narrowed to masking: upstream got %s", sent)
	}
	noCanary(t, "the upstream requests", g.up.all())
}

func datePattern(s string) bool {
	for i := 0; i+10 <= len(s); i++ {
		var m, d, y int
		if n, _ := fmt.Sscanf(s[i:i+10], "%2d/%2d/%4d", &m, &d, &y); n == 3 && m >= 1 && m <= 12 && y > 2000 {
			return true
		}
	}
	return false
}

// Tool input schemas and text documents are de-identified; citations of
// the reply quote the document and are restored.
func TestGatewaySchemasDocumentsCitations(t *testing.T) {
	g := newGW(t)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		up := g.up.calls()
		body := string(up[len(up)-1].Body)
		ph := placeholderRE.FindString(body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "msg_c", "type": "message", "role": "assistant",
			"model": model, "content": []any{map[string]any{"type": "text", "text": "The note is about " + ph + ".",
				"citations": []any{map[string]any{"type": "char_location", "cited_text": "Patient " + ph + " seen today.",
					"document_index": 0, "document_title": "Note on " + ph, "start_char_index": 0, "end_char_index": 10}}}},
			"stop_reason": "end_turn", "stop_sequence": nil, "usage": map[string]any{"input_tokens": 10, "output_tokens": 10}})
		return true
	})
	body := map[string]any{"model": model, "max_tokens": 64,
		"tools": []any{map[string]any{"name": "lookup", "description": "Chart lookup",
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{
				"who": map[string]any{"type": "string", "description": "e.g. Rosalind Vantongeren",
					"examples": []any{"Rosalind Vantongeren"}, "pattern": "^[A-Z]"}}}}},
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "document", "title": "Note on Rosalind Vantongeren", "citations": map[string]any{"enabled": true},
				"source": map[string]any{"type": "text", "media_type": "text/plain", "data": "Patient Rosalind Vantongeren seen today."}},
			map[string]any{"type": "text", "text": "Who is the note about?"}}}}}
	resp, rb := g.request("POST", "/llm/v1/messages", g.key, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, rb)
	}
	up := g.up.calls()
	sent := string(up[len(up)-1].Body)
	noCanary(t, "the upstream request", sent)
	if !strings.Contains(sent, `"pattern":"^[A-Z]"`) || !strings.Contains(sent, `"type":"object"`) {
		t.Errorf("the schema's structure changed: %s", sent)
	}
	var m anthropic.Message
	if err := json.Unmarshal(rb, &m); err != nil {
		t.Fatal(err)
	}
	cit := m.Content[0].Citations
	if len(cit) != 1 || cit[0].CitedText != "Patient Rosalind Vantongeren seen today." ||
		cit[0].DocumentTitle != "Note on Rosalind Vantongeren" {
		t.Fatalf("citation not restored: %s", rb)
	}
	// A PDF is refused unless the org allows documents.
	pdf := map[string]any{"model": model, "max_tokens": 64, "messages": []any{map[string]any{"role": "user",
		"content": []any{map[string]any{"type": "document", "source": map[string]any{"type": "base64",
			"media_type": "application/pdf", "data": "JVBERi0xLjQK"}}}}}}
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, pdf); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a PDF without the policy allowing documents: %d %s", resp.StatusCode, rb)
	}
}

// The org's rate limits: requests per minute refused with Retry-After
// before anything goes upstream; tokens per minute charged after each
// call, so the call that overdraws passes and the next waits.
func TestGatewayRateLimits(t *testing.T) {
	g := newGW(t)
	body := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": "Hello."}}}
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, RequestsPerMinute: 2})
	for i := range 2 {
		if resp, rb := g.request("POST", "/llm/v1/messages", g.key, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, resp.StatusCode, rb)
		}
	}
	calls := len(g.up.calls())
	resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body)
	if resp.StatusCode != http.StatusTooManyRequests || gatewayErr(t, rb) != "rate_limit_error" ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third call in a minute: %d %v %s", resp.StatusCode, resp.Header, rb)
	}
	if len(g.up.calls()) != calls {
		t.Fatal("the limited call reached the upstream")
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "denied"); d["reason"] != "org_rate_limited" {
		t.Errorf("denied event: %v", d)
	}

	// Tokens: the fake upstream reports a quarter of the body's bytes as
	// input tokens; 6 KB overdraws 1,000 tokens.
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, TokensPerMinute: 1000})
	big := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": strings.Repeat("fasting glucose 126. ", 300)}}}
	// (The org's buckets carry over a policy change, capped to the new
	// policy's minute.)
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, big); resp.StatusCode != http.StatusOK {
		t.Fatalf("the overdrawing call: %d %s", resp.StatusCode, rb)
	}
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, body); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after the token budget was spent: %d %s", resp.StatusCode, rb)
	}
}

// Calls made at once reserve their tokens before they go upstream: with
// 1,000 tokens a minute and calls that may each use about 450 (max_tokens
// 400 and a short prompt), two of four concurrent calls go upstream and
// two are refused with Retry-After, where a bucket charged only when
// calls end admitted all four. What a finished call did not use is given
// back, so calls pass again at once.
func TestGatewayTokenReservation(t *testing.T) {
	g := newGW(t)
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, TokensPerMinute: 1000})
	body := map[string]any{"model": model, "max_tokens": 400,
		"messages": []any{map[string]any{"role": "user", "content": "Fasting glucose 126 mg/dL today."}}}
	release := make(chan struct{})
	reached := make(chan struct{}, 8)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		reached <- struct{}{}
		<-release
		return false // then answer as the fake upstream does
	})
	type answer struct {
		status int
		retry  string
	}
	answers := make(chan answer, 4)
	for range 4 {
		go func() {
			resp, _ := g.request("POST", "/llm/v1/messages", g.key, body)
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	// Every call either reaches the upstream (and waits there) or is
	// answered; the count of each is known once all four are one or the
	// other.
	var upstream int
	var got []answer
	timeout := time.After(60 * time.Second)
	for upstream+len(got) < 4 {
		select {
		case <-reached:
			upstream++
		case a := <-answers:
			got = append(got, a)
		case <-timeout:
			t.Fatalf("after a minute: %d calls upstream, answers %v", upstream, got)
		}
	}
	close(release)
	for len(got) < 4 {
		got = append(got, <-answers)
	}
	var ok, limited int
	for _, a := range got {
		switch {
		case a.status == http.StatusOK:
			ok++
		case a.status == http.StatusTooManyRequests && a.retry != "":
			limited++
		default:
			t.Errorf("an answer: %d, Retry-After %q", a.status, a.retry)
		}
	}
	if upstream != 2 || ok != 2 || limited != 2 {
		t.Fatalf("4 calls at once: %d upstream, %d answered 200, %d refused 429; want 2, 2, 2", upstream, ok, limited)
	}
	// The two that passed used a few dozen tokens each: the rest is back.
	g.setOverride(nil)
	for i := range 2 {
		if resp, rb := g.request("POST", "/llm/v1/messages", g.key, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d after the first two settled: %d %s", i, resp.StatusCode, rb)
		}
	}

	// A max_tokens Ward could not reserve is refused before anything
	// leaves, and does not touch the bucket (2^63-1 wrapped the
	// reservation and locked the org out).
	calls := len(g.up.calls())
	for _, most := range []string{"9223372036854775807", "4096.0", `"400"`, "1e3", "-5"} {
		raw := json.RawMessage(`{"model":"` + model + `","max_tokens":` + most +
			`,"messages":[{"role":"user","content":"Hello."}]}`)
		if resp, rb := g.request("POST", "/llm/v1/messages", g.key, raw); resp.StatusCode != http.StatusBadRequest ||
			gatewayErr(t, rb) != "invalid_request_error" {
			t.Fatalf("max_tokens %s: %d %s", most, resp.StatusCode, rb)
		}
	}
	if len(g.up.calls()) != calls {
		t.Fatal("a refused max_tokens reached the upstream")
	}
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the refused max_tokens: %d %s", resp.StatusCode, rb)
	}
}

// A stream the client leaves before its usage arrived keeps its whole
// reservation (about 650 of 1,000 tokens a minute): the next such call
// waits. (Given back, as before, the bucket held about 990.)
func TestGatewayStreamLeftKeepsReservation(t *testing.T) {
	g := newGW(t)
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, TokensPerMinute: 1000})
	big := map[string]any{"model": model, "max_tokens": 600,
		"messages": []any{map[string]any{"role": "user", "content": "Fasting glucose 126 mg/dL today."}}}
	g.up.mu.Lock()
	g.up.hold = true
	g.up.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	c := g.client(g.key)
	s := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: model, MaxTokens: 600,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Fasting glucose 126 mg/dL today."))}})
	for s.Next() && s.Current().Type != "content_block_delta" {
	}
	cancel()
	s.Close()
	<-g.up.cancelled
	for !strings.Contains(g.logs.String(), `"complete":false`) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the settlement follows the log line
	g.up.mu.Lock()
	g.up.hold = false
	g.up.mu.Unlock()
	if resp, rb := g.request("POST", "/llm/v1/messages", g.key, big); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after a stream left before its usage: %d %s", resp.StatusCode, rb)
	}
}

// An overloaded upstream is retried before anything reaches the client;
// when it stays overloaded the client gets the 529 with x-should-retry:
// false, so the SDK's own retries do not multiply Ward's.
func TestGatewayOverloadRetry(t *testing.T) {
	g := newGW(t, withGatewayConfig(func(c *gateway.Config) { c.OverloadBackoff = 10 * time.Millisecond }))
	var n atomic.Int32
	fail := int32(2)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) <= fail {
			anthropicError(w, 529, "overloaded_error", "Overloaded")
			return true
		}
		return false
	})
	c := g.client(g.key)
	params := anthropic.MessageNewParams{Model: model, MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello from Rosalind Vantongeren."))}}
	m, err := c.Messages.New(context.Background(), params)
	if err != nil || n.Load() != 3 {
		t.Fatalf("two 529s then success: %v after %d upstream calls", err, n.Load())
	}
	const name = "Rosalind Vantongeren"
	if !strings.Contains(textOf(m), name) {
		t.Errorf("reply: %q", textOf(m))
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "success"); d["upstream_retries"] != float64(2) {
		t.Errorf("retries not in the event: %v", d)
	}

	// Overloaded throughout: three attempts, then the 529 with
	// x-should-retry: false.
	n.Store(0)
	fail = 100
	var resp *http.Response
	_, err = c.Messages.New(context.Background(), params, option.WithResponseInto(&resp))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 529 || ae.Response.Header.Get("X-Should-Retry") != "false" || n.Load() != 3 {
		t.Fatalf("overloaded throughout: %v, %d upstream calls", err, n.Load())
	}

	// A stream whose first event is an overloaded error is retried too.
	n.Store(0)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n")
			return true
		}
		return false
	})
	s := c.Messages.NewStreaming(context.Background(), params)
	var got strings.Builder
	for s.Next() {
		if ev := s.Current(); ev.Type == "content_block_delta" {
			got.WriteString(ev.Delta.Text)
		}
	}
	if err := s.Err(); err != nil || n.Load() != 2 || !strings.Contains(got.String(), name) {
		t.Fatalf("stream retried after an overloaded first event: %v, %d calls, %q", err, n.Load(), got.String())
	}
}

// Every change to the subprocessor registry is in the instance log, with
// what gates calls and who made it.
func TestGatewayRegistryAudited(t *testing.T) {
	g := newGW(t)
	instance := uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff")
	if n := g.auditCount(instance, "gateway.provider.register", "success"); n < 1 {
		t.Fatalf("%d register events", n)
	}
	g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/v2.pdf",
		ZeroRetention: false})
	d := g.lastDetails(instance, "gateway.provider.update", "success")
	if d["provider"] != "anthropic" || d["zero_retention"] != false || d["baa_ref"] != "contracts/v2.pdf" || d["by"] == "" {
		t.Fatalf("update event: %v", d)
	}
	if _, err := g.env.Super.Pool.Exec(context.Background(), `delete from app.gateway_providers where name = 'anthropic'`); err != nil {
		t.Fatal(err)
	}
	if n := g.auditCount(instance, "gateway.provider.remove", "success"); n != 1 {
		t.Fatalf("%d remove events", n)
	}
}

// The org's rate limits hold across nodes (migration 00170): two servers
// on one database share the org's buckets. Each node kept its own before,
// so with two an org made twice the calls its policy allowed. Calls
// alternate between the nodes through the official SDK: four of eight
// pass a limit of four a minute, and the refusals come from both nodes,
// with Retry-After, before anything goes upstream. Reservations are
// shared too: with 1,000 tokens a minute, calls of about 450 sent one
// after another, alternating nodes and held at the upstream, let the
// first two through and refuse the next two (a bucket per node let the
// third through).
func TestGatewayRateLimitsAcrossNodes(t *testing.T) {
	// Each node reads the policy on every call, so a change holds on both
	// at once (a node otherwise keeps it for the registry's TTL).
	g := newGW(t, withGatewayConfig(func(c *gateway.Config) { c.RegistryTTL = -1 }))
	ctx := context.Background()
	second := g.node()
	clients := []anthropic.Client{g.client(g.key), anthropic.NewClient(option.WithBaseURL(second+"/llm"),
		option.WithAPIKey(g.key), option.WithoutEnvironmentDefaults(), option.WithMaxRetries(0))}
	params := anthropic.MessageNewParams{Model: model, MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Fasting glucose 126 mg/dL."))}}
	limited := func(err error) bool {
		var ae *anthropic.Error
		return errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests &&
			string(ae.Type()) == "rate_limit_error" && ae.Response.Header.Get("Retry-After") != ""
	}

	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, RequestsPerMinute: 4})
	calls := len(g.up.calls())
	var passed, refused [2]int
	for i := range 8 {
		switch _, err := clients[i%2].Messages.New(ctx, params); {
		case err == nil:
			passed[i%2]++
		case limited(err):
			refused[i%2]++
		default:
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if passed[0]+passed[1] != 4 || refused[0] == 0 || refused[1] == 0 {
		t.Fatalf("8 calls over two nodes under 4 a minute: passed %v, refused %v; want 4 in all, refusals on both",
			passed, refused)
	}
	if n := len(g.up.calls()) - calls; n != 4 {
		t.Fatalf("%d calls reached the upstream, want 4", n)
	}

	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, TokensPerMinute: 1000})
	params.MaxTokens = 400
	release := make(chan struct{})
	reached := make(chan struct{}, 8)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		reached <- struct{}{}
		<-release
		return false
	})
	answers := make(chan error, 4)
	var upstream []int
	for i := range 4 {
		go func() {
			_, err := clients[i%2].Messages.New(ctx, params)
			answers <- err
		}()
		// The call is held at the upstream or answered before the next.
		select {
		case <-reached:
			upstream = append(upstream, i)
		case err := <-answers:
			if !limited(err) {
				t.Fatalf("call %d: %v, want 429 rate_limit_error with Retry-After", i, err)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("call %d neither reached the upstream nor was answered in a minute", i)
		}
	}
	close(release)
	for range upstream {
		if err := <-answers; err != nil {
			t.Errorf("a call held at the upstream: %v", err)
		}
	}
	if !slices.Equal(upstream, []int{0, 1}) {
		t.Fatalf("calls of about 450 tokens over two nodes under 1,000 a minute: calls %v reached the upstream, "+
			"want [0 1]", upstream)
	}
}
