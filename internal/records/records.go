// Package records holds patient records for the practice app: patients,
// their links to patient users, care-team assignments, and clinical entries
// (food with macros, symptoms, biomarkers).
//
// Rules:
//   - Who may see or change what is decided by the database (credential-bound
//     RLS); this package also filters on org and checks roles so that errors
//     are clear, but a bug here yields zero rows, not another tenant's data.
//   - Every identifying column is sealed with the org's AEAD keys, bound to
//     table|column|org|row; email and MRN are looked up by blind index.
//   - Every read, list (with the ids returned), create and update writes its
//     audit event in the same transaction; a denied access is audited in its
//     own transaction, since the business transaction rolls back.
//   - Patient and Entry values never reach a log: their LogValue is ids only.
package records

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by the service. They carry ids at most, never PHI.
var (
	ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "records: no live session").
				WithPublic("a live session is required")
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "records: forbidden").
			WithPublic("your role in this org may not do this")
	ErrNotFound     = errkind.New(errkind.NotFound, "not_found", "records: not found")
	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "records: invalid input")
	ErrConflict     = errkind.New(errkind.Conflict, "conflict", "records: conflict")
	// ErrShredded is a patient whose keyset was destroyed
	// (ShredPatient): the record is gone for good.
	ErrShredded = errkind.New(errkind.Gone, "patient_shredded", "records: patient shredded").
			WithPublic("the patient's record was crypto-shredded")
)

// Mailer sends mail; *mail.SMTP and *mail.Console are Mailers.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config configures the service's notices.
type Config struct {
	// Mailer tells patients of the steps in their requests (nil: no mail).
	Mailer Mailer
	// BaseURL is where a notice sends its reader to sign in.
	BaseURL string
}

// Service manages patient records.
type Service struct {
	db      *postgres.DB
	keys    *keystore.Store
	cfg     Config
	log     *slog.Logger
	denials *audit.Collapser
}

// NewService returns a Service.
func NewService(db *postgres.DB, keys *keystore.Store, cfg Config, log *slog.Logger) *Service {
	return &Service{db: db, keys: keys, cfg: cfg, log: log,
		denials: audit.NewCollapser(DenialsPerMinute, DenialBatch, time.Minute)}
}

// call carries what every method reads first: the principal and the
// request's metadata for the audit log.
type call struct {
	p   identity.Principal
	req identity.Request
}

func begin(ctx context.Context) (call, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return call{}, ErrUnauthenticated
	}
	return call{p: p, req: identity.RequestFrom(ctx)}, nil
}

func (c call) cred() postgres.Credential {
	return postgres.CredentialOf(c.p, c.req.ID)
}

// event returns an audit event of the caller's org with the client details.
func (c call) event(action, objectType string, object uuid.UUID) audit.Event {
	return audit.Event{
		Org: c.p.OrgID, Action: action, Outcome: "success", ObjectType: objectType,
		ObjectID: uuid.NullUUID{UUID: object, Valid: object != uuid.Nil},
		Request:  c.req.ID, IP: c.req.IPString(), UserAgent: c.req.UserAgent,
	}
}

// tx runs fn in a transaction bound to the caller's credential, with the
// org's keys.
func (s *Service) tx(ctx context.Context, c call, fn func(ctx context.Context, tx pgx.Tx, keys *envelope.OrgKeys) error) error {
	return s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		keys, err := s.keys.Org(ctx, tx, c.p.OrgID)
		if err != nil {
			if errors.Is(err, keystore.ErrNoKeys) {
				return ErrUnauthenticated
			}
			return err
		}
		return fn(ctx, tx, keys)
	})
}

// A credential's first DenialsPerMinute refusals in a minute are audited
// one by one; after that one event per DenialBatch refusals records how many
// it stands for (details.collapsed).
const (
	DenialsPerMinute = 30
	DenialBatch      = 25
)

// denied records a refused access in its own transaction and returns err.
// Failing to record it is logged (ids only) and does not change err.
func (s *Service) denied(ctx context.Context, c call, e audit.Event, err error) error {
	e.Outcome = "denied"
	if e.ObjectType == "patient" && e.ObjectID.Valid && !e.Patient.Valid {
		// So the denial shows in that patient's access report.
		e.Patient = e.ObjectID
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["reason"] = reason(err)
	record, n := s.denials.Admit(c.p.CredentialID, time.Now())
	if !record {
		return err // counted in the next collapsed event
	}
	if n > 1 {
		e.Details["collapsed"] = n
	}
	if aerr := audit.RecordDenied(ctx, s.db, c.cred(), e); aerr != nil {
		s.log.ErrorContext(ctx, "audit of denied access failed", "action", e.Action, "org", e.Org, "err", aerr)
	}
	return err
}

func reason(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrShredded):
		return "patient_shredded"
	case errors.Is(err, postgres.ErrStepUpRequired), errors.Is(err, postgres.ErrBreakGlassNotAllowed):
		return errkind.Code(err)
	}
	return "error"
}

// mapErr turns database refusals into the package's errors.
func mapErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden), errors.Is(err, ErrInvalidInput),
		errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrConflict), errors.Is(err, ErrShredded):
		return err
	case postgres.Hint(err, "55000") == "patient_shredded":
		return ErrShredded
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	case postgres.IsCode(err, postgres.CodeUniqueViolation):
		return errkind.Visiblef(ErrConflict, "%s: a record with the same unique value (such as the MRN) already exists", op)
	case postgres.IsCode(err, postgres.CodeForeignKeyViolation):
		return ErrNotFound
	}
	return fmt.Errorf("records: %s: %w", op, err)
}

func (c call) lead() bool { return c.p.Role == identity.RoleLead || c.p.Role == identity.RoleAdmin }
