package cases

import (
	"context"
	"errors"
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

// Bounds of one patient's export: the cases, the documents of a case and
// the files in all. An export past them is refused (records.ErrInvalidInput)
// rather than cut short: the right of access is to the whole set.
const (
	maxExportCases     = 1_000
	maxExportDocuments = 10_000
	maxExportFiles     = 10_000
)

// errExportTooLarge is an export past the bounds above.
var errExportTooLarge = errkind.Visible(records.ErrInvalidInput,
	"the patient's files are too many for one export (over 1,000 cases, 10,000 documents in a case or 10,000 files): download them case by case")

// exportPurpose is the purpose recorded on each file's download event.
const exportPurpose = "right of access export (HIPAA 164.524)"

// PatientFiles lists, in the export's transaction tx (bound to the
// requester), every version of every live document of patient's cases
// that the requester may download, oldest version first, and opens each
// through app.open_document_version: the database checks the download
// permission and records the download (document.download, with the
// export's purpose) in the same transaction, and hands out the version's
// wrapped data key. A version it refuses (its document deleted meanwhile,
// a case the requester may view but not download) is left out, under a
// savepoint. It is a records.ExportFiles.
func (s *Service) PatientFiles(ctx context.Context, tx pgx.Tx, keys *envelope.OrgKeys, org, patient uuid.UUID) ([]records.ExportFile, error) {
	req := identity.RequestFrom(ctx)
	q := dbsqlc.New(tx)
	cs, err := q.ListCases(ctx, dbsqlc.ListCasesParams{OrgID: org, PatientID: uuid.NullUUID{UUID: patient, Valid: true},
		Max: maxExportCases + 1})
	if err != nil {
		return nil, err
	}
	if len(cs) > maxExportCases {
		return nil, errExportTooLarge
	}
	out := []records.ExportFile{}
	for i := len(cs) - 1; i >= 0; i-- { // oldest case first
		kase, err := caseFromRow(cs[i], keys)
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
		for j := len(docs) - 1; j >= 0; j-- {
			r := docs[j]
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
				if len(out) >= maxExportFiles {
					return nil, errExportTooLarge
				}
				v, err := versionFrom(org, vr, keys)
				if err != nil {
					return nil, err
				}
				f, ok, err := s.openForExport(ctx, tx, keys, org, req, v, kase.ID, doc.ID)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				f.CaseTitle, f.DocumentType, f.Description = kase.Title, doc.Type, doc.Description
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// openForExport opens version v under a savepoint; ok is false when the
// database refuses it (not found to the requester), which rolls back only
// the savepoint.
func (s *Service) openForExport(ctx context.Context, tx pgx.Tx, keys *envelope.OrgKeys, org uuid.UUID, req identity.Request,
	v Version, kase, doc uuid.UUID) (records.ExportFile, bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return records.ExportFile{}, false, err
	}
	o, err := dbsqlc.New(sp).OpenDocumentVersion(ctx, dbsqlc.OpenDocumentVersionParams{VersionID: v.ID,
		Purpose: optional(exportPurpose), Request: optional(req.ID), Ip: optional(req.IPString()), Ua: optional(req.UserAgent)})
	if err == nil && (o.StorageKey == nil || o.DataKey == nil) {
		err = ErrNotFound
	}
	if err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return records.ExportFile{}, false, rerr
		}
		if errors.Is(err, ErrNotFound) || errors.Is(err, pgx.ErrNoRows) || postgres.IsCode(err, postgres.CodeNoDataFound) {
			return records.ExportFile{}, false, nil
		}
		return records.ExportFile{}, false, err
	}
	if err := sp.Commit(ctx); err != nil {
		return records.ExportFile{}, false, err
	}
	dk, err := docstream.OpenDataKey(keys, o.DataKey, keystore.DataKeyAD(org, v.ID))
	if err != nil {
		return records.ExportFile{}, false, fmt.Errorf("cases: open data key of version %s: %w", v.ID, err)
	}
	key, size, aad := *o.StorageKey, v.Size, docstream.AAD(org, kase, doc, v.ID)
	return records.ExportFile{
		Path: records.ExportPath(kase, doc, v.Version, v.FileName), CaseID: kase, DocumentID: doc,
		VersionID: v.ID, Version: v.Version, FileName: v.FileName, ContentType: v.ContentType, Size: v.Size,
		SHA256: v.SHA256, UploadedAt: v.CreatedAt,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return dk.Decrypt(ctx, s.store, key, aad, size, 0, -1)
		},
	}, true, nil
}
