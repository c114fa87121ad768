package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/audit"
)

// TestAuditTransparency: a running server sequences, signs and archives its
// audit log; a proof verifies offline with the published key alone; and a
// database cut back behind an archived checkpoint (a truncated tail whose
// head and hashes were rewritten to match, or an older backup restored) is
// caught by `ward audit verify --key --archive`, naming the position.
func TestAuditTransparency(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)
	out := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Glass Clinic", "--admin-email", "admin@glass.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "admin@glass.test"))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token) // an admin needs a second factor; this test is not about factors
	var p struct {
		ID string `json:"id"`
	}
	s.call("POST", "/v1/patients", sess.Token, map[string]any{"name": "Lucent Patient"}, http.StatusCreated, &p)
	for range 4 {
		s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, nil)
	}

	// The integrator signs within seconds; the archiver copies it out.
	archive := filepath.Join(dir, "audit-archive")
	var size int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		var cp struct {
			Size int64 `json:"size"`
		}
		req, _ := http.NewRequest("GET", s.base+"/v1/audit/checkpoint", nil)
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		if resp, err := s.client.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&cp)
			resp.Body.Close()
		}
		notes, _ := filepath.Glob(filepath.Join(archive, orgID, "checkpoints", "*.note"))
		if cp.Size >= 7 && len(notes) > 0 {
			size = cp.Size
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signed, archived checkpoint covering the reads (size %d, %d archived)", cp.Size, len(notes))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The embedded default, a directory, is reported as not WORM.
	if want := `"msg":"audit archive","dir":"` + archive + `","worm":false`; !strings.Contains(s.logs.String(), want) {
		t.Errorf("serve's log lacks %s:\n%s", want, s.logs.String())
	}

	key := strings.TrimSpace(mustWard(t, "audit", "checkpoint", "key", "--data-dir", dir))
	resp, err := s.client.Get(s.base + "/.well-known/ward-audit-key")
	if err != nil {
		t.Fatal(err)
	}
	published, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(published)) != key || !strings.HasPrefix(key, "ward-audit+") {
		t.Fatalf("published key %q, CLI key %q", published, key)
	}
	keyFile := filepath.Join(t.TempDir(), "audit.vkey")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The SIEM deliverer runs in serve and holds its lease (one node here).
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := s.client.Get(s.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(m), "ward_audit_sink_deliverer_active 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SIEM deliverer is not active:\n%s", m)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// An operator's export and evidence bundle (`ward audit export`): the
	// bundle verifies offline with the key alone; altered, it does not.
	csvOut := mustWard(t, "audit", "export", "--data-dir", dir, "--org", orgID, "--format", "csv")
	if !strings.HasPrefix(csvOut, "seq,at,action,outcome,") || !strings.Contains(csvOut, "patient.read") {
		t.Fatalf("csv export: %.300s", csvOut)
	}
	evidence := filepath.Join(t.TempDir(), "evidence.tar")
	mustWard(t, "audit", "export", "--data-dir", dir, "--org", orgID, "--bundle", "--format", "fhir-ndjson", "--out", evidence)
	if out := mustWard(t, "audit", "export", "verify", "--key", keyFile, "--org", orgID, evidence); !strings.Contains(out,
		"nothing is omitted") {
		t.Fatalf("export verify printed %q", out)
	}
	tarball, err := os.ReadFile(evidence)
	if err != nil {
		t.Fatal(err)
	}
	altered := filepath.Join(t.TempDir(), "altered.tar")
	if err := os.WriteFile(altered, []byte(strings.Replace(string(tarball), `"action":"patient.read"`,
		`"action":"patient.reaD"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ward(t, "audit", "export", "verify", "--key", keyFile, altered); err == nil ||
		!strings.Contains(err.Error(), "does not hash to its leaf") {
		t.Fatalf("an altered bundle: %v", err)
	}
	if _, err := ward(t, "audit", "export", "--data-dir", dir, "--org", orgID, "--from", "yesterday"); err == nil {
		t.Fatal("a malformed --from was accepted")
	}

	// A proof verifies offline; an altered one does not.
	var bundle map[string]any
	s.call("GET", "/v1/audit/proof/inclusion?seq=3", sess.Token, nil, http.StatusOK, &bundle)
	good, _ := json.Marshal(bundle)
	bundleFile := filepath.Join(t.TempDir(), "proof.json")
	if err := os.WriteFile(bundleFile, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustWard(t, "audit", "proof", "verify", "--key", keyFile, bundleFile); !strings.Contains(out, "verified: seq 3") {
		t.Fatalf("proof verify printed %q", out)
	}
	bundle["seq"] = 4
	bad, _ := json.Marshal(bundle)
	if err := os.WriteFile(bundleFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ward(t, "audit", "proof", "verify", "--key", keyFile, bundleFile); err == nil {
		t.Fatal("a proof moved to another position verified")
	}
	// The API's consistency bundle from an archived checkpoint's size
	// verifies, with that checkpoint kept as --previous.
	notes, _ := filepath.Glob(filepath.Join(archive, orgID, "checkpoints", "*.note"))
	kept, err := os.ReadFile(notes[0])
	if err != nil {
		t.Fatal(err)
	}
	prev, err := audit.OpenCheckpoint(string(kept), key)
	if err != nil {
		t.Fatal(err)
	}
	var cons map[string]any
	s.call("GET", "/v1/audit/proof/consistency?from="+strconv.FormatInt(prev.Size, 10), sess.Token, nil, http.StatusOK, &cons)
	consFile := filepath.Join(t.TempDir(), "consistency.json")
	if b, _ := json.Marshal(cons); os.WriteFile(consFile, b, 0o644) != nil {
		t.Fatal("write the consistency bundle")
	}
	if out := mustWard(t, "audit", "proof", "verify", "--key", keyFile, "--org", orgID, "--previous", notes[0],
		consFile); !strings.Contains(out, "the previous checkpoint (size "+strconv.FormatInt(prev.Size, 10)) {
		t.Fatalf("consistency proof verify printed %q", out)
	}
	s.stop()

	// The clean log verifies against every checkpoint, in the database and
	// in the archive, and from a checkpoint onwards.
	if out := mustWard(t, "audit", "verify", "--data-dir", dir, "--key", keyFile, "--archive", archive); !strings.Contains(out, "verified") {
		t.Fatalf("verify printed %q", out)
	}
	if out := mustWard(t, "audit", "verify", "--data-dir", dir, "--key", keyFile, "--org", orgID,
		"--from", strconv.FormatInt(size, 10)); !strings.Contains(out, "verified") {
		t.Fatalf("verify --from printed %q", out)
	}

	// An administrator cuts the log back to 2 events and rewrites every
	// hash, the head and the database's own checkpoints to match: the log is
	// self-consistent, but the archive remembers.
	cutAuditLog(t, dir, orgID)
	if out, err := ward(t, "audit", "verify", "--data-dir", dir, "--org", orgID); err != nil || !strings.Contains(out, "verified 2 events") {
		t.Fatalf("without the archive the cut log looks clean (that is the point): %q, %v", out, err)
	}
	_, err = ward(t, "audit", "verify", "--data-dir", dir, "--key", keyFile, "--archive", archive)
	if err == nil || !strings.Contains(err.Error(), orgID) || !strings.Contains(err.Error(), "seq 3") {
		t.Fatalf("verify against the archive: %v, want a failure naming the org and seq 3 (size was %d)", err, size)
	}
}

// cutAuditLog cuts org's log back to 2 events as a superuser and rewrites
// every hash, the head and the database's own checkpoints to match: a
// self-consistent log that only an archived checkpoint contradicts.
func cutAuditLog(t *testing.T, dir, orgID string) {
	t.Helper()
	cl, su := openCluster(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range []string{
		`set session_replication_role = replica`,
		`delete from audit.events e where e.org_id = '` + orgID + `' and not exists (select from audit.leaves l
		   where l.org_id = e.org_id and l.qid = e.qid and l.seq <= 2)`,
		`delete from audit.leaves where org_id = '` + orgID + `' and seq > 2`,
		`delete from audit.queue where org_id = '` + orgID + `'`,
		`delete from audit.checkpoints where org_id = '` + orgID + `'`,
		`update audit.heads h set tree_size = 2, chain_hash = e.chain_hash,
		   frontier = array[sha256('\x01'::bytea || e1.leaf_hash || e.leaf_hash)],
		   root_hash = sha256('\x01'::bytea || e1.leaf_hash || e.leaf_hash)
		 from audit.log e, audit.log e1
		 where h.org_id = '` + orgID + `' and e.org_id = h.org_id and e.seq = 2 and e1.org_id = h.org_id and e1.seq = 1`,
	} {
		if _, err := su.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	su.Close()
	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
