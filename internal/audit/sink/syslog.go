package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

// syslogSender writes a batch over one TLS connection (RFC 5425), each
// event an RFC 5424 message framed by octet counting ("LEN SP MSG"):
//
//	<PRI>1 TIMESTAMP HOSTNAME ward - MSGID [ward@PEN org="…" seq="…" action="…" outcome="…" leaf="…" chain="…"] BOM JSON
//
// PRI is facility 13 (log audit) with severity 6 (informational) for a
// success and 4 (warning) for a refusal or failure; MSGID is the action
// (its first 32 characters); the message is the event in the sink's format.
// A batch is acknowledged when every frame was written and the connection
// closed cleanly (syslog over TLS has no application acknowledgement).
type syslogSender struct{ d *Deliverer }

func (w *syslogSender) send(ctx context.Context, s *due, batch []*audit.Row) error {
	dialer := &tls.Dialer{NetDialer: dialer(w.d.cfg), Config: w.d.cfg.TLS}
	conn, err := dialer.DialContext(ctx, "tcp", s.Endpoint)
	if err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var buf bytes.Buffer
	opts := export.Options{Site: w.d.cfg.Site}
	for _, r := range batch {
		msg, err := SyslogMessage(s.Org.String(), w.d.cfg.Site, w.d.cfg.PEN, r, func(r *audit.Row) ([]byte, error) {
			return eventJSON(s.Org, s.Format, r, opts)
		})
		if err != nil {
			return err
		}
		buf.WriteString(strconv.Itoa(len(msg)))
		buf.WriteByte(' ')
		buf.Write(msg)
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	if err := conn.(*tls.Conn).CloseWrite(); err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	return nil
}

// SyslogMessage renders one event as an RFC 5424 message (without its
// octet count).
func SyslogMessage(org, host string, pen int, r *audit.Row, body func(*audit.Row) ([]byte, error)) ([]byte, error) {
	sev := 6
	if r.Outcome != audit.OutcomeSuccess {
		sev = 4
	}
	msgid := r.Action
	if len(msgid) > 32 {
		msgid = msgid[:32]
	}
	js, err := body(r)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s ward - %s [ward@%d org=\"%s\" seq=\"%d\" action=\"%s\" outcome=\"%s\" leaf=\"%x\" chain=\"%x\"] ",
		13*8+sev, r.At.UTC().Format("2006-01-02T15:04:05.000000Z"), printusascii(host, 255), msgid, pen,
		sdEscape(org), r.Seq, sdEscape(r.Action), sdEscape(r.Outcome), r.LeafHash, r.ChainHash)
	b.WriteString("\ufeff")
	b.Write(js)
	return b.Bytes(), nil
}

// sdEscape escapes an SD-PARAM value: ", \ and ] (RFC 5424 §6.3.3).
func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}

// printusascii keeps a header field within PRINTUSASCII and its length.
func printusascii(s string, n int) string {
	out := []byte{}
	for i := 0; i < len(s) && len(out) < n; i++ {
		if s[i] >= 33 && s[i] <= 126 {
			out = append(out, s[i])
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}
