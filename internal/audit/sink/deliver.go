package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/netguard"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// delivererLease is the advisory lock key of the active deliverer.
const delivererLease = `hashtextextended('ward.audit.sinks', 0)`

// Config tunes a Deliverer.
type Config struct {
	// Interval between passes (1 s when 0).
	Interval time.Duration
	// Client sends webhooks and HEC requests; nil: a client with a 10 s
	// timeout, no redirects, that refuses loopback, link-local, unspecified
	// and multicast addresses at connect time (AllowLoopback lifts the
	// loopback refusal). A Client given here is used as it is.
	Client *http.Client
	// AllowLoopback lets sinks reach loopback addresses (a SIEM on the same
	// host; tests).
	AllowLoopback bool
	// AllowNetworks are networks sinks may reach although they are
	// private or the host's own (an on-premises SIEM); none by default.
	AllowNetworks []netip.Prefix
	// RootCAs, when set, are the CAs sink certificates must chain to (an
	// internal CA of on-premises SIEMs); nil: the system roots.
	RootCAs *x509.CertPool
	// TLS is the syslog client's TLS configuration (system roots when nil).
	TLS *tls.Config
	// Site names this deployment in the messages (syslog HOSTNAME, HEC host).
	Site string
	// PEN is the IANA Private Enterprise Number of the syslog structured
	// data id (ward@PEN); 32473, the documentation number, when 0.
	PEN int
	// Parallel is how many orgs' sinks a pass delivers to at once (8 when
	// 0); one org's sinks are delivered one after the other.
	Parallel int
	// MaxBatchesPerPass bounds one sink's share of a pass (10 when 0).
	MaxBatchesPerPass int
	// Turn bounds the wall-clock time one org's worker keeps its slot
	// (15 s when 0): after a batch that ends past it the worker stops, the
	// org's remaining events wait for its next turn, and orgs that waited
	// longer go first. A SIEM that answers slowly but within its timeouts
	// therefore costs other orgs at most one turn, not its whole backlog.
	Turn time.Duration
	// Backoff is the first retry delay (1 s when 0); it doubles per
	// failure up to MaxBackoff (5 min when 0), with ±50% jitter.
	Backoff, MaxBackoff time.Duration
	// AckWait bounds how long a HEC batch may wait to be reported indexed
	// (indexer acknowledgement; 30 s when 0), polled every AckPoll (500 ms).
	AckWait, AckPoll time.Duration
}

// Deliverer sends every org's new events to the org's sinks. Run it on
// every node: one holds the lease and delivers.
type Deliverer struct {
	db   *postgres.DB
	inst *envelope.OrgKeys
	cfg  Config
	log  *slog.Logger

	lease *pgxpool.Conn

	mu     sync.Mutex
	stats  map[uuid.UUID]*sinkStats
	act    bool
	flight map[uuid.UUID]bool      // orgs with a worker running (Run)
	served map[uuid.UUID]time.Time // when each org's last turn began
	// ends counts the turns that ended; ended holds, per org, the count
	// when its last turn ended. A dispatch skips an org whose turn ended
	// after it listed the due sinks: the list's cursors are from before
	// that turn's deliveries, and a turn started on them sends again what
	// was just delivered.
	ends  uint64
	ended map[uuid.UUID]uint64
	work  sync.WaitGroup // Run's workers

	// listed, when set (tests), runs after dispatch has listed the due
	// sinks and before it starts turns.
	listed func()
}

type sinkStats struct {
	org       uuid.UUID
	kind      Kind
	lag       int64
	delivered int64
	failures  int64
}

// NewDeliverer returns a Deliverer reading through db, which must be able
// to read every org's log and sinks (ward_audit_reader, or the embedded
// cluster's superuser), opening secrets with inst.
func NewDeliverer(db *postgres.DB, inst *envelope.OrgKeys, cfg Config, log *slog.Logger) *Deliverer {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Client == nil {
		cfg.Client = defaultClient(cfg)
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	}
	if cfg.Site == "" {
		cfg.Site = "ward"
	}
	if cfg.PEN == 0 {
		cfg.PEN = 32473
	}
	if cfg.MaxBatchesPerPass <= 0 {
		cfg.MaxBatchesPerPass = 10
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.AckPoll <= 0 {
		cfg.AckPoll = 500 * time.Millisecond
	}
	if cfg.Turn <= 0 {
		cfg.Turn = 15 * time.Second
	}
	return &Deliverer{db: db, inst: inst, cfg: cfg, log: log, stats: map[uuid.UUID]*sinkStats{},
		flight: map[uuid.UUID]bool{}, served: map[uuid.UUID]time.Time{}, ended: map[uuid.UUID]uint64{}}
}

// Run delivers while this node holds the lease, until ctx ends, and gives
// the lease up when it returns. Every interval it starts a worker for
// each org with a sink due that has no worker running, up to Parallel at
// once, the org that waited longest first; it does not wait for them, so
// an org whose SIEM is slow holds up only its own sinks.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	// crew is the context of the workers started under the current lease.
	var crew struct {
		ctx  context.Context
		stop context.CancelFunc
	}
	crew.ctx, crew.stop = context.WithCancel(ctx)
	defer func() {
		crew.stop()
		d.work.Wait()
		d.Release()
	}()
	for {
		active, err := d.hold(ctx)
		if active {
			err = d.dispatch(crew.ctx)
		} else {
			// Lost (or never had) the lease: stop this node's workers;
			// the holder's cursor check refuses what they would still
			// acknowledge.
			crew.stop()
			d.work.Wait()
			crew.ctx, crew.stop = context.WithCancel(ctx)
		}
		if err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "audit sink pass failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dispatch starts a turn for each due org without a worker running, while
// there are free slots, the least recently served first.
func (d *Deliverer) dispatch(ctx context.Context) error {
	d.mu.Lock()
	listedAt := d.ends
	d.mu.Unlock()
	orgs, err := d.pending(ctx)
	if err != nil {
		return err
	}
	if d.listed != nil {
		d.listed()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, org := range orgs {
		if len(d.flight) >= d.cfg.Parallel {
			break
		}
		id := org[0].Org
		if d.flight[id] || d.ended[id] > listedAt {
			continue // running, or listed before its last turn ended: the next pass lists it again
		}
		d.flight[id], d.served[id] = true, time.Now()
		d.work.Add(1)
		go func() {
			defer d.work.Done()
			d.turn(ctx, org)
			d.mu.Lock()
			delete(d.flight, id)
			d.ends++
			d.ended[id] = d.ends
			d.mu.Unlock()
		}()
	}
	return nil
}

// pending lists the sinks that are due, grouped by org, the orgs in the
// order they were last served (never served first).
func (d *Deliverer) pending(ctx context.Context) ([][]due, error) {
	rows, err := dbsqlc.New(d.db.Pool).ListDueSinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("sink: list sinks: %w", err)
	}
	var orgs [][]due
	for i, r := range rows {
		if i == 0 || r.OrgID != rows[i-1].OrgID {
			orgs = append(orgs, nil)
		}
		orgs[len(orgs)-1] = append(orgs[len(orgs)-1], due{Sink: Sink{ID: r.ID, Org: r.OrgID, Kind: Kind(r.Kind),
			Endpoint: r.Endpoint, Format: r.Format, BatchMax: int(r.BatchMax), Cursor: r.CursorSeq},
			secret: r.SecretEnc, prev: r.PrevSecretEnc, prevExpires: r.PrevExpiresAt, attempts: int(r.Attempts)})
	}
	d.mu.Lock()
	served := make(map[uuid.UUID]time.Time, len(orgs))
	for _, org := range orgs {
		served[org[0].Org] = d.served[org[0].Org]
	}
	d.mu.Unlock()
	slices.SortStableFunc(orgs, func(a, b []due) int { return served[a[0].Org].Compare(served[b[0].Org]) })
	return orgs, nil
}

// turn delivers one org's sinks one after the other, until each is caught
// up, fails, had its batches, or the turn's time is up.
func (d *Deliverer) turn(ctx context.Context, org []due) int64 {
	end := time.Now().Add(d.cfg.Turn)
	var n int64
	for i := range org {
		if ctx.Err() != nil || time.Now().After(end) {
			break
		}
		got, _ := d.deliver(ctx, &org[i], end)
		n += got
	}
	return n
}

// Step takes the lease if it is free (or checks this node still holds
// it) and, holding it, runs one pass to its end (Once). It reports whether
// this node is the active deliverer and how many events it delivered.
func (d *Deliverer) Step(ctx context.Context) (active bool, delivered int64, err error) {
	if active, err = d.hold(ctx); !active || err != nil {
		return active, 0, err
	}
	delivered, err = d.Once(ctx)
	return true, delivered, err
}

// hold takes the lease if it is free, or checks this node still holds it.
func (d *Deliverer) hold(ctx context.Context) (bool, error) {
	if d.lease != nil {
		if _, err := d.lease.Exec(ctx, `select 1`); err != nil {
			d.drop(ctx)
		}
	}
	if d.lease == nil {
		c, err := d.db.Pool.Acquire(ctx)
		if err != nil {
			return false, fmt.Errorf("sink: deliverer lease: %w", err)
		}
		var got bool
		if err := c.QueryRow(ctx, `select pg_try_advisory_lock(`+delivererLease+`)`).Scan(&got); err != nil || !got {
			c.Release()
			d.setActive(false)
			if err != nil {
				return false, fmt.Errorf("sink: deliverer lease: %w", err)
			}
			return false, nil
		}
		d.lease = c
		d.setActive(true)
		d.log.InfoContext(ctx, "audit sinks: this node is the active deliverer")
	}
	return true, nil
}

// Release gives the lease up.
func (d *Deliverer) Release() {
	if d.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.lease.Exec(ctx, `select pg_advisory_unlock(`+delivererLease+`)`); err != nil {
		d.drop(ctx)
		return
	}
	d.lease.Release()
	d.lease = nil
	d.setActive(false)
}

func (d *Deliverer) drop(ctx context.Context) {
	conn := d.lease.Hijack()
	d.lease = nil
	d.setActive(false)
	_ = conn.Close(ctx)
}

func (d *Deliverer) setActive(v bool) {
	d.mu.Lock()
	d.act = v
	d.mu.Unlock()
}

// due is a sink to deliver to, with its secrets sealed.
type due struct {
	Sink
	secret, prev []byte
	prevExpires  *time.Time
	attempts     int
}

// Once runs one delivery pass over every enabled sink that is due and
// waits for it, whether or not this node holds the lease (tests call it
// directly to play two nodes), and returns how many events were
// acknowledged. Each org's sinks are delivered in turn by one worker, up
// to Parallel orgs at once.
func (d *Deliverer) Once(ctx context.Context) (int64, error) {
	orgs, err := d.pending(ctx)
	if err != nil {
		return 0, err
	}
	var (
		total atomic.Int64
		wg    sync.WaitGroup
		slots = make(chan struct{}, d.cfg.Parallel)
	)
	for _, org := range orgs {
		slots <- struct{}{}
		d.mu.Lock()
		d.served[org[0].Org] = time.Now()
		d.mu.Unlock()
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			total.Add(d.turn(ctx, org))
		}()
	}
	wg.Wait()
	return total.Load(), ctx.Err()
}

// deliver sends s's pending events, batch by batch, until it is caught
// up, a batch fails, or it had its share of the pass: MaxBatchesPerPass
// batches, or a batch that ended after end.
func (d *Deliverer) deliver(ctx context.Context, s *due, end time.Time) (int64, error) {
	defer d.lag(ctx, s)
	snd, err := d.sender(s)
	if err != nil {
		return 0, d.failed(ctx, s, err)
	}
	var delivered int64
	for range d.cfg.MaxBatchesPerPass {
		var batch []*audit.Row
		err := audit.Scan(ctx, d.db.Pool, s.Org, audit.Selection{MinSeq: s.Cursor + 1, MaxSeq: s.Cursor + int64(s.BatchMax)},
			func(r *audit.Row, bad string) error {
				if bad != "" {
					return fmt.Errorf("seq %d: %s", r.Seq, bad)
				}
				c := *r
				c.Results = append([]uuid.UUID(nil), r.Results...)
				batch = append(batch, &c)
				return nil
			})
		if err != nil {
			return delivered, fmt.Errorf("sink %s: read org %s: %w", s.ID, s.Org, err)
		}
		if len(batch) == 0 {
			break
		}
		if batch[0].Seq != s.Cursor+1 {
			return delivered, d.failed(ctx, s, fmt.Errorf("the log has no seq %d", s.Cursor+1))
		}
		// The list this turn started from may be stale by up to a turn:
		// a sink turned off (or deleted) since is sent nothing more.
		still, err := dbsqlc.New(d.db.Pool).SinkStillDue(ctx, dbsqlc.SinkStillDueParams{OrgID: s.Org, ID: s.ID, CursorSeq: s.Cursor})
		if err != nil {
			return delivered, fmt.Errorf("sink %s: check it is still enabled: %w", s.ID, err)
		}
		if !still {
			return delivered, nil
		}
		if err := snd.send(ctx, s, batch); err != nil {
			return delivered, d.failed(ctx, s, err)
		}
		last := batch[len(batch)-1].Seq
		n, err := dbsqlc.New(d.db.Pool).AdvanceSinkCursor(ctx, dbsqlc.AdvanceSinkCursorParams{OrgID: s.Org, ID: s.ID,
			ToSeq: last, FromSeq: s.Cursor})
		if err != nil {
			return delivered, fmt.Errorf("sink %s: advance cursor: %w", s.ID, err)
		}
		if n != 1 {
			// Another deliverer moved it (a node that lost its lease
			// mid-pass): stop; the lease holder carries on. Or the sink
			// was disabled or paused meanwhile: stop here, not after the
			// pass's remaining batches.
			return delivered, fmt.Errorf("sink %s: the cursor moved under this deliverer, or the sink was disabled", s.ID)
		}
		delivered += int64(len(batch))
		d.count(s, int64(len(batch)), 0)
		s.Cursor, s.attempts = last, 0
		if len(batch) < s.BatchMax || time.Now().After(end) {
			break
		}
	}
	return delivered, nil
}

// failed records a failed attempt: backoff with jitter, and disabling
// once the sink has failed for longer than its disable_after.
func (d *Deliverer) failed(ctx context.Context, s *due, cause error) error {
	s.attempts++
	backoff := d.cfg.Backoff << min(s.attempts-1, 20)
	if backoff > d.cfg.MaxBackoff || backoff <= 0 {
		backoff = d.cfg.MaxBackoff
	}
	backoff = time.Duration(float64(backoff) * (0.5 + rand.Float64()))
	msg := publicFailure(s.Kind, cause)
	err := dbsqlc.New(d.db.Pool).RecordSinkFailure(ctx, dbsqlc.RecordSinkFailureParams{OrgID: s.Org, ID: s.ID,
		Attempts: int32(s.attempts), LastError: &msg, RetryIn: backoff.Seconds()})
	d.count(s, 0, 1)
	// the log (the operator's) has the whole cause; the sink's last_error
	// (the org admin's) only its class
	d.log.WarnContext(ctx, "audit sink delivery failed; will retry", "org", s.Org, "sink", s.ID, "kind", s.Kind,
		"attempt", s.attempts, "retry_in", backoff.Round(time.Millisecond), "err", logCause(cause))
	if err != nil {
		return fmt.Errorf("sink %s: record failure: %w", s.ID, err)
	}
	return cause
}

// logCause is cause as the log may hold it: an endpoint's query string
// and user information can be a credential (a SIEM intake's ?api_key=…),
// and *url.Error writes the whole URL, so each URL in it is cut to its
// scheme, host and path.
func logCause(cause error) string {
	msg := cause.Error()
	var ue *url.Error
	for e := cause; errors.As(e, &ue); e = ue.Err {
		if u, err := url.Parse(ue.URL); err == nil {
			bare := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
			msg = strings.ReplaceAll(msg, ue.URL, bare)
			msg = strings.ReplaceAll(msg, strconv.Quote(ue.URL), strconv.Quote(bare))
		} else {
			msg = strings.ReplaceAll(msg, ue.URL, "(an endpoint)")
		}
	}
	return msg
}

// publicFailure is what a sink's last_error (which the org admin reads)
// says of a failed attempt. A refusal by the address guard names its
// class; a failure to connect, to complete TLS or to read an answer is one
// message whatever its cause, since "connection refused", "reset",
// "timeout" and a TLS alert would tell an admin which ports of a host are
// open (a port scanner through Ward); what the receiver answered once TLS
// succeeded (a status, an unacknowledged batch) is said as it is.
func publicFailure(k Kind, cause error) string {
	var ref *netguard.RefusedError
	if errors.As(cause, &ref) {
		what := "a loopback, link-local, unspecified, multicast or cloud metadata address"
		switch ref.Class {
		case "private":
			what = "a private address"
		case "this host":
			what = "an address of Ward's own host"
		}
		return string(k) + ": refused: the endpoint resolves to " + what + "; " + ref.Hint
	}
	// net.Error covers *net.OpError (dial, read, write) and *url.Error (a
	// webhook or HEC request); TLS and certificate errors can arrive
	// without either around them
	var (
		ne net.Error
		rh tls.RecordHeaderError
		al tls.AlertError
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(cause, &ne) || errors.As(cause, &rh) || errors.As(cause, &al) || errors.As(cause, &cv) ||
		errors.As(cause, &ua) || errors.As(cause, &hn) || errors.As(cause, &ci) || errors.Is(cause, io.EOF) ||
		errors.Is(cause, io.ErrUnexpectedEOF) || errors.Is(cause, syscall.ECONNRESET) {
		return string(k) + ": could not connect to the endpoint, complete TLS with it or read its answer " +
			"(the cause is in the server's log)"
	}
	msg := cause.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

func (d *Deliverer) count(s *due, delivered, failures int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stats[s.ID]
	if st == nil {
		st = &sinkStats{org: s.Org, kind: s.Kind}
		d.stats[s.ID] = st
	}
	st.delivered += delivered
	st.failures += failures
}

func (d *Deliverer) lag(ctx context.Context, s *due) {
	head, err := dbsqlc.New(d.db.Pool).OrgLogSize(ctx, s.Org)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st := d.stats[s.ID]; st != nil {
		st.lag = max(head-s.Cursor, 0)
	} else {
		d.stats[s.ID] = &sinkStats{org: s.Org, kind: s.Kind, lag: max(head-s.Cursor, 0)}
	}
}

// WriteMetrics writes the deliverer's Prometheus metrics: per sink (by
// its id and kind, never a name or an endpoint) the lag in events, the
// events delivered and the failed attempts.
func (d *Deliverer) WriteMetrics(w io.Writer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	active := 0
	if d.act {
		active = 1
	}
	fmt.Fprintf(w, "# HELP ward_audit_sink_deliverer_active Whether this node's deliverer holds the lease.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_sink_deliverer_active gauge\nward_audit_sink_deliverer_active %d\n", active)
	ids := make([]uuid.UUID, 0, len(d.stats))
	for id := range d.stats {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	for _, m := range []struct{ name, typ, help string }{
		{"ward_audit_sink_lag_events", "gauge", "Sequenced events not yet acknowledged by the sink."},
		{"ward_audit_sink_delivered_total", "counter", "Events the sink acknowledged (this node)."},
		{"ward_audit_sink_failures_total", "counter", "Failed delivery attempts (this node)."},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, id := range ids {
			st := d.stats[id]
			v := st.lag
			switch m.name {
			case "ward_audit_sink_delivered_total":
				v = st.delivered
			case "ward_audit_sink_failures_total":
				v = st.failures
			}
			fmt.Fprintf(w, "%s{sink=%q,kind=%q} %d\n", m.name, id.String(), string(st.kind), v)
		}
	}
}

// sender is one kind's transport.
type sender interface {
	send(ctx context.Context, s *due, batch []*audit.Row) error
}

func (d *Deliverer) sender(s *due) (sender, error) {
	open := func(b []byte) (string, error) {
		p, err := d.inst.Open(b, secretAD(d.inst, s.Org, s.ID))
		if err != nil {
			return "", fmt.Errorf("the sink's secret does not open under this instance's keys")
		}
		return string(p), nil
	}
	switch s.Kind {
	case Webhook:
		cur, err := open(s.secret)
		if err != nil {
			return nil, err
		}
		secrets := []string{cur}
		if s.prev != nil && s.prevExpires != nil && time.Now().Before(*s.prevExpires) {
			prev, err := open(s.prev)
			if err != nil {
				return nil, err
			}
			secrets = append(secrets, prev)
		}
		return &webhookSender{d: d, secrets: secrets}, nil
	case Splunk:
		tok, err := open(s.secret)
		if err != nil {
			return nil, err
		}
		return &splunkSender{d: d, token: tok}, nil
	case Syslog:
		return &syslogSender{d: d}, nil
	}
	return nil, fmt.Errorf("unknown sink kind %q", s.Kind)
}
