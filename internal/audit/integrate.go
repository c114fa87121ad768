package audit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// MaxBatch is the most events one Integrate call sequences.
const MaxBatch = 10000

// Integrate sequences org's committed pending events (at most MaxBatch, in
// queue order) in tx and returns the tree size after and how many it
// sequenced. Any role that may append may integrate: audit.integrate
// decides the order, numbers and hashes itself, and one integrator per org
// runs at a time (a second call waits for the first, then finds the work
// done).
func Integrate(ctx context.Context, tx pgx.Tx, org uuid.UUID) (size int64, sequenced int, err error) {
	r, err := dbsqlc.New(tx).Integrate(ctx, dbsqlc.IntegrateParams{OrgID: org, Max: MaxBatch})
	if err != nil {
		return 0, 0, fmt.Errorf("audit: integrate org %s: %w", org, err)
	}
	if r.TreeSize == nil || r.Sequenced == nil {
		return 0, 0, fmt.Errorf("audit: integrate org %s: no result", org)
	}
	return *r.TreeSize, int(*r.Sequenced), nil
}

// Integrator is the background job that sequences every org's pending
// events. Any number of nodes may run one: audit.integrate serialises them
// per org, so each event is sequenced exactly once whichever node does it,
// and when a node dies the others carry on at their next pass.
type Integrator struct {
	db       *postgres.DB
	log      *slog.Logger
	interval time.Duration

	// signer, when set, signs a checkpoint of each head that has grown,
	// at most once per signEvery per org.
	signer    note.Signer
	signEvery time.Duration
	signed    map[uuid.UUID]time.Time

	mu          sync.Mutex
	lag         time.Duration // age of the oldest pending event at the last pass
	pending     int64
	integrated  int64
	lastPass    time.Time
	checkpoints int64
}

// NewIntegrator returns an Integrator passing every interval (250 ms when 0).
func NewIntegrator(db *postgres.DB, log *slog.Logger, interval time.Duration) *Integrator {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	return &Integrator{db: db, log: log, interval: interval, signEvery: 2 * time.Second, signed: map[uuid.UUID]time.Time{}}
}

// SetSigner makes the integrator sign checkpoints with signer after its
// passes: of every head that has grown past its latest checkpoint, at most
// once every every (2 s when 0) per org, so a burst makes one checkpoint
// and the last event of a burst is covered within a few seconds.
func (in *Integrator) SetSigner(signer note.Signer, every time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.signer = signer
	if every > 0 {
		in.signEvery = every
	}
}

// sign checkpoints the heads that have grown.
func (in *Integrator) sign(ctx context.Context) (int, error) {
	in.mu.Lock()
	signer, every := in.signer, in.signEvery
	in.mu.Unlock()
	if signer == nil {
		return 0, nil
	}
	heads, err := unsignedHeads(ctx, in.db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range heads {
		in.mu.Lock()
		last := in.signed[h.org]
		in.mu.Unlock()
		if time.Since(last) < every {
			continue
		}
		cp, err := SignCheckpoint(signer, h.origin, h.size, h.root)
		if err != nil {
			return n, err
		}
		// The head may have moved since it was listed (another node's
		// pass): the database refuses the stale note; the next pass signs.
		if err := recordCheckpoint(ctx, in.db, h.org, cp.Note); err != nil {
			if postgres.IsCode(err, postgres.CodeInvalidParameter) {
				continue
			}
			return n, err
		}
		in.mu.Lock()
		in.signed[h.org] = time.Now()
		in.checkpoints++
		in.mu.Unlock()
		n++
	}
	return n, nil
}

// Run integrates until ctx ends. Errors are logged (ids only) and retried at
// the next pass.
func (in *Integrator) Run(ctx context.Context) {
	t := time.NewTicker(in.interval)
	defer t.Stop()
	for {
		if _, err := in.Once(ctx); err != nil && ctx.Err() == nil {
			in.log.ErrorContext(ctx, "audit integration failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once integrates every org with committed pending events, each in its own
// transaction, until none is left, and returns how many it sequenced.
func (in *Integrator) Once(ctx context.Context) (int64, error) {
	orgs, err := pendingOrgs(ctx, in.db)
	if err != nil {
		return 0, err
	}
	var lag time.Duration
	var pending, done int64
	now := time.Now()
	for _, o := range orgs {
		pending += o.pending
		if d := now.Sub(o.oldest); d > lag {
			lag = d
		}
		for {
			var n int
			err := in.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				var err error
				_, n, err = Integrate(ctx, tx, o.org)
				return err
			})
			if err != nil {
				// What earlier transactions of this pass committed counts.
				in.mu.Lock()
				in.integrated += done
				in.mu.Unlock()
				return done, err
			}
			done += int64(n)
			if n < MaxBatch {
				break
			}
		}
	}
	in.mu.Lock()
	in.lag, in.pending, in.lastPass = lag, pending, time.Now()
	in.integrated += done
	in.mu.Unlock()
	if _, err := in.sign(ctx); err != nil {
		return done, err
	}
	return done, nil
}

// Stats is what the integrator saw at its last pass.
type Stats struct {
	// Lag is the age of the oldest event that was pending at the last
	// pass; Pending how many were; Integrated the total sequenced by this
	// node since it started.
	Lag        time.Duration
	Pending    int64
	Integrated int64
	LastPass   time.Time
	// Checkpoints is how many checkpoints this node has signed.
	Checkpoints int64
}

// Stats returns the last pass's figures.
func (in *Integrator) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return Stats{Lag: in.lag, Pending: in.pending, Integrated: in.integrated, LastPass: in.lastPass,
		Checkpoints: in.checkpoints}
}

// WriteMetrics writes the integrator's figures in the Prometheus text
// exposition format: counts and durations only, never ids or content.
func (in *Integrator) WriteMetrics(w io.Writer) {
	st := in.Stats()
	fmt.Fprintf(w, "# HELP ward_audit_integration_lag_seconds Age of the oldest audit event awaiting a position at the last integrator pass.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_integration_lag_seconds gauge\nward_audit_integration_lag_seconds %g\n", st.Lag.Seconds())
	fmt.Fprintf(w, "# HELP ward_audit_pending_events Audit events awaiting a position at the last integrator pass.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_pending_events gauge\nward_audit_pending_events %d\n", st.Pending)
	fmt.Fprintf(w, "# HELP ward_audit_integrated_events_total Audit events this node has given a position.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_integrated_events_total counter\nward_audit_integrated_events_total %d\n", st.Integrated)
	fmt.Fprintf(w, "# HELP ward_audit_checkpoints_signed_total Checkpoints this node has signed.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_checkpoints_signed_total counter\nward_audit_checkpoints_signed_total %d\n", st.Checkpoints)
}
