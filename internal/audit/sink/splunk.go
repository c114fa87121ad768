package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

// splunkSender POSTs a batch to the HTTP Event Collector
// (/services/collector/event, "Authorization: Splunk <token>") as
// concatenated event objects:
//
//	{"time":<epoch seconds.micro>,"host":…,"source":"ward-audit","sourcetype":"ocsf:json",
//	 "event":{…},"fields":{"org_id":…,"seq":…,"action":…,"outcome":…}}
//
// A 200 answer with {"code":0} acknowledges it. Each request carries the
// sink's channel (X-Splunk-Request-Channel, the sink id); when the token
// has indexer acknowledgement on, HEC answers with an ackId, and the batch
// counts as delivered only once /services/collector/ack reports it
// indexed (polled for up to AckWait).
type splunkSender struct {
	d     *Deliverer
	token string
}

// HECEvent is one event as HEC receives it.
type HECEvent struct {
	Time       string            `json:"time"`
	Host       string            `json:"host"`
	Source     string            `json:"source"`
	Sourcetype string            `json:"sourcetype"`
	Event      json.RawMessage   `json:"event"`
	Fields     map[string]string `json:"fields"`
}

func (w *splunkSender) send(ctx context.Context, s *due, batch []*audit.Row) error {
	endpoint := s.Endpoint
	if u, err := url.Parse(endpoint); err == nil && (u.Path == "" || u.Path == "/") {
		u.Path = "/services/collector/event"
		endpoint = u.String()
	}
	st := map[string]string{"ocsf": "ocsf:json", "fhir": "fhir:auditevent", "jsonl": "ward:audit"}[s.Format]
	var body bytes.Buffer
	opts := export.Options{Site: w.d.cfg.Site}
	for _, r := range batch {
		e, err := eventJSON(s.Org, s.Format, r, opts)
		if err != nil {
			return err
		}
		us := r.At.UnixMicro()
		b, err := json.Marshal(HECEvent{Time: fmt.Sprintf("%d.%06d", us/1e6, us%1e6), Host: w.d.cfg.Site,
			Source: "ward-audit", Sourcetype: st, Event: e, Fields: map[string]string{"org_id": s.Org.String(),
				"seq": strconv.FormatInt(r.Seq, 10), "action": r.Action, "outcome": r.Outcome}})
		if err != nil {
			return err
		}
		body.Write(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return fmt.Errorf("splunk: %w", err)
	}
	req.Header.Set("Authorization", "Splunk "+w.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.ID.String())
	resp, err := w.d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("splunk: %w", err)
	}
	defer resp.Body.Close()
	var ack struct {
		Text  string `json:"text"`
		Code  int    `json:"code"`
		AckID *int64 `json:"ackId"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("splunk: HEC answered %d", resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &ack); err != nil || ack.Code != 0 {
		return fmt.Errorf("splunk: HEC did not acknowledge the batch (code %d)", ack.Code)
	}
	if ack.AckID == nil {
		return nil
	}
	return w.indexed(ctx, s, endpoint, *ack.AckID)
}

// indexed polls /services/collector/ack until HEC reports ackID indexed.
func (w *splunkSender) indexed(ctx context.Context, s *due, endpoint string, ackID int64) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("splunk: %w", err)
	}
	u.Path = "/services/collector/ack"
	body := fmt.Sprintf(`{"acks":[%d]}`, ackID)
	deadline := time.Now().Add(w.d.cfg.AckWait)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
		if err != nil {
			return fmt.Errorf("splunk: %w", err)
		}
		req.Header.Set("Authorization", "Splunk "+w.token)
		req.Header.Set("X-Splunk-Request-Channel", s.ID.String())
		resp, err := w.d.cfg.Client.Do(req)
		if err != nil {
			return fmt.Errorf("splunk: ack: %w", err)
		}
		var st struct {
			Acks map[string]bool `json:"acks"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return fmt.Errorf("splunk: ack: HEC answered %d", resp.StatusCode)
		}
		if st.Acks[strconv.FormatInt(ackID, 10)] {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("splunk: HEC did not report ack %d indexed within %s", ackID, w.d.cfg.AckWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.d.cfg.AckPoll):
		}
	}
}
