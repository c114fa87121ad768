-- The policies read a cached principal in their own plan (issue 7's RLS
-- budget). Since 00162 a credential's resolution is kept in
-- private.principal_cache, but every policy still reached it through a
-- helper (private.get_my_org_id(), am_i_lead(), ...): a PL/pgSQL frame
-- with SET clauses around private.principal_now(), which looks the entry
-- up through SPI. Measured with pgbench -M prepared against the bench
-- database (docs/benchmarks.md 36), each helper cost 55-65 us per
-- statement, so the patient list (two helpers) took 0.30 ms under RLS
-- against 0.11 ms bypassed.
--
--   * private.principal_cached: a view (security_invoker) of the entry the
--     bound settings name, with the columns the helpers return: org_id,
--     user_id, role, lead, is_key, break_glass, each as the helper
--     computes it (nothing for a pending session), and the principal
--     itself. It is the cache lookup, which private.principal_now reads
--     too (validity, no change its snapshot
--     did not see or its own transaction made, none by this transaction,
--     ward.principal_cache = 'off' honoured) and returns no row when there
--     is no usable entry.
--   * ward_app reads that one entry: a policy on private.principal_cache
--     shows it only the entry keyed by the credential it bound (whoever
--     binds a credential resolves as it anyway), and the change log, which
--     holds transaction ids and times. It writes neither.
--   * Every policy's call of those six helpers becomes
--     COALESCE((SELECT c.<column> FROM private.principal_cached c), (SELECT private.<helper>())):
--     an InitPlan that reads the entry in the statement's own plan, and
--     the helper only when there is no entry (a cache miss, a transaction
--     that changed what the resolution reads, the cache turned off, a
--     column that is null). The helper answers from the same entry when
--     there is one, so both arms agree; the RLS matrix runs with the cache
--     and without it.
--   * private.principal_now seals a cache hit for the rest of the
--     transaction (once: a body already set to the same principal is not
--     sealed again). 00162 returned a hit unsealed, so a revocation that
--     committed between two statements of one transaction made the second
--     resolve again and see nobody: a request that had passed its session
--     check could answer 404 or 403 instead of completing. With the
--     policies reading the entry in each statement's snapshot this became
--     common. Now the entry is gone for the second statement, the helper
--     arm runs, and principal_now finds the seal: within a transaction the
--     principal holds, as the sealed principal (00070) promised; the next
--     transaction sees the revocation. A change in the transaction itself
--     (app.whoami's touch of last_seen_at or last_used_at) moves the epoch
--     and so voids the seal; whoami seals again after its touch, and a hit
--     under a moved epoch is sealed again.

-- +goose Up
set local role ward_owner;

grant select on private.principal_cache to ward_app;
grant select on private.principal_changes to ward_app;
create policy principal_cache_own on private.principal_cache for select to ward_app
  using (cred = current_setting('ward.credential', true));
create policy principal_changes_read on private.principal_changes for select to ward_app using (true);

create view private.principal_cached with (security_invoker = true) as
select case when (x.principal).pending is null then (x.principal).org_id end as org_id,
       case when (x.principal).pending is null then (x.principal).user_id end as user_id,
       case when (x.principal).pending is null then (x.principal).role end as role,
       (x.principal).pending is null and (x.principal).org_id is not null
         and coalesce((x.principal).role in ('lead', 'admin') and (x.principal).kind is distinct from 'api_key', false)
         as lead,
       (x.principal).pending is null and coalesce((x.principal).kind = 'api_key', false) as is_key,
       (x.principal).pending is null and coalesce((x.principal).break_glass, false) as break_glass,
       x.principal
  from private.principal_cache x
 where current_setting('ward.principal_cache', true) is distinct from 'off'
   and x.cred = current_setting('ward.credential', true)
   and x.org is not distinct from current_setting('ward.org', true)
   and x.dpop is not distinct from current_setting('ward.dpop', true)
   and x.valid_until > now()
   and not exists (select from private.principal_changes ch
                    where ch.xid >= pg_snapshot_xmin(x.snap)
                      and (ch.xid = x.put_xid or not pg_visible_in_snapshot(ch.xid, x.snap)))
   and (pg_current_xact_id_if_assigned() is null
        or not exists (select from private.principal_changes ch where ch.xid = pg_current_xact_id_if_assigned()))
 limit 1;
grant select on private.principal_cached to ward_app, ward_rls;

-- principal_now as in 00162, sealing a cache hit for the rest of the
-- transaction (see above).
-- +goose StatementBegin
create or replace function private.principal_now() RETURNS private.principal
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
  hit boolean := false;
  epoch bigint;
begin
  -- ward.principal_cache = 'off' skips the cache (the sealed principal's
  -- own tests): it can only make a resolution slower.
  if v_cred is not null and current_setting('ward.principal_cache', true) is distinct from 'off' then
    -- The lookup is the view the policies read (below).
    select (c.principal).* into p from private.principal_cached c;
    hit := found;
    -- A hit is sealed for the rest of the transaction once (00164), so
    -- that a change committed while the transaction runs does not change
    -- its principal from one statement to the next (the policies read the
    -- entry directly and fall back to this function when it is gone). A
    -- body already set to this principal under the current epoch is not
    -- sealed again (a change to what the resolution reads, such as
    -- whoami's touch, moves the epoch, and the next call seals again);
    -- forged, it can only fail the check below and resolve again.
    if hit and body is not distinct from p::text
       and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text
       and current_setting('ward.principal_sealed_epoch', true) = currval('private.principal_epoch')::text then
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
    if not hit and body is not null and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text
       and current_setting('ward.principal_mac', true) = encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
             || convert_to(ctx || ',' || currval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex') then
      return body::private.principal;
    end if;
  end if;
  if not hit then
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
  end if;
  if k.ipad is null then
    return p;
  end if;
  if current_setting('ward.principal_drawn', true) is distinct from pg_backend_pid()::text then
    perform set_config('ward.principal_drawn', pg_backend_pid()::text, false);
  end if;
  body := p::text;
  epoch := nextval('private.principal_epoch');
  perform set_config('ward.principal', body, true);
  perform set_config('ward.principal_sealed_epoch', epoch::text, true);
  perform set_config('ward.principal_mac', encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
    || convert_to(ctx || ',' || epoch || ';' || body, 'UTF8'))), 'hex'), true);
  return p;
end $$;
-- +goose StatementEnd

-- whoami as last defined, sealing the principal again after its touch.
-- +goose StatementBegin
create or replace function app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me private.principal;
  s app.sessions%rowtype;
  reused app.session_tokens%rowtype;
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  iat text := current_setting('ward.dpop_iat', true);
  began bigint;
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
    if coalesce(iat::bigint, floor(extract(epoch from now() - interval '5 minutes'))::bigint) <= began + 60 then
      raise exception 'the DPoP proof''s iat does not follow the start of the jti memory (%): it may have been used before',
        to_timestamp(began) using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    insert into app.dpop_jtis (jkt, jti_hash) values (jkt, decode(jti, 'hex')) on conflict do nothing;
    if not found then
      raise exception 'the DPoP proof''s jti was used before' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    if random() < 1.0 / 32 then
      delete from app.dpop_jtis d
       where d.ctid = any (array(select x.ctid from app.dpop_jtis x where x.expires_at < now() limit 256));
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

-- +goose StatementBegin
do $$
declare
  r record;
  q text;
  w text;
  call text;
  cached text;
  h text[] := array['get_my_org_id', 'org_id', 'uid', 'user_id', 'am_i_lead', 'lead',
                    'get_my_role', 'role', 'is_key', 'is_key', 'am_i_break_glass', 'break_glass'];
begin
  for r in select p.polname, c.oid::regclass::text as rel,
                  pg_get_expr(p.polqual, p.polrelid) as qual, pg_get_expr(p.polwithcheck, p.polrelid) as chk
             from pg_policy p join pg_class c on c.oid = p.polrelid
  loop
    q := r.qual;
    w := r.chk;
    for i in 1 .. array_length(h, 1) / 2 loop
      call := format('( SELECT private.%s() AS %s)', h[2 * i - 1], h[2 * i - 1]);
      cached := format('COALESCE(( SELECT c.%s FROM private.principal_cached c), %s)', h[2 * i], call);
      q := replace(q, call, cached);
      w := replace(w, call, cached);
    end loop;
    if q is distinct from r.qual then
      execute format('alter policy %I on %s using (%s)', r.polname, r.rel, q);
    end if;
    if w is distinct from r.chk then
      execute format('alter policy %I on %s with check (%s)', r.polname, r.rel, w);
    end if;
  end loop;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
