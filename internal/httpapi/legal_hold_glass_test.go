package httpapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Break-glass places and releases no legal hold, and the database says so
// on its own (migration 00217): the hold routes need a step-up, which an
// emergency session never passes, so only SQL bound to such a session
// reaches the trigger. Under a break-glass session of an admin, a hold is
// neither placed nor released; the same statements under the admin's
// ordinary session go through.
func TestLegalHoldBreakGlassRefusedByDatabase(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Hold Glass")
	ctx := context.Background()
	var held string
	if err := w.env.Super.Pool.QueryRow(ctx, `insert into app.legal_holds (org_id, reason, created_by) values ($1, 'litigation', $2)
	    returning id::text`, o.ID, o.Admin.ID).Scan(&held); err != nil {
		t.Fatal(err)
	}
	glass := w.operatorSignIn(o.Admin.Email, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set break_glass = true, amr = '{passkey}', idle_timeout_min = 60,
	    absolute_expires_at = least(absolute_expires_at, created_at + interval '60 minutes'), authenticated_at = now()
	    where token_hash = sha256($1::bytea)`, []byte(glass)); err != nil {
		t.Fatal(err)
	}
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"place", `insert into app.legal_holds (org_id, reason_enc, created_by) values ($1, '\x676c617373', $2)`, []any{o.ID, o.Admin.ID}},
		{"release", `update app.legal_holds set released_at = now(), released_by = $2, release_note_enc = '\x646f6e65' where id = $1::uuid`,
			[]any{held, o.Admin.ID}},
	}
	run := func(token, sql string, args []any) (int64, error) {
		var n int64
		err := w.env.App.InTenantTx(ctx, w.cred(token), func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	for _, s := range stmts {
		n, err := run(glass, s.sql, s.args)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Hint != "break_glass_not_allowed" {
			t.Errorf("%s from break-glass: %d rows, %v; want 42501 break_glass_not_allowed", s.what, n, err)
		}
	}
	var holds, live int
	if err := w.env.Super.Pool.QueryRow(ctx, `select count(*), count(*) filter (where released_at is null) from app.legal_holds
	    where org_id = $1`, o.ID).Scan(&holds, &live); err != nil || holds != 1 || live != 1 {
		t.Fatalf("after break-glass's statements the org holds %d holds, %d live (%v); want 1 and 1", holds, live, err)
	}
	for _, s := range stmts {
		if n, err := run(o.Admin.Token, s.sql, s.args); err != nil || n != 1 {
			t.Errorf("%s from the admin's session: %d rows, %v", s.what, n, err)
		}
	}
}
