package audit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// A DirArchive is an Archive in a local directory: <Dir>/<org>/segments/
// and <Dir>/<org>/checkpoints/. Files are written once (never replaced) and
// made read-only. A directory is not WORM storage — whoever controls the
// machine can delete it — so it guards against a database restored from an
// older backup or rewritten by its administrators, not against the host's
// administrators; s3archive.Archive is the WORM archive.
type DirArchive struct {
	Dir string
}

var _ Archive = DirArchive{}

func (a DirArchive) orgDir(org uuid.UUID, kind string) string {
	return filepath.Join(a.Dir, org.String(), kind)
}

// writeOnce writes data to path unless it exists, read-only, and reports
// whether it existed.
func writeOnce(path string, data []byte) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o440); err != nil {
		return false, err
	}
	existed := false
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		existed = true
	} else if err != nil {
		os.Remove(tmp)
		return false, err
	}
	return existed, os.Remove(tmp)
}

// PutCheckpoint archives a signed checkpoint of org.
func (a DirArchive) PutCheckpoint(_ context.Context, org uuid.UUID, cp Checkpoint) (Stored, error) {
	path := filepath.Join(a.Dir, org.String(), CheckpointName(cp.Size))
	existed, err := writeOnce(path, []byte(cp.Note))
	return Stored{Name: path, Existed: existed}, err
}

// PutSegment archives events (consecutive positions) of org.
func (a DirArchive) PutSegment(_ context.Context, org uuid.UUID, events []ArchivedEvent) (Stored, error) {
	if len(events) == 0 {
		return Stored{Existed: true}, nil
	}
	data, err := EncodeSegment(events)
	if err != nil {
		return Stored{}, err
	}
	path := filepath.Join(a.Dir, org.String(), SegmentName(events[0].Seq, events[len(events)-1].Seq))
	existed, err := writeOnce(path, data)
	return Stored{Name: path, Existed: existed}, err
}

// Archived returns how far org's log is archived.
func (a DirArchive) Archived(_ context.Context, org uuid.UUID) (Position, error) {
	var pos Position
	segs, err := a.list(org, "segments", ".jsonl")
	if err != nil {
		return pos, err
	}
	if len(segs) > 0 {
		_, to, _ := strings.Cut(strings.TrimSuffix(segs[len(segs)-1], ".jsonl"), "-")
		if pos.Seq, err = strconv.ParseInt(to, 10, 64); err != nil {
			return pos, err
		}
	}
	cps, err := a.list(org, "checkpoints", ".note")
	if err != nil {
		return pos, err
	}
	if len(cps) > 0 {
		if pos.Checkpoint, err = strconv.ParseInt(strings.TrimSuffix(cps[len(cps)-1], ".note"), 10, 64); err != nil {
			return pos, err
		}
	}
	return pos, nil
}

// Checkpoints returns org's archived checkpoint notes, oldest first
// (unverified: open each with OpenCheckpoint).
func (a DirArchive) Checkpoints(_ context.Context, org uuid.UUID) ([]string, error) {
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
func (a DirArchive) Orgs(context.Context) ([]uuid.UUID, error) {
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
