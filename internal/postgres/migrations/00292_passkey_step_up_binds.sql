-- A passkey's deletion ends the sessions it stepped up, not only those it
-- created (an attacker's review, LOW). Since 00080 a session a passkey
-- signed in (app.sessions.passkey_id) resolves only while that passkey
-- exists, and app.passkey_delete ends it: a passkey thought lost or
-- copied must not leave the sessions it opened. A session a sign-in link
-- opened and the passkey then raised to AAL2 (POST
-- /v1/auth/passkeys/verify/*) was bound to nothing: whoever read the
-- member's mail and held a copy of the passkey (a synced one, on an
-- account of the member's they took over) kept that AAL2 session after
-- the member deleted the passkey, for the rest of its lifetime, while the
-- same holder's passkey sign-in ended with it.
--
-- app.passkey_assert now binds a session that a passkey steps up to that
-- passkey, when the session is bound to none yet (a passkey sign-in or
-- break-glass keeps the passkey that created it): the resolver's check and
-- app.passkey_delete's revocation (reason passkey_deleted, counted in
-- sessions_ended) then hold for it as for a passkey's sign-in. Deleting
-- the passkey a session of one's own stepped up with ends that session
-- too, as deleting the one that created it does. Otherwise the function is
-- as in 00080.
-- +goose Up
set local role ward_owner;

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
    -- passkey sign-in does: its deletion ends the session.
    update app.sessions x set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct v order by v) from unnest(x.amr || array['passkey']) v),
           passkey_id = coalesce(x.passkey_id, k.id)
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
