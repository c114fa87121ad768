// Package cases is the case-centric document repository (DESIGN §6): cases
// of an org (optionally of a patient), their members and invitations,
// document requests with due dates and derived status, encrypted document
// versions in a blob store, and comments.
//
// Rules:
//   - The database decides who may see or change what (credential-bound RLS
//     on private.my_case_ids and private.my_managed_case_ids); this package
//     also checks, so errors are clear, but a bug here yields zero rows.
//   - Titles, references, descriptions, file names and comments are sealed
//     with the org's AEAD keys, bound to table|column|org|row; a case
//     reference (e.g. a claim number) is looked up by blind index.
//   - Document bytes are encrypted with a fresh streaming data key per
//     version (docstream), bound to org, case, document and version; the
//     row commits only after the object is durable; the wrapped key comes
//     only from app.open_document_version, which audits the download.
//   - Every view, list (with its result ids), change, upload, download and
//     comment is audited in the same transaction; refusals in their own.
//   - Values of this package never reach a log: their LogValue is ids only.
package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/blob"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Errors returned by the service. They carry ids at most, never PHI.
var (
	ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "cases: no live session").
				WithPublic("a live session is required")
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "cases: forbidden").
			WithPublic("your role or your permissions on this case do not allow this")
	ErrNotFound = errkind.New(errkind.NotFound, "not_found", "cases: not found")
	// ErrSSORequired: an invitation accepted by someone whose address is on
	// a domain the org verified while it enforces SSO starts no session
	// (migration 00128); they sign in through the org's identity provider.
	ErrSSORequired = errkind.New(errkind.Forbidden, "sso_required", "cases: the org requires its identity provider").
			WithPublic("this organisation signs people on your domain in through its identity provider: use single sign-on")
	ErrInvalidInput = errkind.New(errkind.Invalid, "invalid_input", "cases: invalid input")
	ErrConflict     = errkind.New(errkind.Conflict, "conflict", "cases: conflict")
	ErrTooLarge     = errkind.New(errkind.TooLarge, "too_large", "cases: document too large").
			WithPublic("the document is larger than this org's limit")
	ErrLegalHold = errkind.New(errkind.Conflict, "legal_hold", "cases: legal hold").
			WithPublic("a legal hold covers this document: it cannot be deleted until the hold is released")
	// ErrOpenRequest: a document of a patient whose access or amendment
	// request is open is not deleted until the request is closed.
	ErrOpenRequest = errkind.New(errkind.Conflict, "open_request", "cases: open access request").
			WithPublic("an access or amendment request of the document's patient is open: it cannot be deleted until the request is closed")
	// ErrPatientShredded: a case named a patient whose record was
	// crypto-shredded (records.ShredPatient).
	ErrPatientShredded = errkind.New(errkind.Gone, "patient_shredded", "cases: patient shredded").
				WithPublic("the patient's record was crypto-shredded: no case names them again")
	ErrIntegrity = errkind.New(errkind.Internal, "integrity", "cases: stored document failed its integrity check")
	// ErrInviteRate: the caller sent 50 invitations in the last hour
	// (migration 00176); Retry-After says when one more is allowed.
	ErrInviteRate = errkind.New(errkind.RateLimited, "invite_rate_limited", "cases: invitation rate").
			WithPublic("you sent 50 invitations in the last hour: send more later")
	// ErrPreconditionFailed: the version an acceptance or an upload named
	// (If-Match, version) is not the document's latest any more.
	ErrPreconditionFailed = errkind.New(errkind.PreconditionFailed, "precondition_failed",
		"cases: not the latest version").
		WithPublic("the document has a newer version than the one named: read it again")
	// ErrStorageQuota: the org's document storage quota (bytes or
	// versions, migration 00182) has no room for this upload.
	ErrStorageQuota = errkind.New(errkind.TooLarge, "storage_quota_exceeded", "cases: storage quota").
			WithPublic("this org's document storage quota is used up: delete documents or ask the operator for more")
	// ErrCommentLimit: the document holds MaxComments comments already
	// (migration 00183); comments are not deleted, so it takes no more.
	ErrCommentLimit = errkind.New(errkind.Conflict, "comment_limit", "cases: comment limit").
			WithPublic("this document holds the most comments it may (1000): it takes no more")
	// ErrCaseClosed: the case is closed, and a closed case is read-only for
	// everyone (migration 00185): no document, version, request, comment,
	// acceptance, grant or invitation, and no new title or reference, until
	// those who manage it reopen it.
	ErrCaseClosed = errkind.New(errkind.Conflict, "case_closed", "cases: case closed").
			WithPublic("this case is closed: it is read-only until those who manage it reopen it")
	// ErrUploadExpired: the upload's claim on its stored object was
	// reclaimed by the sweeper before the upload committed (it went an hour
	// without touching it, migration 00186); nothing is kept.
	ErrUploadExpired = errkind.New(errkind.Conflict, "upload_expired", "cases: upload claim reclaimed").
				WithPublic("the upload took too long to finish and its stored file was reclaimed: upload it again")
)

// Permissions a case grant holds.
const (
	PermView     = "view"
	PermUpload   = "upload"
	PermDownload = "download"
	PermComment  = "comment"
)

var allPerms = []string{PermView, PermUpload, PermDownload, PermComment}

// Stakeholder kinds; KindStaff is an org member granted access to a case.
var stakeholderKinds = []string{"clinic", "employer", "attorney", "payer"}

// KindStaff is the kind of a grant to an org staff member.
const KindStaff = "staff"

// Mailer sends mail; auth.Mailer satisfies it.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config is the service's configuration.
type Config struct {
	// BaseURL is the public base URL invitation links point to.
	BaseURL string
	// Now is the clock for validating dates (default time.Now). The
	// database enforces expiry with its own clock.
	Now func() time.Time
	// UploadHeartbeat is how often an upload whose body is still coming
	// touches its claim on its object's key (default 5 minutes). The
	// database lets the sweeper reclaim a claim untouched for an hour.
	UploadHeartbeat time.Duration
}

// Service manages cases and documents.
type Service struct {
	db      *postgres.DB
	keys    *keystore.Store
	store   blob.Store
	mailer  Mailer
	cfg     Config
	log     *slog.Logger
	denials *audit.Collapser
	// ssoDenials collapses a member's flood of invitations refused with
	// sso_required, keyed by the member.
	ssoDenials *audit.Collapser
}

// NewService returns a Service keeping document bytes in store.
func NewService(db *postgres.DB, keys *keystore.Store, store blob.Store, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UploadHeartbeat <= 0 {
		cfg.UploadHeartbeat = 5 * time.Minute
	}
	return &Service{db: db, keys: keys, store: store, mailer: mailer, cfg: cfg, log: log,
		denials: audit.NewCollapser(30, 25, time.Minute), ssoDenials: audit.NewCollapser(30, 25, time.Minute)}
}

// call carries the principal and the request's metadata.
type call struct {
	p   identity.Principal
	req identity.Request
}

func begin(ctx context.Context) (call, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok || p.Kind != identity.KindSession {
		return call{}, ErrUnauthenticated
	}
	return call{p: p, req: identity.RequestFrom(ctx)}, nil
}

func (c call) cred() postgres.Credential {
	return postgres.CredentialOf(c.p, c.req.ID)
}

// event returns an audit event of the caller's org about object in kase.
func (c call) event(action, objectType string, object, kase uuid.UUID) audit.Event {
	return audit.Event{
		Org: c.p.OrgID, Action: action, Outcome: audit.OutcomeSuccess, ObjectType: objectType,
		ObjectID: uuid.NullUUID{UUID: object, Valid: object != uuid.Nil},
		Case:     uuid.NullUUID{UUID: kase, Valid: kase != uuid.Nil},
		Request:  c.req.ID, IP: c.req.IPString(), UserAgent: c.req.UserAgent,
	}
}

// txn is one transaction bound to the caller's credential: its queries,
// the org's keys, and the audit log in the same transaction.
type txn struct {
	tx   pgx.Tx
	q    *dbsqlc.Queries
	keys *envelope.OrgKeys
}

// record appends e to the log in this transaction.
func (t txn) record(ctx context.Context, e audit.Event) error {
	_, err := audit.Record(ctx, t.tx, e)
	return err
}

// tx runs fn in a transaction bound to the caller's credential, with the
// org's keys.
func (s *Service) tx(ctx context.Context, c call, fn func(ctx context.Context, t txn) error) error {
	return s.db.InTenantTx(ctx, c.cred(), func(ctx context.Context, tx pgx.Tx) error {
		keys, err := s.keys.Org(ctx, tx, c.p.OrgID)
		if err != nil {
			if errors.Is(err, keystore.ErrNoKeys) {
				return ErrUnauthenticated
			}
			return err
		}
		return fn(ctx, txn{tx: tx, q: dbsqlc.New(tx), keys: keys})
	})
}

// auditedRefusals are the refusals denied records: of access (not found,
// forbidden) and of a write the record's own rules refuse (a legal hold,
// an open access request, the storage quota, the comment cap, a closed
// case), each with its code as the reason. Not recorded, as nowhere in
// Ward: rate limits (429), and conflicts and failed preconditions (a
// duplicate, a stale version, a document accepted already), which change
// nothing and say nothing the caller did not know.
var auditedRefusals = []error{ErrNotFound, ErrForbidden, ErrLegalHold, ErrOpenRequest, ErrStorageQuota, ErrCommentLimit, ErrCaseClosed}

// denied records a refused access in its own transaction and returns err
// (any error but auditedRefusals is returned unrecorded).
func (s *Service) denied(ctx context.Context, c call, e audit.Event, err error) error {
	if !slices.ContainsFunc(auditedRefusals, func(r error) bool { return errors.Is(err, r) }) {
		return err
	}
	e.Outcome = audit.OutcomeDenied
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["reason"] = errkind.Code(err)
	if e.Case.Valid {
		// The id was the caller's; a case of another org must not be named
		// on this org's event (audit.append drops unknown ones as well).
		e.Details["case"] = e.Case.UUID.String()
		e.Case = uuid.NullUUID{}
	}
	record, n := s.denials.Admit(c.p.CredentialID, time.Now())
	if !record {
		return err
	}
	if n > 1 {
		e.Details["collapsed"] = n
	}
	if aerr := audit.RecordDenied(ctx, s.db, c.cred(), e); aerr != nil {
		s.log.ErrorContext(ctx, "audit of denied case access failed", "action", e.Action, "org", e.Org, "err", aerr)
	}
	return err
}

// mapErr turns database errors into the package's.
// errOwnGrant refuses a grant of, or a change to, the caller's own case
// membership: another of the case's managers, a lead or an admin makes it.
var errOwnGrant = errkind.Visible(ErrForbidden,
	"nobody grants or changes their own access to a case: another of its managers, a lead or an admin does")

func mapErr(op string, err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows), postgres.IsCode(err, postgres.CodeNoDataFound):
		return ErrNotFound
	case postgres.Hint(err, "54000") == "storage_quota":
		return ErrStorageQuota
	case postgres.Hint(err, "54000") == "comment_limit":
		return ErrCommentLimit
	case postgres.Hint(err, "P0001") == "not_latest_version":
		return ErrPreconditionFailed
	case postgres.Hint(err, "P0001") == "stale_retention_policy":
		return errkind.Visible(ErrPreconditionFailed, "the retention policy changed since the version named (If-Match): read it again")
	case errors.As(err, &pe) && pe.Code == "54000" && pe.Hint == "invite_rate":
		secs, _ := strconv.Atoi(pe.Detail)
		return errkind.WithRetry(ErrInviteRate, time.Duration(max(secs, 1))*time.Second)
	case postgres.Hint(err, postgres.CodeInsufficientPrivilege) == "own_case_grant":
		return errOwnGrant
	case postgres.Hint(err, postgres.CodeInsufficientPrivilege) == "case_closed":
		return ErrCaseClosed
	case errors.As(err, &pe) && pe.Code == postgres.CodeInsufficientPrivilege && pe.ConstraintName == "sso_required":
		// An invitee on a domain whose org enforces SSO (00128): the
		// database starts no session for them; they sign in through SSO.
		return ErrSSORequired
	case postgres.Hint(err, postgres.CodeInsufficientPrivilege) == "break_glass_not_allowed":
		return ErrInviteBreakGlass
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return ErrForbidden
	case postgres.IsCode(err, postgres.CodeUniqueViolation):
		return errkind.Visible(ErrConflict, "this already exists")
	case postgres.IsCode(err, postgres.CodeForeignKeyViolation):
		return errkind.Visible(ErrInvalidInput, "a referenced patient, member or case does not exist in this org")
	case postgres.Hint(err, "55000") == "patient_shredded":
		return ErrPatientShredded
	case postgres.Hint(err, "55000") == "open_requests":
		return ErrOpenRequest
	case postgres.IsCode(err, "55000"):
		return ErrLegalHold
	case postgres.IsCode(err, postgres.CodeCheckViolation), postgres.IsCode(err, postgres.CodeInvalidParameter):
		return errkind.Visible(ErrInvalidInput, "a value is out of range")
	}
	var ek interface{ Kind() errkind.Kind }
	if errors.As(err, &ek) {
		return err
	}
	return fmt.Errorf("cases: %s: %w", op, err)
}

// allowed asks the database whether the caller may use kase for perm.
func allowed(ctx context.Context, q *dbsqlc.Queries, c call, kase uuid.UUID, perm string) (bool, error) {
	ok, err := q.CaseAllows(ctx, dbsqlc.CaseAllowsParams{OrgID: c.p.OrgID, CaseID: kase, Permission: perm})
	return ok != nil && *ok, err
}

func managed(ctx context.Context, q *dbsqlc.Queries, c call, kase uuid.UUID) (bool, error) {
	ok, err := q.CaseManaged(ctx, dbsqlc.CaseManagedParams{OrgID: c.p.OrgID, CaseID: kase})
	return ok != nil && *ok, err
}

// sealField seals v for table.column of row (nil for "").
func sealField(k *envelope.OrgKeys, table, column string, org, row uuid.UUID, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	return k.Seal([]byte(v), envelope.AD{Table: table, Column: column, Org: org, Row: row})
}

// openField opens what sealField sealed: "" for nil, and for the empty
// ciphertext a patient's crypto-shred leaves in a column that must hold
// something (a case's title, a version's file name, a comment).
func openField(k *envelope.OrgKeys, table, column string, org, row uuid.UUID, ct []byte) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	pt, err := k.Open(ct, envelope.AD{Table: table, Column: column, Org: org, Row: row})
	if err != nil {
		return "", fmt.Errorf("cases: open %s.%s %s: %w", table, column, row, err)
	}
	return string(pt), nil
}

// text checks a free-text field: trimmed, valid UTF-8, no control
// characters but newlines and tabs, at most max runes.
func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", errkind.Visiblef(ErrInvalidInput, "%s is required", field)
	case !utf8.ValidString(v):
		return "", errkind.Visiblef(ErrInvalidInput, "%s must be valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		return "", errkind.Visiblef(ErrInvalidInput, "%s is at most %d characters", field, max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return "", errkind.Visiblef(ErrInvalidInput, "%s must not hold control characters", field)
		}
	}
	return v, nil
}

// checkPerms validates a permission set: a subset of view, upload,
// download, comment that includes view. It returns them in canonical order.
func checkPerms(perms []string) ([]string, error) {
	out := []string{}
	for _, p := range allPerms {
		if slices.Contains(perms, p) {
			out = append(out, p)
		}
	}
	for _, p := range perms {
		if !slices.Contains(allPerms, p) {
			return nil, errkind.Visible(ErrInvalidInput, "permissions are view, upload, download and comment")
		}
	}
	if !slices.Contains(out, PermView) {
		return nil, errkind.Visible(ErrInvalidInput, "permissions must include view")
	}
	return out, nil
}

// MaxListPage is the most cases or documents one ListCases or
// ListDocuments call returns; a page size of 0 means DefaultListPage.
const (
	MaxListPage     = 200
	DefaultListPage = 50
)

// pageSize checks a list's page size: 0 is DefaultListPage, and one
// outside 1..MaxListPage is ErrInvalidInput (never clamped: a client
// asking for more would take a short page for the last one).
func pageSize(n int) (int32, error) {
	switch {
	case n == 0:
		return DefaultListPage, nil
	case n < 1 || n > MaxListPage:
		return 0, errkind.Visiblef(ErrInvalidInput, "limit must be 1..%d", MaxListPage)
	}
	return int32(n), nil
}
