package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Nothing reaches the upstream as the client wrote it unless Ward knows it
// carries no text: fields newer than Ward (or a client's own), members of
// blocks Ward does not rewrite, citations (which Ward re-identifies in the
// reply, so a resent history carries them back) and the query string.
// Configuration values (enums, identifiers, numbers) pass unchanged.
func TestGatewayEveryFieldDeidentified(t *testing.T) {
	g := newGW(t)
	body := map[string]any{
		"model": model, "max_tokens": 64, "temperature": 0.2, "service_tier": "auto",
		"x_notes":       "Patient Rosalind Vantongeren, phone 617-555-0142",
		"output_config": map[string]any{"effort": "high", "note": "for Rosalind Vantongeren"},
		"messages": []any{
			map[string]any{"role": "user", "content": "Summarise the chart of Rosalind Vantongeren, 617-555-0142."},
			map[string]any{"role": "assistant", "content": []any{map[string]any{
				"type": "text", "text": "Here is the summary.",
				"citations": []any{map[string]any{"type": "char_location", "cited_text": "Rosalind Vantongeren, DOB 07/14/1962",
					"document_index": 0, "document_title": "Chart of Rosalind Vantongeren", "start_char_index": 0,
					"end_char_index": 36}},
			}}},
			map[string]any{"role": "user", "content": []any{map[string]any{
				"type": "text", "text": "Thanks.",
				"cache_control": map[string]any{"type": "ephemeral", "ttl": "1h", "note": "Rosalind Vantongeren 617-555-0142"},
				"x_block_note":  "rosalind.v@example.org",
			}}},
		},
	}
	resp, rb := g.request("POST", "/llm/v1/messages?beta=true", g.key, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, rb)
	}
	up := g.up.calls()
	last := up[len(up)-1]
	noCanary(t, "the upstream request", string(last.Body))
	if last.Path != "/v1/messages?beta=true" {
		t.Errorf("upstream path %q", last.Path)
	}
	var sent map[string]any
	if err := json.Unmarshal(last.Body, &sent); err != nil {
		t.Fatal(err)
	}
	// configuration passes as it is; the prose beside it is replaced
	oc, _ := sent["output_config"].(map[string]any)
	if sent["service_tier"] != "auto" || sent["temperature"] != 0.2 || oc["effort"] != "high" ||
		!strings.Contains(oc["note"].(string), "[[PERSON_") || !strings.Contains(sent["x_notes"].(string), "[[PERSON_") {
		t.Errorf("top-level fields upstream: service_tier %v temperature %v output_config %v x_notes %v",
			sent["service_tier"], sent["temperature"], oc, sent["x_notes"])
	}
	msgs := sent["messages"].([]any)
	cit := msgs[1].(map[string]any)["content"].([]any)[0].(map[string]any)["citations"].([]any)[0].(map[string]any)
	if cit["document_index"] != 0.0 || cit["end_char_index"] != 36.0 || cit["type"] != "char_location" ||
		!strings.Contains(cit["cited_text"].(string), "[[PERSON_") {
		t.Errorf("citation upstream: %v", cit)
	}
	blk := msgs[2].(map[string]any)["content"].([]any)[0].(map[string]any)
	cc := blk["cache_control"].(map[string]any)
	if cc["type"] != "ephemeral" || cc["ttl"] != "1h" || !strings.Contains(cc["note"].(string), "[[PERSON_") ||
		!strings.Contains(blk["x_block_note"].(string), "[[EMAIL_") {
		t.Errorf("block members upstream: %v", blk)
	}
	// One numbering over the whole request: the name has one placeholder
	// everywhere.
	if n := strings.Count(string(last.Body), "[[PERSON_1]]"); n < 5 || strings.Contains(string(last.Body), "[[PERSON_3]]") {
		t.Errorf("the name took %d [[PERSON_1]] placeholders: %s", n, last.Body)
	}

	// A query parameter other than beta=true is refused before anything
	// leaves; the error does not quote it.
	before := len(g.up.calls())
	for _, q := range []string{"?patient=Rosalind%20Vantongeren", "?beta=true&x=617-555-0142", "?beta=false", "?beta=true&beta=true"} {
		resp, rb = g.request("POST", "/llm/v1/messages"+q, g.key, body)
		if resp.StatusCode != http.StatusBadRequest || gatewayErr(t, rb) != "invalid_request_error" {
			t.Errorf("query %s: %d %s", q, resp.StatusCode, rb)
		}
		noCanary(t, "the error", string(rb))
	}
	if len(g.up.calls()) != before {
		t.Error("a refused query reached the upstream")
	}
}
