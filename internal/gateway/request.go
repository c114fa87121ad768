package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"

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
)

func bad(format string, args ...any) error { return errkind.Visiblef(ErrBadRequest, format, args...) }

func unsupported(what string) error {
	return errkind.Visiblef(ErrUnsupported, "%s is not accepted: Ward cannot de-identify it", what)
}

// modelName is what a model name may be: it goes to the upstream and the
// audit log as it is, so it cannot carry free text.
var modelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._:@/-]{1,100}$`) }) // compiled on first use, not at start-up

// meta is what the gateway reads from a request besides its text.
type meta struct {
	Model  string
	Stream bool
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
	rd := &redactor{ctx: ctx, sess: sess, pol: pol}
	if raw, ok := top["mcp_servers"]; ok && !bytes.Equal(raw, []byte("null")) {
		if !pol.allows(AllowMCP) {
			return nil, m, unsupported("mcp_servers")
		}
		rd.passed++
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
	// Every other field: the ones known to carry no text pass; anything
	// else (a field newer than Ward, or a client's own) passes with its
	// prose de-identified.
	for _, k := range sortedKeys(top) {
		if requestHandled[k] || requestStructural[k] {
			continue
		}
		out, err := rd.rest(top[k], k)
		if err != nil {
			return nil, m, err
		}
		top[k] = out
	}
	out, err := marshal(top)
	m.Unredacted = rd.passed
	return out, m, err
}

// text de-identifies one string.
func (rd *redactor) text(s string) (string, error) {
	res, err := rd.sess.Redact(rd.ctx, s)
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
		var typ string
		_ = decodeField(t, "type", &typ)
		if typ != "" && typ != "custom" {
			if !rd.pol.allows(AllowServerTools) {
				return nil, unsupported(fmt.Sprintf("tools[%d]: a server tool", i))
			}
			rd.passed++
			continue
		}
		if d, ok := t["description"]; ok {
			out, err := rd.rawText(d, fmt.Sprintf("tools[%d].description", i))
			if err != nil {
				return nil, err
			}
			t["description"] = out
		}
		if sc, ok := t["input_schema"]; ok && !bytes.Equal(sc, []byte("null")) {
			out, err := rd.schema(sc, fmt.Sprintf("tools[%d].input_schema", i))
			if err != nil {
				return nil, err
			}
			t["input_schema"] = out
		}
	}
	return marshal(tools)
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
	"system": true, "messages": true, "stop_sequences": true, "metadata": true}

// requestStructural are the Messages API's top-level fields that carry no
// free text: numbers, enums and configuration objects. They pass as they
// are; a tool_choice names a tool, and tool names are structure (the
// client's own code dispatches on them).
var requestStructural = map[string]bool{"max_tokens": true, "temperature": true, "top_p": true, "top_k": true,
	"tool_choice": true, "thinking": true, "service_tier": true, "container": true,
	"context_management": true, "inference_geo": true}

// blockStructural are the members of a content block that carry no free
// text, by block type ("" for every type); a block's other members
// (cache_control among them) pass through rest. The members a block's case
// rewrites are listed too.
var blockStructural = map[string]map[string]bool{
	"":                  {"type": true},
	"text":              {"text": true, "citations": true},
	"tool_use":          {"id": true, "name": true, "input": true},
	"tool_result":       {"tool_use_id": true, "content": true, "is_error": true},
	"document":          {"source": true, "title": true, "context": true, "citations": true},
	"thinking":          {"thinking": true, "signature": true},
	"redacted_thinking": {"data": true},
}

// identifierLike reports whether s reads as an identifier or an enum value
// ("ephemeral", "5m", "json_schema", "container_011CPR…"): one run of
// letters, digits and _ . : - that starts with a letter, at most 128 bytes.
// rest lets such strings pass, because rewriting them would break the
// fields they configure and the engine takes some of them for names or
// codes; every other string is prose and is de-identified.
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

// rest de-identifies a field Ward does not know: its structure, numbers,
// booleans and identifier-like strings stay; every other string is
// de-identified. So a field added to the API after this code passes (its
// values are configuration), and text put where Ward does not look for it
// still never leaves as it is.
func (rd *redactor) rest(raw json.RawMessage, field string) (json.RawMessage, error) {
	if len(raw) > 0 && raw[0] != '"' && raw[0] != '{' && raw[0] != '[' {
		return raw, nil // a number, a boolean or null
	}
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	changed := false
	v, err = walkStrings(v, func(s string) (string, error) {
		if identifierLike(s) {
			return s, nil
		}
		r, err := rd.text(s)
		changed = changed || r != s
		return r, err
	})
	if err != nil || !changed {
		return raw, err
	}
	return marshal(v)
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
			case "type", "document_index", "start_char_index", "end_char_index", "start_page_number",
				"end_page_number", "start_block_index", "end_block_index", "search_result_index",
				"encrypted_index", "url", "file_id":
			default:
				c[k], err = rd.rest(c[k], fmt.Sprintf("%s[%d].%s", at, i, k))
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
		if b[k], err = rd.rest(b[k], at+"."+k); err != nil {
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

// messageBlocks are the block types a message may hold.
var messageBlocks = map[string]bool{"text": true, "tool_use": true, "tool_result": true, "thinking": true,
	"redacted_thinking": true, "image": true, "document": true}

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
		if !allowed[typ] {
			return nil, unsupported(fmt.Sprintf("%s[%d]: a %q block", field, i, typ))
		}
		at := fmt.Sprintf("%s[%d]", field, i)
		var err error
		whole := false // a block the org's policy lets pass as it is
		switch typ {
		case "image":
			if !rd.pol.allows(AllowImages) {
				return nil, unsupported(fmt.Sprintf("%s: an image", at))
			}
			rd.passed++
			whole = true
		case "document":
			whole, err = rd.document(b, at)
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
			if in, ok := b["input"]; ok {
				b["input"], err = rd.value(in, at+".input")
			}
		case "tool_result":
			c, ok := b["content"]
			switch {
			case !ok || bytes.Equal(c, []byte("null")):
			case len(c) > 0 && c[0] == '"':
				b["content"], err = rd.rawText(c, at+".content")
			default:
				b["content"], err = rd.blocks(c, at+".content", map[string]bool{"text": true, "image": true,
					"document": true})
			}
		}
		// thinking and redacted_thinking pass untouched: their signatures
		// are checked upstream, and Ward never restores identifiers in the
		// reply's thinking, so a resent one holds placeholders only
		if err == nil && !whole {
			err = rd.blockRest(b, typ, at)
		}
		if err != nil {
			return nil, err
		}
	}
	return marshal(bs)
}

// document de-identifies a document block whose source is plain text (its
// data, title and context); any other source (a PDF, a URL, a file, a
// content array) is Ward's to refuse unless the org allows documents.
func (rd *redactor) document(b map[string]json.RawMessage, at string) (passed bool, err error) {
	src, err := object(b["source"], at+".source")
	if err != nil {
		return false, bad("%s.source: required", at)
	}
	var st string
	_ = decodeField(src, "type", &st)
	if st != "text" {
		if !rd.pol.allows(AllowDocuments) {
			return false, unsupported(fmt.Sprintf("%s: a document with a %q source", at, st))
		}
		rd.passed++
		return true, nil
	}
	d, ok := src["data"]
	if !ok {
		return false, bad("%s.source.data: required", at)
	}
	if src["data"], err = rd.rawText(d, at+".source.data"); err != nil {
		return false, err
	}
	if b["source"], err = marshal(src); err != nil {
		return false, err
	}
	for _, f := range []string{"title", "context"} {
		if v, ok := b[f]; ok && !bytes.Equal(v, []byte("null")) {
			if b[f], err = rd.rawText(v, at+"."+f); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// schemaText are the JSON Schema keywords whose strings are prose or
// example values (and so may name someone); the rest (type, format,
// pattern, $ref, property names) are structure and stay.
var schemaText = map[string]bool{"description": true, "title": true, "examples": true, "default": true,
	"const": true, "enum": true}

// schema de-identifies a tool's input schema: the strings under
// schemaText keywords, at any depth.
func (rd *redactor) schema(raw json.RawMessage, field string) (json.RawMessage, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				var err error
				if schemaText[k] {
					x[k], err = walkStrings(sub, rd.text)
				} else {
					x[k], err = walk(sub)
				}
				if err != nil {
					return nil, err
				}
			}
		case []any:
			for i := range x {
				r, err := walk(x[i])
				if err != nil {
					return nil, err
				}
				x[i] = r
			}
		}
		return v, nil
	}
	if v, err = walk(v); err != nil {
		return nil, err
	}
	return marshal(v)
}

// value de-identifies every string in a JSON value (a tool's input): the
// structure and the keys stay.
func (rd *redactor) value(raw json.RawMessage, field string) (json.RawMessage, error) {
	v, err := decodeAny(raw)
	if err != nil {
		return nil, bad("%s: not JSON", field)
	}
	v, err = walkStrings(v, rd.text)
	if err != nil {
		return nil, err
	}
	return marshal(v)
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
	md, err := object(raw, "metadata")
	if err != nil {
		return nil, err
	}
	if u, ok := md["user_id"]; ok && !bytes.Equal(u, []byte("null")) {
		if md["user_id"], err = rd.rawText(u, "metadata.user_id"); err != nil {
			return nil, err
		}
	}
	return marshal(md)
}

// walkStrings replaces every string value in v (not object keys) with
// fn's result.
func walkStrings(v any, fn func(string) (string, error)) (any, error) {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for i := range x {
			r, err := walkStrings(x[i], fn)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	case map[string]any:
		for k := range x {
			r, err := walkStrings(x[k], fn)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	}
	return v, nil
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
