-- A provider's care-team rows outlived their membership: revoking a member
-- or changing their role to one that reads no patients left
-- app.care_team as it was, and private.my_patient_ids() reads it for
-- every role but the patient's. A member re-admitted (POST /v1/members
-- un-revokes the old row; the directory restores a suspended user) or
-- promoted again silently had their old patients back, though access
-- had ended (HIPAA's termination procedures: access granted again is
-- granted deliberately).
--
-- app.membership_revoked now also removes the member's care-team rows
-- when the membership is revoked or the role leaves provider, lead and
-- admin, each recorded as a care_team.unassign (reason membership_revoked
-- or role_changed), as a lead's removal would be; care_team_leave then
-- ends their staff access to those patients' cases as it does for a
-- lead's removal. A promotion (provider to lead or admin) keeps them.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.membership_revoked() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  revoked boolean := old.revoked_at is null and new.revoked_at is not null;
  why text := case when revoked then 'member_revoked' else 'admin_role_removed' end;
  -- the SCIM token of the request, when the directory makes the change
  current_token uuid := (select me.credential_id from private.me() me where me.kind = 'scim_token');
  why_care text;
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
    why_care := 'membership_revoked';
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
    why_care := 'role_changed';
  end if;
  -- Off the care team (00201): a revoked member, or one whose role no
  -- longer reads patients, keeps no assignment that a later re-admission
  -- or promotion would bring back unasked. Each row's removal is recorded
  -- as a lead's would be, and fires care_team_leave.
  if why_care is not null then
    for r in
      delete from app.care_team ct where ct.org_id = new.org_id and ct.provider_id = new.user_id
      returning ct.org_id, ct.provider_id, ct.patient_id
    loop
      perform audit.append_as(r.org_id, 'care_team.unassign', 'success', 'user', r.provider_id, p_patient => r.patient_id,
        p_details => jsonb_build_object('reason', why_care));
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
-- the trigger's owner deletes the rows (it reads no more of them)
grant select, delete on app.care_team to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
