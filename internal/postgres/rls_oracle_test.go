package postgres_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres"
)

// The oracle: who may see and change what, computed in Go from the seed and
// written from the rules (DESIGN §2), not from the policies' text.
//
//   - A credential is live when it hashes to a session that is not revoked,
//     within its absolute and idle limits, of a membership that is not
//     revoked, and ward.org is empty or names the session's org. A dead
//     credential sees nothing and changes nothing.
//   - An admin API key acts as the live admin who made it, in its org,
//     until revoked or expired, and only as far as its scopes go: it is
//     nobody's lead or admin for patient data (it reads patient records
//     with the gateway scope, and writes none), it sees the org's members
//     with members, the audit log and head with audit:read, and never
//     sees legal holds or keys.
//   - A token rotated away from a session names it for 30 seconds more,
//     at the assurance it was issued with (no more than the session's).
//   - An unbound session of a role its org lists in device_binding_required_for
//     is nobody unless it is a browser session (handed out in the cookie
//     only) and came in the browser's cookie.
//   - A session a passkey created is nobody once the passkey is gone.
//   - A live break-glass session reads every patient of its org and their
//     entries, and every case of its org with its documents, versions and
//     comments (not their writes).
//   - A live session below its assurance bar is pending, and a pending
//     credential is no credential: admins and leads always need AAL2, every
//     role does in an org that requires MFA.
//   - Nobody sees or writes another org's rows. The exception is the
//     person's own identity: their memberships follow the person, whichever
//     org the session is in. Sessions do not: through a session of org A a
//     person sees and revokes only their sessions in A.
//   - A patient sees and writes only their own record and its entries; a
//     provider those of the patients on whose care team they are; leads and
//     admins every patient of the org. Only leads and admins create patients
//     and change care teams and patient links; only a live patient member is
//     linked to a patient record, and only a live provider or lead is put on
//     a care team.
//   - Users see their own user row. Staff see the user rows of the org's
//     live staff; a patient's user row (their email) is seen by leads and
//     admins and by the providers on that patient's care team, like the
//     record itself. Leads and admins see the org's memberships; members
//     change only through app.add_member / app.update_member (admins).
//   - Users see their own sessions and may revoke those not yet revoked;
//     a revoked session stays revoked.
//   - Admins read the org's audit log and head; patients read the events
//     about their own record (as its subject or in a list's results).
//     Nobody writes either table directly.
//   - Magic links, sign-in attempts and key material are never readable.
//   - A member sees whether they have a second factor, in the credential's
//     org; nobody reads or writes its secret, hash or counters directly.
//   - A SCIM token is its org's directory, not a person: it sees its org
//     (and its checkpoints) and the org's SCIM rows, and nothing a user or a
//     role would see; it writes only through the app.scim_* procedures. The
//     org's admins list its SCIM tokens (never a hash) and see its SCIM rows.

// rlsPrincipal is what a credential resolves to; the zero value is nobody.
type rlsPrincipal struct {
	live            bool
	user, org, role string
	scopes          []string // API keys only (role "key")
	breakGlass      bool     // a live break-glass session
}

// holds reports whether p is an API key holding scope.
func (p rlsPrincipal) holds(scope string) bool {
	return p.role == "key" && slices.Contains(p.scopes, scope)
}

var rlsHexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// resolve applies the liveness rules to cred.
func (s *rlsSeed) resolve(cred postgres.Credential) rlsPrincipal {
	if !rlsHexHash.MatchString(cred.Hash) {
		return rlsPrincipal{}
	}
	for _, k := range s.rows["app.api_keys"] {
		// An admin API key acts for the live admin who made it, until it is
		// revoked or expires.
		if k.tokenHash != cred.Hash {
			continue
		}
		m, ok := s.membership(k.org, k.user)
		if k.revoked || (!k.expires.IsZero() && !s.now.Before(k.expires)) || !ok || m.revoked || m.role != "admin" ||
			(cred.Org != "" && cred.Org != k.org) {
			return rlsPrincipal{}
		}
		return rlsPrincipal{live: true, user: k.user, org: k.org, role: "key", scopes: k.scopes}
	}
	for _, k := range s.rows["app.scim_tokens"] {
		// A SCIM token resolves to its org, as no user and no role, until
		// it is revoked.
		if k.tokenHash != cred.Hash {
			continue
		}
		if k.revoked || (cred.Org != "" && cred.Org != k.org) {
			return rlsPrincipal{}
		}
		return rlsPrincipal{live: true, org: k.org, role: "scim"}
	}
	session, tokenAAL := "", 0
	for _, t := range s.rows["app.session_tokens"] {
		// A rotated token names its session for 30 seconds, at the
		// assurance it was issued with.
		if t.tokenHash == cred.Hash && s.now.Sub(t.retiredAt) < 30*time.Second {
			session, tokenAAL = t.session, t.aal
		}
	}
	for _, r := range s.rows["app.sessions"] {
		if r.tokenHash != cred.Hash && r.pk != session {
			continue
		}
		idleEnd := r.lastSeen.Add(time.Duration(r.idleMin) * time.Minute)
		if r.revoked || !s.now.Before(r.absoluteExp) || !s.now.Before(idleEnd) {
			return rlsPrincipal{}
		}
		m, ok := s.membership(r.org, r.user)
		if !ok || m.revoked || (cred.Org != "" && cred.Org != r.org) {
			return rlsPrincipal{}
		}
		needsMFA := m.role == "admin" || m.role == "lead" || s.orgRequiresMFA(r.org)
		aal := r.aal
		if r.pk == session && r.tokenHash != cred.Hash {
			aal = min(aal, tokenAAL)
		}
		if needsMFA && aal < 2 {
			return rlsPrincipal{} // pending
		}
		// An unbound session of a role its org requires bound is nobody
		// unless it is a browser session presented in the browser's cookie.
		if slices.Contains(s.binding[r.org], m.role) && !(r.browser && cred.DPoP == postgres.BrowserBinding) {
			return rlsPrincipal{} // pending device binding
		}
		// A session a passkey created lives only while the passkey does.
		if r.passkey != "" && !s.hasRow("app.passkeys", r.passkey) {
			return rlsPrincipal{}
		}
		return rlsPrincipal{live: true, user: r.user, org: r.org, role: m.role, breakGlass: r.breakGlass}
	}
	return rlsPrincipal{}
}

// hasRow reports whether the seed wrote a row of table with primary key pk.
func (s *rlsSeed) hasRow(table, pk string) bool {
	for _, r := range s.rows[table] {
		if r.pk == pk {
			return true
		}
	}
	return false
}

// sessionRow is the seed's row of session id.
func (s *rlsSeed) sessionRow(id string) *rlsRow {
	for i := range s.rows["app.sessions"] {
		if s.rows["app.sessions"][i].pk == id {
			return &s.rows["app.sessions"][i]
		}
	}
	panic("no session " + id)
}

func (s *rlsSeed) orgRequiresMFA(org string) bool {
	for _, o := range s.rows["app.orgs"] {
		if o.pk == org {
			return o.requireMFA
		}
	}
	return false
}

func (s *rlsSeed) membership(org, user string) (rlsRow, bool) {
	for _, m := range s.rows["app.memberships"] {
		if m.org == org && m.user == user {
			return m, true
		}
	}
	return rlsRow{}, false
}

func (s *rlsSeed) linked(org, user, patient string) bool {
	return slices.ContainsFunc(s.rows["app.patient_links"], func(r rlsRow) bool {
		return r.org == org && r.user == user && r.patient == patient
	})
}

func (s *rlsSeed) assigned(org, provider, patient string) bool {
	return slices.ContainsFunc(s.rows["app.care_team"], func(r rlsRow) bool {
		return r.org == org && r.provider == provider && r.patient == patient
	})
}

// caresFor reports whether provider p is on the care team of a patient
// that patientUser is linked to.
func (s *rlsSeed) caresFor(p rlsPrincipal, patientUser string) bool {
	return slices.ContainsFunc(s.rows["app.patient_links"], func(l rlsRow) bool {
		return l.org == p.org && l.user == patientUser && s.assigned(p.org, p.user, l.patient)
	})
}

// caseAllows reports whether p may use case kase of org for perm: admins
// and leads of the org always; otherwise a live grant (not revoked, not
// past its end date) holding perm, a provider or lead on the care team of
// the case's patient, or, to view and download, the case's patient. API
// keys reach no case. A live break-glass session views and downloads every
// case of its org.
func (s *rlsSeed) caseAllows(p rlsPrincipal, org, kase, perm string) bool {
	if !p.live || org != p.org || p.role == "key" {
		return false
	}
	if p.leadOrAdmin() || (p.breakGlass && (perm == "view" || perm == "download")) {
		return true
	}
	for _, g := range s.rows["app.case_members"] {
		if g.org == org && g.kase == kase && g.user == p.user && !g.revoked &&
			(g.expires.IsZero() || s.now.Before(g.expires)) && slices.Contains(g.perms, perm) {
			return true
		}
	}
	c, ok := s.caseOf(kase)
	if !ok || c.patient == "" {
		return false
	}
	switch p.role {
	case "provider", "lead":
		return s.assigned(org, p.user, c.patient)
	case "patient":
		return (perm == "view" || perm == "download") && s.linked(org, p.user, c.patient)
	}
	return false
}

// managesCase reports whether p manages the membership of case kase:
// admins and leads of the org, and providers on its patient's care team.
func (s *rlsSeed) managesCase(p rlsPrincipal, org, kase string) bool {
	if !p.live || org != p.org || p.role == "key" {
		return false
	}
	if p.leadOrAdmin() {
		return true
	}
	c, ok := s.caseOf(kase)
	return ok && c.patient != "" && (p.role == "provider" || p.role == "lead") && s.assigned(org, p.user, c.patient)
}

// caseRule admits a case-table row whose case p may use for perm.
func caseRule(perm string) rlsRule {
	return func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return s.caseAllows(p, r.org, r.kase, perm) }
}

// liveDocRule is caseRule for a row of a document, which nobody reads once
// the document is deleted (00315).
func liveDocRule(perm string) rlsRule {
	return func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
		return !r.deleted && s.caseAllows(p, r.org, r.kase, perm)
	}
}

// caseTarget is the case an insert into a case table aims at in t's org:
// C1 in A, D1 in B.
func (s *rlsSeed) caseTarget(t rlsTarget) string {
	if t.org == s.must("B") {
		return s.must("D1")
	}
	return s.must("C1")
}

// docTarget is the (live) document of caseTarget(t).
func (s *rlsSeed) docTarget(t rlsTarget) string {
	if t.org == s.must("B") {
		return s.must("d.D1")
	}
	return s.must("d.C1")
}

// deletedDocTarget is the deleted document of caseTarget(t).
func (s *rlsSeed) deletedDocTarget(t rlsTarget) string {
	if t.org == s.must("B") {
		return s.must("d.D1.deleted")
	}
	return s.must("d.C1.deleted")
}

// dsrTarget is the access request of t's org: access.P1 in A, access.Q1
// in B.
func (s *rlsSeed) dsrTarget(t rlsTarget) string {
	if t.org == s.must("B") {
		return s.must("dsr.access.Q1")
	}
	return s.must("dsr.access.P1")
}

func (p rlsPrincipal) leadOrAdmin() bool { return p.role == "lead" || p.role == "admin" }

// seesPatient reports whether p may read and write patient's record.
func (s *rlsSeed) seesPatient(p rlsPrincipal, org, patient string) bool {
	if org != p.org {
		return false
	}
	switch p.role {
	case "lead", "admin":
		return true
	case "provider":
		return s.assigned(org, p.user, patient)
	case "patient":
		return s.linked(org, p.user, patient)
	}
	return false
}

// rlsRule decides one row for one live principal; nil means nobody.
type rlsRule func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool

// rlsTarget is where an INSERT aims: an org and, for patient data, a patient.
type rlsTarget struct{ org, patient string }

// rlsInsert is one INSERT a caller may attempt.
type rlsInsert struct {
	name  string
	build func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any)
	may   func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool // nil: nobody
}

// rlsWrite is one UPDATE or DELETE over the whole table (the statement a
// bug without a WHERE clause would run); tail follows the table name.
type rlsWrite struct {
	name string
	tail string
	may  rlsRule
}

type rlsScope int

const (
	rlsNoScope      rlsScope = iota // the row names no org
	rlsOrgScope                     // inserts aim at org A and org B
	rlsPatientScope                 // inserts aim at A/P1, A/P2 and B/Q1
)

// rlsTable is one table's rules.
type rlsTable struct {
	name    string
	pk      string  // SQL rendering the primary key as text, as rlsRow.pk holds it
	read    rlsRule // nil: ward_app may not read the table at all
	scope   rlsScope
	inserts []rlsInsert
	updates []rlsWrite
	delete  rlsRule
}

func rlsNew() string { return uuid.NewString() }

func sameOrg(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.org == p.org }
func orgAdmin(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
	return r.org == p.org && p.role == "admin"
}

// dsrAdmin is an admin's session or an API key holding the dsr scope.
func dsrAdmin(p rlsPrincipal) bool { return p.role == "admin" || p.holds("dsr") }

// dsrRead admits the org's data-subject requests to a dsrAdmin, and to
// anyone else (not a key) those about them, and a patient's about their
// record.
func dsrRead(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
	if r.org != p.org {
		return false
	}
	if dsrAdmin(p) {
		return true
	}
	if p.role == "key" || p.user == "" {
		return false
	}
	return r.user == p.user || (p.role == "patient" && r.patient != "" && s.seesPatient(p, r.org, r.patient))
}

func orgLead(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.org == p.org && p.leadOrAdmin() }
func patientRow(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
	return s.seesPatient(p, r.org, r.patient)
}

// patientRead admits what p reads of patient data: what patientRow
// admits, and every patient of its org for a break-glass session.
func patientRead(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
	return patientRow(s, p, r) || (p.breakGlass && r.org == p.org)
}

// ownGrantTarget reports whether the case_members "insert" cell grants p
// itself (it grants a_prov0 in org A, b_pat1 in org B).
func ownGrantTarget(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
	u := s.must("a_prov0")
	if t.org == s.must("B") {
		u = s.must("b_pat1")
	}
	return p.user == u
}

func leadTarget(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
	return t.org == p.org && p.leadOrAdmin()
}

// memberIn reports whether user is a live member of org with one of roles.
func (s *rlsSeed) memberIn(org, user string, roles ...string) bool {
	m, ok := s.membership(org, user)
	return ok && !m.revoked && slices.Contains(roles, m.role)
}

// orgMember is a live member of org with role, not yet linked to patient,
// for the product-rule inserts.
func (s *rlsSeed) orgMember(org, role, patient string) string {
	for _, m := range s.rows["app.memberships"] {
		if m.org == org && m.role == role && !m.revoked && !s.linked(org, m.user, patient) {
			return m.user
		}
	}
	return rlsNew() // nobody: the insert must fail
}

// otherUser is a user other than a's, to forge authorship with.
func (s *rlsSeed) otherUser(a rlsActor) string {
	if a.user == s.must("a_prov1") {
		return s.must("a_pat1")
	}
	return s.must("a_prov1")
}

func rlsTables() []*rlsTable {
	return []*rlsTable{
		{
			name: "app.orgs", pk: `id::text`, read: sameOrg, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.orgs (id, name) values ($1, 'Forged')`, []any{rlsNew()}
			}}},
			updates: []rlsWrite{
				{name: "update", tail: `set session_idle_timeout_min = 1440`},
				// only app.set_gateway_policy writes the gateway policy
				{name: "gateway policy", tail: `set gateway_providers = '{evil}', gateway_allow = '{images}'`},
			},
		},
		{
			name: "app.users", pk: `id::text`, scope: rlsNoScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				if r.user == p.user {
					return true
				}
				if p.role == "scim" {
					return false
				}
				m, ok := s.membership(p.org, r.user)
				if p.role == "patient" || p.role == "stakeholder" || !ok || m.revoked {
					return false
				}
				if p.role == "key" {
					return p.holds("members")
				}
				return p.leadOrAdmin() || (m.role != "patient" && m.role != "stakeholder") || s.caresFor(p, r.user)
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.users (id, email_bidx, email_enc) values ($1, $2, $3)`,
					[]any{rlsNew(), rlsRandom(32), rlsRandom(8)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set email_enc = email_enc`}},
		},
		{
			name: "app.memberships", pk: `org_id::text || '/' || user_id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.user == p.user || (r.org == p.org && (p.leadOrAdmin() || p.holds("members")))
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, []any{t.org, a.user}
			}}},
			updates: []rlsWrite{
				{name: "update", tail: `set role = 'admin'`},
				{name: "unrevoke", tail: `set revoked_at = null where revoked_at is not null`},
			},
		},
		{
			name: "app.sessions", pk: `id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.user == p.user && r.org == p.org },
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at)
				        values ($1, $2, $3, 60, now() + interval '1 day')`, []any{t.org, a.user, rlsRandom(32)}
			}}},
			updates: []rlsWrite{
				{name: "revoke", tail: `set revoked_at = now(), revoked_reason = 'matrix'`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
						return r.user == p.user && r.org == p.org && !r.revoked
					}},
				{name: "unrevoke", tail: `set revoked_at = null, revoked_reason = null where revoked_at is not null`},
				{name: "extend", tail: `set absolute_expires_at = now() + interval '1 year'`},
			},
		},
		{
			name: "app.magic_links", pk: `id::text`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.magic_links (org_id, user_id, token_hash, expires_at)
				        values ($1, $2, $3, now() + interval '15 minutes')`, []any{t.org, a.user, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set used_at = null, expires_at = now() + interval '1 day'`}},
		},
		{
			// Sign-in devices (00144): only app.remember_device and
			// app.request_magic_link touch them.
			name: "app.known_devices", pk: `org_id::text || '/' || user_id::text`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.known_devices (org_id, user_id, token_hash, expires_at)
				        values ($1, $2, $3, now() + interval '1 day')`, []any{t.org, a.user, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "extend", tail: `set expires_at = now() + interval '30 days'`}},
		},
		{
			name: "app.auth_attempts", pk: `kind || '/' || encode(key_hash, 'hex')`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.auth_attempts (kind, key_hash) values ('ip', $1)`, []any{rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set at = at - interval '1 day'`}},
		},
		{
			name: "app.patients", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return patientRead(s, p, r) || (r.org == p.org && p.holds("gateway"))
			},
			inserts: []rlsInsert{
				{name: "insert", may: leadTarget, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, $3, $4, '\x00')`,
						[]any{t.org, rlsNew(), rlsRandom(16), a.user}
				}},
				{name: "insert_forged_author", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, $3, $4, '\x00')`,
						[]any{t.org, rlsNew(), rlsRandom(16), s.otherUser(a)}
				}},
			},
			updates: []rlsWrite{
				{name: "update", tail: `set name_enc = name_enc, updated_at = now()`, may: patientRow},
				// The MRN and identifiers are the org's to assign: a lead
				// or admin changes them, a linked patient or a care-team
				// provider does not (migration 00113).
				{name: "reidentify", tail: `set identifiers_enc = coalesce(identifiers_enc, '\x'::bytea) || '\x00'::bytea`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return patientRow(s, p, r) && p.leadOrAdmin() }},
				{name: "remrn", tail: `set mrn_bidx = sha256(id::text::bytea)`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return patientRow(s, p, r) && p.leadOrAdmin() }},
			},
		},
		{
			name: "app.patient_links", pk: `org_id::text || '/' || user_id::text || '/' || patient_id::text`,
			scope: rlsPatientScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (r.user == p.user || p.leadOrAdmin())
			},
			inserts: []rlsInsert{
				{name: "insert_patient_user", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return leadTarget(s, p, t) && s.memberIn(t.org, s.orgMember(t.org, "patient", t.patient), "patient")
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.patient_links (org_id, user_id, patient_id) values ($1, $2, $3)`,
						[]any{t.org, s.orgMember(t.org, "patient", t.patient), t.patient}
				}},
				// The product rule: only patient members are linked; the
				// actor (staff, or a patient of another record) is not.
				{name: "insert_self", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return leadTarget(s, p, t) && s.memberIn(t.org, p.user, "patient")
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.patient_links (org_id, user_id, patient_id) values ($1, $2, $3)`,
						[]any{t.org, a.user, t.patient}
				}},
				{name: "insert_provider", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.patient_links (org_id, user_id, patient_id) values ($1, $2, $3)`,
						[]any{t.org, s.orgMember(t.org, "provider", t.patient), t.patient}
				}},
			},
			updates: []rlsWrite{{name: "update", tail: `set patient_id = patient_id`}},
			delete:  orgLead,
		},
		{
			name: "app.care_team", pk: `org_id::text || '/' || provider_id::text || '/' || patient_id::text`,
			scope: rlsPatientScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (r.provider == p.user || s.seesPatient(p, r.org, r.patient))
			},
			inserts: []rlsInsert{
				// The product rule: only a live provider or lead joins a
				// care team (a lead may put themself on one; an admin or a
				// patient may not be put on one).
				{name: "insert_self", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return leadTarget(s, p, t) && s.memberIn(t.org, p.user, "provider", "lead")
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.care_team (org_id, provider_id, patient_id) values ($1, $2, $3)`,
						[]any{t.org, a.user, t.patient}
				}},
				{name: "insert_patient_user", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.care_team (org_id, provider_id, patient_id) values ($1, $2, $3)`,
						[]any{t.org, s.orgMember(t.org, "patient", t.patient), t.patient}
				}},
			},
			updates: []rlsWrite{{name: "update", tail: `set patient_id = patient_id`}},
			delete:  orgLead,
		},
		{
			name: "app.clinical_entries", pk: `org_id::text || '/' || id::text`, read: patientRead, scope: rlsPatientScope,
			inserts: []rlsInsert{
				{name: "insert",
					may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool { return s.seesPatient(p, t.org, t.patient) },
					build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
						return `insert into app.clinical_entries (org_id, id, patient_id, kind, name, observed_at, created_by)
						        values ($1, $2, $3, 'symptom', 'bloating', now(), $4)`, []any{t.org, rlsNew(), t.patient, a.user}
					}},
				{name: "insert_forged_author", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.clinical_entries (org_id, id, patient_id, kind, name, observed_at, created_by)
					        values ($1, $2, $3, 'symptom', 'bloating', now(), $4)`, []any{t.org, rlsNew(), t.patient, s.otherUser(a)}
				}},
			},
			updates: []rlsWrite{
				// A patient edits only the entries they wrote themself.
				{name: "update", tail: `set name = name, kcal = 1`, may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
					return patientRow(s, p, r) && (p.role != "patient" || r.author == p.user)
				}},
				{name: "move", tail: `set patient_id = patient_id`},
			},
		},
		{
			// Amendment requests (00157): read as the record's entries are;
			// the patient files about their record, an admin (a session) on
			// anyone's behalf, the database filing the data-subject request
			// with it; an admin decides (the patient's own update is refused
			// by the guard); the request, its record and its requester never
			// change; nobody deletes one.
			name: "app.record_amendments", pk: `org_id::text || '/' || id::text`, read: patientRead, scope: rlsPatientScope,
			inserts: []rlsInsert{
				{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return t.org == p.org && (p.role == "admin" || (p.role == "patient" && s.seesPatient(p, t.org, t.patient)))
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
					        values ($1, $2, $3, gen_random_uuid(), '\x01', $4)`, []any{t.org, rlsNew(), t.patient, a.user}
				}},
				{name: "insert_forged_author", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
					        values ($1, $2, $3, gen_random_uuid(), '\x01', $4)`, []any{t.org, rlsNew(), t.patient, s.otherUser(a)}
				}},
			},
			updates: []rlsWrite{
				{name: "decide", tail: `set status = 'accepted', decision_enc = '\x02'`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.org == p.org && p.role == "admin" }},
				{name: "rewrite", tail: `set request_enc = request_enc`},
				{name: "move", tail: `set patient_id = patient_id`},
			},
		},
		{
			// Second factors: a member sees that they have one (never its
			// secret); only the procedures write them.
			name: "app.totp_factors", pk: `org_id::text || '/' || user_id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.user == p.user && r.org == p.org },
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash) values ($1, $2, $3, $4)`,
					[]any{t.org, a.user, rlsRandom(40), rlsRandom(32)}
			}}},
			updates: []rlsWrite{
				{name: "unlock", tail: `set failures = 0, locked_until = null`},
				{name: "replay", tail: `set last_step = null`},
			},
		},
		{
			// The hash is not readable: the seed holds one code per member.
			name: "app.recovery_codes", pk: `org_id::text || '/' || user_id::text`,
			scope: rlsOrgScope,
			read:  func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.user == p.user && r.org == p.org },
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.recovery_codes (org_id, user_id, code_hash) values ($1, $2, $3)`,
					[]any{t.org, a.user, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "unuse", tail: `set used_at = null`}},
		},
		{
			// Passkeys: a member lists their own (never the credential id or
			// key); only the procedures register, rename and delete them.
			name: "app.passkeys", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return r.user == p.user && r.org == p.org },
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, backup_eligible,
				        backup_state, name) values ($1, $2, $3, $4, gen_random_uuid(), false, false, 'forged')`,
					[]any{t.org, a.user, rlsRandom(32), rlsRandom(77)}
			}}},
			updates: []rlsWrite{
				{name: "rewind", tail: `set sign_count = 0`},
				{name: "rename", tail: `set name = 'x'`},
			},
		},
		{
			// Ceremony challenges: nobody but the procedures.
			name: "app.passkey_challenges", pk: `id::text`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.passkey_challenges (challenge, purpose, binder_hash, rp_id, origin, expires_at)
				        values ($1, 'signin', $2, 'localhost', 'https://localhost', now() + interval '1 hour')`,
					[]any{rlsRandom(32), rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "unspend", tail: `set used_at = null, used_xid = null`}},
		},
		{
			// DPoP proof ids seen: nobody but app.dpop_use.
			name: "app.dpop_proofs", pk: `jkt || '/' || encode(jti_hash, 'hex')`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.dpop_proofs (jkt, jti_hash) values (repeat('A', 43), $1)`, []any{rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "forget", tail: `set expires_at = now() - interval '1 day'`}},
		},
		{
			// The domains of addresses (00128): nobody reads or writes them
			// but app.note_email_domain and the resolver.
			name: "app.email_domains", pk: `encode(email_bidx, 'hex')`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.email_domains (email_bidx, domain_bidx) values ($1, $2)`, []any{rlsRandom(32), rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "move", tail: `set domain_bidx = sha256('elsewhere')`}},
		},
		{
			// Request proofs' ids seen (unlogged, 00112; in rings since
			// 00227): nobody but app.whoami and app.dpop_jti_keep.
			name: "app.dpop_jtis", pk: `ring || '/' || jkt || '/' || encode(jti_hash, 'hex')`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.dpop_jtis (ring, jkt, jti_hash) values (0, repeat('A', 43), $1)`, []any{rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "forget", tail: `set jti_hash = sha256(jti_hash)`}},
		},
		{
			// The gateway's rate-limit buckets (unlogged, 00170): the org's
			// members read theirs, as they read the org's row; nobody
			// writes them but app.gateway_admit and app.gateway_settle.
			name: "app.gateway_buckets", pk: `org_id::text`, read: sameOrg, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.gateway_buckets (org_id, rpm, tpm, requests, tokens, at) values ($1, 1000000, 1000000000, 1000000, 1000000000, now())`,
					[]any{t.org}
			}}},
			updates: []rlsWrite{{name: "refill", tail: `set requests = 1000000, tokens = 1000000000`}},
		},
		{
			// The gateway's reservations (unlogged, 00170): nobody reads or
			// writes them but app.gateway_admit and app.gateway_settle.
			name: "app.gateway_reservations", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.gateway_reservations (org_id, credential_id, tokens) values ($1, $2, 0)`,
					[]any{t.org, rlsNew()}
			}}},
			updates: []rlsWrite{{name: "settle", tail: `set back = 1000000000, give_request = true`}},
		},
		{
			// Rotated tokens: nobody reads or writes them but the procedures.
			name: "app.session_tokens", pk: `org_id::text || '/' || session_id::text || '/' || encode(token_hash, 'hex')`,
			scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.session_tokens (org_id, session_id, token_hash, assurance, amr, authenticated_at)
				        values ($1, $2, $3, 2, '{email,passkey}', now())`,
					[]any{t.org, s.must("s.a_admin"), rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "regrace", tail: `set retired_at = now()`}},
		},
		{
			// API keys: the org's admins list them (never a hash); only the
			// procedures create or revoke them.
			name: "app.api_keys", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by)
				        values ($1, $2, 'sk_live_abcd', 'forged', '{members}', $3)`, []any{t.org, rlsRandom(32), a.user}
			}}},
			updates: []rlsWrite{
				{name: "unrevoke", tail: `set revoked_at = null`},
				{name: "extend", tail: `set expires_at = null`},
			},
		},
		{
			// SIEM sinks: an org admin's session reads and configures its
			// org's; nobody on ward_app moves a cursor (the deliverer does,
			// as ward_audit_reader, forward only).
			name: "app.audit_sinks", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert",
				may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool { return t.org == p.org && p.role == "admin" },
				build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.audit_sinks (org_id, kind, name, endpoint) values ($1, 'syslog', $2, 'x.example:6514')`,
						[]any{t.org, "forged-" + rlsNew()[:8]}
				}}},
			updates: []rlsWrite{
				// An endpoint is fixed at creation (00204): nobody re-points
				// a sink, its admins included.
				{name: "re-point", tail: `set endpoint = 'evil.example:6514'`},
				{name: "reconfigure", tail: `set batch_max = 7`, may: orgAdmin},
				{name: "cursor", tail: `set cursor_seq = cursor_seq + 100`},
			},
			// An admin's session deletes its org's sinks (00208; the
			// trigger also wants it stepped up and not break-glass).
			delete: orgAdmin,
		},
		{
			// SCIM tokens: the org's admins list them (never a hash), from a
			// session; only the procedures create or revoke them.
			name: "app.scim_tokens", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.scim_tokens (org_id, token_hash, prefix, name, created_by)
				        values ($1, $2, 'scim_abcd', 'forged', $3)`, []any{t.org, rlsRandom(32), a.user}
			}}},
			updates: []rlsWrite{
				{name: "unrevoke", tail: `set revoked_at = null`},
				{name: "promote", tail: `set default_role = 'lead'`},
			},
		},
		{
			// What SCIM keeps of the org's staff: the org's SCIM token and its
			// admins read it; only the procedures write it.
			name: "app.scim_users", pk: `org_id::text || '/' || user_id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (p.role == "scim" || p.role == "admin")
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.scim_users (org_id, user_id, external_id) values ($1, $2, 'forged')
				        on conflict do nothing`, []any{t.org, s.must("a_prov0")}
			}}},
			updates: []rlsWrite{
				{name: "undelete", tail: `set deleted_at = null`},
				{name: "relink", tail: `set external_id = 'forged'`},
			},
		},
		{
			// The directory's groups and their members: as app.scim_users.
			name: "app.scim_groups", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (p.role == "scim" || p.role == "admin")
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.scim_groups (org_id, display_name, role) values ($1, 'forged', 'admin')`, []any{t.org}
			}}},
			updates: []rlsWrite{{name: "map", tail: `set role = 'admin'`}},
		},
		{
			name: "app.scim_group_members", pk: `org_id::text || '/' || group_id::text || '/' || user_id::text`,
			scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (p.role == "scim" || p.role == "admin")
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.scim_group_members (org_id, group_id, user_id) values ($1, $2, $3)`,
					[]any{t.org, s.must("g.A"), s.must("a_prov0")}
			}}},
			updates: []rlsWrite{{name: "move", tail: `set user_id = user_id`}},
		},
		{
			// SSO connections, domains and links: the org's admins read them
			// (a member their own links), never a client secret or a subject;
			// only the procedures write them. Sign-in states: nobody.
			name: "app.sso_connections", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sso_connections (org_id, kind, name, issuer, client_id, created_by)
				        values ($1, 'oidc', 'forged', 'https://evil.example', 'c', $2)`, []any{t.org, a.user}
			}}},
			updates: []rlsWrite{
				{name: "trust", tail: `set trusted_amr = '{pwd}'`},
				{name: "jit", tail: `set jit = true, jit_role = 'lead'`},
			},
		},
		{
			name: "app.sso_domains", pk: `org_id::text || '/' || domain`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sso_domains (org_id, domain, connection_id, verified_at) values ($1, 'forged.test', $2, now())`,
					[]any{t.org, s.must("c.A")}
			}}},
			updates: []rlsWrite{{name: "verify", tail: `set verified_at = now(), verified_by = 'dns'`}},
		},
		{
			name: "app.sso_identities", pk: `org_id::text || '/' || connection_id::text || '/' || user_id::text`,
			scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (r.user == p.user || p.role == "admin")
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sso_identities (org_id, connection_id, subject_hash, user_id) values ($1, $2, $3, $4)`,
					[]any{t.org, s.must("c.A"), rlsRandom(32), a.user}
			}}},
			updates: []rlsWrite{{name: "relink", tail: `set user_id = user_id`}},
		},
		{
			// Accepted SAML assertion ids: nobody but app.sso_assertion_once.
			name: "app.sso_assertions", pk: `org_id::text || '/' || connection_id::text || '/' || encode(id_hash, 'hex')`,
			scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sso_assertions (org_id, connection_id, id_hash, expires_at) values ($1, $2, $3, now())`,
					[]any{t.org, s.must("c.A"), rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "forget", tail: `set expires_at = now() - interval '1 day'`}},
		},
		{
			name: "app.sso_states", pk: `encode(state_hash, 'hex')`, scope: rlsNoScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.sso_states (state_hash, org_id, connection_id, binder_hash) values ($1, $2, $3, $1)`,
					[]any{rlsRandom(32), t.org, s.must("c.A")}
			}}},
			updates: []rlsWrite{{name: "unspend", tail: `set taken_at = null, done_at = null`}},
		},
		{
			// Emergency-access users and activations (review items): the
			// org's admins see them; only the procedures write them.
			name: "app.break_glass_users", pk: `org_id::text || '/' || user_id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.break_glass_users (org_id, user_id, designated_by) values ($1, $2, $2)`,
					[]any{t.org, a.user}
			}}},
			updates: []rlsWrite{{name: "redesignate", tail: `set designated_at = now()`}},
		},
		{
			name: "app.break_glass_activations", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, reason_enc, expires_at)
				        values ($1, $2, $3, gen_random_uuid(), '\x00', now() + interval '1 day')`,
					[]any{t.org, a.user, s.must("s.a_prov0.bg")}
			}}},
			updates: []rlsWrite{
				{name: "close", tail: `set reviewed_at = now(), reviewed_by = user_id, review_note_enc = '\x00'`},
				{name: "extend", tail: `set expires_at = now() + interval '1 year'`},
			},
		},
		{
			name: "private.keysets", pk: `org_id::text || '/' || purpose`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into private.keysets (org_id, purpose, wrapped) values ($1, 'aead', $2)
				        on conflict (org_id, purpose) do update set wrapped = excluded.wrapped`, []any{t.org, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set wrapped = wrapped`}},
		},
		{
			name: "audit.events", pk: `org_id::text || '/' || qid::text`, scope: rlsOrgScope,
			read: readsAuditLog,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.events (org_id, at, action, outcome, actor_kind, canonical, leaf_hash)
				        values ($1, now(), 'patient.read', 'success', 'system', '\x7b7d', $2)`, []any{t.org, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set outcome = 'denied'`}},
		},
		{
			// The events' positions: read as the events are, written only
			// by audit.integrate.
			name: "audit.leaves", pk: `org_id::text || '/' || seq::text`, scope: rlsOrgScope,
			read: readsAuditLog,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.leaves (org_id, seq, qid, chain_hash) values ($1, 1000, 1000000, $2)`,
					[]any{t.org, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "renumber", tail: `set seq = seq + 100`}, {name: "rechain", tail: `set chain_hash = sha256(chain_hash)`}},
		},
		{
			// The integrator's queue: counted by those who read the log,
			// written only by audit.append, emptied only by audit.integrate.
			name: "audit.queue", pk: `org_id::text || '/' || qid::text`, scope: rlsOrgScope,
			read: readsAuditLog,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.queue (org_id, qid, at) values ($1, 1000000, now())`, []any{t.org}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set at = now()`}},
		},
		{
			// The stored tree nodes: read only through audit.proof_hashes,
			// written only by audit.integrate.
			name: "audit.tree_nodes", pk: `org_id::text || '/' || level::text || '/' || idx::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return false },
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.tree_nodes (org_id, level, idx, hash) values ($1, 8, 0, $2)`, []any{t.org, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "rewrite", tail: `set hash = sha256(hash)`}},
		},
		{
			// Any member reads their org's signed checkpoints; nobody writes
			// them but audit.record_checkpoint.
			name: "audit.checkpoints", pk: `org_id::text || '/' || size::text`, read: sameOrg, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.checkpoints (org_id, size, root_hash, note) values ($1, 999, $2, 'forged')`,
					[]any{t.org, rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set note = 'forged'`}},
		},
		{
			// Admins see and place their org's legal holds and release them,
			// with the reason and the note sealed (00280): nobody writes
			// them in the clear. Nobody deletes one.
			name: "app.legal_holds", pk: `org_id::text || '/' || id::text`, read: orgAdmin, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
				return t.org == p.org && p.role == "admin"
			}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.legal_holds (org_id, reason_enc, created_by) values ($1, $3, $2)`, []any{t.org, a.user, rlsRandom(40)}
			}}, {name: "insert clear", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.legal_holds (org_id, reason, created_by) values ($1, 'matrix', $2)`, []any{t.org, a.user}
			}}},
			updates: []rlsWrite{
				{name: "release", tail: `set released_at = now(), released_by = (select private.uid()), release_note_enc = '\x6d6174726978'`, may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
					return r.org == p.org && p.role == "admin"
				}},
				{name: "release clear", tail: `set released_at = now(), released_by = (select private.uid()), release_note = 'matrix'`},
				{name: "reassign", tail: `set created_by = created_by`},
			},
		},
		{
			// The org's document retention policy (00233): every member
			// (patient and above, a session) reads it; nobody writes it but
			// app.set_document_retention.
			name: "app.document_retention", pk: `org_id::text || '/' || doc_type`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && slices.Contains([]string{"patient", "provider", "lead", "admin"}, p.role)
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values ($1, 'medical_report', 1, $2)`,
					[]any{t.org, a.user}
			}}},
			updates: []rlsWrite{{name: "shorten", tail: `set retain_days = 1`}},
		},
		{
			// Data-subject requests (00149): an admin's session or a key
			// with the dsr scope sees and works the org's queue; a member
			// sees what they filed and what is about them (a patient: their
			// record); nobody deletes one.
			name: "app.dsr_requests", pk: `org_id::text || '/' || id::text`, read: dsrRead, scope: rlsPatientScope,
			inserts: []rlsInsert{
				{name: "about a patient", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return t.org == p.org && (dsrAdmin(p) || (p.role == "patient" && s.seesPatient(p, t.org, t.patient)))
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
					        values ($1, 'access', $2, $3, now())`, []any{t.org, t.patient, a.user}
				}},
				{name: "about themself", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return t.org == p.org && (dsrAdmin(p) || (p.role != "key" && p.role != "scim" && p.user != ""))
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.dsr_requests (org_id, kind, subject_user_id, requested_by, due_at)
					        values ($1, 'ccpa_know', $2, $2, now())`, []any{t.org, a.user}
				}},
			},
			updates: []rlsWrite{
				// Withdrawn: the queue entry of an amendment request closes
				// as fulfilled or denied only with its decision (00158).
				{name: "close", tail: `set status = 'withdrawn'`, may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
					return r.org == p.org && dsrAdmin(p)
				}},
				{name: "extend", tail: `set extension_reason = 'volume'`, may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
					return r.org == p.org && dsrAdmin(p)
				}},
			},
		},
		{
			// Cases: staff by role, everyone else by grant; providers open
			// cases of their care-team patients; a case's patient never
			// changes.
			name: "app.cases", pk: `org_id::text || '/' || id::text`, read: caseRule("view"), scope: rlsPatientScope,
			inserts: []rlsInsert{
				{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return p.live && t.org == p.org && (p.leadOrAdmin() || (p.role == "provider" && s.assigned(t.org, p.user, t.patient)))
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, $4, $5)`,
						[]any{t.org, rlsNew(), t.patient, rlsRandom(20), a.user}
				}},
				{name: "insert_forged_author", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.cases (org_id, id, patient_id, title_enc, created_by) values ($1, $2, $3, $4, $5)`,
						[]any{t.org, rlsNew(), t.patient, rlsRandom(20), s.otherUser(a)}
				}},
			},
			updates: []rlsWrite{
				{name: "update", tail: `set status = status, updated_at = now()`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return s.managesCase(p, r.org, r.kase) }},
				{name: "repatient", tail: `set patient_id = null`},
			},
		},
		{
			// Case grants: members see their own; those who manage a case
			// see and change its grants.
			name: "app.case_members", pk: `org_id::text || '/' || case_id::text || '/' || user_id::text`,
			scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return p.live && r.org == p.org && p.role != "key" && (r.user == p.user || s.managesCase(p, r.org, r.kase))
			},
			inserts: []rlsInsert{{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
				return s.managesCase(p, t.org, s.caseTarget(t)) && !ownGrantTarget(s, p, t)
			}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				u := s.must("a_prov0")
				if t.org == s.must("B") {
					u = s.must("b_pat1")
				}
				return `insert into app.case_members (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by)
				        values ($1, $2, $3, 'payer', '{view,download}', now() + interval '1 day', $4)`,
					[]any{t.org, s.caseTarget(t), u, a.user}
			}}, {name: "insert_self", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				// Nobody grants themselves access to a case, not even a
				// lead or admin (who reads every case anyway).
				return `insert into app.case_members (org_id, case_id, user_id, kind, permissions, added_by)
				        values ($1, $2, $3, 'staff', '{view,upload,download,comment}', $3)`,
					[]any{t.org, s.caseTarget(t), a.user}
			}}, {name: "insert_staff_kind_to_outsider", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				// A staff grant has no end date: never to a stakeholder or a patient.
				u := s.must("a_attorney")
				if t.org == s.must("B") {
					u = s.must("b_pat1")
				}
				return `insert into app.case_members (org_id, case_id, user_id, kind, permissions, added_by)
				        values ($1, $2, $3, 'staff', '{view,upload,download,comment}', $4)`,
					[]any{t.org, s.caseTarget(t), u, a.user}
			}}},
			updates: []rlsWrite{
				{name: "extend", tail: `set access_expires_at = now() + interval '1 year'`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
						return s.managesCase(p, r.org, r.kase) && r.user != p.user
					}},
				{name: "unrevoke", tail: `set revoked_at = null where revoked_at is not null`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
						return r.revoked && s.managesCase(p, r.org, r.kase) && r.user != p.user
					}},
				// Nobody widens their own grant (a_prov0 holds one on C3).
				{name: "widen_own", tail: `set permissions = '{view,upload,download,comment}' where user_id = private.uid()`},
				{name: "move", tail: `set case_id = case_id`},
				// A manager changes a grant's kind, but never makes a
				// stakeholder's grant a staff grant (which has no end date).
				{name: "rekind", tail: `set kind = 'payer' where kind <> 'staff'`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
						return s.managesCase(p, r.org, r.kase) && r.user != s.must("a_prov0") && r.user != p.user
					}},
				{name: "make_staff", tail: `set kind = 'staff', access_expires_at = null where kind <> 'staff'`},
			},
		},
		{
			// Invitations: those who manage the case; the token hash is not
			// readable; revocation is the only change.
			name: "app.case_invites", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return s.managesCase(p, r.org, r.kase) },
			inserts: []rlsInsert{{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
				return s.managesCase(p, t.org, s.caseTarget(t))
			}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind,
				          permissions, access_expires_at, expires_at, created_by)
				        values ($1, $2, $3, $4, gen_random_uuid(), $5, 'employer', '{view}', now() + interval '1 day',
				                now() + interval '1 day', $6)`,
					[]any{t.org, s.caseTarget(t), rlsRandom(32), rlsRandom(20), rlsRandom(32), a.user}
			}}},
			updates: []rlsWrite{
				{name: "revoke", tail: `set revoked_at = now()`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool { return s.managesCase(p, r.org, r.kase) }},
				{name: "extend", tail: `set expires_at = now() + interval '1 year'`},
				{name: "accept", tail: `set accepted_at = now()`},
			},
		},
		{
			name: "app.documents", pk: `org_id::text || '/' || id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return !r.deleted && s.caseAllows(p, r.org, r.kase, "view")
			},
			inserts: []rlsInsert{
				// Whoever may upload files a document; only those who
				// manage the case request one (00126).
				{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return s.caseAllows(p, t.org, s.caseTarget(t), "upload")
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.documents (org_id, case_id, doc_type, created_by)
					        values ($1, $2, 'wage_statement', $3)`, []any{t.org, s.caseTarget(t), a.user}
				}},
				{name: "insert_request", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
					return s.caseAllows(p, t.org, s.caseTarget(t), "upload") && s.managesCase(p, t.org, s.caseTarget(t))
				}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.documents (org_id, case_id, doc_type, requested_by, due_at, created_by)
					        values ($1, $2, 'wage_statement', $3, now() + interval '3 days', $3)`, []any{t.org, s.caseTarget(t), a.user}
				}},
				{name: "insert_forged_requester", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
					return `insert into app.documents (org_id, case_id, doc_type, requested_by, due_at, created_by)
					        values ($1, $2, 'wage_statement', $3, now() + interval '3 days', $4)`,
						[]any{t.org, s.caseTarget(t), s.otherUser(a), a.user}
				}},
			},
			updates: []rlsWrite{
				{name: "provide", tail: `set provided_at = now()`, may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
					return !r.deleted && s.caseAllows(p, r.org, r.kase, "upload")
				}},
				// Whoever may upload provides a document now, never in the
				// past; only those who manage the case accept, in their name.
				{name: "backdate", tail: `set provided_at = now() - interval '30 days'`},
				// An acceptance names the latest version (00181): the seeded
				// documents have one. A version that is not the latest is
				// refused (P0001) to everyone: TestDocumentAcceptNamesVersion.
				{name: "accept", tail: `set provided_at = now(), accepted_at = now(), accepted_by = (select private.uid()),
				                        accepted_version = 1`,
					may: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
						return !r.deleted && s.caseAllows(p, r.org, r.kase, "upload") && s.managesCase(p, r.org, r.kase)
					}},
				{name: "accept_as_other", tail: `set provided_at = now(), accepted_at = now(), accepted_by = created_by,
				                                 accepted_version = 1 where created_by <> (select private.uid())`},
				{name: "undelete", tail: `set deleted_at = null`},
				{name: "move", tail: `set case_id = case_id`},
			},
		},
		{
			// Versions: the wrapped data key is not a readable column (the
			// matrix reads the primary key only; the procedures test covers
			// app.open_document_version); nobody changes a version. A new
			// version comes from the document's creator, the party it was
			// requested from, or the case's managers (00125): the seeded
			// document was created by an admin and requested from nobody,
			// so only those who manage the case add one.
			name: "app.document_versions", pk: `org_id::text || '/' || id::text`, read: liveDocRule("view"), scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
				return s.caseAllows(p, t.org, s.caseTarget(t), "upload") && s.managesCase(p, t.org, s.caseTarget(t))
			}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key, size,
				          sha256, content_type, filename_enc, uploaded_by)
				        values ($1, $2, $3, 2, $8, $4, 1, $5, 'text/plain', $6, $7)`,
					[]any{t.org, s.caseTarget(t), s.docTarget(t), rlsRandom(40), rlsRandom(32), rlsRandom(20), a.user,
						"orgs/" + t.org + "/obj/" + rlsNew()}
			}}, {name: "insert_deleted", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				// A deleted document takes no new version (00340).
				return `insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key, size,
				          sha256, content_type, filename_enc, uploaded_by)
				        values ($1, $2, $3, 2, $8, $4, 1, $5, 'text/plain', $6, $7)`,
					[]any{t.org, s.caseTarget(t), s.deletedDocTarget(t), rlsRandom(40), rlsRandom(32), rlsRandom(20), a.user,
						"orgs/" + t.org + "/obj/" + rlsNew()}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set size = 0`}, {name: "rekey", tail: `set data_key = null`}},
		},
		{
			name: "app.document_comments", pk: `org_id::text || '/' || id::text`, read: liveDocRule("view"), scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", may: func(s *rlsSeed, p rlsPrincipal, t rlsTarget) bool {
				return s.caseAllows(p, t.org, s.caseTarget(t), "comment")
			}, build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
				        values ($1, $2, $3, $4, $5)`, []any{t.org, s.caseTarget(t), s.docTarget(t), rlsRandom(20), a.user}
			}}, {name: "insert_deleted", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				// A deleted document takes no new comment (00340).
				return `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
				        values ($1, $2, $3, $4, $5)`, []any{t.org, s.caseTarget(t), s.deletedDocTarget(t), rlsRandom(20), a.user}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set body_enc = body_enc`}},
		},
		{
			// Claims of uploads in flight (00186): nobody but
			// app.claim_upload, touch_upload and release_upload (the
			// caller's own, through the procedures test) and the sweeper's
			// app.reclaim_storage_keys.
			name: "app.document_uploads", pk: `org_id::text || '/' || storage_key`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.document_uploads (org_id, storage_key, uploaded_by) values ($1, $2, $3)`,
					[]any{t.org, "orgs/" + t.org + "/obj/" + rlsNew(), a.user}
			}}},
			updates: []rlsWrite{{name: "touch", tail: `set touched_at = now()`}},
		},
		{
			// Reminder bookkeeping: nobody but app.due_reminders.
			name: "app.document_reminders", pk: `org_id::text || '/' || document_id::text || '/' || kind`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.document_reminders (org_id, document_id, kind) values ($1, $2, 'due_soon')`,
					[]any{t.org, s.docTarget(t)}
			}}},
			updates: []rlsWrite{{name: "forget", tail: `set sent_at = now()`}},
		},
		{
			// Reminders of data-subject requests (00171): nobody but
			// app.dsr_due_reminders.
			name: "app.dsr_reminders", pk: `org_id::text || '/' || dsr_id::text || '/' || kind`, scope: rlsOrgScope,
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into app.dsr_reminders (org_id, dsr_id, kind, due_at, user_id)
				        values ($1, $2, 'due_soon', now(), gen_random_uuid())`, []any{t.org, s.dsrTarget(t)}
			}}},
			updates: []rlsWrite{{name: "forget", tail: `set sent_at = now()`}},
		},
		{
			name: "audit.heads", pk: `org_id::text`, scope: rlsOrgScope,
			read: func(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
				return r.org == p.org && (p.role == "admin" || p.holds("audit:read"))
			},
			inserts: []rlsInsert{{name: "insert", build: func(s *rlsSeed, a rlsActor, t rlsTarget) (string, []any) {
				return `insert into audit.heads (org_id, origin, chain_hash, root_hash) values ($1, $2, $3, $3)`,
					[]any{t.org, "forged/" + rlsNew(), rlsRandom(32)}
			}}},
			updates: []rlsWrite{{name: "update", tail: `set tree_size = 0`}},
		},
	}
}

// targets lists where t's inserts aim, named for the subtests.
func (s *rlsSeed) targets(t *rlsTable) map[string]rlsTarget {
	A, B := s.must("A"), s.must("B")
	switch t.scope {
	case rlsOrgScope:
		return map[string]rlsTarget{"@A": {org: A}, "@B": {org: B}}
	case rlsPatientScope:
		return map[string]rlsTarget{
			"@A.P1": {org: A, patient: s.must("P1")},
			"@A.P2": {org: A, patient: s.must("P2")},
			"@B.Q1": {org: B, patient: s.must("Q1")},
		}
	}
	return map[string]rlsTarget{"": {org: A}}
}

// expect is the set of t's primary keys that rule admits for p.
func (s *rlsSeed) expect(t *rlsTable, p rlsPrincipal, rule rlsRule) []string {
	out := []string{}
	if !p.live || rule == nil {
		return out
	}
	for _, r := range s.rows[t.name] {
		if rule(s, p, r) {
			out = append(out, r.pk)
		}
	}
	return out
}

func (s *rlsSeed) describe(p rlsPrincipal) string {
	if !p.live {
		return "nobody"
	}
	return fmt.Sprintf("%s %s of %s", s.readable(p.user), p.role, s.readable(p.org))
}

// readsAuditLog: only admins (and keys with audit:read) read their org's raw
// log; patients get their access report from audit.access_report (tested in
// internal/audit).
func readsAuditLog(s *rlsSeed, p rlsPrincipal, r rlsRow) bool {
	return r.org == p.org && (p.role == "admin" || p.holds("audit:read"))
}

// accessReportRows is the number of events of patient's org about patient
// (its patient id, or among its results): audit.access_report's rows.
func (s *rlsSeed) accessReportRows(patient string) string {
	p := s.must(patient)
	n := 0
	for _, e := range s.rows["audit.events"] {
		if e.patient == p || slices.Contains(e.results, p) {
			n++
		}
	}
	return strconv.Itoa(n)
}
