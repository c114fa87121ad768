package httpapi

import (
	"net/http"

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

// handleTOTPVerify presents a TOTP code; on success the session is AAL2
// and freshly authenticated.
func handleTOTPVerify(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil {
			err = svc.VerifyTOTP(r.Context(), req.Code)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"aal": 2})
	})
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

// handleRecoveryCodeUse spends a recovery code for the session.
func handleRecoveryCodeUse(svc *auth.Service, fail errorWriter) http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil {
			err = svc.UseRecoveryCode(r.Context(), req.Code)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"aal": 2})
	})
}
