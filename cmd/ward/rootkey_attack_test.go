package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestRootKeyMissingLeavesNoNewKey: a command given a root key path where
// there is no file (a lost file, a wrong --root-key, a volume not mounted)
// against a database whose keysets another root key made refuses, says
// the file was missing rather than that a key is wrong, and leaves no new
// root key file behind: a file left there wraps nothing, and the next
// command that found it would wrap an org's keys under a key none of the
// database's other keysets share. The database's own key keeps working.
func TestRootKeyMissingLeavesNoNewKey(t *testing.T) {
	env := pgtest.New(t)
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	ops := env.URL("ward_ops")
	missing := filepath.Join(t.TempDir(), "unmounted", "root-key.json")
	for _, args := range [][]string{
		{"migrate", "--database-url", env.SuperURL()},
		{"org", "create", "--database-url", ops, "--name", "Lost Key Clinic", "--admin-email", "admin@lostkey.test"},
		{"keys", "rotate", "--database-url", ops, "--all"},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, err := ward(t, append(args, "--data-dir", dir, "--root-key", missing)...)
			if err == nil || !strings.Contains(err.Error(), "there was no root key file at "+missing) {
				t.Errorf("ward %s with no root key file: %v", strings.Join(args, " "), err)
			}
			if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ward %s left a new root key file at the missing path (%v)", args[0], err)
				_ = os.Remove(missing)
			}
		})
	}
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", ops, "--name", "Kept Key Clinic",
		"--admin-email", "admin@keptkey.test")
	if !regexp.MustCompile(`org_id=[0-9a-f-]{36}`).MatchString(out) {
		t.Fatalf("org create with the database's root key: %s", out)
	}
}
