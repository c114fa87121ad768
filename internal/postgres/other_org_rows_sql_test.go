package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// otherOrgRowTables are the tables whose first BEFORE INSERT trigger is
// bound_org (migration 00339).
var otherOrgRowTables = []string{"app.case_invites", "app.case_members", "app.document_comments",
	"app.document_versions", "app.documents", "app.dsr_requests", "app.legal_holds"}

// otherOrgError runs sql as actor (with lock_timeout 300 ms), rolled back,
// and returns its error as the database gave it.
func otherOrgError(t *testing.T, env *pgtest.Env, s *rlsSeed, actor, sql string, args ...any) *pgconn.PgError {
	t.Helper()
	var opErr error
	err := env.App.InTenantTx(context.Background(), rlsActorNamed(s, actor).cred, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `set local lock_timeout = '300ms'`); err != nil {
			return err
		}
		_, opErr = tx.Exec(ctx, sql, args...)
		return errRLSRollback
	})
	if !errors.Is(err, errRLSRollback) {
		t.Fatalf("transaction: %v", err)
	}
	var pe *pgconn.PgError
	if !errors.As(opErr, &pe) {
		t.Fatalf("%s: want an error of the database, got %v", actor, opErr)
	}
	return pe
}

func describePgError(pe *pgconn.PgError) string {
	return fmt.Sprintf("%s %q hint %q detail %q", pe.Code, pe.Message, pe.Hint, pe.Detail)
}

// Migration 00339, as ward_app: a row naming another org is refused with
// its policy's error whatever that org's state, before any trigger reads
// the org or waits for its locks. Org A is put in the states the triggers
// after bound_org tell apart (a closed case, an accepted document, a
// document full of comments, a member at the hourly invitation limit, a
// storage quota a big version exceeds), and each insert a caller of B (and
// an unbound one) makes naming the state is refused exactly as the same
// insert naming a neutral row of A. Then, with A's locks held, the same
// inserts are refused without waiting. A's own members are still told
// (case_closed).
func TestOtherOrgRowsRefusedFirst(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A := s.must("A")
	C1, C2, C3 := s.must("C1"), s.must("C2"), s.must("C3")
	dC2, dC3 := s.must("d.C2"), s.must("d.C3")
	aAdmin, aLead := s.must("a_admin"), s.must("a_lead")

	// The states, written as the operator; C1 closed, d.C3 accepted,
	// d.C2 with 1,000 comments, a_lead with 50 invitations this hour.
	if _, err := env.Super.Pool.Exec(ctx, `
		update app.cases set status = 'closed', closed_at = now() where id = '`+C1+`';
		set session_replication_role = replica;
		update app.documents set provided_at = now(), accepted_at = now(), accepted_by = '`+aAdmin+`',
		       accepted_version = 1 where id = '`+dC3+`';
		insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id)
		select '`+A+`', '`+C2+`', '`+dC2+`', '\x01', '`+aAdmin+`' from generate_series(1, 1000);
		insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind,
		       permissions, access_expires_at, expires_at, created_by)
		select '`+A+`', '`+C2+`', sha256(('bidx' || g)::bytea), '\x01', gen_random_uuid(), sha256(('tok' || g)::bytea),
		       'attorney', '{view}', now() + interval '1 day', now() + interval '1 day', '`+aLead+`'
		  from generate_series(1, 50) g;
		set session_replication_role = origin`); err != nil {
		t.Fatal(err)
	}

	const (
		document = `insert into app.documents (org_id, case_id, doc_type, created_by) values ($1, $2, 'wage_statement', $3)`
		version  = `insert into app.document_versions (org_id, case_id, document_id, version, storage_key, data_key, size,
		              sha256, content_type, filename_enc, uploaded_by)
		            values ($1, $2, $3, 2, $7, '\x01', $4, $5, 'text/plain', '\x01', $6)`
		comment = `insert into app.document_comments (org_id, case_id, document_id, body_enc, author_id) values ($1, $2, $3, '\x01', $4)`
		invite  = `insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind,
		             permissions, access_expires_at, expires_at, created_by)
		           values ($1, $2, $3, '\x01', gen_random_uuid(), $4, 'employer', '{view}', now() + interval '1 day',
		                   now() + interval '1 day', $5)`
		grant = `insert into app.case_members (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by)
		           values ($1, $2, $3, 'payer', '{view}', now() + interval '1 day', $4)`
		access = `insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at) values ($1, 'access', $2, $3, now())`
		hold   = `insert into app.legal_holds (org_id, case_id, reason_enc, created_by) values ($1, $2, '\x01', $3)`
	)
	sum := rlsRandom(32)
	key := func() string { return "orgs/" + A + "/obj/" + rlsNew() }
	pairs := []struct {
		what           string
		sql            string
		state, neutral func(by string) []any
	}{
		{"a document on a closed case", document,
			func(by string) []any { return []any{A, C1, by} }, func(by string) []any { return []any{A, C2, by} }},
		{"a comment on a closed case", comment,
			func(by string) []any { return []any{A, C1, s.must("d.C1"), by} }, func(by string) []any { return []any{A, C3, dC3, by} }},
		{"a grant on a closed case", grant,
			func(by string) []any { return []any{A, C1, s.must("a_prov0"), by} }, func(by string) []any { return []any{A, C3, s.must("a_prov1"), by} }},
		{"an invitation to a closed case", invite,
			func(by string) []any { return []any{A, C1, rlsRandom(32), rlsRandom(32), s.must("a_prov0")} },
			func(by string) []any { return []any{A, C3, rlsRandom(32), rlsRandom(32), s.must("a_prov0")} }},
		{"an invitation of a member at the hourly limit", invite,
			func(by string) []any { return []any{A, C2, rlsRandom(32), rlsRandom(32), aLead} },
			func(by string) []any { return []any{A, C2, rlsRandom(32), rlsRandom(32), s.must("a_prov0")} }},
		{"a version of an accepted document", version,
			func(by string) []any { return []any{A, C3, dC3, int64(1), sum, by, key()} },
			func(by string) []any { return []any{A, C2, dC2, int64(1), sum, by, key()} }},
		{"a version beyond the org's quota", version,
			func(by string) []any { return []any{A, C2, dC2, int64(1) << 60, sum, aAdmin, key()} },
			func(by string) []any { return []any{A, C2, dC2, int64(1), sum, aAdmin, key()} }},
		{"a comment on a document with 1,000", comment,
			func(by string) []any { return []any{A, C2, dC2, by} }, func(by string) []any { return []any{A, C3, dC3, by} }},
	}
	for _, actor := range []string{"b_admin", "anonymous"} {
		for _, p := range pairs {
			t.Run(actor+"/"+p.what, func(t *testing.T) {
				by := rlsActorNamed(s, actor).user
				got := otherOrgError(t, env, s, actor, p.sql, p.state(by)...)
				want := otherOrgError(t, env, s, actor, p.sql, p.neutral(by)...)
				if got.Code != postgres.CodeInsufficientPrivilege || describePgError(got) != describePgError(want) {
					t.Errorf("refused as %s; the same insert naming a neutral row: %s", describePgError(got), describePgError(want))
				}
			})
		}
	}

	// A's locks, held by one of A's writers in flight: a row of A from
	// another org's caller does not wait for them (it waited 300 ms here,
	// then failed with 55P03, holding A's writers up in turn).
	release, held := make(chan struct{}), make(chan error, 1)
	locked := make(chan struct{})
	done := sync.OnceFunc(func() { close(release) })
	defer done() // a failure below must not leave the locks held
	go func() {
		held <- env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest($1::text[]) k`,
				[]string{"ward.case_status." + C2, "ward.case_invites." + A + "." + aLead, "ward.documents." + A + "." + dC2,
					"ward.document_quota." + A, "ward.document_comments." + dC2,
					"ward.dsr_open." + A + "." + s.must("a_pat1") + ".access"}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `select private.legal_hold_lock($1)`, A); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-held:
		t.Fatalf("holding A's locks: %v", err)
	}
	for _, w := range []struct {
		what, actor, sql string
		args             []any
	}{
		{"a document", "b_admin", document, []any{A, C2, s.must("b_admin")}},
		{"a version", "b_admin", version, []any{A, C2, dC2, int64(1), sum, aAdmin, key()}},
		{"a comment", "b_admin", comment, []any{A, C2, dC2, s.must("b_admin")}},
		{"an invitation", "b_admin", invite, []any{A, C2, rlsRandom(32), rlsRandom(32), aLead}},
		{"a grant", "b_admin", grant, []any{A, C2, s.must("a_prov0"), s.must("b_admin")}},
		// a patient's request takes the requester's lock (an admin's does not)
		{"an access request", "b_pat1_aal1", access, []any{A, s.must("P1"), s.must("a_pat1")}},
		{"a legal hold", "b_admin", hold, []any{A, C2, s.must("b_admin")}},
	} {
		t.Run("locked/"+w.what, func(t *testing.T) {
			got := otherOrgError(t, env, s, w.actor, w.sql, w.args...)
			if got.Code != postgres.CodeInsufficientPrivilege {
				t.Errorf("%s of org A by %s while A's writers hold their locks: %s", w.what, w.actor, describePgError(got))
			}
		})
	}
	done()
	if err := <-held; err != nil {
		t.Fatal(err)
	}

	// The org's own member is told the case is closed, as before.
	if got := otherOrgError(t, env, s, "a_admin", comment, A, C1, s.must("d.C1"), aAdmin); got.Hint != "case_closed" {
		t.Errorf("a comment of a_admin on A's closed case: %s", describePgError(got))
	}
	// bound_org fires first: triggers of a table fire in the order of their
	// names, and none of the tables has a BEFORE INSERT row trigger that
	// sorts before it.
	for _, table := range otherOrgRowTables {
		var first string
		if err := env.Super.Pool.QueryRow(ctx, `select min(tgname collate "C") from pg_trigger
		    where tgrelid = $1::regclass and not tgisinternal and tgtype & 7 = 7`, table).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if first != "bound_org" {
			t.Errorf("%s: the first BEFORE INSERT row trigger is %q, want bound_org", table, first)
		}
	}
}

// What 00339's header corrects in 00313's: app.accept_case_invite is not
// unbound for being a SECURITY DEFINER procedure (it sees the caller's
// ward.credential); the server runs it unbound. Called under a_admin's
// credential, app.case_rows_stamp stamps its grant and refuses the ten
// years of access of an invitation the operator wrote; called unbound,
// the same acceptance goes through.
func TestAcceptanceBoundIsStamped(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	token := rlsNew()
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.case_invites (org_id, case_id, email_bidx, email_enc,
	    invitee_id, token_hash, kind, permissions, access_expires_at, expires_at, created_by)
	    values ($1, $2, $3, '\x01', gen_random_uuid(), sha256(convert_to($4, 'UTF8')), 'attorney', '{view}',
	            now() + interval '10 years', now() + interval '1 day', $5)`,
		s.must("A"), s.must("C2"), rlsRandom(32), token, s.must("a_lead")); err != nil {
		t.Fatal(err)
	}
	accept := func(cred postgres.Credential) (string, error) {
		var status string
		err := env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `select status from app.accept_case_invite(sha256(convert_to($1, 'UTF8')), $2)`,
				token, rlsRandom(32)).Scan(&status); err != nil {
				return err
			}
			return errRLSRollback
		})
		if errors.Is(err, errRLSRollback) {
			err = nil
		}
		return status, err
	}
	var pe *pgconn.PgError
	if _, err := accept(rlsActorNamed(s, "a_admin").cred); !errors.As(err, &pe) || pe.Hint != "access_too_long" {
		t.Errorf("the acceptance bound to a_admin: want 23514 access_too_long, got %v", err)
	}
	if status, err := accept(postgres.Credential{}); err != nil || status != "ok" {
		t.Errorf("the acceptance unbound: %q, %v", status, err)
	}
}
