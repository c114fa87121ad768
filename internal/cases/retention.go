package cases

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// RetentionPolicy is an org's document retention: for each document type
// it names, how many days a document of that type is kept after its last
// upload (or its creation, when nothing was uploaded); the purge job
// (Jobs.Purge) then deletes it unless a legal hold covers it. A type it
// does not name is kept for ever. See docs/retention.md.
type RetentionPolicy struct {
	DocumentTypes map[string]int `json:"document_types"`
	// Version is the policy's version (migration 00250), the same for the
	// same policy: the hex SHA-256 of its "type days" lines. The API sends
	// it as the ETag (quoted); SetRetentionPolicy takes it back.
	Version string `json:"-"`
}

// Retention bounds (the database's CHECKs, migration 00233).
const (
	RetentionMinDays  = 1
	RetentionMaxDays  = 36500
	RetentionMaxTypes = 100
)

var docTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// GetRetentionPolicy returns the caller's org retention policy (any member
// of the org, patient and above; the database refuses anyone else).
func (s *Service) GetRetentionPolicy(ctx context.Context) (RetentionPolicy, error) {
	c, err := begin(ctx)
	if err != nil {
		return RetentionPolicy{}, err
	}
	out := RetentionPolicy{DocumentTypes: map[string]int{}}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		rows, err := t.q.GetDocumentRetention(ctx, c.p.OrgID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.DocumentTypes[r.DocType] = int(r.RetainDays)
		}
		out.Version, err = t.q.GetDocumentRetentionTag(ctx, c.p.OrgID)
		return err
	})
	return out, mapErr("get retention policy", err)
}

// SetRetentionPolicy replaces the caller's org retention policy. The
// database decides who may: an admin's session, not break-glass, that
// presented a second factor within 10 minutes. With ifMatch (versions the
// caller read, RetentionPolicy.Version), it replaces the policy only if
// its version is still one of them, checked under the lock that orders
// the org's changes (nil: whatever the version). Errors: ErrInvalidInput,
// ErrForbidden (audited), ErrPreconditionFailed (the policy changed).
func (s *Service) SetRetentionPolicy(ctx context.Context, pol RetentionPolicy, ifMatch []string) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	if pol.DocumentTypes == nil {
		return errkind.Visible(ErrInvalidInput, "document_types is an object of document type to days (possibly empty)")
	}
	if len(pol.DocumentTypes) > RetentionMaxTypes {
		return errkind.Visiblef(ErrInvalidInput, "document_types names at most %d types", RetentionMaxTypes)
	}
	for k, v := range pol.DocumentTypes {
		if !docTypeRE.MatchString(k) || v < RetentionMinDays || v > RetentionMaxDays {
			return errkind.Visiblef(ErrInvalidInput,
				"document types are lower-case names (a-z, 0-9, _); days are %d to %d", RetentionMinDays, RetentionMaxDays)
		}
	}
	body, err := json.Marshal(pol.DocumentTypes)
	if err != nil {
		return err
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		return t.q.SetDocumentRetention(ctx, dbsqlc.SetDocumentRetentionParams{Policy: body, Request: optional(c.req.ID),
			IfMatch: ifMatch})
	})
	if err = mapErr("set retention policy", err); err != nil {
		return s.denied(ctx, c, c.event("org.retention_policy.update", "org", c.p.OrgID, uuid.Nil), err)
	}
	return nil
}

// PurgePreview is what the next purge would do in an org, per type its
// retention policy names (PreviewPurge): counts, dates and document ids,
// no title, file name or patient.
type PurgePreview struct {
	DocumentTypes []PurgePreviewType `json:"document_types"`
}

// PurgePreviewType is one document type of a PurgePreview. PastRetention
// counts the live documents whose creation and last upload are older than
// RetainDays; each of them is kept by a legal hold (KeptByHold: on the
// org, its case's patient or its case), kept by its request (KeptByRequest:
// a due date less than RetainDays ago), or deleted by the next purge
// (Purge), so PastRetention = KeptByHold + KeptByRequest + Purge.
// OldestEnd is when the retention of the oldest one the purge deletes
// ended (nil when it deletes none); DocumentIDs are the first
// PurgePreviewMaxIDs of them in the purge's order (oldest first).
type PurgePreviewType struct {
	DocType       string      `json:"doc_type"`
	RetainDays    int         `json:"retain_days"`
	PastRetention int         `json:"past_retention"`
	KeptByHold    int         `json:"kept_by_hold"`
	KeptByRequest int         `json:"kept_by_request"`
	Purge         int         `json:"purge"`
	OldestEnd     *time.Time  `json:"oldest_end"`
	DocumentIDs   []uuid.UUID `json:"document_ids"`
}

// PurgePreviewMaxIDs is how many document ids a PurgePreview lists per
// type (the counts cover them all).
const PurgePreviewMaxIDs = 100

// PreviewPurge reports what the next purge would delete in the caller's
// org, without deleting anything (an org admin's session). It reads under
// the caller's credential, so the database's row security decides what it
// counts, and it decides as the purge does (app.purge_expired_documents).
// The document ids it returns are a list read of the org's documents:
// audited as document.list with them as results, as a case's document
// list is. Errors: ErrForbidden (the route audits it).
func (s *Service) PreviewPurge(ctx context.Context) (PurgePreview, error) {
	c, err := s.admin(ctx)
	if err != nil {
		return PurgePreview{}, err
	}
	out := PurgePreview{DocumentTypes: []PurgePreviewType{}}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		rows, err := t.q.PreviewDocumentPurge(ctx, dbsqlc.PreviewDocumentPurgeParams{OrgID: c.p.OrgID, MaxIds: PurgePreviewMaxIDs})
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, r := range rows {
			pt := PurgePreviewType{DocType: r.DocType, RetainDays: int(r.RetainDays), PastRetention: int(r.PastRetention),
				KeptByHold: int(r.Held), KeptByRequest: int(r.Requested), Purge: int(r.Purge), DocumentIDs: r.DocumentIds}
			if pt.DocumentIDs == nil {
				pt.DocumentIDs = []uuid.UUID{}
			}
			if r.Purge > 0 {
				end := r.OldestEnd
				pt.OldestEnd = &end
			}
			out.DocumentTypes = append(out.DocumentTypes, pt)
			ids = append(ids, r.DocumentIds...)
		}
		e := c.event("document.list", "", uuid.Nil, uuid.Nil)
		e.Results = ids
		e.Details = map[string]any{"retention_preview": true}
		return t.record(ctx, e)
	})
	if err = mapErr("preview purge", err); err != nil {
		return PurgePreview{}, s.denied(ctx, c, c.event("document.list", "", uuid.Nil, uuid.Nil), err)
	}
	return out, nil
}
