package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "sso: forbidden").
			WithPublic("your role in this org may not do this")
	ErrStepUpRequired = errkind.New(errkind.Forbidden, "step_up_required", "sso: step-up required").
				WithPublic("present a second factor again (TOTP or a passkey), then retry within 10 minutes")
	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "sso: invalid input")
	ErrNotFound     = errkind.New(errkind.NotFound, "not_found", "sso: not found").WithPublic("no such connection in this org")
	ErrConflict     = errkind.New(errkind.Conflict, "conflict", "sso: conflict")
)

// Config configures the service.
type Config struct {
	// BaseURL is Ward's public URL; the OIDC redirect URI is
	// BaseURL/v1/sso/oidc/callback.
	BaseURL string
	// HTTPClient fetches discovery documents and keys and redeems codes
	// (default: a client with a 10-second timeout).
	HTTPClient *http.Client
	// Skew is how far in the future an ID token's iat may be (default one
	// minute).
	Skew time.Duration
	// Resolver looks up the TXT records that verify domains (default
	// net.DefaultResolver).
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

	mu        sync.Mutex
	providers map[uuid.UUID]*cachedProvider
}

type cachedProvider struct {
	issuer string
	p      *oidc.Provider
}

// NewService returns a Service over db (the ward_app pool).
func NewService(db *postgres.DB, keys *keystore.Store, cfg Config, log *slog.Logger) *Service {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	return &Service{db: db, keys: keys, cfg: cfg, log: log, providers: map[uuid.UUID]*cachedProvider{}}
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
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.HTTPClient), issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: discovery of connection %s: %w", conn, err)
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
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*errkind.Sentinel)):
		return err
	case errors.As(err, &pe) && pe.Hint == "step_up_required":
		return ErrStepUpRequired
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
