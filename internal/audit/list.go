package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres"
)

// MaxListLimit is the most events one List call returns.
const MaxListLimit = 1000

// defaultListLimit is the page size when Filter.Limit is 0.
const defaultListLimit = 100

// Filter selects a page of an org's log for List.
type Filter struct {
	// After is a cursor: only events with a larger seq (0 = from the start).
	After int64
	// Limit is the page size, 1..MaxListLimit; 0 means 100.
	Limit int
	// Action, if set, keeps only events with exactly this action.
	Action string
	// Patient, if set, keeps only events about this patient: the event's
	// patient, or a list whose results contained it.
	Patient uuid.NullUUID
}

// Entry is one event as an admin reads it. It carries ids, never PHI; IP
// and UserAgent are request metadata and LogValue leaves them out.
type Entry struct {
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Action     string          `json:"action"`
	Outcome    string          `json:"outcome"`
	Actor      uuid.NullUUID   `json:"actor_id"`
	ActorKind  string          `json:"actor_kind"`
	Session    uuid.NullUUID   `json:"session_id"`
	ObjectType string          `json:"object_type,omitempty"`
	ObjectID   uuid.NullUUID   `json:"object_id"`
	Patient    uuid.NullUUID   `json:"patient_id"`
	Results    []uuid.UUID     `json:"result_ids"`
	Request    string          `json:"request_id,omitempty"`
	IP         string          `json:"ip,omitempty"`
	UserAgent  string          `json:"user_agent,omitempty"`
	Details    json.RawMessage `json:"details"`
	// Version 2 fields (zero for events written before it).
	CredentialKind string          `json:"credential_kind,omitempty"`
	Credential     uuid.NullUUID   `json:"credential_id"`
	Device         string          `json:"device,omitempty"`
	Case           uuid.NullUUID   `json:"case_id"`
	Disclosure     json.RawMessage `json:"disclosure,omitempty"`
	BreakGlass     bool            `json:"break_glass"`
}

// LogValue reports ids and sizes only.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("seq", e.Seq),
		slog.String("action", e.Action),
		slog.String("outcome", e.Outcome),
		slog.Any("actor", nullID(e.Actor)),
		slog.Any("object_id", nullID(e.ObjectID)),
		slog.Any("patient", nullID(e.Patient)),
		slog.Int("results", len(e.Results)),
	)
}

// List returns a page of org's log in seq order. Row-level security decides
// what the transaction's credential sees: an admin the whole org log, a
// patient the events about their own record, anyone else nothing (an empty
// page, not an error).
//
// Errors: ErrInvalidFilter, or a database error.
func List(ctx context.Context, tx pgx.Tx, org uuid.UUID, f Filter) ([]Entry, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxListLimit:
		return nil, errkind.Visiblef(ErrInvalidFilter, "limit must be 1..%d", MaxListLimit)
	case f.After < 0 || f.After > 1<<53:
		return nil, errkind.Visible(ErrInvalidFilter, "the cursor must be 0..2^53")
	case f.Action != "" && !actionRE.MatchString(f.Action):
		return nil, errkind.Visible(ErrInvalidFilter, "malformed action")
	}
	if f.Limit == 0 {
		f.Limit = defaultListLimit
	}
	rows, err := tx.Query(ctx, `
		select seq, at, action, outcome, actor_id, actor_kind, session_id, object_type, object_id,
		       patient_id, result_ids, request_id, ip, user_agent, details,
		       credential_kind, credential_id, device, case_id, disclosure, break_glass
		  from audit.events
		 where org_id = $1 and seq > $2
		   and ($3::text is null or action = $3)
		   and ($4::uuid is null or patient_id = $4 or result_ids @> array[$4::uuid])
		 order by seq
		 limit $5`,
		org, f.After, text(f.Action), pgUUID(f.Patient), f.Limit)
	if err != nil {
		return nil, fmt.Errorf("audit: list org %s: %w", org, err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var (
			e                           Entry
			actor, sess, obj, pat       pgtype.UUID
			results                     []pgtype.UUID
			objType, req, ip, userAgent pgtype.Text
			credKind, device            pgtype.Text
			cred, caseID                pgtype.UUID
		)
		if err := rows.Scan(&e.Seq, &e.At, &e.Action, &e.Outcome, &actor, &e.ActorKind, &sess, &objType, &obj,
			&pat, &results, &req, &ip, &userAgent, &e.Details,
			&credKind, &cred, &device, &caseID, &e.Disclosure, &e.BreakGlass); err != nil {
			return nil, fmt.Errorf("audit: list org %s: %w", org, err)
		}
		e.Actor, e.Session, e.ObjectID, e.Patient = nullUUID(actor), nullUUID(sess), nullUUID(obj), nullUUID(pat)
		e.ObjectType, e.Request, e.IP, e.UserAgent = objType.String, req.String, ip.String, userAgent.String
		e.CredentialKind, e.Credential, e.Device, e.Case = credKind.String, nullUUID(cred), device.String, nullUUID(caseID)
		e.Results = make([]uuid.UUID, 0, len(results))
		for _, id := range results {
			if id.Valid {
				e.Results = append(e.Results, id.Bytes)
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: list org %s: %w", org, err)
	}
	return out, nil
}

// Access is one entry of a patient's access report: who did what to the
// record, when, and whether it was allowed. Listed is true when the event
// is a list or search whose results contained the patient.
type Access struct {
	Seq       int64         `json:"seq"`
	At        time.Time     `json:"at"`
	Actor     uuid.NullUUID `json:"actor_id"`
	ActorKind string        `json:"actor_kind"`
	Action    string        `json:"action"`
	Outcome   string        `json:"outcome"`
	Listed    bool          `json:"listed"`
}

// LogValue reports ids only.
func (a Access) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("seq", a.Seq),
		slog.Any("actor", nullID(a.Actor)),
		slog.String("action", a.Action),
		slog.String("outcome", a.Outcome),
		slog.Bool("listed", a.Listed),
	)
}

// AccessReport returns every event about patient in org's log, in seq
// order: reads, changes, denials, and lists that returned the patient.
// The database decides who may ask (audit.access_report): an admin of the
// org, or the patient themself. The report names actors and actions only,
// never what else a listed row says (other patients' ids, IPs).
//
// Errors: wrapping ErrForbidden for anyone else; a database error.
func AccessReport(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID) ([]Access, error) {
	rows, err := tx.Query(ctx, `select seq, at, actor_id, actor_kind, action, outcome, listed
		from audit.access_report($1, $2)`, org, patient)
	if err != nil {
		return nil, fmt.Errorf("audit: access report org %s patient %s: %w", org, patient, err)
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var (
			a     Access
			actor pgtype.UUID
		)
		if err := rows.Scan(&a.Seq, &a.At, &actor, &a.ActorKind, &a.Action, &a.Outcome, &a.Listed); err != nil {
			return nil, fmt.Errorf("audit: access report org %s patient %s: %w", org, patient, err)
		}
		a.Actor = nullUUID(actor)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return nil, fmt.Errorf("%w: access report org %s patient %s", ErrForbidden, org, patient)
		}
		return nil, fmt.Errorf("audit: access report org %s patient %s: %w", org, patient, err)
	}
	return out, nil
}

func nullUUID(id pgtype.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id.Bytes, Valid: id.Valid} }
