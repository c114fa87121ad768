package records

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
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
	// Amendments are the amendment requests that name this entry, without
	// their texts (HIPAA §164.526(c)(1) and (d)(4): an amended or disputed
	// entry is shown with a link to its amendment, which GET
	// /v1/patients/{id}/amendments reads whole). Omitted when none does.
	Amendments []EntryAmendment `json:"amendments,omitempty"`
}

// EntryAmendment links an entry to an amendment request about it.
type EntryAmendment struct {
	ID uuid.UUID `json:"id"`
	// Status is requested, accepted or denied.
	Status    string     `json:"status"`
	DecidedAt *time.Time `json:"decided_at"`
	// DisagreementFiled: the patient filed a statement of disagreement
	// with the denial, which goes with the entry.
	DisagreementFiled bool `json:"disagreement_filed"`
}

// markAmended links each of entries to the amendments about it.
func markAmended(entries []Entry, marks []dbsqlc.EntryAmendmentMarksRow) {
	if len(marks) == 0 {
		return
	}
	at := make(map[uuid.UUID]int, len(entries))
	for i := range entries {
		at[entries[i].ID] = i
	}
	for _, m := range marks {
		if i, ok := at[m.EntryID]; ok {
			entries[i].Amendments = append(entries[i].Amendments, EntryAmendment{ID: m.ID, Status: m.Status,
				DecidedAt: m.DecidedAt, DisagreementFiled: m.DisagreementFiled})
		}
	}
}

// LogValue keeps the note out of logs.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", e.ID.String()), slog.String("patient", e.PatientID.String()))
}

// Validate checks the input; its errors name fields, never values.
func (in *EntryInput) Validate() error {
	bad := func(field, rule string) error { return errkind.Visiblef(ErrInvalidInput, "%s %s", field, rule) }
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
	return in.validateKind(bad)
}

// Units an entry may carry, by kind.
var (
	foodUnits = []string{"g", "kg", "mg", "ml", "l", "oz", "lb", "cup", "tbsp", "tsp", "serving", "piece", "slice"}
	// biomarkerUnits are the laboratory and vital-sign units in use; the
	// spelling with "u" for micro is accepted beside "µ".
	biomarkerUnits = []string{"mg/dL", "mg/L", "g/dL", "g/L", "mmol/L", "µmol/L", "umol/L", "nmol/L", "pmol/L",
		"mEq/L", "µg/dL", "ug/dL", "µg/L", "ug/L", "ng/mL", "ng/dL", "pg/mL", "U/L", "IU/L", "mIU/L", "mIU/mL",
		"µIU/mL", "uIU/mL", "%", "mmHg", "bpm", "/min", "kg", "lb", "g", "cm", "m", "in", "kg/m2", "°C", "°F",
		"10^9/L", "10^12/L", "10^3/µL", "10^3/uL", "fL", "pg", "mL/min/1.73m2", "ratio", "score"}
)

// validateKind checks the values each kind of entry may have: macros only
// on food, never negative and within what one entry can hold; a symptom's
// value is a 0-10 severity; a biomarker has a value and a known unit.
func (in *EntryInput) validateKind(bad func(field, rule string) error) error {
	within := func(field string, v *float64, lo, hi float64) error {
		if v != nil && (*v < lo || *v > hi) {
			return bad(field, fmt.Sprintf("must be between %g and %g", lo, hi))
		}
		return nil
	}
	macros := in.Kcal != nil || in.ProteinG != nil || in.CarbsG != nil || in.FatG != nil
	switch in.Kind {
	case "food":
		for _, err := range []error{within("kcal", in.Kcal, 0, 10000), within("protein_g", in.ProteinG, 0, 1000),
			within("carbs_g", in.CarbsG, 0, 1000), within("fat_g", in.FatG, 0, 1000), within("value", in.Value, 0, 100000)} {
			if err != nil {
				return err
			}
		}
		if in.Unit != "" && !slices.Contains(foodUnits, in.Unit) {
			return bad("unit", "for food must be one of "+strings.Join(foodUnits, ", "))
		}
		if in.Value != nil && in.Unit == "" {
			return bad("unit", "is required with a food value (the portion)")
		}
	case "symptom":
		switch {
		case macros:
			return bad("kcal, protein_g, carbs_g, fat_g", "are for food entries only")
		case in.Unit != "" && in.Unit != "score":
			return bad("unit", `for a symptom is "score" (a 0-10 severity) or empty`)
		}
		return within("value", in.Value, 0, 10)
	case "biomarker":
		switch {
		case macros:
			return bad("kcal, protein_g, carbs_g, fat_g", "are for food entries only")
		case in.Value == nil:
			return bad("value", "is required for a biomarker")
		case !slices.Contains(biomarkerUnits, in.Unit):
			return bad("unit", "for a biomarker must be one of "+strings.Join(biomarkerUnits, ", "))
		}
		return within("value", in.Value, -1000, 1000000)
	}
	return nil
}

func noteAD(org, id uuid.UUID) envelope.AD {
	return envelope.AD{Table: "clinical_entries", Column: "note", Org: org, Row: id}
}

// entryFromRow opens an entry row's note with k, the keys its patient's
// record is sealed under (recordSealer).
func entryFromRow(r dbsqlc.AppClinicalEntry, k envelope.Sealer) (Entry, error) {
	e := Entry{ID: r.ID, PatientID: r.PatientID, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		EntryInput: EntryInput{Kind: r.Kind, Name: r.Name, Value: r.Value, Kcal: r.Kcal, ProteinG: r.ProteinG,
			CarbsG: r.CarbsG, FatG: r.FatG, ObservedAt: r.ObservedAt}}
	if r.Unit != nil {
		e.Unit = *r.Unit
	}
	if r.NoteEnc != nil {
		pt, err := k.Open(r.NoteEnc, noteAD(r.OrgID, e.ID))
		if err != nil {
			return e, fmt.Errorf("records: open entry %s note: %w", e.ID, err)
		}
		e.Note = string(pt)
	}
	return e, nil
}

// entriesFromRows opens the entries ListEntries read, under the patient's
// keys as that statement saw them (its first row; rowsSealer).
func entriesFromRows(rows []dbsqlc.ListEntriesRow, ok *envelope.OrgKeys, patient uuid.UUID) ([]Entry, error) {
	out := make([]Entry, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	k, err := rowsSealer(ok, patient, rows[0].PatientVisible, rows[0].PatientKeyset, rows[0].PatientShreddedAt)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if out[i], err = entryFromRow(r.AppClinicalEntry, k); err != nil {
			return nil, err
		}
	}
	return out, nil
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
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, ok *envelope.OrgKeys) error {
		// The patient's row says which keys seal the note (and whether
		// the caller may write to the record at all: the insert's policy
		// decides again), read locked against a keying in flight.
		k, err := writeSealer(ctx, dbsqlc.New(tx), ok, c.p.OrgID, patient)
		if err != nil {
			return err
		}
		id := uuid.New()
		var note []byte
		if in.Note != "" {
			if note, err = k.Seal([]byte(in.Note), noteAD(c.p.OrgID, id)); err != nil {
				return err
			}
		}
		var unit *string
		if in.Unit != "" {
			unit = &in.Unit
		}
		row, err := dbsqlc.New(tx).CreateEntry(ctx, dbsqlc.CreateEntryParams{OrgID: c.p.OrgID, ID: id, PatientID: patient,
			Kind: in.Kind, Name: in.Name, Value: in.Value, Unit: unit, Kcal: in.Kcal, ProteinG: in.ProteinG,
			CarbsG: in.CarbsG, FatG: in.FatG, ObservedAt: in.ObservedAt, NoteEnc: note, CreatedBy: c.p.UserID})
		if err != nil {
			return err
		}
		if e, err = entryFromRow(row, k); err != nil {
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

// MaxEntryPage is the most entries one ListEntries call returns.
const MaxEntryPage = 500

// EntryCursor is where a page of entries starts: after the entry it names
// (the zero value: at the newest). It travels as an opaque string (String,
// ParseEntryCursor) that holds the last entry's id and observation time,
// nothing a caller did not already read.
type EntryCursor struct {
	observedAt time.Time
	id         uuid.UUID
}

// ErrBadCursor is ParseEntryCursor's and ParsePatientCursor's refusal.
var ErrBadCursor = errors.New("records: malformed cursor")

// ParseEntryCursor reads a cursor String returned; "" is the first page.
// Errors: ErrBadCursor.
func ParseEntryCursor(s string) (EntryCursor, error) {
	at, id, err := parseCursor(s)
	return EntryCursor{observedAt: at, id: id}, err
}

// String is the cursor's opaque form ("" for the first page).
func (k EntryCursor) String() string { return formatCursor(k.observedAt, k.id) }

// parseCursor reads formatCursor's form: base64url of the time in
// microseconds since 1970 (8 bytes, big-endian) and the id (16 bytes).
// "" is the zero cursor. Errors: ErrBadCursor.
func parseCursor(s string) (time.Time, uuid.UUID, error) {
	if s == "" {
		return time.Time{}, uuid.Nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return time.Time{}, uuid.Nil, ErrBadCursor
	}
	id, err := uuid.FromBytes(b[8:])
	if err != nil || id == uuid.Nil {
		return time.Time{}, uuid.Nil, ErrBadCursor
	}
	// The times a page ends on are held to years 0001-9999 (00207's CHECKs,
	// created_at is the server's): anything else is no cursor of this API,
	// and far enough out it overflows on its way to PostgreSQL.
	at := time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC()
	if at.Year() < 1 || at.Year() > 9999 {
		return time.Time{}, uuid.Nil, ErrBadCursor
	}
	return at, id, nil
}

// formatCursor is a page cursor's opaque form: "" for the zero cursor (no
// id).
func formatCursor(at time.Time, id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(at.UnixMicro()))
	copy(b[8:], id[:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// EntryPage is a page of a patient's entries, newest first. Next is where
// the following page starts; "" when this page is the last.
type EntryPage struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next_cursor,omitempty"`
}

// ListEntries returns a page of a patient's entries, newest first (by
// observed_at): at most limit (1..MaxEntryPage; 0 means 100), after the
// cursor after (the zero cursor: from the newest), and audits the list
// with the ids returned. Errors: ErrNotFound (audited) when the caller may
// not see the patient.
func (s *Service) ListEntries(ctx context.Context, patient uuid.UUID, limit int, after EntryCursor) (EntryPage, error) {
	c, err := begin(ctx)
	if err != nil {
		return EntryPage{}, err
	}
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > MaxEntryPage {
		return EntryPage{}, errkind.Visiblef(ErrInvalidInput, "limit must be 1..%d", MaxEntryPage)
	}
	var out []Entry
	var next string
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, ok *envelope.OrgKeys) error {
		q := dbsqlc.New(tx)
		// Whether the caller sees the patient, and not shredded: the
		// notes open under the keyset their own statement reads.
		if _, err := recordSealer(ctx, q, ok, c.p.OrgID, patient); err != nil {
			return err
		}
		// One more than asked for: whether there is a next page.
		p := dbsqlc.ListEntriesParams{OrgID: c.p.OrgID, PatientID: patient, MaxRows: int32(limit) + 1}
		if after.id != uuid.Nil {
			p.AfterObservedAt, p.AfterID = &after.observedAt, uuid.NullUUID{UUID: after.id, Valid: true}
		}
		rows, err := q.ListEntries(ctx, p)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[limit-1].AppClinicalEntry
			next = EntryCursor{observedAt: last.ObservedAt, id: last.ID}.String()
		}
		if out, err = entriesFromRows(rows, ok, patient); err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.AppClinicalEntry.ID
		}
		var marks []dbsqlc.EntryAmendmentMarksRow
		if len(ids) > 0 {
			marks, err = q.EntryAmendmentMarks(ctx, dbsqlc.EntryAmendmentMarksParams{OrgID: c.p.OrgID, PatientID: patient, EntryIds: ids})
			if err != nil {
				return err
			}
			markAmended(out, marks)
		}
		ev := c.event("entry.list", "patient", patient)
		ev.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		ev.Results = ids
		ev.Details = map[string]any{"count": len(ids), "page": after.id != uuid.Nil}
		if len(marks) > 0 {
			ev.Details["amendments"] = len(marks)
		}
		_, err = audit.Record(ctx, tx, ev)
		return err
	})
	if err = mapErr("list entries", err); err == ErrNotFound {
		return EntryPage{}, s.denied(ctx, c, c.event("entry.list", "patient", patient), err)
	}
	if out == nil {
		out = []Entry{}
	}
	return EntryPage{Entries: out, Next: next}, err
}

// AssignProvider puts a provider on a patient's care team (leads and
// admins). Errors: ErrForbidden, ErrNotFound, ErrConflict.
func (s *Service) AssignProvider(ctx context.Context, patient, provider uuid.UUID) error {
	return s.relate(ctx, "care_team.assign", patient, provider, func(q *dbsqlc.Queries, org uuid.UUID) (int64, error) {
		return q.AssignProvider(ctx, dbsqlc.AssignProviderParams{OrgID: org, UserID: provider, PatientID: patient})
	})
}

// UnassignProvider takes a provider off a patient's care team.
func (s *Service) UnassignProvider(ctx context.Context, patient, provider uuid.UUID) error {
	return s.relate(ctx, "care_team.unassign", patient, provider, func(q *dbsqlc.Queries, org uuid.UUID) (int64, error) {
		return q.UnassignProvider(ctx, dbsqlc.UnassignProviderParams{OrgID: org, UserID: provider, PatientID: patient})
	})
}

// LinkPatientUser records that user (a member with the patient role) is the
// patient, so they can sign in to their own record (leads and admins).
func (s *Service) LinkPatientUser(ctx context.Context, patient, user uuid.UUID) error {
	return s.relate(ctx, "patient_link.create", patient, user, func(q *dbsqlc.Queries, org uuid.UUID) (int64, error) {
		return q.LinkPatientUser(ctx, dbsqlc.LinkPatientUserParams{OrgID: org, UserID: user, PatientID: patient})
	})
}

// relate runs one of the patient–user writes above: leads and admins only,
// audited, and a write that touches no row is ErrNotFound (audited too).
func (s *Service) relate(ctx context.Context, action string, patient, user uuid.UUID,
	write func(q *dbsqlc.Queries, org uuid.UUID) (int64, error)) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	if !c.lead() {
		return s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, _ *envelope.OrgKeys) error {
		n, err := write(dbsqlc.New(tx), c.p.OrgID)
		if err != nil {
			return err
		}
		if n == 0 {
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
