package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Selection picks the sequenced events of one org that Scan streams.
// Zero fields select everything.
type Selection struct {
	// From and To bound the event time: From <= at < To.
	From, To time.Time
	// Patient keeps the events about this patient: the event's patient, or
	// a list whose results contained it.
	Patient uuid.NullUUID
	// Actor keeps the events of this actor.
	Actor uuid.NullUUID
	// Case keeps the events about this case.
	Case uuid.NullUUID
	// Action keeps the events of exactly this action.
	Action string
	// MinSeq and MaxSeq bound the position (0: unbounded).
	MinSeq, MaxSeq int64
	// Limit caps how many events Scan streams, the first in seq order
	// (0: no cap): a page of a keyset scan (MinSeq past the last one read).
	Limit int64
}

// Filtered reports whether s keeps only some events of its time and
// position range (a patient, actor or action).
func (s Selection) Filtered() bool {
	return s.Patient.Valid || s.Actor.Valid || s.Case.Valid || s.Action != ""
}

// Check reports whether s is well formed. Errors: ErrInvalidFilter.
func (s Selection) Check() error {
	if s.Action != "" && !validAction(s.Action) {
		return fmt.Errorf("%w: malformed action", ErrInvalidFilter)
	}
	if !s.From.IsZero() && !s.To.IsZero() && !s.From.Before(s.To) {
		return fmt.Errorf("%w: from must be before to", ErrInvalidFilter)
	}
	if s.MinSeq < 0 || s.MaxSeq < 0 || s.Limit < 0 || (s.MaxSeq != 0 && s.MinSeq > s.MaxSeq) {
		return fmt.Errorf("%w: bad seq range", ErrInvalidFilter)
	}
	return nil
}

// Scan streams the sequenced events of org that s selects into fn, in seq
// order, reusing one Row (fn must copy what it keeps), and stops at fn's
// first error. Memory is O(1) in the number of events: the rows come off
// the connection as fn consumes them, which is why this is hand-written SQL
// (a generated :many query builds a slice of every row first). Row-level
// security decides what q's credential sees. bad is non-empty for a row
// that cannot be represented (see eachRow).
//
// Errors: ErrInvalidFilter for a malformed action or inverted range,
// wrapping ErrForbidden when the database refuses, or a database error.
func Scan(ctx context.Context, q Querier, org uuid.UUID, s Selection, fn func(r *Row, bad string) error) error {
	if err := s.Check(); err != nil {
		return err
	}
	var from, to *time.Time
	if !s.From.IsZero() {
		from = &s.From
	}
	if !s.To.IsZero() {
		to = &s.To
	}
	var action *string
	if s.Action != "" {
		action = &s.Action
	}
	maxSeq := s.MaxSeq
	if maxSeq == 0 {
		maxSeq = 1 << 62
	}
	var limit *int64
	if s.Limit > 0 {
		limit = &s.Limit
	}
	rows, err := q.Query(ctx, `select `+rowColumns+` from audit.log
		where org_id = $1 and seq between $2 and $3
		  and ($4::timestamptz is null or at >= $4) and ($5::timestamptz is null or at < $5)
		  and ($6::uuid is null or patient_id = $6 or $6 = any (result_ids))
		  and ($7::uuid is null or actor_id = $7)
		  and ($8::text is null or action = $8)
		  and ($9::uuid is null or case_id = $9)
		order by seq limit $10`, org, max(s.MinSeq, 1), maxSeq, from, to, s.Patient, s.Actor, action, s.Case, limit)
	if err != nil {
		return fmt.Errorf("audit: read org %s: %w", org, err)
	}
	return scanRows(rows, org, fn)
}

// SeqRange returns the first and last seq of org's sequenced events with
// From <= at < To (zero times: unbounded) and seq <= maxSeq, or 0, 0 when
// there are none. Events are sequenced in commit order, so their times
// rise with seq up to the clock skew between nodes; the range is by seq.
func SeqRange(ctx context.Context, q Querier, org uuid.UUID, from, to time.Time, maxSeq int64) (first, last int64, err error) {
	var f, t *time.Time
	if !from.IsZero() {
		f = &from
	}
	if !to.IsZero() {
		t = &to
	}
	if f == nil && t == nil {
		// the bounds alone: two probes of the leaves' key
		err = q.QueryRow(ctx, `select coalesce(min(seq), 0), coalesce(max(seq), 0) from audit.leaves
			where org_id = $1 and seq between 1 and $2`, org, maxSeq).Scan(&first, &last)
	} else {
		// min and max over a join aggregate the whole range: walk it from
		// each end instead
		err = q.QueryRow(ctx, `select
			coalesce((select seq from audit.log where org_id = $1 and seq between 1 and $2
			            and ($3::timestamptz is null or at >= $3) and ($4::timestamptz is null or at < $4)
			          order by seq limit 1), 0),
			coalesce((select seq from audit.log where org_id = $1 and seq between 1 and $2
			            and ($3::timestamptz is null or at >= $3) and ($4::timestamptz is null or at < $4)
			          order by seq desc limit 1), 0)`,
			org, maxSeq, f, t).Scan(&first, &last)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("audit: seq range of org %s: %w", org, err)
	}
	return first, last, nil
}

// MaxSeq returns the newest seq of org's sequenced events that q sees, 0
// when there is none: the size of the org's tree as q's snapshot has it
// (events are sequenced one org at a time, under its head row's lock, so
// every snapshot sees a prefix of the log).
func MaxSeq(ctx context.Context, q Querier, org uuid.UUID) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `select coalesce(max(seq), 0) from audit.leaves where org_id = $1 and seq >= 1`, org).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("audit: newest seq of org %s: %w", org, err)
	}
	return n, nil
}

// Visible reports whether q sees org's sequenced event at seq.
func Visible(ctx context.Context, q Querier, org uuid.UUID, seq int64) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `select exists (select from audit.log where org_id = $1 and seq = $2)`, org, seq).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("audit: read org %s: %w", org, err)
	}
	return ok, nil
}

// LeafRange streams org's leaf hashes from seq first to last, in order,
// into fn. It reads audit.log, so it needs a credential that sees the
// whole range (an admin of the org, or an operator role); a gap in what q
// sees is an error.
func LeafRange(ctx context.Context, q Querier, org uuid.UUID, first, last int64, fn func(seq int64, leaf Hash) error) error {
	rows, err := q.Query(ctx, `select seq, leaf_hash from audit.log where org_id = $1 and seq between $2 and $3
		order by seq`, org, first, last)
	if err != nil {
		return fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
	}
	defer rows.Close()
	seq := first
	for rows.Next() {
		var b []byte
		var got int64
		if err := rows.Scan(&got, &b); err != nil {
			return fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
		}
		if got != seq {
			return fmt.Errorf("audit: org %s: seq %d is not readable here", org, seq)
		}
		h, ok := hashFrom(b)
		if !ok {
			return fmt.Errorf("audit: leaf hash of org %s at %d is not 32 bytes", org, seq)
		}
		if err := fn(seq, h); err != nil {
			return err
		}
		seq++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
	}
	if seq != last+1 {
		return fmt.Errorf("audit: org %s has no sequenced events %d..%d", org, seq, last)
	}
	return nil
}

// LatestCheckpoint returns org's newest signed checkpoint as q's
// credential may read it (any member of the org), and whether there is one.
func LatestCheckpoint(ctx context.Context, q Querier, org uuid.UUID) (Checkpoint, bool, error) {
	return latestCheckpoint(ctx, q, org)
}
