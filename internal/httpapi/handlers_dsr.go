package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/vault/envelope"
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
				if id, ok := idOf(v[0]); ok {
					patient = &id
				} else {
					err = badRequest("invalid_query", "patient_id is a UUID, not the nil UUID")
				}
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
// committed (within exportReadWindow) before a byte is sent, and sent only
// encrypted. With "documents": true it is a tar archive of the JSON
// document and the patient's case documents (files, nil without a case
// repository: none), streamed after the commit; a file that cannot be
// read ends the response before the age stream's last chunk, so the cut
// archive does not decrypt, and the cut is recorded.
func handlePatientExport(recs *records.Service, files records.ExportFiles, log *slog.Logger, fail errorWriter) http.Handler {
	if files == nil {
		files = noFiles
	}
	// An export with documents reads, decrypts and records every version
	// of every case document of the patient: at most two of an org and
	// four on this node run at once (429 exports_busy), as audit exports.
	// Exports with documents are one of each caller at a time (a
	// session's user, or an API key), and so are exports of the record
	// alone, apart from them (quick): sealing to a passphrase costs
	// scrypt's 32 MiB and 0.1 s of a core (export.Slots.Caller).
	var slots, quick export.Slots
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
		if err == nil {
			p, _ := identity.PrincipalFrom(r.Context())
			var release func()
			who := p.UserID
			if p.Kind == identity.KindAPIKey || who == uuid.Nil {
				who = p.CredentialID
			}
			if in.Documents {
				release, err = slots.TakeFor(p.OrgID, who)
			} else {
				release, err = quick.Caller(who)
			}
			if err == nil {
				defer release()
			}
		}
		var x records.PatientExport
		if err == nil {
			// The route streams for up to an hour; reading the record set
			// gets the ordinary window.
			ctx, cancel := context.WithTimeout(r.Context(), exportReadWindow)
			with := files
			if !in.Documents {
				with = nil
			}
			x, err = recs.ExportPatient(ctx, id, with)
			cancel()
		}
		var sealed bytes.Buffer
		if err == nil && !in.Documents {
			err = records.SealExport(&sealed, rec, x)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		name := "patient-" + id.String() + ".json.age"
		if in.Documents {
			name = "patient-" + id.String() + ".tar.age"
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if !in.Documents {
			_, _ = w.Write(sealed.Bytes())
			return
		}
		res, err := records.SealExportArchive(r.Context(), w, rec, x)
		if err != nil {
			// The status is sent: record the cut, and end the response
			// without the age stream's last chunk (ids only in the log).
			log.ErrorContext(r.Context(), "patient export archive cut short", "patient", id.String(),
				"files_written", res.Written, "files", len(x.Documents), "err", err)
			if aerr := recs.ExportShort(r.Context(), id, "archive_cut", res.Written, len(x.Documents), nil); aerr != nil {
				log.ErrorContext(r.Context(), "patient export cut not recorded", "patient", id.String(), "err", aerr)
			}
			panic(http.ErrAbortHandler)
		}
		if len(res.Skipped) > 0 {
			// The archive ended whole, listing what it could not carry
			// (records.ExportArchiveUnavailable).
			missing := make([]uuid.UUID, len(res.Skipped))
			for i, f := range res.Skipped {
				missing[i] = f.VersionID
			}
			log.ErrorContext(r.Context(), "patient export left out unreadable files", "patient", id.String(),
				"versions", missing, "files", len(x.Documents))
			if aerr := recs.ExportShort(r.Context(), id, "files_unavailable", res.Written, len(x.Documents), missing); aerr != nil {
				log.ErrorContext(r.Context(), "patient export's left-out files not recorded", "patient", id.String(), "err", aerr)
			}
		}
	})
}

// exportReadWindow bounds reading, auditing and committing an export, as
// the ordinary routes' deadline bounds theirs; the archive then streams
// under the route's stream limit.
const exportReadWindow = 30 * time.Second

// noFiles is the export's files without a case repository: none.
func noFiles(context.Context, pgx.Tx, *envelope.OrgKeys, uuid.UUID, uuid.UUID) ([]records.ExportFile, error) {
	return []records.ExportFile{}, nil
}
