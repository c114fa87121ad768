package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// ErrUnauthenticated means the context carries no principal.
var ErrUnauthenticated = errkind.New(errkind.Unauthenticated, "unauthenticated", "audit: no live session").
	WithPublic("a live session is required")

// Service serves the org's own reads of its audit log. Every read is
// itself audited (audit.read), in the transaction that reads.
type Service struct {
	db      *postgres.DB
	log     *slog.Logger
	denials *Collapser
}

// NewService returns a Service.
func NewService(db *postgres.DB, log *slog.Logger) *Service {
	return &Service{db: db, log: log, denials: NewCollapser(30, 25, time.Minute)}
}

// Refusal is a request refused before it reached a service: the caller is
// authenticated but the route needs another role, credential kind,
// assurance level or a fresher sign-in.
type Refusal struct {
	// Action is the registered action the request would have been.
	Action string
	// Reason is the refusal's stable code (e.g. "forbidden",
	// "step_up_required"); Route the route pattern.
	Reason, Route string
	// ObjectType, Object and Patient name what the path named, if anything.
	ObjectType string
	Object     uuid.UUID
	Patient    uuid.UUID
}

// Refused records r for the principal in the context, in its own short
// transaction; floods collapse like other refusals. Failing to record is
// logged (ids only): the request is refused either way.
func (s *Service) Refused(ctx context.Context, r Refusal) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return
	}
	record, n := s.denials.Admit(p.CredentialID, time.Now())
	if !record {
		return
	}
	req := identity.RequestFrom(ctx)
	e := Event{Org: p.OrgID, Action: r.Action, Outcome: OutcomeDenied, ObjectType: r.ObjectType,
		ObjectID: uuid.NullUUID{UUID: r.Object, Valid: r.Object != uuid.Nil},
		Patient:  uuid.NullUUID{UUID: r.Patient, Valid: r.Patient != uuid.Nil},
		Request:  req.ID, IP: req.IPString(), UserAgent: req.UserAgent,
		Details: map[string]any{"reason": r.Reason, "route": r.Route}}
	if n > 1 {
		e.Details["collapsed"] = n
	}
	cred := postgres.CredentialOf(p, req.ID)
	if err := RecordDenied(ctx, s.db, cred, e); err != nil {
		s.log.ErrorContext(ctx, "audit of refused request failed", "action", r.Action, "org", p.OrgID, "err", err)
	}
}

// Log returns a page of the caller's org audit log. Only admins may read it
// (row-level security enforces it; the check here makes the refusal clear
// and audited). Errors: ErrUnauthenticated, ErrForbidden (audited),
// ErrInvalidFilter.
func (s *Service) Log(ctx context.Context, f Filter) ([]Entry, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.CredentialOf(p, req.ID)
	event := func(outcome string, details map[string]any) Event {
		return Event{Org: p.OrgID, Action: "audit.read", Outcome: outcome, Request: req.ID, IP: req.IPString(),
			UserAgent: req.UserAgent, Details: details}
	}
	if p.Role != identity.RoleAdmin {
		if err := RecordDenied(ctx, s.db, cred, event(OutcomeDenied, map[string]any{"reason": "forbidden"})); err != nil {
			s.log.ErrorContext(ctx, "audit of denied request failed", "action", "audit.read", "org", p.OrgID, "err", err)
		}
		return nil, fmt.Errorf("%w: the audit log is for admins", ErrForbidden)
	}
	// The freshest events too: sequence what is pending first, in a short
	// transaction of its own, as an export does (integration holds the
	// org's integration lock to the end of its transaction).
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := Integrate(ctx, tx, p.OrgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: read log of org %s: %w", p.OrgID, err)
	}
	var out []Entry
	err = s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if out, err = List(ctx, tx, p.OrgID, f); err != nil {
			return err
		}
		// The filter goes into the event, as an export's does; a page
		// that shows events about the patient it was filtered on names
		// them, so the read is in that patient's access report (a page
		// without any says nothing of a patient, so it names nobody, and
		// the answer never depends on whether the id names a patient).
		e := event(OutcomeSuccess, map[string]any{"count": len(out), "after": f.After})
		if f.Action != "" {
			e.Details["action"] = f.Action
		}
		if f.Patient.Valid {
			e.Details["patient"] = f.Patient.UUID.String()
			if aboutPatient(out, f.Patient.UUID) {
				e.Patient = f.Patient
			}
		}
		_, err = Record(ctx, tx, e)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrInvalidFilter) {
			return nil, err
		}
		return nil, fmt.Errorf("audit: read log of org %s: %w", p.OrgID, err)
	}
	return out, nil
}

// aboutPatient reports whether one of page is about patient: its own
// event, or a list whose results held it.
func aboutPatient(page []Entry, patient uuid.UUID) bool {
	for _, e := range page {
		if e.Patient.Valid && e.Patient.UUID == patient || slices.Contains(e.Results, patient) {
			return true
		}
	}
	return false
}

// ErrNoCheckpoint means the org's log has no signed checkpoint yet (the
// integrator signs one within seconds of the first events).
var ErrNoCheckpoint = errkind.New(errkind.NotFound, "no_checkpoint", "audit: no checkpoint").
	WithPublic("this org's audit log has no signed checkpoint yet; try again in a few seconds")

// Checkpoint returns the newest signed checkpoint of the caller's org (the
// route admits its staff, its patients and keys with audit:read). Errors:
// ErrUnauthenticated, ErrNoCheckpoint.
func (s *Service) Checkpoint(ctx context.Context) (Checkpoint, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return Checkpoint{}, ErrUnauthenticated
	}
	cred := postgres.CredentialOf(p, identity.RequestFrom(ctx).ID)
	var cp Checkpoint
	var found bool
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		cp, found, err = latestCheckpoint(ctx, tx, p.OrgID)
		return err
	})
	if err != nil {
		return Checkpoint{}, err
	}
	if !found {
		return Checkpoint{}, ErrNoCheckpoint
	}
	return cp, nil
}

// Inclusion is an event's inclusion proof against a signed checkpoint:
// with the verifier key alone, anyone can check that the event with this
// leaf hash is at Seq in the log the checkpoint signs.
type Inclusion struct {
	Checkpoint Checkpoint `json:"checkpoint"`
	Seq        int64      `json:"seq"`
	LeafHash   Hash       `json:"leaf_hash"`
	Proof      []Hash     `json:"proof"`
}

// Verify checks the bundle with the verifier key — the checkpoint's
// signature, then the inclusion proof against its root — and returns the
// checkpoint as verified (never trust the bundle's unsigned fields). Errors
// wrap ErrBadCheckpoint or ErrBadProof.
func (b Inclusion) Verify(vkey string) (Checkpoint, error) {
	cp, err := OpenCheckpoint(b.Checkpoint.Note, vkey)
	if err != nil {
		return Checkpoint{}, err
	}
	if b.Seq < 1 || b.Seq > cp.Size {
		return Checkpoint{}, fmt.Errorf("%w: seq %d is not in a checkpoint of size %d", ErrBadProof, b.Seq, cp.Size)
	}
	return cp, VerifyInclusion(b.LeafHash, uint64(b.Seq-1), uint64(cp.Size), b.Proof, cp.Root)
}

// EventLeaves returns the leaf hashes of events first..last as their
// stored columns hash (the RFC 6962 leaf of the canonical bytes Canonical
// rebuilds from them), by seq, for a reader that shows the events to check
// them against proofs: an inclusion proof is of the leaf the tree stores,
// and says nothing of the columns a page shows unless they hash to that
// leaf (admins, as for the log itself). Errors: ErrUnauthenticated,
// ErrForbidden, ErrInvalidFilter, ErrInvalidEvent (columns no event could
// have).
func (s *Service) EventLeaves(ctx context.Context, first, last int64) (map[int64]Hash, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	if p.Role != identity.RoleAdmin {
		return nil, fmt.Errorf("%w: the audit log is for admins", ErrForbidden)
	}
	if first < 1 || last < first || last-first >= MaxListLimit {
		return nil, errkind.Visiblef(ErrInvalidFilter, "a range of 1..%d events from seq 1 on", MaxListLimit)
	}
	out := make(map[int64]Hash, last-first+1)
	cred := postgres.CredentialOf(p, identity.RequestFrom(ctx).ID)
	err := s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return Scan(ctx, tx, p.OrgID, Selection{MinSeq: first, MaxSeq: last}, func(r *Row, bad string) error {
			if bad != "" {
				return fmt.Errorf("%w: event %d: %s", ErrInvalidEvent, r.Seq, bad)
			}
			canon, err := Canonical(*r)
			if err != nil {
				return fmt.Errorf("event %d: %w", r.Seq, err)
			}
			out[r.Seq] = LeafHash(canon)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Consistency proves that the log at an earlier size (whose root is
// FromRoot) is a prefix of the log a signed checkpoint covers.
type Consistency struct {
	Checkpoint Checkpoint `json:"checkpoint"`
	FromSize   int64      `json:"from_size"`
	FromRoot   Hash       `json:"from_root"`
	Proof      []Hash     `json:"proof"`
}

// Verify checks the bundle with the verifier key — the checkpoint's
// signature, then the RFC 9162 consistency proof from FromSize and
// FromRoot to the checkpoint's size and root — and returns the checkpoint
// as verified (never trust the bundle's unsigned fields). Errors wrap
// ErrBadCheckpoint or ErrBadProof.
func (b Consistency) Verify(vkey string) (Checkpoint, error) {
	cp, err := OpenCheckpoint(b.Checkpoint.Note, vkey)
	if err != nil {
		return Checkpoint{}, err
	}
	if b.FromSize < 1 || b.FromSize > cp.Size {
		return Checkpoint{}, fmt.Errorf("%w: from_size %d is not in 1..%d, the checkpoint's size", ErrBadProof, b.FromSize, cp.Size)
	}
	return cp, VerifyConsistency(uint64(b.FromSize), uint64(cp.Size), b.Proof, b.FromRoot, cp.Root)
}

// InclusionProof returns the inclusion proof of event seq against the
// newest checkpoint (admins; audited as audit.read). Errors:
// ErrUnauthenticated, ErrForbidden, ErrNoCheckpoint, ErrInvalidFilter (seq
// not covered by the checkpoint).
func (s *Service) InclusionProof(ctx context.Context, seq int64) (Inclusion, error) {
	var out Inclusion
	err := s.proofTx(ctx, map[string]any{"proof": "inclusion", "seq": seq}, func(ctx context.Context, tx pgx.Tx, cp Checkpoint) error {
		if seq < 1 || seq > cp.Size {
			return errkind.Visiblef(ErrInvalidFilter, "seq must be 1..%d (the newest checkpoint's size)", cp.Size)
		}
		leaf, p, err := StoredInclusionProof(ctx, tx, orgOf(cp), uint64(seq-1), uint64(cp.Size))
		if err != nil {
			return err
		}
		out = Inclusion{Checkpoint: cp, Seq: seq, LeafHash: leaf, Proof: p}
		return nil
	})
	return out, err
}

// InclusionProofs returns the inclusion proofs of events seqs against the
// newest checkpoint, from one read of the hashes they need (admins; audited
// as one audit.read naming the newest). Errors as InclusionProof.
func (s *Service) InclusionProofs(ctx context.Context, seqs []int64) ([]Inclusion, error) {
	if len(seqs) == 0 || len(seqs) > MaxListLimit {
		return nil, errkind.Visiblef(ErrInvalidFilter, "1..%d events", MaxListLimit)
	}
	var out []Inclusion
	err := s.proofTx(ctx, map[string]any{"proof": "inclusion", "seq": slices.Max(seqs)}, func(ctx context.Context, tx pgx.Tx, cp Checkpoint) error {
		idx := make([]uint64, len(seqs))
		for i, seq := range seqs {
			if seq < 1 || seq > cp.Size {
				return errkind.Visiblef(ErrInvalidFilter, "seq must be 1..%d (the newest checkpoint's size)", cp.Size)
			}
			idx[i] = uint64(seq - 1)
		}
		incs, err := storedInclusions(ctx, tx, orgOf(cp), idx, uint64(cp.Size))
		if err != nil {
			return err
		}
		out = make([]Inclusion, len(seqs))
		for i, inc := range incs {
			out[i] = Inclusion{Checkpoint: cp, Seq: seqs[i], LeafHash: inc.leaf, Proof: inc.proof}
		}
		return nil
	})
	return out, err
}

// ConsistencyProof returns the proof that the log at from events is a
// prefix of the newest checkpoint's (admins; audited). Errors as
// InclusionProof.
func (s *Service) ConsistencyProof(ctx context.Context, from int64) (Consistency, error) {
	var out Consistency
	err := s.proofTx(ctx, map[string]any{"proof": "consistency", "from": from}, func(ctx context.Context, tx pgx.Tx, cp Checkpoint) error {
		if from < 1 || from > cp.Size {
			return errkind.Visiblef(ErrInvalidFilter, "from must be 1..%d (the newest checkpoint's size)", cp.Size)
		}
		root, p, err := StoredConsistencyProof(ctx, tx, orgOf(cp), uint64(from), uint64(cp.Size))
		if err != nil {
			return err
		}
		out = Consistency{Checkpoint: cp, FromSize: from, FromRoot: root, Proof: p}
		return nil
	})
	return out, err
}

// proofTx runs fn for an admin with the org's newest checkpoint, in one
// transaction that also records the read.
func (s *Service) proofTx(ctx context.Context, details map[string]any, fn func(ctx context.Context, tx pgx.Tx, cp Checkpoint) error) error {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.CredentialOf(p, req.ID)
	e := Event{Org: p.OrgID, Action: "audit.read", Outcome: OutcomeSuccess, Request: req.ID, IP: req.IPString(),
		UserAgent: req.UserAgent, Details: details}
	if p.Role != identity.RoleAdmin {
		e.Outcome = OutcomeDenied
		if err := RecordDenied(ctx, s.db, cred, e); err != nil {
			s.log.ErrorContext(ctx, "audit of denied request failed", "action", "audit.read", "org", p.OrgID, "err", err)
		}
		return fmt.Errorf("%w: proofs are for admins", ErrForbidden)
	}
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		cp, found, err := latestCheckpoint(ctx, tx, p.OrgID)
		if err != nil {
			return err
		}
		if !found {
			return ErrNoCheckpoint
		}
		if err := fn(ctx, tx, cp); err != nil {
			return err
		}
		_, err = Record(ctx, tx, e)
		return err
	})
}

func orgOf(cp Checkpoint) uuid.UUID {
	id, _ := uuid.Parse(strings.TrimPrefix(cp.Origin, "ward/audit/"))
	return id
}

// AttachProofs adds to each access of a report its leaf hash and inclusion
// proof against the org's newest checkpoint, which it returns (nil when the
// log has none yet). Accesses beyond the checkpoint get none. It reads
// through tx's credential: any member of the org may.
func AttachProofs(ctx context.Context, tx pgx.Tx, org uuid.UUID, acc []Access) (*Checkpoint, error) {
	cp, found, err := latestCheckpoint(ctx, tx, org)
	if err != nil || !found {
		return nil, err
	}
	var idx []uint64
	var at []int
	for i := range acc {
		if acc[i].Seq >= 1 && acc[i].Seq <= cp.Size {
			idx, at = append(idx, uint64(acc[i].Seq-1)), append(at, i)
		}
	}
	if len(idx) == 0 {
		return &cp, nil
	}
	incs, err := storedInclusions(ctx, tx, org, idx, uint64(cp.Size))
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		leaf := incs[k].leaf
		acc[i].LeafHash, acc[i].Inclusion = &leaf, incs[k].proof
	}
	return &cp, nil
}
