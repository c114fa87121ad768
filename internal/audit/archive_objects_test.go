package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// reportedRetention is a directory archive that reports each object under
// COMPLIANCE retention until a fixed date, as the S3 archive does with
// what it reads back after the write (s3archive's tests check that read
// against the server).
type reportedRetention struct {
	audit.DirArchive
	until time.Time
}

func (r reportedRetention) PutSegment(ctx context.Context, org uuid.UUID, evs []audit.ArchivedEvent) (audit.Stored, error) {
	st, err := r.DirArchive.PutSegment(ctx, org, evs)
	st.VersionID, st.Mode, st.RetainUntil = "v-"+st.Name, "COMPLIANCE", r.until
	return st, err
}

func (r reportedRetention) PutCheckpoint(ctx context.Context, org uuid.UUID, cp audit.Checkpoint) (audit.Stored, error) {
	st, err := r.DirArchive.PutCheckpoint(ctx, org, cp)
	st.VersionID, st.Mode, st.RetainUntil = "v-"+st.Name, "COMPLIANCE", r.until
	return st, err
}

// The archiver records every object it writes, with the retention read
// back, in audit.archive_objects: mode and date for WORM storage, neither
// for a local directory; an object already archived is not recorded twice.
func TestArchiverRecordsRetention(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	type row struct {
		name, version, mode string
		until               *time.Time
	}
	objects := func(org uuid.UUID) []row {
		t.Helper()
		rows, err := env.Super.Pool.Query(ctx, `select name, version_id, coalesce(mode, ''), retain_until
			from audit.archive_objects where org_id = $1 order by name`, org)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.name, &r.version, &r.mode, &r.until); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}

	skey, _, err := note.GenerateKey(rand.Reader, "ward-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	// The archiver copies out what a signed checkpoint covers.
	checkpoint := func(org uuid.UUID, size int64) {
		t.Helper()
		var root []byte
		if err := env.Super.Pool.QueryRow(ctx, `select root_hash from audit.heads where org_id = $1`, org).Scan(&root); err != nil {
			t.Fatal(err)
		}
		var r audit.Hash
		copy(r[:], root)
		cp, err := audit.SignCheckpoint(signer, audit.Origin(org), size, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Super.Pool.Exec(ctx, `select audit.record_checkpoint($1, $2)`, org, cp.Note); err != nil {
			t.Fatal(err)
		}
	}

	worm := uuid.New()
	fill(t, env.Super, worm, 5)
	checkpoint(worm, 5)
	until := time.Date(2033, 11, 29, 10, 0, 0, 0, time.UTC)
	a := audit.NewArchiver(env.Super, reportedRetention{audit.DirArchive{Dir: t.TempDir()}, until}, log)
	t.Cleanup(a.Release)
	if _, _, err := a.Step(ctx); err != nil {
		t.Fatal(err)
	}
	got := objects(worm)
	if len(got) != 2 {
		t.Fatalf("recorded %d objects of the WORM org, want its segment and checkpoint: %+v", len(got), got)
	}
	for _, r := range got {
		if r.mode != "COMPLIANCE" || r.until == nil || !r.until.Equal(until) || r.version != "v-"+r.name {
			t.Errorf("recorded %+v, want COMPLIANCE until %s, version v-%s", r, until, r.name)
		}
	}
	if _, _, err := a.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(objects(worm)); n != 2 {
		t.Errorf("after a second pass: %d objects recorded, want 2", n)
	}

	plain := uuid.New()
	fill(t, env.Super, plain, 3)
	checkpoint(plain, 3)
	d := audit.NewArchiver(env.Super, audit.DirArchive{Dir: t.TempDir()}, log)
	a.Release()
	t.Cleanup(d.Release)
	if _, _, err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	got = objects(plain)
	if len(got) != 2 || got[0].mode != "" || got[0].until != nil || got[1].mode != "" || got[1].until != nil {
		t.Errorf("directory archive: recorded %+v, want two objects with no retention", got)
	}

	// ward_app neither reads nor writes the table, nor records an object
	// (the archiver runs as the superuser or a ward_audit_reader login).
	for _, q := range []string{`select count(*) from audit.archive_objects`,
		`insert into audit.archive_objects (org_id, name) values (gen_random_uuid(), 'x')`,
		`select audit.record_archived_object(gen_random_uuid(), 'x', '', 'COMPLIANCE', now() + interval '9 years')`} {
		if _, err := env.App.Pool.Exec(ctx, q); err == nil {
			t.Errorf("ward_app: %s succeeded", q)
		}
	}
}
