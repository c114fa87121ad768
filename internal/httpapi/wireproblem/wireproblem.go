// Package wireproblem answers, as RFC 9457 problem details, the requests
// that Go's HTTP/1.x server refuses itself before any handler runs.
//
// net/http writes those answers straight onto the connection, in plain
// text: 431 for a request line and headers over Server.MaxHeaderBytes, 400
// for a request it cannot parse or whose Host, header name or header value
// is malformed, 501 for a Transfer-Encoding other than chunked, 505 for an
// HTTP version it does not serve, and, on a TLS port, 400 for a plain HTTP
// request. No handler, middleware or server option reaches them. The
// Listener wraps each connection, recognises those answers by their exact
// shape as net/http (Go 1.26) writes them, and writes in their place the
// same status as application/problem+json, with a stable code, a detail
// that quotes nothing of the request, and Connection: close.
//
// It sees only what crosses the connection it wraps: under TLS, the
// ciphertext, so an HTTP/1.1 request over Ward's own TLS that net/http
// refuses still gets net/http's plain text (an HTTP/2 request gets a
// stream reset or net/http's own page). Behind a TLS-terminating proxy
// (`ward serve --insecure-http`) every answer above is a problem.
//
// An answer is rewritten only when it is the first write after bytes were
// read and is, whole and alone, one of net/http's shapes: the responses of
// handlers carry a Date header and Ward's security headers, so none is
// taken for one. Should a Go release change those shapes, the answers pass
// through unchanged (and TestRewrites fails).
package wireproblem

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Listener wraps a net.Listener; its connections answer net/http's own
// refusals as problem details.
type Listener struct {
	net.Listener
}

// New wraps ln.
func New(ln net.Listener) *Listener { return &Listener{Listener: ln} }

// Accept returns the next connection, wrapped.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

type conn struct {
	net.Conn
	read atomic.Bool // bytes were read since the last write
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Store(true)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	if c.read.Swap(false) {
		if reply := rewrite(p); reply != nil {
			if _, err := c.Conn.Write(reply); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// The plain-text answers net/http writes on the connection (server.go,
// conn.serve and the TLS handshake's record-header check).
const (
	plainHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	httpsOnly    = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
	teStatus     = "501 Not Implemented"
	teBody       = "Unsupported transfer encoding"
)

// details are the texts net/http gives its 400s, and what a client is told
// for each. Anything else gets no detail: a text not listed here could one
// day quote the request.
var details = map[string]string{
	"missing required Host header": "an HTTP/1.1 request needs a Host header",
	"malformed Host header":        "the Host header is not a host name or address with an optional port",
	"invalid header name":          "a header name holds a character HTTP does not allow",
	"invalid header value":         "a header value holds a character HTTP does not allow (a control character)",
	"unsupported protocol version": "this server speaks HTTP/1.0, HTTP/1.1 and HTTP/2",
}

// rewrite returns the problem that replaces p when p is one of net/http's
// own answers, or nil.
func rewrite(p []byte) []byte {
	if string(p) == httpsOnly {
		return problem("HTTP/1.0", http.StatusBadRequest, "https_required",
			"this port speaks HTTPS: send the request with https://")
	}
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return nil
	}
	// The status line ends at the first CR; net/http's headers follow it.
	i := bytes.IndexByte(rest, '\r')
	if i < 0 || !bytes.HasPrefix(rest[i:], []byte(plainHeaders)) {
		return nil
	}
	status, body := rest[:i], rest[i+len(plainHeaders):]
	if !(bytes.Equal(status, body) || string(status) == teStatus && string(body) == teBody) {
		return nil
	}
	code, text, ok := strings.Cut(string(status), " ")
	if !ok || len(code) != 3 {
		return nil
	}
	n, err := strconv.Atoi(code)
	if err != nil || http.StatusText(n) == "" {
		return nil
	}
	text, ok = strings.CutPrefix(text, http.StatusText(n))
	if !ok {
		return nil
	}
	text = strings.TrimPrefix(text, ": ")
	switch n {
	case http.StatusRequestHeaderFieldsTooLarge:
		return problem("HTTP/1.1", n, "headers_too_large",
			"the request line and headers are larger than this server reads")
	case http.StatusNotImplemented:
		return problem("HTTP/1.1", n, "unsupported_transfer_encoding",
			"the only Transfer-Encoding this server reads is chunked")
	case http.StatusHTTPVersionNotSupported:
		return problem("HTTP/1.1", n, "http_version_not_supported", details[text])
	case http.StatusBadRequest:
		return problem("HTTP/1.1", n, "malformed_request", details[text])
	}
	return problem("HTTP/1.1", n, "malformed_request", "")
}

// problem is a whole HTTP response carrying an RFC 9457 problem, in the
// shape of Ward's API (httpapi.Problem), that closes the connection.
func problem(proto string, status int, code, detail string) []byte {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail,omitempty"`
	}{"https://ward.dev/problems/" + code, http.StatusText(status), status, code, detail})
	body = append(body, '\n')
	var b bytes.Buffer
	b.WriteString(proto + " " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	b.WriteString("Content-Type: application/problem+json\r\n")
	b.WriteString("Cache-Control: no-store\r\n")
	b.WriteString("X-Content-Type-Options: nosniff\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// CloseWrite half-closes the connection when the one wrapped can, as
// net/http does after its 431 (so the client reads the answer before the
// close).
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
