package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/gateway/phi"
)

// The patient the request-shape tests name: every value below is a canary
// that must never reach the upstream as it is.
var shapeRecord = &phi.Record{Names: []string{"Rosalind Vantongeren"}, BirthDate: "1962-07-14", MRN: "884213",
	Phones: []string{"617-555-0142"}}

// redactBody de-identifies body as a call naming rec (nil: none) under pol
// would, and returns what would go upstream and the meta.
func redactBody(t *testing.T, rec *phi.Record, pol Policy, body string) (string, meta, error) {
	t.Helper()
	e, err := phi.New(phi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.NewSession(rec, phi.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, m, err := redactRequest(context.Background(), s, []byte(body), pol)
	return string(out), m, err
}

// mustPass de-identifies body and fails the test if the call is refused or
// any canary reaches the upstream.
func mustPass(t *testing.T, rec *phi.Record, pol Policy, body string, canaries ...string) string {
	t.Helper()
	out, _, err := redactBody(t, rec, pol, body)
	if err != nil {
		t.Fatalf("refused: %v\nbody: %s", err, body)
	}
	if !json.Valid([]byte(out)) {
		t.Fatalf("upstream body is not JSON: %s", out)
	}
	for _, c := range canaries {
		if strings.Contains(out, c) {
			t.Fatalf("%q reached the upstream: %s", c, out)
		}
	}
	return out
}

// mustRefuse fails the test unless the call is refused as content Ward
// cannot send, without the refused value in the error.
func mustRefuse(t *testing.T, rec *phi.Record, pol Policy, body, value string) {
	t.Helper()
	out, _, err := redactBody(t, rec, pol, body)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("not refused (%v): %s", err, out)
	}
	if value != "" && strings.Contains(err.Error(), value) {
		t.Fatalf("the error repeats the value: %v", err)
	}
}

func withMessages(extra, content string) string {
	return `{"model":"m","max_tokens":100` + extra + `,"messages":[{"role":"user","content":` + content + `}]}`
}

// toolTurn is a conversation whose assistant turn called a tool with input.
func toolTurn(extra, input string) string {
	return `{"model":"m","max_tokens":100` + extra + `,"messages":[{"role":"user","content":"look her up"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":` + input + `}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"ok"}]}]}`
}

// Numbers are read as the same digits in a string are: an MRN, a date of
// birth, a phone number or an SSN sent as a JSON number in a tool's input
// (or its examples, or a schema's enum) leaves as its placeholder; small
// numbers and a configuration's limits stay numbers.
func TestRedactNumbers(t *testing.T) {
	canaries := []string{"884213", "19620714", "6175550142", "123456789"}
	input := `{"mrn":884213,"dob":19620714,"phone":6175550142,"ssn":123456789,"kcal":2500,"ratio":0.75}`
	for _, rec := range []*phi.Record{shapeRecord, nil} {
		out := mustPass(t, rec, Policy{}, toolTurn("", input), canaries...)
		if !strings.Contains(out, `"kcal":2500`) || !strings.Contains(out, `"ratio":0.75`) {
			t.Fatalf("small numbers changed: %s", out)
		}
		if !strings.Contains(out, `"mrn":"[[`) {
			t.Fatalf("the MRN is not its placeholder: %s", out)
		}
	}
	tools := `,"tools":[{"name":"lookup","description":"d","input_schema":{"type":"object","properties":` +
		`{"mrn":{"type":"integer","enum":[884213],"default":6175550142}}},"input_examples":[{"mrn":884213}]}]`
	mustPass(t, shapeRecord, Policy{}, withMessages(tools, `"hi"`), canaries...)
	// a limit of six digits, the shape of the record's MRN, is no identifier
	out := mustPass(t, shapeRecord, Policy{}, strings.Replace(withMessages("", `"hi"`), `"max_tokens":100`,
		`"max_tokens":128000,"thinking":{"type":"enabled","budget_tokens":100000}`, 1))
	if !strings.Contains(out, `"budget_tokens":100000`) || !strings.Contains(out, `"max_tokens":128000`) {
		t.Fatalf("limits changed: %s", out)
	}
	// a field Ward does not know is configuration: a long number that is
	// the record's is refused, not rewritten
	mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"metadata":{"user_id":"u1","phone":6175550142}`, `"hi"`), "")
	mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"x_patient":19620714`, `"hi"`), "")
}

// A bare five-digit integer is a quantity unless its key names a postal
// code or the named record holds it: "steps": 12000 stays a number, a
// "zip" or the record's own ZIP code leaves as a placeholder.
func TestRedactFiveDigitNumbers(t *testing.T) {
	rec := &phi.Record{Names: []string{"Rosalind Vantongeren"},
		Addresses: []string{"4417 W. Belmont Ave, Chicago, IL 60641"}}
	input := `{"steps":12000,"kcal_week":14500,"visit":{"zip_code":94110,"PostalCode":[30301]},"home":60641}`
	out := mustPass(t, rec, Policy{}, toolTurn("", input), "94110", "30301", "60641")
	if !strings.Contains(out, `"steps":12000`) || !strings.Contains(out, `"kcal_week":14500`) {
		t.Fatalf("quantities changed: %s", out)
	}
	// without the record its ZIP code under an ordinary key is a quantity
	out = mustPass(t, nil, Policy{}, toolTurn("", input), "94110", "30301")
	if !strings.Contains(out, `"home":60641`) || !strings.Contains(out, `"steps":12000`) {
		t.Fatalf("quantities changed: %s", out)
	}
}

// A tool's example inputs, a structured output's schema (output_format and
// output_config.format) and a schema's "example" are de-identified as a
// tool's input and input schema are.
func TestRedactExamplesAndOutputSchemas(t *testing.T) {
	canaries := []string{"Vantongeren", "617-555-0142", "1962-07-14", "Okonkwo", "1990-02-03"}
	tools := `,"tools":[{"name":"lookup","description":"d","input_schema":{"type":"object"},` +
		`"input_examples":[{"last":"Vantongeren","phone":"tel:617-555-0142","dob":"dob:1962-07-14"}]}]`
	schema := `{"type":"object","properties":{"who":{"type":"string","enum":["Vantongeren","Okonkwo"],` +
		`"default":"Vantongeren","example":"Okonkwo, born 1990-02-03"}}}`
	for _, rec := range []*phi.Record{shapeRecord, nil} {
		mustPass(t, rec, Policy{}, withMessages(tools, `"hi"`), canaries...)
		mustPass(t, rec, Policy{}, withMessages(`,"output_format":{"type":"json_schema","schema":`+schema+`}`,
			`"hi"`), canaries...)
		out := mustPass(t, rec, Policy{}, withMessages(`,"output_config":{"effort":"high","format":`+
			`{"type":"json_schema","schema":`+schema+`}}`, `"hi"`), canaries...)
		if !strings.Contains(out, `"effort":"high"`) || !strings.Contains(out, `"type":"json_schema"`) {
			t.Fatalf("configuration changed: %s", out)
		}
	}
}

// Object keys are sent as they are: a key that is a date, a phone number,
// a ZIP code or a record number is refused; ordinary keys, digits and
// capitals included, pass.
func TestRedactKeys(t *testing.T) {
	for _, k := range []string{"1962-07-14", "617-555-0142", "884213", "02139"} {
		mustRefuse(t, nil, Policy{}, toolTurn("", `{"`+k+`":"BP 150/90"}`), k)
	}
	out := mustPass(t, nil, Policy{}, toolTurn("", `{"FirstName":"x","step1":"y","HbA1c":6.1,"SpO2":97,"line_2":"z"}`))
	for _, k := range []string{"FirstName", "step1", "HbA1c", "SpO2", "line_2"} {
		if !strings.Contains(out, `"`+k+`"`) {
			t.Fatalf("key %s lost: %s", k, out)
		}
	}
}

// Space separators, dashes, full-width forms and invisible characters do
// not hide an identifier: the text is normalized before it is
// de-identified, and the upstream receives the normalized text.
func TestRedactUnicodeSeparators(t *testing.T) {
	cases := []struct {
		text     string
		rec      *phi.Record
		canaries []string
	}{
		{"called from 617\u00a0555\u00a00142 today", shapeRecord, []string{"555", "0142"}},
		{"called from 617\u202f555\u20070142 today", nil, []string{"555", "0142"}},
		{"SSN 123\u201145\u20116789 on file", nil, []string{"6789", "45"}},
		{"phone 617\u2011555\u20110142", nil, []string{"555", "0142"}},
		{"Rosa\u200blind Van\u200btongeren came in", shapeRecord, []string{"lind", "tongeren"}},
		{"SSN \uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19", nil, []string{"6789", "\uff16"}},
		{"Pt Rosalind Vantongeren\u00ad, DOB 07/14/1962", shapeRecord, []string{"Vantongeren", "1962"}},
		// Control characters a reader does not see (C0, DEL, C1) split
		// nothing either; a tab between digits is a space.
		{"Pt Rosa\u0000lind Van\u0000tongeren came in", shapeRecord, []string{"lind", "tongeren"}},
		{"Pt Ro\u0008salind Van\u007ftongeren came in", shapeRecord, []string{"salind", "tongeren"}},
		{"Pt Ro\u0080salind Van\u009ftongeren came in", shapeRecord, []string{"salind", "tongeren"}},
		{"seen on 07/14/\u00001962", nil, []string{"1962"}},
		{"SSN 123\u001f45\u001f6789 on file", nil, []string{"6789", "45"}},
		{"SSN 123\u000045\u00006789 on file", nil, []string{"6789", "45"}},
		{"called from 617\t555\t0142 today", nil, []string{"555", "0142"}},
		// A form feed is a page break, not nothing: the name after it is
		// still a word of its own, and found.
		{"Page 2 of 3\fPt Rosalind Vantongeren seen", shapeRecord, []string{"Rosalind", "Vantongeren"}},
	}
	for _, c := range cases {
		body, _ := json.Marshal(map[string]any{"model": "m", "max_tokens": 10,
			"messages": []any{map[string]any{"role": "user", "content": c.text}}})
		out := mustPass(t, c.rec, Policy{}, string(body), c.canaries...)
		var got struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || !strings.Contains(got.Messages[0].Content, "[[") {
			t.Fatalf("%q: nothing replaced: %s", c.text, out)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"plain ASCII text":           "plain ASCII text",
		"caf\u00e9 na\u00efve":       "caf\u00e9 na\u00efve",
		"a\u00a0b\u2009c\u3000d":     "a b c d",
		"x\u2010y\u2013z\u2212w":     "x-y-z-w",
		"\uff21\uff22\uff43\uff11":   "ABc1",
		"Ro\u200bsa\u00ad\ufeffline": "Rosaline",
		"a\u2028b":                   "a\nb",
		"ab\u200dcd":                 "abcd",
		"a\x00b\x1fc\x7fd\u0080e":    "abcde",
		"x\ty\n1\t2\r\n":             "x\ty\n1 2\r\n",
		"a\u0085b":                   "a\nb",
		"end\fNext\vpage":            "end\nNext\npage",
		"\U0001F468\u200d\U0001F469": "\U0001F468\u200d\U0001F469", // an emoji sequence keeps its joiner
		"\u0645\u06cc\u200c\u062e":   "\u0645\u06cc\u200c\u062e",   // a script's non-joiner stays
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// An unknown field's capitalised word is refused when the engine reads it
// as an identifier; the API's own values and a forced tool's name pass.
func TestRedactUnknownFieldWords(t *testing.T) {
	mustRefuse(t, nil, Policy{}, withMessages(`,"x_patient_name":"Vantongeren"`, `"hi"`), "Vantongeren")
	mustRefuse(t, nil, Policy{}, withMessages(`,"metadata":{"user_id":"u1","city":"Boston"}`, `"hi"`), "Boston")
	out := mustPass(t, nil, Policy{}, withMessages(`,"service_tier":"auto","tool_choice":{"type":"tool",`+
		`"name":"GetPatientChart","disable_parallel_tool_use":true},"tools":[{"name":"GetPatientChart",`+
		`"description":"d","input_schema":{"type":"object"}}]`, `"hi"`))
	if !strings.Contains(out, `"name":"GetPatientChart"`) || !strings.Contains(out, `"service_tier":"auto"`) {
		t.Fatalf("configuration changed: %s", out)
	}
}

// A document or an image the org's policy lets pass keeps its source as
// it is, but its title, its context and any other member are
// de-identified; a document whose source is a content array is
// de-identified (and not counted as passed).
func TestRedactPassedBlocks(t *testing.T) {
	pol := Policy{Allow: []string{AllowDocuments, AllowImages}}
	doc := `[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"},` +
		`"title":"Labs of Rosalind Vantongeren DOB 07/14/1962","context":"phone 617-555-0142",` +
		`"extra":"Rosalind Vantongeren"},{"type":"image","source":{"type":"base64","media_type":"image/png",` +
		`"data":"iVBORw0KGgo="},"text":"Rosalind Vantongeren, 617-555-0142"}]`
	for _, rec := range []*phi.Record{shapeRecord, nil} {
		out := mustPass(t, rec, pol, withMessages("", doc), "Vantongeren", "617-555-0142", "1962")
		if !strings.Contains(out, `"url":"https://example.com/a.pdf"`) || !strings.Contains(out, "iVBORw0KGgo=") {
			t.Fatalf("a passed source changed: %s", out)
		}
	}
	_, m, err := redactBody(t, nil, pol, withMessages("", doc))
	if err != nil || m.Unredacted != 2 {
		t.Fatalf("passed blocks counted %d (%v), want 2", m.Unredacted, err)
	}
	content := `[{"type":"document","title":"Note","source":{"type":"content","content":[{"type":"text",` +
		`"text":"Rosalind Vantongeren called from 617-555-0142"}]}}]`
	for _, p := range []Policy{{}, pol} {
		out := mustPass(t, nil, p, withMessages("", content), "Vantongeren", "617-555-0142")
		if _, m, _ := redactBody(t, nil, p, withMessages("", content)); m.Unredacted != 0 || !strings.Contains(out, "[[") {
			t.Fatalf("content source: counted %d: %s", m.Unredacted, out)
		}
	}
	// without the policy a URL source is still refused
	mustRefuse(t, nil, Policy{}, withMessages("", doc), "")
}

// Opaque fields (signatures, redacted thinking, encrypted indexes) must be
// base64 and must not be the named record's values (a value glued into a
// longer run of letters and digits is not found: see docs/gateway.md).
func TestRedactOpaque(t *testing.T) {
	body := `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant",` +
		`"content":[{"type":"redacted_thinking","data":"6175550142"}]},{"role":"user","content":"go"}]}`
	mustRefuse(t, shapeRecord, Policy{}, body, "6175550142")
	mustRefuse(t, shapeRecord, Policy{}, strings.Replace(body, "6175550142", "Vantongeren", 1), "Vantongeren")
	clean := strings.Replace(body, "6175550142", "EuYBCkQYAiJAq3mZ8n0fT2Wc", 1)
	mustPass(t, shapeRecord, Policy{}, clean)
	if _, _, err := redactBody(t, shapeRecord, Policy{}, strings.Replace(body, "6175550142", "not base64!", 1)); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("not base64: %v", err)
	}
}

// A resent server tool call and an MCP call are de-identified as a
// tool_use is; a server tool's result passes as it is (counted) when the
// org allows server tools; an MCP result's content is de-identified;
// without the policy each is refused.
func TestRedactServerToolBlocks(t *testing.T) {
	server := `[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"Rosalind Vantongeren 617-555-0142"}},` +
		`{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://example.org","title":"Diabetes","encrypted_content":"EqQB"}]},` +
		`{"type":"text","text":"Found it."}]`
	conv := func(blocks string) string {
		return `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"search"},` +
			`{"role":"assistant","content":` + blocks + `},{"role":"user","content":"thanks"}]}`
	}
	mustRefuse(t, nil, Policy{}, conv(server), "")
	out := mustPass(t, nil, Policy{Allow: []string{AllowServerTools}}, conv(server), "Vantongeren", "617-555-0142")
	if !strings.Contains(out, `"encrypted_content":"EqQB"`) {
		t.Fatalf("the server tool's result changed: %s", out)
	}
	if _, m, _ := redactBody(t, nil, Policy{Allow: []string{AllowServerTools}}, conv(server)); m.Unredacted != 1 {
		t.Fatalf("counted %d passed blocks, want 1", m.Unredacted)
	}
	mcp := `[{"type":"mcp_tool_use","id":"mcptoolu_1","name":"chart","server_name":"ehr","input":{"mrn":"884213"}},` +
		`{"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,"content":[{"type":"text","text":"Rosalind Vantongeren, DOB 07/14/1962"}]}]`
	mustRefuse(t, shapeRecord, Policy{}, conv(mcp), "")
	mustPass(t, shapeRecord, Policy{Allow: []string{AllowMCP}}, conv(mcp), "884213", "Vantongeren", "1962")
}

// Tool input members are walked in the order of their keys: the same
// input always numbers its placeholders the same way.
func TestRedactToolInputStable(t *testing.T) {
	input := `{"a":"Rosalind Vantongeren","b":"Alma Okonkwo","c":"Hugo Lindqvist","d":"Maren Oyelaran"}`
	first := mustPass(t, nil, Policy{}, toolTurn("", input))
	for range 20 {
		if out := mustPass(t, nil, Policy{}, toolTurn("", input)); out != first {
			t.Fatalf("the same input gave two bodies:\n%s\n%s", first, out)
		}
	}
}

// The API's tools the client runs are a family's name and a version date;
// anything else not custom is a server tool, which needs the policy.
func TestClientTool(t *testing.T) {
	for typ, want := range map[string]bool{"bash_20250124": true, "text_editor_20250728": true, "memory_20250818": true,
		"computer_20251124": true, "computer_toolset_20260801": true, "browser_toolset_20260801": true,
		"web_search_20250305": false, "code_execution_20250825": false, "bash_code_execution_20250825": false,
		"memory_": false, "text_editor_2025072": false, "tool_search_tool_bm25_20251119": false, "custom": false} {
		if clientTool(typ) != want {
			t.Errorf("clientTool(%q) = %v", typ, !want)
		}
	}
	mustRefuse(t, nil, Policy{}, withMessages(`,"tools":[{"type":"bash_code_execution_20250825","name":"bash"}]`, `"hi"`), "")
	mustPass(t, nil, Policy{}, withMessages(`,"tools":[{"type":"memory_20250818","name":"memory"}]`, `"hi"`))
}

// An unknown anthropic-version is refused with the versions Ward does
// accept, every one of them: a client told a list that leaves one out
// moves off a version that works.
func TestUnknownAPIVersionNamesAccepted(t *testing.T) {
	h := http.Header{}
	h.Set("Anthropic-Version", "2024-01-01")
	_, _, err := upstreamHeaders(h)
	if err == nil {
		t.Fatal("an unknown version was accepted")
	}
	for v := range apiVersions {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("the refusal %q does not name %s, which is accepted", err, v)
		}
	}
}

// A whole number written with a fraction or an exponent is read as the
// value the upstream reads: the named record's phone number, date of birth
// or MRN spelled 6.175550142e9, 1.9620714E7 or 884213.0 is found as the
// plain digits are, in a tool's input (replaced) and in a field Ward sends
// as it is (refused). A round quantity (2e6, 1.5e3) stays a number.
func TestExponentNumbersReadAsTheirValue(t *testing.T) {
	for _, n := range []string{`6.175550142e9`, `617555014.2e1`, `1.9620714E7`, `884213.0`, `8.84213e5`, `88421300e-2`} {
		out := mustPass(t, shapeRecord, Policy{}, toolTurn("", `{"v":`+n+`}`), n)
		if !strings.Contains(out, `"v":"[[`) {
			t.Errorf("%s in a tool input: %s", n, out)
		}
	}
	for _, n := range []string{`6.175550142e9`, `617555014.2e1`, `1.9620714E7`} {
		mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"x_ref":`+n, `"hi"`), n)
		mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"metadata":{"n":`+n+`}`, `"hi"`), n)
	}
	for _, n := range []string{`2e6`, `1.5e3`, `12.5`, `1e999999999`} {
		out := mustPass(t, shapeRecord, Policy{}, withMessages(`,"x_ref":`+n, `"hi"`))
		if !strings.Contains(out, `"x_ref":`+n) {
			t.Errorf("%s changed: %s", n, out)
		}
	}
	if out := mustPass(t, nil, Policy{}, toolTurn("", `{"steps":2e6,"dose":1.5e3}`)); !strings.Contains(out, `"steps":2e6`) ||
		!strings.Contains(out, `"dose":1.5e3`) {
		t.Errorf("round quantities in a tool input: %s", out)
	}
}

// The styled letters and digits whose style is their meaning (x², H₂O,
// 2³ = 8, a circled list number) reach the upstream as they are: the
// normalization the engine reads with is not the text sent. An identifier
// written with them is still replaced.
func TestStyledCharactersSentAsTheyAre(t *testing.T) {
	for _, s := range []string{"E = mc\u00b2", "2\u00b3 = 8", "H\u2082O", "BMI 31 kg/m\u00b2", "\u2460 first", "\U0001d465 + 1"} {
		out := mustPass(t, shapeRecord, Policy{}, withMessages(``, `"`+s+` (note)"`))
		var v struct{ Messages []struct{ Content string } }
		if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Messages) != 1 {
			t.Fatalf("%s: %v %s", s, err, out)
		}
		want, _ := strconv.Unquote(`"` + s + ` (note)"`)
		if v.Messages[0].Content != want {
			t.Errorf("sent %q, want %q", v.Messages[0].Content, want)
		}
	}
	mustPass(t, shapeRecord, Policy{}, withMessages(``, `"born \u00b9\u2079\u2076\u00b2-\u2070\u2077-\u00b9\u2074, mc\u00b2"`),
		"\u00b9\u2079\u2076\u00b2", "1962", "\u2070\u2077")
}

// A whole number's exponent is bounded by where its significant digits
// end, not as it is written: zeros before them (or after them) move the
// exponent beyond 40 and the value stays the record's phone number or
// date of birth, which the upstream reads.
func TestExponentNumbersPaddedWithZeros(t *testing.T) {
	for _, n := range []string{
		`0.` + strings.Repeat("0", 45) + `6175550142e55`,
		`6175550142` + strings.Repeat("0", 50) + `e-50`,
		`0.` + strings.Repeat("0", 60) + `19620714e68`,
	} {
		mustPass(t, shapeRecord, Policy{}, toolTurn("", `{"v":`+n+`}`), "6175550142", "19620714")
		mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"x_ref":`+n, `"hi"`), n)
	}
	for _, n := range []string{`1.5e300`, `0.` + strings.Repeat("0", 45) + `12345e10`} {
		out := mustPass(t, shapeRecord, Policy{}, withMessages(`,"x_ref":`+n, `"hi"`))
		if !strings.Contains(out, `"x_ref":`+n) {
			t.Errorf("%s changed: %s", n, out)
		}
	}
}

// A value of the named record joined into an identifier Ward sends as it
// is (a container id, an unknown field's enum-like value, a tool's name)
// is found with its words apart: an underscore, a dot, a change from
// letters to digits or a capital inside a word. Without a record, and for
// the API's own values, nothing changes.
func TestRecordValuesJoinedIntoIdentifiers(t *testing.T) {
	for _, v := range []string{"rosalind_vantongeren", "rosalind.vantongeren", "RosalindVantongeren", "MRN884213",
		"d1962-07-14", "chart:vantongeren_r"} {
		mustRefuse(t, shapeRecord, Policy{}, withMessages(`,"container":"`+v+`"`, `"hi"`), v)
		mustRefuse(t, shapeRecord, Policy{}, `{"model":"m","max_tokens":9,"tools":[{"name":"`+v+`","input_schema":{"type":"object"}}],`+
			`"messages":[{"role":"user","content":"hi"}]}`, v)
	}
	for _, v := range []string{"ephemeral", "json_schema", "claude-sonnet-4-5-20250929", "container_011CPRx9", "toolu_01ID12345ABCdef"} {
		mustPass(t, shapeRecord, Policy{}, withMessages(`,"container":"`+v+`"`, `"hi"`))
	}
	mustPass(t, nil, Policy{}, withMessages(`,"container":"rosalind_vantongeren"`, `"hi"`))
	// A short value of the record is a word of many a random id split
	// apart: it does not refuse the call there (the string as it is is
	// still checked whole).
	short := &phi.Record{Names: []string{"Li Wu"}, IDs: []string{"A12"}}
	for _, v := range []string{"toolu_01Wu", "container_0Li", "toolu_01XyLiQ3", "toolu_01A12x"} {
		mustPass(t, short, Policy{}, withMessages(`,"container":"`+v+`"`, `"hi"`))
	}
}

// What passes as it is because the org allows what Ward cannot
// de-identify (an image's or a document's URL or file source, a server
// tool's definition, an MCP server's entry) may not carry a value of the
// named record: the record's name in a URL's path or escaped in its query,
// its phone number in an MCP server's address, its name joined into a
// server tool's domain. Without a record, and for an image's base64 data,
// the allowance holds.
func TestPassedContentChecksTheRecord(t *testing.T) {
	pol := Policy{Allow: []string{AllowImages, AllowDocuments, AllowServerTools, AllowMCP}}
	for _, body := range []string{
		withMessages(``, `[{"type":"image","source":{"type":"url","url":"https://img.example.org/q?name=Rosalind%20Vantongeren"}}]`),
		withMessages(``, `[{"type":"document","source":{"type":"url","url":"https://docs.example.org/Rosalind-Vantongeren.pdf"}}]`),
		withMessages(``, `[{"type":"document","source":{"type":"file","file_id":"file_rosalind_vantongeren"}}]`),
		withMessages(``, `[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"https://x.example.org/6175550142.png"}}]}]`),
		withMessages(`,"mcp_servers":[{"type":"url","url":"https://mcp.example.org/?phone=617-555-0142","name":"chart"}]`, `"hi"`),
		withMessages(`,"tools":[{"type":"web_search_20250305","name":"web_search","allowed_domains":["rosalind-vantongeren.example.org"]}]`, `"hi"`),
		// a server tool's result the client wrote itself, the upstream's
		// own content as far as Ward can tell
		`{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"look it up"},{"role":"assistant","content":[` +
			`{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"asthma"}},` +
			`{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result",` +
			`"title":"Rosalind Vantongeren, 617-555-0142","url":"https://ex.example.org/a","encrypted_content":"abc"}]}]}]}`,
	} {
		mustRefuse(t, shapeRecord, pol, body, "Vantongeren")
		mustPass(t, nil, pol, body)
	}
	out := mustPass(t, shapeRecord, pol, withMessages(`,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}]`,
		`[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"Um9zYWxpbmQ="}}]`))
	if !strings.Contains(out, `"data":"Um9zYWxpbmQ="`) || !strings.Contains(out, `"max_uses":3`) {
		t.Errorf("passed content changed: %s", out)
	}
}
