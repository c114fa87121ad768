package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// drained is the most of a body's unread rest that net/http reads and
// throws away before it answers (its maxPostHandlerReadBytes), and so the
// most the surface takes within unreadBodyGrace. A body past it is closed
// on once it is answered, possibly while the client is still writing it.
const drained = 256 << 10

// SendForTest sends req with c, and returns the response with its body
// read. A body past drained goes over a connection of its own
// (RawTransportForTest): net/http's client, when the server answers and
// closes while it still writes the body, may return the write's
// "connection reset by peer" or "broken pipe" instead of the answer, and a
// loaded machine makes that likely (a CI run failed so). Such a request is
// sent once, with Connection: close, and follows no redirect. Exported for
// the external tests (package httpapi_test), in test builds only.
func SendForTest(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	do := c.Do
	if req.ContentLength > drained {
		do = RawTransportForTest{}.RoundTrip
	}
	resp, err := do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// RawTransportForTest is an http.RoundTripper for requests whose body the
// server may answer and close on before it is all sent: it writes the
// request, headers and body, to a connection of its own in a goroutine and
// reads the answer beside it, so the writer's error once the server has
// closed (a reset, a broken pipe) is no concern of the caller, who gets the
// answer the server sent before it closed. Plain HTTP only; the request
// goes out with Connection: close. Dial, when set, makes the connection.
type RawTransportForTest struct {
	Dial func(network, addr string) (net.Conn, error)
}

func (rt RawTransportForTest) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("RawTransportForTest speaks plain HTTP, not %s", req.URL.Scheme)
	}
	dial := rt.Dial
	if dial == nil {
		dial = net.Dial
	}
	conn, err := dial("tcp", req.URL.Host)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	r := req.Clone(req.Context())
	r.Close = true
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = r.Write(conn) // a reset after the answer is expected: see above
	}()
	defer func() {
		_ = conn.Close() // ends the writer if the server stopped reading
		<-wrote
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: no answer: %w", req.Method, req.URL.Path, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: the answer's body: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.Request = req
	return resp, nil
}

// slowReads is a connection whose reads wait first: the answer is read
// after the server has closed on the rest of the body, as on a loaded
// machine whose client is slow to read it.
type slowReads struct {
	net.Conn
	wait time.Duration
	once bool
}

func (c *slowReads) Read(p []byte) (int, error) {
	if !c.once {
		c.once = true
		time.Sleep(c.wait)
	}
	return c.Conn.Read(p)
}

// RawTransportForTest reads the answer of a server that answered without
// the body and closed while the client still wrote it, where net/http's
// client, reading that answer late, returns the write's error instead.
func TestRawTransportReadsAnswerPastClose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused unread", http.StatusRequestEntityTooLarge)
	}))
	defer srv.Close()
	dial := func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		// Past net/http's linger after the answer (500 ms): the server
		// has closed when the client reads.
		return &slowReads{Conn: c, wait: 2 * time.Second}, nil
	}
	// Larger than the loopback's socket buffers: the server cannot have
	// taken it all when it closes.
	body := make([]byte, 64<<20)
	post := func() *http.Request {
		req, err := http.NewRequest("POST", srv.URL+"/refuse", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	resp, err := RawTransportForTest{Dial: dial}.RoundTrip(post())
	if err != nil {
		t.Fatalf("raw: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("refused unread")) {
		t.Fatalf("raw: %d %q", resp.StatusCode, b)
	}
	// The race the transport is for: net/http's client on the same slow
	// connection. Should it read the answer, the delay no longer provokes
	// the race and the check above proves nothing.
	tr := &http.Transport{DialContext: func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }}
	defer tr.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: tr}).Do(post()); err == nil {
		resp.Body.Close()
		t.Errorf("net/http's client read the answer (%d): the slow reads do not provoke the race", resp.StatusCode)
	} else {
		t.Logf("net/http's client, as expected: %v", err)
	}
}
