package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/blob"
)

// TestKillDuringUpload kills `ward serve` (SIGKILL, a separate process)
// in the middle of a document upload: after a restart there is no
// committed version without its object, no object without its version,
// and the sweeper removes what the upload left in the store.
func TestKillDuringUpload(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(reachableTempDir(t), "var")
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				base <- "https://" + m[1]
			}
		}
	}()
	s := &server{t: t, dir: dir}
	select {
	case s.base = <-base:
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "dev-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}

	mustWard(t, "org", "create", "--data-dir", dir, "--name", "Crash Clinic", "--admin-email", "admin@crash.test")
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "admin@crash.test"))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token)
	var kase struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/cases", sess.Token, map[string]string{"title": "crash"}, http.StatusCreated, &kase)

	// Stream 64 MiB slowly; kill the server once 8 MiB have gone.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.base+"/v1/cases/"+kase.ID+"/files", pr)
	req.Header.Set("Authorization", "Bearer "+sess.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename=scan.bin")
	req.Header.Set("Ward-Document-Type", "scan")
	done := make(chan error, 1)
	go func() {
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				err = errNotKilled
			}
		}
		done <- err
	}()
	chunk := make([]byte, 1<<20)
	for i := range 64 {
		if i == 8 {
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
		}
		if _, err := pw.Write(chunk); err != nil {
			break
		}
	}
	pw.Close()
	if err := <-done; err == nil || err == errNotKilled {
		t.Fatalf("the upload did not fail with the server killed: %v", err)
	}

	// Restart (adopting the database the killed process left running).
	s2 := startServe(t, dir)
	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	su, err := postgres.Open(ctx, cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	var versions int
	if err := su.Pool.QueryRow(ctx, `select count(*) from app.document_versions`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 0 {
		t.Fatalf("%d versions committed by a killed upload", versions)
	}
	store, err := blob.NewDir(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	if err := store.List(ctx, "orgs/", func(string, time.Time) error { objects++; return nil }); err != nil {
		t.Fatal(err)
	}
	if objects != 0 {
		t.Fatalf("%d objects without a committed version", objects)
	}
	left := func() int {
		n := 0
		_ = filepath.Walk(filepath.Join(dir, "documents"), func(_ string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if left() == 0 {
		t.Log("the killed upload left no temporary file (killed before the store opened one)")
	}
	ops, err := postgres.OpenAs(ctx, cl.URL("postgres", "ward"), "ward_ops")
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	jobs := cases.NewJobs(ops, nil, store, nil, s2.base, nil)
	jobs.Grace, jobs.Confirm = 0, 0
	// The first sweep notes the orphan, the second removes it.
	for range 2 {
		if _, err := jobs.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := left(); n != 0 {
		t.Fatalf("%d files left in the document store after the sweep", n)
	}
	// The restarted server takes uploads again.
	req, _ = http.NewRequest("POST", s2.base+"/v1/cases/"+kase.ID+"/files", strings.NewReader("after the crash"))
	req.Header.Set("Authorization", "Bearer "+sess.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", "attachment; filename=note.txt")
	req.Header.Set("Ward-Document-Type", "note")
	resp, err := s2.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload after restart: %d", resp.StatusCode)
	}
}

var errNotKilled = errors.New("the upload succeeded")
