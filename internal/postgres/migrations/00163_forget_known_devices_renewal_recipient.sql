-- Two gaps noticed in earlier reviews:
--
--   * "Forget this device" (00155) stopped a forgotten session from
--     vouching for its device in the sign-in risk score, but the device
--     cookie that session's sign-in set (app.known_devices, 00144) still
--     lifted the per-address link limit for 30 days: a lost phone kept that
--     privilege. app.known_devices.session_id now names the session whose
--     sign-in remembered the device (set by app.remember_device, replaced
--     when a later sign-in remembers the same token), and
--     app.forget_session_device deletes the devices of every session it
--     marks forgotten, and of the named session in any case. Devices
--     remembered before this migration name no session and still expire
--     within 30 days.
--   * Renewing a stakeholder's invitation without naming the organisation
--     they act for cleared the one their grant named (app.accept_case_invite
--     copied the invitation's null), so the next disclosure to them was
--     accounted without the receiving entity (HIPAA 164.528(b)(2)(ii)). A
--     renewal of a live grant, of the same kind, that names none now keeps
--     the grant's (an invitation after a revoked grant is a new grant); a
--     renewal that names one replaces it; a change of kind takes the
--     invitation's as before.

-- +goose Up
set local role ward_owner;

alter table app.known_devices add column session_id uuid;
grant update (session_id) on app.known_devices to ward_definer;

-- +goose StatementBegin
create or replace function app.remember_device(p_device_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_device_hash) is distinct from 32 then
    raise exception 'remember_device: the device token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into s from app.sessions x where x.id = me.session_id;
  if s.created_at <= now() - interval '1 minute' then
    return false;
  end if;
  insert into app.known_devices (org_id, user_id, token_hash, expires_at, session_id)
  values (s.org_id, s.user_id, p_device_hash, now() + interval '30 days', s.id)
  on conflict (org_id, user_id, token_hash) do update
    set created_at = now(), expires_at = now() + interval '30 days', session_id = excluded.session_id;
  -- Expired devices, and any beyond the newest 10, go.
  delete from app.known_devices d
   where d.org_id = s.org_id and d.user_id = s.user_id
     and (d.expires_at <= now()
          or d.token_hash not in (select k.token_hash from app.known_devices k
                                   where k.org_id = s.org_id and k.user_id = s.user_id
                                   order by k.created_at desc limit 10));
  return true;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.forget_session_device(p_session uuid, p_request text DEFAULT NULL::text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  s app.sessions%rowtype;
  others uuid[];
  marked uuid[];
begin
  select * into me from private.me();
  if me.session_id is null or me.kind is distinct from 'session' then
    raise exception 'forbidden: only a session of the member forgets a device' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into s from app.sessions x
   where x.org_id = me.org_id and x.user_id = me.user_id and x.id = p_session
     for update;
  if not found then
    raise exception 'no session of yours in this org has this id' using errcode = 'P0002';
  end if;
  with f as (
    update app.sessions x set device_forgotten_at = now()
     where x.org_id = me.org_id and x.user_id = me.user_id and x.device_forgotten_at is null
       and (x.id = s.id or x.user_agent is not distinct from s.user_agent
            or (s.dpop_jkt is not null and x.dpop_jkt = s.dpop_jkt))
    returning x.id)
  select count(*)::int, coalesce(array_agg(f.id), '{}') into forgotten, marked from f;
  -- The device cookies those sessions' sign-ins set no longer lift the
  -- address's link limit (00163), the named session's even when it was
  -- forgotten before.
  delete from app.known_devices d
   where d.org_id = me.org_id and d.user_id = me.user_id and (d.session_id = s.id or d.session_id = any (marked));
  ended := s.revoked_at is null and s.absolute_expires_at > now()
           and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now();
  -- Every other live session bound to the same device key is on that
  -- device: it ends too.
  if s.dpop_jkt is not null then
    select coalesce(array_agg(x.id), '{}') into others from (
      select x.id from app.sessions x
       where x.org_id = me.org_id and x.user_id = me.user_id and x.id <> s.id and x.dpop_jkt = s.dpop_jkt
         and x.revoked_at is null and x.absolute_expires_at > now()
         and x.last_seen_at + make_interval(mins => x.idle_timeout_min) > now()
       order by x.id
         for update) x;
  else
    others := '{}';
  end if;
  others_ended := cardinality(others);
  -- The event first: ending the caller's own session ends the credential
  -- that names the actor.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', s.id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('reason', 'device_forgotten', 'ended', ended,
                                                           'sessions_forgotten', forgotten,
                                                           'other_sessions_ended', others_ended));
  update app.sessions x set revoked_at = now(), revoked_reason = 'device_forgotten'
   where x.org_id = me.org_id and x.user_id = me.user_id
     and ((ended and x.id = s.id) or x.id = any (others));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet DEFAULT NULL::inet, p_ua text DEFAULT NULL::text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  mrole text;
  mrevoked boolean;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'accept_case_invite: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case when i.accepted_at is not null then 'used'
                 when i.revoked_at is not null then 'revoked'
                 when i.expires_at <= now() or i.access_expires_at <= now() then 'expired'
                 -- An invitation is worth what its author's authority is
                 -- worth now: a member who left the org (or the case's care
                 -- team) cannot come back through invitations they sent,
                 -- say to a private address, before they left.
                 when not exists (select from app.memberships m
                                   where m.org_id = i.org_id and m.user_id = i.created_by and m.revoked_at is null
                                     and (m.role in ('admin', 'lead')
                                          or (m.role = 'provider'
                                              and exists (select from app.cases c
                                                            join app.care_team ct
                                                              on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                                           where c.org_id = i.org_id and c.id = i.case_id
                                                             and ct.provider_id = i.created_by)))) then 'revoked'
                 else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  select u.id into uid from app.users u where u.email_bidx = i.email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (i.invitee_id, i.email_bidx, i.email_enc);
    uid := i.invitee_id;
  end if;
  -- A membership the org revoked stays revoked unless it was a
  -- stakeholder's: an invitation (which a provider may send) does not
  -- undo an admin's or the directory's revocation of staff or a patient.
  select m.role, m.revoked_at is not null into mrole, mrevoked from app.memberships m
   where m.org_id = i.org_id and m.user_id = uid;
  -- Nobody grants themselves access to a case: an invitation its author
  -- accepts (sent to their own address) grants nothing.
  if uid = i.created_by then
    status := 'own_invite';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked and mrole <> 'stakeholder' then
    status := 'member_revoked';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked then
    mrole := null;
  end if;
  if mrole is null then
    insert into app.memberships (org_id, user_id, role) values (i.org_id, uid, 'stakeholder')
    on conflict (org_id, user_id) do update set role = 'stakeholder', revoked_at = null;
  end if;
  insert into app.case_members as cm (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by,
                                      recipient_org)
  values (i.org_id, i.case_id, uid, i.kind, i.permissions, i.access_expires_at, i.created_by, i.recipient_org)
  on conflict (org_id, case_id, user_id) do update
    set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
        -- A renewal of the same kind that names no organisation keeps
        -- the one the grant names (00163): the disclosure accounting
        -- still says who received the record.
        recipient_org = case when excluded.kind = cm.kind and cm.revoked_at is null
                             then coalesce(excluded.recipient_org, cm.recipient_org)
                             else excluded.recipient_org end,
        revoked_at = null, expiry_recorded_at = null, updated_at = now()
    -- A live staff grant stays as it is: an invitation never narrows or
    -- time-limits a staff member's access to the case.
    where cm.kind <> 'staff' or cm.revoked_at is not null;
  update app.case_invites x set accepted_at = now(), accepted_by = uid where x.org_id = i.org_id and x.id = i.id;
  -- A live member who is no stakeholder (staff, a patient) gets the grant
  -- and no session: they sign in as they always do (their org's SSO when
  -- it enforces it, their second factor, their device binding), and the
  -- case is on their account then. An invitation is no sign-in route.
  if mrole is not null then
    status := 'sign_in_required';
    user_id := uid; org_id := i.org_id; case_id := i.case_id;
    perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
      p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                      'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', mrole,
                                      'session', false));
    return;
  end if;

  select * into o from app.orgs x where x.id = i.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := least(now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min)),
                               greatest(i.access_expires_at, now() + interval '5 minutes'));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (i.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now())
  returning id into session_id;
  user_id := uid; org_id := i.org_id; case_id := i.case_id;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
    p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                    'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', coalesce(mrole, 'stakeholder')));
  perform audit.append_as(i.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid,
    p_details => jsonb_build_object('method', 'case_invite', 'aal', 1));
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
