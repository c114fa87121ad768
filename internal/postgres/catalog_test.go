package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// queryStrings runs q as the superuser and returns its single text column.
func queryStrings(t *testing.T, db *postgres.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return out
}

// The catalog invariants of DESIGN §2: any row these queries return is a defect.
func TestCatalogInvariants(t *testing.T) {
	env := pgtest.New(t)
	checks := []struct {
		name, query string
	}{
		{"table without forced RLS", `
			select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
			where n.nspname in ('app', 'audit', 'private') and c.relkind in ('r', 'p')
			  and not (c.relrowsecurity and c.relforcerowsecurity)`},
		{"SECURITY DEFINER function without pinned search_path", `
			select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
			where p.prosecdef and not exists (select from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`},
		{"SECURITY DEFINER function outside app/audit/private", `
			select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
			where p.prosecdef and n.nspname not in ('app', 'audit', 'private')`},
		{"function executable by PUBLIC in app/audit/private", `
			select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
			where n.nspname in ('app', 'audit', 'private') and p.prokind = 'f'
			  and has_function_privilege('public', p.oid, 'execute') and p.prosecdef`},
		{"object owned by ward_app", `
			select c.relname::text from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'ward_app'
			union all select p.proname::text from pg_proc p join pg_roles r on r.oid = p.proowner where r.rolname = 'ward_app'
			union all select n.nspname::text from pg_namespace n join pg_roles r on r.oid = n.nspowner where r.rolname = 'ward_app'`},
		{"ward_app with superuser, BYPASSRLS, CREATEROLE or CREATEDB", `
			select rolname::text from pg_roles where rolname = 'ward_app' and (rolsuper or rolbypassrls or rolcreaterole or rolcreatedb)`},
		{"ward_app with TRUNCATE, REFERENCES or TRIGGER", `
			select c.relname || ':' || p from pg_class c join pg_namespace n on n.oid = c.relnamespace,
			  unnest(array['TRUNCATE', 'REFERENCES', 'TRIGGER']) p
			where n.nspname in ('app', 'audit', 'private') and c.relkind in ('r', 'p')
			  and has_table_privilege('ward_app', c.oid, p)`},
		{"ward_app can read token hashes or key material", `
			select c.table_schema || '.' || c.table_name || '.' || c.column_name from information_schema.columns c
			where c.table_schema in ('app', 'private', 'audit')
			  and (c.column_name like '%token_hash%' or c.column_name like '%verifier_hash%'
			       or c.column_name in ('wrapped', 'key_hash', 'email_bidx'))
			  and c.table_name in ('sessions', 'magic_links', 'keysets', 'auth_attempts', 'users')
			  and has_column_privilege('ward_app', (c.table_schema || '.' || c.table_name)::regclass, c.column_name, 'select')`},
		{"ward_app may update or delete audit rows", `
			select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace,
			  unnest(array['UPDATE', 'DELETE', 'INSERT']) p
			where n.nspname = 'audit' and c.relkind = 'r' and has_table_privilege('ward_app', c.oid, p)`},
		{"ward_app may assert an audit actor or call operator procedures", `
			select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
			where (n.nspname, p.proname) in (('audit', 'append_as'), ('app', 'create_org'), ('app', 'issue_operator_link'))
			  and has_function_privilege('ward_app', p.oid, 'execute')`},
		{"policy calling a helper outside a (select ...) wrapper", `
			select schemaname || '.' || tablename || '.' || policyname from pg_policies
			where coalesce(qual, '') || coalesce(with_check, '') ~ '(?<!SELECT )private\.[a-z_]+\('`},
		// 00164: a policy reads the principal from the cache in its own
		// plan, the helper only as the fallback, each with its own column
		// (00166 adds lead_org and my_lead_org).
		{"policy calling a principal helper without the cached principal first", `
			select schemaname || '.' || tablename || '.' || policyname from pg_policies
			where regexp_replace(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
			        'COALESCE\(\( SELECT c\.(org_id|user_id|lead|role|is_key|break_glass|lead_org)\s+FROM private\.principal_cached c\), ' ||
			        '\( SELECT private\.(get_my_org_id|uid|am_i_lead|get_my_role|is_key|am_i_break_glass|my_lead_org)\(\) AS \2\)\)', '\1=\2', 'g')
			      ~ ('private\.(get_my_org_id|uid|am_i_lead|get_my_role|is_key|am_i_break_glass|my_lead_org)\(|' ||
			         '(?<!lead_)org_id=(?!get_my_org_id)|user_id=(?!uid)|lead=(?!am_i_lead)|role=(?!get_my_role)|is_key=(?!is_key)|' ||
			         'break_glass=(?!am_i_break_glass)|lead_org=(?!my_lead_org)')`},
		{"view without security_invoker", `
			select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
			where n.nspname in ('app', 'audit', 'private') and c.relkind = 'v'
			  and not coalesce(c.reloptions @> array['security_invoker=true'], false)`},
		{"single-column foreign key between org-scoped tables", `
			select con.conname::text from pg_constraint con
			join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
			join pg_class f on f.oid = con.confrelid
			where con.contype = 'f' and n.nspname = 'app'
			  and exists (select from pg_attribute a where a.attrelid = f.oid and a.attname = 'org_id')
			  and not exists (select from unnest(con.conkey) k join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k
			                  where a.attname = 'org_id')`},
		{"audit table without immutability trigger", `
			select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
			where n.nspname = 'audit' and c.relname = 'events'
			  and (select count(*) from pg_trigger g where g.tgrelid = c.oid and g.tgenabled = 'O') < 2`},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if bad := queryStrings(t, env.Super, c.query); len(bad) > 0 {
				t.Errorf("%s: %v", c.name, bad)
			}
		})
	}
}

// The catalog check itself must be able to fail: a table added without
// FORCE is reported.
func TestCatalogCheckDetectsUnforcedTable(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	if _, err := env.Super.Pool.Exec(ctx, `create table app.leaky (org_id uuid); alter table app.leaky enable row level security`); err != nil {
		t.Fatal(err)
	}
	bad := queryStrings(t, env.Super, `
		select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'app' and c.relkind = 'r' and not (c.relrowsecurity and c.relforcerowsecurity)`)
	if len(bad) != 1 || bad[0] != "leaky" {
		t.Fatalf("unforced table not reported: %v", bad)
	}
}

func TestCheckAppRole(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	if err := env.App.CheckAppRole(ctx); err != nil {
		t.Fatalf("ward_app refused: %v", err)
	}
	// Roles are cluster-wide: each is created if missing and its
	// attributes and memberships are (re)asserted, so reruns agree.
	for _, tc := range []struct {
		role  string
		setup string
		want  string // in the error
	}{
		{"postgres", ``, "superuser"},
		{"ward_test_owner", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_owner') then
			  create role ward_test_owner login; end if; end $$;
			grant create on schema app to ward_test_owner;
			create table app.owned_by_test (id int);
			alter table app.owned_by_test owner to ward_test_owner`, "owns 1 database objects"},
		{"ward_test_createrole", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_createrole') then
			  create role ward_test_createrole login; end if; end $$;
			alter role ward_test_createrole login createrole nosuperuser nobypassrls`, "CREATEROLE"},
		{"ward_test_member", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_member') then
			  create role ward_test_member login; end if; end $$;
			alter role ward_test_member login nocreaterole nosuperuser nobypassrls;
			grant ward_ops to ward_test_member`, "member of ward_ops"},
		// NOINHERIT does not help: the member may still SET ROLE.
		{"ward_test_noinherit_member", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_noinherit_member') then
			  create role ward_test_noinherit_member login; end if; end $$;
			alter role ward_test_noinherit_member login noinherit nocreaterole nosuperuser nobypassrls;
			grant pg_read_all_data, ward_definer to ward_test_noinherit_member`, "member of pg_read_all_data, ward_definer"},
		// Either lets a role change its credential inside a statement.
		{"ward_test_language", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_language') then
			  create role ward_test_language login; end if; end $$;
			grant usage on language sql to ward_test_language`, "may create functions in sql"},
		{"ward_test_set_config", `
			do $$ begin if not exists (select from pg_roles where rolname = 'ward_test_set_config') then
			  create role ward_test_set_config login; end if; end $$;
			grant execute on function pg_catalog.set_config(text, text, boolean) to ward_test_set_config`, "may call set_config"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			if tc.setup != "" {
				if _, err := env.Super.Pool.Exec(ctx, tc.setup); err != nil {
					t.Fatal(err)
				}
			}
			db, err := postgres.Open(ctx, env.URL(tc.role))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.CheckAppRole(ctx)
			if err == nil {
				t.Fatalf("%s accepted as the app role", tc.role)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"`+tc.role+`"`) {
				t.Fatalf("error %q does not name the role and say %q", err, tc.want)
			}
		})
	}
}

// A logical dump keeps no ACL for the language sql, so a restored database
// gives PUBLIC USAGE on it again: ward_app is then refused until `ward
// migrate` revokes it, and whatever it revokes leaves ward_owner able to
// write the next migration.
func TestCheckAppRoleAfterRestore(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	for _, restored := range []string{
		`grant usage on language sql to public`,
		`grant usage on language plpgsql to public`,
		`grant execute on function pg_catalog.set_config(text, text, boolean) to public`,
	} {
		if _, err := env.Super.Pool.Exec(ctx, restored); err != nil {
			t.Fatal(err)
		}
		if err := env.App.CheckAppRole(ctx); err == nil || !strings.Contains(err.Error(), "ward migrate") {
			t.Fatalf("after %q: ward_app accepted (%v)", restored, err)
		}
		if _, err := postgres.Migrate(ctx, env.SuperURL()); err != nil {
			t.Fatal(err)
		}
		if err := env.App.CheckAppRole(ctx); err != nil {
			t.Fatalf("after %q and migrate: %v", restored, err)
		}
	}
	var ownerSQL, ownerPL, definerSet bool
	if err := env.Super.Pool.QueryRow(ctx, `select has_language_privilege('ward_owner', 'sql', 'USAGE'),
		  has_language_privilege('ward_owner', 'plpgsql', 'USAGE'),
		  has_function_privilege('ward_definer', 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE')`).
		Scan(&ownerSQL, &ownerPL, &definerSet); err != nil {
		t.Fatal(err)
	}
	if !ownerSQL || !ownerPL || !definerSet {
		t.Fatalf("migrate took too much: ward_owner sql %v plpgsql %v, ward_definer set_config %v", ownerSQL, ownerPL, definerSet)
	}
}

func TestCheckSchema(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	if err := env.App.CheckSchema(ctx); err != nil {
		t.Fatalf("fresh schema refused: %v", err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `insert into public.goose_db_version (version_id, is_applied) values (99999, true)`); err != nil {
		t.Fatal(err)
	}
	if err := env.App.CheckSchema(ctx); !errors.Is(err, postgres.ErrUnknownSchema) {
		t.Fatalf("newer schema accepted: %v", err)
	}
}

func TestNestedTxRefused(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	err := env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return env.App.InTx(ctx, func(context.Context, pgx.Tx) error { return nil })
	})
	if !errors.Is(err, postgres.ErrNestedTx) {
		t.Fatalf("nested tx: %v", err)
	}
}

// InTenantTx binds the credential for the transaction only, in either of
// its two paths (literals for strictly formatted values, parameters for
// anything else), and a hostile value is never executed.
func TestInTenantTxBindsCredential(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	good := postgres.Credential{Hash: strings.Repeat("ab", 32), Org: "7d3f1c2e-0000-4000-8000-000000000001", Request: "req-1"}
	evil := postgres.Credential{Hash: "x'); create table app.pwned (id int); --", Org: "'; drop schema app cascade; --", Request: "r'"}
	for _, cred := range []postgres.Credential{good, evil} {
		var h, o, r string
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select current_setting('ward.credential'), current_setting('ward.org'),
				current_setting('ward.request')`).Scan(&h, &o, &r)
		})
		if err != nil {
			t.Fatalf("%+v: %v", cred, err)
		}
		if h != cred.Hash || o != cred.Org || r != cred.Request {
			t.Fatalf("bound %q %q %q, want %+v", h, o, r, cred)
		}
	}
	var leaked string
	_ = env.App.Pool.QueryRow(ctx, `select current_setting('ward.credential', true)`).Scan(&leaked)
	if leaked != "" {
		t.Fatalf("credential outlived its transaction: %q", leaked)
	}
	var n int
	_ = env.Super.Pool.QueryRow(ctx, `select count(*) from pg_class where relname = 'pwned'`).Scan(&n)
	if n != 0 {
		t.Fatal("a hostile credential was executed")
	}
}
