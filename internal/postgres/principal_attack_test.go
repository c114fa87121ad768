package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestPrincipalAttackSplitSettings: ward.principal and ward.principal_mac
// as two settings (00136). Whatever pair ward_app writes, the helpers
// return what the bound credential resolves to now.
func TestPrincipalAttackSplitSettings(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c := sealedConn(t, env)

	// The admin's sealed pair, and the lead's, from this backend.
	var admin, lead seal
	inTx(t, c, s.adminHash, func(tx pgx.Tx) { _ = uid(t, tx); admin = sealed(t, tx) })
	inTx(t, c, s.leadHash, func(tx pgx.Tx) { _ = uid(t, tx); lead = sealed(t, tx) })

	check := func(t *testing.T, tx pgx.Tx, name string) {
		t.Helper()
		var u, org, role *string
		var isLead bool
		var n int
		if err := tx.QueryRow(ctx, `select private.uid()::text, private.get_my_org_id()::text, private.get_my_role(),
		    private.am_i_lead(), (select count(*) from app.patients)`).Scan(&u, &org, &role, &isLead, &n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if u == nil || *u != s.lead || role == nil || *role != "lead" || org == nil || *org != s.org || !isLead || n != 2 {
			t.Errorf("%s: uid %v org %v role %v lead %v patients %d; want the lead's principal", name, deref(u), deref(org), deref(role), isLead, n)
		}
		var w string
		if err := tx.QueryRow(ctx, `select user_id::text || '/' || role || '/' || credential_id::text from app.whoami()`).Scan(&w); err != nil {
			t.Fatalf("%s whoami: %v", name, err)
		}
		if w != s.lead+"/lead/"+s.leadSession {
			t.Errorf("%s: whoami %s", name, w)
		}
	}

	// The lead's credential is bound in each transaction; the pairs below
	// are written after a first resolution (this transaction's seal then
	// exists) and before any.
	adminBody := strings.Replace(admin.body, s.admin, s.lead, 1)
	cases := []struct {
		name string
		v    seal
	}{
		{"the admin's pair", admin},
		{"the admin's body with the lead's MAC", seal{admin.body, lead.mac}},
		{"the lead's body from another transaction", lead},
		{"an admin body naming the lead with the admin's MAC", seal{adminBody, admin.mac}},
		{"the lead's body re-quoted (record_in reads it the same)", seal{"(\"session\"" + strings.TrimPrefix(lead.body, "(session"), lead.mac}},
		{"the lead's body with a trailing space", seal{lead.body + " ", lead.mac}},
		{"an empty body", seal{"", lead.mac}},
		{"an empty MAC", seal{lead.body, ""}},
		{"a MAC in upper case", seal{lead.body, strings.ToUpper(lead.mac)}},
		{"a long body", seal{strings.Repeat("é", 1<<14), lead.mac}},
		{"a multibyte body", seal{strings.Replace(admin.body, "admin", "аdmin", 1), admin.mac}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inTx(t, c, s.leadHash, func(tx pgx.Tx) {
				setSealed(t, tx, tc.v)
				check(t, tx, "before a resolution")
				setSealed(t, tx, tc.v)
				check(t, tx, "after a resolution")
			})
		})
	}

	t.Run("this transaction's pair, the body edited, is refused", func(t *testing.T) {
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			_ = uid(t, tx)
			v := sealed(t, tx)
			for _, body := range []string{
				strings.Replace(v.body, ",lead,", ",admin,", 1),
				strings.Replace(v.body, s.lead, s.admin, 1),
				strings.Replace(v.body, ",2,", ",3,", 1),
				strings.Replace(v.body, ",f,", ",t,", 1),
			} {
				if body == v.body {
					t.Fatalf("no edit of %s", v.body)
				}
				setSealed(t, tx, seal{body, v.mac})
				check(t, tx, body)
			}
		})
	})

	t.Run("the planner settings ward_app may change do not change the principal", func(t *testing.T) {
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			for _, n := range []string{"enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan", "enable_seqscan", "enable_tidscan"} {
				setLocal(t, tx, n, "off")
			}
			check(t, tx, "index scans off, a miss")
			setSealed(t, tx, admin)
			check(t, tx, "index scans off, the admin's pair")
		})
	})

	t.Run("a forged drawn marker in a fresh backend is refused, not trusted", func(t *testing.T) {
		fresh := sealedConn(t, env)
		var pid string
		if err := fresh.QueryRow(ctx, `select pg_backend_pid()::text`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		inTx(t, fresh, s.leadHash, func(tx pgx.Tx) {
			if _, err := tx.Exec(ctx, "set ward.principal_drawn = '"+pid+"'"); err != nil {
				t.Fatal(err)
			}
			setSealed(t, tx, admin)
			if got := uid(t, tx); got == s.admin {
				t.Errorf("uid = the admin in a fresh backend with a forged marker")
			}
		})
	})
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestPrincipalAttackCredentialKinds: for each kind of credential, the
// helpers, app.whoami and audit.append_event see what me_pending()
// resolves (00136 reads private.principal_now() in each), and a pending
// principal reads no PHI and is recorded as no credential.
func TestPrincipalAttackCredentialKinds(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c := sealedConn(t, env)
	hash := func(v string) string { h := sha256.Sum256([]byte(v)); return hex.EncodeToString(h[:]) }
	pending, key, scim := hash("pending-token"), hash("api-key"), hash("scim-token")
	var pendingSession, keyID, scimID string
	if err := env.Super.Pool.QueryRow(ctx, `
		with p as (insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		           values ($1, $2, decode($4, 'hex'), 600, now() + interval '1 day', 1, '{email}') returning id),
		     k as (insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by)
		           values ($1, decode($5, 'hex'), 'sk_live_abcd', 'k', '{members}', $3) returning id),
		     sc as (insert into app.scim_tokens (org_id, token_hash, prefix, name, created_by)
		           values ($1, decode($6, 'hex'), 'scim_abcd', 's', $3) returning id)
		select (select id::text from p), (select id::text from k), (select id::text from sc)`,
		s.org, s.lead, s.admin, pending, key, scim).Scan(&pendingSession, &keyID, &scimID); err != nil {
		t.Fatal(err)
	}

	type want struct {
		uid, org, role   string // the helpers, "" for null
		lead             bool
		patients         int
		whoami           string // kind/credential/pending, "" for no row
		actor, actorKind string
		sess, credKind   string
		credID           string
	}
	for _, tc := range []struct {
		name, hash string
		w          want
	}{
		{"session", s.leadHash, want{s.lead, s.org, "lead", true, 2, "session/" + s.leadSession + "/",
			s.lead, "user", s.leadSession, "session", s.leadSession}},
		{"pending session", pending, want{"", "", "", false, 0, "session/" + pendingSession + "/mfa",
			"", "refused", "", "", ""}},
		{"api key", key, want{s.admin, s.org, "admin", false, 0, "api_key/" + keyID + "/",
			s.admin, "user", "", "api_key", keyID}},
		{"scim token", scim, want{"", s.org, "", false, 0, "scim_token/" + scimID + "/",
			"", "refused", "", "", ""}},
		{"no credential", strings.Repeat("0", 64), want{"", "", "", false, 0, "", "", "refused", "", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, round := range []string{"a miss", "a hit"} {
				var got want
				var qid int64
				inTx(t, c, tc.hash, func(tx pgx.Tx) {
					if round == "a hit" {
						_ = uid(t, tx)
					}
					var g want
					var isLead *bool
					if err := tx.QueryRow(ctx, `select coalesce(private.uid()::text, ''), coalesce(private.get_my_org_id()::text, ''),
					    coalesce(private.get_my_role(), ''), private.am_i_lead(), (select count(*) from app.patients),
					    coalesce((select kind || '/' || credential_id::text || '/' || coalesce(pending, '') from app.whoami()), '')`).
						Scan(&g.uid, &g.org, &g.role, &isLead, &g.patients, &g.whoami); err != nil {
						t.Fatal(err)
					}
					g.lead = isLead != nil && *isLead
					// audit.append requires a live principal: a refusal is
					// recorded as actorKind "refused".
					sp, err := tx.Begin(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if err := sp.QueryRow(ctx, `select audit.append($1, 'membership.add', 'denied')`, s.org).Scan(&qid); err != nil {
						_ = sp.Rollback(ctx)
						g.actorKind = "refused"
					} else if err := sp.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					got = g
				})
				if got.actorKind != "refused" {
					if err := env.Super.Pool.QueryRow(ctx, `select coalesce(actor_id::text, ''), actor_kind, coalesce(session_id::text, ''),
					    coalesce(credential_kind, ''), coalesce(credential_id::text, '') from audit.events where qid = $1`, qid).
						Scan(&got.actor, &got.actorKind, &got.sess, &got.credKind, &got.credID); err != nil {
						t.Fatal(err)
					}
				}
				if got != tc.w {
					t.Errorf("%s:\n got %+v\nwant %+v", round, got, tc.w)
				}
			}
		})
	}
}

// TestPrincipalAttackReplayOneMessage: now() is the start of the simple
// query message, not of each transaction in it (StartTransaction takes
// the statement timestamp, set once per 'Q' message), so the MAC's
// "transaction start" does not tell apart two transactions of one
// multi-statement message on one backend with no epoch drawn in between.
// A sealed principal copied into a session setting verified in the next
// transaction of the same message after another backend revoked the
// session (pre-existing since 00070; this test was skipped as a known
// limitation). Since 00165 ward_app cannot copy it: set_config is not its
// to call, and SET takes only a literal, which the message cannot know
// before it runs. The message is refused at the copy.
func TestPrincipalAttackReplayOneMessage(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c := sealedConn(t, env)
	q := strings.ReplaceAll(`
begin; set local ward.credential = 'H'; select private.uid();
select set_config('x.b', current_setting('ward.principal'), false), set_config('x.m', current_setting('ward.principal_mac'), false);
commit;
begin; set local ward.credential = 'H';
select set_config('ward.principal', current_setting('x.b'), true), set_config('ward.principal_mac', current_setting('x.m'), true);
select coalesce(private.uid()::text, 'nobody') || ' ' || (select count(*) from app.patients)::text;
commit;`, "H", s.leadHash)
	_, err := c.PgConn().Exec(ctx, q).ReadAll()
	if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Errorf("copying the sealed principal in one message: %v; want insufficient_privilege", err)
	}
}

// TestPrincipalAttackBoundSessions: a DPoP-bound session's seal does not
// verify under another thumbprint or none, and a break-glass session's
// flag reaches am_i_break_glass and the audit event on a miss and a hit.
func TestPrincipalAttackBoundSessions(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c := sealedConn(t, env)
	dh, bh := sha256.Sum256([]byte("dpop-token")), sha256.Sum256([]byte("glass-token"))
	dpopHash, glassHash := hex.EncodeToString(dh[:]), hex.EncodeToString(bh[:])
	jkt, other := strings.Repeat("A", 43), strings.Repeat("B", 43)
	if _, err := env.Super.Pool.Exec(ctx, `
		insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr, dpop_jkt)
		values ($1, $2, decode($3, 'hex'), 600, now() + interval '1 day', 2, '{email,totp}', $4);
		insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr, break_glass)
		values ($1, $2, decode($5, 'hex'), 60, now() + interval '59 minutes', 2, '{passkey}', true)`,
		pgx.QueryExecModeSimpleProtocol, s.org, s.lead, dpopHash, jkt, glassHash); err != nil {
		t.Fatal(err)
	}
	setDPoP := func(t *testing.T, tx pgx.Tx, v string) {
		t.Helper()
		setLocal(t, tx, "ward.dpop", v)
	}

	t.Run("dpop", func(t *testing.T) {
		var v seal
		inTx(t, c, dpopHash, func(tx pgx.Tx) {
			setDPoP(t, tx, jkt)
			if got := uid(t, tx); got != s.lead {
				t.Fatalf("bound to its key: uid = %s, want the lead", got)
			}
			v = sealed(t, tx)
			for _, d := range []string{other, "", "browser", jkt + " "} {
				setDPoP(t, tx, d)
				setSealed(t, tx, v)
				if got := uid(t, tx); got != "nobody" {
					t.Errorf("the key's seal under ward.dpop %q: uid = %s, want nobody", d, got)
				}
			}
			setDPoP(t, tx, jkt)
			setSealed(t, tx, v)
			if got := uid(t, tx); got != s.lead {
				t.Errorf("back on its key: uid = %s, want the lead (resolved again)", got)
			}
		})
		inTx(t, c, dpopHash, func(tx pgx.Tx) {
			setSealed(t, tx, v)
			var n int
			if err := tx.QueryRow(ctx, `select count(*) from app.patients`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if got := uid(t, tx); got != "nobody" || n != 0 {
				t.Errorf("the key's seal in the next transaction with no key: uid = %s, %d patients", got, n)
			}
		})
	})

	t.Run("break glass", func(t *testing.T) {
		for _, round := range []string{"a miss", "a hit"} {
			var qid int64
			inTx(t, c, glassHash, func(tx pgx.Tx) {
				if round == "a hit" {
					_ = uid(t, tx)
				}
				var bg bool
				if err := tx.QueryRow(ctx, `select private.am_i_break_glass(), audit.append($1, 'membership.add', 'denied')`, s.org).
					Scan(&bg, &qid); err != nil {
					t.Fatal(err)
				}
				if !bg {
					t.Errorf("%s: am_i_break_glass = false for a break-glass session", round)
				}
			})
			var bg bool
			var kind string
			if err := env.Super.Pool.QueryRow(ctx, `select break_glass, credential_kind from audit.events where qid = $1`, qid).Scan(&bg, &kind); err != nil {
				t.Fatal(err)
			}
			if !bg || kind != "session" {
				t.Errorf("%s: the event records break_glass %v, credential %s", round, bg, kind)
			}
		}
	})
}

// TestPrincipalAttackMidStatementCredential: a statement cannot read one
// policy InitPlan under one credential and the next under another (00165).
// The holder of a provider's session in one org and a lead's session in
// another, changing the credential from a lateral subquery between the
// org's InitPlan and the lead flag's, read every patient of the first
// org; set_config, app.bind inside a statement, and a function of
// ward_app's own that runs SET LOCAL are now all refused.
func TestPrincipalAttackMidStatementCredential(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	other, user, sa, sb := "0c000000-0000-4000-8000-0000000000a1", "0c000000-0000-4000-8000-0000000000a2",
		"0c000000-0000-4000-8000-0000000000a3", "0c000000-0000-4000-8000-0000000000a4"
	ha, hb := sha256.Sum256([]byte("provider-token")), sha256.Sum256([]byte("other-lead-token"))
	provider, lead := hex.EncodeToString(ha[:]), hex.EncodeToString(hb[:])
	// One user: a provider of s.org with no patient assigned, the lead of
	// another org.
	if _, err := env.Super.Pool.Exec(ctx, `
		insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Other Practice', '{}');
		insert into app.users (id, email_bidx, email_enc) values ($2, sha256('two-orgs'), '\x00');
		insert into app.memberships (org_id, user_id, role) values ($3, $2, 'provider'), ($1, $2, 'lead');
		insert into app.sessions (id, org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		values ($4, $3, $2, decode($6, 'hex'), 600, now() + interval '1 day', 2, '{email,totp}'),
		       ($5, $1, $2, decode($7, 'hex'), 600, now() + interval '1 day', 2, '{email,totp}');`,
		pgx.QueryExecModeSimpleProtocol, other, user, s.org, sa, sb, provider, lead); err != nil {
		t.Fatal(err)
	}
	count := func(t *testing.T, tx pgx.Tx, q string, args ...any) (int, error) {
		t.Helper()
		var n int
		err := tx.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
	// The org's InitPlan runs in the first round of the loop (the index
	// scan's key), the lead flag's only in the second, after the switch.
	mixed := func(switchTo string) string {
		return `select count(*)::int from generate_series(1, 2) g
		 cross join lateral (select ` + switchTo + ` as c offset 0) s
		 cross join lateral (select p.id from app.patients p where s.c is not null
		   and p.id >= case when g = 1 then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
		                    else '00000000-0000-0000-0000-000000000000'::uuid end offset 0) q`
	}
	for _, cache := range []bool{true, false} {
		c := appConn(t, env)
		if !cache {
			c = sealedConn(t, env)
		}
		name := "cache"
		if !cache {
			name = "no cache"
		}
		t.Run(name, func(t *testing.T) {
			inTx(t, c, provider, func(tx pgx.Tx) {
				if n, err := count(t, tx, `select count(*)::int from app.patients`); err != nil || n != 0 {
					t.Fatalf("the provider alone: %d patients, %v; want 0", n, err)
				}
				setLocal(t, tx, "enable_seqscan", "off")
				for _, tc := range []struct{ name, sw string }{
					{"set_config", "set_config('ward.credential', case when g = 1 then $1 else $2 end, true)"},
					{"app.bind", "app.bind(case when g = 1 then $1 else $2 end, '', '', '')::text"},
					{"app.bind with a client", "app.bind(case when g = 1 then $1 else $2 end, '', '', '', '', '')::text"},
				} {
					if _, err := tx.Exec(ctx, "savepoint mixed"); err != nil {
						t.Fatal(err)
					}
					n, err := count(t, tx, mixed(tc.sw), provider, lead)
					if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
						t.Errorf("%s inside the statement: %d patients, %v; want insufficient_privilege", tc.name, n, err)
					}
					if _, err := tx.Exec(ctx, "rollback to savepoint mixed"); err != nil {
						t.Fatal(err)
					}
				}
				// Between statements the credential may change: each
				// statement sees one.
				setLocal(t, tx, "ward.credential", lead)
				if n, err := count(t, tx, `select count(*)::int from app.patients`); err != nil || n != 0 {
					t.Errorf("the other org's lead: %d patients of s.org, %v; want 0", n, err)
				}
				setLocal(t, tx, "ward.credential", provider)
				if n, err := count(t, tx, `select count(*)::int from app.patients`); err != nil || n != 0 {
					t.Errorf("the provider again: %d patients, %v; want 0", n, err)
				}
			})
		})
	}

	t.Run("ward_app can set nothing inside a statement", func(t *testing.T) {
		var setConfig, temp, sqlLang, plpgsql, create bool
		if err := env.Super.Pool.QueryRow(ctx, `select has_function_privilege('ward_app', 'pg_catalog.set_config(text, text, boolean)', 'execute'),
		    has_database_privilege('ward_app', current_database(), 'temporary'),
		    has_language_privilege('ward_app', 'sql', 'usage'), has_language_privilege('ward_app', 'plpgsql', 'usage'),
		    exists (select from pg_namespace n where has_schema_privilege('ward_app', n.oid, 'create'))`).Scan(
			&setConfig, &temp, &sqlLang, &plpgsql, &create); err != nil {
			t.Fatal(err)
		}
		if setConfig || sqlLang || plpgsql || create {
			t.Errorf("ward_app: set_config %v, language sql %v, plpgsql %v, create in a schema %v; want none", setConfig, sqlLang, plpgsql, create)
		}
		c := appConn(t, env)
		inTx(t, c, provider, func(tx pgx.Tx) {
			_, err := tx.Exec(ctx, `create function pg_temp.f() returns text language sql as $$ set local ward.credential = 'x'; select '' $$`)
			if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
				t.Errorf("a temporary function (temporary privilege %v): %v; want insufficient_privilege", temp, err)
			}
		})
	})
}
