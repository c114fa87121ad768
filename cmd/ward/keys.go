package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/keystore"
)

const keysUsage = `usage:
  ward keys status [--org ORG_ID]
  ward keys rotate (--org ORG_ID | --all) [--data-keys-only]`

// runKeys is the operator's key rotation. `status` lists each org's AEAD
// keyset (keys, primary key id, created, last rotated) and how many of its
// document data keys are sealed under an older key. `rotate` adds a new
// primary key to an org's AEAD keyset and then rewraps the org's data keys
// under it (DESIGN §3: data keys are rewrapped, objects never
// re-encrypted); --data-keys-only only rewraps what is behind (documents
// uploaded while a rotation ran, or a rotation stopped half way). Older
// keys stay in the keyset, so every field sealed before still opens.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
