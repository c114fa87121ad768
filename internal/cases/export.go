package cases

import (
	"context"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Bounds of one patient's export: its cases and the documents of a case
// (the metadata read here), and the files in all (app.open_patient_documents
// refuses more than 10,000). An export past them is refused
// (records.ErrInvalidInput) rather than cut short: the right of access is
// to the whole set.
const (
	maxExportCases     = 1_000
	maxExportDocuments = 10_000
)

// errExportTooLarge is an export past the bounds above.
var errExportTooLarge = errkind.Visible(records.ErrInvalidInput,
	"the patient's files are too many for one export (over 1,000 cases, 10,000 documents in a case or 10,000 files): download them case by case")

// PatientFiles lists, in the export's transaction tx (bound to the
// requester), every version of every live document of patient's cases
// that the requester may download, oldest case, document and version
// first. The database opens them in one statement
// (app.open_patient_documents: the download permission of each, as
// app.open_document_version decides, and a document.download event for
// each in this transaction, details via patient.export); the metadata
// (titles, file names) is read and opened here under RLS. A version is
// decrypted only when the archive reaches it (ExportFile.Open), its data
// key unwrapped then. It is a records.ExportFiles.
func (s *Service) PatientFiles(ctx context.Context, tx pgx.Tx, keys *envelope.OrgKeys, org, patient uuid.UUID) ([]records.ExportFile, error) {
	req := identity.RequestFrom(ctx)
	q := dbsqlc.New(tx)
	opened, err := q.OpenPatientDocuments(ctx, dbsqlc.OpenPatientDocumentsParams{PatientID: patient,
		Request: optional(req.ID), Ip: optional(req.IPString()), Ua: optional(req.UserAgent)})
	if postgres.IsCode(err, "54000") {
		return nil, errExportTooLarge
	}
	if err != nil {
		return nil, err
	}
	meta := make(map[uuid.UUID]records.ExportFile, len(opened))
	cs, err := q.ListCases(ctx, dbsqlc.ListCasesParams{OrgID: org, PatientID: uuid.NullUUID{UUID: patient, Valid: true},
		Max: maxExportCases + 1})
	if err != nil {
		return nil, err
	}
	if len(cs) > maxExportCases {
		return nil, errExportTooLarge
	}
	for _, cr := range cs {
		kase, err := caseFromRow(cr, keys)
		if err != nil {
			return nil, err
		}
		docs, err := q.ListDocuments(ctx, dbsqlc.ListDocumentsParams{OrgID: org, CaseID: kase.ID, Max: maxExportDocuments + 1})
		if err != nil {
			return nil, err
		}
		if len(docs) > maxExportDocuments {
			return nil, errExportTooLarge
		}
		for _, r := range docs {
			if r.DeletedAt != nil {
				continue
			}
			doc, err := documentFrom(dbsqlc.GetDocumentRow(r), keys)
			if err != nil {
				return nil, err
			}
			vs, err := q.ListVersions(ctx, dbsqlc.ListVersionsParams{OrgID: org, DocumentID: doc.ID})
			if err != nil {
				return nil, err
			}
			for _, vr := range vs {
				v, err := versionFrom(org, vr, keys)
				if err != nil {
					return nil, err
				}
				meta[v.ID] = records.ExportFile{
					Path: records.ExportPath(kase.ID, doc.ID, v.Version, v.FileName), CaseID: kase.ID, CaseTitle: kase.Title,
					DocumentID: doc.ID, DocumentType: doc.Type, Description: doc.Description, VersionID: v.ID,
					Version: v.Version, FileName: v.FileName, ContentType: v.ContentType, Size: v.Size, SHA256: v.SHA256,
					UploadedAt: v.CreatedAt}
			}
		}
	}
	out := make([]records.ExportFile, 0, len(opened))
	for _, o := range opened {
		f, ok := meta[o.VersionID]
		if !ok {
			// The database opened a version RLS does not show: the two
			// rules disagree, and nothing is served on either's word.
			return nil, fmt.Errorf("cases: export: version %s opened but not visible", o.VersionID)
		}
		wrapped, key, aad := o.DataKey, o.StorageKey, docstream.AAD(org, f.CaseID, f.DocumentID, f.VersionID)
		ad, size := keystore.DataKeyAD(org, f.VersionID), f.Size
		f.Open = func(ctx context.Context) (io.ReadCloser, error) {
			dk, err := docstream.OpenDataKey(keys, wrapped, ad)
			if err != nil {
				return nil, fmt.Errorf("cases: open data key of version %s: %w", f.VersionID, err)
			}
			return dk.Decrypt(ctx, s.store, key, aad, size, 0, -1)
		}
		out = append(out, f)
	}
	return out, nil
}
