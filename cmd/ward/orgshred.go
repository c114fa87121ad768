package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
)

// ShredReport is what `ward org shred` found, and, when it ran, destroyed
// (app.ops_org_shred): counts only.
type ShredReport struct {
	Org          uuid.UUID  `json:"org_id"`
	Name         string     `json:"name"`
	ShreddedAt   *time.Time `json:"shredded_at"`
	DryRun       bool       `json:"dry_run"`
	LegalHolds   int        `json:"legal_holds"`
	OpenRequests int        `json:"open_requests"`
	Patients     int        `json:"patients"`
	Cases        int        `json:"cases"`
	Documents    int        `json:"documents"`
	DataKeys     int        `json:"data_keys"`
	Keysets      int        `json:"keysets"`
	Members      int        `json:"members"`
	Sessions     int        `json:"sessions"`
	APIKeys      int        `json:"api_keys"`
	SCIMTokens   int        `json:"scim_tokens"`
	AuditSinks   int        `json:"audit_sinks"`
	// Erased is what the shred erased beside the keys (values sealed under
	// the instance keyset, app.ops_org_shred_erase); nil in a preview.
	Erased *ShredErased `json:"erased,omitempty"`
	// Again: the org was shredded before this run, which erased what was
	// left (an org shredded before the erasure existed).
	Again bool `json:"again,omitempty"`
}

// ShredErased counts what app.ops_org_shred_erase erased: the addresses of
// the people only the org knew, its case invitations' addresses, and its
// audit sinks' and SSO connections' secrets.
type ShredErased struct {
	Users       int `json:"users"`
	Invitations int `json:"invitations"`
	Secrets     int `json:"secrets"`
}

// runOrgShred is `ward org shred`: the operator crypto-shreds an org that
// leaves the instance (a terminated business associate agreement: return
// or destroy). Without --confirm-name it changes nothing and prints what
// would be destroyed and what stands in the way; with the org's exact
// name it destroys the org's keysets and data keys and ends every
// credential (app.ops_org_shred, migration 00268) and erases what the
// instance keyset sealed for the org's people and connections
// (app.ops_org_shred_erase, 00271), in one transaction; run again on a
// shredded org, it runs the erasure alone.
func runOrgShred(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var org, confirm, format string
	fs := newFlagSet("org shred", "org shred --org ID [--confirm-name NAME] [--format text|json] [--data-dir DIR | --database-url URL]\n\n"+
		"Crypto-shreds an org: destroys its AEAD and PRF keysets and every document's data key, so that every\n"+
		"PHI column, blind index and stored document of the org is noise, and ends every membership, session,\n"+
		"API key, SCIM token, invitation and sign-in link of it. The audit log stays (ids and actions, no PHI)\n"+
		"and records org.shred. It erases, in the same transaction, the addresses of the people only shredded orgs\n"+
		"knew, the org's invitations' addresses and its sinks' and SSO connections' secrets (sealed under the\n"+
		"instance keyset), and records org.shred_erase. It is refused while a legal hold of the org is live or a\n"+
		"data-subject request is open. Run again on a shredded org, it erases what is left and nothing else.\n"+
		"Without --confirm-name nothing changes: it prints what would be destroyed. Back-ups of the\n"+
		"key store taken before still hold the keys: destroy them too. It runs as a superuser or ward_ops.", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "the org to shred")
	fs.StringVar(&confirm, "confirm-name", "", "the org's exact name (as `ward org list` prints it, unquoted): shred for real")
	fs.StringVar(&format, "format", "text", "text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if org == "" {
		return withUsage(fs, errors.New("--org is required"))
	}
	id, err := uuid.Parse(org)
	if err != nil {
		return withUsage(fs, errors.New("--org: not an org id"))
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

	dry := confirm == ""
	name := confirm
	if dry {
		// The preview needs the name too (the function checks it whatever
		// it is asked): read it as the operator may (app.ops_org_state).
		if err := db.Pool.QueryRow(ctx, `select name from app.ops_org_state($1)`, id).Scan(&name); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errors.New("no such org")
			}
			return fmt.Errorf("org shred: %w", err)
		}
	}
	r := ShredReport{Org: id, DryRun: dry}
	shred := func(ctx context.Context, q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}, dry bool) error {
		return q.QueryRow(ctx, `select name, shredded_at, legal_holds, open_requests, patients, cases, documents,
			data_keys, keysets, members, sessions, api_keys, scim_tokens, audit_sinks from app.ops_org_shred($1, $2, $3)`,
			id, name, dry).Scan(&r.Name, &r.ShreddedAt, &r.LegalHolds, &r.OpenRequests, &r.Patients, &r.Cases,
			&r.Documents, &r.DataKeys, &r.Keysets, &r.Members, &r.Sessions, &r.APIKeys, &r.SCIMTokens, &r.AuditSinks)
	}
	erase := func(ctx context.Context, tx pgx.Tx) error {
		r.Erased = &ShredErased{}
		return tx.QueryRow(ctx, `select users, invitations, secrets from app.ops_org_shred_erase($1)`, id).Scan(
			&r.Erased.Users, &r.Erased.Invitations, &r.Erased.Secrets)
	}
	if dry {
		err = shred(ctx, db.Pool, true)
	} else {
		// The keys and what the instance keyset still opened go in one
		// transaction. An org shredded already (before its erasure
		// existed) has the erasure alone: the same name checked first.
		err = db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if err := shred(ctx, tx, false); err != nil {
				return err
			}
			return erase(ctx, tx)
		})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Hint == "org_shredded" {
			r.Again = true
			err = db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				if err := shred(ctx, tx, true); err != nil {
					return err
				}
				return erase(ctx, tx)
			})
		}
	}
	if err != nil {
		return shredError(err)
	}
	if !dry {
		// Give org.shred its place in the log now, as `ward org create`
		// does; a running server's integrator would too.
		integrateNow(ctx, db, slog.New(slog.NewJSONHandler(stderr, nil)), stderr, "the shred")
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.write(stdout)
}

func (r ShredReport) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "org\t%s %q\n", r.Org, r.Name)
	for _, l := range []struct {
		what string
		n    int
	}{
		{"patients", r.Patients}, {"cases", r.Cases}, {"documents", r.Documents}, {"document data keys", r.DataKeys},
		{"keysets", r.Keysets}, {"live members", r.Members}, {"live sessions", r.Sessions}, {"API keys", r.APIKeys},
		{"SCIM tokens", r.SCIMTokens}, {"enabled audit sinks", r.AuditSinks}, {"live legal holds", r.LegalHolds},
		{"open data-subject requests", r.OpenRequests},
	} {
		fmt.Fprintf(tw, "%s\t%d\n", l.what, l.n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	erased := ""
	if e := r.Erased; e != nil {
		erased = fmt.Sprintf("Erased: the addresses of %s only this org knew, of %s and %s of its audit sinks and SSO connections.\n",
			plural(e.Users, "person", "people"), plural(e.Invitations, "invitation", "invitations"), plural(e.Secrets, "secret", "secrets"))
	}
	switch {
	case r.Again:
		_, err := fmt.Fprintf(w, "Already shredded at %s.\n%s", r.ShreddedAt.UTC().Format(time.RFC3339), erased)
		return err
	case !r.DryRun:
		_, err := fmt.Fprintf(w, "Shredded at %s: the org's keysets and data keys are destroyed and its credentials ended.\n%s"+
			"Destroy the key store's back-ups taken before this time too.\n", r.ShreddedAt.UTC().Format(time.RFC3339), erased)
		return err
	case r.ShreddedAt != nil:
		_, err := fmt.Fprintf(w, "Already shredded at %s.\n%s", r.ShreddedAt.UTC().Format(time.RFC3339), erased)
		return err
	}
	var blocked []string
	if r.LegalHolds > 0 {
		blocked = append(blocked, "release its legal holds")
	}
	if r.OpenRequests > 0 {
		blocked = append(blocked, "close its open data-subject requests")
	}
	if len(blocked) > 0 {
		_, err := fmt.Fprintf(w, "Refused as it stands: %s first (an admin of the org does it; `ward login-link` signs one in).\n",
			strings.Join(blocked, " and "))
		return err
	}
	_, err := fmt.Fprintf(w, "Nothing changed. To destroy all of this: ward org shred --org %s --confirm-name %q\n", r.Org, r.Name)
	return err
}

// shredError turns app.ops_org_shred's refusals into the operator's words.
func shredError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("org shred: %w", err)
	}
	switch {
	case pe.Code == postgres.CodeInsufficientPrivilege && strings.HasPrefix(pe.Message, "permission denied"):
		return errors.New("org shred: this role may not shred an org (run it as a superuser or a member of ward_ops)")
	case pe.Hint == "no_such_org":
		return errors.New("no such org")
	case pe.Hint == "name_mismatch":
		return errors.New("--confirm-name is not the org's name: nothing was changed (ward org list prints it)")
	case pe.Hint == "legal_hold", pe.Hint == "open_requests", pe.Hint == "org_shredded":
		return fmt.Errorf("refused, nothing was changed: %s", strings.TrimPrefix(pe.Message, "ops_org_shred: "))
	}
	return fmt.Errorf("org shred: %w", err)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
