package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("migrate", "migrate [--data-dir DIR | --database-url URL] [--root-key FILE]\n\n"+
		"Applies the embedded migrations and creates the instance keyset (user emails) unless present, then\n"+
		"gives every patient created before the per-patient key tier a keyset of their own (ward patient key).\n"+
		"With --database-url, the URL must be a role that may create roles and schemas (a superuser or\n"+
		"the operator's migration login), not ward_app. --root-key must be the server's root key.", stdout)
	addCommon(fs, &c, getenv)
	var pol policyFlags
	addPolicyFlags(fs, &pol)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := pol.validate(); err != nil {
		return err
	}
	ring, err := c.keyring(nil)
	if err != nil {
		return err
	}
	db, err := c.openDatabase(ctx, stderr, "migrate")
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := postgres.Migrate(ctx, db.superURL)
	if err != nil {
		return err
	}
	if err := pol.apply(ctx, db.superURL); err != nil {
		return err
	}
	keys := keystore.New(ring)
	if err := ensureInstanceKeys(ctx, keys, db.superURL); err != nil {
		return c.foreignRoot(err)
	}
	n, err := sealHoldTexts(ctx, keys, db.superURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	if n > 0 {
		fmt.Fprintf(stdout, "sealed the clear texts of %d legal hold(s) under their orgs' keys\n", n)
	}
	keyed, err := keyPatients(ctx, keys, db.superURL)
	if keyed > 0 {
		fmt.Fprintf(stdout, "gave %d patient(s) created before the per-patient key tier a keyset of their own\n", keyed)
	}
	if err != nil {
		return fmt.Errorf("the schema is migrated, but keying the patients failed (run `ward patient key` again): %w", err)
	}
	return nil
}

// ensureInstanceKeys creates the instance keyset, unless the key store holds
// it, through the privileged connection at url (never ward_app's), and
// checks that it opens under keys' root.
func ensureInstanceKeys(ctx context.Context, keys *keystore.Store, url string) error {
	ops, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer ops.Close()
	if err := keys.EnsureInstance(ctx, ops); err != nil {
		return err
	}
	// The audit log's checkpoint signing key, sealed under the instance keys.
	return keys.EnsureSigner(ctx, ops)
}

// sealHoldTexts seals the legal-hold texts written in the clear before
// migration 00280 (cases.SealHoldTexts), through the privileged
// connection at url, and returns how many holds it sealed a text of.
func sealHoldTexts(ctx context.Context, keys *keystore.Store, url string) (int, error) {
	ops, err := postgres.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer ops.Close()
	return cases.SealHoldTexts(ctx, ops, keys)
}
