package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// ErrUnauthenticated means the context carries no principal.
var ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "audit: no live session").
	WithPublic("a live session is required")

// Service serves the org's own reads of its audit log. Every read is
// itself audited (audit.read), in the transaction that reads.
type Service struct {
	db      *postgres.DB
	log     *slog.Logger
	denials *Collapser
}

// NewService returns a Service.
func NewService(db *postgres.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, denials: NewCollapser(30, 25, time.Minute)}
}

// Refusal is a request refused before it reached a service: the caller is
// authenticated but the route needs another role, credential kind,
// assurance level or a fresher sign-in.
type Refusal struct {
	// Action is the registered action the request would have been.
	Action string
	// Reason is the refusal's stable code (e.g. "forbidden",
	// "step_up_required"); Route the route pattern.
	Reason, Route string
	// ObjectType, Object and Patient name what the path named, if anything.
	ObjectType string
	Object     uuid.UUID
	Patient    uuid.UUID
}

// Refused records r for the principal in the context, in its own short
// transaction; floods collapse like other refusals. Failing to record is
// logged (ids only): the request is refused either way.
func (s *Service) Refused(ctx context.Context, r Refusal) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return
	}
	record, n := s.denials.Admit(p.CredentialID, time.Now())
	if !record {
		return
	}
	req := identity.RequestFrom(ctx)
	e := Event{Org: p.OrgID, Action: r.Action, Outcome: OutcomeDenied, ObjectType: r.ObjectType,
		ObjectID: uuid.NullUUID{UUID: r.Object, Valid: r.Object != uuid.Nil},
		Patient:  uuid.NullUUID{UUID: r.Patient, Valid: r.Patient != uuid.Nil},
		Request:  req.ID, IP: req.IPString(), UserAgent: req.UserAgent,
		Details: map[string]any{"reason": r.Reason, "route": r.Route}}
	if n > 1 {
		e.Details["collapsed"] = n
	}
	cred := postgres.Credential{Hash: p.CredentialHash, Org: p.OrgID.String(), Request: req.ID}
	if err := RecordDenied(ctx, s.db, cred, e); err != nil {
		s.log.ErrorContext(ctx, "audit of refused request failed", "action", r.Action, "org", p.OrgID, "err", err)
	}
}

// Log returns a page of the caller's org audit log. Only admins may read it
// (row-level security enforces it; the check here makes the refusal clear
// and audited). Errors: ErrUnauthenticated, ErrForbidden (audited),
// ErrInvalidFilter.
func (s *Service) Log(ctx context.Context, f Filter) ([]Entry, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.Credential{Hash: p.CredentialHash, Org: p.OrgID.String(), Request: req.ID}
	event := func(outcome string, details map[string]any) Event {
		return Event{Org: p.OrgID, Action: "audit.read", Outcome: outcome, Request: req.ID, IP: req.IPString(),
			UserAgent: req.UserAgent, Details: details}
	}
	if p.Role != identity.RoleAdmin {
		if err := RecordDenied(ctx, s.db, cred, event(OutcomeDenied, map[string]any{"reason": "forbidden"})); err != nil {
			s.log.ErrorContext(ctx, "audit of denied request failed", "action", "audit.read", "org", p.OrgID, "err", err)
		}
		return nil, fmt.Errorf("%w: the audit log is for admins", ErrForbidden)
	}
	var out []Entry
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		// The freshest events too: sequence what is pending first.
		if _, _, err := Integrate(ctx, tx, p.OrgID); err != nil {
			return err
		}
		var err error
		if out, err = List(ctx, tx, p.OrgID, f); err != nil {
			return err
		}
		_, err = Record(ctx, tx, event(OutcomeSuccess, map[string]any{"count": len(out), "after": f.After}))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrInvalidFilter) {
			return nil, err
		}
		return nil, fmt.Errorf("audit: read log of org %s: %w", p.OrgID, err)
	}
	return out, nil
}
