package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit/s3archive"
	"github.com/wardhq/ward/internal/audit/s3test"
)

// TestAuditArchiveS3: `ward serve --audit-archive s3://…` archives to a
// bucket with Object Lock (versitygw), reports it as WORM with the
// retention read back, and `ward audit verify --archive s3://…` catches a
// log cut back behind a checkpoint archived there.
func TestAuditArchiveS3(t *testing.T) {
	gw := s3test.Start(t)
	env := map[string]string{
		"WARD_S3_ENDPOINT":   gw.Endpoint(),
		"WARD_S3_REGION":     s3test.Region,
		"WARD_S3_ACCESS_KEY": s3test.AccessKey,
		"WARD_S3_SECRET_KEY": s3test.SecretKey,
	}
	getenv := func(k string) string { return env[k] }
	const location = "s3://ward-audit/test-instance"

	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServeWith(t, dir, getenv, "--audit-archive", location, "--audit-retention-days", "30",
		"--max-connections-per-address", "16")
	out := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Vault Clinic", "--admin-email", "admin@vault.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "admin@vault.test"))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token) // an admin needs a second factor; this test is not about factors
	var p struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/patients", sess.Token, map[string]any{"name": "Locked Patient"}, http.StatusCreated, &p)
	for range 4 {
		s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, nil)
	}

	// The archiver (created the bucket with Object Lock and) writes a
	// checkpoint covering the reads.
	ctx := context.Background()
	arch, err := s3archive.Open(ctx, s3archive.Config{Endpoint: gw.Endpoint(), Region: s3test.Region,
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Bucket: "ward-audit", Prefix: "test-instance"})
	if err != nil {
		t.Fatalf("the bucket serve should have created: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		pos, err := arch.Archived(ctx, uuid.MustParse(orgID))
		if err == nil && pos.Checkpoint >= 7 && pos.Seq >= pos.Checkpoint {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no archived checkpoint covering the reads: %+v, %v\n%s", pos, err, s.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Logged: the archive is WORM, and each object's retention as read back.
	// The archiver logs an object after it is stored, so the line may
	// trail the object the loop above saw by a moment.
	for _, want := range []string{
		`"msg":"audit archive","location":"` + location + `","worm":true,"mode":"COMPLIANCE","retention_days":30`,
		`"msg":"audit archived","org":"` + orgID + `","object":{"name":"test-instance/` + orgID + `/checkpoints/`,
		`"worm":true,"version":"`, `"mode":"COMPLIANCE","retain_until":"`,
	} {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.logs.String(), want) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if logs := s.logs.String(); !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
	resp, err := s.client.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "ward_audit_archive_worm 1") {
		t.Errorf("metrics lack ward_audit_archive_worm 1:\n%s", metrics)
	}
	checkConnCap(t, s, 16)
	key := strings.TrimSpace(mustWard(t, "audit", "checkpoint", "key", "--data-dir", dir))
	keyFile := filepath.Join(t.TempDir(), "audit.vkey")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.stop()

	verify := func() (string, error) {
		var o, e bytes.Buffer
		err := run(ctx, []string{"ward", "audit", "verify", "--data-dir", dir, "--key", keyFile, "--archive", location},
			getenv, strings.NewReader(""), &o, &e)
		return o.String(), err
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("verify against the S3 archive: %q, %v", out, err)
	}
	cutAuditLog(t, dir, orgID)
	if _, err := verify(); err == nil || !strings.Contains(err.Error(), orgID) || !strings.Contains(err.Error(), "seq 3") {
		t.Fatalf("verify of a cut log against the S3 archive: %v, want a failure naming the org and seq 3", err)
	}
}

// checkConnCap opens one idle connection more than --max-connections-per-
// address allows from this one address (internal/connlimit): serve closes
// one of them at once, before TLS, holds no more than the cap open, and
// counts the refusal in /metrics.
// (The rest would end at serve's 10-second handshake timeout: they are
// read well within it.)
func checkConnCap(t *testing.T, s *server, perAddr int) {
	t.Helper()
	s.client.CloseIdleConnections()
	addr := strings.TrimPrefix(s.base, "https://")
	held := make([]net.Conn, perAddr+1)
	for i := range held {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held[i] = c
	}
	closed := make(chan bool, len(held))
	for _, c := range held {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(4 * time.Second))
			_, err := c.Read(make([]byte, 1))
			closed <- errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
		}()
	}
	n := 0
	for range held {
		if <-closed {
			n++
		}
	}
	// At least the one over the cap is closed, and no more than the cap
	// stay open. (A connection of the test's own client that serve has not
	// yet seen close may still count, so one more may be closed.)
	if open := len(held) - n; n < 1 || open > perAddr || open < perAddr-1 {
		t.Fatalf("%d of %d idle connections from one address closed at once, %d held open; want 1 or 2 closed (cap %d)",
			n, len(held), open, perAddr)
	}
	for _, c := range held {
		_ = c.Close()
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := s.client.Get(s.base + "/metrics")
		if err == nil {
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// at least the one: the client's own next connection may be
			// refused too while serve has not yet seen the others close
			if r := regexp.MustCompile(`(?m)^ward_connections_refused_total ([1-9][0-9]*)$`).FindSubmatch(m); r != nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("metrics after one refused connection:\n%s", m)
			}
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
