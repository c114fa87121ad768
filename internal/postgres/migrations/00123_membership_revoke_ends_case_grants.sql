-- A revoked member kept the rows of their case grants (review, LOW): they
-- could not use them while revoked (no membership, no credential), but a
-- membership revived later (re-invited, SCIM reactivation) brought every
-- old grant back, an attorney's or a payer's included, without anyone
-- granting it again.
--
--   * membership_revoked: when a membership is revoked (app.update_member,
--     SCIM deactivation, any path that sets revoked_at), the member's live
--     case grants in that org are revoked in the same transaction, each
--     audited (case.member.set, revoked, reason membership_revoked). A
--     revived member starts with no case grants; whoever manages the case
--     grants them again. Care-team places stay (a clinical assignment is
--     the org's to review; a revived provider's RLS follows them again).
--   * Existing revoked members' live grants are revoked now, audited.

-- +goose Up

-- Data first, as the migrating superuser (FORCE RLS binds ward_owner).
-- +goose StatementBegin
do $$
declare
  r record;
begin
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
     where cm.revoked_at is null
       and not exists (select from app.memberships m
                        where m.org_id = cm.org_id and m.user_id = cm.user_id and m.revoked_at is null)
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'membership_revoked'));
  end loop;
end $$;
-- +goose StatementEnd

set local role ward_owner;

-- +goose StatementBegin
-- membership_revoked acts on the updated row only: who may revoke a
-- membership is the revoking procedure's decision, made before.
create function app.membership_revoked() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
     where cm.org_id = new.org_id and cm.user_id = new.user_id and cm.revoked_at is null
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'membership_revoked'));
  end loop;
  return null;
end $$;
-- +goose StatementEnd
alter function app.membership_revoked() owner to ward_definer;
revoke all on function app.membership_revoked() from public;
create trigger membership_revoked after update of revoked_at on app.memberships
  for each row when (old.revoked_at is null and new.revoked_at is not null)
  execute function app.membership_revoked();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
