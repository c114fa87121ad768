-- The operator's list of orgs (`ward org list`, docs/operations.md): every
-- org on the instance with its name, since when, its live members (and
-- admins), its sign-in policy (require_mfa, require_passkey, enforce_sso,
-- the session's idle timeout and lifetime) and its patients, counted. Org
-- names and counts only, nothing of any person. For ward_ops only; refused
-- with a bound credential; at most 10,000 orgs, oldest first.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_orgs()
returns table (id uuid, name text, created_at timestamptz, members integer, admins integer,
  patients integer, require_mfa boolean, require_passkey boolean, enforce_sso boolean,
  idle_timeout_min integer, absolute_max_min integer)
language plpgsql security definer
set search_path to ''
as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_orgs: the operator''s list takes no credential' using errcode = '42501';
  end if;
  return query
    select o.id, o.name, o.created_at,
           (select count(*)::integer from app.memberships m where m.org_id = o.id and m.revoked_at is null),
           (select count(*)::integer from app.memberships m
             where m.org_id = o.id and m.revoked_at is null and m.role = 'admin'),
           (select count(*)::integer from app.patients p where p.org_id = o.id),
           o.require_mfa, o.require_passkey, o.enforce_sso, o.session_idle_timeout_min, o.session_absolute_max_min
      from app.orgs o
     order by o.created_at, o.id
     limit 10000;
end $$;
-- +goose StatementEnd

alter function app.ops_orgs() owner to ward_definer;
revoke all on function app.ops_orgs() from public;
grant execute on function app.ops_orgs() to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
