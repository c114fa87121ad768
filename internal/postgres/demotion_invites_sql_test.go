package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// Migration 00326's other path: a provider demoted out of the staff roles
// (app.update_member, an admin's change of role) loses their staff grants
// inside app.membership_revoked, a trigger, and the invitation pending for
// their address on that case ends with them (reason grant_revoked, in the
// admin's name), so they cannot accept it and be back on the case as a
// stakeholder. 00314 skipped every change made inside another trigger.
func TestDemotionEndsPendingInvites(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	A, C1, prov, admin := s.must("A"), s.must("C1"), s.must("a_prov1"), s.must("a_admin")
	token := rlsNew()
	var inv string
	if err := env.Super.Pool.QueryRow(ctx, `
		with g as (insert into app.case_members (org_id, case_id, user_id, kind, permissions, added_by)
		           values ($1, $2, $3, 'staff', '{view,download,comment}', $4))
		insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id, token_hash, kind,
		       permissions, access_expires_at, expires_at, created_by)
		values ($1, $2, $5, '\x01', $3, sha256(convert_to($6, 'UTF8')), 'attorney', '{view,download,comment}',
		        now() + interval '30 days', now() + interval '7 days', $4)
		returning id::text`, A, C1, prov, admin, s.bidx["a_prov1"], token).Scan(&inv); err != nil {
		t.Fatal(err)
	}
	if err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `select app.update_member($1, 'stakeholder', false)`, prov)
		return err
	}); err != nil {
		t.Fatalf("demoting a_prov1: %v", err)
	}
	var grantRevoked, inviteRevoked bool
	var reason, actor string
	if err := env.Super.Pool.QueryRow(ctx, `select
	    (select m.revoked_at is not null from app.case_members m where m.org_id = $1 and m.case_id = $2 and m.user_id = $3),
	    (select i.revoked_at is not null from app.case_invites i where i.org_id = $1 and i.id = $4::uuid),
	    coalesce((select e.details->>'reason' from audit.events e where e.org_id = $1 and e.action = 'case.invite.revoke'
	               and e.object_id = $4::uuid), ''),
	    coalesce((select e.actor_id::text from audit.events e where e.org_id = $1 and e.action = 'case.invite.revoke'
	               and e.object_id = $4::uuid), '')`, A, C1, prov, inv).
		Scan(&grantRevoked, &inviteRevoked, &reason, &actor); err != nil {
		t.Fatal(err)
	}
	if !grantRevoked {
		t.Fatal("the staff grant outlived the demotion")
	}
	if !inviteRevoked || reason != "grant_revoked" || actor != admin {
		t.Errorf("the invitation pending for the demoted provider's address: revoked %v, event reason %q by %s; want revoked, grant_revoked by a_admin",
			inviteRevoked, reason, s.readable(actor))
	}
	var status string
	if err := env.App.InTenantTx(ctx, postgres.Credential{}, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select status from app.accept_case_invite(sha256(convert_to($1, 'UTF8')), $2)`,
			token, rlsRandom(32)).Scan(&status)
	}); err != nil || status != "revoked" {
		t.Errorf("the demoted provider's acceptance of the pending invitation: %q (%v), want revoked", status, err)
	}
}
