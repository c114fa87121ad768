package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00340, as ward_app: a deleted document takes no new version
// and no comment, not even from an admin who may do both on its case; the
// live document of the same case takes both.
func TestDeletedDocumentTakesNothing(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A, C1, admin := s.must("A"), s.must("C1"), s.must("a_admin")
	for _, w := range []struct {
		what, sql string
		args      func(doc string) []any
	}{
		{"a version", `insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key,
		    size, sha256, content_type, filename_enc, uploaded_by)
		    values ($1, $2, $3, 2, $4, '\x01', 1, $5, 'text/plain', '\x01', $6)`,
			func(doc string) []any {
				return []any{A, C1, doc, "orgs/" + A + "/obj/" + rlsNew(), rlsRandom(32), admin}
			}},
		{"a comment", `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
		    values ($1, $2, $3, '\x01', $4)`,
			func(doc string) []any { return []any{A, C1, doc, admin} }},
	} {
		for _, doc := range []string{"d.C1", "d.C1.deleted"} {
			t.Run(w.what+"/"+doc, func(t *testing.T) {
				var opErr error
				err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
					_, opErr = tx.Exec(ctx, w.sql, w.args(s.must(doc))...)
					return errRLSRollback
				})
				if !errors.Is(err, errRLSRollback) {
					t.Fatalf("transaction: %v", err)
				}
				var pe *pgconn.PgError
				switch {
				case doc == "d.C1" && opErr != nil:
					t.Errorf("%s on the live document: %v", w.what, opErr)
				case doc == "d.C1.deleted" && (!errors.As(opErr, &pe) || pe.Code != postgres.CodeInsufficientPrivilege ||
					pe.Hint != "document_deleted"):
					t.Errorf("%s on the deleted document: want 42501 document_deleted, got %v", w.what, opErr)
				}
			})
		}
	}
}
