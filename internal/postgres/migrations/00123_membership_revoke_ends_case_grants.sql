-- What a member holds ends with their standing (two attackers' reviews).
-- Before, a revoked member kept the rows of their case grants, API keys,
-- SCIM tokens (unless an admin revoked them), factors, pending sign-in and
-- invitation links and the invitations addressed to them: useless while
-- revoked, but a membership revived later (the address added again, a SCIM
-- reactivation, a pending case invitation accepted) brought every one back
-- without anyone granting it. A role change left the same gaps: an admin
-- made a provider kept the SCIM token they made (and with a group mapped to
-- admin, the directory made them admin again); a provider made a patient
-- kept their staff case grants and read the cases through them.
--
-- The trigger app.membership_revoked acts on the updated row, in the
-- transaction of whatever path changed it (app.update_member, SCIM, an
-- invitation's acceptance, the operator); who may change a membership is
-- that path's decision, made before:
--
--   * revoked: the member's case grants (case.member.set, reason
--     membership_revoked), the API keys they made (auth.api_key.revoke,
--     member_revoked), the SCIM tokens they made (scim.token.revoke,
--     member_revoked) but the one the directory is using for the change, if
--     it is theirs (it would cut itself off mid-request: docs/scim.md), the
--     pending case invitations addressed to them in the org
--     (case.invite.revoke, member_revoked), their unused sign-in and
--     invitation links, their passkeys, TOTP factor and recovery codes and
--     their emergency-access designation. A revived member starts with
--     none of them.
--   * an admin made anything else: the API keys and (as above) the SCIM
--     tokens they made (reason admin_role_removed).
--   * a provider, lead or admin made a patient (or a stakeholder): their
--     staff case grants (case.member.set, reason role_changed).
--   * Existing rows that the trigger would have ended are ended now,
--     audited.

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
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
     where cm.revoked_at is null and cm.kind = 'staff'
       and not exists (select from app.memberships m
                        where m.org_id = cm.org_id and m.user_id = cm.user_id and m.revoked_at is null
                          and m.role in ('provider', 'lead', 'admin'))
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'role_changed'));
  end loop;
  update app.magic_links l set used_at = now()
   where l.used_at is null and exists (select from app.memberships m
                                        where m.org_id = l.org_id and m.user_id = l.user_id and m.revoked_at is not null);
  delete from app.passkeys k using app.memberships m
   where m.org_id = k.org_id and m.user_id = k.user_id and m.revoked_at is not null;
  delete from app.totp_factors f using app.memberships m
   where m.org_id = f.org_id and m.user_id = f.user_id and m.revoked_at is not null;
  delete from app.recovery_codes c using app.memberships m
   where m.org_id = c.org_id and m.user_id = c.user_id and m.revoked_at is not null;
  delete from app.break_glass_users b
   where not exists (select from app.memberships m where m.org_id = b.org_id and m.user_id = b.user_id
                      and m.revoked_at is null and m.role in ('provider', 'lead', 'admin'));
  for r in
    update app.scim_tokens t set revoked_at = now()
     where t.revoked_at is null
       -- a demoted maker's (a directory that deactivated its own token's
       -- maker keeps that token, as the trigger lets it)
       and exists (select from app.memberships m
                    where m.org_id = t.org_id and m.user_id = t.created_by and m.revoked_at is null
                      and m.role <> 'admin')
    returning t.org_id, t.id
  loop
    perform audit.append_as(r.org_id, 'scim.token.revoke', 'success', 'scim_token', r.id,
      p_details => jsonb_build_object('reason', 'admin_role_removed'));
  end loop;
  for r in
    update app.case_invites i set revoked_at = now()
      from app.users u, app.memberships m
     where i.accepted_at is null and i.revoked_at is null and u.email_bidx = i.email_bidx
       and m.org_id = i.org_id and m.user_id = u.id and m.revoked_at is not null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_details => jsonb_build_object('reason', 'member_revoked'));
  end loop;
end $$;
-- +goose StatementEnd

set local role ward_owner;

-- +goose StatementBegin
-- case_member_not_own (00113) refused any write of a grant by its holder;
-- giving one's own grant up (a revocation and nothing else) is no gain of
-- access, and the trigger below does it when an admin revokes or demotes
-- themselves.
create or replace function private.case_member_not_own() returns trigger
    language plpgsql security definer
    set search_path to ''
    as $$
begin
  if tg_op = 'UPDATE' and old.revoked_at is null and new.revoked_at is not null
     and new.user_id = old.user_id and new.case_id = old.case_id and new.kind = old.kind
     and new.permissions = old.permissions and new.added_by = old.added_by
     and new.access_expires_at is not distinct from old.access_expires_at then
    return new;
  end if;
  if (tg_op = 'INSERT' and new.user_id = new.added_by) or new.user_id = private.uid() then
    raise exception 'nobody grants or changes their own access to a case' using errcode = '42501',
      hint = 'own_case_grant';
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.membership_revoked() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  revoked boolean := old.revoked_at is null and new.revoked_at is not null;
  why text := case when revoked then 'member_revoked' else 'admin_role_removed' end;
  -- the SCIM token of the request, when the directory makes the change
  current_token uuid := (select me.credential_id from private.me() me where me.kind = 'scim_token');
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
      update app.case_invites i set revoked_at = now()
        from app.users u
       where u.id = new.user_id and i.org_id = new.org_id and i.email_bidx = u.email_bidx
         and i.accepted_at is null and i.revoked_at is null
      returning i.org_id, i.id, i.case_id
    loop
      perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
        p_details => jsonb_build_object('reason', why));
    end loop;
    update app.magic_links l set used_at = now()
     where l.org_id = new.org_id and l.user_id = new.user_id and l.used_at is null;
    delete from app.passkeys k where k.org_id = new.org_id and k.user_id = new.user_id;
    delete from app.totp_factors f where f.org_id = new.org_id and f.user_id = new.user_id;
    delete from app.recovery_codes c where c.org_id = new.org_id and c.user_id = new.user_id;
    delete from app.break_glass_users b where b.org_id = new.org_id and b.user_id = new.user_id;
  elsif old.role in ('provider', 'lead', 'admin') and new.role not in ('provider', 'lead', 'admin') then
    delete from app.break_glass_users b where b.org_id = new.org_id and b.user_id = new.user_id;
    for r in
      update app.case_members cm set revoked_at = now(), updated_at = now()
       where cm.org_id = new.org_id and cm.user_id = new.user_id and cm.kind = 'staff' and cm.revoked_at is null
      returning cm.org_id, cm.case_id, cm.user_id
    loop
      perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
        p_details => jsonb_build_object('revoked', true, 'reason', 'role_changed'));
    end loop;
  end if;
  if revoked or (old.role = 'admin' and new.role <> 'admin') then
    for r in
      update app.api_keys k set revoked_at = now()
       where k.org_id = new.org_id and k.created_by = new.user_id and k.revoked_at is null
      returning k.org_id, k.id
    loop
      perform audit.append_as(r.org_id, 'auth.api_key.revoke', 'success', 'api_key', r.id,
        p_details => jsonb_build_object('reason', why));
    end loop;
    for r in
      update app.scim_tokens t set revoked_at = now()
       where t.org_id = new.org_id and t.created_by = new.user_id and t.revoked_at is null
         and t.id is distinct from current_token
      returning t.org_id, t.id
    loop
      perform audit.append_as(r.org_id, 'scim.token.revoke', 'success', 'scim_token', r.id,
        p_details => jsonb_build_object('reason', why));
    end loop;
  end if;
  return null;
end $$;
-- +goose StatementEnd
alter function app.membership_revoked() owner to ward_definer;
revoke all on function app.membership_revoked() from public;
create trigger membership_revoked after update of revoked_at, role on app.memberships
  for each row when ((old.revoked_at is null and new.revoked_at is not null)
                     or (new.revoked_at is null and old.role <> new.role))
  execute function app.membership_revoked();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
