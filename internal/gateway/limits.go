package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
)

// The org's rate limits hold across every node: its buckets live in the
// database (app.gateway_buckets, migration 00170), token buckets refilled
// continuously at the policy's per-minute rates, each holding at most one
// minute's worth, on the database's clock. A call takes one request and
// reserves the tokens it may use (reservation) before it goes upstream,
// in one statement (app.gateway_admit) that runs beside the call's
// de-identification; when the call ends the reservation is settled
// against the tokens the upstream reported (app.gateway_settle), in the
// transaction of the call's ai.invoke event when there is one. The
// upstream's own rate limiter estimates output from max_tokens in the
// same way.
//
// A node remembers, for a few seconds at most, that the database found an
// org's request bucket empty (limiter.empty): until it could hold a
// request again, that node refuses the org's calls without a round trip
// or any work on their bodies, so a client that floods the gateway costs
// little. Token refusals are not remembered: a call that finishes gives
// tokens back at once.
type limiter struct {
	db *postgres.DB
	mu sync.Mutex
	// empty: the org's request bucket, under the policy's requests per
	// minute, until when it holds less than one request.
	empty map[emptyKey]time.Time
}

type emptyKey struct {
	org uuid.UUID
	rpm int
}

// admission is the database's answer to a call's admit.
type admission struct {
	ok bool
	// retry is how long until the call could pass; requests how long until
	// the request bucket alone holds one again.
	retry, requests time.Duration
	err             error
}

// refused says whether org's request bucket was found empty under rpm
// and is not full again yet, and for how much longer.
func (l *limiter) refused(org uuid.UUID, rpm int, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := emptyKey{org, rpm}
	until, ok := l.empty[k]
	if !ok {
		return 0, false
	}
	if !now.Before(until) {
		delete(l.empty, k)
		return 0, false
	}
	return until.Sub(now), true
}

func (l *limiter) remember(org uuid.UUID, rpm int, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.empty == nil || len(l.empty) > 10000 {
		l.empty = map[emptyKey]time.Time{}
	}
	l.empty[emptyKey{org, rpm}] = until
}

// admitAside starts the admit of a call of tokens under cred, beside the
// caller, and returns a function that waits for its answer (the same each
// time). The admit is bound to the credential, which the database resolves
// afresh: it runs outside the request's deferred check (a kept principal's
// confirmation, which runs beside it too), charges only the org that the
// credential resolves to now, and is given back if that check then finds
// the principal stale.
func (l *limiter) admitAside(ctx context.Context, cred postgres.Credential, org uuid.UUID, rpm int,
	tokens int64, now func() time.Time) func() admission {
	done := make(chan struct{})
	var a admission
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				a = admission{err: errors.New("gateway: the rate limit's admit panicked")}
			}
		}()
		a = l.admit(postgres.WithoutRequestTx(ctx), cred, tokens)
		if a.err == nil && !a.ok && a.requests > 0 {
			l.remember(org, rpm, now().Add(a.requests))
		}
	}()
	return func() admission {
		<-done
		return a
	}
}

// admit takes one request and tokens from the bound credential's org, or
// nothing (ok false, with the waits), in a transaction of its own. The
// bucket is unlogged: a transaction that wrote nothing else commits
// without waiting for a WAL flush.
func (l *limiter) admit(ctx context.Context, cred postgres.Credential, tokens int64) admission {
	var a admission
	var retry, requests int64
	b := &pgx.Batch{}
	b.Queue(`select admitted, retry_ms, requests_ms from app.gateway_admit($1)`, tokens).QueryRow(func(row pgx.Row) error {
		return row.Scan(&a.ok, &retry, &requests)
	})
	if err := l.db.InTenantBatch(ctx, cred, b); err != nil {
		return admission{err: fmt.Errorf("gateway: rate limit: %w", err)}
	}
	a.retry, a.requests = time.Duration(retry)*time.Millisecond, time.Duration(requests)*time.Millisecond
	return a
}

// queueSettle queues on b the settle of a call: requests (0 or 1) and
// tokens given back to the bound credential's org (tokens below zero
// charge what the call used beyond its reservation).
func queueSettle(b *pgx.Batch, requests int, tokens int64) {
	b.Queue(`select app.gateway_settle($1, $2)`, requests, tokens)
}

// settle settles a call in a transaction of its own, past the client's
// hang-up, within settleTimeout.
func (l *limiter) settle(ctx context.Context, cred postgres.Credential, requests int, tokens int64) error {
	ctx, cancel := context.WithTimeout(postgres.WithoutRequestTx(context.WithoutCancel(ctx)), settleTimeout)
	defer cancel()
	b := &pgx.Batch{}
	queueSettle(b, requests, tokens)
	if err := l.db.InTenantBatch(ctx, cred, b); err != nil {
		return fmt.Errorf("gateway: rate limit: settle: %w", err)
	}
	return nil
}

const settleTimeout = 5 * time.Second
