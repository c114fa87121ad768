-- The resolved principal, once per transaction (issue 7, RLS overhead).
--
-- Every RLS helper and audit.append resolve the presented credential
-- through private.me(), and every call used to run private.me_pending()
-- again: the patient list's policy alone resolved it three times per
-- statement, an audited read five times per transaction. private.me() now
-- resolves it once per transaction and keeps the result in the
-- transaction-local setting ward.principal, sealed with an HMAC-SHA256
-- under a key only ward_rls can read (private.principal_key).
--
-- ward_app can set_config any custom setting, so the seal, not the
-- setting, is what makes the cache trustworthy. The MAC covers the cached
-- principal and everything its resolution depended on:
--   * the backend's pid and the transaction's start time (now(), to the
--     microsecond): a sealed value does not verify in another session or
--     in a later transaction, so it cannot be replayed after a revocation;
--   * ward.credential, ward.org and ward.dpop as they are now: switching
--     credential, org hint or DPoP thumbprint inside the transaction
--     resolves again;
--   * this session's value of the sequence private.principal_epoch, which
--     a statement trigger moves on after every write to a table
--     private.me_pending() reads (sessions, session tokens, memberships,
--     orgs, API keys, SCIM tokens). ward_app may neither call nextval nor
--     setval on it, so a logout, a rotation, a step-up, a membership
--     change or a policy that ends sessions in this same transaction
--     invalidates the cache, and restoring the earlier sealed value does
--     not verify.
--
-- What the cache changes: a revocation committed by another transaction
-- takes effect at the next transaction that resolves the credential, not
-- at the next statement of one already running (as if the credential were
-- read under REPEATABLE READ). Requests are one short transaction each.
--
-- private.me_pending() is not changed. The cache is
-- private.me_pending_cached(), which returns exactly what me_pending()
-- returns; private.me() keeps its semantics (me_pending() where pending
-- is null) through it, and app.org_keyset() uses it. If me_pending() starts reading
-- another table, that table needs the principal_epoch trigger too
-- (TestPrincipalCacheCoversResolverTables checks).

-- +goose Up
set local role ward_owner;

-- The HMAC key, as its inner and outer padded blocks (RFC 2104), so a
-- verification is two SHA-256 calls. One row; rotate by updating it (every
-- cached principal then resolves again). Readable by ward_rls only.
create table private.principal_key (
  one boolean primary key default true check (one),
  ipad bytea not null check (octet_length(ipad) = 64),
  opad bytea not null check (octet_length(opad) = 64)
);
alter table private.principal_key enable row level security;
grant select on private.principal_key to ward_rls;

-- +goose StatementBegin
do $$
declare
  -- 256 bits from the server's strong random source (gen_random_uuid
  -- draws 122 random bits from pg_strong_random each).
  k bytea := pg_catalog.sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                                          || gen_random_uuid()::text, 'UTF8'))
             || '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  i bytea := k;
  o bytea := k;
begin
  for n in 0..63 loop
    i := set_byte(i, n, get_byte(k, n) # 54);  -- 0x36
    o := set_byte(o, n, get_byte(k, n) # 92);  -- 0x5c
  end loop;
  insert into private.principal_key (ipad, opad) values (i, o);
end $$;
-- +goose StatementEnd
-- Forced after the insert above: with no policy, nobody without BYPASSRLS
-- (ward_rls has it) reads or writes a row.
alter table private.principal_key force row level security;

-- The invalidation counter: session-local values (currval) that only
-- functions owned by ward_rls move on.
create sequence private.principal_epoch cache 1000;
alter sequence private.principal_epoch owner to ward_rls;

-- What private.me_pending() returns, as sealed in ward.principal. auth_time is
-- kept as microseconds since the epoch, so reading it back does not depend
-- on DateStyle or TimeZone (which ward_app may change in between).
create type private.principal as (
  kind text, credential_id uuid, user_id uuid, org_id uuid, role text,
  session_id uuid, aal int, auth_us bigint, break_glass boolean, device text, amr text[], pending text
);
alter type private.principal owner to ward_rls;

-- +goose StatementBegin
-- principal_moved invalidates this session's cached principal after a
-- write to a table the resolver reads (a statement trigger: it fires even
-- when no row changed, which only costs a resolution).
create function private.principal_moved() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform nextval('private.principal_epoch');
  return null;
end $$;

-- me_pending_cached returns what private.me_pending() returns, resolving
-- it once per transaction (see the top of this file).
create function private.me_pending_cached(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  cached text := current_setting('ward.principal', true);
  k private.principal_key;
  ctx text;
  body text;
  p private.principal;
begin
  select * into k from private.principal_key;
  ctx := concat_ws(',', pg_backend_pid(), extract(epoch from now()),
                   quote_nullable(current_setting('ward.credential', true)),
                   quote_nullable(current_setting('ward.org', true)),
                   quote_nullable(current_setting('ward.dpop', true)));
  -- ward.principal_drawn (session-wide) names the backend once it has
  -- drawn an epoch, so currval() below is defined; it only spares an
  -- error. Forged, currval() fails and the error refuses the statement.
  if k.ipad is not null and length(cached) > 65
     and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text then
    body := left(cached, -65);
    if right(cached, 65) = ' ' || encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
          || convert_to(ctx || ',' || currval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex') then
      p := body::private.principal;
      kind := p.kind; credential_id := p.credential_id; user_id := p.user_id; org_id := p.org_id;
      role := p.role; session_id := p.session_id; aal := p.aal;
      auth_time := 'epoch'::timestamptz + p.auth_us * interval '1 microsecond';
      break_glass := p.break_glass; device := p.device; amr := p.amr; pending := p.pending;
      return;
    end if;
  end if;
  select * into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
    from private.me_pending();
  if k.ipad is null then
    return;
  end if;
  if current_setting('ward.principal_drawn', true) is distinct from pg_backend_pid()::text then
    perform set_config('ward.principal_drawn', pg_backend_pid()::text, false);
  end if;
  body := row(kind, credential_id, user_id, org_id, role, session_id, aal,
              (extract(epoch from auth_time) * 1000000)::bigint, break_glass, device, amr, pending)::private.principal::text;
  perform set_config('ward.principal', body || ' ' || encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
    || convert_to(ctx || ',' || nextval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex'), true);
end $$;
-- me, as before, is me_pending() where pending is null: now through the
-- cache.
create or replace function private.me(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text)
language plpgsql stable security definer set search_path = '' as $$
begin
  select r.kind, r.credential_id, r.user_id, r.org_id, r.role, r.session_id, r.aal, r.auth_time, r.break_glass, r.device
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device
    from private.me_pending_cached() r
   where r.pending is null;
end $$;

-- org_keyset as in 00015, through the cache: the tenant transaction asks
-- for its keys first, and the policies and audit.append after it then
-- find the principal resolved.
create or replace function app.org_keyset(p_org uuid, out purpose text, out wrapped bytea)
returns setof record
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_org <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
     and p_org is distinct from (select m.org_id from private.me_pending_cached() m) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select k.purpose, k.wrapped from private.keysets k where k.org_id = p_org;
end $$;
-- +goose StatementEnd

alter function private.principal_moved() owner to ward_rls;
alter function private.me() owner to ward_rls;
alter function private.me_pending_cached() owner to ward_rls;
revoke all on function private.me_pending_cached() from public;
grant execute on function private.me_pending_cached() to ward_definer;
revoke all on function private.principal_moved() from public;

create trigger principal_epoch after insert or update or delete or truncate on app.sessions
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.session_tokens
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.memberships
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.orgs
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.api_keys
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.scim_tokens
  for each statement execute function private.principal_moved();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
