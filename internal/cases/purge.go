package cases

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/blob"
)

// Purger applies the orgs' document retention policies (RetentionPolicy):
// through a ward_ops connection it calls app.purge_expired_documents, which
// decides, from the stored policies and the database's clock, which
// documents are past retention, skips every one under a legal hold on its
// org, its case's patient or its case, deletes them as a user's deletion
// does (the versions' data keys destroyed in the same transaction) and
// audits each as document.purge. The Purger then removes their objects
// from the store; the sweeper takes any it could not.
//
// Any number may run, on as many nodes: only the one holding the purge
// lease (a session advisory lock on a connection of its own) works, and
// when its node dies the lock dies with the connection and another takes
// over at its next step, as the audit archiver does. The lease's
// connection is taken out of the ops pool once the lock is won, so it
// never holds one of the pool's connections: the jobs sharing the pool
// (one connection or more) and the purge's own transactions still get
// theirs.
type Purger struct {
	ops   *postgres.DB
	store blob.Store
	log   *slog.Logger
	// Batch is how many documents one transaction purges (clamped to
	// 1..1000, as app.purge_expired_documents clamps it); Batches how many
	// transactions one step runs at most.
	Batch, Batches int

	lease *pgx.Conn // the lease's session, out of the pool, while this purger is the active one (Run's goroutine only)

	mu     sync.Mutex
	active bool
}

// purgeLease is the advisory lock key of the active purger.
const purgeLease = `hashtextextended('ward.retention.purge', 0)`

// NewPurger returns a Purger over ops, a ward_ops connection, removing
// purged documents' objects from store.
func NewPurger(ops *postgres.DB, store blob.Store, log *slog.Logger) *Purger {
	return &Purger{ops: ops, store: store, log: log, Batch: 100, Batches: 50}
}

// Active reports whether this purger holds the lease.
func (p *Purger) Active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

func (p *Purger) setActive(v bool) {
	p.mu.Lock()
	p.active = v
	p.mu.Unlock()
}

// Run purges every interval, while this purger holds the lease, until ctx
// ends; failures are logged and retried. It gives the lease up when it
// returns.
func (p *Purger) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer p.Release()
	for {
		if _, _, err := p.Step(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "document retention purge failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step takes the lease if it is free (or checks that this purger still
// holds it) and, when it holds it, purges what is past retention. It
// reports whether this purger is the active one and how many documents it
// purged. Step and Release are for one goroutine.
func (p *Purger) Step(ctx context.Context) (active bool, purged int, err error) {
	if p.lease != nil {
		if _, err := p.lease.Exec(ctx, `select 1`); err != nil {
			p.drop(ctx)
		}
	}
	if p.lease == nil {
		c, err := p.ops.Pool.Acquire(ctx)
		if err != nil {
			return false, 0, fmt.Errorf("cases: purge lease: %w", err)
		}
		var got bool
		if err := c.QueryRow(ctx, `select pg_try_advisory_lock(`+purgeLease+`)`).Scan(&got); err != nil || !got {
			c.Release()
			p.setActive(false)
			if err != nil {
				return false, 0, fmt.Errorf("cases: purge lease: %w", err)
			}
			return false, 0, nil
		}
		// The session now holds the lease for as long as this purger is
		// the active one: out of the pool with it, which opens another
		// connection when it needs one (a pool of one would otherwise
		// have none left, for the purge's transactions or anyone else).
		p.lease = c.Hijack()
		p.setActive(true)
		p.log.InfoContext(ctx, "document retention: this node is the active purger")
	}
	purged, err = p.Once(ctx)
	return true, purged, err
}

// Release gives the lease up, so another purger takes over at its next
// step: it unlocks (so the lease is free when Release returns, not when
// the server notices the session's end) and closes the lease's
// connection.
func (p *Purger) Release() {
	if p.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = p.lease.Exec(ctx, `select pg_advisory_unlock(`+purgeLease+`)`) // closing ends it anyway
	p.drop(ctx)
}

// drop closes the lease's connection (its session ends, and the lock with
// it).
func (p *Purger) drop(ctx context.Context) {
	conn := p.lease
	p.lease = nil
	p.setActive(false)
	_ = conn.Close(ctx)
}

// Once purges what is past retention, batch by batch, whether or not this
// purger holds the lease, and returns how many documents it purged. Each
// batch commits before its objects are removed, so an object is never
// removed for a deletion that did not happen; one the store keeps is
// logged (ids only) and left to the sweeper.
func (p *Purger) Once(ctx context.Context) (int, error) {
	// The batch as the database clamps it (1..1000): a batch is over when
	// it comes back shorter than that, not than Batch.
	batch := min(max(p.Batch, 1), 1000)
	total := 0
	for range max(p.Batches, 1) {
		var rows []dbsqlc.PurgeExpiredDocumentsRow
		err := p.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			rows, err = dbsqlc.New(tx).PurgeExpiredDocuments(ctx, int32(batch))
			return err
		})
		if err != nil {
			return total, fmt.Errorf("cases: purge: %w", err)
		}
		for _, r := range rows {
			for _, k := range r.StorageKeys {
				if derr := p.store.Delete(context.WithoutCancel(ctx), k); derr != nil {
					p.log.WarnContext(ctx, "purged document's object not removed; the sweeper will",
						"org", r.OrgID, "document", r.DocumentID, "err", derr)
				}
			}
		}
		total += len(rows)
		if len(rows) < batch {
			break
		}
	}
	if total > 0 {
		p.log.InfoContext(ctx, "document retention: purged documents past their type's retention", "count", total)
	}
	return total, nil
}
