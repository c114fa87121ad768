package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestKeysCommands: ward keys status and rotate as ward_ops, one org and
// then all, and the bad inputs each refused with a plain message.
func TestKeysCommands(t *testing.T) {
	env := pgtest.New(t)
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	ops := env.URL("ward_ops")
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", ops,
		"--name", "Keys Clinic", "--admin-email", "admin@keys.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]

	row := func(out, id string) []string {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 7 && f[0] == id {
				return f
			}
		}
		t.Fatalf("no status row for %s in:\n%s", id, out)
		return nil
	}
	st := row(mustWard(t, "keys", "status", "--data-dir", dir, "--database-url", ops), org)
	if st[1] != "1" || st[4] != "never" || st[5] != "0" || st[6] != "0" {
		t.Fatalf("status before a rotation: %v", st)
	}
	out = mustWard(t, "keys", "rotate", "--data-dir", dir, "--database-url", ops, "--org", org)
	m := regexp.MustCompile(`org=` + org + ` rotated primary_key_id=(\d+)\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "org="+org+" data_keys_rewrapped=0") {
		t.Fatalf("rotate printed:\n%s", out)
	}
	st = row(mustWard(t, "keys", "status", "--data-dir", dir, "--database-url", ops, "--org", org), org)
	if st[1] != "2" || st[2] != m[1] || st[4] == "never" {
		t.Fatalf("status after a rotation: %v (primary %s)", st, m[1])
	}
	// --all: the org and the instance keyset.
	out = mustWard(t, "keys", "rotate", "--data-dir", dir, "--database-url", ops, "--all")
	if n := strings.Count(out, " rotated primary_key_id="); n != 2 || !strings.Contains(out, "org=ffffffff-ffff-ffff-ffff-ffffffffffff rotated") {
		t.Fatalf("rotate --all printed:\n%s", out)
	}
	if st = row(mustWard(t, "keys", "status", "--data-dir", dir, "--database-url", ops), org); st[1] != "3" {
		t.Fatalf("status after rotate --all: %v", st)
	}
	// The operator's commands still read the instance keys (sign-in links).
	if out := mustWard(t, "login-link", "--data-dir", dir, "--database-url", ops, "--email", "admin@keys.test"); !strings.Contains(out, "https://") {
		t.Fatalf("login-link after rotating the instance keyset printed:\n%s", out)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"keys"}, "usage"},
		{[]string{"keys", "shred"}, "usage"},
		{[]string{"keys", "rotate"}, "give one of --org or --all"},
		{[]string{"keys", "rotate", "--org", org, "--all"}, "give one of --org or --all"},
		{[]string{"keys", "rotate", "--org", "not-an-id"}, "--org: not an org id"},
		{[]string{"keys", "rotate", "--org", "00000000-0000-0000-0000-000000000001"}, "no keys for this org"},
	} {
		_, err := ward(t, append(bad.args, "--data-dir", dir, "--database-url", ops)...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ward %v: %v, want an error with %q", bad.args, err, bad.want)
		}
	}
}
