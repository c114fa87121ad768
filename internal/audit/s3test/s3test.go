// Package s3test runs a real versitygw (https://github.com/versity/versitygw)
// for tests: an S3 server with versioning and Object Lock on a free loopback
// port, keeping its buckets in the test's temporary directory.
//
// The versitygw binary is $WARD_VERSITYGW_BIN, or .bin/versitygw in the
// module root (the nearest directory above the working directory holding
// go.mod). Install it with
//
//	scripts/versitygw.sh install
//
// A missing binary fails the test (it never skips): the test command installs
// it first, and an archive test that silently skips proves nothing.
package s3test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// startTimeout bounds how long Start waits for versitygw to become ready.
const startTimeout = 20 * time.Second

// The root credentials of every test server. They exist only for tests.
const (
	AccessKey = "wardtest"
	SecretKey = "wardtestsecret"
	Region    = "us-east-1"
)

// Server is a running versitygw owned by one test; t.Cleanup stops it.
type Server struct {
	endpoint string
	// health is this server's own health path, unguessable: the server
	// that answers it is this one, not another test's that took the port
	// the probe found free (ours then exits on "address already in use").
	health string
}

// Endpoint returns the server's base URL, "http://127.0.0.1:port".
func (s *Server) Endpoint() string { return s.endpoint }

// Host returns the server's address, "127.0.0.1:port".
func (s *Server) Host() string { return strings.TrimPrefix(s.endpoint, "http://") }

// Client returns an S3 client of the server with the root credentials, for
// tests to look at and tamper with buckets behind the code under test.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		// No checksums but where S3 requires one, as Ward's own clients.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Start runs versitygw (posix backend, with a versioning directory so that
// buckets may have Object Lock) on a free loopback port and waits until it
// answers. It calls t.Fatal if the binary is missing or the server does not
// start within 20 s.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("s3test: %v; run scripts/versitygw.sh install (or set WARD_VERSITYGW_BIN)", err)
	}
	dir := t.TempDir()
	health := "/health-" + rand.Text()
	// A free port can be taken between our probe and versitygw's bind; retry.
	var lastErr error
	for attempt := range 3 {
		port, err := pickPort()
		if err != nil {
			t.Fatalf("s3test: %v", err)
		}
		root := filepath.Join(dir, strconv.Itoa(attempt))
		for _, d := range []string{"data", "versions", "iam"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o750); err != nil {
				t.Fatalf("s3test: %v", err)
			}
		}
		args := []string{
			"--port", "127.0.0.1:" + strconv.Itoa(port),
			"--iam-dir", filepath.Join(root, "iam"),
			"--health", health,
			"--quiet",
			"posix", "--versioning-dir", filepath.Join(root, "versions"), filepath.Join(root, "data"),
		}
		s := &Server{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), health: health}
		lastErr = s.run(t, bin, args)
		if lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("s3test: %v", lastErr)
	return nil
}

// run starts the process, registers its cleanup, and waits for readiness.
func (s *Server) run(t testing.TB, bin string, args []string) error {
	cmd := exec.Command(bin, args...)
	// The root keys go in the environment, not argv; nothing else of the
	// test's environment (no VGW_* or AWS_* settings) reaches the server.
	cmd.Env = []string{"ROOT_ACCESS_KEY=" + AccessKey, "ROOT_SECRET_KEY=" + SecretKey, "PATH=" + os.Getenv("PATH")}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited during start-up: %s", bytes.TrimSpace(out.Bytes()))
		default:
		}
		if s.ready() {
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("versitygw not ready on %s within %v: %s", s.endpoint, startTimeout, bytes.TrimSpace(out.Bytes()))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ready reports whether the server's own health path answers 200 (another
// versitygw answers it 404).
func (s *Server) ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(s.endpoint + s.health)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// binary finds the versitygw executable.
func binary() (string, error) {
	if bin := os.Getenv("WARD_VERSITYGW_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("WARD_VERSITYGW_BIN: %w", err)
		}
		return bin, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	bin := filepath.Join(dir, ".bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("versitygw binary not found at %s", bin)
	}
	return bin, nil
}

// pickPort finds the port Start tries; a test replaces it.
var pickPort = freePort

// freePort returns a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
