// Command ward is the Ward server and its operator's tools.
//
//	ward serve        run the API (embedded PostgreSQL, dev TLS and console outbox by default)
//	ward migrate      apply the embedded database migrations
//	ward org create   create an org and its first admin (org list: every org; org shred: crypto-shred one that leaves)
//	ward login-link   print a one-time sign-in URL for a member
//	ward audit verify recompute and check the audit log
//	ward keys         rotate an org's keys and see their state
//	ward breach       scope an incident across orgs and end its credentials
//	ward user list    members and the state of their sign-in
//	ward dsr status   the data-subject request queue across orgs
//	ward patient key  give the patients created before the per-patient key tier a keyset of their own
//	ward deid         de-identify text
//	ward bench        measure the audited read path beside pgbench
//	ward version      print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := context.Background(), func() {}
	if len(os.Args) < 2 || os.Args[1] != "deid" {
		// (ward deid is a filter: an interrupt ends it at once, as it
		// ends cat, and it spares the signal thread's start-up)
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "ward: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "\n%s", ue.usage)
		}
		os.Exit(1)
	}
}

const usage = `usage: ward <command> [flags]

commands:
  serve         run the API server
  migrate       apply the embedded database migrations
  org create|list|shred
                create an org and its first admin; list the orgs with their members and sign-in policy;
                crypto-shred an org that leaves
  audit verify|export|proof verify|checkpoint key
                recompute every audit leaf, chain link and tree root; export an org's log (signed
                bundles too); check a proof bundle offline; print the checkpoints' verifier key
  keys status|rotate
                an org's key-encryption keys: their state; a new primary key and its data keys rewrapped
  breach scope|revoke
                an incident across orgs: what it touched in each org's audit log; end its credentials
  user list     an org's members, or one address's memberships: role, factors, lockout, sessions
  dsr status    the open data-subject requests of every org: due soon, overdue (ids and dates only)
  patient key   give every patient created before the per-patient key tier a keyset of their own
                (ward migrate does it after the migrations), so any patient can be crypto-shredded
  compliance report
                the HIPAA Security Rule control matrix, computed from the running system
  deid          de-identify text on stdin
  gateway provider add|list
                register the LLM gateway's subprocessors (BAA, zero retention)
  bench         benchmark the audited read path beside pgbench
  version       print the version

Run 'ward <command> --help' for a command's flags.
`

// run is the whole program: main only supplies the process's context,
// arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "org":
		err = runOrg(ctx, rest, getenv, stdout, stderr)
	case "login-link":
		err = runLoginLink(ctx, rest, getenv, stdout, stderr)
	case "audit":
		err = runAudit(ctx, rest, getenv, stdout, stderr)
	case "gateway":
		err = runGateway(ctx, rest, getenv, stdout, stderr)
	case "keys":
		err = runKeys(ctx, rest, getenv, stdout, stderr)
	case "breach":
		err = runBreach(ctx, rest, getenv, stdout, stderr)
	case "user":
		err = runUser(ctx, rest, getenv, stdout, stderr)
	case "dsr":
		err = runDSR(ctx, rest, getenv, stdout, stderr)
	case "patient":
		err = runPatient(ctx, rest, getenv, stdout, stderr)
	case "compliance":
		err = runCompliance(ctx, rest, getenv, stdout, stderr)
	case "deid":
		err = runDeid(ctx, rest, stdin, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, getenv, stdout, stderr)
	case "version":
		if len(rest) == 1 && (rest[0] == "--help" || rest[0] == "-help" || rest[0] == "-h") {
			fmt.Fprint(stdout, "usage: ward version\n\nPrints the version.\n")
			return nil
		}
		if len(rest) > 0 {
			return fmt.Errorf("version: unexpected argument %q", rest[0])
		}
		fmt.Fprintln(stdout, "ward", version())
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
