-- Device binding by default, and browser sessions bound to their passkey
-- (issue 8 §6).
--
-- New orgs require device binding of their staff (provider, lead, admin):
-- the column default becomes the issue's. Orgs that exist when this runs
-- keep the policy they have (empty unless an admin set one): an upgrade
-- does not cut off the bearer-token clients of a running deployment; an
-- admin turns it on with PUT /v1/org/device-binding-policy
-- (docs/authentication.md, "Device binding").
--
-- A session of a role the org lists is bound one of two ways:
--
--   * to a DPoP key (00027): it resolves only when ward.dpop names the
--     key's thumbprint, which the server sets from a proof it verified for
--     this very request;
--   * as a browser session: one the server handed out in the Secure,
--     HttpOnly, SameSite=Strict session cookie only (never in a response
--     body), which it marks in the session's first minute
--     (app.session_browser). It resolves only when presented in the cookie
--     (ward.dpop = 'browser'). A token once handed out in a body is no
--     browser session: sent in a Cookie header it stays pending
--     'device_binding', like the bearer token it is.
--
-- A session a passkey created (a passkey sign-in or a break-glass
-- activation) records that passkey (app.sessions.passkey_id) and resolves
-- only while the passkey exists; deleting the passkey ends the sessions it
-- created, in the same transaction (revoked_reason passkey_deleted).

-- +goose Up
set local role ward_owner;

alter table app.orgs alter column device_binding_required_for set default '{admin,lead,provider}';

alter table app.sessions add column browser boolean not null default false;
alter table app.sessions add column passkey_id uuid;
alter table app.sessions add constraint sessions_browser_check check (not (browser and dpop_jkt is not null));
create index sessions_passkey_idx on app.sessions (org_id, passkey_id) where passkey_id is not null;
grant select (browser, passkey_id) on app.sessions to ward_app;
grant update (browser) on app.sessions to ward_definer;
grant select on app.passkeys to ward_rls;

-- +goose StatementBegin
-- me_pending as in 00062, except that (1) an unbound session of a role
-- the org lists in device_binding_required_for resolves only when it is a
-- browser session (app.sessions.browser) presented in the browser's cookie
-- (ward.dpop = 'browser'): a token once handed out in a response body is
-- no browser session, whatever header carries it; and (2) a session a
-- passkey created resolves only while that passkey exists.
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  h bytea := private.credential_hash();
  sid uuid;
begin
  if h is null then
    return;
  end if;
  select s.id into sid from app.sessions s where s.token_hash = h;
  if sid is null then
    select t.session_id into sid from app.session_tokens t
     where t.token_hash = h and t.retired_at > now() - interval '30 seconds';
  end if;
  if sid is not null then
    select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, s.break_glass, null,
           s.amr,
           case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                     and not (s.browser and current_setting('ward.dpop', true) = 'browser')
                then 'device_binding'
                when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                            s.assurance, s.amr)
                then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.sessions s
      join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
      join app.orgs o on o.id = s.org_id
     where s.id = sid
       and s.revoked_at is null
       and s.absolute_expires_at > now()
       and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
       and m.revoked_at is null
       and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''))
       and (s.passkey_id is null
            or exists (select from app.passkeys k where k.org_id = s.org_id and k.id = s.passkey_id));
  else
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    -- SCIM tokens (00050): a live token resolves to its org, with no user,
    -- no role and no session.
    if kind is null then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;


-- passkey_assert as in 00061, and a passkey sign-in records the passkey
-- on the session it creates (app.sessions.passkey_id).
create or replace function app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea,
  p_auth_data bytea, p_session_hash bytea default null, p_request text default null,
  p_ip text default null, p_ua text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin,verify}');
  s app.sessions%rowtype;
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  action text := case c.purpose when 'signin' then 'auth.signin' else 'auth.mfa.verify' end;
  r record;
begin
  if c.purpose = 'signin' and octet_length(p_session_hash) is distinct from 32 then
    raise exception 'passkey_assert: a sign-in needs a 32-byte session hash' using errcode = '22023';
  end if;
  if c.session_id is not null then
    select * into s from app.sessions x where x.id = c.session_id;
  end if;
  select x.* into k from app.passkeys x
    join app.memberships m on m.org_id = x.org_id and m.user_id = x.user_id and m.revoked_at is null
   where x.credential_id = p_credential_id
     and (c.session_id is null or (x.org_id = s.org_id and x.user_id = s.user_id))
     for update of x;
  if not found then
    raise exception 'forbidden: no such passkey for this ceremony' using errcode = '42501';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.get', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.backup_eligible <> k.backup_eligible then 'invalid'
    when (a.sign_count <> 0 or k.sign_count <> 0) and a.sign_count <= k.sign_count then 'sign_count'
    else 'ok' end;
  if status = 'sign_count' then
    perform audit.append_as(k.org_id, 'auth.passkey.sign_count_regression', 'denied', 'passkey', k.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('stored', k.sign_count, 'presented', a.sign_count, 'purpose', c.purpose));
  end if;
  if status <> 'ok' then
    perform audit.append_as(k.org_id, action, 'denied', case when s.id is not null then 'session' else 'user' end,
      coalesce(s.id, k.user_id), p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status, 'passkey', k.id));
    return;
  end if;
  update app.passkeys x set sign_count = a.sign_count, backup_state = a.backup_state, last_used_at = now()
   where x.org_id = k.org_id and x.id = k.id;
  user_id := k.user_id; org_id := k.org_id;
  if c.purpose = 'verify' then
    update app.sessions x set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct v order by v) from unnest(x.amr || array['passkey']) v)
     where x.id = s.id
    returning x.id, x.absolute_expires_at, x.idle_timeout_min into session_id, absolute_expires_at, idle_timeout_min;
    perform audit.append_as(k.org_id, 'auth.mfa.verify', 'success', 'session', s.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'result', 'ok', 'passkey', k.id, 'uv', true));
    return;
  end if;
  select * into o from app.orgs x where x.id = k.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  select * into r from private.signin_risk(k.org_id, k.user_id, p_ip::inet, p_ua, null);
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, risk_score, passkey_id)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), least(r.score, 200), k.id)
  returning id into session_id;
  perform audit.append_as(k.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'risk', jsonb_build_object('score', r.score, 'reasons', to_jsonb(r.reasons),
                                                               'signals', r.signals, 'threshold', o.risk_threshold,
                                                               'step_up', null)));
end $$;


-- break_glass_activate as in 00060, and the break-glass session records
-- the passkey that activated it and is bound at creation, before its own
-- events: to the key of the sign-in's DPoP proof when the server verified
-- one for this request (ward.dpop, a thumbprint), else as a browser
-- session (the server hands it out in the cookie only). The rest of the
-- transaction then acts as the bound session, so its reason and its
-- activation event are the session's even where its member's role must
-- be device-bound.
create or replace function app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea,
  p_auth_data bytea, p_session_hash bytea, p_request text default null, p_ip text default null,
  p_ua text default null,
  out status text, out activation_id uuid, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int, out admin_ids uuid[], out admin_emails bytea[])
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin}');
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
begin
  if octet_length(p_session_hash) is distinct from 32 then
    raise exception 'break_glass_activate: a 32-byte session hash is required' using errcode = '22023';
  end if;
  if private.credential_hash() is not null then
    raise exception 'break_glass_activate: activate without a credential' using errcode = '42501';
  end if;
  select x.* into k from app.passkeys x
    join app.memberships m on m.org_id = x.org_id and m.user_id = x.user_id and m.revoked_at is null
   where x.credential_id = p_credential_id
     for update of x;
  if not found then
    raise exception 'forbidden: no such passkey' using errcode = '42501';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.get', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.backup_eligible <> k.backup_eligible then 'invalid'
    when (a.sign_count <> 0 or k.sign_count <> 0) and a.sign_count <= k.sign_count then 'sign_count'
    when not exists (select from app.break_glass_users b
                       join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                      where b.org_id = k.org_id and b.user_id = k.user_id and m.role in ('provider', 'lead', 'admin'))
      then 'not_designated'
    when (select count(*) from app.passkeys x where x.org_id = k.org_id and x.user_id = k.user_id) < 2
      then 'too_few_passkeys'
    else 'ok' end;
  if status = 'sign_count' then
    perform audit.append_as(k.org_id, 'auth.passkey.sign_count_regression', 'denied', 'passkey', k.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('stored', k.sign_count, 'presented', a.sign_count, 'purpose', 'break_glass'));
  end if;
  if status <> 'ok' then
    perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'denied', 'user', k.user_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status, 'passkey', k.id));
    return;
  end if;
  update app.passkeys x set sign_count = a.sign_count, backup_state = a.backup_state, last_used_at = now()
   where x.org_id = k.org_id and x.id = k.id;
  select * into o from app.orgs x where x.id = k.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min, 60);
  absolute_expires_at := now() + interval '60 minutes';
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, break_glass, passkey_id, dpop_jkt, browser)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), true, k.id, jkt, jkt is null)
  returning id into session_id;
  insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, expires_at)
  values (k.org_id, k.user_id, session_id, k.id, absolute_expires_at)
  returning id into activation_id;
  -- From here on the transaction acts as the new session.
  perform set_config('ward.credential', encode(p_session_hash, 'hex'), true);
  perform set_config('ward.dpop', coalesce(jkt, 'browser'), true);
  perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'success', 'break_glass_activation', activation_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'session', session_id, 'expires_at', absolute_expires_at));
  select coalesce(array_agg(m.user_id order by m.created_at), '{}'),
         coalesce(array_agg(u.email_enc order by m.created_at), '{}')
    into admin_ids, admin_emails
    from app.memberships m join app.users u on u.id = m.user_id
   where m.org_id = k.org_id and m.role = 'admin' and m.revoked_at is null;
  user_id := k.user_id; org_id := k.org_id;
end $$;


-- passkey_delete as in 00022, and deleting a passkey ends the sessions it
-- created (revoked_reason passkey_deleted; the event says how many), in
-- the same transaction; the event is written before, as the caller's own
-- session may be one of them.
create or replace function app.passkey_delete(p_id uuid, p_request text default null) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  left_passkeys int;
  has_totp boolean;
  ended int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id for update;
  if not found then
    return 'not_found';
  end if;
  select * into o from app.orgs x where x.id = me.org_id;
  bar := private.assurance_bar(me.role, o.require_mfa, o.require_passkey);
  select count(*) into left_passkeys from app.passkeys k
   where k.org_id = me.org_id and k.user_id = me.user_id and k.id <> p_id;
  select exists (select from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id
                   and f.confirmed_at is not null) into has_totp;
  if left_passkeys = 0 and (bar = 'passkey' or (bar = 'mfa' and not has_totp)) then
    perform audit.append_as(me.org_id, 'auth.passkey.delete', 'denied', 'passkey', p_id, p_request => p_request,
      p_details => jsonb_build_object('reason', 'last_factor', 'bar', bar));
    return 'last_factor';
  end if;
  -- Audited first: the caller's own session may be one of those it ends.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.passkey_id = p_id and s.revoked_at is null;
  perform audit.append_as(me.org_id, 'auth.passkey.delete', 'success', 'passkey', p_id, p_request => p_request,
    p_details => jsonb_build_object('passkeys_left', left_passkeys, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'passkey_deleted'
   where s.org_id = me.org_id and s.passkey_id = p_id and s.revoked_at is null;
  delete from app.passkeys k where k.org_id = me.org_id and k.id = p_id;
  return 'ok';
end $$;


-- session_browser marks the presented session (pending or not) a browser
-- session: the server handed it out in the session cookie only. Once, in
-- the session's first minute, and never for a DPoP-bound session; false
-- otherwise.
create function app.session_browser() returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.sessions s set browser = true
   where s.id = me.session_id and not s.browser and s.dpop_jkt is null
     and s.created_at > now() - interval '1 minute';
  return found;
end $$;
-- +goose StatementEnd

alter function private.me_pending() owner to ward_rls;
alter function app.session_browser() owner to ward_definer;
revoke all on function app.session_browser() from public;
grant execute on function app.session_browser() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
