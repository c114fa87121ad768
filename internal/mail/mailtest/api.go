package mailtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Msg is a message as Mailpit stored it.
type Msg struct {
	ID        string // Mailpit's ID, for Raw
	MessageID string // the Message-ID header, without angle brackets
	From      string // address only
	To        []string
	Subject   string // decoded
	// Text is the decoded plain-text body with line endings normalised to "\n".
	Text string
	// Headers holds the raw (undecoded) header fields, keyed canonically
	// ("Content-Type", "Message-Id").
	Headers map[string][]string
}

// pollInterval is how often WaitFor asks Mailpit.
const pollInterval = 50 * time.Millisecond

// defaultWait bounds WaitFor when ctx has no deadline.
const defaultWait = 10 * time.Second

// WaitFor polls until a message to the address to arrives and returns the
// newest such message. Matching is exact on the address (case-insensitive),
// not Mailpit's substring search. It returns an error wrapping ctx's error
// if none arrives before ctx ends (or within 10 s if ctx has no deadline).
func (s *Server) WaitFor(ctx context.Context, to string) (Msg, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultWait)
		defer cancel()
	}
	for {
		found, err := s.search(ctx, to)
		if err != nil {
			return Msg{}, err
		}
		if len(found) > 0 {
			return s.get(ctx, found[0].ID)
		}
		select {
		case <-ctx.Done():
			return Msg{}, fmt.Errorf("mailtest: no message to %s: %w", to, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Count returns how many stored messages are addressed to exactly to.
func (s *Server) Count(ctx context.Context, to string) (int, error) {
	found, err := s.search(ctx, to)
	return len(found), err
}

// Reset deletes every stored message.
func (s *Server) Reset(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, "/api/v1/messages", nil)
}

// Raw returns the message with Mailpit ID id exactly as received over SMTP.
func (s *Server) Raw(ctx context.Context, id string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.apiURL+"/api/v1/message/"+url.PathEscape(id)+"/raw", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailtest: raw %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailtest: raw %s: status %s", id, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

type address struct {
	Name    string
	Address string
}

type summary struct {
	ID        string
	MessageID string
	To        []address
}

// search returns the messages, newest first, with to among their To
// addresses.
func (s *Server) search(ctx context.Context, to string) ([]summary, error) {
	q := url.Values{"query": {"to:" + to}, "limit": {"1000"}}
	var res struct {
		Messages []summary `json:"messages"`
	}
	if err := s.do(ctx, http.MethodGet, "/api/v1/search?"+q.Encode(), &res); err != nil {
		return nil, err
	}
	var found []summary
	for _, m := range res.Messages {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				found = append(found, m)
				break
			}
		}
	}
	return found, nil
}

// get fetches one message and its headers.
func (s *Server) get(ctx context.Context, id string) (Msg, error) {
	var m struct {
		ID        string
		MessageID string
		From      address
		To        []address
		Subject   string
		Text      string
	}
	path := "/api/v1/message/" + url.PathEscape(id)
	if err := s.do(ctx, http.MethodGet, path, &m); err != nil {
		return Msg{}, err
	}
	var headers map[string][]string
	if err := s.do(ctx, http.MethodGet, path+"/headers", &headers); err != nil {
		return Msg{}, err
	}
	msg := Msg{
		ID:        m.ID,
		MessageID: m.MessageID,
		From:      m.From.Address,
		Subject:   m.Subject,
		Text:      strings.ReplaceAll(m.Text, "\r\n", "\n"),
		Headers:   headers,
	}
	for _, a := range m.To {
		msg.To = append(msg.To, a.Address)
	}
	return msg, nil
}

// do sends one API request and decodes a JSON reply into out, if non-nil.
func (s *Server) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.apiURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("mailtest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("mailtest: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mailtest: %s %s: decode: %w", method, path, err)
	}
	return nil
}
