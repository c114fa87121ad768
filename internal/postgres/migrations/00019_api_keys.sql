-- Admin API keys (issue 8 §9): sk_live_ + base62 random (32 bytes) + a
-- CRC32 checksum, so secret scanners spot one and the server refuses a
-- mistyped key before any lookup. Only the SHA-256 is stored. A key belongs
-- to one org, acts for the admin who created it (and stops resolving when
-- that person is no longer a live admin of the org), has scopes and an
-- optional expiry (at most a year), and is a credential like a session:
-- private.me_pending() resolves it (kind api_key, AAL2, never pending), so
-- RLS binds it to its org and role and every audit event it causes carries
-- its id. Creating one needs an AAL2 session that presented a second
-- factor within 10 minutes; keys cannot create keys.

-- +goose Up
set local role ward_owner;

create table app.api_keys (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  key_hash bytea not null unique check (octet_length(key_hash) = 32),
  prefix text not null check (prefix ~ '^sk_live_[0-9A-Za-z]{4}$'),
  name text not null check (length(name) between 1 and 100),
  scopes text[] not null check (cardinality(scopes) between 1 and 4
                                and scopes <@ array['members', 'audit:read', 'dsr', 'gateway']::text[]),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz check (expires_at <= created_at + interval '366 days'),
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (org_id, id),
  foreign key (org_id, created_by) references app.memberships (org_id, user_id)
);
alter table app.api_keys enable row level security;
alter table app.api_keys force row level security;
-- The org's admins list its keys (never a hash).
create policy api_keys_select on app.api_keys for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin');
grant select (org_id, id, prefix, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at)
  on app.api_keys to ward_app;
grant select, insert, update on app.api_keys to ward_definer;
grant select (org_id, id, key_hash, created_by, created_at, expires_at, revoked_at) on app.api_keys to ward_rls;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.api_key.create', 'auth',   false, false, true,  '{object}'),
  ('auth.api_key.revoke', 'auth',   false, false, true,  '{object}'),
  ('api_key.list',        'access', false, false, false, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- me_pending as in 00018, with a branch for API keys: a live key (not
-- revoked, not expired) of a live admin resolves to that admin's user in
-- the key's org, role admin, AAL2, never pending.
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text,
  out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  h bytea := private.credential_hash();
  sid uuid;
begin
  if h is null then
    return;
  end if;
  select s.id into sid from app.sessions s where s.token_hash = h;
  if sid is null then
    select t.session_id into sid from app.session_tokens t
     where t.token_hash = h and t.retired_at > now() - interval '30 seconds';
  end if;
  if sid is not null then
    select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, false, null, s.amr,
           case when not private.meets_bar(private.assurance_bar(m.role, o.require_mfa, o.require_passkey),
                                            s.assurance, s.amr)
                then private.assurance_bar(m.role, o.require_mfa, o.require_passkey) end
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.sessions s
      join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
      join app.orgs o on o.id = s.org_id
     where s.id = sid
       and s.revoked_at is null
       and s.absolute_expires_at > now()
       and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
       and m.revoked_at is null;
  else
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- create_api_key (admins, from a session that presented a second factor
-- within 10 minutes) stores a key by its hash and returns its id.
create function app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[],
  p_expires_at timestamptz, p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  kid uuid;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if octet_length(p_key_hash) is distinct from 32 then
    raise exception 'create_api_key: the key hash is 32 bytes' using errcode = '22023';
  end if;
  if p_expires_at is not null and (p_expires_at <= now() or p_expires_at > now() + interval '366 days') then
    raise exception 'expires_at must be in the future and within a year' using errcode = '22023';
  end if;
  insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by, expires_at)
  values (me.org_id, p_key_hash, p_prefix, p_name, (select array_agg(distinct s order by s) from unnest(p_scopes) s),
          me.user_id, p_expires_at)
  returning id into kid;
  perform audit.append_as(me.org_id, 'auth.api_key.create', 'success', 'api_key', kid, p_request => p_request,
    p_details => jsonb_build_object('scopes', p_scopes, 'expires_at', p_expires_at, 'prefix', p_prefix));
  return kid;
end $$;

-- revoke_api_key (admins of the key's org) ends a key; false when the org
-- has no live key of that id.
create function app.revoke_api_key(p_id uuid, p_request text default null) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.api_keys k set revoked_at = now() where k.org_id = me.org_id and k.id = p_id and k.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.api_key.revoke', 'success', 'api_key', p_id, p_request => p_request);
  return true;
end $$;

-- api_key_scopes returns the scopes of the presented API key (none for any
-- other credential), and marks the key used (at most once a minute).
create function app.api_key_scopes() returns text[]
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  sc text[];
begin
  select * into me from private.me();
  if me.kind is distinct from 'api_key' then
    return '{}';
  end if;
  update app.api_keys k set last_used_at = now()
   where k.org_id = me.org_id and k.id = me.credential_id
     and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
  select k.scopes into sc from app.api_keys k where k.org_id = me.org_id and k.id = me.credential_id;
  return sc;
end $$;
-- +goose StatementEnd

alter function app.create_api_key(bytea, text, text, text[], timestamptz, text) owner to ward_definer;
alter function app.revoke_api_key(uuid, text) owner to ward_definer;
alter function app.api_key_scopes() owner to ward_definer;
revoke all on function app.create_api_key(bytea, text, text, text[], timestamptz, text),
  app.revoke_api_key(uuid, text), app.api_key_scopes() from public;
grant execute on function app.create_api_key(bytea, text, text, text[], timestamptz, text),
  app.revoke_api_key(uuid, text), app.api_key_scopes() to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
