package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestUserCommand: the operator lists the orgs, an org's members and one address's
// memberships in two orgs, with each one's factors, TOTP lockout, recovery
// codes, live and ended sessions and last sign-in; no address is printed;
// the server's role and bad flags are refused.
func TestUserCommand(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := reachableTempDir(t)
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	ops := env.URL("ward_ops")
	orgOf := func(name, email string) string {
		out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", ops, "--name", name, "--admin-email", email)
		return regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	}
	a := orgOf("Members North", "pat.admin@north.test")
	b := orgOf("Members South", "pat.admin@north.test") // the same person, admin of both
	other := orgOf("Members Other", "someone@other.test")

	// In org A: a confirmed, locked TOTP factor, three recovery codes left
	// of four, a live session and an ended one (a superuser's seeding).
	for _, q := range []string{
		`insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash, confirmed_at, locked_until)
		   select org_id, user_id, '\x01', sha256('\x02'), now(), now() + interval '15 minutes' from app.memberships where org_id = $1`,
		`insert into app.recovery_codes (org_id, user_id, code_hash, used_at)
		   select m.org_id, m.user_id, sha256(g::text::bytea), case when g = 1 then now() end
		     from app.memberships m, generate_series(1, 4) g where m.org_id = $1`,
		`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, token_assurance,
		   token_amr, token_authenticated_at, revoked_at)
		   select m.org_id, m.user_id, sha256(gen_random_uuid()::text::bytea), 30, now() + interval '1 day', 1, '{email}', now(),
		          case when g = 2 then now() end
		     from app.memberships m, generate_series(1, 2) g where m.org_id = $1`,
	} {
		if _, err := env.Super.Pool.Exec(ctx, q, a); err != nil {
			t.Fatal(err)
		}
	}

	var list []Member
	if err := json.Unmarshal([]byte(mustWard(t, "user", "list", "--data-dir", dir, "--database-url", ops,
		"--email", "pat.admin@north.test", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("the address has %d memberships listed, want 2: %+v", len(list), list)
	}
	by := map[string]Member{}
	for _, m := range list {
		by[m.Org.String()] = m
	}
	ma, mb := by[a], by[b]
	if ma.Role != "admin" || !ma.TOTP || ma.TOTPLockedUntil == nil || ma.RecoveryCodes != 3 || ma.LiveSessions != 1 ||
		ma.LastSignIn == nil || ma.Passkeys != 0 || ma.RevokedAt != nil {
		t.Errorf("org A's admin: %+v", ma)
	}
	if mb.Role != "admin" || mb.TOTP || mb.TOTPLockedUntil != nil || mb.RecoveryCodes != 0 || mb.LiveSessions != 0 ||
		mb.LastSignIn != nil || mb.User != ma.User {
		t.Errorf("org B's admin: %+v", mb)
	}
	if _, ok := by[other]; ok {
		t.Errorf("another address's org listed: %+v", list)
	}

	out := mustWard(t, "user", "list", "--data-dir", dir, "--database-url", ops, "--org", a)
	if !strings.Contains(out, ma.User.String()) || !strings.Contains(out, "locked until") || strings.Contains(out, "north.test") {
		t.Errorf("org A's list printed:\n%s", out)
	}
	if out := mustWard(t, "user", "list", "--data-dir", dir, "--database-url", ops, "--email", "nobody@north.test"); !strings.Contains(out, "No member found") {
		t.Errorf("an unknown address printed:\n%s", out)
	}
	// The orgs, with their counts and policy, nothing of any person.
	var orgs []OrgSummary
	if err := json.Unmarshal([]byte(mustWard(t, "org", "list", "--data-dir", dir, "--database-url", ops, "--format", "json")), &orgs); err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 3 || orgs[0].ID.String() != a || orgs[0].Name != "Members North" || orgs[0].Members != 1 ||
		orgs[0].Admins != 1 || orgs[0].Patients != 0 || orgs[2].ID.String() != other || orgs[0].IdleTimeoutMin <= 0 {
		t.Errorf("org list: %+v", orgs)
	}
	if out := mustWard(t, "org", "list", "--data-dir", dir, "--database-url", ops); !strings.Contains(out, `"Members South"`) ||
		strings.Contains(out, "north.test") {
		t.Errorf("org list printed:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "list", "--data-dir", dir, "--database-url", env.URL("ward_app")}, "permission denied"},
		{[]string{"org", "list", "--data-dir", dir, "--database-url", ops, "--format", "yaml"}, "not text or json"},
		{[]string{"user"}, "usage: ward user list"},
		{[]string{"user", "list", "--data-dir", dir, "--database-url", ops}, "name an org"},
		{[]string{"user", "list", "--data-dir", dir, "--database-url", ops, "--org", "north"}, "--org: not a UUID"},
		{[]string{"user", "list", "--data-dir", dir, "--database-url", ops, "--email", "Pat <pat@north.test>"}, "not an email address"},
		{[]string{"user", "list", "--data-dir", dir, "--database-url", ops, "--org", a, "--format", "csv"}, "not text or json"},
		{[]string{"user", "list", "--data-dir", dir, "--database-url", env.URL("ward_app"), "--org", a}, "permission denied"},
	} {
		if _, err := ward(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
