package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/records"
)

const patientUsage = "usage: ward patient key [--org ID] [--data-dir DIR | --database-url URL] [--root-key FILE]"

// runPatient is `ward patient key`.
func runPatient(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(stdout, patientUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "key" {
		return errors.New(patientUsage)
	}
	var c common
	var org string
	fs := newFlagSet("patient key", "patient key [--org ID] [--data-dir DIR | --database-url URL] [--root-key FILE]\n\n"+
		"Gives every patient created before the per-patient key tier (migration 00275) a keyset of their own and\n"+
		"seals again under it what their record's keys sealed: the record's fields, each entry's note, each\n"+
		"amendment request's texts; one patient per transaction. Afterwards any patient can be crypto-shredded\n"+
		"alone. `ward migrate` runs it after the migrations; run it again after an interrupted upgrade. It records\n"+
		"patient.key in each org's log with the count. It runs as a superuser or ward_ops, with the server's root key.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "key the patients of this org only")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var only uuid.NullUUID
	if org != "" {
		id, err := uuid.Parse(org)
		if err != nil {
			return withUsage(fs, errors.New("--org: not an org id"))
		}
		only = uuid.NullUUID{UUID: id, Valid: true}
	}
	ring, err := c.keyring(nil)
	if err != nil {
		return err
	}
	dbase, db, err := c.openChecked(ctx, stderr, "patient")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	k, err := records.KeyPatients(ctx, db, keystore.New(ring), only)
	if k.Patients > 0 {
		// Give patient.key its place in the log now, as `ward org shred`
		// does; a running server's integrator would too.
		integrateNow(ctx, db, slog.New(slog.NewJSONHandler(stderr, nil)), stderr, "the keying")
	}
	fmt.Fprintf(stdout, "keyed %d patient(s) in %d org(s)\n", k.Patients, len(k.Orgs))
	if err != nil {
		return c.foreignRoot(fmt.Errorf("patient key: %w", err))
	}
	return nil
}

// keyPatients gives the patients created before the per-patient key tier
// a keyset of their own (records.KeyPatients), through the privileged
// connection at url, and returns how many it keyed.
func keyPatients(ctx context.Context, keys *keystore.Store, url string) (int, error) {
	ops, err := postgres.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer ops.Close()
	k, err := records.KeyPatients(ctx, ops, keys, uuid.NullUUID{})
	return k.Patients, err
}
