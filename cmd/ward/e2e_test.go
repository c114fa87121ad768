package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/postgres"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is `ward serve` running through run() in this process.
type server struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	out    *syncBuffer
	logs   *syncBuffer
	base   string
	dir    string
	client *http.Client
}

var listenRE = regexp.MustCompile(`listening on https://localhost:\d+ \(https://(127\.0\.0\.1:\d+)\)`)

func startServe(t *testing.T, dir string) *server {
	t.Helper()
	return startServeWith(t, dir, noEnv)
}

// startServeWith starts `ward serve` with an environment and extra flags.
func startServeWith(t *testing.T, dir string, getenv func(string) string, flags ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, cancel: cancel, done: make(chan error, 1), out: &syncBuffer{}, logs: &syncBuffer{}, dir: dir}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		args := append([]string{"ward", "serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, flags...)
		s.done <- run(ctx, args, getenv, nil, s.out, s.logs)
	}()
	// However the test ends, the server (and its cluster) stops.
	t.Cleanup(func() { cancel(); <-exited })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m := listenRE.FindStringSubmatch(s.out.String()); m != nil {
			s.base = "https://" + m[1]
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.logs.String())
		}
	}
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "dev-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	return s
}

func (s *server) stop() {
	s.t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		s.t.Fatal("serve did not shut down")
	}
}

func (s *server) call(method, path, token string, body any, want int, out any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		s.t.Fatalf("not TLS 1.3: %+v", resp.TLS)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("decode %s: %v", b, err)
		}
	}
}

func noEnv(string) string { return "" }

// stepUp raises a session to AAL2 as if a second factor had been
// presented, as the embedded cluster's superuser (TestEndToEnd is not about
// second factors).
func (s *server) stepUp(token string) {
	s.t.Helper()
	s.superExec(`update app.sessions set assurance = 2, amr = '{email,totp}' where token_hash = sha256($1::bytea)`,
		[]byte(token))
}

// noDeviceBinding lifts the device-binding policy of every org on the data
// directory, as its superuser: a new org requires its staff's API sessions
// to be DPoP-bound (migration 00080), and these tests drive the API with
// plain bearer tokens (they are not about device binding, which
// internal/httpapi tests with DPoP-signing clients).
func (s *server) noDeviceBinding() {
	s.t.Helper()
	s.superExec(`update app.orgs set device_binding_required_for = '{}'`)
}

// superExec runs one statement as the embedded cluster's superuser.
func (s *server) superExec(sql string, args ...any) {
	s.t.Helper()
	cl, err := postgres.NewCluster(filepath.Join(s.dir, "postgres"))
	if err != nil {
		s.t.Fatal(err)
	}
	su, err := postgres.Open(context.Background(), cl.URL("postgres", "ward"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer su.Close()
	if _, err := su.Pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatal(err)
	}
}

// reachableTempDir is a temporary directory the postgres system user can
// traverse (t.TempDir's are mode 0700), so the embedded cluster lives in it.
func reachableTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// waitClusterGone waits until no process of the data directory dir's
// embedded cluster is left (each runs in the cluster's pgdata directory):
// the backends of a postmaster killed with SIGKILL exit when they notice,
// and a new postmaster refuses to start while one of them still holds the
// old shared memory. A fixed half second was not always enough for them on
// a loaded machine. Without /proc it waits that half second.
func waitClusterGone(t *testing.T, dir string) {
	t.Helper()
	data, err := filepath.EvalSymlinks(filepath.Join(dir, "postgres", "pgdata"))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		procs, _ := filepath.Glob("/proc/[0-9]*/cwd")
		if len(procs) == 0 {
			time.Sleep(500 * time.Millisecond)
			return
		}
		left := 0
		for _, p := range procs {
			if cwd, err := os.Readlink(p); err == nil && cwd == data {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d processes of the killed cluster left after a minute", left)
		}
	}
}

// ward runs one CLI command through run() and returns its stdout.
func ward(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"ward"}, args...), noEnv, strings.NewReader(""), &out, &errb)
	return out.String(), err
}

func mustWard(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ward(t, args...)
	if err != nil {
		t.Fatalf("ward %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestEndToEnd: serve with the embedded database, create an org, sign in,
// create and read a patient, see the read in the access report; restart
// and find everything; survive a crashed database; verify the audit log.
func TestEndToEnd(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)
	// A new operator is told what to do next, with the host the links use.
	for _, want := range []string{"Next steps", "org create --data-dir " + dir, "login-link --data-dir " + dir,
		"--cacert " + filepath.Join(dir, "tls", "dev-cert.pem") + " https://localhost:", "root-key.json", "back it up"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("serve's start-up output lacks %q:\n%s", want, s.out.String())
		}
	}
	s.call("GET", "/healthz", "", nil, http.StatusOK, nil)
	s.call("GET", "/readyz", "", nil, http.StatusOK, nil)
	out := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Sunrise Nutrition", "--admin-email", "lead@sunrise.test")
	orgID := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)
	if orgID == nil {
		t.Fatalf("org create printed %q", out)
	}
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "lead@sunrise.test"))
	// The server recorded its base URL (https://localhost:PORT when none
	// is configured); login-link prints links to it.
	if port := s.base[strings.LastIndex(s.base, ":"):]; !strings.HasPrefix(link, "https://localhost"+port+"/v1/auth/magic?token=") {
		t.Fatalf("login-link printed %q; the server listens on %s", link, s.base)
	}
	token := link[strings.LastIndex(link, "=")+1:]
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": token}, http.StatusOK, &sess)
	// The org's admin needs a second factor before anything else.
	s.call("GET", "/v1/patients", sess.Token, nil, http.StatusForbidden, nil)
	s.stepUp(sess.Token)

	var p struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	s.call("POST", "/v1/patients", sess.Token, map[string]string{"name": "Ada Lovelace", "dob": "1936-12-10"}, http.StatusCreated, &p)
	s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, &p)
	if p.Name != "Ada Lovelace" {
		t.Fatalf("read back %q", p.Name)
	}
	var rep struct {
		Accesses []struct {
			Action string `json:"action"`
		} `json:"accesses"`
	}
	s.call("GET", "/v1/patients/"+p.ID+"/access-report", sess.Token, nil, http.StatusOK, &rep)
	if !strings.Contains(fmt.Sprint(rep.Accesses), "patient.read") {
		t.Fatalf("access report lacks the read: %+v", rep)
	}
	s.stop()
	if strings.Contains(s.logs.String(), "Ada") || strings.Contains(s.logs.String(), "1936-12") {
		t.Fatal("PHI in the server log")
	}

	// Restart: the same session still works and the patient is there.
	s = startServe(t, dir)
	s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, &p)
	if p.Name != "Ada Lovelace" {
		t.Fatalf("after restart: %q", p.Name)
	}

	// Crash the database (SIGKILL the postmaster): Ward restarts it cleanly
	// next time, despite the stale pid file.
	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cancel()
	<-s.done
	waitClusterGone(t, dir)
	s = startServe(t, dir)
	s.call("GET", "/v1/patients/"+p.ID, sess.Token, nil, http.StatusOK, &p)
	s.stop()

	heads := filepath.Join(dir, "heads.json")
	out = mustWard(t, "audit", "verify", "--data-dir", dir, "--save", heads)
	if !strings.Contains(out, "verified") {
		t.Fatalf("audit verify printed %q", out)
	}

	// Tamper with one event as a superuser who disables the triggers:
	// verify fails, naming the org and the position.
	s = startServe(t, dir)
	su, err := postgres.Open(context.Background(), cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`alter table audit.events disable trigger user`,
		`update audit.events set action = 'patient.list' where org_id = '` + orgID[1] + `'
		   and qid = (select qid from audit.leaves where org_id = '` + orgID[1] + `' and seq = 3)`,
		`alter table audit.events enable trigger user`} {
		if _, err := su.Pool.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	su.Close()
	s.stop()
	_, err = ward(t, "audit", "verify", "--data-dir", dir, "--known", heads)
	if err == nil || !strings.Contains(err.Error(), "seq 3") || !strings.Contains(err.Error(), orgID[1]) {
		t.Fatalf("tampered log: verify said %v", err)
	}
}

func TestCLIErrors(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "no command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"serve", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"serve", "extra"}, "unexpected argument"},
		{[]string{"serve", "--tls-cert", "x.pem"}, "go together"},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,nope"}, "not a CIDR"},
		{[]string{"serve", "--sso-allow-networks", "10.20.0.0/16,nope"}, "--sso-allow-networks: \"nope\" is not a CIDR"},
		{[]string{"serve", "--max-connections", "-1"}, "--max-connections: \"-1\" is not a whole number"},
		{[]string{"serve", "--max-connections-per-address", "many"}, "--max-connections-per-address: \"many\" is not a whole number"},
		{[]string{"serve", "--otlp-endpoint", "http://collector.example:4318/v1/traces"}, "plain http is allowed only to a collector on this host"},
		{[]string{"serve", "--otlp-endpoint", "collector:4318"}, "--otlp-endpoint: give an https:// URL"},
		{[]string{"org", "create", "--data-dir", dir}, "required"},
		{[]string{"org"}, "usage"},
		{[]string{"login-link", "--data-dir", dir}, "required"},
		{[]string{"login-link", "--data-dir", dir, "--email", "a@b.test", "--org", "nope"}, "UUID"},
		{[]string{"audit", "verify", "--data-dir", dir, "--org", "nope"}, "UUID"},
		{[]string{"org", "create", "--data-dir", dir, "--name", "X", "--admin-email", "not-an-email"}, "--admin-email"},
		{[]string{"migrate", "--data-dir", dir, "--database-url", "postgres://u:pw@h:54x2/db"}, `port "54x2"`},
		{[]string{"audit", "verify", "--data-dir", dir, "--known", "/nonexistent"}, "--known"},
		{[]string{"bench", "--clients", "0"}, "--clients"},
	} {
		_, err := ward(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"org", "create"}, {"login-link"}, {"audit", "verify"}, {"bench"}, {"deid"}} {
		out, err := ward(t, append(cmd, "--help")...)
		if err != nil {
			t.Errorf("ward %v --help: %v", cmd, err)
		}
		if n := strings.Count(out, "usage: ward"); n != 1 {
			t.Errorf("ward %v --help printed the usage %d times on stdout", cmd, n)
		}
	}
	// A mistake: the message, and the usage after it (main prints both).
	_, err := ward(t, "serve", "--no-such-flag")
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(ue.usage, "usage: ward serve") {
		t.Errorf("a bad flag: %v, want a usage error carrying the usage", err)
	}
	// A busy port suggests --addr.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := ward(t, "serve", "--data-dir", dir, "--addr", busy.Addr().String()); err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("serve on a busy port: %v", err)
	}
	if out := mustWard(t, "version"); !strings.HasPrefix(out, "ward ") {
		t.Errorf("version printed %q", out)
	}
}

// TestOperatorOnEmptyDatabase: login-link for an unknown member is a clear
// error, and migrate reports the version.
func TestOperatorCommands(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	out := mustWard(t, "migrate", "--data-dir", dir)
	if !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate printed %q", out)
	}
	if _, err := ward(t, "login-link", "--data-dir", dir, "--email", "ghost@example.test"); err == nil ||
		!strings.Contains(err.Error(), "no live member") {
		t.Fatalf("login-link for a stranger: %v", err)
	}
	if _, err := ward(t, "org", "create", "--data-dir", dir, "--name", "X", "--admin-email", "not-an-email"); err == nil {
		t.Fatal("org create accepted a bad email")
	}
	// An empty instance has nothing to verify: that is a failure unless the
	// operator says it is expected.
	if _, err := ward(t, "audit", "verify", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "no audit events") {
		t.Fatalf("verify of an empty instance: %v", err)
	}
	mustWard(t, "audit", "verify", "--data-dir", dir, "--allow-empty")
	if _, err := ward(t, "audit", "verify", "--data-dir", dir, "--org", "7d3f1c2e-0000-4000-8000-000000000001"); err == nil ||
		!strings.Contains(err.Error(), "no audit log for this org") {
		t.Fatalf("verify of an unknown org: %v", err)
	}

	// login-link prints the URL the server on this data directory recorded,
	// not a fixed default.
	mustWard(t, "org", "create", "--data-dir", dir, "--name", "Links", "--admin-email", "links@example.test")
	if out := mustWard(t, "login-link", "--data-dir", dir, "--email", "links@example.test"); !strings.HasPrefix(out, "https://localhost:8443/") {
		t.Fatalf("login-link without a recorded server: %q", out)
	}
	// org create twice does not make two orgs; a member of two orgs must
	// say which one login-link is for.
	if _, err := ward(t, "org", "create", "--data-dir", dir, "--name", "Links", "--admin-email", "links@example.test"); err == nil ||
		!strings.Contains(err.Error(), "already has this name and admin") {
		t.Fatalf("org create twice: %v", err)
	}
	second := mustWard(t, "org", "create", "--data-dir", dir, "--name", "Links Two", "--admin-email", "links@example.test")
	if _, err := ward(t, "login-link", "--data-dir", dir, "--email", "links@example.test"); err == nil ||
		!strings.Contains(err.Error(), "several orgs") {
		t.Fatalf("login-link for a member of two orgs without --org: %v", err)
	}
	orgTwo := strings.TrimPrefix(strings.Fields(second)[0], "org_id=")
	mustWard(t, "login-link", "--data-dir", dir, "--email", "links@example.test", "--org", orgTwo)
	if err := os.WriteFile(filepath.Join(dir, "server.json"), []byte(`{"base_url":"https://ward.example.test:9443"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustWard(t, "login-link", "--data-dir", dir, "--email", "links@example.test", "--org", orgTwo); !strings.HasPrefix(out, "https://ward.example.test:9443/v1/auth/magic?token=") {
		t.Fatalf("login-link with a recorded server printed %q", out)
	}
}

// TestCrashUnderLoad kills the database (SIGKILL to the postmaster) while
// clients read patients, restarts, and checks that every patient returned
// to a client has its committed audit event: no PHI without its record.
func TestCrashUnderLoad(t *testing.T) {
	dir := filepath.Join(reachableTempDir(t), "var")
	s := startServe(t, dir)
	mustWard(t, "org", "create", "--data-dir", dir, "--name", "Crash Clinic", "--admin-email", "lead@crash.test")
	link := strings.TrimSpace(mustWard(t, "login-link", "--data-dir", dir, "--email", "lead@crash.test", "--base-url", s.base))
	var sess struct {
		Token string `json:"token"`
	}
	s.noDeviceBinding()
	s.call("POST", "/v1/auth/magic", "", map[string]string{"token": link[strings.LastIndex(link, "=")+1:]}, http.StatusOK, &sess)
	s.stepUp(sess.Token)
	var ids []string
	for i := range 20 {
		var p struct {
			ID string `json:"id"`
		}
		s.call("POST", "/v1/patients", sess.Token, map[string]string{"name": fmt.Sprintf("Crash Patient %d", i)}, http.StatusCreated, &p)
		ids = append(ids, p.ID)
	}

	// Readers run until the database dies under them.
	var mu sync.Mutex
	served := map[string]bool{} // request ids of 200 responses
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", s.base+"/v1/patients/"+ids[(g+i)%len(ids)], nil)
				req.Header.Set("Authorization", "Bearer "+sess.Token)
				resp, err := s.client.Do(req)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "Crash Patient") {
					mu.Lock()
					served[resp.Header.Get("X-Request-Id")] = true
					mu.Unlock()
				}
			}
		}()
	}
	// Let them read for a while, and at least ten times (a loaded machine
	// may serve fewer than ten in the while).
	for deadline, least := time.Now().Add(time.Minute), time.Now().Add(1500*time.Millisecond); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(served)
		mu.Unlock()
		if n >= 10 && time.Now().After(least) || time.Now().After(deadline) {
			break
		}
	}
	cl, err := postgres.NewCluster(filepath.Join(dir, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	s.cancel()
	<-s.done
	waitClusterGone(t, dir)

	s = startServe(t, dir)
	defer s.stop()
	su, err := postgres.Open(context.Background(), cl.URL("postgres", "ward"))
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	rows, err := su.Pool.Query(context.Background(), `select request_id from audit.events where action = 'patient.read'`)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		audited[id] = true
	}
	if len(served) < 10 {
		t.Fatalf("only %d reads were served before the crash; the test did not exercise anything", len(served))
	}
	missing := 0
	for id := range served {
		if !audited[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d patients returned to clients have no committed audit event", missing, len(served))
	}
	if out := mustWard(t, "audit", "verify", "--data-dir", dir); !strings.Contains(out, "verified") {
		t.Fatalf("audit verify after the crash: %q", out)
	}
}
