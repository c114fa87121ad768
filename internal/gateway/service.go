package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// Config configures the gateway.
type Config struct {
	// Provider is the registered provider calls go to (default "anthropic").
	Provider string
	// Keys are Ward's own API keys, by provider name. They are sent only to
	// that provider, never logged and never returned.
	Keys map[string]string
	// Client makes the upstream calls (default: a client whose transport
	// waits at most 10 minutes for the response headers).
	Client *http.Client
	// MaxReplyBytes bounds a non-streaming reply (default 64 MiB).
	MaxReplyBytes int64
	// RegistryTTL is how long the provider's registry entry is kept in
	// memory (0: DefaultRegistryTTL; negative: read on every call). A
	// registry change takes effect within it.
	RegistryTTL time.Duration
	// OverloadRetries is how many times a call the upstream answers 529
	// (or 503, or a stream whose first event is an overloaded_error) is
	// retried before anything reaches the client (default 2; negative:
	// none). The reply of the last attempt is relayed with
	// x-should-retry: false, so the SDK does not multiply the retries.
	OverloadRetries int
	// OverloadBackoff is the first retry's delay (default 200 ms), doubled
	// each time; an upstream retry-after of at most MaxRetryWait is used
	// instead.
	OverloadBackoff time.Duration
	// MaxRetryWait bounds one retry's wait (default 2 s): a longer
	// retry-after is relayed to the client instead.
	MaxRetryWait time.Duration
	// DateShiftKey keys the date shift of an org whose policy shifts dates
	// (HMAC-SHA256; at least 32 bytes). Every node of a cluster must have
	// the same key, so that a conversation keeps its shift whichever node
	// serves it; `ward serve` derives it from the instance keyset. Without
	// one, NewService draws a random key: shifts are then stable for the
	// life of the process only.
	DateShiftKey []byte
}

// Service forwards Messages calls to the registered upstream.
type Service struct {
	db     *postgres.DB
	engine *phi.Engine
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	reg    *registryCache
	// policies keeps each org's gateway policy (same TTL as the registry);
	// limits takes and settles the orgs' rate limits in the database and
	// remembers which orgs' buckets admit nothing for now.
	policies *policyCache
	limits   *limiter
	// shiftKey keys dateShift.
	shiftKey []byte
	// models keeps the provider's model list (ListModels).
	models catalogue
}

// NewService returns a Service. engine is shared (it is safe for
// concurrent use).
func NewService(db *postgres.DB, engine *phi.Engine, cfg Config, log *slog.Logger) *Service {
	if cfg.Provider == "" {
		cfg.Provider = "anthropic"
	}
	if cfg.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 10 * time.Minute
		t.MaxIdleConnsPerHost = 64
		cfg.Client = &http.Client{Transport: t}
	}
	// A redirect is not followed: Go would send the prompt (and the
	// x-api-key header, which it keeps across hosts) again to wherever the
	// Location points, a host with no BAA. The 3xx is answered as an
	// upstream failure (Forward).
	c := *cfg.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &c
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxReplyBytes == 0 {
		cfg.MaxReplyBytes = 64 << 20
	}
	if cfg.RegistryTTL == 0 {
		cfg.RegistryTTL = DefaultRegistryTTL
	}
	if cfg.OverloadRetries == 0 {
		cfg.OverloadRetries = 2
	}
	if cfg.OverloadBackoff == 0 {
		cfg.OverloadBackoff = 200 * time.Millisecond
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = 2 * time.Second
	}
	key := cfg.DateShiftKey
	if len(key) < 32 {
		key = make([]byte, 32)
		crand.Read(key) // never fails (crypto/rand panics rather)
	}
	return &Service{db: db, engine: engine, cfg: cfg, log: log, now: time.Now, reg: &registryCache{ttl: cfg.RegistryTTL},
		policies: &policyCache{ttl: cfg.RegistryTTL}, limits: &limiter{db: db}, shiftKey: key,
		models: catalogue{refresh: make(chan struct{}, 1)}}
}

// dateShift is the date shift, in days, of a call of org about patient
// (uuid.Nil: none named) whose conversation opens with the message first
// (its JSON as the client sent it): 1 to 365 days, forward or back, never
// 0. It is a keyed hash of the three, so a client that resends a growing
// conversation gets the same shift on every call and its earlier turns
// reach the upstream byte for byte as before (prompt caching keeps
// working), while the upstream, which does not know the key, cannot
// predict or undo it. Different conversations, patients and orgs get
// independent shifts.
func (s *Service) dateShift(org, patient uuid.UUID, first []byte) int {
	mac := hmac.New(sha256.New, s.shiftKey)
	mac.Write([]byte("ward gateway date shift v1\x00"))
	mac.Write(org[:])
	mac.Write(patient[:])
	h := sha256.Sum256(first)
	mac.Write(h[:])
	sum := mac.Sum(nil)
	n := int(binary.BigEndian.Uint64(sum[:8])%365) + 1
	if sum[8]&1 == 0 {
		return -n
	}
	return n
}

// Call is one request to the gateway.
type Call struct {
	// Body is the client's JSON body.
	Body []byte
	// Header is the client's request header: anthropic-version and
	// anthropic-beta are passed on; nothing else is.
	Header http.Header
	// Query is the client's raw query (?beta=true), passed on.
	Query string
	// Patient, when valid, is the patient the call is about; Record then
	// holds what the caller may read of that patient's identity (the
	// caller loaded it, audited, under its own credential).
	Patient uuid.NullUUID
	Record  *phi.Record
	// Audited, when set, waits until the caller's audited read of Record
	// has committed: Forward calls it before anything leaves for the
	// upstream, and an error refuses the call (fail closed) and is
	// returned as it is.
	Audited func() error
	// Confirmed, when set, waits until the caller's credential check has
	// confirmed the principal Forward runs with (a check deferred to run
	// concurrently with the de-identification): Forward calls it before
	// anything leaves for the upstream, and its error is returned as it
	// is.
	Confirmed func() error
}

// LogValue reports sizes and ids only.
func (c Call) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("bytes", len(c.Body)), slog.Bool("record", c.Record != nil),
		slog.Any("patient", c.Patient))
}

// upstreamQuery is the query string to send upstream for a client's raw
// query: the official SDKs send ?beta=true on their beta paths, and
// nothing else is passed (a query is not de-identified, so anything else
// could carry identifiers to the upstream). The error names no parameter:
// a name is the client's text too.
func upstreamQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	q, err := url.ParseQuery(raw)
	if err == nil && len(q) == 1 && len(q["beta"]) == 1 && q.Get("beta") == "true" {
		return "beta=true", nil
	}
	return "", bad("the only query parameter accepted is beta=true")
}

// apiVersions are the anthropic-version values the official SDKs send (v1:
// 2023-06-01, v2: 2026-10-21; 2023-01-01 is the API's oldest); the header
// goes upstream as it is, so no other text may. A new API version needs
// its entry here.
var apiVersions = map[string]bool{"2023-01-01": true, "2023-06-01": true, "2026-10-21": true}

// upstreamHeaders returns the anthropic-version and anthropic-beta values
// to send upstream for the client's header: a known version (2023-06-01
// when none is sent) and beta names (lower-case letters, digits and
// hyphens, "prompt-caching-2024-07-31"), at most 32 of at most 64 bytes.
// Headers are not de-identified, so nothing else passes; the errors name
// no value.
func upstreamHeaders(h http.Header) (version string, beta []string, err error) {
	version = h.Get("Anthropic-Version")
	if version == "" {
		version = "2023-06-01"
	}
	if !apiVersions[version] {
		return "", nil, bad("anthropic-version: must be 2023-06-01 or 2026-10-21 (or the oldest, 2023-01-01)")
	}
	for _, v := range h.Values("Anthropic-Beta") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if !betaName(name) || len(beta) == 32 {
				return "", nil, bad("anthropic-beta: must be a comma-separated list of at most 32 beta names " +
					"(lower-case letters, digits and hyphens)")
			}
			beta = append(beta, name)
		}
	}
	return version, beta, nil
}

// betaName reports whether s reads as an API beta's name.
func betaName(s string) bool {
	if len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Endpoint is an upstream path the gateway forwards to.
type Endpoint string

// The endpoints.
const (
	Messages    Endpoint = "/v1/messages"
	CountTokens Endpoint = "/v1/messages/count_tokens"
)

// ErrUpstream means the upstream could not be reached or sent a reply Ward
// cannot read.
var ErrUpstream = errkind.New(errkind.Unavailable, "upstream_unavailable", "gateway: upstream unavailable").
	WithPublic("the upstream could not be reached")

// Forward de-identifies c, sends it to the registered upstream at ep and
// writes the re-identified reply to w: JSON, or, for a Messages call with
// "stream": true, server-sent events relayed as they come. The caller's
// principal must be in ctx.
//
// An error means nothing was written: the caller answers it (ErrBadRequest,
// ErrUnsupported, the gate's errors, ErrDeidentify, ErrNoUpstreamKey,
// ErrUpstream, an audit or database error). Once a reply has started,
// Forward writes upstream errors itself, in the Anthropic shape, and
// returns nil.
func (s *Service) Forward(ctx context.Context, ep Endpoint, c Call, w http.ResponseWriter) error {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "unauthenticated", "gateway: no principal")
	}
	// The query goes upstream too: only the SDKs' own beta=true may.
	query, err := upstreamQuery(c.Query)
	if err != nil {
		return err
	}
	// So do two headers: only their known forms may.
	version, beta, err := upstreamHeaders(c.Header)
	if err != nil {
		return err
	}
	start := s.now()
	inv := invocation{s: s, p: p, req: identity.RequestFrom(ctx), ep: ep, patient: c.Patient, start: start,
		confirmed: c.Confirmed}

	// The org's policy, narrowed by the request's own header, then what
	// this node knows of the org's rate limit: both before any work on
	// the body.
	pol, err := s.policies.get(ctx, s, p, start)
	if err != nil {
		return err
	}
	if pol, err = pol.narrow(c.Header); err != nil {
		if errors.Is(err, ErrPolicyWeakened) {
			inv.deny(ctx, err)
		}
		return err
	}
	inv.pol = pol
	if wait, limited := s.limits.refused(p.OrgID, pol, start); limited {
		inv.deny(ctx, ErrRateLimited)
		return errkind.WithRetry(ErrRateLimited, max(wait, time.Second))
	}

	top, err := object(c.Body, "the request body")
	if err != nil {
		return err
	}
	// The call takes a request of the org's bucket and reserves its
	// tokens (its prompt estimated from its size, and the most it may
	// answer) before it goes upstream, in the database, beside the
	// de-identification; the reservation is settled against what the
	// upstream reports when the call ends, so calls made at once, on any
	// node, cannot all pass one positive bucket.
	reserve, err := reservation(ep, top, len(c.Body))
	if err != nil {
		return err
	}
	inv.reserved = reserve
	inv.admission = s.limits.admitAside(ctx, inv.cred(), p.OrgID, pol, reserve, s.now)
	defer inv.settle(ctx)
	sess, err := s.engine.NewSession(c.Record, pol.sessionOptions(func() int {
		return s.dateShift(p.OrgID, c.Patient.UUID, firstElement(top["messages"]))
	}))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDeidentify, err)
	}
	defer sess.Close()
	body, m, err := redactTop(ctx, sess, top, pol)
	if err != nil {
		return err
	}
	inv.model, inv.stream, inv.sess, inv.passed = m.Model, m.Stream && ep == Messages, sess, m.Unredacted

	prov, err := s.reg.get(ctx, s.db.Pool, s.cfg.Provider, s.now())
	// The request's model and every model the upstream may answer with in
	// its place (fallbacks) pass the same gate; "default" leaves the choice
	// to the upstream, so only where no list narrows the models.
	for _, model := range append([]string{m.Model}, m.Fallbacks...) {
		if err == nil {
			err = gate(prov, model, s.now())
		}
		if err == nil {
			err = pol.gate(prov.Name, model)
		}
	}
	if err == nil && m.FallbackDefault {
		if len(prov.Models) > 0 {
			err = ErrModelNotAllowed
		} else if len(pol.Models) > 0 {
			err = ErrModelNotEnabled
		}
	}
	if err != nil {
		inv.deny(ctx, err)
		return err
	}
	inv.provider = prov.Name
	key := s.cfg.Keys[prov.Name]
	if key == "" {
		inv.deny(ctx, ErrNoUpstreamKey)
		return ErrNoUpstreamKey
	}

	// The caller's principal is confirmed, and the record's read is
	// audited, before anything derived from them leaves; both ran while
	// the body was de-identified. A principal not confirmed made no call:
	// its request is served again (or refused) and takes its own.
	if c.Confirmed != nil {
		inv.checked = true
		if err := c.Confirmed(); err != nil {
			inv.giveBack = true // served again, it takes again
			return err
		}
	}
	switch a := inv.admission(); {
	case a.err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return a.err // fail closed: no call the limit could not count
	case !a.ok:
		inv.deny(ctx, ErrRateLimited)
		return errkind.WithRetry(ErrRateLimited, max(a.retry, time.Second))
	}
	if c.Audited != nil {
		if err := c.Audited(); err != nil {
			return err
		}
	}
	target := prov.BaseURL + string(ep)
	if query != "" {
		target += "?" + query
	}
	up, err := s.send(ctx, &inv, target, key, version, beta, body)
	if err != nil {
		// The URL holds no secret; the error may name the host.
		inv.fail(ctx, 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrUpstream, err)
	}
	resp := up.resp
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: the upstream answered with a redirect (%d), not followed", ErrUpstream, resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// The upstream refused Ward's own key. Relayed, its 401 would reach
		// the SDK as an AuthenticationError about the key the app gave,
		// its Ward credential, which an app answers by signing its user
		// out or rotating a key that is fine: it is the operator's to fix.
		inv.fail(ctx, resp.StatusCode)
		s.log.ErrorContext(ctx, "the upstream refused the gateway's key", "request_id", inv.req.ID, "provider", prov.Name)
		return ErrUpstreamKeyRefused
	}
	inv.status = resp.StatusCode
	copyHeaders(w.Header(), resp.Header)
	if up.retried {
		// Ward retried already: the SDK must not multiply the retries.
		w.Header().Set("X-Should-Retry", "false")
	}

	if resp.StatusCode != http.StatusOK {
		return inv.relayError(ctx, resp, w)
	}
	if up.first != nil {
		return inv.relayStream(ctx, up.br, *up.first, w)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxReplyBytes+1))
	if err != nil || int64(len(raw)) > s.cfg.MaxReplyBytes {
		inv.used = inv.reserved // the upstream answered: what it used is unknown
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: read reply", ErrUpstream)
	}
	rs := newRestorer(sess)
	var out []byte
	if ep == CountTokens {
		out = raw // {"input_tokens": N}: nothing to restore
		_ = decodeUsage(raw, &inv.usage)
	} else if out, inv.usage, err = rs.reply(raw); err != nil {
		inv.used = inv.reserved
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: unreadable reply", ErrUpstream)
	}
	inv.unknown = len(rs.unknown)
	inv.used = inv.usage.charged(inv.usage.OutputTokens)
	if err := inv.recordSettled(ctx); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

// upstreamReply is the upstream's answer to the last attempt: for a stream
// that began, its first event has been read (first, from br).
type upstreamReply struct {
	resp    *http.Response
	br      *bufio.Reader
	first   *event
	retried bool
}

// send posts body to the upstream, retrying an overloaded upstream (529 or
// 503, or a stream whose first event is an overloaded_error) before any
// byte reaches the client: at most OverloadRetries times, after the
// upstream's retry-after when it is short, else an exponential backoff.
func (s *Service) send(ctx context.Context, inv *invocation, target, key, version string, beta []string,
	body []byte) (upstreamReply, error) {
	backoff := s.cfg.OverloadBackoff
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return upstreamReply{}, fmt.Errorf("gateway: build upstream request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Api-Key", key)
		req.Header.Set("Anthropic-Version", version)
		if len(beta) > 0 {
			req.Header.Set("Anthropic-Beta", strings.Join(beta, ","))
		}
		resp, err := s.cfg.Client.Do(req)
		if err != nil {
			return upstreamReply{}, err
		}
		up := upstreamReply{resp: resp, retried: attempt > 0}
		overloaded := resp.StatusCode == 529 || resp.StatusCode == http.StatusServiceUnavailable
		if resp.StatusCode == http.StatusOK && inv.stream &&
			strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			up.br = bufio.NewReaderSize(resp.Body, 64<<10)
			first, err := readEvent(up.br)
			if err != nil {
				resp.Body.Close()
				return upstreamReply{}, fmt.Errorf("stream ended before its first event: %w", err)
			}
			up.first = &first
			overloaded = first.typ() == "error" && errorEventType(first) == "overloaded_error"
		}
		if !overloaded || attempt >= s.cfg.OverloadRetries {
			return up, nil
		}
		wait := backoff
		if d, ok := retryAfter(resp.Header); ok {
			if d > s.cfg.MaxRetryWait {
				return up, nil // the client decides whether to wait that long
			}
			wait = d
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		inv.retries++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return upstreamReply{}, ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, s.cfg.MaxRetryWait)
	}
}

// errorEventType is the error type of a stream's error event.
func errorEventType(e event) string {
	var v struct {
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	_ = json.Unmarshal(e.data, &v)
	return v.Error.Type
}

// retryAfter reads retry-after-ms or retry-after (seconds).
func retryAfter(h http.Header) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if sec, err := strconv.ParseFloat(v, 64); err == nil && sec >= 0 {
			return time.Duration(sec * float64(time.Second)), true
		}
	}
	return 0, false
}

// relayHeaders are the upstream response headers passed to the client.
// The upstream's anthropic-ratelimit-* headers are not: they count Ward's
// one upstream account, which every org shares, so they would tell each
// tenant how much the others use (the org's own limits answer with 429
// and retry-after).
var relayHeaders = []string{"Request-Id", "Retry-After", "Retry-After-Ms", "X-Should-Retry"}

func copyHeaders(dst, src http.Header) {
	for _, k := range relayHeaders {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
}

// relayError passes an upstream error (429, 529, 400 …) through with its
// status, retry headers and body: the upstream only ever saw
// de-identified text.
func (inv *invocation) relayError(ctx context.Context, resp *http.Response, w http.ResponseWriter) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: read error reply", ErrUpstream)
	}
	if err := inv.record(ctx, audit.OutcomeFailure); err != nil {
		return err
	}
	if _, err := object(raw, "error"); err != nil {
		raw, _ = marshal(map[string]any{"type": "error", "error": map[string]string{"type": "api_error",
			"message": fmt.Sprintf("the upstream answered %d", resp.StatusCode)}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(raw)
	return nil
}

// relayStream relays server-sent events as they come. The ai.invoke event
// is written once the first event (message_start) has arrived, while the
// stream is relayed: the first delta does not wait for it, and the stream's
// message_stop is not relayed before the event committed. An event that
// cannot be written ends the stream with an error event instead of
// message_stop, so the call fails for the client as a non-streamed one does
// (see recordAside). The handler returns only once the event's transaction
// has ended.
func (inv *invocation) relayStream(ctx context.Context, br *bufio.Reader, first event, w http.ResponseWriter) error {
	rl := newRelay(newRestorer(inv.sess))
	out, herr := rl.handle(first)
	inv.usage = rl.input
	outcome := audit.OutcomeSuccess
	if first.typ() != "message_start" || herr != nil {
		outcome = audit.OutcomeFailure
	}
	if herr != nil {
		inv.used = inv.reserved // a stream began: what it used is unknown
		if err := inv.record(ctx, outcome); err != nil {
			return err
		}
		return fmt.Errorf("%w: %w", ErrUpstream, herr)
	}
	recorded := inv.recordAside(ctx, outcome)
	defer recorded() // a panic below still waits for the event's transaction
	ctl := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	audited := false
	send := func(evs []event) bool {
		if !audited && (rl.done || slices.ContainsFunc(evs, func(e event) bool { return e.typ() == "message_delta" })) {
			// message_delta (the stop reason) and message_stop: the
			// client learns the call ended only once its event is written
			if err := recorded(); err != nil {
				evs = []event{streamError("api_error", "audit_failed", "Ward could not record the call in its audit log")}
				rl.done = true // nothing more is relayed
			}
			audited = true
		}
		for _, e := range evs {
			if e.encode(w) != nil {
				return false
			}
		}
		if len(evs) > 0 {
			_ = ctl.Flush()
		}
		return true
	}
	if send(out) {
		for !rl.done {
			e, err := readEvent(br)
			if err != nil {
				if ctx.Err() == nil {
					// a stream that ends without message_stop must not
					// look like success
					send([]event{streamError("api_error", "upstream_stream_incomplete", "the upstream stream ended before message_stop")})
				}
				break
			}
			evs, err := rl.handle(e)
			if err != nil {
				send([]event{streamError("api_error", "upstream_event_unreadable", "the upstream sent an event Ward cannot read")})
				break
			}
			if !send(evs) {
				break
			}
		}
	}
	auditErr := recorded()
	inv.used = inv.usage.charged(rl.output)
	if !rl.done {
		// the reply's usage (message_delta) never came: what the upstream
		// produced is unknown, so the reservation is kept
		inv.used = max(inv.used, inv.reserved)
	}
	inv.s.log.InfoContext(ctx, "gateway stream", "request_id", inv.req.ID, "provider", inv.provider,
		"model", inv.model, "output_tokens", rl.output, "unknown_placeholders", len(rl.rs.unknown),
		"complete", rl.done && auditErr == nil, "audited", auditErr == nil)
	if auditErr != nil {
		inv.s.log.ErrorContext(ctx, "audit of streamed gateway call failed", "request_id", inv.req.ID, "err", auditErr)
	}
	return nil
}

func decodeUsage(raw []byte, u *Usage) error {
	m, err := object(raw, "reply")
	if err != nil {
		return err
	}
	return decodeField(m, "input_tokens", &u.InputTokens)
}

// invocation is one call's audit facts.
type invocation struct {
	s        *Service
	p        identity.Principal
	req      identity.Request
	ep       Endpoint
	patient  uuid.NullUUID
	start    time.Time
	sess     *phi.Session
	provider string
	model    string
	stream   bool
	status   int
	usage    Usage
	unknown  int
	pol      Policy
	retries  int   // overloaded attempts retried before this reply
	passed   int   // blocks and tools passed unredacted, as the org's policy allows
	reserved int64 // tokens reserved of the org's bucket
	used     int64 // tokens the upstream reported, settled against the reservation
	// admission waits for the org's rate limit to admit the call
	// (limiter.admitAside); giveBack gives its request back as well as
	// its unused tokens (a principal found stale: the call is served
	// again); settled: the reservation was settled with the call's event.
	admission func() admission
	giveBack  bool
	settled   bool
	// checked: Forward awaited Call.Confirmed (and set giveBack from its
	// answer); a later call of it may answer with the request's context's
	// end instead.
	checked bool
	// confirmed is Call.Confirmed: a refusal is recorded only for a
	// principal the credential check confirmed (one found stale is served
	// again, and refused then).
	confirmed func() error
}

func (inv *invocation) cred() postgres.Credential { return credOf(inv.p, inv.req) }

// event is the ai.invoke event: counts, model, tokens; never content.
func (inv *invocation) event(outcome string) audit.Event {
	d := map[string]any{
		"endpoint":   strings.TrimPrefix(string(inv.ep), "/v1/"),
		"stream":     inv.stream,
		"latency_ms": inv.s.now().Sub(inv.start).Milliseconds(),
	}
	if inv.provider != "" {
		// set once the gate accepted the provider and the model: a model
		// name the gate refused is the caller's own text, not written
		d["provider"] = inv.provider
		d["model"] = clip(inv.model, 100)
	}
	if inv.sess != nil {
		phiCounts := map[string]any{}
		for t, n := range inv.sess.Counts() {
			phiCounts[t.String()] = n
		}
		d["phi"] = phiCounts
	}
	if inv.status != 0 {
		d["upstream_status"] = inv.status
	}
	if inv.passed > 0 {
		d["unredacted_blocks"] = inv.passed
	}
	if inv.retries > 0 {
		d["upstream_retries"] = inv.retries
	}
	if inv.pol.Dates == "shift" {
		d["dates"] = "shift"
	}
	if outcome == audit.OutcomeSuccess {
		d["input_tokens"] = inv.usage.InputTokens
		if inv.ep == Messages {
			d["cache_creation_input_tokens"] = inv.usage.CacheCreationInputTokens
			d["cache_read_input_tokens"] = inv.usage.CacheReadInputTokens
			if !inv.stream {
				d["output_tokens"] = inv.usage.OutputTokens
				d["unknown_placeholders"] = inv.unknown
			}
		}
	}
	return audit.Event{Org: inv.p.OrgID, Action: "ai.invoke", Outcome: outcome, Patient: inv.patient,
		Request: inv.req.ID, IP: inv.req.IPString(), UserAgent: inv.req.UserAgent, Details: d}
}

// record writes the event in its own transaction bound to the caller's
// credential, in one round trip (audit.RecordAlone); an error fails the
// call.
func (inv *invocation) record(ctx context.Context, outcome string) error {
	return audit.RecordAlone(ctx, inv.s.db, inv.cred(), inv.event(outcome))
}

// recordSettled records a call that succeeded, as record does, and settles
// its reservation in the same transaction (one round trip, one commit).
func (inv *invocation) recordSettled(ctx context.Context) error {
	reservation, giveRequest, due := inv.due()
	if !due {
		return inv.record(ctx, audit.OutcomeSuccess)
	}
	var settled bool
	err := audit.RecordAloneWith(ctx, inv.s.db, inv.cred(), inv.event(audit.OutcomeSuccess), func(b *pgx.Batch) {
		queueSettle(b, reservation, inv.used, giveRequest).QueryRow(func(row pgx.Row) error { return row.Scan(&settled) })
	})
	inv.settled = err == nil
	if err == nil && !settled {
		inv.s.log.ErrorContext(ctx, "gateway rate limit not settled", "request_id", inv.req.ID, "err", errNotSettled)
	}
	return err
}

// due says whether the call has a reservation to settle (it was admitted
// and is not settled yet), which, and whether its request goes back too:
// when the call is served again (its principal was found stale, whether
// before or after the check's answer was awaited).
func (inv *invocation) due() (reservation int64, giveRequest, ok bool) {
	if inv.admission == nil || inv.settled {
		return 0, false, false
	}
	a := inv.admission()
	if a.err != nil || !a.ok {
		return 0, false, false
	}
	giveRequest = inv.giveBack
	if !inv.checked && inv.confirmed != nil {
		// a pass that ended before it awaited the check: served again
		// only when the check refused the principal as stale
		giveRequest = errors.Is(inv.confirmed(), postgres.ErrStalePrincipal)
	}
	return a.reservation, giveRequest, true
}

// settle settles the call's reservation in a transaction of its own,
// unless its event did; a failure is logged (ids only) and leaves the
// reservation spent.
func (inv *invocation) settle(ctx context.Context) {
	reservation, giveRequest, due := inv.due()
	if !due {
		return
	}
	inv.settled = true
	if err := inv.s.limits.settle(ctx, inv.cred(), reservation, inv.used, giveRequest); err != nil {
		inv.s.log.ErrorContext(ctx, "gateway rate limit not settled", "request_id", inv.req.ID, "err", err)
	}
}

// recordAside starts writing the event as record does, beside the caller,
// and returns a function that waits for the write and returns its error
// (the same each time). The write does not end with the client's
// connection: the call reached the upstream, so its event is written
// whether or not the client is still there to read the reply.
func (inv *invocation) recordAside(ctx context.Context, outcome string) func() error {
	e := inv.event(outcome)
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("gateway: the audit write panicked")
			}
		}()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		err = audit.RecordAlone(rctx, inv.s.db, inv.cred(), e)
	}()
	return func() error {
		<-done
		return err
	}
}

// recordTimeout bounds an event's write that no longer ends with the
// client's request.
const recordTimeout = 30 * time.Second

// deny records a refusal at the gate; failing to record it is logged (ids
// only) and does not change the refusal.
func (inv *invocation) deny(ctx context.Context, reason error) {
	if inv.confirmed != nil && inv.confirmed() != nil {
		return
	}
	e := inv.event(audit.OutcomeDenied)
	e.Details["reason"] = errkind.Code(reason)
	if err := audit.RecordDenied(ctx, inv.s.db, inv.cred(), e); err != nil {
		inv.s.log.ErrorContext(ctx, "audit of refused gateway call failed", "request_id", inv.req.ID, "err", err)
	}
}

// fail records a call that failed after the gate.
func (inv *invocation) fail(ctx context.Context, status int) {
	inv.status = status
	e := inv.event(audit.OutcomeFailure)
	if err := audit.RecordDenied(ctx, inv.s.db, inv.cred(), e); err != nil && !errors.Is(err, context.Canceled) {
		inv.s.log.ErrorContext(ctx, "audit of failed gateway call failed", "request_id", inv.req.ID, "err", err)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
