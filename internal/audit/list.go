package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
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
	case f.Action != "" && !validAction(f.Action):
		return nil, errkind.Visible(ErrInvalidFilter, "malformed action")
	}
	if f.Limit == 0 {
		f.Limit = defaultListLimit
	}
	rows, err := dbsqlc.New(tx).ListEvents(ctx, dbsqlc.ListEventsParams{OrgID: org, After: f.After,
		Action: optional(f.Action), Patient: f.Patient, MaxRows: int32(f.Limit)})
	if err != nil {
		return nil, fmt.Errorf("audit: list org %s: %w", org, err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry{Seq: r.Seq, At: r.At, Action: r.Action, Outcome: r.Outcome, Actor: r.ActorID,
			ActorKind: r.ActorKind, Session: r.SessionID, ObjectType: deref(r.ObjectType), ObjectID: r.ObjectID,
			Patient: r.PatientID, Results: r.ResultIds, Request: deref(r.RequestID), IP: deref(r.Ip),
			UserAgent: deref(r.UserAgent), Details: r.Details, CredentialKind: deref(r.CredentialKind),
			Credential: r.CredentialID, Device: deref(r.Device), Case: r.CaseID, Disclosure: r.Disclosure,
			BreakGlass: r.BreakGlass}
		if out[i].Results == nil {
			out[i].Results = []uuid.UUID{}
		}
	}
	return out, nil
}

// Access is one entry of a patient's access report: who did what to the
// record, when, and whether it was allowed. Listed is true when the event
// is a list or search whose results contained the patient or one of
// their cases (a case list names case ids: migration 00348).
type Access struct {
	Seq       int64         `json:"seq"`
	At        time.Time     `json:"at"`
	Actor     uuid.NullUUID `json:"actor_id"`
	ActorKind string        `json:"actor_kind"`
	Action    string        `json:"action"`
	Outcome   string        `json:"outcome"`
	Listed    bool          `json:"listed"`
	// ActorRole is the actor's role in the org (empty for the system).
	ActorRole string `json:"actor_role,omitempty"`
	// ActorEmail is the actor's address, for staff and for the patient
	// themself; never another patient's. ActorEmailEnc is its instance-AEAD
	// ciphertext, which the caller opens.
	ActorEmail    string `json:"actor_email,omitempty"`
	ActorEmailEnc []byte `json:"-"`
	// LeafHash and Inclusion prove the access is in the log the report's
	// checkpoint signs (see AttachProofs); absent for accesses newer than
	// the checkpoint.
	LeafHash  *Hash  `json:"leaf_hash,omitempty"`
	Inclusion []Hash `json:"inclusion,omitempty"`
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
