package cases

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/docstream"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Document is a requested or provided document of a case, with its
// status derived at read time: pending (requested, nothing uploaded yet),
// overdue (pending past its due date, while the case is open: a closed
// case owes nothing), complete (a file was provided).
type Document struct {
	ID            uuid.UUID  `json:"id"`
	CaseID        uuid.UUID  `json:"case_id"`
	Type          string     `json:"type"`
	Description   string     `json:"description,omitempty"`
	Status        string     `json:"status"`
	RequestedBy   *uuid.UUID `json:"requested_by"`
	RequestedFrom *uuid.UUID `json:"requested_from"`
	DueAt         *time.Time `json:"due_at"`
	ProvidedAt    *time.Time `json:"provided_at"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	// AcceptedVersion is the version the acceptance named (migration
	// 00181): a download that names no version serves it.
	AcceptedVersion *int      `json:"accepted_version"`
	CreatedBy       uuid.UUID `json:"created_by"`
	CreatedAt       time.Time `json:"created_at"`
	// Versions are the newest MaxDocumentVersions versions, in version
	// order (GetDocument only); VersionCount counts them all.
	Versions     []Version `json:"versions,omitempty"`
	VersionCount int       `json:"version_count,omitempty"`
}

// MaxDocumentVersions is the most versions GetDocument returns: the
// newest, with the count of all.
const MaxDocumentVersions = 100

// LogValue reports ids only.
func (d Document) LogValue() slog.Value { return slog.StringValue(d.ID.String()) }

// Version is one uploaded file of a document.
type Version struct {
	ID      uuid.UUID `json:"id"`
	Version int       `json:"version"`
	// Size and SHA256 are given only to a caller who may download the
	// version (or who uploaded it): a party who may only view the case
	// would otherwise confirm a templated report's content by hashing its
	// candidate renderings.
	Size        int64     `json:"size,omitempty"`
	SHA256      string    `json:"sha256,omitempty"`
	ContentType string    `json:"content_type"`
	FileName    string    `json:"file_name"`
	UploadedBy  uuid.UUID `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// LogValue reports ids only.
func (v Version) LogValue() slog.Value { return slog.StringValue(v.ID.String()) }

func nullID(id uuid.NullUUID) *uuid.UUID {
	if !id.Valid {
		return nil
	}
	u := id.UUID
	return &u
}

// documentFrom opens a document row. The rows of CreateDocument and
// ListDocuments select the same columns, so they convert to this type.
func documentFrom(r dbsqlc.GetDocumentRow, k *envelope.OrgKeys) (Document, error) {
	d := Document{ID: r.ID, CaseID: r.CaseID, Type: r.DocType, Status: r.Status, RequestedBy: nullID(r.RequestedBy),
		RequestedFrom: nullID(r.RequestedFrom), DueAt: r.DueAt, ProvidedAt: r.ProvidedAt, AcceptedAt: r.AcceptedAt,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
	if r.AcceptedVersion != nil {
		v := int(*r.AcceptedVersion)
		d.AcceptedVersion = &v
	}
	var err error
	d.Description, err = openField(k, "documents", "description", r.OrgID, r.ID, r.DescriptionEnc)
	return d, err
}

func versionFrom(org uuid.UUID, r dbsqlc.ListVersionsRow, k *envelope.OrgKeys) (Version, error) {
	v := Version{ID: r.ID, Version: int(r.Version), Size: r.Size, SHA256: hex.EncodeToString(r.Sha256),
		ContentType: r.ContentType, UploadedBy: r.UploadedBy, CreatedAt: r.CreatedAt}
	var err error
	v.FileName, err = openField(k, "document_versions", "file_name", org, r.ID, r.FilenameEnc)
	return v, err
}

var docType = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`) }) // compiled on first use, not at start-up

// RequestInput asks for a document on a case.
type RequestInput struct {
	Type          string     `json:"type"`
	Description   string     `json:"description,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"`
	RequestedFrom *uuid.UUID `json:"requested_from,omitempty"`
}

// RequestDocument records a request for a document on kase (by one who
// manages the case). Errors: ErrInvalidInput, ErrNotFound, ErrForbidden,
// ErrCaseClosed.
func (s *Service) RequestDocument(ctx context.Context, kase uuid.UUID, in RequestInput) (Document, error) {
	c, err := begin(ctx)
	if err != nil {
		return Document{}, err
	}
	if !docType().MatchString(in.Type) {
		return Document{}, errkind.Visible(ErrInvalidInput, "type is 1-48 lower-case letters, digits and _ (e.g. wage_statement)")
	}
	if in.Description, err = text("description", in.Description, 2000, false); err != nil {
		return Document{}, err
	}
	if in.DueAt != nil && in.DueAt.After(s.cfg.Now().AddDate(5, 0, 0)) {
		return Document{}, errkind.Visible(ErrInvalidInput, "due_at is at most five years ahead")
	}
	var out Document
	id := uuid.New()
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if err := mayRequest(ctx, t, c, kase); err != nil {
			return err
		}
		desc, err := sealField(t.keys, "documents", "description", c.p.OrgID, id, in.Description)
		if err != nil {
			return err
		}
		p := dbsqlc.CreateDocumentParams{OrgID: c.p.OrgID, ID: id, CaseID: kase, DocType: in.Type, DescriptionEnc: desc,
			RequestedBy: uuid.NullUUID{UUID: c.p.UserID, Valid: true}, DueAt: in.DueAt, CreatedBy: c.p.UserID}
		if in.RequestedFrom != nil {
			p.RequestedFrom = uuid.NullUUID{UUID: *in.RequestedFrom, Valid: true}
		}
		r, err := t.q.CreateDocument(ctx, p)
		if err != nil {
			return err
		}
		if out, err = documentFrom(dbsqlc.GetDocumentRow(r), t.keys); err != nil {
			return err
		}
		e := c.event("document.request", "document", id, kase)
		e.Details = map[string]any{"type": in.Type, "due": in.DueAt != nil}
		return t.record(ctx, e)
	})
	if err = mapErr("request document", err); err != nil {
		return Document{}, s.denied(ctx, c, c.event("document.request", "document", uuid.Nil, kase), err)
	}
	return out, nil
}

// mayRequest refuses a caller who may not request documents on kase (one
// that is not the org's, or that the caller cannot read: ErrNotFound).
// A request is the case's business: those who manage it ask for documents
// (the database holds them to it: documents_insert).
func mayRequest(ctx context.Context, t txn, c call, kase uuid.UUID) error {
	if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
		return err
	}
	if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
		if err == nil {
			err = errkind.Visible(ErrForbidden, "only those who manage the case request documents on it")
		}
		return err
	}
	return nil
}

// CheckRequester reports whether the caller may request documents on
// kase, as RequestDocument decides (those who manage the case), without
// requesting one: the console's request page asks it before it shows the
// case's members. Errors: ErrNotFound, ErrForbidden (audited as a refused
// document.request).
func (s *Service) CheckRequester(ctx context.Context, kase uuid.UUID) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error { return mayRequest(ctx, t, c, kase) })
	if err = mapErr("check requester", err); err != nil {
		return s.denied(ctx, c, c.event("document.request", "document", uuid.Nil, kase), err)
	}
	return nil
}

// DocumentList is a case's documents with counts by status.
type DocumentList struct {
	Documents []Document     `json:"documents"`
	Counts    map[string]int `json:"counts"`
}

// ListDocuments returns a case's documents, optionally of one status, with
// the case's counts by status, and audits the list: at most max
// (1..MaxListPage; 0 means DefaultListPage). Errors: ErrInvalidInput (the
// status or max).
func (s *Service) ListDocuments(ctx context.Context, kase uuid.UUID, status string, max int) (DocumentList, error) {
	c, err := begin(ctx)
	if err != nil {
		return DocumentList{}, err
	}
	if status != "" && status != "pending" && status != "overdue" && status != "complete" {
		return DocumentList{}, errkind.Visible(ErrInvalidInput, "status is pending, overdue or complete")
	}
	size, err := pageSize(max)
	if err != nil {
		return DocumentList{}, err
	}
	out := DocumentList{Documents: []Document{}, Counts: map[string]int{"pending": 0, "overdue": 0, "complete": 0}}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		if _, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase}); err != nil {
			return err
		}
		p := dbsqlc.ListDocumentsParams{OrgID: c.p.OrgID, CaseID: kase, Max: size}
		if status != "" {
			p.Status = &status
		}
		rows, err := t.q.ListDocuments(ctx, p)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, r := range rows {
			d, err := documentFrom(dbsqlc.GetDocumentRow(r), t.keys)
			if err != nil {
				return err
			}
			out.Documents = append(out.Documents, d)
			ids = append(ids, r.ID)
		}
		counts, err := t.q.CaseDocumentCounts(ctx, dbsqlc.CaseDocumentCountsParams{OrgID: c.p.OrgID, CaseID: kase})
		if err != nil {
			return err
		}
		for _, n := range counts {
			out.Counts[n.Status] = int(n.N)
		}
		e := c.event("document.list", "", uuid.Nil, kase)
		e.Results = ids
		return t.record(ctx, e)
	})
	if err = mapErr("list documents", err); err != nil {
		return DocumentList{}, s.denied(ctx, c, c.event("document.list", "", uuid.Nil, kase), err)
	}
	return out, nil
}

func getDoc(ctx context.Context, t txn, c call, id uuid.UUID) (dbsqlc.GetDocumentRow, error) {
	return t.q.GetDocument(ctx, dbsqlc.GetDocumentParams{OrgID: c.p.OrgID, ID: id})
}

// GetDocument returns a document with its newest MaxDocumentVersions
// versions and the count of all, and audits the view.
func (s *Service) GetDocument(ctx context.Context, id uuid.UUID) (Document, error) {
	c, err := begin(ctx)
	if err != nil {
		return Document{}, err
	}
	var out Document
	var kase uuid.UUID
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		r, err := getDoc(ctx, t, c, id)
		if err != nil {
			return err
		}
		kase = r.CaseID
		if out, err = documentFrom(r, t.keys); err != nil {
			return err
		}
		vs, err := t.q.ListRecentVersions(ctx, dbsqlc.ListRecentVersionsParams{OrgID: c.p.OrgID, DocumentID: id,
			MaxRows: MaxDocumentVersions})
		if err != nil {
			return err
		}
		download, err := allowed(ctx, t.q, c, kase, "download")
		if err != nil {
			return err
		}
		for _, v := range vs {
			out.VersionCount = int(v.Total)
			ver, err := versionFrom(c.p.OrgID, dbsqlc.ListVersionsRow{ID: v.ID, CaseID: v.CaseID, DocumentID: v.DocumentID,
				Version: v.Version, Size: v.Size, Sha256: v.Sha256, ContentType: v.ContentType, FilenameEnc: v.FilenameEnc,
				UploadedBy: v.UploadedBy, CreatedAt: v.CreatedAt}, t.keys)
			if err != nil {
				return err
			}
			if !download && ver.UploadedBy != c.p.UserID {
				ver.Size, ver.SHA256 = 0, ""
			}
			out.Versions = append(out.Versions, ver)
		}
		return t.record(ctx, c.event("document.view", "document", id, kase))
	})
	if err = mapErr("get document", err); err != nil {
		return Document{}, s.denied(ctx, c, c.event("document.view", "document", id, uuid.Nil), err)
	}
	return out, nil
}

// Precondition names the version of a document a change applies to: its
// number, the entity tags of an If-Match header (quoted SHA-256s of the
// plaintext, as downloads send in ETag), or both; Any is If-Match: *.
type Precondition struct {
	Version int
	ETags   []string
	Any     bool
}

// Named reports whether p names a version (Any names none).
func (p Precondition) Named() bool { return p.Version > 0 || len(p.ETags) > 0 }

// holds reports whether p holds for the document's latest version (ok:
// the document has one).
func (p Precondition) holds(latest dbsqlc.LatestVersionRow, ok bool) bool {
	if !ok {
		return false
	}
	if p.Version > 0 && int(latest.Version) != p.Version {
		return false
	}
	if len(p.ETags) == 0 {
		return true
	}
	// A caller who may not learn the latest's hash reads it as null
	// (app.version_sha256): no tag names it, the empty "" included.
	// Strong comparison: a weak W/ tag never matches.
	return latest.Sha256 != nil && slices.Contains(p.ETags, `"`+hex.EncodeToString(latest.Sha256)+`"`)
}

// latestHolds returns ErrPreconditionFailed unless p, an upload's
// If-Match, holds for the document's latest version; nil when p names
// nothing.
func latestHolds(ctx context.Context, t txn, c call, doc uuid.UUID, p Precondition) error {
	if !p.Named() && !p.Any {
		return nil
	}
	latest, ok, err := latestVersion(ctx, t, c, doc)
	if err == nil && !p.holds(latest, ok) {
		err = ErrPreconditionFailed
	}
	return err
}

// latestVersion reads the document's latest version (ok false: none).
func latestVersion(ctx context.Context, t txn, c call, doc uuid.UUID) (dbsqlc.LatestVersionRow, bool, error) {
	v, err := t.q.LatestVersion(ctx, dbsqlc.LatestVersionParams{OrgID: c.p.OrgID, DocumentID: doc})
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, err
}

// AcceptDocument marks a provided document accepted (those who manage the
// case), at the version want names, which must be its latest: the version
// the manager reviewed, not one uploaded since (the database holds it to
// that as well, migration 00181). Errors: ErrInvalidInput (want names no
// version), ErrNotFound, ErrForbidden, ErrConflict (not provided yet, or
// accepted already), ErrCaseClosed, ErrPreconditionFailed (not the latest
// version).
func (s *Service) AcceptDocument(ctx context.Context, id uuid.UUID, want Precondition) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	if !want.Named() {
		return errkind.Visible(ErrInvalidInput, "name the version accepted: If-Match with its ETag, or {\"version\": n}")
	}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		r, err := getDoc(ctx, t, c, id)
		if err != nil {
			return err
		}
		if ok, err := managed(ctx, t.q, c, r.CaseID); err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		// No version is added while the acceptance is decided.
		lk, err := t.q.LockDocument(ctx, dbsqlc.LockDocumentParams{OrgID: c.p.OrgID, ID: id})
		if err != nil {
			return err
		}
		latest, ok, err := latestVersion(ctx, t, c, id)
		switch {
		case err != nil:
			return err
		case lk.AcceptedAt != nil || !ok:
			return errkind.Visible(ErrConflict, "only a provided document that is not accepted yet can be accepted")
		case !want.holds(latest, ok):
			return ErrPreconditionFailed
		}
		if _, err := t.q.AcceptDocument(ctx, dbsqlc.AcceptDocumentParams{OrgID: c.p.OrgID, ID: id,
			AcceptedBy: uuid.NullUUID{UUID: c.p.UserID, Valid: true}, AcceptedVersion: &latest.Version}); err != nil {
			if errors.Is(mapErr("", err), ErrNotFound) {
				return errkind.Visible(ErrConflict, "only a provided document that is not accepted yet can be accepted")
			}
			return err
		}
		e := c.event("document.accept", "document", id, r.CaseID)
		e.Details = map[string]any{"version": int(latest.Version)}
		return t.record(ctx, e)
	})
	if err = mapErr("accept document", err); err != nil {
		return s.denied(ctx, c, c.event("document.accept", "document", id, uuid.Nil), err)
	}
	return nil
}

// DeleteDocument deletes a document (admins and leads): its data keys are
// destroyed in the database at once, its objects removed from the store.
// Errors: ErrNotFound, ErrForbidden, ErrLegalHold, ErrOpenRequest (an access or
// amendment request of the document's patient is open).
func (s *Service) DeleteDocument(ctx context.Context, id uuid.UUID) error {
	c, err := begin(ctx)
	if err != nil {
		return err
	}
	var keys []string
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		// Someone who cannot see the document learns nothing (404);
		// someone who can, but may not delete, is told so (403).
		if _, err := getDoc(ctx, t, c, id); err != nil {
			return err
		}
		keys, err = t.q.DeleteDocument(ctx, dbsqlc.DeleteDocumentParams{DocumentID: id, Request: optional(c.req.ID)})
		return err
	})
	if err = mapErr("delete document", err); err != nil {
		return s.denied(ctx, c, c.event("document.delete", "document", id, uuid.Nil), err)
	}
	for _, k := range keys {
		if derr := s.store.Delete(context.WithoutCancel(ctx), k); derr != nil {
			s.log.WarnContext(ctx, "deleted document's object not removed; the sweeper will", "key", k, "err", derr)
		}
	}
	return nil
}

// UploadInput describes an upload. FileName is PHI (sealed); the content
// type is sniffed from the bytes, never taken from the client.
type UploadInput struct {
	FileName string
	// Type is the document type of a new document (Upload with no
	// document id); ignored when uploading against a request.
	Type string
	// Length is the body's declared length (-1 or 0: unknown): one over
	// the org's document_max_bytes is refused before a byte is read.
	Length int64
	// IfMatch, when it names a version or is Any, must hold for the
	// document's latest version when the new one is committed.
	IfMatch Precondition
}

// errTooLarge marks the size limit reader's refusal.
var errTooLarge = errors.New("cases: over the size limit")

type limitReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errTooLarge
	}
	return n, err
}

// spoofing reports the characters a name shown to people (a file name, the
// organisation on a grant) must not hold: C1 controls, line and paragraph
// separators, and Unicode format characters (bidirectional overrides such
// as U+202E that show "invoice\u202Efdp.exe" as "invoiceexe.pdf",
// zero-width characters, the byte-order mark).
func spoofing(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r)
}

// refusedTypes are content types never stored: active content a browser
// would run if a download were ever shown inline.
var refusedTypes = []string{"text/html", "text/xml", "application/javascript", "text/javascript"}

// Upload streams body, encrypted under a fresh data key, into the blob
// store as a new version of document doc of kase (doc uuid.Nil: a new
// document of in.Type), and commits the version (and the document's
// provided status) only once the object is durable. The object's key is
// claimed before a byte is stored and the claim kept fresh while the body
// streams, so the sweeper leaves the object alone until the commit gives
// the claim up. Versions are numbered under the document's row lock, so
// concurrent uploads become consecutive versions. Errors: ErrInvalidInput,
// ErrNotFound, ErrForbidden, ErrConflict, ErrCaseClosed, ErrTooLarge,
// ErrStorageQuota (the org's quota, checked at commit),
// ErrPreconditionFailed (in.IfMatch does not hold), ErrUploadExpired (the
// sweeper reclaimed the claim: the upload went an hour without touching
// it, say a process paused that long).
func (s *Service) Upload(ctx context.Context, kase, doc uuid.UUID, in UploadInput, body io.Reader) (Document, Version, error) {
	c, err := begin(ctx)
	if err != nil {
		return Document{}, Version{}, err
	}
	if in.FileName, err = text("file name", in.FileName, 255, true); err != nil {
		return Document{}, Version{}, err
	}
	if strings.ContainsAny(in.FileName, "/\\\n") {
		return Document{}, Version{}, errkind.Visible(ErrInvalidInput, "file name must not hold /, \\ or newlines")
	}
	if strings.IndexFunc(in.FileName, spoofing) >= 0 {
		return Document{}, Version{}, errkind.Visible(ErrInvalidInput,
			"file name must not hold invisible or direction-changing characters")
	}
	newDoc := doc == uuid.Nil
	if newDoc && !docType().MatchString(in.Type) {
		return Document{}, Version{}, errkind.Visible(ErrInvalidInput, "type is 1-48 lower-case letters, digits and _")
	}
	// The object's key, claimed in step 1 before a byte is stored
	// (migration 00186): the sweeper leaves a claimed key's object alone
	// while the upload keeps its claim fresh, and the commit gives the claim
	// up (refused once the sweeper reclaimed it).
	key := blob.ObjectKey(c.p.OrgID, uuid.New())
	// 1. May the caller upload here, and how much?
	var max int64
	var keys *envelope.OrgKeys
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		keys = t.keys
		if !newDoc {
			r, err := getDoc(ctx, t, c, doc)
			if err != nil {
				return err
			}
			if r.CaseID != kase {
				return ErrNotFound
			}
			// An accepted file is replaced only by those who manage the
			// case; another, also by the party it was requested from (a
			// request) or whoever filed it (no request) (the database refuses the others as
			// well: private.guard_version_insert).
			party := r.CreatedBy == c.p.UserID
			if r.RequestedFrom.Valid {
				party = r.RequestedFrom.UUID == c.p.UserID
			}
			if r.AcceptedAt != nil || !party {
				if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
					switch {
					case err != nil:
					case r.AcceptedAt != nil:
						err = errkind.Visible(ErrConflict,
							"this document has been accepted: only those who manage the case add versions to it")
					default:
						err = errkind.Visible(ErrForbidden, "a document takes new versions only from the party "+
							"it was requested from, whoever filed it, or those who manage the case")
					}
					return err
				}
			}
		}
		kc, err := t.q.GetCase(ctx, dbsqlc.GetCaseParams{OrgID: c.p.OrgID, ID: kase})
		if err != nil {
			return err
		}
		ok, err := allowed(ctx, t.q, c, kase, PermUpload)
		if err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		if kc.Status == "closed" {
			// before the body is streamed; the database refuses the
			// commit too (migration 00185), should the case close meanwhile
			return ErrCaseClosed
		}
		if max, err = t.q.OrgDocumentLimit(ctx, c.p.OrgID); err != nil {
			return err
		}
		if in.Length > max {
			return errkind.Visible(ErrTooLarge, fmt.Sprintf("this org's limit is %d bytes", max))
		}
		if !newDoc {
			// fail before the body is streamed; checked again at commit
			if err := latestHolds(ctx, t, c, doc, in.IfMatch); err != nil {
				return err
			}
		}
		return t.q.ClaimUpload(ctx, key)
	})
	if err = mapErr("upload", err); err != nil {
		return Document{}, Version{}, s.denied(ctx, c, c.event("document.upload", "document", doc, kase), err)
	}
	// 2. Stream through the hash, the sniffer and encryption into the store.
	if newDoc {
		doc = uuid.New()
	}
	vid := uuid.New()
	stored, committed := false, false
	defer func() {
		if !committed {
			s.abandon(ctx, c, key, stored)
		}
	}()
	var wrapped []byte
	var dk *docstream.DataKey
	{
		var err error
		dk, wrapped, err = docstream.NewDataKey(keys, keystore.DataKeyAD(c.p.OrgID, vid))
		if err != nil {
			return Document{}, Version{}, err
		}
	}
	h := sha256.New()
	lim := &limitReader{r: body, max: max}
	br := bufio.NewReaderSize(io.TeeReader(lim, h), 512)
	head, err := br.Peek(512)
	if errors.Is(err, errTooLarge) {
		return Document{}, Version{}, errkind.Visible(ErrTooLarge, fmt.Sprintf("this org's limit is %d bytes", max))
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		// the body failed before its first 512 bytes (a client that
		// stalled, a limit): its own error, not a later one of the store
		return Document{}, Version{}, fmt.Errorf("cases: upload: %w", err)
	}
	ctype := http.DetectContentType(head)
	for _, t := range refusedTypes {
		if strings.HasPrefix(ctype, t) {
			return Document{}, Version{}, errkind.Visible(ErrInvalidInput,
				"the file is "+t+", which is not stored (active content)")
		}
	}
	size, err := s.putClaimed(ctx, c, key, func(ctx context.Context) (int64, error) {
		return dk.Put(ctx, s.store, key, docstream.AAD(c.p.OrgID, kase, doc, vid), br)
	})
	if errors.Is(err, errTooLarge) {
		return Document{}, Version{}, errkind.Visible(ErrTooLarge, fmt.Sprintf("this org's limit is %d bytes", max))
	}
	if errors.Is(err, ErrUploadExpired) {
		return Document{}, Version{}, err
	}
	if err != nil {
		return Document{}, Version{}, fmt.Errorf("cases: upload: %w", err)
	}
	stored = true
	// 3. Commit the rows and give the claim up; on failure remove the
	// object and release the claim (the sweeper would).
	sum := h.Sum(nil)
	var out Document
	var ver Version
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		// A claim the sweeper reclaimed (the upload went an hour without
		// touching it) may have lost its object: nothing is committed.
		if held, err := t.q.ReleaseUpload(ctx, key); err != nil || !held {
			if err == nil {
				err = ErrUploadExpired
			}
			return err
		}
		if newDoc {
			if _, err := t.q.CreateDocument(ctx, dbsqlc.CreateDocumentParams{OrgID: c.p.OrgID, ID: doc, CaseID: kase,
				DocType: in.Type, CreatedBy: c.p.UserID}); err != nil {
				return err
			}
		} else {
			// Versions are numbered (and accepted) one writer at a time:
			// a concurrent upload waits here and takes the next number.
			lk, err := t.q.LockDocument(ctx, dbsqlc.LockDocumentParams{OrgID: c.p.OrgID, ID: doc})
			if err != nil {
				return err
			}
			if lk.AcceptedAt != nil {
				if ok, err := managed(ctx, t.q, c, kase); err != nil || !ok {
					if err == nil {
						err = errkind.Visible(ErrConflict,
							"this document has been accepted: only those who manage the case add versions to it")
					}
					return err
				}
			}
			if err := latestHolds(ctx, t, c, doc, in.IfMatch); err != nil {
				return err
			}
		}
		n, err := t.q.NextVersion(ctx, dbsqlc.NextVersionParams{OrgID: c.p.OrgID, DocumentID: doc})
		if err != nil {
			return err
		}
		name, err := sealField(t.keys, "document_versions", "file_name", c.p.OrgID, vid, in.FileName)
		if err != nil {
			return err
		}
		row, err := t.q.CreateVersion(ctx, dbsqlc.CreateVersionParams{OrgID: c.p.OrgID, ID: vid, CaseID: kase,
			DocumentID: doc, Version: n, StorageKey: key, DataKey: wrapped, Size: size, Sha256: sum,
			ContentType: ctype, FilenameEnc: name, UploadedBy: c.p.UserID})
		if err != nil {
			return err
		}
		if err := t.q.MarkDocumentProvided(ctx, dbsqlc.MarkDocumentProvidedParams{OrgID: c.p.OrgID, ID: doc}); err != nil {
			return err
		}
		r, err := getDoc(ctx, t, c, doc)
		if err != nil {
			return err
		}
		if out, err = documentFrom(r, t.keys); err != nil {
			return err
		}
		ver = Version{ID: vid, Version: int(row.Version), Size: size, SHA256: hex.EncodeToString(sum), ContentType: ctype,
			FileName: in.FileName, UploadedBy: c.p.UserID, CreatedAt: row.CreatedAt}
		out.Versions = []Version{ver}
		e := c.event("document.upload", "document", doc, kase)
		e.Details = map[string]any{"version": int(row.Version), "size": size, "content_type": ctype}
		return t.record(ctx, e)
	})
	if err != nil {
		// refusals (not found, forbidden, the quota, a closed case) are
		// audited; denied returns any other error as it is
		return Document{}, Version{}, s.denied(ctx, c, c.event("document.upload", "document", doc, kase),
			mapErr("upload", err))
	}
	committed = true
	return out, ver, nil
}

// putClaimed runs put, the store's Put of key, while it keeps the upload's
// claim on key fresh: every UploadHeartbeat it touches the claim, and once
// the claim is gone (the sweeper reclaimed it) it cancels put and returns
// ErrUploadExpired. A touch that fails is logged and tried again at the
// next beat (the commit decides).
func (s *Service) putClaimed(ctx context.Context, c call, key string, put func(context.Context) (int64, error)) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(s.cfg.UploadHeartbeat)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var held bool
			err := s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
				var err error
				held, err = dbsqlc.New(tx).TouchUpload(ctx, key)
				return err
			})
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.WarnContext(ctx, "upload claim not touched", "key", key, "err", err)
			case err == nil && !held:
				cancel(ErrUploadExpired)
				return
			}
		}
	})
	n, err := put(ctx)
	close(done)
	wg.Wait()
	if err != nil && errors.Is(context.Cause(ctx), ErrUploadExpired) {
		return 0, ErrUploadExpired
	}
	return n, err
}

// abandon gives up an upload that did not commit: its object, when one was
// stored, is removed and its claim released, each as best it can (the
// sweeper takes what is left: an object without a version once its claim
// is an hour old).
func (s *Service) abandon(ctx context.Context, c call, key string, stored bool) {
	ctx = context.WithoutCancel(ctx)
	if stored {
		if err := s.store.Delete(ctx, key); err != nil {
			s.log.WarnContext(ctx, "uncommitted upload's object not removed; the sweeper will", "key", key, "err", err)
		}
	}
	err := s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		_, err := dbsqlc.New(tx).ReleaseUpload(ctx, key)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "uncommitted upload's claim not released; the sweeper will", "key", key, "err", err)
	}
}

// Download is an opened version: its metadata and a reader factory for
// byte ranges of its plaintext.
type Download struct {
	Version
	DocumentID uuid.UUID
	CaseID     uuid.UUID
	// Meta is set when the download was opened for its headers only
	// (Conditional): no content may be served, and none can be.
	Meta bool
	open func(ctx context.Context, off, n int64) (io.ReadCloser, error)
}

// Conditional says what of a download the client asked for: Head, the
// headers only; Withhold, when set, reports whether the client's
// conditions (If-None-Match and the other preconditions, Range) leave
// nothing of version v to send. When no content will leave, OpenDownload
// opens the version for its headers only, which the database records as
// a read of the document, not as a download.
type Conditional struct {
	Head     bool
	Withhold func(v Version) bool
}

// ETag is a strong validator: the SHA-256 of the plaintext.
func (v Version) ETag() string { return `"` + v.SHA256 + `"` }

// Range returns a reader of n plaintext bytes from off (n < 0: to the
// end); only the segments covering the range are read and decrypted. A
// Read fails with an error wrapping ErrIntegrity (never altered bytes) if
// the stored object was tampered with.
func (d *Download) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	return d.open(ctx, off, n)
}

// OpenDownload opens version (0: the latest) of doc for download: the
// database checks the download permission and records the download (a
// disclosure when the caller is an external stakeholder, with purpose)
// before it hands out the data key. When cond says no content will leave,
// the download is opened for its headers only (Download.Meta): the same
// check, recorded as document.view, and no key. Errors: ErrNotFound.
func (s *Service) OpenDownload(ctx context.Context, doc uuid.UUID, version int, purpose string, cond Conditional) (*Download, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if purpose, err = text("purpose", purpose, 200, false); err != nil {
		return nil, err
	}
	var d Download
	var key string
	var wrapped []byte
	var keys *envelope.OrgKeys
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		keys = t.keys
		p := dbsqlc.GetVersionParams{OrgID: c.p.OrgID, DocumentID: doc}
		switch {
		case version > math.MaxInt32:
			return ErrNotFound // no such version: int32 would wrap it onto one
		case version > 0:
			v := int32(version)
			p.Version = &v
		}
		vr, err := t.q.GetVersion(ctx, p)
		if err != nil {
			return err
		}
		if d.Version, err = versionFrom(c.p.OrgID, dbsqlc.ListVersionsRow(vr), t.keys); err != nil {
			return err
		}
		d.DocumentID, d.CaseID = vr.DocumentID, vr.CaseID
		d.Meta = cond.Head || cond.Withhold != nil && cond.Withhold(d.Version)
		o, err := t.q.OpenDocumentVersion(ctx, dbsqlc.OpenDocumentVersionParams{VersionID: vr.ID, Purpose: optional(purpose),
			Request: optional(c.req.ID), Ip: optional(c.req.IPString()), Ua: optional(c.req.UserAgent), Meta: d.Meta})
		if err != nil {
			return err
		}
		if d.Meta {
			return nil // the version's description only: no key was handed out
		}
		if o.StorageKey == nil || o.DataKey == nil {
			return ErrNotFound
		}
		key, wrapped = *o.StorageKey, o.DataKey
		return nil
	})
	if err = mapErr("open download", err); err != nil {
		return nil, s.denied(ctx, c, c.event("document.download", "document", doc, uuid.Nil), err)
	}
	if d.Meta {
		d.open = func(context.Context, int64, int64) (io.ReadCloser, error) {
			return nil, errors.New("cases: a download opened for its headers has no content")
		}
		return &d, nil
	}
	dk, err := docstream.OpenDataKey(keys, wrapped, keystore.DataKeyAD(c.p.OrgID, d.ID))
	if err != nil {
		return nil, fmt.Errorf("cases: open data key of version %s: %w", d.ID, err)
	}
	aad := docstream.AAD(c.p.OrgID, d.CaseID, d.DocumentID, d.ID)
	size := d.Size
	d.open = func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		return dk.Decrypt(ctx, s.store, key, aad, size, off, n)
	}
	return &d, nil
}
