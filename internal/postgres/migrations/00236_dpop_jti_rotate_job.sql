-- The DPoP jti memory's stale ring is truncated by a job of the server,
-- in a transaction of its own, no longer by app.whoami inside the
-- request's transaction (00227).
--
-- 00227 had app.whoami call app.dpop_jti_rotate one time in 32 during the
-- first two minutes of a ten-minute slot. The TRUNCATE took an ACCESS
-- EXCLUSIVE lock on the ring that the request's transaction held until it
-- ended: a request whose transaction stayed open for minutes after its
-- check would, about six minutes later, when that ring starts taking jtis
-- again, hold up every DPoP request whose proof's iat falls in it; and a
-- request rolled back undid the truncation, leaving the ring's stale jtis
-- for thirty minutes (until its next turn).
--
-- Now:
--
--   * app.whoami records the jti as in 00227 and never truncates: the only
--     locks a request's transaction takes on the memory are the insert's
--     (ROW EXCLUSIVE on the ring of its proof's iat), which no other
--     request's insert waits for.
--   * private.dpop_jti_rotate_at(p_now) is 00227's app.dpop_jti_rotate
--     (the same schedule: the ring (slot + 1) % 3, in a slot's first two
--     minutes, once a slot through app.dpop_jti_cleared, NOWAIT), and
--     says whether it truncated. No grant to ward_app (and ward_app may
--     not truncate the rings anyway): it is what the tests drive at any
--     time they choose.
--   * app.dpop_jti_rotate() takes no argument: it runs
--     private.dpop_jti_rotate_at on the database's own clock
--     (clock_timestamp), so its caller decides nothing, neither the time
--     nor the ring. ward_app may call it: `ward serve` does, every 30
--     seconds on every node, each call a transaction of its own
--     (auth.RotateDPoPJTIs). Concurrent calls are safe: the first to take
--     the ring's lock truncates it and marks the slot; a call that finds
--     the ring held (another node's truncation, or a transaction that
--     still holds it) gives up at once and a later call clears it; a call
--     that finds the slot marked does nothing.
--
-- The replay guarantees of 00227 are unchanged: the ring truncated is
-- still only the one no acceptable proof's jti can be in, and at most once
-- a slot. A slot in which no node ran the job (every node down for its
-- first two minutes) leaves the ring's jtis until its next turn, thirty
-- minutes later, which costs space only.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- private.dpop_jti_rotate_at truncates the ring no jti of an acceptable
-- proof can be in at p_now (seconds since 1970 on the database's clock),
-- once a slot, in the slot's first two minutes, and returns whether it did.
-- Only app.dpop_jti_rotate calls it, with clock_timestamp; it runs with
-- its caller's rights (ward_definer's: the truncate and the sequence).
create function private.dpop_jti_rotate_at(p_now bigint) returns boolean
language plpgsql set search_path = '' as $$
declare
  slot bigint := p_now / 600;
begin
  if p_now is null or p_now % 600 >= 120 or (select c.last_value from app.dpop_jti_cleared c) >= slot then
    return false;
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
    return false; -- a later call clears it
  end;
  return true;
end $$;
-- +goose StatementEnd
revoke all on function private.dpop_jti_rotate_at(bigint) from public;
grant execute on function private.dpop_jti_rotate_at(bigint) to ward_definer;

-- +goose StatementBegin
-- app.dpop_jti_rotate truncates the stale ring if it is due now, on the
-- database's clock; the server calls it in a transaction of its own.
create function app.dpop_jti_rotate() returns boolean
language sql volatile security definer set search_path = '' as $$
  select private.dpop_jti_rotate_at(floor(extract(epoch from pg_catalog.clock_timestamp()))::bigint)
$$;
-- +goose StatementEnd
alter function app.dpop_jti_rotate() owner to ward_definer;
revoke all on function app.dpop_jti_rotate() from public;
grant execute on function app.dpop_jti_rotate() to ward_app;

-- +goose StatementBegin
-- app.whoami as in 00227, without the truncation of the stale ring: the
-- server's job does it (app.dpop_jti_rotate), in a transaction of its own.
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

drop function app.dpop_jti_rotate(bigint);

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
