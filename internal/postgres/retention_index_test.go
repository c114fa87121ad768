package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The retention purge and its dry run find an org's documents past
// retention through an index, not by reading all of the org's documents
// (migration 00248). On a populated table (40,000 documents in 20 orgs,
// half of them in the org with the policy, a few dozen past retention),
// auto_explain reports the plans the database ran: the purge's scan inside
// app.purge_expired_documents (as ward_ops) and the dry run's query (as an
// admin's session, under row security) each use documents_retention_idx
// and never scan app.documents sequentially.
func TestRetentionScanIndexed(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	super := superExec(t, env)
	org := "00000000-0000-0000-0000-000000000001"
	admin := uuid.NewString()

	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []string{
			`set local session_replication_role = replica`,
			`insert into app.orgs (id, name, device_binding_required_for)
			 select ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'Org ' || g, '{}' from generate_series(1, 20) g`,
			`insert into app.cases (org_id, id, title_enc, created_by)
			 select ('00000000-0000-0000-0000-' || lpad((1 + g % 20)::text, 12, '0'))::uuid, gen_random_uuid(), '\x00', gen_random_uuid()
			   from generate_series(1, 4000) g`,
			// Half the documents in org 1, ten types, created over three
			// years.
			`insert into app.documents (org_id, id, case_id, doc_type, created_by, created_at)
			 select c.org_id, gen_random_uuid(), c.id, 'type_' || (g % 10), gen_random_uuid(), now() - make_interval(days => g % 1095)
			   from generate_series(1, 40000) g
			   cross join lateral (select k.org_id, k.id from app.cases k
			                        where k.org_id = ('00000000-0000-0000-0000-' ||
			                                          lpad((case when g % 2 = 0 then 1 else 1 + g % 20 end)::text, 12, '0'))::uuid
			                        offset g % 100 limit 1) c`,
			`insert into app.document_versions (org_id, id, case_id, document_id, version, storage_key, data_key, size, sha256,
			   content_type, filename_enc, uploaded_by, created_at)
			 select d.org_id, gen_random_uuid(), d.case_id, d.id, 1, 'orgs/' || d.org_id || '/obj/' || gen_random_uuid(), '\x00', 1,
			   sha256('x'), 'application/pdf', '\x00', gen_random_uuid(), d.created_at from app.documents d`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("populate: %v", err)
	}
	super(`insert into app.users (id, email_bidx, email_enc) values ($1, sha256('retention-index-admin'), '\x00')`, admin)
	super(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'admin')`, org, admin)
	super(`insert into app.document_retention (org_id, doc_type, retain_days, updated_by) values
	         ($1, 'type_4', 1080, $2), ($1, 'type_6', 1090, $2)`, org, admin)
	super(`analyze`)

	// Every new connection of this database explains what it runs, nested
	// statements included, in notices to its client.
	db := pgx.Identifier{env.Name}.Sanitize()
	for _, s := range []string{`session_preload_libraries = 'auto_explain'`, `auto_explain.log_min_duration = 0`,
		`auto_explain.log_nested_statements = on`, `auto_explain.log_level = notice`} {
		super(`alter database ` + db + ` set ` + s)
	}
	var mu sync.Mutex
	var plans []string
	notices := postgres.Option(func(c *pgxpool.Config) {
		c.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			mu.Lock()
			plans = append(plans, n.Message)
			mu.Unlock()
		}
	})
	scans := func(what string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		found := 0
		for _, p := range plans {
			if !strings.Contains(p, "app.documents x") || !strings.Contains(p, "document_retention") && !strings.Contains(p, "t.doc_type") {
				continue
			}
			found++
			if !strings.Contains(p, "documents_retention_idx") || strings.Contains(p, "Seq Scan on documents") {
				t.Errorf("%s: the scan of app.documents does not use documents_retention_idx:\n%s", what, p)
			}
		}
		if found == 0 {
			t.Errorf("%s: no plan of the scan among %d explained", what, len(plans))
		}
		plans = nil
	}

	app, err := postgres.Open(ctx, env.URL("ward_app"), notices)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	sum := sha256.Sum256([]byte("retention-index-session"))
	super(`insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, assurance, amr,
	         authenticated_at) values ($1, $2, $3, 60, now() + interval '50 minutes', 2, '{email,totp}', now())`, org, admin, sum[:])
	var due int32
	err = app.InTenantTx(ctx, postgres.Credential{Hash: hex.EncodeToString(sum[:])}, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := dbsqlc.New(tx).PreviewDocumentPurge(ctx, dbsqlc.PreviewDocumentPurgeParams{OrgID: uuid.MustParse(org), MaxIds: 100})
		for _, r := range rows {
			due += r.Purge
		}
		return err
	})
	if err != nil || due == 0 {
		t.Fatalf("preview: %d to purge, %v", due, err)
	}
	scans("the dry run")

	ops, err := postgres.OpenAs(ctx, env.SuperURL(), "ward_ops", notices)
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	var purged int
	err = ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := dbsqlc.New(tx).PurgeExpiredDocuments(ctx, 100)
		purged = len(rows)
		return err
	})
	if err != nil || purged == 0 {
		t.Fatalf("purge: %d documents, %v", purged, err)
	}
	scans("the purge")
}
