package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// principalSeed is one org with a lead and an admin, each with a live
// AAL2 session, and the credential hashes that name them.
type principalSeed struct {
	org, lead, admin          string
	leadHash, adminHash       string
	leadSession, adminSession string
}

func seedPrincipals(t *testing.T, env *pgtest.Env) principalSeed {
	t.Helper()
	s := principalSeed{
		org: "0c000000-0000-4000-8000-000000000001", lead: "0c000000-0000-4000-8000-000000000002",
		admin:       "0c000000-0000-4000-8000-000000000003",
		leadSession: "0c000000-0000-4000-8000-000000000004", adminSession: "0c000000-0000-4000-8000-000000000005",
	}
	lh, ah := sha256.Sum256([]byte("lead-token")), sha256.Sum256([]byte("admin-token"))
	s.leadHash, s.adminHash = hex.EncodeToString(lh[:]), hex.EncodeToString(ah[:])
	// The simple protocol: several statements, arguments quoted client-side.
	// The org binds no role to a device: these are plain bearer sessions
	// (device binding has its own tests).
	_, err := env.Super.Pool.Exec(context.Background(), `
		insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Cache Practice', '{}');
		insert into app.users (id, email_bidx, email_enc) values ($2, sha256('lead'), '\x00'), ($3, sha256('admin'), '\x00');
		insert into app.memberships (org_id, user_id, role) values ($1, $2, 'lead'), ($1, $3, 'admin');
		insert into app.sessions (id, org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		values ($4, $1, $2, decode($6, 'hex'), 600, now() + interval '1 day', 2, '{email,totp}'),
		       ($5, $1, $3, decode($7, 'hex'), 600, now() + interval '1 day', 2, '{email,totp}');
		insert into app.patients (org_id, name_enc, created_by, keyset) values ($1, '\x00', $2, '\x00'), ($1, '\x00', $2, '\x00');`,
		pgx.QueryExecModeSimpleProtocol, s.org, s.lead, s.admin, s.leadSession, s.adminSession, s.leadHash, s.adminHash)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appConn is one ward_app connection: the replay attempts below need the
// same backend across transactions.
func appConn(t *testing.T, env *pgtest.Env) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), env.URL("ward_app"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// sealedConn is appConn without the shared cache (00162): the sealed
// principal's own tests need every transaction to resolve and seal.
func sealedConn(t *testing.T, env *pgtest.Env) *pgx.Conn {
	t.Helper()
	c := appConn(t, env)
	if _, err := c.Exec(context.Background(), `set ward.principal_cache = 'off'`); err != nil {
		t.Fatal(err)
	}
	return c
}

// inTx runs fn in a transaction on c bound to the credential hash, and
// commits it, as the server does (a rollback would also undo the
// session-wide marker private.me() sets, and with it the hit path).
func inTx(t *testing.T, c *pgx.Conn, hash string, fn func(tx pgx.Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `select app.bind($1, $2, $3, $4)`, hash, "", "", ""); err != nil {
		t.Fatal(err)
	}
	fn(tx)
	if err := tx.Commit(ctx); err != nil && !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatal(err)
	}
}

// uid is private.uid() as text, "nobody" for null and "error" when the
// statement is refused.
func uid(t *testing.T, tx pgx.Tx) string {
	t.Helper()
	ctx := context.Background()
	sp, err := tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var u *string
	if err := sp.QueryRow(ctx, `select private.uid()::text`).Scan(&u); err != nil {
		_ = sp.Rollback(ctx)
		return "error"
	}
	if err := sp.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if u == nil {
		return "nobody"
	}
	return *u
}

// seal is a sealed principal as the transaction holds it: the principal
// (ward.principal) and its MAC (ward.principal_mac).
type seal struct{ body, mac string }

func sealed(t *testing.T, tx pgx.Tx) seal {
	t.Helper()
	var v seal
	if err := tx.QueryRow(context.Background(),
		`select coalesce(current_setting('ward.principal', true), ''), coalesce(current_setting('ward.principal_mac', true), '')`).Scan(&v.body, &v.mac); err != nil {
		t.Fatal(err)
	}
	if v.body == "" || len(v.mac) != 64 {
		t.Fatalf("no sealed principal after a resolution: %+v", v)
	}
	return v
}

func setSealed(t *testing.T, tx pgx.Tx, v seal) {
	t.Helper()
	setLocal(t, tx, "ward.principal", v.body)
	setLocal(t, tx, "ward.principal_mac", v.mac)
}

// setLocal sets a setting for the rest of tx the way ward_app can since
// 00165 (set_config is not its to call): SET LOCAL, a statement of its
// own, the value quoted as a literal.
func setLocal(t *testing.T, tx pgx.Tx, name, value string) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), "set local "+name+" = '"+strings.ReplaceAll(value, "'", "''")+"'"); err != nil {
		t.Fatalf("set local %s: %v", name, err)
	}
}

// TestPrincipalCache: private.me() resolves once per transaction, and
// nothing ward_app can write makes it return a principal the credential
// does not resolve to now.
func TestPrincipalCache(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c := sealedConn(t, env)

	t.Run("resolves once per transaction", func(t *testing.T) {
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			if got := uid(t, tx); got != s.lead {
				t.Fatalf("uid = %s, want the lead", got)
			}
			// Revoked by another, committed transaction: this one keeps
			// the principal it resolved (documented), the next does not.
			if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now() where id = $1`, s.leadSession); err != nil {
				t.Fatal(err)
			}
			if got := uid(t, tx); got != s.lead {
				t.Errorf("uid after a concurrent revocation = %s: the principal was resolved again, not cached", got)
			}
		})
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			if got := uid(t, tx); got != "nobody" {
				t.Errorf("uid in the next transaction = %s, want nobody", got)
			}
		})
		if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = null where id = $1`, s.leadSession); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a forged principal is nobody", func(t *testing.T) {
		dead := strings.Repeat("ab", 32)
		inTx(t, c, s.leadHash, func(tx pgx.Tx) { _ = uid(t, tx) }) // this backend has sealed before
		inTx(t, c, dead, func(tx pgx.Tx) {
			body := "(session,," + s.admin + "," + s.org + ",admin," + s.adminSession + ",2,0,f,)"
			for _, v := range []seal{
				{body, strings.Repeat("0", 64)},
				{body, hex.EncodeToString(func() []byte { h := sha256.Sum256([]byte(body)); return h[:] }())},
			} {
				setSealed(t, tx, v)
				if got := uid(t, tx); got != "nobody" {
					t.Errorf("forged %+v: uid = %s, want nobody", v, got)
				}
				var n int
				if err := tx.QueryRow(ctx, `select count(*) from app.patients`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("forged %+v: %d patients visible", v, n)
				}
			}
		})
	})

	t.Run("a sealed principal edited is refused", func(t *testing.T) {
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			_ = uid(t, tx)
			v := sealed(t, tx)
			edited := strings.Replace(v.body, ",lead,", ",admin,", 1)
			if edited == v.body {
				t.Fatalf("the sealed principal names no lead: %s", v.body)
			}
			setSealed(t, tx, seal{edited, v.mac})
			var role string
			if err := tx.QueryRow(ctx, `select private.get_my_role()`).Scan(&role); err != nil {
				t.Fatal(err)
			}
			if role != "lead" {
				t.Errorf("role after editing the sealed value = %s, want lead", role)
			}
		})
	})

	t.Run("a sealed principal does not move to another credential", func(t *testing.T) {
		inTx(t, c, s.adminHash, func(tx pgx.Tx) {
			_ = uid(t, tx)
			v := sealed(t, tx)
			if _, err := tx.Exec(ctx, `select app.bind($1, $2, $3, $4)`, strings.Repeat("cd", 32), "", "", ""); err != nil {
				t.Fatal(err)
			}
			setSealed(t, tx, v)
			if got := uid(t, tx); got != "nobody" {
				t.Errorf("the admin's sealed principal under another credential: uid = %s", got)
			}
			if _, err := tx.Exec(ctx, `select app.bind($1, $2, $3, $4)`, s.leadHash, "", "", ""); err != nil {
				t.Fatal(err)
			}
			if got := uid(t, tx); got != s.lead {
				t.Errorf("after switching to the lead's credential: uid = %s, want the lead", got)
			}
		})
	})

	t.Run("a sealed principal does not outlive its transaction", func(t *testing.T) {
		var v seal
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			_ = uid(t, tx)
			v = sealed(t, tx)
		})
		if _, err := env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now() where id = $1`, s.leadSession); err != nil {
			t.Fatal(err)
		}
		defer env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = null where id = $1`, s.leadSession)
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			setSealed(t, tx, v)
			if got := uid(t, tx); got != "nobody" {
				t.Errorf("replayed in the same session's next transaction: uid = %s, want nobody", got)
			}
		})
		other := sealedConn(t, env)
		inTx(t, other, s.leadHash, func(tx pgx.Tx) {
			setSealed(t, tx, v)
			if got := uid(t, tx); got == s.lead {
				t.Errorf("replayed in another session: uid = %s", got)
			}
		})
	})

	t.Run("a write to the credential's tables in the transaction resolves again", func(t *testing.T) {
		inTx(t, c, s.adminHash, func(tx pgx.Tx) {
			if got := uid(t, tx); got != s.admin {
				t.Fatalf("uid = %s, want the admin", got)
			}
			v := sealed(t, tx)
			var out bool
			if err := tx.QueryRow(ctx, `select app.logout()`).Scan(&out); err != nil || !out {
				t.Fatalf("logout: %v %v", out, err)
			}
			if got := uid(t, tx); got != "nobody" {
				t.Errorf("after logout in the same transaction: uid = %s, want nobody", got)
			}
			setSealed(t, tx, v)
			if got := uid(t, tx); got != "nobody" {
				t.Errorf("the pre-logout sealed value restored: uid = %s, want nobody", got)
			}
		})
	})

	t.Run("the cache returns what me_pending returns", func(t *testing.T) {
		// A pending session too: the lead's, below the lead's MFA bar.
		ph := sha256.Sum256([]byte("pending-token"))
		pending := hex.EncodeToString(ph[:])
		if _, err := env.Super.Pool.Exec(ctx, `
			insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
			values ($1, $2, decode($3, 'hex'), 600, now() + interval '1 day', 1, '{email}')`, s.org, s.lead, pending); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{s.leadHash, pending, strings.Repeat("ef", 32), ""} {
			err := env.Super.InTenantTx(ctx, postgres.Credential{Hash: h}, func(ctx context.Context, tx pgx.Tx) error {
				for range 2 { // a miss, then a hit
					var direct, cached string
					if err := tx.QueryRow(ctx, `select row(m.*)::text from private.me_pending() m`).Scan(&direct); err != nil {
						return err
					}
					if err := tx.QueryRow(ctx, `select row(m.*)::text from private.me_pending_cached() m`).Scan(&cached); err != nil {
						return err
					}
					if direct != cached {
						t.Errorf("credential %.8s: me_pending %s, cached %s", h, direct, cached)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("ward_app cannot read the key or move the epoch", func(t *testing.T) {
		for _, q := range []string{
			`select encode(ipad, 'hex') from private.principal_key`,
			`select nextval('private.principal_epoch')::text`,
			`select setval('private.principal_epoch', 1)::text`,
			`select currval('private.principal_epoch')::text`,
		} {
			inTx(t, c, s.leadHash, func(tx pgx.Tx) {
				var v string
				err := tx.QueryRow(ctx, q).Scan(&v)
				if !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
					t.Errorf("%s as ward_app: %q, %v; want insufficient privilege", q, v, err)
				}
			})
		}
	})
}

// TestPrincipalCacheCoversResolverTables: every table private.me_pending()
// reads moves the principal epoch when written, so a cached principal
// never survives a change to what it was resolved from in the same
// transaction.
func TestPrincipalCacheCoversResolverTables(t *testing.T) {
	env := pgtest.New(t)
	var src string
	if err := env.Super.Pool.QueryRow(context.Background(),
		`select prosrc from pg_proc where oid = 'private.me_pending()'::regprocedure`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, m := range regexp.MustCompile(`\b(app|private|audit)\.([a-z_]+)\b[^(]`).FindAllStringSubmatch(src, -1) {
		if name := m[1] + "." + m[2]; !slices.Contains(tables, name) {
			tables = append(tables, name)
		}
	}
	if len(tables) < 6 {
		t.Fatalf("found only %v in private.me_pending()", tables)
	}
	// And every setting it reads is in what the seal covers.
	var cached string
	if err := env.Super.Pool.QueryRow(context.Background(),
		`select prosrc from pg_proc where oid = 'private.principal_now()'::regprocedure`).Scan(&cached); err != nil {
		t.Fatal(err)
	}
	settings := regexp.MustCompile(`current_setting\('([a-z_.]+)'`).FindAllStringSubmatch(src, -1)
	for _, fn := range []string{"credential_hash"} { // helpers me_pending calls that read settings
		var hsrc string
		if err := env.Super.Pool.QueryRow(context.Background(),
			`select prosrc from pg_proc where oid = ('private.' || $1 || '()')::regprocedure`, fn).Scan(&hsrc); err != nil {
			t.Fatal(err)
		}
		settings = append(settings, regexp.MustCompile(`current_setting\('([a-z_.]+)'`).FindAllStringSubmatch(hsrc, -1)...)
	}
	if len(settings) < 3 {
		t.Fatalf("found only %v read by the resolver", settings)
	}
	for _, m := range settings {
		if !strings.Contains(cached, "current_setting('"+m[1]+"', true)") {
			t.Errorf("private.me_pending() reads setting %s, which the sealed principal does not cover", m[1])
		}
	}
	for _, table := range tables {
		var covered bool
		// tgtype bits: 2 row/statement, 4 insert, 8 delete, 16 update, 32 truncate.
		err := env.Super.Pool.QueryRow(context.Background(), `
			select exists (select from pg_trigger g where g.tgrelid = $1::regclass and g.tgenabled = 'O'
			                 and g.tgfoid = 'private.principal_moved()'::regprocedure and g.tgtype & 60 = 60)`,
			table).Scan(&covered)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !covered {
			t.Errorf("private.me_pending() reads %s, which has no principal_epoch trigger on insert, update, delete and truncate", table)
		}
		// And the shared cache's invalidation (00162): its triggers on the
		// table cover update, delete and truncate between them.
		var bits int
		err = env.Super.Pool.QueryRow(context.Background(), `
			select coalesce(bit_or(g.tgtype::int & 56), 0) from pg_trigger g where g.tgrelid = $1::regclass and g.tgenabled = 'O'
			   and g.tgfoid = 'private.principal_changed()'::regprocedure`,
			table).Scan(&bits)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if bits != 56 {
			t.Errorf("private.me_pending() reads %s, whose changes do not all invalidate the shared cache (trigger bits %b)", table, bits)
		}
	}
}

// TestPrincipalSharedCache: migration 00162. A credential resolved in one
// committed transaction is not resolved again by the next (the entry is
// reused: no second entry is put), across connections; the bookkeeping a
// request does on its own session invalidates nothing; a change anything
// the resolution reads commits invalidates it for the next transaction;
// a transaction that changed something, and every later reader of an
// entry that transaction put, resolve again; an entry never outlives the
// expiries the resolution checked; no login role reads, writes or calls
// the cache.
func TestPrincipalSharedCache(t *testing.T) {
	env := pgtest.New(t)
	s := seedPrincipals(t, env)
	ctx := context.Background()
	c, other := appConn(t, env), appConn(t, env)
	super := func(q string, args ...any) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	entries := func() int {
		t.Helper()
		var n int
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from private.principal_cache where cred = $1`, s.leadHash).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := func(conn *pgx.Conn, who string, n int) {
		t.Helper()
		inTx(t, conn, s.leadHash, func(tx pgx.Tx) {
			if got := uid(t, tx); got != who {
				t.Fatalf("uid = %s, want %s", got, who)
			}
		})
		if got := entries(); got != n {
			t.Fatalf("%d entries for the lead's credential, want %d", got, n)
		}
	}
	super(`delete from private.principal_cache`)

	want(c, s.lead, 1)     // resolved and put
	want(c, s.lead, 1)     // reused
	want(other, s.lead, 1) // by another connection too

	// The session's own bookkeeping: last_seen_at forward.
	super(`update app.sessions set last_seen_at = now() where id = $1`, s.leadSession)
	want(c, s.lead, 1)
	// A passkey's counter, an unrelated new session: nothing either.
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at)
	       values ($1, $2, sha256('another'), 60, now() + interval '1 hour')`, s.org, s.admin)
	want(c, s.lead, 1)

	// A revocation committed: the next transaction resolves again.
	super(`update app.sessions set revoked_at = now() where id = $1`, s.leadSession)
	want(c, "nobody", 1) // nothing put for nobody
	super(`update app.sessions set revoked_at = null where id = $1`, s.leadSession)
	want(c, s.lead, 2)
	// A role change, an org's policy, a membership revoked.
	super(`update app.memberships set role = 'provider' where user_id = $1`, s.lead)
	var role string
	inTx(t, c, s.leadHash, func(tx pgx.Tx) {
		if err := tx.QueryRow(ctx, `select private.get_my_role()`).Scan(&role); err != nil {
			t.Fatal(err)
		}
	})
	if role != "provider" {
		t.Fatalf("role after the change = %s, want provider", role)
	}
	super(`update app.memberships set role = 'lead' where user_id = $1`, s.lead)
	super(`update app.orgs set require_passkey = true where id = $1`, s.org)
	var pending *string
	inTx(t, c, s.leadHash, func(tx pgx.Tx) {
		if err := tx.QueryRow(ctx, `select pending from app.whoami()`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
	})
	if pending == nil || *pending != "passkey" {
		t.Fatalf("after require_passkey the lead is pending %v, want passkey", pending)
	}
	super(`update app.orgs set require_passkey = false where id = $1`, s.org)
	want(c, s.lead, entries()+1)

	// A change made by the transaction that reads: it resolves again at
	// once (its own change is visible to every snapshot it takes) ...
	tx, err := env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var before, after *string
	if err := tx.QueryRow(ctx, `select set_config('ward.credential', $1, true), private.uid()::text`, s.leadHash).Scan(new(string), &before); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `update app.sessions set revoked_at = now() where id = $1`, s.leadSession); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `select private.uid()::text`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if before == nil || *before != s.lead || after != nil {
		t.Fatalf("uid before and after revoking in the same transaction: %v, %v", before, after)
	}
	// ... and an entry put by a transaction that then changed something
	// is not used by anyone after it commits.
	super(`delete from private.principal_cache`)
	tx, err = env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `select set_config('ward.credential', $1, true), private.uid()::text`, s.leadHash).Scan(new(string), &before); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `update app.sessions set revoked_at = now() where id = $1`, s.leadSession); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if entries() != 1 {
		t.Fatalf("the resolving transaction put %d entries, want 1", entries())
	}
	want(other, "nobody", 1)
	super(`update app.sessions set revoked_at = null where id = $1`, s.leadSession)

	// An entry is valid no longer than the session's idle expiry.
	super(`update app.sessions set last_seen_at = now() - interval '599 minutes 40 seconds' where id = $1`, s.leadSession)
	super(`delete from private.principal_cache`)
	want(c, s.lead, 1)
	var ok bool
	if err := env.Super.Pool.QueryRow(ctx, `select c.valid_until <= s.last_seen_at + interval '600 minutes'
	    from private.principal_cache c, app.sessions s where c.cred = $1 and s.id = $2`, s.leadHash, s.leadSession).Scan(&ok); err != nil || !ok {
		t.Fatalf("the entry outlives the session's idle expiry (%v)", err)
	}
	super(`update app.sessions set last_seen_at = now() where id = $1`, s.leadSession)

	// Within a transaction the principal holds (00164): a revocation that
	// commits between two statements takes effect for the next transaction
	// (a revocation of the session itself waits for a request that touched
	// it),
	// also when the first statement's whoami touched the session (which
	// moves the epoch and voids the seal until whoami seals again).
	for _, touch := range []bool{false, true} {
		super(`delete from private.principal_cache`)
		want(c, s.lead, 1)
		if touch {
			super(`update app.sessions set last_seen_at = now() - interval '2 minutes' where id = $1`, s.leadSession)
		}
		var during, next string
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			if _, err := tx.Exec(ctx, `select * from app.whoami()`); err != nil {
				t.Fatal(err)
			}
			// The membership, not the session: the touch holds the
			// session's row until the transaction ends.
			super(`update app.memberships set revoked_at = now() where user_id = $1`, s.lead)
			during = uid(t, tx)
		})
		inTx(t, c, s.leadHash, func(tx pgx.Tx) { next = uid(t, tx) })
		super(`update app.memberships set revoked_at = null where user_id = $1`, s.lead)
		super(`update app.sessions set last_seen_at = now() where id = $1`, s.leadSession)
		if during != s.lead || next != "nobody" {
			t.Fatalf("touch %v: revoked between two statements: %s in the transaction, %s after; want the lead, then nobody",
				touch, during, next)
		}
	}

	// ward_app reads the entry of the credential it bound, through
	// private.principal_cached as the policies do (00164), and no other
	// entry; it writes and calls none of it.
	super(`delete from private.principal_cache`)
	want(c, s.lead, 1)
	inTx(t, other, s.adminHash, func(tx pgx.Tx) { uid(t, tx) }) // the admin's entry
	inTx(t, c, s.leadHash, func(tx pgx.Tx) {
		var mine, others int
		if err := tx.QueryRow(ctx, `select count(*) filter (where cred = $1), count(*) filter (where cred <> $1)
		    from private.principal_cache`, s.leadHash).Scan(&mine, &others); err != nil {
			t.Fatal(err)
		}
		if mine != 1 || others != 0 {
			t.Fatalf("ward_app bound to the lead reads %d of its entries and %d others, want 1 and 0", mine, others)
		}
		var org, user, role string
		var lead, key, glass bool
		if err := tx.QueryRow(ctx, `select org_id::text, user_id::text, role, lead, is_key, break_glass
		    from private.principal_cached`).Scan(&org, &user, &role, &lead, &key, &glass); err != nil {
			t.Fatal(err)
		}
		if org != s.org || user != s.lead || role != "lead" || !lead || key || glass {
			t.Fatalf("principal_cached: %s %s %s lead %v key %v break-glass %v", org, user, role, lead, key, glass)
		}
		if _, err := tx.Exec(ctx, `set local ward.principal_cache = 'off'`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(ctx, `select count(*) from private.principal_cached`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("principal_cached with the cache off: %d rows (%v), want none", n, err)
		}
	})
	inTx(t, c, "", func(tx pgx.Tx) {
		var n int
		if err := tx.QueryRow(ctx, `select count(*) from private.principal_cache`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("ward_app with no credential reads %d entries (%v), want none", n, err)
		}
	})
	for _, q := range []string{
		`delete from private.principal_cache`,
		`update private.principal_changes set at = now()`,
		`insert into private.principal_changes (xid) values (pg_current_xact_id())`,
		`delete from private.principal_changes`,
		`insert into private.principal_cache (cred, principal, snap, put_xid, valid_until)
		 values ('x', row('session',null,null,null,'admin',null,2,0,false,null,'{}',null), pg_current_snapshot(), pg_current_xact_id(), now() + interval '1 minute')`,
		`select private.principal_cache_put('x', null, pg_current_snapshot(), now())`,
	} {
		inTx(t, c, s.leadHash, func(tx pgx.Tx) {
			sp, err := tx.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = sp.Exec(ctx, q)
			_ = sp.Rollback(ctx)
			if !postgres.IsCode(err, "42501") {
				t.Errorf("ward_app: %s: %v, want 42501", q, err)
			}
		})
	}
}
