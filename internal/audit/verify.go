package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Head is a log's size and RFC 6962 root: what a checkpoint signs. Keep the
// head of a successful Verify outside the database (a signed checkpoint,
// the WORM archive, a SIEM) and pass it back as VerifyOptions.Known to
// catch truncation and rollback later.
type Head struct {
	Size int64 `json:"size"`
	Root Hash  `json:"root"`
}

// HeadRow is a log's stored head, the audit.heads row.
type HeadRow struct {
	Origin   string
	Size     int64
	Chain    []byte
	Frontier [][]byte
	Root     []byte
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Known is a head verified earlier and kept outside the database. The
	// log must be at least Known.Size long and its root at that size must
	// be Known.Root; otherwise the error wraps ErrTruncated. This is the
	// only check that catches a truncated tail whose head row was rewritten
	// to match, or a database restored from an older backup.
	Known *Head
	// Checkpoints are signed checkpoints of this org, their signatures
	// already verified (OpenCheckpoint), from the database or an archive
	// kept outside it. At each one's size the log's root must equal the
	// checkpoint's, and the log must reach the largest; otherwise the error
	// wraps ErrTruncated, naming the first position that disagrees.
	Checkpoints []Checkpoint
	// From, when set, starts verification after a verified checkpoint
	// instead of at seq 1, for a log whose older events were removed past
	// retention: its chain hash and compact range (authenticated by the
	// checkpoint's signed root, which From.Frontier must fold to) stand in
	// for the events before it.
	From *StartPoint
}

// StartPoint is where a verification of a pruned log starts.
type StartPoint struct {
	Checkpoint Checkpoint
	Chain      Hash
	Frontier   []Hash
}

// Report is the outcome of verifying one org's log.
type Report struct {
	Org uuid.UUID `json:"org"`
	// Size, Root and Chain describe the events verified: the whole log when
	// Verified, else the events checked before the failure was found.
	Size     int64 `json:"size"`
	Root     Hash  `json:"root"`
	Chain    Hash  `json:"chain"`
	Verified bool  `json:"verified"`
	// FirstBad is the first seq that cannot be trusted: a missing, edited
	// or forged event, or the first position where the log and its stored
	// or known head disagree. Zero when Verified.
	FirstBad int64  `json:"first_bad,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Pending is how many committed events await integration: they are in
	// the log but have no position yet, so they are not verified.
	Pending int64 `json:"pending,omitempty"`
	// From is the checkpoint size verification started after (0: from
	// seq 1).
	From int64 `json:"from,omitempty"`
}

// Head returns the verified size and root, to keep as a later Known.
func (r Report) Head() Head { return Head{Size: r.Size, Root: r.Root} }

// String returns a one-line summary.
func (r Report) String() string {
	if r.Verified {
		s := fmt.Sprintf("org %s: verified %d events, root %s, chain %s", r.Org, r.Size, r.Root, r.Chain)
		if r.Pending > 0 {
			s += fmt.Sprintf(" (%d more pending integration)", r.Pending)
		}
		return s
	}
	return fmt.Sprintf("org %s: FAILED at seq %d: %s (%d events before it verified)", r.Org, r.FirstBad, r.Reason, r.Size)
}

// JSON returns the report as one line of JSON (hashes in hex).
func (r Report) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("audit: marshal report: " + err.Error()) // plain fields only
	}
	return b
}

// Verifier checks one org's events, fed in seq order, against the leaf,
// chain and tree rules and against the stored head. Verify drives it from
// the database; an archive reader can drive it from exported rows. Memory
// is O(log n).
type Verifier struct {
	org    uuid.UUID
	cps    []Checkpoint // by size
	nextCP int
	known  *Head
	next   int64
	chain  Hash
	tree   *Tree
	buf    []byte
	report Report
	err    error
}

// NewVerifier returns a Verifier for org's log.
func NewVerifier(org uuid.UUID, opts VerifyOptions) *Verifier {
	cps := slices.Clone(opts.Checkpoints)
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Size, b.Size) })
	if f := opts.From; f != nil {
		v := &Verifier{org: org, cps: cps, known: opts.Known, next: f.Checkpoint.Size + 1, chain: f.Chain,
			buf: make([]byte, 0, 1024)}
		t, err := TreeFrom(f.Checkpoint.Size, f.Frontier)
		switch {
		case err != nil:
			v.tree, v.err = NewTree(), fmt.Errorf("%w: the start point's compact range: %v", ErrTampered, err)
		case t.Root() != f.Checkpoint.Root:
			v.tree, v.err = t, fmt.Errorf("%w: the start point's compact range does not fold to the checkpoint's signed root",
				ErrTampered)
		default:
			v.tree = t
		}
		return v
	}
	return &Verifier{
		org:   org,
		cps:   cps,
		known: opts.Known,
		next:  1,
		chain: ChainSeed(Origin(org)),
		tree:  NewTree(),
		buf:   make([]byte, 0, 1024),
	}
}

// Add checks the next event. It rebuilds the canonical bytes from the
// columns and requires them equal to the stored ones (so an edited column
// is caught), then the leaf hash, the chain link, the seq (1, 2, 3, …; a
// gap is a deletion) and, at Known.Size, the root. After the first failure
// it returns the same error for every call.
//
// Errors: wrapping ErrTampered (and ErrTruncated for the known head),
// naming the seq.
func (v *Verifier) Add(r *Row) error {
	if v.err != nil {
		return v.err
	}
	switch {
	case r.Org != v.org:
		return v.fail(v.next, "an event of another org is in this log", nil)
	case r.Seq > v.next:
		return v.fail(v.next, fmt.Sprintf("seq %d is missing (the next stored event is %d)", v.next, r.Seq), nil)
	case r.Seq != v.next:
		return v.fail(v.next, fmt.Sprintf("seq %d is out of order", r.Seq), nil)
	}
	// The canonical bytes are rebuilt behind the leaf prefix, so the leaf
	// hash is one sha256.Sum256 of the buffer (no digest state to reset,
	// nothing allocated).
	var err error
	v.buf, err = appendCanonical(append(v.buf[:0], 0x00), r)
	if err != nil {
		return v.fail(r.Seq, "the columns do not form a valid event: "+err.Error(), nil)
	}
	if !bytes.Equal(v.buf[1:], r.Canonical) {
		return v.fail(r.Seq, "the columns differ from the stored canonical bytes", nil)
	}
	leaf := Hash(sha256.Sum256(v.buf))
	if !bytes.Equal(leaf[:], r.LeafHash) {
		return v.fail(r.Seq, "the stored leaf hash is not the hash of the canonical bytes", nil)
	}
	chain := ChainNext(v.chain, leaf)
	if !bytes.Equal(chain[:], r.ChainHash) {
		return v.fail(r.Seq, "the stored chain hash does not link to the previous event", nil)
	}
	v.chain = chain
	v.tree.Append(leaf)
	v.next++
	for v.nextCP < len(v.cps) && v.cps[v.nextCP].Size <= v.tree.Size() {
		cp := v.cps[v.nextCP]
		v.nextCP++
		if cp.Size == v.tree.Size() && v.tree.Root() != cp.Root {
			return v.fail(cp.Size, fmt.Sprintf("the root at size %d differs from the signed checkpoint's: the log was "+
				"rewritten at or before seq %d", cp.Size, cp.Size), ErrTruncated)
		}
	}
	if k := v.known; k != nil && k.Size == v.tree.Size() && v.tree.Root() != k.Root {
		return v.fail(k.Size, fmt.Sprintf("the root at size %d differs from the known head: the log was rewritten at or before seq %d", k.Size, k.Size), ErrTruncated)
	}
	return nil
}

// Size returns how many events have verified so far.
func (v *Verifier) Size() int64 { return v.tree.Size() }

// Finish compares the events seen with the stored head (nil when the org
// has no head row) and the known head, and returns the report. The error
// is nil exactly when the report says Verified.
//
// Errors: wrapping ErrTampered (and ErrTruncated when the log is shorter
// than the known head).
func (v *Verifier) Finish(h *HeadRow) (Report, error) {
	if v.err != nil {
		return v.report, v.err
	}
	size := v.tree.Size()
	root := v.tree.Root()
	var stored HeadRow
	if h != nil {
		stored = *h
	} else {
		stored = HeadRow{Origin: Origin(v.org), Chain: v.chain[:], Root: root[:]} // no head = empty log
	}
	frontier := v.tree.Frontier()
	switch {
	case stored.Origin != Origin(v.org):
		return v.failed(1, "the head's origin is not this org's", nil)
	case stored.Size < size:
		return v.failed(stored.Size+1, fmt.Sprintf("the log holds %d events beyond the head's size %d", size-stored.Size, stored.Size), nil)
	case stored.Size > size:
		return v.failed(size+1, fmt.Sprintf("the head records %d events but the log ends at seq %d", stored.Size, size), nil)
	case !bytes.Equal(stored.Chain, v.chain[:]):
		return v.failed(size, "the chain hash differs from the head's", nil)
	case !slices.EqualFunc(stored.Frontier, frontier, func(b []byte, h Hash) bool { return bytes.Equal(b, h[:]) }):
		return v.failed(size, "the compact range differs from the head's", nil)
	case !bytes.Equal(stored.Root, root[:]):
		return v.failed(size, "the root differs from the head's", nil)
	}
	if n := len(v.cps); n > 0 && v.cps[n-1].Size > size {
		return v.failed(size+1, fmt.Sprintf("the log holds %d events, fewer than a signed checkpoint's %d: events were "+
			"removed or the database was restored from an older copy", size, v.cps[n-1].Size), ErrTruncated)
	}
	if k := v.known; k != nil {
		switch {
		case k.Size > size:
			return v.failed(size+1, fmt.Sprintf("the log holds %d events, fewer than the known head's %d", size, k.Size), ErrTruncated)
		case k.Size == 0 && k.Root != EmptyRoot():
			return v.failed(1, "the known head of size 0 has a root other than the empty root", ErrTruncated)
		}
	}
	v.report = Report{Org: v.org, Size: size, Root: root, Chain: v.chain, Verified: true}
	return v.report, nil
}

// failed is fail for Finish.
func (v *Verifier) failed(seq int64, reason string, kind error) (Report, error) {
	err := v.fail(seq, reason, kind)
	return v.report, err
}

// fail records the first failure and returns its error.
func (v *Verifier) fail(seq int64, reason string, kind error) error {
	v.report = Report{Org: v.org, Size: v.tree.Size(), Root: v.tree.Root(), Chain: v.chain, FirstBad: seq, Reason: reason}
	if kind != nil {
		v.err = fmt.Errorf("audit: org %s: seq %d: %s: %w: %w", v.org, seq, reason, kind, ErrTampered)
	} else {
		v.err = fmt.Errorf("audit: org %s: seq %d: %s: %w", v.org, seq, reason, ErrTampered)
	}
	return v.err
}

// Querier is what Verify reads through: a pgx.Tx, *pgx.Conn or
// *pgxpool.Pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// beginner is a Querier that can open its own transaction.
type beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Verify streams org's events in seq order from q and checks each one
// (Verifier.Add), then the stored head and opts.Known (Verifier.Finish).
// The head and the events must come from one snapshot: given a pool or a
// connection, Verify opens its own REPEATABLE READ READ ONLY transaction;
// given a transaction, the caller must have opened it so. The role must
// see the whole log and its head (a superuser, or an admin of the org
// through RLS): a partial view fails as gaps, and a role that sees nothing
// sees an empty log, which verifies unless opts.Known says otherwise.
//
// Errors: wrapping ErrTampered (and ErrTruncated) with the report saying
// where; any other error is a database failure and the report is partial.
func Verify(ctx context.Context, q Querier, org uuid.UUID, opts VerifyOptions) (Report, error) {
	if b, ok := q.(beginner); ok {
		var rep Report
		err := snapshot(ctx, b, func(tx pgx.Tx) error {
			var err error
			rep, err = verify(ctx, tx, org, opts)
			return err
		})
		return rep, err
	}
	return verify(ctx, q, org, opts)
}

// VerifyAll verifies every org's log: each org with a head row, an event,
// or an entry in known (whose head is that org's VerifyOptions.Known), in
// one snapshot as Verify. It returns one report per org, ordered by org id.
//
// Errors: the errors of the failed logs joined (each wrapping ErrTampered),
// or a database error.
func VerifyAll(ctx context.Context, q Querier, known map[uuid.UUID]Head) ([]Report, error) {
	if b, ok := q.(beginner); ok {
		var reps []Report
		err := snapshot(ctx, b, func(tx pgx.Tx) error {
			var err error
			reps, err = verifyAll(ctx, tx, known)
			return err
		})
		return reps, err
	}
	return verifyAll(ctx, q, known)
}

func snapshot(ctx context.Context, b beginner, fn func(tx pgx.Tx) error) error {
	tx, err := b.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("audit: verify: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	return fn(tx)
}

func verifyAll(ctx context.Context, q Querier, known map[uuid.UUID]Head) ([]Report, error) {
	extra := make([]uuid.UUID, 0, len(known))
	for org := range known {
		extra = append(extra, org)
	}
	return verifyEach(ctx, q, extra, func(_ context.Context, _ Querier, org uuid.UUID) (VerifyOptions, error) {
		var opts VerifyOptions
		if k, ok := known[org]; ok {
			opts.Known = &k
		}
		return opts, nil
	})
}

// VerifyEach verifies every org with a log in the database, and every org in
// extra (whose log may be gone: an archive names it), in one snapshot, with
// the options optsFor returns for each; optsFor reads through the
// snapshot's Querier (to load the org's stored checkpoints, say). The error
// joins every org's failure; reports hold every org.
func VerifyEach(ctx context.Context, q Querier, extra []uuid.UUID,
	optsFor func(ctx context.Context, q Querier, org uuid.UUID) (VerifyOptions, error)) ([]Report, error) {
	if b, ok := q.(beginner); ok {
		return verifyParallel(ctx, q, b, extra, optsFor)
	}
	return verifyEach(ctx, q, extra, optsFor)
}

// verifyParallel verifies the orgs on several cores: each org in its own
// read-only snapshot (the logs are independent), up to GOMAXPROCS at once.
func verifyParallel(ctx context.Context, q Querier, b beginner, extra []uuid.UUID,
	optsFor func(ctx context.Context, q Querier, org uuid.UUID) (VerifyOptions, error)) ([]Report, error) {
	orgs, err := logOrgs(ctx, q, extra)
	if err != nil {
		return nil, err
	}
	reps := make([]Report, len(orgs))
	errs := make([]error, len(orgs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, org := range orgs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = snapshot(ctx, b, func(tx pgx.Tx) error {
				opts, err := optsFor(ctx, tx, org)
				if err != nil {
					return err
				}
				var verr error
				reps[i], verr = verify(ctx, tx, org, opts)
				return verr
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrTampered) {
			return reps, err
		}
	}
	return reps, errors.Join(errs...)
}

// logOrgs lists the orgs with a log in the database, plus extra, sorted.
func logOrgs(ctx context.Context, q Querier, extra []uuid.UUID) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `select org_id from audit.heads union select distinct org_id from audit.events`)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: list orgs: %w", err)
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("audit: verify: list orgs: %w", err)
	}
	orgs = append(orgs, extra...)
	slices.SortFunc(orgs, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(orgs), nil
}

func verifyEach(ctx context.Context, q Querier, extra []uuid.UUID,
	optsFor func(ctx context.Context, q Querier, org uuid.UUID) (VerifyOptions, error)) ([]Report, error) {
	orgs, err := logOrgs(ctx, q, extra)
	if err != nil {
		return nil, err
	}
	var (
		reps []Report
		errs []error
	)
	for _, org := range orgs {
		opts, err := optsFor(ctx, q, org)
		if err != nil {
			return reps, err
		}
		rep, err := verify(ctx, q, org, opts)
		if err != nil && !errors.Is(err, ErrTampered) {
			return reps, err
		}
		reps = append(reps, rep)
		errs = append(errs, err)
	}
	return reps, errors.Join(errs...)
}

func verify(ctx context.Context, q Querier, org uuid.UUID, opts VerifyOptions) (Report, error) {
	v := NewVerifier(org, opts)
	head, err := readHead(ctx, q, org)
	if err != nil {
		return Report{Org: org}, err
	}
	var after int64
	if opts.From != nil {
		after = opts.From.Checkpoint.Size
	}
	err = eachRowAfter(ctx, q, org, after, func(r *Row, bad string) error {
		if bad != "" {
			return v.fail(r.Seq, bad, nil)
		}
		return v.Add(r)
	})
	if err != nil && v.err == nil {
		return Report{Org: org}, err
	}
	rep, err := v.Finish(head)
	if err == nil {
		// An event that is neither placed nor queued was taken out of the
		// queue by hand: it is in the table but will never be in the log.
		var stray int64
		if serr := q.QueryRow(ctx, `select count(*) from audit.events e where e.org_id = $1
			and not exists (select from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid)
			and not exists (select from audit.queue x where x.org_id = e.org_id and x.qid = e.qid)`, org).Scan(&stray); serr != nil {
			return rep, fmt.Errorf("audit: verify org %s: events outside the log: %w", org, serr)
		}
		if stray > 0 {
			rep, err = v.failed(rep.Size+1, fmt.Sprintf("%d events have neither a position nor a place in the queue", stray), nil)
		}
	}
	if opts.From != nil {
		rep.From = opts.From.Checkpoint.Size
	}
	if n, perr := pendingCount(ctx, q, org); perr == nil {
		rep.Pending = n
	} else if err == nil {
		return rep, perr
	}
	return rep, err
}

func readHead(ctx context.Context, q Querier, org uuid.UUID) (*HeadRow, error) {
	h, err := queries(q).GetHead(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: verify org %s: read head: %w", org, err)
	}
	return &HeadRow{Origin: h.Origin, Size: h.TreeSize, Chain: h.ChainHash, Frontier: h.Frontier, Root: h.RootHash}, nil
}

// queries returns the generated queries reading through q.
func queries(q Querier) *dbsqlc.Queries {
	if db, ok := q.(dbsqlc.DBTX); ok { // pgx.Tx, *pgx.Conn, *pgxpool.Pool
		return dbsqlc.New(db)
	}
	return dbsqlc.New(readOnly{q})
}

// readOnly is a Querier as a dbsqlc.DBTX, for a Querier without Exec; the
// queries Verify runs never call it, but it works.
type readOnly struct{ Querier }

func (r readOnly) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	rows, err := r.Query(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	rows.Close()
	return rows.CommandTag(), rows.Err()
}
