package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/vault/envelope"
)

const userUsage = `usage: ward user list (--org ID | --email EMAIL) [--format text|json]`

// Member is one membership as `ward user list` shows it: ids, role, counts
// and dates, never an address or a name.
type Member struct {
	Org             uuid.UUID  `json:"org_id"`
	User            uuid.UUID  `json:"user_id"`
	Role            string     `json:"role"`
	MemberSince     time.Time  `json:"member_since"`
	RevokedAt       *time.Time `json:"revoked_at"`
	Passkeys        int        `json:"passkeys"`
	TOTP            bool       `json:"totp"`
	TOTPLockedUntil *time.Time `json:"totp_locked_until"`
	RecoveryCodes   int        `json:"recovery_codes_left"`
	LiveSessions    int        `json:"live_sessions"`
	LastSignIn      *time.Time `json:"last_sign_in"`
}

// runUser is `ward user list`: the operator's view of an org's members, or
// of one address's memberships in every org, with the state of their
// sign-in (app.ops_members): what answers "why can't this person sign in?"
// without an org admin's session. The address is matched by its blind
// index (as `ward login-link` finds a member); nothing printed names
// anyone.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprintln(stdout, userUsage)
			return nil
		}
		return errors.New(userUsage)
	}
	var c common
	var org, email, format string
	fs := newFlagSet("user list", "user list (--org ID | --email EMAIL) [flags]\n\n"+
		"The members of an org, or the memberships of one address in every org: role, since when, whether\n"+
		"revoked, passkeys, a confirmed TOTP factor and its lockout, recovery codes left, live sessions and\n"+
		"the last sign-in. Ids, counts and dates only. It runs as a superuser or ward_ops, with the root key\n"+
		"(to find an address by its blind index).", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "the org whose members to list")
	fs.StringVar(&email, "email", "", "the address whose memberships to list")
	fs.StringVar(&format, "format", "text", "text or json")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	orgArg, err := optionalOrg(fs, org)
	if err != nil {
		return err
	}
	if org == "" && email == "" {
		return withUsage(fs, errors.New("name an org (--org) or an address (--email)"))
	}
	if email != "" && !identity.ValidEmail(email) {
		return withUsage(fs, errors.New("--email: not an email address"))
	}
	if format != "text" && format != "json" {
		return withUsage(fs, fmt.Errorf("--format: %q is not text or json", format))
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	var bidx any
	if email != "" {
		inst, err := op.keys.Instance(ctx, op.db)
		if err != nil {
			return err
		}
		bidx = inst.BlindIndex("users.email", envelope.NormalizeEmail(email))
	}
	members, err := listMembers(ctx, op.db.Pool, orgArg, bidx)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(members)
	}
	if len(members) == 0 {
		fmt.Fprintln(stdout, "No member found.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tUSER\tROLE\tSINCE\tREVOKED\tPASSKEYS\tTOTP\tRECOVERY CODES\tLIVE SESSIONS\tLAST SIGN-IN")
	day := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, m := range members {
		totp := "no"
		if m.TOTP {
			totp = "yes"
		}
		if m.TOTPLockedUntil != nil {
			totp = "locked until " + day(m.TOTPLockedUntil)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\n", m.Org, m.User, m.Role,
			m.MemberSince.UTC().Format(time.DateOnly), day(m.RevokedAt), m.Passkeys, totp, m.RecoveryCodes,
			m.LiveSessions, day(m.LastSignIn))
	}
	return tw.Flush()
}

// listMembers reads app.ops_members.
func listMembers(ctx context.Context, pool *pgxpool.Pool, org, bidx any) ([]Member, error) {
	rows, err := pool.Query(ctx, `select org_id, user_id, role, member_since, revoked_at, passkeys, totp,
		totp_locked_until, recovery_codes, live_sessions, last_sign_in from app.ops_members($1, $2)`, org, bidx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	members := []Member{}
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.Org, &m.User, &m.Role, &m.MemberSince, &m.RevokedAt, &m.Passkeys, &m.TOTP,
			&m.TOTPLockedUntil, &m.RecoveryCodes, &m.LiveSessions, &m.LastSignIn); err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return members, nil
}
