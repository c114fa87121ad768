package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// ErrNoSigner means this server has no audit signing key, so it cannot
// sign evidence bundles.
var ErrNoSigner = errkind.New(errkind.Unavailable, "no_audit_key", "export: no audit signing key").
	WithPublic("this server has no audit signing key yet, so it cannot sign evidence bundles")

// Service serves an org admin's exports of the org's own audit log. The
// route requires a recent second factor; the Service requires the admin
// role and records every export, refused or not.
type Service struct {
	db     *postgres.DB
	signer note.Signer
	opts   Options
	log    *slog.Logger
	slots  Slots
}

// Concurrency caps: how many exports and bundles may run at once for one
// org, and on one Ward instance. An export holds no database connection
// while it writes, but each one read from the database page after page as
// fast as its client takes them; the caps keep a few admins' exports from
// taking the database's time from everyone else. The slots are shared
// fairly: one org holds at most half of them, and the last free one goes
// only to an org that has none running (see Slots), so other orgs' exports
// never fill the node with their second ones.
const (
	MaxPerOrg = 2
	MaxTotal  = 4
)

// ErrBusy means the caller's org, or this instance, has as many exports
// running as it may; try again in a little while.
var ErrBusy = errkind.New(errkind.RateLimited, "exports_busy", "export: too many exports running").
	WithPublic(fmt.Sprintf("at most %d exports of an org (and %d on this server, the last of them for an org "+
		"running none) may run at once; try again when one has finished", MaxPerOrg, MaxTotal))

// busyRetry is the Retry-After of ErrBusy.
const busyRetry = 30 * time.Second

// NewService returns a Service; signer (the audit log's checkpoint key,
// nil when there is none) signs evidence bundles.
func NewService(db *postgres.DB, signer note.Signer, opts Options, log *slog.Logger) *Service {
	return &Service{db: db, signer: signer, opts: opts, log: log}
}

// Slots counts the exports running, per org and in all: at most MaxPerOrg
// of one org (half the node's) and MaxTotal in all, and an org that already
// runs one takes another only while a slot stays free after it: the last
// free slot is kept for an org that runs none. So the node fills up only
// with a first export, and while one org holds its maximum another org
// still gets a slot (before, two orgs' second exports could take the whole
// node and refuse every other org). The zero Slots is ready; the patient
// exports (internal/httpapi) keep their own.
type Slots struct {
	mu            sync.Mutex
	perOrg, total int
	open          map[uuid.UUID]int
	all           int
	users         map[uuid.UUID]bool // callers of TakeFor holding a slot
}

// TakeFor is Take for a caller who may hold one slot at a time: a second
// export of theirs while one runs is ErrBusy, so that one member (a
// patient exporting their own record with documents, read slowly) cannot
// hold all of their org's slots.
func (s *Slots) TakeFor(org, user uuid.UUID) (release func(), err error) {
	s.mu.Lock()
	if s.users[user] {
		s.mu.Unlock()
		return nil, errkind.WithRetry(ErrBusy, busyRetry)
	}
	if s.users == nil {
		s.users = map[uuid.UUID]bool{}
	}
	s.users[user] = true
	s.mu.Unlock()
	giveBack := func() {
		s.mu.Lock()
		delete(s.users, user)
		s.mu.Unlock()
	}
	slot, err := s.Take(org)
	if err != nil {
		giveBack()
		return nil, err
	}
	return func() { slot(); giveBack() }, nil
}

// ErrCallerBusy means the caller runs an export already (Slots.Caller).
var ErrCallerBusy = errkind.New(errkind.RateLimited, "exports_busy", "export: the caller runs one already").
	WithPublic("an export of yours is running; try again when it has finished")

// callerRetry is the Retry-After of ErrCallerBusy: an export without
// files takes well under a second.
const callerRetry = 2 * time.Second

// Caller holds the one export a caller may run at a time, without an org
// or node slot: a patient export without documents is read in one short
// transaction, but sealing it to a passphrase costs scrypt's 32 MiB and
// about 0.1 s of a core, so one member's requests at once (16 measured:
// 1.5 s of both cores, 228 MiB of heap) would take the node's CPU and
// memory from everyone else. It shares the per-caller mark with
// TakeFor; internal/httpapi keeps the record-alone exports in Slots of
// their own, so an export with documents does not hold them up. Errors:
// ErrCallerBusy, with a Retry-After.
func (s *Slots) Caller(user uuid.UUID) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[user] {
		return nil, errkind.WithRetry(ErrCallerBusy, callerRetry)
	}
	if s.users == nil {
		s.users = map[uuid.UUID]bool{}
	}
	s.users[user] = true
	return func() {
		s.mu.Lock()
		delete(s.users, user)
		s.mu.Unlock()
	}, nil
}

// Take holds a slot for an export of org, or returns ErrBusy (with a
// Retry-After); release gives it back.
func (s *Slots) Take(org uuid.UUID) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perOrg == 0 {
		s.perOrg, s.total = MaxPerOrg, MaxTotal
	}
	held := s.open[org]
	if s.all >= s.total || held >= s.perOrg || (held > 0 && s.all+1 >= s.total) {
		return nil, errkind.WithRetry(ErrBusy, busyRetry)
	}
	if s.open == nil {
		s.open = map[uuid.UUID]int{}
	}
	s.open[org]++
	s.all++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.open[org]--; s.open[org] <= 0 {
			delete(s.open, org)
		}
		s.all--
	}, nil
}

// reader reads as cred, each page in a transaction of its own.
func (s *Service) reader(cred postgres.Credential) Reader {
	return func(ctx context.Context, fn func(ctx context.Context, q audit.Querier) error) error {
		return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
	}
}

// Export writes the caller's org's events that filter selects to w in
// format f. It records audit.export (format and filter) and commits it
// before the first byte is written, sequences what is pending in a short
// transaction, then streams the events page by page (see Write): no
// database connection is held while w takes the bytes. w sees nothing
// when an error comes back before any event was read.
//
// Errors: audit.ErrUnauthenticated, audit.ErrForbidden (not an admin;
// the refusal is recorded), ErrInvalid, ErrBusy, a database error or w's
// error.
func (s *Service) Export(ctx context.Context, f Format, filter Filter, w io.Writer) (Summary, error) {
	p, cred, release, err := s.begin(ctx, string(f), filter)
	if err != nil {
		return Summary{}, err
	}
	defer release()
	// Sequence what is pending (the export's own event too) in a short
	// transaction of its own: integration locks the org's head row, which
	// a long export must not hold.
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := audit.Integrate(ctx, tx, p.OrgID)
		return err
	})
	if err != nil {
		return Summary{}, err
	}
	return Write(ctx, s.reader(cred), p.OrgID, filter.Selection(), f, s.opts, w)
}

// Bundle writes an evidence bundle (see WriteBundle) of the caller's
// org's events that filter selects, up to the newest signed checkpoint, in
// format f, to w; audited and refused as Export.
//
// Errors: as Export, and ErrNoSigner, audit.ErrNoCheckpoint, ErrEmpty.
func (s *Service) Bundle(ctx context.Context, f Format, filter Filter, w io.Writer) (BundleSummary, error) {
	if s.signer == nil {
		return BundleSummary{}, ErrNoSigner
	}
	p, cred, release, err := s.begin(ctx, "bundle+"+string(f), filter)
	if err != nil {
		return BundleSummary{}, err
	}
	defer release()
	return WriteBundle(ctx, s.reader(cred), p.OrgID, filter, f, s.opts, s.signer, w)
}

// begin checks the caller, takes one of the export slots (release gives
// it back; one of each caller at a time) and records the export, committed. An export refused for want
// of a slot is not recorded: nothing was exported.
func (s *Service) begin(ctx context.Context, format string, filter Filter) (_ identity.Principal, _ postgres.Credential, release func(), err error) {
	p, cred, err := s.check(ctx, format, filter)
	if err != nil {
		return p, cred, nil, err
	}
	// One export of each admin at a time: an admin who starts two and
	// reads them slowly would otherwise hold both of the org's slots for
	// up to an hour, refusing the other admins' investigations.
	who := p.UserID
	if who == uuid.Nil {
		who = p.CredentialID
	}
	if release, err = s.slots.TakeFor(p.OrgID, who); err != nil {
		return p, cred, nil, err
	}
	if err := s.record(ctx, p, cred, format, filter); err != nil {
		release()
		return p, cred, nil, err
	}
	return p, cred, release, nil
}

// check checks the caller: an admin (a refusal is recorded) and a well
// formed filter.
func (s *Service) check(ctx context.Context, format string, filter Filter) (identity.Principal, postgres.Credential, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return p, postgres.Credential{}, audit.ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.CredentialOf(p, req.ID)
	details := filter.Details()
	details["format"] = format
	e := audit.Event{Org: p.OrgID, Action: ActionExport, Outcome: audit.OutcomeSuccess, Patient: filter.Patient,
		Request: req.ID, IP: req.IPString(), UserAgent: req.UserAgent, Details: details}
	if err := filter.Validate(); err != nil {
		return p, cred, err
	}
	if p.Role != identity.RoleAdmin {
		e.Outcome = audit.OutcomeDenied
		details["reason"] = "forbidden"
		if err := audit.RecordDenied(ctx, s.db, cred, e); err != nil {
			s.log.ErrorContext(ctx, "audit of denied export failed", "org", p.OrgID, "err", err)
		}
		return p, cred, fmt.Errorf("%w: exports are for admins", audit.ErrForbidden)
	}
	return p, cred, nil
}

// record records the export, committed.
func (s *Service) record(ctx context.Context, p identity.Principal, cred postgres.Credential, format string, filter Filter) error {
	req := identity.RequestFrom(ctx)
	details := filter.Details()
	details["format"] = format
	e := audit.Event{Org: p.OrgID, Action: ActionExport, Outcome: audit.OutcomeSuccess, Patient: filter.Patient,
		Request: req.ID, IP: req.IPString(), UserAgent: req.UserAgent, Details: details}
	if err := audit.RecordAlone(ctx, s.db, cred, e); err != nil {
		if filter.Patient.Valid && postgres.IsCode(err, postgres.CodeInvalidParameter) {
			return errkind.Visible(ErrInvalid, "no such patient in this org")
		}
		if errors.Is(err, audit.ErrInvalidEvent) {
			return errkind.Visible(ErrInvalid, "the filter cannot be recorded")
		}
		return fmt.Errorf("export: record export of org %s: %w", p.OrgID, err)
	}
	return nil
}

// RecordOperator records an export made by an operator from the command
// line (`ward audit export`), through db's privileged connection, before
// the export is written: audit.export with the format, the filter and
// "via": "cli". The database records it with actor kind anonymous: the
// command has no user credential.
//
// Errors: ErrInvalid for a patient not in org; a database error.
func RecordOperator(ctx context.Context, db *postgres.DB, org uuid.UUID, format string, filter Filter) error {
	details := filter.Details()
	details["format"], details["via"] = format, "cli"
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = dbsqlc.New(db.Pool).AppendEventAs(ctx, dbsqlc.AppendEventAsParams{OrgID: org, Action: ActionExport,
		Outcome: audit.OutcomeSuccess, PatientID: filter.Patient, Results: []uuid.UUID{}, Details: b})
	if err != nil {
		if postgres.IsCode(err, postgres.CodeInvalidParameter) {
			return errkind.Visible(ErrInvalid, "no such patient in this org")
		}
		return fmt.Errorf("export: record export of org %s: %w", org, err)
	}
	return nil
}
