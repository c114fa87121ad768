-- An attacker's review of the sign-in flows (2026-12-01) found:
--
-- 1. app.totp_enrol refused only over a confirmed TOTP factor, not over a
--    passkey: whoever read a passkey holder's mail signed in (AAL1,
--    pending), enrolled their own TOTP, confirmed it and was AAL2, with a
--    fresh step-up for everything (members, API keys, deleting the
--    victim's passkeys). Now a member who holds any factor enrols TOTP
--    only after presenting one within the last 10 minutes
--    (step_up_required), as passkey registration already required.
-- 2. Passkey registration accepted any fresh second factor, so a member's
--    mail plus one phished TOTP code minted a passkey and cleared
--    require_passkey. Now a member who holds a passkey registers another
--    only from a session that presented a passkey (hint
--    passkey_step_up_required). A member with TOTP alone still registers
--    a first passkey after a TOTP step-up, so moving an org to
--    require_passkey keeps working.
-- 3. A break-glass session (emergency reading, 60 minutes, nothing renews
--    it) could weaken the assurance and session policies and create an
--    API key, a credential that outlives it; the other policy procedures
--    already refused it. Now these refuse it too (hint
--    break_glass_not_allowed), and so do TOTP enrolment and passkey
--    registration.
-- 4. app.set_assurance_policy and app.set_session_policy checked the role
--    only; the 10-minute step-up was the server's word. They check it now.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if exists (select from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id
               and f.confirmed_at is not null) then
    raise exception 'a confirmed TOTP factor exists' using errcode = '23505';
  end if;
  -- A member who holds a factor adds another only after presenting one:
  -- else whoever reads their mail enrols their own TOTP and is AAL2.
  if private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_secret_hash) is distinct from 32 or coalesce(octet_length(p_secret_enc), 0) < 20 then
    raise exception 'totp_enrol: a sealed secret and its 32-byte hash are required' using errcode = '22023';
  end if;
  insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash)
  values (me.org_id, me.user_id, p_secret_enc, p_secret_hash)
  on conflict (org_id, user_id) do update
    set secret_enc = excluded.secret_enc, secret_hash = excluded.secret_hash, created_at = now(),
        last_step = null, failures = 0, locked_until = null
    where app.totp_factors.confirmed_at is null;
  if not found then
    raise exception 'a confirmed TOTP factor exists' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.enrol', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'session', me.session_id));
end $$;

create or replace function app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea DEFAULT NULL::bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if p_purpose is null or p_purpose not in ('register', 'signin', 'verify') then
    raise exception 'passkey_begin: purpose is register, signin or verify' using errcode = '22023';
  end if;
  if p_rp_id is null or p_origin is null then
    raise exception 'passkey_begin: the RP ID and origin are required' using errcode = '22023';
  end if;
  delete from app.passkey_challenges c where c.expires_at < now() - interval '1 hour';
  challenge := ext.gen_random_bytes(32);
  expires_at := now() + interval '5 minutes';
  if p_purpose = 'signin' then
    if octet_length(p_binder_hash) is distinct from 32 then
      raise exception 'passkey_begin: a sign-in is bound to a 32-byte binder hash' using errcode = '22023';
    end if;
    insert into app.passkey_challenges (challenge, purpose, binder_hash, rp_id, origin, expires_at)
    values (challenge, 'signin', p_binder_hash, p_rp_id, p_origin, expires_at);
    return;
  end if;
  select * into me from private.me_pending();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_purpose = 'register' and private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  -- Another passkey after a passkey: only a passkey vouches for it (a TOTP
  -- code is phishable, and require_passkey exists to refuse that).
  if p_purpose = 'register' and exists (select from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id)
     and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'step-up required: present one of your passkeys first' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if p_purpose = 'register' and me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select coalesce(array_agg(k.credential_id order by k.created_at), '{}') into credential_ids
    from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id;
  if p_purpose = 'verify' and cardinality(credential_ids) = 0 then
    raise exception 'no passkey' using errcode = 'P0002';
  end if;
  user_handle := private.webauthn_user_handle(me.org_id, me.user_id);
  if p_purpose = 'register' then
    select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  end if;
  insert into app.passkey_challenges (challenge, purpose, org_id, session_id, rp_id, origin, expires_at)
  values (challenge, p_purpose, me.org_id, me.session_id, p_rp_id, p_origin, expires_at);
end $$;

create or replace function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT passkey_id uuid) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{register}');
  me record;
  a record;
begin
  select * into me from private.me_pending();
  if me.session_id is distinct from c.session_id then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if private.passkey_has_factor(me.org_id, me.user_id) and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if exists (select from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id)
     and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'step-up required: present one of your passkeys first' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.create', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.credential_id is null or p_public_key is null
      or substring(p_auth_data from a.key_offset for octet_length(p_public_key)) is distinct from p_public_key then 'invalid'
    when p_name is null or length(p_name) not between 1 and 100 or cardinality(p_transports) > 8 then 'invalid'
    when exists (select from app.passkeys k where k.credential_id = a.credential_id) then 'exists'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(me.org_id, 'auth.passkey.register', 'denied', 'session', me.session_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status));
    return;
  end if;
  insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, sign_count, backup_eligible,
                            backup_state, transports, name)
  values (me.org_id, me.user_id, a.credential_id, p_public_key, a.aaguid, a.sign_count, a.backup_eligible,
          a.backup_state, coalesce(p_transports, '{}'), p_name)
  returning id into passkey_id;
  update app.sessions s set assurance = 2, authenticated_at = now(),
         amr = (select array_agg(distinct x order by x) from unnest(s.amr || array['passkey']) x)
   where s.id = me.session_id;
  perform audit.append_as(me.org_id, 'auth.passkey.register', 'success', 'passkey', passkey_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('session', me.session_id, 'aaguid', a.aaguid,
                                    'backup_eligible', a.backup_eligible, 'backup_state', a.backup_state));
end $$;

create or replace function app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old app.orgs%rowtype;
  ended int;
begin
  select * into me from private.me_pending() where pending is null;
  if me.role is distinct from 'admin' then
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
  if p_require_mfa is null or p_require_passkey is null then
    raise exception 'require_mfa and require_passkey are both required' using errcode = '22023';
  end if;
  if p_require_passkey and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'require_passkey may be set only from a session signed in with a passkey' using errcode = '22023';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  update app.orgs set require_mfa = p_require_mfa, require_passkey = p_require_passkey where id = me.org_id;
  update app.sessions s set revoked_at = now(), revoked_reason = 'assurance_policy'
    from app.memberships m
   where m.org_id = s.org_id and m.user_id = s.user_id
     and s.org_id = me.org_id and s.revoked_at is null
     and not private.meets_bar(private.assurance_bar(m.role, p_require_mfa, p_require_passkey), s.assurance, s.amr);
  get diagnostics ended = row_count;
  perform audit.append_as(me.org_id, 'org.assurance_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('require_mfa', p_require_mfa, 'require_passkey', p_require_passkey,
                                    'old_require_mfa', old.require_mfa, 'old_require_passkey', old.require_passkey,
                                    'sessions_ended', ended));
  return ended;
end $$;

create or replace function app.set_session_policy(p_idle integer, p_abs integer, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old app.orgs%rowtype;
  pol app.instance_policy%rowtype;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
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
  select * into pol from app.instance_policy;
  if p_idle is null or p_idle < 1 or p_idle > pol.session_idle_max_min then
    raise exception 'session_idle_timeout_min must be 1..% (the instance policy caps it)', pol.session_idle_max_min
      using errcode = '22023';
  elsif p_abs is null or p_abs < 5 or p_abs > pol.session_absolute_max_min then
    raise exception 'session_absolute_max_min must be 5..% (the instance policy caps it)', pol.session_absolute_max_min
      using errcode = '22023';
  elsif p_idle > p_abs then
    raise exception 'session_idle_timeout_min may not exceed session_absolute_max_min' using errcode = '22023';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  -- The event first: the change may end the caller's own session, after
  -- which the credential would no longer name the actor.
  perform audit.append_as(me.org_id, 'org.session_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('idle_min', p_idle, 'absolute_min', p_abs,
                                    'old_idle_min', old.session_idle_timeout_min,
                                    'old_absolute_min', old.session_absolute_max_min));
  update app.orgs set session_idle_timeout_min = p_idle, session_absolute_max_min = p_abs
   where id = me.org_id;
  update app.sessions s
     set idle_timeout_min = least(s.idle_timeout_min, p_idle),
         absolute_expires_at = least(s.absolute_expires_at, s.created_at + make_interval(mins => p_abs))
   where s.org_id = me.org_id and s.revoked_at is null;
end $$;

create or replace function app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  kid uuid;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
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
  if octet_length(p_key_hash) is distinct from 32 then
    raise exception 'create_api_key: the key hash is 32 bytes' using errcode = '22023';
  end if;
  if p_expires_at is not null and (p_expires_at <= now() or p_expires_at > now() + interval '366 days') then
    raise exception 'expires_at must be in the future and within a year' using errcode = '22023';
  end if;
  insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by, expires_at)
  values (me.org_id, p_key_hash, p_prefix, p_name, (select array_agg(distinct s order by s) from unnest(p_scopes) s),
          me.user_id, p_expires_at)
  returning id into kid;
  perform audit.append_as(me.org_id, 'auth.api_key.create', 'success', 'api_key', kid, p_request => p_request,
    p_details => jsonb_build_object('scopes', p_scopes, 'expires_at', p_expires_at, 'prefix', p_prefix));
  return kid;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
