// Package auth signs people in and checks their sessions.
//
// Magic links: 32 random bytes, only the SHA-256 stored, 15-minute lifetime,
// single use, bound to the requesting browser by a verifier whose hash is
// stored beside the link, rate-limited per address and per IP in the
// database (so every node shares the limits). Requesting a link answers the
// same whether or not the address belongs to anyone.
//
// Sessions: opaque 256-bit tokens; only their SHA-256 is stored, and ward_app
// cannot read it back. Every request presents the token; the database itself
// (app.whoami and the RLS helpers) decides whether it is live: not revoked,
// within its absolute expiry, and seen within its idle timeout. Idle timeout
// and absolute lifetime come from the org's policy, capped by the instance
// maxima in Config.
//
// Every sign-in, link request, session and membership event is written to the
// audit log in the transaction that does it; the SQL procedures in
// migrations/00004 do the writing.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by the service. They carry no PHI.
var (
	ErrUnauthenticated = errors.New("auth: no live session")
	ErrForbidden       = errors.New("auth: forbidden")
	ErrRateLimited     = errors.New("auth: too many sign-in requests")
	ErrLinkInvalid     = errors.New("auth: sign-in link is invalid")
	ErrLinkExpired     = errors.New("auth: sign-in link has expired")
	ErrLinkUsed        = errors.New("auth: sign-in link was already used")
	ErrWrongBrowser    = errors.New("auth: sign-in link was requested from another browser")
	ErrInvalidInput    = errors.New("auth: invalid input")
	ErrNotFound        = errors.New("auth: not found")
	ErrConflict        = errors.New("auth: conflict")
)

// Mailer sends a message; *mail.SMTP and *mail.Console are Mailers.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config is the instance's sign-in and session policy.
type Config struct {
	// BaseURL is the public URL sign-in links point at, e.g. https://ward.example.
	BaseURL string
	// LinkTTL is a magic link's lifetime (default 15 minutes).
	LinkTTL time.Duration
	// RateWindow, MaxPerEmail and MaxPerIP bound link requests (defaults 15
	// minutes, 5, 30).
	RateWindow  time.Duration
	MaxPerEmail int
	MaxPerIP    int
	// IdleMax and AbsoluteMax cap every org's session policy (defaults 8 h
	// and 7 days); an org may set anything at or below them.
	IdleMax     time.Duration
	AbsoluteMax time.Duration
}

func (c *Config) setDefaults() {
	if c.LinkTTL == 0 {
		c.LinkTTL = 15 * time.Minute
	}
	if c.RateWindow == 0 {
		c.RateWindow = 15 * time.Minute
	}
	if c.MaxPerEmail == 0 {
		c.MaxPerEmail = 5
	}
	if c.MaxPerIP == 0 {
		c.MaxPerIP = 30
	}
	if c.IdleMax == 0 {
		c.IdleMax = 8 * time.Hour
	}
	if c.AbsoluteMax == 0 {
		c.AbsoluteMax = 7 * 24 * time.Hour
	}
}

// Service signs people in and manages sessions and members.
type Service struct {
	db     *postgres.DB
	keys   *keystore.Store
	mailer Mailer
	cfg    Config
	log    *slog.Logger
}

// NewService returns a Service. mailer receives sign-in links.
func NewService(db *postgres.DB, keys *keystore.Store, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	cfg.setDefaults()
	return &Service{db: db, keys: keys, mailer: mailer, cfg: cfg, log: log}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

func ipArg(r identity.Request) any {
	if !r.IP.IsValid() {
		return nil
	}
	return r.IP.String()
}

// ipKey is the rate-limit key of the client's address: IPv4 addresses one
// by one, IPv6 by /64 (one host usually holds a whole /64).
func ipKey(ip netip.Addr) string {
	key := ip.String()
	if ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			key = p.String()
		}
	}
	return key
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newSecret returns 32 random bytes, base64url without padding, and its SHA-256.
func newSecret() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err)) // never returns an error on Linux
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:]
}

func hashOf(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// validSecret reports whether s looks like a token this package issued.
func validSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// emailIndex returns the instance blind index of an email address.
func (s *Service) emailIndex(ctx context.Context, email string) ([]byte, *envelope.OrgKeys, error) {
	keys, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return nil, nil, err
	}
	return keys.BlindIndex("users.email", envelope.NormalizeEmail(email)), keys, nil
}

// LinkRequest asks for a sign-in link.
type LinkRequest struct {
	Email string
	Org   uuid.NullUUID
}

// RequestLink creates and mails a sign-in link when Email belongs to a
// member (of Org, when given), and returns the browser verifier that the
// caller must keep (a cookie) and present with the link. The result is the
// same whether or not the address is known; only ErrRateLimited and
// ErrInvalidInput differ.
func (s *Service) RequestLink(ctx context.Context, req LinkRequest) (verifier string, err error) {
	if !validEmail(req.Email) {
		return "", fmt.Errorf("%w: email address", ErrInvalidInput)
	}
	c := identity.RequestFrom(ctx)
	bidx, keys, err := s.emailIndex(ctx, req.Email)
	if err != nil {
		return "", err
	}
	// The source's rate-limit key, salted by the instance PRF key so that
	// the stored hashes cannot be reversed by enumerating addresses.
	ipHash := keys.BlindIndex("auth.ip", ipKey(c.IP))
	token, tokenHash := newSecret()
	verifier, verifierHash := newSecret()
	var status string
	var org, user uuid.NullUUID
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select status, org_id, user_id from app.request_magic_link(
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			bidx, req.Org, tokenHash, verifierHash, ipArg(c), ipHash,
			int(s.cfg.LinkTTL/time.Minute), int(s.cfg.RateWindow/time.Minute), s.cfg.MaxPerEmail, s.cfg.MaxPerIP,
			nullText(c.ID), nullText(c.UserAgent)).Scan(&status, &org, &user)
	})
	if err != nil {
		return "", fmt.Errorf("auth: request link: %w", err)
	}
	switch status {
	case "rate_limited":
		return "", ErrRateLimited
	case "created":
		msg := mail.Message{
			To:      req.Email,
			Subject: "Your sign-in link",
			Text: "Use this link to sign in. It works once, for " + s.cfg.LinkTTL.String() +
				", in the browser where you asked for it:\n\n" + s.LinkURL(token) +
				"\n\nIf you did not ask to sign in, ignore this message.\n",
		}
		// Sent in the background: waiting for the SMTP exchange only for
		// known addresses would tell them apart by response time. A failure
		// is logged, not returned; the user can ask again.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		go func() {
			defer cancel()
			if err := s.mailer.Send(mctx, msg); err != nil {
				s.log.ErrorContext(mctx, "sign-in link not delivered", "org", org.UUID, "user", user.UUID, "err", err)
			}
		}()
	}
	return verifier, nil
}

// LinkURL returns the sign-in URL for a link token.
func (s *Service) LinkURL(token string) string {
	return s.cfg.BaseURL + "/v1/auth/magic?token=" + token
}

// Session is a newly issued session. Token is the secret the client
// presents; it is shown once and stored nowhere.
type Session struct {
	Token             string
	ID                uuid.UUID
	UserID            uuid.UUID
	OrgID             uuid.UUID
	AbsoluteExpiresAt time.Time
	IdleTimeout       time.Duration
}

// ConsumeLink spends a sign-in link presented with the verifier of the
// browser that asked for it, and issues a session. Errors: ErrLinkInvalid,
// ErrLinkExpired, ErrLinkUsed, ErrWrongBrowser; each is audited.
func (s *Service) ConsumeLink(ctx context.Context, token, verifier string) (Session, error) {
	c := identity.RequestFrom(ctx)
	if !validSecret(token) {
		return Session{}, ErrLinkInvalid
	}
	var verifierHash []byte
	if verifier != "" {
		verifierHash = hashOf(verifier)
	}
	sessToken, sessHash := newSecret()
	var status string
	var sess Session
	var sid, uid, oid uuid.NullUUID
	var abs *time.Time
	var idle *int
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select status, session_id, user_id, org_id, absolute_expires_at, idle_timeout_min
			from app.consume_magic_link($1, $2, $3, $4, $5, $6, $7, $8)`,
			hashOf(token), verifierHash, sessHash, int(s.cfg.IdleMax/time.Minute), int(s.cfg.AbsoluteMax/time.Minute),
			ipArg(c), nullText(c.UserAgent), nullText(c.ID)).Scan(&status, &sid, &uid, &oid, &abs, &idle)
	})
	if err != nil {
		return Session{}, fmt.Errorf("auth: consume link: %w", err)
	}
	switch status {
	case "ok":
	case "expired":
		return Session{}, ErrLinkExpired
	case "used":
		return Session{}, ErrLinkUsed
	case "wrong_browser":
		return Session{}, ErrWrongBrowser
	default:
		return Session{}, ErrLinkInvalid
	}
	sess = Session{Token: sessToken, ID: sid.UUID, UserID: uid.UUID, OrgID: oid.UUID, AbsoluteExpiresAt: *abs,
		IdleTimeout: time.Duration(*idle) * time.Minute}
	return sess, nil
}

// Authenticate resolves a presented session token to its principal, in one
// round trip, touching the session's last-seen time at most once a minute.
// orgHint, when set, must name the session's org. It returns
// ErrUnauthenticated when the session is unknown, revoked, idle-expired or
// past its absolute expiry.
func (s *Service) Authenticate(ctx context.Context, token, orgHint string) (identity.Principal, error) {
	requestID := identity.RequestFrom(ctx).ID
	if !validSecret(token) {
		return identity.Principal{}, ErrUnauthenticated
	}
	p := identity.Principal{CredentialHash: identity.HashToken(token)}
	b := &pgx.Batch{}
	b.Queue(`select set_config('ward.credential', $1, true), set_config('ward.org', $2, true), set_config('ward.request', $3, true)`,
		p.CredentialHash, orgHint, requestID)
	var role string
	b.Queue(`select user_id, org_id, role, session_id from app.whoami()`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&p.UserID, &p.OrgID, &role, &p.SessionID)
	})
	if err := s.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return identity.Principal{}, ErrUnauthenticated
		}
		return identity.Principal{}, fmt.Errorf("auth: authenticate: %w", err)
	}
	p.Role = identity.Role(role)
	return p, nil
}

// tx runs fn in a transaction bound to the principal's credential.
func (s *Service) tx(ctx context.Context, p identity.Principal, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.db.InTenantTx(ctx, postgres.Credential{Hash: p.CredentialHash, Org: p.OrgID.String(), Request: requestID(ctx)}, fn)
}

func requestID(ctx context.Context) string { return identity.RequestFrom(ctx).ID }

func principal(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return identity.Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func validEmail(s string) bool {
	if len(s) < 3 || len(s) > 254 {
		return false
	}
	at := -1
	for i, r := range s {
		switch {
		case r == '@':
			if at >= 0 {
				return false
			}
			at = i
		case r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';':
			return false
		}
	}
	return at > 0 && at < len(s)-1
}
