package cases

import (
	"context"
	"encoding/json"
	"regexp"

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
		for _, r := range rows {
			out.DocumentTypes[r.DocType] = int(r.RetainDays)
		}
		return err
	})
	return out, mapErr("get retention policy", err)
}

// SetRetentionPolicy replaces the caller's org retention policy. The
// database decides who may: an admin's session, not break-glass, that
// presented a second factor within 10 minutes. Errors: ErrInvalidInput,
// ErrForbidden (audited).
func (s *Service) SetRetentionPolicy(ctx context.Context, pol RetentionPolicy) error {
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
		return t.q.SetDocumentRetention(ctx, dbsqlc.SetDocumentRetentionParams{Policy: body, Request: optional(c.req.ID)})
	})
	if err = mapErr("set retention policy", err); err != nil {
		return s.denied(ctx, c, c.event("org.retention_policy.update", "org", c.p.OrgID, uuid.Nil), err)
	}
	return nil
}
