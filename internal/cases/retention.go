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
//
// DocumentTypes are the days in force now. A shortening (fewer days, or a
// type added) waits RetentionNoticeDays before it applies (migration
// 00256): until then it is in Pending and the purge keeps using the rule
// in DocumentTypes (none, for a type added). In a PUT, DocumentTypes is
// the policy wanted and Pending is ignored (the database decides it).
type RetentionPolicy struct {
	DocumentTypes map[string]int              `json:"document_types"`
	Pending       map[string]RetentionPending `json:"pending"`
	// Version is the policy's version (migrations 00250, 00256), the same
	// for the same policy: the hex SHA-256 of its "type days" lines,
	// pending changes included. The API sends it as the ETag (quoted);
	// SetRetentionPolicy takes it back.
	Version string `json:"-"`
}

// RetentionPending is a shortening of a type's retention in its notice
// period: the days that apply from EffectiveAt.
type RetentionPending struct {
	RetainDays  int       `json:"retain_days"`
	EffectiveAt time.Time `json:"effective_at"`
}

// RetentionNoticeDays is how long a shortened retention waits before it
// applies: the database's constant (private.retention_notice, migration
// 00256), here for documentation and the console only.
const RetentionNoticeDays = 30

// retentionRule reads a stored type's row (migration 00256): the days in
// force (nil: none, kept for ever) and the pending shortening (nil: none).
// pendingInForce is the database's answer to whether the pending change's
// effective time has passed (its clock, not this process's).
func retentionRule(retain, pendingDays *int32, effectiveAt *time.Time, pendingInForce bool) (*int, *RetentionPending) {
	if pendingDays == nil || effectiveAt == nil {
		return intp(retain), nil
	}
	if pendingInForce {
		return intp(pendingDays), nil
	}
	return intp(retain), &RetentionPending{RetainDays: int(*pendingDays), EffectiveAt: *effectiveAt}
}

func intp(v *int32) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
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
	out := RetentionPolicy{DocumentTypes: map[string]int{}, Pending: map[string]RetentionPending{}}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		rows, err := t.q.GetDocumentRetention(ctx, c.p.OrgID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			inForce, pending := retentionRule(r.RetainDays, r.PendingDays, r.EffectiveAt, r.PendingInForce)
			if inForce != nil {
				out.DocumentTypes[r.DocType] = *inForce
			}
			if pending != nil {
				out.Pending[r.DocType] = *pending
			}
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

// PurgePreviewType is one document type of a PurgePreview. RetainDays is
// the rule in force (nil: none yet, a type added whose rule is pending).
// PastRetention counts the live documents whose creation and last upload
// are older than RetainDays; each of them is kept by a legal hold
// (KeptByHold: on the org, its case's patient or its case), kept by its
// request (KeptByRequest: a due date less than RetainDays ago), kept by an
// open access or amendment request about its patient (KeptByDSR, migration
// 00256), or deleted by the next purge (Purge), so PastRetention =
// KeptByHold + KeptByRequest + KeptByDSR + Purge. OldestEnd is when the
// retention of the oldest one the purge deletes ended (nil when it deletes
// none); DocumentIDs are the first PurgePreviewMaxIDs of them in the
// purge's order (oldest first). Pending is the type's shortening in its
// notice period, if any.
type PurgePreviewType struct {
	DocType       string               `json:"doc_type"`
	RetainDays    *int                 `json:"retain_days"`
	PastRetention int                  `json:"past_retention"`
	KeptByHold    int                  `json:"kept_by_hold"`
	KeptByRequest int                  `json:"kept_by_request"`
	KeptByDSR     int                  `json:"kept_by_dsr"`
	Purge         int                  `json:"purge"`
	OldestEnd     *time.Time           `json:"oldest_end"`
	DocumentIDs   []uuid.UUID          `json:"document_ids"`
	Pending       *PurgePreviewPending `json:"pending"`
}

// PurgePreviewPending is what a pending shortening will do: from
// EffectiveAt the type keeps RetainDays, and the purge then deletes Purge
// more documents than it deletes now (counted with the holds and requests
// as they stand now; a count, no ids).
type PurgePreviewPending struct {
	RetainDays  int       `json:"retain_days"`
	EffectiveAt time.Time `json:"effective_at"`
	Purge       int       `json:"purge"`
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
			pt := PurgePreviewType{DocType: r.DocType, PastRetention: int(r.PastRetention), KeptByHold: int(r.Held),
				KeptByRequest: int(r.Requested), KeptByDSR: int(r.Dsr), Purge: int(r.Purge), DocumentIDs: r.DocumentIds}
			var pending *RetentionPending
			pt.RetainDays, pending = retentionRule(r.RetainDays, r.PendingDays, r.EffectiveAt, r.PendingInForce)
			if pending != nil {
				pt.Pending = &PurgePreviewPending{RetainDays: pending.RetainDays, EffectiveAt: pending.EffectiveAt,
					Purge: int(r.PendingPurge)}
			}
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
