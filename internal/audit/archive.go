package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
)

// A DirArchive keeps the audit log outside the database, in a directory:
// per org, segments of integrated events (canonical JSON lines with seq and
// leaf hash, one file per range of positions) and every signed checkpoint.
// Files are written once (never replaced) and made read-only. A directory is
// not WORM storage — whoever controls the machine can delete it — so it
// guards against a database restored from an older backup or rewritten by
// its administrators, not against the host's administrators; an S3 bucket
// with Object Lock in COMPLIANCE mode is the WORM archive.
type DirArchive struct {
	Dir string
}

// ArchivedEvent is one line of a segment.
type ArchivedEvent struct {
	Seq       int64           `json:"seq"`
	LeafHash  Hash            `json:"leaf_hash"`
	Canonical json.RawMessage `json:"event"`
}

func (a DirArchive) orgDir(org uuid.UUID, kind string) string {
	return filepath.Join(a.Dir, org.String(), kind)
}

// writeOnce writes data to path unless it exists, read-only.
func writeOnce(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o440); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		os.Remove(tmp)
		return err
	}
	return os.Remove(tmp)
}

// PutCheckpoint archives a signed checkpoint of org.
func (a DirArchive) PutCheckpoint(org uuid.UUID, cp Checkpoint) error {
	name := fmt.Sprintf("%020d.note", cp.Size)
	return writeOnce(filepath.Join(a.orgDir(org, "checkpoints"), name), []byte(cp.Note))
}

// PutSegment archives events (consecutive positions) of org.
func (a DirArchive) PutSegment(org uuid.UUID, events []ArchivedEvent) error {
	if len(events) == 0 {
		return nil
	}
	var b strings.Builder
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	name := fmt.Sprintf("%020d-%020d.jsonl", events[0].Seq, events[len(events)-1].Seq)
	return writeOnce(filepath.Join(a.orgDir(org, "segments"), name), []byte(b.String()))
}

// Archived returns the last position of org archived in segments (0 when
// none).
func (a DirArchive) Archived(org uuid.UUID) (int64, error) {
	names, err := a.list(org, "segments", ".jsonl")
	if err != nil || len(names) == 0 {
		return 0, err
	}
	last := names[len(names)-1]
	_, to, _ := strings.Cut(strings.TrimSuffix(last, ".jsonl"), "-")
	return strconv.ParseInt(to, 10, 64)
}

// Checkpoints returns org's archived checkpoint notes, oldest first
// (unverified: open each with OpenCheckpoint).
func (a DirArchive) Checkpoints(org uuid.UUID) ([]string, error) {
	names, err := a.list(org, "checkpoints", ".note")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(a.orgDir(org, "checkpoints"), n))
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// Orgs lists the orgs the archive holds.
func (a DirArchive) Orgs() ([]uuid.UUID, error) {
	entries, err := os.ReadDir(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, e := range entries {
		if id, err := uuid.Parse(e.Name()); err == nil && e.IsDir() {
			out = append(out, id)
		}
	}
	return out, nil
}

func (a DirArchive) list(org uuid.UUID, kind, suffix string) ([]string, error) {
	entries, err := os.ReadDir(a.orgDir(org, kind))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Archiver copies every org's integrated events and signed checkpoints to
// the archive: segments up to each org's newest checkpoint, then the
// checkpoint. db must read every org's log (ward_audit_reader or a
// superuser). Any number may run; writes are once-only and idempotent.
type Archiver struct {
	db      *postgres.DB
	archive DirArchive
	log     *slog.Logger
}

// NewArchiver returns an Archiver.
func NewArchiver(db *postgres.DB, archive DirArchive, log *slog.Logger) *Archiver {
	return &Archiver{db: db, archive: archive, log: log}
}

// Run archives every interval until ctx ends; failures are logged and
// retried.
func (a *Archiver) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.Once(ctx); err != nil && ctx.Err() == nil {
			a.log.ErrorContext(ctx, "audit archive failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once archives what is new and returns how many events it wrote.
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
		done, err := a.archive.Archived(o.org)
		if err != nil {
			return wrote, err
		}
		for done < o.size {
			to := min(done+10000, o.size)
			evs, err := archivedEvents(ctx, a.db, o.org, done, to)
			if err != nil {
				return wrote, err
			}
			if int64(len(evs)) != to-done {
				return wrote, fmt.Errorf("audit: archive org %s: %d events in %d..%d", o.org, len(evs), done+1, to)
			}
			if err := a.archive.PutSegment(o.org, evs); err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: %w", o.org, err)
			}
			wrote += int64(len(evs))
			done = to
			// The cleanup role may remove only what is archived.
			if _, err := a.db.Pool.Exec(ctx, `select audit.record_archived($1, $2)`, o.org, done); err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: record position: %w", o.org, err)
			}
		}
		cps, err := allCheckpoints(ctx, a.db.Pool, o.org)
		if err != nil {
			return wrote, err
		}
		for _, cp := range cps {
			if err := a.archive.PutCheckpoint(o.org, cp); err != nil {
				return wrote, fmt.Errorf("audit: archive org %s: %w", o.org, err)
			}
		}
	}
	return wrote, nil
}

// archivedEvents reads org's events at positions from+1..to.
func archivedEvents(ctx context.Context, db *postgres.DB, org uuid.UUID, from, to int64) ([]ArchivedEvent, error) {
	rows, err := db.Pool.Query(ctx, `select seq, leaf_hash, canonical from audit.events
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
func ArchivedCheckpoints(a DirArchive, org uuid.UUID, vkey string) ([]Checkpoint, error) {
	notes, err := a.Checkpoints(org)
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
