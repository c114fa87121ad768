package httpapi

import "net/http"

// routes lists every route of the API. openapi.json documents each of them;
// TestOpenAPIMatchesRoutes keeps the two in step.
func (s *server) routes(mux *http.ServeMux) {
	pub := func(h http.Handler) http.Handler { return h }
	authed := s.requireSession

	mux.Handle("GET /healthz", pub(handleHealthz()))
	mux.Handle("GET /readyz", pub(s.handleReadyz()))
	mux.Handle("GET /v1/openapi.json", pub(handleOpenAPI()))

	// Sign-in and sessions.
	mux.Handle("POST /v1/auth/magic-link", pub(s.handleLinkRequest()))
	mux.Handle("GET /v1/auth/magic", pub(s.handleLinkLanding()))
	mux.Handle("POST /v1/auth/magic", pub(s.handleLinkConsume()))
	mux.Handle("POST /v1/auth/logout", authed(s.handleLogout()))
	mux.Handle("GET /v1/me", authed(s.handleMe()))
	mux.Handle("GET /v1/sessions", authed(s.handleSessionList()))
	mux.Handle("DELETE /v1/sessions/{id}", authed(s.handleSessionRevoke()))

	// The org: session policy and members.
	mux.Handle("GET /v1/org/session-policy", authed(s.handlePolicyGet()))
	mux.Handle("PUT /v1/org/session-policy", authed(s.handlePolicyPut()))
	mux.Handle("GET /v1/members", authed(s.handleMemberList()))
	mux.Handle("POST /v1/members", authed(s.handleMemberAdd()))
	mux.Handle("PATCH /v1/members/{user_id}", authed(s.handleMemberUpdate()))
	mux.Handle("DELETE /v1/members/{user_id}", authed(s.handleMemberRevoke()))

	// Patient records.
	mux.Handle("GET /v1/patients", authed(s.handlePatientList()))
	mux.Handle("POST /v1/patients", authed(s.handlePatientCreate()))
	mux.Handle("GET /v1/patients/{id}", authed(s.handlePatientGet()))
	mux.Handle("PUT /v1/patients/{id}", authed(s.handlePatientUpdate()))
	mux.Handle("GET /v1/patients/{id}/entries", authed(s.handleEntryList()))
	mux.Handle("POST /v1/patients/{id}/entries", authed(s.handleEntryCreate()))
	mux.Handle("PUT /v1/patients/{id}/care-team/{user_id}", authed(s.handleCareTeamAssign()))
	mux.Handle("DELETE /v1/patients/{id}/care-team/{user_id}", authed(s.handleCareTeamUnassign()))
	mux.Handle("PUT /v1/patients/{id}/users/{user_id}", authed(s.handlePatientLink()))
	mux.Handle("GET /v1/patients/{id}/access-report", authed(s.handleAccessReport()))

	// The audit log.
	mux.Handle("GET /v1/audit/events", authed(s.handleAuditList()))
}
