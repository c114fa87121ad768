package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wardhq/ward/internal/postgres"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlagSet("migrate", "migrate [--data-dir DIR | --database-url URL]\n\n"+
		"Applies the embedded migrations. With --database-url, the URL must be a role that may create\n"+
		"roles and schemas (a superuser or the operator's migration login), not ward_app.", stderr)
	addCommon(fs, &c, getenv)
	var pol policyFlags
	addPolicyFlags(fs, &pol)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := c.openDatabase(ctx, stderr)
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
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	return nil
}
