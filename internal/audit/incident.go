package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
// order, in one query. Row-level security decides what q's credential sees
// (an admin: the org's whole log). A network matches the request's address
// as the event recorded it (an IPv4-mapped IPv6 address as the IPv4
// address); an event without one matches no network. fn must not keep e
// past its return, nor query q (its rows are open): ScanIncidentBatches
// lets it.
func ScanIncident(ctx context.Context, q Querier, org uuid.UUID, in Incident, fn func(e *Entry) error) error {
	query, args := incidentQuery(org, in)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
	}
	defer rows.Close()
	var e Entry
	for rows.Next() {
		keep, err := scanIncidentRow(rows, in, &e)
		if err != nil {
			return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
		}
		if !keep {
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

// incidentBatch is how many events ScanIncidentBatches hands fn at a time.
const incidentBatch = 1000

// ScanIncidentBatches is ScanIncident through a cursor of tx: it hands fn
// the events in batches of at most incidentBatch, and no rows are open
// while fn runs, so fn may query tx itself. fn may keep copies of the
// entries, not the batch, which the next one reuses.
func ScanIncidentBatches(ctx context.Context, tx pgx.Tx, org uuid.UUID, in Incident, fn func(batch []Entry) error) error {
	query, args := incidentQuery(org, in)
	if _, err := tx.Exec(ctx, `declare incident_scan no scroll cursor for `+query, args...); err != nil {
		return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
	}
	batch := make([]Entry, 0, incidentBatch)
	for {
		batch = batch[:0]
		rows, err := tx.Query(ctx, `fetch forward `+strconv.Itoa(incidentBatch)+` from incident_scan`)
		if err != nil {
			return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
		}
		n := 0
		for rows.Next() {
			n++
			var e Entry
			keep, err := scanIncidentRow(rows, in, &e)
			if err != nil {
				rows.Close()
				return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
			}
			if keep {
				batch = append(batch, e)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
		}
		if n < incidentBatch {
			break
		}
	}
	if _, err := tx.Exec(ctx, `close incident_scan`); err != nil {
		return fmt.Errorf("audit: scan incident of org %s: %w", org, err)
	}
	return nil
}

// scanIncidentRow reads one row of incidentQuery into e, and reports
// whether the incident keeps it: the query's network match is a superset
// (see incidentQuery), the exact one is here.
func scanIncidentRow(rows pgx.Rows, in Incident, e *Entry) (bool, error) {
	var (
		objectType, request, ip, ua, credKind, device *string
		details, disclosure                           []byte
		named                                         bool
	)
	*e = Entry{}
	if err := rows.Scan(&e.Seq, &e.At, &e.Action, &e.Outcome, &e.Actor, &e.ActorKind, &e.Session, &objectType,
		&e.ObjectID, &e.Patient, &e.Results, &request, &ip, &ua, &details, &credKind, &e.Credential, &device,
		&e.Case, &disclosure, &e.BreakGlass, &named); err != nil {
		return false, err
	}
	e.ObjectType, e.Request, e.IP, e.UserAgent = deref(objectType), deref(request), deref(ip), deref(ua)
	e.CredentialKind, e.Device = deref(credKind), deref(device)
	e.Details, e.Disclosure = json.RawMessage(details), json.RawMessage(disclosure)
	if e.Results == nil {
		e.Results = []uuid.UUID{}
	}
	return named || inNetworks(e.IP, in.Networks), nil
}

// The forms of an IPv6 address that PostgreSQL's inet reads for sure (and
// the forms Go's netip and PostgreSQL's host() write): an IPv4-mapped one,
// eight groups, or groups around one "::" (with at most seven colons, so
// at most seven groups).
const (
	ipv4Octet  = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	ipv6Group  = `[0-9a-fA-F]{1,4}`
	inetPlain  = `^(::[fF]{4}:` + ipv4Octet + `(\.` + ipv4Octet + `){3}|` + ipv6Group + `(:` + ipv6Group + `){7})$`
	inetElided = `^(` + ipv6Group + `(:` + ipv6Group + `)*)?::(` + ipv6Group + `(:` + ipv6Group + `)*)?$`
)

// incidentColumns are the columns scanIncidentRow reads, but the last.
const incidentColumns = `seq::bigint, at, action, outcome, actor_id, actor_kind, session_id, object_type,
		  object_id, patient_id, array_remove(result_ids, null)::uuid[], request_id, ip, user_agent, details,
		  credential_kind, credential_id, device, case_id, disclosure, break_glass`

// incidentQuery is ScanIncident's query and its arguments. Its last
// column says whether a selector other than a network matched (false, not
// NULL, when an event's actor, session, patient or case is empty).
//
// The addresses are text as the request recorded them, and a cast of a
// malformed one would fail the whole scan, so the query matches networks
// in two cheap ways that together return every event ScanIncident's exact
// match keeps, and few others. An IPv4 address (no colon) is matched by
// text: a dotted address in a network starts with the network's whole
// octets (10.1.2.3 is like "10.%" for 10.0.0.0/8, and like "10.1.%" for
// 10.1.0.0/20), since netip reads no other spelling of it. An address with a
// colon (IPv6, or IPv4-mapped) is cast, if it is of a form inetPlain or
// inetElided admits, and matched with inet containment against the
// networks (each IPv4 network also as its IPv4-mapped IPv6 prefix); one of
// another form is handed on. The regular expressions cost more than the
// rest, so only addresses with a colon meet them.
func incidentQuery(org uuid.UUID, in Incident) (string, []any) {
	none := []uuid.UUID{}
	or := func(ids []uuid.UUID) []uuid.UUID {
		if ids == nil {
			return none
		}
		return ids
	}
	nets := make([]netip.Prefix, 0, 2*len(in.Networks))
	texts := []string{}
	for _, n := range in.Networks {
		n = n.Masked()
		nets = append(nets, n)
		if n.Addr().Is6() && n.Bits() <= 96 && n.Contains(netip.AddrFrom16(netip.IPv4Unspecified().As16())) {
			// An IPv6 network that holds every IPv4-mapped address
			// (::/0, ::ffff:0:0/80) holds every IPv4 address.
			n = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
		if !n.Addr().Is4() {
			continue
		}
		nets = append(nets, netip.PrefixFrom(netip.AddrFrom16(n.Addr().As16()), n.Bits()+96).Masked())
		text := n.Addr().String()
		if n.Bits() < 32 {
			octets := strings.Split(text, ".")[:n.Bits()/8]
			text = strings.Join(append(octets, "%"), ".")
			if len(octets) == 0 {
				text = "%"
			}
		}
		if !slices.Contains(texts, text) {
			texts = append(texts, text)
		}
	}
	return `select ` + incidentColumns + `,
		  coalesce($4 or actor_id = any ($5) or session_id = any ($6) or credential_id = any ($7)
		   or patient_id = any ($8) or result_ids && $8 or case_id = any ($9)
		   or object_id = any ($10) or result_ids && $10 or case_id = any ($10), false) as named
		from audit.log
		where org_id = $1 and at >= $2 and at < $3
		  and ($4 or actor_id = any ($5) or session_id = any ($6) or credential_id = any ($7)
		   or patient_id = any ($8) or result_ids && $8 or case_id = any ($9)
		   or object_id = any ($10) or result_ids && $10 or case_id = any ($10)
		   or ip like any ($12::text[])
		   or (cardinality($11::inet[]) > 0 and strpos(ip, ':') > 0 and case
		     when ip ~ '` + inetPlain + `'
		       or ip ~ '` + inetElided + `' and length(ip) - length(replace(ip, ':', '')) <= 7
		     then ip::inet <<= any ($11::inet[])
		     else true end))
		order by seq`,
		[]any{org, in.From, in.To, in.All, or(in.Actors), or(in.Sessions), or(in.Credentials), or(in.Patients),
			or(in.Cases), or(in.Objects), nets, texts}
}

// NormalizeNetwork is a network as the incident matches it: masked, and an
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) as the IPv4 network it
// maps, since events record IPv4 clients as IPv4. A shorter IPv6 prefix
// stays IPv6, and the match takes it to hold every IPv4 address when it
// holds ::ffff:0:0/96 (::/0, ::ffff:0:0/80).
func NormalizeNetwork(n netip.Prefix) netip.Prefix {
	if n.Addr().Is4In6() && n.Bits() >= 96 {
		n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
	}
	return n.Masked()
}

// inNetworks reports whether ip, as an event recorded it, is in one of
// nets. An address that does not parse is in none. A zone (fe80::1%eth0,
// a client that reached the server over a link-local address) names the
// server's interface, not the client: the address is matched without it
// (netip's Contains holds no zoned address).
func inNetworks(ip string, nets []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.WithZone("").Unmap()
	// An IPv4 address is also its IPv4-mapped IPv6 address, in an IPv6
	// network shorter than /96 that holds ::ffff:0:0/96 (::/0,
	// ::ffff:0:0/80): NormalizeNetwork leaves those as they are.
	mapped := netip.AddrFrom16(a.As16())
	for _, n := range nets {
		if n.Contains(a) || a.Is4() && n.Addr().Is6() && n.Contains(mapped) {
			return true
		}
	}
	return false
}
