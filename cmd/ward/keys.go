package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/vault/envelope"
)

const keysUsage = `usage:
  ward keys status [--org ORG_ID]
  ward keys rotate (--org ORG_ID | --all) [--data-keys-only]
  ward keys root status|add|rotate|retire`

// runKeys is the operator's key rotation. `status` lists each org's AEAD
// keyset (keys, primary key id, created, last rotated) and how many of its
// document data keys are sealed under an older key. `rotate` adds a new
// primary key to an org's AEAD keyset and then rewraps the org's data keys
// under it (DESIGN §3: data keys are rewrapped, objects never
// re-encrypted); --data-keys-only only rewraps what is behind (documents
// uploaded while a rotation ran, or a rotation stopped half way). Older
// keys stay in the keyset, so every field sealed before still opens.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "root" {
		return runKeysRoot(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "status" && args[0] != "rotate") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, keysUsage)
			return nil
		}
		return errors.New(keysUsage)
	}
	var c common
	var orgFlag string
	var all, dataOnly bool
	fs := newFlagSet("keys "+args[0], keysUsage, stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&orgFlag, "org", "", "the org (its id; "+keystore.InstanceOrg.String()+" is the instance keyset, which seals user emails)")
	if args[0] == "rotate" {
		fs.BoolVar(&all, "all", false, "rotate every org's keyset and the instance's")
		fs.BoolVar(&dataOnly, "data-keys-only", false, "add no key: only rewrap data keys sealed under an older one")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var org uuid.UUID
	if orgFlag != "" {
		var err error
		if org, err = uuid.Parse(orgFlag); err != nil {
			return withUsage(fs, errors.New("--org: not an org id"))
		}
	}
	if args[0] == "rotate" && (orgFlag == "") == !all {
		return withUsage(fs, errors.New("give one of --org or --all"))
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	orgs := []uuid.UUID{org}
	if orgFlag == "" {
		if orgs, err = keystore.Orgs(ctx, op.db); err != nil {
			return err
		}
	}
	if args[0] == "status" {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORG\tKEYS\tPRIMARY\tCREATED\tROTATED\tDATA KEYS\tBEHIND")
		for _, o := range orgs {
			st, err := op.keys.Status(ctx, op.db, o)
			if err != nil {
				return err
			}
			rotated := "never"
			if !st.RotatedAt.IsZero() {
				rotated = st.RotatedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d\t%d\n", st.Org, st.Keys, st.Primary,
				st.CreatedAt.UTC().Format(time.RFC3339), rotated, st.DataKeys, st.DataKeysBehind)
		}
		return tw.Flush()
	}
	for _, o := range orgs {
		if !dataOnly {
			primary, err := op.keys.Rotate(ctx, op.db, o)
			if err != nil {
				return fmt.Errorf("org %s: %w", o, err)
			}
			fmt.Fprintf(stdout, "org=%s rotated primary_key_id=%d\n", o, primary)
		}
		n, err := op.keys.RewrapDataKeys(ctx, op.db, o)
		if err != nil {
			return fmt.Errorf("org %s: rewrapping its data keys stopped after %d (run ward keys rotate --org %s --data-keys-only to finish): %w", o, n, o, err)
		}
		fmt.Fprintf(stdout, "org=%s data_keys_rewrapped=%d\n", o, n)
	}
	return nil
}

const keysRootUsage = `usage: ward keys root status|add|rotate|retire [--data-dir DIR | --database-url URL] [--root-key FILE]

Rotating the local root key, in three steps (the root key file must stay 0600):
  ward keys root add      add a new root key, not yet primary; then put the file on every server's host
  ward keys root rotate   make the new key primary and rewrap every org keyset under it (audited)
  ward keys root retire   delete the old key from the file, refused while any keyset still needs it
ward keys root status lists the file's keys and how many stored keysets each wraps.`

// runKeysRoot rotates the local root key file (envelope's three steps:
// add, promote and rewrap, retire). add touches only the file; rotate and
// retire read and write the key store as the operator.
func runKeysRoot(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains([]string{"status", "add", "rotate", "retire"}, args[0]) {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, keysRootUsage)
			return nil
		}
		return errors.New(keysRootUsage)
	}
	var c common
	fs := newFlagSet("keys root "+args[0], "keys root "+args[0]+" [--data-dir DIR | --database-url URL] [--root-key FILE]", stdout)
	addCommon(fs, &c, getenv)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	path := c.rootKeyPath()
	// Never create a root here: a wrong path must fail, not start a new key.
	before, err := envelope.LocalRootKeys(path)
	if err != nil {
		return fmt.Errorf("root key: %w", err)
	}
	switch args[0] {
	case "add":
		id, err := envelope.AddLocalRootKey(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "root key added key_id=%d primary_key_id=%d\n", id, before.Primary)
		fmt.Fprintln(stdout, "next: put this file on every host that runs ward (running servers read it again when they meet a keyset they cannot unwrap; no restart), then run ward keys root rotate")
		return nil
	case "rotate":
		primary, err := envelope.PromoteLocalRootKey(path)
		switch {
		case errors.Is(err, envelope.ErrRootNothingToPromote):
			// An interrupted rotation finishes: its key is primary already.
			primary = before.Primary
			if len(before.IDs) == 1 {
				return errors.New("the root key file holds one key: run ward keys root add first")
			}
		case err != nil:
			return err
		default:
			fmt.Fprintf(stdout, "root key promoted primary_key_id=%d\n", primary)
		}
		op, done, err := c.operator(ctx, stderr, "")
		if err != nil {
			return err
		}
		defer done()
		n, err := op.keys.RewrapRoot(ctx, op.db, primary)
		if err != nil {
			return fmt.Errorf("rewrapping the keysets stopped after %d (run ward keys root rotate again to finish): %w", n, err)
		}
		fmt.Fprintf(stdout, "keysets_rewrapped=%d\n", n)
		fmt.Fprintln(stdout, "next: put the promoted file on every host that runs ward, then ward keys root retire (refused while any stored keyset still needs the old key)")
		return nil
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	use, err := keystore.RootUsage(ctx, op.db)
	if err != nil {
		return err
	}
	if args[0] == "status" {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ROOT KEY\tPRIMARY\tKEYSETS")
		for _, id := range before.IDs {
			fmt.Fprintf(tw, "%d\t%t\t%d\n", id, id == before.Primary, use[id])
		}
		for id, n := range use {
			if !slices.Contains(before.IDs, id) {
				fmt.Fprintf(tw, "%d\t(not in this file)\t%d\n", id, n)
			}
		}
		return tw.Flush()
	}
	// retire
	for id, n := range use {
		if id != before.Primary && n > 0 {
			return fmt.Errorf("%d stored keysets are still wrapped under root key %d: run ward keys root rotate first (nothing was deleted)", n, id)
		}
	}
	gone, err := envelope.RetireLocalRootKeys(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "root keys retired=%v primary_key_id=%d\n", gone, before.Primary)
	return nil
}
