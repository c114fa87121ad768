package records

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// ExportFormat names the layout of a PatientExport.
const ExportFormat = "ward.patient-export/1"

// maxExportEntries bounds the entries one export carries.
const maxExportEntries = 100_000

// PatientExport is what Ward holds of one patient's designated record set,
// for the individual's right of access (HIPAA §164.524): the record, its
// clinical entries, its amendments, who accessed it and to whom it was
// disclosed. It is only ever served encrypted (SealExport).
type PatientExport struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exported_at"`
	Patient    Patient   `json:"patient"`
	Entries    []Entry   `json:"entries"`
	// Amendments are the requests to amend the record and what became of
	// them (HIPAA §164.526): accepted amendments, denials with the
	// patient's statements of disagreement and the practice's rebuttals.
	Amendments  []Amendment       `json:"amendments"`
	Accesses    []audit.Access    `json:"accesses"`
	Disclosures []audit.Disclosed `json:"disclosures"`
}

// ExportPatient reads patient's record set in one transaction: the caller
// must be an admin of the org or the patient themself, as for the access
// report (the database decides), and see the patient (an API key sees no
// patient row, so only sessions export). The export is audited as patient.export
// with the ids of the entries and amendments it carries; a refusal too. Errors:
// ErrForbidden, ErrNotFound.
func (s *Service) ExportPatient(ctx context.Context, patient uuid.UUID) (PatientExport, error) {
	c, err := begin(ctx)
	if err != nil {
		return PatientExport{}, err
	}
	const action = "patient.export"
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin {
		return PatientExport{}, s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	out := PatientExport{Format: ExportFormat}
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		if err := patientLog(ctx, tx, c.p.OrgID, patient); err != nil {
			return err
		}
		var err error
		// The reports first: their functions refuse whom the right of
		// access does not admit (a key without the dsr scope).
		if out.Accesses, err = audit.AccessReport(ctx, tx, c.p.OrgID, patient); errors.Is(err, audit.ErrForbidden) {
			return ErrForbidden
		} else if err != nil {
			return err
		}
		if out.Disclosures, err = audit.DisclosureAccounting(ctx, tx, c.p.OrgID, patient); errors.Is(err, audit.ErrForbidden) {
			return ErrForbidden
		} else if err != nil {
			return err
		}
		if err := s.openActorEmails(ctx, out.Accesses, out.Disclosures); err != nil {
			return err
		}
		q := dbsqlc.New(tx)
		row, err := q.GetPatient(ctx, dbsqlc.GetPatientParams{OrgID: c.p.OrgID, ID: patient})
		if err != nil {
			return err
		}
		if out.Patient, err = fromRow(row, k); err != nil {
			return err
		}
		rows, err := q.ListEntries(ctx, dbsqlc.ListEntriesParams{OrgID: c.p.OrgID, PatientID: patient, MaxRows: maxExportEntries})
		if err != nil {
			return err
		}
		out.Entries = make([]Entry, len(rows))
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			if out.Entries[i], err = entryFromRow(r, k); err != nil {
				return err
			}
			ids[i] = r.ID
		}
		if out.Amendments, err = readAmendments(ctx, q, k, c.p.OrgID, patient); err != nil {
			return err
		}
		var marks []dbsqlc.EntryAmendmentMarksRow
		for _, a := range out.Amendments {
			ids = append(ids, a.ID) // the event lists what left, amendments too
			if a.EntryID != nil {
				marks = append(marks, dbsqlc.EntryAmendmentMarksRow{EntryID: *a.EntryID, ID: a.ID, Status: a.Status,
					DecidedAt: a.DecidedAt, DisagreementFiled: a.Disagreement != nil})
			}
		}
		markAmended(out.Entries, marks)
		if err := tx.QueryRow(ctx, `select now()`).Scan(&out.ExportedAt); err != nil {
			return err
		}
		e := c.event(action, "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		e.Results = ids
		e.Details = map[string]any{"entries": len(out.Entries), "accesses": len(out.Accesses), "disclosures": len(out.Disclosures),
			"amendments": len(out.Amendments)}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapErr("export patient", err); err == ErrNotFound || errors.Is(err, ErrForbidden) {
		return PatientExport{}, s.denied(ctx, c, c.event(action, "patient", patient), err)
	}
	return out, err
}

// ExportRecipient is whom an export is encrypted to: an age X25519
// recipient ("age1…") the requester generated, or a passphrase given out of
// band (at least 12 characters; scrypt).
type ExportRecipient struct {
	Recipient  string `json:"recipient"`
	Passphrase string `json:"passphrase"`
}

// exportWorkFactor is the scrypt work factor of a passphrase export (2^15
// iterations, 32 MiB): the age CLI decrypts it; its default of 18 would
// cost every export 256 MiB of server memory.
const exportWorkFactor = 15

// AgeRecipient checks r and returns the age recipient it names. Errors:
// ErrInvalidInput.
func (r ExportRecipient) AgeRecipient() (age.Recipient, error) {
	switch {
	case (r.Recipient == "") == (r.Passphrase == ""):
		return nil, errkind.Visible(ErrInvalidInput, "give one of recipient (an age X25519 public key, age1…) or passphrase")
	case r.Recipient != "":
		rec, err := age.ParseX25519Recipient(strings.TrimSpace(r.Recipient))
		if err != nil {
			return nil, errkind.Visible(ErrInvalidInput, "recipient is not an age X25519 public key (age1…)")
		}
		return rec, nil
	}
	if n := utf8.RuneCountInString(r.Passphrase); n < 12 || len(r.Passphrase) > 1024 {
		return nil, errkind.Visible(ErrInvalidInput, "passphrase is 12 to 1024 characters")
	}
	rec, err := age.NewScryptRecipient(r.Passphrase)
	if err != nil {
		return nil, errkind.Visible(ErrInvalidInput, "passphrase cannot be used")
	}
	rec.SetWorkFactor(exportWorkFactor)
	return rec, nil
}

// SealExport writes x as JSON encrypted to rec in the age format
// (age-encryption.org/v1), which the age tools and libraries decrypt.
func SealExport(w io.Writer, rec age.Recipient, x PatientExport) error {
	enc, err := age.Encrypt(w, rec)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(enc).Encode(x); err != nil {
		return err
	}
	return enc.Close()
}
