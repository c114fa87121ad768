package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00341, as ward_app: a version's SHA-256 is download-level
// information (docs/cases.md). Nobody reads the column itself; through
// app.version_sha256 it is given to those who may download the case (an
// admin, the attorney whose grant holds download) and to the version's
// uploader, and is null to a party who may only view (the employer), to
// one who may view and upload someone else's version (the clinic), and to
// another org's admin.
func TestVersionDigestDownloadLevel(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A := s.must("A")
	// a_clinic's own version of d.C1 (view and upload on C1, no download)
	own := rlsNew()
	if err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// as the operator restores it: the upload rules are not this test's
		if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into app.document_versions (org_id, id, case_id, document_id, version,
		    storage_key, data_key, size, sha256, content_type, filename_enc, uploaded_by)
		    values ($1, $2, $3, $4, 2, $5, '\x01', 1, $6, 'text/plain', '\x01', $7)`,
			A, own, s.must("C1"), s.must("d.C1"), "orgs/"+A+"/obj/"+rlsNew(), rlsRandom(32), s.must("a_clinic"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	read := func(actor, sql string, args ...any) (bool, error) {
		var shown bool
		err := env.App.InTenantTx(ctx, rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, sql, args...).Scan(&shown); err != nil {
				return err
			}
			return errRLSRollback
		})
		if errors.Is(err, errRLSRollback) {
			err = nil
		}
		return shown, err
	}
	for _, actor := range []string{"a_employer", "a_clinic", "a_admin"} {
		if _, err := read(actor, `select sha256 is not null from app.document_versions where id = $1`,
			s.must("v.d.C1")); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			t.Errorf("%s reads app.document_versions.sha256: want 42501, got %v", actor, err)
		}
	}
	for _, c := range []struct {
		actor, version string
		shown          bool
	}{
		{"a_admin", "v.d.C1", true},
		{"a_attorney", "v.d.C2", true},
		{"a_clinic", "own", true},
		{"a_clinic", "v.d.C1", false},
		{"a_employer", "v.d.C1", false},
		{"a_employer", "own", false},
		{"b_admin", "v.d.C1", false},
		{"a_admin", "v.d.C1.deleted", false},
	} {
		v := own
		if c.version != "own" {
			v = s.must(c.version)
		}
		shown, err := read(c.actor, `select app.version_sha256($1, $2) is not null`, A, v)
		if err != nil || shown != c.shown {
			t.Errorf("app.version_sha256 of %s for %s: shown %v (%v), want %v", c.version, c.actor, shown, err, c.shown)
		}
	}
}
