-- The creation event of an API key records the scopes the key holds, not
-- the caller's list (LOW, the h173 admin review). app.create_api_key
-- (00206) stores the scopes deduplicated and sorted but logged p_scopes as
-- sent: a request repeating `members` 5,000 times made a key with one scope
-- and an audit event carrying 5,000 entries, a record that differs from
-- the key it describes and bloats the org's chain and its SIEM exports.
-- The event now carries the stored array. Nothing else changes.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  kid uuid;
  held text[];
begin
  select * into me from private.credential_maker(p_key_hash, 'create_api_key: the key hash');
  if p_expires_at is not null and (p_expires_at <= now() or p_expires_at > now() + interval '366 days') then
    raise exception 'expires_at must be in the future and within a year' using errcode = '22023';
  end if;
  insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by, expires_at)
  values (me.org_id, p_key_hash, p_prefix, p_name, (select array_agg(distinct s order by s) from unnest(p_scopes) s),
          me.user_id, p_expires_at)
  returning id, scopes into kid, held;
  perform audit.append_as(me.org_id, 'auth.api_key.create', 'success', 'api_key', kid, p_request => p_request,
    p_details => jsonb_build_object('scopes', held, 'expires_at', p_expires_at, 'prefix', p_prefix));
  return kid;
end $$;
-- +goose StatementEnd
alter function app.create_api_key(bytea, text, text, text[], timestamp with time zone, text) owner to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
