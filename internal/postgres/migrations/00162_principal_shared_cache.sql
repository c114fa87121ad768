-- A credential is resolved once for all transactions, not once per
-- transaction (issue 7's RLS budget: the patient list under RLS cost
-- +124% over the same query with RLS bypassed, and most of it was the
-- resolution each transaction paid, 100-150 us of server time; +36% with
-- this cache, see
-- docs/benchmarks.md 35).
--
-- private.principal_cache holds what a credential resolved to, with the
-- snapshot the resolution read in (pg_snapshot) and a validity that never
-- outlasts what the resolution itself checked: the session's absolute and
-- idle expiry, a retired token's 30-second grace, an API key's expiry,
-- and at most 60 seconds. It is keyed by the settings the resolution
-- reads (ward.credential, ward.org, ward.dpop); anyone presenting them
-- would resolve to the same principal, so the entry is nobody's secret,
-- but only ward_rls reads or writes it (FORCE RLS, no policy; ward_rls
-- bypasses).
--
-- private.principal_changes is the invalidation: one row per transaction
-- (its xid) that changed anything the resolution reads. The statement
-- triggers cover deletes and truncates of every table private.me_pending
-- reads, and every change of the small tables (orgs, memberships, users,
-- email and SSO domains, session tokens); row triggers cover updates of
-- sessions, passkeys, API keys and SCIM tokens except the bookkeeping a
-- request does on its own credential (a session's last_seen_at moving
-- forward, a key's last_used_at, a passkey's counter), which would
-- otherwise invalidate every entry once a minute per session. New rows
-- need no invalidation: a new session, key or membership changes no
-- resolution already made.
--
-- An entry is used only when no change row exists that its snapshot did
-- not see (a change that committed after the resolution read), so a
-- revocation takes effect for the first transaction that begins after it
-- commits, as before. Nothing here takes a row lock: a change only
-- inserts its own xid, an entry is inserted (never updated) by the
-- transaction that resolved it, so neither waits for the other. Within a
-- transaction that changed something the cache is not used (its own
-- change is visible to any snapshot it takes), and the sealed principal
-- (00070) with its epoch does what it did.
--
-- Old entries and change rows go on a put, now and then (one in 64):
-- entries past their validity, changes older than every entry's
-- snapshot and ten minutes old. A change whose transaction stayed open
-- for more than nine minutes after the change could then be pruned while
-- an entry that predates its commit is still valid; Ward's transactions
-- are bounded far below that (statement and idle-in-transaction
-- timeouts).

-- +goose Up
set local role ward_owner;

create table private.principal_cache (
  id bigint generated always as identity primary key,
  cred text not null,
  org text,
  dpop text,
  principal private.principal not null,
  snap pg_snapshot not null,
  put_xid xid8 not null,
  valid_until timestamptz not null,
  created_at timestamptz not null default now()
);
create index principal_cache_cred_idx on private.principal_cache (cred);
alter table private.principal_cache enable row level security;
alter table private.principal_cache force row level security;
grant select, insert, delete on private.principal_cache to ward_rls;

create table private.principal_changes (
  xid xid8 primary key,
  at timestamptz not null default clock_timestamp()
);
alter table private.principal_changes enable row level security;
alter table private.principal_changes force row level security;
grant select, insert, delete on private.principal_changes to ward_rls;

-- +goose StatementBegin
create function private.principal_changed() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into private.principal_changes (xid) values (pg_current_xact_id()) on conflict do nothing;
  return null;
end $$;
-- +goose StatementEnd
alter function private.principal_changed() owner to ward_rls;
revoke all on function private.principal_changed() from public;

-- A row update counts when it changes more than the request's own
-- bookkeeping (the trigger's WHEN); a session's last_seen_at moved back
-- counts too (it shortens the idle expiry an entry carries).
create trigger principal_changed after delete or truncate on app.sessions
  for each statement execute function private.principal_changed();
create trigger principal_changed_row after update on app.sessions
  for each row when ((to_jsonb(old) - 'last_seen_at') is distinct from (to_jsonb(new) - 'last_seen_at')
                     or new.last_seen_at < old.last_seen_at)
  execute function private.principal_changed();
create trigger principal_changed after delete or truncate on app.passkeys
  for each statement execute function private.principal_changed();
create trigger principal_changed_row after update on app.passkeys
  for each row when ((to_jsonb(old) - '{sign_count,backup_state,last_used_at,name}'::text[])
                     is distinct from (to_jsonb(new) - '{sign_count,backup_state,last_used_at,name}'::text[]))
  execute function private.principal_changed();
create trigger principal_changed after delete or truncate on app.api_keys
  for each statement execute function private.principal_changed();
create trigger principal_changed_row after update on app.api_keys
  for each row when ((to_jsonb(old) - 'last_used_at') is distinct from (to_jsonb(new) - 'last_used_at'))
  execute function private.principal_changed();
create trigger principal_changed after delete or truncate on app.scim_tokens
  for each statement execute function private.principal_changed();
create trigger principal_changed_row after update on app.scim_tokens
  for each row when ((to_jsonb(old) - 'last_used_at') is distinct from (to_jsonb(new) - 'last_used_at'))
  execute function private.principal_changed();
create trigger principal_changed after update or delete or truncate on app.memberships
  for each statement execute function private.principal_changed();
create trigger principal_changed after update or delete or truncate on app.orgs
  for each statement execute function private.principal_changed();
create trigger principal_changed after update or delete or truncate on app.users
  for each statement execute function private.principal_changed();
create trigger principal_changed after update or delete or truncate on app.session_tokens
  for each statement execute function private.principal_changed();
create trigger principal_changed after insert or update or delete or truncate on app.email_domains
  for each statement execute function private.principal_changed();
create trigger principal_changed after insert or update or delete or truncate on app.sso_domains
  for each statement execute function private.principal_changed();

-- Called by private.principal_now (as ward_rls) after a resolution: a
-- STABLE function may not write. Not SECURITY DEFINER: a caller other
-- than ward_rls has no right on the table.
-- +goose StatementBegin
create function private.principal_cache_put(p_cred text, p_principal private.principal, p_snap pg_snapshot,
                                            p_valid_until timestamptz) returns void
language plpgsql volatile set search_path = '' as $$
begin
  insert into private.principal_cache (cred, org, dpop, principal, snap, put_xid, valid_until)
  values (p_cred, current_setting('ward.org', true), current_setting('ward.dpop', true), p_principal, p_snap,
          pg_current_xact_id(), p_valid_until);
  if random() < 1.0 / 64 then
    delete from private.principal_cache x where x.valid_until < now() - interval '1 minute';
    delete from private.principal_changes c
     where c.at < clock_timestamp() - interval '10 minutes'
       and c.xid < pg_snapshot_xmin(pg_current_snapshot())
       and not exists (select from private.principal_cache x
                        where x.valid_until > now() and pg_snapshot_xmin(x.snap) <= c.xid);
  end if;
end $$;
-- +goose StatementEnd
alter function private.principal_cache_put(text, private.principal, pg_snapshot, timestamptz) owner to ward_rls;
revoke all on function private.principal_cache_put(text, private.principal, pg_snapshot, timestamptz) from public;

-- private.principal_now: the shared cache first (one statement: the
-- entry, its change check, and this transaction's own changes), then what
-- it did before (00136): the principal sealed in this transaction, else a
-- resolution, which it seals and now also puts in the cache.
-- +goose StatementBegin
create or replace function private.principal_now() returns private.principal
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
declare
  v_cred text := current_setting('ward.credential', true);
  body text := current_setting('ward.principal', true);
  k private.principal_key;
  r record;
  p private.principal;
  ctx text;
  until timestamptz;
begin
  -- ward.principal_cache = 'off' skips the cache (the sealed principal's
  -- own tests): it can only make a resolution slower.
  if v_cred is not null and current_setting('ward.principal_cache', true) is distinct from 'off' then
    select (x.principal).* into p
      from private.principal_cache x
     where x.cred = v_cred
       and x.org is not distinct from current_setting('ward.org', true)
       and x.dpop is not distinct from current_setting('ward.dpop', true)
       and x.valid_until > now()
       -- no change committed since the entry's resolution read, none by
       -- the transaction that put it (its own xid counts as seen in its
       -- own snapshot) ...
       and not exists (select from private.principal_changes ch
                        where ch.xid >= pg_snapshot_xmin(x.snap)
                          and (ch.xid = x.put_xid or not pg_visible_in_snapshot(ch.xid, x.snap)))
       -- ... and none by this transaction
       and (pg_current_xact_id_if_assigned() is null
            or not exists (select from private.principal_changes ch where ch.xid = pg_current_xact_id_if_assigned()))
     limit 1;
    if found then
      return p;
    end if;
  end if;
  select * into k from private.principal_key where one;
  if k.ipad is not null then
    ctx := concat_ws(',', pg_backend_pid(), extract(epoch from now()),
                     quote_nullable(v_cred),
                     quote_nullable(current_setting('ward.org', true)),
                     quote_nullable(current_setting('ward.dpop', true)));
    -- ward.principal_drawn (session-wide) names the backend once it has
    -- drawn an epoch, so currval() below is defined; it only spares an
    -- error. Forged, currval() fails and the error refuses the statement.
    if body is not null and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text
       and current_setting('ward.principal_mac', true) = encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
             || convert_to(ctx || ',' || currval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex') then
      return body::private.principal;
    end if;
  end if;
  r := private.me_pending();
  p := row(r.kind, r.credential_id, r.user_id, r.org_id, r.role, r.session_id, r.aal,
           (extract(epoch from r.auth_time) * 1000000)::bigint, r.break_glass, r.device, r.amr, r.pending);
  -- Put what resolved, valid no longer than what the resolution checked
  -- stays true on its own (a change is caught by private.principal_changes):
  -- the session's expiries and a retired token's grace, a key's expiry;
  -- 60 seconds at most. Not from a read-only transaction (a standby), nor
  -- from one that changed what the resolution reads.
  if r.kind is not null and current_setting('transaction_read_only') = 'off'
     and (pg_current_xact_id_if_assigned() is null
          or not exists (select from private.principal_changes ch where ch.xid = pg_current_xact_id_if_assigned())) then
    if r.kind = 'session' then
      select least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min),
                   case when s.token_hash = decode(v_cred, 'hex') then 'infinity'::timestamptz
                        else coalesce((select t.retired_at + interval '30 seconds' from app.session_tokens t
                                        where t.token_hash = decode(v_cred, 'hex') and t.session_id = s.id),
                                      '-infinity'::timestamptz) end)
        into until from app.sessions s where s.id = r.session_id;
    elsif r.kind = 'api_key' then
      select coalesce(k2.expires_at, 'infinity'::timestamptz) into until
        from app.api_keys k2 where k2.org_id = r.org_id and k2.id = r.credential_id;
    else
      until := 'infinity';
    end if;
    until := least(coalesce(until, '-infinity'::timestamptz), now() + interval '60 seconds');
    if until > now() then
      perform private.principal_cache_put(v_cred, p, pg_current_snapshot(), until);
    end if;
  end if;
  if k.ipad is null then
    return p;
  end if;
  if current_setting('ward.principal_drawn', true) is distinct from pg_backend_pid()::text then
    perform set_config('ward.principal_drawn', pg_backend_pid()::text, false);
  end if;
  body := p::text;
  perform set_config('ward.principal', body, true);
  perform set_config('ward.principal_mac', encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
    || convert_to(ctx || ',' || nextval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex'), true);
  return p;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
