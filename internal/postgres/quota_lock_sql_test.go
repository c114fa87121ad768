package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00182's per-org lock, as ward_app: two versions inserted at
// once, to two documents (so that the per-document lock of 00181 does not
// order them), when the org's quota has room for one. The second waits for
// the first to commit and is refused (54000 storage_quota); without the
// lock it would count the versions before the first's commit and pass,
// and the org would hold more than its quota. For the version quota and
// the byte quota in turn.
func TestStorageQuotaLock(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A := s.must("A")
	lead := rlsActorNamed(s, "a_lead")
	const size = 1000
	insert := func(ctx context.Context, tx pgx.Tx, kase, doc string) error {
		_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, case_id, document_id, version, storage_key,
		    data_key, size, sha256, content_type, filename_enc, uploaded_by)
		  select $1::uuid, $2, $3::uuid, coalesce(max(v.version), 0) + 1, 'orgs/' || $1::uuid || '/obj/' || gen_random_uuid(),
		         $4, $5, $6, 'application/pdf', $7, $8
		    from app.document_versions v where v.org_id = $1::uuid and v.document_id = $3::uuid`,
			A, kase, doc, rlsRandom(60), size, rlsRandom(32), rlsRandom(20), s.must("a_lead"))
		return err
	}
	used := func() (versions, bytes int64) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select count(*), coalesce(sum(size), 0) from app.document_versions
		    where org_id = $1 and data_key is not null`, A).Scan(&versions, &bytes); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, quota := range []string{"versions", "bytes"} {
		t.Run(quota, func(t *testing.T) {
			v, b := used()
			// room for exactly one more version of size bytes
			q := `update app.orgs set document_quota_versions = $2, document_quota_bytes = 1125899906842624 where id = $1`
			args := []any{A, v + 1}
			if quota == "bytes" {
				q = `update app.orgs set document_quota_versions = 100000000, document_quota_bytes = $2 where id = $1`
				args = []any{A, b + size + size/2}
			}
			if _, err := env.Super.Pool.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}

			// The first insert, not committed yet.
			inserted, release, first := make(chan error, 1), make(chan struct{}), make(chan error, 1)
			go func() {
				first <- env.App.InTenantTx(ctx, lead.cred, func(ctx context.Context, tx pgx.Tx) error {
					err := insert(ctx, tx, s.must("C1"), s.must("d.C1"))
					inserted <- err
					if err == nil {
						<-release
					}
					return err
				})
			}()
			if err := <-inserted; err != nil {
				t.Fatalf("the first insert: %v", err)
			}
			// The second, meanwhile: it must wait for the first.
			second := make(chan error, 1)
			go func() {
				second <- env.App.InTenantTx(ctx, lead.cred, func(ctx context.Context, tx pgx.Tx) error {
					return insert(ctx, tx, s.must("C2"), s.must("d.C2"))
				})
			}()
			var early error
			waited, ended := false, false
			for i := 0; i < 200 && !waited && !ended; i++ {
				select {
				case early = <-second:
					ended = true
				default:
					var n int
					if err := env.Super.Pool.QueryRow(ctx, `select count(*) from pg_locks
					    where locktype = 'advisory' and not granted`).Scan(&n); err != nil {
						t.Fatal(err)
					}
					waited = n > 0
					if !waited {
						time.Sleep(50 * time.Millisecond)
					}
				}
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("the first insert's commit: %v", err)
			}
			if !waited {
				t.Errorf("the second insert did not wait for the first to commit (ended: %v, with %v)", ended, early)
			}
			if !ended {
				early = <-second
			}
			var pe *pgconn.PgError
			if !errors.As(early, &pe) || pe.Code != "54000" || pe.Hint != "storage_quota" {
				t.Errorf("the second insert, with room for one: want 54000 storage_quota, got %v", early)
			}
			if nv, nb := used(); nv != v+1 || nb != b+size {
				t.Errorf("the org holds %d versions, %d bytes; its quota allowed %d, %d", nv, nb, v+1, b+size)
			}
		})
	}
}
