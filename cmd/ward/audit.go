package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
)

// auditReader reports whether db's role must act as ward_audit_reader to
// read the whole log: a superuser reads it as it is; a member of
// ward_audit_reader switches to it (its policies see every org); anything
// else is refused, since as ward_app the log is invisible and verification
// would prove nothing.
func auditReader(ctx context.Context, db *postgres.DB) (bool, error) {
	var role string
	var super, reader bool
	err := db.Pool.QueryRow(ctx, `select current_user, rolsuper,
		  case when exists (select from pg_roles where rolname = 'ward_audit_reader')
		       then pg_has_role(current_user, 'ward_audit_reader', 'member') else false end
		from pg_roles where rolname = current_user`).Scan(&role, &super, &reader)
	if err != nil {
		return false, fmt.Errorf("audit verify: check role: %w", err)
	}
	if super {
		return false, nil
	}
	if !reader {
		return false, fmt.Errorf("audit verify: role %q cannot read every org's log; connect as a superuser or a role "+
			"granted ward_audit_reader", role)
	}
	return true, nil
}

const auditUsage = `usage: ward audit verify [--org ID] [--known FILE] [--save FILE] [--key VKEY|FILE] [--archive DIR|s3://BUCKET/PREFIX] [--json]
       ward audit checkpoint key
       ward audit proof verify --key VKEY|FILE [--org ID] [--previous FILE] BUNDLE.json
       ward audit export --org ID [--format F] [--bundle] [--from T] [--to T] [--patient ID] [--actor ID] [--case ID] [--action A] [--out FILE]
       ward audit export verify --key VKEY|FILE [--org ID] BUNDLE.tar`

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 2 && args[0] == "checkpoint" && args[1] == "key":
		return runAuditKey(ctx, args[2:], getenv, stdout, stderr)
	case len(args) >= 1 && args[0] == "export":
		return runAuditExport(ctx, args[1:], getenv, stdout, stderr)
	case len(args) >= 2 && args[0] == "proof" && args[1] == "verify":
		return runProofVerify(args[2:], stdout)
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-h"):
		fmt.Fprintln(stdout, auditUsage)
		return nil
	case len(args) == 0 || args[0] != "verify":
		return errors.New(auditUsage)
	}
	var c common
	var org, known, save string
	var asJSON, allowEmpty bool
	fs := newFlagSet("audit verify", "audit verify [--org ID] [--known FILE] [--save FILE] [--json]\n\n"+
		"Recomputes every leaf hash, chain link and Merkle root of the audit log from the rows and\n"+
		"checks them against the stored heads. Exits non-zero naming the first bad position.\n"+
		"--known checks heads verified earlier and kept outside the database (catches a truncated\n"+
		"tail or a restored backup); --save writes this run's verified heads for the next --known.\n"+
		"It runs as a superuser or a member of ward_audit_reader (as any other role it would see\n"+
		"nothing and prove nothing), and fails when it finds no log unless --allow-empty.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "verify only this org's log")
	fs.StringVar(&known, "known", "", "JSON file of heads verified earlier: {\"<org id>\": {\"size\": N, \"root\": \"hex\"}}")
	fs.StringVar(&save, "save", "", "write the verified heads to this file (same format as --known)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON report per org")
	fs.BoolVar(&allowEmpty, "allow-empty", false, "succeed when there is no audit log at all (a new instance)")
	var keyArg, archiveDir string
	var fromSize int64
	var s3 s3Flags
	fs.StringVar(&keyArg, "key", "", "the checkpoints' verifier key or a file holding it: also check the log against every "+
		"signed checkpoint in the database and the archive (`ward audit checkpoint key`)")
	fs.StringVar(&archiveDir, "archive", "", "an audit archive: a directory (what `ward serve` writes to DATA_DIR/audit-archive) "+
		"or s3://bucket/prefix (with the --s3-* flags): its signed checkpoints must agree with the database's log (needs --key)")
	addS3Flags(fs, &s3, getenv, false)
	fs.Int64Var(&fromSize, "from", 0, "with --org and --key: verify from the signed checkpoint at this size on, for a log "+
		"whose older events were removed past retention")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var orgID uuid.UUID
	if org != "" {
		var err error
		if orgID, err = uuid.Parse(org); err != nil {
			return errors.New("--org must be a UUID")
		}
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
	dbase, err := c.openDatabase(ctx, stderr, "audit-verify")
	if err != nil {
		return err
	}
	defer dbase.Close()
	db, err := postgres.Open(ctx, dbase.superURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	if asReader, err := auditReader(ctx, db); err != nil {
		return err
	} else if asReader {
		db.Close()
		if db, err = postgres.OpenAs(ctx, dbase.superURL, "ward_audit_reader"); err != nil {
			return err
		}
		defer db.Close()
	}

	var reports []audit.Report
	if archiveDir != "" && keyArg == "" {
		return errors.New("--archive needs --key: the archive's checkpoints are checked by their signatures")
	}
	vkey := keyArg
	if b, err := os.ReadFile(keyArg); keyArg != "" && err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	var archive audit.Archive
	if archiveDir != "" {
		if archive, _, err = openArchive(ctx, archiveDir, s3, false); err != nil {
			return fmt.Errorf("--archive: %w", err)
		}
	}
	// The options of one org: its known head, and with --key every signed
	// checkpoint of it in the database and the archive.
	optsFor := func(ctx context.Context, q audit.Querier, id uuid.UUID) (audit.VerifyOptions, error) {
		var opts audit.VerifyOptions
		if h, ok := heads[id]; ok {
			opts.Known = &h
		}
		if vkey == "" {
			return opts, nil
		}
		cps, err := audit.DatabaseCheckpoints(ctx, q, id, vkey)
		if err != nil {
			return opts, err
		}
		if archiveDir != "" {
			arch, err := audit.ArchivedCheckpoints(ctx, archive, id, vkey)
			if err != nil {
				return opts, err
			}
			cps = append(cps, arch...)
		}
		opts.Checkpoints = cps
		return opts, nil
	}
	if fromSize != 0 && (org == "" || vkey == "") {
		return errors.New("--from needs --org and --key: the start point is a signed checkpoint of one org")
	}
	if org != "" {
		id := orgID
		opts, err := optsFor(ctx, db.Pool, id)
		if err != nil {
			return err
		}
		if fromSize != 0 {
			if opts.From, err = audit.StartPointAt(ctx, db.Pool, id, fromSize, vkey); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
		}
		rep, verr := audit.Verify(ctx, db.Pool, id, opts)
		if verr != nil && !errors.Is(verr, audit.ErrTampered) {
			return verr
		}
		if verr == nil && rep.Size == 0 && opts.Known == nil && len(opts.Checkpoints) == 0 {
			return fmt.Errorf("--org %s: no audit log for this org (is the id right?)", id)
		}
		reports = []audit.Report{rep}
	} else {
		var extra []uuid.UUID
		for id := range heads {
			extra = append(extra, id)
		}
		if archiveDir != "" {
			archived, err := archive.Orgs(ctx)
			if err != nil {
				return fmt.Errorf("--archive: %w", err)
			}
			extra = append(extra, archived...)
		}
		reports, err = audit.VerifyEach(ctx, db.Pool, extra, optsFor)
		if err != nil && !errors.Is(err, audit.ErrTampered) {
			return err
		}
	}
	events, pending := int64(0), int64(0)
	for _, r := range reports {
		events, pending = events+r.Size, pending+r.Pending
	}
	if events == 0 && pending > 0 && !allowEmpty {
		return fmt.Errorf("%d audit events await integration and none has a position yet: start ward serve (its "+
			"integrator sequences them) and verify again", pending)
	}
	if events == 0 && !allowEmpty {
		return errors.New("no audit events found: nothing was verified (pass --allow-empty for a new instance)")
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

// runAuditKey prints the verifier key of the audit log's checkpoints.
func runAuditKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("audit checkpoint key", "audit checkpoint key\n\n"+
		"Prints the verifier key (C2SP signed-note format) of the audit log's signed checkpoints: what\n"+
		"anyone needs to verify a checkpoint or a proof. The server also publishes it at\n"+
		"/.well-known/ward-audit-key.", stdout)
	addCommon(fs, &c, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	_, vkey, err := op.keys.Signer(ctx, op.db)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, vkey)
	return nil
}

// runProofVerify checks a proof bundle with only the verifier key: no
// database, no network. An inclusion bundle (seq, leaf_hash: GET
// /v1/audit/proof/inclusion, an access report's entry) proves an event is
// in the log; a consistency bundle (from_size, from_root: GET
// /v1/audit/proof/consistency) proves the log at an earlier size is a
// prefix of the checkpoint's, and with --previous that a checkpoint kept
// from before is.
func runProofVerify(args []string, stdout io.Writer) error {
	fs := newFlagSet("audit proof verify", "audit proof verify --key VKEY|FILE [--org ID] [--previous FILE] BUNDLE.json\n\n"+
		"Checks a proof bundle offline, with the verifier key alone: the checkpoint's signature under\n"+
		"--key, then the bundle's proof against the checkpoint's root. The kind is read from the fields:\n"+
		"an inclusion bundle (seq, leaf_hash) proves the event with that leaf hash is at its seq; a\n"+
		"consistency bundle (from_size, from_root) proves the log at from_size events, whose root was\n"+
		"from_root, is a prefix of the checkpoint's (RFC 9162). --org requires the checkpoint to be that\n"+
		"org's log. --previous checks that a checkpoint kept from before (a signed note file, as\n"+
		"GET /v1/audit/checkpoint's note or the archive's checkpoints/*.note) is of the same log and\n"+
		"consistent with the bundle's: ask for the consistency bundle from its size\n"+
		"(?from=SIZE). Exits non-zero naming what failed.", stdout)
	var key, org, previous string
	fs.StringVar(&key, "key", "", "the verifier key, or a file holding it (`ward audit checkpoint key`)")
	fs.StringVar(&org, "org", "", "the org whose log the checkpoint must be")
	fs.StringVar(&previous, "previous", "", "a checkpoint kept from before (signed note file) the bundle's must extend")
	var files []string
	// Flags and the bundle file in any order.
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
	var origin string
	if org != "" {
		id, err := uuid.Parse(org)
		if err != nil {
			return withUsage(fs, fmt.Errorf("--org %q is not an org id", org))
		}
		origin = audit.Origin(id)
	}
	if b, err := os.ReadFile(key); err == nil {
		key = strings.TrimSpace(string(b))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("%s is not a proof bundle: %w", files[0], err)
	}
	_, seq := fields["seq"]
	_, leaf := fields["leaf_hash"]
	_, fromSize := fields["from_size"]
	_, fromRoot := fields["from_root"]
	inclusion, consistency := seq || leaf, fromSize || fromRoot
	if inclusion == consistency {
		return fmt.Errorf("%s is neither an inclusion bundle (seq, leaf_hash) nor a consistency bundle (from_size, from_root)", files[0])
	}
	var prev audit.Checkpoint
	if previous != "" {
		note, err := os.ReadFile(previous)
		if err != nil {
			return err
		}
		if prev, err = audit.OpenCheckpoint(string(note), key); err != nil {
			return fmt.Errorf("the previous checkpoint %s does not verify under --key: %w", previous, err)
		}
	}
	// ofLog refuses a verified checkpoint of a log other than --org's or
	// --previous's.
	ofLog := func(cp audit.Checkpoint) error {
		if origin != "" && cp.Origin != origin {
			return fmt.Errorf("the bundle's checkpoint is of log %s, not of org %s's", cp.Origin, org)
		}
		if previous != "" && cp.Origin != prev.Origin {
			return fmt.Errorf("the bundle's checkpoint is of log %s, the previous checkpoint of %s", cp.Origin, prev.Origin)
		}
		return nil
	}
	if inclusion {
		var b audit.Inclusion
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("%s is not an inclusion bundle: %w", files[0], err)
		}
		cp, err := b.Verify(key)
		if err != nil {
			return proofFailure("inclusion", err)
		}
		if err := ofLog(cp); err != nil {
			return err
		}
		if previous != "" && (prev.Size != cp.Size || prev.Root != cp.Root) {
			return fmt.Errorf("--previous needs a consistency bundle (GET /v1/audit/proof/consistency?from=%d) unless "+
				"the checkpoints are the same; the previous has size %d, the bundle's %d", prev.Size, prev.Size, cp.Size)
		}
		fmt.Fprintf(stdout, "verified: seq %d (leaf %s) is in %s at size %d, root %s\n", b.Seq, b.LeafHash,
			cp.Origin, cp.Size, cp.Root)
		return nil
	}
	var b audit.Consistency
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("%s is not a consistency bundle: %w", files[0], err)
	}
	cp, err := b.Verify(key)
	if err != nil {
		return proofFailure("consistency", err)
	}
	if err := ofLog(cp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified: %s at size %d (root %s) is a prefix of the log at size %d, root %s\n", cp.Origin,
		b.FromSize, b.FromRoot, cp.Size, cp.Root)
	if previous == "" {
		return nil
	}
	// The verified proof ties from_root at from_size to the checkpoint: the
	// previous checkpoint is consistent with it if it is either of them.
	switch {
	case prev.Size > cp.Size:
		return fmt.Errorf("the previous checkpoint has size %d, more than the bundle's %d: the log was cut back, "+
			"or the bundle is older than the checkpoint", prev.Size, cp.Size)
	case prev.Size == cp.Size && prev.Root != cp.Root:
		return fmt.Errorf("the previous checkpoint has size %d and root %s, the bundle's the same size and root %s: "+
			"two different logs", prev.Size, prev.Root, cp.Root)
	case prev.Size == cp.Size:
	case prev.Size != b.FromSize:
		return fmt.Errorf("the previous checkpoint has size %d, the bundle proves from size %d: "+
			"ask for GET /v1/audit/proof/consistency?from=%d", prev.Size, b.FromSize, prev.Size)
	case prev.Root != b.FromRoot:
		return fmt.Errorf("the previous checkpoint's root at size %d is %s, not the bundle's from_root %s: "+
			"the log was rewritten since", prev.Size, prev.Root, b.FromRoot)
	}
	fmt.Fprintf(stdout, "verified: the previous checkpoint (size %d, root %s) is consistent with it\n", prev.Size, prev.Root)
	return nil
}

// proofFailure names what failed in a bundle's verification: the
// checkpoint's signature or the proof.
func proofFailure(kind string, err error) error {
	if errors.Is(err, audit.ErrBadCheckpoint) {
		return fmt.Errorf("the bundle's checkpoint does not verify under --key: %w", err)
	}
	return fmt.Errorf("the %s proof does not verify against the bundle's checkpoint: %w", kind, err)
}
