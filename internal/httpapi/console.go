package httpapi

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
)

// The web console (docs/console.md): server-rendered pages for people who
// use Ward in a browser — the outside parties of a case, staff and admins.
// Every page is html/template, every script and style is one of the
// console's own files (the surface's CSP allows nothing else), every form
// posts to the console itself, and a cookie-borne post must come from
// Ward's own pages (the guard's same-origin check). The pages call the
// same services as the JSON API under the session in the cookie, so the
// database decides what each page shows, and each read is audited as the
// API's is.

//go:embed console
var consoleFiles embed.FS

// consolePages are the console's templates, each the layout with one
// page, parsed on first use.
var consolePages = sync.OnceValue(func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "factor", "home", "cases", "case", "audit", "dsr", "breakglass", "patients", "patient", "accessreport", "security", "members", "document", "policies", "emergency"} {
		out[name] = template.Must(template.ParseFS(consoleFiles, "console/layout.html", "console/"+name+".html"))
	}
	for _, name := range consoleAdminPages {
		out[name] = template.Must(template.ParseFS(consoleFiles, "console/layout.html", "console/"+name+".html"))
	}
	return out
})

// consoleMe is who the signed-in browser is, as the layout shows it.
type consoleMe struct {
	Role, Pending, AMR, AuthTime string
	OrgID                        uuid.UUID
	AAL                          int
	Admin, BreakGlass            bool
}

func meOf(p identity.Principal) *consoleMe {
	amr := strings.Join(p.AMR, ", ")
	if amr == "" {
		amr = "none"
	}
	return &consoleMe{Role: string(p.Role), Pending: p.Pending, AMR: amr, OrgID: p.OrgID, AAL: p.AAL,
		AuthTime: p.AuthTime.UTC().Format(time.RFC1123), Admin: p.Role == identity.RoleAdmin, BreakGlass: p.BreakGlass}
}

// consolePage is what the layout renders: a title, the signed-in member
// (nil when signed out), an error to show above the page, and the page's
// own data.
type consolePage struct {
	Title string
	Me    *consoleMe
	Error string
	Data  any
}

// render writes page name with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, pg consolePage) {
	if pg.Me == nil {
		if p, ok := identity.PrincipalFrom(r.Context()); ok {
			pg.Me = meOf(p)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := consolePages()[name].ExecuteTemplate(w, "layout", pg); err != nil {
		s.log.ErrorContext(r.Context(), "console page failed", "request_id", requestIDFrom(r.Context()), "page", name, "err", err)
	}
}

// writeConsoleError is the console's encoder: a page that needs a session
// sends a browser without one to the sign-in page, and a session still
// owing its second factor to the page that asks for it; any other error
// is the small error page.
func (s *server) writeConsoleError(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		to := ""
		switch {
		case status == http.StatusUnauthorized:
			to = s.root + "sign-in"
		case status == http.StatusForbidden && (code == "mfa_required" || code == "passkey_required"):
			to = s.root
		}
		if to != "" {
			w.Header().Set("Location", to)
			w.WriteHeader(http.StatusSeeOther)
			return
		}
	}
	if code == "step_up_required" {
		// A change that needs a second factor within the last minutes: the
		// page asks for it; the change is made again after it.
		s.render(w, r, status, "factor", consolePage{Title: "Confirm it is you",
			Error: "This change needs your second factor again: present it below, then make the change again.",
			Data:  factorPage{StepUp: true}})
		return
	}
	writeHTMLError(w, r, status, code, detail)
}

// consoleRoutes mounts the console's pages.
func (s *server) consoleRoutes() {
	con := s.console
	admin := identity.RoleAdmin
	con.route("GET /assets/{file}", public, handleConsoleAsset())
	con.route("GET /sign-in", public, s.consoleSignInPage())
	con.route("POST /sign-in", signIn, s.consoleSignIn())
	con.route("GET /emergency", public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "emergency", consolePage{Title: "Emergency access"})
	}))
	con.route("GET /{$}", whoever, s.consoleHome())
	con.route("POST /second-factor", pending, s.consoleSecondFactor())
	con.route("POST /second-factor/enrol", pending, s.consoleEnrolTOTP())
	con.route("POST /sign-out", whoever, s.consoleSignOut())
	con.route("GET /audit", as(admin, "audit.read"), s.consoleAudit())
	con.route("GET /patients", session, s.consolePatients())
	con.route("POST /patients", as(identity.RoleLead, "patient.create"), s.consolePatientCreate())
	con.route("GET /patients/{id}", session, s.consolePatient())
	con.route("POST /patients/{id}/entries", session, s.consoleEntry())
	con.route("GET /patients/{id}/access-report", session, s.consoleAccessReport())
	con.route("POST /patients/{id}/shred", stepUp(as(admin, "patient.shred")), s.consolePatientShred())
	con.route("GET /security", session, s.consoleSecurity(nil, ""))
	con.route("POST /security/sessions/{id}/end", session, s.consoleSecurityChange("ended", func(r *http.Request, id uuid.UUID) error {
		return s.deps.Auth.RevokeSession(r.Context(), id)
	}))
	con.route("POST /security/passkeys/{id}/delete", stepUp(session), s.consoleSecurityChange("removed", func(r *http.Request, id uuid.UUID) error {
		return s.deps.Auth.DeletePasskey(r.Context(), id)
	}))
	con.route("POST /security/recovery-codes", stepUp(session), s.consoleRecoveryCodes())
	con.route("GET /members", as(identity.RoleLead, ""), s.consoleMembers())
	con.route("POST /members", stepUp(as(admin, "membership.add")), s.consoleMemberAdd())
	con.route("POST /members/{user_id}/role", stepUp(as(admin, "membership.update")), s.consoleMemberChange(true))
	con.route("POST /members/{user_id}/remove", stepUp(as(admin, "membership.revoke")), s.consoleMemberChange(false))
	con.route("GET /policies", as(identity.RolePatient, ""), s.consolePolicies())
	con.route("POST /policies/session", stepUp(as(admin, "org.session_policy.update")), s.consolePolicySession())
	con.route("POST /policies/assurance", stepUp(as(admin, "org.assurance_policy.update")), s.consolePolicyAssurance())
	con.route("GET /dsr", session, s.consoleDSR())
	con.route("POST /dsr", session, s.consoleDSROpen())
	con.route("POST /security/passkeys/{id}/rename", session, s.consoleSecurityChange("renamed", func(r *http.Request, id uuid.UUID) error {
		return s.deps.Auth.RenamePasskey(r.Context(), id, strings.TrimSpace(r.PostForm.Get("name")))
	}))
	con.route("POST /dsr/{id}/extend", as(admin, "dsr.extend"), s.consoleDSRChange("reason", s.deps.Records.ExtendDSR))
	con.route("POST /dsr/{id}/close", as(admin, "dsr.close"), s.consoleDSRChange("outcome", s.deps.Records.CloseDSR))
	con.route("GET /patients/{id}/edit", session, s.consoleRecordEdit())
	con.route("POST /patients/{id}/edit", session, s.consoleRecordSave())
	con.route("GET /patients/{id}/care-team", as(identity.RoleLead, ""), s.consoleCareTeam())
	con.route("POST /patients/{id}/care-team/{user_id}/assign", as(identity.RoleLead, "care_team.assign"), s.consoleCareTeamChange(true))
	con.route("POST /patients/{id}/care-team/{user_id}/remove", as(identity.RoleLead, "care_team.unassign"), s.consoleCareTeamChange(false))
	con.route("GET /patients/{id}/amendments", session, s.consoleAmendments())
	con.route("POST /patients/{id}/amendments", session, s.consoleAmendmentRequest())
	con.route("POST /patients/{id}/amendments/{amendment_id}/decision", as(admin, "amendment.decide"), s.consoleAmendmentDecide())
	con.route("POST /patients/{id}/amendments/{amendment_id}/disagreement", session, s.consoleAmendmentDisagree())
	con.route("POST /patients/{id}/amendments/{amendment_id}/rebuttal", as(admin, "amendment.rebut"), s.consoleAmendmentRebut())
	con.route("GET /break-glass", as(admin, "break_glass.list"), s.consoleBreakGlass())
	con.route("GET /compliance", as(admin, "org.compliance.read"), s.consoleCompliance())
	con.route("POST /break-glass/{id}/review", stepUp(as(admin, "org.break_glass.review")), s.consoleBreakGlassReview())
	if cs := s.deps.Cases; cs != nil {
		con.route("GET /cases", session, s.consoleCases(cs))
		con.route("GET /cases/{id}", session, s.consoleCase(cs))
		con.route("POST /cases/{id}/upload", session, s.consoleUpload(cs), bodyLimit(maxUploadBytes), deadline(noDeadline))
		con.route("POST /cases/{id}/invites", session, s.consoleInvite(cs))
		con.route("POST /cases", session, s.consoleCaseCreate(cs))
		con.route("GET /documents/{id}", session, s.consoleDocument(cs))
		con.route("POST /documents/{id}/accept", session, s.consoleDocumentAccept(cs))
		con.route("POST /documents/{id}/comments", session, s.consoleComment(cs))
		con.route("GET /cases/{id}/request", session, s.consoleDocumentRequestPage(cs))
		con.route("POST /cases/{id}/documents", session, s.consoleDocumentRequest(cs))
		con.route("POST /documents/{id}/upload", session, s.consoleVersionUpload(cs), bodyLimit(maxUploadBytes), deadline(noDeadline))
		con.route("POST /documents/{id}/delete", session, s.consoleDocumentDelete(cs))
	}
	s.consoleAdminRoutes()
	s.consoleBreachRoutes()
}

// formAction is the handler of a console form: the path's id (when idName
// is not ""), the parsed form, then do, whose answer is the page the
// browser goes to next (a path under the root, 303) or an error page.
func (s *server) formAction(idName string, do func(r *http.Request, id uuid.UUID) (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id uuid.UUID
		if idName != "" {
			var err error
			if id, err = uuid.Parse(r.PathValue(idName)); err != nil {
				writeHTMLError(w, r, http.StatusNotFound, "not_found", "nothing has this id")
				return
			}
		}
		if err := r.ParseForm(); err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form could not be read")
			return
		}
		next, err := do(r, id)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", s.root+next)
		w.WriteHeader(http.StatusSeeOther)
	})
}

// consoleAssets are the files under /assets/ and their types.
var consoleAssets = map[string]string{
	"console.css": "text/css; charset=utf-8",
	"console.js":  "text/javascript; charset=utf-8",
}

func handleConsoleAsset() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		typ, ok := consoleAssets[name]
		if !ok {
			writeHTMLError(w, r, http.StatusNotFound, "no_route", "no such file")
			return
		}
		b, err := consoleFiles.ReadFile("console/" + name)
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "no_route", "no such file")
			return
		}
		w.Header().Set("Content-Type", typ)
		_, _ = w.Write(b)
	})
}

// signInForm is the sign-in page's data.
type signInForm struct {
	Email string
	Sent  bool
}

func (s *server) consoleSignInPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "signin", consolePage{Title: "Sign in", Data: signInForm{}})
	})
}

// consoleSignIn asks for a sign-in link as POST /v1/auth/magic-link does,
// from the console's form: the same answer whether or not the address
// belongs to a member, and the link bound to this browser by the verifier
// cookie.
func (s *server) consoleSignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.render(w, r, http.StatusBadRequest, "signin", consolePage{Title: "Sign in", Error: "The form could not be read.",
				Data: signInForm{}})
			return
		}
		email := strings.TrimSpace(r.PostForm.Get("email"))
		var device string
		if c, err := r.Cookie(s.deviceCookie()); err == nil {
			device = c.Value
		}
		verifier, err := s.deps.Auth.RequestLink(r.Context(), auth.LinkRequest{Email: email, Device: device})
		if err != nil {
			status, _, detail := problemFor(err)
			if status == http.StatusInternalServerError {
				s.console.writeError(w, r, err)
				return
			}
			if d, ok := errkind.RetryAfter(err); ok && d > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
			}
			s.render(w, r, status, "signin", consolePage{Title: "Sign in", Error: sentence(detail),
				Data: signInForm{Email: email}})
			return
		}
		s.setCookie(w, s.verifierCookie(), verifier, auth.VerifierTTL)
		s.render(w, r, http.StatusOK, "signin", consolePage{Title: "Check your mail", Data: signInForm{Email: email, Sent: true}})
	})
}

// sentence makes an error's detail a sentence for a page.
func sentence(detail string) string {
	if detail == "" {
		return "That did not work."
	}
	first, n := utf8.DecodeRuneInString(detail)
	detail = string(unicode.ToUpper(first)) + detail[n:]
	if !strings.HasSuffix(detail, ".") {
		detail += "."
	}
	return detail
}

// factorPage is the second-factor page's data.
type factorPage struct {
	Pending   string
	StepUp    bool
	Enrolment *totpShown
}

// totpShown is a new TOTP secret as the page shows it.
type totpShown struct {
	Secret string
	URI    template.URL
}

// consoleHome is the signed-in member's start page, or, for a session
// still owing its second factor, the page that asks for it.
func (s *server) consoleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		if p.Pending != "" {
			s.render(w, r, http.StatusOK, "factor", consolePage{Title: "Second factor", Data: factorPage{Pending: p.Pending}})
			return
		}
		var notice string
		if r.URL.Query().Get("passkey") == "added" {
			notice = "Your passkey was added."
		}
		s.render(w, r, http.StatusOK, "home", consolePage{Title: "Ward", Data: notice})
	})
}

// consoleSecondFactor presents a TOTP or recovery code from the form. On
// success the session's token rotates (a step-up) into the cookie and the
// browser goes to the start page; a wrong code shows the form again.
func (s *server) consoleSecondFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		var rot auth.Rotated
		err := r.ParseForm()
		if err == nil {
			code := strings.TrimSpace(r.PostForm.Get("code"))
			switch r.PostForm.Get("kind") {
			case "recovery":
				rot, err = s.deps.Auth.UseRecoveryCode(r.Context(), code)
			default:
				rot, err = s.deps.Auth.VerifyTOTP(r.Context(), code)
			}
		}
		if err != nil {
			status, _, detail := problemFor(err)
			if status == http.StatusInternalServerError {
				s.console.writeError(w, r, err)
				return
			}
			s.render(w, r, status, "factor", consolePage{Title: "Second factor", Error: sentence(detail),
				Data: factorPage{Pending: p.Pending}})
			return
		}
		s.setCookie(w, s.sessionCookie(), rot.Token, time.Until(rot.AbsoluteExpiresAt))
		w.Header().Set("Location", s.root)
		w.WriteHeader(http.StatusSeeOther)
	})
}

// consoleEnrolTOTP starts a TOTP enrolment and shows its secret once,
// with the form that confirms it by a first code.
func (s *server) consoleEnrolTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		e, err := s.deps.Auth.EnrolTOTP(r.Context())
		if err != nil {
			status, _, detail := problemFor(err)
			if status == http.StatusInternalServerError {
				s.console.writeError(w, r, err)
				return
			}
			s.render(w, r, status, "factor", consolePage{Title: "Second factor", Error: sentence(detail),
				Data: factorPage{Pending: p.Pending}})
			return
		}
		shown := &totpShown{Secret: e.Secret}
		if strings.HasPrefix(e.URI, "otpauth://totp/") {
			shown.URI = template.URL(e.URI) // built by the server, not by the caller
		}
		s.render(w, r, http.StatusOK, "factor", consolePage{Title: "Set up your authenticator app",
			Data: factorPage{Pending: p.Pending, Enrolment: shown}})
	})
}

// consoleSignOut ends the session as POST /v1/auth/logout does and sends
// the browser to the sign-in page.
func (s *server) consoleSignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.deps.Auth.Logout(r.Context()); err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.setCookie(w, s.sessionCookie(), "", -time.Second)
		w.Header().Set("Location", s.root+"sign-in")
		w.WriteHeader(http.StatusSeeOther)
	})
}

func (s *server) consoleCases(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := cs.ListCases(r.Context(), cases.CaseFilter{Limit: cases.MaxListPage})
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "cases", consolePage{Title: "Cases", Data: list})
	})
}

// casePage is a case's page: the case, its documents, and the forms that
// add a document and invite an outside party.
type casePage struct {
	Case        cases.Case
	Docs        cases.DocumentList
	Notice      string
	Done        string
	Kinds       []string
	InviteUntil string
}

// caseNotices are what a case page says after its forms (?done=).
var caseNotices = map[string]string{
	"uploaded": "The document was uploaded.",
	"invited":  "The invitation was sent.",
	"created":  "The case was opened.",
	"deleted":  "The document was deleted.",
}

func (s *server) consoleCase(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such case")
			return
		}
		var pg casePage
		pg.Case, err = cs.GetCase(r.Context(), id)
		if err == nil {
			pg.Docs, err = cs.ListDocuments(r.Context(), id, "", cases.MaxListPage)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		if pg.Notice = caseNotices[r.URL.Query().Get("done")]; pg.Notice != "" {
			pg.Done = r.URL.Query().Get("done")
		}
		pg.Kinds = []string{"attorney", "employer", "payer", "clinic"}
		pg.InviteUntil = time.Now().AddDate(0, 0, 30).UTC().Format(time.DateOnly)
		s.render(w, r, http.StatusOK, "case", consolePage{Title: pg.Case.Title, Data: pg})
	})
}

// seeCase sends the browser back to case id's page, saying what was done.
func (s *server) seeCase(w http.ResponseWriter, id uuid.UUID, done string) {
	w.Header().Set("Location", s.root+"cases/"+id.String()+"?done="+done)
	w.WriteHeader(http.StatusSeeOther)
}

// readErr keeps the first error its body's reads returned.
type readErr struct {
	io.ReadCloser
	err error
}

func (b *readErr) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

// maxDocTypeField is the most the upload form's type part may hold.
const maxDocTypeField = 64

// consoleUpload stores a file from the case page's form as a new document
// of the case, as POST /v1/cases/{id}/files does: the form's parts are read
// as they come (its type first, then the file), the file streamed into
// encryption, never held whole. Whether the session may upload to the
// case, the database decides.
func (s *server) consoleUpload(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such case")
			return
		}
		body := &readErr{ReadCloser: r.Body}
		r.Body = body
		mr, err := r.MultipartReader()
		if err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the upload must be a multipart form")
			return
		}
		// The page's form has two parts, the type then the file: anything
		// else before the file (more parts, a type longer than any type)
		// is refused, not read and thrown away up to the route's limit.
		var typ string
		var typed bool
		for {
			part, err := mr.NextPart()
			if err != nil {
				// A body that stalled or outgrew the route is that, not a
				// form without a file (the part's header reader reports a
				// cut-off header as malformed, so the body's own error
				// comes first).
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
			case "type":
				b, _ := io.ReadAll(io.LimitReader(part, maxDocTypeField+1))
				if typed || len(b) > maxDocTypeField {
					writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has one type, of at most 64 characters, before its file")
					return
				}
				typ, typed = strings.TrimSpace(string(b)), true
				continue
			case "file":
			default:
				writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form has a type and a file, nothing else")
				return
			}
			if part.FileName() == "" {
				writeHTMLError(w, r, http.StatusBadRequest, "missing_file_name", "choose a file to upload")
				return
			}
			_, _, err = cs.Upload(r.Context(), id, uuid.Nil, cases.UploadInput{FileName: part.FileName(), Type: typ, Length: -1}, part)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = cases.ErrTooLarge
			}
			if err != nil {
				s.console.writeError(w, r, err)
				return
			}
			s.seeCase(w, id, "uploaded")
			return
		}
	})
}

// consoleInvite invites an outside party to the case from the page's
// form, as POST /v1/cases/{id}/invites does (the invitation is mailed).
func (s *server) consoleInvite(cs *cases.Service) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		f := r.PostForm
		in := cases.InviteInput{Email: strings.TrimSpace(f.Get("email")), Kind: f.Get("kind"), Permissions: f["permission"]}
		if org := strings.TrimSpace(f.Get("recipient_org")); org != "" {
			in.RecipientOrg = &org
		}
		// The access ends at the end of the chosen day (UTC).
		until, err := time.Parse(time.DateOnly, f.Get("access_until"))
		if err != nil {
			return "", badRequest("invalid_input", "access until is a date (YYYY-MM-DD)")
		}
		in.AccessExpiresAt = until.Add(24*time.Hour - time.Second)
		if _, err := cs.CreateInvite(r.Context(), id, in); err != nil {
			return "", err
		}
		return "cases/" + id.String() + "?done=invited", nil
	})
}

// auditPageSize is how many events the audit page shows at once.
const auditPageSize = 50

// auditRow is one event as the audit page shows it.
type auditRow struct {
	Seq                                int64
	At, Action, Outcome, Actor, Object string
	Covered                            bool
}

// auditPage is the audit page's data: the newest signed checkpoint as
// verified here with the published key, the inclusion proofs of the
// page's events it covers, and the page's events newest first.
type auditPage struct {
	Verified bool
	Problem  string
	Size     int64
	Root     string
	// Proved is the newest event of the page proved included, Checked
	// how many of the page's events were (every one the checkpoint covers).
	Proved, Checked int64
	Events          []auditRow
	// Older and Newer are the after= of the neighbouring pages ("" none).
	Older, Newer string
}

// consoleAudit shows the org's audit log to an admin with what makes it
// verifiable: the newest checkpoint's signature checked against the key
// Ward publishes (/.well-known/ward-audit-key), which events it covers,
// and each covered event's inclusion proof checked against its root, the
// event as shown rebuilt into the leaf proved. The page
// starts at the newest events; after= pages as GET /v1/audit/events does.
func (s *server) consoleAudit() http.Handler {
	log := s.deps.Audit
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A checkpoint verifies only as this org's: the instance's key signs
		// every org's log, so a signature alone does not say which log a
		// note is of (another org's note in this org's table would verify).
		p, _ := identity.PrincipalFrom(r.Context())
		var pg auditPage
		cp, err := log.Checkpoint(r.Context())
		switch {
		case errors.Is(err, audit.ErrNoCheckpoint):
			pg.Problem = "The log has no signed checkpoint yet: the signer writes one within seconds of the first events."
		case err != nil:
			s.console.writeError(w, r, err)
			return
		default:
			if v, verr := audit.OpenOrgCheckpoint(cp.Note, s.deps.AuditKey, p.OrgID); verr != nil {
				pg.Problem = "The newest checkpoint does NOT verify with the published key as this org's log's: " + verr.Error()
			} else {
				pg.Verified, pg.Size, pg.Root = true, v.Size, v.Root.String()
			}
		}
		after := max(0, pg.Size-auditPageSize)
		if v := r.URL.Query().Get("after"); v != "" {
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n < 0 {
				writeHTMLError(w, r, http.StatusBadRequest, "invalid_query", "after is a sequence number, 0 or more")
				return
			}
			after = n
		}
		list, err := log.Log(r.Context(), audit.Filter{After: after, Limit: auditPageSize})
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		var newest int64
		for _, e := range slices.Backward(list) {
			row := auditRow{Seq: e.Seq, At: e.At.UTC().Format("2006-01-02 15:04:05"), Action: e.Action, Outcome: e.Outcome,
				Actor: e.ActorKind, Covered: pg.Verified && e.Seq <= pg.Size}
			if e.Actor.Valid {
				row.Actor += " " + e.Actor.UUID.String()
			}
			if e.ObjectID.Valid {
				row.Object = e.ObjectType + " " + e.ObjectID.UUID.String()
			}
			if row.Covered && newest == 0 {
				newest = e.Seq
			}
			pg.Events = append(pg.Events, row)
		}
		if newest > 0 {
			// Every covered event of the page, each proved included in the
			// checkpoint verified above (the proofs' read is audited), and
			// each as the page shows it: rebuilt from its row, it must be
			// the leaf its proof is of.
			var seqs []int64
			for _, e := range list {
				if e.Seq <= pg.Size {
					seqs = append(seqs, e.Seq)
				}
			}
			if err := s.proveEvents(r.Context(), p.OrgID, seqs); err == nil {
				pg.Proved, pg.Checked = newest, int64(len(seqs))
			} else if !errors.Is(err, audit.ErrNoCheckpoint) {
				pg.Verified, pg.Problem = false, "The inclusion proofs of the page's events do NOT verify: "+err.Error()
				// Nothing on the page is in a verified checkpoint then.
				for i := range pg.Events {
					pg.Events[i].Covered = false
				}
			}
		}
		if len(list) > 0 {
			if first := list[0].Seq; first > 1 {
				pg.Older = strconv.FormatInt(max(0, first-1-auditPageSize), 10)
			}
			if len(list) == auditPageSize {
				pg.Newer = strconv.FormatInt(list[len(list)-1].Seq, 10)
			}
		}
		s.render(w, r, http.StatusOK, "audit", consolePage{Title: "Audit log", Data: pg})
	})
}

// proveEvents checks the inclusion proofs of events seqs (ascending) with
// the published key, each against a checkpoint of org's log, and that
// each event's row hashes to the leaf its proof is of.
func (s *server) proveEvents(ctx context.Context, org uuid.UUID, seqs []int64) error {
	bundles, err := s.deps.Audit.InclusionProofs(ctx, seqs)
	if err != nil {
		return err
	}
	leaves, err := s.deps.Audit.EventLeaves(ctx, seqs[0], seqs[len(seqs)-1])
	if err != nil {
		return err
	}
	// The bundles share one checkpoint: its note is opened once, each
	// proof checked against its root.
	v, err := audit.OpenOrgCheckpoint(bundles[0].Checkpoint.Note, s.deps.AuditKey, org)
	if err != nil {
		return err
	}
	for _, b := range bundles {
		switch {
		case b.Checkpoint.Note != v.Note || b.Seq < 1 || b.Seq > v.Size:
			return fmt.Errorf("event %d: its proof is not against the checkpoint verified", b.Seq)
		case leaves[b.Seq] != b.LeafHash:
			return fmt.Errorf("event %d as stored does not hash to the leaf the proof is of", b.Seq)
		}
		if err := audit.VerifyInclusion(b.LeafHash, uint64(b.Seq-1), uint64(v.Size), b.Proof, v.Root); err != nil {
			return fmt.Errorf("event %d: %w", b.Seq, err)
		}
	}
	return nil
}

// dsrPage is the data-subject request queue's page.
type dsrPage struct {
	Requests          []records.DSR
	CCPAKinds         []string
	Admin             bool
	Notice            string
	Outcomes, Reasons []string
}

// consoleDSR lists the requests the session may see (an admin the org's
// queue, open ones first by due date; anyone else their own), with an
// admin's forms to close or extend an open one.
func (s *server) consoleDSR() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		list, err := s.deps.Records.ListDSR(r.Context(), "", nil)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := dsrPage{Requests: list, Admin: p.Role == identity.RoleAdmin, Outcomes: records.DSROutcomes,
			CCPAKinds: []string{"ccpa_know", "ccpa_delete", "ccpa_correct", "ccpa_limit"},
			Reasons:   records.DSRExtensionReasons}
		switch r.URL.Query().Get("done") {
		case "filed":
			pg.Notice = "The request was filed; its deadline is below."
		case "reason":
			pg.Notice = "The request's deadline was extended by 30 days."
		case "outcome":
			pg.Notice = "The request was closed."
		}
		s.render(w, r, http.StatusOK, "dsr", consolePage{Title: "Data-subject requests", Data: pg})
	})
}

// consoleDSRChange closes or extends a request from the queue's form, as
// the API's POST /v1/compliance/dsr/{id}/{close,extend} do.
func (s *server) consoleDSRChange(field string, change func(ctx context.Context, id uuid.UUID, value string) (records.DSR, error)) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		_, err := change(r.Context(), id, r.PostForm.Get(field))
		return "dsr?done=" + field, err
	})
}

// breakGlassPage is the emergency-access review page.
type breakGlassPage struct {
	Activations []auth.BreakGlassActivation
	Notice      string
	Staff       []designation // who may use emergency access (console_admin.go)
}

// consoleBreakGlass lists the org's emergency accesses, the open reviews
// with the form that closes them.
func (s *server) consoleBreakGlass() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.deps.Auth.ListBreakGlassActivations(r.Context(), false)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := breakGlassPage{Activations: list}
		if r.URL.Query().Get("done") == "reviewed" {
			pg.Notice = "The review was closed."
		}
		if err := s.addDesignations(r, &pg); err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "breakglass", consolePage{Title: "Emergency access", Data: pg})
	})
}

// consoleBreakGlassReview closes an emergency access's review with the
// form's note (a step-up within the last minutes, as on the API).
func (s *server) consoleBreakGlassReview() http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		return "break-glass?done=reviewed", s.deps.Auth.CloseBreakGlassReview(r.Context(), id, r.PostForm.Get("note"))
	})
}

// consolePatients shows the patients the session may read, newest first,
// 200 a page (?cursor= pages on, as GET /v1/patients does).
func (s *server) consolePatients() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		cursor, err := records.ParsePatientCursor(r.URL.Query().Get("cursor"))
		if err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "invalid_query", "the cursor is not one this page gave")
			return
		}
		list, err := s.deps.Records.ListPatients(r.Context(), records.ListFilter{Limit: records.MaxPatientPage, After: cursor})
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := patientsPage{Patients: list.Patients, Next: list.Next, CanCreate: p.Role.AtLeast(identity.RoleLead)}
		if r.URL.Query().Get("done") == "shredded" {
			pg.Notice = "The patient was crypto-shredded: their record can no longer be read by anyone."
		}
		s.render(w, r, http.StatusOK, "patients", consolePage{Title: "Patients", Data: pg})
	})
}

// patientsPage is a page of the patient list; Next is the cursor of the
// page after it ("" on the last).
type patientsPage struct {
	Patients  []records.Patient
	Next      string
	CanCreate bool
	Notice    string
}

// patientPage is a patient's record page. CanShred shows an admin the
// form that crypto-shreds the patient.
type patientPage struct {
	Patient  records.Patient
	Entries  records.EntryPage
	Notice   string
	Now      string
	CanShred bool
}

// consolePatientShred crypto-shreds a patient from the record page's form,
// as POST /v1/patients/{id}/shred does: the form repeats the patient's id.
func (s *server) consolePatientShred() http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		if strings.TrimSpace(r.PostForm.Get("confirm")) != id.String() {
			return "", badRequest("confirm_mismatch", "type the patient's id to confirm: the shred cannot be undone")
		}
		_, err := s.deps.Records.ShredPatient(r.Context(), id)
		return "patients?done=shredded", err
	})
}

// consolePatient shows a patient's record and a page of its entries,
// newest first (?cursor= pages on), with the form that adds one. The
// database decides who may read it; the read is audited as the API's.
func (s *server) consolePatient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such patient")
			return
		}
		cursor, err := records.ParseEntryCursor(r.URL.Query().Get("cursor"))
		if err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "invalid_query", "the cursor is not one this page gave")
			return
		}
		p, _ := identity.PrincipalFrom(r.Context())
		pg := patientPage{Now: time.Now().UTC().Format("2006-01-02T15:04"),
			CanShred: p.Role == identity.RoleAdmin && p.Kind == identity.KindSession}
		pg.Patient, err = s.deps.Records.GetPatient(r.Context(), id)
		if err == nil {
			pg.Entries, err = s.deps.Records.ListEntries(r.Context(), id, 0, cursor)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		switch r.URL.Query().Get("done") {
		case "entry":
			pg.Notice = "The entry was added."
		case "created":
			pg.Notice = "The patient record was created."
		}
		s.render(w, r, http.StatusOK, "patient", consolePage{Title: pg.Patient.Name, Data: pg})
	})
}

// consoleEntry adds an entry to a patient's record from the page's form,
// as POST /v1/patients/{id}/entries does.
func (s *server) consoleEntry() http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		f := r.PostForm
		in := records.EntryInput{Kind: f.Get("kind"), Name: strings.TrimSpace(f.Get("name")), Unit: strings.TrimSpace(f.Get("unit")),
			Note: strings.TrimSpace(f.Get("note"))}
		if v := strings.TrimSpace(f.Get("value")); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return "", badRequest("invalid_input", "value is a number")
			}
			in.Value = &x
		}
		at, err := time.Parse("2006-01-02T15:04", f.Get("observed_at"))
		if err != nil {
			return "", badRequest("invalid_input", "observed at is a date and time (YYYY-MM-DDTHH:MM, UTC)")
		}
		in.ObservedAt = at.UTC()
		if _, err := s.deps.Records.CreateEntry(r.Context(), id, in); err != nil {
			return "", err
		}
		return "patients/" + id.String() + "?done=entry", nil
	})
}

// accessRow is one access as the report page shows it.
type accessRow struct {
	At, Who, Action, Outcome, Proof string
}

// accessReportPage is the access report's page.
type accessReportPage struct {
	Patient  uuid.UUID
	Verified bool
	Problem  string
	Size     int64
	Rows     []accessRow
	Next     string
}

// consoleAccessReport shows who read a patient's record (the patient
// themself, an admin), each access with its inclusion proof checked here
// against the report's signed checkpoint and the published key, as the
// patient's own app can check it offline.
func (s *server) consoleAccessReport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such patient")
			return
		}
		var after int64
		if v := r.URL.Query().Get("after"); v != "" {
			if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
				writeHTMLError(w, r, http.StatusBadRequest, "invalid_query", "after is a sequence number, 0 or more")
				return
			}
		}
		rep, err := s.deps.Records.AccessReport(r.Context(), id, after, 0)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := accessReportPage{Patient: id}
		var cp audit.Checkpoint
		switch {
		case rep.Checkpoint == nil:
			pg.Problem = "The audit log has no signed checkpoint yet: the accesses below are recorded but not yet proved."
		default:
			// Only as this org's log's: the instance's key signs every
			// org's log, so a signature alone does not say whose it is.
			p, _ := identity.PrincipalFrom(r.Context())
			if cp, err = audit.OpenOrgCheckpoint(rep.Checkpoint.Note, s.deps.AuditKey, p.OrgID); err != nil {
				pg.Problem = "The report's checkpoint does NOT verify with the published key as this org's log's: " + err.Error()
			} else {
				pg.Verified, pg.Size = true, cp.Size
			}
		}
		for _, a := range rep.Accesses {
			row := accessRow{At: a.At.UTC().Format("2006-01-02 15:04:05"), Action: a.Action, Outcome: a.Outcome, Proof: "not yet"}
			switch {
			case a.ActorEmail != "":
				row.Who = a.ActorEmail
			case a.ActorRole != "":
				row.Who = a.ActorRole
			default:
				row.Who = a.ActorKind
			}
			if a.ActorRole != "" && a.ActorEmail != "" {
				row.Who += " (" + a.ActorRole + ")"
			}
			if pg.Verified && a.LeafHash != nil && a.Seq >= 1 && a.Seq <= cp.Size {
				if audit.VerifyInclusion(*a.LeafHash, uint64(a.Seq-1), uint64(cp.Size), a.Inclusion, cp.Root) == nil {
					row.Proof = "proved"
				} else {
					row.Proof = "PROOF FAILED"
					pg.Verified, pg.Problem = false, "An access's inclusion proof does NOT verify against the checkpoint."
				}
			}
			pg.Rows = append(pg.Rows, row)
		}
		if rep.NextAfter != nil {
			pg.Next = strconv.FormatInt(*rep.NextAfter, 10)
		}
		s.render(w, r, http.StatusOK, "accessreport", consolePage{Title: "Who has read this record", Data: pg})
	})
}

// securityPage is the member's own security page.
type securityPage struct {
	Sessions []auth.SessionInfo
	Passkeys []auth.Passkey
	Codes    []string
	Notice   string
}

// securityNotices are what the security page says after its forms.
var securityNotices = map[string]string{
	"ended":   "The session was ended.",
	"removed": "The passkey was removed.",
	"renamed": "The passkey was renamed.",
	"added":   "Your passkey was added.",
}

// consoleSecurity shows the member's own sessions (ending any but this
// one), passkeys (adding, removing) and recovery codes (codes, once, when
// just made).
func (s *server) consoleSecurity(codes []string, notice string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeSecurity(w, r, codes, notice)
	})
}

func (s *server) writeSecurity(w http.ResponseWriter, r *http.Request, codes []string, notice string) {
	pg := securityPage{Codes: codes, Notice: notice}
	if pg.Notice == "" {
		pg.Notice = securityNotices[r.URL.Query().Get("done")]
	}
	var err error
	pg.Sessions, err = s.deps.Auth.ListSessions(r.Context())
	if err == nil {
		pg.Passkeys, err = s.deps.Auth.ListPasskeys(r.Context())
	}
	if err != nil {
		s.console.writeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "security", consolePage{Title: "Your sign-in and devices", Data: pg})
}

// consoleSecurityChange runs change on the path's id from a security
// page form and goes back to the page.
func (s *server) consoleSecurityChange(done string, change func(r *http.Request, id uuid.UUID) error) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		return "security?done=" + done, change(r, id)
	})
}

// consoleRecoveryCodes makes ten new recovery codes and shows them once,
// on the answer's page (never in a URL); the old ones stop working.
func (s *server) consoleRecoveryCodes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes, err := s.deps.Auth.GenerateRecoveryCodes(r.Context())
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.writeSecurity(w, r, codes, "New recovery codes were made.")
	})
}

// membersPage is the org's member list.
type membersPage struct {
	Members []auth.Member
	Roles   []string
	Self    uuid.UUID
	Notice  string
}

// memberRoles are the roles the member forms offer.
var memberRoles = []string{"patient", "provider", "lead", "admin"}

// consoleMembers lists the org's members (leads and admins), with an
// admin's forms to add one, change a role or remove one.
func (s *server) consoleMembers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		list, err := s.deps.Auth.ListMembers(r.Context())
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		pg := membersPage{Members: list, Roles: memberRoles, Self: p.UserID}
		switch r.URL.Query().Get("done") {
		case "added":
			pg.Notice = "The member was added."
		case "changed":
			pg.Notice = "The member's role was changed."
		case "removed":
			pg.Notice = "The member was removed; their sessions ended."
		}
		s.render(w, r, http.StatusOK, "members", consolePage{Title: "Members", Data: pg})
	})
}

// consoleMemberAdd adds a member from the members page's form, as POST
// /v1/members does (a step-up within 10 minutes).
func (s *server) consoleMemberAdd() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		f := r.PostForm
		_, err := s.deps.Auth.AddMember(r.Context(), strings.TrimSpace(f.Get("email")), identity.Role(f.Get("role")), f.Get("invite") == "yes")
		return "members?done=added", err
	})
}

// consoleMemberChange changes a member's role (role) or removes them.
func (s *server) consoleMemberChange(role bool) http.Handler {
	return s.formAction("user_id", func(r *http.Request, id uuid.UUID) (string, error) {
		if role {
			return "members?done=changed", s.deps.Auth.UpdateMember(r.Context(), id, identity.Role(r.PostForm.Get("role")))
		}
		return "members?done=removed", s.deps.Auth.RevokeMember(r.Context(), id)
	})
}

// documentPage is a document's page.
type documentPage struct {
	Doc      cases.Document
	Comments cases.CommentPage
	Latest   int
	Notice   string
}

// documentNotices are what a document page says after its forms.
var documentNotices = map[string]string{
	"accepted":  "The document was accepted.",
	"commented": "Your comment was added.",
	"requested": "The document was requested.",
	"version":   "The new version was uploaded.",
}

// consoleDocument shows a document: its versions with a download link
// each, the acceptance of the latest (naming it, as the API requires),
// and its comments with the form that adds one.
func (s *server) consoleDocument(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			writeHTMLError(w, r, http.StatusNotFound, "not_found", "no such document")
			return
		}
		cursor, err := cases.ParseCommentCursor(r.URL.Query().Get("cursor"))
		if err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "invalid_query", "the cursor is not one this page gave")
			return
		}
		var pg documentPage
		pg.Doc, err = cs.GetDocument(r.Context(), id)
		if err == nil {
			pg.Comments, err = cs.ListComments(r.Context(), id, 0, cursor)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		for _, v := range pg.Doc.Versions {
			pg.Latest = max(pg.Latest, v.Version)
		}
		pg.Notice = documentNotices[r.URL.Query().Get("done")]
		title := pg.Doc.Type
		if pg.Doc.Description != "" {
			title += ": " + pg.Doc.Description
		}
		s.render(w, r, http.StatusOK, "document", consolePage{Title: title, Data: pg})
	})
}

// consoleDocumentAccept accepts the version the page showed as the
// latest: a newer upload since makes it 412, as on the API.
func (s *server) consoleDocumentAccept(cs *cases.Service) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		v, err := strconv.Atoi(r.PostForm.Get("version"))
		if err != nil || v < 1 {
			return "", badRequest("invalid_input", "version is the version accepted, 1 or more")
		}
		return "documents/" + id.String() + "?done=accepted", cs.AcceptDocument(r.Context(), id, cases.Precondition{Version: v})
	})
}

func (s *server) consoleComment(cs *cases.Service) http.Handler {
	return s.formAction("id", func(r *http.Request, id uuid.UUID) (string, error) {
		_, err := cs.AddComment(r.Context(), id, r.PostForm.Get("body"))
		return "documents/" + id.String() + "?done=commented", err
	})
}

// consoleCaseCreate opens a case from the cases page's form, as POST
// /v1/cases does.
func (s *server) consoleCaseCreate(cs *cases.Service) http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		in := cases.CaseInput{Title: strings.TrimSpace(r.PostForm.Get("title")), Reference: strings.TrimSpace(r.PostForm.Get("reference"))}
		if v := r.PostForm.Get("patient_id"); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				return "", badRequest("invalid_input", "patient is one of the list's")
			}
			in.PatientID = id
		}
		c, err := cs.CreateCase(r.Context(), in)
		return "cases/" + c.ID.String() + "?done=created", err
	})
}

// consolePatientCreate adds a patient record from the patients page's
// form (leads and admins), as POST /v1/patients does.
func (s *server) consolePatientCreate() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		f := r.PostForm
		p, err := s.deps.Records.CreatePatient(r.Context(), records.PatientInput{Name: f.Get("name"),
			DOB: strings.TrimSpace(f.Get("dob")), MRN: strings.TrimSpace(f.Get("mrn")), Phone: strings.TrimSpace(f.Get("phone")),
			Email: strings.TrimSpace(f.Get("email"))})
		return "patients/" + p.ID.String() + "?done=created", err
	})
}

// policiesPage is the org's security policies.
type policiesPage struct {
	Session   auth.Policy
	Assurance auth.AssurancePolicy
	Binding   auth.DeviceBindingPolicy
	Notice    string
	More      *policiesMore // the risk, SSO and gateway policies (console_admin.go)
}

// consolePolicies shows the org's security policies to its members, with
// an admin's forms for each (console_admin.go has the others' forms).
func (s *server) consolePolicies() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pg policiesPage
		var err error
		pg.Session, err = s.deps.Auth.GetPolicy(r.Context())
		if err == nil {
			pg.Assurance, err = s.deps.Auth.GetAssurancePolicy(r.Context())
		}
		if err == nil {
			pg.Binding, err = s.deps.Auth.GetDeviceBindingPolicy(r.Context())
		}
		if err == nil {
			err = s.addPolicies(r, &pg)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		if r.URL.Query().Get("done") == "saved" {
			pg.Notice = "The policy was saved."
		}
		s.render(w, r, http.StatusOK, "policies", consolePage{Title: "Security policies", Data: pg})
	})
}

// consolePolicySession saves the session policy from the page's form, as
// PUT /v1/org/session-policy does; the database holds the bounds.
func (s *server) consolePolicySession() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		idle, err1 := strconv.Atoi(r.PostForm.Get("session_idle_timeout_min"))
		absolute, err2 := strconv.Atoi(r.PostForm.Get("session_absolute_max_min"))
		if err1 != nil || err2 != nil {
			return "", badRequest("invalid_input", "the timeouts are whole minutes")
		}
		return "policies?done=saved", s.deps.Auth.SetPolicy(r.Context(), auth.Policy{IdleTimeoutMin: idle, AbsoluteMaxMin: absolute})
	})
}

// consolePolicyAssurance saves the assurance policy from the page's form,
// as PUT /v1/org/assurance-policy does: sessions that no longer meet a
// stricter policy end in the same transaction.
func (s *server) consolePolicyAssurance() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		_, err := s.deps.Auth.SetAssurancePolicy(r.Context(), auth.AssurancePolicy{RequireMFA: r.PostForm.Get("require_mfa") == "yes",
			RequirePasskey: r.PostForm.Get("require_passkey") == "yes"})
		return "policies?done=saved", err
	})
}

// consoleDSROpen files a data-subject request from a form, as POST
// /v1/compliance/dsr does: about a patient record (patient_id, from the
// record's page) or, for a CCPA kind without one, about the caller. Who
// may file what, and each law's deadline, the database decides.
func (s *server) consoleDSROpen() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		in := records.DSRInput{Kind: r.PostForm.Get("kind")}
		if v := r.PostForm.Get("patient_id"); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				return "", badRequest("invalid_input", "patient_id is the record's id")
			}
			in.PatientID = &id
		}
		_, err := s.deps.Records.OpenDSR(r.Context(), in)
		return "dsr?done=filed", err
	})
}
