package httpapi

import (
	"net/http"

	"github.com/wardhq/ward/internal/identity"
)

// What routes ask of their callers (see need). Role checks stay in the
// services for now; a route that needs a fresh sign-in sets fresh.
var (
	public  = need{}
	signIn  = need{signIn: true}
	session = need{kinds: []identity.CredentialKind{identity.KindSession}, aal: 1}
)

// handler mounts the four surfaces. Only the JSON API has routes today; the
// console, SCIM and the gateway answer "no route" in their own shapes.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.api)
	mux.Handle("/healthz", s.api)
	mux.Handle("/readyz", s.api)
	mux.Handle("/scim/v2/", s.scim)
	mux.Handle("/llm/", s.gateway)
	mux.Handle("/", s.console)
	return mux
}

// routes lists every route of the JSON API and what each needs.
// openapi.json documents each of them; TestOpenAPIMatchesRoutes keeps the
// two in step.
func (s *server) routes() {
	api := s.api
	api.route("GET /healthz", public, handleHealthz())
	api.route("GET /readyz", public, s.handleReadyz())
	api.route("GET /v1/openapi.json", public, handleOpenAPI())

	// Sign-in and sessions.
	api.route("POST /v1/auth/magic-link", signIn, s.handleLinkRequest())
	api.route("GET /v1/auth/magic", public, s.handleLinkLanding())
	api.route("POST /v1/auth/magic", signIn, s.handleLinkConsume())
	api.route("POST /v1/auth/logout", session, s.handleLogout())
	api.route("GET /v1/me", session, s.handleMe())
	api.route("GET /v1/sessions", session, s.handleSessionList())
	api.route("DELETE /v1/sessions/{id}", session, s.handleSessionRevoke())

	// The org: session policy and members.
	api.route("GET /v1/org/session-policy", session, s.handlePolicyGet())
	api.route("PUT /v1/org/session-policy", session, s.handlePolicyPut())
	api.route("GET /v1/members", session, s.handleMemberList())
	api.route("POST /v1/members", session, s.handleMemberAdd())
	api.route("PATCH /v1/members/{user_id}", session, s.handleMemberUpdate())
	api.route("DELETE /v1/members/{user_id}", session, s.handleMemberRevoke())

	// Patient records.
	api.route("GET /v1/patients", session, s.handlePatientList())
	api.route("POST /v1/patients", session, s.handlePatientCreate())
	api.route("POST /v1/patients/search", session, s.handlePatientSearch())
	api.route("GET /v1/patients/{id}", session, s.handlePatientGet())
	api.route("PUT /v1/patients/{id}", session, s.handlePatientUpdate())
	api.route("GET /v1/patients/{id}/entries", session, s.handleEntryList())
	api.route("POST /v1/patients/{id}/entries", session, s.handleEntryCreate())
	api.route("PUT /v1/patients/{id}/care-team/{user_id}", session, s.handleCareTeamAssign())
	api.route("DELETE /v1/patients/{id}/care-team/{user_id}", session, s.handleCareTeamUnassign())
	api.route("PUT /v1/patients/{id}/users/{user_id}", session, s.handlePatientLink())
	api.route("GET /v1/patients/{id}/access-report", session, s.handleAccessReport())

	// The audit log.
	api.route("GET /v1/audit/events", session, s.handleAuditList())
}
