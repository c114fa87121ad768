package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00185, as ward_app with the credentials the server binds: a
// closed case is read-only for everyone. The changes the RLS matrix does
// not cover (its closed-case pass tries the inserts): an acceptance, a
// grant extended or restored, a new title; what stays possible (reading,
// revoking a grant or an invitation, the expiry job); all of it again once
// the case is reopened; and a close and a write never cross.
func TestClosedCaseReadOnly(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	exec := func(actor, q string, args ...any) (int64, error) {
		var n int64
		err := env.App.InTenantTx(ctx, rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, q, args...)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
	closedRefusal := func(what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege || pe.Hint != "case_closed" {
			t.Errorf("%s on a closed case: want 42501 case_closed, got %v", what, err)
		}
	}
	C1, doc := s.must("C1"), s.must("d.C1")
	status := func(kase, st string) {
		t.Helper()
		if n, err := exec("a_lead", `update app.cases set status = $2, closed_at = case when $2 = 'closed' then now() end,
		    updated_at = now() where id = $1`, kase, st); err != nil || n != 1 {
			t.Fatalf("%s %s: %d rows, %v", st, s.readable(kase), n, err)
		}
	}
	writes := []struct{ what, actor, sql string }{
		{"an acceptance", "a_lead", `update app.documents set provided_at = now(), accepted_at = now(),
		    accepted_by = (select private.uid()), accepted_version = 1 where id = $1`},
		{"a grant extended", "a_lead", `update app.case_members set access_expires_at = now() + interval '1 year'
		    where case_id = (select case_id from app.documents where id = $1) and user_id = '` + s.must("a_employer") + `'`},
		{"a grant restored", "a_lead", `update app.case_members set revoked_at = null
		    where case_id = (select case_id from app.documents where id = $1) and user_id = '` + s.must("a_payer_revoked") + `'`},
		{"a new title", "a_lead", `update app.cases set title_enc = '\x01', updated_at = now()
		    where id = (select case_id from app.documents where id = $1)`},
		{"a new reference", "a_lead", `update app.cases set reference_enc = '\x01', reference_bidx = decode(repeat('02', 32), 'hex')
		    where id = (select case_id from app.documents where id = $1)`},
	}

	status(C1, "closed")
	for _, w := range writes {
		_, err := exec(w.actor, w.sql, doc)
		closedRefusal(w.what, err)
	}
	// Reading it, revoking a grant or an invitation and the expiry job's
	// bookkeeping (a_payer_expired's grant on C1 ended) still work.
	var docs int
	if err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_clinic").cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select count(*) from app.documents where case_id = $1`, C1).Scan(&docs)
	}); err != nil || docs != 1 {
		t.Errorf("a member reads %d documents of the closed case (%v)", docs, err)
	}
	if n, err := exec("a_lead", `update app.case_members set revoked_at = now(), updated_at = now()
	    where case_id = $1 and user_id = $2`, C1, s.must("a_clinic")); err != nil || n != 1 {
		t.Errorf("revoking a grant on a closed case: %d rows, %v", n, err)
	}
	if n, err := exec("a_lead", `update app.case_invites set revoked_at = now() where id = $1`, s.must("inv.C1")); err != nil || n != 1 {
		t.Errorf("revoking an invitation of a closed case: %d rows, %v", n, err)
	}
	var expired int
	if err := env.Super.Pool.QueryRow(ctx, `select app.record_access_expiries(500)`).Scan(&expired); err != nil || expired < 1 {
		t.Errorf("expiry events on a closed case: %d (%v)", expired, err)
	}

	// Reopened, each write works again; closing it and changing its title
	// in the same statement is a change made while it was open, and so is
	// reopening it with a new title.
	status(C1, "open")
	for _, w := range writes {
		if n, err := exec(w.actor, w.sql, doc); err != nil || n != 1 {
			t.Errorf("%s on the reopened case: %d rows, %v", w.what, n, err)
		}
	}
	for _, st := range []string{"closed", "open"} {
		if n, err := exec("a_lead", `update app.cases set status = $2, closed_at = case when $2 = 'closed' then now() end,
		    title_enc = '\x03' where id = $1`, C1, st); err != nil || n != 1 {
			t.Errorf("%s with a new title: %d rows, %v", st, n, err)
		}
	}

	// A close waits for the case's writes in flight: a_attorney's comment
	// on C2 holds it off until it commits.
	C2, C3 := s.must("C2"), s.must("C3")
	comment := `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
	            values ($1, $2, $3, '\x00', $4)`
	release, held := make(chan struct{}), make(chan error, 1)
	done := sync.OnceFunc(func() { close(release) })
	defer done() // a failure below must not leave the transaction waiting
	go func() {
		held <- env.App.InTenantTx(ctx, rlsActorNamed(s, "a_attorney").cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, comment, s.must("A"), C2, s.must("d.C2"), s.must("a_attorney"))
			if err == nil {
				<-release
			}
			return err
		})
	}()
	waitFor(t, env, "the comment's shared lock", `select count(*) from pg_locks where locktype = 'advisory' and granted
	    and mode = 'ShareLock'`)
	_, err := exec("a_lead", `set local lock_timeout = '200ms';
	    update app.cases set status = 'closed', closed_at = now() where id = '`+C2+`'`)
	if !postgres.IsCode(err, "55P03") {
		t.Errorf("a close during a write in flight: want it to wait (55P03 here), got %v", err)
	}
	done()
	if err := <-held; err != nil {
		t.Fatalf("the comment in flight: %v", err)
	}
	status(C2, "closed")

	// A write waits for a close in flight and is refused once it commits
	// (without the lock it would read the case as open and pass).
	release, closing := make(chan struct{}), make(chan error, 1)
	done = sync.OnceFunc(func() { close(release) })
	defer done()
	go func() {
		closing <- env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `update app.cases set status = 'closed', closed_at = now() where id = $1`, C3)
			if err == nil {
				<-release
			}
			return err
		})
	}()
	waitFor(t, env, "the close's lock", `select count(*) from pg_locks where locktype = 'advisory' and granted
	    and mode = 'ExclusiveLock'`)
	wrote := make(chan error, 1)
	go func() {
		_, err := exec("a_prov0", comment, s.must("A"), C3, s.must("d.C3"), s.must("a_prov0"))
		wrote <- err
	}()
	waitFor(t, env, "the comment to wait", `select count(*) from pg_locks where locktype = 'advisory' and not granted`)
	done()
	if err := <-closing; err != nil {
		t.Fatalf("the close: %v", err)
	}
	closedRefusal("a comment that waited for the close", <-wrote)
}

// waitFor polls count (as the superuser) until it is positive, for up to
// ten seconds.
func waitFor(t *testing.T, env *pgtest.Env, what, count string) {
	t.Helper()
	for range 200 {
		var n int
		if err := env.Super.Pool.QueryRow(context.Background(), count).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited in vain for %s", what)
}
