package records

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Bounds of a breach scope (docs/breach.md).
const (
	// MaxIncidentIDs is the most ids (or networks) one selector lists.
	MaxIncidentIDs = 1000
	// MaxIncidentWindow is the longest window a scope reads: the six years
	// HIPAA keeps its documentation (§164.316(b)(2)).
	MaxIncidentWindow = 6 * 366 * 24 * time.Hour
	// MaxIncidentEvents is the most matching events one scope reads; a
	// larger incident is scoped window by window.
	MaxIncidentEvents = 2_000_000
	// MaxTimeline is the most events a scope's answer lists (the first, in
	// log order); the counts and the individuals cover every match.
	MaxTimeline = 5000
	// MaxAffected is the most individuals one scope names.
	MaxAffected = 200_000
	// The notification rule's numbers (§164.404(b), §164.406, §164.408).
	noticeDays     = 60
	mediaThreshold = 500 // more than this many residents of a State
	hhsThreshold   = 500 // this many or more individuals
)

// Incident is what an admin knows of a breach: its window, when it was
// discovered, and what it involved (see audit.Incident for the selectors).
type Incident struct {
	audit.Incident
	// Discovered is the day the breach was discovered (§164.404(a)(2)),
	// from which the notices are due; zero means now.
	Discovered time.Time
}

// Validate checks in; its errors name fields, never values.
func (in *Incident) Validate(now time.Time) error {
	bad := func(format string, a ...any) error { return errkind.Visiblef(ErrInvalidInput, format, a...) }
	switch {
	case in.From.IsZero() || in.To.IsZero():
		return bad("from and to are required: the window the incident may span")
	case !in.From.Before(in.To):
		return bad("from must be before to")
	case in.To.Sub(in.From) > MaxIncidentWindow:
		return bad("the window spans at most six years; scope a longer incident window by window")
	case in.From.After(now):
		return bad("from is in the future")
	case !in.Incident.Selective():
		return bad("name what the incident involved (actors, sessions, credentials, networks, patients, cases, objects) or all")
	}
	if in.Discovered.IsZero() {
		in.Discovered = now.UTC()
	}
	if in.Discovered.After(now.Add(time.Minute)) {
		return bad("discovered is in the future")
	}
	for name, n := range map[string]int{"actors": len(in.Actors), "sessions": len(in.Sessions),
		"credentials": len(in.Credentials), "patients": len(in.Patients), "cases": len(in.Cases),
		"objects": len(in.Objects), "networks": len(in.Networks)} {
		if n > MaxIncidentIDs {
			return bad("%s lists at most %d entries", name, MaxIncidentIDs)
		}
	}
	for i, n := range in.Networks {
		if !n.IsValid() {
			return bad("networks[%d] is not an address or CIDR prefix", i)
		}
		in.Networks[i] = audit.NormalizeNetwork(n)
	}
	return nil
}

// BreachScope is what an incident touched, as the audit log recorded it,
// and when its notices are due.
type BreachScope struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Discovered time.Time `json:"discovered"`
	// Events counts the matching events; Timeline lists the first
	// MaxTimeline of them in log order (TimelineTruncated: there are more).
	Events            int           `json:"events"`
	Timeline          []audit.Entry `json:"timeline"`
	TimelineTruncated bool          `json:"timeline_truncated"`
	// Changes are what the incident's actors, sessions, credentials or
	// networks configured (members, credentials, factors, SSO, policies,
	// sinks, holds, ...), by kind, however deep in the timeline: ids and
	// action names (audit.Changes).
	Changes audit.Changes `json:"changes"`
	// Individuals are the patients whose records a matching event used
	// (a success of a PHI action: read, listed, changed, exported,
	// disclosed, sent to the gateway), through the event's patient, its
	// results, or its case or document's patient.
	Individuals []Affected `json:"individuals"`
	// States counts the individuals by the State of their address.
	States []StateCount `json:"states"`
	// CasesWithoutPatient are cases a matching event used that name no
	// patient record: their subjects are found by reading the case.
	CasesWithoutPatient []uuid.UUID `json:"cases_without_patient"`
	// Unattributed counts matching PHI events that name no patient, case
	// or document (an audit export, a gateway call naming no patient):
	// what they exposed is read from each event's details.
	Unattributed int     `json:"unattributed_phi_events"`
	Notices      Notices `json:"notices"`
}

// Affected is one individual an incident touched.
type Affected struct {
	Patient uuid.UUID `json:"patient_id"`
	// State is the two-letter USPS code of the State (or district or
	// territory) the patient's address names; "unknown" when it names none.
	State string `json:"state"`
	// Actions are the PHI actions that used the record, sorted.
	Actions []string `json:"actions"`
	// Listed is true when a list or search returned the record.
	Listed bool      `json:"listed"`
	Events int       `json:"events"`
	First  time.Time `json:"first_at"`
	Last   time.Time `json:"last_at"`
}

// StateCount is how many individuals one State's residents are.
type StateCount struct {
	State       string `json:"state"`
	Individuals int    `json:"individuals"`
	// MediaNotice is true when they are more than 500 (§164.406).
	MediaNotice bool `json:"media_notice"`
}

// Notices are the HIPAA Breach Notification Rule's deadlines for the
// scope, as dates (counted in the offset of Discovered): each notice is due "without unreasonable delay"
// and at the latest on the date given.
type Notices struct {
	// Individuals: 60 days after discovery (§164.404(b)).
	IndividualsBy string `json:"individuals_by"`
	// HHS: with the individuals' notices when 500 or more are affected,
	// else in the annual log, 60 days after the end of the calendar year
	// of discovery (§164.408(b), (c)).
	HHSBy     string `json:"hhs_by"`
	HHSAnnual bool   `json:"hhs_annual_log"`
	// Media: for each State with more than 500 affected residents, 60
	// days after discovery (§164.406(b)).
	MediaStates []string `json:"media_states"`
	MediaBy     string   `json:"media_by,omitempty"`
	// UnknownStates counts individuals whose State the address does not
	// say: they may change the media notices.
	UnknownStates int `json:"unknown_states"`
}

// ScopeBreach reads what an incident touched from the org's audit log and
// the records it names, and the notices' deadlines (admins). The read is
// audited as breach.scope with the affected patients as its results, so it
// is in each one's access report. Errors: ErrInvalidInput, ErrForbidden
// (audited).
func (s *Service) ScopeBreach(ctx context.Context, in Incident) (BreachScope, error) {
	c, err := begin(ctx)
	if err != nil {
		return BreachScope{}, err
	}
	if err := in.Validate(time.Now()); err != nil {
		return BreachScope{}, err
	}
	if c.p.Role != identity.RoleAdmin {
		return BreachScope{}, s.denied(ctx, c, c.event("breach.scope", "", uuid.Nil), ErrForbidden)
	}
	// The freshest events too: sequence what is pending first, in a short
	// transaction of its own, as the log's reads do.
	if err := s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.Integrate(ctx, tx, c.p.OrgID)
		return err
	}); err != nil {
		return BreachScope{}, mapErr("scope breach", err)
	}
	out := BreachScope{From: in.From.UTC(), To: in.To.UTC(), Discovered: in.Discovered.UTC(),
		Timeline: []audit.Entry{}, CasesWithoutPatient: []uuid.UUID{}, Changes: audit.Changes{Groups: []audit.ChangeList{}}}
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		// What the events used, per person: a patient, or a case or a
		// document standing for its case's patient (owners, looked up
		// batch by batch and kept). Each event counts once per person,
		// however many of its ids reach them. Memory grows with the ids,
		// not with the events.
		people := map[uuid.UUID]*Affected{}
		owners := map[uuid.UUID]owner{}
		orphans := map[uuid.UUID]bool{} // cases that name no patient
		type use struct {
			id     uuid.UUID
			listed bool // among the results
			self   bool // the event's patient: no lookup
		}
		type pending struct {
			e    *audit.Entry
			uses []use
		}
		var events []pending
		var lookup []uuid.UUID
		asked := map[uuid.UUID]bool{} // the batch's lookup
		once := map[uuid.UUID]bool{}  // one event's people: listed or not
		err := audit.ScanIncidentBatches(ctx, tx, c.p.OrgID, in.Incident, func(batch []audit.Entry) error {
			events, lookup = events[:0], lookup[:0]
			clear(asked)
			for i := range batch {
				e := &batch[i]
				out.Events++
				if out.Events > MaxIncidentEvents {
					return errkind.Visiblef(ErrInvalidInput, "over %d events match: scope the incident in shorter windows",
						MaxIncidentEvents)
				}
				if len(out.Timeline) < MaxTimeline {
					out.Timeline = append(out.Timeline, *e)
				} else {
					out.TimelineTruncated = true
				}
				out.Changes.Add(in.Incident, e)
				act, ok := audit.Actions[e.Action]
				// document.purge is the retention job's deletion (actor_kind
				// system): it names the admin who last set the policy, who
				// neither ran it nor saw the document, so a scope by that
				// admin's account counts nobody for it (it stays in the
				// timeline).
				if !ok || !act.PHIAccess || e.Outcome != audit.OutcomeSuccess || e.Action == "breach.scope" ||
					(e.Action == "document.purge" && e.ActorKind == "system") {
					continue
				}
				// Ids are random: an id among the results is a patient's
				// only if a patient has it, which the records' read below
				// decides; cases and documents likewise.
				var uses []use
				if e.Patient.Valid {
					uses = append(uses, use{id: e.Patient.UUID, self: true})
				}
				for _, id := range e.Results {
					uses = append(uses, use{id: id, listed: true})
				}
				if e.Case.Valid && !e.Patient.Valid {
					uses = append(uses, use{id: e.Case.UUID})
				}
				if e.ObjectType == "document" && e.ObjectID.Valid && !e.Patient.Valid && !e.Case.Valid {
					uses = append(uses, use{id: e.ObjectID.UUID})
				}
				if len(uses) == 0 {
					out.Unattributed++
					continue
				}
				for _, u := range uses {
					if _, known := owners[u.id]; !known && !u.self && !asked[u.id] {
						asked[u.id] = true
						lookup = append(lookup, u.id)
					}
				}
				events = append(events, pending{e, uses})
			}
			// Cases and documents stand for their case's patient; any
			// other id for itself.
			found, err := caseOwners(ctx, tx, c.p.OrgID, lookup)
			if err != nil {
				return err
			}
			for _, id := range lookup {
				o, ok := found[id]
				o.other = !ok
				owners[id] = o
			}
			for _, p := range events {
				clear(once)
				for _, u := range p.uses {
					person := u.id
					if o := owners[u.id]; !u.self && !o.other {
						if !o.patient.Valid {
							if o.isCase {
								orphans[u.id] = true
							}
							continue
						}
						person = o.patient.UUID
					}
					once[person] = once[person] || u.listed
				}
				for person, listed := range once {
					fold(people, person, p.e, listed)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := out.Changes.ScanUnaddressed(ctx, tx, c.p.OrgID, in.Incident); err != nil {
			return err
		}
		for id := range orphans {
			out.CasesWithoutPatient = append(out.CasesWithoutPatient, id)
		}
		// What is left names patients or nothing of this org: the read
		// keeps the patients, with their addresses' States.
		ids := make([]uuid.UUID, 0, len(people))
		for id := range people {
			ids = append(ids, id)
		}
		states, err := patientStates(ctx, tx, c.p.OrgID, ids, k)
		if err != nil {
			return err
		}
		if len(states) > MaxAffected {
			return errkind.Visiblef(ErrInvalidInput, "over %d individuals: scope the incident in shorter windows", MaxAffected)
		}
		out.Individuals = make([]Affected, 0, len(states))
		results := make([]uuid.UUID, 0, len(states))
		for id, st := range states {
			a := people[id]
			a.State = st
			slices.Sort(a.Actions)
			out.Individuals = append(out.Individuals, *a)
			results = append(results, id)
		}
		slices.SortFunc(out.Individuals, func(a, b Affected) int {
			if c := a.First.Compare(b.First); c != 0 {
				return c
			}
			return slices.Compare(a.Patient[:], b.Patient[:])
		})
		slices.SortFunc(results, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		slices.SortFunc(out.CasesWithoutPatient, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		out.States, out.Notices = notices(out.Individuals, in.Discovered)

		e := c.event("breach.scope", "", uuid.Nil)
		e.Results = results
		e.Details = map[string]any{"from": out.From.Format(time.RFC3339Nano), "to": out.To.Format(time.RFC3339Nano),
			"discovered": out.Discovered.Format(time.RFC3339Nano), "events": out.Events,
			"individuals": len(out.Individuals), "all": in.All, "actors": len(in.Actors), "sessions": len(in.Sessions),
			"credentials": len(in.Credentials), "networks": len(in.Networks), "patients": len(in.Patients),
			"cases": len(in.Cases), "objects": len(in.Objects)}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err != nil {
		return BreachScope{}, mapErr("scope breach", err)
	}
	return out, nil
}

// fold counts e, which used person's record (listed: among its results),
// in people.
func fold(people map[uuid.UUID]*Affected, person uuid.UUID, e *audit.Entry, listed bool) {
	a := people[person]
	if a == nil {
		a = &Affected{Patient: person, First: e.At, Last: e.At}
		people[person] = a
	}
	if !slices.Contains(a.Actions, e.Action) {
		a.Actions = append(a.Actions, e.Action)
	}
	a.Listed = a.Listed || listed
	a.Events++
	if e.At.Before(a.First) {
		a.First = e.At
	}
	if e.At.After(a.Last) {
		a.Last = e.At
	}
}

// owner is what an id stands for: a case's or a document's patient
// (none when the case names none), or itself (other).
type owner struct {
	patient uuid.NullUUID
	isCase  bool
	other   bool
}

// caseOwners maps each id of ids that is a case or a (live) document of
// org to its case's patient. Row-level security lets leads and admins read
// every case and document of their org.
func caseOwners(ctx context.Context, tx pgx.Tx, org uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]owner, error) {
	out := map[uuid.UUID]owner{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `select c.id, c.patient_id, true from app.cases c where c.org_id = $1 and c.id = any ($2)
		union all
		select d.id, c.patient_id, false from app.documents d join app.cases c on c.org_id = d.org_id and c.id = d.case_id
		 where d.org_id = $1 and d.id = any ($2)`, org, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var o owner
		if err := rows.Scan(&id, &o.patient, &o.isCase); err != nil {
			return nil, err
		}
		out[id] = o
	}
	return out, rows.Err()
}

// patientStates returns, for each id of ids that is a patient of org, the
// State its address names ("unknown" when none); past MaxAffected
// patients it stops (with MaxAffected+1 of them).
func patientStates(ctx context.Context, tx pgx.Tx, org uuid.UUID, ids []uuid.UUID, k *envelope.OrgKeys) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `select * from app.patients where org_id = $1 and id = any ($2)`, org, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// One row at a time, and no further than MaxAffected: the caller
	// refuses a larger scope, so its records are never all in memory.
	for rows.Next() {
		if len(out) > MaxAffected {
			return out, nil
		}
		r, err := pgx.RowToStructByName[dbsqlc.AppPatient](rows)
		if err != nil {
			return nil, err
		}
		p, err := fromRow(r, k)
		if errors.Is(err, ErrShredded) {
			out[r.ID] = "unknown" // shredded: no address is left to read
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("records: open patient %s: %w", r.ID, err)
		}
		st := USState(p.Address)
		if st == "" {
			st = "unknown"
		}
		out[r.ID] = st
	}
	return out, rows.Err()
}

// notices counts individuals by State and dates the notices. The days
// count from the calendar day of discovery where it was discovered: in
// the offset discovered carries (UTC when the caller gave none), so that a
// breach found late on 31 December in New York is in that year's annual
// log and due 60 days after that day, not after the next UTC day.
func notices(people []Affected, discovered time.Time) ([]StateCount, Notices) {
	by := map[string]int{}
	for _, a := range people {
		by[a.State]++
	}
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	d := discovered
	n := Notices{IndividualsBy: day(d.AddDate(0, 0, noticeDays)), MediaStates: []string{}, UnknownStates: by["unknown"]}
	if len(people) >= hhsThreshold {
		n.HHSBy = n.IndividualsBy
	} else {
		n.HHSAnnual = true
		endOfYear := time.Date(d.Year(), time.December, 31, 0, 0, 0, 0, d.Location())
		n.HHSBy = day(endOfYear.AddDate(0, 0, noticeDays))
	}
	states := make([]StateCount, 0, len(by))
	for st, count := range by {
		media := st != "unknown" && count > mediaThreshold
		states = append(states, StateCount{State: st, Individuals: count, MediaNotice: media})
		if media {
			n.MediaStates = append(n.MediaStates, st)
		}
	}
	slices.SortFunc(states, func(a, b StateCount) int {
		if a.Individuals != b.Individuals {
			return b.Individuals - a.Individuals
		}
		if a.State < b.State {
			return -1
		}
		if a.State > b.State {
			return 1
		}
		return 0
	})
	slices.Sort(n.MediaStates)
	if len(n.MediaStates) > 0 {
		n.MediaBy = n.IndividualsBy
	}
	return states, n
}

// Revocation names the credentials an incident compromised.
type Revocation struct {
	Sessions   []uuid.UUID `json:"sessions"`
	Users      []uuid.UUID `json:"users"`
	APIKeys    []uuid.UUID `json:"api_keys"`
	SCIMTokens []uuid.UUID `json:"scim_tokens"`
}

// Revoked counts what a revocation ended.
type Revoked struct {
	Sessions   int `json:"sessions"`
	APIKeys    int `json:"api_keys"`
	SCIMTokens int `json:"scim_tokens"`
	// CaseInvites counts the pending case invitations of the users named
	// that it revoked.
	CaseInvites int `json:"case_invites"`
	// SignInLinks counts the unspent sign-in links of the users named that
	// it ended (migration 00244).
	SignInLinks int `json:"sign_in_links"`
}

// RevokeBreach ends, in one transaction, the org's live sessions named or
// of the users named, its API keys named or created by those users, its
// SCIM tokens named, the pending case invitations those users created and
// their unspent sign-in links (app.breach_revoke: an admin's session that stepped up;
// one breach.revoke event). Errors: ErrInvalidInput, ErrForbidden, or the
// database's refusal (postgres.ErrStepUpRequired, ErrBreakGlassNotAllowed).
func (s *Service) RevokeBreach(ctx context.Context, r Revocation) (Revoked, error) {
	c, err := begin(ctx)
	if err != nil {
		return Revoked{}, err
	}
	if len(r.Sessions)+len(r.Users)+len(r.APIKeys)+len(r.SCIMTokens) == 0 {
		return Revoked{}, errkind.Visible(ErrInvalidInput, "name the sessions, users, api_keys or scim_tokens to revoke")
	}
	for name, ids := range map[string][]uuid.UUID{"sessions": r.Sessions, "users": r.Users, "api_keys": r.APIKeys,
		"scim_tokens": r.SCIMTokens} {
		if len(ids) > MaxIncidentIDs {
			return Revoked{}, errkind.Visiblef(ErrInvalidInput, "%s lists at most %d ids", name, MaxIncidentIDs)
		}
	}
	var out Revoked
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select sessions, api_keys, scim_tokens, case_invites, sign_in_links
			   from app.breach_revoke($1, $2, $3, $4, $5)`,
			nonNil(r.Sessions), nonNil(r.Users), nonNil(r.APIKeys), nonNil(r.SCIMTokens), c.req.ID).
			Scan(&out.Sessions, &out.APIKeys, &out.SCIMTokens, &out.CaseInvites, &out.SignInLinks)
	})
	if r := postgres.Refusal(err); r != nil {
		return Revoked{}, r
	}
	if postgres.IsCode(err, postgres.CodeInvalidParameter) {
		return Revoked{}, errkind.Visiblef(ErrInvalidInput, "each list holds at most %d ids", MaxIncidentIDs)
	}
	return out, mapErr("revoke breach", err)
}

func nonNil(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}
