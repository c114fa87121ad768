package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// leafCommands is every command the usage names, as typed.
var leafCommands = [][]string{
	{"serve"}, {"migrate"}, {"org", "create"}, {"org", "list"}, {"org", "shred"}, {"login-link"},
	{"audit", "verify"}, {"audit", "export"}, {"audit", "export", "verify"}, {"audit", "proof", "verify"},
	{"audit", "checkpoint", "key"}, {"keys", "status"}, {"keys", "rotate"}, {"breach", "scope"},
	{"breach", "revoke"}, {"user", "list"}, {"dsr", "status"}, {"patient", "key"}, {"compliance", "report"},
	{"deid"}, {"deid", "eval"}, {"gateway", "provider", "add"}, {"gateway", "provider", "list"}, {"bench"},
}

// TestEveryCommandRefusesBadArguments: every command of the usage, given a
// flag it does not define, a stray argument or a flag without its value,
// fails with a plain message and its usage, before it opens a database or
// reads a file; and --help prints its usage once and succeeds. A group
// given a sub-command it does not have says so. (The process then exits
// 1: main.)
func TestEveryCommandRefusesBadArguments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	// A database no command may reach: a mistake must be refused before.
	env := func(k string) string {
		switch k {
		case "WARD_DATA_DIR":
			return dir
		case "WARD_DATABASE_URL":
			return "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"
		}
		return ""
	}
	call := func(args ...string) (string, string, error) {
		var out, errb strings.Builder
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			err = run(context.Background(), append([]string{"ward"}, args...), env, strings.NewReader(""), &out, &errb)
		}()
		return out.String(), errb.String(), err
	}
	usageOf := func(cmd []string, err error, want string) {
		t.Helper()
		var ue *usageError
		switch {
		case err == nil:
			t.Errorf("ward %s: succeeded, want %q", strings.Join(cmd, " "), want)
		case strings.Contains(err.Error(), "panic"):
			t.Errorf("ward %s: %v", strings.Join(cmd, " "), err)
		case !strings.Contains(err.Error(), want):
			t.Errorf("ward %s: %v, want %q", strings.Join(cmd, " "), err, want)
		case !errors.As(err, &ue) || !strings.Contains(ue.usage, "usage: ward "):
			t.Errorf("ward %s: %v, without the command's usage", strings.Join(cmd, " "), err)
		}
	}
	for _, cmd := range leafCommands {
		name := strings.Join(cmd, " ")
		out, _, err := call(append(append([]string{}, cmd...), "--no-such-flag")...)
		usageOf(append(append([]string{}, cmd...), "--no-such-flag"), err, "flag provided but not defined")
		if out != "" {
			// main prints the message and the usage on stderr; the
			// command printing them on stdout too says it twice.
			t.Errorf("ward %s --no-such-flag printed on stdout: %.80q", name, out)
		}

		out, _, err = call(append(append([]string{}, cmd...), "--help")...)
		if err != nil {
			t.Errorf("ward %s --help: %v", name, err)
		} else if n := strings.Count(out, "usage: ward"); n != 1 {
			t.Errorf("ward %s --help printed its usage %d times", name, n)
		}

		// A flag that takes a value, given none.
		if cmd[0] != "deid" && cmd[0] != "bench" && !(cmd[0] == "audit" && cmd[1] != "verify") {
			_, _, err = call(append(append([]string{}, cmd...), "--data-dir")...)
			usageOf(append(append([]string{}, cmd...), "--data-dir"), err, "flag needs an argument")
		}
	}
	// A stray argument, where a command takes none.
	for _, cmd := range leafCommands {
		switch strings.Join(cmd, " ") {
		case "deid eval", "audit proof verify", "audit export verify":
			continue // these take files
		}
		args := append(append([]string{}, cmd...), "extra")
		_, _, err := call(args...)
		usageOf(args, err, "unexpected argument")
	}
	// A group given a sub-command it does not have, or none.
	for _, group := range [][]string{{"org"}, {"audit"}, {"audit", "proof"}, {"audit", "checkpoint"}, {"keys"},
		{"breach"}, {"user"}, {"dsr"}, {"patient"}, {"compliance"}, {"gateway"}, {"gateway", "provider"}} {
		for _, sub := range [][]string{{"frobnicate"}, nil} {
			args := append(append([]string{}, group...), sub...)
			_, _, err := call(args...)
			if err == nil || strings.Contains(err.Error(), "panic") {
				t.Errorf("ward %s: %v, want a refusal", strings.Join(args, " "), err)
			}
		}
	}
	if _, _, err := call("version", "extra"); err == nil {
		t.Errorf("ward version extra: succeeded, want a refusal")
	}
	if out, _, err := call("version", "--help"); err != nil || strings.Count(out, "usage: ward version") != 1 {
		t.Errorf("ward version --help: %v %q", err, out)
	}
}
