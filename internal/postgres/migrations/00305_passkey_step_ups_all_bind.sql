-- A session is bound to every passkey that stepped it up, not only to the
-- first (a review of 00292, LOW). 00292 bound a session a passkey steps up
-- to that passkey only when it was bound to none yet: a sign-in link's
-- session stepped up by passkey A and later by passkey B (or a passkey
-- sign-in of A's stepped up again by B) stayed bound to A alone, so
-- deleting B, the one thought lost or copied, left the session that B's
-- holder raised to AAL2 (and renewed the step-up window of) for the rest
-- of its lifetime, while deleting A ended it.
--
-- The rule: a session ends with the deletion of any passkey that created
-- it or stepped it up. app.sessions.step_up_passkey_ids records the
-- passkeys that stepped a session up besides the one in passkey_id (which
-- keeps the passkey that created it, or the first that stepped it up, as
-- since 00080/00292, and with it the resolver's check that the passkey
-- still exists). app.passkey_assert adds the passkey of each later
-- step-up; app.passkey_delete counts (sessions_ended) and revokes
-- (passkey_deleted) the sessions whose passkey_id is the passkey or whose
-- step_up_passkey_ids holds it. Passkeys are deleted one at a time only by
-- app.passkey_delete (a membership's end deletes all of them and ends its
-- sessions), so the resolver needs no second check. Sessions stepped up
-- before this migration keep the binding 00292 gave them. Otherwise both
-- functions are as in 00292 and 00195.
-- +goose Up
set local role ward_owner;

alter table app.sessions add column step_up_passkey_ids uuid[] not null default '{}';
comment on column app.sessions.step_up_passkey_ids is
  'the passkeys that stepped the session up besides passkey_id (00305): deleting any of them ends the session';

-- +goose StatementBegin
create or replace function app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea DEFAULT NULL::bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
    -- (00292) the first passkey that steps a session up binds it, as a
    -- passkey sign-in does: its deletion ends the session. (00305) every
    -- later one binds it too (step_up_passkey_ids): the deletion of any
    -- passkey that stepped the session up ends it.
    update app.sessions x set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct v order by v) from unnest(x.amr || array['passkey']) v),
           passkey_id = coalesce(x.passkey_id, k.id),
           step_up_passkey_ids = case
             when x.passkey_id is null or x.passkey_id = k.id or x.step_up_passkey_ids @> array[k.id]
               then x.step_up_passkey_ids
             else x.step_up_passkey_ids || k.id end
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

-- +goose StatementEnd

alter function app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text) owner to ward_definer;
revoke all on function app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text) from public;
grant execute on function app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text) to ward_app;

-- +goose StatementBegin
create or replace function app.passkey_delete(p_id uuid, p_request text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  -- Every passkey of the member, locked in one order: two deletions of
  -- the member's passkeys take turns, so the second counts what the first
  -- left (each counting the other's passkey as left let both through, and
  -- the member kept no factor).
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id order by k.id for update;
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
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
  -- (00305) the sessions it signed in or stepped up, first or later.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and (s.passkey_id = p_id or s.step_up_passkey_ids @> array[p_id])
     and s.revoked_at is null;
  perform audit.append_as(me.org_id, 'auth.passkey.delete', 'success', 'passkey', p_id, p_request => p_request,
    p_details => jsonb_build_object('passkeys_left', left_passkeys, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'passkey_deleted'
   where s.org_id = me.org_id and (s.passkey_id = p_id or s.step_up_passkey_ids @> array[p_id])
     and s.revoked_at is null;
  delete from app.passkeys k where k.org_id = me.org_id and k.id = p_id;
  return 'ok';
end $$;

-- +goose StatementEnd

alter function app.passkey_delete(uuid, text) owner to ward_definer;
revoke all on function app.passkey_delete(uuid, text) from public;
grant execute on function app.passkey_delete(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
