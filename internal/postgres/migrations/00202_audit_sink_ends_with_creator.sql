-- An audit sink outlived the admin who configured it: revoking them (or
-- taking their admin role) revoked the API keys and SCIM tokens they made
-- (app.membership_revoked), but their SIEM streams went on delivering the
-- org's whole audit log (ids, IP addresses, user agents) to the endpoint
-- they chose, which no one else may have looked at. A departing admin
-- could leave a webhook to a server of their own behind.
--
-- Now:
--   * app.membership_revoked pauses every enabled sink the member created
--     (enabled = false, paused_reason 'member_revoked' or
--     'admin_role_removed'), recorded as audit.sink.update with that
--     reason, as it revokes their keys.
--   * app.audit_sinks_standing (before insert, and before an update that
--     enables a sink) sets created_by to the caller, whatever the
--     statement says, and clears paused_reason: a sink answers to the
--     admin who created or last enabled it. It holds the caller's
--     membership row (for share) and checks it is a live admin's, as
--     app.create_api_key does (00196), so a creation or re-enabling
--     racing the caller's own revocation is refused, or waited for and
--     then paused. Only an admin's own session may, not break-glass.
--     Without a principal (an operator's SQL, the seed) nothing changes.
-- +goose Up
set local role ward_owner;

alter table app.audit_sinks add column paused_reason text
  check (paused_reason in ('member_revoked', 'admin_role_removed'));
alter table app.audit_sinks add constraint audit_sinks_paused_disabled check (paused_reason is null or not enabled);

-- +goose StatementBegin
create function app.audit_sinks_standing() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  me record;
begin
  if tg_op = 'UPDATE' and not (new.enabled and not old.enabled) then
    return new;
  end if;
  select * into me from private.me();
  if me.kind is null then
    -- No credential: an operator's statement or a migration.
    new.paused_reason := null;
    return new;
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from new.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are configured by an admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  -- The caller's membership, held until this commits (00196's pattern):
  -- a revocation that began first is seen here; one that comes later
  -- waits, then finds this sink as the caller's and pauses it.
  perform from app.memberships m where m.org_id = new.org_id and m.user_id = me.user_id
     and m.revoked_at is null and m.role = 'admin'
     for share;
  if not found then
    raise exception 'forbidden: the caller''s standing changed' using errcode = '42501';
  end if;
  new.created_by := me.user_id;
  new.paused_reason := null;
  return new;
end $$;
-- +goose StatementEnd

alter function app.audit_sinks_standing() owner to ward_definer;
-- Named after audit_sinks_guard, so it runs after it (triggers fire in name
-- order): the guard still refuses a statement that names created_by.
create trigger audit_sinks_standing before insert or update on app.audit_sinks
  for each row execute function app.audit_sinks_standing();

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
    -- (00202) The SIEM streams the member configured pause: the org's
    -- whole audit log must not go on flowing to a destination that only
    -- the departed admin chose. Another admin re-enables one after
    -- checking where it points, and it answers to them from then on.
    for r in
      update app.audit_sinks s set enabled = false, paused_reason = why, updated_at = now()
       where s.org_id = new.org_id and s.created_by = new.user_id and s.enabled
      returning s.org_id, s.id
    loop
      perform audit.append_as(r.org_id, 'audit.sink.update', 'success', 'audit_sink', r.id,
        p_details => jsonb_build_object('enabled', false, 'reason', why));
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
-- the revocation pauses the member's sinks
grant select (org_id, id, created_by, enabled), update (enabled, paused_reason, updated_at) on app.audit_sinks to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
