package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// Break-glass emergency access (docs/authentication.md, "Break-glass").

// handleBreakGlassActivate verifies a passkey assertion answering a
// sign-in challenge (POST /v1/auth/passkeys/signin/begin) and a written
// reason, and issues the 60-minute break-glass session: with a DPoP proof
// in the body only, bound to the proof's key; without one in the cookie
// only, a browser session (the database binds it at creation).
func (s *server) handleBreakGlassActivate() http.Handler {
	type request struct {
		Credential json.RawMessage `json:"credential"`
		Binder     string          `json:"binder"`
		Reason     string          `json:"reason"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil {
			err = credentialRequest{Credential: req.Credential}.valid()
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
		if err == nil && proof == nil && !fromOwnPages(r) {
			// Without a proof the emergency session goes out in the cookie
			// only: checked before anything is activated.
			err = errBindingRequired
		}
		var bg auth.BreakGlassSession
		if err == nil {
			var jkt string
			if proof != nil {
				jkt = proof.JKT
			}
			bg, err = s.deps.Auth.ActivateBreakGlass(r.Context(), req.Credential, req.Binder, req.Reason, jkt)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp := newSessionResponse(bg.Session, proof)
		if proof == nil {
			// A browser session: the cookie only, and the answer says so as
			// every sign-in's does that leaves the token out.
			resp.Token, resp.DeviceBindingRequired = "", true
		}
		s.setCookie(w, s.binderCookie(), "", -time.Second)
		if proof == nil {
			s.endReplaced(r, bg.Token)
			s.setCookie(w, s.sessionCookie(), bg.Token, time.Until(bg.AbsoluteExpiresAt))
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, struct {
			sessionResponse
			BreakGlass   bool   `json:"break_glass"`
			ActivationID string `json:"activation_id"`
		}{resp, true, bg.ActivationID.String()})
	})
}

func handleBreakGlassUsers(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.ListBreakGlassUsers(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"users": list})
	})
}

// handleBreakGlassDesignate designates (PUT) or stops (DELETE) an
// emergency-access user.
func handleBreakGlassDesignate(svc *auth.Service, fail errorWriter, on bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "user_id")
		var changed bool
		if err == nil {
			changed, err = svc.DesignateBreakGlass(r.Context(), id, on)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user_id": id, "designated": on, "changed": changed})
	})
}

// handleBreakGlassActivations lists activations; ?open=true only the open
// review items.
func handleBreakGlassActivations(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var open bool
		switch v := r.URL.Query().Get("open"); v {
		case "", "false":
		case "true":
			open = true
		default:
			fail(w, r, badRequest("invalid_input", "open must be true or false"))
			return
		}
		list, err := svc.ListBreakGlassActivations(r.Context(), open)
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"activations": list})
	})
}

// handleBreakGlassReview closes an open review item with a note.
func handleBreakGlassReview(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Note string `json:"note"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil {
			err = svc.CloseBreakGlassReview(r.Context(), id, req.Note)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRiskPolicyGet answers the org's risk threshold and the weights of
// the signals it is compared with.
func handleRiskPolicyGet(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := svc.GetRiskPolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"risk_threshold": pol.Threshold, "weights": auth.RiskWeights})
	})
}

// handleRiskPolicyPut sets the org's risk threshold. The body names it,
// null to record scores only: a body without it (a client's omission, {})
// is refused, not read as null, which would switch enforcement off, as the
// assurance policy's body must name both of its fields.
func handleRiskPolicyPut(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Threshold json.RawMessage `json:"risk_threshold"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var pol auth.RiskPolicy
		if err == nil && req.Threshold == nil {
			err = badRequest("invalid_input", "risk_threshold is required: a whole number from 1 to 200, or null to record scores only")
		}
		if err == nil {
			var t *int32
			if json.Unmarshal(req.Threshold, &t) != nil {
				err = badRequest("bad_json", "risk_threshold is a whole number from 1 to 200, or null to record scores only")
			} else if t != nil {
				n := int(*t)
				pol.Threshold = &n
			}
		}
		if err == nil {
			err = svc.SetRiskPolicy(r.Context(), pol)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

// fromOwnPages reports whether r is a fetch or a form post from Ward's own
// pages: a browser says so in Sec-Fetch-Site, which page script cannot set.
// A sign-in without a DPoP proof by a role the org binds gets its session
// in the cookie only, and only such a request may: any other client (an
// API or mobile client, a script) binds its session to a DPoP key.
func fromOwnPages(r *http.Request) bool { return r.Header.Get("Sec-Fetch-Site") == "same-origin" }

// errBindingRequired refuses a sign-in without a DPoP proof that does not
// come from Ward's own pages, for a session that must be bound.
var errBindingRequired = forbidden("device_binding_required",
	"your org requires this session to be bound to a device: sign in with a DPoP proof (RFC 9449), "+
		"or from Ward's pages in a browser")

// issued is the answer to a sign-in without a DPoP proof, whose session is
// already in the cookie: when the member's role must bind non-browser
// sessions (device_binding_required_for) the token is left out of the
// body and the session marked a browser session, so only the browser
// holding the cookie can use it.
func (s *server) issued(r *http.Request, sess auth.Session) (sessionResponse, error) {
	resp := newSessionResponse(sess, nil)
	cookieOnly, err := s.cookieOnly(r, sess.Token)
	if err != nil {
		return sessionResponse{}, err
	}
	if cookieOnly {
		resp.Token, resp.DeviceBindingRequired = "", true
	}
	return resp, nil
}

// cookieOnly decides whether a session just issued without a DPoP proof
// may leave in the body: when its member's role must bind non-browser
// sessions, a request from Ward's own pages gets it in the cookie only
// (the session marked a browser session, true), and any other request is
// refused and the session ended (errBindingRequired).
func (s *server) cookieOnly(r *http.Request, token string) (bool, error) {
	if !s.deps.Auth.NeedsBinding(r.Context(), token) {
		return false, nil
	}
	if !fromOwnPages(r) {
		// It gets no cookie to replay: the new session ends here.
		if err := s.deps.Auth.EndSession(r.Context(), token); err != nil {
			return false, err
		}
		return false, errBindingRequired
	}
	return true, s.deps.Auth.MarkBrowser(r.Context(), token)
}

func handleDeviceBindingGet(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := svc.GetDeviceBindingPolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"device_binding_required_for": pol.RequiredFor,
			"recommended": auth.RecommendedDeviceBinding})
	})
}

func handleDeviceBindingPut(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pol auth.DeviceBindingPolicy
		err := decode(r, &pol)
		if err == nil {
			err = svc.SetDeviceBindingPolicy(r.Context(), pol)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}
