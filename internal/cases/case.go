package cases

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// CaseInput is what a caller sets on a case. Title and Reference are PHI.
type CaseInput struct {
	PatientID uuid.UUID `json:"patient_id,omitempty"`
	Title     string    `json:"title"`
	// Reference is the case's external reference, such as a workers'
	// compensation claim number: unique in the org, found by exact match.
	Reference string `json:"reference,omitempty"`
}

// LogValue keeps PHI out of logs.
func (in CaseInput) LogValue() slog.Value { return slog.StringValue("[case input]") }

// Case is a case, decrypted, with its documents counted by status when
// read one at a time.
type Case struct {
	ID        uuid.UUID      `json:"id"`
	OrgID     uuid.UUID      `json:"org_id"`
	PatientID *uuid.UUID     `json:"patient_id"`
	Title     string         `json:"title"`
	Reference string         `json:"reference,omitempty"`
	Status    string         `json:"status"`
	OpenedAt  time.Time      `json:"opened_at"`
	ClosedAt  *time.Time     `json:"closed_at"`
	CreatedBy uuid.UUID      `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Documents map[string]int `json:"documents,omitempty"`
}

// LogValue reports ids only.
func (c Case) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID.String()), slog.String("org", c.OrgID.String()))
}

func caseFromRow(r dbsqlc.AppCase, k *envelope.OrgKeys) (Case, error) {
	c := Case{ID: r.ID, OrgID: r.OrgID, Status: r.Status, OpenedAt: r.OpenedAt, ClosedAt: r.ClosedAt,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.PatientID.Valid {
		p := r.PatientID.UUID
		c.PatientID = &p
	}
	var err error
	if c.Title, err = openField(k, "cases", "title", r.OrgID, r.ID, r.TitleEnc); err != nil {
		return c, err
	}
	c.Reference, err = openField(k, "cases", "reference", r.OrgID, r.ID, r.ReferenceEnc)
	return c, err
}

func referenceIndex(k *envelope.OrgKeys, ref string) []byte {
	return k.BlindIndex("cases.reference", envelope.NormalizeIdentifier(ref))
}

// CreateCase opens a case in the caller's org: admins and leads for any
// patient (or none), providers for a patient on their care team.
// Errors: ErrInvalidInput, ErrForbidden, ErrConflict (the reference is
// taken).
func (s *Service) CreateCase(ctx context.Context, in CaseInput) (Case, error) {
	c, err := begin(ctx)
	if err != nil {
		return Case{}, err
	}
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return Case{}, err
	}
	if in.Reference, err = text("reference", in.Reference, 64, false); err != nil {
		return Case{}, err
	}
	var out Case
	id := uuid.New()
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		title, err := sealField(t.keys, "cases", "title", c.p.OrgID, id, in.Title)
		if err != nil {
			return err
		}
		p := dbsqlc.CreateCaseParams{OrgID: c.p.OrgID, ID: id, TitleEnc: title, CreatedBy: c.p.UserID,
			PatientID: uuid.NullUUID{UUID: in.PatientID, Valid: in.PatientID != uuid.Nil}}
		if in.Reference != "" {
			if p.ReferenceEnc, err = sealField(t.keys, "cases", "reference", c.p.OrgID, id, in.Reference); err != nil {
				return err
			}
			p.ReferenceBidx = referenceIndex(t.keys, in.Reference)
		}
		row, err := t.q.CreateCase(ctx, p)
		if err != nil {
			return err
		}
		if out, err = caseFromRow(row, t.keys); err != nil {
			return err
		}
		e := c.event("case.create", "case", id, id)
		e.Patient = row.PatientID
		return t.record(ctx, e)
	})
	if err = mapErr("create case", err); err != nil {
		return Case{}, s.denied(ctx, c, c.event("case.create", "case", uuid.Nil, uuid.Nil), err)
	}
	return out, nil
}

// GetCase returns a case the caller may view, with its documents counted
// by status, and audits the view. Errors: ErrNotFound (also for a case of
// another org or one the caller holds no grant on).
func (s *Service) GetCase(ctx context.Context, id uuid.UUID) (Case, error) {
	c, err := begin(ctx)
	if err != nil {
		return Case{}, err
	}
	var out Case
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		row, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: id})
		if err != nil {
			return err
		}
		if out, err = caseFromRow(row, t.keys); err != nil {
			return err
		}
		counts, err := t.q.CaseDocumentCounts(ctx, dbsqlc.CaseDocumentCountsParams{OrgID: c.p.OrgID, CaseID: id})
		if err != nil {
			return err
		}
		out.Documents = map[string]int{"pending": 0, "overdue": 0, "complete": 0}
		for _, n := range counts {
			out.Documents[n.Status] = int(n.N)
		}
		e := c.event("case.view", "case", id, id)
		e.Patient = row.PatientID
		return t.record(ctx, e)
	})
	if err = mapErr("get case", err); err != nil {
		return Case{}, s.denied(ctx, c, c.event("case.view", "case", id, id), err)
	}
	return out, nil
}

// CaseFilter narrows a case list. Reference matches exactly (blind index).
type CaseFilter struct {
	Status    string
	Reference string
	PatientID uuid.UUID
	Limit     int // 1..MaxListPage, 0 means DefaultListPage
}

// ListCases returns the cases the caller may view, newest first, and audits
// the list with the ids it returned. Errors: ErrInvalidInput (the status
// or the limit).
func (s *Service) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if f.Status != "" && f.Status != "open" && f.Status != "closed" {
		return nil, errkind.Visible(ErrInvalidInput, "status is open or closed")
	}
	size, err := pageSize(f.Limit)
	if err != nil {
		return nil, err
	}
	out := []Case{}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		p := dbsqlc.ListCasesParams{OrgID: c.p.OrgID, Max: size,
			PatientID: uuid.NullUUID{UUID: f.PatientID, Valid: f.PatientID != uuid.Nil}}
		if f.Status != "" {
			p.Status = &f.Status
		}
		if f.Reference != "" {
			p.ReferenceBidx = referenceIndex(t.keys, f.Reference)
		}
		rows, err := t.q.ListCases(ctx, p)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			cs, err := caseFromRow(r, t.keys)
			if err != nil {
				return err
			}
			out = append(out, cs)
			ids = append(ids, r.ID)
		}
		e := c.event("case.list", "", uuid.Nil, uuid.Nil)
		e.Results = ids
		return t.record(ctx, e)
	})
	return out, mapErr("list cases", err)
}

// CaseUpdate changes a case; nil fields stay.
type CaseUpdate struct {
	Title     *string `json:"title"`
	Reference *string `json:"reference"`
	Status    *string `json:"status"`
}

// UpdateCase changes a case's title, reference or status (admins, leads,
// and providers of the case's patient). A closed case keeps its title and
// reference until it is reopened (the same update may reopen it). Errors:
// ErrInvalidInput, ErrNotFound, ErrForbidden, ErrConflict, ErrCaseClosed.
func (s *Service) UpdateCase(ctx context.Context, id uuid.UUID, u CaseUpdate) (Case, error) {
	c, err := begin(ctx)
	if err != nil {
		return Case{}, err
	}
	if u.Title != nil {
		v, err := text("title", *u.Title, 200, true)
		if err != nil {
			return Case{}, err
		}
		u.Title = &v
	}
	if u.Reference != nil {
		v, err := text("reference", *u.Reference, 64, false)
		if err != nil {
			return Case{}, err
		}
		u.Reference = &v
	}
	if u.Status != nil && *u.Status != "open" && *u.Status != "closed" {
		return Case{}, errkind.Visible(ErrInvalidInput, "status is open or closed")
	}
	var out Case
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: id}); err != nil {
			return err
		}
		if ok, err := managed(ctx, t.q, c, id); err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		p := dbsqlc.UpdateCaseParams{OrgID: c.p.OrgID, ID: id, Status: u.Status}
		if u.Title != nil {
			ct, err := sealField(t.keys, "cases", "title", c.p.OrgID, id, *u.Title)
			if err != nil {
				return err
			}
			p.TitleEnc = ct
		}
		if u.Reference != nil {
			p.SetReference = true
			if *u.Reference != "" {
				ct, err := sealField(t.keys, "cases", "reference", c.p.OrgID, id, *u.Reference)
				if err != nil {
					return err
				}
				p.ReferenceEnc, p.ReferenceBidx = ct, referenceIndex(t.keys, *u.Reference)
			}
		}
		row, err := t.q.UpdateCase(ctx, p)
		if err != nil {
			return err
		}
		if out, err = caseFromRow(row, t.keys); err != nil {
			return err
		}
		e := c.event("case.update", "case", id, id)
		e.Patient = row.PatientID
		e.Details = map[string]any{"title": u.Title != nil, "reference": u.Reference != nil, "status": row.Status}
		return t.record(ctx, e)
	})
	if err = mapErr("update case", err); err != nil {
		return Case{}, s.denied(ctx, c, c.event("case.update", "case", id, id), err)
	}
	return out, nil
}
