package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/compliance"
	"github.com/wardhq/ward/internal/postgres"
)

const complianceUsage = `usage: ward compliance report [--format markdown|json|html] [--out FILE] [--server HOST:PORT] [--key VKEY|FILE] [--fail-on gap|partial]`

// runCompliance is `ward compliance report`: the HIPAA Security Rule
// control matrix computed from the running system (internal/compliance).
// It connects as the operator (a superuser, or ward_ops; to verify the
// audit logs, also ward_audit_reader) and, given --server, probes the
// server's TLS. The report is written whole or not at all; with --fail-on
// it exits non-zero when a control is marked that badly, for a pipeline
// that gates on it.
func runCompliance(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "report" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, complianceUsage)
			return nil
		}
		return errors.New(complianceUsage)
	}
	var c common
	var format, out, server, serverName, caFile, keyArg, failOn string
	var opts compliance.Options
	fs := newFlagSet("compliance report", "compliance report [flags]\n\n"+
		"Marks each HIPAA Security Rule control Ward meets or supports PASS, PARTIAL, GAP or N/A with the\n"+
		"evidence the running system produced: row-level security on every table, database roles,\n"+
		"session timeouts, MFA for admins, key age, the audit logs verified, archive retention read\n"+
		"back, BAAs on file and, with --server, the server's TLS.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&format, "format", "markdown", "markdown, json or html")
	fs.StringVar(&out, "out", "", "write the report to this file (default: standard output)")
	fs.StringVar(&server, "server", getenv("WARD_COMPLIANCE_SERVER"), "the running server's host:port, to probe its TLS (env WARD_COMPLIANCE_SERVER)")
	fs.StringVar(&serverName, "server-name", "", "the name its certificate must be valid for (default: --server's host)")
	fs.StringVar(&caFile, "ca", "", "PEM file of the authorities to verify its certificate against (default: the system's)")
	fs.StringVar(&keyArg, "key", "", "the audit checkpoints' verifier key or a file holding it (`ward audit checkpoint key`): also check each log against its signed checkpoints")
	fs.DurationVar(&opts.MaxIdle, "max-idle", 30*time.Minute, "the longest session idle timeout that passes automatic logoff")
	fs.DurationVar(&opts.MaxKeyAge, "max-key-age", 365*24*time.Hour, "the oldest primary key that passes encryption")
	fs.IntVar(&opts.MinRetentionDays, "min-retention-days", 2190, "the shortest archive retention that passes, in days")
	fs.StringVar(&failOn, "fail-on", "", "exit non-zero when a control is marked gap (or partial: partial or gap)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if !slices.Contains(append(compliance.Formats, "md"), format) {
		return withUsage(fs, fmt.Errorf("--format: %q is not one of %s", format, strings.Join(compliance.Formats, ", ")))
	}
	if failOn != "" && failOn != "gap" && failOn != "partial" {
		return withUsage(fs, fmt.Errorf("--fail-on: %q is not gap or partial", failOn))
	}
	if opts.MaxIdle <= 0 || opts.MaxKeyAge <= 0 || opts.MinRetentionDays <= 0 {
		return withUsage(fs, errors.New("--max-idle, --max-key-age and --min-retention-days must be positive"))
	}
	opts.Server, opts.ServerName = server, serverName
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
		opts.Roots = x509.NewCertPool()
		if !opts.Roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca: %s holds no PEM certificate", caFile)
		}
	}
	// --key is the key itself when it parses as one, else a file holding it.
	opts.VerifierKey = keyArg
	if _, err := note.NewVerifier(keyArg); keyArg != "" && err != nil {
		b, err := os.ReadFile(keyArg)
		if err != nil {
			return withUsage(fs, fmt.Errorf("--key: neither a checkpoint verifier key nor a readable file: %w", err))
		}
		if opts.VerifierKey = strings.TrimSpace(string(b)); opts.VerifierKey == "" {
			return withUsage(fs, fmt.Errorf("--key: %s is empty", keyArg))
		}
	}
	if opts.VerifierKey != "" {
		if _, err := note.NewVerifier(opts.VerifierKey); err != nil {
			return withUsage(fs, fmt.Errorf("--key: not a checkpoint verifier key (`ward audit checkpoint key` prints it): %w", err))
		}
	}

	dbase, db, err := c.openChecked(ctx, stderr, "compliance")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	reader := db
	if asReader, err := auditReader(ctx, db); err != nil {
		fmt.Fprintf(stderr, "ward: the audit logs are not verified: %v\n", err)
		reader = nil
	} else if asReader {
		if reader, err = postgres.OpenAs(ctx, dbase.superURL, "ward_audit_reader"); err != nil {
			return err
		}
		defer reader.Close()
	}
	rep, err := compliance.Gather(ctx, db, reader, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, format); err != nil {
		return err
	}
	if out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFileAtomic(out, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	gaps, partial := rep.Count(compliance.Gap), rep.Count(compliance.Partial)
	switch {
	case failOn == "gap" && gaps > 0:
		return fmt.Errorf("compliance report: %d controls marked GAP", gaps)
	case failOn == "partial" && gaps+partial > 0:
		return fmt.Errorf("compliance report: %d controls marked GAP, %d PARTIAL", gaps, partial)
	}
	return nil
}
