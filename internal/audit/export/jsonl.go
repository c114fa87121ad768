package export

import (
	"bufio"
	"encoding/hex"
	"strconv"

	"github.com/wardhq/ward/internal/audit"
)

// jsonlEncoder writes {"chain_hash":…,"event":<canonical>,"leaf_hash":…,"seq":N}
// per line: keys in JCS order, the event's canonical bytes verbatim.
type jsonlEncoder struct{ buf []byte }

func (e *jsonlEncoder) begin(*bufio.Writer) error { return nil }
func (e *jsonlEncoder) end(*bufio.Writer) error   { return nil }

func (e *jsonlEncoder) event(w *bufio.Writer, r *audit.Row) error {
	_, err := w.Write(appendJSONL(e.buf[:0], r))
	return err
}

// appendJSONL appends r's JSON Lines record, with its newline.
func appendJSONL(b []byte, r *audit.Row) []byte {
	b = append(b, `{"chain_hash":"`...)
	b = hex.AppendEncode(b, r.ChainHash)
	b = append(b, `","event":`...)
	b = append(b, r.Canonical...)
	b = append(b, `,"leaf_hash":"`...)
	b = hex.AppendEncode(b, r.LeafHash)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	return append(b, "}\n"...)
}

// JSONLine returns r's JSON Lines record without its newline.
func JSONLine(r *audit.Row) []byte {
	b := appendJSONL(nil, r)
	return b[:len(b)-1]
}
