package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

// webhookSender POSTs a batch as one Standard Webhooks message:
//
//	webhook-id:        <org>.<first seq>-<last seq>
//	webhook-timestamp: Unix seconds
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
//	                   (one per live secret, space-separated, during a rotation)
//
// with the body {"type":"audit.events","timestamp":…,"data":{"org_id",
// "first_seq","last_seq","format","events":[…]}}. Any 2xx acknowledges it.
type webhookSender struct {
	d       *Deliverer
	secrets []string // "whsec_…", the current first
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      WebhookPayload `json:"data"`
}

// WebhookPayload is a webhook batch.
type WebhookPayload struct {
	Org      string            `json:"org_id"`
	FirstSeq int64             `json:"first_seq"`
	LastSeq  int64             `json:"last_seq"`
	Format   string            `json:"format"`
	Events   []json.RawMessage `json:"events"`
}

func (w *webhookSender) send(ctx context.Context, s *due, batch []*audit.Row) error {
	p := WebhookPayload{Org: s.Org.String(), FirstSeq: batch[0].Seq, LastSeq: batch[len(batch)-1].Seq, Format: s.Format}
	opts := export.Options{Site: w.d.cfg.Site}
	for _, r := range batch {
		e, err := eventJSON(s.Org, s.Format, r, opts)
		if err != nil {
			return err
		}
		p.Events = append(p.Events, e)
	}
	now := time.Now()
	body, err := json.Marshal(WebhookBody{Type: "audit.events", Timestamp: now.UTC().Format(time.RFC3339), Data: p})
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%s.%d-%d", s.Org, p.FirstSeq, p.LastSeq)
	ts := strconv.FormatInt(now.Unix(), 10)
	var sigs []string
	for _, sec := range w.secrets {
		sig, err := Sign(sec, id, ts, body)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ward-Audit-Webhook/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := w.d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: the receiver answered %d", resp.StatusCode)
	}
	return nil
}

// Sign returns the Standard Webhooks v1 signature of a message under a
// "whsec_" secret: "v1," and the base64 of HMAC-SHA256(key, id "."
// timestamp "." body), the key being the secret's base64 part decoded.
func Sign(secret, id, timestamp string, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook: malformed secret")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}
