package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
)

const breachUsage = `usage: ward breach scope|revoke [flags]

  scope   what an incident touched in every org (or the orgs named), from the audit logs
  revoke  end an incident's sessions and credentials in every org, in one transaction

Run 'ward breach scope --help' or 'ward breach revoke --help' for the flags.`

// Bounds of the operator's scope (docs/breach.md).
const (
	maxBreachIDs      = 10_000    // ids or networks in one selector; ids in one revocation list
	maxBreachRecords  = 200_000   // records one org's scope names
	maxBreachEvents   = 5_000_000 // matching events one scope reads, over every org
	maxBreachTimeline = 5_000     // matching events the answer lists
	breachNoticeDays  = 60        // §164.410(b): a business associate tells the covered entity
)

// runBreach is `ward breach`: the operator's side of breach response
// (DESIGN §8). An org's admin scopes an incident in that org, with the
// individuals' States and the notices' deadlines, and revokes its
// credentials (POST /v1/compliance/breach/{scope,revoke}); an incident of
// the instance (a network that reached several orgs, a leaked dump of
// session hashes, a support engineer's stolen laptop) is the operator's:
// `ward breach scope` reads every org's log and says, per org, what the
// incident touched, and `ward breach revoke` ends its credentials wherever
// they are.
func runBreach(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(breachUsage)
	}
	switch args[0] {
	case "scope":
		return runBreachScope(ctx, args[1:], getenv, stdout, stderr)
	case "revoke":
		return runBreachRevoke(ctx, args[1:], getenv, stdout, stderr)
	case "--help", "-h", "help":
		fmt.Fprintln(stdout, breachUsage)
		return nil
	}
	return fmt.Errorf("unknown breach command %q\n\n%s", args[0], breachUsage)
}

// idList is a repeatable flag of UUIDs; a value may list several, comma
// separated.
type idList []uuid.UUID

func (l *idList) String() string { return fmt.Sprint([]uuid.UUID(*l)) }

func (l *idList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		id, err := uuid.Parse(strings.TrimSpace(f))
		if err != nil {
			return errors.New("not a UUID")
		}
		*l = append(*l, id)
	}
	return nil
}

// netList is a repeatable flag of networks: a CIDR prefix or one address,
// masked, an IPv4-mapped prefix as the IPv4 network it maps.
type netList []netip.Prefix

func (l *netList) String() string { return fmt.Sprint([]netip.Prefix(*l)) }

func (l *netList) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return errors.New("not an address or CIDR prefix")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*l = append(*l, audit.NormalizeNetwork(p))
	}
	return nil
}

// timeFlag is an RFC 3339 time, or a duration before now ("72h").
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return errors.New("a duration counts back from now and is not negative")
		}
		f.t = time.Now().Add(-d)
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New("not an RFC 3339 time (2026-12-01T08:00:00Z) or a duration before now (72h)")
	}
	f.t = t
	return nil
}

// InstanceScope is `ward breach scope`'s answer.
type InstanceScope struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Discovered time.Time `json:"discovered"`
	// NotifyOrgsBy is the last day each org touched is told, counted from
	// the discovery (§164.410(b): a business associate's notice to the
	// covered entity, without unreasonable delay and within 60 days).
	NotifyOrgsBy string     `json:"notify_orgs_by"`
	Events       int        `json:"events"`
	Orgs         []OrgScope `json:"orgs"`
	// Timeline lists the first maxBreachTimeline matching events, each
	// org's in its log's order, the orgs in turn (TimelineTruncated: there
	// are more).
	Timeline          []TimelineEntry `json:"timeline"`
	TimelineTruncated bool            `json:"timeline_truncated"`
	// Revoke lists the sessions and credentials the matching events used,
	// and the API keys and SCIM tokens their changes created, every org's
	// together: `ward breach revoke --scope FILE` ends them.
	Revoke Revocation `json:"revoke"`
}

// TimelineEntry is one matching event and its org.
type TimelineEntry struct {
	Org uuid.UUID `json:"org_id"`
	audit.Entry
}

// OrgScope is what an incident touched in one org's log.
type OrgScope struct {
	Org     uuid.UUID `json:"org_id"`
	Events  int       `json:"events"`
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
	// PHIEvents counts the matching successes of a PHI action (read,
	// listed, changed, exported, disclosed, sent to the gateway).
	PHIEvents int `json:"phi_events"`
	// Records are the ids those events named: patients, the results of
	// lists, cases and documents. The org's own scope
	// (POST /v1/compliance/breach/scope) resolves them into individuals
	// with their States; the operator's roles cannot.
	Records []uuid.UUID `json:"records"`
	// Unattributed counts PHI events that name no record (an audit
	// export, a gateway call naming no patient).
	Unattributed int         `json:"unattributed_phi_events"`
	Actors       []uuid.UUID `json:"actors"`
	Sessions     []uuid.UUID `json:"sessions"`
	APIKeys      []uuid.UUID `json:"api_keys"`
	SCIMTokens   []uuid.UUID `json:"scim_tokens"`
	// Changes are what the incident's actors, sessions, credentials or
	// networks configured in the org (members, credentials, factors, SSO,
	// policies, sinks, holds, ...), by kind: ids and action names.
	Changes audit.Changes `json:"changes"`
}

// Revocation is what `ward breach revoke` ends.
type Revocation struct {
	Sessions   []uuid.UUID `json:"sessions"`
	Users      []uuid.UUID `json:"users,omitempty"`
	APIKeys    []uuid.UUID `json:"api_keys"`
	SCIMTokens []uuid.UUID `json:"scim_tokens"`
}

func runBreachScope(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var in audit.Incident
	var from, to, discovered timeFlag
	var orgs, actors, sessions, creds, patients, cases, objects idList
	var nets netList
	var format, out string
	fs := newFlagSet("breach scope", "breach scope --from TIME --to TIME [selectors] [flags]\n\n"+
		"Reads every org's audit log (or the orgs named) for the events of an incident's window that match\n"+
		"any selector, and prints per org the events, the PHI events, the records they named, the\n"+
		"sessions and credentials they used and what they changed (members, credentials, factors, SSO,\n"+
		"policies, sinks, holds, ...), with the day by which each org must be told (§164.410(b)).\n"+
		"With --format json it also lists the first 5,000 matching events. Each org's admin then scopes\n"+
		"the incident in the org (POST /v1/compliance/breach/scope) for its individuals, their States and\n"+
		"the notices. The scope is recorded in each org's log as breach.scope. It runs as a superuser, or\n"+
		"a role that is ward_ops and ward_audit_reader.", stdout)
	addCommon(fs, &c, getenv)
	fs.Var(&from, "from", "the window's start: RFC 3339, or a duration before now (72h)")
	fs.Var(&to, "to", "the window's end (default: now)")
	fs.Var(&discovered, "discovered", "when the breach was discovered (default: now)")
	fs.Var(&orgs, "org", "scope only this org (repeatable; default: every org)")
	fs.BoolVar(&in.All, "all", false, "every event of the window")
	fs.Var(&actors, "actor", "a user id (repeatable)")
	fs.Var(&sessions, "session", "a session id (repeatable)")
	fs.Var(&creds, "credential", "a session, API key, SCIM token or invitation id (repeatable)")
	fs.Var(&nets, "network", "an address or CIDR prefix the requests came from (repeatable)")
	fs.Var(&patients, "patient", "a patient id (repeatable)")
	fs.Var(&cases, "case", "a case id (repeatable)")
	fs.Var(&objects, "object", "any other object id (repeatable)")
	fs.StringVar(&format, "format", "text", "text or json")
	fs.StringVar(&out, "out", "", "write the scope to this file (default: standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	if to.t.IsZero() {
		to.t = now
	}
	if discovered.t.IsZero() {
		discovered.t = now
	}
	in.From, in.To = from.t, to.t
	in.Actors, in.Sessions, in.Credentials = actors, sessions, creds
	in.Patients, in.Cases, in.Objects, in.Networks = patients, cases, objects, nets
	switch {
	case format != "text" && format != "json":
		return withUsage(fs, fmt.Errorf("--format: %q is not text or json", format))
	case in.From.IsZero():
		return withUsage(fs, errors.New("--from is required: the window the incident may span"))
	case !in.From.Before(in.To):
		return withUsage(fs, errors.New("--from must be before --to"))
	case in.To.Sub(in.From) > 6*366*24*time.Hour:
		return withUsage(fs, errors.New("the window spans at most six years; scope a longer incident window by window"))
	case discovered.t.After(now.Add(time.Minute)):
		return withUsage(fs, errors.New("--discovered is in the future"))
	case !in.Selective():
		return withUsage(fs, errors.New("name what the incident involved (--actor, --session, --credential, --network, --patient, --case, --object) or --all"))
	}
	for _, n := range []int{len(orgs), len(actors), len(sessions), len(creds), len(nets), len(patients), len(cases), len(objects)} {
		if n > maxBreachIDs {
			return withUsage(fs, fmt.Errorf("a selector lists at most %d entries", maxBreachIDs))
		}
	}

	dbase, db, err := c.openChecked(ctx, stderr, "breach")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	reader := db
	if asReader, err := auditReader(ctx, db); err != nil {
		return fmt.Errorf("the scope reads every org's audit log: %w", err)
	} else if asReader {
		if reader, err = postgres.OpenAs(ctx, dbase.superURL, "ward_audit_reader"); err != nil {
			return err
		}
		defer reader.Close()
	}
	// The freshest events too: sequence what is pending first, as the
	// server's integrator would.
	if _, err := audit.NewIntegrator(db, slog.New(slog.NewJSONHandler(stderr, nil)), 0).Once(ctx); err != nil {
		return fmt.Errorf("sequence the pending audit events: %w", err)
	}
	if len(orgs) == 0 {
		if orgs, err = logOrgs(ctx, reader.Pool); err != nil {
			return err
		}
	}
	scope, err := scopeInstance(ctx, reader.Pool, orgs, in, discovered.t)
	if err != nil {
		return err
	}
	if err := recordScopes(ctx, db, scope); err != nil {
		return err
	}
	var b strings.Builder
	if format == "json" {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(scope); err != nil {
			return err
		}
	} else {
		writeScopeText(&b, scope)
	}
	if out == "" {
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	if err := writeFileAtomic(out, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// logOrgs lists the orgs that have an audit log.
func logOrgs(ctx context.Context, q audit.Querier) (idList, error) {
	rows, err := q.Query(ctx, `select org_id from audit.heads union select distinct org_id from audit.events order by 1`)
	if err != nil {
		return nil, fmt.Errorf("list the orgs' logs: %w", err)
	}
	defer rows.Close()
	var ids idList
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// scopeInstance reads what in selects from each org's log in turn.
func scopeInstance(ctx context.Context, q audit.Querier, orgs []uuid.UUID, in audit.Incident, discovered time.Time) (InstanceScope, error) {
	out := InstanceScope{From: in.From.UTC(), To: in.To.UTC(), Discovered: discovered.UTC(), Orgs: []OrgScope{},
		Timeline:     []TimelineEntry{},
		NotifyOrgsBy: discovered.AddDate(0, 0, breachNoticeDays).Format(time.DateOnly),
		Revoke:       Revocation{Sessions: []uuid.UUID{}, APIKeys: []uuid.UUID{}, SCIMTokens: []uuid.UUID{}}}
	for _, org := range orgs {
		o := OrgScope{Org: org, Changes: audit.Changes{Groups: []audit.ChangeList{}}}
		type key struct {
			list *[]uuid.UUID
			id   uuid.UUID
		}
		seen := map[key]bool{}
		add := func(ids *[]uuid.UUID, id uuid.UUID) {
			if k := (key{ids, id}); id != uuid.Nil && !seen[k] {
				seen[k] = true
				*ids = append(*ids, id)
			}
		}
		err := audit.ScanIncident(ctx, q, org, in, func(e *audit.Entry) error {
			out.Events++
			if out.Events > maxBreachEvents {
				return fmt.Errorf("over %d events match: scope the incident in shorter windows or fewer orgs", maxBreachEvents)
			}
			if o.Events == 0 {
				o.FirstAt = e.At
			}
			if len(out.Timeline) < maxBreachTimeline {
				te := TimelineEntry{Org: org, Entry: *e}
				te.Results = slices.Clone(e.Results)
				out.Timeline = append(out.Timeline, te)
			} else {
				out.TimelineTruncated = true
			}
			o.Events++
			o.LastAt = e.At
			o.Changes.Add(in, e)
			if e.ActorKind == "user" && e.Actor.Valid {
				add(&o.Actors, e.Actor.UUID)
			}
			if e.Session.Valid {
				add(&o.Sessions, e.Session.UUID)
			}
			if e.Credential.Valid {
				switch e.CredentialKind {
				case "session":
					add(&o.Sessions, e.Credential.UUID)
				case "api_key":
					add(&o.APIKeys, e.Credential.UUID)
				case "scim_token":
					add(&o.SCIMTokens, e.Credential.UUID)
				}
			}
			act, ok := audit.Actions[e.Action]
			if !ok || !act.PHIAccess || e.Outcome != audit.OutcomeSuccess || e.Action == "breach.scope" ||
				(e.Action == "document.purge" && e.ActorKind == "system") {
				return nil
			}
			o.PHIEvents++
			named := false
			for _, id := range append([]uuid.UUID{e.Patient.UUID, e.Case.UUID}, e.Results...) {
				if id != uuid.Nil {
					add(&o.Records, id)
					named = true
				}
			}
			if e.ObjectType == "document" && e.ObjectID.Valid {
				add(&o.Records, e.ObjectID.UUID)
				named = true
			}
			if !named {
				o.Unattributed++
			}
			if len(o.Records) > maxBreachRecords {
				return fmt.Errorf("over %d records in org %s: scope the incident in shorter windows", maxBreachRecords, org)
			}
			return nil
		})
		if err != nil {
			return InstanceScope{}, err
		}
		if o.Events == 0 {
			continue
		}
		if err := o.Changes.ScanUnaddressed(ctx, q, org, in); err != nil {
			return InstanceScope{}, err
		}
		for _, l := range []*[]uuid.UUID{&o.Records, &o.Actors, &o.Sessions, &o.APIKeys, &o.SCIMTokens} {
			if *l == nil {
				*l = []uuid.UUID{}
			}
			slices.SortFunc(*l, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		}
		out.Revoke.Sessions = append(out.Revoke.Sessions, o.Sessions...)
		// The keys and tokens the changes created too: what an intruder
		// leaves behind.
		out.Revoke.APIKeys = appendNew(out.Revoke.APIKeys, slices.Concat(o.APIKeys, o.Changes.Created("auth.api_key.create"))...)
		out.Revoke.SCIMTokens = appendNew(out.Revoke.SCIMTokens,
			slices.Concat(o.SCIMTokens, o.Changes.Created("scim.token.create"))...)
		out.Orgs = append(out.Orgs, o)
	}
	return out, nil
}

// appendNew appends to list the ids of ids it does not hold.
func appendNew(list []uuid.UUID, ids ...uuid.UUID) []uuid.UUID {
	for _, id := range ids {
		if !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

// recordScopes records the scope in each org it touched, as breach.scope
// with the records it named as results (so the scope is in each patient's
// access report), by the operator's role.
func recordScopes(ctx context.Context, db *postgres.DB, s InstanceScope) error {
	for _, o := range s.Orgs {
		details, err := json.Marshal(map[string]any{"operator": true, "from": s.From.Format(time.RFC3339Nano),
			"to": s.To.Format(time.RFC3339Nano), "discovered": s.Discovered.Format(time.RFC3339Nano),
			"events": o.Events, "records": len(o.Records)})
		if err != nil {
			return err
		}
		if _, err := db.Pool.Exec(ctx,
			`select audit.append_as($1, 'breach.scope', 'success', p_results => $2,
			   p_details => $3::jsonb || jsonb_build_object('by', session_user::text))`,
			o.Org, o.Records, string(details)); err != nil {
			return fmt.Errorf("record the scope in org %s: %w", o.Org, err)
		}
	}
	return nil
}

func writeScopeText(w io.Writer, s InstanceScope) {
	fmt.Fprintf(w, "Breach scope %s to %s, discovered %s\n", s.From.Format(time.RFC3339), s.To.Format(time.RFC3339),
		s.Discovered.Format(time.RFC3339))
	if len(s.Orgs) == 0 {
		fmt.Fprintln(w, "No event of any org's log matches.")
		return
	}
	fmt.Fprintf(w, "%d matching events in %d orgs. Tell each org by %s (§164.410(b)); each org's admin then scopes\n"+
		"the incident in the org (POST /v1/compliance/breach/scope) for its individuals, their States and notices.\n\n",
		s.Events, len(s.Orgs), s.NotifyOrgsBy)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tEVENTS\tPHI EVENTS\tRECORDS\tUNATTRIBUTED\tACTORS\tSESSIONS\tAPI KEYS\tSCIM TOKENS\tFIRST\tLAST")
	for _, o := range s.Orgs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", o.Org, o.Events, o.PHIEvents, len(o.Records),
			o.Unattributed, len(o.Actors), len(o.Sessions), len(o.APIKeys), len(o.SCIMTokens),
			o.FirstAt.UTC().Format(time.RFC3339), o.LastAt.UTC().Format(time.RFC3339))
	}
	_ = tw.Flush()
	writeChangesText(w, s)
	fmt.Fprintf(w, "\nTo end the %d sessions, %d API keys and %d SCIM tokens these events used or created:\n"+
		"  ward breach scope ... --format json --out scope.json && ward breach revoke --scope scope.json\n",
		len(s.Revoke.Sessions), len(s.Revoke.APIKeys), len(s.Revoke.SCIMTokens))
}

// writeChangesText lists each org's changes by the incident's actors,
// sessions, credentials or networks, by kind.
func writeChangesText(w io.Writer, s InstanceScope) {
	n := 0
	for _, o := range s.Orgs {
		n += o.Changes.Count
	}
	if n == 0 {
		fmt.Fprintln(w, "\nNo change (members, credentials, factors, SSO, policies, sinks, holds, ...) by them.")
		return
	}
	fmt.Fprintf(w, "\n%d changes by them (members, credentials, factors, SSO, policies, sinks, holds, ...); "+
		"SEQ finds each in its org's log:\n", n)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tKIND\tSEQ\tAT\tACTION\tOBJECT\tACTOR")
	dash := func(id uuid.NullUUID, or string) string {
		if id.Valid {
			return id.UUID.String()
		}
		return or
	}
	for _, o := range s.Orgs {
		for _, l := range o.Changes.Groups {
			for _, c := range l.Changes {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", o.Org, l.Group, c.Seq, c.At.UTC().Format(time.RFC3339),
					c.Action, dash(c.Object, "-"), dash(c.Actor, c.ActorKind))
			}
		}
		if o.Changes.Truncated {
			fmt.Fprintf(tw, "%s\t(%d more)\t\t\t\t\t\n", o.Org, o.Changes.Count-o.Changes.Listed())
		}
	}
	_ = tw.Flush()
}

func runBreachRevoke(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var r Revocation
	var sessions, users, keys, tokens idList
	var scopeFile, request string
	fs := newFlagSet("breach revoke [--session ID]... [--user ID]... [--api-key ID]... [--scim-token ID]... [--scope FILE]",
		"breach revoke [flags]\n\n"+
			"Ends, in every org, the sessions named; every session of the users named, with their unspent\n"+
			"sign-in links, the API keys and SCIM tokens they made and their pending case invitations; and the\n"+
			"API keys and SCIM tokens named. One transaction;\n"+
			"each org touched records one breach.revoke event. --scope takes the lists of a\n"+
			"`ward breach scope --format json` file. It runs as a superuser or ward_ops.", stdout)
	addCommon(fs, &c, getenv)
	fs.Var(&sessions, "session", "a session id (repeatable)")
	fs.Var(&users, "user", "a user id: all their sessions, sign-in links, API keys, SCIM tokens and pending invitations (repeatable)")
	fs.Var(&keys, "api-key", "an API key id (repeatable)")
	fs.Var(&tokens, "scim-token", "a SCIM token id (repeatable)")
	fs.StringVar(&scopeFile, "scope", "", "a `ward breach scope --format json` file: end the sessions and credentials it lists")
	fs.StringVar(&request, "reason", "", "a reference for the audit events' request id (a ticket, at most 128 characters)")
	if err := parse(fs, args); err != nil {
		return err
	}
	r.Sessions, r.Users, r.APIKeys, r.SCIMTokens = sessions, users, keys, tokens
	if scopeFile != "" {
		b, err := os.ReadFile(scopeFile)
		if err != nil {
			return fmt.Errorf("--scope: %w", err)
		}
		var s InstanceScope
		dec := json.NewDecoder(strings.NewReader(string(b)))
		if err := dec.Decode(&s); err != nil || s.Revoke.Sessions == nil {
			return fmt.Errorf("--scope: %s is not a `ward breach scope --format json` file", scopeFile)
		}
		r.Sessions = append(r.Sessions, s.Revoke.Sessions...)
		r.APIKeys = append(r.APIKeys, s.Revoke.APIKeys...)
		r.SCIMTokens = append(r.SCIMTokens, s.Revoke.SCIMTokens...)
	}
	if len(request) > 128 {
		return withUsage(fs, errors.New("--reason holds at most 128 characters"))
	}
	if len(r.Sessions)+len(r.Users)+len(r.APIKeys)+len(r.SCIMTokens) == 0 {
		return withUsage(fs, errors.New("name what to end: --session, --user, --api-key, --scim-token or --scope"))
	}
	for _, n := range []int{len(r.Sessions), len(r.Users), len(r.APIKeys), len(r.SCIMTokens)} {
		if n > maxBreachIDs {
			return withUsage(fs, fmt.Errorf("each list of credentials to revoke holds at most %d ids", maxBreachIDs))
		}
	}
	dbase, db, err := c.openChecked(ctx, stderr, "breach")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	var reqArg any
	if request != "" {
		reqArg = request
	}
	rows, err := db.Pool.Query(ctx, `select org_id, sessions, api_keys, scim_tokens, case_invites, sign_in_links
		from app.ops_breach_revoke($1, $2, $3, $4, $5)`,
		nonNilIDs(r.Sessions), nonNilIDs(r.Users), nonNilIDs(r.APIKeys), nonNilIDs(r.SCIMTokens), reqArg)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tSESSIONS\tAPI KEYS\tSCIM TOKENS\tCASE INVITES\tSIGN-IN LINKS")
	n := 0
	for rows.Next() {
		var org uuid.UUID
		var s, k, t, i, l int
		if err := rows.Scan(&org, &s, &k, &t, &i, &l); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", org, s, k, t, i, l)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	if n == 0 {
		fmt.Fprintln(stdout, "Nothing to end: every credential named is already ended or unknown.")
		return nil
	}
	return tw.Flush()
}

func nonNilIDs(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

var (
	_ flag.Value = (*idList)(nil)
	_ flag.Value = (*netList)(nil)
	_ flag.Value = (*timeFlag)(nil)
)
