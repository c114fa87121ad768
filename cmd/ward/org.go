package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/tenancy"
)

// operatorConn is what the operator commands work with: the privileged
// connection, the key store and the sign-in service on top of them.
type operatorConn struct {
	auth *auth.Service
	keys *keystore.Store
	db   *postgres.DB
}

// operator opens the privileged connection the operator commands use: the
// embedded cluster's superuser, or --database-url (ward_ops or a superuser).
func (c *common) operator(ctx context.Context, stderr io.Writer, baseURL string) (*operatorConn, func(), error) {
	ring, err := c.keyring(nil)
	if err != nil {
		return nil, nil, err
	}
	dbase, err := c.openDatabase(ctx, stderr, "operator")
	if err != nil {
		return nil, nil, err
	}
	if dbase.cluster != nil {
		if _, err := postgres.Migrate(ctx, dbase.superURL); err != nil {
			dbase.Close()
			return nil, nil, err
		}
	}
	db, err := postgres.Open(ctx, dbase.superURL)
	if err != nil {
		dbase.Close()
		return nil, nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		dbase.Close()
		return nil, nil, err
	}
	keys := keystore.New(ring)
	if err := keys.EnsureInstance(ctx, db); err != nil {
		db.Close()
		dbase.Close()
		return nil, nil, err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	svc := auth.NewService(db, keys, mail.NewConsole(io.Discard), auth.Config{BaseURL: baseURL}, log)
	done := func() {
		// Give what this command recorded its place in the log, as a
		// running server's integrator would.
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := audit.NewIntegrator(db, log, 0).Once(ictx); err != nil {
			fmt.Fprintf(stderr, "ward: audit integration after the command failed (the server's integrator will retry): %v\n", err)
		}
		db.Close()
		dbase.Close()
	}
	return &operatorConn{auth: svc, keys: keys, db: db}, done, nil
}

func runOrg(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "usage: ward org create --name NAME --admin-email EMAIL")
			return nil
		}
		return errors.New("usage: ward org create --name NAME --admin-email EMAIL")
	}
	var c common
	var name, email string
	fs := newFlagSet("org create", "org create --name NAME --admin-email EMAIL [--data-dir DIR | --database-url URL]", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&name, "name", "", "the org's name")
	fs.StringVar(&email, "admin-email", "", "the first admin's email address")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch {
	case name == "" || email == "":
		return withUsage(fs, errors.New("--name and --admin-email are required"))
	case !identity.ValidEmail(email):
		return withUsage(fs, errors.New("--admin-email: not an email address"))
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	o, err := tenancy.CreateOrg(ctx, op.db, op.keys, name, email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "org_id=%s\nadmin_user_id=%s\n", o.ID, o.AdminID)
	return nil
}

func runLoginLink(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var email, org, base string
	fs := newFlagSet("login-link", "login-link --email EMAIL [--org ID] [--base-url URL]\n\n"+
		"Prints a one-time sign-in URL (the instance's link lifetime, 15 minutes by default; not bound to a browser): the operator's way in before mail works.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&email, "email", "", "the member's email address")
	fs.StringVar(&org, "org", "", "the org id (default: the member's first org)")
	fs.StringVar(&base, "base-url", "", "the server's public URL (default: env WARD_BASE_URL, else what `ward serve` recorded in DATA_DIR/server.json, else https://localhost:PORT of WARD_ADDR)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if email == "" {
		return withUsage(fs, errors.New("--email is required"))
	}
	var orgID uuid.NullUUID
	if org != "" {
		id, err := uuid.Parse(org)
		if err != nil {
			return errors.New("--org must be a UUID")
		}
		orgID = uuid.NullUUID{UUID: id, Valid: true}
	}
	op, done, err := c.operator(ctx, stderr, c.baseURL(base, getenv))
	if err != nil {
		return err
	}
	defer done()
	url, err := op.auth.OperatorLink(ctx, op.db, email, orgID)
	if errors.Is(err, auth.ErrNotFound) {
		return errors.New("no live member with that email address (in that org)")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, url)
	return nil
}
