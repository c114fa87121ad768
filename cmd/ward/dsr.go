package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
)

const dsrUsage = `usage: ward dsr status [--org ID] [--format text|json] [--fail-on overdue]`

// dueSoon is how close a deadline counts as due soon: the week before it,
// when the org's admins are mailed a reminder (app.dsr_due_reminders).
const dueSoon = 7 * 24 * time.Hour

// DSRQueue is `ward dsr status`'s answer: the open data-subject requests
// of every org (or one), by org and kind, with the late ones by id.
type DSRQueue struct {
	At      time.Time   `json:"at"`
	Open    int         `json:"open"`
	DueSoon int         `json:"due_soon"`
	Overdue int         `json:"overdue"`
	Orgs    []DSROrg    `json:"orgs"`
	Late    []DSRRecord `json:"overdue_requests"`
	// Truncated is true when the queue holds more open requests than one
	// read returns (10,000): the counts are of the first ones due.
	Truncated bool `json:"truncated"`
}

// DSROrg counts one org's open requests of one kind.
type DSROrg struct {
	Org      uuid.UUID `json:"org_id"`
	Kind     string    `json:"kind"`
	Open     int       `json:"open"`
	DueSoon  int       `json:"due_soon"`
	Overdue  int       `json:"overdue"`
	Extended int       `json:"extended"`
	NextDue  time.Time `json:"next_due"`
}

// DSRRecord is one open request: ids, kind and dates, nothing of whom it is about.
type DSRRecord struct {
	Org      uuid.UUID `json:"org_id"`
	ID       uuid.UUID `json:"id"`
	Kind     string    `json:"kind"`
	Received time.Time `json:"received_at"`
	Due      time.Time `json:"due_at"`
	Extended bool      `json:"extended"`
}

// runDSR is `ward dsr status`: the operator's view of the data-subject
// request queue across orgs (docs/dsr.md), from app.ops_dsr_queue: what is
// open, due within a week and overdue, per org and kind, and the overdue
// requests by id. It reads no PHI. With --fail-on overdue it exits
// non-zero when a request is late, for a monitor that pages on it.
func runDSR(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprintln(stdout, dsrUsage)
			return nil
		}
		return errors.New(dsrUsage)
	}
	var c common
	var org, format, failOn string
	fs := newFlagSet("dsr status", "dsr status [flags]\n\n"+
		"The open data-subject requests (HIPAA access, amendment, accounting; CCPA know, delete, correct,\n"+
		"limit) of every org or one: per org and kind, how many are open, due within a week, overdue and\n"+
		"extended, and the overdue ones by id. Ids, kinds and dates only. It runs as a superuser or ward_ops.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "only this org's requests")
	fs.StringVar(&format, "format", "text", "text or json")
	fs.StringVar(&failOn, "fail-on", "", "overdue: exit non-zero when a request is past its deadline")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	orgArg, err := optionalOrg(fs, org)
	if err != nil {
		return err
	}
	if format != "text" && format != "json" {
		return withUsage(fs, fmt.Errorf("--format: %q is not text or json", format))
	}
	if failOn != "" && failOn != "overdue" {
		return withUsage(fs, fmt.Errorf("--fail-on: %q is not overdue", failOn))
	}
	dbase, db, err := c.openChecked(ctx, stderr, "dsr")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	const max = 10_000
	rows, err := db.Pool.Query(ctx, `select org_id, id, kind, received_at, due_at, extended from app.ops_dsr_queue($1, $2)`,
		orgArg, max)
	if err != nil {
		return fmt.Errorf("read the queue: %w", err)
	}
	var reqs []DSRRecord
	for rows.Next() {
		var r DSRRecord
		if err := rows.Scan(&r.Org, &r.ID, &r.Kind, &r.Received, &r.Due, &r.Extended); err != nil {
			rows.Close()
			return fmt.Errorf("read the queue: %w", err)
		}
		reqs = append(reqs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the queue: %w", err)
	}
	q := dsrQueue(reqs, time.Now())
	q.Truncated = len(reqs) == max
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(q); err != nil {
			return err
		}
	} else {
		writeDSRText(stdout, q)
	}
	if failOn == "overdue" && q.Overdue > 0 {
		return fmt.Errorf("dsr status: %d requests are overdue", q.Overdue)
	}
	return nil
}

// dsrQueue counts reqs (earliest due first) by org and kind as of now.
func dsrQueue(reqs []DSRRecord, now time.Time) DSRQueue {
	q := DSRQueue{At: now.UTC(), Orgs: []DSROrg{}, Late: []DSRRecord{}}
	type key struct {
		org  uuid.UUID
		kind string
	}
	byKey := map[key]*DSROrg{}
	for _, r := range reqs {
		k := key{r.Org, r.Kind}
		o := byKey[k]
		if o == nil {
			o = &DSROrg{Org: r.Org, Kind: r.Kind, NextDue: r.Due}
			byKey[k] = o
		}
		q.Open++
		o.Open++
		if r.Extended {
			o.Extended++
		}
		switch {
		case r.Due.Before(now):
			q.Overdue++
			o.Overdue++
			q.Late = append(q.Late, r)
		case r.Due.Before(now.Add(dueSoon)):
			q.DueSoon++
			o.DueSoon++
		}
	}
	for _, o := range byKey {
		q.Orgs = append(q.Orgs, *o)
	}
	slices.SortFunc(q.Orgs, func(a, b DSROrg) int {
		if c := slices.Compare(a.Org[:], b.Org[:]); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return q
}

func writeDSRText(w io.Writer, q DSRQueue) {
	if q.Open == 0 {
		fmt.Fprintln(w, "No open data-subject request.")
		return
	}
	fmt.Fprintf(w, "%d open data-subject requests: %d due within a week, %d overdue.\n\n", q.Open, q.DueSoon, q.Overdue)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tKIND\tOPEN\tDUE SOON\tOVERDUE\tEXTENDED\tNEXT DUE")
	for _, o := range q.Orgs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", o.Org, o.Kind, o.Open, o.DueSoon, o.Overdue, o.Extended,
			o.NextDue.UTC().Format(time.RFC3339))
	}
	_ = tw.Flush()
	if len(q.Late) > 0 {
		fmt.Fprintln(w, "\nOverdue:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORG\tREQUEST\tKIND\tRECEIVED\tDUE\tEXTENDED")
		for _, r := range q.Late {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\n", r.Org, r.ID, r.Kind, r.Received.UTC().Format(time.RFC3339),
				r.Due.UTC().Format(time.RFC3339), r.Extended)
		}
		_ = tw.Flush()
	}
	if q.Truncated {
		fmt.Fprintln(w, "\nThe queue holds more open requests than one read returns: these are the first 10,000 due.")
	}
}
