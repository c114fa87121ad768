package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// credentialRequest is a finish call's body: the PublicKeyCredential the
// browser returned, as JSON (binary fields base64url), and for a
// registration the passkey's name.
type credentialRequest struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
	// Binder is the sign-in binder, for clients without cookies.
	Binder string `json:"binder"`
}

func (c credentialRequest) valid() error {
	if len(c.Credential) == 0 || c.Credential[0] != '{' {
		return badRequest("invalid_input", "credential must be the PublicKeyCredential object")
	}
	return nil
}

// handlePasskeyRegisterBegin answers the creation options for
// navigator.credentials.create.
func handlePasskeyRegisterBegin(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := svc.BeginPasskeyRegistration(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, opts)
	})
}

// handlePasskeyRegisterFinish stores the new passkey; the session is then
// AAL2 with a new token (see stepped).
func (s *server) handlePasskeyRegisterFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req credentialRequest
		err := decode(r, &req)
		if err == nil {
			err = req.valid()
		}
		var rot auth.Rotated
		if err == nil {
			rot, err = s.deps.Auth.FinishPasskeyRegistration(r.Context(), req.Name, req.Credential)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.stepped(w, r, rot)
	})
}

// handlePasskeySignInBegin answers the request options of a discoverable
// sign-in and binds its challenge to this browser (a cookie; API clients
// keep the binder from the body).
func (s *server) handlePasskeySignInBegin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, binder, err := s.deps.Auth.BeginPasskeySignIn(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.setCookie(w, s.binderCookie(), binder, auth.PasskeyBinderTTL)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"options": opts, "binder": binder})
	})
}

// handlePasskeySignInFinish verifies the assertion and issues an AAL2
// session: in the cookie, and in the body.
func (s *server) handlePasskeySignInFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req credentialRequest
		err := decode(r, &req)
		if err == nil {
			err = req.valid()
		}
		if err == nil && req.Binder == "" {
			if c, cerr := r.Cookie(s.binderCookie()); cerr == nil {
				req.Binder = c.Value
			}
		}
		var proof *auth.DPoPProof
		if err == nil {
			proof, err = s.signInProof(r)
		}
		var sess auth.Session
		if err == nil {
			sess, err = s.deps.Auth.FinishPasskeySignIn(r.Context(), req.Credential, req.Binder)
		}
		if err == nil && proof != nil {
			err = s.deps.Auth.BindDPoP(r.Context(), sess.Token, *proof)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp := newSessionResponse(sess, proof)
		if proof == nil {
			if resp, err = s.issued(r, sess); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		s.setCookie(w, s.binderCookie(), "", -time.Second)
		if proof == nil {
			s.rememberDevice(w, r, sess.Token)
			s.endReplaced(r, sess.Token)
			s.setCookie(w, s.sessionCookie(), sess.Token, time.Until(sess.AbsoluteExpiresAt))
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, resp)
	})
}

// handlePasskeyVerifyBegin answers the request options of a second-factor
// assertion by one of the caller's passkeys.
func handlePasskeyVerifyBegin(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := svc.BeginPasskeyVerify(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, opts)
	})
}

// handlePasskeyVerifyFinish raises the session to AAL2 and rotates its token.
func (s *server) handlePasskeyVerifyFinish() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req credentialRequest
		err := decode(r, &req)
		if err == nil {
			err = req.valid()
		}
		var rot auth.Rotated
		if err == nil {
			rot, err = s.deps.Auth.FinishPasskeyVerify(r.Context(), req.Credential)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.stepped(w, r, rot)
	})
}

func handlePasskeyList(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.ListPasskeys(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"passkeys": list})
	})
}

func handlePasskeyRename(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Name string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil {
			err = svc.RenamePasskey(r.Context(), id, req.Name)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": req.Name})
	})
}

func handlePasskeyDelete(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.DeletePasskey(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
