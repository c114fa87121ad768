package records

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// maxExportEntries bounds the entries one export carries: the newest, by
// observed_at. A record with more says how many older ones it left out
// (PatientExport.EntriesOmitted), never silently.
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
	// EntriesOmitted is how many of the record's entries, the oldest by
	// observed_at, the export leaves out: one export carries at most
	// 100,000 (a glucose monitor's readings every five minutes reach that
	// in a year). Absent when it carries every entry.
	EntriesOmitted int `json:"entries_omitted,omitempty"`
	// Amendments are the requests to amend the record and what became of
	// them (HIPAA §164.526): accepted amendments, denials with the
	// patient's statements of disagreement and the practice's rebuttals.
	Amendments  []Amendment       `json:"amendments"`
	Accesses    []audit.Access    `json:"accesses"`
	Disclosures []audit.Disclosed `json:"disclosures"`
	// Documents are the stored files of the patient's cases (every version
	// of every document the requester may download), when the export was
	// asked for with them (then present, if empty): the archive carries
	// each at its path.
	Documents []ExportFile `json:"documents,omitzero"`
}

// ExportFile is one stored file of a patient's record set in an export
// archive: a version of a case document (internal/cases), with where it
// sits in the archive and how to read its plaintext.
type ExportFile struct {
	Path         string    `json:"path"`
	CaseID       uuid.UUID `json:"case_id"`
	CaseTitle    string    `json:"case_title"`
	DocumentID   uuid.UUID `json:"document_id"`
	DocumentType string    `json:"document_type"`
	Description  string    `json:"description,omitempty"`
	VersionID    uuid.UUID `json:"version_id"`
	Version      int       `json:"version"`
	FileName     string    `json:"file_name"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	UploadedAt   time.Time `json:"uploaded_at"`
	// Open reads the file's plaintext (Size bytes), after the export's
	// transaction has committed.
	Open func(ctx context.Context) (io.ReadCloser, error) `json:"-"`
}

// ExportFiles lists, in the export's transaction (tx, bound to the
// requester, with the org's keys), the stored files of patient's record
// set the requester may download, recording each download there. The
// cases service provides it (cases.Service.PatientFiles).
type ExportFiles func(ctx context.Context, tx pgx.Tx, keys *envelope.OrgKeys, org, patient uuid.UUID) ([]ExportFile, error)

// ExportPatient reads patient's record set in one transaction: the caller
// must be an admin of the org or the patient themself, as for the access
// report (the database decides), and see the patient (an API key sees no
// patient row, so only sessions export). The export is audited as patient.export
// with the ids of the entries and amendments it carries; a refusal too. Errors:
// ErrForbidden, ErrNotFound.
//
// With files (nil: none), the export also carries the patient's stored
// files that files lists in the same transaction; their ids are in the
// event's results beside the entries'.
func (s *Service) ExportPatient(ctx context.Context, patient uuid.UUID, files ExportFiles) (PatientExport, error) {
	c, err := begin(ctx)
	if err != nil {
		return PatientExport{}, err
	}
	const action = "patient.export"
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin {
		return PatientExport{}, s.denied(ctx, c, c.event(action, "patient", patient), ErrForbidden)
	}
	if err := s.integrate(ctx, c); err != nil {
		return PatientExport{}, err
	}
	out := PatientExport{Format: ExportFormat}
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, k *envelope.OrgKeys) error {
		if err := patientLog(ctx, tx, c.p.OrgID, patient); err != nil {
			return err
		}
		var err error
		// The reports first: their functions refuse whom the right of
		// access does not admit (a key without the dsr scope). Each is
		// read in one statement, not through audit.AccessReportPage:
		// every page reads all of the patient's events after its cursor
		// (no index follows seq for one patient), so the whole report
		// page by page costs O(n²/page), 6-10 times one statement's time
		// at 30,000 events (TestReportsBeyondOnePage's comment).
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
		// The patient's own copy names no other patient, as their report
		// does not (accessReport).
		if c.p.Role == identity.RolePatient {
			hideOtherPatients(out.Accesses, c.p.UserID)
		}
		q := dbsqlc.New(tx)
		row, err := q.GetPatient(ctx, dbsqlc.GetPatientParams{OrgID: c.p.OrgID, ID: patient})
		if err != nil {
			return err
		}
		if out.Patient, err = fromRow(row, k); err != nil {
			return err
		}
		// The entries and the amendments open under the keyset their own
		// statements read (a keying may commit after the row was read).
		rows, err := q.ListEntries(ctx, dbsqlc.ListEntriesParams{OrgID: c.p.OrgID, PatientID: patient, MaxRows: maxExportEntries})
		if err != nil {
			return err
		}
		if out.Entries, err = entriesFromRows(rows, k, patient); err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.AppClinicalEntry.ID
		}
		if len(rows) == maxExportEntries {
			var all int
			if err := tx.QueryRow(ctx, `select count(*) from app.clinical_entries where org_id = $1 and patient_id = $2`,
				c.p.OrgID, patient).Scan(&all); err != nil {
				return err
			}
			out.EntriesOmitted = max(all-len(rows), 0)
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
		if files != nil {
			if out.Documents, err = files(ctx, tx, k, c.p.OrgID, patient); err != nil {
				return err
			}
			for _, f := range out.Documents {
				ids = append(ids, f.VersionID)
			}
		}
		if err := tx.QueryRow(ctx, `select now()`).Scan(&out.ExportedAt); err != nil {
			return err
		}
		e := c.event(action, "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		e.Results = ids
		e.Details = map[string]any{"entries": len(out.Entries), "accesses": len(out.Accesses), "disclosures": len(out.Disclosures),
			"amendments": len(out.Amendments)}
		if out.EntriesOmitted > 0 {
			e.Details["entries_omitted"] = out.EntriesOmitted
		}
		if files != nil {
			e.Details["documents"] = len(out.Documents)
		}
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
	// Documents asks for the patient's stored files too: the export is
	// then a tar archive (SealExportArchive), not a JSON document.
	Documents bool `json:"documents"`
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

// ExportArchiveJSON is the name of the export's JSON document in an export
// archive; the files follow it at their paths.
const ExportArchiveJSON = "export.json"

// ExportArchiveUnavailable is the name of the list an export archive ends
// with when some of its files could not be read at all (ArchiveResult.Skipped).
const ExportArchiveUnavailable = "unavailable.json"

// ArchiveResult is what SealExportArchive wrote: Written files whole, and
// the files it left out, Skipped, because they could not be opened or
// their first segment did not decrypt (an object the store lost, or one
// altered at its start).
type ArchiveResult struct {
	Written int
	Skipped []ExportFile
}

// Unavailable is one entry of ExportArchiveUnavailable: a file of the
// export's documents list that the archive does not carry.
type Unavailable struct {
	Path      string    `json:"path"`
	VersionID uuid.UUID `json:"version_id"`
	Reason    string    `json:"reason"`
}

// exportHead is how much of a file SealExportArchive reads before it
// writes the file's header: its first segment is decrypted and checked
// (docstream's segments are smaller), so a file that cannot be read from
// the start is left out rather than ending the archive.
const exportHead = 64 << 10

// SealExportArchive writes x and its files as a tar archive (POSIX
// ustar/PAX) encrypted to rec in the age format: first ExportArchiveJSON,
// then each of x.Documents at its path, read through its Open. A file that
// cannot be opened, or whose first exportHead bytes cannot be read, is
// left out and listed in ExportArchiveUnavailable at the end (one object
// the store lost must not break every export of the patient). A file that
// fails after its first bytes went out ends the archive with an error
// before the age stream's last chunk, so age refuses the cut file
// (docs/dsr.md: decrypt to a file, then extract); so does a ctx ended.
func SealExportArchive(ctx context.Context, w io.Writer, rec age.Recipient, x PatientExport) (ArchiveResult, error) {
	var res ArchiveResult
	enc, err := age.Encrypt(w, rec)
	if err != nil {
		return res, err
	}
	doc, err := json.Marshal(x)
	if err != nil {
		return res, err
	}
	tw := tar.NewWriter(enc)
	at := x.ExportedAt.UTC()
	if err := writeArchiveDoc(tw, ExportArchiveJSON, doc, at); err != nil {
		return res, err
	}
	for _, f := range x.Documents {
		body, err := openExportFile(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return res, err
			}
			res.Skipped = append(res.Skipped, f)
			continue
		}
		err = writeExportFile(tw, f, body)
		body.Close()
		if err != nil {
			return res, err
		}
		res.Written++
	}
	if len(res.Skipped) > 0 {
		list := make([]Unavailable, len(res.Skipped))
		for i, f := range res.Skipped {
			list[i] = Unavailable{Path: f.Path, VersionID: f.VersionID, Reason: "unreadable"}
		}
		doc, err := json.Marshal(map[string]any{"files": list})
		if err != nil {
			return res, err
		}
		if err := writeArchiveDoc(tw, ExportArchiveUnavailable, doc, at); err != nil {
			return res, err
		}
	}
	if err := tw.Close(); err != nil {
		return res, err
	}
	return res, enc.Close()
}

func writeArchiveDoc(tw *tar.Writer, name string, doc []byte, at time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(doc)) + 1, ModTime: at,
		Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(append(doc, '\n'))
	return err
}

// ExportShort records that the archive of an export of patient, whose
// success was recorded with its transaction, did not deliver all of its
// total files (outcome failure): reason archive_cut when it was cut short
// after written files, files_unavailable when it left out the versions
// missing (listed in the event's results) and ended whole. The export's
// events say what was released, this one what did not arrive. It is
// written past the client's hang-up.
func (s *Service) ExportShort(ctx context.Context, patient uuid.UUID, reason string, written, total int, missing []uuid.UUID) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	e := c.event("patient.export", "patient", patient)
	e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
	e.Outcome = audit.OutcomeFailure
	e.Results = missing
	e.Details = map[string]any{"reason": reason, "files_written": written, "documents": total}
	return audit.RecordDenied(ctx, s.db, c.cred(), e)
}

// openExportFile opens f and reads its first bytes (up to exportHead), so
// that a file that cannot be read from its start fails here, before the
// archive carries its header; the returned body reads the whole file.
func openExportFile(ctx context.Context, f ExportFile) (io.ReadCloser, error) {
	rc, err := f.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("records: export: open version %s: %w", f.VersionID, err)
	}
	head := make([]byte, min(f.Size, exportHead))
	if _, err := io.ReadFull(rc, head); err != nil {
		rc.Close()
		return nil, fmt.Errorf("records: export: read version %s: %w", f.VersionID, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rc), rc}, nil
}

func writeExportFile(tw *tar.Writer, f ExportFile, body io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: 0o600, Size: f.Size, ModTime: f.UploadedAt.UTC(),
		Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	// tar refuses a file longer or shorter than its header says (Close
	// reports a short one).
	if n, err := io.Copy(tw, body); err != nil {
		return fmt.Errorf("records: export: read version %s: %w", f.VersionID, err)
	} else if n != f.Size {
		return fmt.Errorf("records: export: version %s: %d of %d bytes", f.VersionID, n, f.Size)
	}
	return nil
}

// ExportPath is where a case document's version sits in an export
// archive: documents/<case>/<document>/v<version>-<file name>, the name
// reduced to letters, digits, dot, dash and underscore (at most 100
// characters; "file" when nothing is left) so that no name climbs out of
// its folder or means anything to a shell.
func ExportPath(kase, document uuid.UUID, version int, fileName string) string {
	var b strings.Builder
	for _, r := range fileName {
		if b.Len() >= 100 {
			break
		}
		switch {
		case r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'):
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), "._")
	if name == "" {
		name = "file"
	}
	return fmt.Sprintf("documents/%s/%s/v%d-%s", kase, document, version, name)
}
