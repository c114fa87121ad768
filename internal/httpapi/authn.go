package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// need is what a route asks of its caller. The zero need is a public route.
type need struct {
	// kinds are the credential kinds the route accepts; none: public.
	kinds []identity.CredentialKind
	// aal is the minimum authenticator assurance level.
	aal int
	// role is the minimum role ("" any member). Services keep their own,
	// finer checks.
	role identity.Role
	// fresh is how long ago the caller may last have authenticated
	// (Principal.AuthTime); 0 any time. Older: 403 step_up_required.
	fresh time.Duration
	// freshStaff applies fresh (and aal 2) only to callers above the
	// patient role: a route a patient uses for themself and staff use for
	// anyone (the right-of-access export).
	freshStaff bool
	// signIn marks the public sign-in routes: browsers may not post to
	// them from another site (login CSRF).
	signIn bool
	// action is the audit action a refusal at this route is recorded
	// under ("request.denied" when empty).
	action string
	// scope is the scope an API key needs for this route (routes that
	// accept keys only).
	scope string
	// pending admits a session below its assurance bar (identity.Principal.Pending):
	// the routes that read who it is, enrol or present a second factor, and
	// log out. Every other route answers 403 mfa_required or
	// passkey_required, and the database would find no credential anyway.
	// A session pending its device binding is admitted only where unbound
	// is also set: it is nobody to the factor procedures
	// (private.me_factor, migration 00173), or a leaked unbound token
	// would plant a factor of its holder's.
	pending bool
	// unbound admits, with pending, a session pending its device binding:
	// reading who it is and logging out.
	unbound bool
	// scimToken marks the SCIM routes: a scim_ bearer token, resolved by
	// the SCIM service (handlers_scim.go).
	scimToken bool
	// inTx marks the routes whose handler goes straight to its first
	// tenant transaction (no request body, no other connection, no call
	// out first): their session check leaves its transaction open for that
	// transaction to continue (postgres.RequestTx), so the credential is
	// resolved once per request. A DPoP proof's jti is committed whatever
	// the request's transaction does (a savepoint follows the check).
	inTx bool
	// batchFirst marks the inTx routes whose first tenant work is one
	// batch committed in its round trip (postgres.InTenantBatch): the
	// check's round trip carries the commit, so a kept DPoP principal's
	// proof signature is checked before it, in line (leaving it pending
	// only added the wait: docs/benchmarks.md §49).
	batchFirst bool
	// ahead marks the routes that read their whole body first: a
	// credential this process resolved in full less than 30 s ago is
	// served at once with its kept principal, its check deferred. The LLM
	// gateway runs that check concurrently with its own work
	// (confirmAhead), waiting for it before anything leaves; the JSON
	// routes that decode a body and then go to their first tenant
	// transaction, with no call out before it, leave it to that
	// transaction, which confirms the principal before any of its
	// statements (postgres.DeferCheck) — so a write is never committed on
	// a stale principal's word, and never twice. Either keeps its body
	// (keepBody; decode does) so that a request whose kept principal no
	// longer holds is served again after a full check. The GET routes
	// marked kept(...) (no body, no call out, the database reached through
	// tenant transactions bound to the credential) take it the same way.
	ahead bool
}

func (n need) public() bool { return len(n.kinds) == 0 && !n.scimToken }

// check reports whether p meets n, as a 403 problem when it does not.
func (n need) check(p identity.Principal, now time.Time) error {
	if n.freshStaff && p.Role != identity.RolePatient {
		n.fresh, n.aal = stepUpWindow, max(n.aal, 2)
	}
	switch {
	case !slices.Contains(n.kinds, p.Kind):
		return forbidden("credential_not_accepted", "this route does not accept this kind of credential")
	case p.Pending == "passkey" && !n.pending:
		return forbidden("passkey_required", "your org requires a passkey: sign in with one")
	case p.Pending == "device_binding" && !(n.pending && n.unbound):
		return forbidden("device_binding_required",
			"your org requires this role's sessions to be bound to a device: sign in with a DPoP proof, or use the browser's session cookie")
	case p.Pending != "" && !n.pending:
		return forbidden("mfa_required", "present your second factor (or enrol one) before using this route")
	case n.role != "" && !p.Role.AtLeast(n.role):
		return forbidden("forbidden", "this route needs the "+string(n.role)+" role or above")
	case p.AAL < n.aal:
		return forbidden("insufficient_assurance", "this route needs authenticator assurance level "+strconv.Itoa(n.aal))
	case p.Kind == identity.KindAPIKey && (n.scope == "" || !slices.Contains(p.Scopes, n.scope)):
		return forbidden("scope_required", "this API key lacks the "+n.scope+" scope this route needs")
	case n.fresh > 0 && p.BreakGlass:
		// Emergency access reads records; the database refuses the
		// configuration and credential changes too.
		return forbidden("break_glass_not_allowed", "emergency access reads records; it changes no configuration or credential")
	case n.fresh > 0 && p.Kind == identity.KindSession && (p.AuthTime.IsZero() || now.Sub(p.AuthTime) > n.fresh):
		// Keys were created after a step-up; sessions step up again.
		return forbidden("step_up_required", "present a second factor again (TOTP or a passkey), then retry within 10 minutes")
	}
	return nil
}

// admits reports whether n.check passes p now: the kept principals a route
// may be served with (auth.Service.CachedInTx).
func (n need) admits(p identity.Principal) bool { return n.check(p, time.Now()) == nil }

func forbidden(code, msg string) error {
	return &publicError{status: http.StatusForbidden, code: code, msg: msg}
}

func invalidHeader(msg string) error { return badRequest("invalid_header", msg) }

// guard enforces n: for a public route only the sign-in origin rule; else
// a credential, same-origin for cookie-borne state changes, authentication
// in the database, the need itself and the principal's rate limit.
func (s *server) guard(sf *surface, n need, next http.Handler) http.Handler {
	if n.scimToken {
		return s.scimGuard(sf, next)
	}
	if n.public() {
		if !n.signIn {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A form post is a browser's: it must come from our own pages.
			// Other clients are refused only when a browser says the
			// request is cross-site.
			if err := s.sameOrigin(r, isForm(r)); err != nil {
				sf.writeError(w, r, err)
				return
			}
			// No credential yet, so the client's address is what is
			// limited: each ceremony writes a row.
			if ok, retry := s.signInLimits.allowAddr(s.clientIP(r), s.cfg.Now()); !ok {
				sf.writeError(w, r, rateLimited(retry, "too many sign-in attempts from this address; slow down"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mark := s.authenticated(sf, n, next, w, r, true); mark.stale {
			if mark.failed != nil {
				// The check could not run (the database, a client gone):
				// nothing was answered; no full check would fare better,
				// and a DPoP proof's jti may stand already.
				sf.writeError(w, r, mark.failed)
				return
			}
			// The principal kept from an earlier check no longer holds: the
			// request's first transaction ran none of its statements and
			// nothing was answered. Serve it again after a full check, with
			// the body the handler kept when it read one.
			if mark.body != nil {
				r.Body = io.NopCloser(bytes.NewReader(mark.body))
			}
			s.authenticated(sf, n, next, w, r, false)
		}
	})
}

// authenticated serves r under n as guard describes. With cached, an
// inTx route may be served with the principal an earlier full check
// resolved for the credential (auth.Service.CachedInTx), its check
// deferred to the handler's first transaction (an ahead route: to the
// handler's confirmAhead); its mark tells whether that check found the
// principal stale, in which case nothing was written to w and the caller
// serves r again without cached.
func (s *server) authenticated(sf *surface, n need, next http.Handler, w http.ResponseWriter, r *http.Request, cached bool) staleMark {
	c, err := s.credential(r)
	if err == nil && c.cookie && !safeMethod(r.Method) {
		err = s.sameOrigin(r, true)
	}
	var org string
	if err == nil {
		org, err = orgHeader(r)
	}
	// A DPoP proof's claims are checked here; on an inTx route that may be
	// served with a kept principal, the signature of a proof whose header
	// this node kept is left pending, to be checked while the deferred
	// check's round trip runs (auth.VerifyDPoPClaims): that check's
	// transaction waits for it before anything of the request stands, and
	// so does everything below that would act on the kept principal.
	// Every other path checks it before it goes on.
	var proof auth.DPoPProof
	if err == nil && c.dpop {
		proof, err = s.verifyDPoPClaims(r, c.token, cached && n.inTx && !n.batchFirst)
	}
	// The device binding the database is told of: the proof's key (its
	// jti recorded in the same round trip, a replay refused), or the
	// browser when the session came in its cookie.
	var p identity.Principal
	var rt auth.Check
	// signing: p is a kept principal whose proof's signature is pending,
	// the deferred check's to wait for (auth.Service.CachedDPoPInTx).
	signing := false
	binding := ""
	if c.cookie {
		binding = auth.BrowserBinding
	}
	switch {
	case err != nil:
	case cached && (n.inTx || n.ahead):
		// A principal kept from a full check of the same credential (for
		// a DPoP request, with a proof by the same key: the deferred check
		// records this proof's jti, and a replay is found stale there).
		var ok bool
		if c.dpop {
			p, rt, ok = s.deps.Auth.CachedDPoPInTx(r.Context(), c.token, org, proof, n.admits)
			signing = ok && proof.Pending()
		} else {
			p, rt, ok = s.deps.Auth.CachedInTx(r.Context(), c.token, org, binding, n.admits)
		}
		if !ok {
			// None kept, or one the route refuses (which a full check
			// decides, and audits). On an ahead route the full check is
			// closed at once: the handler may read a body and call out
			// before its transactions. A full check commits in its round
			// trip: a proof's signature is checked first.
			if err = proof.Signature(); err == nil {
				p, rt, err = s.addrCheck(r, c, org, binding, proof, n.inTx)
			}
		}
	default:
		if err = proof.Signature(); err == nil {
			p, rt, err = s.addrCheck(r, c, org, binding, proof, n.inTx)
		}
	}
	// The check's transaction ends with the request, committed, if the
	// handler's first transaction did not take it over; and before
	// anything here that writes in a transaction of its own.
	defer rt.End(r.Context())
	if err == nil {
		// A pending session is no credential to the database: its
		// refusals cannot be written to the org's log. Nor is a kept
		// principal whose proof's signature does not verify: that is
		// known before a refusal is written in its name.
		if err = n.check(p, time.Now()); err != nil {
			if serr := proof.Signature(); serr != nil {
				err = serr
			} else if p.Pending == "" {
				rt.End(r.Context())
				s.refused(r, p, n, err)
			}
		}
	}
	if err != nil {
		sf.writeError(w, r, err)
		return staleMark{}
	}
	if cached && signing && s.limits.available(p, s.cfg.Now()) {
		// The principal's bucket is spent once the proof's signature
		// verified (never for a forged proof), while the handler's first
		// round trip runs; the request may go on, as a token is there.
		proof.Start(func() { s.limits.spend(p, s.cfg.Now()) })
	} else if cached { // a request served again was counted on its first pass
		// A limit is never spent, nor refused, on a forged proof's word.
		if err := proof.Signature(); err != nil {
			sf.writeError(w, r, err)
			return staleMark{}
		}
		if ok, retry := s.limits.allow(p, s.cfg.Now()); !ok {
			err = rateLimited(retry, "too many requests; slow down")
			// No answer rests on a kept principal alone, a refusal
			// included: when it no longer holds, a full check answers
			// for the credential first (a revoked session's 401, a
			// rotated token's reuse recorded); a live one is still
			// limited.
			if rt.Deferred() && rt.Confirm(r.Context()) != nil {
				if _, _, aerr := s.fullCheck(r.Context(), c, org, binding, proof, false); aerr != nil {
					err = aerr
				}
			}
			sf.writeError(w, r, err)
			return staleMark{}
		}
	}
	ctx := identity.WithPrincipal(r.Context(), p)
	if !rt.Deferred() {
		next.ServeHTTP(w, r.WithContext(rt.Context(ctx)))
		return staleMark{}
	}
	mark := new(staleMark)
	ctx = rt.Context(context.WithValue(ctx, staleMarkKey{}, mark))
	cw := &confirmFirst{ResponseWriter: w, ctx: ctx, rt: rt, mark: mark, header: w.Header().Clone()}
	next.ServeHTTP(cw, r.WithContext(ctx))
	cw.confirm() // a handler that wrote nothing
	return *mark
}

// fullCheck resolves the request's credential in full, with its DPoP proof
// when it carries one; open leaves the check's transaction open for the
// handler's first tenant transaction to continue (need.inTx).
func (s *server) fullCheck(ctx context.Context, c presented, org, binding string, proof auth.DPoPProof,
	open bool) (identity.Principal, auth.Check, error) {
	switch {
	case c.dpop && open:
		return s.deps.Auth.AuthenticateDPoPInTx(ctx, c.token, org, proof)
	case c.dpop:
		p, err := s.deps.Auth.AuthenticateDPoP(ctx, c.token, org, proof)
		return p, auth.Check{}, err
	case open:
		return s.deps.Auth.AuthenticateInTx(ctx, c.token, org, binding)
	}
	p, err := s.deps.Auth.Authenticate(ctx, c.token, org, binding)
	return p, auth.Check{}, err
}

// addrCheck is fullCheck under the client address's budget of failed
// checks (budgeted).
func (s *server) addrCheck(r *http.Request, c presented, org, binding string, proof auth.DPoPProof,
	open bool) (p identity.Principal, rt auth.Check, err error) {
	err = s.budgeted(r, func() (err error) {
		p, rt, err = s.fullCheck(r.Context(), c, org, binding, proof, open)
		return err
	})
	return p, rt, err
}

// budgeted runs check, a credential check that asks the database, under
// the client address's budget of failed checks: an address whose
// credentials failed too often lately (unknown, revoked or expired tokens,
// bad proofs) is refused with 429 before check runs, and each check that
// fails as unauthenticated spends from it. A flood of made-up tokens from
// one address costs the database a few checks a second, not one per
// request, while a live credential from that address that this node kept
// from an earlier check is still served (the kept path comes first).
func (s *server) budgeted(r *http.Request, check func() error) error {
	a := s.clientIP(r)
	if retry, spent := s.authFails.spentAddr(a, s.cfg.Now()); spent {
		return rateLimited(retry, "too many failed credential checks from this address; slow down")
	}
	err := check()
	if err != nil && errkind.Of(err) == errkind.Unauthenticated {
		s.authFails.allowAddr(a, s.cfg.Now())
	}
	return err
}

// A staleMark is set by writeError, in place of an answer, when a request
// served with a kept principal (auth.Service.CachedInTx) fails with
// auth.IsStale: its first transaction found the principal
// stale before running any of its statements, and the guard serves it
// again after a full check.
// body is what the handler read of the request's body (keepBody), for
// the request served again.
// failed is the check's own error when it could not run (not a stale
// principal): the request is answered with it, not served again.
type staleMark struct {
	stale  bool
	body   []byte
	failed error
}

type staleMarkKey struct{}

// confirmFirst is the response writer of a request served with a kept
// principal: before the first byte of an answer it runs the deferred
// check if the handler has not reached a transaction that used it (a
// malformed path or query answered at once), so that no answer rests on
// the kept principal alone. When that check finds the principal stale (or
// a transaction that took it over did, and the handler answered anyway),
// the answer is dropped, the headers the handler set are taken back, and
// the guard serves the request again after a full check (which answers a
// revoked session's 401, and records a rotated token's reuse); when the
// check cannot run, the guard answers its error instead.
type confirmFirst struct {
	http.ResponseWriter
	ctx    context.Context
	rt     interface{ Confirm(context.Context) error } // the kept principal's check (auth.Check)
	mark   *staleMark
	header http.Header // the headers before the handler ran
	done   bool
}

func (c *confirmFirst) confirm() {
	if c.done {
		return
	}
	c.done = true
	if err := c.rt.Confirm(c.ctx); err != nil {
		c.mark.stale = true
		if !auth.IsStale(err) {
			c.mark.failed = err
		}
		h := c.ResponseWriter.Header()
		clear(h)
		maps.Copy(h, c.header)
	}
}

func (c *confirmFirst) WriteHeader(code int) {
	if c.confirm(); !c.mark.stale {
		c.ResponseWriter.WriteHeader(code)
	}
}

func (c *confirmFirst) Write(p []byte) (int, error) {
	if c.confirm(); c.mark.stale {
		return len(p), nil
	}
	return c.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController's Flush calls (before it
// unwraps): the check runs first, as for WriteHeader, since a flush sends
// the status and headers; a stale principal's flush sends nothing.
func (c *confirmFirst) FlushError() error {
	if c.confirm(); c.mark.stale {
		return nil
	}
	return http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (c *confirmFirst) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// keepBody keeps body, the request's whole body as the handler read it,
// for the request to be served again if its kept principal is found
// stale (need.ahead).
func keepBody(r *http.Request, body []byte) {
	if mark, _ := r.Context().Value(staleMarkKey{}).(*staleMark); mark != nil {
		mark.body = body
	}
}

// confirmAhead starts the check that r's kept principal still holds
// (need.ahead), to run while the handler works, and returns the wait for
// its answer: an error for which auth.IsStale holds when the principal no
// longer holds (the guard then serves r again). It returns nil when r
// carries no deferred check (a full check served it). Nothing may leave
// the server before the wait has returned nil; an answer written before
// it waits for it (confirmFirst).
func confirmAhead(r *http.Request) func() error {
	ctx := r.Context()
	if !auth.DeferredIn(ctx) {
		return nil
	}
	// Concurrent calls share one run of the check and its answer: the
	// wait is the same call again.
	go auth.ConfirmIn(ctx) //nolint:errcheck // the wait returns its answer
	return func() error { return auth.ConfirmIn(ctx) }
}

// markStale sets r's staleMark for err, if r carries one and err is a
// deferred check's refusal, and reports whether it did.
func markStale(r *http.Request, err error) bool {
	mark, _ := r.Context().Value(staleMarkKey{}).(*staleMark)
	if mark == nil || !auth.IsStale(err) {
		return false
	}
	mark.stale = true
	return true
}

// presented is the credential a request carries and where it came from.
type presented struct {
	token  string
	cookie bool
	dpop   bool // Authorization: DPoP (RFC 9449): a proof must come with it
}

// verifyDPoP verifies the request's one DPoP proof for token ("" at
// sign-in: no ath). It does not record the proof's jti: the credential's
// resolution does (AuthenticateDPoP), or signInProof (UseDPoP).
func (s *server) verifyDPoP(r *http.Request, token string) (auth.DPoPProof, error) {
	return s.verifyDPoPClaims(r, token, false)
}

// verifyDPoPClaims is verifyDPoP that, with pending, leaves the signature
// of a proof whose header this node kept to check later
// (auth.VerifyDPoPClaims): nothing may rest on the proof before its
// Signature returned nil.
func (s *server) verifyDPoPClaims(r *http.Request, token string, pending bool) (auth.DPoPProof, error) {
	raw, err := s.dpopHeader(r)
	if err != nil {
		return auth.DPoPProof{}, err
	}
	if !pending {
		return auth.VerifyDPoP(raw, r.Method, s.htu(r), token, time.Now())
	}
	return auth.VerifyDPoPClaims(raw, r.Method, s.htu(r), token, time.Now())
}

// dpopHeader reads the one DPoP header of a request.
func (s *server) dpopHeader(r *http.Request) (string, error) {
	switch v := r.Header.Values("DPoP"); {
	case len(v) == 0:
		return "", &publicError{status: http.StatusUnauthorized, code: "dpop_invalid",
			msg: "a DPoP-bound token needs a DPoP proof header"}
	case len(v) > 1:
		return "", invalidHeader("send one DPoP header")
	case s.origin == "":
		return "", &publicError{status: http.StatusUnauthorized, code: "dpop_invalid",
			msg: "this server has no public base URL configured, so it cannot check a proof's htu"}
	default:
		return strings.TrimSpace(v[0]), nil
	}
}

// htu is the request's URL as the client addressed it (RFC 9449 §4.2),
// without query or fragment: the public base URL and the path.
func (s *server) htu(r *http.Request) string {
	return strings.TrimSuffix(s.root, "/") + r.URL.EscapedPath()
}

// credential reads the request's credential: Authorization: Bearer, or
// x-api-key, or else the session cookie. A header given twice, or both
// headers with different values, is a 400 naming the header.
func (s *server) credential(r *http.Request) (presented, error) {
	authz, keys := r.Header.Values("Authorization"), r.Header.Values("X-Api-Key")
	switch {
	case len(authz) > 1:
		return presented{}, invalidHeader("send one Authorization header")
	case len(keys) > 1:
		return presented{}, invalidHeader("send one x-api-key header")
	}
	var bearer string
	var dpop bool
	if len(authz) == 1 {
		v := authz[0]
		switch {
		case len(v) > 7 && strings.EqualFold(v[:7], "bearer "):
			bearer = strings.TrimSpace(v[7:])
		case len(v) > 5 && strings.EqualFold(v[:5], "dpop "):
			bearer, dpop = strings.TrimSpace(v[5:]), true
		default:
			return presented{}, &publicError{status: http.StatusUnauthorized, code: "unauthenticated",
				msg: "the Authorization header must be Bearer <token> or DPoP <token>"}
		}
	}
	if len(keys) == 1 {
		key := strings.TrimSpace(keys[0])
		if bearer != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(key)) != 1 {
			return presented{}, invalidHeader("Authorization and x-api-key hold different credentials; send one")
		}
		bearer = key
	}
	if bearer != "" {
		return presented{token: bearer, dpop: dpop}, nil
	}
	if len(authz) == 1 || len(keys) == 1 {
		return presented{}, auth.ErrUnauthenticated
	}
	if c, err := r.Cookie(s.sessionCookie()); err == nil && c.Value != "" {
		return presented{token: c.Value, cookie: true}, nil
	}
	return presented{}, auth.ErrUnauthenticated
}

// orgHeader reads Ward-Org: absent, or one org id (a UUID in any case),
// passed on in canonical lower-case form.
func orgHeader(r *http.Request) (string, error) {
	vals := r.Header.Values("Ward-Org")
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", invalidHeader("send one Ward-Org header")
	}
	v := strings.TrimSpace(vals[0])
	id, err := uuid.Parse(v)
	if len(v) != 36 || err != nil || id == uuid.Nil {
		return "", invalidHeader("Ward-Org must be an org id (a UUID)")
	}
	return id.String(), nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain"
}

// sameOrigin refuses a browser request from another site. Sec-Fetch-Site,
// when sent, must be same-origin or none (typed by the user); without it,
// an Origin must be the public base URL's. With neither header the request
// is not from a modern browser: strict refuses it, else it passes.
func (s *server) sameOrigin(r *http.Request, strict bool) error {
	refuse := forbidden("cross_site_request", "this request must come from Ward's own pages")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return refuse
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin == "" && !strict:
		return nil
	case origin == "" || s.origin == "" || origin != s.origin:
		return refuse
	}
	return nil
}

// refused records a refusal at the route (the caller is authenticated but
// does not meet its need) in the audit log, under the route's action, with
// the object its path names.
func (s *server) refused(r *http.Request, p identity.Principal, n need, err error) {
	action := n.action
	if action == "" {
		action = "request.denied"
	}
	var reason string
	if pe, ok := err.(*publicError); ok {
		reason = pe.code
	}
	ref := audit.Refusal{Action: action, Reason: reason, Route: r.Pattern}
	if id, perr := uuid.Parse(r.PathValue("id")); perr == nil && strings.Contains(r.Pattern, "/patients/") {
		ref.ObjectType, ref.Object, ref.Patient = "patient", id, id
	} else if id, perr := uuid.Parse(r.PathValue("user_id")); perr == nil {
		ref.ObjectType, ref.Object = "user", id
	} else if id, perr := uuid.Parse(r.PathValue("id")); perr == nil && strings.Contains(r.Pattern, "/sessions/") {
		ref.ObjectType, ref.Object = "session", id
	}
	s.deps.Audit.Refused(identity.WithPrincipal(r.Context(), p), ref)
}
