package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
)

// TestAuditRestoredBackup is the operator's rollback the archive exists
// for: a pg_dump taken early, more audited reads signed and archived, then
// the database restored from the dump with pg_restore. The restored log is
// self-consistent (ward audit verify without the archive passes), but the
// archive holds a checkpoint of a larger tree, and verify against it fails,
// naming the org and the first position the database no longer has.
func TestAuditRestoredBackup(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	archive := filepath.Join(dir, "audit-archive")
	s := startServe(t, dir)
	out := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Rollback Clinic", "--admin-email", "admin@rollback.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "admin@rollback.test"))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding() // bearer sessions: this test is not about device binding
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token)
	var p struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/patients", sess.Token, map[string]any{"name": "Rollback Patient"}, http.StatusCreated, &p)
	s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, nil)
	early := waitArchivedCheckpoint(t, archive, orgID, 1)
	s.stop()

	// The backup, taken as the superuser with the cluster's own pg_dump.
	cl, su := openCluster(t, dir)
	dump := filepath.Join(t.TempDir(), "ward.dump")
	pgTool(t, cl, "pg_dump", "--format=custom", "--file="+dump, "--dbname=ward")
	su.Close()
	if err := cl.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Later: more reads, signed and archived beyond the backup.
	s = startServe(t, dir)
	for range 5 {
		s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, nil)
	}
	late := waitArchivedCheckpoint(t, archive, orgID, early+5)
	s.stop()

	// The restore: the database dropped and created again from the dump.
	cl, su = openCluster(t, dir)
	su.Close()
	pgTool(t, cl, "dropdb", "--force", "ward")
	pgTool(t, cl, "pg_restore", "--create", "--exit-on-error", "--dbname=postgres", dump)
	if err := cl.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	key := strings.TrimSpace(mustWard(t, "audit", "checkpoint", "key", "--data-dir", dir))
	keyFile := filepath.Join(t.TempDir(), "audit.vkey")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without the archive, the restored log verifies: it is a consistent,
	// older log (that is the point of the archive).
	if out, err := ward(t, "audit", "verify", "--data-dir", dir, "--org", orgID); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("the restored log on its own: %q, %v", out, err)
	}
	_, err := ward(t, "audit", "verify", "--data-dir", dir, "--key", keyFile, "--archive", archive)
	if err == nil || !strings.Contains(err.Error(), orgID) || !strings.Contains(err.Error(), "seq ") {
		t.Fatalf("verify of the restored database against the archive (checkpoints %d then %d): %v, want a failure "+
			"naming the org and a position", early, late, err)
	}
	// The position it names is past what the backup held and within what
	// the archive's newer checkpoint covers.
	m := regexp.MustCompile(`seq (\d+)`).FindStringSubmatch(err.Error())
	if pos, _ := strconv.ParseInt(m[1], 10, 64); pos <= early || pos > late {
		t.Fatalf("verify named seq %d; the backup held %d events, the archive covers %d: %v", pos, early, late, err)
	}
}

// waitArchivedCheckpoint waits until the archive directory holds a signed
// checkpoint of org's log of at least min events, and returns its size.
func waitArchivedCheckpoint(t *testing.T, archive, org string, min int64) int64 {
	t.Helper()
	for deadline := time.Now().Add(45 * time.Second); ; {
		notes, _ := filepath.Glob(filepath.Join(archive, org, filepath.Dir(audit.CheckpointName(0)), "*.note"))
		for _, n := range notes {
			if size, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), ".note"), 10, 64); err == nil && size >= min {
				return size
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no archived checkpoint of %d events or more (archived: %v)", min, notes)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// openCluster starts the data directory's embedded cluster (serve stopped)
// and opens it as the superuser.
func openCluster(t *testing.T, dir string) (*postgres.Cluster, *postgres.DB) {
	t.Helper()
	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	su, err := postgres.Open(ctx, cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	return cl, su
}

// pgTool runs one of the cluster's client programs as its superuser over
// its Unix socket.
func pgTool(t *testing.T, cl *postgres.Cluster, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(cl.BinDir, name), append([]string{"--host=" + cl.SocketDir(),
		"--port=" + strconv.Itoa(cl.SocketPort()), "--username=postgres"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}
