-- The session check confirmed in the request's own transaction. A request
-- to a route that reads records or case documents runs its session check
-- (app.whoami) in a transaction of its own, or in one the read continues
-- (00134): either way a round trip whose answer the server waits for
-- before the handler runs. When the server has resolved the same
-- credential in full shortly before (it keeps the principal in memory by
-- the credential's hash, the org hint and the browser binding, for 30
-- seconds), it now runs the handler at once with that principal, and the
-- handler's first transaction confirms it before anything else, right
-- after the binding and in the same round trip:
--
--   select case when exists (select from app.whoami() w
--                            where w.kind = $1 and … and w.scopes is not distinct from $12)
--          then null else app.stale_principal() end
--
-- app.whoami resolves the credential as on every check (sealing the
-- principal for the transaction, touching the session when due), and
-- app.stale_principal() raises WA001 unless it resolved to exactly the
-- principal the server holds (kind, credential, user, org, role, session,
-- assurance, time of authentication, methods, pending, break-glass,
-- scopes). The statements queued after it in the same transaction never
-- run then, nothing of the transaction commits, and the server forgets the
-- principal and serves the request again after a full session check
-- (which also records a rotated token's reuse, as before).
--
-- The comparison is the server's statement, not a function of its own:
-- a PL/pgSQL function around app.whoami cost about 20 µs of backend CPU
-- per request for its call alone, and app.stale_principal() runs only on
-- a mismatch (the other branch of the CASE). It decides nothing: it only
-- refuses, and takes nothing from its caller.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.stale_principal() returns void
    language plpgsql volatile
    set search_path to ''
    as $$
begin
  raise exception 'the credential no longer resolves to the principal the server holds for it'
    using errcode = 'WA001';
end $$;
-- +goose StatementEnd

revoke all on function app.stale_principal() from public;
grant execute on function app.stale_principal() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
