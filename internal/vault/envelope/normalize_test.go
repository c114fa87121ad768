package envelope_test

import (
	"testing"

	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestNormalizers(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"email/plain", envelope.NormalizeEmail, "jane@example.com", "jane@example.com"},
		{"email/case and space", envelope.NormalizeEmail, "  Jane.Doe@Example.COM\t\n", "jane.doe@example.com"},
		{"email/full-width", envelope.NormalizeEmail, "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "jane@example.com"},
		{"email/ideographic space", envelope.NormalizeEmail, "\u3000jane@example.com\u3000", "jane@example.com"},
		{"email/keeps plus tag", envelope.NormalizeEmail, "Jane+ward@example.com", "jane+ward@example.com"},
		{"email/composed vs decomposed", envelope.NormalizeEmail, "zoe\u0308@example.com", "zoë@example.com"},
		{"email/empty", envelope.NormalizeEmail, "   ", ""},

		{"id/plain", envelope.NormalizeIdentifier, "MRN12345", "MRN12345"},
		{"id/lower, spaces, hyphens", envelope.NormalizeIdentifier, " mrn 123-45-ab ", "MRN12345AB"},
		{"id/en dash and minus sign", envelope.NormalizeIdentifier, "12\u201334\u221256", "123456"},
		{"id/tab and nbsp", envelope.NormalizeIdentifier, "ab\tcd\u00a0ef", "ABCDEF"},
		{"id/full-width", envelope.NormalizeIdentifier, "ＡＢ－１２", "AB12"},
		{"id/keeps other punctuation", envelope.NormalizeIdentifier, "wc.2024/07", "WC.2024/07"},
		{"id/empty", envelope.NormalizeIdentifier, " - ", ""},

		{"phone/us formatted", envelope.NormalizePhone, "+1 (555) 010-0199", "5550100199"},
		{"phone/dots", envelope.NormalizePhone, "555.010.0199", "5550100199"},
		{"phone/bare 10", envelope.NormalizePhone, "5550100199", "5550100199"},
		{"phone/bare 11 with 1", envelope.NormalizePhone, "15550100199", "5550100199"},
		{"phone/11 not starting 1", envelope.NormalizePhone, "25550100199", "25550100199"},
		{"phone/uk keeps country code", envelope.NormalizePhone, "+44 20 7946 0958", "442079460958"},
		{"phone/extension kept", envelope.NormalizePhone, "555-010-0199 ext. 12", "555010019912"},
		{"phone/full-width digits", envelope.NormalizePhone, "５５５０１００１９９", "5550100199"},
		{"phone/letters dropped", envelope.NormalizePhone, "call me", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Normalising twice changes nothing.
			if got := tt.fn(tt.fn(tt.in)); got != tt.want {
				t.Errorf("not idempotent: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEmailDomain(t *testing.T) {
	for in, want := range map[string]string{
		"alice@hospital.example":                          "hospital.example",
		"\"a@b\"@clinic.example":                          "clinic.example", // the last @ starts the domain
		envelope.NormalizeEmail(" Bob@Hospital.EXAMPLE "): "hospital.example",
		"no-at-sign": "",
		"trailing@":  "",
		// UTS #46, as mail software looks the domain up.
		"nurse@hospital\u3002test": "hospital.test",
		"nurse@hospital\uff0etest": "hospital.test",
		"ann@hospi\u00adtal.test":  "hospital.test",
		"bo@hospital\u200b.test":   "hospital.test",
		"x@hospital.test.":         "hospital.test",
		"y@b\u00fccher.example":    "xn--bcher-kva.example",
		"z@under_score.example":    "under_score.example", // refused by UTS #46: as written
	} {
		if got := envelope.EmailDomain(in); got != want {
			t.Errorf("EmailDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
