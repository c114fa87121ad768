package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Outcomes of an event.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// Event is what a subsystem records about one access or change. The actor,
// actor kind and session are not in it: audit.append derives them from the
// transaction's credential.
type Event struct {
	// Org is the log the event goes to; with a credential it must be the
	// credential's org.
	Org uuid.UUID
	// Action is a dotted lower-case name, e.g. "patient.read"
	// (^[a-z][a-z0-9_.]{0,63}$).
	Action string
	// Outcome is OutcomeSuccess, OutcomeDenied or OutcomeFailure.
	Outcome string
	// ObjectType and ObjectID name what was accessed ("patient", its id).
	ObjectType string
	ObjectID   uuid.NullUUID
	// Patient is the patient whose record was touched, if any.
	Patient uuid.NullUUID
	// Case is the case the access was about, if any (it must be a case of
	// Org).
	Case uuid.NullUUID
	// Results are the ids a list or search returned.
	Results []uuid.UUID
	// Request, IP and UserAgent describe the client request.
	Request   string
	IP        string
	UserAgent string
	// Details holds extra non-PHI facts: string keys of printable ASCII,
	// values strings, booleans, integers (|n| ≤ 2^53), nil, or slices and
	// maps of those. Never names, free text or anything typed by a patient.
	Details map[string]any
	// Disclosure, set for a disclosure outside the covered entity, names
	// its recipient and purpose (§164.528 accounting). Required on success
	// for actions the registry marks as disclosures.
	Disclosure *Disclosure
	// Actor is the user an operator or system job asserts acted, used only
	// when the transaction has no live credential; the row then says
	// actor_kind "system". Only roles that may execute audit.append_as
	// (ward_ops, the definer procedures) can record it; for ward_app it is
	// ErrForbidden.
	Actor uuid.NullUUID
}

// Disclosure names who received PHI and why. Neither may hold PHI: a
// recipient is an organisation or role ("Acme Insurance", "employer"), a
// purpose a short reason ("claim adjudication"). 1..200 characters each.
type Disclosure struct {
	Recipient string `json:"recipient"`
	Purpose   string `json:"purpose"`
}

// LogValue reports the event's ids and sizes only.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("org", e.Org.String()),
		slog.String("action", e.Action),
		slog.String("outcome", e.Outcome),
		slog.String("object_type", e.ObjectType),
		slog.Any("object_id", nullID(e.ObjectID)),
		slog.Any("patient", nullID(e.Patient)),
		slog.Int("results", len(e.Results)),
		slog.Int("details", len(e.Details)),
	)
}

func nullID(id uuid.NullUUID) any {
	if !id.Valid {
		return nil
	}
	return id.UUID.String()
}

// validAction reports whether s is a well-formed action name: what
// ^[a-z][a-z0-9_.]{0,63}$ matches, written out because compiling that
// expression took a quarter of a millisecond at every start of the binary
// (the action registry is checked at start-up).
func validAction(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// details validates e and returns its details as JSON.
func (e Event) details() ([]byte, error) {
	switch {
	case e.Org == uuid.Nil:
		return nil, fmt.Errorf("%w: no org", ErrInvalidEvent)
	case !validAction(e.Action):
		return nil, fmt.Errorf("%w: malformed action", ErrInvalidEvent)
	case e.Outcome != OutcomeSuccess && e.Outcome != OutcomeDenied && e.Outcome != OutcomeFailure:
		return nil, fmt.Errorf("%w: action %s: unknown outcome", ErrInvalidEvent, e.Action)
	}
	a, ok := Actions[e.Action]
	if !ok {
		return nil, fmt.Errorf("%w: action %s is not in the registry", ErrInvalidEvent, e.Action)
	}
	if d := e.Disclosure; d != nil && (len(d.Recipient) == 0 || len(d.Purpose) == 0 ||
		utf8.RuneCountInString(d.Recipient) > 200 || utf8.RuneCountInString(d.Purpose) > 200 ||
		!utf8.ValidString(d.Recipient) || !utf8.ValidString(d.Purpose)) {
		return nil, fmt.Errorf("%w: action %s: a disclosure names recipient and purpose, 1..200 characters each",
			ErrInvalidEvent, e.Action)
	}
	if e.Disclosure != nil && !a.Disclosure {
		// audit.append_event refuses it too: only a disclosure action, or
		// a procedure that records one, names a recipient.
		return nil, fmt.Errorf("%w: action %s records no disclosure", ErrInvalidEvent, e.Action)
	}
	if e.Outcome == OutcomeSuccess {
		switch {
		case a.Disclosure && e.Disclosure == nil:
			return nil, fmt.Errorf("%w: action %s is a disclosure: name recipient and purpose", ErrInvalidEvent, e.Action)
		case a.requires(FieldPatient) && !e.Patient.Valid:
			return nil, fmt.Errorf("%w: action %s needs a patient", ErrInvalidEvent, e.Action)
		case a.requires(FieldObject) && (e.ObjectType == "" || !e.ObjectID.Valid):
			return nil, fmt.Errorf("%w: action %s needs an object", ErrInvalidEvent, e.Action)
		}
	}
	if len(e.Details) == 0 {
		return []byte("{}"), nil
	}
	js, err := json.Marshal(e.Details)
	if err != nil {
		return nil, fmt.Errorf("%w: action %s: details are not JSON", ErrInvalidEvent, e.Action)
	}
	// The same rules audit.jcs applies, checked before the round trip.
	if _, err := appendJCS(nil, js); err != nil {
		return nil, fmt.Errorf("action %s: details: %w", e.Action, err)
	}
	return js, nil
}

// Record appends e to its org's log in tx, the caller's transaction, and
// returns its queue id. The event commits with the access or not at all; it
// is written pending and gets its seq when the integrator (Integrate)
// sequences it, normally within a second. No per-org lock is held. Empty
// strings are stored as NULL.
//
// Errors: ErrInvalidEvent, ErrForbidden (tx's credential is of another
// org), or a database error. Any error must fail the caller's operation.
func Record(ctx context.Context, tx pgx.Tx, e Event) (qid int64, err error) {
	p, err := e.params()
	if err != nil {
		return 0, err
	}
	// ward_app may only call audit.append (a live credential names the
	// actor); asserting an actor needs audit.append_as, which only the
	// operator and definer roles may execute.
	q := dbsqlc.New(tx)
	if e.Actor.Valid {
		qid, err = q.AppendEventAs(ctx, dbsqlc.AppendEventAsParams{OrgID: p.OrgID, Action: p.Action, Outcome: p.Outcome,
			ObjectType: p.ObjectType, ObjectID: p.ObjectID, PatientID: p.PatientID, Results: p.Results,
			Request: p.Request, Ip: p.Ip, Ua: p.Ua, Details: p.Details, Disclosure: p.Disclosure, ActorID: e.Actor, CaseID: e.Case})
	} else {
		qid, err = q.AppendEvent(ctx, p)
	}
	if err != nil {
		return 0, e.recordError(err)
	}
	return qid, nil
}

// RecordAlone appends e to its org's log in a transaction of its own bound
// to cred, for an event that records an access whose own transaction (if
// any) has already ended: an AI invocation after the upstream answered, a
// refusal after the business transaction rolled back. The binding, the
// append and the commit take one round trip (postgres.InTenantBatch)
// instead of Record's three inside InTenantTx. The credential names the
// actor, so e.Actor must be unset. Call it outside any transaction.
//
// Errors: ErrInvalidEvent (also for an Actor), ErrForbidden, ctx's error,
// postgres.ErrNestedTx, or a database error.
func RecordAlone(ctx context.Context, db *postgres.DB, cred postgres.Credential, e Event) error {
	return RecordAloneWith(ctx, db, cred, e, nil)
}

// RecordAloneWith is RecordAlone with the statements then queues after the
// append, in its transaction and its round trip: they commit with the
// event or not at all, and an error of theirs is the event's.
func RecordAloneWith(ctx context.Context, db *postgres.DB, cred postgres.Credential, e Event, then func(*pgx.Batch)) error {
	if e.Actor.Valid {
		return fmt.Errorf("%w: action %s: RecordAlone with an asserted actor", ErrInvalidEvent, e.Action)
	}
	p, err := e.params()
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(appendEventSQL, p.OrgID, p.Action, p.Outcome, p.ObjectType, p.ObjectID, p.PatientID, p.Results,
		p.Request, p.Ip, p.Ua, p.Details, p.Disclosure, p.CaseID)
	if then != nil {
		then(b)
	}
	if err := db.InTenantBatch(ctx, cred, b); err != nil {
		if errors.Is(err, postgres.ErrNestedTx) {
			return err
		}
		return e.recordError(err)
	}
	return nil
}

// QueueRecord queues on b the append of e that Record makes, for a caller
// that sends it with other statements of its transaction in one round
// trip. The batch's error is the append's (map it with RecordError); the
// event commits with that transaction or not at all. Errors: those of
// Record before any round trip (ErrInvalidEvent).
func QueueRecord(b *pgx.Batch, e Event) error {
	if e.Actor.Valid {
		return fmt.Errorf("%w: action %s: QueueRecord with an asserted actor", ErrInvalidEvent, e.Action)
	}
	p, err := e.params()
	if err != nil {
		return err
	}
	b.Queue(appendEventSQL, p.OrgID, p.Action, p.Outcome, p.ObjectType, p.ObjectID, p.PatientID, p.Results,
		p.Request, p.Ip, p.Ua, p.Details, p.Disclosure, p.CaseID)
	return nil
}

// QueueRecordPerRow queues on b a read that appends e once for each row it
// returns, in the same statement: read is a select with parameters $1..$n
// (args), and the queued statement is `select r.*, audit.append(…) from
// (read) r`, so the database records e exactly when the read (under the
// credential's RLS) returned a row, and a read that returns nothing records
// nothing. scan sees the read's columns followed by the event's queue id
// (int8). Use it for a read of at most one row (a key lookup): each row
// appends its own event. With the binding first and nothing after, the
// batch is one transaction (postgres.InTenantBatch) in one round trip: the
// rows reach the caller only after that transaction committed, and the
// caller must not use them when the batch failed. The batch's error is
// the read's or the append's (map it with RecordError). Errors: those of
// Record before any round trip (ErrInvalidEvent).
func QueueRecordPerRow(b *pgx.Batch, e Event, read string, args []any, scan func(pgx.Rows) error) error {
	if e.Actor.Valid {
		return fmt.Errorf("%w: action %s: QueueRecordPerRow with an asserted actor", ErrInvalidEvent, e.Action)
	}
	p, err := e.params()
	if err != nil {
		return err
	}
	n := len(args)
	all := append(args[:n:n], p.OrgID, p.Action, p.Outcome, p.ObjectType, p.ObjectID, p.PatientID, p.Results,
		p.Request, p.Ip, p.Ua, p.Details, p.Disclosure, p.CaseID)
	b.Queue(fmt.Sprintf(`select r.*, audit.append(p_org => $%d, p_action => $%d, p_outcome => $%d,
  p_object_type => $%d::text, p_object_id => $%d::uuid, p_patient => $%d::uuid, p_results => $%d::uuid[],
  p_request => $%d::text, p_ip => $%d::text, p_ua => $%d::text, p_details => $%d::jsonb,
  p_disclosure => $%d::jsonb, p_case => $%d::uuid) from (%s) r`, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10,
		n+11, n+12, n+13, read), all...).Query(scan)
	return nil
}

// RecordError maps the error of a batch holding e's append (QueueRecord)
// to the package's errors, as Record's are.
func RecordError(e Event, err error) error { return e.recordError(err) }

// params validates e and returns audit.append's arguments for it.
func (e Event) params() (dbsqlc.AppendEventParams, error) {
	details, err := e.details()
	if err != nil {
		return dbsqlc.AppendEventParams{}, err
	}
	results := e.Results
	if results == nil {
		results = []uuid.UUID{} // '{}', not NULL
	}
	var disclosure []byte
	if e.Disclosure != nil {
		disclosure, _ = json.Marshal(e.Disclosure) // two strings: cannot fail
	}
	return dbsqlc.AppendEventParams{OrgID: e.Org, Action: e.Action, Outcome: e.Outcome,
		ObjectType: optional(e.ObjectType), ObjectID: e.ObjectID, PatientID: e.Patient, Results: results,
		Request: optional(e.Request), Ip: optional(cleanText(e.IP, 64)), Ua: optional(cleanText(e.UserAgent, 256)),
		Details: details, Disclosure: disclosure, CaseID: e.Case}, nil
}

// recordError maps audit.append's refusals to the package's errors.
func (e Event) recordError(err error) error {
	switch {
	// The database's error stays in the chain, so that a caller can still
	// tell its code (a patient not in the org is 22023).
	case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
		return fmt.Errorf("audit: record %s in org %s: %w: %w", e.Action, e.Org, ErrForbidden, err)
	case postgres.IsCode(err, postgres.CodeInvalidParameter), postgres.IsCode(err, postgres.CodeCheckViolation):
		return fmt.Errorf("audit: record %s in org %s: %w: %w", e.Action, e.Org, ErrInvalidEvent, err)
	}
	return fmt.Errorf("audit: record %s in org %s: %w", e.Action, e.Org, err)
}

// deniedTimeout bounds RecordDenied's own transaction.
const deniedTimeout = 5 * time.Second

// RecordDenied records a denied or failed access in its own short
// transaction bound to cred, for when the business transaction rolled back.
// An empty Outcome means OutcomeDenied. It still writes when ctx is already
// cancelled (a client that hung up after being refused is still audited),
// within a few seconds. Call it after the business transaction has ended,
// never inside one.
//
// Errors: ErrInvalidEvent (also for OutcomeSuccess), ErrForbidden,
// postgres.ErrNestedTx, or a database error.
func RecordDenied(ctx context.Context, db *postgres.DB, cred postgres.Credential, e Event) error {
	if e.Outcome == "" {
		e.Outcome = OutcomeDenied
	}
	if e.Outcome == OutcomeSuccess {
		return fmt.Errorf("%w: action %s: RecordDenied with outcome success", ErrInvalidEvent, e.Action)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deniedTimeout)
	defer cancel()
	if !e.Actor.Valid {
		return RecordAlone(ctx, db, cred, e)
	}
	return db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := Record(ctx, tx, e)
		return err
	})
}

// cleanText makes client-supplied metadata storable whatever the client
// sent, so that the event of a refused request always commits: invalid
// UTF-8 becomes U+FFFD, controls go, and the text is capped at max bytes on a
// rune boundary. audit.append applies the same rule to what reaches it.
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	for len(s) > max {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// optional is s, or nil (NULL) when s is empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
