package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/shared/constant"

	"github.com/wardhq/ward/internal/gateway"
)

// wantSDKError checks err is the SDK's typed error with status and code
// (error.details.error_code).
func wantSDKError(t *testing.T, where string, err error, status int, code string) {
	t.Helper()
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != status || string(ae.ErrorCode()) != code {
		t.Fatalf("%s: want %d %s, got %v", where, status, code, err)
	}
}

// wantBack checks s holds each value (restored) and no placeholder.
func wantBack(t *testing.T, where, s string, values ...string) {
	t.Helper()
	for _, v := range values {
		if !strings.Contains(s, v) {
			t.Errorf("%s: %q not restored in %q", where, v, s)
		}
	}
	if placeholderRE.MatchString(s) {
		t.Errorf("%s: a placeholder is left in %q", where, s)
	}
}

// upstreamBodies is every body the upstream received, decoded.
func (g *gw) upstreamBodies() []map[string]json.RawMessage {
	var out []map[string]json.RawMessage
	for _, c := range g.up.calls() {
		var m map[string]json.RawMessage
		if json.Unmarshal(c.Body, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A message thread keeps the conversation at the upstream: each turn sends
// only its new messages. Ward numbers placeholders over the request it
// sees, so a later turn's [[PERSON_1]] could be someone other than the
// history's, and the reply would be restored to the wrong person. Ward
// refuses the thread field with the API's own code for a request a thread
// cannot take, thread_unsupported_request: the SDK's thread (the tool
// runner's among them) then sends the whole history, unthreaded, and works
// through Ward; a thread that asked for errors gets the SDK's typed error.
func TestGatewayMessageThreads(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	c := g.client(g.key)
	thread := c.Beta.Messages.NewThread(anthropic.BetaMessageThreadCreateParams{Model: model, MaxTokens: 256,
		System:                     []anthropic.BetaTextBlockParam{{Text: "You help the care team."}},
		UnsupportedRequestBehavior: anthropic.BetaMessageThreadUnsupportedRequestBehaviorContinueUnthreaded})
	turn := func(text string) *anthropic.BetaMessage {
		t.Helper()
		m, err := thread.Send(ctx, anthropic.BetaMessageThreadSendParams{Messages: []anthropic.BetaMessageParam{
			anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock(text))}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := turn("Rosalind Vantongeren, MRN-884213, reports fasting glucose 126 mg/dL.")
	second := turn("Her phone is 617-555-0142 and her e-mail rosalind.v@example.org.")
	var text strings.Builder
	for _, b := range append(first.Content, second.Content...) {
		text.WriteString(b.Text)
	}
	wantBack(t, "the thread's replies", text.String(), "Rosalind Vantongeren", "884213", "617-555-0142", "rosalind.v@example.org")
	bodies := g.upstreamBodies()
	if len(bodies) != 2 {
		t.Fatalf("the upstream got %d calls, want 2", len(bodies))
	}
	for i, b := range bodies {
		if _, ok := b["thread"]; ok {
			t.Errorf("call %d went upstream with a thread: %s", i, b["thread"])
		}
	}
	var last []json.RawMessage
	_ = json.Unmarshal(bodies[1]["messages"], &last)
	if len(last) != 3 || !strings.Contains(string(bodies[1]["messages"]), "[[PERSON_1]]") {
		t.Errorf("the second turn went without its history: %s", bodies[1]["messages"])
	}

	strict := c.Beta.Messages.NewThread(anthropic.BetaMessageThreadCreateParams{Model: model, MaxTokens: 256})
	_, err := strict.Send(ctx, anthropic.BetaMessageThreadSendParams{Messages: []anthropic.BetaMessageParam{
		anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Rosalind Vantongeren"))}})
	wantSDKError(t, "a thread that wants errors", err, http.StatusBadRequest, "thread_unsupported_request")
	if n := len(g.up.calls()); n != 2 {
		t.Errorf("a refused thread reached the upstream: %d calls", n)
	}
	noCanary(t, "the upstream requests", g.up.all())
}

// fallbacks let the upstream answer with other models when the requested
// one declines: each is a model the call may reach, so each passes the
// gate the request's model passes (the registry's list and the org's), and
// "default", the upstream's own choice, only where no list narrows the
// models.
func TestGatewayFallbackModels(t *testing.T) {
	g := newGW(t, withGatewayConfig(func(c *gateway.Config) { c.RegistryTTL = -1 }))
	ctx := context.Background()
	c := g.client(g.key)
	call := func(f anthropic.BetaFallbacksParamUnion) error {
		_, err := c.Beta.Messages.New(ctx, anthropic.BetaMessageNewParams{Model: model, MaxTokens: 64, Fallbacks: f,
			Betas:    []anthropic.AnthropicBeta{"server-side-fallback-2026-07-01"},
			Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Rosalind Vantongeren"))}})
		return err
	}
	to := func(models ...string) anthropic.BetaFallbacksParamUnion {
		var fs []anthropic.BetaFallbackParam
		for _, m := range models {
			fs = append(fs, anthropic.BetaFallbackParam{Model: anthropic.Model(m), MaxTokens: anthropic.Int(32)})
		}
		return anthropic.BetaFallbacksParamUnion{OfBetaFallbackArray: fs}
	}
	def := anthropic.BetaFallbacksParamUnion{OfDefault: constant.ValueOf[constant.Default]()}
	provider := func(models ...string) {
		g.register(gateway.Provider{BAASignedAt: time.Now().Add(-time.Hour), BAARef: "contracts/anthropic-baa.pdf",
			ZeroRetention: true, Models: models})
	}

	provider(model)
	sent := len(g.up.calls())
	wantSDKError(t, "a fallback the registry does not list", call(to(model, "claude-unlisted-1")), http.StatusForbidden, "model_not_allowed")
	wantSDKError(t, "default under the registry's list", call(def), http.StatusForbidden, "model_not_allowed")
	provider()
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}, Models: []string{model}})
	wantSDKError(t, "a fallback the org does not enable", call(to("claude-unlisted-1")), http.StatusForbidden, "model_not_enabled")
	wantSDKError(t, "default under the org's list", call(def), http.StatusForbidden, "model_not_enabled")
	if n := len(g.up.calls()); n != sent {
		t.Fatalf("refused fallbacks reached the upstream: %d calls", n-sent)
	}
	if err := call(to(model)); err != nil {
		t.Fatalf("an allowed fallback: %v", err)
	}
	g.setPolicy(gateway.Policy{Providers: []string{"anthropic"}})
	if err := call(def); err != nil {
		t.Fatalf("default with no list: %v", err)
	}
	if got := g.upstreamBodies(); string(got[len(got)-2]["fallbacks"]) != `[{"max_tokens":32,"model":"`+model+`"}]` ||
		string(got[len(got)-1]["fallbacks"]) != `"default"` {
		t.Errorf("fallbacks upstream: %s, %s", got[len(got)-2]["fallbacks"], got[len(got)-1]["fallbacks"])
	}
	if d := g.lastDetails(g.o.ID, "ai.invoke", "denied"); d["reason"] == nil {
		t.Errorf("a refused fallback is not audited: %v", d)
	}
}

// The beta API's context management compacts a long conversation into a
// compaction block the client sends back with its history: signed, as a
// thinking block is, it passes untouched (it was written from
// de-identified turns), its opaque members checked; the compaction config
// and context_management are configuration, their prose de-identified.
// A fallback block, and tool_addition and tool_removal blocks, pass too.
func TestGatewayCompactionBlocks(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	c := g.client(g.key)
	summary := "[[PERSON_1]] reported fasting glucose 126 mg/dL; metformin started."
	params := anthropic.BetaMessageNewParams{Model: model, MaxTokens: 256,
		Betas: []anthropic.AnthropicBeta{"compact-2026-01-12"},
		Tools: []anthropic.BetaToolUnionParam{{OfTool: &anthropic.BetaToolParam{Name: "lookup",
			InputSchema: anthropic.BetaToolInputSchemaParam{Properties: map[string]any{"who": map[string]any{"type": "string"}}}}}},
		Messages: []anthropic.BetaMessageParam{
			anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Rosalind Vantongeren, MRN-884213, is on metformin.")),
			{OfAssistant: &anthropic.BetaAssistantMessageParam{Content: []anthropic.BetaContentBlockParamUnion{
				{OfCompaction: &anthropic.BetaCompactionBlockParam{Content: anthropic.String(summary),
					EncryptedContent: anthropic.String("RW5jcnlwdGVkQ29udGV4dA=="), Signature: anthropic.String("c2lnbmF0dXJl")}},
				anthropic.NewBetaTextBlock("Noted.")}}},
			anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Call her on 617-555-0142.")),
		}}
	params.ContextManagement = anthropic.BetaContextManagementConfigParam{Edits: []anthropic.BetaContextManagementConfigEditUnionParam{
		{OfCompact20260112: &anthropic.BetaCompact20260112EditParam{
			Instructions: anthropic.String("Keep what Rosalind Vantongeren was prescribed.")}}}}
	m, err := c.Beta.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, b := range m.Content {
		text.WriteString(b.Text)
	}
	if !strings.Contains(text.String(), "Rosalind Vantongeren") || !strings.Contains(text.String(), "617-555-0142") {
		t.Errorf("reply not restored: %q", text.String())
	}
	up := g.upstreamBodies()[0]
	if !strings.Contains(string(up["messages"]), `"content":"`+summary+`"`) ||
		!strings.Contains(string(up["messages"]), `"signature":"c2lnbmF0dXJl"`) {
		t.Errorf("the compaction block changed upstream: %s", up["messages"])
	}
	if !strings.Contains(string(up["context_management"]), "compact_20260112") {
		t.Errorf("context_management upstream: %s", up["context_management"])
	}

	// a compaction block whose signature is not the API's base64 is refused
	params.Messages[1].OfAssistant.Content[0].OfCompaction.Signature = anthropic.String("signed by Rosalind Vantongeren")
	_, err = c.Beta.Messages.New(ctx, params)
	wantSDKError(t, "a forged signature", err, http.StatusBadRequest, "invalid_request")

	// a fallback block and a change of tools, as a resent history holds them
	params.Messages[1].OfAssistant.Content[0].OfCompaction.Signature = anthropic.String("c2lnbmF0dXJl")
	params.Messages[1].OfAssistant.Content = append(params.Messages[1].OfAssistant.Content,
		anthropic.BetaContentBlockParamUnion{OfFallback: &anthropic.BetaFallbackBlockParam{
			From: anthropic.BetaFallbackInfoParam{Model: "claude-haiku-5-5"}, To: anthropic.BetaFallbackInfoParam{Model: model}}})
	params.Messages = append(params.Messages, anthropic.BetaMessageParam{OfSystem: &anthropic.BetaSystemMessageParam{
		Content: []anthropic.BetaSystemMessageParamContentUnion{
			{OfToolRemoval: &anthropic.BetaRequestToolRemovalBlockParam{Tool: anthropic.BetaRequestToolRemovalBlockToolUnionParam{
				OfToolReference: &anthropic.BetaToolChangeToolReferenceParam{Name: "lookup"}}}},
			{OfToolAddition: &anthropic.BetaRequestToolAdditionBlockParam{Tool: anthropic.BetaRequestToolAdditionBlockToolUnionParam{
				OfToolDefinition: &anthropic.BetaToolChangeToolDefinitionParam{Definition: anthropic.BetaToolUnionParam{
					OfTool: &anthropic.BetaToolParam{Name: "chart",
						Description: anthropic.String("Opens the chart of Rosalind Vantongeren."),
						InputSchema: anthropic.BetaToolInputSchemaParam{Properties: map[string]any{}}}}}}}},
		}}}, anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("Go on.")))
	if _, err := c.Beta.Messages.New(ctx, params); err != nil {
		t.Fatal(err)
	}
	up = g.upstreamBodies()[len(g.upstreamBodies())-1]
	for _, want := range []string{`"type":"fallback"`, `"type":"tool_removal"`, `"type":"tool_addition"`, `"name":"chart"`} {
		if !strings.Contains(string(up["messages"]), want) {
			t.Errorf("upstream messages lack %s: %s", want, up["messages"])
		}
	}
	noCanary(t, "the upstream requests", g.up.all())
}

// Client-side tool search returns tool_reference blocks in a tool_result,
// and a browser tool's result a browser_state block: Ward reads both (a
// tool's name, checked; tabs' titles and addresses, de-identified), so
// they pass without any allowance. The API's tools the client runs (bash,
// the text editor, memory) are de-identified as custom tools are, since
// their calls and results are tool_use and tool_result blocks; a server
// tool (web search) still needs the org's server_tools.
func TestGatewayClientToolBlocks(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	c := g.client(g.key)
	params := chartParams()
	params.Tools = append(params.Tools,
		anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{Name: "tool_search", Description: anthropic.String("Finds tools."),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"query": map[string]any{"type": "string"}}}}},
		anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{Name: "chart", DeferLoading: anthropic.Bool(true),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}},
		anthropic.ToolUnionParam{OfMemoryTool20250818: &anthropic.MemoryTool20250818Param{}},
		anthropic.ToolUnionParam{OfBashTool20250124: &anthropic.ToolBash20250124Param{}},
		anthropic.ToolUnionParam{OfTextEditor20250728: &anthropic.ToolTextEditor20250728Param{MaxCharacters: anthropic.Int(10000)}})
	params.Messages = append(params.Messages,
		anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_02", map[string]any{"query": "chart of Rosalind Vantongeren"}, "tool_search")),
		anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{OfToolResult: &anthropic.ToolResultBlockParam{ToolUseID: "toolu_02",
			Content: []anthropic.ToolResultBlockParamContentUnion{{OfToolReference: &anthropic.ToolReferenceBlockParam{ToolName: "chart"}},
				{OfBrowserState: &anthropic.BrowserStateBlockParam{Tabs: []anthropic.BrowserStateTabEntryParam{{
					TabID: "tab_1", Title: "Chart of Rosalind Vantongeren", URL: "https://ehr.example.org/chart/884213",
					Active: anthropic.Bool(true)}}}}}}}))
	msg, err := c.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	wantBack(t, "reply", textOf(msg), "Rosalind Vantongeren", "884213", "617-555-0142", "rosalind.v@example.org")
	up := g.upstreamBodies()[0]
	for _, want := range []string{`"tool_name":"chart"`, `"type":"memory_20250818"`, `"type":"bash_20250124"`,
		`"max_characters":10000`, `"type":"browser_state"`} {
		if !strings.Contains(string(up["messages"])+string(up["tools"]), want) {
			t.Errorf("upstream lacks %s", want)
		}
	}
	noCanary(t, "the upstream requests", g.up.all())

	params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfWebSearchTool20250305: &anthropic.WebSearchTool20250305Param{}})
	_, err = c.Messages.New(ctx, params)
	wantSDKError(t, "a server tool", err, http.StatusBadRequest, "unsupported_content")
}

// What an app using the Go SDK's current features sends and receives,
// which Ward already handled before the tests above: request fields and
// blocks it de-identifies or passes as configuration, and a stream with
// every delta type, an event type newer than the SDK and a block type it
// does not know, relayed in order and restored where they hold text.
func TestGatewaySDKFeatures(t *testing.T) {
	g := newGW(t)
	ctx := context.Background()
	c := g.client(g.key)

	t.Run("request fields and blocks", func(t *testing.T) {
		p := chartParams()
		p.Tools[0].OfTool.Strict = anthropic.Bool(true)
		p.Tools[0].OfTool.EagerInputStreaming = anthropic.Bool(true)
		p.Tools[0].OfTool.InputExamples = []map[string]any{{"who": "Rosalind Vantongeren"}}
		p.Tools[0].OfTool.AllowedCallers = []string{"direct"}
		p.ToolChoice = anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{Name: "lookup",
			DisableParallelToolUse: anthropic.Bool(true)}}
		p.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
		p.Metadata = anthropic.MetadataParam{UserID: anthropic.String("clinician rosalind.v@example.org")}
		p.StopSequences = []string{"END Vantongeren"}
		p.ServiceTier = anthropic.MessageNewParamsServiceTierStandardOnly
		p.InferenceGeo = anthropic.String("us")
		p.CacheControl = anthropic.NewCacheControlEphemeralParam()
		p.OutputConfig = anthropic.OutputConfigParam{Effort: anthropic.OutputConfigEffortLow,
			Format: anthropic.JSONOutputFormatParam{Schema: map[string]any{"type": "object",
				"properties": map[string]any{"summary": map[string]any{"type": "string",
					"description": "A summary for Rosalind Vantongeren"}}}}}
		p.Messages = append([]anthropic.MessageParam{{OfSystem: &anthropic.SystemMessageParam{
			Content: []anthropic.TextBlockParam{{Text: "The chart is Rosalind Vantongeren's."}}}}}, p.Messages...)
		p.Messages = append(p.Messages,
			anthropic.NewAssistantMessage(anthropic.NewThinkingBlock("c2ln", "[[PERSON_1]] needs a recheck."),
				anthropic.NewRedactedThinkingBlock("cmVkYWN0ZWQ="), anthropic.NewTextBlock("Ok.")),
			anthropic.NewUserMessage(
				anthropic.ContentBlockParamUnion{OfDocument: &anthropic.DocumentBlockParam{
					Source:    anthropic.DocumentBlockParamSourceUnion{OfText: &anthropic.PlainTextSourceParam{Data: "Note: Rosalind Vantongeren, MRN-884213."}},
					Title:     anthropic.String("Note of Rosalind Vantongeren"),
					Context:   anthropic.String("Written for 617-555-0142"),
					Citations: anthropic.CitationsConfigParam{Enabled: anthropic.Bool(true)}}},
				anthropic.ContentBlockParamUnion{OfSearchResult: &anthropic.SearchResultBlockParam{
					Source: "https://ehr.example.org/rosalind", Title: "Rosalind Vantongeren",
					Content:   []anthropic.TextBlockParam{{Text: "Rosalind Vantongeren, 617-555-0142"}},
					Citations: anthropic.CitationsConfigParam{Enabled: anthropic.Bool(true)}}},
				anthropic.NewTextBlock("Cite them.")))
		msg, err := c.Messages.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		wantBack(t, "reply", textOf(msg), "Rosalind Vantongeren", "884213", "617-555-0142", "rosalind.v@example.org")
		up := g.upstreamBodies()
		b := up[len(up)-1]
		for k, want := range map[string]string{"service_tier": `"standard_only"`, "inference_geo": `"us"`,
			"thinking": `{"budget_tokens":2048,"type":"enabled"}`, "cache_control": `{"type":"ephemeral"}`,
			"tool_choice": `{"disable_parallel_tool_use":true,"name":"lookup","type":"tool"}`} {
			if string(b[k]) != want {
				t.Errorf("%s upstream: %s, want %s", k, b[k], want)
			}
		}
		for _, want := range []string{`"thinking":"[[PERSON_1]] needs a recheck."`, `"data":"cmVkYWN0ZWQ="`,
			`"role":"system"`, `"citations":{"enabled":true}`, `"type":"search_result"`} {
			if !strings.Contains(string(b["messages"]), want) {
				t.Errorf("upstream messages lack %s", want)
			}
		}
		if !strings.Contains(string(b["output_config"]), `"effort":"low"`) || !strings.Contains(string(b["tools"]), `"eager_input_streaming":true`) {
			t.Errorf("output_config %s, tools %s", b["output_config"], b["tools"])
		}
		noCanary(t, "the upstream requests", g.up.all())
	})

	t.Run("endpoints Ward does not serve", func(t *testing.T) {
		// the SDK's helpers for other endpoints: the Anthropic 404, typed
		sent := len(g.up.calls())
		for name, call := range map[string]func() error{
			"batches.new": func() error {
				_, err := c.Messages.Batches.New(ctx, anthropic.MessageBatchNewParams{Requests: []anthropic.MessageBatchNewParamsRequest{{
					CustomID: "r1", Params: anthropic.MessageBatchNewParamsRequestParams{Model: model, MaxTokens: 16,
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Rosalind Vantongeren"))}}}}})
				return err
			},
			"batches.get": func() error {
				_, err := c.Messages.Batches.Get(ctx, "msgbatch_01", anthropic.MessageBatchGetParams{})
				return err
			},
			"batches.list": func() error { _, err := c.Messages.Batches.List(ctx, anthropic.MessageBatchListParams{}); return err },
			"files.list":   func() error { _, err := c.Files.List(ctx, anthropic.FileListParams{}); return err },
			"beta.files":   func() error { _, err := c.Beta.Files.List(ctx, anthropic.BetaFileListParams{}); return err },
		} {
			var ae *anthropic.Error
			if err := call(); !errors.As(err, &ae) || ae.StatusCode != http.StatusNotFound ||
				ae.Type() != "not_found_error" || string(ae.ErrorCode()) != "no_route" || ae.RequestID == "" {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n := len(g.up.calls()); n != sent {
			t.Errorf("an unserved endpoint reached the upstream: %d calls", n-sent)
		}
	})

	t.Run("a stream with new and unknown types", func(t *testing.T) {
		g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			send := func(name, data string) { fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data) }
			send("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"`+model+
				`","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}`)
			send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"About [[PERSON_1]]."}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}`)
			send("content_block_stop", `{"type":"content_block_stop","index":0}`)
			send("future_event", `{"type":"future_event","detail":"configuration"}`)
			send("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"","citations":[]}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"[[PER"}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{"type":"char_location",`+
				`"cited_text":"[[PERSON_1]], [[MRN_1]]","document_index":0,"document_title":"Note of [[PERSON_1]]","start_char_index":6,"end_char_index":30}}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"SON_1]] is due."}}`)
			send("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"future_delta","text":"[[PERSON_1]]"}}`)
			send("content_block_stop", `{"type":"content_block_stop","index":1}`)
			send("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"future_block","data":"x"}}`)
			send("content_block_stop", `{"type":"content_block_stop","index":2}`)
			send("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}`)
			send("message_stop", `{"type":"message_stop"}`)
			return true
		})
		defer g.setOverride(nil)
		p := anthropic.MessageNewParams{Model: model, MaxTokens: 256, Messages: []anthropic.MessageParam{anthropic.NewUserMessage(
			anthropic.ContentBlockParamUnion{OfDocument: &anthropic.DocumentBlockParam{
				Source:    anthropic.DocumentBlockParamSourceUnion{OfText: &anthropic.PlainTextSourceParam{Data: "Note: Rosalind Vantongeren, MRN-884213."}},
				Title:     anthropic.String("Note of Rosalind Vantongeren"),
				Citations: anthropic.CitationsConfigParam{Enabled: anthropic.Bool(true)}}},
			anthropic.NewTextBlock("When is her recheck?"))}}
		s := c.Messages.NewStreaming(ctx, p)
		var order []string
		var acc anthropic.Message
		for s.Next() {
			e := s.Current()
			order = append(order, e.Type+":"+e.Delta.Type)
			if e.Type == "future_event" || e.Delta.Type == "future_delta" {
				continue // the SDK relays what it does not know; Accumulate would not
			}
			if err := acc.Accumulate(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		want := "message_start: content_block_start: content_block_delta:thinking_delta content_block_delta:signature_delta " +
			"content_block_stop: future_event: content_block_start: content_block_delta:citations_delta " +
			"content_block_delta:text_delta content_block_delta:future_delta content_block_stop: content_block_start: " +
			"content_block_stop: message_delta: message_stop:"
		if got := strings.Join(order, " "); got != want {
			t.Errorf("events\n got %s\nwant %s", got, want)
		}
		if len(acc.Content) != 3 || acc.Content[0].Thinking != "About [[PERSON_1]]." || acc.Content[0].Signature != "c2ln" {
			t.Fatalf("content: %+v", acc.Content)
		}
		if acc.Content[1].Text != "Rosalind Vantongeren is due." {
			t.Errorf("text: %q", acc.Content[1].Text)
		}
		if cs := acc.Content[1].Citations; len(cs) != 1 || cs[0].CitedText != "Rosalind Vantongeren, 884213" ||
			cs[0].DocumentTitle != "Note of Rosalind Vantongeren" {
			t.Errorf("citations: %+v", cs)
		}
	})
}
