package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/postgres"
)

// An Archive keeps the audit log outside the database: per org, segments of
// integrated events (one object per range of positions) and every signed
// checkpoint, each written once and never replaced. DirArchive (a local
// directory, not WORM) and s3archive.Archive (a bucket with Object Lock in
// COMPLIANCE mode, WORM) implement it.
type Archive interface {
	// PutSegment writes events (consecutive positions, oldest first) of
	// org as one object, unless it is already archived.
	PutSegment(ctx context.Context, org uuid.UUID, events []ArchivedEvent) (Stored, error)
	// PutCheckpoint writes a signed checkpoint of org, unless it is
	// already archived.
	PutCheckpoint(ctx context.Context, org uuid.UUID, cp Checkpoint) (Stored, error)
	// Archived returns how far org's log is archived.
	Archived(ctx context.Context, org uuid.UUID) (Position, error)
	// Checkpoints returns org's archived checkpoint notes, unverified
	// (open each with OpenCheckpoint).
	Checkpoints(ctx context.Context, org uuid.UUID) ([]string, error)
	// Orgs lists the orgs the archive holds.
	Orgs(ctx context.Context) ([]uuid.UUID, error)
}

// ArchivedEvent is one line of a segment.
type ArchivedEvent struct {
	Seq       int64           `json:"seq"`
	LeafHash  Hash            `json:"leaf_hash"`
	Canonical json.RawMessage `json:"event"`
}

// Position is how far an org's log is archived.
type Position struct {
	Seq        int64 // the last position in a segment (0: none)
	Checkpoint int64 // the size of the largest archived checkpoint (0: none)
}

// Stored is what an archive reports about one object it wrote: the name
// and, for WORM storage, the version and the retention as read back from
// the server after the write (not as requested).
type Stored struct {
	Name        string    // object name, or file path for a directory
	VersionID   string    // the object version ("" for a directory)
	Mode        string    // the retention mode read back: "COMPLIANCE", or "" when not WORM
	RetainUntil time.Time // the retention date read back; zero when not WORM
	Existed     bool      // the object was already archived; nothing was written
}

// WORM reports whether the object is under COMPLIANCE retention.
func (s Stored) WORM() bool { return s.Mode == "COMPLIANCE" }

// LogValue logs the object's name, version and retention.
func (s Stored) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("name", s.Name), slog.Bool("worm", s.WORM())}
	if s.WORM() {
		attrs = append(attrs, slog.String("version", s.VersionID), slog.String("mode", s.Mode),
			slog.Time("retain_until", s.RetainUntil))
	}
	return slog.GroupValue(attrs...)
}

// SegmentName is the file or object name of the segment holding positions
// from..to, relative to the org's directory or prefix; names sort in
// position order.
func SegmentName(from, to int64) string {
	return fmt.Sprintf("segments/%020d-%020d.jsonl", from, to)
}

// CheckpointName is the name of the checkpoint at size, relative to the
// org's directory or prefix; names sort by size.
func CheckpointName(size int64) string {
	return fmt.Sprintf("checkpoints/%020d.note", size)
}

// EncodeSegment returns a segment's content: one ArchivedEvent as JSON per
// line.
func EncodeSegment(events []ArchivedEvent) ([]byte, error) {
	var b strings.Builder
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// Archiver copies every org's integrated events and signed checkpoints to
// the archive: segments up to each org's newest checkpoint, then the
// checkpoints not yet archived. db must read every org's log
// (ward_audit_reader or a superuser). Any number may run, on as many nodes:
// only the one holding the archiver lease (a session advisory lock on one
// of its connections) works, and when its node dies the lock dies with the
// connection and another takes over at its next tick. Archives write each
// object once, so even two passes at once cost a duplicate request, not a
// duplicate object.
type Archiver struct {
	db      *postgres.DB
	archive Archive
	log     *slog.Logger

	lease *pgxpool.Conn // held while this archiver is the active one (Run's goroutine only)

	mu     sync.Mutex
	status ArchiveStatus
}

// archiverLease is the advisory lock key of the active archiver.
const archiverLease = `hashtextextended('ward.audit.archiver', 0)`

// ArchiveStatus is what an Archiver has done since it started.
type ArchiveStatus struct {
	Active  bool      // whether this archiver holds the lease
	Objects int64     // objects written
	Last    Stored    // the last object written, with its retention as read back
	LastAt  time.Time // when Last was written
	OK      time.Time // when a pass last completed without error
}

// NewArchiver returns an Archiver.
func NewArchiver(db *postgres.DB, archive Archive, log *slog.Logger) *Archiver {
	return &Archiver{db: db, archive: archive, log: log}
}

// Status reports what the archiver has written, and the retention read back
// for the last object.
func (a *Archiver) Status() ArchiveStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// WriteMetrics writes the archiver's figures in the Prometheus text format.
func (a *Archiver) WriteMetrics(w io.Writer) {
	st := a.Status()
	worm := 0
	if st.Last.WORM() {
		worm = 1
	}
	active := 0
	if st.Active {
		active = 1
	}
	fmt.Fprintf(w, "# HELP ward_audit_archiver_active Whether this node's archiver holds the lease (one node archives at a time).\n")
	fmt.Fprintf(w, "# TYPE ward_audit_archiver_active gauge\nward_audit_archiver_active %d\n", active)
	fmt.Fprintf(w, "# HELP ward_audit_archive_objects_total Audit archive objects (segments, checkpoints) this node wrote.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_archive_objects_total counter\nward_audit_archive_objects_total %d\n", st.Objects)
	fmt.Fprintf(w, "# HELP ward_audit_archive_worm Whether the last archived object was read back under COMPLIANCE retention.\n")
	fmt.Fprintf(w, "# TYPE ward_audit_archive_worm gauge\nward_audit_archive_worm %d\n", worm)
	if !st.Last.RetainUntil.IsZero() {
		fmt.Fprintf(w, "# HELP ward_audit_archive_retain_until_seconds Retention date read back for the last archived object.\n")
		fmt.Fprintf(w, "# TYPE ward_audit_archive_retain_until_seconds gauge\nward_audit_archive_retain_until_seconds %d\n",
			st.Last.RetainUntil.Unix())
	}
	if !st.OK.IsZero() {
		fmt.Fprintf(w, "# HELP ward_audit_archive_last_success_seconds When an archive pass last completed without error.\n")
		fmt.Fprintf(w, "# TYPE ward_audit_archive_last_success_seconds gauge\nward_audit_archive_last_success_seconds %d\n",
			st.OK.Unix())
	}
}

// Run archives every interval, while this archiver holds the lease, until
// ctx ends; failures are logged and retried. It gives the lease up when it
// returns.
func (a *Archiver) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer a.Release()
	for {
		if active, _, err := a.Step(ctx); err != nil && ctx.Err() == nil {
			a.log.ErrorContext(ctx, "audit archive failed; retrying", "err", err, "active", active)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step takes the lease if it is free (or checks that this archiver still
// holds it) and, when it holds it, archives what is new. It reports whether
// this archiver is the active one and how many events it wrote. Step and
// Release are for one goroutine.
func (a *Archiver) Step(ctx context.Context) (active bool, wrote int64, err error) {
	if a.lease != nil {
		if _, err := a.lease.Exec(ctx, `select 1`); err != nil {
			a.drop(ctx)
		}
	}
	if a.lease == nil {
		c, err := a.db.Pool.Acquire(ctx)
		if err != nil {
			return false, 0, fmt.Errorf("audit: archiver lease: %w", err)
		}
		var got bool
		if err := c.QueryRow(ctx, `select pg_try_advisory_lock(`+archiverLease+`)`).Scan(&got); err != nil || !got {
			c.Release()
			a.setActive(false)
			if err != nil {
				return false, 0, fmt.Errorf("audit: archiver lease: %w", err)
			}
			return false, 0, nil
		}
		a.lease = c
		a.setActive(true)
		a.log.InfoContext(ctx, "audit archiver: this node is the active archiver")
	}
	wrote, err = a.Once(ctx)
	return true, wrote, err
}

// Release gives the lease up, so another archiver takes over at its next
// step.
func (a *Archiver) Release() {
	if a.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.lease.Exec(ctx, `select pg_advisory_unlock(`+archiverLease+`)`); err != nil {
		a.drop(ctx)
		return
	}
	a.lease.Release()
	a.lease = nil
	a.setActive(false)
}

// drop closes the lease's connection (its session ends, and the lock with
// it) rather than return a connection that may still hold it to the pool.
func (a *Archiver) drop(ctx context.Context) {
	conn := a.lease.Hijack()
	a.lease = nil
	a.setActive(false)
	_ = conn.Close(ctx)
}

func (a *Archiver) setActive(v bool) {
	a.mu.Lock()
	a.status.Active = v
	a.mu.Unlock()
}

// Once archives what is new and returns how many events it wrote, whether
// or not this archiver holds the lease.
func (a *Archiver) Once(ctx context.Context) (int64, error) {
	rows, err := a.db.Pool.Query(ctx, `select org_id, max(size) from audit.checkpoints group by org_id`)
	if err != nil {
		return 0, fmt.Errorf("audit: archive: %w", err)
	}
	type latest struct {
		org  uuid.UUID
		size int64
	}
	orgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (latest, error) {
		var l latest
		err := r.Scan(&l.org, &l.size)
		return l, err
	})
	if err != nil {
		return 0, fmt.Errorf("audit: archive: %w", err)
	}
	var wrote int64
	for _, o := range orgs {
		pos, err := a.archive.Archived(ctx, o.org)
		if err != nil {
			return wrote, fmt.Errorf("audit: archive org %s: %w", o.org, err)
		}
		done := pos.Seq
		for done < o.size {
			to := min(done+10000, o.size)
			evs, err := archivedEvents(ctx, a.db, o.org, done, to)
			if err != nil {
				return wrote, err
			}
			if int64(len(evs)) != to-done {
				return wrote, fmt.Errorf("audit: archive org %s: %d events in %d..%d", o.org, len(evs), done+1, to)
			}
			st, err := a.archive.PutSegment(ctx, o.org, evs)
			if err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: %w", o.org, err)
			}
			if err := a.stored(ctx, o.org, st); err != nil {
				return wrote, err
			}
			wrote += int64(len(evs))
			done = to
			// The cleanup role may remove only what is archived.
			if _, err := a.db.Pool.Exec(ctx, `select audit.record_archived($1, $2)`, o.org, done); err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: record position: %w", o.org, err)
			}
		}
		if pos.Checkpoint >= o.size {
			continue
		}
		cps, err := allCheckpoints(ctx, a.db.Pool, o.org)
		if err != nil {
			return wrote, err
		}
		for _, cp := range cps {
			if cp.Size <= pos.Checkpoint {
				continue
			}
			st, err := a.archive.PutCheckpoint(ctx, o.org, cp)
			if err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: %w", o.org, err)
			}
			if err := a.stored(ctx, o.org, st); err != nil {
				return wrote, err
			}
		}
	}
	a.mu.Lock()
	a.status.OK = time.Now()
	a.mu.Unlock()
	return wrote, nil
}

// stored records one object written, with the retention the archive read
// back, in the database (audit.archive_objects), the status and the log.
func (a *Archiver) stored(ctx context.Context, org uuid.UUID, st Stored) error {
	if st.Existed {
		return nil
	}
	var until *time.Time
	if !st.RetainUntil.IsZero() {
		until = &st.RetainUntil
	}
	if _, err := a.db.Pool.Exec(ctx, `select audit.record_archived_object($1, $2, $3, $4, $5)`,
		org, st.Name, st.VersionID, st.Mode, until); err != nil {
		return fmt.Errorf("audit: archive org %s: record object %s: %w", org, st.Name, err)
	}
	a.mu.Lock()
	a.status.Objects++
	a.status.Last, a.status.LastAt = st, time.Now()
	a.mu.Unlock()
	a.log.InfoContext(ctx, "audit archived", "org", org, "object", st)
	return nil
}

// archivedEvents reads org's events at positions from+1..to.
func archivedEvents(ctx context.Context, db *postgres.DB, org uuid.UUID, from, to int64) ([]ArchivedEvent, error) {
	rows, err := db.Pool.Query(ctx, `select seq, leaf_hash, canonical from audit.log
		where org_id = $1 and seq > $2 and seq <= $3 order by seq`, org, from, to)
	if err != nil {
		return nil, fmt.Errorf("audit: archive org %s: %w", org, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArchivedEvent, error) {
		var e ArchivedEvent
		var leaf, canon []byte
		err := r.Scan(&e.Seq, &leaf, &canon)
		copy(e.LeafHash[:], leaf)
		e.Canonical = canon
		return e, err
	})
}

// ArchivedCheckpoints opens every checkpoint of org in the archive under
// vkey. A note that does not verify is an error wrapping ErrBadCheckpoint:
// the archive was tampered with, or the key is wrong.
func ArchivedCheckpoints(ctx context.Context, a Archive, org uuid.UUID, vkey string) ([]Checkpoint, error) {
	notes, err := a.Checkpoints(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]Checkpoint, 0, len(notes))
	for _, n := range notes {
		cp, err := OpenCheckpoint(n, vkey)
		if err != nil {
			return nil, fmt.Errorf("archive of org %s: %w", org, err)
		}
		if cp.Origin != Origin(org) {
			return nil, fmt.Errorf("%w: archive of org %s holds a checkpoint of %s", ErrBadCheckpoint, org, cp.Origin)
		}
		out = append(out, cp)
	}
	return out, nil
}

// DatabaseCheckpoints opens every checkpoint of org stored in the database
// under vkey (a stored note that does not verify is an error wrapping
// ErrBadCheckpoint).
func DatabaseCheckpoints(ctx context.Context, q Querier, org uuid.UUID, vkey string) ([]Checkpoint, error) {
	cps, err := allCheckpoints(ctx, q, org)
	if err != nil {
		return nil, err
	}
	out := make([]Checkpoint, 0, len(cps))
	for _, c := range cps {
		cp, err := OpenCheckpoint(c.Note, vkey)
		if err != nil {
			return nil, fmt.Errorf("database checkpoint of org %s at size %d: %w", org, c.Size, err)
		}
		if cp.Origin != Origin(org) || cp.Size != c.Size || cp.Root != c.Root {
			return nil, fmt.Errorf("%w: database checkpoint of org %s at size %d does not match its note", ErrBadCheckpoint, org, c.Size)
		}
		out = append(out, cp)
	}
	return out, nil
}
