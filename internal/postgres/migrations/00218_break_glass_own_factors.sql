-- Break-glass "changes no configuration or credential", and the database
-- refuses it in the definer functions behind the step-up routes (00161,
-- 00209, 00215, 00217). Three more definer functions act for a session's
-- member without asking whether the session is emergency access:
--
--  * app.passkey_rename: its route needs no step-up, so a break-glass
--    session renamed its member's passkeys through the API itself (the
--    server let it through; only a step-up route refuses break-glass).
--  * app.remember_device: the server calls it after an ordinary sign-in
--    only, never for a break-glass session; a device it remembers lifts
--    the per-address link limit for 30 days, a credential-like grant that
--    emergency access has no business making.
--  * app.accept_case_invite: the server runs it unbound (the token proves
--    the mailbox), but one bound to a break-glass session (a server bug,
--    an injected statement) would join its member to a case.
--
-- Each now refuses a break-glass principal (42501, break_glass_not_allowed)
-- before it changes anything. Nothing else changes: the bodies are those
-- in force (00022, 00163, 00192).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.passkey_rename(p_id uuid, p_name text, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_name is null or length(p_name) not between 1 and 100 then
    raise exception 'name must be 1..100 characters' using errcode = '22023';
  end if;
  update app.passkeys k set name = p_name where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.passkey.rename', 'success', 'passkey', p_id, p_request => p_request);
  return true;
end $$;
-- +goose StatementEnd

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
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
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
  -- The server runs the acceptance unbound; a break-glass session bound to
  -- it (a server bug, an injected statement) joins no case.
  if coalesce((select x.break_glass from private.me_pending() x), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'accept_case_invite: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := private.case_invite_status(i);
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
