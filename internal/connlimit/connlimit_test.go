package connlimit_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/connlimit"
)

// serve runs an HTTP server on a capped loopback listener.
func serve(t *testing.T, cfg connlimit.Config) (*connlimit.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, cfg)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l, ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// get sends a request on c and returns the status line it gets back, or
// the read's error.
func get(c net.Conn, wait time.Duration) (string, error) {
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// waitOpen waits until the listener holds n connections.
func waitOpen(t *testing.T, l *connlimit.Listener, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); l.Open() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", l.Open(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPerAddressCap(t *testing.T) {
	l, addr := serve(t, connlimit.Config{PerAddr: 3})
	held := []net.Conn{dial(t, addr), dial(t, addr), dial(t, addr)} // idle: no request yet
	waitOpen(t, l, 3)

	over := dial(t, addr)
	if _, err := get(over, 10*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a fourth connection from one address was served or left waiting (%v); want it closed", err)
	}
	if l.Refused() != 1 {
		t.Fatalf("refused = %d, want 1", l.Refused())
	}
	for i, c := range held { // the three held ones are still served
		if line, err := get(c, 10*time.Second); err != nil || line != "HTTP/1.1 200 OK" {
			t.Fatalf("held connection %d: %q, %v", i, line, err)
		}
	}
	// One closed, the address may open another.
	_ = held[0].Close()
	waitOpen(t, l, 2)
	if line, err := get(dial(t, addr), 10*time.Second); err != nil || line != "HTTP/1.1 200 OK" {
		t.Fatalf("after one closed: %q, %v", line, err)
	}
	var m strings.Builder
	l.WriteMetrics(&m)
	if !strings.Contains(m.String(), "ward_connections_refused_total 1\n") || !strings.Contains(m.String(), "ward_connections_open 3\n") {
		t.Fatalf("metrics:\n%s", m.String())
	}
}

func TestExemptAddresses(t *testing.T) {
	l, addr := serve(t, connlimit.Config{PerAddr: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	var cs []net.Conn
	for range 4 {
		cs = append(cs, dial(t, addr))
	}
	for i, c := range cs {
		if line, err := get(c, 10*time.Second); err != nil || line != "HTTP/1.1 200 OK" {
			t.Fatalf("connection %d from a trusted proxy's address: %q, %v", i, line, err)
		}
	}
	if l.Refused() != 0 || l.Open() != 4 {
		t.Fatalf("refused %d, open %d; want 0, 4", l.Refused(), l.Open())
	}
}

func TestTotalCapWaits(t *testing.T) {
	l, addr := serve(t, connlimit.Config{Max: 2})
	a, b := dial(t, addr), dial(t, addr)
	waitOpen(t, l, 2)

	// The third connection is in the kernel's backlog, not accepted: its
	// request has no answer while the two are open.
	third := dial(t, addr)
	if _, err := get(third, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection over a total cap of 2 was answered or closed (%v); want it to wait", err)
	}
	if l.Open() != 2 {
		t.Fatalf("%d open, want 2", l.Open())
	}
	_ = a.Close()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(third).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "HTTP/1.1 200 OK" {
		t.Fatalf("once a slot was free the waiting request got %q, %v", line, err)
	}
	_ = b
}

func TestCloseWakesWaitingAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, connlimit.Config{Max: 1})
	_ = dial(t, ln.Addr().String())
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }() // waits for the slot c holds
	_ = l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept waiting for a slot did not return after Close")
	}
	// A connection closed twice gives its slot back once.
	_ = c.Close()
	_ = c.Close()
	if l.Open() != 0 {
		t.Fatalf("%d open after the only connection closed twice", l.Open())
	}
}

// A capped connection half-closes when the TCP connection under it can:
// the client reads EOF and may still send, and the server still reads what
// it sends. Before, the wrapper hid CloseWrite, and net/http's half-close
// before closing a connection it refused was lost on it.
func TestCloseWritePassedThrough(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, connlimit.Config{PerAddr: 3})
	defer l.Close()
	client := dial(t, ln.Addr().String())
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cw, ok := server.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("the accepted %T has no CloseWrite", server)
	}
	if _, err := io.WriteString(server, "answer"); err != nil {
		t.Fatal(err)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(client); err != nil || string(b) != "answer" {
		t.Fatalf("the client read %q, %v; want the answer, then EOF", b, err)
	}
	// Half, not whole: the client's bytes still reach the server.
	if _, err := io.WriteString(client, "more"); err != nil {
		t.Fatal(err)
	}
	_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 4)
	if _, err := io.ReadFull(server, b); err != nil || string(b) != "more" {
		t.Fatalf("the server read %q, %v after its half-close", b, err)
	}
}
