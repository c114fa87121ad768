package scim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Errors returned by the service, each of an errkind; the SCIM surface
// renders their codes as RFC 7644 §3.12 scimType values. They carry no PHI.
var (
	ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "scim: no live SCIM token").
				WithPublic("a live SCIM token is required: Authorization: Bearer scim_…")
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "scim: forbidden").
			WithPublic("your role in this org may not do this")

	// ErrStepUpRequired is the database's refusal (postgres.Refusal).
	ErrStepUpRequired = postgres.ErrStepUpRequired

	ErrInvalidInput  = errkind.New(errkind.Invalid, "invalid_input", "scim: invalid input")
	ErrInvalidSyntax = errkind.New(errkind.Invalid, "invalid_syntax", "scim: invalid syntax")
	ErrInvalidFilter = errkind.New(errkind.Invalid, "invalid_filter", "scim: invalid filter")
	ErrInvalidPath   = errkind.New(errkind.Invalid, "invalid_path", "scim: invalid path")
	ErrNoTarget      = errkind.New(errkind.Invalid, "no_target", "scim: no target")
	ErrMutability    = errkind.New(errkind.Invalid, "mutability", "scim: immutable attribute")
	ErrNotFound      = errkind.New(errkind.NotFound, "not_found", "scim: not found").
				WithPublic("no such resource in this org")
	ErrConflict = errkind.New(errkind.Conflict, "conflict", "scim: conflict")
)

// Config configures the service.
type Config struct {
	// BaseURL is Ward's public URL: resources' meta.location start with it.
	BaseURL string
}

// Service serves an org's directory over SCIM and manages its tokens.
type Service struct {
	db   *postgres.DB
	keys *keystore.Store
	cfg  Config
	log  *slog.Logger
}

// NewService returns a Service over db (the ward_app pool).
func NewService(db *postgres.DB, keys *keystore.Store, cfg Config, log *slog.Logger) *Service {
	return &Service{db: db, keys: keys, cfg: cfg, log: log}
}

// Authenticate resolves a presented SCIM token to its principal (kind
// scim_token, the token's org and id; no user, no role), marking the token
// used at most once a minute. A malformed token is refused before any
// lookup. Errors: ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (identity.Principal, error) {
	if !ValidToken(token) {
		return identity.Principal{}, ErrUnauthenticated
	}
	p := identity.Principal{Kind: identity.KindSCIM, CredentialHash: identity.HashToken(token)}
	err := s.db.InTenantTx(ctx, postgres.Credential{Hash: p.CredentialHash, Request: requestID(ctx)},
		func(ctx context.Context, tx pgx.Tx) error {
			var err error
			p.OrgID, p.CredentialID, err = scimMe(ctx, tx)
			return err
		})
	if errors.Is(err, pgx.ErrNoRows) {
		return identity.Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return identity.Principal{}, fmt.Errorf("scim: authenticate: %w", err)
	}
	return p, nil
}

// tokenTx runs fn in a transaction bound to the SCIM token of p, with the
// generated queries and the raw transaction.
func (s *Service) tokenTx(ctx context.Context, p identity.Principal, fn func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error) error {
	if p.Kind != identity.KindSCIM {
		return ErrUnauthenticated
	}
	cred := postgres.Credential{Hash: p.CredentialHash, Org: p.OrgID.String(), Request: requestID(ctx)}
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, tx, dbsqlc.New(tx))
	})
}

// failed records a refused or failed SCIM request in its own transaction
// (the business one rolled back) with a reason code, and returns err.
// Failing to record it is logged (ids only).
func (s *Service) failed(ctx context.Context, p identity.Principal, object uuid.UUID, err error) error {
	if p.Kind != identity.KindSCIM || err == nil {
		return err
	}
	req := identity.RequestFrom(ctx)
	reason := errkind.Code(err)
	if reason == "" || len(reason) > 40 {
		reason = "error"
	}
	cred := postgres.Credential{Hash: p.CredentialHash, Org: p.OrgID.String(), Request: req.ID}
	aerr := s.db.InTenantTx(context.WithoutCancel(ctx), cred, func(ctx context.Context, tx pgx.Tx) error {
		return dbsqlc.New(tx).SCIMFailure(ctx, dbsqlc.SCIMFailureParams{Reason: reason,
			Object: uuid.NullUUID{UUID: object, Valid: object != uuid.Nil}, Request: nullText(req.ID),
			Ip: nullText(req.IPString()), Ua: nullText(req.UserAgent)})
	})
	if aerr != nil {
		s.log.ErrorContext(ctx, "audit of failed SCIM request failed", "org", p.OrgID, "err", aerr)
	}
	return err
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
	case errors.As(err, &pe) && pe.Hint == "member":
		return errkind.Visible(ErrInvalidInput, "members must be Users of this org")
	case errors.As(err, &pe) && pe.Hint == "revoked_by_admin":
		return errkind.Visible(ErrMutability, "active cannot become true: an admin revoked this person's membership in Ward, "+
			"and the directory restores only those it deactivated; an admin adds the person again")
	case errors.As(err, &pe) && pe.Hint == "mutability":
		return errkind.Visible(ErrMutability, "userName is the person's sign-in address and cannot change through SCIM; "+
			"create a new User for a new address")
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	case postgres.IsCode(err, postgres.CodeNoDataFound):
		return ErrNotFound
	case postgres.IsCode(err, postgres.CodeUniqueViolation):
		return errkind.Visible(ErrConflict, "a resource with this userName, displayName or externalId already exists "+
			"in this org (or the person is a patient member, whom SCIM does not manage)")
	case postgres.IsCode(err, postgres.CodeCheckViolation):
		return errkind.Visible(ErrConflict, "the org's last admin cannot be deactivated, deleted or demoted; "+
			"make another member admin first")
	case postgres.IsCode(err, postgres.CodeInvalidParameter):
		return errkind.Visible(ErrInvalidInput, "a value is out of range")
	}
	return fmt.Errorf("scim: %s: %w", op, err)
}

func hashOf(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
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
		return identity.Principal{}, ErrUnauthenticated
	}
	return p, nil
}
