package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The kinds of change a breach scope groups (docs/breach.md): what a
// compromised account configured, as against the records it used.
const (
	// ChangeMembers: memberships added, changed or removed, SCIM users and
	// groups, members created by SSO on first sign-in.
	ChangeMembers = "members"
	// ChangeCredentials: API keys and SCIM tokens created or revoked,
	// sessions ended, breach revocations.
	ChangeCredentials = "credentials"
	// ChangeFactors: TOTP enrolled, replaced, removed or reset; passkeys
	// registered, renamed or removed; recovery codes generated.
	ChangeFactors = "factors"
	// ChangeSSO: connections, domains, identities linked or unlinked,
	// enforcement's revocations.
	ChangeSSO = "sso"
	// ChangePolicies: the org's session, assurance, risk, device-binding,
	// SSO, gateway and retention policies.
	ChangePolicies = "policies"
	// ChangeBreakGlass: emergency-access designations, activations and
	// reviews.
	ChangeBreakGlass = "break_glass"
	// ChangeSinks: the SIEM sinks the log streams to.
	ChangeSinks = "sinks"
	// ChangeHolds: legal holds placed or released.
	ChangeHolds = "holds"
	// ChangeGateway: the LLM gateway's providers.
	ChangeGateway = "gateway"
	// ChangeKeys: key rotations and rewraps.
	ChangeKeys = "keys"
	// ChangeOrg: an org created or crypto-shredded.
	ChangeOrg = "org"
	// ChangeCaseAccess: case members set or expired, case invitations
	// sent, revoked or accepted, documents accepted.
	ChangeCaseAccess = "case_access"
	// ChangeCareTeams: care teams assigned or unassigned, patient links.
	ChangeCareTeams = "care_teams"
	// ChangeRequests: data-subject requests opened, extended or closed.
	ChangeRequests = "requests"
	// ChangeOther: any other change (reminders; an action no rule names).
	ChangeOther = "other"
)

// ChangeGroups lists the groups in the order a scope shows them.
var ChangeGroups = []string{ChangeMembers, ChangeCredentials, ChangeFactors, ChangeSSO, ChangePolicies,
	ChangeBreakGlass, ChangeSinks, ChangeHolds, ChangeGateway, ChangeKeys, ChangeOrg, ChangeCaseAccess,
	ChangeCareTeams, ChangeRequests, ChangeOther}

// changeRule maps the actions a pattern names to a group; "" is not a
// change. A pattern is an action's name, a prefix ("auth.api_key.*") or
// a suffix ("*.list"). The first rule that matches decides.
type changeRule struct{ pattern, group string }

// changeRules classifies every registered action that is not a use of
// PHI (those are the scope's individuals): TestChangeRulesCoverRegistry
// fails on an action no rule names, so a new action is placed on purpose.
var changeRules = []changeRule{
	// Reads, sign-ins and refusals change nothing.
	{"*.list", ""}, {"*.read", ""}, {"scim.group.mappings", ""},
	{"auth.signin", ""}, {"auth.link.request", ""}, {"auth.mfa.verify", ""}, {"auth.recovery_code.use", ""},
	{"auth.token_reuse", ""}, {"auth.passkey.sign_count_regression", ""},
	{"request.denied", ""}, {"scim.request.denied", ""},

	{"membership.*", ChangeMembers}, {"scim.user.*", ChangeMembers}, {"scim.group.*", ChangeMembers},
	{"sso.jit.*", ChangeMembers},
	{"auth.api_key.*", ChangeCredentials}, {"scim.token.*", ChangeCredentials}, {"session.revoke", ChangeCredentials},
	{"breach.revoke", ChangeCredentials},
	{"auth.mfa.*", ChangeFactors}, {"auth.passkey.*", ChangeFactors}, {"auth.recovery_codes.generate", ChangeFactors},
	{"sso.policy.update", ChangePolicies}, {"org.*_policy.update", ChangePolicies},
	{"sso.*", ChangeSSO},
	{"org.break_glass.*", ChangeBreakGlass}, {"auth.break_glass.*", ChangeBreakGlass},
	{"audit.sink.*", ChangeSinks},
	{"legal_hold.*", ChangeHolds},
	{"gateway.provider.*", ChangeGateway},
	{"keys.*", ChangeKeys}, {"patient.key", ChangeKeys},
	{"org.create", ChangeOrg}, {"org.shred", ChangeOrg}, {"org.shred_erase", ChangeOrg},
	{"case.member.*", ChangeCaseAccess}, {"case.invite.*", ChangeCaseAccess}, {"document.accept", ChangeCaseAccess},
	{"care_team.*", ChangeCareTeams}, {"patient_link.*", ChangeCareTeams},
	{"dsr.open", ChangeRequests}, {"dsr.extend", ChangeRequests}, {"dsr.close", ChangeRequests},
	{"patient.shred", ChangeRequests},
	{"dsr.remind", ChangeOther}, {"document.remind", ChangeOther},
}

// match reports whether r's pattern names action: a "*" stands for any
// run of characters, at most one per pattern.
func (r changeRule) match(action string) bool {
	head, tail, wild := strings.Cut(r.pattern, "*")
	if !wild {
		return action == r.pattern
	}
	return len(action) >= len(head)+len(tail) && strings.HasPrefix(action, head) && strings.HasSuffix(action, tail)
}

// changeRuleFor is the first rule naming action, if any.
func changeRuleFor(action string) (changeRule, bool) {
	for _, r := range changeRules {
		if r.match(action) {
			return r, true
		}
	}
	return changeRule{}, false
}

// ChangeGroup returns the group of the change action records, or false
// when it records no change: a read, a sign-in, a refusal, or a use of
// PHI (a scope counts those by individual). An action no rule names is
// ChangeOther, so that a change is never left out.
func ChangeGroup(action string) (string, bool) {
	if g, ok := registeredChanges[action]; ok {
		return g, g != ""
	}
	return classifyChange(action)
}

// registeredChanges is ChangeGroup of each registered action ("": none),
// so that a scope's millions of events each cost a map lookup.
var registeredChanges = func() map[string]string {
	m := make(map[string]string, len(Actions))
	for name := range Actions {
		m[name], _ = classifyChange(name)
	}
	return m
}()

// classifyChange is ChangeGroup, by the registry's PHIAccess and the
// rules.
func classifyChange(action string) (string, bool) {
	if a, ok := Actions[action]; ok && a.PHIAccess {
		return "", false
	}
	r, ok := changeRuleFor(action)
	if !ok {
		return ChangeOther, true
	}
	return r.group, r.group != ""
}

// MaxChanges is the most changes a scope lists; Changes.Count counts
// them all.
const MaxChanges = 1000

// Change is one successful change an incident's actors made: ids and the
// action's name, never content.
type Change struct {
	Seq            int64         `json:"seq"`
	At             time.Time     `json:"at"`
	Action         string        `json:"action"`
	Actor          uuid.NullUUID `json:"actor_id"`
	ActorKind      string        `json:"actor_kind"`
	Session        uuid.NullUUID `json:"session_id"`
	CredentialKind string        `json:"credential_kind,omitempty"`
	Credential     uuid.NullUUID `json:"credential_id"`
	IP             string        `json:"ip,omitempty"`
	// ObjectType and Object are what changed: a member's user id, an API
	// key's, a SCIM token's, an SSO connection's, a sink's, a hold's id.
	ObjectType string        `json:"object_type,omitempty"`
	Object     uuid.NullUUID `json:"object_id"`
	Patient    uuid.NullUUID `json:"patient_id"`
	Case       uuid.NullUUID `json:"case_id"`
}

// ChangeList is one group's changes, in log order.
type ChangeList struct {
	Group   string   `json:"group"`
	Changes []Change `json:"changes"`
}

// Changes are the successful changes an incident's actors, sessions,
// credentials or networks made (not the events matched only by a record
// they named), grouped by kind in ChangeGroups' order, each group in log
// order: the first MaxChanges found (Truncated: Count is more). The
// changes of a network are those recorded from it, and those its events'
// sessions and credentials made without an address (ScanUnaddressed).
type Changes struct {
	Count     int          `json:"count"`
	Truncated bool         `json:"truncated"`
	Groups    []ChangeList `json:"groups"`

	// The seqs of the changes without an address, which
	// ScanUnaddressed may find again.
	counted map[int64]bool
	// The sessions and credentials of events from the incident's
	// networks, for ScanUnaddressed.
	sessions, credentials map[uuid.UUID]bool
}

// Add counts e, an event in selects, if it is a successful change that
// in's actors, sessions, credentials or networks made (every one when
// in.All).
func (c *Changes) Add(in Incident, e *Entry) {
	fromNetwork := len(in.Networks) > 0 && !in.All && inNetworks(e.IP, in.Networks)
	if fromNetwork {
		if c.sessions == nil {
			c.sessions, c.credentials = map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
		}
		if e.Session.Valid {
			c.sessions[e.Session.UUID] = true
		}
		if e.Credential.Valid {
			c.credentials[e.Credential.UUID] = true
		}
	}
	// The cheap tests first: most events are reads.
	if e.Outcome != OutcomeSuccess {
		return
	}
	if _, ok := ChangeGroup(e.Action); ok && (fromNetwork || in.acted(e)) {
		c.add(e)
	}
}

// add lists e if it is a successful change not yet counted, in its
// group's log order.
func (c *Changes) add(e *Entry) {
	if e.Outcome != OutcomeSuccess || c.counted[e.Seq] {
		return
	}
	group, ok := ChangeGroup(e.Action)
	if !ok {
		return
	}
	if e.IP == "" {
		if c.counted == nil {
			c.counted = map[int64]bool{}
		}
		c.counted[e.Seq] = true
	}
	c.Count++
	if c.Count > MaxChanges {
		c.Truncated = true
		return
	}
	if c.Groups == nil {
		c.Groups = []ChangeList{}
	}
	rank := slices.Index(ChangeGroups, group)
	i := slices.IndexFunc(c.Groups, func(l ChangeList) bool { return slices.Index(ChangeGroups, l.Group) >= rank })
	if i < 0 {
		i = len(c.Groups)
	}
	if i == len(c.Groups) || c.Groups[i].Group != group {
		c.Groups = slices.Insert(c.Groups, i, ChangeList{Group: group})
	}
	list := c.Groups[i].Changes
	at, _ := slices.BinarySearchFunc(list, e.Seq, func(ch Change, seq int64) int { return cmp.Compare(ch.Seq, seq) })
	c.Groups[i].Changes = slices.Insert(list, at, Change{Seq: e.Seq, At: e.At, Action: e.Action, Actor: e.Actor,
		ActorKind: e.ActorKind, Session: e.Session, CredentialKind: e.CredentialKind, Credential: e.Credential, IP: e.IP,
		ObjectType: e.ObjectType, Object: e.ObjectID, Patient: e.Patient, Case: e.Case})
}

// ScanUnaddressed adds the successful changes that the sessions and
// credentials of the events from in's networks made in in's window
// without recording a client address: the SQL procedures that make most
// configuration changes (an API key, a member, a policy) record none, so
// a scope by network would not see them. Call it after every event of the
// scope went through Add; it queries q once, and not at all when no
// network event named a session or credential.
func (c *Changes) ScanUnaddressed(ctx context.Context, q Querier, org uuid.UUID, in Incident) error {
	if len(c.sessions)+len(c.credentials) == 0 {
		return nil
	}
	ids := func(set map[uuid.UUID]bool) []uuid.UUID {
		out := make([]uuid.UUID, 0, len(set))
		for id := range set {
			out = append(out, id)
		}
		return out
	}
	noChange := []string{}
	for name := range Actions {
		if _, ok := ChangeGroup(name); !ok {
			noChange = append(noChange, name)
		}
	}
	rows, err := q.Query(ctx, `select `+incidentColumns+`, true
		from audit.log
		where org_id = $1 and at >= $2 and at < $3 and outcome = 'success' and coalesce(ip, '') = ''
		  and (session_id = any ($4) or credential_id = any ($5)) and action <> all ($6)
		order by seq`, org, in.From, in.To, ids(c.sessions), ids(c.credentials), noChange)
	if err != nil {
		return fmt.Errorf("audit: scan unaddressed changes of org %s: %w", org, err)
	}
	defer rows.Close()
	var e Entry
	for rows.Next() {
		if _, err := scanIncidentRow(rows, in, &e); err != nil {
			return fmt.Errorf("audit: scan unaddressed changes of org %s: %w", org, err)
		}
		c.add(&e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: scan unaddressed changes of org %s: %w", org, err)
	}
	return nil
}

// Listed counts the changes c lists (Count, up to MaxChanges).
func (c Changes) Listed() int {
	n := 0
	for _, l := range c.Groups {
		n += len(l.Changes)
	}
	return n
}

// Created returns the objects of the listed changes recorded as action
// (auth.api_key.create: the API keys the actors made), once each, in log
// order.
func (c Changes) Created(action string) []uuid.UUID {
	out := []uuid.UUID{}
	for _, l := range c.Groups {
		for _, ch := range l.Changes {
			if ch.Action == action && ch.Object.Valid && !slices.Contains(out, ch.Object.UUID) {
				out = append(out, ch.Object.UUID)
			}
		}
	}
	return out
}

// acted reports whether e was made by in's actors, sessions, credentials
// or networks, rather than matched only through a record it named.
func (in Incident) acted(e *Entry) bool {
	return in.All || e.Actor.Valid && slices.Contains(in.Actors, e.Actor.UUID) ||
		e.Session.Valid && slices.Contains(in.Sessions, e.Session.UUID) ||
		e.Credential.Valid && slices.Contains(in.Credentials, e.Credential.UUID)
}
