-- Emergency access changes no configuration or credential, refused by the
-- database in every function that takes a step-up (from a security
-- review). The HTTP layer already refused break-glass sessions on every
-- step-up route, and earlier migrations made the database refuse the policies and API
-- keys; these five still trusted the server's check: SCIM tokens and
-- group roles, the SSO configuration (private.sso_admin, behind every
-- connection and domain change), deleting a passkey and regenerating
-- recovery codes. Each now raises 42501 with hint break_glass_not_allowed,
-- as app.create_api_key does. Everything else is as before.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  tid uuid;
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
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'create_scim_token: the token hash is 32 bytes' using errcode = '22023';
  end if;
  insert into app.scim_tokens (org_id, token_hash, prefix, name, default_role, created_by)
  values (me.org_id, p_token_hash, p_prefix, p_name, coalesce(p_default_role, 'provider'), me.user_id)
  returning id into tid;
  perform audit.append_as(me.org_id, 'scim.token.create', 'success', 'scim_token', tid, p_request => p_request,
    p_details => jsonb_build_object('prefix', p_prefix, 'default_role', coalesce(p_default_role, 'provider')));
  return tid;
end $$;;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.set_scim_group_role(p_group uuid, p_role text, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  g app.scim_groups%rowtype;
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
  update app.scim_groups x set role = p_role, updated_at = now(), version = x.version + 1
   where x.org_id = me.org_id and x.id = p_group
  returning * into g;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'scim.group.role', 'success', 'scim_group', g.id, p_request => p_request,
    p_details => jsonb_build_object('role', p_role));
  perform private.scim_apply_roles(me.org_id,
    coalesce((select array_agg(gm.user_id) from app.scim_group_members gm
               where gm.org_id = me.org_id and gm.group_id = g.id), '{}'), 'provider', p_request);
end $$;;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.sso_admin() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  me record;
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
end $$;;
-- +goose StatementEnd

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
end $$;;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.recovery_codes_generate(p_hashes bytea[], p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.session_id is null then
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
  if p_hashes is null or cardinality(p_hashes) <> 10 or array_ndims(p_hashes) <> 1
     or exists (select from unnest(p_hashes) h where h is null or octet_length(h) <> 32)
     or (select count(distinct h) from unnest(p_hashes) h) <> 10 then
    raise exception 'recovery_codes_generate: ten distinct 32-byte hashes' using errcode = '22023';
  end if;
  delete from app.recovery_codes r where r.org_id = me.org_id and r.user_id = me.user_id;
  insert into app.recovery_codes (org_id, user_id, code_hash)
  select me.org_id, me.user_id, h from unnest(p_hashes) h;
  perform audit.append_as(me.org_id, 'auth.recovery_codes.generate', 'success', 'user', me.user_id,
    p_request => p_request, p_details => jsonb_build_object('count', 10));
end $$;;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
