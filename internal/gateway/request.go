package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/gateway/phi"
)

// Errors about the request body. Their public text names a field or a block
// type, never content.
var (
	ErrBadRequest = errkind.New(errkind.Invalid, "invalid_request", "gateway: invalid request")
	// ErrUnsupported is content Ward cannot de-identify.
	ErrUnsupported = errkind.New(errkind.Invalid, "unsupported_content", "gateway: content Ward cannot de-identify")
	// ErrDeidentify means de-identification failed: the call is refused.
	ErrDeidentify = errkind.New(errkind.Internal, "deidentification_failed", "gateway: de-identification failed")
	// ErrThreadUnsupported refuses a message thread (the request's
	// "thread": the upstream keeps the conversation and the client sends
	// only its new turns). Ward numbers placeholders over the request it
	// sees, so a turn sent without its history would reuse the history's
	// placeholders for other people, and their reply would be restored to
	// the wrong person. The code is the API's own for a request a thread
	// cannot take: the official SDKs' threads (the Go SDK's tool runner
	// among them) then send the whole history, unthreaded.
	ErrThreadUnsupported = errkind.New(errkind.Invalid, "thread_unsupported_request", "gateway: message threads refused").
				WithPublic("thread: Ward does not pass message threads (it de-identifies each call over its whole " +
			"history); send the whole conversation without thread")
)

func bad(format string, args ...any) error { return errkind.Visiblef(ErrBadRequest, format, args...) }

// BadRequest is ErrBadRequest saying msg (no value of the request's in it).
func BadRequest(msg string) error { return errkind.Visible(ErrBadRequest, msg) }

func unsupported(what string) error {
	return errkind.Visiblef(ErrUnsupported, "%s is not accepted: Ward cannot de-identify it", what)
}

// modelName is what a model name may be: it goes to the upstream and the
// audit log as it is, so it cannot carry free text.
var modelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:@/-]{1,100}$`) }) // compiled on first use, not at start-up

// meta is what the gateway reads from a request besides its text.
type meta struct {
	Model string
	// Fallbacks are the models of the request's fallbacks (the upstream
	// may answer with them in place of Model); FallbackDefault: the
	// upstream's own choice ("fallbacks": "default"). The gate checks
	// them as it checks Model.
	Fallbacks       []string
	FallbackDefault bool
	Stream          bool
	// Unredacted counts the blocks, tools and servers passed as they are
	// because the org's policy allows what Ward cannot de-identify.
	Unredacted int
}

// redactor de-identifies one request body with one session.
type redactor struct {
	ctx    context.Context
	sess   *phi.Session
	pol    Policy
	passed int
}

// redactRequest de-identifies every text of a Messages (or count_tokens)
// request body and returns the body to send upstream. Fields it does not
// know pass through unchanged; the fields it rewrites are re-encoded with
// sorted keys, so the same input always gives the same bytes.
//
// What Ward cannot de-identify (images, PDF and other non-text documents,
// URL and file sources, server tools, MCP servers) is refused unless pol
// allows it; then it passes unchanged and is counted.
func redactRequest(ctx context.Context, sess *phi.Session, body []byte, pol Policy) ([]byte, meta, error) {
	top, err := object(body, "the request body")
	if err != nil {
		return nil, meta{}, err
	}
	return redactTop(ctx, sess, top, pol)
}

// redactTop is redactRequest for a body already checked and split into its
// top-level members by object.
func redactTop(ctx context.Context, sess *phi.Session, top map[string]json.RawMessage, pol Policy) ([]byte, meta, error) {
	var m meta
	if err := decodeField(top, "model", &m.Model); err != nil || !modelName().MatchString(m.Model) {
		return nil, m, bad("model: a model name is required (letters, digits and . _ - : @ /, at most 100)")
	}
	if raw, ok := top["stream"]; ok && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &m.Stream); err != nil {
			return nil, m, bad("stream: must be a boolean")
		}
	}
	if raw, ok := top["thread"]; ok && !bytes.Equal(raw, []byte("null")) {
		return nil, m, ErrThreadUnsupported
	}
	rd := &redactor{ctx: ctx, sess: sess, pol: pol}
	if raw, ok := top["mcp_servers"]; ok && !bytes.Equal(raw, []byte("null")) {
		if !pol.allows(AllowMCP) {
			return nil, m, unsupported("mcp_servers")
		}
		rd.passed++
		checked, err := rd.passedRecord(raw, "mcp_servers")
		if err != nil {
			return nil, m, err
		}
		top["mcp_servers"] = checked
	}
	if _, ok := top["messages"]; !ok {
		return nil, m, bad("messages: required")
	}
	// A fixed order: numbering follows first occurrence over it.
	for _, f := range []struct {
		name string
		fn   func(json.RawMessage) (json.RawMessage, error)
	}{
		{"tools", rd.tools},
		{"system", rd.system},
		{"messages", rd.messages},
		{"stop_sequences", rd.stopSequences},
		{"metadata", rd.metadata},
		{"tool_choice", rd.toolChoice},
		{"output_format", func(raw json.RawMessage) (json.RawMessage, error) {
			return rd.outputFormat(raw, "output_format")
		}},
		{"output_config", rd.outputConfig},
		{"fallbacks", func(raw json.RawMessage) (json.RawMessage, error) { return rd.fallbacks(raw, &m) }},
	} {
		raw, ok := top[f.name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		out, err := f.fn(raw)
		if err != nil {
			return nil, m, err
		}
		top[f.name] = out
	}
	// Every other field (the API's configuration: max_tokens, tool_choice,
	// thinking, container…; a field newer than Ward, or a client's own)
	// passes with its numbers, booleans and checked identifiers as they
	// are and its prose de-identified: nothing leaves unexamined.
	for _, k := range sortedKeys(top) {
		if requestHandled[k] {
			continue
		}
		out, err := rd.member(top, k, "")
		if err != nil {
			return nil, m, err
		}
		top[k] = out
	}
	out, err := marshal(top)
	m.Unredacted = rd.passed
	return out, m, err
}

// structure checks a string Ward sends as it is (a tool's name or id, an
// enum, an object key, a thinking block): rewriting it would break the
// request, so one that holds an identifier the engine is sure of (a value
// of the named record, an e-mail address, an SSN, a labelled MRN…) refuses
// the call. The error names the field, never the value.
func (rd *redactor) structure(s, field string) error {
	if s == "" {
		return nil
	}
	held, err := rd.sess.Holds(rd.ctx, s) // (Holds reads s normalized)
	if err == nil && !held && rd.sess.HasRecord() {
		// the record's values joined into one identifier
		// ("rosalind_vantongeren", "MRN884213"): its words apart
		if w := splitWords(s); w != s {
			held, err = rd.sess.HoldsRecord(rd.ctx, w, minJoined)
		}
	}
	if err != nil {
		if errors.Is(err, phi.ErrInvalidUTF8) {
			return bad("text must be valid UTF-8")
		}
		return fmt.Errorf("%w: %w", ErrDeidentify, err)
	}
	if held {
		return errkind.Visiblef(ErrUnsupported,
			"%s holds what reads as an identifier; Ward sends this field as it is, so it refuses the call", field)
	}
	return nil
}

// passedRecord checks what passes as it is because the org's policy allows
// what Ward cannot de-identify (a server tool's definition, an MCP
// server's entry, an image's or a document's URL or file source): when the
// call names a patient, no string of it (an address's query, a server's
// name, a tool's configuration, read also with its words apart and its
// URL escapes undone) may hold a value of the record, and the call is
// refused (ErrUnsupported, naming the field) when one does. An image's or
// a document's base64 data ("data") is what the allowance is for and is
// not read. It returns raw re-encoded from what was examined (a repeated
// key leaves once, with the value checked).
func (rd *redactor) passedRecord(raw json.RawMessage, field string) (json.RawMessage, error) {
	if !rd.sess.HasRecord() {
		return raw, nil
	}
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	var walk func(v any, key string) error
	walk = func(v any, key string) error {
		var s string
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if err := walk(e, key); err != nil {
					return err
				}
			}
			return nil
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if err := walk(k, ""); err != nil {
					return err
				}
				if k == "data" {
					continue
				}
				if err := walk(x[k], k); err != nil {
					return err
				}
			}
			return nil
		case string:
			s = x
		case json.Number:
			s = string(x)
		default:
			return nil
		}
		forms := []string{s, splitWords(s)}
		if u, err := url.QueryUnescape(s); err == nil && u != s {
			forms = append(forms, u, splitWords(u))
		}
		for _, f := range forms {
			held, err := rd.sess.HoldsRecord(rd.ctx, f, minJoined)
			if err != nil {
				if errors.Is(err, phi.ErrInvalidUTF8) {
					return bad("text must be valid UTF-8")
				}
				return fmt.Errorf("%w: %w", ErrDeidentify, err)
			}
			if held {
				return errkind.Visiblef(ErrUnsupported, "%s holds a value of the named patient's record; Ward passes "+
					"it as it is (the org's policy allows it), so it refuses the call", field)
			}
		}
		return nil
	}
	if err := walk(v, ""); err != nil {
		return nil, err
	}
	return marshal(v)
}

// passedRecordObject is passedRecord of an object Ward holds split into
// its members (a server tool's definition, a server tool's result block),
// which it replaces with what was checked.
func (rd *redactor) passedRecordObject(m map[string]json.RawMessage, field string) error {
	if !rd.sess.HasRecord() {
		return nil
	}
	raw, err := marshal(m)
	if err == nil {
		raw, err = rd.passedRecord(raw, field)
	}
	if err != nil {
		return err
	}
	checked, _ := splitObject(raw)
	clear(m)
	maps.Copy(m, checked)
	return nil
}

// minJoined is the shortest value of the record that a string Ward sends
// as it is may not hold with its words apart or unescaped (splitWords,
// passedRecord): a shorter one ("Wu", a ZIP code's five digits) is a word
// of many a random id split apart, and would refuse calls at random.
const minJoined = 6

// splitWords is s with the joints of an identifier made spaces: an
// underscore, a dot, a colon, a slash, a change from letters to digits or
// back, and a lower-case letter followed by a capital
// ("rosalind_vantongeren" → "rosalind vantongeren", "MRN884213" →
// "MRN 884213", "RosalindVantongeren" → "Rosalind Vantongeren"). Hyphens
// stay: a date's and a phone number's own.
func splitWords(s string) string {
	var b strings.Builder
	prev := rune(-1)
	for _, r := range s {
		switch {
		case r == '_' || r == '.' || r == ':' || r == '/':
			b.WriteByte(' ')
			prev = ' '
			continue
		case prev >= 0 && (unicode.IsLetter(prev) && unicode.IsDigit(r) || unicode.IsDigit(prev) && unicode.IsLetter(r) ||
			unicode.IsLower(prev) && unicode.IsUpper(r)):
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// member passes m's member k (of the object at parent, "" for the body)
// through rest, its name checked by structure first: a member's name is
// sent as it is. A refused name is not repeated in the error.
func (rd *redactor) member(m map[string]json.RawMessage, k, parent string) (json.RawMessage, error) {
	field, of := k, "the request body"
	if parent != "" {
		field, of = parent+"."+k, parent
	}
	if err := rd.key(k, "a member name of "+of); err != nil {
		return nil, err
	}
	return rd.rest(m[k], field)
}

// key checks an object key (or a property name in a schema's required
// list), which is sent as it is. A one-word key without digits
// ("cache_control", "$defs", "número", "FirstName": letters of any script
// and _ - . $ : @) is checked by structure, since the engine takes short
// words alone for names and such keys are a tool's or a schema's own. Any
// other key is refused unless de-identification would leave it as it is:
// a phrase or a key with other punctuation ("first name", a name and a
// date), and a word with digits, which is what a date, a phone number, a
// ZIP code or a record number is when an object is keyed by them ("1962-07-14":
// a reading) and what structure alone does not see without a record.
func (rd *redactor) key(k, field string) error {
	if placeholder(k) || wordLike(k) && strings.IndexFunc(k, unicode.IsDigit) < 0 {
		// a placeholder: a key of a tool input the model wrote with one,
		// which a non-streamed reply does not restore, resent as it came
		return rd.structure(k, field)
	}
	r, err := rd.text(k)
	if err != nil {
		return err
	}
	if r != normalize(k) {
		return errkind.Visiblef(ErrUnsupported,
			"%s holds what reads as an identifier; Ward sends object keys as they are, so it refuses the call", field)
	}
	return nil
}

// wordLike reports whether s is one word: letters of any script, digits
// and _ - . $ : @, at most 128 bytes.
func wordLike(s string) bool {
	if s == "" || len(s) > 128 {
		return s == ""
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_-.$:@", r) {
			return false
		}
	}
	return true
}

// placeholder reports whether s is one of Ward's placeholders as issued
// ("[[PERSON_1]]": a type the engine names and a number), nothing around
// it.
func placeholder(s string) bool {
	in, ok := strings.CutPrefix(s, "[[")
	if !ok {
		return false
	}
	if in, ok = strings.CutSuffix(in, "]]"); !ok {
		return false
	}
	u := strings.LastIndexByte(in, '_')
	if u < 1 || u == len(in)-1 || phi.ParseType(in[:u]) == phi.TypeNone {
		return false
	}
	return strings.Trim(in[u+1:], "0123456789") == ""
}

// keys checks every object key in v (at any depth) with key: keys are
// structure, sent as they are.
func (rd *redactor) keys(v any, field string) error {
	switch x := v.(type) {
	case []any:
		for i := range x {
			if err := rd.keys(x[i], field); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := rd.key(k, field+": an object key"); err != nil {
				return err
			}
			if err := rd.keys(x[k], field); err != nil {
				return err
			}
		}
	}
	return nil
}

// opaque checks a signature or an encrypted block Ward passes unread:
// base64 (standard or URL alphabet) and nothing else, so no prose rides in
// it.
func opaque(s, field string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' ||
			c == '=' || c == '-' || c == '_') {
			return bad("%s: must be the base64 the API returned", field)
		}
	}
	return nil
}

// text de-identifies one string, normalized first (normalize): what it
// returns is what goes upstream.
func (rd *redactor) text(s string) (string, error) {
	res, err := rd.sess.Redact(rd.ctx, normalize(s))
	if err != nil {
		if errors.Is(err, phi.ErrInvalidUTF8) {
			return "", bad("text must be valid UTF-8")
		}
		// fail closed; the engine's error holds no text
		return "", fmt.Errorf("%w: %w", ErrDeidentify, err)
	}
	return res.Text, nil
}

func (rd *redactor) rawText(raw json.RawMessage, field string) (json.RawMessage, error) {
	s, err := unquote(raw)
	if err != nil {
		return nil, bad("%s: must be a string", field)
	}
	r, err := rd.text(s)
	if err != nil {
		return nil, err
	}
	return marshal(r)
}

func (rd *redactor) tools(raw json.RawMessage) (json.RawMessage, error) {
	tools, ok := objects(raw)
	if !ok {
		return nil, bad("tools: must be an array of objects")
	}
	for i, t := range tools {
		if err := rd.tool(t, fmt.Sprintf("tools[%d]", i)); err != nil {
			return nil, err
		}
	}
	return marshal(tools)
}

// clientTool reports whether typ is one of the API's tools that the
// client runs (bash_20250124, text_editor_20250728, memory_20250818, the
// computer and browser tools): the API defines its schema, but its calls
// are tool_use blocks and its results tool_result blocks the client sends,
// de-identified and restored as a custom tool's are, and the tool's entry
// holds configuration only. A server tool (web search, web fetch, code
// execution, tool search…) runs at the upstream and needs the policy.
// Only a family's name and a version date match ("bash_20250124"): a
// server tool named after one ("bash_code_execution_…") does not.
func clientTool(typ string) bool {
	for _, p := range []string{"bash_", "text_editor_", "memory_", "computer_", "computer_toolset_", "browser_toolset_"} {
		if v, ok := strings.CutPrefix(typ, p); ok && len(v) == 8 && strings.Trim(v, "0123456789") == "" {
			return true
		}
	}
	return false
}

// tool de-identifies one tool definition (at names it): a custom tool's
// description, schema and examples, a client tool's members as
// configuration; a server tool is refused unless the policy allows server
// tools, and then passes as it is and is counted.
func (rd *redactor) tool(t map[string]json.RawMessage, at string) error {
	var typ string
	if err := decodeField(t, "type", &typ); err != nil {
		return bad("%s.type: must be a string", at)
	}
	if typ != "" && typ != "custom" && !clientTool(typ) {
		if !rd.pol.allows(AllowServerTools) {
			return unsupported(at + ": a server tool")
		}
		rd.passed++
		return rd.passedRecordObject(t, at)
	}
	for _, k := range sortedKeys(t) {
		var err error
		switch k {
		case "type":
		case "name":
			err = rd.structureFields(t, at, "name")
		case "description":
			t[k], err = rd.rawText(t[k], at+".description")
		case "input_schema":
			if !bytes.Equal(t[k], []byte("null")) {
				t[k], err = rd.schema(t[k], at+".input_schema")
			}
		case "input_examples": // example inputs: as a tool_use's input
			if !bytes.Equal(t[k], []byte("null")) {
				t[k], err = rd.value(t[k], at+".input_examples")
			}
		default: // cache_control, strict, a client tool's configuration…
			t[k], err = rd.member(t, k, at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (rd *redactor) system(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) > 0 && raw[0] == '"' {
		return rd.rawText(raw, "system")
	}
	return rd.blocks(raw, "system", map[string]bool{"text": true})
}

// requestHandled are the top-level fields redactTop rewrites itself (or
// checks, as model, stream and mcp_servers).
var requestHandled = map[string]bool{"model": true, "stream": true, "mcp_servers": true, "tools": true,
	"system": true, "messages": true, "stop_sequences": true, "metadata": true, "tool_choice": true,
	"output_format": true, "output_config": true, "fallbacks": true, "thread": true}

// fallbacks reads the request's fallbacks: "default" (the upstream's
// choice of model), or entries each naming a model (with its own
// max_tokens, thinking, output_config…). The models go into m for the
// gate, which refuses one the registry or the org does not allow as it
// refuses the request's model; an entry's other members are
// configuration (rest), its output_config de-identified as the request's.
func (rd *redactor) fallbacks(raw json.RawMessage, m *meta) (json.RawMessage, error) {
	if len(raw) > 0 && raw[0] == '"' {
		if s, err := unquote(raw); err != nil || s != "default" {
			return nil, bad("fallbacks: must be \"default\" or an array of objects")
		}
		m.FallbackDefault = true
		return raw, nil
	}
	fs, ok := objects(raw)
	if !ok {
		return nil, bad("fallbacks: must be \"default\" or an array of objects")
	}
	for i, f := range fs {
		at := fmt.Sprintf("fallbacks[%d]", i)
		var model string
		if err := decodeField(f, "model", &model); err != nil || !modelName().MatchString(model) {
			return nil, bad("%s.model: a model name is required (letters, digits and . _ - : @ /, at most 100)", at)
		}
		m.Fallbacks = append(m.Fallbacks, model)
		for _, k := range sortedKeys(f) {
			var err error
			switch k {
			case "model":
			case "output_config":
				if !bytes.Equal(f[k], []byte("null")) {
					f[k], err = rd.members(f[k], at+".output_config", map[string]func(json.RawMessage) (json.RawMessage, error){
						"format": func(v json.RawMessage) (json.RawMessage, error) {
							return rd.outputFormat(v, at+".output_config.format")
						},
					})
				}
			default:
				f[k], err = rd.member(f, k, at)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return marshal(fs)
}

// toolChoice checks tool_choice: the name of the tool it forces is a
// tool's name (structure, as in tools), its other members configuration.
func (rd *redactor) toolChoice(raw json.RawMessage) (json.RawMessage, error) {
	return rd.members(raw, "tool_choice", map[string]func(json.RawMessage) (json.RawMessage, error){
		"name": func(v json.RawMessage) (json.RawMessage, error) {
			s, err := unquote(v)
			if err != nil {
				return nil, bad("tool_choice.name: must be a string")
			}
			return v, rd.structure(s, "tool_choice.name")
		},
	})
}

// outputFormat de-identifies a structured output's format
// ({"type": "json_schema", "schema": {…}}): its schema as a tool's input
// schema is (its descriptions, enums, defaults and examples are text), its
// other members through rest.
func (rd *redactor) outputFormat(raw json.RawMessage, field string) (json.RawMessage, error) {
	if bytes.Equal(raw, []byte("null")) {
		return raw, nil
	}
	return rd.members(raw, field, map[string]func(json.RawMessage) (json.RawMessage, error){
		"schema": func(v json.RawMessage) (json.RawMessage, error) { return rd.schema(v, field+".schema") },
	})
}

// outputConfig de-identifies output_config: its format as output_format,
// its other members (effort…) through rest.
func (rd *redactor) outputConfig(raw json.RawMessage) (json.RawMessage, error) {
	return rd.members(raw, "output_config", map[string]func(json.RawMessage) (json.RawMessage, error){
		"format": func(v json.RawMessage) (json.RawMessage, error) { return rd.outputFormat(v, "output_config.format") },
	})
}

// blockStructural are the members of a content block that its case
// rewrites or checks itself, by block type ("" for every type); a block's
// other members (cache_control, a tool_result's is_error, a document's
// citations among them) pass through rest, so a member listed here must be
// read by its case: nothing listed leaves unexamined.
var blockStructural = map[string]map[string]bool{
	"":                  {"type": true},
	"text":              {"text": true, "citations": true},
	"tool_use":          {"id": true, "name": true, "input": true},
	"tool_result":       {"tool_use_id": true, "content": true},
	"document":          {"source": true, "title": true, "context": true},
	"image":             {"source": true},
	"thinking":          {"thinking": true, "signature": true},
	"redacted_thinking": {"data": true},
	"search_result":     {"source": true, "title": true, "content": true},
	"server_tool_use":   {"id": true, "name": true, "input": true},
	"mcp_tool_use":      {"id": true, "name": true, "server_name": true, "input": true},
	"mcp_tool_result":   {"tool_use_id": true, "content": true},
	"container_upload":  {"file_id": true},
	"compaction":        {"content": true, "encrypted_content": true, "signature": true},
	"tool_reference":    {"tool_name": true},
	"tool_addition":     {"tool": true},
}

// identifierLike reports whether s reads as an identifier or an enum value
// ("ephemeral", "5m", "json_schema", "container_011CPR…"): one run of
// letters, digits and _ . : - that starts with a letter, at most 128 bytes.
// rest sends such strings as they are, after structure found no
// identifier in them, because rewriting them would break the fields they
// configure and the engine takes some of them for names or codes; every
// other string is prose and is de-identified.
func identifierLike(s string) bool {
	if s == "" || len(s) > 128 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return s == ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// rest de-identifies a field whose strings are configuration: its
// structure, numbers, booleans and identifier-like strings stay (the
// latter and the keys checked by structure); every other string is
// de-identified. So a field added to the API after this code passes (its
// values are configuration), and text put where Ward does not look for it
// still never leaves as it is.
func (rd *redactor) rest(raw json.RawMessage, field string) (json.RawMessage, error) {
	if len(raw) > 0 && raw[0] != '"' && raw[0] != '{' && raw[0] != '[' {
		// a number, a boolean or null
		return raw, rd.restNumber(string(raw), field)
	}
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	if err := rd.keys(v, field); err != nil {
		return nil, err
	}
	if v, err = walkScalars(v, rd.restString(field), func(_ string, n json.Number) (any, error) {
		return n, rd.restNumber(string(n), field)
	}); err != nil {
		return nil, err
	}
	// Re-encoded even when no string changed: the decoded value is what
	// was examined, and raw may hold more (a repeated key keeps only its
	// last value when decoded, and an upstream may read the first).
	return marshal(v)
}

// restString is rest's rule for one string of field: an identifier-like
// one is sent as it is, checked by structure; any other is prose and is
// de-identified.
func (rd *redactor) restString(field string) func(string) (string, error) {
	return func(s string) (string, error) {
		if identifierLike(s) {
			if capitalWord(s) {
				// "Vantongeren", "Boston": the API's own values are lower
				// case (enums, ids, model names); a capitalised word is
				// refused if the engine reads it as an identifier
				r, err := rd.text(s)
				if err != nil {
					return "", err
				}
				if r != s {
					return "", errkind.Visiblef(ErrUnsupported,
						"%s holds what reads as an identifier; Ward sends this field as it is, so it refuses the call", field)
				}
			}
			return s, rd.structure(s, field)
		}
		return rd.text(s)
	}
}

// capitalWord reports whether s is one word of ASCII letters that begins
// with a capital.
func capitalWord(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// restNumber is rest's rule for a number (or a boolean or null) of field:
// sent as it is, but one of seven digits or more, which a count or a limit
// seldom is and a phone number, a date of birth written as digits or a
// record number is, is checked by structure (the named record's values,
// among them its identifiers' shape; shorter numbers are not, since a
// six-digit record number's shape is a token limit's too).
//
// A number written with a fraction or an exponent that is a whole number
// ("6.175550142e9", "19620714.0") is checked as its plain digits too: the
// upstream reads the value, not its spelling.
func (rd *redactor) restNumber(s, field string) error {
	if p, ok := plainInteger(s); ok && p != s && digitCount(p) >= 7 {
		if err := rd.structure(p, field); err != nil {
			return err
		}
	}
	if digitCount(s) < 7 {
		return nil
	}
	return rd.structure(s, field)
}

// plainInteger is n, a JSON number written with a fraction or an
// exponent, as the plain integer it is ("6.175550142e9" → "6175550142",
// "884213.0" → "884213"); ok is false when n is not a whole number, has
// neither, has fewer than five digits before its exponent (2e6 is a round
// quantity, no identifier), or it is a whole number of more than 40 digits
// (no identifier is that long, and the digits are not expanded; the zeros
// written before or after its significant digits do not count).
func plainInteger(n string) (string, bool) {
	if !strings.ContainsAny(n, ".eE") {
		return n, false
	}
	if i := strings.IndexAny(n, "eE"); i >= 0 && digitCount(n[:i]) < 5 {
		return "", false
	}
	sign := ""
	if strings.HasPrefix(n, "-") {
		sign, n = "-", n[1:]
	}
	mant, exp := n, 0
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		// (a number longer than the bound is longer than any request)
		e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
		if err != nil || e > 1<<30 || e < -(1<<30) {
			return "", false
		}
		mant, exp = n[:i], e
	}
	// The significant digits, and where the point falls among them: the
	// zeros before or after them say nothing of the value, so the bound
	// of ±40 is on where the point lands, not on the exponent as written
	// ("0.000…0006175550142e55" is 6175550142).
	ip, fp, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(ip+fp, "0")
	point := len(ip) - (len(ip) + len(fp) - len(digits)) + exp
	digits = strings.TrimRight(digits, "0")
	switch {
	case digits == "":
		return "0", true
	case point < len(digits) || point > 40:
		return "", false
	}
	return sign + digits + strings.Repeat("0", point-len(digits)), true
}

// digitCount counts the ASCII digits of s.
func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// jsonNumberOrNull reports whether raw, a valid JSON value, is a number or
// null.
func jsonNumberOrNull(raw json.RawMessage) bool {
	return bytes.Equal(raw, []byte("null")) || len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// citations de-identifies the citations of a text block: the quoted text
// and the titles (the reply's citations are re-identified, so a client that
// resends its history sends them with the identifiers restored); locations
// and indexes are structure, and any other string goes through rest.
func (rd *redactor) citations(raw json.RawMessage, at string) (json.RawMessage, error) {
	if bytes.Equal(raw, []byte("null")) {
		return raw, nil
	}
	cs, ok := objects(raw)
	if !ok {
		return nil, bad("%s: must be an array of objects", at)
	}
	for i, c := range cs {
		for _, k := range sortedKeys(c) {
			var err error
			switch k {
			case "cited_text", "document_title", "title":
				if !bytes.Equal(c[k], []byte("null")) {
					c[k], err = rd.rawText(c[k], fmt.Sprintf("%s[%d].%s", at, i, k))
				}
			case "type":
				err = rd.structureFields(c, fmt.Sprintf("%s[%d]", at, i), "type")
			case "document_index", "start_char_index", "end_char_index", "start_page_number",
				"end_page_number", "start_block_index", "end_block_index", "search_result_index":
				if !jsonNumberOrNull(c[k]) {
					err = bad("%s[%d].%s: must be a number", at, i, k)
				}
			case "encrypted_index":
				err = rd.opaqueField(c, k, fmt.Sprintf("%s[%d]", at, i))
			default: // url, file_id, and any member newer than Ward
				c[k], err = rd.member(c, k, fmt.Sprintf("%s[%d]", at, i))
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return marshal(cs)
}

// blockRest passes a block's members that no case handled through rest
// (cache_control's own members included).
func (rd *redactor) blockRest(b map[string]json.RawMessage, typ, at string) error {
	for _, k := range sortedKeys(b) {
		if blockStructural[""][k] || blockStructural[typ][k] {
			continue
		}
		var err error
		if b[k], err = rd.member(b, k, at); err != nil {
			return err
		}
	}
	return nil
}

// sortedKeys returns m's keys in order, so that placeholders are numbered
// the same way on every call.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// messageBlocks are the block types a message may hold; "*_tool_result"
// stands for every server tool's result block (web_search_tool_result,
// code_execution_tool_result…).
// compaction (a summary of the earlier turns, signed), fallback (the
// record of a switch to a fallback model), tool_addition and
// tool_removal (a change of the tools offered) are the beta API's.
var messageBlocks = map[string]bool{"text": true, "tool_use": true, "tool_result": true, "thinking": true,
	"redacted_thinking": true, "image": true, "document": true, "search_result": true, "server_tool_use": true,
	"*_tool_result": true, "container_upload": true, "mcp_tool_use": true, "mcp_tool_result": true,
	"compaction": true, "fallback": true, "tool_addition": true, "tool_removal": true}

// toolResultBlocks are the block types a tool_result's content may hold:
// tool_reference names a tool a client-side tool search found, and
// browser_state is what a client's browser shows after a browser tool's
// call (its tabs' titles and addresses, de-identified through rest).
var toolResultBlocks = map[string]bool{"text": true, "image": true, "document": true, "search_result": true,
	"tool_reference": true, "browser_state": true}

// serverBlocks are the message blocks of a server tool's or an MCP
// server's call, by the policy (allow) each needs; a server tool's result
// (serverResult) needs server_tools.
var serverBlocks = map[string]string{"server_tool_use": AllowServerTools, "container_upload": AllowServerTools,
	"mcp_tool_use": AllowMCP, "mcp_tool_result": AllowMCP}

// serverResult reports whether typ is a server tool's result block type:
// "…_tool_result" other than a client tool's and an MCP tool's.
func serverResult(typ string) bool {
	return strings.HasSuffix(typ, "_tool_result") && typ != "tool_result" && typ != "mcp_tool_result" &&
		identifierLike(typ)
}

func (rd *redactor) messages(raw json.RawMessage) (json.RawMessage, error) {
	msgs, ok := objects(raw)
	if !ok {
		return nil, bad("messages: must be an array of objects")
	}
	for i, msg := range msgs {
		c, ok := msg["content"]
		if !ok {
			return nil, bad("messages[%d].content: required", i)
		}
		var err error
		for _, k := range sortedKeys(msg) {
			if k != "content" {
				// role and any member newer than Ward
				if msg[k], err = rd.member(msg, k, fmt.Sprintf("messages[%d]", i)); err != nil {
					return nil, err
				}
			}
		}
		field := fmt.Sprintf("messages[%d].content", i)
		if len(c) > 0 && c[0] == '"' {
			c, err = rd.rawText(c, field)
		} else {
			c, err = rd.blocks(c, field, messageBlocks)
		}
		if err != nil {
			return nil, err
		}
		msg["content"] = c
	}
	return marshal(msgs)
}

// blocks de-identifies an array of content blocks of the allowed types.
func (rd *redactor) blocks(raw json.RawMessage, field string, allowed map[string]bool) (json.RawMessage, error) {
	bs, ok := objects(raw)
	if !ok {
		return nil, bad("%s: must be a string or an array of content blocks", field)
	}
	for i, b := range bs {
		var typ string
		if err := decodeField(b, "type", &typ); err != nil || typ == "" {
			return nil, bad("%s[%d].type: required", field, i)
		}
		if !allowed[typ] && !(serverResult(typ) && allowed["*_tool_result"]) {
			// the type is the caller's: not repeated in the error
			return nil, unsupported(fmt.Sprintf("%s[%d]: a block of this type", field, i))
		}
		at := fmt.Sprintf("%s[%d]", field, i)
		if need := serverBlocks[typ]; need != "" || serverResult(typ) {
			if need == "" {
				need = AllowServerTools
			}
			if !rd.pol.allows(need) {
				return nil, unsupported(fmt.Sprintf("%s: a server tool's or an MCP server's block", at))
			}
		}
		var err error
		switch typ {
		case "image":
			// its source passes as it is (the org's policy lets it); its
			// other members go through blockRest
			if !rd.pol.allows(AllowImages) {
				return nil, unsupported(fmt.Sprintf("%s: an image", at))
			}
			rd.passed++
			if src, ok := b["source"]; ok {
				b["source"], err = rd.passedRecord(src, at+".source")
			}
		case "document":
			err = rd.document(b, at)
		case "text":
			t, ok := b["text"]
			if !ok {
				return nil, bad("%s.text: required", at)
			}
			if b["text"], err = rd.rawText(t, at+".text"); err == nil {
				if c, ok := b["citations"]; ok {
					b["citations"], err = rd.citations(c, at+".citations")
				}
			}
		case "tool_use":
			err = rd.structureFields(b, at, "id", "name")
			if in, ok := b["input"]; ok && err == nil {
				b["input"], err = rd.value(in, at+".input")
			}
		case "thinking":
			// passed untouched, its signature checked upstream: Ward never
			// restores identifiers in the reply's thinking, so a resent one
			// holds placeholders only, and one that holds an identifier was
			// not the model's
			if err = rd.structureFields(b, at, "thinking"); err == nil {
				err = rd.opaqueField(b, "signature", at)
			}
		case "redacted_thinking":
			err = rd.opaqueField(b, "data", at)
		case "compaction":
			// the upstream's summary of the turns it compacted, signed:
			// passed untouched as a thinking block is (it was written from
			// de-identified turns and is never restored, so it holds
			// placeholders only), its opaque members checked
			if err = rd.structureFields(b, at, "content"); err == nil {
				if err = rd.opaqueField(b, "encrypted_content", at); err == nil {
					err = rd.opaqueField(b, "signature", at)
				}
			}
		case "tool_reference":
			err = rd.structureFields(b, at, "tool_name")
		case "fallback", "tool_removal", "browser_state":
			// configuration (the models of a fallback, a tool's name, a
			// browser's tabs): every member through blockRest
		case "tool_addition":
			err = rd.toolAddition(b, at)
		case "search_result":
			err = rd.searchResult(b, at)
		case "server_tool_use", "mcp_tool_use":
			// a server tool's or an MCP server's call as the reply had it
			// (its input restored): de-identified as a tool_use is
			err = rd.structureFields(b, at, "id", "name", "server_name")
			if in, ok := b["input"]; ok && err == nil {
				b["input"], err = rd.value(in, at+".input")
			}
		case "mcp_tool_result":
			// what the org's MCP server answered: de-identified as a
			// tool_result's content is
			err = rd.toolResult(b, at)
		case "container_upload":
			// a file of the upstream's container, by its id
			err = rd.structureFields(b, at, "file_id")
		default: // a server tool's result (serverResult): the upstream's own
			// content (a web page, a program's output), passed as it is
			// when the org allows server tools, and counted
			rd.passed++
			err = rd.structureFields(b, at, "tool_use_id")
			if err == nil {
				err = rd.passedRecordObject(b, at)
			}
			if err == nil {
				continue
			}
		case "tool_result":
			err = rd.toolResult(b, at)
		}
		if err == nil {
			err = rd.blockRest(b, typ, at)
		}
		if err != nil {
			return nil, err
		}
	}
	return marshal(bs)
}

// toolAddition de-identifies a tool_addition block's tool: a
// tool_definition's definition as the request's tools are (a server tool
// refused or counted), a reference to a tool by its name as configuration
// (rest).
func (rd *redactor) toolAddition(b map[string]json.RawMessage, at string) error {
	t, err := object(b["tool"], at+".tool")
	if err != nil {
		return bad("%s.tool: required", at)
	}
	var typ string
	if err := decodeField(t, "type", &typ); err != nil {
		return bad("%s.tool.type: must be a string", at)
	}
	if typ != "tool_definition" {
		b["tool"], err = rd.rest(b["tool"], at+".tool")
		return err
	}
	for _, k := range sortedKeys(t) {
		switch k {
		case "type":
		case "definition":
			def, err := object(t[k], at+".tool.definition")
			if err != nil {
				return err
			}
			if err := rd.tool(def, at+".tool.definition"); err != nil {
				return err
			}
			if t[k], err = marshal(def); err != nil {
				return err
			}
		default:
			if t[k], err = rd.member(t, k, at+".tool"); err != nil {
				return err
			}
		}
	}
	b["tool"], err = marshal(t)
	return err
}

// toolResult de-identifies a tool_result's (or an mcp_tool_result's)
// content: a string, or blocks of toolResultBlocks.
func (rd *redactor) toolResult(b map[string]json.RawMessage, at string) error {
	if err := rd.structureFields(b, at, "tool_use_id"); err != nil {
		return err
	}
	c, ok := b["content"]
	var err error
	switch {
	case !ok || bytes.Equal(c, []byte("null")):
	case len(c) > 0 && c[0] == '"':
		b["content"], err = rd.rawText(c, at+".content")
	default:
		b["content"], err = rd.blocks(c, at+".content", toolResultBlocks)
	}
	return err
}

// searchResult de-identifies a search_result block: its title and its
// source (a URL or a name, de-identified as prose: a web address is an
// identifier to the engine, and the reply restores it) and its content's
// text blocks; citations and cache_control go through blockRest.
func (rd *redactor) searchResult(b map[string]json.RawMessage, at string) error {
	var err error
	for _, f := range []string{"source", "title"} {
		if v, ok := b[f]; ok && !bytes.Equal(v, []byte("null")) {
			if b[f], err = rd.rawText(v, at+"."+f); err != nil {
				return err
			}
		}
	}
	if c, ok := b["content"]; ok && !bytes.Equal(c, []byte("null")) {
		if b["content"], err = rd.blocks(c, at+".content", map[string]bool{"text": true}); err != nil {
			return err
		}
	}
	return nil
}

// structureFields checks the named string members of b with structure.
func (rd *redactor) structureFields(b map[string]json.RawMessage, at string, names ...string) error {
	for _, n := range names {
		raw, ok := b[n]
		if !ok || bytes.Equal(raw, []byte("null")) {
			continue
		}
		s, err := unquote(raw)
		if err != nil {
			return bad("%s.%s: must be a string", at, n)
		}
		if err := rd.structure(s, at+"."+n); err != nil {
			return err
		}
	}
	return nil
}

// opaqueField checks b's member name with opaque, and with structure: the
// base64 alphabet holds a name run into a record number
// ("RosalindVantongeren884213"), which the named record's values catch.
func (rd *redactor) opaqueField(b map[string]json.RawMessage, name, at string) error {
	raw, ok := b[name]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	s, err := unquote(raw)
	if err != nil {
		return bad("%s.%s: must be a string", at, name)
	}
	if err := opaque(s, at+"."+name); err != nil {
		return err
	}
	return rd.structure(s, at+"."+name)
}

// document de-identifies a document block: its title and context always,
// and its source when it is plain text (its data) or a content array (its
// blocks, as a tool_result's are); any other source (a PDF, a URL, a file)
// is Ward's to refuse unless the org allows documents, and then passes as
// it is and is counted. The block's other members go through blockRest.
func (rd *redactor) document(b map[string]json.RawMessage, at string) error {
	src, err := object(b["source"], at+".source")
	if err != nil {
		return bad("%s.source: required", at)
	}
	var st string
	if err := decodeField(src, "type", &st); err != nil {
		return bad("%s.source.type: must be a string", at)
	}
	var body string // the member of the source that holds its text
	switch st {
	case "text":
		body = "data"
		d, ok := src[body]
		if !ok {
			return bad("%s.source.data: required", at)
		}
		if src[body], err = rd.rawText(d, at+".source.data"); err != nil {
			return err
		}
	case "content":
		body = "content"
		c, ok := src[body]
		if !ok {
			return bad("%s.source.content: required", at)
		}
		if len(c) > 0 && c[0] == '"' {
			src[body], err = rd.rawText(c, at+".source.content")
		} else {
			src[body], err = rd.blocks(c, at+".source.content", map[string]bool{"text": true, "image": true})
		}
		if err != nil {
			return err
		}
	default:
		if !rd.pol.allows(AllowDocuments) {
			// the type is the caller's: not repeated in the error
			return unsupported(fmt.Sprintf("%s: a document whose source is not text", at))
		}
		rd.passed++
		if b["source"], err = rd.passedRecord(b["source"], at+".source"); err != nil {
			return err
		}
	}
	if body != "" {
		for _, k := range sortedKeys(src) {
			if k != "type" && k != body { // media_type, and any member newer than Ward
				if src[k], err = rd.member(src, k, at+".source"); err != nil {
					return err
				}
			}
		}
		if b["source"], err = marshal(src); err != nil {
			return err
		}
	}
	for _, f := range []string{"title", "context"} {
		if v, ok := b[f]; ok && !bytes.Equal(v, []byte("null")) {
			if b[f], err = rd.rawText(v, at+"."+f); err != nil {
				return err
			}
		}
	}
	return nil
}

// schemaText are the JSON Schema keywords whose values are prose or
// example values (and so may name someone): their strings are
// de-identified whatever their shape, and the keys of an object among them
// (a default or an example that is an object) checked by key; their
// numbers are read as a tool input's are (number). schemaStructure are those whose strings are structure (types, formats,
// patterns, references): sent as they are, checked by structure. The
// strings of any other keyword (an "x-" extension, a keyword newer than
// Ward) follow rest's rule: identifier-like ones
// stay, checked by structure, and any other is de-identified; a required
// list's, which name properties, follow key's. schemaNames are the
// keywords whose value maps names to subschemas: its keys are names
// (checked by key), never keywords, so a property named "title" is a
// subschema like any other.
var (
	schemaText = map[string]bool{"description": true, "title": true, "examples": true, "example": true,
		"default": true, "const": true, "enum": true, "$comment": true}
	schemaStructure = map[string]bool{"type": true, "format": true, "pattern": true, "$ref": true, "$schema": true,
		"$id": true, "$anchor": true, "$dynamicRef": true, "$dynamicAnchor": true,
		"contentEncoding": true, "contentMediaType": true}
	schemaNames = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true,
		"dependentSchemas": true}
)

// metaSchema reports whether s is a JSON Schema meta-schema URI
// ("https://json-schema.org/draft/2020-12/schema", the draft-07 one…), as
// schema generators put under $schema: structure, though a URL.
func metaSchema(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://json-schema.org/")
	if !ok {
		rest, ok = strings.CutPrefix(s, "http://json-schema.org/")
	}
	if !ok || len(rest) > 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '/' || c == '#') {
			return false
		}
	}
	return true
}

// schema de-identifies a tool's input schema at any depth: the strings
// under schemaText keywords are de-identified, those under schemaStructure
// keywords checked by structure, any other string follows rest's rule, and
// every key is checked by key.
func (rd *redactor) schema(raw json.RawMessage, field string) (json.RawMessage, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	other := rd.restString(field)
	// kw is the keyword whose value v is (an array's elements have their
	// array's); "" for a subschema. names: v maps names to subschemas.
	var walk func(v any, kw string, names bool) (any, error)
	walk = func(v any, kw string, names bool) (any, error) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if err := rd.key(k, field+": an object key"); err != nil {
					return nil, err
				}
				var err error
				switch {
				case names:
					x[k], err = walk(x[k], "", false)
				case schemaText[k]:
					if err = rd.keys(x[k], field); err == nil {
						x[k], err = walkScalars(x[k], rd.text, rd.number)
					}
				default:
					x[k], err = walk(x[k], k, schemaNames[k])
				}
				if err != nil {
					return nil, err
				}
			}
		case []any:
			for i := range x {
				r, err := walk(x[i], kw, false)
				if err != nil {
					return nil, err
				}
				x[i] = r
			}
		case string:
			if kw == "$schema" && metaSchema(x) {
				return x, nil
			}
			if kw == "required" { // property names: keys
				return x, rd.key(x, field)
			}
			if schemaStructure[kw] {
				return x, rd.structure(x, field)
			}
			return other(x)
		}
		return v, nil
	}
	if v, err = walk(v, "", false); err != nil {
		return nil, err
	}
	return marshal(v)
}

// value de-identifies every string in a JSON value (a tool's input): the
// structure and the keys stay, the keys checked by structure.
func (rd *redactor) value(raw json.RawMessage, field string) (json.RawMessage, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	if err := rd.keys(v, field); err != nil {
		return nil, err
	}
	v, err = walkScalars(v, rd.text, rd.number)
	if err != nil {
		return nil, err
	}
	return marshal(v)
}

// number de-identifies a number of a tool's input as the same digits in a
// string would be: an MRN, a phone number or a date of birth sent as a
// JSON number becomes its placeholder, a string ("mrn": 884213 →
// "mrn": "[[MRN_1]]"), and the reply restores it as a string. A number of
// fewer than five digits is no identifier and is not read. An integer of
// exactly five digits, which the engine alone would take for a ZIP code,
// is one only under a key that names a postal code or when the named
// record holds it; otherwise it is a quantity ("steps": 12000,
// "kcal": 21000) and stays as it is.
//
// A whole number written with a fraction or an exponent ("1.9620714E7") is
// read as its plain digits (plainInteger): the upstream reads the value.
func (rd *redactor) number(key string, n json.Number) (any, error) {
	if p, ok := plainInteger(string(n)); ok {
		if r, err := rd.number(key, json.Number(p)); err != nil || r != json.Number(p) {
			return r, err
		}
	}
	d := digitCount(string(n))
	if d < 5 {
		return n, nil
	}
	if d == 5 && len(n) == 5 && !postalKey(key) {
		held, err := rd.sess.Holds(rd.ctx, string(n))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDeidentify, err)
		}
		if !held {
			return n, nil
		}
	}
	r, err := rd.text(string(n))
	if err != nil || r == string(n) {
		return n, err
	}
	return r, nil
}

// postalKey reports whether an object key names a postal code (zip,
// zip_code, ZipCode, postal_code, postcode, plz, cep) or a place it is
// part of (address).
func postalKey(k string) bool {
	k = strings.ToLower(k)
	switch k {
	case "plz", "cep":
		return true
	}
	for _, w := range []string{"zip", "postal", "postcode", "address"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func (rd *redactor) stopSequences(raw json.RawMessage) (json.RawMessage, error) {
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, bad("stop_sequences: must be an array of strings")
	}
	for i, s := range ss {
		r, err := rd.text(s)
		if err != nil {
			return nil, err
		}
		ss[i] = r
	}
	return marshal(ss)
}

func (rd *redactor) metadata(raw json.RawMessage) (json.RawMessage, error) {
	// the API knows no member but user_id; a client's own is treated as
	// any field Ward does not know
	return rd.members(raw, "metadata", map[string]func(json.RawMessage) (json.RawMessage, error){
		"user_id": func(v json.RawMessage) (json.RawMessage, error) { return rd.rawText(v, "metadata.user_id") },
	})
}

// members rewrites the members of the JSON object raw (named field): one
// listed in special goes through its function (a null stays as it is),
// any other through member.
func (rd *redactor) members(raw json.RawMessage, field string,
	special map[string]func(json.RawMessage) (json.RawMessage, error)) (json.RawMessage, error) {
	m, err := object(raw, field)
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		if fn, ok := special[k]; ok {
			if !bytes.Equal(m[k], []byte("null")) {
				m[k], err = fn(m[k])
			}
		} else {
			m[k], err = rd.member(m, k, field)
		}
		if err != nil {
			return nil, err
		}
	}
	return marshal(m)
}

// walkScalars replaces every string value in v (not object keys) with
// str's result and every number with num's, an object's members in the
// order of their keys: placeholders are numbered by first occurrence, so
// the same value must always be walked in the same order. num is told the
// key of the member the number is (or is in, for an array's elements); ""
// outside any object.
func walkScalars(v any, str func(string) (string, error), num func(key string, n json.Number) (any, error)) (any, error) {
	return walkScalarsIn(v, "", str, num)
}

func walkScalarsIn(v any, key string, str func(string) (string, error), num func(string, json.Number) (any, error)) (any, error) {
	switch x := v.(type) {
	case string:
		return str(x)
	case json.Number:
		return num(key, x)
	case []any:
		for i := range x {
			r, err := walkScalarsIn(x[i], key, str, num)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			r, err := walkScalarsIn(x[k], k, str, num)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	}
	return v, nil
}

// walkStrings replaces every string value in v (not object keys) with
// fn's result, in the order of walkScalars.
func walkStrings(v any, fn func(string) (string, error)) (any, error) {
	return walkScalars(v, fn, func(_ string, n json.Number) (any, error) { return n, nil })
}

// objects splits a valid JSON array of objects (a part of a body object
// validated); ok is false when raw is anything else.
func objects(raw json.RawMessage) ([]map[string]json.RawMessage, bool) {
	elems, ok := splitArray(raw)
	if !ok {
		return nil, false
	}
	out := make([]map[string]json.RawMessage, len(elems))
	for i, e := range elems {
		if out[i], ok = splitObject(e); !ok {
			return nil, false
		}
	}
	return out, true
}

func decodeField(m map[string]json.RawMessage, name string, v any) error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func decodeAny(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
