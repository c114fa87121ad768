package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRefusedBodyHoldsNoConnection: a request answered before its body
// was read (no credential, no such route) holds its connection no longer
// than the grace a body on its way has (500 ms), on every surface and
// whatever the route's deadline: a client that announces a body and sends
// none of it, or trickles it, gets its answer and a closed connection at
// once. Before, net/http waited for the unread rest (up to 256 KiB) until
// the read deadline, the route's or the surface's: 30 s on the API, the
// console and SCIM, 10 minutes on the LLM gateway, for a request nobody
// had signed in to make, and the answer waited with it. A body that is
// sent whole is still taken in and its connection kept.
func TestRefusedBodyHoldsNoConnection(t *testing.T) {
	w := newWorld(t)
	addr := w.srv.Listener.Addr().String()
	const patience = 10 * time.Second // under the shortest deadline (30 s)

	for _, c := range []struct{ what, method, path string }{
		{"an API route without a credential", "POST", "/v1/cases"},
		{"an API route, the wrong method", "PATCH", "/v1/cases"},
		{"no API route", "POST", "/v1/no-such-route"},
		{"a console form without a session", "POST", "/policies/risk"},
		{"SCIM without a token", "POST", "/scim/v2/Users"},
		{"the gateway's count_tokens without a credential", "POST", "/llm/v1/messages/count_tokens"},
		{"no gateway route", "POST", "/llm/v1/no-such-route"},
	} {
		// Announces 1000 bytes, sends 10, then one every 100 ms.
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(patience))
		start := time.Now()
		if _, err := io.WriteString(conn, c.method+" "+c.path+" HTTP/1.1\r\nHost: x\r\n"+
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":\"bbb\""); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := io.WriteString(conn, " "); err != nil {
					return
				}
			}
		}()
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		close(stop)
		// then the server's close: end of stream, or a reset for the
		// bytes that came after it; not the test's own timeout
		_, rest := br.ReadByte()
		var ne net.Error
		closed := rest != nil && !(errors.As(rest, &ne) && ne.Timeout())
		took := time.Since(start)
		conn.Close()
		if err != nil || resp.StatusCode < 400 || resp.StatusCode > 499 || !closed {
			t.Errorf("%s, a body that trickles: after %s, %v %v, then %v; want its 4xx and the connection closed",
				c.what, took.Round(time.Millisecond), err, resp, rest)
		}
	}

	// A refused body sent whole, on a route with a deadline: taken in,
	// the connection kept for the next request.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(patience))
	sent := `{"title":"` + strings.Repeat("x", 100<<10) + `"}`
	if _, err := io.WriteString(conn, "POST /v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: "+strconv.Itoa(len(sent))+"\r\n\r\n"+sent); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("a refused body sent whole: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Close {
		t.Fatalf("a refused body sent whole: %d, connection closed: %v", resp.StatusCode, resp.Close)
	}
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	next, err := http.ReadResponse(br, nil)
	if err != nil || next.StatusCode != http.StatusOK {
		t.Fatalf("the next request on the connection of a refused body: %v %v", err, next)
	}
	next.Body.Close()
}
