package phi

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestHoldsStructure checks Session.Holds on the strings the gateway sends
// as they are: the structure an SDK and the API generate (tool ids, tool
// names, enums, model and beta names) is no identifier, even over many
// random ids, and identifiers written where structure goes are found, with
// the record and without it.
func TestHoldsStructure(t *testing.T) {
	ctx := context.Background()
	rec := &Record{Names: []string{"Rosa Martinez"}, BirthDate: "1961-03-14", MRN: "448812",
		Phones: []string{"415-555-0134"}, Emails: []string{"rosa.martinez@example.com"}, IDs: []string{"123-45-6789"}}
	for _, withRec := range []bool{false, true} {
		var r *Record
		if withRec {
			r = rec
		}
		s, err := testEngine(t).NewSession(r, SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"", "auto", "any", "tool", "none", "enabled", "disabled", "ephemeral", "5m", "1h",
			"json_schema", "get_weather", "lookup_patient_labs", "search_food_log", "compute_bmi_2",
			"claude-sonnet-4-5-20250929", "claude-3-5-haiku-latest", "container_011CPR5CNjB747bTd36fQLFk",
			"standard_only", "priority", "us", "clear_tool_uses_20250919", "input_tokens", "web_search_20250305",
			"str_replace_based_edit_tool", "interleaved-thinking-2025-05-14", "2023-06-01"} {
			if h, err := s.Holds(ctx, v); err != nil || h {
				t.Errorf("record=%v: Holds(%q) = %v, %v; want false", withRec, v, h, err)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		for i := 0; i < 20000; i++ {
			b := []byte("toolu_01")
			for range 22 {
				b = append(b, alnum[rng.IntN(len(alnum))])
			}
			if h, err := s.Holds(ctx, string(b)); err != nil || h {
				t.Fatalf("record=%v: Holds(%q) = %v, %v; want false", withRec, b, h, err)
			}
		}
		for _, v := range []string{"rosa.martinez@example.com", "SSN 123-45-6789", "123-45-6789", "MRN-448812",
			"https://example.com/patients/rosa", "42 Elm Street"} {
			if h, err := s.Holds(ctx, v); err != nil || !h {
				t.Errorf("record=%v: Holds(%q) = %v, %v; want true", withRec, v, h, err)
			}
		}
		if withRec {
			for _, v := range []string{"Rosa Martinez", "toolu_Rosa_Martinez", "note_448812", "call 415-555-0134", "DOB 1961-03-14",
				"born_1961-03-14"} {
				if h, err := s.Holds(ctx, v); err != nil || !h {
					t.Errorf("record: Holds(%q) = %v, %v; want true", v, h, err)
				}
			}
		}
		s.Close()
	}
}
