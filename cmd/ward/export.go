package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

const exportSynopsis = `audit export --org ID [--format jsonl|csv|fhir-ndjson|fhir-bundle|ocsf] [--bundle]
       [--from TIME] [--to TIME] [--patient ID] [--actor ID] [--case ID] [--action NAME] [--out FILE]

Writes an org's audit log, streamed, in the chosen format (docs/audit-exports.md), to --out or
standard output. With --bundle it writes an evidence bundle instead: a tar of the JSON Lines export
(and the export in --format, if another), the leaf hashes and a range proof against the newest signed
checkpoint, and a manifest of SHA-256s signed by the log's key; check it anywhere with
'ward audit export verify'. Only events covered by a signed checkpoint go into a bundle.
The export is recorded in the org's log (audit.export) before it is written.
TIME is RFC 3339 (2026-11-01T00:00:00Z); from is inclusive, to exclusive.`

// runAuditExport is `ward audit export`: an operator's export, through
// the privileged connection.
func runAuditExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return runExportVerify(args[1:], stdout)
	}
	var c common
	var org, format, from, to, patient, actor, caseID, action, out string
	var bundle bool
	fs := newFlagSet("audit export", exportSynopsis, stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "the org whose log to export (required)")
	fs.StringVar(&format, "format", "jsonl", "jsonl, csv, fhir-ndjson, fhir-bundle or ocsf")
	fs.BoolVar(&bundle, "bundle", false, "write a signed evidence bundle (tar)")
	fs.StringVar(&from, "from", "", "only events at or after this time (RFC 3339)")
	fs.StringVar(&to, "to", "", "only events before this time (RFC 3339)")
	fs.StringVar(&patient, "patient", "", "only events about this patient id")
	fs.StringVar(&actor, "actor", "", "only events of this actor id")
	fs.StringVar(&caseID, "case", "", "only events about this case id")
	fs.StringVar(&action, "action", "", "only events of this action")
	fs.StringVar(&out, "out", "", "write to this file (default: standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	orgID, err := uuid.Parse(org)
	if err != nil {
		return withUsage(fs, errors.New("--org must be the org's UUID"))
	}
	f, err := export.ParseFormat(format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	var filter export.Filter
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", from, &filter.From}, {"--to", to, &filter.To}} {
		if t.v != "" {
			if *t.dst, err = time.Parse(time.RFC3339Nano, t.v); err != nil {
				return fmt.Errorf("%s must be an RFC 3339 time such as 2026-11-01T00:00:00Z", t.flag)
			}
		}
	}
	for _, id := range []struct {
		flag, v string
		dst     *uuid.NullUUID
	}{{"--patient", patient, &filter.Patient}, {"--actor", actor, &filter.Actor}, {"--case", caseID, &filter.Case}} {
		if id.v != "" {
			u, err := uuid.Parse(id.v)
			if err != nil {
				return fmt.Errorf("%s must be a UUID", id.flag)
			}
			*id.dst = uuid.NullUUID{UUID: u, Valid: true}
		}
	}
	filter.Action = action
	if err := filter.Validate(); err != nil {
		return err
	}

	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	var exists bool
	if err := op.db.Pool.QueryRow(ctx, `select exists (select from app.orgs where id = $1)`, orgID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("--org %s: no such org", orgID)
	}
	var w io.Writer = stdout
	var file *os.File
	if out != "" {
		if file, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		w = file
	}
	recorded := string(f)
	if bundle {
		recorded = "bundle+" + recorded
	}
	if err := export.RecordOperator(ctx, op.db, orgID, recorded, filter); err != nil {
		return closeRemove(file, err)
	}
	opts := export.Options{Site: "ward", Version: version()}
	// Sequence what is pending in a short transaction: integration locks
	// the org's head row, which a long export must not hold.
	err = op.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.Integrate(ctx, tx, orgID)
		return err
	})
	if err != nil {
		return closeRemove(file, err)
	}
	// Read page by page, each page in a short transaction of its own.
	rd := func(ctx context.Context, fn func(ctx context.Context, q audit.Querier) error) error {
		return op.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
	if bundle {
		signer, _, err := op.keys.Signer(ctx, op.db)
		if err != nil {
			return closeRemove(file, err)
		}
		sum, err := export.WriteBundle(ctx, rd, orgID, filter, f, opts, signer, w)
		if err == nil {
			fmt.Fprintf(stderr, "ward: bundle of %s: seq %d..%d, %d events, checkpoint %d, %d bytes\n", sum.Origin,
				sum.First, sum.Last, sum.Events, sum.Checkpoint, sum.Bytes)
		}
		return closeRemove(file, err)
	}
	sum, err := export.Write(ctx, rd, orgID, filter.Selection(), f, opts, w)
	if err == nil {
		fmt.Fprintf(stderr, "ward: exported %d events (seq %d..%d), %d bytes\n", sum.Events, sum.FirstSeq, sum.LastSeq, sum.Bytes)
	}
	return closeRemove(file, err)
}

// closeRemove closes file and removes it when err is set (a partial
// export is no export).
func closeRemove(file *os.File, err error) error {
	if file == nil {
		return err
	}
	cerr := file.Close()
	if err != nil {
		os.Remove(file.Name())
		return err
	}
	return cerr
}

// runExportVerify checks an evidence bundle offline.
func runExportVerify(args []string, stdout io.Writer) error {
	fs := newFlagSet("audit export verify", "audit export verify --key VKEY|FILE [--org ID] BUNDLE.tar\n\n"+
		"Checks an evidence bundle with only the log's verifier key (`ward audit checkpoint key`, or\n"+
		"/.well-known/ward-audit-key): the manifest's signature, the signed checkpoint, that the range's\n"+
		"leaves fold to the checkpoint's root, that every event hashes to its leaf and comes in order,\n"+
		"and every file's SHA-256. No database, no network. Says what the bundle proves; exits\n"+
		"non-zero naming the first failure.", stdout)
	var key, org string
	fs.StringVar(&key, "key", "", "the verifier key, or a file holding it")
	fs.StringVar(&org, "org", "", "require the bundle to be of this org's log")
	var files []string
	for len(args) > 0 {
		if err := parseFlags(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if key == "" || len(files) != 1 {
		return withUsage(fs, errors.New("--key and one bundle file are required"))
	}
	if b, err := os.ReadFile(key); err == nil {
		key = strings.TrimSpace(string(b))
	}
	var orgID uuid.UUID
	if org != "" {
		var err error
		if orgID, err = uuid.Parse(org); err != nil {
			return errors.New("--org must be a UUID")
		}
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := export.VerifyBundle(f, key, orgID)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, v.String())
	return nil
}
