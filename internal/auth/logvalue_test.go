package auth

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The values that carry a secret are slog.LogValuers: a log line that
// names one writes its id, never its secret. (LogValue() any, as these
// were, is no LogValuer, and slog wrote every field.)
var (
	_ slog.LogValuer = CreatedAPIKey{}
	_ slog.LogValuer = TOTPEnrolment{}
	_ slog.LogValuer = Member{}
)

func TestSecretsStayOutOfLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	id := uuid.New()
	log.Info("created", "key", CreatedAPIKey{APIKey: APIKey{ID: id, Prefix: "sk_live_ab"}, Key: "sk_live_SECRETSECRET"},
		"totp", TOTPEnrolment{URI: "otpauth://totp/x?secret=JBSWY3DPSECRET", Secret: "JBSWY3DPSECRET"})
	out := buf.String()
	if strings.Contains(out, "SECRET") || !strings.Contains(out, id.String()) {
		t.Fatalf("log line: %s", out)
	}
}
