-- "Forget this device": a member who sees a session they do not recognise,
-- or who lost a phone, can say so. Until now every session of the last 90
-- days vouched for its device (device key, or user agent) and network in
-- the sign-in risk score (00088), revoked or not, so a thief signing in on
-- the lost phone, or from the network of a session the member did not
-- recognise, scored as a known device and network.
--
--   * app.sessions.device_forgotten_at: set by app.forget_session_device
--     on the named session and on every other session of the member in the
--     org that names the same device: the same device key (a DPoP-bound
--     session), or the same user agent (the signal a sign-in without a
--     proof is matched on). A user agent is shared by many machines, so
--     this over-forgets in the safe direction: the member's next sign-in
--     from such a machine scores as a new device. Only the named session is
--     ended (reason device_forgotten) if it is live: other live sessions
--     with the same user agent may be other machines.
--   * private.signin_risk skips forgotten sessions for all three of its
--     history signals (device, network, usual hours).
--   * Who forgets is the credential's member (private.me(): a full session,
--     never an API key or a pending session; break-glass access changes no
--     credential), and only their own sessions in their org; the call is
--     audited as session.revoke with reason device_forgotten.

-- +goose Up
set local role ward_owner;

alter table app.sessions add column device_forgotten_at timestamptz;
grant select (device_forgotten_at) on app.sessions to ward_app;

-- +goose StatementBegin
create or replace function private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb) RETURNS record
language plpgsql stable set search_path = '' as $_$
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
  -- One pass over the member's sessions of the last 90 days, but those of
  -- a device the member forgot (00155): they vouch for no device, network
  -- or hour.
  select not coalesce(bool_or(case when jkt is not null then s.dpop_jkt = jkt
                                   else s.user_agent is not distinct from ua end), false),
         net is null or not coalesce(bool_or(s.ip <<= net), false),
         coalesce(array_agg(extract(hour from s.created_at at time zone 'UTC')::int), '{}')
    into new_device, new_network, hours
    from app.sessions s where s.org_id = p_org and s.user_id = p_user and s.created_at > since
                          and s.device_forgotten_at is null;
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
end $_$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.forget_session_device(p_session uuid, p_request text default null,
  out forgotten int, out ended boolean)
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
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
  update app.sessions x set device_forgotten_at = now()
   where x.org_id = me.org_id and x.user_id = me.user_id and x.device_forgotten_at is null
     and (x.id = s.id or x.user_agent is not distinct from s.user_agent
          or (s.dpop_jkt is not null and x.dpop_jkt = s.dpop_jkt));
  get diagnostics forgotten = row_count;
  ended := s.revoked_at is null;
  -- The event first: ending the caller's own session ends the credential
  -- that names the actor.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', s.id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('reason', 'device_forgotten', 'ended', ended,
                                                           'sessions_forgotten', forgotten));
  if ended then
    update app.sessions x set revoked_at = now(), revoked_reason = 'device_forgotten'
     where x.org_id = me.org_id and x.id = s.id;
  end if;
end $$;
-- +goose StatementEnd
alter function app.forget_session_device(uuid, text) owner to ward_definer;
revoke all on function app.forget_session_device(uuid, text) from public;
grant execute on function app.forget_session_device(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
