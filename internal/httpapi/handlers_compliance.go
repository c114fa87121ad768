package httpapi

import (
	"bytes"
	"net/http"

	"github.com/wardhq/ward/internal/records"
)

// handleComplianceReport answers the HIPAA control matrix of the caller's
// org (docs/compliance.md): JSON, or with ?format=html or markdown the
// rendering `ward compliance report` prints. Admins only; the database
// decides from the bound credential and records the read.
func handleComplianceReport(recs *records.Service, fail errorWriter) http.Handler {
	types := map[string]string{"": "application/json", "json": "application/json",
		"html": "text/html; charset=utf-8", "markdown": "text/markdown; charset=utf-8"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		ct, ok := types[format]
		if !ok {
			fail(w, r, badRequest("invalid_input", "format is json, html or markdown"))
			return
		}
		rep, err := recs.ComplianceReport(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		if format == "" || format == "json" {
			writeJSON(w, http.StatusOK, rep)
			return
		}
		var b bytes.Buffer
		if err := rep.Write(&b, format); err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b.Bytes())
	})
}
