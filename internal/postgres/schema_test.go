package postgres_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

var update = flag.Bool("update", false, "rewrite schema.sql from a freshly migrated database")

// schemaFile is the generated schema for readers, next to migrations/.
const schemaFile = "schema.sql"

const schemaHeader = `-- Ward's database schema after every migration, for readers. Generated: do not edit.
-- The migrations in migrations/ are the source of truth; after changing them, run
--   go test ./internal/postgres -run TestSchemaSQLCurrent -update
-- Produced by pg_dump %d --schema-only of a freshly migrated database.

`

// TestSchemaSQLCurrent regenerates schema.sql (pg_dump --schema-only of a
// freshly migrated database) and fails when the committed file differs.
func TestSchemaSQLCurrent(t *testing.T) {
	env := pgtest.New(t)
	got := dumpSchema(t, env)
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v; generate it with: go test ./internal/postgres -run TestSchemaSQLCurrent -update", err)
	}
	if !bytes.Equal(got, want) {
		line, g, w := firstDiff(got, want)
		t.Fatalf("%s is out of date (first difference at line %d: %q, want %q); regenerate it with:\n"+
			"  go test ./internal/postgres -run TestSchemaSQLCurrent -update", schemaFile, line, g, w)
	}
}

// dumpSchema runs the pg_dump that sits next to the server binaries (the
// same major version as the server pgtest started) on env's database and
// strips the lines that vary from run to run.
func dumpSchema(t *testing.T, env *pgtest.Env) []byte {
	t.Helper()
	bin, err := postgres.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	pgDump := filepath.Join(bin, "pg_dump")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pgDump, "--schema-only", "--no-password", "--dbname", env.SuperURL())
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", pgDump, err, stderr.Bytes())
	}
	var version int
	if v, err := exec.CommandContext(ctx, pgDump, "--version").Output(); err != nil {
		t.Fatalf("%s --version: %v", pgDump, err)
	} else if m := regexp.MustCompile(`(\d+)`).FindSubmatch(v); m != nil {
		fmt.Sscan(string(m[1]), &version)
	}
	return normalizeDump(out, version)
}

// unstableLine matches what changes between runs of the same schema: the
// server and pg_dump versions, and the random key of \restrict (pg_dump
// 17.6, 16.10, 15.14 and later).
var unstableLine = regexp.MustCompile(`^(-- Dumped from database version |-- Dumped by pg_dump version |\\restrict |\\unrestrict )`)

func normalizeDump(dump []byte, version int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, schemaHeader, version)
	blank := true // collapse the blank lines left where lines were dropped
	for _, line := range strings.Split(string(dump), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if unstableLine.MatchString(line) {
			continue
		}
		if line == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n')
}

// firstDiff returns the first line number where got and want differ, and
// those lines.
func firstDiff(got, want []byte) (int, string, string) {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return i + 1, gl, wl
		}
	}
	return 0, "", ""
}

// normalizeDump drops exactly the lines that vary between runs.
func TestNormalizeDump(t *testing.T) {
	in := "--\n-- PostgreSQL database dump\n--\n\n\\restrict AbC123\n\n" +
		"-- Dumped from database version 15.14 (Debian 15.14-1)\n-- Dumped by pg_dump version 15.14\n\n" +
		"SET lock_timeout = 0;  \n\nCREATE SCHEMA app;\n\n\\unrestrict AbC123\n\n"
	want := fmt.Sprintf(schemaHeader, 15) +
		"--\n-- PostgreSQL database dump\n--\n\nSET lock_timeout = 0;\n\nCREATE SCHEMA app;\n"
	if got := string(normalizeDump([]byte(in), 15)); got != want {
		t.Fatalf("normalizeDump:\n%s\nwant:\n%s", got, want)
	}
}
