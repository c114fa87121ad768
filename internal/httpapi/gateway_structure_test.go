package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestGatewayStructure: no member of a request leaves Ward unexamined. A
// review sent a named patient's identifiers in every field the gateway used
// to pass as structure (metadata's other members, tool_choice, thinking,
// container, thinking blocks, object keys, schema keywords, tool names and
// ids, cache_control, the anthropic-* headers) and the upstream received
// them byte for byte. Now prose there is de-identified, and what Ward must
// send as it is (names, ids, keys, enums, thinking, headers) is refused when
// it holds an identifier; legitimate structure still passes unchanged.
func TestGatewayStructure(t *testing.T) {
	g := newGW(t)
	patient := []string{"Ward-Patient", g.patient.String()}
	sig := "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDYTm5iWQnQOZbO8MiMJq1Sm9vNPBfzqxXQk7h5hoAe/Gp+7cXo8dmGgWTpFeTh8cQnK2f5Y4h9uWgGuwk"
	// an ordinary tool conversation with extended thinking: everything in
	// it is structure that must reach the upstream as it was sent
	base := func() map[string]any {
		return map[string]any{
			"model": model, "max_tokens": 256,
			"thinking":    map[string]any{"type": "enabled", "budget_tokens": 1024},
			"tool_choice": map[string]any{"type": "tool", "name": "lookup_labs"},
			"metadata":    map[string]any{"user_id": "user-7f3a"},
			"container":   "container_011CPR5CNjB747bTd36fQLFk",
			"tools": []any{map[string]any{"name": "lookup_labs", "description": "Look up a patient's labs.",
				"input_schema": map[string]any{"type": "object", "properties": map[string]any{
					"test": map[string]any{"type": "string", "pattern": "^[A-Z0-9]{2,8}$"}}},
				"cache_control": map[string]any{"type": "ephemeral", "ttl": "5m"}}},
			"messages": []any{
				map[string]any{"role": "user", "content": "What was the last potassium of Rosalind Vantongeren?"},
				map[string]any{"role": "assistant", "content": []any{
					map[string]any{"type": "thinking", "thinking": "The user asks about [[PERSON_1]]'s potassium; call lookup_labs.", "signature": sig},
					map[string]any{"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw"},
					map[string]any{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "lookup_labs",
						"input": map[string]any{"test": "K"}}}},
				map[string]any{"role": "user", "content": []any{
					map[string]any{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "K 4.1 mmol/L"}}},
			},
		}
	}
	resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, base(), append(patient,
		"anthropic-beta", "interleaved-thinking-2025-05-14, prompt-caching-2024-07-31")...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the ordinary request: %d %s", resp.StatusCode, rb)
	}
	calls := g.up.calls()
	up := calls[len(calls)-1]
	for _, s := range []string{sig, "toolu_01A09q90qw90lq917835lq9", `"lookup_labs"`, "container_011CPR5CNjB747bTd36fQLFk",
		`"^[A-Z0-9]{2,8}$"`, `"ttl":"5m"`, `"budget_tokens":1024`, "[[PERSON_1]]'s potassium"} {
		if !bytes.Contains(up.Body, []byte(s)) {
			t.Errorf("the upstream request lost %s: %s", s, up.Body)
		}
	}
	if v := up.Header.Get("Anthropic-Beta"); v != "interleaved-thinking-2025-05-14,prompt-caching-2024-07-31" {
		t.Errorf("anthropic-beta upstream %q", v)
	}
	noCanary(t, "the ordinary request upstream", string(up.Body))

	// set returns the base request with one member replaced; path is a
	// list of keys and indexes
	set := func(v any, path ...any) map[string]any {
		b := base()
		var cur any = b
		for i, p := range path {
			last := i == len(path)-1
			switch k := p.(type) {
			case string:
				if last {
					cur.(map[string]any)[k] = v
				} else {
					cur = cur.(map[string]any)[k]
				}
			case int:
				if last {
					cur.([]any)[k] = v
				} else {
					cur = cur.([]any)[k]
				}
			}
		}
		return b
	}
	thinking := func(k string) []any {
		return []any{"messages", 1, "content", map[string]int{"thinking": 0, "redacted_thinking": 1}[k]}
	}
	cases := []struct {
		name   string
		body   map[string]any
		hdr    []string
		refuse bool // else: sent, de-identified
	}{
		{name: "metadata, another member", body: set("Rosalind Vantongeren DOB 1962-07-14", "metadata", "note")},
		{name: "tool_choice, another member", body: set("Rosalind Vantongeren 617-555-0142", "tool_choice", "extra")},
		{name: "thinking config, another member", body: set("rosalind.v@example.org", "thinking", "x")},
		{name: "container as prose", body: set("Rosalind Vantongeren MRN-884213", "container")},
		{name: "schema $comment", body: set("patient Rosalind Vantongeren 617-555-0142", "tools", 0, "input_schema", "$comment")},
		{name: "thinking block", refuse: true, body: set("Rosalind Vantongeren lives at 12 Quince Lane", append(thinking("thinking"), "thinking")...)},
		{name: "thinking signature", refuse: true, body: set("Rosalind Vantongeren", append(thinking("thinking"), "signature")...)},
		{name: "redacted thinking", refuse: true, body: set("Rosalind Vantongeren 617-555-0142", append(thinking("redacted_thinking"), "data")...)},
		{name: "tool input key", refuse: true, body: set(map[string]any{"Rosalind Vantongeren": "K"}, "messages", 1, "content", 2, "input")},
		{name: "schema property name", refuse: true, body: set(map[string]any{"Vantongeren": map[string]any{"type": "string"}},
			"tools", 0, "input_schema", "properties")},
		{name: "schema pattern", refuse: true, body: set("Rosalind Vantongeren", "tools", 0, "input_schema", "properties", "test", "pattern")},
		{name: "tool name", refuse: true, body: set("Rosalind_Vantongeren", "tools", 0, "name")},
		{name: "tool_choice name", refuse: true, body: set("Rosalind_Vantongeren", "tool_choice", "name")},
		{name: "tool_use id", refuse: true, body: set("toolu_Vantongeren", "messages", 1, "content", 2, "id")},
		{name: "tool_result id", refuse: true, body: set("toolu_884213", "messages", 2, "content", 0, "tool_use_id")},
		{name: "cache_control ttl", refuse: true, body: set("MRN-884213", "tools", 0, "cache_control", "ttl")},
		{name: "identifier-like container", refuse: true, body: set("rosalind_884213", "container")},
		{name: "metadata key", refuse: true, body: set("x", "metadata", "Vantongeren")},
		{name: "top-level key", refuse: true, body: set(1, "Rosalind_Vantongeren")},
		{name: "message member", refuse: true, body: set("Rosalind_Vantongeren", "messages", 0, "name")},
		{name: "message member, prose", body: set("note on Rosalind Vantongeren", "messages", 0, "note")},
		{name: "block member key", refuse: true, body: set("x", "messages", 1, "content", 2, "Vantongeren")},
		{name: "anthropic-beta", refuse: true, body: base(), hdr: []string{"anthropic-beta", "Rosalind Vantongeren 617-555-0142"}},
		{name: "anthropic-version", refuse: true, body: base(), hdr: []string{"anthropic-version", "1962-07-14"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(g.up.calls())
			resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, c.body, append(patient, c.hdr...)...)
			after := g.up.calls()
			if c.refuse {
				noCanary(t, "the refusal", string(rb))
				if resp.StatusCode != http.StatusBadRequest || gatewayErr(t, rb) != "invalid_request_error" {
					t.Fatalf("%d %s, want 400 invalid_request_error", resp.StatusCode, rb)
				}
				if len(after) != before {
					t.Fatalf("the refused call reached the upstream: %s", after[len(after)-1].Body)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || len(after) != before+1 {
				t.Fatalf("%d %s, want 200 and one upstream call", resp.StatusCode, rb)
			}
			got := after[len(after)-1]
			hdr, _ := json.Marshal(got.Header)
			noCanary(t, "the upstream request", string(got.Body)+string(hdr))
			if !strings.Contains(string(got.Body), "[[") {
				t.Errorf("nothing was de-identified: %s", got.Body)
			}
		})
	}
	noCanary(t, "the server log", g.logs.String())
}
