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
// Assurance: a magic link is one factor (AAL1). TOTP (totp.go),
// recovery codes (recovery.go) and passkeys (passkeys.go) raise a session
// to AAL2 and rotate its token; a passkey with user verification is also a
// first factor on its own, and AAL2; admins and leads, and every role of an org that requires MFA,
// are pending below AAL2, and the database resolves a pending session to
// nobody for any data access. Admin API keys (apikeys.go) are credentials
// resolved by the same database function.
//
// Break-glass (breakglass.go): designated emergency-access users activate a
// 60-minute session that reads every patient of the org, with every event
// flagged and every admin mailed. Risk (risk.go): every sign-in is scored
// by the database, and at the org's threshold the session needs a passkey.
// Device binding (dpop.go, devicebinding.go): the roles an org lists must
// bind non-browser sessions to a DPoP key. docs/authentication.md is the
// developer's guide; docs/security-model.md says how the database decides.
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
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by the service, each of an errkind. They carry no PHI;
// the public text of ErrInvalidInput is what errkind.Visible adds.
var (
	ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "auth: no live session").
				WithPublic("a live session is required")
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "auth: forbidden").
			WithPublic("your role in this org may not do this")
	ErrRateLimited = errkind.New(errkind.RateLimited, "rate_limited", "auth: too many sign-in requests").
			WithPublic("too many sign-in requests; try again later")
	ErrLinkInvalid = errkind.New(errkind.Unauthenticated, "link_invalid", "auth: sign-in link is invalid").
			WithPublic("this sign-in link is not valid")
	ErrLinkExpired = errkind.New(errkind.Unauthenticated, "link_expired", "auth: sign-in link has expired").
			WithPublic("this sign-in link has expired; ask for a new one")
	ErrLinkUsed = errkind.New(errkind.Unauthenticated, "link_used", "auth: sign-in link was already used").
			WithPublic("this sign-in link was already used; ask for a new one")
	ErrWrongBrowser = errkind.New(errkind.Unauthenticated, "wrong_browser",
		"auth: sign-in link was requested from another browser").
		WithPublic("open the link in the browser where you asked for it")
	// ErrSessionRevoked, ErrSessionExpired and ErrSessionIdle tell the
	// holder of a session that no longer works why (they presented it).
	ErrSessionRevoked = errkind.New(errkind.Unauthenticated, "session_revoked", "auth: session revoked").
				WithPublic("this session was ended (signed out, revoked, or the membership changed); sign in again")
	ErrSessionExpired = errkind.New(errkind.Unauthenticated, "session_expired", "auth: session expired").
				WithPublic("this session reached its maximum lifetime; sign in again")
	ErrSessionIdle = errkind.New(errkind.Unauthenticated, "session_idle", "auth: session idle").
			WithPublic("this session ended after a period of inactivity; sign in again")
	// ErrSSORequired: the org enforces SSO and the person's address is on
	// one of its verified domains, so the database issues them no session
	// but one from the org's IdP (migration 00128).
	ErrSSORequired = errkind.New(errkind.Forbidden, "sso_required", "auth: the org requires its identity provider").
			WithPublic("your organisation signs you in through its identity provider: use single sign-on")
	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "auth: invalid input")
	ErrNotFound     = errkind.New(errkind.NotFound, "not_found", "auth: not found")
	ErrConflict     = errkind.New(errkind.Conflict, "conflict", "auth: conflict")
)

// Mailer sends a message; *mail.SMTP and *mail.Console are Mailers.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config configures the service.
type Config struct {
	// BaseURL is the public URL sign-in links point at, e.g. https://ward.example.
	// It is also the WebAuthn relying party: its host is the RP ID (a
	// domain name; passkeys are unavailable on an IP address) and its
	// origin the one origin passkey ceremonies are accepted from.
	BaseURL string
	// CheckTTL is how long a principal a session check resolved is served
	// from memory after the database last confirmed it, each use
	// confirmed in the request's own transaction (0: 30 s).
	CheckTTL time.Duration
	// Now is the clock CheckTTL is measured with. Nil means time.Now.
	Now func() time.Time
}

// VerifierTTL is the lifetime of the browser verifier a link request hands
// out: the instance's hard cap on a link's lifetime, so that the answer is
// the same for every address and the verifier outlives any link.
const VerifierTTL = time.Hour

// Service signs people in and manages sessions and members.
type Service struct {
	db     *postgres.DB
	keys   *keystore.Store
	mailer Mailer
	cfg    Config
	log    *slog.Logger
	// denials collapses a credential's flood of refusals (see audit.Collapser).
	denials *audit.Collapser
	// ssoDenials collapses a member's flood of sign-ins refused with
	// sso_required, keyed by the member (there is no credential yet).
	ssoDenials *audit.Collapser
	// rp is the WebAuthn relying party, derived from cfg.BaseURL on first use.
	rp *relyingParty
	// checks are the principals recent full session checks resolved
	// (CachedInTx).
	checks *checks
}

// NewService returns a Service. mailer receives sign-in links.
func NewService(db *postgres.DB, keys *keystore.Store, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	return &Service{db: db, keys: keys, mailer: mailer, cfg: cfg, log: log,
		denials: audit.NewCollapser(30, 25, time.Minute), ssoDenials: audit.NewCollapser(30, 25, time.Minute),
		rp: &relyingParty{}, checks: newChecks(cfg.CheckTTL, cfg.Now)}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// ipArg is the client's address as the procedures take it (text, cast to
// inet by the database), or nil when unknown.
func ipArg(r identity.Request) *string {
	if !r.IP.IsValid() {
		return nil
	}
	s := r.IP.String()
	return &s
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

// nullText is s, or nil (NULL) when s is empty.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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
	// Device is the device token this browser was given at an earlier
	// sign-in (RememberDevice), or empty. One that belongs to the
	// address's member lifts the per-address limit (migration 00144).
	Device string
}

// RequestLink creates and mails a sign-in link when Email belongs to a
// member (of Org, when given), and returns the browser verifier that the
// caller must keep (a cookie) and present with the link. The result is the
// same whether or not the address is known; only ErrRateLimited and
// ErrInvalidInput differ.
func (s *Service) RequestLink(ctx context.Context, req LinkRequest) (verifier string, err error) {
	if !validEmail(req.Email) {
		return "", errkind.Visible(ErrInvalidInput, "email address")
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
	var deviceHash []byte
	if validSecret(req.Device) {
		deviceHash = hashOf(req.Device)
	}
	var res dbsqlc.RequestMagicLinkRow
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		res, err = dbsqlc.New(tx).RequestMagicLink(ctx, dbsqlc.RequestMagicLinkParams{EmailBidx: bidx, OrgID: req.Org,
			TokenHash: tokenHash, VerifierHash: verifierHash, Ip: ipArg(c), IpHash: ipHash, Request: nullText(c.ID),
			Ua: nullText(c.UserAgent), DeviceHash: deviceHash})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("auth: request link: %w", err)
	}
	org, user, emailEnc, ttlMin := res.OrgID, res.UserID, res.EmailEnc, res.TtlMin
	switch deref(res.Status) {
	case "rate_limited":
		if res.RetryAfterS != nil {
			return "", errkind.WithRetry(ErrRateLimited, time.Duration(*res.RetryAfterS)*time.Second)
		}
		return "", ErrRateLimited
	case "created":
		// The link goes to the address the member registered, not to the
		// spelling that was typed (the blind index ignores case).
		to, err := keys.Open(emailEnc, emailAD(user.UUID))
		if err != nil {
			return "", fmt.Errorf("auth: request link: open stored address of user %s: %w", user.UUID, err)
		}
		ttl := time.Duration(*ttlMin) * time.Minute
		msg := mail.Message{
			To:      string(to),
			Subject: "Your sign-in link",
			Text: "Use this link to sign in. It works once, for " + ttl.String() +
				", in the browser where you asked for it:\n\n" + s.LinkURL(token) +
				"\n\nIf you did not ask to sign in, ignore this message.\n",
		}
		// Sent in the background: waiting for the SMTP exchange only for
		// known addresses would tell them apart by response time.
		s.sendLater(ctx, msg, org.UUID, user.UUID)
	}
	return verifier, nil
}

// sendLater sends msg in the background. A failure is logged (ids only),
// not returned: the person can ask for another link.
func (s *Service) sendLater(ctx context.Context, msg mail.Message, org, user uuid.UUID) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	go func() {
		defer cancel()
		if err := s.mailer.Send(mctx, msg); err != nil {
			s.log.ErrorContext(mctx, "sign-in link not delivered", "org", org, "user", user, "err", err)
		}
	}()
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
// ErrLinkExpired, ErrLinkUsed, ErrWrongBrowser, ErrSSORequired (the org
// signs the member in through its IdP; the link stays unspent); each is
// audited.
func (s *Service) ConsumeLink(ctx context.Context, token, verifier string) (Session, error) {
	return s.ConsumeLinkWithKey(ctx, token, verifier, "")
}

// ConsumeLinkWithKey is ConsumeLink for a sign-in that carried a verified
// DPoP proof of the key whose thumbprint is jkt: the sign-in's risk score
// then judges the device by that key rather than by its user agent
// (migration 00061). Bind the session to the key afterwards (BindDPoP).
func (s *Service) ConsumeLinkWithKey(ctx context.Context, token, verifier, jkt string) (Session, error) {
	c := identity.RequestFrom(ctx)
	if !validSecret(token) {
		return Session{}, ErrLinkInvalid
	}
	var verifierHash []byte
	if verifier != "" {
		verifierHash = hashOf(verifier)
	}
	sessToken, sessHash := newSecret()
	var res dbsqlc.ConsumeMagicLinkRow
	err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if jkt != "" {
			// The device key the server verified, as ward.dpop always is
			// (bound with no credential, in a statement of its own).
			if _, err := tx.Exec(ctx, postgres.BindSQL, postgres.BindArgs(ctx, postgres.Credential{DPoP: jkt})...); err != nil {
				return err
			}
		}
		var err error
		res, err = dbsqlc.New(tx).ConsumeMagicLink(ctx, dbsqlc.ConsumeMagicLinkParams{TokenHash: hashOf(token),
			VerifierHash: verifierHash, SessionHash: sessHash, Ip: ipArg(c), Ua: nullText(c.UserAgent), Request: nullText(c.ID)})
		return err
	})
	if IsSSORequired(err) {
		// The link's own check (consume_magic_link) audits in its
		// transaction; this is the sessions trigger's refusal, which rolled
		// that back.
		s.auditSSORequired(ctx, err, "magic_link")
		return Session{}, ErrSSORequired
	} else if err != nil {
		return Session{}, fmt.Errorf("auth: consume link: %w", err)
	}
	switch deref(res.Status) {
	case "ok":
	case "expired":
		return Session{}, ErrLinkExpired
	case "used":
		return Session{}, ErrLinkUsed
	case "wrong_browser":
		return Session{}, ErrWrongBrowser
	case "sso_required":
		return Session{}, ErrSSORequired
	default:
		return Session{}, ErrLinkInvalid
	}
	return Session{Token: sessToken, ID: res.SessionID.UUID, UserID: res.UserID.UUID, OrgID: res.OrgID.UUID,
		AbsoluteExpiresAt: *res.AbsoluteExpiresAt, IdleTimeout: time.Duration(*res.IdleTimeoutMin) * time.Minute}, nil
}

// Authenticate resolves a presented session token or admin API key to its
// principal, in one round trip (a key's scopes included), touching the
// session's last-seen time (a key's last use) at most once a minute. A
// malformed sk_live_ key is ErrAPIKeyMalformed, before any lookup.
// orgHint, when set, must name the session's org. It returns
// ErrUnauthenticated when the session is unknown, revoked, idle-expired or
// past its absolute expiry. binding is BrowserBinding for a session
// presented in the browser's cookie, or empty; a request with a DPoP proof
// goes through AuthenticateDPoP (a session bound to a key resolves only
// with that key's thumbprint, which comes with the proof's jti).
func (s *Service) Authenticate(ctx context.Context, token, orgHint, binding string) (identity.Principal, error) {
	p, _, err := s.authenticate(ctx, token, orgHint, binding, DPoPProof{}, false)
	return p, err
}

// AuthenticateInTx is Authenticate, leaving the transaction of the check
// open (postgres.RequestTx) with the principal sealed in it: the request's
// first tenant transaction (postgres.DB.InTenantBatch or InTenantTx with
// postgres.CredentialOf the principal, under Check.Context) continues it,
// so the credential is resolved once per request. The caller ends the
// Check when the request is done; on an error there is none to end.
func (s *Service) AuthenticateInTx(ctx context.Context, token, orgHint, binding string) (identity.Principal, Check, error) {
	p, rt, err := s.authenticate(ctx, token, orgHint, binding, DPoPProof{}, true)
	return p, Check{rt}, err
}

// A Check is a session check's transaction left open (AuthenticateInTx,
// AuthenticateDPoPInTx; a postgres.RequestTx). Its zero value is no
// transaction: Context returns ctx and End does nothing.
type Check struct{ rt *postgres.RequestTx }

// Context returns ctx carrying the check's transaction, for the request's
// first tenant transaction to continue. The handler that runs under it
// must reach that transaction without reading a request body or using
// another connection first.
func (c Check) Context(ctx context.Context) context.Context { return postgres.WithRequestTx(ctx, c.rt) }

// End commits the check's transaction if nothing took it over, and
// releases its connection; safe to call more than once.
func (c Check) End(ctx context.Context) { c.rt.End(ctx) }

// AuthenticateDPoPInTx is AuthenticateDPoP leaving the check's transaction
// open, as AuthenticateInTx does. The proof's jti is recorded before a
// savepoint, so it commits whatever the request's transaction does, and
// is recorded again on its own when that transaction is lost before it
// commits (a replayed proof is refused as before).
func (s *Service) AuthenticateDPoPInTx(ctx context.Context, token, orgHint string, proof DPoPProof) (identity.Principal, Check, error) {
	if err := proof.verified(); err != nil {
		return identity.Principal{}, Check{}, err
	}
	p, rt, err := s.authenticate(ctx, token, orgHint, proof.JKT, proof, true)
	return p, Check{rt}, err
}

// AuthenticateDPoP is Authenticate for a request that carries a DPoP proof
// the server verified (VerifyDPoP): the database resolves the credential
// with the proof's thumbprint and, in the same round trip, records the
// proof's jti for that key once the credential resolved. A jti seen before
// for the key (a replayed proof) is ErrDPoPInvalid, and nothing of the
// resolution is kept; a credential that does not resolve records no jti.
func (s *Service) AuthenticateDPoP(ctx context.Context, token, orgHint string, proof DPoPProof) (identity.Principal, error) {
	if err := proof.verified(); err != nil {
		return identity.Principal{}, err
	}
	p, _, err := s.authenticate(ctx, token, orgHint, proof.JKT, proof, false)
	return p, err
}

// complete refuses a proof without the key thumbprint, the jti or the
// iat that the database binds and records (the iat chooses the jti's ring,
// migration 00227: the database refuses a key bound without one).
func (p DPoPProof) complete() error {
	if p.JKT == "" || p.JTI == "" || p.IAT <= 0 {
		return errkind.Visible(ErrDPoPInvalid, "the proof has no key, no jti or no iat")
	}
	return nil
}

// verified is complete for a full check: a proof whose signature is
// pending (VerifyDPoPClaims) has it checked, or waited for, first, so that
// a full check never rests on a signature not known to verify.
func (p DPoPProof) verified() error {
	if err := p.Signature(); err != nil {
		return err
	}
	return p.complete()
}

func (s *Service) authenticate(ctx context.Context, token, orgHint, dpop string, proof DPoPProof, open bool) (identity.Principal, *postgres.RequestTx, error) {
	key := strings.HasPrefix(token, APIKeyPrefix)
	switch {
	case key && !ValidAPIKey(token):
		return identity.Principal{}, nil, ErrAPIKeyMalformed // no lookup for a typo
	case !key && !validSecret(token):
		return identity.Principal{}, nil, ErrUnauthenticated
	}
	cred := postgres.Credential{Hash: identity.HashToken(token), Org: orgHint, Request: identity.RequestFrom(ctx).ID, DPoP: dpop}
	s.checks.full.Add(1)
	p, rt, row, err := whoami(ctx, s.db, cred, proof, key, open)
	if err == nil && p.Kind != identity.KindAPIKey {
		p.Scopes = nil
	}
	if err == nil {
		s.remember(cred, p, row, proof.JTI != "")
	}
	if replayed(err) {
		return identity.Principal{}, nil, errDPoPReplayed
	}
	if errors.Is(err, pgx.ErrNoRows) {
		// Why, for the holder: a second round trip, on failures only.
		switch status, err := credentialStatus(ctx, s.db, cred.Hash); {
		case err != nil:
			s.log.ErrorContext(ctx, "credential status", "err", err)
		case status == "revoked":
			return identity.Principal{}, nil, ErrSessionRevoked
		case status == "expired":
			return identity.Principal{}, nil, ErrSessionExpired
		case status == "idle":
			return identity.Principal{}, nil, ErrSessionIdle
		}
		return identity.Principal{}, nil, ErrUnauthenticated
	}
	if err != nil {
		return identity.Principal{}, nil, fmt.Errorf("auth: authenticate: %w", err)
	}
	return p, rt, nil
}

// tx runs fn in a transaction bound to the principal's credential, with the
// generated queries on that transaction.
func (s *Service) tx(ctx context.Context, p identity.Principal, fn func(ctx context.Context, q *dbsqlc.Queries) error) error {
	cred := postgres.CredentialOf(p, requestID(ctx))
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, dbsqlc.New(tx))
	})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func requestID(ctx context.Context) string { return identity.RequestFrom(ctx).ID }

func principal(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return identity.Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func validEmail(s string) bool { return identity.ValidEmail(s) }

// denied records a refused request in its own transaction (the business
// transaction, if any, rolled back) and returns err. Failing to record it
// is logged (ids only) and does not change err.
func (s *Service) denied(ctx context.Context, p identity.Principal, action, objectType string, object uuid.UUID, err error) error {
	record, n := s.denials.Admit(p.CredentialID, time.Now())
	if !record {
		return err // counted in the next collapsed event
	}
	req := identity.RequestFrom(ctx)
	e := audit.Event{Org: p.OrgID, Action: action, Outcome: audit.OutcomeDenied, ObjectType: objectType,
		ObjectID: uuid.NullUUID{UUID: object, Valid: object != uuid.Nil},
		Request:  req.ID, IP: req.IPString(), UserAgent: req.UserAgent,
		Details: map[string]any{"reason": denialReason(err)}}
	if n > 1 {
		e.Details["collapsed"] = n
	}
	cred := postgres.CredentialOf(p, req.ID)
	if aerr := audit.RecordDenied(ctx, s.db, cred, e); aerr != nil {
		s.log.ErrorContext(ctx, "audit of denied request failed", "action", action, "org", p.OrgID, "err", aerr)
	}
	return err
}

func denialReason(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrConflict):
		return "conflict"
	}
	return "error"
}

// auditSSORequired records a sign-in the database refused with
// sso_required (err; see audit.RecordSSORequired) in a transaction of its
// own. Failing to record it is logged (ids only).
func (s *Service) auditSSORequired(ctx context.Context, err error, method string) {
	c := identity.RequestFrom(ctx)
	if aerr := audit.RecordSSORequired(ctx, s.db, s.ssoDenials, err, method, c.ID, c.IPString(), c.UserAgent); aerr != nil {
		s.log.ErrorContext(ctx, "audit of a sign-in refused for SSO failed", "method", method, "err", aerr)
	}
}

// IsSSORequired reports whether err is the database refusing a session
// that is not from the org's IdP to a member SSO binds (the trigger
// sessions_sso_required of migration 00128).
func IsSSORequired(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == postgres.CodeInsufficientPrivilege && pe.ConstraintName == "sso_required"
}
