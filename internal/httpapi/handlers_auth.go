package httpapi

import (
	"context"
	_ "embed"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func handleReadyz(ready func(context.Context) error, log *slog.Logger) http.Handler {
	// Probes that arrive while one is running share its answer: the route
	// is public, and a flood of probes costs the database one ping at a
	// time, not one per probe.
	var probes singleflight.Group
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		ch := probes.DoChan("ready", func() (any, error) {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			return nil, ready(pctx)
		})
		var err error
		select {
		case res := <-ch:
			err = res.Err
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			if clientGone(w, r) {
				// The caller left (or gave up on) its own probe: that says
				// nothing about this server.
				log.Debug("readiness probe abandoned by its client")
				return
			}
			// The probe is public: the reason (which may hold a role name,
			// a socket path or a host) goes to the log, not to the caller.
			log.Warn("not ready", "err", err)
			writeProblem(w, r, http.StatusServiceUnavailable, "not_ready", "not ready: see the server log")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// metricsOnly lets through the clients that may read the node's figures:
// loopback and the networks of Config.MetricsFrom (the client address as
// clientIP sees it, so a public client behind a trusted proxy is refused).
func (s *server) metricsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := s.clientIP(r)
		ok := a.IsLoopback()
		for _, p := range s.cfg.MetricsFrom {
			ok = ok || p.Contains(a)
		}
		if !ok {
			s.writeError(w, r, forbidden("metrics_forbidden",
				"the metrics are served to loopback and to the networks of --metrics-from only"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleMetrics serves the node's figures for Prometheus.
func handleMetrics(write func(io.Writer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if write != nil {
			write(w)
		}
	})
}

func (s *server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		Secure: s.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (s *server) handleLinkRequest() http.Handler {
	type request struct {
		Email string    `json:"email"`
		OrgID uuid.UUID `json:"org_id"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		// A member of an org that enforces SSO on their domain gets no link:
		// the database answers, counts and audits the request as one for an
		// address that belongs to nobody (migration 00141), and so does
		// this handler (the same 202 and a verifier, nothing mailed).
		var device string
		if c, err := r.Cookie(s.deviceCookie()); err == nil {
			device = c.Value
		}
		verifier, err := s.deps.Auth.RequestLink(r.Context(), auth.LinkRequest{
			Email: req.Email, Org: uuid.NullUUID{UUID: req.OrgID, Valid: req.OrgID != uuid.Nil}, Device: device,
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// The verifier binds the link to this browser. API clients may keep
		// it from the body and present it when consuming.
		s.setCookie(w, s.verifierCookie(), verifier, auth.VerifierTTL)
		writeJSON(w, http.StatusAccepted, map[string]string{
			"status":   "if the address belongs to a member, a sign-in link is on its way",
			"verifier": verifier,
		})
	})
}

// landing is parsed on first use, not at start-up. For a link bound to no
// browser it names the account and the org the link signs in to, and
// warns when the browser is signed in as somebody else (auth.LinkLanding).
var landing = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><h1>{{.Title}}</h1>
{{- if .Message}}
<p>{{.Message}}</p>
{{- else}}
{{- if .L.Unbound}}
<p>This link signs in <strong>{{.L.Email}}</strong> to <strong>{{.L.OrgName}}</strong>.
Continue only if this is your address and you expected to join this organisation.</p>
{{- if eq .L.SignedIn "other"}}
<p>This browser is signed in to another account. Continuing signs that account out here.</p>
{{- end}}
{{- end}}
<form method="post" action="/v1/auth/magic"><input type="hidden" name="token" value="{{.Token}}">
<button type="submit">{{if eq .L.SignedIn "other"}}Sign out and continue as {{.L.Email}}{{else}}Continue{{end}}</button></form>
{{- end}}
</main></body></html>`))
})

// landingReload reloads a landing reached from another site once, from
// Ward, so that the browser sends its SameSite=Strict session cookie and
// the page can tell whether it is signed in as somebody else; again=1 in
// its URL stops a browser that would still load it cross-site from
// reloading forever. What names the link (an invitation, a sign-in link).
var landingReload = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("landing-reload").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Opening the {{.What}} · Ward</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><p><a href="{{.Again}}">Open the {{.What}}</a></p></main></body></html>
`))
})

// landingStart begins a landing page that reads a token without spending
// it (a sign-in link's, an invitation's): it returns the session the
// browser's cookie holds and the client's address, or answers itself and
// returns !ok. A page reached from another site (a web mail) without a
// cookie reloads itself once from Ward, at again (relative to the page),
// so that the browser sends its SameSite=Strict session cookie and the page
// can tell who is signed in. No credential is checked, so a flood of
// made-up tokens is what the address's budget of failed checks limits
// (budgeted): a spent budget is a 429.
func (s *server) landingStart(w http.ResponseWriter, r *http.Request, again, what string) (
	session string, ip netip.Addr, ok bool) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	session = s.cookieSession(r)
	if session == "" && r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.URL.Query().Get("again") == "" {
		w.Header().Set("Refresh", "0; url="+again)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = landingReload().Execute(w, struct{ Again, What string }{again, what})
		return "", netip.Addr{}, false
	}
	ip = s.clientIP(r)
	if retry, spent := s.authFails.spentAddr(ip, s.cfg.Now()); spent {
		s.writeError(w, r, rateLimited(retry, "too many failed credential checks from this address; slow down"))
		return "", netip.Addr{}, false
	}
	return session, ip, true
}

// linkLandingPage is what the landing template shows.
type linkLandingPage struct {
	Title, Message, Token string
	L                     auth.LinkLanding
}

// handleLinkLanding shows a button that posts the token: mail scanners
// that prefetch links do not spend them. A link bound to no browser (an
// invitation, an operator's link) says first which account and org it
// signs in to, and whether that signs another account out of this
// browser. A spent, expired or unknown link says so (410, 404); a token
// the database does not know spends from the address's budget of failed
// credential checks. A link cut short or mangled (not 43 characters) gets
// the unknown link's page without asking the database.
func (s *server) handleLinkLanding() http.Handler {
	invalid := linkLandingPage{Title: "This sign-in link is not valid",
		Message: "Check that the whole link from the mail was opened, or ask for a new one."}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("token")
		if len(token) != 43 {
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_ = landing().Execute(w, invalid)
			return
		}
		session, ip, ok := s.landingStart(w, r, "magic?token="+url.QueryEscape(token)+"&again=1", "sign-in link")
		if !ok {
			return
		}
		l, err := s.deps.Auth.LinkLanding(r.Context(), token, session)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pg, status := linkLandingPage{Title: "Sign in to Ward", Token: token, L: l}, http.StatusOK
		switch l.Status {
		case "ok":
		case "used":
			status, pg.Title, pg.Message = http.StatusGone, "This sign-in link has already been used",
				"Each link works once. Ask for a new one from the sign-in page."
		case "expired":
			status, pg.Title, pg.Message = http.StatusGone, "This sign-in link has expired",
				"Ask for a new one from the sign-in page."
		default:
			s.authFails.allowAddr(ip, s.cfg.Now())
			status, pg.Title, pg.Message = http.StatusNotFound, invalid.Title, invalid.Message
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = landing().Execute(w, pg)
	})
}

type sessionResponse struct {
	// Token is empty when the session is handed out in the cookie only:
	// its member's role must bind non-browser sessions to a DPoP key
	// (DeviceBindingRequired).
	Token                 string    `json:"token,omitempty"`
	DeviceBindingRequired bool      `json:"device_binding_required,omitempty"`
	TokenType             string    `json:"token_type"` // Bearer, or DPoP when bound to the sign-in proof's key
	SessionID             uuid.UUID `json:"session_id"`
	UserID                uuid.UUID `json:"user_id"`
	OrgID                 uuid.UUID `json:"org_id"`
	AbsoluteExpiresAt     time.Time `json:"absolute_expires_at"`
	IdleTimeoutMin        int       `json:"idle_timeout_min"`
}

// handleLinkConsume spends a link: a form post from the landing page (the
// verifier comes from the cookie), answered 303 to the console with the
// session in its cookie only; or JSON {token, verifier} from an app,
// answered with the session token in the body.
// tokenBody reads a sign-in's body: a form posted by one of Ward's pages
// (browser true; its token field into token) or JSON into req.
func tokenBody(r *http.Request, req any, token *string) (browser bool, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return false, decode(r, req)
	}
	if err := r.ParseForm(); err != nil {
		return true, badRequest("bad_form", "the form could not be read")
	}
	*token = r.PostForm.Get("token")
	return true, nil
}

func (s *server) handleLinkConsume() http.Handler {
	type request struct {
		Token    string `json:"token"`
		Verifier string `json:"verifier"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		browser, err := tokenBody(r, &req, &req.Token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.Verifier == "" {
			if c, err := r.Cookie(s.verifierCookie()); err == nil {
				req.Verifier = c.Value
			}
		}
		proof, err := s.signInProof(r)
		var sess auth.Session
		if err == nil {
			var jkt string
			if proof != nil {
				jkt = proof.JKT
			}
			sess, err = s.deps.Auth.ConsumeLinkWithKey(r.Context(), req.Token, req.Verifier, jkt)
		}
		if err == nil && proof != nil {
			err = s.deps.Auth.BindDPoP(r.Context(), sess.Token, *proof)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp := newSessionResponse(sess, proof)
		switch {
		case proof != nil:
		case browser:
			// The form's session goes out in the cookie only.
			err = s.deps.Auth.MarkBrowser(r.Context(), sess.Token)
		default:
			resp, err = s.issued(r, sess)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.setCookie(w, s.verifierCookie(), "", -time.Second)
		if proof != nil {
			// an app's device is its key: no browser to remember
			writeJSON(w, http.StatusOK, resp)
			return
		}
		s.rememberDevice(w, r, sess.Token)
		s.endReplaced(r, sess.Token)
		s.setCookie(w, s.sessionCookie(), sess.Token, time.Until(sess.AbsoluteExpiresAt))
		if browser {
			w.Header().Set("Location", s.root)
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// endReplaced ends the session the browser's cookie held before a
// sign-in replaces it with token (auth.Service.EndReplaced): another
// member's session on a shared computer, or the user's own earlier one,
// does not live on where no one can present or end it. The sign-in stands
// when it fails; that is logged, with no token.
func (s *server) endReplaced(r *http.Request, token string) {
	old := s.cookieSession(r)
	if old == "" || old == token {
		return
	}
	if _, err := s.deps.Auth.EndReplaced(r.Context(), old); err != nil {
		s.log.WarnContext(r.Context(), "replaced session not ended", "request", requestIDFrom(r.Context()), "err", err)
	}
}

// rememberDevice gives the browser that completed a sign-in a device
// cookie: presented with a later link request for the same member's
// address, it lifts the per-address limit anyone can fill (migration
// 00144). The sign-in stands when it fails; that is logged, with no token.
// Not for a DPoP sign-in: its token resolves only with a proof, and it
// gets no cookie.
func (s *server) rememberDevice(w http.ResponseWriter, r *http.Request, sessToken string) {
	device, ok, err := s.deps.Auth.RememberDevice(r.Context(), sessToken)
	if err != nil {
		s.log.WarnContext(r.Context(), "sign-in device not remembered", "request", requestIDFrom(r.Context()), "err", err)
		return
	}
	if ok {
		s.setCookie(w, s.deviceCookie(), device, auth.DeviceTTL)
	}
}

func newSessionResponse(sess auth.Session, proof *auth.DPoPProof) sessionResponse {
	typ := "Bearer"
	if proof != nil {
		typ = "DPoP"
	}
	return sessionResponse{Token: sess.Token, TokenType: typ, SessionID: sess.ID, UserID: sess.UserID,
		OrgID: sess.OrgID, AbsoluteExpiresAt: sess.AbsoluteExpiresAt, IdleTimeoutMin: int(sess.IdleTimeout / time.Minute)}
}

// signInProof verifies the DPoP proof a sign-in request carries (RFC 9449
// §5: no ath, there is no token yet) and records its jti; nil without one.
// The session it creates is then bound to the proof's key.
func (s *server) signInProof(r *http.Request) (*auth.DPoPProof, error) {
	if len(r.Header.Values("DPoP")) == 0 {
		return nil, nil
	}
	p, err := s.verifyDPoP(r, "")
	if err == nil {
		err = s.deps.Auth.UseDPoP(r.Context(), p)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.deps.Auth.Logout(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.setCookie(w, s.sessionCookie(), "", -time.Second)
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.PrincipalFrom(r.Context())
		amr := p.AMR
		if amr == nil {
			amr = []string{}
		}
		var pending any // null when the session meets its bar
		if p.Pending != "" {
			pending = p.Pending
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": p.UserID, "org_id": p.OrgID, "role": p.Role,
			"session_id": p.SessionID, "credential_kind": p.Kind, "aal": p.AAL, "auth_time": p.AuthTime,
			"amr": amr, "pending": pending, "break_glass": p.BreakGlass})
	})
}

func handleSessionList(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.ListSessions(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
	})
}

func handleSessionRevoke(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.RevokeSession(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSessionForgetDevice(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var out auth.Forgotten
		if err == nil {
			out, err = svc.ForgetSessionDevice(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func handlePolicyGet(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := svc.GetPolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

func handlePolicyPut(svc *auth.Service, fail errorWriter) http.Handler {
	// The columns are PostgreSQL int: a larger number is refused here, not
	// by the database as a 500.
	type request struct {
		IdleTimeoutMin int32 `json:"session_idle_timeout_min"`
		AbsoluteMaxMin int32 `json:"session_absolute_max_min"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		pol := auth.Policy{IdleTimeoutMin: int(req.IdleTimeoutMin), AbsoluteMaxMin: int(req.AbsoluteMaxMin)}
		if err == nil {
			err = svc.SetPolicy(r.Context(), pol)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

func handleAssurancePolicyGet(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := svc.GetAssurancePolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

func handleAssurancePolicyPut(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		RequireMFA     *bool `json:"require_mfa"`
		RequirePasskey *bool `json:"require_passkey"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil && (req.RequireMFA == nil || req.RequirePasskey == nil) {
			err = badRequest("invalid_input", "require_mfa and require_passkey are both required")
		}
		var ended int
		if err == nil {
			ended, err = svc.SetAssurancePolicy(r.Context(), auth.AssurancePolicy{RequireMFA: *req.RequireMFA,
				RequirePasskey: *req.RequirePasskey})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"require_mfa": *req.RequireMFA,
			"require_passkey": *req.RequirePasskey, "sessions_ended": ended})
	})
}

func handleMemberList(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No filters: an address is never searched in a URL.
		err := queryOnly(r)
		var list []auth.Member
		if err == nil {
			list, err = svc.ListMembers(r.Context())
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"members": list})
	})
}

func handleMemberAdd(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Email string        `json:"email"`
		Role  identity.Role `json:"role"`
		// Invite mails the new member a sign-in link (default true).
		Invite *bool `json:"invite"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var id uuid.UUID
		if err == nil {
			id, err = svc.AddMember(r.Context(), req.Email, req.Role, req.Invite == nil || *req.Invite)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"user_id": id, "role": req.Role})
	})
}

func handleMemberUpdate(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Role identity.Role `json:"role"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "user_id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil {
			err = svc.UpdateMember(r.Context(), id, req.Role)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": id, "role": req.Role})
	})
}

func handleMemberRevoke(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "user_id")
		if err == nil {
			err = svc.RevokeMember(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

//go:embed openapi.json
var openapiJSON []byte

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapiJSON)
	})
}
