package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
)

// Incident selects the events of a breach investigation (DESIGN §8): the
// events of a time window that match any of its selectors: an actor, a
// session, a credential (a session, an API key, a SCIM token or an
// invitation, by id), a network the request came from, or an object (a
// patient, a case, or any other id, also among a list's results). All
// selects every event of the window.
type Incident struct {
	// From and To bound the event time, From <= at < To.
	From, To                      time.Time
	All                           bool
	Actors, Sessions, Credentials []uuid.UUID
	Patients, Cases, Objects      []uuid.UUID
	Networks                      []netip.Prefix
}

// Selective reports whether in names at least one selector.
func (in Incident) Selective() bool {
	return in.All || len(in.Actors)+len(in.Sessions)+len(in.Credentials)+len(in.Patients)+len(in.Cases)+
		len(in.Objects)+len(in.Networks) > 0
}

// ScanIncident streams org's sequenced events that in selects to fn, in log
// order. Row-level security decides what q's credential sees (an admin:
// the org's whole log). A network matches the request's address as the
// event recorded it; an event without one matches no network. fn must not
// keep e past its return.
func ScanIncident(ctx context.Context, q Querier, org uuid.UUID, in Incident, fn func(e *Entry) error) error {
	none := []uuid.UUID{}
	or := func(ids []uuid.UUID) []uuid.UUID {
		if ids == nil {
			return none
		}
		return ids
	}
	// The addresses are matched here, not in SQL: the column is text as
	// the request recorded it, and a cast of a malformed one would fail
	// the whole scan. The query passes every event with an address when a
	// network is named and says whether another selector matched (false,
	// not NULL, when an event's actor, session, patient or case is empty).
	rows, err := q.Query(ctx, `select seq::bigint, at, action, outcome, actor_id, actor_kind, session_id, object_type,
		  object_id, patient_id, array_remove(result_ids, null)::uuid[], request_id, ip, user_agent, details,
		  credential_kind, credential_id, device, case_id, disclosure, break_glass,
		  coalesce($4 or actor_id = any ($5) or session_id = any ($6) or credential_id = any ($7)
		   or patient_id = any ($8) or result_ids && $8 or case_id = any ($9)
		   or object_id = any ($10) or result_ids && $10 or case_id = any ($10), false) as named
		from audit.log
		where org_id = $1 and at >= $2 and at < $3
		  and ($4 or actor_id = any ($5) or session_id = any ($6) or credential_id = any ($7)
		   or patient_id = any ($8) or result_ids && $8 or case_id = any ($9)
		   or object_id = any ($10) or result_ids && $10 or case_id = any ($10)
		   or ($11 and coalesce(ip, '') <> ''))
		order by seq`,
		org, in.From, in.To, in.All, or(in.Actors), or(in.Sessions), or(in.Credentials), or(in.Patients),
		or(in.Cases), or(in.Objects), len(in.Networks) > 0)
	if err != nil {
		return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
	}
	defer rows.Close()
	var e Entry
	for rows.Next() {
		var (
			objectType, request, ip, ua, credKind, device *string
			details, disclosure                           []byte
			named                                         bool
		)
		e = Entry{}
		if err := rows.Scan(&e.Seq, &e.At, &e.Action, &e.Outcome, &e.Actor, &e.ActorKind, &e.Session, &objectType,
			&e.ObjectID, &e.Patient, &e.Results, &request, &ip, &ua, &details, &credKind, &e.Credential, &device,
			&e.Case, &disclosure, &e.BreakGlass, &named); err != nil {
			return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
		}
		e.ObjectType, e.Request, e.IP, e.UserAgent = deref(objectType), deref(request), deref(ip), deref(ua)
		e.CredentialKind, e.Device = deref(credKind), deref(device)
		e.Details, e.Disclosure = json.RawMessage(details), json.RawMessage(disclosure)
		if e.Results == nil {
			e.Results = []uuid.UUID{}
		}
		if !named && !inNetworks(e.IP, in.Networks) {
			continue
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
	}
	return nil
}

// inNetworks reports whether ip, as an event recorded it, is in one of
// nets. An address that does not parse is in none.
func inNetworks(ip string, nets []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
