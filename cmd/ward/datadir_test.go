package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/postgres"
)

// wardErr runs one CLI command and returns its stdout and stderr.
func wardErr(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"ward"}, args...), noEnv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// TestDataDirOwnership: one process owns a data directory's cluster. A
// second serve is refused; an operator command uses the running server's
// cluster and leaves it running; a cluster left behind by a crashed ward is
// adopted, said so, and stopped by its new owner.
func TestDataDirOwnership(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)

	_, _, err := wardErr(t, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "in use by ward serve (pid") {
		t.Fatalf("a second serve on the same data directory: %v", err)
	}
	out, stderr, err := wardErr(t, "org", "create", "--data-dir", dir, "--name", "Shared Dir", "--admin-email", "a@shared.test")
	if err != nil || !strings.Contains(out, "org_id=") || !strings.Contains(stderr, "using the database of the running ward serve") {
		t.Fatalf("org create while serve runs: %v\nstdout %s\nstderr %s", err, out, stderr)
	}
	s.call("GET", "/readyz", "", nil, 200, nil) // the operator command did not stop the cluster
	s.stop()

	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if cl.Running() {
		t.Fatal("serve left its cluster running at exit")
	}
	// A crash: the cluster runs, no ward holds the directory.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	_, stderr, err = wardErr(t, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(stderr, "was left running by a ward process that did not stop it") {
		t.Fatalf("migrate with an orphaned cluster: %v\n%s", err, stderr)
	}
	if cl.Running() {
		t.Fatal("the adopted cluster was not stopped by its new owner")
	}
}
