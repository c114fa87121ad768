package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/export"
)

// exportWriteWindow is how long an export may take to stream, all of it
// (the route's streamLimit): the server's write timeout is for ordinary
// responses, and the stall window only bounds each write.
const exportWriteWindow = time.Hour

// exportQuery decodes the query of the export routes: format, from, to
// (RFC 3339), patient_id, actor_id, case_id, action.
func exportQuery(r *http.Request, def export.Format) (export.Format, export.Filter, error) {
	q := r.URL.Query()
	var f export.Filter
	if err := queryOnly(r, "format", "from", "to", "patient_id", "actor_id", "case_id", "action"); err != nil {
		return "", f, err
	}
	format := def
	if v := q.Get("format"); v != "" {
		var err error
		if format, err = export.ParseFormat(v); err != nil {
			return "", f, err
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			at, err := time.Parse(time.RFC3339Nano, v)
			if err != nil || !representable(at) {
				return "", f, badRequest("invalid_query", t.name+" must be an RFC 3339 time between the years 0001 "+
					"and 9999 in UTC, e.g. 2026-11-01T00:00:00Z")
			}
			*t.dst = at
		}
	}
	for _, id := range []struct {
		name string
		dst  *uuid.NullUUID
	}{{"patient_id", &f.Patient}, {"actor_id", &f.Actor}, {"case_id", &f.Case}} {
		if v := q.Get(id.name); v != "" {
			u, err := uuid.Parse(v)
			if err != nil || len(v) != 36 {
				return "", f, badRequest("invalid_query", id.name+" must be a UUID")
			}
			*id.dst = uuid.NullUUID{UUID: u, Valid: true}
		}
	}
	f.Action = q.Get("action")
	return format, f, f.Validate()
}

// lazyHeaders sets an export's headers at its first byte, so an error
// found before then is still a problem+json response.
type lazyHeaders struct {
	w           http.ResponseWriter
	contentType string
	filename    string
	started     bool
}

func (l *lazyHeaders) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", l.contentType)
		h.Set("Content-Disposition", `attachment; filename="`+l.filename+`"`)
		h.Set("Cache-Control", "no-store")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// handleAuditExport streams the caller's org's audit log in the asked
// format (admins with step-up; audited as audit.export before the first
// byte).
func handleAuditExport(svc *export.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, filter, err := exportQuery(r, export.JSONL)
		if err != nil {
			fail(w, r, err)
			return
		}
		lw := &lazyHeaders{w: w, contentType: f.ContentType(), filename: "audit-export" + f.Ext()}
		if _, err := svc.Export(r.Context(), f, filter, lw); err != nil {
			if !lw.started {
				fail(w, r, err)
				return
			}
			// Part of the export has left: end the response without its
			// terminating chunk, so the client sees it is incomplete.
			panic(http.ErrAbortHandler)
		}
	})
}

// handleAuditBundle streams an evidence bundle (a tar) of the caller's
// org's log up to the newest checkpoint (admins with step-up; audited).
func handleAuditBundle(svc *export.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, filter, err := exportQuery(r, export.JSONL)
		if err != nil {
			fail(w, r, err)
			return
		}
		lw := &lazyHeaders{w: w, contentType: "application/x-tar", filename: "audit-evidence.tar"}
		if _, err := svc.Bundle(r.Context(), f, filter, lw); err != nil {
			if !lw.started {
				fail(w, r, err)
				return
			}
			panic(http.ErrAbortHandler)
		}
	})
}
