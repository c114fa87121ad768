package postgres

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without server binaries on PATH or in the Debian location, the error says
// how to install them.
func TestFindBinDirMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinDir(filepath.Join(t.TempDir(), "*", "bin"))
	if !errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("missing PostgreSQL: %v", err)
	}
}

// The newest Debian version wins when nothing is on PATH.
func TestFindBinDirDebianLayout(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, v := range []string{"13", "16", "15"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"initdb", "pg_ctl"} {
			if err := os.WriteFile(filepath.Join(bin, f), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir(filepath.Join(root, "*", "bin"))
	if err != nil || got != filepath.Join(root, "16", "bin") {
		t.Fatalf("findBinDir = %q, %v; want the 16 directory", got, err)
	}
}
