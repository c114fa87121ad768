// Package mailtest runs a real Mailpit (https://mailpit.axllent.org) for
// tests: an SMTP server on a free loopback port whose mailbox the test reads
// back through Mailpit's HTTP API.
//
// The mailpit binary is $WARD_MAILPIT_BIN, or .bin/mailpit in the module
// root (the nearest directory above the working directory holding go.mod).
// Install it with
//
//	scripts/mailpit.sh install
//
// A missing binary fails the test (it never skips): the test command installs
// it first, and a mail test that silently skips proves nothing.
package mailtest

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
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
)

// startTimeout bounds how long Start waits for Mailpit to become ready.
const startTimeout = 20 * time.Second

// Server is a running Mailpit owned by one test; t.Cleanup stops it and
// deletes its mailbox. Its methods are safe for concurrent use.
type Server struct {
	smtpAddr string
	apiURL   string
	db       string // Mailpit's database file: what tells this Mailpit from another
	roots    *x509.CertPool
	http     *http.Client
}

// Option changes how Start runs Mailpit.
type Option func(*options)

type options struct {
	startTLS bool
	args     []string
}

// WithSTARTTLS gives Mailpit a fresh self-signed certificate for 127.0.0.1
// and makes it require STARTTLS before MAIL FROM. Server.RootCAs returns the
// pool that trusts it.
func WithSTARTTLS() Option {
	return func(o *options) { o.startTLS = true }
}

// WithArgs appends raw mailpit flags, e.g. "--smtp-allowed-recipients", "^ok@".
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Start runs Mailpit on two free loopback ports and waits until it is ready.
// It calls t.Fatal if the binary is missing or Mailpit does not start within
// 20 s.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := binary()
	if err != nil {
		t.Fatalf("mailtest: %v; run scripts/mailpit.sh install (or set WARD_MAILPIT_BIN)", err)
	}
	dir := t.TempDir()

	s := &Server{http: &http.Client{Timeout: 10 * time.Second}}
	var extra []string
	if o.startTLS {
		certFile, keyFile, roots, err := writeCert(dir)
		if err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		s.roots = roots
		extra = append(extra, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls")
	} else {
		// Lets clients send AUTH PLAIN in clear text to loopback, as net/smtp
		// does; Mailpit refuses this flag together with required TLS.
		extra = append(extra, "--smtp-auth-allow-insecure")
	}
	extra = append(extra, o.args...)

	// A free port can be taken between our probe and Mailpit's bind; retry.
	var lastErr error
	for attempt := range 3 {
		smtpPort, httpPort, err := pickPorts()
		if err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		s.db = filepath.Join(dir, "mailpit"+strconv.Itoa(attempt)+".db")
		args := append([]string{
			"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
			"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
			"--database", s.db,
			"--disable-version-check",
			"--smtp-disable-rdns",
			"--smtp-auth-accept-any",
			"--quiet",
		}, extra...)
		s.smtpAddr = "127.0.0.1:" + strconv.Itoa(smtpPort)
		s.apiURL = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		lastErr = s.run(t, bin, args)
		if lastErr == nil {
			return s
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("mailtest: %v", lastErr)
	return nil
}

// run starts the process, registers its cleanup, and waits for readiness.
func (s *Server) run(t testing.TB, bin string, args []string) error {
	cmd := exec.Command(bin, args...)
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
			return fmt.Errorf("mailpit exited during start-up: %s", bytes.TrimSpace(out.Bytes()))
		default:
		}
		if s.ready() {
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("mailpit not ready on %s within %v: %s", s.apiURL, startTimeout, bytes.TrimSpace(out.Bytes()))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ready reports whether /readyz answers 200, the Mailpit answering is ours
// (its database is s.db: another test's Mailpit, or any server, can hold
// the port our probe found free, and ours then exits on "address already
// in use" after the other has answered), and the SMTP port accepts.
func (s *Server) ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(s.apiURL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	resp, err = c.Get(s.apiURL + "/api/v1/info")
	if err != nil {
		return false
	}
	var info struct{ Database string }
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || info.Database != s.db {
		return false
	}
	conn, err := net.DialTimeout("tcp", s.smtpAddr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// SMTPAddr returns Mailpit's SMTP address, "127.0.0.1:port". It accepts any
// AUTH PLAIN credentials, including none, with or without TLS.
func (s *Server) SMTPAddr() string { return s.smtpAddr }

// APIURL returns the base URL of Mailpit's web UI and API.
func (s *Server) APIURL() string { return s.apiURL }

// RootCAs returns a pool trusting the server's certificate when started
// WithSTARTTLS, and nil otherwise.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// binary finds the mailpit executable.
func binary() (string, error) {
	if bin := os.Getenv("WARD_MAILPIT_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("WARD_MAILPIT_BIN: %w", err)
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
	bin := filepath.Join(dir, ".bin", "mailpit")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("mailpit binary not found at %s", bin)
	}
	return bin, nil
}

// pickPorts finds the ports Start tries; a test replaces it.
var pickPorts = freePorts

// freePorts returns two distinct free TCP ports on 127.0.0.1.
func freePorts() (int, int, error) {
	var ports [2]int
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
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
