package main

import (
	"context"
	"os"
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

// TestKeysRootRotation: ward keys root add, rotate and retire on the data
// directory's root key file. Every keyset moves to the new key (audited
// keys.rewrap); a keyset left under the old key (a server that had not
// restarted) makes retire refuse until rotate runs again; after retire the
// org's keys still open; a wrong --root-key path is refused, not created.
func TestKeysRootRotation(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	ops := env.URL("ward_ops")
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", ops,
		"--name", "Root Clinic", "--admin-email", "admin@root.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	root := []string{"--data-dir", dir, "--database-url", ops}

	status := func() map[string][2]string {
		t.Helper()
		rows := map[string][2]string{}
		for _, l := range strings.Split(mustWard(t, append([]string{"keys", "root", "status"}, root...)...), "\n")[1:] {
			if f := strings.Fields(l); len(f) == 3 {
				rows[f[0]] = [2]string{f[1], f[2]}
			}
		}
		return rows
	}
	st := status()
	if len(st) != 1 {
		t.Fatalf("status before: %v", st)
	}
	var oldID string
	for id, r := range st {
		oldID = id
		if r != [2]string{"true", "4"} { // the org's and the instance's aead and prf
			t.Fatalf("status before: %v", st)
		}
	}
	if _, err := ward(t, append([]string{"keys", "root", "rotate"}, root...)...); err == nil || !strings.Contains(err.Error(), "one key") {
		t.Fatalf("rotate with one key: %v", err)
	}
	out = mustWard(t, append([]string{"keys", "root", "add"}, root...)...)
	newID := regexp.MustCompile(`key_id=(\d+) primary_key_id=` + oldID).FindStringSubmatch(out)[1]

	var oldPRF []byte
	if err := env.Super.Pool.QueryRow(ctx, `select wrapped from private.keysets where org_id = $1 and purpose = 'prf'`, org).Scan(&oldPRF); err != nil {
		t.Fatal(err)
	}
	out = mustWard(t, append([]string{"keys", "root", "rotate"}, root...)...)
	if !strings.Contains(out, "primary_key_id="+newID) || !strings.Contains(out, "keysets_rewrapped=4") {
		t.Fatalf("rotate printed:\n%s", out)
	}
	if st := status(); st[newID] != [2]string{"true", "4"} || st[oldID] != [2]string{"false", "0"} {
		t.Fatalf("status after rotate: %v", st)
	}
	// The keys inside did not change, so no keyset counts as rotated.
	var rotated int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from private.keysets where rotated_at is not null`).Scan(&rotated); err != nil || rotated != 0 {
		t.Fatalf("%d keysets marked rotated by a root rewrap (%v)", rotated, err)
	}

	// A keyset still under the old key (written by a server not restarted).
	if _, err := env.Super.Pool.Exec(ctx, `update private.keysets set wrapped = $2 where org_id = $1 and purpose = 'prf'`, org, oldPRF); err != nil {
		t.Fatal(err)
	}
	if _, err := ward(t, append([]string{"keys", "root", "retire"}, root...)...); err == nil || !strings.Contains(err.Error(), "still wrapped under root key "+oldID) {
		t.Fatalf("retire with a keyset under the old key: %v", err)
	}
	if st := status(); len(st) != 2 {
		t.Fatalf("retire deleted a key: %v", st)
	}
	if out := mustWard(t, append([]string{"keys", "root", "rotate"}, root...)...); !strings.Contains(out, "keysets_rewrapped=1") {
		t.Fatalf("second rotate printed:\n%s", out)
	}
	if out := mustWard(t, append([]string{"keys", "root", "retire"}, root...)...); !strings.Contains(out, "retired=["+oldID+"]") {
		t.Fatalf("retire printed:\n%s", out)
	}
	if st := status(); len(st) != 1 || st[newID] != [2]string{"true", "4"} {
		t.Fatalf("status after retire: %v", st)
	}
	// The org's keys unwrap under the new file and work as before.
	mustWard(t, "keys", "status", "--data-dir", dir, "--database-url", ops, "--org", org)
	out = mustWard(t, "keys", "rotate", "--data-dir", dir, "--database-url", ops, "--org", org)
	if !strings.Contains(out, "data_keys_rewrapped=0") {
		t.Fatalf("an org key rotation after the root's: %s", out)
	}
	var rewraps int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'keys.rewrap'`, org).Scan(&rewraps); err != nil {
		t.Fatal(err)
	}
	if rewraps != 3 {
		t.Errorf("%d keys.rewrap events in the org's log, want 3", rewraps)
	}

	missing := filepath.Join(dir, "no-such-root.json")
	if _, err := ward(t, "keys", "root", "status", "--data-dir", dir, "--database-url", ops, "--root-key", missing); err == nil {
		t.Error("status with a missing root key file succeeded")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a missing root key file was created")
	}
}
