package httpapi

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/compliance"
	"github.com/wardhq/ward/internal/sso"
)

// consoleAdminTemplateData is TestConsoleTemplates' empty data for the
// admin pages of console_admin.go.
var consoleAdminTemplateData = map[string]any{"apikeys": apiKeysPage{}, "holds": holdsPage{}, "breach": breachPage{},
	"compliance": complianceView{&compliance.Report{Summary: map[compliance.Status]int{}}}}

// The admin pages and forms render with data in them too: the policies
// page with every policy (an admin's forms, a member's sentences), the
// API keys page with a new key's secret, the holds page with an active
// and a released hold, the emergency-access page with designations.
func TestConsoleTemplatesAdmin(t *testing.T) {
	now := time.Now()
	id := uuid.New()
	more := &policiesMore{Risk: "40", RiskWeights: auth.RiskWeights, Roles: bindableRoles, Bound: map[string]bool{"admin": true},
		SSO: &sso.Policy{EnforceSSO: true}, Gateway: &gatewayView{Providers: "anthropic", Dates: "shift", ZIP: "zip3",
			Kinds: gatewayAllowKinds, Allow: map[string]bool{"images": true}, KeepOrganization: true, RPM: 60, TPM: 100000}}
	pages := []struct {
		name string
		data any
		want []string
	}{
		{"policies", policiesPage{Binding: auth.DeviceBindingPolicy{RequiredFor: []string{"admin"}}, More: more},
			[]string{`action="/policies/risk"`, `value="40"`, `id="bind-admin" name="role" value="admin" checked`,
				`id="enforce-sso" name="enforce_sso" value="yes" checked`, `<option value="shift" selected>`,
				`id="gw-allow-images" name="allow" value="images" checked`, `id="gw-keep-org" name="keep_organization" value="yes" checked`}},
		{"apikeys", apiKeysPage{Scopes: auth.APIKeyScopes, Keys: []auth.APIKey{{ID: id, Name: "billing export", Prefix: "sk_live_abcd",
			Scopes: []string{"audit:read"}, CreatedAt: now}}, Created: &auth.CreatedAPIKey{Key: "sk_live_secret", APIKey: auth.APIKey{Name: "x"}}},
			[]string{`id="api-key-secret">sk_live_secret<`, `action="/api-keys/` + id.String() + `/revoke"`}},
		{"holds", holdsPage{Holds: []cases.Hold{{ID: id, CaseID: &id, Reason: "Matter 12", CreatedAt: now, Active: true},
			{ID: uuid.New(), Reason: "Matter 9", CreatedAt: now, ReleasedAt: &now, ReleaseNote: "settled"}}},
			[]string{`action="/legal-holds/` + id.String() + `/release"`, `href="/cases/` + id.String() + `"`, "the whole org", "settled"}},
		{"breakglass", breakGlassPage{Staff: []designation{{UserID: id, Email: "a@example.test", Role: "provider"},
			{UserID: uuid.New(), Email: "b@example.test", Role: "lead", Designated: true, Since: now}}},
			[]string{`action="/break-glass/users/` + id.String() + `/designate"`, `/stop"`}},
	}
	for _, p := range pages {
		var b strings.Builder
		if err := consolePages()[p.name].ExecuteTemplate(&b, "layout", consolePage{Title: p.name, Me: &consoleMe{Role: "admin", Admin: true, AAL: 2},
			Data: p.data}); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		for _, w := range p.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in %s", p.name, w, b.String())
			}
		}
	}
	// A member reads the policies as sentences, with no form.
	var b strings.Builder
	if err := consolePages()["policies"].ExecuteTemplate(&b, "layout", consolePage{Title: "p", Me: &consoleMe{Role: "provider", AAL: 1},
		Data: policiesPage{More: more}}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`id="risk-policy"`, `id="sso-policy"`, `id="gateway-policy"`, `id="binding-policy"`} {
		if !strings.Contains(b.String(), w) || strings.Contains(b.String(), "<form method=\"post\" action=\"/policies/") {
			t.Errorf("member's policies page: %q %s", w, b.String())
		}
	}
	if err := consolePages()["apikeys"].ExecuteTemplate(io.Discard, "layout", consolePage{Data: apiKeysPage{}}); err != nil {
		t.Fatal(err)
	}
}
