package httpapi

import (
	"net/http"

	"github.com/wardhq/ward/internal/compliance"
)

// The console's compliance page (docs/compliance.md): the org's HIPAA
// control matrix, as GET /v1/compliance/report answers it (admins; the
// database decides from the session's credential and records the read).

// consoleCompliance shows the org's control matrix.
func (s *server) consoleCompliance() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := s.deps.Records.ComplianceReport(r.Context())
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "compliance", consolePage{Title: "HIPAA compliance", Data: complianceView{rep}})
	})
}

// complianceView is the report with the page's helpers.
type complianceView struct{ *compliance.Report }

// Marks are the statuses in the order the summary shows them.
func (complianceView) Marks() []compliance.Status {
	return []compliance.Status{compliance.Pass, compliance.Partial, compliance.Gap, compliance.NA, compliance.Instance}
}

// Class is a status's class in the stylesheet.
func (complianceView) Class(s compliance.Status) string {
	switch s {
	case compliance.Pass:
		return "pass"
	case compliance.Partial:
		return "partial"
	case compliance.Gap:
		return "gap"
	case compliance.Instance:
		return "instance"
	}
	return "na"
}
