package wireproblem_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi/wireproblem"
)

// serve runs an http.Server on a wrapped loopback listener (under TLS when
// tlsCfg is set) and returns its address.
func serve(t *testing.T, tlsCfg *tls.Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wrapped net.Listener = wireproblem.New(ln)
	if tlsCfg != nil {
		wrapped = tls.NewListener(wrapped, tlsCfg)
	}
	srv := &http.Server{Handler: h, MaxHeaderBytes: 1 << 10, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(wrapped) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw on a new connection and reads the responses it
// gets until the server closes it.
func exchange(t *testing.T, addr, raw string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var out []*http.Response
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
}

type problem struct {
	Type, Title, Code, Detail string
	Status                    int
}

func problemOf(t *testing.T, resp *http.Response) problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%d with Content-Type %q: %q, want a problem", resp.StatusCode, ct, b)
	}
	var p problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Status != resp.StatusCode || p.Type != "https://ward.dev/problems/"+p.Code || p.Title != http.StatusText(p.Status) {
		t.Errorf("problem %+v does not match its response's status %d", p, resp.StatusCode)
	}
	if resp.Header.Get("Connection") != "close" && !resp.Close {
		t.Errorf("%s: the connection is not closed", p.Code)
	}
	return p
}

// The requests net/http refuses itself are answered as problems, with no
// part of the request quoted back.
func TestRewrites(t *testing.T) {
	addr := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	big := strings.Repeat("a", 8<<10) // over MaxHeaderBytes and the 4 KiB net/http adds to it
	for _, c := range []struct {
		name, raw  string
		status     int
		code, want string
	}{
		{"header value", "GET / HTTP/1.1\r\nHost: x\r\nX-Note: a\x01<script>\r\n\r\n", 400, "malformed_request", ""},
		{"header name", "GET / HTTP/1.1\r\nHost: x\r\nX Note: a\r\n\r\n", 400, "malformed_request", ""},
		{"host", "GET / HTTP/1.1\r\nHost: a<b\r\n\r\n", 400, "malformed_request", "Host header"},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400, "malformed_request", "needs a Host"},
		{"garbage", "<script>\r\n\r\n", 400, "malformed_request", ""},
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 431, "headers_too_large", ""},
		{"many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: "+strings.Repeat("b", 100)+"\r\n", 80) + "\r\n",
			431, "headers_too_large", ""},
		{"transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "unsupported_transfer_encoding", "chunked"},
		{"version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported", ""},
	} {
		rs := exchange(t, addr, c.raw)
		if len(rs) != 1 {
			t.Errorf("%s: %d responses, want 1", c.name, len(rs))
			continue
		}
		p := problemOf(t, rs[0])
		if rs[0].StatusCode != c.status || p.Code != c.code || !strings.Contains(p.Detail, c.want) {
			t.Errorf("%s: %d %+v, want %d %s with %q", c.name, rs[0].StatusCode, p, c.status, c.code, c.want)
		}
		if strings.Contains(p.Detail, "script") || strings.Contains(p.Detail, "aaaa") {
			t.Errorf("%s: the detail quotes the request: %q", c.name, p.Detail)
		}
	}
}

// A handler's answers pass through untouched, even one whose body is
// net/http's plain-text answer in a write of its own; on a kept-alive
// connection, a malformed request after good ones is still answered as a
// problem.
func TestHandlersUntouched(t *testing.T) {
	const lookalike = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	addr := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flush" {
			w.Header().Set("Content-Length", strconv.Itoa(len(lookalike)))
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, lookalike)
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /flush HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: \x7f\r\n\r\n"} {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(raw, "\x7f") {
			if p := problemOf(t, r); p.Code != "malformed_request" {
				t.Errorf("a malformed request after good ones: %+v", p)
			}
			continue
		}
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || string(b) != lookalike {
			t.Errorf("a handler's answer changed: %d %q", r.StatusCode, b)
		}
	}
}

// On a TLS port, a plain HTTP request is answered as a problem too (net/http
// writes that answer under TLS, on the connection itself).
func TestPlainHTTPOnTLSPort(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rs := exchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if len(rs) != 1 {
		t.Fatalf("%d responses, want 1", len(rs))
	}
	if p := problemOf(t, rs[0]); rs[0].StatusCode != 400 || p.Code != "https_required" {
		t.Errorf("plain HTTP on a TLS port: %d %+v", rs[0].StatusCode, p)
	}
}
