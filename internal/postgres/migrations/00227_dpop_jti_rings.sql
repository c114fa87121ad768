-- The DPoP jti memory made cheaper (issue 8: a DPoP-bound request may add
-- at most 0.1 ms over a bearer one; docs/benchmarks.md §43, §46 and the
-- section of this change). What app.dpop_jtis cost per recorded jti, beside
-- the heap tuple and its primary key: a CHECK with a regular expression on
-- the thumbprint and a CHECK on the hash's length (the executor prepares a
-- table's CHECK expressions again for each execution of the insert; on the
-- test host the two cost about 15 µs of backend CPU per row, as much as the
-- rest of the insert), a second index (expires_at), the thumbprint compared
-- under the database's collation, and a cleanup: one resolution in 32
-- deleted up to 256 expired rows, which left dead tuples for vacuum.
--
-- Now:
--
--   * No CHECK on the memory: app.whoami and app.dpop_jti_keep already
--     refuse a thumbprint or a jti hash of the wrong shape (22023) before
--     anything is inserted, without regular expressions, and nobody else
--     writes the table (ward_app has no grant on it).
--   * One index, the primary key (ring, jkt, jti_hash), the thumbprint in
--     the "C" collation (bytes compared, as in the thumbprint's alphabet).
--   * Expiry by whole tables: app.dpop_jtis is partitioned by ring into
--     three unlogged tables. A jti goes to ring (iat / 600) % 3: the ring
--     of the ten minutes its proof's iat falls in. A replay is the same
--     signed proof, so the same iat and the same ring, and the primary key
--     refuses it there on every node as before (an insert of the same key
--     in flight waits for the first to commit or roll back). A proof with
--     the same jti and another iat is a new signature only the key's holder
--     can make; it may land in another ring (RFC 9449 §11.1 lets a server
--     bound its jti memory by iat).
--   * The database enforces its own iat window, wider than the server's
--     (DPoPMaxAge 5 minutes back, DPoPMaxSkew 1 minute ahead, plus a minute
--     of skew between the servers' clocks and the database's): a proof whose
--     iat is more than 6 minutes before or 2 minutes after the database's
--     clock (clock_timestamp) is refused as a replay would be. So at any
--     moment at most two rings can take a jti (an 8-minute span), and the
--     ring of ten minutes from now (ring (slot + 1) % 3, which last held
--     the slot of twenty minutes ago) holds only proofs no node accepts any
--     more: app.dpop_jti_rotate truncates it during the first two minutes
--     of a slot, six minutes before it can take a jti again. A resolution
--     that records a jti in those two minutes calls it one time in 32; it
--     truncates at most once a slot (app.dpop_jti_cleared, an unlogged
--     sequence, holds the last slot it cleared) and never waits for a lock
--     (NOWAIT: a transaction that holds the ring, which none should, lets
--     a later call do it). The truncation is the request's transaction's:
--     rolled back with it (a lost connection), the ring keeps its stale
--     jtis until the next turn thirty minutes later, which only costs space.
--     No row is deleted, so the memory leaves no dead tuples.
--   * A proof's iat is required with its key (22023 without it, as the jti
--     hash is): the ring needs it. Servers bind it since 00112.
--
-- The memory stays unlogged with its epoch (00112): a crash, a promoted
-- standby or a restored backup empties the three rings and resets the
-- epoch, and proofs whose iat does not follow the new epoch by a minute are
-- refused. The live ids of the old table are copied into all three rings
-- (their iat is not known), so no proof accepted before this migration is
-- accepted again.

-- +goose Up
set local role ward_owner;

alter table app.dpop_jtis rename to dpop_jtis_old;
alter index app.dpop_jtis_pkey rename to dpop_jtis_old_pkey;

create table app.dpop_jtis (
  ring smallint not null,
  jkt text collate "C" not null,
  jti_hash bytea not null,
  primary key (ring, jkt, jti_hash)
) partition by list (ring);
create unlogged table app.dpop_jtis_0 partition of app.dpop_jtis for values in (0);
create unlogged table app.dpop_jtis_1 partition of app.dpop_jtis for values in (1);
create unlogged table app.dpop_jtis_2 partition of app.dpop_jtis for values in (2);
alter table app.dpop_jtis enable row level security;
alter table app.dpop_jtis force row level security;
alter table app.dpop_jtis_0 enable row level security;
alter table app.dpop_jtis_0 force row level security;
alter table app.dpop_jtis_1 enable row level security;
alter table app.dpop_jtis_1 force row level security;
alter table app.dpop_jtis_2 enable row level security;
alter table app.dpop_jtis_2 force row level security;
-- No policy for ward_app: only app.whoami, app.dpop_jti_keep and
-- app.dpop_jti_rotate read or write them.
grant select, insert on app.dpop_jtis to ward_definer;
grant truncate on app.dpop_jtis_0, app.dpop_jtis_1, app.dpop_jtis_2 to ward_definer;

insert into app.dpop_jtis (ring, jkt, jti_hash)
select r, o.jkt, o.jti_hash from app.dpop_jtis_old o, generate_series(0, 2) r where o.expires_at >= now();
drop table app.dpop_jtis_old;

-- The last slot (ten minutes since 1970) whose stale ring was truncated.
create unlogged sequence app.dpop_jti_cleared as bigint minvalue 0 start with 0;
grant select, update on sequence app.dpop_jti_cleared to ward_definer;

-- +goose StatementBegin
-- app.dpop_jti_rotate truncates the ring no jti of an acceptable proof can
-- be in at p_now (seconds since 1970, the database's clock: its caller's
-- clock_timestamp), once a slot, in the slot's first two minutes. Only
-- app.whoami calls it (no grant to ward_app); it takes a time and nothing
-- else, and does nothing outside the window in which the ring is stale.
create function app.dpop_jti_rotate(p_now bigint) returns void
language plpgsql security definer set search_path = '' as $$
declare
  slot bigint := p_now / 600;
begin
  if p_now is null or p_now % 600 >= 120 or (select c.last_value from app.dpop_jti_cleared c) >= slot then
    return;
  end if;
  begin
    case (slot + 1) % 3
      when 0 then
        lock table app.dpop_jtis_0 in access exclusive mode nowait;
        truncate app.dpop_jtis_0;
      when 1 then
        lock table app.dpop_jtis_1 in access exclusive mode nowait;
        truncate app.dpop_jtis_1;
      else
        lock table app.dpop_jtis_2 in access exclusive mode nowait;
        truncate app.dpop_jtis_2;
    end case;
    perform setval('app.dpop_jti_cleared', slot);
  exception when lock_not_available then
    null; -- a later resolution clears it
  end;
end $$;
-- +goose StatementEnd
alter function app.dpop_jti_rotate(bigint) owner to ward_definer;
revoke all on function app.dpop_jti_rotate(bigint) from public;

-- +goose StatementBegin
-- app.dpop_jti_keep as in 00135, the jti in its proof's ring; a proof
-- outside the database's window is no longer accepted anywhere, so there
-- is nothing to keep.
create or replace function app.dpop_jti_keep() returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  iat text := current_setting('ward.dpop_iat', true);
  at bigint;
  clock bigint;
  me record;
begin
  if octet_length(jkt) is distinct from 43
     or ltrim(jkt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') <> ''
     or octet_length(jti) is distinct from 64 or ltrim(jti, '0123456789abcdef') <> ''
     or coalesce(octet_length(iat), 0) not between 1 and 12 or ltrim(iat, '0123456789') <> '' then
    raise exception 'a DPoP key (ward.dpop), its proof''s jti hash (ward.dpop_jti) and iat (ward.dpop_iat) are required' using errcode = '22023';
  end if;
  me := private.me_pending_cached();
  if me.credential_id is null then
    return;
  end if;
  at := iat::bigint;
  clock := floor(extract(epoch from clock_timestamp()))::bigint;
  if at < clock - 360 or at > clock + 120 then
    return;
  end if;
  insert into app.dpop_jtis (ring, jkt, jti_hash) values ((at / 600 % 3)::smallint, jkt, decode(jti, 'hex')) on conflict do nothing;
end $$;
-- +goose StatementEnd
alter function app.dpop_jti_keep() owner to ward_definer;
revoke all on function app.dpop_jti_keep() from public;
grant execute on function app.dpop_jti_keep() to ward_app;

-- +goose StatementBegin
-- app.whoami as last defined (00164), its proof's jti recorded in the ring
-- of its iat, the iat required and inside the database's window, and the
-- stale ring truncated now and then instead of expired rows deleted.
create or replace function app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) RETURNS SETOF record
language plpgsql security definer set search_path = '' as $_$
declare
  me private.principal;
  s app.sessions%rowtype;
  reused app.session_tokens%rowtype;
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  iat text := current_setting('ward.dpop_iat', true);
  began bigint;
  at bigint;
  clock bigint;
  called boolean;
  due boolean;
begin
  scopes := '{}';
  -- The patterns of 00112 ('^[A-Za-z0-9_-]{43}$' for the thumbprint,
  -- '^[0-9]{1,12}$' for iat, '^[0-9a-f]{64}$' for the jti hash), checked
  -- without regular expressions.
  if octet_length(jkt) <> 43
     or ltrim(jkt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') <> '' then
    jkt := null;
  end if;
  if octet_length(iat) not between 1 and 12 or ltrim(iat, '0123456789') <> '' then
    iat := null;
  end if;
  if jkt is not null and (jti is null or octet_length(jti) <> 64 or ltrim(jti, '0123456789abcdef') <> '') then
    raise exception 'a DPoP key comes with its proof''s jti hash (ward.dpop_jti)' using errcode = '22023';
  end if;
  if jkt is not null and iat is null then
    raise exception 'a DPoP key comes with its proof''s iat (ward.dpop_iat)' using errcode = '22023';
  end if;
  me := private.principal_now();
  if me.credential_id is null then
    select * into reused from app.session_tokens t
     where t.token_hash = private.credential_hash() and t.retired_at <= now() - interval '30 seconds';
    if found then
      update app.sessions x set revoked_at = now(), revoked_reason = 'token_reuse'
       where x.id = reused.session_id and x.revoked_at is null
      returning * into s;
      if found then
        perform audit.append_as(s.org_id, 'auth.token_reuse', 'denied', 'session', s.id, p_actor => s.user_id,
          p_request => current_setting('ward.request', true),
          p_details => jsonb_build_object('retired_at', reused.retired_at, 'action', 'session_revoked'));
      end if;
    end if;
    return;
  end if;
  if jkt is not null then
    select e.last_value, e.is_called into began, called from app.dpop_jti_epoch e;
    if not called then
      -- the memory was reset (crash recovery, a promoted standby, a
      -- restored backup): it begins again now.
      began := setval('app.dpop_jti_epoch', floor(extract(epoch from now()))::bigint, true);
    end if;
    at := iat::bigint;
    if at <= began + 60 then
      raise exception 'the DPoP proof''s iat does not follow the start of the jti memory (%): it may have been used before',
        to_timestamp(began) using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    clock := floor(extract(epoch from clock_timestamp()))::bigint;
    if at < clock - 360 or at > clock + 120 then
      raise exception 'the DPoP proof''s iat is outside the jti memory''s window' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    insert into app.dpop_jtis (ring, jkt, jti_hash) values ((at / 600 % 3)::smallint, jkt, decode(jti, 'hex')) on conflict do nothing;
    if not found then
      raise exception 'the DPoP proof''s jti was used before' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    if clock % 600 < 120 and random() < 1.0 / 32 then
      perform app.dpop_jti_rotate(clock);
    end if;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := 'epoch'::timestamptz + me.auth_us * interval '1 microsecond';
  amr := me.amr; pending := me.pending; break_glass := coalesce(me.break_glass, false);
  if me.kind = 'session' then
    -- private.touch_due(last_seen_at, idle_timeout_min), inline.
    select x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min),
           x.last_seen_at <= now() - least(interval '1 minute', make_interval(secs => x.idle_timeout_min * 6))
      into absolute_expires_at, idle_expires_at, due
      from app.sessions x where x.id = me.session_id;
    if due then
      -- skip locked: another request of the session that touched it holds
      -- the row until its own transaction ends (a record read's check
      -- runs in the request's transaction, postgres.RequestTx); it has
      -- touched it, so this one does not wait for it.
      update app.sessions x set last_seen_at = now()
       where x.id = (select y.id from app.sessions y where y.id = me.session_id for update skip locked)
         and x.last_seen_at <= now() - least(interval '1 minute', make_interval(secs => x.idle_timeout_min * 6))
      returning x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min)
        into absolute_expires_at, idle_expires_at;
      if not found then
        select x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min)
          into absolute_expires_at, idle_expires_at
          from app.sessions x where x.id = me.session_id;
      else
        -- The touch moved the epoch: seal the principal again for the
        -- rest of the request's transaction (00164).
        perform private.principal_now();
      end if;
    end if;
    idle_expires_at := least(absolute_expires_at, idle_expires_at);
  elsif me.kind = 'api_key' then
    -- app.api_key_scopes(): its last use is touched at most once a minute.
    select k.scopes, k.last_used_at is null or k.last_used_at < now() - interval '1 minute'
      into scopes, due
      from app.api_keys k where k.org_id = me.org_id and k.id = me.credential_id;
    if due then
      update app.api_keys k set last_used_at = now()
       where (k.org_id, k.id) = (select j.org_id, j.id from app.api_keys j
                                  where j.org_id = me.org_id and j.id = me.credential_id for update skip locked)
         and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
      if found then
        perform private.principal_now();
      end if;
    end if;
  end if;
  return next;
end $_$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
