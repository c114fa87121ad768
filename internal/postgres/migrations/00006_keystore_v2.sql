-- The instance keyset (user emails) is created only by the operator's
-- privileged connection (`ward migrate`, `ward serve` in embedded mode):
-- ward_app may read it but no longer store it, so a compromised server
-- cannot choose the keys every user's email is sealed under.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- instance_keyset returns the wrapped instance keysets, or no rows when
-- `ward migrate` has not created them yet. Read-only.
create function app.instance_keyset(out purpose text, out wrapped bytea)
returns setof record
language plpgsql stable security definer set search_path = '' as $$
begin
  return query select k.purpose, k.wrapped from private.keysets k
                where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
end $$;
-- +goose StatementEnd

alter function app.instance_keyset() owner to ward_definer;
revoke all on function app.instance_keyset() from public;
grant execute on function app.instance_keyset() to ward_app, ward_ops;
revoke execute on function app.ensure_instance_keyset(bytea, bytea) from ward_app;

reset role;

-- +goose Down
set local role ward_owner;
grant execute on function app.ensure_instance_keyset(bytea, bytea) to ward_app;
drop function app.instance_keyset();
reset role;
