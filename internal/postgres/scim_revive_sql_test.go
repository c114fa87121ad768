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

// A SCIM token restores only a membership the directory revoked, never as
// admin and never above its old role; an admin's revocation stays, and
// revokes the SCIM tokens the member made (migration 00107). The procedures
// refuse, and under them the memberships trigger refuses a write that a
// procedure might let through.
func TestSCIMRevival(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	tok, admin := rlsActorNamed(s, "a_scim").cred, rlsActorNamed(s, "a_admin").cred

	// exec runs q in its own committed transaction bound to cred, as db.
	exec := func(db *postgres.DB, cred postgres.Credential, q string, args ...any) error {
		return db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, q, args...)
			return err
		})
	}
	refused := func(err error, hint string) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != postgres.CodeInsufficientPrivilege || pe.Hint != hint {
			t.Fatalf("want 42501 (hint %q), got %v", hint, err)
		}
	}
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// state is a member's role and revocation, as the superuser reads it.
	state := func(user string) string {
		t.Helper()
		var got string
		if err := env.Super.Pool.QueryRow(ctx, `select role || '/' || (revoked_at is not null)::text || '/' ||
			coalesce(revoked_via, '-') || '/' || coalesce(revoked_by::text, '-') from app.memberships
			where org_id = $1 and user_id = $2`, s.must("A"), s.must(user)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return s.readable(got)
	}
	update := `select app.scim_update_user($1, $2, null, null, $3)`

	// a_gone's revocation is of unknown origin (the seed wrote it): not
	// the directory's, so SCIM does not restore it.
	refused(exec(env.App, tok, update, s.must("a_gone"), s.bidx["a_gone"], true), "revoked_by_admin")
	ok(exec(env.App, tok, update, s.must("a_gone"), s.bidx["a_gone"], false))
	if got := state("a_gone"); got != "lead/true/-/-" {
		t.Fatalf("a_gone after SCIM: %s", got)
	}
	// Nor does a write under the token that skips the procedures.
	refused(exec(env.Super, tok, `update app.memberships set revoked_at = null where org_id = $1 and user_id = $2`,
		s.must("A"), s.must("a_gone")), "revoked_by_admin")
	// Only a SCIM token records a revocation as the directory's.
	refused(exec(env.Super, admin, `update app.memberships set revoked_via = 'scim' where org_id = $1 and user_id = $2`,
		s.must("A"), s.must("a_gone")), "")

	// The directory deactivates the lead and brings her back: as the
	// token's default role (provider), not as lead.
	ok(exec(env.App, tok, update, s.must("a_lead"), s.bidx["a_lead"], false))
	if got := state("a_lead"); got != "lead/true/scim/t.a" {
		t.Fatalf("a_lead after deactivation: %s", got)
	}
	ok(exec(env.App, tok, update, s.must("a_lead"), s.bidx["a_lead"], true))
	if got := state("a_lead"); got != "provider/false/-/-" {
		t.Fatalf("a_lead after reactivation: %s", got)
	}
	// Under the token, a restored membership is never admin or above its
	// old role, whatever writes it.
	ok(exec(env.App, tok, update, s.must("a_lead"), s.bidx["a_lead"], false))
	refused(exec(env.Super, tok, `update app.memberships set revoked_at = null, role = 'admin' where org_id = $1 and user_id = $2`,
		s.must("A"), s.must("a_lead")), "")
	refused(exec(env.Super, tok, `update app.memberships set revoked_at = null, role = 'lead' where org_id = $1 and user_id = $2`,
		s.must("A"), s.must("a_lead")), "")
	ok(exec(env.Super, tok, `update app.memberships set revoked_at = null where org_id = $1 and user_id = $2`,
		s.must("A"), s.must("a_lead")))

	// An admin revokes a provider who made a SCIM token: the membership
	// records the admin, the token ends, and SCIM cannot bring them back,
	// by active true or by deleting and creating the User again.
	var own string
	ok(env.Super.Pool.QueryRow(ctx, `insert into app.scim_tokens (org_id, token_hash, prefix, name, created_by)
		values ($1, sha256(gen_random_uuid()::text::bytea), 'scim_abcd', 'own', $2) returning id::text`,
		s.must("A"), s.must("a_prov1")).Scan(&own))
	ok(exec(env.App, admin, `select app.update_member($1, null, true)`, s.must("a_prov1")))
	if got := state("a_prov1"); got != "provider/true/admin/a_admin" {
		t.Fatalf("a_prov1 after the admin's revocation: %s", got)
	}
	var revoked bool
	var events int
	ok(env.Super.Pool.QueryRow(ctx, `select revoked_at is not null, (select count(*) from audit.events e
		where e.org_id = t.org_id and e.action = 'scim.token.revoke' and e.object_id = t.id
		  and e.details->>'reason' = 'member_revoked') from app.scim_tokens t where t.id = $1`, own).Scan(&revoked, &events))
	if !revoked || events != 1 {
		t.Fatalf("the revoked member's SCIM token: revoked %v, %d events", revoked, events)
	}
	refused(exec(env.App, tok, update, s.must("a_prov1"), s.bidx["a_prov1"], true), "revoked_by_admin")
	ok(exec(env.App, tok, `select app.scim_delete_user($1)`, s.must("a_prov1")))
	refused(exec(env.App, tok, `select app.scim_create_user($1, $2, '\x00', null)`, rlsNew(), s.bidx["a_prov1"]),
		"revoked_by_admin")
	if got := state("a_prov1"); got != "provider/true/admin/a_admin" {
		t.Fatalf("a_prov1 after SCIM: %s", got)
	}

	// The directory deletes a member and creates them again: they come
	// back (as provider). One an admin added back in between keeps the
	// admin's role when the directory creates them.
	ok(exec(env.App, tok, `select app.scim_delete_user($1)`, s.must("a_prov0")))
	ok(exec(env.App, tok, `select app.scim_create_user($1, $2, '\x00', null)`, rlsNew(), s.bidx["a_prov0"]))
	if got := state("a_prov0"); got != "provider/false/-/-" {
		t.Fatalf("a_prov0 created again: %s", got)
	}
	ok(exec(env.App, tok, `select app.scim_delete_user($1)`, s.must("a_lead")))
	ok(exec(env.App, admin, `select app.add_member($1, $2, '\x00', 'admin')`, rlsNew(), s.bidx["a_lead"]))
	ok(exec(env.App, tok, `select app.scim_create_user($1, $2, '\x00', null)`, rlsNew(), s.bidx["a_lead"]))
	if got := state("a_lead"); got != "admin/false/-/-" {
		t.Fatalf("a_lead, added back by an admin, created by the directory: %s", got)
	}

	// The migration's backfill, run over what the procedures recorded,
	// finds the same origins from the audit log.
	ok(exec(env.App, tok, update, s.must("a_prov0"), s.bidx["a_prov0"], false))
	var agree string
	ok(env.Super.Pool.QueryRow(ctx, `
		select coalesce(string_agg(m.user_id::text || '=' || coalesce(m.revoked_via, '-') || '/' || coalesce(e.via, '-'),
		       ' ' order by m.user_id), '')
		  from app.memberships m
		  left join (select distinct on (x.org_id, x.user_id) x.org_id, x.user_id,
		                    case when ev.action = 'membership.revoke' then 'admin' else 'scim' end as via,
		                    case when ev.action = 'membership.revoke' then ev.actor_id else ev.credential_id end as by
		               from app.memberships x
		               join audit.events ev on ev.org_id = x.org_id and ev.object_id = x.user_id and ev.object_type = 'user'
		                and ev.outcome = 'success' and ev.at >= x.revoked_at and ev.at < x.revoked_at + interval '1 minute'
		                and ev.action in ('membership.revoke', 'scim.user.deactivate', 'scim.user.delete')
		              where x.revoked_at is not null
		              order by x.org_id, x.user_id, ev.at, ev.qid) e on e.org_id = m.org_id and e.user_id = m.user_id
		 where m.org_id = $1 and m.revoked_at is not null
		   and (m.revoked_via is distinct from e.via or m.revoked_by is distinct from e.by)`, s.must("A")).Scan(&agree))
	if agree != "" {
		t.Fatalf("the backfill disagrees: %s", s.readable(agree))
	}
	if got := state("a_prov0"); got != "provider/true/scim/t.a" {
		t.Fatalf("a_prov0 deactivated: %s", got)
	}
}
