package audit_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

// Every registered action is a use of PHI (the scope's individuals) or is
// named by a rule of the changes' table, as a change of some group or as
// no change: a new action fails here until it is placed, rather than
// falling silently out of a breach scope's changes. Every rule names a
// registered action, and the kinds an incident responder looks for land
// in their groups.
func TestChangeRulesCoverRegistry(t *testing.T) {
	for name, a := range audit.Actions {
		group, change := audit.ChangeGroup(name)
		switch {
		case a.PHIAccess:
			if change {
				t.Errorf("%s: a use of PHI is in group %q; it belongs to the individuals", name, group)
			}
		case !audit.ChangeRuleNamed(name):
			t.Errorf("%s: no rule in changeRules names it: give it a group, %q, or \"\" (no change)", name, audit.ChangeOther)
		case change && !slices.Contains(audit.ChangeGroups, group):
			t.Errorf("%s: group %q is not in ChangeGroups", name, group)
		}
	}
	for _, p := range audit.ChangeRulePatterns() {
		used := false
		for name := range audit.Actions {
			used = used || audit.ChangeRuleMatches(p, name)
		}
		if !used {
			t.Errorf("rule %q names no registered action", p)
		}
	}
	for action, want := range map[string]string{
		"membership.add": audit.ChangeMembers, "membership.update": audit.ChangeMembers,
		"scim.user.role": audit.ChangeMembers, "sso.jit.create": audit.ChangeMembers,
		"auth.api_key.create": audit.ChangeCredentials, "scim.token.create": audit.ChangeCredentials,
		"session.revoke": audit.ChangeCredentials,
		"auth.mfa.enrol": audit.ChangeFactors, "auth.passkey.register": audit.ChangeFactors,
		"auth.recovery_codes.generate": audit.ChangeFactors,
		"sso.connection.create":        audit.ChangeSSO, "sso.domain.claim": audit.ChangeSSO,
		"org.session_policy.update": audit.ChangePolicies, "org.assurance_policy.update": audit.ChangePolicies,
		"org.risk_policy.update": audit.ChangePolicies, "org.device_binding_policy.update": audit.ChangePolicies,
		"sso.policy.update": audit.ChangePolicies, "org.gateway_policy.update": audit.ChangePolicies,
		"org.retention_policy.update": audit.ChangePolicies,
		"org.break_glass.designate":   audit.ChangeBreakGlass, "auth.break_glass.activate": audit.ChangeBreakGlass,
		"audit.sink.create": audit.ChangeSinks, "legal_hold.release": audit.ChangeHolds,
		"gateway.provider.register": audit.ChangeGateway, "keys.rotate": audit.ChangeKeys,
		"case.invite.create": audit.ChangeCaseAccess, "case.member.set": audit.ChangeCaseAccess,
		"care_team.assign": audit.ChangeCareTeams, "dsr.open": audit.ChangeRequests,
		"document.remind": audit.ChangeOther,
		"made.up.action":  audit.ChangeOther, // not registered: listed rather than lost
	} {
		if got, ok := audit.ChangeGroup(action); !ok || got != want {
			t.Errorf("%s: group %q (a change: %v), want %q", action, got, ok, want)
		}
	}
	for _, action := range []string{"api_key.list", "org.session_policy.read", "audit.read", "auth.signin",
		"auth.mfa.verify", "request.denied", "scim.group.mappings", "patient.read", "patient.update",
		"document.upload", "breach.scope", "member.list"} {
		if group, ok := audit.ChangeGroup(action); ok {
			t.Errorf("%s: a change of %q, want none", action, group)
		}
	}
}

// Changes lists the successful changes the incident's actors, sessions,
// credentials or networks made, grouped in ChangeGroups' order and in log
// order within a group; not a refusal, a read, or a change matched only
// through a record the incident names; past MaxChanges it counts and
// flags them.
func TestChangesAdd(t *testing.T) {
	actor, session, other, key := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	id := func(u uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: u, Valid: true} }
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	in := audit.Incident{Actors: []uuid.UUID{actor}, Sessions: []uuid.UUID{session},
		Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, Objects: []uuid.UUID{key}}
	var c audit.Changes
	for i, e := range []audit.Entry{
		{Action: "org.session_policy.update", Actor: id(actor)},                                    // policies
		{Action: "auth.api_key.create", Actor: id(other), Session: id(session), ObjectID: id(key)}, // by the session
		{Action: "membership.add", Actor: id(other), IP: "203.0.113.9", ObjectID: id(other)},       // by the network
		{Action: "patient.read", Actor: id(actor)},                                                 // PHI
		{Action: "api_key.list", Actor: id(actor)},                                                 // a read
		{Action: "membership.revoke", Actor: id(actor), Outcome: audit.OutcomeDenied},              // refused
		{Action: "auth.api_key.revoke", Actor: id(other), ObjectID: id(key)},                       // matched by the key only
		{Action: "scim.token.create", Actor: id(actor), ObjectID: id(other)},                       // credentials, after the key
	} {
		e.Seq, e.At = int64(i+1), at.Add(time.Duration(i)*time.Second)
		if e.Outcome == "" {
			e.Outcome = audit.OutcomeSuccess
		}
		c.Add(in, &e)
	}
	var got []string
	var seqs []int64
	for _, l := range c.Groups {
		for _, ch := range l.Changes {
			got = append(got, l.Group+" "+ch.Action)
			seqs = append(seqs, ch.Seq)
		}
	}
	want := []string{"members membership.add", "credentials auth.api_key.create", "credentials scim.token.create",
		"policies org.session_policy.update"}
	if !slices.Equal(got, want) || !slices.Equal(seqs, []int64{3, 2, 8, 1}) || c.Count != 4 || c.Truncated {
		t.Errorf("changes %v (seqs %v, count %d, truncated %v), want %v", got, seqs, c.Count, c.Truncated, want)
	}
	if keys := c.Created("auth.api_key.create"); !slices.Equal(keys, []uuid.UUID{key}) {
		t.Errorf("created keys %v, want %v", keys, key)
	}
	if c.Listed() != 4 {
		t.Errorf("listed %d", c.Listed())
	}

	// Past the cap: counted, flagged, not listed.
	var many audit.Changes
	for i := range audit.MaxChanges + 5 {
		many.Add(audit.Incident{All: true}, &audit.Entry{Seq: int64(i), Action: "membership.update", Outcome: audit.OutcomeSuccess})
	}
	if many.Count != audit.MaxChanges+5 || !many.Truncated || many.Listed() != audit.MaxChanges {
		t.Errorf("over the cap: count %d, listed %d, truncated %v", many.Count, many.Listed(), many.Truncated)
	}
}
