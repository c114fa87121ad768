package httpapi

import (
	"net/http"

	"github.com/wardhq/ward/internal/audit/sink"
)

// handleSinkList lists the org's SIEM sinks with their lag and last error.
func handleSinkList(svc *sink.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.List(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"sinks": list})
	})
}

// handleSinkCreate adds a sink; a webhook's secret is in the answer once.
func handleSinkCreate(svc *sink.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req sink.NewSink
		err := decode(r, &req)
		var s sink.Sink
		var secret string
		if err == nil {
			s, secret, err = svc.Create(r.Context(), req)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		out := map[string]any{"sink": s}
		if secret != "" {
			out["secret"] = secret
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

// handleSinkUpdate enables or disables a sink.
func handleSinkUpdate(svc *sink.Service, fail errorWriter) http.Handler {
	type request struct {
		Enabled *bool `json:"enabled"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil && req.Enabled == nil {
			err = badRequest("invalid_input", "enabled (true or false) is required")
		}
		var s sink.Sink
		if err == nil {
			s, err = svc.SetEnabled(r.Context(), id, *req.Enabled)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
}

// handleSinkRotate gives a webhook sink a new secret (shown once).
func handleSinkDelete(svc *sink.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.Delete(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSinkRotate(svc *sink.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var secret string
		if err == nil {
			secret, err = svc.Rotate(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]string{"secret": secret})
	})
}
