package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
)

// The console's pages that change records and documents (docs/console.md):
// editing a patient record, its care team, its amendment requests, asking
// for a document on a case, a new version of a document and deleting one.
// As everywhere in the console, each calls the service the JSON API calls
// under the cookie's session, so the database decides; the URLs carry ids
// only, never a value of the record.

// consoleRecordPages are this file's templates, each the layout with one
// page, parsed on first use.
var consoleRecordPages = sync.OnceValue(func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"recordedit", "careteam", "amendments", "docrequest"} {
		out[name] = template.Must(template.ParseFS(consoleFiles, "console/layout.html", "console/"+name+".html"))
	}
	return out
})

// renderRecords writes this file's page name with status, as render does
// the console's others.
func (s *server) renderRecords(w http.ResponseWriter, r *http.Request, status int, name string, pg consolePage) {
	if pg.Me == nil {
		if p, ok := identity.PrincipalFrom(r.Context()); ok {
			pg.Me = meOf(p)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := consoleRecordPages()[name].ExecuteTemplate(w, "layout", pg); err != nil {
		s.log.ErrorContext(r.Context(), "console page failed", "request_id", requestIDFrom(r.Context()), "page", name, "err", err)
	}
}

// errRecordChanged: the record changed after the edit form was shown; the
// edit is refused rather than overwrite what someone else saved.
var errRecordChanged = errkind.New(errkind.PreconditionFailed, "precondition_failed", "console: record changed since the form was shown").
	WithPublic("the record was changed after this form was shown: open it again, then make your change again")

// errNoSuchID is a second path id that is no id.
var errNoSuchID = errkind.New(errkind.NotFound, "not_found", "console: malformed id")

// recordVersion names the fields of patient id as a form showed them: the
// edit form carries it, and the save compares it with the fields as they
// are when the row is locked, so an edit made on a page older than
// another's save is refused. It is a hash of values the page shows
// anyway, in the form's body only, never in a URL.
func recordVersion(id uuid.UUID, in records.PatientInput) string {
	b, _ := json.Marshal(in) // strings and a map of strings (its keys sorted) always marshal
	h := sha256.New()
	h.Write(id[:])
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// recordEditPage is a patient record's edit page.
type recordEditPage struct {
	Patient records.Patient
	Version string
	// Lead is whether the session may change the MRN (leads and admins);
	// the form of anyone else does not send it.
	Lead   bool
	Notice string
}

// recordFields are the form's fields that replace the record's (as PUT
// /v1/patients/{id} replaces all of them): each must be sent, empty to
// clear, so a cut-off form clears nothing. The MRN is sent by a lead's or
// an admin's form only; the other identifiers are the API's to change.
var recordFields = []string{"name", "dob", "phone", "email", "address"}

// consoleRecordEdit shows the form that edits a patient record, to whoever
// may read it (the save decides who may change it).
func (s *server) consoleRecordEdit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such patient")
			return
		}
		p, err := s.deps.Records.GetPatient(r.Context(), id)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		me, _ := identity.PrincipalFrom(r.Context())
		pg := recordEditPage{Patient: p, Version: recordVersion(id, p.PatientInput), Lead: me.Role.AtLeast(identity.RoleLead)}
		if r.URL.Query().Get("done") == "saved" {
			pg.Notice = "The record was saved."
		}
		s.renderRecords(w, r, http.StatusOK, "recordedit", consolePage{Title: "Edit " + p.Name, Data: pg})
	})
}

// consoleRecordSave saves the edit form, as PATCH /v1/patients/{id} does
// (records.PatchPatient: the row locked, the change and its audit event in
// one transaction), and only when the record is still as the form showed
// it (version): a stale form is 412, nothing written.
func (s *server) consoleRecordSave() http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		f := r.PostForm
		version := f.Get("version")
		if version == "" {
			return "", badRequest("invalid_input", "the form names the version of the record it edits")
		}
		for _, name := range recordFields {
			if !f.Has(name) {
				return "", badRequest("missing_field", "the form sends every field of the record (empty to clear): "+name+" is missing")
			}
		}
		_, err := s.deps.Records.PatchPatient(r.Context(), id, func(cur records.PatientInput) (records.PatientInput, error) {
			if recordVersion(id, cur) != version {
				return cur, errRecordChanged
			}
			next := cur
			next.Name, next.DOB = f.Get("name"), strings.TrimSpace(f.Get("dob"))
			next.Phone, next.Email = strings.TrimSpace(f.Get("phone")), strings.TrimSpace(f.Get("email"))
			next.Address = strings.TrimSpace(f.Get("address"))
			if f.Has("mrn") {
				next.MRN = strings.TrimSpace(f.Get("mrn"))
			}
			return next, nil
		})
		return "patients/" + id.String() + "/edit?done=saved", err
	})
}

// careTeamPage is a record's care-team page: the org's staff who may be
// on a care team, each with the forms that assign and remove them.
type careTeamPage struct {
	Patient uuid.UUID
	Staff   []auth.Member
	Notice  string
}

// careTeamNotices are what the care-team page says after its forms.
var careTeamNotices = map[string]string{
	"assigned": "The member was put on the care team.",
	"removed":  "The member was taken off the care team.",
}

// consoleCareTeam lists the org's providers, leads and admins with the
// forms that put one on the record's care team or take them off it (leads
// and admins, as PUT and DELETE /v1/patients/{id}/care-team/{user_id}).
// The API has no read of a care team, so neither has the page: it offers
// both forms for each member.
func (s *server) consoleCareTeam() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such patient")
			return
		}
		// The record's read is audited and says whether the session may see it.
		p, err := s.deps.Records.GetPatient(r.Context(), id)
		var list []auth.Member
		if err == nil {
			list, err = s.deps.Auth.ListMembers(r.Context())
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := careTeamPage{Patient: id, Notice: careTeamNotices[r.URL.Query().Get("done")]}
		for _, m := range list {
			if m.RevokedAt == nil && m.Role != identity.RolePatient && m.Role.AtLeast(identity.RoleProvider) {
				pg.Staff = append(pg.Staff, m)
			}
		}
		s.renderRecords(w, r, http.StatusOK, "careteam", consolePage{Title: "Care team of " + p.Name, Data: pg})
	})
}

// consoleCareTeamChange puts the path's user on the record's care team
// (assign) or takes them off it.
func (s *server) consoleCareTeamChange(assign bool) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		user, err := uuid.Parse(r.PathValue("user_id"))
		if err != nil {
			return "", errNoSuchID
		}
		next := "patients/" + id.String() + "/care-team?done="
		if assign {
			return next + "assigned", s.deps.Records.AssignProvider(r.Context(), id, user)
		}
		return next + "removed", s.deps.Records.UnassignProvider(r.Context(), id, user)
	})
}

// amendmentsPage is a record's amendment requests (HIPAA §164.526) with
// the forms of the steps the session may take.
type amendmentsPage struct {
	Patient    records.Patient
	Amendments []records.Amendment
	Entries    []records.Entry
	Bases      []string
	// Patient's own steps (request, disagree) and an admin's (request on
	// their behalf, decide, rebut): the database refuses anyone else.
	Self, Admin bool
	Notice      string
}

// amendmentNotices are what the amendments page says after its forms.
var amendmentNotices = map[string]string{
	"requested": "The request was filed; its deadline is below.",
	"decided":   "The decision was recorded and the patient told of it.",
	"disagreed": "Your statement of disagreement was filed.",
	"rebutted":  "The rebuttal was recorded and the patient told of it.",
}

// consoleAmendments lists the record's amendment requests to whoever may
// read its entries, as GET /v1/patients/{id}/amendments does, with the
// forms of the steps the session's role takes.
func (s *server) consoleAmendments() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such patient")
			return
		}
		me, _ := identity.PrincipalFrom(r.Context())
		pg := amendmentsPage{Bases: records.DenialBases, Self: me.Role == identity.RolePatient, Admin: me.Role == identity.RoleAdmin,
			Notice: amendmentNotices[r.URL.Query().Get("done")]}
		pg.Patient, err = s.deps.Records.GetPatient(r.Context(), id)
		if err == nil {
			pg.Amendments, err = s.deps.Records.ListAmendments(r.Context(), id)
		}
		if err == nil && (pg.Self || pg.Admin) {
			// The request form names an entry it is about, of the newest.
			var page records.EntryPage
			page, err = s.deps.Records.ListEntries(r.Context(), id, 0, records.EntryCursor{})
			pg.Entries = page.Entries
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.renderRecords(w, r, http.StatusOK, "amendments", consolePage{Title: "Amendments of " + pg.Patient.Name, Data: pg})
	})
}

// consoleAmendmentRequest files a request to amend the record (or the
// entry the form names), as POST /v1/patients/{id}/amendments does.
func (s *server) consoleAmendmentRequest() http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		in := records.AmendmentInput{Request: r.PostForm.Get("request")}
		if v := r.PostForm.Get("entry_id"); v != "" {
			entry, err := uuid.Parse(v)
			if err != nil {
				return "", badRequest("invalid_input", "the entry is one of the list's")
			}
			in.EntryID = &entry
		}
		_, err := s.deps.Records.RequestAmendment(r.Context(), id, in)
		return "patients/" + id.String() + "/amendments?done=requested", err
	})
}

// consoleAmendmentStep takes one step of an amendment request from the
// amendments page's forms: step's answer is the notice's key.
func (s *server) consoleAmendmentStep(done string, step func(r *http.Request, patient, id uuid.UUID) error) http.Handler {
	return s.formAction("id", func(r *http.Request, patient uuid.UUID) (string, error) {
		id, err := uuid.Parse(r.PathValue("amendment_id"))
		if err != nil {
			return "", errNoSuchID
		}
		return "patients/" + patient.String() + "/amendments?done=" + done, step(r, patient, id)
	})
}

// consoleAmendmentDecide accepts or denies a request (admins), as POST
// .../amendments/{amendment_id}/decision does: outcome, a denial's basis,
// and the statement (the amendment, or the denial's explanation).
func (s *server) consoleAmendmentDecide() http.Handler {
	return s.consoleAmendmentStep("decided", func(r *http.Request, patient, id uuid.UUID) error {
		in := records.AmendmentDecision{Outcome: r.PostForm.Get("outcome"), Statement: r.PostForm.Get("statement")}
		if b := r.PostForm.Get("basis"); b != "" && in.Outcome == "denied" {
			in.Basis = &b
		}
		_, err := s.deps.Records.DecideAmendment(r.Context(), patient, id, in)
		return err
	})
}

// consoleAmendmentDisagree files the patient's statement of disagreement
// with a denial, as POST .../disagreement does.
func (s *server) consoleAmendmentDisagree() http.Handler {
	return s.consoleAmendmentStep("disagreed", func(r *http.Request, patient, id uuid.UUID) error {
		_, err := s.deps.Records.DisagreeAmendment(r.Context(), patient, id, r.PostForm.Get("statement"))
		return err
	})
}

// consoleAmendmentRebut files the practice's rebuttal (admins), as POST
// .../rebuttal does.
func (s *server) consoleAmendmentRebut() http.Handler {
	return s.consoleAmendmentStep("rebutted", func(r *http.Request, patient, id uuid.UUID) error {
		_, err := s.deps.Records.RebutAmendment(r.Context(), patient, id, r.PostForm.Get("statement"))
		return err
	})
}

// docRequestPage is the page that asks for a document on a case.
type docRequestPage struct {
	Case    cases.Case
	Members []cases.Member
	DueBy   string
}

// consoleDocumentRequestPage shows the form that asks for a document on a
// case, naming who should provide it among the case's active members. Only
// those who manage a case request documents on it, and only they read all
// its members: anyone else is refused here as by the request.
func (s *server) consoleDocumentRequestPage(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such case")
			return
		}
		pg := docRequestPage{DueBy: time.Now().AddDate(0, 0, 14).UTC().Format(time.DateOnly)}
		pg.Case, err = cs.GetCase(r.Context(), id)
		if err == nil {
			// Whoever may read the case but not manage it (its patient, an
			// outside party) is refused the page, as the request would be.
			err = cs.CheckRequester(r.Context(), id)
		}
		var list []cases.Member
		if err == nil {
			list, err = cs.ListMembers(r.Context(), id)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		for _, m := range list {
			if m.Active {
				pg.Members = append(pg.Members, m)
			}
		}
		s.renderRecords(w, r, http.StatusOK, "docrequest", consolePage{Title: "Request a document", Data: pg})
	})
}

// consoleDocumentRequest asks for a document on the case, as POST
// /v1/cases/{id}/documents does: type, optional description, optional due
// date (the end of that day, UTC) and optional requested_from (a member
// of the case, who may then upload it).
func (s *server) consoleDocumentRequest(cs *cases.Service) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		f := r.PostForm
		in := cases.RequestInput{Type: strings.TrimSpace(f.Get("type")), Description: strings.TrimSpace(f.Get("description"))}
		if v := f.Get("due"); v != "" {
			due, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return "", badRequest("invalid_input", "due is a date (YYYY-MM-DD)")
			}
			due = due.Add(24*time.Hour - time.Second)
			in.DueAt = &due
		}
		if v := f.Get("requested_from"); v != "" {
			from, err := uuid.Parse(v)
			if err != nil {
				return "", badRequest("invalid_input", "requested from is one of the case's members")
			}
			in.RequestedFrom = &from
		}
		d, err := cs.RequestDocument(r.Context(), id, in)
		return "documents/" + d.ID.String() + "?done=requested", err
	})
}

// maxVersionField is the most the version upload form's version part may
// hold.
const maxVersionField = 10

// consoleVersionUpload stores a file from the document page's form as a
// new version of the document, as PUT /v1/documents/{id}/content does with
// If-Match: the form's version (read first, then the file) is the latest
// the page showed, and a newer one since makes it 412, nothing stored (a
// document with none yet names 0: no condition). The file is streamed
// into encryption, never held whole.
func (s *server) consoleVersionUpload(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such document")
			return
		}
		body := &readErr{ReadCloser: r.Body}
		r.Body = body
		mr, err := r.MultipartReader()
		if err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the upload must be a multipart form")
			return
		}
		version := -1
		for {
			part, err := mr.NextPart()
			if err != nil {
				if body.err != nil {
					err = body.err
				}
				var mbe *http.MaxBytesError
				switch {
				case errors.Is(err, errBodyTooSlow):
					s.console.writeError(w, r, errBodyTooSlow)
				case errors.As(err, &mbe):
					s.console.writeError(w, r, cases.ErrTooLarge)
				default:
					writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has no file")
				}
				return
			}
			switch part.FormName() {
			case "version":
				b, _ := io.ReadAll(io.LimitReader(part, maxVersionField+1))
				n, err := strconv.Atoi(strings.TrimSpace(string(b)))
				if version >= 0 || err != nil || n < 0 {
					writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has one version, the latest the page showed, before its file")
					return
				}
				version = n
				continue
			case "file":
			default:
				writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has a version and a file, nothing else")
				return
			}
			if version < 0 {
				writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has one version, the latest the page showed, before its file")
				return
			}
			if part.FileName() == "" {
				writeHTMLError(w, r, http.StatusBadRequest, "missing_file_name", "choose a file to upload")
				return
			}
			// The case comes from the document the session can see (as on
			// the API: the read is audited, a hidden one is 404).
			d, err := cs.GetDocument(r.Context(), id)
			if err == nil {
				_, _, err = cs.Upload(r.Context(), d.CaseID, id, cases.UploadInput{FileName: part.FileName(), Length: -1,
					IfMatch: cases.Precondition{Version: version}}, part)
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = cases.ErrTooLarge
			}
			if err != nil {
				s.console.writeError(w, r, err)
				return
			}
			w.Header().Set("Location", s.root+"documents/"+id.String()+"?done=version")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	})
}

// consoleDocumentDelete deletes the document, as DELETE /v1/documents/{id}
// does (admins and leads; a legal hold refuses it), and goes back to its
// case.
func (s *server) consoleDocumentDelete(cs *cases.Service) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		// The case to go back to, from the document the session can see.
		d, err := cs.GetDocument(r.Context(), id)
		if err == nil {
			err = cs.DeleteDocument(r.Context(), id)
		}
		return "cases/" + d.CaseID.String() + "?done=deleted", err
	})
}
