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
--   * The same trigger revokes, audited, the API keys the member created in
--     the org (auth.api_key.revoke, reason member_revoked) and the SCIM
--     tokens (scim.token.revoke, reason member_revoked; app.update_member
--     did this for an admin's revocation, SCIM deactivation did not), and
--     when an admin is made anything else, their API keys (reason
--     admin_role_removed). A key resolves only while its creator is a live
--     admin, so these keys were dead, but they came back to life with the
--     membership or the role.
--   * Existing revoked members' live grants are revoked now, audited, and
--     so are live API keys whose creator is no live admin.

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
  for r in
    update app.api_keys k set revoked_at = now()
     where k.revoked_at is null
       and not exists (select from app.memberships m
                        where m.org_id = k.org_id and m.user_id = k.created_by and m.revoked_at is null
                          and m.role = 'admin')
    returning k.org_id, k.id
  loop
    perform audit.append_as(r.org_id, 'auth.api_key.revoke', 'success', 'api_key', r.id,
      p_details => jsonb_build_object('reason', 'creator_not_admin'));
  end loop;
end $$;
-- +goose StatementEnd

set local role ward_owner;

-- +goose StatementBegin
-- membership_revoked acts on the updated row only: who may revoke a
-- membership or change a role is the calling procedure's decision, made
-- before.
create function app.membership_revoked() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  revoked boolean := old.revoked_at is null and new.revoked_at is not null;
  why text := case when old.revoked_at is null and new.revoked_at is not null then 'member_revoked'
                   else 'admin_role_removed' end;
begin
  if revoked then
    for r in
      update app.case_members cm set revoked_at = now(), updated_at = now()
       where cm.org_id = new.org_id and cm.user_id = new.user_id and cm.revoked_at is null
      returning cm.org_id, cm.case_id, cm.user_id
    loop
      perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
        p_details => jsonb_build_object('revoked', true, 'reason', 'membership_revoked'));
    end loop;
    for r in
      update app.scim_tokens t set revoked_at = now()
       where t.org_id = new.org_id and t.created_by = new.user_id and t.revoked_at is null
      returning t.org_id, t.id
    loop
      perform audit.append_as(r.org_id, 'scim.token.revoke', 'success', 'scim_token', r.id,
        p_details => jsonb_build_object('reason', why));
    end loop;
  end if;
  for r in
    update app.api_keys k set revoked_at = now()
     where k.org_id = new.org_id and k.created_by = new.user_id and k.revoked_at is null
    returning k.org_id, k.id
  loop
    perform audit.append_as(r.org_id, 'auth.api_key.revoke', 'success', 'api_key', r.id,
      p_details => jsonb_build_object('reason', why));
  end loop;
  return null;
end $$;
-- +goose StatementEnd
alter function app.membership_revoked() owner to ward_definer;
revoke all on function app.membership_revoked() from public;
create trigger membership_revoked after update of revoked_at, role on app.memberships
  for each row when ((old.revoked_at is null and new.revoked_at is not null)
                     or (new.revoked_at is null and old.role = 'admin' and new.role <> 'admin'))
  execute function app.membership_revoked();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
