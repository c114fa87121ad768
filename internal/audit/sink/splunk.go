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
// A 200 answer with {"code":0} acknowledges it.
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
	resp, err := w.d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("splunk: %w", err)
	}
	defer resp.Body.Close()
	var ack struct {
		Text string `json:"text"`
		Code int    `json:"code"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("splunk: HEC answered %d", resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &ack); err != nil || ack.Code != 0 {
		return fmt.Errorf("splunk: HEC did not acknowledge the batch (code %d)", ack.Code)
	}
	return nil
}
