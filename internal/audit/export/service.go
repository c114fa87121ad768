package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// ErrNoSigner means this server has no audit signing key, so it cannot
// sign evidence bundles.
var ErrNoSigner = errkind.New(errkind.Unavailable, "no_audit_key", "export: no audit signing key").
	WithPublic("this server has no audit signing key yet, so it cannot sign evidence bundles")

// Service serves an org admin's exports of the org's own audit log. The
// route requires a recent second factor; the Service requires the admin
// role and records every export, refused or not.
type Service struct {
	db     *postgres.DB
	signer note.Signer
	opts   Options
	log    *slog.Logger
}

// NewService returns a Service; signer (the audit log's checkpoint key,
// nil when there is none) signs evidence bundles.
func NewService(db *postgres.DB, signer note.Signer, opts Options, log *slog.Logger) *Service {
	return &Service{db: db, signer: signer, opts: opts, log: log}
}

// Export writes the caller's org's events that filter selects to w in
// format f. It records audit.export (format and filter) and commits it
// before the first byte is written, sequences what is pending in a short
// transaction, then streams the events in a read-only one. w sees nothing
// when an error comes back before any event was read.
//
// Errors: audit.ErrUnauthenticated, audit.ErrForbidden (not an admin;
// the refusal is recorded), ErrInvalid, a database error or w's error.
func (s *Service) Export(ctx context.Context, f Format, filter Filter, w io.Writer) (Summary, error) {
	p, cred, err := s.begin(ctx, string(f), filter)
	if err != nil {
		return Summary{}, err
	}
	// Sequence what is pending (the export's own event too) in a short
	// transaction of its own: integration locks the org's head row, which
	// a long export must not hold.
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.Integrate(ctx, tx, p.OrgID)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	var sum Summary
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		sum, err = Write(ctx, tx, p.OrgID, filter.Selection(), f, s.opts, w)
		return err
	})
	return sum, err
}

// Bundle writes an evidence bundle (see WriteBundle) of the caller's
// org's events that filter selects, up to the newest signed checkpoint, in
// format f, to w; audited and refused as Export.
//
// Errors: as Export, and ErrNoSigner, audit.ErrNoCheckpoint, ErrEmpty.
func (s *Service) Bundle(ctx context.Context, f Format, filter Filter, w io.Writer) (BundleSummary, error) {
	if s.signer == nil {
		return BundleSummary{}, ErrNoSigner
	}
	p, cred, err := s.begin(ctx, "bundle+"+string(f), filter)
	if err != nil {
		return BundleSummary{}, err
	}
	var sum BundleSummary
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		sum, err = WriteBundle(ctx, tx, p.OrgID, filter, f, s.opts, s.signer, w)
		return err
	})
	return sum, err
}

// begin checks the caller and records the export, committed.
func (s *Service) begin(ctx context.Context, format string, filter Filter) (identity.Principal, postgres.Credential, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return p, postgres.Credential{}, audit.ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.CredentialOf(p, req.ID)
	details := filter.Details()
	details["format"] = format
	e := audit.Event{Org: p.OrgID, Action: ActionExport, Outcome: audit.OutcomeSuccess, Patient: filter.Patient,
		Request: req.ID, IP: req.IPString(), UserAgent: req.UserAgent, Details: details}
	if err := filter.Validate(); err != nil {
		return p, cred, err
	}
	if p.Role != identity.RoleAdmin {
		e.Outcome = audit.OutcomeDenied
		details["reason"] = "forbidden"
		if err := audit.RecordDenied(ctx, s.db, cred, e); err != nil {
			s.log.ErrorContext(ctx, "audit of denied export failed", "org", p.OrgID, "err", err)
		}
		return p, cred, fmt.Errorf("%w: exports are for admins", audit.ErrForbidden)
	}
	if err := audit.RecordAlone(ctx, s.db, cred, e); err != nil {
		if filter.Patient.Valid && postgres.IsCode(err, postgres.CodeInvalidParameter) {
			return p, cred, errkind.Visible(ErrInvalid, "no such patient in this org")
		}
		if errors.Is(err, audit.ErrInvalidEvent) {
			return p, cred, errkind.Visible(ErrInvalid, "the filter cannot be recorded")
		}
		return p, cred, fmt.Errorf("export: record export of org %s: %w", p.OrgID, err)
	}
	return p, cred, nil
}

// RecordOperator records an export made by an operator from the command
// line (`ward audit export`), through db's privileged connection, before
// the export is written: audit.export with the format, the filter and
// "via": "cli". The database records it with actor kind anonymous: the
// command has no user credential.
//
// Errors: ErrInvalid for a patient not in org; a database error.
func RecordOperator(ctx context.Context, db *postgres.DB, org uuid.UUID, format string, filter Filter) error {
	details := filter.Details()
	details["format"], details["via"] = format, "cli"
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = dbsqlc.New(db.Pool).AppendEventAs(ctx, dbsqlc.AppendEventAsParams{OrgID: org, Action: ActionExport,
		Outcome: audit.OutcomeSuccess, PatientID: filter.Patient, Results: []uuid.UUID{}, Details: b})
	if err != nil {
		if postgres.IsCode(err, postgres.CodeInvalidParameter) {
			return errkind.Visible(ErrInvalid, "no such patient in this org")
		}
		return fmt.Errorf("export: record export of org %s: %w", org, err)
	}
	return nil
}
