package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestTwoNodes: two `ward serve` nodes on one database each integrate and
// sign; when one stops mid-traffic the other carries on, and every event
// gets exactly one position in a log that verifies against its checkpoints.
func TestTwoNodes(t *testing.T) {
	env := pgtest.New(t)
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Two Node Clinic", "--admin-email", "admin@twonode.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]

	type node struct {
		base string
		stop func()
	}
	start := func() *node {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var once sync.Once
		n := &node{stop: func() { once.Do(func() { cancel(); <-done }) }}
		stdout, logs := &syncBuffer{}, &syncBuffer{}
		go func() {
			done <- run(ctx, []string{"ward", "serve", "--data-dir", dir, "--database-url", env.URL("ward_app"),
				"--addr", "127.0.0.1:0", "--insecure-http"}, noEnv, nil, stdout, logs)
		}()
		re := regexp.MustCompile(`\((http://127\.0\.0\.1:\d+)\)`)
		for deadline := time.Now().Add(time.Minute); n.base == ""; time.Sleep(50 * time.Millisecond) {
			if m := re.FindStringSubmatch(stdout.String()); m != nil {
				n.base = m[1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("a node did not start:\n%s", logs.String())
			}
		}
		t.Cleanup(n.stop)
		return n
	}
	a, b := start(), start()

	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--email", "admin@twonode.test", "--base-url", a.base))
	call := func(base, method, path, token string, body any, out any) int {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			js, _ := json.Marshal(body)
			rd = bytes.NewReader(js)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	// A new org requires its staff's API sessions to be DPoP-bound; this
	// test drives the API with a plain bearer token (not about binding).
	if _, err := env.Super.Pool.Exec(context.Background(), `update app.orgs set device_binding_required_for = '{}'`); err != nil {
		t.Fatal(err)
	}
	var sess struct {
		Token string `json:"token"`
	}
	if st := call(a.base, "POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, &sess); st != 200 {
		t.Fatalf("sign-in: %d", st)
	}
	// An admin needs a second factor; this test is not about factors.
	if _, err := env.Super.Pool.Exec(context.Background(),
		`update app.sessions set assurance = 2, amr = '{email,totp}' where token_hash = sha256($1::bytea)`,
		[]byte(sess.Token)); err != nil {
		t.Fatal(err)
	}
	var p struct {
		ID string `json:"id"`
	}
	if st := call(a.base, "POST", "/v1/patients", sess.Token, map[string]any{"name": "Failover Patient"}, &p); st != 201 {
		t.Fatalf("create patient: %d", st)
	}
	// Reads through both nodes; node A stops half way through.
	for i := range 40 {
		n := a
		if i%2 == 1 || i >= 20 {
			n = b
		}
		if i == 20 {
			a.stop()
		}
		if st := call(n.base, "GET", "/v1/patients/"+p.ID, sess.Token, nil, nil); st != 200 {
			t.Fatalf("read %d through node %s: %d", i, n.base, st)
		}
	}
	// Node B integrates and signs what both wrote.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var pending, size, signed int64
		if err := env.Super.Pool.QueryRow(context.Background(), `select
			(select count(*) from audit.queue where org_id = $1),
			(select coalesce(max(seq), 0) from audit.leaves where org_id = $1),
			(select coalesce(max(size), 0) from audit.checkpoints where org_id = $1)`, orgID).Scan(&pending, &size, &signed); err != nil {
			t.Fatal(err)
		}
		if pending == 0 && signed == size && size >= 42 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the failover: %d pending, log size %d, signed %d", pending, size, signed)
		}
	}
	key := strings.TrimSpace(mustWard(t, "audit", "checkpoint", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops")))
	if out := mustWard(t, "audit", "verify", "--data-dir", dir, "--database-url", env.SuperURL(), "--key", key,
		"--org", orgID); !strings.Contains(out, "verified") {
		t.Fatalf("verify after the failover printed %q", out)
	}
}
