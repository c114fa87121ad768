package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Linking by address (migration 00177): a member who has an identity on a
// connection is not linked to another subject of it (already_linked, the
// event naming the member) until an admin ends their identities there
// (app.unlink_sso_identities, audited sso.identity.unlink); a Google
// connection links and creates no member by address unless the ID token's
// hd is a domain the org verified by DNS for it (hd_mismatch), while a
// link by subject stands without it.
func TestSSOLinkRules(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	const (
		org, conn, admin, boss, prov = "0f000000-0000-4000-8000-000000000001", "0f000000-0000-4000-8000-000000000002",
			"0f000000-0000-4000-8000-000000000011", "0f000000-0000-4000-8000-000000000012", "0f000000-0000-4000-8000-000000000013"
		fresh = "0f000000-0000-4000-8000-000000000014"
	)
	super := superExec(t, env)
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Workspace', '{}')`, org)
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('admin'), '\x00'), ($2, sha256('boss'), '\x00'),
	         ($3, sha256('prov'), '\x00')`, admin, boss, prov)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin'), ($1, $3, 'admin'), ($1, $4, 'provider')`,
		org, admin, boss, prov)
	super(`insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by, jit)
	         values ($1, $2, 'oidc', 'Google', 'https://accounts.google.com', 'ward', '\x00', $3, true)`, org, conn, admin)
	super(`insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by, domain_bidx) values
	         ($1, 'ws.test', $2, now(), 'dns', sha256('d:ws.test')),
	         ($1, 'pending.test', $2, null, null, sha256('d:pending.test'))`, org, conn)

	n := 0
	// signIn runs a sign-in through the connection as the server does
	// (begin, take, complete, all as ward_app) and returns its status and
	// the member it signed in.
	signIn := func(subject, email, hd string, user string) (status, uid string) {
		t.Helper()
		n++
		state, binder, sess := sha256.Sum256(fmt.Appendf(nil, "s%d", n)), sha256.Sum256(fmt.Appendf(nil, "b%d", n)),
			sha256.Sum256(fmt.Appendf(nil, "t%d", n))
		sub := sha256.Sum256([]byte(subject))
		bidx := sha256.Sum256([]byte(email[:len(email)-len("@ws.test")]))
		var hdArg, userArg any
		if hd != "" {
			hdArg = hd
		}
		if user != "" {
			userArg = user
		}
		err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.sso_begin(null, $1, $2, $3, $4)`, org, conn, state[:], binder[:]); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `select app.sso_take($1, $2)`, state[:], binder[:]); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select status, coalesce(user_id::text, '') from app.sso_complete($1, $2, $3, $4, '\x00', true,
			    'ws.test', '{}', null, $5, null, null, null, now(), $6)`, state[:], sub[:], userArg, bidx[:], sess[:], hdArg).
				Scan(&status, &uid)
		})
		if err != nil {
			t.Fatalf("sign-in of %s as %s (hd %q): %v", subject, email, hd, err)
		}
		return status, uid
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var c int
		if err := env.Super.Pool.QueryRow(ctx, q, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	identities := func(user string) int {
		return count(`select count(*) from app.sso_identities where connection_id = $1 and user_id = $2`, conn, user)
	}
	want := func(gotStatus, gotUser, status, user string) {
		t.Helper()
		if gotStatus != status || gotUser != user {
			t.Fatalf("sign-in: %s %q, want %s %q", gotStatus, gotUser, status, user)
		}
	}

	// Google without hd, or with a domain not verified for the connection:
	// a consumer account made with a work address links nobody.
	st, uid := signIn("consumer-1", "boss@ws.test", "", "")
	want(st, uid, "hd_mismatch", "")
	st, uid = signIn("consumer-1", "boss@ws.test", "pending.test", "")
	want(st, uid, "hd_mismatch", "")
	st, uid = signIn("consumer-1", "boss@ws.test", "gmail.com", "")
	want(st, uid, "hd_mismatch", "")
	// Nor does JIT create an account for one.
	st, uid = signIn("consumer-2", "newbie@ws.test", "", fresh)
	want(st, uid, "hd_mismatch", "")
	if c := count(`select count(*) from app.users where id = $1`, fresh); c != 0 {
		t.Fatal("JIT created a user for an account without hd")
	}
	if identities(boss) != 0 {
		t.Fatal("an account without hd was linked")
	}
	// The Workspace account: linked, and then by subject, hd or not.
	st, uid = signIn("workspace-boss", "boss@ws.test", "ws.test", "")
	want(st, uid, "ok", boss)
	st, uid = signIn("workspace-boss", "boss@ws.test", "", "")
	want(st, uid, "ok", boss)
	st, uid = signIn("workspace-new", "newbie@ws.test", "ws.test", fresh)
	want(st, uid, "ok", fresh)

	// Another subject with boss's address (another Workspace account, hd
	// and all) is not linked to boss as well.
	st, uid = signIn("workspace-boss-2", "boss@ws.test", "ws.test", "")
	want(st, uid, "already_linked", "")
	if identities(boss) != 1 {
		t.Fatalf("boss has %d identities", identities(boss))
	}
	if c := count(`select count(*) from audit.events where org_id = $1 and action = 'auth.signin' and outcome = 'denied'
	    and details->>'reason' = 'already_linked' and details->>'member' = $2`, org, boss); c != 1 {
		t.Fatalf("%d already_linked refusals naming boss", c)
	}

	// The admin re-links boss: a session with a fresh second factor.
	session := func(user, amr string, aal int, age string) postgres.Credential {
		t.Helper()
		n++
		sum := sha256.Sum256(fmt.Appendf(nil, "session%d", n))
		super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
		         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', $4, $5, now() - $6::interval)`,
			org, user, sum[:], aal, amr, age)
		return postgres.Credential{Hash: hex.EncodeToString(sum[:])}
	}
	unlink := func(cred postgres.Credential, user string) (int, error) {
		var k int
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select app.unlink_sso_identities($1, $2, 'req')`, conn, user).Scan(&k)
		})
		return k, err
	}
	var pe *pgconn.PgError
	if _, err := unlink(session(prov, "{email,totp}", 2, "0"), boss); !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("a provider unlinked: %v", err)
	}
	if _, err := unlink(session(admin, "{email,totp}", 2, "1 hour"), boss); !errors.As(err, &pe) || pe.Hint != "step_up_required" {
		t.Fatalf("an admin whose second factor is an hour old unlinked: %v", err)
	}
	adminCred := session(admin, "{email,totp}", 2, "0")
	if k, err := unlink(adminCred, boss); err != nil || k != 1 {
		t.Fatalf("unlink: %d %v", k, err)
	}
	if k, err := unlink(adminCred, boss); err != nil || k != 0 {
		t.Fatalf("unlink again: %d %v", k, err)
	}
	if c := count(`select count(*) from audit.events where org_id = $1 and action = 'sso.identity.unlink'
	    and object_id = $2 and details->>'identities' = '1'`, org, boss); c != 1 {
		t.Fatalf("%d sso.identity.unlink events", c)
	}
	// Boss's next sign-in links the subject the IdP names now; the old one
	// is the other subject then.
	st, uid = signIn("workspace-boss-2", "boss@ws.test", "ws.test", "")
	want(st, uid, "ok", boss)
	st, uid = signIn("workspace-boss", "boss@ws.test", "ws.test", "")
	want(st, uid, "already_linked", "")
}
