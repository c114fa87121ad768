package httpapi

import (
	"bytes"
	"context"
	"net/http"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/records"
)

// Data-subject requests (docs/dsr.md): the queue of HIPAA access, amendment
// and accounting requests and CCPA requests, each with the deadline the
// database set.

func handleDSROpen(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in records.DSRInput
		err := decode(r, &in)
		var d records.DSR
		if err == nil {
			d, err = recs.OpenDSR(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, d)
	})
}

func handleDSRList(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		var status string
		var patient *uuid.UUID
		for name, v := range r.URL.Query() {
			switch {
			case name == "status" && len(v) == 1:
				status = v[0]
			case name == "patient_id" && len(v) == 1:
				id, perr := uuid.Parse(v[0])
				if perr != nil {
					err = badRequest("invalid_query", "patient_id is a UUID")
				}
				patient = &id
			default:
				err = badRequest("invalid_query", "the query parameters are status and patient_id, each at most once")
			}
		}
		var list []records.DSR
		if err == nil {
			list, err = recs.ListDSR(r.Context(), status, patient)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"requests": list})
	})
}

func handleDSRGet(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var d records.DSR
		if err == nil {
			d, err = recs.GetDSR(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
}

// handleDSRChange extends or closes a request: the body is one string
// field (the extension's reason, the closing outcome) that change takes.
func handleDSRChange(field string, change func(ctx context.Context, id uuid.UUID, value string) (records.DSR, error),
	fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req map[string]string
		if err == nil {
			err = decode(r, &req)
		}
		if _, ok := req[field]; err == nil && (len(req) != 1 || !ok) {
			err = badRequest("invalid_input", "the body is {\""+field+"\": \"…\"}")
		}
		var d records.DSR
		if err == nil {
			d, err = change(r.Context(), id, req[field])
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
}

// handlePatientExport answers a patient's record set (§164.524) encrypted
// with age to the recipient or passphrase in the body. The recipient is
// checked before anything is read; the export is read, audited and
// committed before a byte is sent, and sent only encrypted.
func handlePatientExport(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in records.ExportRecipient
		if err == nil {
			err = decode(r, &in)
		}
		var rec age.Recipient
		if err == nil {
			rec, err = in.AgeRecipient()
		}
		var x records.PatientExport
		if err == nil {
			x, err = recs.ExportPatient(r.Context(), id)
		}
		var sealed bytes.Buffer
		if err == nil {
			err = records.SealExport(&sealed, rec, x)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="patient-`+id.String()+`.json.age"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(sealed.Bytes())
	})
}
