package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/netguard"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by the service, each of an errkind. Their public text
// says what the user can do; the reason behind a refused IdP answer is in
// the org's audit log.
var (
	ErrNoRoute = errkind.New(errkind.NotFound, "sso_no_route", "sso: no connection routes this address").
			WithPublic("no single sign-on serves this address; sign in with a link")
	ErrStateInvalid = errkind.New(errkind.Unauthenticated, "sso_state_invalid", "sso: unknown, spent or expired state").
			WithPublic("this sign-in expired or was already used; start again")
	ErrWrongBrowser = errkind.New(errkind.Unauthenticated, "sso_wrong_browser", "sso: state of another browser").
			WithPublic("finish signing in in the browser where you started")
	ErrRefused = errkind.New(errkind.Unauthenticated, "sso_refused", "sso: the IdP's answer was refused").
			WithPublic("your identity provider's answer could not be accepted; try again or ask your admin")
	ErrNoAccount = errkind.New(errkind.Forbidden, "sso_no_account", "sso: no member for this identity").
			WithPublic("this identity has no account in the organisation; ask an admin to add you")
	// ErrIdentityMismatch: the address names a member whose identity on
	// this connection is another subject of the IdP (migration 00177).
	ErrIdentityMismatch = errkind.New(errkind.Forbidden, "sso_identity_mismatch",
		"sso: the member is linked to another subject of this connection").
		WithPublic("this account at your identity provider is not the one linked to your Ward account; " +
			"sign in with that one, or ask an admin to re-link you")
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "sso: forbidden").
			WithPublic("your role in this org may not do this")

	// ErrStepUpRequired is the database's refusal (postgres.Refusal).
	ErrStepUpRequired = postgres.ErrStepUpRequired

	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "sso: invalid input")
	ErrNotFound     = errkind.New(errkind.NotFound, "not_found", "sso: not found").WithPublic("no such connection in this org")
	ErrConflict     = errkind.New(errkind.Conflict, "conflict", "sso: conflict")
	// ErrDomainGaps: enforcement was refused because some members'
	// addresses (or claimed domains) have no noted domain yet, so it could
	// not tell whom it binds (migration 00130).
	ErrDomainGaps = errkind.New(errkind.Conflict, "sso_domain_gaps", "sso: members' email domains not indexed").
			WithPublic("some members' email domains are not indexed yet, so enforcement cannot tell whom it binds: " +
			"the operator runs the domain backfill (ward serve with --ops-url indexes them at start-up; see docs/sso.md), then retry")
)

// Config configures the service.
type Config struct {
	// BaseURL is Ward's public URL; the OIDC redirect URI is
	// BaseURL/v1/sso/oidc/callback.
	BaseURL string
	// AllowNetworks are networks identity providers may be reached at
	// although the address guard refuses them (an on-premises IdP on a
	// private network: ward serve --sso-allow-networks; tests' IdPs on
	// 127.0.0.1). Without them Ward connects to IdPs over https only, at
	// public addresses only: loopback, link-local (cloud metadata),
	// unspecified, multicast and private addresses are refused at connect
	// time, after DNS resolution (internal/netguard).
	AllowNetworks []netip.Prefix
	// RootCAs are the CAs IdP certificates must chain to (nil: the system
	// roots).
	RootCAs *x509.CertPool
	// Skew is how far in the future an ID token's iat may be (default one
	// minute).
	Skew time.Duration
	// Resolver looks up the TXT records that verify domains and the IdPs'
	// addresses (default net.DefaultResolver).
	Resolver *net.Resolver
	// SAMLClock, when set, is the clock SAML responses are checked against
	// (tests replaying recorded responses); nil is the real clock.
	SAMLClock *dsig.Clock
}

// Service runs SSO sign-ins and manages connections.
type Service struct {
	db   *postgres.DB
	keys *keystore.Store
	cfg  Config
	log  *slog.Logger

	// guard is what IdP addresses may be; client is the guarded client
	// every request to an IdP goes through.
	guard  netguard.Config
	client *http.Client

	mu        sync.Mutex
	providers map[uuid.UUID]*cachedProvider
}

type cachedProvider struct {
	issuer string
	p      *oidc.Provider
}

// NewService returns a Service over db (the ward_app pool).
func NewService(db *postgres.DB, keys *keystore.Store, cfg Config, log *slog.Logger) *Service {
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	guard := netguard.Config{RefusePrivate: true, Allow: cfg.AllowNetworks, RootCAs: cfg.RootCAs, Resolver: cfg.Resolver,
		HTTPSOnly: true, MaxBody: maxIdPBody, Hint: "an operator may allow a network with --sso-allow-networks"}
	return &Service{db: db, keys: keys, cfg: cfg, log: log, guard: guard, client: guard.Client(),
		providers: map[uuid.UUID]*cachedProvider{}}
}

// maxIdPBody caps what Ward reads of one IdP answer (a discovery
// document, a key set, a token or userinfo response).
const maxIdPBody = 1 << 20

// ErrIdPAddress means Ward refused to connect to the connection's
// identity provider: it, or an endpoint its discovery document names, is
// not https or resolves to an address the guard refuses.
var ErrIdPAddress = errkind.New(errkind.Forbidden, "sso_idp_address_refused", "sso: IdP address refused").
	WithPublic("Ward does not connect to this identity provider's address (it must be https at a public address, " +
		"or on a network the operator allowed); ask your admin")

// refusedAddress reports whether err is the guard refusing an address or
// a URL that is not https (also when a library flattened the error).
func refusedAddress(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, netguard.ErrRefused) || errors.Is(err, netguard.ErrNotHTTPS) || errors.Is(err, ErrIdPAddress) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "refused: the endpoint resolves to") || strings.Contains(msg, netguard.ErrNotHTTPS.Error())
}

// checkURL refuses an IdP URL that is not https or whose host is an
// address literal the guard refuses (names are checked when connected to).
func (s *Service) checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: %s is not an https URL", ErrIdPAddress, what)
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := s.guard.Check(ip); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrIdPAddress, what, err)
		}
	}
	return nil
}

// RedirectURI is the OIDC redirect URI to register at the IdP.
func (s *Service) RedirectURI() string {
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/v1/sso/oidc/callback"
}

// provider returns the connection's OIDC provider (discovery fetched once,
// again when the issuer changes). Its key set refetches the JWKS when a
// token names a kid it does not hold.
func (s *Service) provider(ctx context.Context, conn uuid.UUID, issuer string) (*oidc.Provider, error) {
	s.mu.Lock()
	c := s.providers[conn]
	s.mu.Unlock()
	if c != nil && c.issuer == issuer {
		return c.p, nil
	}
	if err := s.checkURL("the issuer", issuer); err != nil {
		return nil, fmt.Errorf("sso: discovery of connection %s: %w", conn, err)
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client), issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discovery of connection %s: %w", conn, err)
	}
	// Every endpoint the discovery document names is https, and none is a
	// refused address literal (names are checked when connected to).
	var named struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&named); err != nil {
		return nil, fmt.Errorf("sso: discovery of connection %s: %w", conn, err)
	}
	ep := p.Endpoint()
	for _, e := range []struct{ what, url string }{{"authorization_endpoint", ep.AuthURL},
		{"token_endpoint", ep.TokenURL}, {"jwks_uri", named.JWKS}, {"userinfo_endpoint", p.UserInfoEndpoint()}} {
		if e.url == "" && e.what == "userinfo_endpoint" {
			continue
		}
		if err := s.checkURL(e.what, e.url); err != nil {
			return nil, fmt.Errorf("sso: discovery of connection %s: %w", conn, err)
		}
	}
	s.mu.Lock()
	s.providers[conn] = &cachedProvider{issuer: issuer, p: p}
	s.mu.Unlock()
	return p, nil
}

func secretAD(conn uuid.UUID) envelope.AD {
	return envelope.AD{Table: "sso_connections", Column: "client_secret", Org: keystore.InstanceOrg, Row: conn}
}

// newSecret returns 32 random bytes, base64url without padding.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("sso: crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// derive is HMAC-SHA256(binder, purpose|state), base64url: the PKCE
// verifier (43 characters, RFC 7636 §4.1) and the nonce of a sign-in.
func derive(binder, state, purpose string) string {
	m := hmac.New(sha256.New, []byte(binder))
	m.Write([]byte(purpose + "|" + state))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func requestID(ctx context.Context) string { return identity.RequestFrom(ctx).ID }

func principal(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return identity.Principal{}, ErrForbidden
	}
	return p, nil
}

// mapErr turns database errors into the service's.
func mapErr(op string, err error) error {
	if r := postgres.Refusal(err); r != nil {
		return r
	}
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*errkind.Sentinel)):
		return err
	case errors.As(err, &pe) && pe.ConstraintName == "sso_domain_gaps":
		if n, cerr := strconv.Atoi(pe.Detail); cerr == nil {
			return errkind.Visiblef(ErrDomainGaps, "%d members' addresses or claimed domains of this org are not indexed yet, "+
				"so enforcement cannot tell whom it binds: the operator runs the domain backfill (ward serve with --ops-url "+
				"indexes them at start-up; see docs/sso.md), then retry", n)
		}
		return ErrDomainGaps
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	case postgres.IsCode(err, postgres.CodeNoDataFound):
		return ErrNotFound
	case postgres.IsCode(err, postgres.CodeUniqueViolation):
		return errkind.Visible(ErrConflict, "this org already claimed the domain")
	case postgres.IsCode(err, postgres.CodeCheckViolation):
		return errkind.Visible(ErrInvalidInput, "a value is outside what a connection allows (see docs/sso.md)")
	case postgres.IsCode(err, postgres.CodeInvalidParameter):
		return errkind.Visible(ErrInvalidInput, "a value is out of range")
	}
	return fmt.Errorf("sso: %s: %w", op, err)
}
