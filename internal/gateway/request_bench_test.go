package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/gateway/phi"
)

// BenchmarkRedactRequest is the gateway's own work on a request body beside
// the engine's on the same text (the baseline): the difference is parsing
// and re-encoding the JSON.
func BenchmarkRedactRequest(b *testing.B) {
	e, err := phi.New(phi.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rec := &phi.Record{Names: []string{"Rosalind Vantongeren"}, BirthDate: "1962-07-14", MRN: "MRN-884213",
		Phones: []string{"617-555-0142"}}
	note := "Rosalind Vantongeren (DOB 07/14/1962, MRN-884213) logged breakfast: oatmeal 40 g, " +
		"blueberries 75 g, coffee with 2% milk. Fasting glucose 126 mg/dL, BP 132/84. She asked Dr. Okafor " +
		"to call 617-555-0142 about metformin 500 mg BID. "
	for _, size := range []int{10 << 10, 64 << 10} {
		text := strings.Repeat(note, size/len(note)+1)[:size]
		// three turns of a third each, as a chat resends its history
		third := len(text) / 3
		body, _ := json.Marshal(map[string]any{"model": "claude-haiku-5-5", "max_tokens": 256,
			"system": "You help a dietitian.", "messages": []any{
				map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": text[:third]}}},
				map[string]any{"role": "assistant", "content": text[third : 2*third]},
				map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": text[2*third:]}}},
			}})
		run := func(b *testing.B, f func(s *phi.Session) error) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				s, err := e.NewSession(rec, phi.SessionOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := f(s); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		}
		name := map[int]string{10 << 10: "10KB", 64 << 10: "64KB"}[size]
		b.Run(name+"/engine", func(b *testing.B) {
			run(b, func(s *phi.Session) error {
				for _, t := range []string{"You help a dietitian.", text[:third], text[third : 2*third], text[2*third:]} {
					if _, err := s.Redact(context.Background(), t); err != nil {
						return err
					}
				}
				return nil
			})
		})
		b.Run(name+"/request", func(b *testing.B) {
			run(b, func(s *phi.Session) error {
				_, _, err := redactRequest(context.Background(), s, body, Policy{})
				return err
			})
		})
	}
}
