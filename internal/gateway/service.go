package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
}

// Service forwards Messages calls to the registered upstream.
type Service struct {
	db     *postgres.DB
	engine *phi.Engine
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	reg    *registryCache
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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxReplyBytes == 0 {
		cfg.MaxReplyBytes = 64 << 20
	}
	if cfg.RegistryTTL == 0 {
		cfg.RegistryTTL = DefaultRegistryTTL
	}
	return &Service{db: db, engine: engine, cfg: cfg, log: log, now: time.Now, reg: &registryCache{ttl: cfg.RegistryTTL}}
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
}

// LogValue reports sizes and ids only.
func (c Call) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("bytes", len(c.Body)), slog.Bool("record", c.Record != nil),
		slog.Any("patient", c.Patient))
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
	start := s.now()
	inv := invocation{s: s, p: p, req: identity.RequestFrom(ctx), ep: ep, patient: c.Patient, start: start}

	sess, err := s.engine.NewSession(c.Record, phi.SessionOptions{})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDeidentify, err)
	}
	defer sess.Close()
	body, m, err := redactRequest(ctx, sess, c.Body)
	if err != nil {
		return err
	}
	inv.model, inv.stream, inv.sess = m.Model, m.Stream && ep == Messages, sess

	prov, err := s.reg.get(ctx, s.db.Pool, s.cfg.Provider, s.now())
	if err == nil {
		err = gate(prov, m.Model, s.now())
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

	url := prov.BaseURL + string(ep)
	if c.Query != "" {
		url += "?" + c.Query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("gateway: build upstream request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Api-Key", key)
	version := c.Header.Get("Anthropic-Version")
	if version == "" {
		version = "2023-06-01"
	}
	req.Header.Set("Anthropic-Version", version)
	if b := c.Header.Values("Anthropic-Beta"); len(b) > 0 {
		req.Header.Set("Anthropic-Beta", strings.Join(b, ","))
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		// The URL holds no secret; the error may name the host.
		inv.fail(ctx, 0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrUpstream, err)
	}
	defer resp.Body.Close()
	inv.status = resp.StatusCode
	copyHeaders(w.Header(), resp.Header)

	if resp.StatusCode != http.StatusOK {
		return inv.relayError(ctx, resp, w)
	}
	if inv.stream && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return inv.relayStream(ctx, resp, w)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxReplyBytes+1))
	if err != nil || int64(len(raw)) > s.cfg.MaxReplyBytes {
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: read reply", ErrUpstream)
	}
	rs := newRestorer(sess)
	var out []byte
	if ep == CountTokens {
		out = raw // {"input_tokens": N}: nothing to restore
		_ = decodeUsage(raw, &inv.usage)
	} else if out, inv.usage, err = rs.reply(raw); err != nil {
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: unreadable reply", ErrUpstream)
	}
	inv.unknown = len(rs.unknown)
	if err := inv.record(ctx, audit.OutcomeSuccess); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

// relayHeaders are the upstream response headers passed to the client.
var relayHeaders = []string{"Request-Id", "Retry-After", "Retry-After-Ms", "X-Should-Retry"}

func copyHeaders(dst, src http.Header) {
	for _, k := range relayHeaders {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
	for k, v := range src {
		if strings.HasPrefix(strings.ToLower(k), "anthropic-ratelimit-") {
			dst[k] = v
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
// is recorded when the first event (message_start) has arrived and before
// anything is relayed; an audit failure refuses the call.
func (inv *invocation) relayStream(ctx context.Context, resp *http.Response, w http.ResponseWriter) error {
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	rl := newRelay(newRestorer(inv.sess))
	first, err := readEvent(br)
	if err != nil {
		inv.fail(ctx, resp.StatusCode)
		return fmt.Errorf("%w: stream ended before its first event", ErrUpstream)
	}
	out, herr := rl.handle(first)
	inv.usage = rl.input
	outcome := audit.OutcomeSuccess
	if first.typ() != "message_start" || herr != nil {
		outcome = audit.OutcomeFailure
	}
	if err := inv.record(ctx, outcome); err != nil {
		return err
	}
	if herr != nil {
		return fmt.Errorf("%w: %w", ErrUpstream, herr)
	}
	ctl := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(evs []event) bool {
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
	if !send(out) {
		return nil
	}
	for !rl.done {
		e, err := readEvent(br)
		if err != nil {
			if ctx.Err() == nil {
				// a stream that ends without message_stop must not look
				// like success
				send([]event{streamError("api_error", "the upstream stream ended before message_stop")})
			}
			break
		}
		evs, err := rl.handle(e)
		if err != nil {
			send([]event{streamError("api_error", "the upstream sent an event Ward cannot read")})
			break
		}
		if !send(evs) {
			break
		}
	}
	inv.s.log.InfoContext(ctx, "gateway stream", "request_id", inv.req.ID, "provider", inv.provider,
		"model", inv.model, "output_tokens", rl.output, "unknown_placeholders", len(rl.rs.unknown),
		"complete", rl.done)
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
}

func (inv *invocation) cred() postgres.Credential {
	return postgres.Credential{Hash: inv.p.CredentialHash, DPoP: inv.p.DPoP, Org: inv.p.OrgID.String(), Request: inv.req.ID}
}

// event is the ai.invoke event: counts, model, tokens; never content.
func (inv *invocation) event(outcome string) audit.Event {
	d := map[string]any{
		"endpoint":   strings.TrimPrefix(string(inv.ep), "/v1/"),
		"model":      clip(inv.model, 100),
		"stream":     inv.stream,
		"latency_ms": inv.s.now().Sub(inv.start).Milliseconds(),
	}
	if inv.provider != "" {
		d["provider"] = inv.provider
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
// credential; an error fails the call.
func (inv *invocation) record(ctx context.Context, outcome string) error {
	return inv.s.db.InTenantTx(ctx, inv.cred(), func(ctx context.Context, tx pgx.Tx) error {
		_, err := audit.Record(ctx, tx, inv.event(outcome))
		return err
	})
}

// deny records a refusal at the gate; failing to record it is logged (ids
// only) and does not change the refusal.
func (inv *invocation) deny(ctx context.Context, reason error) {
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
