package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// PatientInput is what a caller may set on a patient. Every field is PHI.
type PatientInput struct {
	Name        string            `json:"name"`
	DOB         string            `json:"dob,omitempty"` // YYYY-MM-DD
	Phone       string            `json:"phone,omitempty"`
	Email       string            `json:"email,omitempty"`
	Address     string            `json:"address,omitempty"`
	MRN         string            `json:"mrn,omitempty"`
	Identifiers map[string]string `json:"identifiers,omitempty"`
}

// Patient is a patient record, decrypted.
type Patient struct {
	ID        uuid.UUID `json:"id"`
	OrgID     uuid.UUID `json:"org_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	PatientInput
}

// LogValue keeps PHI out of logs: ids only.
func (p Patient) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID.String()), slog.String("org", p.OrgID.String()))
}

// LogValue keeps PHI out of logs.
func (in PatientInput) LogValue() slog.Value { return slog.StringValue("[patient input]") }

// Validate checks the input; its errors name fields, never values.
func (in *PatientInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	bad := func(field, rule string) error { return errkind.Visiblef(ErrInvalidInput, "%s %s", field, rule) }
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 200:
		return bad("name", "is required, at most 200 characters")
	case in.DOB != "" && !validDate(in.DOB):
		return bad("dob", "must be a date YYYY-MM-DD, not in the future")
	case len(in.Phone) > 40:
		return bad("phone", "is at most 40 characters")
	case in.Email != "" && (len(in.Email) > 254 || !strings.Contains(in.Email, "@")):
		return bad("email", "must be an email address")
	case utf8.RuneCountInString(in.Address) > 500:
		return bad("address", "is at most 500 characters")
	case len(in.MRN) > 64:
		return bad("mrn", "is at most 64 characters")
	case len(in.Identifiers) > 20:
		return bad("identifiers", "holds at most 20 entries")
	}
	for k, v := range in.Identifiers {
		if k == "" || len(k) > 64 || len(v) > 128 {
			return bad("identifiers", "keys are 1-64 and values at most 128 characters")
		}
		if strings.EqualFold(k, "mrn") {
			return bad("identifiers", "must not hold the MRN (use the mrn field)")
		}
	}
	for _, s := range []string{in.Name, in.Phone, in.Email, in.Address, in.MRN} {
		if !utf8.ValidString(s) {
			return bad("text", "must be valid UTF-8")
		}
	}
	return nil
}

func validDate(s string) bool {
	t, err := time.Parse("2006-01-02", s)
	return err == nil && !t.After(time.Now()) && t.Year() >= 1850
}

// sealed is a patient's ciphertext columns.
type sealed struct {
	mrnBidx, emailBidx                                []byte
	name, dob, phone, email, address, identifiersBlob []byte
}

// seal seals a patient's fields under s (the patient's keys, or the org's
// for a patient created before the per-patient tier) and computes their
// blind indexes with the org's keys k.
func seal(k *envelope.OrgKeys, s envelope.Sealer, org, id uuid.UUID, in PatientInput) (sealed, error) {
	var out sealed
	field := func(col, v string) ([]byte, error) {
		if v == "" {
			return nil, nil
		}
		return s.Seal([]byte(v), envelope.AD{Table: "patients", Column: col, Org: org, Row: id})
	}
	var err error
	if out.name, err = field("name", in.Name); err != nil {
		return out, err
	}
	if out.dob, err = field("dob", in.DOB); err != nil {
		return out, err
	}
	if out.phone, err = field("phone", in.Phone); err != nil {
		return out, err
	}
	if out.email, err = field("email", in.Email); err != nil {
		return out, err
	}
	if out.address, err = field("address", in.Address); err != nil {
		return out, err
	}
	ids := map[string]string{}
	for k, v := range in.Identifiers {
		ids[k] = v
	}
	if in.MRN != "" {
		ids["mrn"] = in.MRN
	}
	if len(ids) > 0 {
		b, _ := json.Marshal(ids) // a map of strings always marshals
		if out.identifiersBlob, err = field("identifiers", string(b)); err != nil {
			return out, err
		}
	}
	if in.MRN != "" {
		out.mrnBidx = k.BlindIndex("patients.mrn", envelope.NormalizeIdentifier(in.MRN))
	}
	if in.Email != "" {
		out.emailBidx = k.BlindIndex("patients.email", envelope.NormalizeEmail(in.Email))
	}
	return out, nil
}

func open(k envelope.Sealer, p *Patient, s sealed) error {
	field := func(col string, ct []byte, dst *string) error {
		if ct == nil {
			return nil
		}
		pt, err := k.Open(ct, envelope.AD{Table: "patients", Column: col, Org: p.OrgID, Row: p.ID})
		if err != nil {
			return fmt.Errorf("records: open patient %s %s: %w", p.ID, col, err)
		}
		*dst = string(pt)
		return nil
	}
	var ids string
	for _, f := range []struct {
		col string
		ct  []byte
		dst *string
	}{{"name", s.name, &p.Name}, {"dob", s.dob, &p.DOB}, {"phone", s.phone, &p.Phone},
		{"email", s.email, &p.Email}, {"address", s.address, &p.Address}, {"identifiers", s.identifiersBlob, &ids}} {
		if err := field(f.col, f.ct, f.dst); err != nil {
			return err
		}
	}
	if ids != "" {
		m := map[string]string{}
		if err := json.Unmarshal([]byte(ids), &m); err != nil {
			return fmt.Errorf("records: patient %s identifiers: %w", p.ID, err)
		}
		p.MRN = m["mrn"]
		delete(m, "mrn")
		if len(m) > 0 {
			p.Identifiers = m
		}
	}
	return nil
}

// fromRow opens a patient row with the patient's keys (unwrapped with the
// org's keys k), or with k itself for a patient created before the
// per-patient tier. A shredded patient is ErrShredded.
func fromRow(r dbsqlc.AppPatient, k *envelope.OrgKeys) (Patient, error) {
	p := Patient{ID: r.ID, OrgID: r.OrgID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	s, err := patientSealer(k, r.ID, r.Keyset, r.ShreddedAt)
	if err != nil {
		return p, err
	}
	return p, open(s, &p, sealed{name: r.NameEnc, dob: r.DobEnc, phone: r.PhoneEnc, email: r.EmailEnc,
		address: r.AddressEnc, identifiersBlob: r.IdentifiersEnc})
}

// patientSealer returns the keys a patient's record is sealed under: the
// patient's own keyset (wrapped, from the patient's row) unwrapped with
// the org's keys k, or k for a patient without one. A shredded patient
// (shreddedAt set) is ErrShredded.
func patientSealer(k *envelope.OrgKeys, patient uuid.UUID, wrapped []byte, shreddedAt *time.Time) (envelope.Sealer, error) {
	if shreddedAt != nil {
		return nil, ErrShredded
	}
	s, err := k.Patient(patient, wrapped)
	if err != nil {
		return nil, fmt.Errorf("records: keys of patient %s: %w", patient, err)
	}
	return s, nil
}

// recordSealer reads, in tx, the keys patient's record is sealed under
// (patientSealer): ErrNotFound when the caller may not see the patient,
// ErrShredded when the patient was shredded.
func recordSealer(ctx context.Context, q *dbsqlc.Queries, k *envelope.OrgKeys, org, patient uuid.UUID) (envelope.Sealer, error) {
	row, err := q.PatientKeyset(ctx, dbsqlc.PatientKeysetParams{OrgID: org, ID: patient})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return patientSealer(k, patient, row.Keyset, row.ShreddedAt)
}

// rowsSealer returns the keys the rows of one statement that carries the
// patient's row (ListEntries, ListAmendments: patient_visible,
// patient_keyset and patient_shredded_at on their first row, null on the
// others) open under: that row's keyset as the same statement saw it, so
// a keying or a shred that commits after the transaction's earlier read
// of the patient (recordSealer) is seen by the rows and their keys both or
// by neither. ErrNotFound when the statement no longer saw the patient,
// ErrShredded when it saw them shredded.
func rowsSealer(k *envelope.OrgKeys, patient uuid.UUID, visible, wrapped, shreddedAt any) (envelope.Sealer, error) {
	if v, ok := visible.(bool); !ok || !v {
		return nil, ErrNotFound
	}
	keyset, ok := wrapped.([]byte)
	if wrapped != nil && !ok {
		return nil, fmt.Errorf("records: keyset of patient %s read as %T", patient, wrapped)
	}
	var shredded *time.Time
	if at, ok := shreddedAt.(time.Time); ok {
		shredded = &at
	} else if shreddedAt != nil {
		return nil, fmt.Errorf("records: shred time of patient %s read as %T", patient, shreddedAt)
	}
	return patientSealer(k, patient, keyset, shredded)
}

// writeSealer is recordSealer for a writer that seals a new value for
// patient (an entry's note, an amendment's text): the row is read locked
// for key share until tx ends (PatientKeysetForWrite), so a keying of the
// patient (KeyPatients) in flight is waited for and its keyset used, and
// nothing is sealed under the org's keys for a patient who has a keyset.
func writeSealer(ctx context.Context, q *dbsqlc.Queries, k *envelope.OrgKeys, org, patient uuid.UUID) (envelope.Sealer, error) {
	row, err := q.PatientKeysetForWrite(ctx, dbsqlc.PatientKeysetForWriteParams{OrgID: org, ID: patient})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return patientSealer(k, patient, row.Keyset, row.ShreddedAt)
}

// CreatePatient creates a patient in the caller's org (leads and admins).
// Errors: ErrInvalidInput, ErrForbidden, ErrConflict (the MRN is taken).
func (s *Service) CreatePatient(ctx context.Context, in PatientInput) (Patient, error) {
	c, err := begin(ctx)
	if err != nil {
		return Patient{}, err
	}
	if err := in.Validate(); err != nil {
		return Patient{}, err
	}
	if !c.lead() {
		return Patient{}, s.denied(ctx, c, c.event("patient.create", "patient", uuid.Nil), ErrForbidden)
	}
	var p Patient
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		id := uuid.New()
		// The patient's own keyset: their record is sealed under it, so
		// destroying it (ShredPatient) shreds this patient alone.
		wrapped, pk, err := k.NewPatientKeys(id)
		if err != nil {
			return err
		}
		sl, err := seal(k, pk, c.p.OrgID, id, in)
		if err != nil {
			return err
		}
		row, err := dbsqlc.New(tx).CreatePatient(ctx, dbsqlc.CreatePatientParams{OrgID: c.p.OrgID, ID: id,
			MrnBidx: sl.mrnBidx, EmailBidx: sl.emailBidx, NameEnc: sl.name, DobEnc: sl.dob, PhoneEnc: sl.phone,
			EmailEnc: sl.email, AddressEnc: sl.address, IdentifiersEnc: sl.identifiersBlob, CreatedBy: c.p.UserID,
			Keyset: wrapped})
		if err != nil {
			return err
		}
		if p, err = fromRow(row, k); err != nil {
			return err
		}
		e := c.event("patient.create", "patient", id)
		e.Patient = uuid.NullUUID{UUID: id, Valid: true}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	return p, mapErr("create patient", err)
}

// GetPatient returns a patient the caller may see, and audits the read.
// Errors: ErrNotFound (also for another org's patient or one the caller is
// not assigned to: the denial is audited).
func (s *Service) GetPatient(ctx context.Context, id uuid.UUID) (Patient, error) {
	c, err := begin(ctx)
	if err != nil {
		return Patient{}, err
	}
	// One round trip, one transaction: the binding, the org's keys, and
	// the row read with its patient.read appended by the same statement
	// (an invisible row appends nothing). The row is unsealed only after
	// the transaction committed, so a value that fails to unseal has been
	// audited as read (it was), never served unaudited.
	e := c.event("patient.read", "patient", id)
	e.Patient = uuid.NullUUID{UUID: id, Valid: true}
	b := &pgx.Batch{}
	keys := s.keys.QueueOrg(b, c.p.OrgID)
	var read patientRead
	var qid int64
	if err := audit.QueueRecordPerRow(b, e, getPatientSQL, []any{c.p.OrgID, id}, read.scan(&qid)); err != nil {
		return Patient{}, err
	}
	if err = s.db.InTenantBatch(ctx, c.cred(), b); err != nil {
		err = audit.RecordError(e, err)
	}
	p, err := read.open(keys, err)
	if err = mapErr("get patient", err); err == ErrNotFound {
		return Patient{}, s.denied(ctx, c, c.event("patient.read", "patient", id), err)
	}
	return p, err
}

// ListFilter narrows a patient list. MRN and Email match exactly (by blind
// index); After pages the unfiltered list and goes with neither.
type ListFilter struct {
	MRN   string
	Email string
	Limit int // 1..MaxPatientPage, 0 means 50
	After PatientCursor
}

// MaxPatientPage is the most patients one ListPatients call returns.
const MaxPatientPage = 200

// PatientCursor is where a page of the patient list starts: after the
// patient it names (the zero value: at the newest). It travels as an
// opaque string (String, ParsePatientCursor) that holds the last patient's
// id and creation time, nothing a caller did not already read; who sees
// which patients is still the list's policy's to say, page by page.
type PatientCursor struct {
	createdAt time.Time
	id        uuid.UUID
}

// ParsePatientCursor reads a cursor String returned; "" is the first page.
// Errors: ErrBadCursor.
func ParsePatientCursor(s string) (PatientCursor, error) {
	at, id, err := parseCursor(s)
	return PatientCursor{createdAt: at, id: id}, err
}

// String is the cursor's opaque form ("" for the first page).
func (k PatientCursor) String() string { return formatCursor(k.createdAt, k.id) }

// PatientPage is a page of the patients the caller may see, newest first.
// Next is where the following page starts; "" when this page is the last.
type PatientPage struct {
	Patients []Patient `json:"patients"`
	Next     string    `json:"next_cursor,omitempty"`
}

// ListPatients returns a page of the patients the caller may see, newest
// first (by created_at, then id): at most f.Limit, after f.After, and
// audits the list with the ids it returned. Errors: ErrInvalidInput (a
// limit out of range, a cursor with a search).
func (s *Service) ListPatients(ctx context.Context, f ListFilter) (PatientPage, error) {
	c, err := begin(ctx)
	if err != nil {
		return PatientPage{}, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > MaxPatientPage {
		return PatientPage{}, errkind.Visiblef(ErrInvalidInput, "limit must be 1..%d", MaxPatientPage)
	}
	paged := f.After.id != uuid.Nil
	if paged && (f.MRN != "" || f.Email != "") {
		return PatientPage{}, errkind.Visiblef(ErrInvalidInput, "a cursor pages the list, not a search")
	}
	var out []Patient
	var next string
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		// One more than asked for: whether there is a next page.
		var rows []dbsqlc.AppPatient
		var err error
		if paged {
			rows, err = dbsqlc.New(tx).ListPatientsAfter(ctx, dbsqlc.ListPatientsAfterParams{OrgID: c.p.OrgID,
				AfterCreatedAt: f.After.createdAt, AfterID: f.After.id, MaxRows: int32(f.Limit) + 1})
		} else {
			var mrn, email []byte
			if f.MRN != "" {
				mrn = k.BlindIndex("patients.mrn", envelope.NormalizeIdentifier(f.MRN))
			}
			if f.Email != "" {
				email = k.BlindIndex("patients.email", envelope.NormalizeEmail(f.Email))
			}
			rows, err = dbsqlc.New(tx).ListPatients(ctx, dbsqlc.ListPatientsParams{OrgID: c.p.OrgID, MrnBidx: mrn,
				EmailBidx: email, MaxRows: int32(f.Limit) + 1})
		}
		if err != nil {
			return err
		}
		if len(rows) > f.Limit {
			rows = rows[:f.Limit]
			last := rows[f.Limit-1]
			next = PatientCursor{createdAt: last.CreatedAt, id: last.ID}.String()
		}
		out = make([]Patient, len(rows))
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			if out[i], err = fromRow(r, k); err != nil {
				return err
			}
			ids[i] = r.ID
		}
		e := c.event("patient.list", "patient", uuid.Nil)
		e.Results = ids
		e.Details = map[string]any{"count": len(ids), "by_mrn": f.MRN != "", "by_email": f.Email != "", "page": paged}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if out == nil {
		out = []Patient{}
	}
	return PatientPage{Patients: out, Next: next}, mapErr("list patients", err)
}

// UpdatePatient replaces a patient's fields (leads, admins, an assigned
// provider, or the patient themself). Errors: ErrInvalidInput, ErrNotFound
// (audited), ErrForbidden (a provider or patient changing the MRN or other
// identifiers, audited), ErrConflict.
func (s *Service) UpdatePatient(ctx context.Context, id uuid.UUID, in PatientInput) (Patient, error) {
	if err := in.Validate(); err != nil {
		return Patient{}, err
	}
	return s.update(ctx, id, func(PatientInput) (PatientInput, error) { return in, nil })
}

// PatchPatient changes some of a patient's fields: apply receives the
// current fields and returns the new ones (an RFC 7396 merge patch, say),
// in the same transaction, so no concurrent change is lost. Who may, and
// the errors, are as for UpdatePatient; apply's error is returned as is.
func (s *Service) PatchPatient(ctx context.Context, id uuid.UUID, apply func(cur PatientInput) (PatientInput, error)) (Patient, error) {
	return s.update(ctx, id, func(cur PatientInput) (PatientInput, error) {
		next, err := apply(cur)
		if err != nil {
			return next, err
		}
		return next, next.Validate()
	})
}

// update reads the patient (locked), asks change for the new fields and
// writes them, with the audit event, in one transaction.
func (s *Service) update(ctx context.Context, id uuid.UUID, change func(cur PatientInput) (PatientInput, error)) (Patient, error) {
	c, err := begin(ctx)
	if err != nil {
		return Patient{}, err
	}
	var p Patient
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		row, err := dbsqlc.New(tx).GetPatientForUpdate(ctx, dbsqlc.GetPatientForUpdateParams{OrgID: c.p.OrgID, ID: id})
		if err != nil {
			return err
		}
		cur, err := fromRow(row, k)
		if err != nil {
			return err
		}
		in, err := change(cur.PatientInput)
		if err != nil {
			return err
		}
		// The MRN and other identifiers are the org's to assign: a patient
		// or provider may change the rest of the record only.
		if !c.lead() && (cur.MRN != in.MRN || !maps.Equal(cur.Identifiers, in.Identifiers)) {
			return ErrForbidden
		}
		ps, err := patientSealer(k, id, row.Keyset, row.ShreddedAt)
		if err != nil {
			return err
		}
		sl, err := seal(k, ps, c.p.OrgID, id, in)
		if err != nil {
			return err
		}
		// Unchanged identifiers keep their stored bytes (a fresh seal
		// differs): the database refuses any change of mrn_bidx or
		// identifiers_enc but a lead's or admin's (migration 00113).
		if cur.MRN == in.MRN {
			sl.mrnBidx = row.MrnBidx
		}
		// The MRN is sealed into the identifiers blob too: the old blob is
		// kept only when neither changed, or a new MRN would be lost.
		if cur.MRN == in.MRN && maps.Equal(cur.Identifiers, in.Identifiers) {
			sl.identifiersBlob = row.IdentifiersEnc
		}
		row, err = dbsqlc.New(tx).UpdatePatient(ctx, dbsqlc.UpdatePatientParams{OrgID: c.p.OrgID, ID: id,
			MrnBidx: sl.mrnBidx, EmailBidx: sl.emailBidx, NameEnc: sl.name, DobEnc: sl.dob, PhoneEnc: sl.phone,
			EmailEnc: sl.email, AddressEnc: sl.address, IdentifiersEnc: sl.identifiersBlob})
		if err != nil {
			return err
		}
		if p, err = fromRow(row, k); err != nil {
			return err
		}
		e := c.event("patient.update", "patient", id)
		e.Patient = uuid.NullUUID{UUID: id, Valid: true}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapErr("update patient", err); err == ErrNotFound || err == ErrForbidden {
		return Patient{}, s.denied(ctx, c, c.event("patient.update", "patient", id), err)
	}
	return p, err
}

// getPatientSQL is queries/records.sql's GetPatient, columns in the same
// order (the generated dbsqlc.GetPatient runs its statement at once and
// cannot join a batch). A column out of place fails the scan or the unseal
// (each value is sealed to its column), which the gateway's record-aware
// tests would see.
const getPatientSQL = `select org_id, id, mrn_bidx, email_bidx, name_enc, dob_enc, phone_enc, email_enc, address_enc,
  identifiers_enc, created_by, created_at, updated_at, keyset, shredded_at
from app.patients
where org_id = $1 and id = $2`

// patientRead is the row of getPatientSQL that a batch reads, and its
// opening once the batch has ended.
type patientRead struct {
	row   dbsqlc.AppPatient
	found bool
}

// scan reads the row's columns, then extra (columns a statement adds after
// them), refusing a second row (the read is a key lookup).
func (r *patientRead) scan(extra ...any) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			if r.found {
				return errors.New("records: get patient: more than one row")
			}
			r.found = true
			if err := rows.Scan(append([]any{&r.row.OrgID, &r.row.ID, &r.row.MrnBidx, &r.row.EmailBidx, &r.row.NameEnc,
				&r.row.DobEnc, &r.row.PhoneEnc, &r.row.EmailEnc, &r.row.AddressEnc, &r.row.IdentifiersEnc,
				&r.row.CreatedBy, &r.row.CreatedAt, &r.row.UpdatedAt, &r.row.Keyset, &r.row.ShreddedAt}, extra...)...); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// open returns the patient of a batch that ended with batchErr and whose
// org keys were queued as keys (keystore.QueueOrg): ErrUnauthenticated when
// the credential reaches no keys of its org (as tx), batchErr, pgx.ErrNoRows
// when no row came back, else the row unsealed.
func (r *patientRead) open(keys func() (*envelope.OrgKeys, error), batchErr error) (Patient, error) {
	k, kerr := keys()
	switch {
	case errors.Is(kerr, keystore.ErrNoKeys):
		return Patient{}, ErrUnauthenticated
	case batchErr != nil:
		return Patient{}, batchErr
	case kerr != nil:
		return Patient{}, kerr
	case !r.found:
		return Patient{}, pgx.ErrNoRows
	}
	return fromRow(r.row, k)
}

// OpenPatient is GetPatient for a caller that puts the record to use at
// once and discloses nothing derived from it before the read is audited
// (the gateway): the same transaction, bound to the caller's credential,
// and the same patient.read event, but in two round trips instead of
// five. The first (begin, bind, the org's keys, the row) returns the
// patient; the second (the event's append and the commit) then runs
// concurrently with the caller's work, and audited waits for it: nil once
// the read and its event have committed, else the error GetPatient would
// have returned (nothing is committed). The caller must not let anything
// derived from p leave before audited has returned nil. audited may be
// called any number of times; the transaction ends whether or not it is.
// Errors of OpenPatient itself are GetPatient's (a patient the caller may
// not read is ErrNotFound, audited as denied).
func (s *Service) OpenPatient(ctx context.Context, id uuid.UUID) (p Patient, audited func() error, err error) {
	c, err := begin(ctx)
	if err != nil {
		return Patient{}, nil, err
	}
	e := c.event("patient.read", "patient", id)
	e.Patient = uuid.NullUUID{UUID: id, Valid: true}
	commit := &pgx.Batch{}
	if err := audit.QueueRecord(commit, e); err != nil {
		return Patient{}, nil, err
	}
	commit.Queue("commit")

	b := &pgx.Batch{}
	b.Queue("begin")
	postgres.QueueBind(ctx, b, c.cred())
	// A kept principal's deferred check runs first in this round trip; a
	// refusal reads nothing and audits no denial (the request is served
	// again after a full check). A check that must run on its own (one
	// whose writes must stand: a DPoP proof's jti) runs in QueueConfirm,
	// on a connection of its own: before this request holds one, so that
	// it never holds one connection while it waits for another (a pool
	// full of such requests would wait forever).
	confirmed, err := postgres.QueueConfirm(ctx, c.cred(), b)
	if err != nil { // a check run on its own refused: nothing is read
		return Patient{}, nil, err
	}
	keys := s.keys.QueueOrg(b, c.p.OrgID)
	var read patientRead
	b.Queue(getPatientSQL, c.p.OrgID, id).Query(read.scan())

	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return Patient{}, nil, confirmed(postgres.NotSent(fmt.Errorf("records: get patient: %w", err)))
	}
	// end rolls back a transaction that did not commit and returns the
	// connection to the pool; a connection in an unknown state is closed.
	end := func(committed bool) {
		if !committed && !conn.Conn().IsClosed() {
			if _, err := conn.Exec(context.WithoutCancel(ctx), "rollback"); err != nil {
				_ = conn.Conn().Close(context.WithoutCancel(ctx))
			}
		}
		conn.Release()
	}
	batchErr := confirmed(conn.SendBatch(ctx, b).Close())
	if errors.Is(batchErr, postgres.ErrStalePrincipal) {
		end(false)
		return Patient{}, nil, batchErr
	}
	p, err = read.open(keys, batchErr)
	if err != nil {
		end(false)
		if err = mapErr("get patient", err); err == ErrNotFound {
			return Patient{}, nil, s.denied(ctx, c, c.event("patient.read", "patient", id), err)
		}
		return Patient{}, nil, err
	}

	done := make(chan error, 1)
	go func() {
		err := conn.SendBatch(ctx, commit).Close()
		end(err == nil)
		if err != nil {
			err = mapErr("get patient", audit.RecordError(e, err))
		}
		done <- err
	}()
	return p, sync.OnceValue(func() error { return <-done }), nil
}
