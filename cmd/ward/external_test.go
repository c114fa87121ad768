package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestExternalDatabase runs Ward against a PostgreSQL it does not manage,
// as an operator would: serve refuses a superuser URL, needs `ward migrate`
// to have created the instance keyset, serves as ward_app, and the operator
// commands work as ward_ops.
func TestExternalDatabase(t *testing.T) {
	env := pgtest.New(t)
	dir := filepath.Join(reachableTempDir(t), "var")

	_, err := ward(t, "serve", "--data-dir", dir, "--database-url", env.SuperURL(), "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("serve as a superuser: %v", err)
	}

	// The instance keyset comes from `ward migrate` (the privileged
	// connection), never from the server's own role.
	_, err = ward(t, "serve", "--data-dir", dir, "--database-url", env.URL("ward_app"), "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "ward migrate") {
		t.Fatalf("serve before the instance keyset exists: %v", err)
	}
	if out := mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL()); !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate printed %q", out)
	}

	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "External Clinic", "--admin-email", "admin@external.test")
	if !regexp.MustCompile(`org_id=[0-9a-f-]{36}`).MatchString(out) {
		t.Fatalf("org create as ward_ops printed %q", out)
	}

	// The operator registers the gateway's subprocessor as ward_ops.
	out = mustWard(t, "gateway", "provider", "add", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "anthropic", "--url", "https://api.anthropic.com", "--baa-signed-at", "2026-01-15",
		"--baa-ref", "legal/anthropic-baa.pdf", "--zero-retention", "--models", "claude-haiku-5-5")
	if !strings.Contains(out, "provider=anthropic baa=true zero_retention=true") {
		t.Fatalf("gateway provider add printed %q", out)
	}
	if out = mustWard(t, "gateway", "provider", "list", "--data-dir", dir, "--database-url", env.URL("ward_ops")); !strings.Contains(out, "2026-01-15") {
		t.Fatalf("gateway provider list printed %q", out)
	}
	// ... and enables it for the org (the rest of the org's gateway policy
	// is its admins').
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(mustWard(t, "org", "create", "--data-dir", dir,
		"--database-url", env.URL("ward_ops"), "--name", "Gateway Clinic", "--admin-email", "admin@gateway.test"))[1]
	if out = mustWard(t, "gateway", "enable", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--org", orgID, "--provider", "anthropic"); !strings.Contains(out, "provider anthropic enabled") {
		t.Fatalf("gateway enable printed %q", out)
	}
	var enabled []string
	if err := env.Super.Pool.QueryRow(context.Background(), `select gateway_providers from app.orgs where id = $1`,
		orgID).Scan(&enabled); err != nil || strings.Join(enabled, ",") != "anthropic" {
		t.Fatalf("enabled providers %v %v", enabled, err)
	}
	if _, err := ward(t, "gateway", "enable", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--org", uuid.NewString(), "--provider", "anthropic"); err == nil || !strings.Contains(err.Error(), "no such org") {
		t.Fatalf("enable for no org: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	logs, stdout := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"ward", "serve", "--data-dir", dir, "--database-url", env.URL("ward_app"),
			"--addr", "127.0.0.1:0", "--insecure-http"}, noEnv, nil, stdout, logs)
	}()
	t.Cleanup(func() { cancel(); <-done })
	re := regexp.MustCompile(`listening on http://localhost:\d+ \((http://127\.0\.0\.1:\d+)\)`)
	var base string
	for deadline := time.Now().Add(time.Minute); base == ""; {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve as ward_app exited: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
	}
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--email", "admin@external.test", "--base-url", base))
	// as Ward's own page would (the admin's role binds non-browser sessions)
	req, err := http.NewRequest("POST", base+"/v1/auth/magic",
		strings.NewReader(`{"token":"`+link[strings.LastIndex(link, "=")+1:]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in against the external database: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", resp.StatusCode)
	}
}

// TestAuditVerifyRoles: verification that cannot see the log fails rather
// than passing on nothing; a role granted ward_audit_reader sees every org.
func TestAuditVerifyRoles(t *testing.T) {
	env := pgtest.New(t)
	dir := filepath.Join(reachableTempDir(t), "var")
	_, err := ward(t, "audit", "verify", "--data-dir", dir, "--database-url", env.URL("ward_app"))
	if err == nil || !strings.Contains(err.Error(), "ward_audit_reader") {
		t.Fatalf("verify as ward_app: %v, want a refusal naming ward_audit_reader", err)
	}
	_, err = ward(t, "audit", "verify", "--data-dir", dir, "--database-url", env.SuperURL())
	if err == nil || !strings.Contains(err.Error(), "no audit events") {
		t.Fatalf("verify of an empty instance: %v, want a failure", err)
	}
	mustWard(t, "audit", "verify", "--data-dir", dir, "--database-url", env.SuperURL(), "--allow-empty")

	mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Reader Clinic", "--admin-email", "admin@reader.test")
	ctx := context.Background()
	if _, err := env.Super.Pool.Exec(ctx, `create role verifier login password 'verifier-pw' in role ward_audit_reader`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = env.Super.Pool.Exec(context.Background(), `drop role if exists verifier`) })
	u, err := url.Parse(env.URL("ward_app"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("verifier", "verifier-pw")
	out := mustWard(t, "audit", "verify", "--data-dir", dir, "--database-url", u.String())
	if !strings.Contains(out, "verified") {
		t.Fatalf("verify as a ward_audit_reader member printed %q", out)
	}
}
