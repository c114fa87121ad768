-- A locked TOTP factor's lock ends at a time the database decides (15
-- minutes doubling with each lockout since the last accepted code, at most
-- 24 hours: migration 00173), but the API told every locked caller to come
-- back in 15 minutes. app.totp_secret now also returns the caller's own
-- factor's locked_until, so the answer's Retry-After is the lock's end.
-- Nothing else changes: the same caller (private.me_factor), the same row.

-- +goose Up
set local role ward_owner;

drop function app.totp_secret();

-- +goose StatementBegin
create function app.totp_secret(out secret_enc bytea, out confirmed boolean, out locked_until timestamptz)
  language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me_factor();
  select f.secret_enc, f.confirmed_at is not null, f.locked_until into secret_enc, confirmed, locked_until
    from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id;
end $$;
-- +goose StatementEnd

alter function app.totp_secret() owner to ward_definer;
revoke all on function app.totp_secret() from public;
grant execute on function app.totp_secret() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
