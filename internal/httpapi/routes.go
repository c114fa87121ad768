package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
)

// What routes ask of their callers (see need). A route with a minimum
// role names the audit action its refusal is recorded under; services keep
// their own, finer checks (which patient, which member). A route that needs
// a fresh sign-in sets fresh.
var (
	public  = need{}
	signIn  = need{signIn: true}
	session = need{kinds: []identity.CredentialKind{identity.KindSession}, aal: 1}
	// pending also admits a session below its assurance bar: only for
	// reading who it is, second factors and logout.
	pending = need{kinds: []identity.CredentialKind{identity.KindSession}, aal: 1, pending: true}
	// whoever also admits a session pending its device binding: only for
	// reading who it is and logout.
	whoever = need{kinds: []identity.CredentialKind{identity.KindSession}, aal: 1, pending: true, unbound: true}
)

// maxUploadBytes bounds an upload's body at the HTTP layer; each org's
// document_max_bytes (default 4 GiB) is the limit that applies.
const maxUploadBytes = 64 << 30

// orgPolicy is the routes that read an org's security policies: its
// members (patient and above). A case stakeholder, an outside party, learns
// nothing of the org's risk weights, binding or SSO rules from them (what
// its own session must present, /v1/me says).
var orgPolicy = as(identity.RolePatient, "")

// stepUpWindow is how recently a caller must have presented a second
// factor for the routes that change members, policies and credentials.
const stepUpWindow = 10 * time.Minute

// as is a session route for role and above; a refusal is audited as action.
func as(role identity.Role, action string) need {
	n := session
	n.role, n.action = role, action
	return n
}

// orKey is n also accepting an admin API key that holds scope.
func orKey(n need, scope string) need {
	n.kinds = append(slices.Clone(n.kinds), identity.KindAPIKey)
	n.scope = scope
	return n
}

// stepUp is n needing a second factor within stepUpWindow (403
// step_up_required otherwise; TOTP verification or a passkey renews it).
// inTx is n for a route whose handler goes straight to its first tenant
// transaction, which then continues the session check's (need.inTx).
func inTx(n need) need {
	n.inTx = true
	return n
}

// inBatch is inTx for a route whose first tenant work is one batch that
// commits in the check's round trip (need.batchFirst).
func inBatch(n need) need {
	n.inTx, n.batchFirst = true, true
	return n
}

// ahead is n for a route that reads its whole body first and confirms a
// kept principal while it works (the gateway) or in its first tenant
// transaction (a write, with a JSON body or none, that makes no call out
// before that transaction commits), see need.ahead. TestKeptBodyRoutes
// holds every such write to it.
func ahead(n need) need {
	n.ahead = true
	return n
}

// kept is n for a route with no request body whose handler reaches the
// database only through tenant transactions bound to the request's
// credential, and sends nothing out of the server (no mail, no object
// store, no upstream) before it answers: a credential this process
// resolved in full less than 30 s ago is served with its kept principal,
// and the handler's first tenant transaction confirms it before any of its
// statements (or, when the handler answers before one, the answer waits
// for the check on its own: confirmFirst). Without a kept principal the
// full check closes its transaction at once (as for ahead), since such a
// handler may read from the pool before its first tenant transaction (the
// instance keys). TestKeptReadRoutes holds every such route to it.
func kept(n need) need {
	n.ahead = true
	return n
}

// stepUpStaff is n needing stepUp of callers above the patient role only.
func stepUpStaff(n need) need {
	n.freshStaff = true
	return n
}

func stepUp(n need) need {
	n.aal, n.fresh = 2, stepUpWindow
	return n
}

// handler mounts the four surfaces: the JSON API, SCIM, the LLM gateway and
// the web console (console.go).
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.api)
	mux.Handle("/healthz", s.api)
	mux.Handle("/readyz", s.api)
	mux.Handle("/metrics", s.api)
	mux.Handle("/.well-known/ward-audit-key", s.api)
	mux.Handle("/scim/v2/", s.scim)
	mux.Handle("/llm/", s.gateway)
	mux.Handle("/", s.console)
	// Every request reaches a surface, with its headers and access log;
	// what the mux answers itself (a redirect to the cleaned path of
	// //v1/me, OPTIONS * when the server passes it on, which cmd/ward's
	// does) goes through the API's stack.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "*" {
			s.api.serve(w, r, http.HandlerFunc(optionsStar))
			return
		}
		if h, _ := mux.Handler(r); h != nil {
			if sf, ok := h.(*surface); ok {
				sf.ServeHTTP(w, r)
				return
			}
		}
		s.api.serve(w, r, mux)
	})
}

// optionsStar answers OPTIONS * (what the server's own handler for it
// answers) and refuses any other method on *.
func optionsStar(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodOptions {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// routes lists every route of the JSON API and what each needs.
// openapi.json documents each of them; TestOpenAPIMatchesRoutes keeps the
// two in step.
func (s *server) routes() {
	api, fail := s.api, s.api.writeError
	users, recs, log := s.deps.Auth, s.deps.Records, s.deps.Audit
	admin, lead := identity.RoleAdmin, identity.RoleLead
	api.route("GET /healthz", public, handleHealthz())
	api.route("GET /readyz", public, handleReadyz(s.deps.Ready, s.deps.Log))
	api.route("GET /metrics", public, s.metricsOnly(handleMetrics(s.deps.Metrics)))
	api.route("GET /v1/openapi.json", public, handleOpenAPI())

	// Sign-in and sessions.
	api.route("POST /v1/auth/magic-link", signIn, s.handleLinkRequest())
	api.route("GET /v1/auth/magic", public, s.handleLinkLanding())
	api.route("POST /v1/auth/magic", signIn, s.handleLinkConsume())
	api.route("POST /v1/auth/passkeys/signin/begin", signIn, s.handlePasskeySignInBegin())
	api.route("POST /v1/auth/passkeys/signin/finish", signIn, s.handlePasskeySignInFinish())
	api.route("POST /v1/auth/break-glass/activate", signIn, s.handleBreakGlassActivate())
	api.route("POST /v1/auth/logout", whoever, s.handleLogout())
	api.route("GET /v1/me", whoever, handleMe())

	// Second factors: a pending session enrols or presents one.
	api.route("POST /v1/auth/totp/enrol", pending, handleTOTPEnrol(users, fail))
	api.route("POST /v1/auth/totp/verify", pending, s.handleTOTPVerify())
	api.route("POST /v1/auth/totp/confirm", pending, handleTOTPConfirm(users, fail))
	api.route("DELETE /v1/auth/totp", stepUp(session), handleTOTPDelete(users, fail))
	api.route("POST /v1/auth/recovery-codes", stepUp(session), handleRecoveryCodesGenerate(users, fail))
	api.route("POST /v1/auth/recovery-codes/verify", pending, s.handleRecoveryCodeUse())
	api.route("POST /v1/auth/passkeys/register/begin", pending, handlePasskeyRegisterBegin(users, fail))
	api.route("POST /v1/auth/passkeys/register/finish", pending, s.handlePasskeyRegisterFinish())
	api.route("POST /v1/auth/passkeys/verify/begin", pending, handlePasskeyVerifyBegin(users, fail))
	api.route("POST /v1/auth/passkeys/verify/finish", pending, s.handlePasskeyVerifyFinish())
	api.route("GET /v1/auth/passkeys", kept(session), handlePasskeyList(users, fail))
	api.route("PATCH /v1/auth/passkeys/{id}", ahead(session), handlePasskeyRename(users, fail))
	api.route("DELETE /v1/auth/passkeys/{id}", stepUp(session), handlePasskeyDelete(users, fail))
	api.route("GET /v1/sessions", kept(session), handleSessionList(users, fail))
	api.route("DELETE /v1/sessions/{id}", ahead(session), handleSessionRevoke(users, fail))
	api.route("POST /v1/sessions/{id}/forget-device", ahead(session), handleSessionForgetDevice(users, fail))

	// The org: session policy and members.
	api.route("GET /v1/org/session-policy", kept(orgPolicy), handlePolicyGet(users, fail))
	api.route("PUT /v1/org/session-policy", stepUp(as(admin, "org.session_policy.update")), handlePolicyPut(users, fail))
	api.route("GET /v1/org/assurance-policy", kept(orgPolicy), handleAssurancePolicyGet(users, fail))
	api.route("PUT /v1/org/assurance-policy", stepUp(as(admin, "org.assurance_policy.update")), handleAssurancePolicyPut(users, fail))
	api.route("GET /v1/org/risk-policy", kept(orgPolicy), handleRiskPolicyGet(users, fail))
	api.route("PUT /v1/org/risk-policy", stepUp(as(admin, "org.risk_policy.update")), handleRiskPolicyPut(users, fail))
	api.route("GET /v1/org/device-binding-policy", kept(orgPolicy), handleDeviceBindingGet(users, fail))
	api.route("PUT /v1/org/device-binding-policy", stepUp(as(admin, "org.device_binding_policy.update")), handleDeviceBindingPut(users, fail))
	// Break-glass: designation and review by admins who stepped up.
	api.route("GET /v1/org/break-glass/users", kept(as(admin, "break_glass.list")), handleBreakGlassUsers(users, fail))
	api.route("PUT /v1/org/break-glass/users/{user_id}", stepUp(as(admin, "org.break_glass.designate")), handleBreakGlassDesignate(users, fail, true))
	api.route("DELETE /v1/org/break-glass/users/{user_id}", stepUp(as(admin, "org.break_glass.designate")), handleBreakGlassDesignate(users, fail, false))
	api.route("GET /v1/org/break-glass/activations", kept(as(admin, "break_glass.list")), handleBreakGlassActivations(users, fail))
	api.route("POST /v1/org/break-glass/activations/{id}/review", stepUp(as(admin, "org.break_glass.review")), handleBreakGlassReview(users, fail))
	api.route("GET /v1/members", kept(orKey(session, auth.ScopeMembers)), handleMemberList(users, fail))
	api.route("POST /v1/members", orKey(stepUp(as(admin, "membership.add")), auth.ScopeMembers), handleMemberAdd(users, fail))
	api.route("PATCH /v1/members/{user_id}", orKey(stepUp(as(admin, "membership.update")), auth.ScopeMembers), handleMemberUpdate(users, fail))
	api.route("DELETE /v1/members/{user_id}", orKey(stepUp(as(admin, "membership.revoke")), auth.ScopeMembers), handleMemberRevoke(users, fail))
	// The help desk's: an admin's session, never a key (whoever holds the
	// member's mail enrols next).
	api.route("DELETE /v1/members/{user_id}/totp", stepUp(as(admin, "auth.mfa.reset")), handleMemberTOTPReset(users, fail))
	api.route("DELETE /v1/members/{user_id}/recovery-codes", stepUp(as(admin, "auth.mfa.reset")), handleMemberRecoveryCodesVoid(users, fail))

	// Admin API keys: created from a session that stepped up; keys cannot
	// make keys.
	api.route("POST /v1/api-keys", stepUp(as(admin, "auth.api_key.create")), handleAPIKeyCreate(users, fail))
	api.route("GET /v1/api-keys", kept(as(admin, "api_key.list")), handleAPIKeyList(users, fail))
	api.route("DELETE /v1/api-keys/{id}", stepUp(as(admin, "auth.api_key.revoke")), handleAPIKeyRevoke(users, fail))

	// SCIM provisioning (docs/scim.md): the tokens an admin makes for the
	// org's directory, which then calls the SCIM surface (handlers_scim.go).
	if sc := s.deps.SCIM; sc != nil {
		api.route("POST /v1/scim/tokens", stepUp(as(admin, "scim.token.create")), handleSCIMTokenCreate(sc, fail))
		api.route("GET /v1/scim/tokens", kept(as(admin, "scim.token.list")), handleSCIMTokenList(sc, fail))
		api.route("DELETE /v1/scim/tokens/{id}", stepUp(as(admin, "scim.token.revoke")), handleSCIMTokenRevoke(sc, fail))
		api.route("GET /v1/scim/groups", kept(as(admin, "scim.group.mappings")), handleSCIMGroupMappings(sc, fail))
		api.route("PUT /v1/scim/groups/{id}/role", stepUp(as(admin, "scim.group.role")), handleSCIMGroupRole(sc, fail))
		s.scimRoutes()
	}

	// Single sign-on (docs/sso.md): the browser's round trip through the
	// org's IdP, and the admin's connections, domains and policy.
	if ss := s.deps.SSO; ss != nil {
		api.route("GET /v1/sso/start", public, s.handleSSOStart())
		api.route("GET /v1/sso/oidc/callback", public, s.handleSSOCallback())
		api.route("GET /v1/sso/saml/{id}/metadata", public, handleSAMLMetadata(ss, fail))
		api.route("POST /v1/sso/saml/{id}/acs", public, s.handleSAMLACS())
		api.route("POST /v1/sso/saml/connections", stepUp(as(admin, "sso.connection.create")), handleSAMLConnectionCreate(ss, fail))
		api.route("POST /v1/sso/connections", stepUp(as(admin, "sso.connection.create")), handleSSOConnectionCreate(ss, fail))
		api.route("GET /v1/sso/connections", kept(as(admin, "sso.connection.list")), handleSSOConnectionList(ss, fail))
		api.route("DELETE /v1/sso/connections/{id}", stepUp(as(admin, "sso.connection.delete")), handleSSOConnectionDelete(ss, fail))
		api.route("DELETE /v1/sso/connections/{id}/identities/{user}", stepUp(as(admin, "sso.identity.unlink")),
			handleSSOIdentitiesUnlink(ss, fail))
		api.route("POST /v1/sso/domains", stepUp(as(admin, "sso.domain.claim")), handleSSODomainClaim(ss, fail))
		api.route("GET /v1/sso/domains", kept(as(admin, "sso.connection.list")), handleSSODomainList(ss, fail))
		api.route("POST /v1/sso/domains/{domain}/verify", stepUp(as(admin, "sso.domain.verify")), handleSSODomainVerify(ss, fail))
		api.route("GET /v1/org/sso-policy", kept(orgPolicy), handleSSOPolicyGet(ss, fail))
		api.route("PUT /v1/org/sso-policy", stepUp(as(admin, "sso.policy.update")), handleSSOPolicyPut(ss, fail))
	}

	// Patient records.
	api.route("GET /v1/patients", inTx(session), handlePatientList(recs, fail))
	api.route("POST /v1/patients", ahead(as(lead, "patient.create")), handlePatientCreate(recs, fail))
	api.route("POST /v1/patients/search", ahead(session), handlePatientSearch(recs, fail))
	api.route("GET /v1/patients/{id}", inBatch(session), handlePatientGet(recs, fail))
	api.route("PUT /v1/patients/{id}", ahead(session), handlePatientUpdate(recs, fail))
	api.route("PATCH /v1/patients/{id}", ahead(session), handlePatientPatch(recs, fail))
	api.route("GET /v1/patients/{id}/entries", inTx(session), handleEntryList(recs, fail))
	api.route("POST /v1/patients/{id}/entries", ahead(session), handleEntryCreate(recs, fail))
	api.route("GET /v1/patients/{id}/amendments", inTx(session), handleAmendmentList(recs, fail))
	api.route("POST /v1/patients/{id}/amendments", ahead(session), handleAmendmentRequest(recs, fail))
	api.route("POST /v1/patients/{id}/amendments/{amendment_id}/decision", ahead(as(admin, "amendment.decide")),
		handleAmendmentDecide(recs, fail))
	api.route("POST /v1/patients/{id}/amendments/{amendment_id}/disagreement", ahead(session),
		handleAmendmentDisagree(recs, fail))
	api.route("POST /v1/patients/{id}/amendments/{amendment_id}/rebuttal", ahead(as(admin, "amendment.rebut")),
		handleAmendmentRebut(recs, fail))
	api.route("PUT /v1/patients/{id}/care-team/{user_id}", ahead(as(lead, "care_team.assign")), handleCareTeamAssign(recs, fail))
	api.route("DELETE /v1/patients/{id}/care-team/{user_id}", ahead(as(lead, "care_team.unassign")), handleCareTeamUnassign(recs, fail))
	api.route("PUT /v1/patients/{id}/users/{user_id}", ahead(as(lead, "patient_link.create")), handlePatientLink(recs, fail))
	api.route("GET /v1/patients/{id}/access-report", kept(session), handleAccessReport(recs, fail))
	api.route("GET /v1/patients/{id}/disclosures", kept(session), handleDisclosureAccounting(recs, fail))
	// Crypto-shredding one patient (docs/dsr.md): an admin who stepped up.
	api.route("POST /v1/patients/{id}/shred", stepUp(as(admin, "patient.shred")), handlePatientShred(recs, fail))
	// The right of access (§164.524): the record set, encrypted with age
	// to the requester's key or passphrase; the patient or an admin, by
	// session (keys read no patient rows). With "documents" it carries the
	// patient's case documents too, a tar archive streamed after the
	// transaction.
	var files records.ExportFiles
	if cs := s.deps.Cases; cs != nil {
		files = cs.PatientFiles
	}
	// A patient exports their own record as they are; an admin, who may
	// export anyone's, steps up first as for the audit export.
	api.route("POST /v1/patients/{id}/export", stepUpStaff(as(identity.RolePatient, "patient.export")),
		handlePatientExport(recs, files, s.log, fail), deadline(noDeadline), streamLimit(exportWriteWindow))

	// Data-subject requests (docs/dsr.md): anyone files about themself, an
	// admin (or a key with the dsr scope) about anyone and works the queue;
	// the database sets the deadlines and decides who sees what.
	api.route("POST /v1/compliance/dsr", ahead(orKey(session, auth.ScopeDSR)), handleDSROpen(recs, fail))
	api.route("GET /v1/compliance/dsr", kept(orKey(session, auth.ScopeDSR)), handleDSRList(recs, fail))
	api.route("GET /v1/compliance/dsr/{id}", kept(orKey(session, auth.ScopeDSR)), handleDSRGet(recs, fail))
	api.route("POST /v1/compliance/dsr/{id}/extend", orKey(as(admin, "dsr.extend"), auth.ScopeDSR), handleDSRChange("reason", recs.ExtendDSR, fail))
	api.route("POST /v1/compliance/dsr/{id}/close", orKey(as(admin, "dsr.close"), auth.ScopeDSR), handleDSRChange("outcome", recs.CloseDSR, fail))
	// Breach response (docs/breach.md): an admin who stepped up scopes an
	// incident from the log and ends its credentials in one call.
	api.route("POST /v1/compliance/breach/scope", stepUp(as(admin, "breach.scope")), handleBreachScope(recs, fail))
	api.route("POST /v1/compliance/breach/revoke", stepUp(as(admin, "breach.revoke")), handleBreachRevoke(recs, fail))
	// The org's HIPAA control matrix (docs/compliance.md): its admins, as
	// they read the org's other security configuration (no step-up); the
	// database records each read (org.compliance.read).
	api.route("GET /v1/compliance/report", kept(as(admin, "org.compliance.read")), handleComplianceReport(recs, fail))

	// Cases and documents (docs/cases.md): staff by role, stakeholders by
	// their grants on each case; the database decides.
	if cs := s.deps.Cases; cs != nil {
		upload := []routeOption{bodyLimit(maxUploadBytes), deadline(noDeadline)}
		api.route("POST /v1/cases", ahead(session), handleCaseCreate(cs, fail))
		api.route("GET /v1/cases", inTx(session), handleCaseList(cs, fail))
		api.route("POST /v1/cases/search", ahead(session), handleCaseSearch(cs, fail))
		api.route("GET /v1/cases/{id}", inTx(session), handleCaseGet(cs, fail))
		api.route("PATCH /v1/cases/{id}", ahead(session), handleCasePatch(cs, fail))
		api.route("GET /v1/cases/{id}/members", inTx(session), handleCaseMemberList(cs, fail))
		api.route("PUT /v1/cases/{id}/members/{user_id}", ahead(session), handleCaseMemberSet(cs, fail))
		api.route("DELETE /v1/cases/{id}/members/{user_id}", ahead(session), handleCaseMemberRevoke(cs, fail))
		api.route("POST /v1/cases/{id}/invites", session, handleCaseInviteCreate(cs, fail))
		api.route("GET /v1/cases/{id}/invites", kept(session), handleCaseInviteList(cs, fail))
		api.route("DELETE /v1/cases/{id}/invites/{invite_id}", ahead(session), handleCaseInviteRevoke(cs, fail))
		api.route("GET /v1/case-invites/accept", public, s.handleInviteLanding())
		api.route("POST /v1/case-invites/accept", signIn, s.handleInviteAccept())
		api.route("POST /v1/case-invites/sign-out", whoever, s.handleInviteSignOut())
		api.route("POST /v1/cases/{id}/documents", ahead(session), handleDocumentRequest(cs, fail))
		api.route("GET /v1/cases/{id}/documents", inTx(session), handleDocumentList(cs, fail))
		api.route("POST /v1/cases/{id}/files", session, handleUpload(cs, fail, true), upload...)
		api.route("GET /v1/documents/{id}", inTx(session), handleDocumentGet(cs, fail))
		api.route("DELETE /v1/documents/{id}", ahead(session), handleDocumentDelete(cs, fail))
		api.route("PUT /v1/documents/{id}/content", session, handleUpload(cs, fail, false), upload...)
		api.route("GET /v1/documents/{id}/content", session, handleDownload(cs, fail), deadline(noDeadline))
		api.route("POST /v1/documents/{id}/accept", ahead(session), handleDocumentAccept(cs, fail))
		api.route("GET /v1/documents/{id}/comments", inTx(session), handleCommentList(cs, fail))
		api.route("POST /v1/documents/{id}/comments", ahead(session), handleCommentAdd(cs, fail))
		// Legal holds: on the org, a patient or a case (admins, step-up).
		api.route("POST /v1/legal-holds", stepUp(as(admin, "legal_hold.place")), handleHoldPlace(cs, fail))
		api.route("GET /v1/legal-holds", kept(as(admin, "legal_hold.list")), handleHoldList(cs, fail))
		api.route("POST /v1/legal-holds/{id}/release", stepUp(as(admin, "legal_hold.release")), handleHoldRelease(cs, fail))
		// Document retention per type (docs/retention.md): members read
		// it, admins who stepped up replace it; the purge job applies it.
		api.route("GET /v1/org/retention-policy", kept(orgPolicy), handleRetentionGet(cs, fail))
		api.route("PUT /v1/org/retention-policy", stepUp(as(admin, "org.retention_policy.update")), handleRetentionPut(cs, fail))
		// What the next purge would delete (a dry run): admins, audited as
		// a list of the org's documents.
		api.route("GET /v1/org/retention-policy/preview", kept(as(admin, "document.list")), handleRetentionPreview(cs, fail))
	}

	// The audit log.
	api.route("GET /v1/audit/events", kept(orKey(as(admin, "audit.read"), auth.ScopeAuditRead)), handleAuditList(log, fail))
	// The org's newest checkpoint, for its staff and patients (and keys
	// that read the log): a case's outside parties, stakeholders, would
	// read in its size how busy the org's log is (an attacker's review).
	api.route("GET /v1/audit/checkpoint", kept(orKey(as(identity.RolePatient, ""), auth.ScopeAuditRead)), handleCheckpoint(log, fail))
	api.route("GET /v1/audit/proof/inclusion", kept(orKey(as(admin, "audit.read"), auth.ScopeAuditRead)), handleInclusionProof(log, fail))
	api.route("GET /v1/audit/proof/consistency", kept(orKey(as(admin, "audit.read"), auth.ScopeAuditRead)), handleConsistencyProof(log, fail))
	api.route("GET /.well-known/ward-audit-key", public, handleAuditKey(s.deps.AuditKey))
	// Exports and evidence bundles (docs/audit-exports.md): admins who
	// stepped up; streamed, so no route deadline.
	if ex := s.deps.Export; ex != nil {
		api.route("GET /v1/audit/export", stepUp(as(admin, "audit.export")), handleAuditExport(ex, fail), deadline(noDeadline), streamLimit(exportWriteWindow))
		api.route("GET /v1/audit/export/bundle", stepUp(as(admin, "audit.export")), handleAuditBundle(ex, fail), deadline(noDeadline), streamLimit(exportWriteWindow))
	}
	// SIEM streams: admins list them; configuring one wants a step-up.
	if sk := s.deps.Sinks; sk != nil {
		api.route("GET /v1/audit/sinks", kept(as(admin, "audit.sink.list")), handleSinkList(sk, fail))
		api.route("POST /v1/audit/sinks", stepUp(as(admin, "audit.sink.create")), handleSinkCreate(sk, fail))
		api.route("PATCH /v1/audit/sinks/{id}", stepUp(as(admin, "audit.sink.update")), handleSinkUpdate(sk, fail))
		api.route("DELETE /v1/audit/sinks/{id}", stepUp(as(admin, "audit.sink.delete")), handleSinkDelete(sk, fail))
		api.route("POST /v1/audit/sinks/{id}/rotate", stepUp(as(admin, "audit.sink.rotate")), handleSinkRotate(sk, fail))
	}

	// The LLM gateway (docs/gateway.md): the Anthropic Messages API for the
	// official SDKs, a session or an API key with the gateway scope as the
	// SDK's key. A stream has no route deadline; the upstream call carries
	// the client's context.
	if gw := s.deps.Gateway; gw != nil {
		llm, gwFail := s.gateway, s.gateway.writeError
		// Members of the org (patients and up) and keys with the gateway
		// scope: a case stakeholder is no user of the org's assistant.
		// A kept principal is confirmed while the body is de-identified.
		caller := ahead(orKey(as(identity.RolePatient, "ai.invoke"), auth.ScopeGateway))
		llm.route("POST /llm/v1/messages", caller, handleGateway(gw, recs, gateway.Messages, s.gatewayBodies, gwFail), deadline(noDeadline))
		llm.route("POST /llm/v1/messages/count_tokens", caller, handleGateway(gw, recs, gateway.CountTokens, s.gatewayBodies, gwFail))
		// The models the org may call, as the upstream describes them
		// (client.Models.List and Get): the same callers, each checked in
		// full (the handler calls the upstream before it answers); nothing
		// about a patient goes or comes, so no event but a refusal's.
		models := orKey(as(identity.RolePatient, ""), auth.ScopeGateway)
		llm.route("GET /llm/v1/models", models, handleModelList(gw, gwFail))
		llm.route("GET /llm/v1/models/{model_id}", models, handleModelGet(gw, gwFail))
		// The org's gateway policy: every member reads it (not a case
		// stakeholder); admins set it.
		api.route("GET /v1/org/gateway-policy", kept(orgPolicy), handleGatewayPolicyGet(gw, fail))
		api.route("PUT /v1/org/gateway-policy", stepUp(as(admin, "org.gateway_policy.update")), handleGatewayPolicyPut(gw, fail))
	}
	s.consoleRoutes()
}
