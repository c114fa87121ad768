-- The operator's look-up of one org, or of every org, by name and
-- shredding: its id, name and when `ward org shred` shredded it. The
-- shred's preview (the name it must pass app.ops_org_shred) and the
-- compliance report (which orgs are shredded) read app.ops_orgs for this,
-- which counts every org's members, admins and patients for one column,
-- and stops at 10,000 orgs, oldest first: an org created after those was
-- "no such org" to the preview. Org names and dates only, nothing of any
-- person. For ward_ops only; refused with a bound credential.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_org_state(p_org uuid)
returns table (id uuid, name text, shredded_at timestamptz)
language plpgsql stable security definer
set search_path to ''
as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_state: the operator''s look-up takes no credential' using errcode = '42501';
  end if;
  -- p_org null: every org.
  return query
    select o.id, o.name, o.shredded_at
      from app.orgs o
     where p_org is null or o.id = p_org
     order by o.created_at, o.id;
end $$;
-- +goose StatementEnd

alter function app.ops_org_state(uuid) owner to ward_definer;
revoke all on function app.ops_org_state(uuid) from public;
grant execute on function app.ops_org_state(uuid) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
