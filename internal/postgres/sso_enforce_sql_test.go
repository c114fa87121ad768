package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Once an org enforces SSO, a member whose address is on a domain it
// verified holds a session in it only from its IdP, or a break-glass one
// (migration 00128): turning enforcement on (or verifying a domain while it
// is on) ends the other sessions and unspent sign-in links in the same
// transaction, the resolver refuses such a session whenever it was issued,
// and no function can issue one. Members on other domains, other orgs and
// SSO sessions go on as before.
func TestSSOEnforcedEverywhere(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	const (
		org, other         = "0e000000-0000-4000-8000-000000000001", "0e000000-0000-4000-8000-000000000002"
		conn               = "0e000000-0000-4000-8000-000000000003"
		admin, prov, guest = "0e000000-0000-4000-8000-000000000011", "0e000000-0000-4000-8000-000000000012", "0e000000-0000-4000-8000-000000000013"
		late, clinic       = "0e000000-0000-4000-8000-000000000014", "0e000000-0000-4000-8000-000000000015"
		boss               = "0e000000-0000-4000-8000-000000000016"
	)
	// The domain indexes the server would compute (here plain hashes).
	super := superExec(t, env)
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Hospital', '{}'), ($2, 'Other', '{}')`, org, other)
	super(`insert into app.users (id, email_bidx, email_enc) values
	         ($1, sha256('admin'), '\x00'), ($2, sha256('prov'), '\x00'), ($3, sha256('guest'), '\x00'),
	         ($4, sha256('late'), '\x00'), ($5, sha256('clinic'), '\x00')`, admin, prov, guest, late, clinic)
	// The admin and the guest are on other domains; late's domain is not
	// noted yet (a user written before 00128).
	super(`insert into app.email_domains (email_bidx, domain_bidx) values
	         (sha256('admin'), sha256('d:elsewhere.test')), (sha256('prov'), sha256('d:hospital.test')),
	         (sha256('guest'), sha256('d:gmail.test')), (sha256('clinic'), sha256('d:clinic.test'))`)
	super(`insert into app.memberships (org_id, user_id, role) values
	         ($1, $3, 'admin'), ($1, $4, 'provider'), ($1, $5, 'stakeholder'), ($1, $6, 'admin'), ($1, $7, 'provider'),
	         ($2, $4, 'provider')`, org, other, admin, prov, guest, late, clinic)
	super(`insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
	         values ($1, $2, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x00', $3)`, org, conn, admin)
	super(`insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by, domain_bidx) values
	         ($1, 'hospital.test', $2, now(), 'dns', sha256('d:hospital.test')),
	         ($1, 'clinic.test', $2, null, null, sha256('d:clinic.test'))`, org, conn)

	n := 0
	session := func(org, user string, amr string, breakGlass bool) (id, hash string) {
		t.Helper()
		n++
		sum := sha256.Sum256([]byte{byte(n), 'x'})
		aal := 1
		if breakGlass || amr != "{email}" && amr != "{sso}" && amr != "{passkey}" {
			aal = 2
		}
		if err := env.Super.Pool.QueryRow(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min,
			absolute_expires_at, assurance, amr, break_glass) values ($1, $2, $3, 60, now() + interval '50 minutes', $4, $5, $6)
			returning id::text`, org, user, sum[:], aal, amr, breakGlass).Scan(&id); err != nil {
			t.Fatalf("session %s %s: %v", user, amr, err)
		}
		return id, hex.EncodeToString(sum[:])
	}
	// whoami is the user the credential resolves to ("" for nobody).
	whoami := func(hash string) string {
		t.Helper()
		var uid string
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: hash}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select coalesce((select user_id::text from app.whoami() where pending is null), '')`).Scan(&uid)
		})
		if err != nil {
			t.Fatal(err)
		}
		return uid
	}
	revoked := func(id string) string {
		t.Helper()
		var r string
		if err := env.Super.Pool.QueryRow(ctx, `select coalesce(revoked_reason, '-') from app.sessions where id = $1`, id).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	refusedSSO := func(err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege || pe.ConstraintName != "sso_required" {
			t.Fatalf("want 42501 sso_required, got %v", err)
		}
	}

	_, adminHash := session(org, admin, "{email,totp}", false)
	linkID, linkHash := session(org, prov, "{email}", false)
	passkeyID, passkeyHash := session(org, prov, "{passkey}", false)
	_, ssoHash := session(org, prov, "{sso}", false)
	_, ssoTOTPHash := session(org, prov, "{sso,totp}", false)
	_, glassHash := session(org, prov, "{passkey}", true)
	_, otherOrgHash := session(other, prov, "{email}", false)
	_, guestHash := session(org, guest, "{email}", false)
	lateID, lateHash := session(org, late, "{email,totp}", false)
	clinicID, clinicHash := session(org, clinic, "{email}", false)
	var unspent, spent string
	super(`insert into app.magic_links (org_id, user_id, token_hash, expires_at) values ($1, $2, sha256('l1'), now() + interval '10 minutes')`, org, prov)
	super(`insert into app.magic_links (org_id, user_id, token_hash, expires_at) values ($1, $2, sha256('l2'), now() + interval '10 minutes')`, org, guest)
	_ = env.Super.Pool.QueryRow(ctx, `select encode(sha256('l1'), 'hex'), encode(sha256('l2'), 'hex')`).Scan(&unspent, &spent)

	// Admin API keys: one of an admin on the enforced domain (boss), one of
	// the admin on another; a key resolves with no session, so no amr.
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('boss'), '\x00')`, boss)
	super(`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('boss'), sha256('d:hospital.test'))`)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, boss)
	super(`insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by) values
	         ($1, sha256('k-boss'), 'sk_live_boss', 'boss', '{members}', $2),
	         ($1, sha256('k-admin'), 'sk_live_admn', 'admin', '{members}', $3),
	         ($1, sha256('k-late'), 'sk_live_late', 'late', '{members}', $4)`, org, boss, admin, late)
	var bossKey, adminKey, lateKey string
	_ = env.Super.Pool.QueryRow(ctx, `select encode(sha256('k-boss'), 'hex'), encode(sha256('k-admin'), 'hex'),
		encode(sha256('k-late'), 'hex')`).Scan(&bossKey, &adminKey, &lateKey)

	// Before enforcement every door is open (the test would pass vacuously otherwise).
	if whoami(bossKey) != boss || whoami(adminKey) != admin {
		t.Fatal("before enforcement, the admins' API keys do not resolve")
	}
	for _, h := range []string{linkHash, passkeyHash, ssoHash} {
		if got := whoami(h); got != prov {
			t.Fatalf("before enforcement, a session of prov resolves to %q", got)
		}
	}

	// (0) Enforcement is refused while a member's domain is not noted
	// (late: the start-up backfill has not run), naming how many (00130).
	setPolicy := func(on bool) error {
		return env.App.InTenantTx(ctx, postgres.Credential{Hash: adminHash}, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select app.set_sso_policy($1)`, on)
			return err
		})
	}
	var pe *pgconn.PgError
	if err := setPolicy(true); !errors.As(err, &pe) || pe.Code != "55000" || pe.ConstraintName != "sso_domain_gaps" || pe.Detail != "1" {
		t.Fatalf("enforcing with a member's domain not noted: want 55000 sso_domain_gaps (1), got %v", err)
	}
	// The backfill notes late's address (on another domain, for now).
	super(`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('late'), sha256('d:elsewhere.test'))`)

	// The admin turns enforcement on.
	if err := setPolicy(true); err != nil {
		t.Fatal(err)
	}
	// (1) prov's sessions from before, by link and by passkey, ended in that transaction.
	for _, id := range []string{linkID, passkeyID} {
		if got := revoked(id); got != "sso_enforced" {
			t.Errorf("session %s after enforcement: revoked %q", id, got)
		}
	}
	var sessionsEnded, linksEnded, keysEnded int
	if err := env.Super.Pool.QueryRow(ctx, `select (details->>'sessions_ended')::int, (details->>'links_ended')::int,
		coalesce((details->>'keys_ended')::int, -1)
		from audit.events where org_id = $1 and action = 'sso.policy.update'`, org).Scan(&sessionsEnded, &linksEnded,
		&keysEnded); err != nil {
		t.Fatal(err)
	}
	if sessionsEnded != 2 || linksEnded != 1 || keysEnded != 1 {
		t.Errorf("audited: %d sessions, %d links and %d keys ended, want 2, 1 and 1", sessionsEnded, linksEnded, keysEnded)
	}
	// ... and prov's unspent link, not the guest's.
	var live []bool
	if err := env.Super.Pool.QueryRow(ctx, `select array_agg(expires_at > now() order by token_hash = decode($1, 'hex') desc)
		from app.magic_links where token_hash in (decode($1, 'hex'), decode($2, 'hex'))`, unspent, spent).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || live[0] || !live[1] {
		t.Errorf("links live after enforcement (prov's, the guest's): %v", live)
	}
	for name, c := range map[string]struct{ hash, want string }{
		"prov's link session":                      {linkHash, ""},
		"prov's passkey session":                   {passkeyHash, ""},
		"prov's SSO session":                       {ssoHash, prov},
		"prov's SSO session with TOTP":             {ssoTOTPHash, prov},
		"prov's break-glass session":               {glassHash, prov},
		"prov's session in another org":            {otherOrgHash, prov},
		"the admin (another domain)":               {adminHash, admin},
		"the guest (another domain)":               {guestHash, guest},
		"a member on a claimed, unverified domain": {clinicHash, clinic},
		"a member noted on another domain":         {lateHash, late},
		"that member's API key":                    {lateKey, late},
		"the enforced-domain admin's API key":      {bossKey, ""},
		"the other admin's API key":                {adminKey, admin},
	} {
		if got := whoami(c.hash); got != c.want {
			t.Errorf("%s resolves to %q, want %q", name, got, c.want)
		}
	}

	// (3) No function issues prov a session that is not from the IdP: a
	// magic link is refused (audited, the link unspent); under it, the
	// session row (a passkey sign-in, a case invitation insert the same)
	// is refused whoever writes it; an SSO session is not.
	super(`insert into app.magic_links (org_id, user_id, token_hash, expires_at) values ($1, $2, sha256('l3'), now() + interval '10 minutes')`, org, prov)
	var status string
	if err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select status from app.consume_magic_link(sha256('l3'), null, sha256('new session'), null, null)`).Scan(&status)
	}); err != nil || status != "sso_required" {
		t.Fatalf("consuming a link of prov after enforcement: %q, %v", status, err)
	}
	var denied int
	var used bool
	if err := env.Super.Pool.QueryRow(ctx, `select (select count(*) from audit.events where org_id = $1 and action = 'auth.signin'
		and outcome = 'denied' and details->>'reason' = 'sso_required'), (select used_at is not null from app.magic_links
		where token_hash = sha256('l3'))`, org).Scan(&denied, &used); err != nil || denied != 1 || used {
		t.Fatalf("the refused link: %d denials audited, spent %v (%v)", denied, used, err)
	}
	_, err := env.Super.Pool.Exec(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min,
		absolute_expires_at, assurance, amr) values ($1, $2, sha256('pk'), 60, now() + interval '1 hour', 2, '{passkey}')`, org, prov)
	refusedSSO(err)
	session(org, prov, "{sso}", false)
	session(org, guest, "{email}", false)

	// A gap appearing under enforcement (late's note lost, as in a partial
	// restore) fails closed: late's link session resolves to nobody and no
	// link session is issued to late. Keys are not held by the resolver.
	super(`delete from app.email_domains where email_bidx = sha256('late')`)
	if got := whoami(lateHash); got != "" {
		t.Errorf("under enforcement, a link session of a member whose domain is not noted resolves to %q", got)
	}
	_, err = env.Super.Pool.Exec(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min,
		absolute_expires_at, assurance, amr) values ($1, $2, sha256('late2'), 60, now() + interval '1 hour', 1, '{email}')`, org, late)
	refusedSSO(err)
	if got := whoami(lateKey); got != late {
		t.Fatalf("before the note, late's API key resolves to %q", got)
	}
	// The backfill notes late's domain, the enforced one: late's session
	// and API key end in that transaction, audited (00130).
	if err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.note_email_domain(sha256('late'), sha256('d:hospital.test'))`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := revoked(lateID); got != "sso_enforced" {
		t.Errorf("late's link session after the note: revoked %q", got)
	}
	if got := whoami(lateKey); got != "" {
		t.Errorf("late's API key after the note resolves to %q", got)
	}
	var bound struct {
		reason, user   string
		sessions, keys int
	}
	if err := env.Super.Pool.QueryRow(ctx, `select details->>'reason', object_id::text, (details->>'sessions_ended')::int,
		(details->>'keys_ended')::int from audit.events where org_id = $1 and action = 'sso.enforce.revoke'`, org).Scan(
		&bound.reason, &bound.user, &bound.sessions, &bound.keys); err != nil {
		t.Fatal(err)
	}
	if bound.reason != "domain_noted" || bound.user != late || bound.sessions != 1 || bound.keys != 1 {
		t.Errorf("audited binding: %+v", bound)
	}

	// A sign-in the sessions trigger refused names the org and the member
	// (ids only), and the server records the denial in a transaction of
	// its own; the database records it only for a member it finds bound.
	_, err = env.Super.Pool.Exec(ctx, `insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min,
		absolute_expires_at, assurance, amr) values ($1, $2, sha256('pk2'), 60, now() + interval '1 hour', 2, '{passkey}')`, org, prov)
	if !errors.As(err, &pe) || pe.Detail != org+" "+prov {
		t.Fatalf("the refusal's detail: %v", err)
	}
	auditRefusal := func(user, method string) (bool, error) {
		var ok bool
		err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select app.audit_sso_required($1, $2, $3)`, org, user, method).Scan(&ok)
		})
		return ok, err
	}
	if ok, err := auditRefusal(prov, "passkey"); err != nil || !ok {
		t.Fatalf("recording prov's refused passkey sign-in: %v %v", ok, err)
	}
	if ok, err := auditRefusal(guest, "passkey"); err != nil || ok {
		t.Fatalf("recording a refusal for a member SSO does not bind: %v %v", ok, err)
	}
	if _, err := auditRefusal(prov, "carrier pigeon"); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("an unknown method: %v", err)
	}
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'auth.signin'
		and outcome = 'denied' and object_id = $2 and details = '{"method": "passkey", "reason": "sso_required"}'`, org, prov).Scan(&denied); err != nil || denied != 1 {
		t.Fatalf("refused passkey sign-ins audited: %d (%v)", denied, err)
	}
	// The sweep is no door of the server's own.
	if err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select private.sso_end_unbound($1)`, org)
		return err
	}); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("private.sso_end_unbound from the server's pool: %v", err)
	}

	// Verifying a domain while enforcement is on ends its members' sessions.
	var token string
	if err := env.Super.Pool.QueryRow(ctx, `select verify_token from app.sso_domains where domain = 'clinic.test'`).Scan(&token); err != nil {
		t.Fatal(err)
	}
	if err := env.App.InTenantTx(ctx, postgres.Credential{Hash: adminHash}, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.verify_sso_domain_dns('clinic.test', $1)`, token)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := revoked(clinicID); got != "sso_enforced" {
		t.Errorf("the clinic member's session after the domain's verification: revoked %q", got)
	}

	// A member whose address changes to one on the enforced domain is
	// bound from that transaction on (the guest, through SCIM say).
	guestID, _ := session(org, guest, "{email}", false)
	super(`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('guest@hospital'), sha256('d:hospital.test'))`)
	super(`update app.users set email_bidx = sha256('guest@hospital') where id = $1`, guest)
	if got := revoked(guestID); got != "sso_enforced" {
		t.Errorf("the guest's session after their address moved to the enforced domain: revoked %q", got)
	}

	// A verified domain whose blind index the backfill fills in only now
	// (claimed before 00128) binds its members then: their link session
	// ends in that transaction.
	const ward = "0e000000-0000-4000-8000-000000000017"
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('ward'), '\x00')`, ward)
	super(`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('ward'), sha256('d:ward.test'))`)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'provider')`, org, ward)
	super(`insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by) values ($1, 'ward.test', $2, now(), 'dns')`, org, conn)
	wardID, wardHash := session(org, ward, "{email}", false)
	if got := whoami(wardHash); got != ward {
		t.Fatalf("before its domain's index, the ward.test member's session resolves to %q", got)
	}
	super(`select app.fill_sso_domain_bidx('ward.test', sha256('d:ward.test'))`)
	if got := revoked(wardID); got != "sso_enforced" {
		t.Errorf("the ward.test member's session after the domain got its index: revoked %q", got)
	}
	var indexed int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'sso.enforce.revoke'
		and details->>'reason' = 'domain_indexed' and (details->>'sessions_ended')::int = 1`, org).Scan(&indexed); err != nil || indexed != 1 {
		t.Errorf("the sweep after the domain got its index, audited: %d (%v)", indexed, err)
	}

	// Enforcement off: the other doors open again for new sessions.
	if err := setPolicy(false); err != nil {
		t.Fatal(err)
	}
	if _, h := session(org, prov, "{email}", false); whoami(h) != prov {
		t.Error("with enforcement off, a new link session of prov does not resolve")
	}
}

// app.request_magic_link itself refuses a member SSO binds (migration
// 00141), whichever org id its caller names: asked with the member's real
// org, or with none, it answers exactly as for an address that belongs to
// nobody (status unknown, nothing else), creates no link, counts the
// request against the address's and the source's limits and audits it as
// an unknown address. Links to members SSO does not bind (another domain,
// another org) are created as before.
func TestRequestMagicLinkSSOEnforced(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	const (
		org, other        = "0f000000-0000-4000-8000-000000000001", "0f000000-0000-4000-8000-000000000002"
		conn              = "0f000000-0000-4000-8000-000000000003"
		admin, prov, both = "0f000000-0000-4000-8000-000000000011", "0f000000-0000-4000-8000-000000000012", "0f000000-0000-4000-8000-000000000013"
		guest, late       = "0f000000-0000-4000-8000-000000000014", "0f000000-0000-4000-8000-000000000015"
	)
	super := superExec(t, env)
	super(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Hospital', '{}'), ($2, 'Other', '{}')`, org, other)
	super(`insert into app.users (id, email_bidx, email_enc) values
	         ($1, sha256('admin'), '\x00'), ($2, sha256('prov'), '\x00'), ($3, sha256('both'), '\x00'),
	         ($4, sha256('guest'), '\x00'), ($5, sha256('late'), '\x00')`, admin, prov, both, guest, late)
	// late's domain is not noted (a gap appearing under enforcement).
	super(`insert into app.email_domains (email_bidx, domain_bidx) values
	         (sha256('admin'), sha256('d:elsewhere.test')), (sha256('prov'), sha256('d:hospital.test')),
	         (sha256('both'), sha256('d:hospital.test')), (sha256('guest'), sha256('d:gmail.test'))`)
	// prov joined the enforcing org first, then the other; both the other
	// way round.
	super(`insert into app.memberships (org_id, user_id, role, created_at) values
	         ($1, $3, 'admin', now() - interval '3 days'), ($1, $4, 'provider', now() - interval '2 days'),
	         ($2, $4, 'provider', now() - interval '1 day'), ($2, $5, 'provider', now() - interval '2 days'),
	         ($1, $5, 'provider', now() - interval '1 day'), ($1, $6, 'stakeholder', now()),
	         ($1, $7, 'provider', now())`, org, other, admin, prov, both, guest, late)
	super(`insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, created_by)
	         values ($1, $2, 'oidc', 'IdP', 'https://idp.example', 'ward', '\x00', $3)`, org, conn, admin)
	super(`insert into app.sso_domains (org_id, domain, connection_id, verified_at, verified_by, domain_bidx) values
	         ($1, 'hospital.test', $2, now(), 'dns', sha256('d:hospital.test'))`, org, conn)
	super(`update app.orgs set enforce_sso = true where id = $1`, org)

	// request asks, as the server does (no credential), for a link to the
	// address key for org ("" for none), from a source of its own; it
	// returns the function's answer as JSON and whether a link row exists.
	n := 0
	request := func(key, org string) (answer string, linked bool) {
		t.Helper()
		n++
		name := fmt.Sprintf("r%d", n)
		var orgArg any
		if org != "" {
			orgArg = org
		}
		if err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select to_jsonb(r)::text from app.request_magic_link(sha256(convert_to($1, 'UTF8')), $2::uuid,
				sha256(convert_to('t' || $3, 'UTF8')), sha256(convert_to('v' || $3, 'UTF8')), '192.0.2.1',
				sha256(convert_to('ip' || $3, 'UTF8')), $3) r`, key, orgArg, name).Scan(&answer)
		}); err != nil {
			t.Fatalf("request_magic_link(%s, %q): %v", key, org, err)
		}
		if err := env.Super.Pool.QueryRow(ctx, `select exists (select from app.magic_links
			where token_hash = sha256(convert_to('t' || $1, 'UTF8')))`, name).Scan(&linked); err != nil {
			t.Fatal(err)
		}
		return answer, linked
	}
	// trace is what request number i left behind: its audit event (the
	// columns that do not vary from request to request) and the attempts
	// it counted.
	trace := func(i int) string {
		t.Helper()
		var s string
		if err := env.Super.Pool.QueryRow(ctx, `select jsonb_build_object(
			'events', (select jsonb_agg(jsonb_build_object('org', e.org_id, 'action', e.action, 'outcome', e.outcome,
			   'actor', e.actor_id, 'actor_kind', e.actor_kind, 'object_type', e.object_type, 'object', e.object_id,
			   'ip', e.ip, 'details', e.details)) from audit.events e where e.request_id = $1),
			'attempts', (select jsonb_agg(a.kind order by a.kind) from app.auth_attempts a
			   where a.key_hash = sha256(convert_to('ip' || $1, 'UTF8'))
			      or a.key_hash in (select sha256(sha256(convert_to(k, 'UTF8')) || sha256(convert_to('ip' || $1, 'UTF8')))
			                          from unnest(array['nobody', 'prov', 'both', 'guest', 'late']) k)))::text`,
			fmt.Sprintf("r%d", i)).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	unknown, linked := request("nobody", org)
	if linked || unknown != `{"org_id": null, "status": "unknown", "ttl_min": null, "user_id": null, "email_enc": null, "retry_after_s": null}` {
		t.Fatalf("an address that belongs to nobody: %s (link %v)", unknown, linked)
	}
	unknownTrace := trace(n)
	for name, c := range map[string]struct{ key, org string }{
		"a member on the enforced domain, with the enforcing org's id":    {"prov", org},
		"a member on the enforced domain, with no org":                    {"prov", ""},
		"a member of another org first, with no org":                      {"both", ""},
		"a member of another org first, with the enforcing org's id":      {"both", org},
		"a member whose domain is not noted, with the enforcing org's id": {"late", org},
	} {
		got, linked := request(c.key, c.org)
		if got != unknown || linked {
			t.Errorf("%s: %s (link %v), want %s as for nobody", name, got, linked, unknown)
		}
		if tr := trace(n); tr != unknownTrace {
			t.Errorf("%s left %s, want %s as for nobody", name, tr, unknownTrace)
		}
	}
	// Members SSO does not bind get their link, as before.
	for name, c := range map[string]struct{ key, org, user string }{
		"the member on the enforced domain, to the other org": {"prov", other, prov},
		"a member of both, to the other org":                  {"both", other, both},
		"a member on another domain":                          {"guest", org, guest},
		"a member on another domain, with no org":             {"guest", "", guest},
	} {
		got, linked := request(c.key, c.org)
		var r struct {
			Status string `json:"status"`
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(got), &r); err != nil || r.Status != "created" || r.UserID != c.user || !linked {
			t.Errorf("%s: %s (link %v), want created for %s", name, got, linked, c.user)
		}
	}
}

// superExec returns a function that runs a statement as the superuser and
// fails the test on an error: the tests here write their fixtures with it.
func superExec(t *testing.T, env *pgtest.Env) func(q string, args ...any) {
	return func(q string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(context.Background(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
