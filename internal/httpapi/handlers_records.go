package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/records"
)

// handlePatientList lists patients a page at a time, newest first: limit
// (1..200, default 50) and cursor (a previous page's next_cursor, opaque)
// are its only query parameters. Identifiers are PHI and URLs end up in
// logs and histories, so searching by them is a POST (handlePatientSearch).
func handlePatientList(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := queryOnce(r)
		for name := range r.URL.Query() {
			switch name {
			case "limit", "cursor":
			case "mrn", "email":
				err = badRequest("invalid_query", "search by mrn or email with POST /v1/patients/search and a JSON body")
			default:
				err = badRequest("invalid_query", "the query parameters are limit and cursor")
			}
		}
		var limit int
		if err == nil {
			limit, err = queryLimit(r, records.MaxPatientPage)
		}
		var after records.PatientCursor
		if err == nil {
			if after, err = records.ParsePatientCursor(r.URL.Query().Get("cursor")); err != nil {
				err = badRequest("invalid_query", "cursor must be a next_cursor this API returned")
			}
		}
		var page records.PatientPage
		if err == nil {
			page, err = recs.ListPatients(r.Context(), records.ListFilter{Limit: limit, After: after})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// handlePatientSearch finds patients by exact MRN or email, both in the
// body.
func handlePatientSearch(recs *records.Service, fail errorWriter) http.Handler {
	type request struct {
		MRN   string `json:"mrn"`
		Email string `json:"email"`
		Limit int32  `json:"limit"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil && req.MRN == "" && req.Email == "" {
			err = badRequest("invalid_input", "give mrn or email, or list with GET /v1/patients")
		}
		var page records.PatientPage
		if err == nil {
			page, err = recs.ListPatients(r.Context(), records.ListFilter{MRN: req.MRN, Email: req.Email,
				Limit: int(req.Limit)})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"patients": page.Patients})
	})
}

func handlePatientCreate(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in records.PatientInput
		err := decode(r, &in)
		var p records.Patient
		if err == nil {
			p, err = recs.CreatePatient(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, p)
	})
}

func handlePatientGet(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var p records.Patient
		if err == nil {
			p, err = recs.GetPatient(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

// patientFields are the fields of records.PatientInput: a PUT replaces the
// whole record, so it must send each (empty to clear).
var patientFields = []string{"name", "dob", "phone", "email", "address", "mrn", "identifiers"}

// handlePatientUpdate replaces a patient's record: every field must be sent
// (PATCH changes some).
func handlePatientUpdate(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var raw map[string]json.RawMessage
		if err == nil {
			err = decode(r, &raw)
		}
		for _, f := range patientFields {
			if _, ok := raw[f]; !ok && err == nil {
				err = badRequest("missing_field", fmt.Sprintf("PUT replaces the whole record: send every field "+
					"(%s; empty to clear), or PATCH to change some; %q is missing", strings.Join(patientFields, ", "), f))
			}
		}
		var in records.PatientInput
		if err == nil {
			err = strictUnmarshal(raw, &in)
		}
		var p records.Patient
		if err == nil {
			p, err = recs.UpdatePatient(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

// handleEntryList returns a page of a patient's entries, newest first:
// limit (1..500, default 100) and cursor (a previous page's next_cursor,
// opaque) are its only query parameters.
func handleEntryList(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = queryOnce(r)
		}
		for name := range r.URL.Query() {
			if name != "limit" && name != "cursor" && err == nil {
				err = badRequest("invalid_query", "the query parameters are limit and cursor")
			}
		}
		var limit int
		if err == nil {
			limit, err = queryLimit(r, records.MaxEntryPage)
		}
		var after records.EntryCursor
		if err == nil {
			if after, err = records.ParseEntryCursor(r.URL.Query().Get("cursor")); err != nil {
				err = badRequest("invalid_query", "cursor must be a next_cursor this API returned")
			}
		}
		var page records.EntryPage
		if err == nil {
			page, err = recs.ListEntries(r.Context(), id, limit, after)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
}

func handleEntryCreate(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in records.EntryInput
		if err == nil {
			err = decode(r, &in)
		}
		var e records.Entry
		if err == nil {
			e, err = recs.CreateEntry(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, e)
	})
}

// relation handles the PUT/DELETE routes linking a patient and a user.
func relation(fail errorWriter, do func(r *http.Request, patient, user uuid.UUID) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		patient, err := pathID(r, "id")
		var user uuid.UUID
		if err == nil {
			user, err = pathID(r, "user_id")
		}
		if err == nil {
			err = do(r, patient, user)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleCareTeamAssign(recs *records.Service, fail errorWriter) http.Handler {
	return relation(fail, func(r *http.Request, p, u uuid.UUID) error { return recs.AssignProvider(r.Context(), p, u) })
}

func handleCareTeamUnassign(recs *records.Service, fail errorWriter) http.Handler {
	return relation(fail, func(r *http.Request, p, u uuid.UUID) error { return recs.UnassignProvider(r.Context(), p, u) })
}

func handlePatientLink(recs *records.Service, fail errorWriter) http.Handler {
	return relation(fail, func(r *http.Request, p, u uuid.UUID) error { return recs.LinkPatientUser(r.Context(), p, u) })
}

// handleAccessReport returns a page of who accessed a patient's record
// (?after=seq&limit=n, at most 1,000 entries; next_after names the next
// page). The database decides who may read it: the patient themself, or
// an admin.
func handleAccessReport(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var after, limit int
		if err == nil {
			err = queryOnly(r, "after", "limit")
		}
		if err == nil {
			after, err = queryInt(r, "after")
		}
		if err == nil && after < 0 {
			err = badRequest("invalid_query", "after must not be negative")
		}
		if err == nil {
			limit, err = queryLimit(r, audit.MaxReportPage)
		}
		var rep records.AccessReport
		if err == nil {
			rep, err = recs.AccessReport(r.Context(), id, int64(after), limit)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

// handleDisclosureAccounting answers the patient's accounting of
// disclosures (§164.528) for the last six years.
func handleDisclosureAccounting(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var acc records.Accounting
		if err == nil {
			acc, err = recs.DisclosureAccounting(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, acc)
	})
}

func handleAuditList(log *audit.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		err := queryOnly(r, "after", "limit", "action", "patient_id")
		var after, limit int
		if err == nil {
			after, err = queryInt(r, "after")
		}
		if err == nil {
			limit, err = queryLimit(r, audit.MaxListLimit)
		}
		var patient uuid.NullUUID
		if err == nil {
			patient.UUID, patient.Valid, err = queryID(r, "patient_id")
		}
		var list []audit.Entry
		if err == nil {
			list, err = log.Log(r.Context(), audit.Filter{After: int64(after), Limit: limit,
				Action: q.Get("action"), Patient: patient})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": list})
	})
}

// handlePatientPatch changes some of a patient's fields with a JSON Merge
// Patch (RFC 7396): a field sent replaces the stored one, null clears it,
// and an absent field is left as it is; identifiers merge key by key.
func handlePatientPatch(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var patch map[string]any
		if err == nil {
			err = decodeMergePatch(r, &patch)
		}
		var p records.Patient
		if err == nil {
			p, err = recs.PatchPatient(r.Context(), id, func(cur records.PatientInput) (records.PatientInput, error) {
				var doc map[string]any
				b, err := json.Marshal(cur)
				if err == nil {
					err = json.Unmarshal(b, &doc)
				}
				if err != nil {
					return cur, err
				}
				merged, err := json.Marshal(mergePatch(doc, patch))
				if err != nil {
					return cur, err
				}
				var next records.PatientInput
				dec := json.NewDecoder(bytes.NewReader(merged))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&next); err != nil {
					return cur, badRequest("bad_json", jsonProblem(err))
				}
				return next, nil
			})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

func handleCheckpoint(log *audit.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cp, err := log.Checkpoint(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, cp)
	})
}

func handleInclusionProof(log *audit.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := queryOnly(r, "seq")
		var seq int
		if err == nil {
			seq, err = queryInt(r, "seq")
		}
		var b audit.Inclusion
		if err == nil {
			b, err = log.InclusionProof(r.Context(), int64(seq))
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
}

func handleConsistencyProof(log *audit.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := queryOnly(r, "from")
		var from int
		if err == nil {
			from, err = queryInt(r, "from")
		}
		var b audit.Consistency
		if err == nil {
			b, err = log.ConsistencyProof(r.Context(), int64(from))
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
}

// handleAuditKey publishes the verifier key of the audit log's signed
// checkpoints (C2SP signed-note format), for anyone to verify with.
func handleAuditKey(vkey string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if vkey == "" {
			writeProblem(w, r, http.StatusNotFound, "no_audit_key", "this server signs no checkpoints yet")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write([]byte(vkey + "\n"))
	})
}

// handlePatientShred crypto-shreds a patient (records.ShredPatient): an
// admin who stepped up, naming the patient again in the body
// ({"confirm": "<id>"}), since nothing brings the record back.
func handlePatientShred(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req struct {
			Confirm string `json:"confirm"`
		}
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil && req.Confirm != id.String() {
			err = badRequest("confirm_mismatch", `confirm must repeat the patient's id: the shred cannot be undone`)
		}
		var out records.Shredded
		if err == nil {
			out, err = recs.ShredPatient(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}
