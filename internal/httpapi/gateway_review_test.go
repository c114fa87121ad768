package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/gateway"
)

// TestGatewayReviewLeaks: the shapes an attacker's review of the gateway
// sent past it, without a Ward-Patient header (so only what the engine
// finds on its own protects them). Each reached the upstream verbatim
// before: members listed as structure that no case read (a tool_result's
// is_error, a document's citations, a text source's other members, a
// citation's indexes and url), a repeated key inside a field whose strings
// did not change (the original bytes went, both values in them), schema
// keywords that are neither prose nor structure ("example"), object keys
// holding a name and a date, a tool type that is not a string. Now prose
// there is de-identified and what cannot be rewritten is refused; errors
// do not repeat the caller's text.
func TestGatewayReviewLeaks(t *testing.T) {
	g := newGW(t)
	const phi = "Rosalind Vantongeren DOB 07/14/1962, cell 617-555-0142"
	msg := func(blocks ...string) json.RawMessage {
		return json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":[` +
			strings.Join(blocks, ",") + `]}]}`)
	}
	cases := []struct {
		name   string
		body   json.RawMessage
		refuse bool // else: sent, with nothing of the patient in it
		deid   bool // sent: placeholders expected upstream
	}{
		{name: "tool_result is_error as text", deid: true,
			body: msg(`{"type":"tool_result","tool_use_id":"toolu_01","content":"ok","is_error":"` + phi + `"}`)},
		{name: "citation url", deid: true,
			body: msg(`{"type":"text","text":"see chart","citations":[{"type":"char_location","cited_text":"x",` +
				`"document_index":0,"start_char_index":0,"end_char_index":1,` +
				`"url":"https://portal.example/chart?pt=Rosalind+Vantongeren&dob=1962-07-14"}]}`)},
		{name: "citation index as text", refuse: true,
			body: msg(`{"type":"text","text":"x","citations":[{"type":"char_location","cited_text":"x",` +
				`"start_char_index":"` + phi + `"}]}`)},
		{name: "text source, another member", deid: true,
			body: msg(`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"labs",` +
				`"note":"` + phi + `"}}`)},
		{name: "document citations", deid: true,
			body: msg(`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"labs"},` +
				`"citations":{"enabled":true,"x":"` + phi + `"}}`)},
		{name: "repeated key in cache_control",
			body: msg(`{"type":"text","text":"hi","cache_control":{"type":"ephemeral","ttl":"` + phi + `","ttl":"5m"}}`)},
		{name: "repeated key in an unknown field",
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"context_management":{"edits":[{"type":"clear","keep":"` + phi + `","keep":"all"}]}}`)},
		{name: "schema example", deid: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"name":"lookup","input_schema":{"type":"object","properties":{"pt":{"type":"string",` +
				`"example":"` + phi + `","x-note":"` + phi + `"}}}}]}`)},
		{name: "tool input key", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"assistant","content":[` +
				`{"type":"tool_use","id":"toolu_01","name":"lookup","input":{"Rosalind Vantongeren 07/14/1962":{"a1c":7.2}}}]},` +
				`{"role":"user","content":"?"}]}`)},
		{name: "schema property name", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"name":"lookup","input_schema":{"type":"object","properties":{"Rosalind Vantongeren 07/14/1962":{"type":"string"}}}}]}`)},
		{name: "schema default object key", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"name":"lookup","input_schema":{"type":"object","default":{"Rosalind Vantongeren 07/14/1962":true}}}]}`)},
		{name: "schema property named title", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"name":"lookup","input_schema":{"type":"object","properties":{"title":{"type":"object",` +
				`"properties":{"Rosalind Vantongeren 07/14/1962":{"type":"string"}}}}}}]}`)},
		{name: "schema required phrase", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"name":"lookup","input_schema":{"type":"object","required":["Rosalind Vantongeren 07/14/1962"]}}]}`)},
		{name: "tool type not a string", refuse: true,
			body: json.RawMessage(`{"model":"` + model + `","max_tokens":64,"messages":[{"role":"user","content":"hi"}],` +
				`"tools":[{"type":{"n":"` + phi + `"},"name":"t","input_schema":{"type":"object"}}]}`)},
		{name: "block type, echoed no more", refuse: true, body: msg(`{"type":"` + phi + `","text":"x"}`)},
		{name: "document source type, echoed no more", refuse: true,
			body: msg(`{"type":"document","source":{"type":"` + phi + `","data":"x"}}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(g.up.calls())
			resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, c.body)
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
			up := string(after[len(after)-1].Body)
			noCanary(t, "the upstream request", up)
			if c.deid && !strings.Contains(up, "[[") {
				t.Errorf("nothing was de-identified: %s", up)
			}
			if strings.Contains(up, `"ttl":"5m"`) != strings.Contains(c.name, "cache_control") {
				t.Errorf("the repeated key's last value: %s", up)
			}
		})
	}
	noCanary(t, "the server log", g.logs.String())
}

// TestGatewayUpstreamRedirectAndHeaders: an upstream (or anything on its
// path) that answers with a redirect does not get the prompt, or Ward's
// key, sent on to the Location: the call fails as an upstream failure,
// audited. The upstream's rate-limit headers, which count the one account
// every org shares, are not relayed to a tenant.
func TestGatewayUpstreamRedirectAndHeaders(t *testing.T) {
	g := newGW(t)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)
	body := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": "Summarise the labs of Rosalind Vantongeren."}}}

	g.up.mu.Lock()
	g.up.override = func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, other.URL+"/v1/messages", http.StatusTemporaryRedirect)
		return true
	}
	g.up.mu.Unlock()
	resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body)
	if resp.StatusCode < 500 || resp.Header.Get("Location") != "" {
		t.Fatalf("redirected upstream: %d %v %s, want a 5xx and no Location", resp.StatusCode, resp.Header, rb)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed: %d requests reached the Location", n)
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "failure"); d["upstream_status"] != float64(http.StatusTemporaryRedirect) {
		t.Errorf("the failure's details: %v", d)
	}

	g.up.mu.Lock()
	g.up.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "4242")
		w.Header().Set("Anthropic-Ratelimit-Tokens-Limit", "8000000")
		return false // then the usual reply
	}
	g.up.mu.Unlock()
	resp, rb = g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, rb)
	}
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "anthropic-ratelimit-") {
			t.Errorf("the upstream account's %s reached the client", k)
		}
	}
	if resp.Header.Get("Request-Id") == "" {
		t.Errorf("request-id not relayed: %v", resp.Header)
	}

	// A model name the gate refuses is the caller's text: not in the event.
	g.up.mu.Lock()
	g.up.override = nil
	g.up.mu.Unlock()
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Models: []string{model}})
	body["model"] = "Rosalind.Vantongeren.1962-07-14"
	resp, rb = g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an unknown model: %d %s", resp.StatusCode, rb)
	}
	d := g.lastDetails(g.o.ID, "ai.invoke", "denied")
	raw, _ := json.Marshal(d)
	noCanary(t, "the refusal's audit details", string(raw))
	if _, ok := d["model"]; ok || d["reason"] == nil {
		t.Errorf("the refusal's details: %s", raw)
	}
}

// TestGatewayKeptDPoPPatientPool: a gateway call naming a patient, from a
// DPoP-bound session kept from an earlier check, confirms the principal
// (its proof's jti recorded, so on a connection of its own) before it takes
// the connection of the record's read: it never holds one connection while
// it waits for another. Before, with every connection of the pool held by
// such calls, each waited for one more forever; with a pool of one, the
// first call did.
func TestGatewayKeptDPoPPatientPool(t *testing.T) {
	g := newGW(t, withAppPool(1))
	body := map[string]any{"model": model, "max_tokens": 64,
		"messages": []any{map[string]any{"role": "user", "content": "Summarise the labs of Rosalind Vantongeren."}}}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	before := g.auth.CheckStats()
	for i := range 3 { // the first call's full check keeps the principal for the next two
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		req, err := http.NewRequestWithContext(ctx, "POST", g.srv.URL+"/llm/v1/messages", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ward-Patient", g.patient.String())
		g.authorize(req, g.o.Prov.Token)
		if req.Header.Get("DPoP") == "" {
			t.Fatal("the provider's session is not DPoP-bound: the test needs a bound one")
		}
		resp, err := g.srv.Client().Do(req)
		if err != nil {
			cancel()
			t.Fatalf("call %d: %v (a request holding the only connection waited for another)", i, err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, resp.StatusCode, rb)
		}
	}
	if st := g.auth.CheckStats(); st.Kept-before.Kept < 2 {
		t.Fatalf("the later calls were not served with the kept principal: %+v → %+v", before, st)
	}
}

// TestGatewayReviewLegitimate: what real clients send in the shapes the
// review's fixes now read passes, as it was sent: a schema generator's
// $schema, property names with spaces, non-ASCII letters or a keyword's
// name, required and enum lists, anyOf and $defs; is_error true; a
// document's citations switch; a resent reply's citations (page and
// content-block locations, numbers and a base64 encrypted_index); a tool
// input key that is one of Ward's placeholders, as a non-streamed reply
// leaves it.
func TestGatewayReviewLegitimate(t *testing.T) {
	g := newGW(t)
	body := json.RawMessage(`{"model":"` + model + `","max_tokens":64,
	  "tools":[{"name":"record_vitals","description":"Record vitals.","input_schema":{
	    "$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
	    "required":["first name","número"],
	    "properties":{"first name":{"type":"string"},"número":{"type":"integer"},"title":{"type":"string"},
	      "unit":{"enum":["mmHg","kPa"]},"when":{"anyOf":[{"type":"string","format":"date-time"},{"$ref":"#/$defs/ts"}]}},
	    "$defs":{"ts":{"type":"integer","minimum":0}}}}],
	  "messages":[
	    {"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"BP 132/84."},
	      "title":"Vitals","citations":{"enabled":true}},{"type":"text","text":"Record the BP."}]},
	    {"role":"assistant","content":[
	      {"type":"text","text":"BP was 132/84.","citations":[
	        {"type":"page_location","cited_text":"BP 132/84.","document_index":0,"document_title":"Vitals","start_page_number":1,"end_page_number":2},
	        {"type":"content_block_location","cited_text":"BP 132/84.","document_index":0,"start_block_index":0,"end_block_index":1,
	         "encrypted_index":"Eo8BCioIAhgBIiQ0NGFlNjc2Yy05NThmLTRkNjgtOTEwOC1h"}]},
	      {"type":"tool_use","id":"toolu_01","name":"record_vitals","input":{"[[PERSON_1]]":{"bp":"132/84"}}}]},
	    {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"saved","is_error":true}]}]}`)
	resp, rb := g.request("POST", "/llm/v1/messages", g.o.Prov.Token, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, rb)
	}
	calls := g.up.calls()
	up := string(calls[len(calls)-1].Body)
	for _, want := range []string{`"$schema":"https://json-schema.org/draft/2020-12/schema"`, `"first name":{"type":"string"}`,
		`"número":{"type":"integer"}`, `"title":{"type":"string"}`, `"required":["first name","número"]`,
		`"$ref":"#/$defs/ts"`, `"format":"date-time"`, `"citations":{"enabled":true}`, `"is_error":true`,
		`"start_page_number":1`, `"encrypted_index":"Eo8BCioIAhgBIiQ0NGFlNjc2Yy05NThmLTRkNjgtOTEwOC1h"`,
		`"type":"content_block_location"`, `"[[PERSON_1]]":{"bp":"132/84"}`, `"additionalProperties":false`} {
		if !strings.Contains(up, want) {
			t.Errorf("the upstream request lost %s: %s", want, up)
		}
	}
}
