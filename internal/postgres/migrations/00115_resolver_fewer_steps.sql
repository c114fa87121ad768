-- Resolving a credential in fewer steps (issues 7 and 8, DESIGN §11:
-- session validation ≤ 0.1 ms added per request, RLS overhead ≤ +25%).
-- Profiled (pg_stat_user_functions with track_functions = all, perf of a
-- backend), the time did not go into the lookups themselves but into how
-- they were called:
--
-- - app.whoami called private.touch_due(), a SQL function with its own
--   search_path: such a function is never inlined, and PostgreSQL 15
--   parses and plans its body on every call (a quarter of whoami's time).
--   Its expression is now written inline, and the session row read once.
-- - private.me_pending() called private.credential_hash() (a definer
--   function of its own) and looked the session up in two or three
--   statements (by token hash, by a rotated token, then the joined check).
--   It now reads the setting itself and finds the session, by its token or
--   a token rotated away within 30 seconds, in the joined statement. The
--   credential, org hint, DPoP thumbprint, jti and iat are checked against
--   the same patterns as before without regular expressions (each match
--   cost a few microseconds).
--   Nothing it checks changed: the same session, membership, org,
--   assurance bar, device binding and passkey conditions; the same API
--   key and SCIM token branches; the same org hint rule.
-- - Each RLS helper (get_my_org_id, uid, ...) read private.me() in a
--   subquery: a statement with its own executor start and a function scan
--   that materialises the row, then private.me() did the same with
--   private.me_pending_cached(). They now call private.me_pending_cached()
--   as a plain expression and apply me()'s rule (nothing while the
--   principal is pending) themselves; private.me() does the same.
--
-- The principal cache, its seal and what the seal covers are unchanged.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out break_glass boolean, out device text, out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  c text := current_setting('ward.credential', true);
  h bytea;
begin
  -- '^[0-9a-f]{64}$' without a regular expression (a regex match costs
  -- more than the rest of the check).
  if c is null or octet_length(c) <> 64 or ltrim(c, '0123456789abcdef') <> '' then
    return;
  end if;
  h := decode(c, 'hex');
  -- The session the token names, or the one a token rotated away from
  -- within the last 30 seconds still names (the second lookup runs only
  -- when the first finds nothing).
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, s.break_glass, null,
         s.amr,
         case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                   and not (s.browser and current_setting('ward.dpop', true) = 'browser')
              then 'device_binding'
              when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                          s.assurance, s.amr)
              then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
    from app.sessions s
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.orgs o on o.id = s.org_id
   where s.id = coalesce((select x.id from app.sessions x where x.token_hash = h),
                         (select t.session_id from app.session_tokens t
                           where t.token_hash = h and t.retired_at > now() - interval '30 seconds'))
     and s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null
     and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''))
     and (s.passkey_id is null
          or exists (select from app.passkeys k where k.org_id = s.org_id and k.id = s.passkey_id));
  -- A hash that names a session (live or not) names no key or SCIM token:
  -- each is the SHA-256 of 256 random bits, so the lookups below find
  -- nothing for it, as before when they were skipped.
  if not found then
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    -- SCIM tokens (00050): a live token resolves to its org, with no user,
    -- no role and no session.
    if not found then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  -- The hint must be a UUID written as '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  -- in any case: 36 bytes, dashes at 9, 14, 19 and 24 and nowhere else,
  -- hexadecimal digits elsewhere (checked without a regular expression).
  if hint is not null and (org_id is null
       or octet_length(hint) <> 36
       or translate(hint, '0123456789abcdefABCDEF', '') <> '----'
       or substr(hint, 9, 1) <> '-' or substr(hint, 14, 1) <> '-' or substr(hint, 19, 1) <> '-' or substr(hint, 24, 1) <> '-'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.me(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out break_glass boolean, out device text)
language plpgsql stable security definer set search_path = '' as $$
declare
  r record := private.me_pending_cached();
begin
  if r.pending is null then
    kind := r.kind; credential_id := r.credential_id; user_id := r.user_id; org_id := r.org_id; role := r.role;
    session_id := r.session_id; aal := r.aal; auth_time := r.auth_time; break_glass := r.break_glass;
    device := r.device;
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- The helpers: private.me()'s rule (a pending principal is nobody) on
-- private.me_pending_cached(), read as one expression.
create or replace function private.uid() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return case when m.pending is null then m.user_id end;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.get_my_org_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return case when m.pending is null then m.org_id end;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.get_my_role() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return case when m.pending is null then m.role end;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.session_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return case when m.pending is null then m.session_id end;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.am_i_break_glass() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return m.pending is null and coalesce(m.break_glass, false);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.is_key() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return m.pending is null and coalesce(m.kind = 'api_key', false);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function private.am_i_lead_in_org(p_org uuid) returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return m.pending is null
     and coalesce(m.org_id = p_org and m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;
-- +goose StatementEnd

drop function app.whoami();

-- +goose StatementBegin
-- app.whoami as in 00112, except that the session's idle clock is read
-- once, with private.touch_due()'s rule written inline, the patterns are
-- checked without regular expressions, and it returns an API key's scopes
-- (scopes, '{}' for any other credential) and touches the key's last use
-- as app.api_key_scopes() does: a request by an API key no longer
-- resolves its credential a second time for them. app.api_key_scopes()
-- stays (a server of the previous version calls it during a deploy).
create function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz,
  out amr text[], out pending text, out break_glass boolean, out scopes text[])
returns setof record
language plpgsql security definer set search_path = '' as $$
declare
  me record;
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
  me := private.me_pending();
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
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
  amr := me.amr; pending := me.pending; break_glass := coalesce(me.break_glass, false);
  if me.kind = 'session' then
    -- private.touch_due(last_seen_at, idle_timeout_min), inline.
    select x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min),
           x.last_seen_at <= now() - least(interval '1 minute', make_interval(secs => x.idle_timeout_min * 6))
      into absolute_expires_at, idle_expires_at, due
      from app.sessions x where x.id = me.session_id;
    if due then
      update app.sessions x set last_seen_at = now()
       where x.id = me.session_id
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
       where k.org_id = me.org_id and k.id = me.credential_id
         and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
    end if;
  end if;
  return next;
end $$;
-- +goose StatementEnd

alter function app.whoami() owner to ward_definer;
revoke all on function app.whoami() from public;
grant execute on function app.whoami() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
