package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/sso"
)

// SSO (docs/sso.md): the browser's round trip through the org's identity
// provider, and the admin routes for connections, domains and the policy.

// ssoBinderCookie holds the browser's binder between the start of an SSO
// sign-in and the IdP's answer. The way back comes from the IdP's site: a
// top-level GET (OIDC) or a form POST (SAML), so over HTTPS the cookie is
// SameSite=None (Secure, HttpOnly, ten minutes), else Lax.
func (s *server) ssoBinderCookie() string { return s.cookieName("ward_sso") }

// ssoLimited applies the rate limit to an anonymous SSO request, per
// client address (each start writes a state row); false when it answered.
func (s *server) ssoLimited(w http.ResponseWriter, r *http.Request) bool {
	if ok, retry := s.limits.allowAddr(s.clientIP(r), s.cfg.Now()); !ok {
		s.writeError(w, r, rateLimited(retry, "too many sign-in requests from this address; slow down"))
		return false
	}
	return true
}

// ssoContinue is the start's answer to a navigation from another site: a
// page of Ward's own whose link starts the sign-in again (parsed on first
// use).
var ssoContinue = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("sso-continue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Ward</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><h1>Sign in to Ward</h1>
<p>Continue to your organisation's sign-in page.</p>
<p><a href="{{.}}">Continue</a></p></main></body></html>
`))
})

func (s *server) handleSSOStart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Login CSRF: another site that sends a browser here would start a
		// sign-in it chose (its own org's IdP, which may sign its own
		// account in at once) and the callback would put that session in
		// the browser's cookie. A navigation the browser says comes from
		// another site gets a page of Ward's own instead, whose link (a
		// same-origin navigation) starts the sign-in; nothing is stored
		// and no cookie set. A request without Sec-Fetch-Site (not a
		// modern browser's) goes on as before.
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			_ = ssoContinue().Execute(w, s.root+"v1/sso/start?"+r.URL.RawQuery)
			return
		}
		if !s.ssoLimited(w, r) {
			return
		}
		q := r.URL.Query()
		req := sso.StartRequest{Email: q.Get("email")}
		if v := q.Get("org"); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				s.writeError(w, r, badRequest("invalid_query", "org must be an org id (a UUID)"))
				return
			}
			req.Org = id
		}
		if v := q.Get("connection"); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				s.writeError(w, r, badRequest("invalid_query", "connection must be a connection id (a UUID)"))
				return
			}
			req.Connection = id
		}
		st, err := s.deps.SSO.Start(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		same := http.SameSiteLaxMode
		if s.secure {
			same = http.SameSiteNoneMode
		}
		// Path / (a __Host- cookie must have it).
		http.SetCookie(w, &http.Cookie{Name: s.ssoBinderCookie(), Value: st.Binder, Path: "/",
			MaxAge: int((10 * time.Minute) / time.Second), Secure: s.secure, HttpOnly: true, SameSite: same})
		http.Redirect(w, r, st.RedirectURL, http.StatusSeeOther)
	})
}

func (s *server) handleSSOCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ssoLimited(w, r) {
			return
		}
		q := r.URL.Query()
		req := sso.CallbackRequest{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
			Iss: q.Get("iss"), IssSent: q.Has("iss")}
		if c, err := r.Cookie(s.ssoBinderCookie()); err == nil {
			req.Binder = c.Value
		}
		sess, err := s.deps.SSO.Callback(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ssoSignedIn(w, r, sess)
	})
}

// ssoSignedIn marks the session a browser session (it goes out in the
// cookie only), ends the binder, sets the session cookie and sends the
// browser to Ward's root.
func (s *server) ssoSignedIn(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if err := s.deps.Auth.MarkBrowser(r.Context(), sess.Token); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.ssoBinderCookie(), Value: "", Path: "/", MaxAge: -1,
		Secure: s.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.rememberDevice(w, r, sess.Token)
	s.endReplaced(r, sess.Token)
	s.setCookie(w, s.sessionCookie(), sess.Token, time.Until(sess.AbsoluteExpiresAt))
	w.Header().Set("Location", s.root)
	w.WriteHeader(http.StatusSeeOther)
}

// handleSAMLACS is a SAML connection's assertion consumer (HTTP-POST
// binding): the IdP's site posts the form, so no origin check.
func (s *server) handleSAMLACS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ssoLimited(w, r) {
			return
		}
		id, err := pathID(r, "id")
		if err == nil {
			if perr := r.ParseForm(); perr != nil {
				err = badRequest("bad_form", "the form could not be read")
			}
		}
		var sess auth.Session
		if err == nil && r.PostForm.Get("RelayState") == "" && !s.samlConfirmed(r, id) {
			// IdP-initiated: bound to no browser, so whoever can post a
			// response of the IdP's (its users, its admin) could sign a
			// visitor's browser in to their account (login CSRF). A
			// response that verifies is shown on a page of Ward's own
			// first, whose Continue posts it back confirmed; one that does
			// not goes on to ACS, which refuses it (audited).
			if p, ok := s.deps.SSO.PreviewIdPInitiated(r.Context(), id, r.PostForm.Get("SAMLResponse")); ok {
				s.samlConfirmPage(w, r, id, p)
				return
			}
		}
		if err == nil {
			req := sso.ACSRequest{Connection: id, SAMLResponse: r.PostForm.Get("SAMLResponse"),
				RelayState: r.PostForm.Get("RelayState")}
			if c, cerr := r.Cookie(s.ssoBinderCookie()); cerr == nil {
				req.Binder = c.Value
			}
			sess, err = s.deps.SSO.ACS(r.Context(), req)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ssoSignedIn(w, r, sess)
	})
}

// samlConfirmCookie holds the browser's key for confirming an
// IdP-initiated SAML sign-in on Ward's own page (SameSite=Strict: only a
// post from Ward's page carries it).
func (s *server) samlConfirmCookie() string { return s.cookieName("ward_saml_confirm") }

// samlConfirmation is the value the confirmation page's form carries: a
// hash of the browser's key, the connection and the response, so the
// Continue of one browser's page confirms only that response, for that
// connection, from that browser.
func samlConfirmation(key string, conn uuid.UUID, response string) string {
	h := sha256.New()
	for _, part := range []string{"ward.saml.idp-initiated.v1", key, conn.String(), response} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// samlConfirmed reports whether an IdP-initiated response was posted from
// the confirmation page of this browser: a same-origin post (when the
// browser says where it comes from) carrying the page's value for the
// browser's key.
func (s *server) samlConfirmed(r *http.Request, conn uuid.UUID) bool {
	got := r.PostForm.Get("ward_confirm")
	c, err := r.Cookie(s.samlConfirmCookie())
	if got == "" || err != nil || c.Value == "" {
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	want := samlConfirmation(c.Value, conn, r.PostForm.Get("SAMLResponse"))
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// samlConfirmPage answers an IdP-initiated response that verifies with a
// page of Ward's own naming the account and the IdP, whose Continue posts
// the response back confirmed. Nothing is stored; the browser gets a fresh
// key (five minutes).
var samlConfirmTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("saml-confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Ward</title>
<meta name="referrer" content="no-referrer"></head>
<body><main><h1>Sign in to Ward</h1>
<p>Your identity provider{{if .IdP}} ({{.IdP}}){{end}} is signing you in to Ward{{if .Email}} as <strong>{{.Email}}</strong>{{end}}.</p>
<p>Continue only if you opened Ward from your organisation's portal just now. If you did not, close this page.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="SAMLResponse" value="{{.Response}}">
<input type="hidden" name="ward_confirm" value="{{.Confirm}}">
<button type="submit">Continue</button>
</form></main></body></html>
`))
})

func (s *server) samlConfirmPage(w http.ResponseWriter, r *http.Request, conn uuid.UUID, p sso.IdPInitiated) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := base64.RawURLEncoding.EncodeToString(b)
	response := r.PostForm.Get("SAMLResponse")
	s.setCookie(w, s.samlConfirmCookie(), key, 5*time.Minute)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = samlConfirmTemplate().Execute(w, map[string]string{"IdP": p.IdP, "Email": p.Email,
		"Action": s.root + "v1/sso/saml/" + conn.String() + "/acs", "Response": response,
		"Confirm": samlConfirmation(key, conn, response)})
}

func handleSAMLMetadata(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var md []byte
		if err == nil {
			md, err = svc.SAMLMetadata(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(md)
	})
}

func handleSAMLConnectionCreate(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in sso.SAMLConnectionInput
		err := decode(r, &in)
		var c sso.SAMLConnection
		if err == nil {
			c, err = svc.CreateSAMLConnection(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

func handleSSOConnectionCreate(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in sso.ConnectionInput
		err := decode(r, &in)
		var c sso.Connection
		if err == nil {
			c, err = svc.CreateConnection(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

func handleSSOConnectionList(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, err := svc.ListConnections(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"connections": cs})
	})
}

func handleSSOConnectionDelete(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.DeleteConnection(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleSSOIdentitiesUnlink re-links a member: their identities on the
// connection end, and their next sign-in through it links by address.
func handleSSOIdentitiesUnlink(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := pathID(r, "id")
		var user uuid.UUID
		if err == nil {
			user, err = pathID(r, "user")
		}
		if err == nil {
			err = svc.UnlinkIdentities(r.Context(), conn, user)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSSODomainClaim(svc *sso.Service, fail errorWriter) http.Handler {
	type request struct {
		Domain       string    `json:"domain"`
		ConnectionID uuid.UUID `json:"connection_id"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var d sso.Domain
		if err == nil {
			d, err = svc.ClaimDomain(r.Context(), req.Domain, req.ConnectionID)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, d)
	})
}

func handleSSODomainList(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ds, err := svc.ListDomains(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"domains": ds})
	})
}

func handleSSOPolicyGet(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := svc.GetPolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

// handleSSOPolicyPut sets the org's SSO policy. The body names
// enforce_sso: a body without it ({}) is refused, not read as false,
// which would switch enforcement off.
func handleSSOPolicyPut(svc *sso.Service, fail errorWriter) http.Handler {
	type request struct {
		EnforceSSO *bool `json:"enforce_sso"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		var p sso.Policy
		err := decode(r, &req)
		if err == nil && req.EnforceSSO == nil {
			err = badRequest("invalid_input", "enforce_sso (true or false) is required")
		}
		if err == nil {
			p.EnforceSSO = *req.EnforceSSO
			err = svc.SetPolicy(r.Context(), p)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

func handleSSODomainVerify(svc *sso.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := svc.VerifyDomainDNS(r.Context(), r.PathValue("domain"))
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
}
