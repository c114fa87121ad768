package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/blob"
)

// Jobs are the case repository's background work, run through a ward_ops
// connection (never ward_app): reminders about due documents, audit
// events for case grants whose access ended, and the sweeper that removes
// objects no committed version owns. Every node may run them: reminders
// and expiry events are claimed in the database (each once), and the
// sweeper only deletes what no live row names and no upload in flight
// claims.
type Jobs struct {
	ops    *postgres.DB
	keys   *keystore.Store
	store  blob.Store
	mailer Mailer
	base   string
	log    *slog.Logger
	// Grace is how old an object without a row must be before the
	// sweeper removes it (an upload in flight has no row yet; its claim,
	// fresh while its body streams, keeps the sweeper off its object
	// whatever the object's age).
	Grace time.Duration
	// Confirm is how long an object must have been seen ownerless, by an
	// earlier sweep of this node, before a later one removes it. An
	// object's age alone does not say its upload is over: an S3 object
	// made by a multipart upload carries the upload's start time, so a
	// long upload completes already "old", and a sweep between its
	// completion and its row's commit would remove a live document
	// (10 minutes by default: a commit held up by the pool or a lock
	// still finds its object).
	Confirm time.Duration

	mu      sync.Mutex
	suspect map[string]time.Time // ownerless keys: when first seen so
}

// NewJobs returns the jobs over ops, a ward_ops connection.
func NewJobs(ops *postgres.DB, keys *keystore.Store, store blob.Store, mailer Mailer, baseURL string, log *slog.Logger) *Jobs {
	return &Jobs{ops: ops, keys: keys, store: store, mailer: mailer, base: baseURL, log: log, Grace: time.Hour,
		Confirm: 10 * time.Minute, suspect: map[string]time.Time{}}
}

// Remind mails the reminders that are due (a day before a requested
// document's due date, and once it is overdue) and returns how many it
// sent. Each reminder is claimed and audited in the database before the
// mail goes out, so two nodes never send the same one; a mail that fails
// is logged (ids only) and not retried.
func (j *Jobs) Remind(ctx context.Context) (int, error) {
	var due []dbsqlc.DueRemindersRow
	err := j.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		due, err = dbsqlc.New(tx).DueReminders(ctx, 100)
		return err
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	ikeys, err := j.keys.Instance(ctx, j.ops)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range due {
		addr, err := ikeys.Open(r.EmailEnc, keystore.UserEmailAD(r.UserID))
		to := string(addr)
		if err != nil {
			j.log.ErrorContext(ctx, "reminder address unreadable", "org", r.OrgID, "document", r.DocumentID, "err", err)
			continue
		}
		what := "is due on " + r.DueAt.UTC().Format("Mon 2 Jan 2006 15:04 MST")
		if r.Kind == "overdue" {
			what = "was due on " + r.DueAt.UTC().Format("Mon 2 Jan 2006 15:04 MST") + " and is overdue"
		}
		msg := mail.Message{To: to, Subject: "A document requested from you " + strings.SplitN(what, " on", 2)[0],
			Text: "A document requested from you on a case in Ward " + what + ".\n\n" +
				"Sign in to see the request and upload it: " + j.base + "/\n"}
		if err := j.mailer.Send(ctx, msg); err != nil {
			j.log.ErrorContext(ctx, "reminder not delivered", "org", r.OrgID, "document", r.DocumentID, "err", err)
			continue
		}
		sent++
	}
	return sent, nil
}

// RecordExpiries writes one audit event per case grant whose access end
// date has passed (once each) and returns how many.
func (j *Jobs) RecordExpiries(ctx context.Context) (int, error) {
	var n int32
	err := j.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		n, err = dbsqlc.New(tx).RecordAccessExpiries(ctx, 500)
		return err
	})
	return int(n), err
}

// Sweep removes objects under orgs/ that no committed, live version owns,
// that no upload in flight claims and that are older than Grace: the
// leftovers of an upload whose commit never happened (a crash, a kill -9,
// between the object's completion and the row's commit) and of deleted
// documents, and the partial uploads a crash left in the store. An object
// is removed only once two sweeps of this node, at least Confirm apart,
// found it ownerless, and only after the database reclaimed its key
// (app.reclaim_storage_keys: a stale claim is deleted first, so an upload
// that still commits is refused instead of naming a removed object). It
// returns how many it removed.
func (j *Jobs) Sweep(ctx context.Context) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now()
	cutoff := now.Add(-j.Grace)
	var batch []string
	removed, failed := 0, 0
	ownerless := map[string]bool{}
	// reclaim returns the keys among due that may be deleted now (with due
	// empty, it only drops the claims stale for a day).
	reclaim := func(due []string) ([]string, error) {
		var out []string
		err := j.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			out, err = dbsqlc.New(tx).ReclaimStorageKeys(ctx, due)
			return err
		})
		return out, err
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var live []string
		err := j.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			live, err = dbsqlc.New(tx).LiveStorageKeys(ctx, batch)
			return err
		})
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, k := range live {
			keep[k] = true
		}
		var due []string
		for _, k := range batch {
			if keep[k] {
				continue
			}
			ownerless[k] = true
			if first, ok := j.suspect[k]; !ok || now.Sub(first) < j.Confirm {
				if !ok {
					j.suspect[k] = now
				}
				continue
			}
			due = append(due, k)
		}
		batch = batch[:0]
		if len(due) == 0 {
			return nil
		}
		if due, err = reclaim(due); err != nil {
			return err
		}
		for _, k := range due {
			if err := j.store.Delete(ctx, k); err != nil {
				// One key the store will not delete (a lock, a policy)
				// must not stop the sweep of every key listed after it.
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed++
				j.log.WarnContext(ctx, "sweep: an ownerless object could not be deleted", "key", k, "err", err)
				continue
			}
			removed++
		}
		return nil
	}
	err := j.store.List(ctx, "orgs/", func(key string, modified time.Time) error {
		if !modified.Before(cutoff) || !strings.Contains(key, "/obj/") {
			return nil
		}
		batch = append(batch, key)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		// the claims of uploads that crashed before storing anything
		_, err = reclaim(nil)
	}
	if err == nil {
		// Forget what is gone or has an owner now.
		for k := range j.suspect {
			if !ownerless[k] {
				delete(j.suspect, k)
			}
		}
	}
	// What a crash left mid-upload (a directory store's temporary files)
	// is no object at all, claimed by no upload and unknown to the
	// database; stores that can leave such things remove them, whether or
	// not the database could be asked about the objects.
	if t, ok := j.store.(interface {
		RemoveTemp(ctx context.Context, before time.Time) (int, error)
	}); ok {
		n, terr := t.RemoveTemp(ctx, cutoff)
		removed += n
		err = errors.Join(err, terr)
	}
	if err == nil && failed > 0 {
		err = fmt.Errorf("cases: sweep: %d ownerless objects could not be deleted (the rest were swept)", failed)
	}
	return removed, err
}

// Run runs the jobs every interval until ctx ends.
func (j *Jobs) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Remind(ctx); err != nil && ctx.Err() == nil {
			j.log.Warn("document reminders failed", "err", err)
		}
		if _, err := j.RecordExpiries(ctx); err != nil && ctx.Err() == nil {
			j.log.Warn("case access expiry events failed", "err", err)
		}
		if _, err := j.Sweep(ctx); err != nil && ctx.Err() == nil {
			j.log.Warn("document sweeper failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
