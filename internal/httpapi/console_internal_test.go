package httpapi

import (
	"io"
	"maps"
	"testing"
)

// Every console page parses and renders with empty data: a template error
// fails here, not as a blank page in a browser.
func TestConsoleTemplates(t *testing.T) {
	data := map[string]any{"signin": signInForm{}, "factor": factorPage{}, "home": "", "cases": nil,
		"case": casePage{}, "audit": auditPage{}, "dsr": dsrPage{}, "breakglass": breakGlassPage{},
		"patients": patientsPage{}, "patient": patientPage{CanShred: true}, "accessreport": accessReportPage{},
		"security": securityPage{}, "members": membersPage{}, "document": documentPage{},
		"policies": policiesPage{}, "emergency": nil}
	pages := consolePages()
	maps.Copy(data, consoleAdminTemplateData) // console_admin_internal_test.go
	if len(pages) != len(data) {
		t.Fatalf("%d pages, %d with test data", len(pages), len(data))
	}
	for name, tpl := range pages {
		for _, me := range []*consoleMe{nil, {Role: "admin", Admin: true, AAL: 2}} {
			if me == nil && (name == "home" || name == "policies") {
				continue // (only a signed-in session reaches it)
			}
			if err := tpl.ExecuteTemplate(io.Discard, "layout", consolePage{Title: name, Me: me, Data: data[name]}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
