package cases

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Hold is a legal hold on the org (no patient, no case), one patient or
// one case. While active it blocks document deletion (the org, the case's
// patient or the case) and audit retention (the org or the patient).
type Hold struct {
	ID          uuid.UUID  `json:"id"`
	PatientID   *uuid.UUID `json:"patient_id"`
	CaseID      *uuid.UUID `json:"case_id"`
	Reason      string     `json:"reason"`
	CreatedBy   uuid.UUID  `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ReleasedAt  *time.Time `json:"released_at"`
	ReleasedBy  *uuid.UUID `json:"released_by"`
	ReleaseNote string     `json:"release_note,omitempty"`
	Active      bool       `json:"active"`
}

// LogValue reports the id only.
func (h Hold) LogValue() slog.Value { return slog.StringValue(h.ID.String()) }

// HoldInput places a hold. Reason is free text (a matter or ticket
// reference, which may name the patient): it is sealed with the org's
// keys, as a release note is (migration 00280).
type HoldInput struct {
	PatientID *uuid.UUID `json:"patient_id"`
	CaseID    *uuid.UUID `json:"case_id"`
	Reason    string     `json:"reason"`
}

// LogValue keeps the reason out of logs.
func (in HoldInput) LogValue() slog.Value { return slog.StringValue("[hold input]") }

func (s *Service) admin(ctx context.Context) (call, error) {
	c, err := begin(ctx)
	if err == nil && c.p.Role != identity.RoleAdmin {
		err = ErrForbidden
	}
	return c, err
}

// PlaceHold places a legal hold (org admins). Errors: ErrInvalidInput
// (both a patient and a case, or an unknown one), ErrForbidden.
func (s *Service) PlaceHold(ctx context.Context, in HoldInput) (Hold, error) {
	c, err := s.admin(ctx)
	if err != nil {
		return Hold{}, err
	}
	if in.Reason, err = text("reason", in.Reason, 500, true); err != nil {
		return Hold{}, err
	}
	if in.PatientID != nil && in.CaseID != nil {
		return Hold{}, errkind.Visible(ErrInvalidInput, "a hold covers the org, one patient or one case: give at most one")
	}
	out := Hold{PatientID: in.PatientID, CaseID: in.CaseID, Reason: in.Reason, CreatedBy: c.p.UserID, Active: true}
	id := uuid.New()
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		reason, err := sealField(t.keys, "legal_holds", "reason", c.p.OrgID, id, in.Reason)
		if err != nil {
			return err
		}
		p := dbsqlc.PlaceHoldParams{OrgID: c.p.OrgID, ID: id, ReasonEnc: reason, CreatedBy: c.p.UserID}
		if in.PatientID != nil {
			p.PatientID = uuid.NullUUID{UUID: *in.PatientID, Valid: true}
		}
		if in.CaseID != nil {
			p.CaseID = uuid.NullUUID{UUID: *in.CaseID, Valid: true}
		}
		row, err := t.q.PlaceHold(ctx, p)
		if err != nil {
			return err
		}
		out.ID, out.CreatedAt = row.ID, row.CreatedAt
		e := c.event("legal_hold.place", "legal_hold", row.ID, uuid.Nil)
		e.Patient, e.Case = p.PatientID, p.CaseID
		return t.record(ctx, e)
	})
	if err = mapErr("place hold", err); err != nil {
		return Hold{}, s.denied(ctx, c, c.event("legal_hold.place", "legal_hold", uuid.Nil, uuid.Nil), err)
	}
	return out, nil
}

// ListHolds lists the org's legal holds, newest first (org admins).
func (s *Service) ListHolds(ctx context.Context, activeOnly bool) ([]Hold, error) {
	c, err := s.admin(ctx)
	if err != nil {
		return nil, err
	}
	out := []Hold{}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		rows, err := t.q.ListHolds(ctx, dbsqlc.ListHoldsParams{OrgID: c.p.OrgID, ActiveOnly: activeOnly})
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			h := Hold{ID: r.ID, PatientID: nullID(r.PatientID), CaseID: nullID(r.CaseID),
				CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, ReleasedAt: r.ReleasedAt, ReleasedBy: nullID(r.ReleasedBy),
				Active: r.ReleasedAt == nil}
			if h.Reason, err = openField(t.keys, "legal_holds", "reason", c.p.OrgID, r.ID, r.ReasonEnc); err != nil {
				return err
			}
			if h.ReleaseNote, err = openField(t.keys, "legal_holds", "release_note", c.p.OrgID, r.ID, r.ReleaseNoteEnc); err != nil {
				return err
			}
			out = append(out, h)
			ids = append(ids, r.ID)
		}
		e := c.event("legal_hold.list", "", uuid.Nil, uuid.Nil)
		e.Results = ids
		return t.record(ctx, e)
	})
	return out, mapErr("list holds", err)
}

// ReleaseHold releases an active hold with a note (org admins). Errors:
// ErrInvalidInput, ErrNotFound (unknown or already released), ErrForbidden.
func (s *Service) ReleaseHold(ctx context.Context, id uuid.UUID, note string) error {
	c, err := s.admin(ctx)
	if err != nil {
		return err
	}
	if note, err = text("note", note, 500, true); err != nil {
		return err
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		enc, err := sealField(t.keys, "legal_holds", "release_note", c.p.OrgID, id, note)
		if err != nil {
			return err
		}
		if _, err := t.q.ReleaseHold(ctx, dbsqlc.ReleaseHoldParams{OrgID: c.p.OrgID, ID: id,
			ReleasedBy: uuid.NullUUID{UUID: c.p.UserID, Valid: true}, NoteEnc: enc}); err != nil {
			return err
		}
		return t.record(ctx, c.event("legal_hold.release", "legal_hold", id, uuid.Nil))
	})
	if err = mapErr("release hold", err); err != nil {
		return s.denied(ctx, c, c.event("legal_hold.release", "legal_hold", id, uuid.Nil), err)
	}
	return nil
}
