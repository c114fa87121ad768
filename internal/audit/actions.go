package audit

import "slices"

// Category groups actions for reports and exports.
type Category string

// The categories of actions.
const (
	CategoryAuth       Category = "auth"
	CategorySession    Category = "session"
	CategoryOrg        Category = "org"
	CategoryMembership Category = "membership"
	CategoryPatient    Category = "patient"
	CategoryRecord     Category = "record"
	CategoryAudit      Category = "audit"
	CategoryAccess     Category = "access"
	CategoryCase       Category = "case"
)

// Field names an event field an action requires on success.
type Field string

// The fields an action may require.
const (
	FieldPatient Field = "patient"
	FieldObject  Field = "object"
	FieldResults Field = "results"
)

// Action describes one kind of audited event. The registry is the same
// list as the database's audit.actions table (TestActionRegistryMatchesSQL
// keeps them equal): audit.append refuses an action outside it, a success
// without the fields it requires, and, from ward_app, a success of a
// reserved action.
type Action struct {
	// Name is the dotted action name, e.g. "patient.read".
	Name     string
	Category Category
	// PHIAccess is true when the event records a use of PHI (a read, a
	// list that returned records, a change of one): the access reports and
	// breach scoping read these.
	PHIAccess bool
	// Disclosure is true when every success is a disclosure outside the
	// covered entity, which must name recipient and purpose (§164.528).
	Disclosure bool
	// StakeholderDisclosure is true when a success by an external
	// stakeholder, about a case, is a disclosure: the database then names
	// the recipient from the caller's grant (migration 00159).
	StakeholderDisclosure bool
	// Reserved actions are recorded only by the SQL procedures that do them
	// (sign-in, org and membership changes); the server may record only
	// their refusals.
	Reserved bool
	// Requires lists the fields a success must carry.
	Requires []Field
}

// Actions is the registry, by name.
var Actions = registry(
	Action{Name: "auth.link.request", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.signin", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.mfa.enrol", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.mfa.verify", Category: CategoryAuth, Reserved: true},
	// A member removes their TOTP factor; an admin resets a member's
	// (migration 00214).
	Action{Name: "auth.mfa.delete", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.mfa.reset", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	// A member's replacement TOTP secret confirmed, or refused (migration
	// 00219).
	Action{Name: "auth.mfa.replace", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.recovery_codes.generate", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.recovery_code.use", Category: CategoryAuth, Reserved: true},
	Action{Name: "auth.token_reuse", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.api_key.create", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.api_key.revoke", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.passkey.register", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.passkey.rename", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.passkey.delete", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "auth.passkey.sign_count_regression", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	// Break-glass (migration 00060): activation, designation and review are
	// the procedures' to record; listing the review items reads their reasons.
	Action{Name: "auth.break_glass.activate", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.break_glass.designate", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.break_glass.review", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "break_glass.list", Category: CategoryAccess, PHIAccess: true},
	// The org's risk threshold (migration 00061).
	Action{Name: "org.risk_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// The roles whose non-browser sessions must be DPoP-bound (migration 00062).
	Action{Name: "org.device_binding_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "api_key.list", Category: CategoryAccess},
	Action{Name: "passkey.list", Category: CategoryAccess},
	Action{Name: "session.list", Category: CategorySession},
	Action{Name: "session.revoke", Category: CategorySession, Requires: []Field{FieldObject}},
	Action{Name: "org.create", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.session_policy.read", Category: CategoryOrg},
	// An org admin reads the org's compliance facts (migration 00263): the
	// function that answers records it.
	Action{Name: "org.compliance.read", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.session_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// The operator's crypto-shred of an org (migration 00268).
	Action{Name: "org.shred", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.shred_erase", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "org.assurance_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "member.list", Category: CategoryMembership, PHIAccess: true},
	Action{Name: "membership.add", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "membership.update", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "membership.revoke", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "patient.create", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "patient.read", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "patient.update", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "patient.list", Category: CategoryPatient, PHIAccess: true},
	Action{Name: "patient.search", Category: CategoryPatient, PHIAccess: true},
	Action{Name: "patient.access_report", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "patient.disclosure_accounting", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "patient.export", Category: CategoryPatient, PHIAccess: true, Requires: []Field{FieldPatient}},
	// An admin's crypto-shred of one patient (migration 00275): the
	// function that destroys the keyset records it.
	Action{Name: "patient.shred", Category: CategoryPatient, Reserved: true, Requires: []Field{FieldPatient}},
	Action{Name: "dsr.open", Category: CategoryPatient, Requires: []Field{FieldObject}},
	Action{Name: "dsr.list", Category: CategoryPatient},
	Action{Name: "dsr.read", Category: CategoryPatient, Requires: []Field{FieldObject}},
	Action{Name: "dsr.extend", Category: CategoryPatient, Requires: []Field{FieldObject}},
	Action{Name: "dsr.close", Category: CategoryPatient, Requires: []Field{FieldObject}},
	Action{Name: "dsr.remind", Category: CategoryPatient, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "patient_link.create", Category: CategoryPatient, Requires: []Field{FieldPatient}},
	Action{Name: "care_team.assign", Category: CategoryPatient, Requires: []Field{FieldPatient}},
	Action{Name: "care_team.unassign", Category: CategoryPatient, Requires: []Field{FieldPatient}},
	Action{Name: "entry.create", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "entry.list", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient}},
	// amendment.* are the steps of a §164.526 amendment (migration 00157).
	Action{Name: "amendment.request", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient, FieldObject}},
	Action{Name: "amendment.list", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient}},
	Action{Name: "amendment.decide", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient, FieldObject}},
	Action{Name: "amendment.disagree", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient, FieldObject}},
	Action{Name: "amendment.rebut", Category: CategoryRecord, PHIAccess: true, Requires: []Field{FieldPatient, FieldObject}},
	Action{Name: "audit.read", Category: CategoryAudit},
	Action{Name: "legal_hold.place", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "legal_hold.release", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "legal_hold.list", Category: CategoryAudit},
	// audit.export is one export or evidence bundle of the org's log
	// (internal/audit/export), recorded before any of it leaves; Patient
	// is set when the export is about one patient.
	Action{Name: "audit.export", Category: CategoryAudit, PHIAccess: true},
	// Breach response (migration 00231): an admin's scope of an incident
	// (its results are the affected patients, so it is in each one's access
	// report) and the revocation of its credentials (by app.breach_revoke;
	// its results are the credentials it ended).
	Action{Name: "breach.scope", Category: CategoryAudit, PHIAccess: true},
	Action{Name: "breach.revoke", Category: CategoryAuth, Reserved: true},
	// The SIEM sinks of an org (internal/audit/sink): configured by admins.
	Action{Name: "audit.sink.create", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "audit.sink.update", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "audit.sink.rotate", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "audit.sink.delete", Category: CategoryAudit, Requires: []Field{FieldObject}},
	Action{Name: "audit.sink.list", Category: CategoryAudit},
	Action{Name: "request.denied", Category: CategoryAccess},
	// SCIM provisioning (migrations/00050, 00051): the directory's writes
	// and reads, and its refused requests.
	Action{Name: "scim.token.create", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.token.revoke", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.token.list", Category: CategoryAccess},
	Action{Name: "scim.user.create", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.update", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.deactivate", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.activate", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.delete", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.role", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.user.list", Category: CategoryAccess},
	Action{Name: "scim.request.denied", Category: CategoryAccess},
	Action{Name: "scim.group.create", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.group.update", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.group.delete", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.group.role", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "scim.group.list", Category: CategoryAccess},
	Action{Name: "scim.group.mappings", Category: CategoryAccess},
	// Single sign-on (migrations/00052–00054); sign-ins are auth.signin.
	Action{Name: "sso.connection.create", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.connection.delete", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.connection.list", Category: CategoryAccess},
	Action{Name: "sso.domain.claim", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.domain.verify", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// A member bound by enforcement after it began (their address's domain
	// noted late, or their address changed) loses their non-SSO sessions,
	// links and API keys (migration 00130).
	Action{Name: "sso.enforce.revoke", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.identity.link", Category: CategoryAuth, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.identity.unlink", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "sso.jit.create", Category: CategoryMembership, Reserved: true, Requires: []Field{FieldObject}},
	// ai.invoke is one call through the LLM gateway: de-identified text
	// left for a subprocessor. Its details hold counts, model and tokens,
	// never content; Patient is set when the call named one.
	Action{Name: "ai.invoke", Category: CategoryAccess, PHIAccess: true},
	// The gateway's per-org policy (app.set_gateway_policy) and the
	// subprocessor registry's changes, recorded by a trigger in the
	// instance log whoever makes them.
	Action{Name: "org.gateway_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// The org's document retention policy (app.set_document_retention,
	// migration 00233).
	Action{Name: "org.retention_policy.update", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "gateway.provider.register", Category: CategoryOrg, Reserved: true},
	Action{Name: "gateway.provider.update", Category: CategoryOrg, Reserved: true},
	Action{Name: "gateway.provider.remove", Category: CategoryOrg, Reserved: true},
	// Key rotation by the operator (ward keys rotate, migration 00145), in
	// the org's log (the instance's for the instance keyset).
	Action{Name: "keys.rotate", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "keys.rewrap", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "keys.data_keys.rewrap", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// The keying of the patients created before the per-patient tier
	// (ward patient key, ward migrate; migration 00288): one event per org
	// with the count, in the org's log.
	Action{Name: "patient.key", Category: CategoryOrg, Reserved: true, Requires: []Field{FieldObject}},
	// Cases and documents (internal/cases): every event names its case.
	Action{Name: "case.create", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}},
	Action{Name: "case.view", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}, StakeholderDisclosure: true},
	Action{Name: "case.list", Category: CategoryCase, PHIAccess: true},
	Action{Name: "case.update", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}},
	Action{Name: "case.member.set", Category: CategoryCase, Requires: []Field{FieldObject}},
	Action{Name: "case.member.list", Category: CategoryCase},
	Action{Name: "case.member.expire", Category: CategoryCase, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "case.invite.create", Category: CategoryCase, Requires: []Field{FieldObject}},
	Action{Name: "case.invite.list", Category: CategoryCase},
	Action{Name: "case.invite.revoke", Category: CategoryCase, Requires: []Field{FieldObject}},
	Action{Name: "case.invite.accept", Category: CategoryCase, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "document.request", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}},
	Action{Name: "document.list", Category: CategoryCase, PHIAccess: true, StakeholderDisclosure: true},
	Action{Name: "document.view", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}, StakeholderDisclosure: true},
	Action{Name: "document.upload", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}},
	// A download by an external stakeholder carries a disclosure.
	Action{Name: "document.download", Category: CategoryCase, PHIAccess: true, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "document.accept", Category: CategoryCase, Requires: []Field{FieldObject}},
	Action{Name: "document.delete", Category: CategoryCase, PHIAccess: true, Reserved: true, Requires: []Field{FieldObject}},
	// document.purge is the retention job's deletion of a document past
	// its type's retention (app.purge_expired_documents, migration 00234).
	Action{Name: "document.purge", Category: CategoryCase, PHIAccess: true, Reserved: true, Requires: []Field{FieldObject}},
	Action{Name: "document.comment", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}},
	Action{Name: "document.comment.list", Category: CategoryCase, PHIAccess: true, Requires: []Field{FieldObject}, StakeholderDisclosure: true},
	Action{Name: "document.remind", Category: CategoryCase, Reserved: true, Requires: []Field{FieldObject}},
)

func registry(list ...Action) map[string]Action {
	m := make(map[string]Action, len(list))
	for _, a := range list {
		if _, dup := m[a.Name]; dup || !validAction(a.Name) {
			panic("audit: bad action registry entry " + a.Name) // a programming error, caught by every test
		}
		m[a.Name] = a
	}
	return m
}

// requires reports whether a requires f.
func (a Action) requires(f Field) bool { return slices.Contains(a.Requires, f) }
