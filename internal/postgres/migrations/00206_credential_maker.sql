-- app.create_scim_token and app.create_api_key (00196) each carried the
-- same checks of their caller, word for word: a live admin's session, not
-- a break-glass one, that stepped up within the last 10 minutes, with the
-- credential's hash 32 bytes long, and the creator's membership row held
-- (for share) until the creation commits, so that a revocation or demotion
-- that began first is seen and one that comes later revokes the new
-- credential (app.membership_revoked). private.credential_maker now does
-- them for both, in the same order and with the same errors; the caller
-- passes only the hash and the words its length error begins with, and
-- the helper reads the principal itself. It is not a definer: it runs as
-- the definer that calls it, and only ward_definer may.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.credential_maker(p_hash bytea, p_hash_name text, out user_id uuid, out org_id uuid)
    LANGUAGE plpgsql
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
  if octet_length(p_hash) is distinct from 32 then
    raise exception '% is 32 bytes', p_hash_name using errcode = '22023';
  end if;
  -- The creator's membership, held until the creation commits: a
  -- revocation or demotion that began first is waited for and then seen
  -- (refused here), and one that comes later waits and then revokes the
  -- new credential (app.membership_revoked). Without it a SCIM token
  -- created as its creator was revoked outlived them (it resolves without
  -- its creator), and an API key waited, unrevoked, for its creator to be
  -- made admin again.
  perform from app.memberships m where m.org_id = me.org_id and m.user_id = me.user_id
     and m.revoked_at is null and m.role = 'admin'
     for share;
  if not found then
    raise exception 'forbidden: the caller''s standing changed' using errcode = '42501';
  end if;
  user_id := me.user_id;
  org_id := me.org_id;
end $$;
-- +goose StatementEnd

revoke all on function private.credential_maker(bytea, text) from public;
grant execute on function private.credential_maker(bytea, text) to ward_definer;

-- +goose StatementBegin
create or replace function app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  tid uuid;
begin
  select * into me from private.credential_maker(p_token_hash, 'create_scim_token: the token hash');
  insert into app.scim_tokens (org_id, token_hash, prefix, name, default_role, created_by)
  values (me.org_id, p_token_hash, p_prefix, p_name, coalesce(p_default_role, 'provider'), me.user_id)
  returning id into tid;
  perform audit.append_as(me.org_id, 'scim.token.create', 'success', 'scim_token', tid, p_request => p_request,
    p_details => jsonb_build_object('prefix', p_prefix, 'default_role', coalesce(p_default_role, 'provider')));
  return tid;
end $$;
-- +goose StatementEnd

alter function app.create_scim_token(bytea, text, text, text, text) owner to ward_definer;

-- +goose StatementBegin
create or replace function app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  kid uuid;
begin
  select * into me from private.credential_maker(p_key_hash, 'create_api_key: the key hash');
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

alter function app.create_api_key(bytea, text, text, text[], timestamp with time zone, text) owner to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
