package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres"
)

// The package's hand-written SQL; everything else goes through the
// generated queries (queries/audit.sql). Five statements stay here:
//
//   - appendEventSQL is the generated AppendEvent's statement, for
//     RecordAlone, which queues it in a pgx.Batch behind the credential's
//     binding (postgres.InTenantBatch): a generated method runs its
//     statement at once and cannot join a batch. TestRecordAloneMatchesRecord
//     checks both write the same event.
//   - audit.access_report, audit.access_report_page and
//     audit.disclosure_accounting are `returns table (...)`, which sqlc
//     cannot type:
//     `select * from audit.access_report(...)` becomes one column of type
//     interface{} (the whole record), naming the columns fails with
//     `column "seq" does not exist`, and an alias list types them all as
//     interface{}.
//   - eachRow, the verifier's read of a whole log, streams the rows into
//     one reused Row: memory O(1) in the log's length. A generated :many
//     builds a slice of every event of the org first: measured on the
//     20,000-event BenchmarkVerify log it held about 2 KB an event (2 GB
//     for a log of a million), allocated 3.1 times the bytes and verified
//     about 40% fewer events a second.

// appendEventSQL is queries/audit.sql's AppendEvent, with its parameters in
// the same order (dbsqlc.AppendEventParams).
const appendEventSQL = `select audit.append(p_org => $1, p_action => $2, p_outcome => $3,
  p_object_type => $4::text, p_object_id => $5::uuid,
  p_patient => $6::uuid, p_results => $7::uuid[], p_request => $8::text,
  p_ip => $9::text, p_ua => $10::text, p_details => $11::jsonb,
  p_disclosure => $12::jsonb, p_case => $13::uuid)`

// AccessReport returns every event about patient in org's log, in seq
// order: reads, changes, denials, and lists that returned the patient.
// The database decides who may ask (audit.access_report): an admin of the
// org, or the patient themself. The report names actors and actions only,
// never what else a listed row says (other patients' ids, IPs).
//
// Errors: wrapping ErrForbidden for anyone else; a database error.
func AccessReport(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID) ([]Access, error) {
	return accessReport(ctx, tx, org, patient, `select coalesce(seq, 0), at, actor_id, actor_kind, action, outcome,
		listed, actor_role, actor_email_enc from audit.access_report($1, $2)`)
}

// MaxReportPage is the most entries one page of an access report holds.
const MaxReportPage = 1000

// AccessReportPage is AccessReport's page of the events after seq after, at
// most limit (1..MaxReportPage) of them in seq order; events not yet
// sequenced (seq 0) follow on the last page (audit.access_report_page).
//
// Errors: ErrInvalidFilter for an after or limit out of range; wrapping
// ErrForbidden for anyone but an admin or the patient; a database error.
func AccessReportPage(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID, after int64, limit int) ([]Access, error) {
	switch {
	case limit < 1 || limit > MaxReportPage:
		return nil, errkind.Visiblef(ErrInvalidFilter, "limit must be 1..%d", MaxReportPage)
	case after < 0 || after > 1<<53:
		return nil, errkind.Visible(ErrInvalidFilter, "the cursor must be 0..2^53")
	}
	return accessReport(ctx, tx, org, patient, `select coalesce(seq, 0), at, actor_id, actor_kind, action, outcome,
		listed, actor_role, actor_email_enc from audit.access_report_page($1, $2, $3, $4)`, after, int32(limit))
}

func accessReport(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID, query string, args ...any) ([]Access, error) {
	rows, err := tx.Query(ctx, query, append([]any{org, patient}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("audit: access report org %s patient %s: %w", org, patient, err)
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var (
			a     Access
			actor pgtype.UUID
			role  pgtype.Text
		)
		if err := rows.Scan(&a.Seq, &a.At, &actor, &a.ActorKind, &a.Action, &a.Outcome, &a.Listed, &role,
			&a.ActorEmailEnc); err != nil {
			return nil, fmt.Errorf("audit: access report org %s patient %s: %w", org, patient, err)
		}
		a.Actor, a.ActorRole = nullUUID(actor), role.String
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

// Disclosed is one entry of a patient's accounting of disclosures
// (§164.528): when, to whom, why, and what, by kind and id (the document's
// type slug for a document version), never by content.
type Disclosed struct {
	Seq        int64         `json:"seq"`
	At         time.Time     `json:"at"`
	Action     string        `json:"action"`
	Recipient  string        `json:"recipient"`
	Purpose    string        `json:"purpose"`
	ObjectType string        `json:"object_type,omitempty"`
	ObjectID   uuid.NullUUID `json:"object_id"`
	Case       uuid.NullUUID `json:"case_id"`
	DocType    string        `json:"doc_type,omitempty"`
	// Actor is who made the disclosure event: for a stakeholder's download,
	// the person who received the document. ActorRole is their role in the
	// org; ActorEmail their address (§164.528(b)(2)(ii) asks for the name
	// of the person or entity that received it), for any member but a
	// patient. ActorEmailEnc is its instance-AEAD ciphertext, which the
	// caller opens.
	Actor         uuid.NullUUID `json:"actor_id"`
	ActorRole     string        `json:"actor_role,omitempty"`
	ActorEmail    string        `json:"actor_email,omitempty"`
	ActorEmailEnc []byte        `json:"-"`
}

// DisclosureAccounting returns the disclosures of patient's record in
// org's log over the six years before now, in seq order
// (audit.disclosure_accounting). Who may ask is the access report's rule,
// decided by the database.
//
// Errors: wrapping ErrForbidden for anyone else; a database error.
func DisclosureAccounting(ctx context.Context, tx pgx.Tx, org, patient uuid.UUID) ([]Disclosed, error) {
	rows, err := tx.Query(ctx, `select coalesce(seq, 0), at, action, recipient, purpose, object_type, object_id, case_id,
		doc_type, actor_id, actor_role, actor_email_enc from audit.disclosure_accounting($1, $2)`, org, patient)
	if err != nil {
		return nil, fmt.Errorf("audit: disclosure accounting org %s patient %s: %w", org, patient, err)
	}
	defer rows.Close()
	out := []Disclosed{}
	for rows.Next() {
		var (
			d                   Disclosed
			recipient, purpose  pgtype.Text
			objectType, docType pgtype.Text
			object, kase, actor pgtype.UUID
			role                pgtype.Text
		)
		if err := rows.Scan(&d.Seq, &d.At, &d.Action, &recipient, &purpose, &objectType, &object, &kase, &docType,
			&actor, &role, &d.ActorEmailEnc); err != nil {
			return nil, fmt.Errorf("audit: disclosure accounting org %s patient %s: %w", org, patient, err)
		}
		d.Recipient, d.Purpose, d.ObjectType, d.DocType = recipient.String, purpose.String, objectType.String, docType.String
		d.ObjectID, d.Case, d.Actor, d.ActorRole = nullUUID(object), nullUUID(kase), nullUUID(actor), role.String
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return nil, fmt.Errorf("%w: disclosure accounting org %s patient %s", ErrForbidden, org, patient)
		}
		return nil, fmt.Errorf("audit: disclosure accounting org %s patient %s: %w", org, patient, err)
	}
	return out, nil
}

// eachRow streams org's events in seq order into fn, reusing one Row, and
// stops at fn's first error. bad is non-empty for a row that cannot be
// represented (a NULL in result_ids, which audit.append does not refuse).
func eachRow(ctx context.Context, q Querier, org uuid.UUID, fn func(r *Row, bad string) error) error {
	return eachRowAfter(ctx, q, org, 0, fn)
}

// eachRowAfter is eachRow from position after+1 on.
func eachRowAfter(ctx context.Context, q Querier, org uuid.UUID, after int64, fn func(r *Row, bad string) error) error {
	rows, err := q.Query(ctx, `select `+rowColumns+` from audit.log where org_id = $1 and seq > $2 order by seq`,
		org, after)
	if err != nil {
		return fmt.Errorf("audit: read org %s: %w", org, err)
	}
	return scanRows(rows, org, fn)
}

// rowColumns are the columns scanRows reads, in its order.
const rowColumns = `org_id, seq, at, action, outcome, actor_id, actor_kind, session_id, object_type, object_id,
	patient_id, result_ids, request_id, ip, user_agent, details, canonical, leaf_hash, chain_hash,
	v, credential_kind, credential_id, device, case_id, disclosure, break_glass`

// scanRows streams rows (rowColumns) into fn, reusing one Row, and closes
// them.
func scanRows(rows pgx.Rows, org uuid.UUID, fn func(r *Row, bad string) error) error {
	defer rows.Close()
	var (
		r                         Row
		orgID, actor, sess        pgtype.UUID
		obj, pat                  pgtype.UUID
		results                   []pgtype.UUID
		objType, req, ip, userAgt pgtype.Text
		details, disclosure       []byte
		credKind, device          pgtype.Text
		cred, caseID              pgtype.UUID
		v                         int16
	)
	for rows.Next() {
		if err := rows.Scan(&orgID, &r.Seq, &r.At, &r.Action, &r.Outcome, &actor, &r.ActorKind, &sess, &objType,
			&obj, &pat, &results, &req, &ip, &userAgt, &details, &r.Canonical, &r.LeafHash, &r.ChainHash,
			&v, &credKind, &cred, &device, &caseID, &disclosure, &r.BreakGlass); err != nil {
			return fmt.Errorf("audit: read org %s: %w", org, err)
		}
		r.Org = orgID.Bytes
		r.Actor, r.Session, r.ObjectID, r.Patient = nullUUID(actor), nullUUID(sess), nullUUID(obj), nullUUID(pat)
		r.ObjectType, r.Request, r.IP, r.UserAgent = textPtr(objType), textPtr(req), textPtr(ip), textPtr(userAgt)
		r.Details = details
		r.V, r.CredentialKind, r.Credential, r.Device = int(v), textPtr(credKind), nullUUID(cred), textPtr(device)
		r.Case, r.Disclosure = nullUUID(caseID), disclosure
		r.Results = r.Results[:0]
		bad := ""
		for _, id := range results {
			if !id.Valid {
				bad = "result_ids holds a NULL"
				break
			}
			r.Results = append(r.Results, id.Bytes)
		}
		if err := fn(&r, bad); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return fmt.Errorf("%w: read org %s", ErrForbidden, org)
		}
		return fmt.Errorf("audit: read org %s: %w", org, err)
	}
	return nil
}

func nullUUID(id pgtype.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id.Bytes, Valid: id.Valid} }

func textPtr(t pgtype.Text) *string {
	if !t.Valid {
		return nil
	}
	return &t.String
}

type pendingOrg struct {
	org     uuid.UUID
	oldest  time.Time
	pending int64
}

// pendingOrgs lists the orgs with committed pending events. audit.pending_orgs
// returns `setof record` with OUT parameters, which sqlc cannot type.
func pendingOrgs(ctx context.Context, db *postgres.DB) ([]pendingOrg, error) {
	rows, err := db.Pool.Query(ctx, `select org_id, oldest, pending from audit.pending_orgs()`)
	if err != nil {
		return nil, fmt.Errorf("audit: pending orgs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pendingOrg, error) {
		var p pendingOrg
		err := r.Scan(&p.org, &p.oldest, &p.pending)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: pending orgs: %w", err)
	}
	return out, nil
}

// pendingCount is how many of org's events await integration.
func pendingCount(ctx context.Context, q Querier, org uuid.UUID) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `select count(*) from audit.queue where org_id = $1`, org).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("audit: pending count of org %s: %w", org, err)
	}
	return n, nil
}

// unsignedHead is a head that has grown past its org's latest checkpoint.
type unsignedHead struct {
	org    uuid.UUID
	origin string
	size   int64
	root   Hash
}

// unsignedHeads calls audit.unsigned_heads (`setof record`: sqlc cannot
// type it).
func unsignedHeads(ctx context.Context, db *postgres.DB) ([]unsignedHead, error) {
	rows, err := db.Pool.Query(ctx, `select org_id, origin, tree_size, root_hash from audit.unsigned_heads()`)
	if err != nil {
		return nil, fmt.Errorf("audit: unsigned heads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (unsignedHead, error) {
		var h unsignedHead
		var root []byte
		err := r.Scan(&h.org, &h.origin, &h.size, &root)
		if err == nil {
			copy(h.root[:], root)
		}
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: unsigned heads: %w", err)
	}
	return out, nil
}

// recordCheckpoint stores a signed note for org's current head.
func recordCheckpoint(ctx context.Context, db *postgres.DB, org uuid.UUID, note string) error {
	if _, err := db.Pool.Exec(ctx, `select audit.record_checkpoint($1, $2)`, org, note); err != nil {
		return fmt.Errorf("audit: record checkpoint of org %s: %w", org, err)
	}
	return nil
}

// latestCheckpoint reads org's newest checkpoint as the transaction's
// credential may (any member of the org; RLS).
func latestCheckpoint(ctx context.Context, q Querier, org uuid.UUID) (Checkpoint, bool, error) {
	var cp Checkpoint
	var root []byte
	err := q.QueryRow(ctx, `select size, root_hash, note from audit.checkpoints where org_id = $1
		order by size desc limit 1`, org).Scan(&cp.Size, &root, &cp.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("audit: latest checkpoint of org %s: %w", org, err)
	}
	copy(cp.Root[:], root)
	cp.Origin = Origin(org)
	return cp, true, nil
}

// allCheckpoints reads every checkpoint of org, oldest first.
func allCheckpoints(ctx context.Context, q Querier, org uuid.UUID) ([]Checkpoint, error) {
	rows, err := q.Query(ctx, `select size, root_hash, note from audit.checkpoints where org_id = $1 order by size`, org)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoints of org %s: %w", org, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) {
		var cp Checkpoint
		var root []byte
		err := r.Scan(&cp.Size, &root, &cp.Note)
		copy(cp.Root[:], root)
		cp.Origin = Origin(org)
		return cp, err
	})
}

// leafHashes reads org's leaf hashes 1..size in order through
// audit.leaf_hashes (any live member of the org may).
func leafHashes(ctx context.Context, q Querier, org uuid.UUID, size int64) ([]Hash, error) {
	rows, err := q.Query(ctx, `select leaf from audit.leaf_hashes($1, $2) leaf`, org, size)
	if err != nil {
		return nil, fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
	}
	out := make([]Hash, 0, size)
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
		}
		var h Hash
		copy(h[:], b)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return nil, fmt.Errorf("%w: leaf hashes of org %s", ErrForbidden, org)
		}
		return nil, fmt.Errorf("audit: leaf hashes of org %s: %w", org, err)
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("audit: org %s has %d sequenced events, not %d", org, len(out), size)
	}
	return out, nil
}

// StartPointAt reads the checkpoint of org at size with its stored chain
// hash and compact range, its note verified under vkey, for VerifyOptions.From.
func StartPointAt(ctx context.Context, q Querier, org uuid.UUID, size int64, vkey string) (*StartPoint, error) {
	var note string
	var chain []byte
	var frontier [][]byte
	err := q.QueryRow(ctx, `select note, chain_hash, frontier from audit.checkpoints where org_id = $1 and size = $2`,
		org, size).Scan(&note, &chain, &frontier)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("audit: org %s has no checkpoint at size %d", org, size)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint of org %s at %d: %w", org, size, err)
	}
	cp, err := OpenCheckpoint(note, vkey)
	if err != nil {
		return nil, err
	}
	if cp.Origin != Origin(org) || cp.Size != size || chain == nil {
		return nil, fmt.Errorf("%w: checkpoint of org %s at %d cannot start a verification", ErrBadCheckpoint, org, size)
	}
	sp := &StartPoint{Checkpoint: cp}
	copy(sp.Chain[:], chain)
	for _, f := range frontier {
		var h Hash
		copy(h[:], f)
		sp.Frontier = append(sp.Frontier, h)
	}
	return sp, nil
}
