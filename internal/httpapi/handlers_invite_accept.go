package httpapi

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/cases"
)

// The landing and acceptance of a case invitation's link (docs/cases.md).
// The landing says, before anything is accepted, whom the invitation was
// sent to, what it grants and who the browser is signed in as; a GET
// never spends a token (mail scanners fetch links); accepting is a form
// post from Ward's own page; a browser signed in as another member is
// offered to sign out or to cancel, never an acceptance inside that
// member's session.

// inviteLanding is parsed on first use, not at start-up.
var inviteLanding = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("invite").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Ward</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><h1>{{.Title}}</h1>
{{- with .L}}{{if eq .Status "pending"}}
<p><strong>{{.OrgName}}</strong> invites <strong id="invitee">{{.Email}}</strong> to take part in a case on Ward
as {{.Kind}}{{with .RecipientOrg}} for {{.}}{{end}}.</p>
<p>This invitation lets {{.Email}} {{range $i, $p := $.Grants}}{{if $i}}, {{end}}{{$p}}{{end}},
until {{$.AccessEnds}}. The link works once, until {{$.LinkEnds}}.</p>
{{- if eq .SignedIn "other"}}
<p id="signed-in-as-other">You are signed in to Ward as <strong>{{.SignedInEmail}}</strong>, not as {{.Email}}.
Accepting here would not add the case to your account.</p>
<form method="post" action="/v1/case-invites/sign-out"><input type="hidden" name="token" value="{{$.Token}}">
<button type="submit">Sign out and continue as {{.Email}}</button></form>
<p><a href="{{$.Root}}">Cancel and stay signed in as {{.SignedInEmail}}</a></p>
{{- else}}
{{- if eq .SignedIn "invitee"}}
<p id="signed-in-as-invitee">You are signed in as {{.Email}}.</p>
{{- end}}
<form method="post" action="/v1/case-invites/accept"><input type="hidden" name="token" value="{{$.Token}}">
<button type="submit">Accept the invitation</button></form>
<p><a href="{{$.Root}}">Cancel</a></p>
{{- end}}
{{- else}}
<p>{{$.Message}}</p>
<p><a href="{{$.Root}}">Go to Ward</a></p>
{{- end}}{{end}}
</main></body></html>
`))
})

// grantWords says what each case permission lets an invitee do.
var grantWords = map[string]string{
	"view":     "see the case and its documents",
	"upload":   "upload documents",
	"download": "download documents",
	"comment":  "comment on documents",
}

// landingPage is the landing template's data.
type landingPage struct {
	Title, Message, Token, Root string
	L                           cases.Landing
	Grants                      []string
	AccessEnds, LinkEnds        string
}

// validInviteToken reports whether token has the form of an invitation
// token (43 characters of base64url), so that it may go back into a URL.
func validInviteToken(token string) bool {
	return len(token) == 43 && strings.Trim(token,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// cookieSession is the session token the browser presented in its cookie
// ("" none).
func (s *server) cookieSession(r *http.Request) string {
	if c, err := r.Cookie(s.sessionCookie()); err == nil {
		return c.Value
	}
	return ""
}

// handleInviteLanding shows what the invitation is before anything is
// accepted: whom it was sent to, what it grants, and a button that posts
// the token (a mail scanner following the link spends nothing), or, when
// the browser is signed in as another member, a way to sign out or to
// cancel. A token the database does not know spends from the address's
// budget of failed credential checks.
func (s *server) handleInviteLanding() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if !validInviteToken(token) {
			// cut short or mangled: the unknown link's page, without
			// asking the database
			s.writeLanding(w, r, http.StatusNotFound, "", cases.Landing{Status: "invalid"})
			return
		}
		session, ip, ok := s.landingStart(w, r, "accept?token="+token+"&again=1", "invitation")
		if !ok {
			return
		}
		l, err := s.deps.Cases.InviteLanding(r.Context(), token, session, requestIDFrom(r.Context()))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if l.Status == "invalid" {
			s.authFails.allowAddr(ip, s.cfg.Now())
		}
		s.writeLanding(w, r, http.StatusOK, token, l)
	})
}

// writeLanding writes the landing page of l with status (for a pending
// invitation; a spent or unknown one is 410 or 404).
func (s *server) writeLanding(w http.ResponseWriter, r *http.Request, status int, token string, l cases.Landing) {
	pg := landingPage{Title: "You have been invited to a case", Token: token, Root: s.root, L: l}
	switch l.Status {
	case "pending":
		for _, p := range l.Permissions {
			pg.Grants = append(pg.Grants, grantWords[p])
		}
		pg.AccessEnds = l.AccessExpiresAt.UTC().Format(time.RFC1123)
		pg.LinkEnds = l.ExpiresAt.UTC().Format(time.RFC1123)
	case "used":
		status, pg.Title, pg.Message = http.StatusGone, "This invitation has already been used",
			"Each invitation link works once. If it was you who accepted it, sign in to Ward as usual."
	case "revoked":
		status, pg.Title, pg.Message = http.StatusGone, "This invitation has been revoked",
			"Ask whoever invited you to send a new one."
	case "expired":
		status, pg.Title, pg.Message = http.StatusGone, "This invitation has expired",
			"Ask whoever invited you to send a new one."
	case "closed":
		status, pg.Title, pg.Message = http.StatusConflict, "This case is closed",
			"The invitation stays valid: open this link again once the case has been reopened, or ask whoever invited you."
	default:
		status, pg.Title, pg.Message = http.StatusNotFound, "This invitation link is not valid",
			"Check that the whole link from the mail was opened."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = inviteLanding().Execute(w, pg)
}

// handleInviteSignOut is the landing's "sign out and continue": the
// browser's session (another member's) ends as its logout would, and the
// browser is sent back to the landing, now signed out, where the invitee
// accepts. The route is a session route, so a cookie's post must come from
// Ward's own pages.
func (s *server) handleInviteSignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.writeError(w, r, badRequest("bad_form", "the form could not be read"))
			return
		}
		token := r.PostForm.Get("token")
		if !validInviteToken(token) {
			s.writeError(w, r, badRequest("invite_invalid", "this invitation link is not valid"))
			return
		}
		if err := s.deps.Auth.Logout(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.setCookie(w, s.sessionCookie(), "", -time.Second)
		w.Header().Set("Location", s.root+"v1/case-invites/accept?token="+url.QueryEscape(token))
		w.WriteHeader(http.StatusSeeOther)
	})
}

// handleInviteAccept spends an invitation: a form post from the landing
// page (answered 303 with the session in its cookie) or JSON {token} from
// an app (answered with the session token). A browser that holds another
// member's session is refused (409 invite_other_account; the form gets the
// landing page, which offers to sign out) and nothing is spent.
func (s *server) handleInviteAccept() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	type response struct {
		sessionResponse
		CaseID uuid.UUID `json:"case_id"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		browser, err := tokenBody(r, &req, &req.Token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		session := s.cookieSession(r)
		a, err := s.deps.Cases.AcceptInvite(r.Context(), req.Token, session, s.clientIP(r), r.UserAgent(),
			requestIDFrom(r.Context()))
		if browser && errors.Is(err, cases.ErrInviteOtherAccount) {
			if l, lerr := s.deps.Cases.InviteLanding(r.Context(), req.Token, session, requestIDFrom(r.Context())); lerr == nil {
				s.writeLanding(w, r, http.StatusConflict, req.Token, l)
				return
			}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if a.SignInRequired {
			// A member of the org (staff, a patient): the case is on their
			// account now; an invitation is no sign-in route for them.
			if browser {
				w.Header().Set("Location", s.root)
				w.WriteHeader(http.StatusSeeOther)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"status": "sign_in_required", "case_id": a.CaseID,
				"org_id": a.OrgID, "user_id": a.UserID})
			return
		}
		cookieOnly := browser
		if browser {
			// The form's session goes out in the cookie only.
			if err := s.deps.Auth.MarkBrowser(r.Context(), a.Token); err != nil {
				s.writeError(w, r, err)
				return
			}
		} else if cookieOnly, err = s.cookieOnly(r, a.Token); err != nil {
			// An app's acceptance when the org binds the party's sessions:
			// the grant stands, and the party signs in with a DPoP proof.
			s.writeError(w, r, err)
			return
		}
		s.rememberDevice(w, r, a.Token)
		s.setCookie(w, s.sessionCookie(), a.Token, time.Until(a.AbsoluteExpiresAt))
		if browser {
			w.Header().Set("Location", s.root)
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		resp := response{sessionResponse: sessionResponse{Token: a.Token, TokenType: "Bearer",
			SessionID: a.SessionID, UserID: a.UserID, OrgID: a.OrgID, AbsoluteExpiresAt: a.AbsoluteExpiresAt,
			IdleTimeoutMin: int(a.IdleTimeout / time.Minute)}, CaseID: a.CaseID}
		if cookieOnly {
			resp.Token, resp.DeviceBindingRequired = "", true
		}
		writeJSON(w, http.StatusOK, resp)
	})
}
