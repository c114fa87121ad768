package gateway

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/wardhq/ward/internal/gateway/phi"
)

// Usage is the token accounting of one call, as the upstream reported it.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// charged is what a call with this input and output counts against the
// org's token budget: the prompt, including what it wrote to the prompt
// cache (input_tokens leaves that out), and the output. Reads from the
// cache are not counted, as the upstream does not count them against its
// own input limit.
func (u Usage) charged(output int64) int64 {
	return max(u.InputTokens, 0) + max(u.CacheCreationInputTokens, 0) + max(output, 0)
}

// restorer re-identifies a reply with the call's session and counts the
// placeholders it could not restore.
type restorer struct {
	sess    *phi.Session
	unknown map[string]bool
}

func newRestorer(sess *phi.Session) *restorer {
	return &restorer{sess: sess, unknown: map[string]bool{}}
}

func (rs *restorer) text(s string) string {
	out, unk := rs.sess.Reidentify(s)
	rs.note(unk)
	return out
}

func (rs *restorer) note(unk []string) {
	for _, u := range unk {
		rs.unknown[u] = true
	}
}

func (rs *restorer) rawText(raw json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return raw
	}
	out, err := marshal(rs.text(s))
	if err != nil {
		return raw
	}
	return out
}

// value restores every string of a JSON value (a tool_use input).
func (rs *restorer) value(raw json.RawMessage) json.RawMessage {
	v, err := decodeAny(raw)
	if err != nil {
		return raw
	}
	v, _ = walkStrings(v, func(s string) (string, error) { return rs.text(s), nil })
	out, err := marshal(v)
	if err != nil {
		return raw
	}
	return out
}

// block restores one content block in place: text (and the cited text of
// its citations), the input of a tool_use, a server_tool_use and an
// mcp_tool_use. Other blocks pass unchanged.
func (rs *restorer) block(b map[string]json.RawMessage) {
	var typ string
	_ = decodeField(b, "type", &typ)
	switch typ {
	case "text":
		if t, ok := b["text"]; ok {
			b["text"] = rs.rawText(t)
		}
		if c, ok := b["citations"]; ok && len(c) > 0 && c[0] == '[' {
			var cs []map[string]json.RawMessage
			if json.Unmarshal(c, &cs) == nil {
				for _, ci := range cs {
					rs.citation(ci)
				}
				if out, err := marshal(cs); err == nil {
					b["citations"] = out
				}
			}
		}
	case "tool_use", "server_tool_use", "mcp_tool_use":
		if in, ok := b["input"]; ok {
			b["input"] = rs.value(in)
		}
	}
}

// citation restores what a citation quotes of a de-identified document:
// its cited text and the document's title.
func (rs *restorer) citation(c map[string]json.RawMessage) {
	for _, f := range []string{"cited_text", "document_title", "title"} {
		if v, ok := c[f]; ok && len(v) > 0 && v[0] == '"' {
			c[f] = rs.rawText(v)
		}
	}
}

// reply restores a non-streaming Messages reply and reads its usage and
// model. A body it cannot read is an error: the caller must not pass it on
// (it may hold placeholders, never PHI, but the client could not use it).
func (rs *restorer) reply(body []byte) ([]byte, Usage, error) {
	var u Usage
	top, err := object(body, "the upstream reply")
	if err != nil {
		return nil, u, err
	}
	if raw, ok := top["usage"]; ok {
		_ = json.Unmarshal(raw, &u)
	}
	if raw, ok := top["content"]; ok && !bytes.Equal(raw, []byte("null")) {
		var bs []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &bs); err != nil {
			return nil, u, bad("the upstream reply's content is not an array")
		}
		for _, b := range bs {
			rs.block(b)
		}
		if top["content"], err = marshal(bs); err != nil {
			return nil, u, err
		}
	}
	if raw, ok := top["stop_sequence"]; ok && len(raw) > 0 && raw[0] == '"' {
		top["stop_sequence"] = rs.rawText(raw)
	}
	out, err := marshal(top)
	return out, u, err
}

// jsonStream restores the string values of a tool_use input that arrives
// as partial JSON fragments (input_json_delta): outside strings the bytes
// pass as they are; inside a value string the escaped text is decoded, run
// through a phi.Stream (so a placeholder split across fragments is
// restored), and escaped again. Object keys pass as they came, as in a
// non-streamed reply (restorer.value): a key is a name the client's code
// reads, and one restored to an identifier would go back upstream in the
// next turn's history with nothing to mark it. Only an incomplete escape
// sequence and a possible placeholder prefix are held back.
type jsonStream struct {
	rs    *restorer
	inStr bool
	key   bool        // the open string is an object key
	str   *phi.Stream // nil in a key
	held  string      // an incomplete escape sequence at the end of a fragment
	nest  []byte      // the open containers, '{' or '['
	ahead bool        // in an object, where a key comes next
}

func (j *jsonStream) Write(frag string) string {
	var out strings.Builder
	s := j.held + frag
	j.held = ""
	i := 0
	for i < len(s) {
		if !j.inStr {
			k := strings.IndexAny(s[i:], `"{}[],:`)
			if k < 0 {
				out.WriteString(s[i:])
				break
			}
			c := s[i+k]
			out.WriteString(s[i : i+k+1])
			i += k + 1
			switch c {
			case '"':
				j.inStr = true
				j.key = j.ahead && len(j.nest) > 0 && j.nest[len(j.nest)-1] == '{'
				if !j.key {
					j.str = j.rs.sess.NewStream()
				}
			case '{', '[':
				j.nest = append(j.nest, c)
				j.ahead = c == '{'
			case '}', ']':
				if len(j.nest) > 0 {
					j.nest = j.nest[:len(j.nest)-1]
				}
				j.ahead = false
			case ',':
				j.ahead = len(j.nest) > 0 && j.nest[len(j.nest)-1] == '{'
			case ':':
				j.ahead = false
			}
			continue
		}
		start, incomplete := i, false
	scan:
		for i < len(s) && s[i] != '"' {
			if s[i] != '\\' {
				i++
				continue
			}
			n := escapeLen(s[i:])
			if n == 0 {
				incomplete = true
				break scan
			}
			i += n
		}
		if j.key {
			out.WriteString(s[start:i])
		} else {
			out.WriteString(escapeJSON(j.str.Write(unescapeJSON(s[start:i]))))
		}
		if incomplete {
			j.held = s[i:]
			break
		}
		if i < len(s) { // the closing quote
			if !j.key {
				rest, unk := j.str.Close()
				j.rs.note(unk)
				out.WriteString(escapeJSON(rest))
			}
			out.WriteByte('"')
			i++
			j.inStr, j.key, j.str, j.ahead = false, false, nil, false
		}
	}
	return out.String()
}

// Close returns what is held back at the end of the block.
func (j *jsonStream) Close() string {
	if !j.inStr || j.key {
		out := j.held
		j.held, j.inStr, j.key = "", false, false
		return out
	}
	rest, unk := j.str.Close()
	j.rs.note(unk)
	j.inStr, j.str = false, nil
	out := escapeJSON(rest) + j.held
	j.held = ""
	return out
}

// escapeLen is the length of the complete escape sequence at the start of
// s (which starts with a backslash), or 0 if s ends before it does. A high
// surrogate needs its low half too.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	if s[1] != 'u' {
		return 2
	}
	if len(s) < 6 {
		return 0
	}
	if h := strings.ToLower(s[2:4]); h >= "d8" && h <= "db" {
		if len(s) < 8 {
			return 0
		}
		if s[6] == '\\' && s[7] == 'u' {
			if len(s) < 12 {
				return 0
			}
			return 12
		}
	}
	return 6
}

func unescapeJSON(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
		return s // malformed upstream JSON: pass it as it came
	}
	return out
}

func escapeJSON(s string) string {
	b, err := marshal(s)
	if err != nil || len(b) < 2 {
		return ""
	}
	return string(b[1 : len(b)-1])
}
