package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
)

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "usage: ward audit verify [--org ID] [--known FILE] [--save FILE] [--json]")
			return nil
		}
		return errors.New("usage: ward audit verify [--org ID] [--known FILE] [--save FILE] [--json]")
	}
	var c common
	var org, known, save string
	var asJSON bool
	fs := newFlagSet("audit verify", "audit verify [--org ID] [--known FILE] [--save FILE] [--json]\n\n"+
		"Recomputes every leaf hash, chain link and Merkle root of the audit log from the rows and\n"+
		"checks them against the stored heads. Exits non-zero naming the first bad position.\n"+
		"--known checks heads verified earlier and kept outside the database (catches a truncated\n"+
		"tail or a restored backup); --save writes this run's verified heads for the next --known.", stderr)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "verify only this org's log")
	fs.StringVar(&known, "known", "", "JSON file of heads verified earlier: {\"<org id>\": {\"size\": N, \"root\": \"hex\"}}")
	fs.StringVar(&save, "save", "", "write the verified heads to this file (same format as --known)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON report per org")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	heads := map[uuid.UUID]audit.Head{}
	if known != "" {
		b, err := os.ReadFile(known)
		if err != nil {
			return fmt.Errorf("--known: %w", err)
		}
		if err := json.Unmarshal(b, &heads); err != nil {
			return fmt.Errorf("--known: %s is not a heads file: %w", known, err)
		}
	}
	dbase, err := c.openDatabase(ctx, stderr)
	if err != nil {
		return err
	}
	defer dbase.Close()
	db, err := postgres.Open(ctx, dbase.superURL)
	if err != nil {
		return err
	}
	defer db.Close()

	var reports []audit.Report
	if org != "" {
		id, err := uuid.Parse(org)
		if err != nil {
			return errors.New("--org must be a UUID")
		}
		opts := audit.VerifyOptions{}
		if h, ok := heads[id]; ok {
			opts.Known = &h
		}
		rep, verr := audit.Verify(ctx, db.Pool, id, opts)
		if verr != nil && !errors.Is(verr, audit.ErrTampered) {
			return verr
		}
		reports = []audit.Report{rep}
	} else {
		reports, err = audit.VerifyAll(ctx, db.Pool, heads)
		if err != nil && !errors.Is(err, audit.ErrTampered) {
			return err
		}
	}
	failed := 0
	out := map[uuid.UUID]audit.Head{}
	for _, r := range reports {
		if asJSON {
			fmt.Fprintf(stdout, "%s\n", r.JSON())
		} else {
			fmt.Fprintln(stdout, r.String())
		}
		if !r.Verified {
			failed++
			continue
		}
		out[r.Org] = r.Head()
	}
	if save != "" && failed == 0 {
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := writeFileAtomic(save, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	if failed > 0 {
		first := reports[0]
		for _, r := range reports {
			if !r.Verified {
				first = r
				break
			}
		}
		return fmt.Errorf("audit log verification failed for %d org(s); first: org %s at seq %d: %s",
			failed, first.Org, first.FirstBad, first.Reason)
	}
	return nil
}
