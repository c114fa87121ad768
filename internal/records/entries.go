package records

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// EntryInput is a clinical entry: a food (with macros), a symptom or a
// biomarker. Note is free text and PHI; the coded fields are not
// identifiers.
type EntryInput struct {
	Kind       string    `json:"kind"` // food | symptom | biomarker
	Name       string    `json:"name"`
	Value      *float64  `json:"value,omitempty"`
	Unit       string    `json:"unit,omitempty"`
	Kcal       *float64  `json:"kcal,omitempty"`
	ProteinG   *float64  `json:"protein_g,omitempty"`
	CarbsG     *float64  `json:"carbs_g,omitempty"`
	FatG       *float64  `json:"fat_g,omitempty"`
	ObservedAt time.Time `json:"observed_at"`
	Note       string    `json:"note,omitempty"`
}

// Entry is a stored clinical entry, decrypted.
type Entry struct {
	ID        uuid.UUID `json:"id"`
	PatientID uuid.UUID `json:"patient_id"`
	CreatedBy uuid.UUID `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	EntryInput
}

// LogValue keeps the note out of logs.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", e.ID.String()), slog.String("patient", e.PatientID.String()))
}

// Validate checks the input; its errors name fields, never values.
func (in *EntryInput) Validate() error {
	bad := func(field, rule string) error { return fmt.Errorf("%w: %s %s", ErrInvalidInput, field, rule) }
	switch {
	case in.Kind != "food" && in.Kind != "symptom" && in.Kind != "biomarker":
		return bad("kind", "must be food, symptom or biomarker")
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 200 || !utf8.ValidString(in.Name):
		return bad("name", "is required, at most 200 characters")
	case len(in.Unit) > 32:
		return bad("unit", "is at most 32 characters")
	case in.ObservedAt.IsZero():
		return bad("observed_at", "is required (RFC 3339)")
	case in.ObservedAt.After(time.Now().Add(24 * time.Hour)):
		return bad("observed_at", "is in the future")
	case utf8.RuneCountInString(in.Note) > 10000 || !utf8.ValidString(in.Note):
		return bad("note", "is at most 10000 characters")
	}
	return nil
}

func noteAD(org, id uuid.UUID) envelope.AD {
	return envelope.AD{Table: "clinical_entries", Column: "note", Org: org, Row: id}
}

const entryCols = `id, patient_id, kind, name, value, coalesce(unit, ''), kcal, protein_g, carbs_g, fat_g, observed_at, note_enc, created_by, created_at`

func scanEntry(row pgx.Row, k *envelope.OrgKeys, org uuid.UUID) (Entry, error) {
	var e Entry
	var note []byte
	if err := row.Scan(&e.ID, &e.PatientID, &e.Kind, &e.Name, &e.Value, &e.Unit, &e.Kcal, &e.ProteinG, &e.CarbsG,
		&e.FatG, &e.ObservedAt, &note, &e.CreatedBy, &e.CreatedAt); err != nil {
		return e, err
	}
	if note != nil {
		pt, err := k.Open(note, noteAD(org, e.ID))
		if err != nil {
			return e, fmt.Errorf("records: open entry %s note: %w", e.ID, err)
		}
		e.Note = string(pt)
	}
	return e, nil
}

// CreateEntry adds a clinical entry to a patient's record (the patient
// themself, an assigned provider, a lead or an admin). Errors:
// ErrInvalidInput, ErrNotFound (audited).
func (s *Service) CreateEntry(ctx context.Context, patient uuid.UUID, in EntryInput) (Entry, error) {
	c, err := begin(ctx)
	if err != nil {
		return Entry{}, err
	}
	if err := in.Validate(); err != nil {
		return Entry{}, err
	}
	var e Entry
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		id := uuid.New()
		var note []byte
		if in.Note != "" {
			if note, err = k.Seal([]byte(in.Note), noteAD(c.p.OrgID, id)); err != nil {
				return err
			}
		}
		e, err = scanEntry(tx.QueryRow(ctx, `insert into app.clinical_entries (org_id, id, patient_id, kind, name, value,
			unit, kcal, protein_g, carbs_g, fat_g, observed_at, note_enc, created_by)
			values ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8, $9, $10, $11, $12, $13, $14) returning `+entryCols,
			c.p.OrgID, id, patient, in.Kind, in.Name, in.Value, in.Unit, in.Kcal, in.ProteinG, in.CarbsG, in.FatG,
			in.ObservedAt, note, c.p.UserID), k, c.p.OrgID)
		if err != nil {
			return err
		}
		ev := c.event("entry.create", "clinical_entry", id)
		ev.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		ev.Details = map[string]any{"kind": in.Kind}
		_, err = audit.Record(ctx, tx, ev)
		return err
	})
	err = mapErr("create entry", err)
	if err == ErrForbidden || err == ErrNotFound {
		ev := c.event("entry.create", "patient", patient)
		return Entry{}, s.denied(ctx, c, ev, ErrNotFound)
	}
	return e, err
}

// ListEntries returns a patient's entries, newest first (at most limit,
// 1..500), and audits the list with the ids returned. Errors: ErrNotFound
// (audited) when the caller may not see the patient.
func (s *Service) ListEntries(ctx context.Context, patient uuid.UUID, limit int) ([]Entry, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return nil, fmt.Errorf("%w: limit must be 1..500", ErrInvalidInput)
	}
	var out []Entry
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		var visible bool
		if err := tx.QueryRow(ctx, `select exists (select from app.patients where org_id = $1 and id = $2)`,
			c.p.OrgID, patient).Scan(&visible); err != nil {
			return err
		}
		if !visible {
			return ErrNotFound
		}
		rows, err := tx.Query(ctx, `select `+entryCols+` from app.clinical_entries
			where org_id = $1 and patient_id = $2 order by observed_at desc, id limit $3`, c.p.OrgID, patient, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r, k, c.p.OrgID) })
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(out))
		for i, e := range out {
			ids[i] = e.ID
		}
		ev := c.event("entry.list", "patient", patient)
		ev.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		ev.Results = ids
		ev.Details = map[string]any{"count": len(ids)}
		_, err = audit.Record(ctx, tx, ev)
		return err
	})
	if err = mapErr("list entries", err); err == ErrNotFound {
		return nil, s.denied(ctx, c, c.event("entry.list", "patient", patient), err)
	}
	if out == nil {
		out = []Entry{}
	}
	return out, err
}

// AssignProvider puts a provider on a patient's care team (leads and
// admins). Errors: ErrForbidden, ErrNotFound, ErrConflict.
func (s *Service) AssignProvider(ctx context.Context, patient, provider uuid.UUID) error {
	return s.relate(ctx, "care_team.assign", patient, provider,
		`insert into app.care_team (org_id, provider_id, patient_id)
		 select $1, m.user_id, $3 from app.memberships m
		 where m.org_id = $1 and m.user_id = $2 and m.role in ('provider', 'lead', 'admin') and m.revoked_at is null`)
}

// UnassignProvider takes a provider off a patient's care team.
func (s *Service) UnassignProvider(ctx context.Context, patient, provider uuid.UUID) error {
	return s.relate(ctx, "care_team.unassign", patient, provider,
		`delete from app.care_team where org_id = $1 and provider_id = $2 and patient_id = $3`)
}

// LinkPatientUser records that user (a member with the patient role) is the
// patient, so they can sign in to their own record (leads and admins).
func (s *Service) LinkPatientUser(ctx context.Context, patient, user uuid.UUID) error {
	return s.relate(ctx, "patient_link.create", patient, user,
		`insert into app.patient_links (org_id, user_id, patient_id)
		 select $1, m.user_id, $3 from app.memberships m
		 where m.org_id = $1 and m.user_id = $2 and m.role = 'patient' and m.revoked_at is null`)
}

func (s *Service) relate(ctx context.Context, action string, patient, user uuid.UUID, sql string) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	if !c.lead() {
		return s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, _ *envelope.OrgKeys) error {
		tag, err := tx.Exec(ctx, sql, c.p.OrgID, user, patient)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		ev := c.event(action, "user", user)
		ev.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		_, err = audit.Record(ctx, tx, ev)
		return err
	})
	if err = mapErr(action, err); err == ErrNotFound {
		return s.denied(ctx, c, c.event(action, "patient", patient), err)
	}
	return err
}
