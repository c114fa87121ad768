package httpapi

import (
	"net/http"
	"time"

	"github.com/wardhq/ward/internal/auth"
)

// handleTOTPEnrol answers a new TOTP secret, once: the otpauth URI for a QR
// code and the base32 secret for typing. Never cached.
func handleTOTPEnrol(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := svc.EnrolTOTP(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, e)
	})
}

// handleTOTPVerify presents a TOTP code; on success the session is AAL2,
// freshly authenticated, and has a new token (see stepped).
func (s *server) handleTOTPVerify() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var rot auth.Rotated
		if err == nil {
			rot, err = s.deps.Auth.VerifyTOTP(r.Context(), req.Code)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.stepped(w, r, rot)
	})
}

// handleTOTPConfirm presents the first code of a replacement TOTP secret
// (POST /v1/auth/totp/confirm): 204, the new secret is the factor now
// (auth.Service.ConfirmTOTP).
func handleTOTPConfirm(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil {
			err = svc.ConfirmTOTP(r.Context(), req.Code)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// stepped answers a step-up: the rotated session token in the session
// cookie when the request was authenticated by it (a browser session's
// token never leaves the cookie), else in the body only. A request
// authenticated by a header stepped up the header's session: a session
// cookie it also carried may hold another session (the browser's own),
// which the header session's token must not replace (s.credential reads
// the headers first, the cookie only when there are none).
func (s *server) stepped(w http.ResponseWriter, r *http.Request, rot auth.Rotated) {
	byCookie := false
	if len(r.Header.Values("Authorization")) == 0 && len(r.Header.Values("X-Api-Key")) == 0 {
		c, err := r.Cookie(s.sessionCookie())
		byCookie = err == nil && c.Value != ""
	}
	body := map[string]any{"aal": 2, "absolute_expires_at": rot.AbsoluteExpiresAt}
	if byCookie {
		s.setCookie(w, s.sessionCookie(), rot.Token, time.Until(rot.AbsoluteExpiresAt))
	} else {
		body["token"] = rot.Token
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}

// handleRecoveryCodesGenerate answers ten new recovery codes, once; the
// old ones stop working.
func handleRecoveryCodesGenerate(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes, err := svc.GenerateRecoveryCodes(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, map[string]any{"codes": codes})
	})
}

// handleRecoveryCodeUse spends a recovery code for the session, which is
// then AAL2 with a new token.
func (s *server) handleRecoveryCodeUse() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var rot auth.Rotated
		if err == nil {
			rot, err = s.deps.Auth.UseRecoveryCode(r.Context(), req.Code)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.stepped(w, r, rot)
	})
}

func handleAPIKeyCreate(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var k auth.CreatedAPIKey
		if err == nil {
			k, err = svc.CreateAPIKey(r.Context(), auth.APIKeyInput{Name: req.Name, Scopes: req.Scopes, ExpiresAt: req.ExpiresAt})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, k)
	})
}

func handleAPIKeyList(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := svc.ListAPIKeys(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"api_keys": keys})
	})
}

func handleAPIKeyRevoke(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.RevokeAPIKey(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleTOTPDelete removes the caller's TOTP factor (DELETE /v1/auth/totp):
// 204, and the caller's sessions whose second factor was TOTP end, this
// one too when it was (auth.Service.DeleteTOTP).
func handleTOTPDelete(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteTOTP(r.Context()); err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleMemberRecoveryCodesVoid voids a member's recovery codes for them
// (DELETE /v1/members/{user_id}/recovery-codes, an admin's help-desk
// route): 204 (auth.Service.VoidMemberRecoveryCodes).
func handleMemberRecoveryCodesVoid(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "user_id")
		if err == nil {
			err = svc.VoidMemberRecoveryCodes(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleMemberTOTPReset removes a member's TOTP factor for them (DELETE
// /v1/members/{user_id}/totp, an admin's help-desk route): 204
// (auth.Service.ResetMemberTOTP).
func handleMemberTOTPReset(svc *auth.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "user_id")
		if err == nil {
			err = svc.ResetMemberTOTP(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
