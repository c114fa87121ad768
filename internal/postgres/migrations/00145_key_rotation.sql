-- Key rotation by the operator (`ward keys status`, `ward keys rotate`).
--
-- An org's AEAD keyset is rotated by adding a new AES-256-GCM key and
-- making it primary (envelope.Keyring.RotateOrgAEAD): new seals use it and
-- every older ciphertext still opens, since Tink's 5-byte prefix names the
-- key that sealed it. Then each document's data key, sealed under the org
-- keyset, is opened and sealed again under the new primary (DESIGN §3:
-- rotation rewraps data keys; objects are never re-encrypted). Root
-- rotation (a new root key) rewraps the keysets themselves without
-- changing a key inside.
--
-- Three functions, for ward_ops only (the operator's connection); ward_app
-- still never reads a wrapped keyset except its own org's through
-- app.org_keyset, and nothing here takes an identity, a lifetime or a limit
-- from its caller:
-- * app.ops_keysets(p_org) lists the wrapped aead and prf keysets (all
--   orgs and the instance when p_org is null) with their dates.
-- * app.ops_replace_keyset(p_org, p_purpose, p_old, p_new, p_kind) stores a
--   new wrapped keyset only if the stored one is still p_old (compare and
--   swap: two operators, or an operator and a second node, cannot lose
--   each other's rotation), sets rotated_at, and records keys.rotate or
--   keys.rewrap in the org's log (the instance's log for the instance
--   keyset), with the database role that did it.
-- * app.ops_data_keys(p_org, p_after, p_limit) pages an org's wrapped data
--   keys by version id; app.ops_rewrap_data_keys(p_org, ids, old, new)
--   replaces each only if it is still the old value, and records one
--   keys.data_keys.rewrap event with the count. A data key copied to
--   another row would not open there (it is sealed with its row id as
--   associated data), so a wrong replacement makes a document unreadable,
--   never readable by someone else; that power is the operator's already
--   (the key store is theirs).

-- +goose Up
set local role ward_owner;

grant update (wrapped, rotated_at) on private.keysets to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('keys.rotate', 'org', false, false, true, '{object}'),
  ('keys.rewrap', 'org', false, false, true, '{object}'),
  ('keys.data_keys.rewrap', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
create function app.ops_keysets(p_org uuid default null)
returns table (org_id uuid, purpose text, wrapped bytea, created_at timestamptz, rotated_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select k.org_id, k.purpose, k.wrapped, k.created_at, k.rotated_at
    from private.keysets k
   where k.purpose in ('aead', 'prf') and (p_org is null or k.org_id = p_org)
   order by k.org_id, k.purpose
$$;
-- +goose StatementEnd
alter function app.ops_keysets(uuid) owner to ward_definer;
revoke all on function app.ops_keysets(uuid) from public;
grant execute on function app.ops_keysets(uuid) to ward_ops;

-- +goose StatementBegin
create function app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  if p_purpose is null or p_purpose not in ('aead', 'prf') then
    raise exception 'ops_replace_keyset: the purpose is aead or prf' using errcode = '22023';
  end if;
  if p_kind is null or p_kind not in ('rotate', 'rewrap') then
    raise exception 'ops_replace_keyset: the kind is rotate or rewrap' using errcode = '22023';
  end if;
  if p_kind = 'rotate' and p_purpose <> 'aead' then
    -- A new PRF key would change every blind index: a re-index, not a rotation.
    raise exception 'ops_replace_keyset: only the aead keyset rotates' using errcode = '22023';
  end if;
  if p_new is null or octet_length(p_new) = 0 or p_new = p_old then
    raise exception 'ops_replace_keyset: the new keyset is empty or unchanged' using errcode = '22023';
  end if;
  update private.keysets k set wrapped = p_new, rotated_at = now()
   where k.org_id = p_org and k.purpose = p_purpose and k.wrapped = p_old;
  if not found then
    return false;
  end if;
  perform audit.append_as(p_org, 'keys.' || p_kind, 'success', 'keyset', p_org,
    p_details => jsonb_build_object('purpose', p_purpose, 'by', session_user::text));
  return true;
end $$;
-- +goose StatementEnd
alter function app.ops_replace_keyset(uuid, text, bytea, bytea, text) owner to ward_definer;
revoke all on function app.ops_replace_keyset(uuid, text, bytea, bytea, text) from public;
grant execute on function app.ops_replace_keyset(uuid, text, bytea, bytea, text) to ward_ops;

-- +goose StatementBegin
create function app.ops_data_keys(p_org uuid, p_after uuid, p_limit int)
returns table (id uuid, data_key bytea)
language sql stable security definer set search_path = '' as $$
  select v.id, v.data_key from app.document_versions v
   where v.org_id = p_org and v.data_key is not null
     and (p_after is null or v.id > p_after)
   order by v.id
   limit least(greatest(p_limit, 1), 10000)
$$;
-- +goose StatementEnd
alter function app.ops_data_keys(uuid, uuid, int) owner to ward_definer;
revoke all on function app.ops_data_keys(uuid, uuid, int) from public;
grant execute on function app.ops_data_keys(uuid, uuid, int) to ward_ops;

-- +goose StatementBegin
create function app.ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[])
returns int
language plpgsql volatile security definer set search_path = '' as $$
declare
  n int;
begin
  if cardinality(p_ids) is distinct from cardinality(p_old) or cardinality(p_ids) is distinct from cardinality(p_new) then
    raise exception 'ops_rewrap_data_keys: ids, old and new keys differ in number' using errcode = '22023';
  end if;
  if cardinality(p_ids) > 10000 then
    raise exception 'ops_rewrap_data_keys: at most 10000 keys a call' using errcode = '22023';
  end if;
  if exists (select from unnest(p_new) x where x is null or octet_length(x) = 0) then
    raise exception 'ops_rewrap_data_keys: a new data key is empty' using errcode = '22023';
  end if;
  update app.document_versions v set data_key = r.new
    from unnest(p_ids, p_old, p_new) as r(id, old, new)
   where v.org_id = p_org and v.id = r.id and v.data_key = r.old;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(p_org, 'keys.data_keys.rewrap', 'success', 'keyset', p_org,
      p_details => jsonb_build_object('count', n, 'by', session_user::text));
  end if;
  return n;
end $$;
-- +goose StatementEnd
alter function app.ops_rewrap_data_keys(uuid, uuid[], bytea[], bytea[]) owner to ward_definer;
revoke all on function app.ops_rewrap_data_keys(uuid, uuid[], bytea[], bytea[]) from public;
grant execute on function app.ops_rewrap_data_keys(uuid, uuid[], bytea[], bytea[]) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
