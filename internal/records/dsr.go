package records

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// The kinds of data-subject request (DESIGN §8). The database sets each
// one's deadline from its kind (migration 00149): access 30 days,
// amendment and accounting 60, CCPA know, delete and correct 45, limit 15;
// one extension of 30 days for the HIPAA kinds, 45 for CCPA know, delete
// and correct, none for limit.
var DSRKinds = []string{"access", "amendment", "accounting", "ccpa_know", "ccpa_delete", "ccpa_correct", "ccpa_limit"}

// DSRExtensionReasons are the reasons an extension may give. They are codes,
// not text, so the queue holds no PHI in the clear.
var DSRExtensionReasons = []string{"volume", "complexity", "records_elsewhere", "identity_verification", "other"}

// DSROutcomes close a request.
var DSROutcomes = []string{"fulfilled", "denied", "withdrawn"}

// DSR is one data-subject request and its deadline.
type DSR struct {
	ID              uuid.UUID  `json:"id"`
	Kind            string     `json:"kind"`
	PatientID       *uuid.UUID `json:"patient_id"`
	SubjectUserID   *uuid.UUID `json:"subject_user_id"`
	RequestedBy     uuid.UUID  `json:"requested_by"`
	ReceivedAt      time.Time  `json:"received_at"`
	DueAt           time.Time  `json:"due_at"`
	ExtendedAt      *time.Time `json:"extended_at"`
	ExtendedBy      *uuid.UUID `json:"extended_by"`
	ExtensionReason *string    `json:"extension_reason"`
	Status          string     `json:"status"`
	ClosedAt        *time.Time `json:"closed_at"`
	ClosedBy        *uuid.UUID `json:"closed_by"`
	// Overdue is true while the request is open past its due date.
	Overdue bool `json:"overdue"`
}

// LogValue reports the id only.
func (d DSR) LogValue() slog.Value { return slog.StringValue(d.ID.String()) }

// DSRInput files a request: a kind and one subject. The HIPAA kinds name a
// patient; a CCPA request names a patient or a member of the org, and with
// neither it is about the caller.
type DSRInput struct {
	Kind          string     `json:"kind"`
	PatientID     *uuid.UUID `json:"patient_id"`
	SubjectUserID *uuid.UUID `json:"subject_user_id"`
}

// dsrRow is the columns every DSR query returns (sqlc makes one identical
// row type per query; each converts to this one).
type dsrRow dbsqlc.GetDSRRow

func (r dsrRow) dsr() DSR {
	return DSR{ID: r.ID, Kind: r.Kind, PatientID: nullPtr(r.PatientID), SubjectUserID: nullPtr(r.SubjectUserID),
		RequestedBy: r.RequestedBy, ReceivedAt: r.ReceivedAt, DueAt: r.DueAt, ExtendedAt: r.ExtendedAt,
		ExtendedBy: nullPtr(r.ExtendedBy), ExtensionReason: r.ExtensionReason, Status: r.Status,
		ClosedAt: r.ClosedAt, ClosedBy: nullPtr(r.ClosedBy), Overdue: r.Overdue != nil && *r.Overdue}
}

func nullPtr(n uuid.NullUUID) *uuid.UUID {
	if !n.Valid {
		return nil
	}
	return &n.UUID
}

func nullOf(p *uuid.UUID) uuid.NullUUID {
	if p == nil {
		return uuid.NullUUID{}
	}
	return uuid.NullUUID{UUID: *p, Valid: true}
}

// dsrEvent is the audit event of one request: its id, and its patient when
// it names one (so it shows in that patient's access report).
func (c call) dsrEvent(action string, d DSR) audit.Event {
	e := c.event(action, "dsr_request", d.ID)
	if d.PatientID != nil {
		e.Patient = uuid.NullUUID{UUID: *d.PatientID, Valid: true}
	}
	e.Details = map[string]any{"kind": d.Kind, "status": d.Status, "due_at": d.DueAt.UTC().Format(time.RFC3339)}
	if d.ExtensionReason != nil {
		e.Details["extension_reason"] = *d.ExtensionReason
	}
	return e
}

// OpenDSR files a data-subject request. An admin (a session, or an API key
// with the dsr scope) files for any subject of the org; a patient for their
// own record; any member a CCPA request about themself. The database sets
// the receipt and the deadline. Errors: ErrInvalidInput, ErrForbidden,
// ErrNotFound (a subject the caller cannot name).
func (s *Service) OpenDSR(ctx context.Context, in DSRInput) (DSR, error) {
	c, err := begin(ctx)
	if err != nil {
		return DSR{}, err
	}
	const action = "dsr.open"
	switch {
	case !slices.Contains(DSRKinds, in.Kind):
		return DSR{}, errkind.Visible(ErrInvalidInput, "kind is one of access, amendment, accounting, ccpa_know, ccpa_delete, ccpa_correct, ccpa_limit")
	case in.PatientID != nil && in.SubjectUserID != nil:
		return DSR{}, errkind.Visible(ErrInvalidInput, "a request names one subject: a patient_id or a subject_user_id")
	case in.PatientID == nil && !isCCPA(in.Kind):
		return DSR{}, errkind.Visible(ErrInvalidInput, "an access, amendment or accounting request names the patient (patient_id)")
	case in.PatientID == nil && in.SubjectUserID == nil && c.p.Kind == identity.KindAPIKey:
		return DSR{}, errkind.Visible(ErrInvalidInput, "an API key names the request's subject (patient_id or subject_user_id)")
	case in.PatientID == nil && in.SubjectUserID == nil:
		me := c.p.UserID
		in.SubjectUserID = &me
	}
	if c.p.UserID == uuid.Nil {
		return DSR{}, ErrForbidden
	}
	var out DSR
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		row, err := dbsqlc.New(tx).OpenDSR(ctx, dbsqlc.OpenDSRParams{OrgID: c.p.OrgID, Kind: in.Kind,
			PatientID: nullOf(in.PatientID), SubjectUserID: nullOf(in.SubjectUserID), RequestedBy: c.p.UserID})
		if err != nil {
			return err
		}
		out = dsrRow(row).dsr()
		_, err = audit.Record(ctx, tx, c.dsrEvent(action, out))
		return err
	})
	if err = mapDSRErr("open request", err); err != nil {
		e := c.event(action, "", uuid.Nil)
		e.Details = map[string]any{"kind": in.Kind}
		return DSR{}, s.denied(ctx, c, e, err)
	}
	return out, nil
}

func isCCPA(kind string) bool { return strings.HasPrefix(kind, "ccpa_") }

// ListDSR lists the requests the caller may see, open ones first by due
// date: all of the org's for an admin, their own (filed by them or about
// them) for anyone else. status and patient narrow the list when set.
func (s *Service) ListDSR(ctx context.Context, status string, patient *uuid.UUID) ([]DSR, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if status != "" && status != "open" && !slices.Contains(DSROutcomes, status) {
		return nil, errkind.Visible(ErrInvalidInput, "status is one of open, fulfilled, denied, withdrawn")
	}
	out := []DSR{}
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		p := dbsqlc.ListDSRParams{OrgID: c.p.OrgID, PatientID: nullOf(patient), Max: 1000}
		if status != "" {
			p.Status = &status
		}
		rows, err := dbsqlc.New(tx).ListDSR(ctx, p)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			out = append(out, dsrRow(r).dsr())
			ids = append(ids, r.ID)
		}
		e := c.event("dsr.list", "", uuid.Nil)
		if len(ids) > 0 {
			// in that patient's access report; an id that names no patient
			// here returns nothing, and the log takes no success about it
			e.Patient = nullOf(patient)
		}
		e.Results = ids
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	return out, mapDSRErr("list requests", err)
}

// GetDSR returns one request the caller may see. Errors: ErrNotFound.
func (s *Service) GetDSR(ctx context.Context, id uuid.UUID) (DSR, error) {
	c, err := begin(ctx)
	if err != nil {
		return DSR{}, err
	}
	var out DSR
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		row, err := dbsqlc.New(tx).GetDSR(ctx, dbsqlc.GetDSRParams{OrgID: c.p.OrgID, ID: id})
		if err != nil {
			return err
		}
		out = dsrRow(row).dsr()
		_, err = audit.Record(ctx, tx, c.dsrEvent("dsr.read", out))
		return err
	})
	if err = mapDSRErr("read request", err); err != nil {
		return DSR{}, s.denied(ctx, c, c.event("dsr.read", "dsr_request", id), err)
	}
	return out, nil
}

// ExtendDSR gives an open request its one extension, with a reason code,
// before its first period ends (admins). Errors: ErrInvalidInput,
// ErrNotFound, ErrForbidden, ErrConflict (closed, extended before, past
// due, or a kind that has no extension).
func (s *Service) ExtendDSR(ctx context.Context, id uuid.UUID, reason string) (DSR, error) {
	if !slices.Contains(DSRExtensionReasons, reason) {
		return DSR{}, errkind.Visible(ErrInvalidInput, "reason is one of volume, complexity, records_elsewhere, identity_verification, other")
	}
	return s.changeDSR(ctx, id, "dsr.extend", func(ctx context.Context, q *dbsqlc.Queries, org uuid.UUID) (dsrRow, error) {
		r, err := q.ExtendDSR(ctx, dbsqlc.ExtendDSRParams{OrgID: org, ID: id, Reason: &reason})
		return dsrRow(r), err
	})
}

// CloseDSR closes an open request as fulfilled, denied or withdrawn
// (admins). Errors: ErrInvalidInput, ErrNotFound, ErrForbidden, ErrConflict
// (already closed).
func (s *Service) CloseDSR(ctx context.Context, id uuid.UUID, outcome string) (DSR, error) {
	if !slices.Contains(DSROutcomes, outcome) {
		return DSR{}, errkind.Visible(ErrInvalidInput, "outcome is one of fulfilled, denied, withdrawn")
	}
	return s.changeDSR(ctx, id, "dsr.close", func(ctx context.Context, q *dbsqlc.Queries, org uuid.UUID) (dsrRow, error) {
		r, err := q.CloseDSR(ctx, dbsqlc.CloseDSRParams{OrgID: org, ID: id, Status: outcome})
		return dsrRow(r), err
	})
}

// changeDSR runs one change of an open request and audits it. An update
// that touches no row is explained: a request the caller cannot see is
// ErrNotFound, a closed one ErrConflict, an open one they may not change
// ErrForbidden.
func (s *Service) changeDSR(ctx context.Context, id uuid.UUID, action string,
	change func(ctx context.Context, q *dbsqlc.Queries, org uuid.UUID) (dsrRow, error)) (DSR, error) {
	c, err := begin(ctx)
	if err != nil {
		return DSR{}, err
	}
	var out DSR
	err = s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		row, err := change(ctx, q, c.p.OrgID)
		if errors.Is(err, pgx.ErrNoRows) {
			cur, gerr := q.GetDSR(ctx, dbsqlc.GetDSRParams{OrgID: c.p.OrgID, ID: id})
			switch {
			case errors.Is(gerr, pgx.ErrNoRows):
				return ErrNotFound
			case gerr != nil:
				return gerr
			case cur.Status != "open":
				return errkind.Visible(ErrConflict, "this request is closed")
			}
			return ErrForbidden
		}
		if err != nil {
			return err
		}
		out = row.dsr()
		_, err = audit.Record(ctx, tx, c.dsrEvent(action, out))
		return err
	})
	if err = mapDSRErr(action, err); err != nil {
		return DSR{}, s.denied(ctx, c, c.event(action, "dsr_request", id), err)
	}
	return out, nil
}

// mapDSRErr is mapErr with the queue's own refusals: the guard's 55000
// (closed, extended before, past due, no extension for the kind) is a
// conflict whose message the caller may read; a subject that does not
// exist is not found.
func mapDSRErr(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55000" && pe.Hint != "patient_shredded" {
		return errkind.Visible(ErrConflict, pe.Message) // the guard's own words, never data
	}
	return mapErr(op, err)
}
