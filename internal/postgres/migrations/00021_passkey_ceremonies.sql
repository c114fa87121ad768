-- Passkey ceremonies, decided in SQL as far as SQL can (issue 8 §2).
--
-- PostgreSQL cannot verify an ECDSA or RSA signature, so the server does
-- that one step (go-webauthn) and nothing else is taken from it: the
-- database makes the challenge, binds it to the session or browser that
-- asked, spends it once by its own clock, and parses the signed bytes
-- itself — clientDataJSON (type, challenge, origin, not cross-origin) and
-- authenticatorData (the RP ID hash, user presence and user verification,
-- the backup flags, the signature counter, and for a registration the
-- credential id and the public key) — against what it stored with the
-- challenge. A sign-count that does not move forward refuses the assertion
-- and is audited (auth.passkey.sign_count_regression).
--
-- A ceremony's finish runs in one transaction: app.passkey_take spends
-- the challenge (whatever happens next: a failed signature does not give
-- it back); app.passkey_credential hands the server the public key to
-- verify with; then app.passkey_register or app.passkey_assert (signature
-- good) or app.passkey_refuse (signature bad) finishes it. The finishing
-- procedures accept only a challenge spent in the same transaction.
--
-- A UV passkey is AAL2 (amr passkey): a first-factor sign-in creates an
-- AAL2 session; as a second factor it raises the presenting session like
-- TOTP does; registering one raises the session too (its first use), and
-- is allowed from a pending session only while the member has no second
-- factor at all (the first enrolment), else only after a second factor
-- presented within 10 minutes.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- webauthn_b64url is the unpadded base64url text of b.
create function private.webauthn_b64url(b bytea) returns text
language sql immutable strict set search_path = '' as $$
  select rtrim(translate(encode(b, 'base64'), E'+/\n', '-_'), '=')
$$;

-- webauthn_user_handle is the WebAuthn user handle of a membership: the
-- org id's 16 bytes followed by the user id's.
create function private.webauthn_user_handle(p_org uuid, p_user uuid) returns bytea
language sql immutable strict set search_path = '' as $$
  select uuid_send(p_org) || uuid_send(p_user)
$$;

-- webauthn_client_data reports whether clientDataJSON is of type p_type
-- for challenge p_challenge at origin p_origin, and not cross-origin.
create function private.webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text)
returns boolean
language plpgsql immutable set search_path = '' as $$
declare
  j jsonb;
begin
  if p_client_data is null or octet_length(p_client_data) > 4096 then
    return false;
  end if;
  begin
    j := convert_from(p_client_data, 'UTF8')::jsonb;
  exception when others then
    return false;
  end;
  return jsonb_typeof(j) = 'object'
     and j->>'type' is not distinct from p_type
     and j->>'challenge' is not distinct from private.webauthn_b64url(p_challenge)
     and j->>'origin' is not distinct from p_origin
     and coalesce(j->'crossOrigin', 'false'::jsonb) = 'false'::jsonb;
end $$;

-- webauthn_auth_data parses authenticatorData for RP ID p_rp_id: ok when
-- the RP ID hash matches and the user was present and verified (UP, UV)
-- and the backup flags are consistent (no BS without BE). With attested
-- credential data (AT) it also returns the AAGUID, the credential id and
-- the offset of the public key that follows it.
create function private.webauthn_auth_data(p_auth_data bytea, p_rp_id text,
  out ok boolean, out backup_eligible boolean, out backup_state boolean, out sign_count bigint,
  out aaguid uuid, out credential_id bytea, out key_offset int)
language plpgsql immutable set search_path = '' as $$
declare
  flags int;
  n int;
begin
  ok := false;
  if p_auth_data is null or octet_length(p_auth_data) < 37 or p_rp_id is null then
    return;
  end if;
  flags := get_byte(p_auth_data, 32);
  backup_eligible := flags & 8 <> 0;
  backup_state := flags & 16 <> 0;
  sign_count := (get_byte(p_auth_data, 33)::bigint << 24) | (get_byte(p_auth_data, 34)::bigint << 16)
              | (get_byte(p_auth_data, 35)::bigint << 8) | get_byte(p_auth_data, 36)::bigint;
  if substring(p_auth_data from 1 for 32) <> pg_catalog.sha256(convert_to(p_rp_id, 'UTF8'))
     or flags & 1 = 0 or flags & 4 = 0 or (backup_state and not backup_eligible) then
    return;
  end if;
  if flags & 64 <> 0 then
    if octet_length(p_auth_data) < 55 then
      return;
    end if;
    aaguid := encode(substring(p_auth_data from 38 for 16), 'hex')::uuid;
    n := (get_byte(p_auth_data, 53) << 8) | get_byte(p_auth_data, 54);
    if n < 16 or n > 1023 or octet_length(p_auth_data) < 55 + n + 1 then
      return;
    end if;
    credential_id := substring(p_auth_data from 56 for n);
    key_offset := 56 + n;
  end if;
  ok := true;
end $$;

-- passkey_has_factor reports whether the member has a second factor: a
-- confirmed TOTP factor or a passkey. It and passkey_spent run with the
-- rights of their caller, the definer procedures below (only ward_definer
-- may execute them).
create function private.passkey_has_factor(p_org uuid, p_user uuid) returns boolean
language sql stable set search_path = '' as $$
  select exists (select from app.totp_factors f where f.org_id = p_org and f.user_id = p_user
                   and f.confirmed_at is not null)
      or exists (select from app.passkeys k where k.org_id = p_org and k.user_id = p_user)
$$;

-- passkey_begin makes a challenge for a ceremony (p_purpose) and returns
-- it with what the options need. 'signin' (no credential needed) binds it
-- to p_binder_hash, the SHA-256 of the browser's binder. 'register' and
-- 'verify' bind it to the presented session, pending or not: 'register'
-- needs a second factor within 10 minutes unless the member has none yet
-- (42501, hint step_up_required), and returns the member's credential ids
-- to exclude and their stored address (instance AEAD) for the user name;
-- 'verify' needs a passkey (P0002) and returns the member's credential ids
-- to allow. p_rp_id and p_origin are the server's configuration, stored
-- with the challenge and checked against the signed bytes at the finish.
create function app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea default null,
  out challenge bytea, out user_handle bytea, out email_enc bytea, out credential_ids bytea[],
  out expires_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
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

-- passkey_take spends the challenge p_challenge for a ceremony of
-- p_purpose, whatever the outcome, and says whether it may go on: 'ok',
-- 'invalid' (unknown, or made for another ceremony), 'used', 'expired' or
-- 'wrong_binding' (another session or browser asked for it). A refusal is
-- audited; the caller commits whatever the status. On 'ok' it returns the
-- RP ID, origin and user handle (none for a sign-in) to verify against.
create function app.passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea default null,
  p_request text default null, p_ip text default null, p_ua text default null,
  out status text, out rp_id text, out origin text, out user_handle bytea, out expires_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype;
  me record;
  s app.sessions%rowtype;
  v_org uuid;
  v_user uuid;
  v_session uuid;
begin
  select * into c from app.passkey_challenges x where x.challenge = p_challenge for update;
  if p_purpose is not distinct from 'signin' then
    status := case
      when c.id is null or c.purpose <> 'signin' then 'invalid'
      when c.used_at is not null then 'used'
      when c.expires_at <= now() then 'expired'
      when p_binder_hash is null or p_binder_hash <> c.binder_hash then 'wrong_binding'
      else 'ok' end;
  else
    select * into me from private.me_pending();
    v_org := me.org_id; v_user := me.user_id; v_session := me.session_id;
    status := case
      when v_session is null or c.id is null or c.purpose is distinct from p_purpose then 'invalid'
      when c.used_at is not null then 'used'
      when c.expires_at <= now() then 'expired'
      when v_session is distinct from c.session_id then 'wrong_binding'
      else 'ok' end;
  end if;
  if c.id is not null and c.used_at is null then
    update app.passkey_challenges x set used_at = now(),
           used_xid = case when status = 'ok' then pg_current_xact_id() end
     where x.id = c.id;
  end if;
  if status = 'ok' then
    rp_id := c.rp_id; origin := c.origin; expires_at := c.expires_at;
    if c.session_id is not null then
      select * into s from app.sessions x where x.id = c.session_id;
      user_handle := private.webauthn_user_handle(s.org_id, s.user_id);
    end if;
    return;
  end if;
  perform audit.append_as(coalesce(v_org, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid),
    case p_purpose when 'register' then 'auth.passkey.register' when 'verify' then 'auth.mfa.verify'
                   else 'auth.signin' end,
    'denied', case when v_session is not null then 'session' end, v_session,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => v_user,
    p_details => jsonb_build_object('method', 'passkey', 'reason', 'challenge_' || status));
end $$;

-- passkey_spent returns the challenge spent in this transaction for
-- p_purposes, or raises 42501: the finishing procedures act only on it.
create function private.passkey_spent(p_challenge bytea, p_purposes text[]) returns app.passkey_challenges
language plpgsql stable set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype;
begin
  select * into c from app.passkey_challenges x
   where x.challenge = p_challenge and x.used_xid = pg_current_xact_id() and x.purpose = any (p_purposes);
  if not found then
    raise exception 'forbidden: no challenge spent in this transaction' using errcode = '42501';
  end if;
  return c;
end $$;

-- passkey_credential returns the passkey p_credential_id answering the
-- sign-in or second-factor challenge spent in this transaction: for a
-- second factor only one of the session's member; for a sign-in only one
-- of a live membership whose user handle is p_user_handle. No such
-- passkey (the server refuses the assertion): every column NULL.
create function app.passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea,
  out id uuid, out org_id uuid, out user_id uuid, out public_key bytea, out sign_count bigint,
  out backup_eligible boolean, out backup_state boolean, out aaguid uuid)
language plpgsql stable security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin,verify}');
begin
  select k.id, k.org_id, k.user_id, k.public_key, k.sign_count, k.backup_eligible, k.backup_state, k.aaguid
    into id, org_id, user_id, public_key, sign_count, backup_eligible, backup_state, aaguid
    from app.passkeys k
    join app.memberships m on m.org_id = k.org_id and m.user_id = k.user_id and m.revoked_at is null
    left join app.sessions s on s.id = c.session_id
   where k.credential_id = p_credential_id
     and private.webauthn_user_handle(k.org_id, k.user_id) = p_user_handle
     and (c.session_id is null or (s.org_id = k.org_id and s.user_id = k.user_id));
end $$;

-- passkey_register finishes a registration whose signature and
-- attestation the server verified: the database checks the client data
-- and authenticator data against the challenge spent in this transaction
-- (by the presented session), that p_public_key is the key the
-- authenticator attested, and that the member may still register; stores
-- the passkey, raises the session to AAL2 (amr passkey, authenticated
-- now) and audits. Status 'ok' (with the passkey's id), 'invalid' or
-- 'exists' (the credential is registered already); refusals are audited.
create function app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea,
  p_public_key bytea, p_name text, p_transports text[], p_request text default null,
  p_ip text default null, p_ua text default null, out status text, out passkey_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
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

-- passkey_assert finishes an assertion whose signature the server
-- verified with the key passkey_credential gave it. The database checks
-- the client data and authenticator data against the challenge spent in
-- this transaction (UV required, the backup-eligible flag unchanged) and
-- that the counter moved forward (unless the authenticator keeps none:
-- both zero). Then for a sign-in it creates an AAL2 session (amr passkey)
-- with the token hash p_session_hash, with the org's session policy capped
-- by the instance's; for a second factor it raises the presenting session
-- to AAL2 (passkey in amr, authenticated now). Status 'ok', 'invalid', or
-- 'sign_count' (a regression: refused, and audited as
-- auth.passkey.sign_count_regression). The caller commits whatever the
-- status.
create function app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea,
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
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now())
  returning id into session_id;
  perform audit.append_as(k.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id));
end $$;

-- passkey_refuse records a ceremony the server refused (bad signature or
-- attestation, UV missing, wrong origin or RP ID, unknown credential) for
-- the challenge spent in this transaction; p_reason is one word. The event
-- goes to the org of the passkey p_credential_id names, else the
-- challenge's, else the instance's.
create function app.passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text,
  p_request text default null, p_ip text default null, p_ua text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{register,signin,verify}');
  k app.passkeys%rowtype;
  s app.sessions%rowtype;
begin
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'passkey_refuse: the reason is one lower-case word' using errcode = '22023';
  end if;
  if c.session_id is not null then
    select * into s from app.sessions x where x.id = c.session_id;
  else
    select * into k from app.passkeys x where x.credential_id = p_credential_id;
  end if;
  perform audit.append_as(coalesce(s.org_id, k.org_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid),
    case c.purpose when 'register' then 'auth.passkey.register' when 'verify' then 'auth.mfa.verify'
                   else 'auth.signin' end,
    'denied', case when s.id is not null then 'session' when k.id is not null then 'user' end,
    coalesce(s.id, k.user_id), p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_actor => coalesce(s.user_id, k.user_id),
    p_details => jsonb_build_object('method', 'passkey', 'reason', p_reason));
end $$;
-- +goose StatementEnd

alter function private.webauthn_b64url(bytea) owner to ward_rls;
alter function private.webauthn_user_handle(uuid, uuid) owner to ward_rls;
alter function private.webauthn_client_data(bytea, text, bytea, text) owner to ward_rls;
alter function private.webauthn_auth_data(bytea, text) owner to ward_rls;
alter function app.passkey_begin(text, text, text, bytea) owner to ward_definer;
alter function app.passkey_take(bytea, text, bytea, text, text, text) owner to ward_definer;
alter function app.passkey_credential(bytea, bytea, bytea) owner to ward_definer;
alter function app.passkey_register(bytea, bytea, bytea, bytea, text, text[], text, text, text) owner to ward_definer;
alter function app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text) owner to ward_definer;
alter function app.passkey_refuse(bytea, bytea, text, text, text, text) owner to ward_definer;
revoke all on function private.webauthn_b64url(bytea), private.webauthn_user_handle(uuid, uuid),
  private.webauthn_client_data(bytea, text, bytea, text), private.webauthn_auth_data(bytea, text),
  private.passkey_has_factor(uuid, uuid), private.passkey_spent(bytea, text[]),
  app.passkey_begin(text, text, text, bytea), app.passkey_take(bytea, text, bytea, text, text, text),
  app.passkey_credential(bytea, bytea, bytea),
  app.passkey_register(bytea, bytea, bytea, bytea, text, text[], text, text, text),
  app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text),
  app.passkey_refuse(bytea, bytea, text, text, text, text) from public;
grant execute on function private.webauthn_b64url(bytea), private.webauthn_user_handle(uuid, uuid),
  private.webauthn_client_data(bytea, text, bytea, text), private.webauthn_auth_data(bytea, text),
  private.passkey_has_factor(uuid, uuid), private.passkey_spent(bytea, text[]) to ward_definer;
grant execute on function app.passkey_begin(text, text, text, bytea), app.passkey_take(bytea, text, bytea, text, text, text),
  app.passkey_credential(bytea, bytea, bytea),
  app.passkey_register(bytea, bytea, bytea, bytea, text, text[], text, text, text),
  app.passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text),
  app.passkey_refuse(bytea, bytea, text, text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
