package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/internal/httpapi"
)

// Routes without a deadline (uploads, downloads) still need their client
// to make progress: a body that stalls, or trickles in under 1 KiB/s once
// the stall window has passed, is refused with 408 and nothing of it is
// kept; a download the client stops reading is cut; a client that keeps up
// is never cut, however long it takes.
//
// Two worlds: the refusals and the cut download run under a 1 s window (a
// loaded machine only makes a stalled client stall longer, so they are
// refused all the same); the clients that keep up run under a 4 s window
// (keepWindow) and for more than two of its windows: a machine so loaded
// that it leaves a client's goroutine or the server's read unscheduled for
// a whole second (two cores, CI) would cut a client that keeps up under a
// 1 s window, but not under this one.
func TestStalledClients(t *testing.T) {
	const window = time.Second
	const keepWindow = 4 * time.Second
	w := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.StallWindow = window }))
	o := w.createOrg("Stall Org")
	var kase caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "stalls"}, http.StatusCreated, &kase)
	files := "/v1/cases/" + kase.ID.String() + "/files"
	kw := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.StallWindow = keepWindow }))
	ko := kw.createOrg("Steady Org")
	var kkase caseJSON
	kw.do("POST", "/v1/cases", ko.Admin.Token, map[string]any{"title": "steady"}, http.StatusCreated, &kkase)
	kfiles := "/v1/cases/" + kkase.ID.String() + "/files"

	// slowUpload sends first at once, then chunk every pause until the
	// server answers (or 20 s pass), and returns the answer.
	slowUpload := func(first []byte, chunk []byte, pause time.Duration) (*http.Response, []byte, time.Duration) {
		t.Helper()
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			if _, err := pw.Write(first); err != nil {
				return
			}
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				select {
				case <-ctx.Done():
					pw.CloseWithError(context.Canceled)
					return
				case <-time.After(pause):
				}
				if chunk == nil {
					continue // stalled: nothing more, the body stays open
				}
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
			pw.Close()
		}()
		req, err := http.NewRequestWithContext(ctx, "POST", w.srv.URL+files, pr)
		if err != nil {
			t.Fatal(err)
		}
		w.authorize(req, o.Admin.Token)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", "attachment; filename=slow.bin")
		req.Header.Set("Ward-Document-Type", "scan")
		start := time.Now()
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatalf("upload: %v\n%s", err, w.logs.String()[max(0, len(w.logs.String())-3000):])
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b, time.Since(start)
	}
	refused := func(name string, resp *http.Response, body []byte, took time.Duration) {
		t.Helper()
		var p struct{ Code string }
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != http.StatusRequestTimeout || p.Code != "body_too_slow" {
			t.Fatalf("%s: %d %s, want 408 body_too_slow", name, resp.StatusCode, body)
		}
		if took > 10*window {
			t.Errorf("%s: refused after %s, the window is %s", name, took, window)
		}
	}

	// A request refused before its body is read (no credential) is
	// answered at once and its connection closed: the server does not wait
	// for a body that never comes.
	// (A world with a long window: the answer must not wait for it.)
	long := newWorld(t, withAPIConfig(func(c *httpapi.Config) { c.StallWindow = time.Minute }))
	conn, err := net.Dial("tcp", long.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST "+files+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"+
		"Content-Length: 100\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	answer, err := io.ReadAll(conn) // to the server's close
	if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 401") {
		t.Fatalf("an unauthenticated upload that sends no body: %v %q", err, answer)
	}

	// A body that is on its way when the request is refused (a hostile
	// client's 200 KiB to a route it may not use) is taken in, and the
	// connection stays open: closing it under a client still writing
	// resets it, and a client on a loaded machine then sees a broken pipe
	// instead of its answer. The next request on the same connection is
	// answered.
	conn2, err := net.Dial("tcp", long.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_ = conn2.SetDeadline(time.Now().Add(20 * time.Second))
	sent := strings.Repeat("x", 200<<10)
	if _, err := io.WriteString(conn2, "POST "+files+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"+
		"Content-Length: "+strconv.Itoa(len(sent))+"\r\n\r\n"+sent); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn2)
	refusedResp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("a request refused with its body on the way: %v", err)
	}
	_, _ = io.Copy(io.Discard, refusedResp.Body)
	refusedResp.Body.Close()
	if refusedResp.StatusCode != http.StatusUnauthorized || refusedResp.Close {
		t.Fatalf("a request refused with its body on the way: %d, connection closed: %v",
			refusedResp.StatusCode, refusedResp.Close)
	}
	if _, err := io.WriteString(conn2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	next, err := http.ReadResponse(br, nil)
	if err != nil || next.StatusCode != http.StatusOK {
		t.Fatalf("the next request on the connection of a refused body: %v %v", err, next)
	}
	next.Body.Close()

	// A body that stops after its first bytes (fewer than the 512 the
	// server sniffs the type from, and more).
	resp, body, took := slowUpload(bytes.Repeat([]byte("a"), 600), nil, 100*time.Millisecond)
	refused("stalled body", resp, body, took)
	resp, body, took = slowUpload([]byte("%PDF-1"), nil, 100*time.Millisecond)
	refused("stalled short body", resp, body, took)
	// A body that trickles: a few bytes just inside every window.
	resp, body, took = slowUpload([]byte("b"), []byte("bb"), window*6/10)
	refused("trickled body", resp, body, took)

	// Nothing of either was kept.
	var docs struct{ Documents []docJSON }
	w.do("GET", "/v1/cases/"+kase.ID.String()+"/documents", o.Admin.Token, nil, http.StatusOK, &docs)
	if len(docs.Documents) != 0 {
		t.Fatalf("refused uploads left %d documents", len(docs.Documents))
	}
	var objects int
	if err := w.env.Super.Pool.QueryRow(context.Background(),
		`select count(*) from app.document_versions where case_id = $1`, kase.ID).Scan(&objects); err != nil {
		t.Fatal(err)
	}
	if objects != 0 {
		t.Fatalf("refused uploads left %d versions", objects)
	}

	// A slow client that keeps up (8 KiB every 100 ms, two and a half
	// windows long) is served.
	const steadyChunks = 100
	steady := func() (*http.Response, []byte) {
		pr, pw := io.Pipe()
		go func() {
			chunk := bytes.Repeat([]byte("d"), 8<<10)
			for i := 0; i < steadyChunks; i++ { // 10 s at 80 KiB/s
				if _, err := pw.Write(chunk); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", kw.srv.URL+kfiles, pr)
		kw.authorize(req, ko.Admin.Token)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", "attachment; filename=steady.bin")
		req.Header.Set("Ward-Document-Type", "scan")
		resp, err := kw.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if steadyChunks*100*time.Millisecond < 2*keepWindow {
		t.Fatal("the steady upload must outlast two stall windows")
	}
	resp, body = steady()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a steady slow upload: %d %s", resp.StatusCode, body)
	}
	var d docJSON
	_ = json.Unmarshal(body, &d)
	if len(d.Versions) != 1 || d.Versions[0].Size != steadyChunks*8<<10 {
		t.Fatalf("steady upload stored %+v", d.Versions)
	}

	// At most 16 such requests of one user are open at once: a 17th is
	// refused while they run (429), and served once they are done. They
	// run until the 17th was answered, and it is sent once all 16 have
	// claimed their object's key (the server counted them before that):
	// however slowly a loaded machine starts them, none has ended yet.
	claims := func() (n int) {
		t.Helper()
		if err := kw.env.Super.Pool.QueryRow(context.Background(),
			`select count(*) from app.document_uploads`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	claimed := claims()
	release := make(chan struct{})
	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				chunk := bytes.Repeat([]byte("e"), 8<<10)
				for i := 0; ; i++ { // 3 s at least, 40 KiB/s
					if _, err := pw.Write(chunk); err != nil {
						return
					}
					if i >= 15 {
						select {
						case <-release:
							pw.Close()
							return
						default:
						}
					}
					time.Sleep(200 * time.Millisecond)
				}
			}()
			req, _ := http.NewRequest("POST", kw.srv.URL+kfiles, pr)
			kw.authorize(req, ko.Admin.Token)
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("Content-Disposition", "attachment; filename=many.bin")
			req.Header.Set("Ward-Document-Type", "scan")
			resp, err := kw.srv.Client().Do(req)
			if err != nil {
				codes <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for deadline := time.Now().Add(time.Minute); claims() < claimed+16; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d of 16 steady uploads under way after a minute", claims()-claimed)
		}
	}
	resp, body = kw.upload("POST", kfiles, ko.Admin.Token, "one-more.bin", []byte("x"), "Ward-Document-Type", "scan")
	close(release)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a 17th open upload: %d %s", resp.StatusCode, body)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusCreated {
			t.Fatalf("one of 16 steady uploads: %d", c)
		}
	}
	resp, body = kw.upload("POST", kfiles, ko.Admin.Token, "one-more.bin", []byte("x"), "Ward-Document-Type", "scan")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("an upload after the 16 ended: %d %s", resp.StatusCode, body)
	}

	// A download the client stops reading is cut after the window; the
	// same download read at once arrives whole.
	big := randomBytes(48<<20, 7)
	resp, body = w.upload("POST", files, o.Admin.Token, "big.bin", big, "Ward-Document-Type", "scan")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	_ = json.Unmarshal(body, &d)
	path := "/v1/documents/" + d.ID.String() + "/content"
	resp, got, err := w.download(path, o.Admin.Token)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, big) {
		t.Fatalf("download read at once: %v %d, %d bytes", err, resp.StatusCode, len(got))
	}
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	w.authorize(req, o.Admin.Token)
	resp, err = w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * window)
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && len(got) == len(big) {
		t.Fatalf("a download left unread for %s arrived whole", 4*window)
	}
	// The server gave up writing: its access log line for the cut
	// download counts fewer bytes than the document.
	var cut bool
	for _, line := range strings.Split(w.logs.String(), "\n") {
		var l struct {
			Msg   string `json:"msg"`
			Route string `json:"route"`
			Bytes int64  `json:"bytes"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" && l.Route == "GET /v1/documents/{id}/content" &&
			l.Bytes < int64(len(big)) {
			cut = true
		}
	}
	if !cut {
		t.Fatalf("no access log line shows the unread download cut short")
	}
}
