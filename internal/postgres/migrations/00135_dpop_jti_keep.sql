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

-- app.whoami's touches (a session's last_seen_at, an API key's
-- last_used_at, at most once a minute) skip a row another transaction
-- holds locked instead of waiting for it: a record read's check now runs
-- in the request's transaction (postgres.RequestTx), so the row its touch
-- locked stays locked until the read commits, and every other request of
-- the same session or key waited in app.whoami until then, each holding a
-- pool connection. The transaction that holds the row has touched it.

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

-- +goose StatementBegin
-- app.whoami as in 00134, its touches skipping a row another request holds.
create or replace function app.whoami(
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
  me := private.me_pending_cached();
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
end $$;
-- +goose StatementEnd

alter function app.dpop_jti_keep() owner to ward_definer;
revoke all on function app.dpop_jti_keep() from public;
grant execute on function app.dpop_jti_keep() to ward_app;

reset role;

-- +goose Down
drop function app.dpop_jti_keep();
