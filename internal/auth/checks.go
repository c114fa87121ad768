package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// checks keeps, for a short time, the principals that full session checks
// resolved, so that a request to a route whose handler goes straight to
// its first tenant transaction (CachedInTx) does not wait for a check of
// its own: that transaction confirms the principal before anything else
// (app.whoami compared with the kept principal, app.stale_principal()
// raising when it differs, migration 00139: queued right after the
// binding, in the same round trip). Nothing is taken on the cache's word: a principal
// that no longer matches fails that transaction before any of the
// request's statements runs, and is forgotten. Sessions and API keys are
// kept, not pending sessions; a request with a DPoP proof is served only
// a principal resolved with a proof by the same key, and its deferred
// check records the proof's jti (CachedDPoPInTx).
//
// It holds credential hashes and principals (ids, role, assurance), never
// a token.
type checks struct {
	mu  sync.Mutex
	m   map[checkKey]checkEntry
	ttl time.Duration // checkTTL unless Config.CheckTTL says otherwise
	now func() time.Time
	// kept, full and stale count checks served from memory, full checks,
	// and kept principals a deferred check found stale; alone, the
	// deferred checks no transaction of the request took over (run in a
	// round trip of their own).
	kept, full, stale, alone atomic.Uint64
}

// checkKey is what a check resolves: the credential's hash, the org hint
// and the device binding (the browser's, for a session cookie).
type checkKey struct{ hash, org, binding string }

type checkEntry struct {
	p   identity.Principal
	row whoamiRow // as app.whoami returned it, for queueExpect
	at  time.Time // when the full check kept it: the entry's identity (drop)
	// seen is when the database last confirmed the principal: the full
	// check, or a later deferred check (renew). The entry is served for
	// ttl after it.
	seen time.Time
	// dpop: resolved with a DPoP proof (the binding is the key's
	// thumbprint): served only to requests with a proof by that key.
	dpop bool
}

const (
	// checkTTL bounds how long a principal is served from memory after
	// the database last confirmed it (a full check, or a deferred check
	// that held: the bound slides with use, so a credential in use is
	// checked in full once, not once per TTL). Every use is confirmed by
	// the database anyway, with the same app.whoami, which touches the
	// session; the bound keeps a credential idle for longer on the full
	// check's path (the reason it no longer resolves, a rotated token's
	// reuse detection) and memory in check.
	checkTTL = 30 * time.Second
	// checkMax bounds the entries; a full cache drops half of them.
	checkMax = 50_000
)

func newChecks(ttl time.Duration, now func() time.Time) *checks {
	if ttl <= 0 {
		ttl = checkTTL
	}
	if now == nil {
		now = time.Now
	}
	return &checks{m: make(map[checkKey]checkEntry), ttl: ttl, now: now}
}

func (c *checks) get(k checkKey, now time.Time) (checkEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if ok && now.Sub(e.seen) > c.ttl {
		delete(c.m, k)
		ok = false
	}
	return e, ok
}

func (c *checks) put(k checkKey, e checkEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= checkMax {
		n := 0
		for old := range c.m { // map order is random: a random half goes
			delete(c.m, old)
			if n++; n >= checkMax/2 {
				break
			}
		}
	}
	c.m[k] = e
}

// renew marks the entry for k that was kept at at as confirmed by the
// database at now (a deferred check that held); an entry a full check
// kept since is left as it is.
func (c *checks) renew(k checkKey, at, now time.Time) {
	c.mu.Lock()
	if e, ok := c.m[k]; ok && e.at.Equal(at) && now.After(e.seen) {
		e.seen = now
		c.m[k] = e
	}
	c.mu.Unlock()
}

// drop forgets the entry for k that was kept at at, found stale; an entry a
// full check kept since (a concurrent request served again) stays.
func (c *checks) drop(k checkKey, at time.Time) {
	c.stale.Add(1)
	c.mu.Lock()
	if e, ok := c.m[k]; ok && e.at.Equal(at) {
		delete(c.m, k)
	}
	c.mu.Unlock()
}

// CheckStats are counts of session checks since the process started.
type CheckStats struct {
	Kept  uint64 // served with a kept principal, confirmed in the request's transaction
	Full  uint64 // full checks (app.whoami on their own or opening the request's transaction)
	Stale uint64 // kept principals found stale (the request served again after a full check)
	Alone uint64 // kept principals confirmed in a round trip of their own, not in the request's transaction
}

// CheckStats returns the counts of session checks.
func (s *Service) CheckStats() CheckStats {
	return CheckStats{Kept: s.checks.kept.Load(), Full: s.checks.full.Load(), Stale: s.checks.stale.Load(),
		Alone: s.checks.alone.Load()}
}

// WriteMetrics writes the session checks' counts in the Prometheus text
// format.
func (s *Service) WriteMetrics(w io.Writer) {
	st := s.CheckStats()
	fmt.Fprintf(w, "# HELP ward_session_checks_total Credential checks by path: kept (a principal kept from an earlier check, "+
		"confirmed in the request's own transaction) or full.\n")
	fmt.Fprintf(w, "# TYPE ward_session_checks_total counter\nward_session_checks_total{path=\"kept\"} %d\n"+
		"ward_session_checks_total{path=\"full\"} %d\n", st.Kept, st.Full)
	fmt.Fprintf(w, "# HELP ward_session_checks_stale_total Kept principals the database no longer confirmed "+
		"(the request was served again after a full check).\n")
	fmt.Fprintf(w, "# TYPE ward_session_checks_stale_total counter\nward_session_checks_stale_total %d\n", st.Stale)
	fmt.Fprintf(w, "# HELP ward_session_checks_alone_total Kept principals confirmed in a round trip of their own "+
		"(no transaction of the request took the check over).\n")
	fmt.Fprintf(w, "# TYPE ward_session_checks_alone_total counter\nward_session_checks_alone_total %d\n", st.Alone)
}

// remember keeps a full check's principal: a session's or an API key's
// (its scopes with it, compared again by the deferred check), not a
// pending session's. A DPoP request's (dpop) is kept under the key's
// thumbprint (cred.DPoP), for requests with a proof by that key
// (CachedDPoPInTx).
func (s *Service) remember(cred postgres.Credential, p identity.Principal, w whoamiRow, dpop bool) {
	if p.Pending != "" || p.Kind != identity.KindSession && p.Kind != identity.KindAPIKey {
		return
	}
	now := s.checks.now()
	s.checks.put(checkKey{cred.Hash, cred.Org, cred.DPoP}, checkEntry{p: p, row: w, at: now, seen: now, dpop: dpop})
}

// CachedInTx is AuthenticateInTx for a credential a full check resolved
// in this process, confirmed by the database (that check, or a deferred
// one since) less than checkTTL ago: it returns that principal at
// once, with the check deferred to the request's first tenant transaction
// (postgres.DeferCheck), which confirms the principal before any of the
// request's statements and fails with postgres.ErrStalePrincipal when it
// no longer holds (the principal is then forgotten; the caller serves the
// request again after AuthenticateInTx). ok is false when there is no
// such principal. binding is as for Authenticate; DPoP-bound requests go
// through AuthenticateDPoPInTx. A principal accept (nil: any) refuses is
// not served (ok false, not counted as kept): the route's own refusal is a
// full check's to decide and audit.
func (s *Service) CachedInTx(ctx context.Context, token, orgHint, binding string,
	accept func(identity.Principal) bool) (identity.Principal, Check, bool) {
	return s.cached(ctx, token, orgHint, binding, nil, accept)
}

// CachedDPoPInTx is CachedInTx for a request with a DPoP proof the server
// verified (VerifyDPoP): a principal a full check of the same credential
// with a proof by the same key resolved less than checkTTL ago. The
// deferred check records the proof's jti as a full check does (app.whoami,
// with the proof's jti hash and iat set before it), and the jti stands
// whatever the request's transaction does (postgres.Confirm.Keep: a
// savepoint after the check, or app.dpop_jti_keep on its own). A replayed
// proof is refused by that check as a stale principal is: the request is
// served again after a full check, which answers its 401.
//
// A proof whose signature is pending (VerifyDPoPClaims; the caller may
// have started it, DPoPProof.Start) is the deferred check's wait
// (postgres.Confirm.Wait): the check's round trip may run while the
// signature is checked, but nothing of the request stands, the jti
// included, before it verified; a signature that does not verify rolls
// back everything the check's transaction did and refuses as a stale
// principal does (without forgetting the principal), and the full check
// that then serves the request checks the proof again before anything.
func (s *Service) CachedDPoPInTx(ctx context.Context, token, orgHint string, proof DPoPProof,
	accept func(identity.Principal) bool) (identity.Principal, Check, bool) {
	if proof.complete() != nil {
		return identity.Principal{}, Check{}, false
	}
	return s.cached(ctx, token, orgHint, proof.JKT, &proof, accept)
}

func (s *Service) cached(ctx context.Context, token, orgHint, binding string, proof *DPoPProof,
	accept func(identity.Principal) bool) (identity.Principal, Check, bool) {
	k := checkKey{identity.HashToken(token), orgHint, binding}
	e, ok := s.checks.get(k, s.checks.now())
	if !ok || e.dpop != (proof != nil) || accept != nil && !accept(e.p) {
		return identity.Principal{}, Check{}, false
	}
	s.checks.kept.Add(1)
	p := e.p
	p.AMR, p.Scopes = slices.Clone(p.AMR), slices.Clone(p.Scopes)
	cred := postgres.Credential{Hash: k.hash, Org: orgHint, Request: identity.RequestFrom(ctx).ID, DPoP: binding}
	c := postgres.Confirm{Queue: e.row.queueExpect,
		Stale: func() { s.checks.drop(k, e.at) }, Alone: func() { s.checks.alone.Add(1) },
		Held: func() { s.checks.renew(k, e.at, s.checks.now()) }}
	if proof != nil {
		pr := *proof
		c.Queue = func(b *pgx.Batch) {
			pr.queue(b)
			e.row.queueExpect(b)
		}
		c.Keep, c.Refused = pr.keep(), replayed
		if pr.Pending() {
			c.Wait = pr.Signature
		}
	}
	return p, Check{postgres.DeferCheck(s.db, cred, p.OrgID.String(), c)}, true
}

// IsStale reports whether err is a deferred check's refusal
// (postgres.ErrStalePrincipal): the kept principal no longer holds, and
// the request ran none of its statements.
func IsStale(err error) bool { return errors.Is(err, postgres.ErrStalePrincipal) }

// Confirm runs the deferred check on its own if the request's
// transactions have not used it (postgres.RequestTx.Confirm): a request
// about to be answered without having reached its first transaction. An
// error for which IsStale holds means the kept principal no longer holds.
func (c Check) Confirm(ctx context.Context) error { return c.rt.Confirm(ctx) }

// Deferred reports whether the check is deferred to the request's first
// tenant transaction and not used yet (CachedInTx).
func (c Check) Deferred() bool { return c.rt.Deferred() }

// ConfirmIn runs the deferred check the request context ctx carries
// (CachedInTx, Check.Context), if it is left: a handler that confirms a
// kept principal while it works, before anything leaves. Concurrent
// callers share one run and its answer (postgres.RequestTx.Confirm); an
// error for which IsStale holds means the kept principal no longer holds.
func ConfirmIn(ctx context.Context) error { return postgres.ConfirmRequestTx(ctx) }

// DeferredIn reports whether ctx carries a deferred check not used yet.
func DeferredIn(ctx context.Context) bool { return postgres.RequestTxDeferred(ctx) }
