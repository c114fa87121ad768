// Package httpapi is Ward's HTTP front: four surfaces, each with its own
// middleware stack, error shape, body limit, deadline and security headers
// (surface.go), and the JSON API under /v1 (routes.go). Every route states
// what it needs of its caller; the middleware authenticates each request
// against the database and enforces that before the handler runs.
// Handlers call services; they never run SQL.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/scim"
	"github.com/wardhq/ward/internal/sso"
)

// Config configures the HTTP surfaces.
type Config struct {
	// BaseURL is the public URL clients reach Ward at, e.g.
	// https://ward.example.org. Its scheme decides cookie security: with
	// https, cookies are Secure with the __Host- prefix and responses carry
	// HSTS, whether Ward or a proxy in front of it terminates TLS. Its
	// origin is the one cookie-authenticated state-changing requests must
	// come from. Empty or malformed: plain cookies, and no Origin matches.
	BaseURL string
	// MaxBodyBytes bounds JSON API request bodies (default 1 MiB); a route
	// may set its own.
	MaxBodyBytes int64
	// Tracing, when not nil, gives each request a server span
	// (OpenTelemetry): named for its route pattern, with its method,
	// status and request id; a caller's W3C traceparent is linked, not
	// continued, so the provider's sampler alone decides which requests
	// are sampled (startSpan). No URL, address, header or body reaches a
	// span. Nil: no spans.
	Tracing trace.TracerProvider
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For the server believes. Empty: the peer address is the
	// client.
	TrustedProxies []netip.Prefix
	// RateLimit is how many requests per second one principal (org and
	// user) may make to authenticated routes on average, RateBurst how many
	// at once. Defaults 20 and 100; a negative RateLimit turns the limit off.
	RateLimit float64
	RateBurst int
	// SignInRateLimit is how many requests per second one client address
	// (an IPv6 /64) may make to the sign-in routes, which take no
	// credential (magic link, passkey and break-glass ceremonies, invite
	// acceptance), on average; SignInRateBurst how many at once. Defaults
	// 2 and 60 (a clinic's staff behind one address signing in at the
	// start of a shift); a negative SignInRateLimit turns it off.
	SignInRateLimit float64
	SignInRateBurst int
	// AuthFailRateLimit is how many failed credential checks per second
	// one client address (an IPv6 /64) may cause on average,
	// AuthFailRateBurst how many at once; past them its requests that
	// would need a full check are refused (429) before the database is
	// asked. Defaults 5 and 100; a negative AuthFailRateLimit turns it off.
	AuthFailRateLimit float64
	AuthFailRateBurst int
	// Now is the clock the rate limits above are measured with (a test
	// stops it, so that a slow machine's requests do not refill a bucket
	// while it is being emptied). Nil means time.Now.
	Now func() time.Time
	// MetricsFrom are the networks whose clients may read /metrics, besides
	// loopback (always): the figures say how the log, the archive and the
	// sinks are doing, which is nobody else's business.
	MetricsFrom []netip.Prefix
	// StallWindow is how long a route without a deadline (uploads,
	// downloads, exports, streams) lets its client go without progress: no
	// byte of the body for this long, a body slower than 1 KiB/s on average
	// after this long, or a response write the client does not take
	// within it ends the request. Default 30 s.
	StallWindow time.Duration
	// GatewayBodyBudget is how many bytes of LLM gateway request bodies
	// the node holds at once, over all callers (each body may be 32 MiB,
	// and each caller may have 16 calls open): a call whose body does not
	// fit is refused (503 overloaded_error, gateway_busy, retry after a
	// second) before more of it is read. Default 512 MiB; negative: no
	// budget.
	GatewayBodyBudget int64
}

// Deps are the services the API calls.
type Deps struct {
	Auth    *auth.Service
	Records *records.Service
	// Cases, when set, serves the case repository (else its routes
	// answer "no route").
	Cases *cases.Service
	Audit *audit.Service
	// Export, when set, serves audit exports and evidence bundles.
	Export *export.Service
	// Sinks, when set, serves the configuration of SIEM streams.
	Sinks *sink.Service
	// Gateway, when set, serves the LLM gateway under /llm (else its
	// routes answer "no route").
	Gateway *gateway.Service
	// SCIM, when set, serves SCIM 2.0 under /scim/v2 and the token
	// routes under /v1/scim (else they answer "no route").
	SCIM *scim.Service
	// SSO, when set, serves single sign-on under /v1/sso and refuses
	// sign-in links on domains whose org enforces SSO.
	SSO *sso.Service
	// Ready reports whether the service can answer (the database is
	// reachable), for /readyz.
	Ready func(ctx context.Context) error
	// Metrics, when set, writes the Prometheus text exposition of the
	// node's figures for GET /metrics (counts and durations, no ids).
	Metrics func(w io.Writer)
	// AuditKey is the verifier key of the audit log's signed checkpoints,
	// published at /.well-known/ward-audit-key ("" when none).
	AuditKey string
	Log      *slog.Logger
}

type server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	// secure is true when the public base URL is https; origin is its
	// origin (scheme://host[:port]) and root its root URL ("/" when unknown).
	secure bool
	origin string
	root   string
	limits *limiter
	// signInLimits limits the sign-in routes per client address.
	signInLimits *limiter
	// authFails limits failed credential checks per client address.
	authFails *limiter
	// streams counts each user's open requests without a deadline.
	streams streamCounts
	// gatewayBodies bounds the gateway request bodies held at once.
	gatewayBodies *bodyBudget

	api, console, scim, gateway *surface

	// tracer starts each request's server span (Config.Tracing; a no-op
	// tracer without it).
	tracer trace.Tracer
}

// NewServer returns the handler serving every surface: the JSON API under
// /v1 (and /healthz, /readyz), SCIM under /scim/v2, the LLM gateway under
// /llm and the web console at the root.
func NewServer(cfg Config, deps Deps) http.Handler {
	s := newServer(cfg, deps)
	s.routes()
	return s.handler()
}

func newServer(cfg Config, deps Deps) *server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 20
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = 100
	}
	if cfg.SignInRateLimit == 0 {
		cfg.SignInRateLimit = 2
	}
	if cfg.SignInRateBurst == 0 {
		cfg.SignInRateBurst = 60
	}
	if cfg.AuthFailRateLimit == 0 {
		cfg.AuthFailRateLimit = 5
	}
	if cfg.AuthFailRateBurst == 0 {
		cfg.AuthFailRateBurst = 100
	}
	if cfg.StallWindow <= 0 {
		cfg.StallWindow = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GatewayBodyBudget == 0 {
		cfg.GatewayBodyBudget = 512 << 20
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg, deps: deps, log: deps.Log, root: "/",
		limits:        newLimiter(cfg.RateLimit, cfg.RateBurst, 100_000),
		signInLimits:  newLimiter(cfg.SignInRateLimit, cfg.SignInRateBurst, 100_000),
		authFails:     newLimiter(cfg.AuthFailRateLimit, cfg.AuthFailRateBurst, 100_000),
		gatewayBodies: newBodyBudget(cfg.GatewayBodyBudget, gatewayMaxBody),
		tracer:        newTracer(cfg.Tracing)}
	if u, err := url.Parse(cfg.BaseURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		s.secure = u.Scheme == "https"
		s.origin = originOf(u)
		s.root = s.origin + strings.TrimSuffix(u.EscapedPath(), "/") + "/"
	}
	s.api = s.newSurface("api", writeProblem, cfg.MaxBodyBytes, 30*time.Second, apiHeaders)
	s.console = s.newSurface("console", s.writeConsoleError, 1<<20, 30*time.Second, consoleHeaders)
	s.scim = s.newSurface("scim", writeSCIMError, 1<<20, 30*time.Second, apiHeaders)
	s.gateway = s.newSurface("gateway", writeGatewayError, gatewayMaxBody, 10*time.Minute, apiHeaders)
	return s
}

// gatewayMaxBody is the LLM gateway's request body limit, the Messages
// API's own (413 above).
const gatewayMaxBody = 32 << 20

// originOf is the serialised origin of an absolute http(s) URL: lower-case
// scheme and host, the port only when it is not the scheme's default.
func originOf(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		host += ":" + port
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// Cookie names. With Secure cookies the __Host- prefix pins them to this
// host, path / and HTTPS.
func (s *server) sessionCookie() string  { return s.cookieName("ward_session") }
func (s *server) verifierCookie() string { return s.cookieName("ward_verifier") }
func (s *server) binderCookie() string   { return s.cookieName("ward_passkey") }
func (s *server) deviceCookie() string   { return s.cookieName("ward_device") }
func (s *server) cookieName(n string) string {
	if s.secure {
		return "__Host-" + n
	}
	return n
}

func requestIDFrom(ctx context.Context) string { return identity.RequestFrom(ctx).ID }

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// rightmost X-Forwarded-For address that is not itself a trusted proxy
// (entries further left are whatever the client claimed).
func (s *server) clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	a = a.Unmap()
	if !s.trusted(a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a // a malformed chain: trust only what we saw
		}
		if h = h.Unmap(); !s.trusted(h) {
			return h
		}
	}
	return a
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// writeJSON answers v as JSON with status. A value JSON cannot carry (a
// date-time outside years 0000 to 9999) is a 500 in the surface's shape,
// through its panic recovery, never status with an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeEncoded(w, status, "application/json", v)
}

// writeEncoded answers v as JSON with status and content type ct.
func writeEncoded(w http.ResponseWriter, status int, ct string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(unencodable{})
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// unencodable is the panic of an answer JSON cannot carry: the surface's
// recovery logs its type and answers 500.
type unencodable struct{}
