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
// de-identification and names the reservation it made; when the call
// ends the reservation is settled against the tokens the upstream
// reported (app.gateway_settle, once), in the transaction of the call's
// ai.invoke event when there is one. The upstream's own rate limiter
// estimates output from max_tokens in the same way.
//
// A node remembers, for at most memoryLimit, that the database found an
// org's bucket unable to admit any call (no request left, or tokens at or
// below zero): until then it refuses the org's calls without a round trip
// or any work on their bodies, so a client that floods the gateway costs
// little. What other nodes' calls give back meanwhile waits for the
// memory to end.
type limiter struct {
	db *postgres.DB
	mu sync.Mutex
	// empty: the org's buckets, under the policy's limits, that admit
	// nothing for now.
	empty map[emptyKey]emptyBucket
}

// emptyBucket is what a node remembers of buckets the database found
// unable to admit any call: until when it refuses without asking (at most
// memoryLimit), and when the database said they could admit one again,
// which a refusal answers as its Retry-After (the SDKs wait that long
// before they retry: an earlier time would spend their retries on calls
// refused again).
type emptyBucket struct {
	until, ready time.Time
}

type emptyKey struct {
	org      uuid.UUID
	rpm, tpm int
}

// memoryLimit bounds how long a node refuses an org's calls on what the
// database said last.
const memoryLimit = 5 * time.Second

// admission is the database's answer to a call's admit.
type admission struct {
	ok bool
	// reservation names what an admitted call took (app.gateway_settle).
	reservation int64
	// retry is how long until the call could pass; empty how long until
	// the buckets could admit any call at all (0: they could now).
	retry, empty time.Duration
	err          error
}

// refused says whether org's buckets were found unable to admit any call
// under pol's limits, and if so how long until the database said they
// could admit one again.
func (l *limiter) refused(org uuid.UUID, pol Policy, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := emptyKey{org, pol.RequestsPerMinute, pol.TokensPerMinute}
	e, ok := l.empty[k]
	if !ok {
		return 0, false
	}
	if !now.Before(e.until) {
		delete(l.empty, k)
		return 0, false
	}
	return e.ready.Sub(now), true
}

// remember records, at now, that org's buckets under pol's limits admit
// no call for empty: refused without a round trip for at most memoryLimit
// of it.
func (l *limiter) remember(org uuid.UUID, pol Policy, now time.Time, empty time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.empty == nil || len(l.empty) > 10000 {
		l.empty = map[emptyKey]emptyBucket{}
	}
	l.empty[emptyKey{org, pol.RequestsPerMinute, pol.TokensPerMinute}] = emptyBucket{
		until: now.Add(min(empty, memoryLimit)), ready: now.Add(empty)}
}

// admitAside starts the admit of a call of tokens under cred, beside the
// caller, and returns a function that waits for its answer (the same each
// time). The admit is bound to the credential, which the database resolves
// afresh: it runs outside the request's deferred check (a kept principal's
// confirmation, which runs beside it too), charges only the org that the
// credential resolves to now, and is given back if that check then finds
// the principal stale. It does not end with the client's connection (an
// admit that committed must be settled), within admitTimeout.
func (l *limiter) admitAside(ctx context.Context, cred postgres.Credential, org uuid.UUID, pol Policy,
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
		actx, cancel := context.WithTimeout(postgres.WithoutRequestTx(context.WithoutCancel(ctx)), admitTimeout)
		defer cancel()
		a = l.admit(actx, cred, tokens)
		if a.err == nil && a.empty > 0 {
			l.remember(org, pol, now(), a.empty)
		}
	}()
	return func() admission {
		<-done
		return a
	}
}

// admit takes one request and tokens from the bound credential's org, or
// nothing (ok false, with the waits), in a transaction of its own. The
// tables are unlogged: a transaction that wrote nothing else commits
// without waiting for a WAL flush.
func (l *limiter) admit(ctx context.Context, cred postgres.Credential, tokens int64) admission {
	var a admission
	var retry, requests, empty int64
	var reservation *int64
	b := &pgx.Batch{}
	b.Queue(`select admitted, retry_ms, requests_ms, empty_ms, reservation from app.gateway_admit($1)`, tokens).
		QueryRow(func(row pgx.Row) error {
			return row.Scan(&a.ok, &retry, &requests, &empty, &reservation)
		})
	if err := l.db.InTenantBatch(ctx, cred, b); err != nil {
		return admission{err: fmt.Errorf("gateway: rate limit: %w", err)}
	}
	if a.ok && reservation == nil {
		return admission{err: errors.New("gateway: rate limit: an admit without a reservation")}
	}
	if reservation != nil {
		a.reservation = *reservation
	}
	a.retry = time.Duration(retry) * time.Millisecond
	a.empty = time.Duration(empty) * time.Millisecond
	if !a.ok && requests > 0 {
		a.empty = max(a.empty, time.Duration(requests)*time.Millisecond)
	}
	return a
}

// queueSettle queues on b the settle of reservation: the call used used
// tokens, and gives its request back too when giveRequest.
func queueSettle(b *pgx.Batch, reservation, used int64, giveRequest bool) *pgx.QueuedQuery {
	return b.Queue(`select app.gateway_settle($1, $2, $3)`, reservation, used, giveRequest)
}

// settle settles a reservation in a transaction of its own, past the
// client's hang-up, within admitTimeout.
func (l *limiter) settle(ctx context.Context, cred postgres.Credential, reservation, used int64, giveRequest bool) error {
	ctx, cancel := context.WithTimeout(postgres.WithoutRequestTx(context.WithoutCancel(ctx)), admitTimeout)
	defer cancel()
	b := &pgx.Batch{}
	var settled bool
	queueSettle(b, reservation, used, giveRequest).QueryRow(func(row pgx.Row) error { return row.Scan(&settled) })
	if err := l.db.InTenantBatch(ctx, cred, b); err != nil {
		return fmt.Errorf("gateway: rate limit: settle: %w", err)
	}
	if !settled {
		return errNotSettled
	}
	return nil
}

// errNotSettled: the database settled nothing (the credential no longer
// resolves to one that may call a model, or the reservation is not its,
// or is settled already).
var errNotSettled = errors.New("gateway: rate limit: the reservation was not settled")

// admitTimeout bounds an admit's or a settle's transaction.
const admitTimeout = 5 * time.Second
