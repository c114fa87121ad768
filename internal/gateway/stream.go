package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/wardhq/ward/internal/gateway/phi"
)

// maxLine bounds one SSE line from the upstream (the SDK's own cap).
const maxLine = 32 << 20

// event is one server-sent event. named is false for a frame without an
// event: line (relayed the same way).
type event struct {
	name  string
	named bool
	data  []byte
}

// typ is the event's type: its event: line, else its data's "type".
func (e *event) typ() string {
	if e.named {
		return e.name
	}
	var t struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(e.data, &t)
	return t.Type
}

func (e *event) encode(w io.Writer) error {
	var b bytes.Buffer
	if e.named {
		b.WriteString("event: ")
		b.WriteString(e.name)
		b.WriteByte('\n')
	}
	for _, line := range bytes.Split(e.data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

var errLineTooLong = errors.New("gateway: upstream event line too long")

// readEvent reads the next event. Comments and id/retry fields are
// dropped; io.EOF when the stream ends between events. An event whose
// data lines add up to more than maxLine is errLineTooLong, as one line
// that long is: many shorter lines would otherwise be held without bound.
func readEvent(br *bufio.Reader) (event, error) {
	var e event
	var data [][]byte
	seen := false
	size := 0
	for {
		line, err := readLine(br)
		if err != nil {
			if err == io.EOF && seen {
				err = io.ErrUnexpectedEOF
			}
			return e, err
		}
		if len(line) == 0 {
			if !seen {
				continue
			}
			e.data = bytes.Join(data, []byte("\n"))
			return e, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			e.name, e.named, seen = string(value), true, true
		case "data":
			if size += len(value) + 1; size > maxLine {
				return e, errLineTooLong
			}
			data = append(data, bytes.Clone(value))
			seen = true
		}
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && !(err == io.EOF && len(line) > 0) {
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
}

// relay re-identifies one stream's events: one state per content block
// index, events and indexes passed through in order, only a possible
// placeholder prefix held back, flushed before content_block_stop.
type relay struct {
	rs     *restorer
	text   map[int]*phi.Stream
	json   map[int]*jsonStream
	input  Usage // from message_start
	output int64 // output tokens, cumulative in message_delta
	done   bool  // message_stop seen
}

func newRelay(rs *restorer) *relay {
	return &relay{rs: rs, text: map[int]*phi.Stream{}, json: map[int]*jsonStream{}}
}

var errBadEvent = errors.New("gateway: the upstream sent an event that is not JSON")

type blockEvent struct {
	Index        int             `json:"index"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        json.RawMessage `json:"delta"`
}

// handle turns one upstream event into the events to send the client.
func (rl *relay) handle(e event) ([]event, error) {
	switch e.typ() {
	case "message_start":
		var ms struct {
			Message struct {
				Usage Usage `json:"usage"`
			} `json:"message"`
		}
		_ = json.Unmarshal(e.data, &ms)
		rl.input = ms.Message.Usage
	case "content_block_start":
		return rl.blockStart(e)
	case "content_block_delta":
		return rl.blockDelta(e)
	case "content_block_stop":
		return rl.blockStop(e)
	case "message_delta":
		return rl.messageDelta(e)
	case "message_stop":
		rl.done = true
	}
	return []event{e}, nil
}

func (rl *relay) blockStart(e event) ([]event, error) {
	var be blockEvent
	if err := json.Unmarshal(e.data, &be); err != nil {
		return nil, errBadEvent
	}
	b, err := object(be.ContentBlock, "content_block")
	if err != nil {
		return nil, errBadEvent
	}
	var typ string
	_ = decodeField(b, "type", &typ)
	switch typ {
	case "text":
		st := rl.rs.sess.NewStream()
		rl.text[be.Index] = st
		var t string
		if decodeField(b, "text", &t) == nil && t != "" {
			if b["text"], err = marshal(st.Write(t)); err != nil {
				return nil, err
			}
		}
	case "tool_use", "server_tool_use", "mcp_tool_use":
		rl.json[be.Index] = &jsonStream{rs: rl.rs}
		if in, ok := b["input"]; ok {
			b["input"] = rl.rs.value(in)
		}
	default:
		return []event{e}, nil
	}
	return rl.rewrite(e, func(m map[string]json.RawMessage) error {
		var err error
		m["content_block"], err = marshal(b)
		return err
	})
}

func (rl *relay) blockDelta(e event) ([]event, error) {
	var be blockEvent
	if err := json.Unmarshal(e.data, &be); err != nil {
		return nil, errBadEvent
	}
	d, err := object(be.Delta, "delta")
	if err != nil {
		return nil, errBadEvent
	}
	var typ, field, in, out string
	_ = decodeField(d, "type", &typ)
	switch typ {
	case "text_delta":
		st, ok := rl.text[be.Index]
		if !ok {
			return nil, errBadEvent
		}
		field = "text"
		_ = decodeField(d, field, &in)
		out = st.Write(in)
	case "input_json_delta":
		js, ok := rl.json[be.Index]
		if !ok {
			return nil, errBadEvent
		}
		field = "partial_json"
		_ = decodeField(d, field, &in)
		out = js.Write(in)
	case "citations_delta":
		// a citation arrives whole: restore what it quotes
		return rl.rewrite(e, func(m map[string]json.RawMessage) error {
			c, err := object(d["citation"], "citation")
			if err != nil {
				return err
			}
			rl.rs.citation(c)
			if d["citation"], err = marshal(c); err != nil {
				return err
			}
			m["delta"], err = marshal(d)
			return err
		})
	default: // thinking and signature deltas pass unchanged
		return []event{e}, nil
	}
	if out == "" && in != "" {
		return nil, nil // all held back: the next delta or the block's end carries it
	}
	if out == in {
		return []event{e}, nil
	}
	return rl.rewrite(e, func(m map[string]json.RawMessage) error {
		var err error
		if d[field], err = marshal(out); err != nil {
			return err
		}
		m["delta"], err = marshal(d)
		return err
	})
}

// blockStop flushes what the block's state held back as one more delta,
// then relays the stop.
func (rl *relay) blockStop(e event) ([]event, error) {
	var be blockEvent
	if err := json.Unmarshal(e.data, &be); err != nil {
		return nil, errBadEvent
	}
	var typ, field, rest string
	if st, ok := rl.text[be.Index]; ok {
		var unk []string
		rest, unk = st.Close()
		rl.rs.note(unk)
		typ, field = "text_delta", "text"
		delete(rl.text, be.Index)
	} else if js, ok := rl.json[be.Index]; ok {
		rest = js.Close()
		typ, field = "input_json_delta", "partial_json"
		delete(rl.json, be.Index)
	}
	if rest == "" {
		return []event{e}, nil
	}
	data, err := marshal(map[string]any{"type": "content_block_delta", "index": be.Index,
		"delta": map[string]string{"type": typ, field: rest}})
	if err != nil {
		return nil, err
	}
	return []event{{name: "content_block_delta", named: e.named, data: data}, e}, nil
}

func (rl *relay) messageDelta(e event) ([]event, error) {
	var md struct {
		Delta map[string]json.RawMessage `json:"delta"`
		Usage struct {
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(e.data, &md); err != nil {
		return nil, errBadEvent
	}
	rl.output = md.Usage.OutputTokens
	ss, ok := md.Delta["stop_sequence"]
	if !ok || len(ss) == 0 || ss[0] != '"' {
		return []event{e}, nil
	}
	md.Delta["stop_sequence"] = rl.rs.rawText(ss)
	return rl.rewrite(e, func(m map[string]json.RawMessage) error {
		var err error
		m["delta"], err = marshal(md.Delta)
		return err
	})
}

// rewrite re-encodes e's data after fn changed its fields; the fields it
// does not touch pass as they came.
func (rl *relay) rewrite(e event, fn func(map[string]json.RawMessage) error) ([]event, error) {
	m, err := object(e.data, "event")
	if err != nil {
		return nil, errBadEvent
	}
	if err := fn(m); err != nil {
		return nil, err
	}
	if e.data, err = marshal(m); err != nil {
		return nil, err
	}
	return []event{e}, nil
}

// streamError is the event that ends a stream Ward cannot finish: the
// Anthropic error event, which the SDKs raise as an error, with Ward's
// code in error.details.error_code and at the end of the message, as
// Ward's errors before a stream have it.
func streamError(typ, code, msg string) event {
	data, _ := marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg + " (" + code + ")",
		"details": map[string]string{"error_code": code}}})
	return event{name: "error", named: true, data: data}
}
