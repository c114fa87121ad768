package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/errkind"
)

// A RequestTx is a request's first transaction, opened by its session
// check and continued by its first tenant transaction: the check's
// statements (app.whoami) and the business statements run in one
// transaction on one connection, so the database resolves the credential
// once (app.whoami seals the principal for the transaction, migration
// 00134) and the request pays for one transaction instead of two.
//
// The connection is held from the check until the first InTenantBatch or
// InTenantTx with a compatible credential takes the transaction over and
// commits it, or until End. Only requests that reach their first
// transaction without waiting on anything slow (no request body, no
// other pool connection first) may carry one: see WithRequestTx. Every
// transaction helper of DB ends a RequestTx it cannot take over before it
// acquires a connection, so a request never holds one connection while it
// waits for another.
type RequestTx struct {
	mu   sync.Mutex
	conn *pgxpool.Conn // nil once taken over or ended
	cred Credential
	org  string // the principal's org, as resolved by the check
	// durable: what the check wrote commits whatever the continuing
	// transaction does (a savepoint follows the check, and redo runs the
	// check again when the transaction is lost before it commits); nil
	// when the check is not durable.
	durable *redo
	// confirm: a deferred check (DeferCheck): no connection, and the
	// statement that confirms the principal, queued first in the request's
	// first tenant transaction; nil once used or for an opened check.
	confirm *Confirm
	// running: the deferred check Confirm runs (or ran) on its own; a
	// second Confirm waits for its answer instead of returning at once.
	running *confirmRun
	// refused: a transaction that took the deferred check over found the
	// principal stale (or the check refused); Confirm answers so from
	// then on, so that a handler that swallowed that error answers
	// nothing of its own (confirmFirst).
	refused bool
	db      *DB // a deferred check's, for Confirm
}

// A confirmRun is a deferred check's run by Confirm: its answer once done
// is closed.
type confirmRun struct {
	done chan struct{}
	err  error
}

// A Confirm is a session check deferred to the request's first tenant
// transaction (DeferCheck): Queue queues, after the transaction's binding,
// the statement that resolves the credential and refuses with
// CodeStalePrincipal unless it resolves to the principal the server holds
// (app.stale_principal(), migration 00139); Stale is called when it refused;
// Alone (nil: nothing) when the check runs on its own (RequestTx.Confirm),
// in a round trip of its own, because no transaction of the request took
// it over.
//
// Keep (nil: none) is for a check whose writes must stand whatever the
// request's transaction does (a DPoP proof's jti, recorded by the
// comparison's app.whoami): statements, run after the binding in a
// transaction of their own, that make them stand when the transaction
// that ran the check is lost or fails for another reason than the check's
// own refusal (a savepoint follows the check in an explicit transaction,
// as in OpenRequestTx). Refused (nil: none) reports whether an error of the
// check's statements is a refusal a full check must answer (a replayed
// proof): it is mapped as a stale principal, and Keep is not run for it.
// Held (nil: none) is called when the check ran and the principal held
// (its statement succeeded, whatever the transaction does after it).
//
// Wait (nil: none) is what the server checks beside the database before
// anything of the request may stand (a DPoP proof's signature, verified
// while the check's round trip runs): every path that runs the check calls
// it, once, before anything the check or the request wrote can commit. On
// an explicit transaction whose first round trip ends at the savepoint
// (InTenantTx) the round trip is sent first and Wait called while the
// server answers; everywhere else (a batch committed in its round trip,
// the check run on its own, QueueConfirm's caller's batch) Wait is called
// before anything is sent. When it returns an error nothing of the
// request stands: the check's transaction rolls back whole (the jti, the
// session's touch), no Keep runs, neither Held nor Stale is called, no
// statement of the request runs, and the check refuses with
// ErrStalePrincipal wrapping that error, so that the request is served
// again after a full check (which checks again, before anything).
type Confirm struct {
	Queue   func(b *pgx.Batch)
	Stale   func()
	Held    func()
	Alone   func()
	Keep    *pgx.Batch
	Refused func(error) bool
	Wait    func() error
}

// CodeStalePrincipal is app.stale_principal()'s refusal: the credential no
// longer resolves to the principal the server held for it.
const CodeStalePrincipal = "WA001"

// ErrStalePrincipal is a deferred check's refusal (DeferCheck): the
// transaction ran none of the request's statements, and the request is to
// be served again after a full session check.
// Answered on its own (no guard to serve the request again), it is a 401.
var ErrStalePrincipal = errkind.New(errkind.Unauthenticated, "unauthenticated",
	"postgres: the credential no longer resolves to the principal the server held for it").
	WithPublic("a live session is required")

// DeferCheck returns a request transaction that holds no connection: the
// session check of a principal the server resolved before for cred,
// deferred to the request's first tenant transaction (InTenantBatch or
// InTenantTx with a credential that continues cred, org being the
// principal's org), which runs c's statement right after its binding, in
// the same round trip, so that nothing of the request reaches the
// database before the credential is confirmed. That transaction fails with
// ErrStalePrincipal, and c.Stale is called, when the credential no longer
// resolves to that principal. A request whose first transaction is of
// another kind (InTx, or one bound to a credential that does not continue
// cred) has the check run on its own before that transaction begins, and
// the transaction does not begin on a stale principal; one that reaches no
// transaction keeps the check for its caller to run before it answers
// (Confirm). Every transaction bound to the credential resolves it again
// as well, so the database still refuses what the credential may no longer
// do.
func DeferCheck(db *DB, cred Credential, org string, c Confirm) *RequestTx {
	rt := &RequestTx{cred: cred, org: org, db: db}
	stale := c.Stale
	refuse := func() {
		rt.mu.Lock()
		rt.refused = true
		rt.mu.Unlock()
	}
	c.Stale = func() {
		refuse()
		if stale != nil {
			stale()
		}
	}
	if wait := c.Wait; wait != nil {
		// Once, whichever path asks; a refusal is the request's for good
		// (Confirm answers it from then on).
		c.Wait = sync.OnceValue(func() error {
			err := wait()
			if err != nil {
				refuse()
			}
			return err
		})
	}
	rt.confirm = &c
	return rt
}

// wait calls c.Wait, if set: nil when nothing of the server's own stands
// in the way of the check (Confirm.Wait).
func (c *Confirm) wait() error {
	if c.Wait == nil {
		return nil
	}
	return c.Wait()
}

// unwaited is the error of a check whose Wait refused: nothing of the
// request ran or stands.
func unwaited(err error) error {
	return fmt.Errorf("%w (the server's own check refused: %w)", ErrStalePrincipal, err)
}

// Confirm runs a deferred check (DeferCheck) that no transaction has used
// yet, on its own: the binding and c's statement, one round trip. It
// returns ErrStalePrincipal when the principal no longer holds, and nil
// when it holds or there is no check left to run. A request answered
// before its first transaction (a malformed path or query) runs it before
// the answer, so that no answer rests on a kept principal alone.
//
// Callers may run concurrently (a handler that confirms ahead while it
// works, ConfirmRequestTx, and the answer's writer): while one runs the
// check, the others wait for its answer and return it.
func (rt *RequestTx) Confirm(ctx context.Context) error {
	if rt == nil {
		return nil
	}
	rt.mu.Lock()
	c, run, refused := rt.confirm, rt.running, rt.refused
	if c != nil {
		rt.confirm = nil
		run = &confirmRun{done: make(chan struct{})}
		rt.running = run
	}
	rt.mu.Unlock()
	if c == nil {
		if run == nil {
			if refused { // a transaction that took it over found it stale
				return ErrStalePrincipal
			}
			return nil // none deferred, or a transaction ran it
		}
		select {
		case <-run.done:
			return run.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Committed in its round trip: what the server checks beside the
	// database (a proof's signature) is known first.
	if werr := c.wait(); werr != nil {
		run.err = unwaited(werr)
		close(run.done)
		return run.err
	}
	if c.Alone != nil {
		c.Alone()
	}
	b := &pgx.Batch{}
	QueueBind(ctx, b, rt.cred)
	c.Queue(b)
	err := rt.db.Pool.SendBatch(ctx, b).Close()
	if err != nil && !c.refusal(err) {
		// What the check wrote went with its implicit transaction.
		newRedo(ctx, rt.db.Pool, rt.cred, c.Keep).run(ctx)
	}
	run.err = c.ran(err)
	close(run.done)
	return run.err
}

// ConfirmRequestTx runs the deferred check ctx carries (RequestTx.Confirm),
// if any is left: nil when there is none or the principal holds.
func ConfirmRequestTx(ctx context.Context) error {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	return rt.Confirm(ctx)
}

// QueueConfirm takes over the deferred check ctx carries (DeferCheck), if
// there is one not used yet that cred may continue: it queues on b, right
// after the binding b must already hold, the statement that confirms the
// principal, so that a caller running its own transaction on its own
// connection (not through InTenantTx or InTenantBatch) confirms in the same
// round trip as its first statements. It returns the mapping of that
// batch's error, to be called once the batch was sent (or with NotSent):
// ErrStalePrincipal (and the check's Stale called) when the check refused,
// the error itself otherwise, and for a batch that succeeded the check is
// taken for held (Confirm.Held). Without such a check it queues nothing and
// the mapping returns errors unchanged.
//
// A check whose writes must stand (Confirm.Keep), or that waits for the
// server's own check (Confirm.Wait), is not taken over: the caller's
// transaction may roll back after its batch, and nothing here would know. Such a check runs on its own before QueueConfirm returns
// (Confirm: a round trip of its own); its refusal or error is returned
// (first), and the caller sends nothing; the mapping returns it too, in
// place of the batch's.
//
// A caller whose batch never reached the database (no connection) passes
// its error through NotSent: the check it queued is then still to be run
// (by a later transaction, or Confirm before the answer), not taken for
// confirmed. A credential that does not continue the check has it run on
// its own first, as before any transaction that cannot take it over
// (confirmBefore).
func QueueConfirm(ctx context.Context, cred Credential, b *pgx.Batch) (mapping func(error) error, first error) {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	c := rt.takeConfirmIf(cred, func(c *Confirm) bool { return c.Keep == nil && c.Wait == nil })
	if c == nil {
		if rt.mayContinue(cred) {
			first = rt.Confirm(ctx) // one with Keep or Wait, or one running or refused
		} else {
			first = confirmBefore(ctx)
		}
		return func(err error) error {
			if first != nil {
				return first
			}
			return unsent(err)
		}, first
	}
	c.Queue(b)
	return func(err error) error {
		if err != nil && pgconn.SafeToRetry(err) {
			rt.untake(c) // nothing of the batch was sent (NotSent, or pgx knows)
		}
		return c.ran(unsent(err))
	}, nil
}

// notSent marks an error of a batch that never reached the database, in
// pgx's own terms (pgconn.SafeToRetry).
type notSent struct{ err error }

func (e notSent) Error() string     { return e.err.Error() }
func (e notSent) Unwrap() error     { return e.err }
func (e notSent) SafeToRetry() bool { return true }

// NotSent marks err, a failure before a batch was sent (no connection),
// for QueueConfirm's mapping: the check queued on that batch did not run.
func NotSent(err error) error { return notSent{err} }

// unsent returns the error NotSent marked, unmarked; any other as it is.
func unsent(err error) error {
	var ns notSent
	if errors.As(err, &ns) {
		return ns.err
	}
	return err
}

// RequestTxDeferred reports whether ctx carries a deferred check not used
// yet (RequestTx.Deferred).
func RequestTxDeferred(ctx context.Context) bool {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	return rt.Deferred()
}

// Deferred reports whether rt is a deferred check not yet used (DeferCheck).
func (rt *RequestTx) Deferred() bool {
	if rt == nil {
		return false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.confirm != nil
}

// stale maps a deferred check's refusal to ErrStalePrincipal (calling
// c.Stale) and returns other errors as they are.
func (c *Confirm) stale(err error) error {
	if !c.refusal(err) {
		return err
	}
	if c.Stale != nil {
		c.Stale()
	}
	if !IsCode(err, CodeStalePrincipal) {
		// Refused: the server's error is not wrapped, so that no mapping of
		// its code (a unique violation's 409) answers before the full check.
		return fmt.Errorf("%w (the check refused: %v)", ErrStalePrincipal, err)
	}
	return fmt.Errorf("%w (%w)", ErrStalePrincipal, err)
}

// ran maps the error of a batch that was sent with the check in it: nil
// (the check held, c.Held called), or as stale does.
func (c *Confirm) ran(err error) error {
	if err == nil {
		c.held()
	}
	return c.stale(err)
}

// held calls c.Held, if set: the check ran and the principal held.
func (c *Confirm) held() {
	if c.Held != nil {
		c.Held()
	}
}

// refusal reports whether err is the check's own refusal: the principal
// no longer holds (CodeStalePrincipal), or Refused says so.
func (c *Confirm) refusal(err error) bool {
	return err != nil && (IsCode(err, CodeStalePrincipal) || c.Refused != nil && c.Refused(err))
}

// A redo is a durable check's keep statements (after its binding), run
// in a transaction of their own when
// the request's transaction ended without committing them: its
// connection closed mid-statement (the request's context was canceled, a
// client that left or a deadline, and pgx closes the connection, so the
// server rolls everything back, savepoint included), or its commit
// failed. They must be idempotent: a check that did commit after all
// keeps what it wrote.
type redo struct {
	pool *pgxpool.Pool
	b    *pgx.Batch
}

// newRedo returns the redo of keep's statements bound to cred; nil when
// keep is nil.
func newRedo(ctx context.Context, pool *pgxpool.Pool, cred Credential, keep *pgx.Batch) *redo {
	if keep == nil {
		return nil
	}
	d := &redo{pool: pool, b: &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+keep.Len())}}
	QueueBind(ctx, d.b, cred)
	d.b.QueuedQueries = append(d.b.QueuedQueries, keep.QueuedQueries...)
	return d
}

// redoWait bounds how long a redo may wait for a connection and run. It
// may wait for the lost transaction's backend too (the server finishes the
// statement it was running before it finds its client gone, and the jti
// that transaction inserted holds the redo's insert until then).
const redoWait = 30 * time.Second

func (d *redo) run(ctx context.Context) {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redoWait)
	defer cancel()
	_ = d.pool.SendBatch(ctx, d.b).Close()
}

// savepoint follows a durable check's statements; a continuing
// transaction that fails rolls back to it and commits the check.
const savepoint = "ward_request"

// OpenRequestTx acquires a connection, begins a transaction bound to cred
// and runs b's queued statements in it, all in one round trip. When a
// statement fails in the server, the transaction rolls back and its error
// comes back with no RequestTx. When the statements ran but a callback
// returned an error (a QueryRow that found no row), what they wrote is
// committed, as when the same batch runs as an implicit transaction, and
// the callback's error comes back with no RequestTx.
//
// With keep (nil: none), what b's statements wrote commits whatever the
// transaction that continues this one does: a savepoint follows them, and
// a continuing transaction that fails (or a panic) rolls back to it and
// commits the rest; when the transaction is lost before the check's writes
// committed (its connection closed mid-statement, a failed commit), keep's
// statements run in a transaction of their own bound to cred, and must
// make them stand. It is for a check whose writes must stand on their own
// (a DPoP proof's jti, recorded so that the proof is never accepted
// twice); it costs a subtransaction when the continuing statements write.
func (db *DB) OpenRequestTx(ctx context.Context, cred Credential, b *pgx.Batch, keep *pgx.Batch) (*RequestTx, error) {
	if ctx.Value(txKey{}) != nil {
		return nil, ErrNestedTx
	}
	EndRequestTx(ctx)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: acquire: %w", err)
	}
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 2+b.Len())}
	all.Queue("begin")
	QueueBind(ctx, all, cred)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	d := newRedo(ctx, db.Pool, cred, keep)
	if d != nil {
		all.Queue("savepoint " + savepoint)
	}
	if err := conn.SendBatch(ctx, all).Close(); err != nil {
		// The check's own failure (a replayed proof, no credential) ends
		// its transaction; a connection closed under it (the request's
		// context canceled) may have taken what it accepted with it.
		lost := d
		if !conn.Conn().IsClosed() {
			lost = nil
		}
		finish(ctx, conn, true, lost, false)
		return nil, err
	}
	return &RequestTx{conn: conn, cred: cred, durable: d}, nil
}

// Resolved records the org the check resolved the credential to: a later
// transaction whose credential names that org as its hint (CredentialOf)
// resolves the same principal, and may take this one over although the
// check was bound without a hint.
func (rt *RequestTx) Resolved(org string) {
	if rt == nil {
		return
	}
	rt.mu.Lock()
	rt.org = org
	rt.mu.Unlock()
}

// End commits the transaction, if no transaction helper took it over, and
// releases its connection. It is safe to call more than once and on nil.
func (rt *RequestTx) End(ctx context.Context) {
	// A deferred check holds no connection: it stays for Confirm.
	if conn, durable := rt.take(nil); conn != nil {
		finish(ctx, conn, true, durable, false)
	}
}

// takeConfirm returns a deferred check, and forgets it, when cred may
// continue it; else nil, and the check stays for Confirm. It is safe on nil.
func (rt *RequestTx) takeConfirm(cred Credential) *Confirm { return rt.takeConfirmIf(cred, nil) }

// takeConfirmIf is takeConfirm for a check ok (nil: any) accepts.
func (rt *RequestTx) takeConfirmIf(cred Credential, ok func(*Confirm) bool) *Confirm {
	if rt == nil {
		return nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c := rt.confirm
	if c == nil || !rt.continues(cred) || ok != nil && !ok(c) {
		return nil
	}
	rt.confirm = nil
	return c
}

// untake puts back a deferred check a transaction took over but never
// sent (it got no connection): the check is still to be run, by a later
// transaction or by Confirm, not taken for confirmed. It is safe on nil.
func (rt *RequestTx) untake(c *Confirm) {
	if rt == nil || c == nil {
		return
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.confirm == nil && rt.running == nil && !rt.refused {
		rt.confirm = c
	}
}

// untakeConfirm is untake for the request transaction ctx carries.
func untakeConfirm(ctx context.Context, c *Confirm) {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	rt.untake(c)
}

// take returns the connection, and whether the check is durable, and
// forgets it, when cred (nil: any) may continue the transaction; else nil.
func (rt *RequestTx) take(cred *Credential) (*pgxpool.Conn, *redo) {
	if rt == nil {
		return nil, nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.conn == nil || cred != nil && !rt.continues(*cred) {
		return nil, nil
	}
	conn := rt.conn
	rt.conn = nil
	return conn, rt.durable
}

// mayContinue is continues under rt's lock; false on nil.
func (rt *RequestTx) mayContinue(cred Credential) bool {
	if rt == nil {
		return false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.continues(cred)
}

// continues reports whether a transaction bound to cred resolves the same
// principal as the check did: the same credential, device binding and
// request, and the same org hint or, where the check had none, the
// resolved org.
func (rt *RequestTx) continues(cred Credential) bool {
	return cred.Hash == rt.cred.Hash && cred.DPoP == rt.cred.DPoP && cred.Request == rt.cred.Request &&
		(cred.Org == rt.cred.Org || rt.cred.Org == "" && rt.org != "" && cred.Org == rt.org)
}

// finish ends what is left of the connection's transaction and releases
// the connection: a transaction still open is committed when commit and
// nothing in it failed; else it is rolled back, to the savepoint of a
// durable check when there is one (and what the check wrote is then
// committed). A connection whose transaction could not be ended is closed
// by the pool on release, never reused. committed says the caller saw the
// transaction commit; when a durable check's writes are not known to have
// committed (the connection closed, a failed commit), its redo runs once
// the connection is released.
func finish(ctx context.Context, conn *pgxpool.Conn, commit bool, durable *redo, committed bool) {
	ctx = context.WithoutCancel(ctx)
	kept := committed
	st := conn.Conn().PgConn().TxStatus()
	if conn.Conn().IsClosed() {
		st = 0 // the server rolls back whatever was open
	}
	if st == 'T' && commit {
		if _, err := conn.Exec(ctx, "commit"); err == nil {
			st, kept = 'I', true
		} else {
			st = conn.Conn().PgConn().TxStatus()
		}
	}
	if st == 'T' || st == 'E' {
		if durable != nil {
			if _, err := conn.Exec(ctx, "rollback to savepoint "+savepoint); err == nil {
				_, err = conn.Exec(ctx, "commit")
				kept = err == nil
			}
		}
		if conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = conn.Exec(ctx, "rollback")
		}
	}
	conn.Release()
	if !kept {
		durable.run(ctx)
	}
}

type requestTxKey struct{}

// WithRequestTx returns ctx carrying rt, for the request's first tenant
// transaction to take over. The handler that runs under it must reach that
// transaction without reading a request body or using another connection
// first; whoever calls WithRequestTx calls rt.End when the request is done.
func WithRequestTx(ctx context.Context, rt *RequestTx) context.Context {
	if rt == nil {
		return ctx
	}
	return context.WithValue(ctx, requestTxKey{}, rt)
}

// WithoutRequestTx returns ctx without the request transaction it may
// carry: a transaction run under it neither takes over the request's
// connection nor its deferred check, nor runs or waits for that check
// first. Such a transaction is bound to its credential as any other, and
// the database resolves the credential afresh, so it does only what the
// credential may do now; use it for work beside the request whose effect
// the request undoes if its check then fails (the gateway's rate limit),
// and only on routes whose request transaction holds no connection (a
// deferred check, not an inTx route's open transaction): a request must
// never hold one connection while it waits for another.
func WithoutRequestTx(ctx context.Context) context.Context {
	if rt, _ := ctx.Value(requestTxKey{}).(*RequestTx); rt == nil {
		return ctx
	}
	return context.WithValue(ctx, requestTxKey{}, (*RequestTx)(nil))
}

// EndRequestTx ends the request transaction ctx carries, if any and not
// taken over yet (committing the check's writes). The transaction helpers
// call it before they acquire a connection of their own.
func EndRequestTx(ctx context.Context) {
	if rt, _ := ctx.Value(requestTxKey{}).(*RequestTx); rt != nil {
		rt.End(ctx)
	}
}

// continued returns the request transaction's connection when ctx carries
// one that cred may continue, and ends (commits) one it may not; or, for a
// deferred check (DeferCheck) that cred may continue, its Confirm. A
// deferred check cred may not continue runs first, on its own
// (RequestTx.Confirm), and its refusal is the error: the transaction must
// not run.
func continued(ctx context.Context, cred Credential) (*pgxpool.Conn, *redo, *Confirm, error) {
	rt, _ := ctx.Value(requestTxKey{}).(*RequestTx)
	if rt == nil {
		return nil, nil, nil, nil
	}
	if c := rt.takeConfirm(cred); c != nil {
		return nil, nil, c, nil
	}
	if conn, durable := rt.take(&cred); conn != nil {
		return conn, durable, nil, nil
	}
	if err := confirmBefore(ctx); err != nil {
		return nil, nil, nil, err
	}
	rt.End(ctx)
	return nil, nil, nil, nil
}

// confirmBefore runs the deferred check ctx carries, if one is left, before
// a transaction that cannot take it over, and returns ErrStalePrincipal
// when the principal no longer holds (now, or as a transaction that took
// the check over found). Any other failure of the check (the request's
// context ended, the database) is not the transaction's to answer: it runs
// as it would have (bound to its credential, which the database resolves
// again), so that a refusal's audit written past a client's hang-up is not
// lost; the request itself is answered with that failure and not served
// again.
func confirmBefore(ctx context.Context) error {
	if err := ConfirmRequestTx(ctx); errors.Is(err, ErrStalePrincipal) {
		return err
	}
	return nil
}

// confirmedTx begins a transaction bound to cred with c's statement after
// the binding, in one round trip, and runs fn in it as InTenantTx does.
func (db *DB) confirmedTx(ctx context.Context, cred Credential, c *Confirm, fn func(ctx context.Context, tx pgx.Tx) error) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		untakeConfirm(ctx, c) // never ran
		return fmt.Errorf("postgres: acquire: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue("begin")
	QueueBind(ctx, b, cred)
	c.Queue(b)
	durable := newRedo(ctx, db.Pool, cred, c.Keep)
	if durable != nil {
		b.Queue("savepoint " + savepoint)
	}
	err = conn.SendBatch(ctx, b).Close()
	// The server's own check (a proof's signature) ran while the round
	// trip did: nothing of it is committed yet (the first round trip ends
	// at the savepoint, the transaction open), so a refusal rolls it back
	// whole, the check's writes included, and runs no Keep.
	if werr := c.wait(); werr != nil {
		finish(ctx, conn, false, nil, false)
		return unwaited(werr)
	}
	if err != nil {
		if pgconn.SafeToRetry(err) {
			untakeConfirm(ctx, c) // nothing was sent: the check never ran
		}
		// The check's own refusal wrote nothing to keep; a connection
		// closed under it may have taken what it accepted with it.
		var lost *redo
		if conn.Conn().IsClosed() && !c.refusal(err) && !pgconn.SafeToRetry(err) {
			lost = durable
		}
		finish(ctx, conn, false, lost, false)
		return c.stale(err)
	}
	c.held()
	return txOn(ctx, conn, durable, fn)
}

// confirmedBatch runs b's queued statements as InTenantBatch does, in an
// explicit transaction after the binding and c's statement (a check whose
// writes must stand, Confirm.Keep) and a savepoint, all in one round trip
// with the commit: a statement of b that fails rolls back to the savepoint
// and commits the check before the connection goes back to the pool (so
// that no concurrent request sees the check's writes undone), and a
// transaction lost before it committed has c.Keep run on its own. The
// batch commits in its round trip: c.Wait is called before it is sent.
func (db *DB) confirmedBatch(ctx context.Context, cred Credential, c *Confirm, b *pgx.Batch) error {
	if werr := c.wait(); werr != nil {
		return unwaited(werr)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		untakeConfirm(ctx, c) // never ran
		return fmt.Errorf("postgres: acquire: %w", err)
	}
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 8+b.Len())}
	all.Queue("begin")
	QueueBind(ctx, all, cred)
	c.Queue(all)
	all.Queue("savepoint " + savepoint)
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	all.Queue("commit")
	err = conn.SendBatch(ctx, all).Close()
	if err != nil && pgconn.SafeToRetry(err) {
		untakeConfirm(ctx, c) // nothing was sent: the check never ran
	}
	durable := newRedo(ctx, db.Pool, cred, c.Keep)
	if c.refusal(err) || err != nil && pgconn.SafeToRetry(err) {
		durable = nil // the check's own refusal, or a batch never sent, wrote nothing to keep
	}
	finish(ctx, conn, false, durable, err == nil)
	return c.ran(err)
}

// batchOn runs b's queued statements and a commit on conn, whose
// transaction is open, in one round trip, and releases conn: InTenantBatch
// on a request transaction.
func batchOn(ctx context.Context, conn *pgxpool.Conn, durable *redo, b *pgx.Batch) error {
	all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+b.Len())}
	all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
	all.Queue("commit")
	err := conn.SendBatch(ctx, all).Close()
	// Committed when every statement ran; else roll back what is left.
	finish(ctx, conn, false, durable, err == nil)
	return err
}

// txOn runs fn in the open transaction of conn as InTenantTx runs it in a
// new one: committed when fn returns nil, rolled back on an error or a
// panic; conn is released either way.
func txOn(ctx context.Context, conn *pgxpool.Conn, durable *redo, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	// A transaction object over the one already open: its "begin" is a
	// no-op statement and its commit ends the request's transaction; a
	// failure is rolled back by finish (to a durable check's savepoint).
	tx, err := conn.Conn().BeginTx(ctx, pgx.TxOptions{BeginQuery: "select"})
	if err != nil {
		finish(ctx, conn, false, durable, false)
		return fmt.Errorf("postgres: continue the request's transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			finish(ctx, conn, false, durable, false)
			panic(p)
		}
		finish(ctx, conn, false, durable, err == nil)
	}()
	if err = fn(context.WithValue(ctx, txKey{}, true), tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}
