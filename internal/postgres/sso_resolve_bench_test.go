package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// BenchmarkResolveEnforcedOtherDomain measures resolving a link session of
// a member on another domain in an org that enforces SSO, the one case
// where migration 00130's fail-closed check (is the member's domain
// noted at all?) adds work to private.me_pending: "base" is the resolver
// without that check (00128's), "new" with it, swapped in the same
// database on each run so that -count interleaves them. A control
// session in an org that does not enforce SSO shows the common path.
// Figures in docs/benchmarks.md.
func BenchmarkResolveEnforcedOtherDomain(b *testing.B) {
	env := pgtest.New(b)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := env.Super.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	org, plain, user := uuid.New(), uuid.New(), uuid.New()
	exec(`insert into app.orgs (id, name, device_binding_required_for, enforce_sso) values
	        ($1, 'Enforcing', '{}', true), ($2, 'Plain', '{}', false)`, org, plain)
	exec(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('bench-user'), '\x00')`, user)
	exec(`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('bench-user'), sha256('d:other'))`)
	exec(`insert into app.memberships (org_id, user_id, role) values ($1, $3, 'provider'), ($2, $3, 'provider')`, org, plain, user)
	hashes := map[string]string{}
	for name, o := range map[string]uuid.UUID{"enforcing": org, "plain": plain} {
		sum := sha256.Sum256([]byte("bench-" + name))
		exec(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr)
		      values ($1, $2, $3, 600, now() + interval '10 hours', 1, '{email}')`, o, user, sum[:])
		hashes[name] = hex.EncodeToString(sum[:])
	}
	var def string
	if err := env.Super.Pool.QueryRow(ctx, `select pg_get_functiondef('private.me_pending'::regproc)`).Scan(&def); err != nil {
		b.Fatal(err)
	}
	const check = `
       or not exists (select from app.users u
                        join app.email_domains e on e.email_bidx = u.email_bidx
                       where u.id = me_pending.user_id) then`
	if !strings.Contains(def, check) {
		b.Fatal("the fail-closed check is not in private.me_pending as written in 00130")
	}
	base := strings.Replace(def, check, " then", 1)
	// Each op is 1,000 resolutions in one server-side loop (the round
	// trip, which dominates a request, is the same for both).
	conn, err := env.Super.Pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	resolve := func(b *testing.B, hash string) {
		if _, err := conn.Exec(ctx, `select set_config('ward.credential', $1, false)`, hash); err != nil {
			b.Fatal(err)
		}
		var uid *uuid.UUID
		if err := conn.QueryRow(ctx, `select user_id from private.me_pending() where pending is null`).Scan(&uid); err != nil || uid == nil || *uid != user {
			b.Fatalf("resolved %v, %v", uid, err)
		}
		for b.Loop() {
			if _, err := conn.Exec(ctx, `do $$ begin for i in 1..1000 loop perform private.me_pending(); end loop; end $$`); err != nil {
				b.Fatal(err)
			}
		}
	}
	for round := range 6 {
		for _, v := range []struct{ name, def string }{{"base", base}, {"new", def}} {
			exec(v.def)
			b.Run(fmt.Sprintf("%s/enforcing/round%d", v.name, round), func(b *testing.B) { resolve(b, hashes["enforcing"]) })
			b.Run(fmt.Sprintf("%s/plain/round%d", v.name, round), func(b *testing.B) { resolve(b, hashes["plain"]) })
		}
	}
}
