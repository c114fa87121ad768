package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
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
		return nil, nil, c.foreignRoot(err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	svc := auth.NewService(db, keys, mail.NewConsole(io.Discard), auth.Config{BaseURL: baseURL}, log)
	done := func() {
		integrateNow(ctx, db, log, stderr, "the command")
		db.Close()
		dbase.Close()
	}
	return &operatorConn{auth: svc, keys: keys, db: db}, done, nil
}

func runOrg(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const orgUsage = "usage: ward org create --name NAME --admin-email EMAIL\n       ward org list [--format text|json]\n" +
		"       ward org shred --org ID [--confirm-name NAME] [--format text|json]"
	if len(args) > 0 && args[0] == "list" {
		return runOrgList(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "shred" {
		return runOrgShred(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, orgUsage)
			return nil
		}
		return errors.New(orgUsage)
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

// OrgSummary is one org as `ward org list` shows it: its name, counts and
// sign-in policy, nothing of any person.
type OrgSummary struct {
	ID             uuid.UUID  `json:"org_id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	Members        int        `json:"members"`
	Admins         int        `json:"admins"`
	Patients       int        `json:"patients"`
	RequireMFA     bool       `json:"require_mfa"`
	RequirePasskey bool       `json:"require_passkey"`
	EnforceSSO     bool       `json:"enforce_sso"`
	IdleTimeoutMin int        `json:"idle_timeout_min"`
	AbsoluteMaxMin int        `json:"absolute_max_min"`
	ShreddedAt     *time.Time `json:"shredded_at"`
}

// maxListedOrgs is the most orgs app.ops_orgs returns, oldest first.
const maxListedOrgs = 10000

// runOrgList is `ward org list`: every org on the instance
// (app.ops_orgs, the oldest maxListedOrgs), for the operator.
func runOrgList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var format string
	fs := newFlagSet("org list", "org list [--format text|json] [--data-dir DIR | --database-url URL]\n\n"+
		"Every org on the instance: its id, name, since when, live members and admins, patients, and its\n"+
		"sign-in policy. It runs as a superuser or ward_ops.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&format, "format", "text", "text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if format != "text" && format != "json" {
		return withUsage(fs, fmt.Errorf("--format: %q is not text or json", format))
	}
	dbase, db, err := c.openChecked(ctx, stderr, "org")
	if err != nil {
		return err
	}
	defer dbase.Close()
	defer db.Close()
	rows, err := db.Pool.Query(ctx, `select id, name, created_at, members, admins, patients, require_mfa,
		require_passkey, enforce_sso, idle_timeout_min, absolute_max_min, shredded_at from app.ops_orgs()`)
	if err != nil {
		return fmt.Errorf("list orgs: %w", err)
	}
	defer rows.Close()
	orgs := []OrgSummary{}
	for rows.Next() {
		var o OrgSummary
		if err := rows.Scan(&o.ID, &o.Name, &o.CreatedAt, &o.Members, &o.Admins, &o.Patients, &o.RequireMFA,
			&o.RequirePasskey, &o.EnforceSSO, &o.IdleTimeoutMin, &o.AbsoluteMaxMin, &o.ShreddedAt); err != nil {
			return fmt.Errorf("list orgs: %w", err)
		}
		orgs = append(orgs, o)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list orgs: %w", err)
	}
	if len(orgs) >= maxListedOrgs {
		// app.ops_orgs stops there (it counts each org's members and
		// patients): say so rather than let the list pass for every org.
		fmt.Fprintf(stderr, "ward org list: the %d oldest orgs only; the instance may hold more\n", maxListedOrgs)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(orgs)
	}
	if len(orgs) == 0 {
		fmt.Fprintln(stdout, "No org yet: ward org create --name NAME --admin-email EMAIL")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tNAME\tSINCE\tMEMBERS\tADMINS\tPATIENTS\tMFA\tPASSKEY\tSSO\tIDLE\tLIFETIME\tSHREDDED")
	for _, o := range orgs {
		shredded := "-"
		if o.ShreddedAt != nil {
			shredded = o.ShreddedAt.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%t\t%t\t%t\t%dm\t%dm\t%s\n", o.ID, strconv.Quote(o.Name),
			o.CreatedAt.UTC().Format(time.DateOnly), o.Members, o.Admins, o.Patients, o.RequireMFA, o.RequirePasskey,
			o.EnforceSSO, o.IdleTimeoutMin, o.AbsoluteMaxMin, shredded)
	}
	return tw.Flush()
}

// integrateNow gives what an operator's command recorded its place in the
// log (sequence, chain, tree) at once, as a running server's integrator
// would; a failure is reported on stderr, not returned: the server's
// integrator retries. after names what was recorded, for the message.
func integrateNow(ctx context.Context, db *postgres.DB, log *slog.Logger, stderr io.Writer, after string) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := audit.NewIntegrator(db, log, 0).Once(ictx); err != nil {
		fmt.Fprintf(stderr, "ward: audit integration after %s failed (the server's integrator will retry): %v\n", after, err)
	}
}
