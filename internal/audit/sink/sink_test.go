package sink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// node validator (scripts/validators, installed by scripts/deps.sh).
func validate(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "validators")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		t.Fatal("the validators are not installed: run scripts/deps.sh validators")
	}
	out, err := exec.Command("node", append([]string{filepath.Join(dir, "validate.mjs")}, args...)...).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("node: %v (run scripts/deps.sh validators)", err)
		}
		return string(out), false
	}
	return string(out), true
}

type env struct {
	*pgtest.Env
	inst   *envelope.OrgKeys
	reader *postgres.DB
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{Env: pgtest.New(t)}
	ctx := context.Background()
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(t.TempDir(), "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := keystore.New(envelope.NewKeyring(root, envelope.Config{}))
	if err := keys.EnsureInstance(ctx, e.Super); err != nil {
		t.Fatal(err)
	}
	if e.inst, err = keys.Instance(ctx, e.App); err != nil {
		t.Fatal(err)
	}
	// The deliverer reads as ward_audit_reader, as in production.
	if e.reader, err = postgres.Open(ctx, e.URL("ward_audit_reader")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.reader.Close)
	return e
}

// org creates an org with n events (patient reads and lists) and returns it.
func (e *env) org(t testing.TB, n int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	org, p := uuid.New(), uuid.New()
	if _, err := e.Super.Pool.Exec(ctx, `insert into app.orgs (id, name) values ($1, 'Sink test')`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Super.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, $2, '\x00', $3, '\x00')`,
		org, p, uuid.New()); err != nil {
		t.Fatal(err)
	}
	e.events(t, org, p, n)
	return org
}

func (e *env) events(t testing.TB, org, p uuid.UUID, n int) {
	t.Helper()
	ctx := context.Background()
	if p == uuid.Nil {
		if err := e.Super.Pool.QueryRow(ctx, `select id from app.patients where org_id = $1 limit 1`, org).Scan(&p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Super.Pool.Exec(ctx, `select audit.append_as(p_org => $1, p_action => case when i % 3 = 0 then 'patient.list' else 'patient.read' end,
		p_outcome => case when i % 5 = 0 then 'denied' else 'success' end, p_object_type => 'patient', p_object_id => $2,
		p_patient => $2, p_request => 'req-' || i, p_ip => '192.0.2.' || (i % 250), p_ua => 'test/1.0',
		p_actor => $3) from generate_series(1, $4) i`, org, p, uuid.New(), n); err != nil {
		t.Fatal(err)
	}
	for {
		var k int
		if err := e.Super.Pool.QueryRow(ctx, `select sequenced from audit.integrate($1)`, org).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			return
		}
	}
}

// sink inserts a sink as the org's admin would have, its secret sealed.
func (e *env) sink(t testing.TB, org uuid.UUID, kind Kind, endpoint, secret, format string, batch int) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var sealed []byte
	if secret != "" {
		var err error
		if sealed, err = e.inst.Seal([]byte(secret), secretAD(e.inst, org, id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Super.Pool.Exec(context.Background(), `insert into app.audit_sinks (org_id, id, kind, name, endpoint, format,
		batch_max, secret_enc) values ($1, $2, $3, $4, $5, $6, $7, $8)`, org, id, kind, "s-"+id.String()[:8], endpoint,
		format, batch, sealed); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) cursor(t *testing.T, org, id uuid.UUID) (cursor int64, attempts int, lastErr string, disabled bool) {
	t.Helper()
	if err := e.Super.Pool.QueryRow(context.Background(), `select cursor_seq, attempts, coalesce(last_error, ''),
		disabled_at is not null from app.audit_sinks where org_id = $1 and id = $2`, org, id).Scan(&cursor, &attempts,
		&lastErr, &disabled); err != nil {
		t.Fatal(err)
	}
	return
}

// due makes every sink due now (skipping the backoff wait).
func (e *env) due(t *testing.T) {
	t.Helper()
	if _, err := e.Super.Pool.Exec(context.Background(), `update app.audit_sinks set next_attempt_at = null`); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook receiver: it records every request and answers
// with status (200 unless set).
type receiver struct {
	mu     sync.Mutex
	status int
	hang   chan struct{} // when set, requests block until it closes
	delay  time.Duration // when set, each request waits this long first
	got    []received
	srv    *httptest.Server
}

type received struct {
	id, ts, sig string
	body        []byte
	seqs        []int64
	org         string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var wb WebhookBody
		_ = json.Unmarshal(body, &wb)
		rec := received{id: req.Header.Get("webhook-id"), ts: req.Header.Get("webhook-timestamp"),
			sig: req.Header.Get("webhook-signature"), body: body, org: wb.Data.Org}
		for _, ev := range wb.Data.Events {
			var o struct {
				Metadata struct {
					Sequence int64 `json:"sequence"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal(ev, &o)
			rec.seqs = append(rec.seqs, o.Metadata.Sequence)
		}
		r.mu.Lock()
		r.got = append(r.got, rec)
		status, hang, delay := r.status, r.hang, r.delay
		r.mu.Unlock()
		time.Sleep(delay)
		if hang != nil {
			<-hang
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setStatus(s int) { r.mu.Lock(); r.status = s; r.mu.Unlock() }

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// seqs is every seq the receiver got, in arrival order, from acknowledged
// and unacknowledged requests alike.
func (r *receiver) seqs() []int64 {
	var out []int64
	for _, g := range r.requests() {
		out = append(out, g.seqs...)
	}
	return out
}

func (e *env) deliverer(t *testing.T, db *postgres.DB, client *http.Client) *Deliverer {
	t.Helper()
	return e.delivererWith(t, db, Config{Client: client})
}

// delivererWith is a test deliverer with cfg's settings and the tests'
// site and short backoffs.
func (e *env) delivererWith(t *testing.T, db *postgres.DB, cfg Config) *Deliverer {
	t.Helper()
	cfg.Site, cfg.Backoff, cfg.MaxBackoff = "ward-test", time.Millisecond, 10*time.Millisecond
	d := NewDeliverer(db, e.inst, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(d.Release)
	return d
}

// checkOrder requires seqs to hold 1..n, each first seen in order, with
// duplicates only as re-sent batches (a repeat restarts at an earlier seq).
func checkOrder(t *testing.T, seqs []int64, n int64) (dups int) {
	t.Helper()
	seen := map[int64]bool{}
	var next int64 = 1
	for _, s := range seqs {
		if seen[s] {
			dups++
			continue
		}
		if s != next {
			t.Fatalf("seq %d arrived before %d: out of order (%v)", s, next, seqs)
		}
		seen[s] = true
		next++
	}
	if next != n+1 {
		t.Fatalf("received seqs up to %d, want %d", next-1, n)
	}
	return dups
}

// Delivery: each org's sink receives exactly its own org's events, in
// order, signed per Standard Webhooks (checked by the standardwebhooks
// library), and the cursors advance.
func TestWebhookDelivery(t *testing.T) {
	e := newEnv(t)
	a, b := e.org(t, 25), e.org(t, 7)
	ra, rb := newReceiver(t), newReceiver(t)
	secretA, secretB := newWebhookSecret(), newWebhookSecret()
	sa := e.sink(t, a, Webhook, ra.srv.URL+"/hook", secretA, "ocsf", 10)
	sb := e.sink(t, b, Webhook, rb.srv.URL+"/hook", secretB, "ocsf", 10)
	d := e.deliverer(t, e.reader, ra.srv.Client())
	// Both receivers share the test CA.
	n, err := d.Once(context.Background())
	if err != nil || n != 32 {
		t.Fatalf("delivered %d (%v), want 32", n, err)
	}
	if dups := checkOrder(t, ra.seqs(), 25); dups != 0 {
		t.Fatalf("%d duplicates without an outage", dups)
	}
	checkOrder(t, rb.seqs(), 7)
	for _, g := range ra.requests() {
		if g.org != a.String() || strings.Contains(string(g.body), b.String()) {
			t.Fatal("org A's sink received something of org B")
		}
	}
	for _, g := range rb.requests() {
		if g.org != b.String() || strings.Contains(string(g.body), a.String()) {
			t.Fatal("org B's sink received something of org A")
		}
	}
	if c, _, _, _ := e.cursor(t, a, sa); c != 25 {
		t.Fatalf("cursor A %d", c)
	}
	if c, _, _, _ := e.cursor(t, b, sb); c != 7 {
		t.Fatalf("cursor B %d", c)
	}
	// The standardwebhooks library verifies the signature; another secret
	// or an altered body does not.
	g := ra.requests()[0]
	msg := func(body []byte) string {
		m, _ := json.Marshal(map[string]string{"id": g.id, "timestamp": g.ts, "signature": g.sig, "body": string(body)})
		p := filepath.Join(t.TempDir(), "msg.json")
		_ = os.WriteFile(p, m, 0o600)
		return p
	}
	if out, ok := validate(t, "webhook", secretA, msg(g.body)); !ok {
		t.Fatalf("standardwebhooks refuses Ward's signature: %s", out)
	}
	if _, ok := validate(t, "webhook", secretB, msg(g.body)); ok {
		t.Fatal("standardwebhooks accepted the signature under another secret")
	}
	if _, ok := validate(t, "webhook", secretA, msg(bytes.Replace(g.body, []byte(`"sequence":1`), []byte(`"sequence":9`), 1))); ok {
		t.Fatal("standardwebhooks accepted an altered body")
	}
	// OCSF events in the batch validate against the pinned schema.
	var wb WebhookBody
	_ = json.Unmarshal(g.body, &wb)
	var nd bytes.Buffer
	for _, ev := range wb.Data.Events {
		nd.Write(ev)
		nd.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "o.ndjson")
	_ = os.WriteFile(p, nd.Bytes(), 0o600)
	_, file, _, _ := runtime.Caller(0)
	if out, ok := validate(t, "schema", filepath.Join(filepath.Dir(file), "..", "export", "testdata", "ocsf-1.8.0.schema.json"), p); !ok {
		t.Fatalf("a webhook's OCSF events do not validate: %s", out)
	}
	// Metrics name sinks by id only.
	var m bytes.Buffer
	d.WriteMetrics(&m)
	if !strings.Contains(m.String(), `ward_audit_sink_delivered_total{sink="`+sa.String()+`",kind="webhook"} 25`) ||
		!strings.Contains(m.String(), `ward_audit_sink_lag_events{sink="`+sa.String()+`",kind="webhook"} 0`) {
		t.Fatalf("metrics:\n%s", m.String())
	}
}

// The receiver is down for a while, then back: nothing is lost, order
// holds, the cursor never passes an unacknowledged batch, and the failure
// shows in the sink's state and metrics; a batch whose answer was lost is
// sent again (duplicates only across the outage).
func TestReceiverDownThenBack(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 30)
	r := newReceiver(t)
	id := e.sink(t, org, Webhook, r.srv.URL, newWebhookSecret(), "ocsf", 10)
	d := e.deliverer(t, e.reader, r.srv.Client())
	ctx := context.Background()

	if _, err := d.Once(ctx); err != nil { // 1..30 delivered
		t.Fatal(err)
	}
	e.events(t, org, uuid.Nil, 20) // 31..50 while the receiver is down
	r.setStatus(http.StatusServiceUnavailable)
	for range 3 {
		e.due(t)
		if _, err := d.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c, attempts, lastErr, _ := e.cursor(t, org, id)
	if c != 30 || attempts != 3 || !strings.Contains(lastErr, "503") {
		t.Fatalf("during the outage: cursor %d attempts %d error %q", c, attempts, lastErr)
	}
	var m bytes.Buffer
	d.WriteMetrics(&m)
	if !strings.Contains(m.String(), `ward_audit_sink_failures_total{sink="`+id.String()+`",kind="webhook"} 3`) ||
		!strings.Contains(m.String(), `ward_audit_sink_lag_events{sink="`+id.String()+`",kind="webhook"} 20`) {
		t.Fatalf("metrics during the outage:\n%s", m.String())
	}
	// Back up.
	r.setStatus(http.StatusOK)
	e.due(t)
	if n, err := d.Once(ctx); err != nil || n != 20 {
		t.Fatalf("after the outage delivered %d (%v)", n, err)
	}
	dups := checkOrder(t, r.seqs(), 50)
	if dups != 30 { // 3 refused attempts of the batch 31..40
		t.Fatalf("%d duplicates, want the 3 refused batches of 10", dups)
	}
	if c, attempts, lastErr, _ := e.cursor(t, org, id); c != 50 || attempts != 0 || lastErr != "" {
		t.Fatalf("after the outage: cursor %d attempts %d error %q", c, attempts, lastErr)
	}
}

// A sink failing longer than its disable_after is disabled and no longer
// tried.
func TestSinkDisabledAfterFailurePeriod(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 5)
	r := newReceiver(t)
	r.setStatus(http.StatusInternalServerError)
	id := e.sink(t, org, Webhook, r.srv.URL, newWebhookSecret(), "ocsf", 10)
	if _, err := e.Super.Pool.Exec(context.Background(), `update app.audit_sinks set disable_after_s = 60,
		failing_since = now() - interval '2 minutes' where id = $1`, id); err != nil {
		t.Fatal(err)
	}
	d := e.deliverer(t, e.reader, r.srv.Client())
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, _, disabled := e.cursor(t, org, id); !disabled {
		t.Fatal("a sink failing past its disable_after is still enabled")
	}
	before := len(r.requests())
	e.due(t)
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.requests()) != before {
		t.Fatal("a disabled sink was tried")
	}
}

// Two nodes: one delivers; the active node is killed mid-delivery (its
// request in flight, its database session terminated): the other takes
// the lease and resumes from the cursor; everything arrives, in order.
func TestNodeKilledMidDelivery(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 30)
	r := newReceiver(t)
	id := e.sink(t, org, Webhook, r.srv.URL, newWebhookSecret(), "ocsf", 10)
	open := func() *postgres.DB {
		db, err := postgres.Open(context.Background(), e.URL("ward_audit_reader"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	d1, d2 := e.deliverer(t, open(), r.srv.Client()), e.deliverer(t, open(), r.srv.Client())
	ctx := context.Background()
	hang := make(chan struct{})
	r.mu.Lock()
	r.hang = hang
	r.mu.Unlock()
	ctx1, kill := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = d1.Step(ctx1)
	}()
	for deadline := time.Now().Add(10 * time.Second); len(r.requests()) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("node 1 never delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if active, _, err := d2.Step(ctx); err != nil || active {
		t.Fatalf("node 2 active while node 1 holds the lease (%v)", err)
	}
	// Node 1 dies: its work is abandoned and its session ends.
	kill()
	if _, err := e.Super.Pool.Exec(ctx, `select pg_terminate_backend(pid) from pg_locks
		where locktype = 'advisory' and granted and objid = (hashtextextended('ward.audit.sinks', 0) & 4294967295)::oid`); err != nil {
		t.Fatal(err)
	}
	close(hang)
	<-done
	r.mu.Lock()
	r.hang = nil
	r.mu.Unlock()
	if c, _, _, _ := e.cursor(t, org, id); c != 0 {
		t.Fatalf("the killed node's batch was acknowledged (cursor %d)", c)
	}
	e.due(t)
	var active bool
	for deadline := time.Now().Add(10 * time.Second); !active; {
		var err error
		if active, _, err = d2.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if !active && time.Now().After(deadline) {
			t.Fatal("node 2 never took over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, _, _, _ := e.cursor(t, org, id); c != 30 {
		t.Fatalf("node 2 resumed to cursor %d, want 30", c)
	}
	if dups := checkOrder(t, r.seqs(), 30); dups > 10 {
		t.Fatalf("%d duplicates: more than the one batch in flight", dups)
	}
}

// Syslog over TLS: octet-counted RFC 5424 frames that an independent
// parser (nsyslog-parser) reads, with the event fields as structured data.
func TestSyslogTLS(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 12)
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	cert := srv.TLS.Certificates
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	srv.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	frames := make(chan []string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				var msgs []string
				for {
					lenStr, err := br.ReadString(' ')
					if err != nil {
						break
					}
					n, err := strconv.Atoi(strings.TrimSuffix(lenStr, " "))
					if err != nil {
						msgs = append(msgs, "BAD FRAME "+lenStr)
						break
					}
					b := make([]byte, n)
					if _, err := io.ReadFull(br, b); err != nil {
						msgs = append(msgs, "SHORT FRAME")
						break
					}
					msgs = append(msgs, string(b))
				}
				frames <- msgs
			}(c)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = host
	id := e.sink(t, org, Syslog, "localhost:"+port, "", "ocsf", 100)
	d := NewDeliverer(e.reader, e.inst, Config{TLS: &tls.Config{RootCAs: roots, ServerName: "example.com"}, Site: "ward-test",
		AllowLoopback: true},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := d.Once(context.Background()); err != nil || n != 12 {
		c, _, le, _ := e.cursor(t, org, id)
		t.Fatalf("delivered %d (%v), cursor %d, error %q", n, err, c, le)
	}
	msgs := <-frames
	if len(msgs) != 12 {
		t.Fatalf("%d frames: %q", len(msgs), msgs)
	}
	p := filepath.Join(t.TempDir(), "syslog.txt")
	_ = os.WriteFile(p, []byte(strings.Join(msgs, "\n")+"\n"), 0o600)
	out, ok := validate(t, "syslog", p)
	if !ok {
		t.Fatalf("nsyslog-parser does not read Ward's frames as RFC 5424:\n%s", out)
	}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Prival, Version int
			Type, AppName   string
			Host            string
			MessageID       string `json:"messageid"`
			Message         string
			StructuredData  []map[string]string
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		sd := m.StructuredData[0]
		if m.Type != "RFC5424" || m.AppName != "ward" || m.Host != "ward-test" || sd["$id"] != "ward@32473" ||
			sd["seq"] != strconv.Itoa(i+1) || sd["org"] != org.String() || sd["action"] != m.MessageID {
			t.Fatalf("frame %d parsed as %s", i+1, line)
		}
		if (sd["outcome"] == "success") != (m.Prival == 110) {
			t.Fatalf("frame %d: PRI %d for outcome %s", i+1, m.Prival, sd["outcome"])
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(m.Message), &ev); err != nil || ev["class_uid"] == nil {
			t.Fatalf("frame %d: the message is not the OCSF event: %q", i+1, m.Message)
		}
	}
}

// Splunk HEC: token auth on the collector path, concatenated events with
// the event fields; only {"code":0} acknowledges.
func TestSplunkHEC(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 8)
	var mu sync.Mutex
	var got []HECEvent
	fail := true
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/collector/event" || r.Header.Get("Authorization") != "Splunk hec-token-123" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"text":"Invalid authorization","code":3}`))
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			_, _ = w.Write([]byte(`{"text":"Server is busy","code":9}`))
			return
		}
		dec := json.NewDecoder(r.Body)
		for dec.More() {
			var ev HECEvent
			if err := dec.Decode(&ev); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			got = append(got, ev)
		}
		_, _ = w.Write([]byte(`{"text":"Success","code":0}`))
	}))
	t.Cleanup(srv.Close)
	id := e.sink(t, org, Splunk, srv.URL, "hec-token-123", "ocsf", 100)
	d := e.deliverer(t, e.reader, srv.Client())
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, _, le, _ := e.cursor(t, org, id); c != 0 || !strings.Contains(le, "code 9") {
		t.Fatalf("an unacknowledged batch moved the cursor to %d (%q)", c, le)
	}
	e.due(t)
	if n, err := d.Once(context.Background()); err != nil || n != 8 {
		t.Fatalf("delivered %d (%v)", n, err)
	}
	if len(got) != 8 {
		t.Fatalf("HEC got %d events", len(got))
	}
	for i, ev := range got {
		if ev.Fields["seq"] != strconv.Itoa(i+1) || ev.Fields["org_id"] != org.String() || ev.Sourcetype != "ocsf:json" ||
			ev.Source != "ward-audit" || !strings.Contains(ev.Time, ".") {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	// A wrong token is a failure, not an acknowledgement.
	bad := e.sink(t, org, Splunk, srv.URL, "wrong-token-1", "ocsf", 100)
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, _, le, _ := e.cursor(t, org, bad); c != 0 || !strings.Contains(le, "401") {
		t.Fatalf("wrong token: cursor %d, %q", c, le)
	}
}

var _ = audit.OutcomeSuccess

func benchEnv(b *testing.B) *env { return newEnv(b) }

func (e *env) orgB(b *testing.B, n int) uuid.UUID { return e.org(b, n) }

func (e *env) sinkB(b *testing.B, org uuid.UUID, kind Kind, endpoint, secret, format string, batch int) uuid.UUID {
	return e.sink(b, org, kind, endpoint, secret, format, batch)
}

// Splunk HEC with indexer acknowledgement: the batch counts only once
// /services/collector/ack reports its ackId indexed, on the sink's channel;
// an ack that never comes is a failure (the batch is sent again).
func TestSplunkIndexerAck(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 4)
	var mu sync.Mutex
	polls, posts := 0, 0
	indexAfter := 2 // polls before the ack turns true; -1: never
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Splunk hec-token-ack" || r.Header.Get("X-Splunk-Request-Channel") == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"text":"Data channel is missing","code":10}`))
			return
		}
		switch r.URL.Path {
		case "/services/collector/event":
			posts++
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte(`{"text":"Success","code":0,"ackId":` + strconv.Itoa(posts) + `}`))
		case "/services/collector/ack":
			var req struct{ Acks []int }
			_ = json.NewDecoder(r.Body).Decode(&req)
			polls++
			done := indexAfter >= 0 && polls > indexAfter
			_, _ = w.Write([]byte(`{"acks":{"` + strconv.Itoa(req.Acks[0]) + `":` + strconv.FormatBool(done) + `}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	id := e.sink(t, org, Splunk, srv.URL, "hec-token-ack", "ocsf", 100)
	// The wait is generous while the ack comes: three polls in 200 ms were
	// too few on a loaded machine (a pause of the test process between
	// them ended the wait before the third, and nothing was delivered).
	d := NewDeliverer(e.reader, e.inst, Config{Client: srv.Client(), AckPoll: time.Millisecond, AckWait: 30 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := d.Once(context.Background()); err != nil || n != 4 {
		t.Fatalf("delivered %d (%v)", n, err)
	}
	if polls != 3 {
		t.Fatalf("%d ack polls, want 3 (two not yet, one indexed)", polls)
	}
	// Never indexed: not acknowledged, cursor stays (a short wait, which
	// only ends the same way on a slower machine).
	mu.Lock()
	indexAfter = -1
	mu.Unlock()
	d.cfg.AckWait = 200 * time.Millisecond
	e.events(t, org, uuid.Nil, 3)
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, _, le, _ := e.cursor(t, org, id); c != 4 || !strings.Contains(le, "indexed within") {
		t.Fatalf("an unindexed batch: cursor %d, %q", c, le)
	}
}

// By default the deliverer refuses endpoints on loopback and link-local
// addresses (an org admin must not aim Ward at the host's own services or
// a cloud metadata endpoint), after DNS resolution, and follows no
// redirect; the operator may allow loopback.
func TestSinkAddressGuard(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 3)
	r := newReceiver(t)
	id := e.sink(t, org, Webhook, strings.Replace(r.srv.URL, "127.0.0.1", "localhost", 1), newWebhookSecret(), "ocsf", 10)
	meta := e.sink(t, org, Syslog, "169.254.169.254:6514", "", "ocsf", 10)
	d := NewDeliverer(e.reader, e.inst, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []uuid.UUID{id, meta} {
		if c, _, le, _ := e.cursor(t, org, s); c != 0 || !strings.Contains(le, "refused: the endpoint resolves to a loopback") {
			t.Fatalf("sink %s: cursor %d, error %q", s, c, le)
		}
	}
	if len(r.requests()) != 0 {
		t.Fatal("the loopback receiver was reached")
	}
	// Allowed by the operator: the TLS check still applies (the test CA is
	// not trusted by the default client), so the failure is now TLS's.
	e.due(t)
	d = NewDeliverer(e.reader, e.inst, Config{AllowLoopback: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, le, _ := e.cursor(t, org, id); le != "webhook: "+unreachable {
		t.Fatalf("with loopback allowed: %q", le)
	}
}

const unreachable = "could not connect to the endpoint, complete TLS with it or read its answer (the cause is in the server's log)"

// A sink cannot probe the operator's network: private addresses and the
// host's own are refused unless the operator allows the network, and a
// failed connection reads the same whether the port is closed, open
// without TLS or silent (the cause goes to the server's log only).
func TestSinkNoScanner(t *testing.T) {
	e := newEnv(t)
	org := e.org(t, 3)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	private := e.sink(t, org, Syslog, "10.255.255.1:6514", "", "ocsf", 10)
	d := NewDeliverer(e.reader, e.inst, Config{}, quiet)
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, le, _ := e.cursor(t, org, private); !strings.Contains(le, "refused: the endpoint resolves to a private address") ||
		!strings.Contains(le, "--audit-sinks-allow-networks") {
		t.Fatalf("private endpoint: %q", le)
	}
	if _, err := e.Super.Pool.Exec(context.Background(), `delete from app.audit_sinks where id = $1`, private); err != nil {
		t.Fatal(err)
	}

	// a closed port, an open port that speaks no TLS, an open port that
	// resets: one answer
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()
	ids := []uuid.UUID{e.sink(t, org, Syslog, closedAddr, "", "ocsf", 10), e.sink(t, org, Syslog, plain.Addr().String(), "", "ocsf", 10)}
	d = NewDeliverer(e.reader, e.inst, Config{AllowLoopback: true}, quiet)
	if _, err := d.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, _, le, _ := e.cursor(t, org, id); le != "syslog: "+unreachable {
			t.Errorf("sink %s: %q", id, le)
		}
	}
}

// One org's SIEM that hangs does not hold up other orgs' deliveries: a
// pass delivers to each org's sinks in its own worker, so org B's events
// arrive while org A's request is still waiting for its receiver. (Before,
// one pass went sink by sink and B waited for A's timeouts.)
func TestHangingSinkDelaysOnlyItsOrg(t *testing.T) {
	e := newEnv(t)
	slow, fast := newReceiver(t), newReceiver(t)
	release := make(chan struct{})
	slow.hang = release
	var orgs []uuid.UUID
	for range 3 {
		orgs = append(orgs, e.org(t, 5))
	}
	// Every org but the last hangs: with the sinks in org order, whichever
	// comes first hangs, and the last one is B.
	slices.SortFunc(orgs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	var ids []uuid.UUID
	for _, org := range orgs[:2] {
		ids = append(ids, e.sink(t, org, Webhook, slow.srv.URL, newWebhookSecret(), "ocsf", 10))
	}
	b := e.sink(t, orgs[2], Webhook, fast.srv.URL, newWebhookSecret(), "ocsf", 10)
	client := slow.srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(fast.srv.Certificate())
	d := e.deliverer(t, e.reader, client)
	done := make(chan int64, 1)
	go func() {
		n, _ := d.Once(context.Background())
		done <- n
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(fast.seqs()) < 5 {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("org B's events did not arrive while org A's receiver hung (got %v)", fast.seqs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// B's receiver has the events; its acknowledgement moves the cursor
	// a moment later, still while A hangs.
	for c, _, _, _ := e.cursor(t, orgs[2], b); c != 5; c, _, _, _ = e.cursor(t, orgs[2], b) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("org B's cursor %d while A hangs, want 5", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for len(slow.requests()) < 2 {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("the hanging receiver got %d requests, want both hung orgs' first batch at once", len(slow.requests()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if n := <-done; n != 15 {
		t.Fatalf("the pass delivered %d events, want 15", n)
	}
	for i, id := range ids {
		if c, _, _, _ := e.cursor(t, orgs[i], id); c != 5 {
			t.Fatalf("hung org %d: cursor %d, want 5", i, c)
		}
	}
}

// A running deliverer does not wait for one org's hanging SIEM before it
// serves other orgs again: events org B writes after its first delivery
// reach B's receiver while A's first request still hangs. (Before, Run
// ran pass after pass and each pass waited for every org's worker, so B's
// later events waited for A's timeouts.)
func TestRunDoesNotWaitForAHangingOrg(t *testing.T) {
	e := newEnv(t)
	slow, fast := newReceiver(t), newReceiver(t)
	release := make(chan struct{})
	slow.hang = release
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	a, b := e.org(t, 5), e.org(t, 5)
	e.sink(t, a, Webhook, slow.srv.URL, newWebhookSecret(), "ocsf", 10)
	bs := e.sink(t, b, Webhook, fast.srv.URL, newWebhookSecret(), "ocsf", 10)
	client := slow.srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(fast.srv.Certificate())
	d := e.delivererWith(t, e.reader, Config{Client: client, Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitCursor := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if c, _, _, _ := e.cursor(t, b, bs); c == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("org B's cursor %d while A hangs, want %d", c, want)
			}
		}
	}
	waitCursor(5)
	for deadline := time.Now().Add(20 * time.Second); len(slow.requests()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("org A's receiver never got its first batch")
		}
	}
	e.events(t, b, uuid.Nil, 7)
	waitCursor(12)
	if got := fast.seqs(); checkOrder(t, got, 12) != 0 {
		t.Fatalf("org B's receiver got %v", got)
	}
	if len(slow.requests()) != 1 {
		t.Fatalf("the hanging receiver got %d requests while its first hung, want 1", len(slow.requests()))
	}
}

// An org whose SIEM answers slowly but within its timeouts gives up its
// slot after a turn: with one slot, org B's events are delivered while
// A still has most of its backlog to send, and A then carries on.
func TestSlowSinkYieldsItsTurn(t *testing.T) {
	e := newEnv(t)
	slow, fast := newReceiver(t), newReceiver(t)
	slow.delay = 50 * time.Millisecond
	a := e.org(t, 40)
	as := e.sink(t, a, Webhook, slow.srv.URL, newWebhookSecret(), "ocsf", 1)
	b := e.org(t, 3)
	bs := e.sink(t, b, Webhook, fast.srv.URL, newWebhookSecret(), "ocsf", 10)
	client := slow.srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(fast.srv.Certificate())
	d := e.delivererWith(t, e.reader, Config{Client: client, Interval: 10 * time.Millisecond, Parallel: 1,
		MaxBatchesPerPass: 100, Turn: 200 * time.Millisecond})
	// A is served first: it has waited longest.
	d.served[b] = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for len(fast.seqs()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("org B's events never arrived (A's receiver had %d)", len(slow.requests()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(slow.requests()); n == 0 || n > 20 {
		t.Fatalf("org A's receiver had %d batches when B's arrived, want a turn's worth (1-20 of 40)", n)
	}
	for c, _, _, _ := e.cursor(t, a, as); c != 40; c, _, _, _ = e.cursor(t, a, as) {
		if time.Now().After(deadline) {
			t.Fatalf("org A's cursor %d, want 40", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if dups := checkOrder(t, slow.seqs(), 40); dups != 0 {
		t.Fatalf("org A's receiver got %d duplicates", dups)
	}
	if c, _, _, _ := e.cursor(t, b, bs); c != 3 {
		t.Fatalf("org B's cursor %d, want 3", c)
	}
}

// A dispatch that listed the due sinks while an org's turn was still
// delivering starts no turn on that list once the turn has ended: the
// list's cursor is from before the delivery, and a turn started on it sent
// the same events again (seen in CI under load: org B's receiver got
// 1..5 twice). The next pass lists the org again, with its new cursor.
func TestDispatchAfterATurnEndedSendsNothingAgain(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t)
	release := make(chan struct{})
	r.hang = release
	b := e.org(t, 5)
	bs := e.sink(t, b, Webhook, r.srv.URL, newWebhookSecret(), "ocsf", 10)
	d := e.delivererWith(t, e.reader, Config{Client: r.srv.Client()})
	ctx := context.Background()
	if active, err := d.hold(ctx); !active || err != nil {
		t.Fatalf("lease: %v %v", active, err)
	}
	// The first turn: its request hangs at the receiver.
	if err := d.dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(r.requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first turn sent nothing")
		}
	}
	// The second dispatch lists the sinks (cursor 0) while the first turn
	// hangs; the first turn then ends, its cursor at 5, before the second
	// dispatch starts turns.
	d.listed = func() {
		close(release)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			d.mu.Lock()
			running := d.flight[b]
			d.mu.Unlock()
			if c, _, _, _ := e.cursor(t, b, bs); c == 5 && !running {
				return
			}
			if time.Now().After(deadline) {
				t.Error("the first turn did not end")
				return
			}
		}
	}
	if err := d.dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	d.work.Wait()
	d.listed = nil
	if got := r.seqs(); len(got) != 5 {
		t.Fatalf("the receiver got %v, want 1..5 once", got)
	}
	// The next pass serves the org again, from its new cursor.
	e.events(t, b, uuid.Nil, 2)
	if err := d.dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	d.work.Wait()
	if got := r.seqs(); checkOrder(t, got, 7) != 0 {
		t.Fatalf("after two more events the receiver got %v", got)
	}
}
