-- The sealed principal, cheaper to verify (issue 7: RLS overhead on the
-- indexed patient list; issue 8: the session check).
--
-- Measured on the patient list (pgbench, one client, PostgreSQL 15, the
-- same statement as ward_app bound to a lead's session and as a role that
-- bypasses RLS): a policy's InitPlan cost 25-30 µs of backend CPU and the
-- resolution about 130 µs, against 70 µs for the list itself. What a
-- profile of the backend showed, and what this migration changes:
--
--   * The seal and the principal shared one setting ("body mac"): every
--     verification took length(), left(-65) and right(65) of it, and each
--     counts the characters of the whole value (UTF-8: a multibyte scan).
--     The principal is now ward.principal and its MAC ward.principal_mac;
--     the MAC covers exactly what it covered (the backend, the
--     transaction's start, the credential, org hint and DPoP thumbprint,
--     this session's principal epoch, the principal).
--   * private.me_pending_cached() returns twelve OUT parameters: PL/pgSQL
--     built their row descriptor again on every call, and the helpers then
--     copied the record. private.principal_now() returns the composite
--     type private.principal itself (auth_time as microseconds since the
--     epoch, auth_us), and the hot helpers read it directly.
--   * Reading private.principal_key and, in the resolver, app.orgs and
--     app.memberships by sequential scan asks the kernel for the
--     relation's size (an lseek) on every scan: six system calls per
--     transaction on the list, each costly on a virtual machine. The key is
--     read by its primary key, and the two functions plan with
--     enable_seqscan off, so every lookup they make is an index scan (each
--     is by key: session token hash, session, membership, org).
--   * The resolution ran as select ... into from private.me_pending(), a
--     function scan that materialises its one row in a tuplestore; it is a
--     plain call now.
--
-- What is unchanged: what every helper returns for every credential, when
-- the cache resolves again (another transaction, another backend, another
-- credential, org hint or DPoP key, a write to a table the resolver reads),
-- and that ward_app can read but not forge the cache.
-- private.me_pending_cached() stays, as a wrapper, for its callers.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.principal_now() returns private.principal
language plpgsql stable security definer set search_path = '' set enable_seqscan = off as $$
declare
  body text := current_setting('ward.principal', true);
  k private.principal_key;
  r record;
  p private.principal;
  ctx text;
begin
  select * into k from private.principal_key where one;
  if k.ipad is not null then
    ctx := concat_ws(',', pg_backend_pid(), extract(epoch from now()),
                     quote_nullable(current_setting('ward.credential', true)),
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

-- me_pending_cached, as before, returns what private.me_pending() returns:
-- now through principal_now.
create or replace function private.me_pending_cached(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  p private.principal := private.principal_now();
begin
  kind := p.kind; credential_id := p.credential_id; user_id := p.user_id; org_id := p.org_id;
  role := p.role; session_id := p.session_id; aal := p.aal;
  auth_time := 'epoch'::timestamptz + p.auth_us * interval '1 microsecond';
  break_glass := p.break_glass; device := p.device; amr := p.amr; pending := p.pending;
end $$;

-- me, as before: me_pending() where pending is null.
create or replace function private.me(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text)
language plpgsql stable security definer set search_path = '' as $$
declare
  p private.principal := private.principal_now();
begin
  if p.pending is null then
    kind := p.kind; credential_id := p.credential_id; user_id := p.user_id; org_id := p.org_id; role := p.role;
    session_id := p.session_id; aal := p.aal;
    auth_time := 'epoch'::timestamptz + p.auth_us * interval '1 microsecond';
    break_glass := p.break_glass; device := p.device;
  end if;
end $$;

-- The helpers the policies call, as before (00116 and earlier), reading
-- principal_now.
create or replace function private.get_my_org_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.org_id end;
end $$;

create or replace function private.get_my_role() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.role end;
end $$;

create or replace function private.uid() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.user_id end;
end $$;

create or replace function private.session_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.session_id end;
end $$;

create or replace function private.is_key() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and coalesce(m.kind = 'api_key', false);
end $$;

create or replace function private.am_i_lead() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and m.org_id is not null
     and coalesce(m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;

create or replace function private.am_i_lead_in_org(p_org uuid) returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null
     and coalesce(m.org_id = p_org and m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;

create or replace function private.am_i_break_glass() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and coalesce(m.break_glass, false);
end $$;

-- app.whoami as in 00135 and audit.append_event as in 00105, reading
-- principal_now (the check of every request and the event of every
-- audited access: no record copied out of a function scan). And an event
-- appended without a request id (the triggers' events, a LOW left by an
-- earlier session) records the one the transaction is bound to
-- (ward.request), so it can be found beside the request's own events.
create or replace function app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) returns setof record
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
    end if;
  end if;
  return next;
end $_$;

create or replace function audit.append_event(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  me private.principal;
  a audit.actions%rowtype;
  known boolean;
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  kase uuid := p_case;
  ua text := audit.clean_text(p_ua, 256);
  -- An event written without a request id (a trigger's: the case grants a
  -- revoked membership ends, the keys it revokes) takes the request's the
  -- transaction is bound to.
  req text := audit.clean_text(coalesce(p_request, current_setting('ward.request', true)), 64);
  ip text := audit.clean_text(p_ip, 64);
  at timestamptz := date_trunc('microseconds', clock_timestamp());
  canon bytea;
  id bigint;
begin
  select * into a from audit.actions x where x.name = p_action;
  known := found;
  if p_refuse_reserved and p_outcome = 'success' and a.reserved then
    raise exception 'audit: % is recorded only by the procedure that does it', p_action using errcode = '42501';
  end if;
  if p_org is null or p_action is null or p_outcome is null
     or p_outcome not in ('success', 'denied', 'failure')
     or (p_results is not null and (array_position(p_results, null) is not null or array_ndims(p_results) > 1))
     or (p_details is not null and jsonb_typeof(p_details) <> 'object') then
    raise exception 'audit: invalid event' using errcode = '22023';
  end if;
  if not known then
    raise exception 'audit: unknown action %', left(p_action, 64) using errcode = '22023';
  end if;
  if p_disclosure is not null and (jsonb_typeof(p_disclosure) <> 'object'
       or (select array_agg(k order by k) from jsonb_object_keys(p_disclosure) k) <> array['purpose', 'recipient']
       or jsonb_typeof(p_disclosure -> 'purpose') <> 'string' or jsonb_typeof(p_disclosure -> 'recipient') <> 'string'
       or length(p_disclosure ->> 'purpose') not between 1 and 200
       or length(p_disclosure ->> 'recipient') not between 1 and 200) then
    raise exception 'audit: a disclosure is {"recipient", "purpose"}, 1..200 characters each' using errcode = '22023';
  end if;
  if p_outcome = 'success' and (
       (a.disclosure and p_disclosure is null)
       or ('patient' = any (a.requires) and p_patient is null)
       or ('object' = any (a.requires) and (p_object_type is null or p_object_id is null))) then
    raise exception 'audit: action % needs %', p_action, array_to_string(a.requires, ', ') using errcode = '22023';
  end if;
  if patient is not null
     and not exists (select from app.patients pt where pt.org_id = p_org and pt.id = patient) then
    if p_outcome = 'success' then
      raise exception 'audit: no such patient in this org' using errcode = '22023';
    end if;
    patient := null; -- a probe of an id that names nobody here
  end if;
  if kase is not null
     and not exists (select from app.cases c where c.org_id = p_org and c.id = kase) then
    if p_outcome = 'success' then
      raise exception 'audit: no such case in this org' using errcode = '22023';
    end if;
    kase := null;
  end if;

  -- private.me(), without its frame: the principal unless it is pending.
  me := private.principal_now();
  if me.pending is not null then
    me := null;
  end if;
  if p_require_credential and me.user_id is null then
    raise exception 'audit: a live credential is required' using errcode = '42501';
  end if;
  if me.user_id is not null then
    if me.org_id <> p_org then
      raise exception 'audit: credential does not belong to this org' using errcode = '42501';
    end if;
    actor := me.user_id; kind := 'user'; sess := me.session_id;
  elsif p_actor is not null then
    actor := p_actor; kind := 'system';
  else
    kind := 'anonymous';
  end if;

  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, kase, p_disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, null, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), null, 2, me.kind, me.credential_id,
    me.device, kase, p_disclosure, coalesce(me.break_glass, false))
  returning qid into id;
  return id;
end $$;
-- +goose StatementEnd

alter function private.principal_now() owner to ward_rls;
revoke all on function private.principal_now() from public;
grant execute on function private.principal_now() to ward_definer;
-- The resolver's lookups are all by key: index scans, no relation-size
-- system call per scan of a small table (see the top of this file).
alter function private.me_pending() set enable_seqscan = off;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
