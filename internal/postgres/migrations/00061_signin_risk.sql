-- Risk-based step-up (issue 8 §7).
--
-- Every magic-link and passkey sign-in gets an explainable score, computed
-- by the database from what it has observed (private.signin_risk), never
-- taken from the server:
--
--   signal                 weight  observed as
--   new_device               20    no session of this member in 90 days with this device key
--                                  (a sign-in with a DPoP proof), or else with this user agent
--   new_network              20    no session of this member in 90 days from this /24 (IPv4) or
--                                  /48 (IPv6); an unknown address counts as new
--   failure_velocity_user  10 each, at most 30
--                                  the member's refused sign-ins and second factors in the last
--                                  hour, and the links they asked for in it and did not use
--   failure_velocity_ip     5 each, at most 20
--                                  refused sign-ins and second factors from this address in the
--                                  last hour, any org
--   link_network_changed     25    the link was requested from another /24 or /48 than it is
--                                  used from
--   unusual_hour             15    the member has at least 5 sessions in 90 days and none began
--                                  within an hour (UTC) of this one
--
-- The score, its reasons, the signals and the org's threshold go into the
-- auth.signin event's details ("risk"). An org's risk_threshold (NULL: not
-- enforced, the score is still recorded) makes a magic-link sign-in whose
-- score reaches it issue a session that needs a passkey: sessions.step_up
-- = 'passkey' raises that session's bar, so it is pending (no credential
-- for any data) until a passkey is presented (POST
-- /v1/auth/passkeys/verify/*). A passkey sign-in meets that bar already.

-- +goose Up
set local role ward_owner;

alter table app.orgs add column risk_threshold int check (risk_threshold between 1 and 200);
alter table app.sessions add column risk_score int check (risk_score between 0 and 200),
  add column step_up text check (step_up in ('passkey'));
grant select (step_up) on app.sessions to ward_rls;
grant select (risk_score, step_up) on app.sessions to ward_app;
grant update (risk_threshold) on app.orgs to ward_definer;
-- Refused sign-ins by address, for the per-address velocity.
create index events_denied_ip_idx on audit.events (ip, at) where outcome = 'denied';
-- A member's recent links, for the unused ones.
create index magic_links_user_idx on app.magic_links (user_id, created_at);

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.risk_policy.update', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- signin_net is the network a sign-in comes from: the /24 of an IPv4
-- address, the /48 of an IPv6 one.
create function private.signin_net(p inet) returns cidr
language sql immutable strict set search_path = '' as $$
  select network(set_masklen(p, case family(p) when 4 then 24 else 48 end))
$$;

-- signin_risk scores a sign-in of p_user in p_org from p_ip with user
-- agent p_ua, by a link requested from p_link_ip (NULL: no link, or an
-- operator's link). Call it before the new session exists. The weights are
-- in this file's header and in docs/authentication.md.
create function private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet,
  out score int, out reasons text[], out signals jsonb)
language plpgsql stable set search_path = '' as $$
declare
  ua text := audit.clean_text(p_ua, 256);
  since timestamptz := now() - interval '90 days';
  hour int := extract(hour from now() at time zone 'UTC')::int;
  new_device boolean;
  new_network boolean;
  f_user int;
  links int;
  f_ip int := 0;
  link_changed boolean := p_link_ip is not null and p_ip is not null
                          and private.signin_net(p_link_ip) is distinct from private.signin_net(p_ip);
  net cidr := private.signin_net(p_ip);
  -- A sign-in with a verified DPoP proof names its device key (ward.dpop).
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
  hours int[];
  unusual boolean;
begin
  -- One pass over the member's sessions of the last 90 days.
  select not coalesce(bool_or(case when jkt is not null then s.dpop_jkt = jkt
                                   else s.user_agent is not distinct from ua end), false),
         net is null or not coalesce(bool_or(s.ip <<= net), false),
         coalesce(array_agg(extract(hour from s.created_at at time zone 'UTC')::int), '{}')
    into new_device, new_network, hours
    from app.sessions s where s.org_id = p_org and s.user_id = p_user and s.created_at > since;
  select count(*) into f_user
    from audit.events e
   where e.org_id = p_org and e.actor_id = p_user and e.at > now() - interval '1 hour' and e.outcome = 'denied'
     and e.action in ('auth.signin', 'auth.mfa.verify', 'auth.recovery_code.use', 'auth.break_glass.activate');
  -- Links asked for and not used (the one being used is spent already).
  select count(*) into links from app.magic_links ml
   where ml.org_id = p_org and ml.user_id = p_user and ml.created_at > now() - interval '1 hour' and ml.used_at is null;
  f_user := f_user + links;
  if p_ip is not null then
    select count(*) into f_ip from audit.events e
     where e.ip = host(p_ip) and e.outcome = 'denied' and e.at > now() - interval '1 hour'
       and e.action in ('auth.signin', 'auth.mfa.verify', 'auth.recovery_code.use', 'auth.break_glass.activate');
  end if;
  unusual := cardinality(hours) >= 5
             and not exists (select from unnest(hours) x where least(abs(x - hour), 24 - abs(x - hour)) <= 1);
  score := 0;
  reasons := '{}';
  if new_device then
    score := score + 20; reasons := reasons || 'new_device'::text;
  end if;
  if new_network then
    score := score + 20; reasons := reasons || 'new_network'::text;
  end if;
  if f_user > 0 then
    score := score + least(10 * f_user, 30); reasons := reasons || 'failure_velocity_user'::text;
  end if;
  if f_ip > 0 then
    score := score + least(5 * f_ip, 20); reasons := reasons || 'failure_velocity_ip'::text;
  end if;
  if link_changed then
    score := score + 25; reasons := reasons || 'link_network_changed'::text;
  end if;
  if unusual then
    score := score + 15; reasons := reasons || 'unusual_hour'::text;
  end if;
  signals := jsonb_build_object('new_device', new_device, 'new_network', new_network, 'failures_user', f_user,
                                'failures_ip', f_ip, 'link_network_changed', link_changed, 'unusual_hour', unusual,
                                'hour_utc', hour);
end $$;

-- me_pending as in 00060, except that a session's own step_up (a risky
-- sign-in) raises its bar to a passkey.
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
           case when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
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
       and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''));
  else
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- consume_magic_link as in 00005, and the sign-in is scored: the score is
-- stored on the session and audited, and a score at or above the org's
-- risk_threshold makes the session need a passkey (step_up).
create or replace function app.consume_magic_link(
  p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea,
  p_ip inet, p_ua text, p_request text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  l app.magic_links%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  live boolean;
  r record;
  step text;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32
     or (p_verifier_hash is not null and octet_length(p_verifier_hash) <> 32) then
    raise exception 'consume_magic_link: token, verifier and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into l from app.magic_links ml where ml.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  select exists (select from app.memberships ms where ms.org_id = l.org_id and ms.user_id = l.user_id
                   and ms.revoked_at is null) into live;
  status := case
    when l.used_at is not null then 'used'
    when l.expires_at <= now() then 'expired'
    when not live then 'invalid'
    when l.verifier_hash is not null and (p_verifier_hash is null or p_verifier_hash <> l.verifier_hash)
      then 'wrong_browser'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(l.org_id, 'auth.signin', 'denied', 'user', l.user_id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'magic_link', 'reason', status), p_actor => l.user_id);
    return;
  end if;
  update app.magic_links ml set used_at = now() where ml.id = l.id;

  select * into o from app.orgs where id = l.org_id;
  select * into pol from app.instance_policy;
  select * into r from private.signin_risk(l.org_id, l.user_id, p_ip, p_ua, l.request_ip);
  step := case when o.risk_threshold is not null and r.score >= o.risk_threshold then 'passkey' end;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, risk_score, step_up)
  values (l.org_id, l.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now(), least(r.score, 200), step)
  returning id into session_id;
  user_id := l.user_id; org_id := l.org_id;
  perform audit.append_as(l.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'magic_link', 'browser_bound', l.verifier_hash is not null,
                                    'aal', 1,
                                    'risk', jsonb_build_object('score', r.score, 'reasons', to_jsonb(r.reasons),
                                                               'signals', r.signals, 'threshold', o.risk_threshold,
                                                               'step_up', step)),
    p_actor => l.user_id);
end $$;

-- passkey_assert as in 00021, and a passkey sign-in is scored and the
-- score audited like a link's; a UV passkey already meets the step-up a
-- risky score asks for, so nothing is held back.
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
                            assurance, amr, authenticated_at, risk_score)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), least(r.score, 200))
  returning id into session_id;
  perform audit.append_as(k.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'risk', jsonb_build_object('score', r.score, 'reasons', to_jsonb(r.reasons),
                                                               'signals', r.signals, 'threshold', o.risk_threshold,
                                                               'step_up', null)));
end $$;

-- set_risk_policy (an admin who stepped up within 10 minutes) sets the
-- org's risk threshold (NULL: not enforced). Sessions already issued keep
-- their bar.
create function app.set_risk_policy(p_threshold int, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old int;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_threshold is not null and p_threshold not between 1 and 200 then
    raise exception 'risk_threshold must be 1..200, or null to record scores only' using errcode = '22023';
  end if;
  select o.risk_threshold into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set risk_threshold = p_threshold where o.id = me.org_id;
  perform audit.append_as(me.org_id, 'org.risk_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('risk_threshold', p_threshold, 'old_risk_threshold', old));
end $$;
-- +goose StatementEnd

alter function private.signin_net(inet) owner to ward_rls;
alter function private.me_pending() owner to ward_rls;
revoke all on function private.signin_net(inet), private.signin_risk(uuid, uuid, inet, text, inet),
  app.set_risk_policy(int, text) from public;
grant execute on function private.signin_net(inet), private.signin_risk(uuid, uuid, inet, text, inet) to ward_definer;
alter function app.set_risk_policy(int, text) owner to ward_definer;
grant execute on function app.set_risk_policy(int, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
