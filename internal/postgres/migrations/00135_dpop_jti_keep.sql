-- app.dpop_jti_keep records the bound proof's jti (ward.dpop_jti) for the
-- bound key (ward.dpop) in app.dpop_jtis, as app.whoami does, for a
-- request whose check ran in the request's transaction
-- (postgres.RequestTx) and whose transaction was then lost before it
-- committed: the connection closed mid-statement (a client that left, a
-- deadline: pgx closes the connection and the server rolls everything
-- back, the savepoint after the check included) or its commit failed. The
-- proof was accepted, so it must never be accepted again.
--
-- It takes nothing from its caller but the binding app.whoami takes, and
-- records only while the bound credential resolves (with that key). Unlike app.whoami it writes nothing else: no touch of the
-- session, and no token-reuse revocation for a token that left its grace
-- window while the request ran.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.dpop_jti_keep() returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  me record;
begin
  if octet_length(jkt) is distinct from 43
     or ltrim(jkt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') <> ''
     or octet_length(jti) is distinct from 64 or ltrim(jti, '0123456789abcdef') <> '' then
    raise exception 'a DPoP key (ward.dpop) and its proof''s jti hash (ward.dpop_jti) are required' using errcode = '22023';
  end if;
  me := private.me_pending_cached();
  if me.credential_id is null then
    return;
  end if;
  insert into app.dpop_jtis (jkt, jti_hash) values (jkt, decode(jti, 'hex')) on conflict do nothing;
end $$;
-- +goose StatementEnd

alter function app.dpop_jti_keep() owner to ward_definer;
revoke all on function app.dpop_jti_keep() from public;
grant execute on function app.dpop_jti_keep() to ward_app;

reset role;

-- +goose Down
drop function app.dpop_jti_keep();
