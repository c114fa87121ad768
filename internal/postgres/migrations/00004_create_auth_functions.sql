-- Sign-in, sessions, membership and key-store procedures. Each is plpgsql
-- SECURITY DEFINER with an empty search_path, owned by ward_definer, and
-- writes its audit event in the same transaction.

-- +goose Up
set local role ward_owner;

alter table app.magic_links alter column verifier_hash drop not null;
comment on column app.magic_links.verifier_hash is
  'SHA-256 of the browser-bound verifier; NULL only for operator links printed by `ward login-link`';

-- +goose StatementBegin
-- request_magic_link records the attempt for rate limiting, then creates a
-- link when the blind index names a user with a live membership (in p_org,
-- or their oldest membership when p_org is NULL). It returns the status
-- ('created', 'unknown', 'rate_limited') and, when created, the org. The
-- caller must answer every status but rate_limited identically.
create function app.request_magic_link(
  p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea,
  p_ip inet, p_ip_hash bytea, p_ttl_min int, p_window_min int, p_max_email int, p_max_ip int,
  p_request text default null, p_ua text default null,
  out status text, out org_id uuid, out user_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
declare
  n_email int;
  n_ip int;
  m record;
begin
  -- Serialise attempts per address and per IP (always in this order), so
  -- concurrent requests cannot all count below the limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.email.' || encode(p_email_bidx, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.ip.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) into n_email from app.auth_attempts a
   where a.kind = 'email' and a.key_hash = p_email_bidx and a.at > now() - make_interval(mins => p_window_min);
  select count(*) into n_ip from app.auth_attempts a
   where a.kind = 'ip' and a.key_hash = p_ip_hash and a.at > now() - make_interval(mins => p_window_min);
  insert into app.auth_attempts (kind, key_hash) values ('email', p_email_bidx), ('ip', p_ip_hash);
  delete from app.auth_attempts a where a.at < now() - interval '1 day';
  if n_email >= p_max_email or n_ip >= p_max_ip then
    status := 'rate_limited';
    return;
  end if;

  select ms.org_id, ms.user_id into m
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org)
   order by ms.created_at
   limit 1;
  if m.user_id is null then
    status := 'unknown';
    return;
  end if;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
  values (m.org_id, m.user_id, p_token_hash, p_verifier_hash, now() + make_interval(mins => p_ttl_min), p_ip);
  perform audit.append_as(m.org_id, 'auth.link.request', 'success', 'user', m.user_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('browser_bound', p_verifier_hash is not null), p_actor => m.user_id);
  status := 'created'; org_id := m.org_id; user_id := m.user_id;
end $$;

-- consume_magic_link spends a link once, within its lifetime, from the
-- browser that asked for it, and creates a session whose idle timeout and
-- absolute expiry come from the org policy capped by the instance maxima.
-- Failures return a status (invalid, expired, used, wrong_browser) instead
-- of raising, so that the denial's audit event commits.
create function app.consume_magic_link(
  p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea,
  p_idle_cap int, p_abs_cap int, p_ip inet, p_ua text, p_request text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  l app.magic_links%rowtype;
  o app.orgs%rowtype;
  live boolean;
begin
  select * into l from app.magic_links ml where ml.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  select exists (select from app.memberships ms where ms.org_id = l.org_id and ms.user_id = l.user_id
                   and ms.revoked_at is null) into live;
  status := case
    when l.used_at is not null then 'used'
    when l.expires_at <= now() then 'expired'
    when not live then 'invalid'
    when l.verifier_hash is not null and (p_verifier_hash is null or p_verifier_hash <> l.verifier_hash)
      then 'wrong_browser'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(l.org_id, 'auth.signin', 'denied', 'user', l.user_id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'magic_link', 'reason', status), p_actor => l.user_id);
    return;
  end if;
  update app.magic_links ml set used_at = now() where ml.id = l.id;

  select * into o from app.orgs where id = l.org_id;
  idle_timeout_min := least(o.session_idle_timeout_min, p_idle_cap);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, p_abs_cap));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip)
  values (l.org_id, l.user_id, p_session_hash, idle_timeout_min, absolute_expires_at, p_ua, p_ip)
  returning id into session_id;
  user_id := l.user_id; org_id := l.org_id;
  perform audit.append_as(l.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'magic_link', 'browser_bound', l.verifier_hash is not null),
    p_actor => l.user_id);
end $$;

-- whoami resolves the presented credential (ward.credential) to its live
-- session and touches last_seen_at at most once a minute. No row = no live
-- session.
create function app.whoami(
  out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out absolute_expires_at timestamptz, out idle_expires_at timestamptz)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  select * into me from private.me();
  if me.session_id is null then
    return;
  end if;
  update app.sessions x set last_seen_at = now()
   where x.id = me.session_id and x.last_seen_at < now() - interval '1 minute'
  returning * into s;
  if not found then
    select * into s from app.sessions x where x.id = me.session_id;
  end if;
  user_id := me.user_id; org_id := me.org_id; role := me.role; session_id := me.session_id;
  absolute_expires_at := s.absolute_expires_at;
  idle_expires_at := least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min));
  return next;
end $$;

-- set_session_policy (admins) changes the org's session policy and ends
-- or shortens sessions that no longer meet it.
create function app.set_session_policy(p_idle int, p_abs int, p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old app.orgs%rowtype;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  -- The event first: the change may end the caller's own session, after
  -- which the credential would no longer name the actor.
  perform audit.append_as(me.org_id, 'org.session_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('idle_min', p_idle, 'absolute_min', p_abs,
                                    'old_idle_min', old.session_idle_timeout_min,
                                    'old_absolute_min', old.session_absolute_max_min));
  update app.orgs set session_idle_timeout_min = p_idle, session_absolute_max_min = p_abs
   where id = me.org_id;
  update app.sessions s
     set idle_timeout_min = least(s.idle_timeout_min, p_idle),
         absolute_expires_at = least(s.absolute_expires_at, s.created_at + make_interval(mins => p_abs))
   where s.org_id = me.org_id and s.revoked_at is null;
end $$;

-- add_member (admins) adds a user by email blind index, creating the user
-- (with the given id and email ciphertext) when the address is new, or
-- reactivating a revoked membership. Returns the user's id.
create function app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text,
  p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  uid uuid;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    uid := p_user;
  end if;
  insert into app.memberships (org_id, user_id, role) values (me.org_id, uid, p_role)
  on conflict (org_id, user_id) do update set role = excluded.role, revoked_at = null
    where app.memberships.revoked_at is not null;
  if not found then
    raise exception 'already a member' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'membership.add', 'success', 'user', uid, p_request => p_request,
    p_details => jsonb_build_object('role', p_role));
  return uid;
end $$;

-- update_member (admins) changes a member's role or revokes the membership
-- (ending their sessions in the org). The org's last admin cannot be
-- demoted or revoked.
create function app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  m app.memberships%rowtype;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- Serialise membership changes per org, so two admins demoting each
  -- other at once cannot both pass the last-admin check.
  perform 1 from app.orgs o where o.id = me.org_id for update;
  select * into m from app.memberships x where x.org_id = me.org_id and x.user_id = p_user
     and x.revoked_at is null for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if m.role = 'admin' and (p_revoke or p_role is distinct from 'admin')
     and (select count(*) from app.memberships x where x.org_id = me.org_id and x.role = 'admin'
            and x.revoked_at is null) = 1 then
    raise exception 'last admin' using errcode = '23514';
  end if;
  -- Events first: the change may end the caller's own session.
  if p_revoke then
    perform audit.append_as(me.org_id, 'membership.revoke', 'success', 'user', p_user, p_request => p_request);
    update app.memberships x set revoked_at = now() where x.org_id = me.org_id and x.user_id = p_user;
    update app.sessions s set revoked_at = now(), revoked_reason = 'membership_revoked'
     where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null;
  else
    perform audit.append_as(me.org_id, 'membership.update', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('role', p_role, 'old_role', m.role));
    update app.memberships x set role = p_role where x.org_id = me.org_id and x.user_id = p_user;
    -- A privilege change ends the member's sessions: they sign in again.
    update app.sessions s set revoked_at = now(), revoked_reason = 'role_changed'
     where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null;
  end if;
end $$;

-- org_keyset returns the wrapped keysets of the caller's org, or of the
-- instance (org ffffffff-…). Key material is never selectable directly.
create function app.org_keyset(p_org uuid, out purpose text, out wrapped bytea)
returns setof record
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_org <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
     and p_org is distinct from private.get_my_org_id() then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select k.purpose, k.wrapped from private.keysets k where k.org_id = p_org;
end $$;

-- ensure_instance_keyset stores the instance keysets unless present, and
-- returns what is stored (so concurrent first starts agree).
create function app.ensure_instance_keyset(p_aead bytea, p_prf bytea, out purpose text, out wrapped bytea)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
begin
  insert into private.keysets (org_id, purpose, wrapped)
  values ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'aead', p_aead),
         ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'prf', p_prf)
  on conflict do nothing;
  return query select k.purpose, k.wrapped from private.keysets k
                where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
end $$;

-- create_org (operators) creates an org with its keysets and first admin.
-- The admin user is reused when the email's blind index is known.
-- p_org is chosen by the caller because the keysets are bound to it.
create function app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid,
  p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, out org_id uuid, out admin_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
begin
  insert into app.orgs (id, name) values (p_org, p_name) returning id into org_id;
  insert into private.keysets (org_id, purpose, wrapped) values (org_id, 'aead', p_aead), (org_id, 'prf', p_prf);
  select u.id into admin_id from app.users u where u.email_bidx = p_admin_bidx;
  if admin_id is null then
    insert into app.users (id, email_bidx, email_enc) values (p_admin, p_admin_bidx, p_admin_email_enc);
    admin_id := p_admin;
  end if;
  insert into app.memberships (org_id, user_id, role) values (org_id, admin_id, 'admin');
  perform audit.append_as(org_id, 'org.create', 'success', 'org', org_id, p_actor => admin_id);
  perform audit.append_as(org_id, 'membership.add', 'success', 'user', admin_id, p_actor => admin_id,
    p_details => jsonb_build_object('role', 'admin'));
end $$;

-- issue_operator_link (operators) creates a magic link that is not bound to
-- a browser, for `ward login-link`.
create function app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_ttl_min int,
  out org_id uuid, out user_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
begin
  select ms.org_id, ms.user_id into org_id, user_id
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org)
   order by ms.created_at
   limit 1;
  if user_id is null then
    raise exception 'no such member' using errcode = 'P0002';
  end if;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at)
  values (org_id, user_id, p_token_hash, null, now() + make_interval(mins => p_ttl_min));
  perform audit.append_as(org_id, 'auth.link.request', 'success', 'user', user_id,
    p_details => jsonb_build_object('channel', 'cli', 'browser_bound', false), p_actor => user_id);
end $$;
-- +goose StatementEnd

grant select, insert, update on app.magic_links, app.sessions to ward_definer;
grant select, insert, delete on app.auth_attempts to ward_definer;
grant select, insert on app.users to ward_definer;
grant select, insert, update on app.memberships to ward_definer;
grant select, insert, update on app.orgs to ward_definer;
grant select, insert on private.keysets to ward_definer;

alter function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, int, int, int, int, text, text) owner to ward_definer;
alter function app.consume_magic_link(bytea, bytea, bytea, int, int, inet, text, text) owner to ward_definer;
alter function app.whoami() owner to ward_definer;
alter function app.set_session_policy(int, int, text) owner to ward_definer;
alter function app.add_member(uuid, bytea, bytea, text, text) owner to ward_definer;
alter function app.update_member(uuid, text, boolean, text) owner to ward_definer;
alter function app.org_keyset(uuid) owner to ward_definer;
alter function app.ensure_instance_keyset(bytea, bytea) owner to ward_definer;
alter function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid) owner to ward_definer;
alter function app.issue_operator_link(bytea, uuid, bytea, int) owner to ward_definer;

revoke all on all functions in schema app from public;
grant execute on function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, int, int, int, int, text, text),
  app.consume_magic_link(bytea, bytea, bytea, int, int, inet, text, text), app.whoami(),
  app.set_session_policy(int, int, text), app.add_member(uuid, bytea, bytea, text, text),
  app.update_member(uuid, text, boolean, text), app.org_keyset(uuid),
  app.ensure_instance_keyset(bytea, bytea) to ward_app;
grant execute on function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid),
  app.issue_operator_link(bytea, uuid, bytea, int), app.org_keyset(uuid),
  app.ensure_instance_keyset(bytea, bytea) to ward_ops;

reset role;

-- +goose Down
set local role ward_owner;
drop function app.issue_operator_link(bytea, uuid, bytea, int), app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid),
  app.ensure_instance_keyset(bytea, bytea), app.org_keyset(uuid), app.update_member(uuid, text, boolean, text),
  app.add_member(uuid, bytea, bytea, text, text), app.set_session_policy(int, int, text), app.whoami(),
  app.consume_magic_link(bytea, bytea, bytea, int, int, inet, text, text),
  app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, int, int, int, int, text, text);
reset role;
