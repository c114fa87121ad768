-- SCIM 2.0 provisioning (issue 12 §2, RFC 7643/7644). A directory (Okta,
-- Entra ID) drives an org's staff through /scim/v2 with one bearer token per
-- org: scim_ + base62 random (32 bytes) + a CRC32 checksum, only its SHA-256
-- stored. The token is a credential like a session: private.me_pending()
-- resolves it (kind scim_token, the token's org, no user, no role), so it
-- reaches only its own org, and every audit event it causes carries its id.
-- It is not anyone's session: every existing policy that asks for a user or
-- a role gives it nothing. It reads and writes only through the procedures
-- below, which take no org, role or identity from their caller.
--
-- What SCIM manages: the org's staff (provider, lead, admin memberships).
-- Patients are invisible to it (their address is PHI and the hospital's
-- directory has no business with them). A User's id is the Ward user id; its
-- userName is the person's sign-in address (the users row, shared by every
-- org the person belongs to, so SCIM never changes it); externalId and the
-- sealed name attributes live in app.scim_users. active:false or DELETE
-- revokes the membership, the member's sessions and the API keys they made,
-- in the same transaction, audited. DELETE also hides the User from SCIM
-- (404) until the directory creates it again.

-- +goose Up
set local role ward_owner;

create table app.scim_tokens (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  prefix text not null check (prefix ~ '^scim_[0-9A-Za-z]{4}$'),
  name text not null check (length(name) between 1 and 100),
  default_role text not null default 'provider' check (default_role in ('provider', 'lead')),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (org_id, id),
  foreign key (org_id, created_by) references app.memberships (org_id, user_id)
);
alter table app.scim_tokens enable row level security;
alter table app.scim_tokens force row level security;
-- The org's admins list its tokens (never a hash), from a session.
create policy scim_tokens_select on app.scim_tokens for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
grant select (org_id, id, prefix, name, default_role, created_by, created_at, last_used_at, revoked_at)
  on app.scim_tokens to ward_app;
grant select, insert, update on app.scim_tokens to ward_definer;
grant select (org_id, id, token_hash, created_at, revoked_at) on app.scim_tokens to ward_rls;

create table app.scim_users (
  org_id uuid not null,
  user_id uuid not null,
  external_id text check (length(external_id) between 1 and 256),
  attrs_enc bytea,
  version int not null default 1 check (version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  primary key (org_id, user_id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id),
  unique (org_id, external_id)
);
comment on column app.scim_users.attrs_enc is
  'AEAD ciphertext under the org keyset, AD scim_users|attrs|org|user: the SCIM name, displayName, title';
alter table app.scim_users enable row level security;
alter table app.scim_users force row level security;
grant select on app.scim_users to ward_app;
grant select, insert, update on app.scim_users to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('scim.token.create',    'auth',       false, false, true, '{object}'),
  ('scim.token.revoke',    'auth',       false, false, true, '{object}'),
  ('scim.token.list',      'access',     false, false, false, '{}'),
  ('scim.user.create',     'membership', false, false, true, '{object}'),
  ('scim.user.update',     'membership', false, false, true, '{object}'),
  ('scim.user.deactivate', 'membership', false, false, true, '{object}'),
  ('scim.user.activate',   'membership', false, false, true, '{object}'),
  ('scim.user.delete',     'membership', false, false, true, '{object}'),
  ('scim.user.list',       'access',     false, false, true, '{}'),
  ('scim.request.denied',  'access',     false, false, false, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- is_scim reports whether the credential is a live SCIM token.
create function private.is_scim() returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return coalesce((select m.kind = 'scim_token' from private.me() m), false);
end $$;

-- me_pending as in 00027, with a branch for SCIM tokens: a live token (not
-- revoked) resolves to its org, with no user, no role and no session.
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
       and m.revoked_at is null
       and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''));
  else
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    if kind is null then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;

-- scim_me is the presented SCIM token's org and id (nothing for any other
-- credential); it marks the token used, at most once a minute.
create function app.scim_me(out org_id uuid, out token_id uuid) returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    return;
  end if;
  update app.scim_tokens t set last_used_at = now()
   where t.org_id = me.org_id and t.id = me.credential_id
     and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute');
  org_id := me.org_id; token_id := me.credential_id;
  return next;
end $$;

-- create_scim_token (admins, from a session that presented a second factor
-- within 10 minutes) stores a token by its hash and returns its id. The
-- role given to the people the directory creates is provider or lead.
create function app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text,
  p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  tid uuid;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'create_scim_token: the token hash is 32 bytes' using errcode = '22023';
  end if;
  insert into app.scim_tokens (org_id, token_hash, prefix, name, default_role, created_by)
  values (me.org_id, p_token_hash, p_prefix, p_name, coalesce(p_default_role, 'provider'), me.user_id)
  returning id into tid;
  perform audit.append_as(me.org_id, 'scim.token.create', 'success', 'scim_token', tid, p_request => p_request,
    p_details => jsonb_build_object('prefix', p_prefix, 'default_role', coalesce(p_default_role, 'provider')));
  return tid;
end $$;

-- revoke_scim_token (admins of the token's org, from a session) ends a
-- token; false when the org has no live token of that id.
create function app.revoke_scim_token(p_id uuid, p_request text default null) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = me.org_id and t.id = p_id and t.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'scim.token.revoke', 'success', 'scim_token', p_id, p_request => p_request);
  return true;
end $$;

-- scim_users lists the SCIM token's org's staff as SCIM Users, narrowed by
-- any of id, email blind index and externalId, in creation order, one page
-- of it, and records the read (the ids returned). Every row carries the
-- number of matches; a page past the end is one row of nulls with it.
create function app.scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset int, p_limit int,
  p_request text default null)
returns table (user_id uuid, role text, active boolean, email_enc bytea, external_id text, attrs_enc bytea,
  created_at timestamptz, updated_at timestamptz, version int, total bigint)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
  r record;
  ids uuid[] := '{}';
  n bigint;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_offset is null or p_limit is null or p_offset < 0 or p_limit < 0 or p_limit > 1000 then
    raise exception 'scim_users: offset >= 0 and a limit of 0..1000' using errcode = '22023';
  end if;
  select count(*) into n
    from app.memberships m
    join app.users u on u.id = m.user_id
    left join app.scim_users su on su.org_id = m.org_id and su.user_id = m.user_id
   where m.org_id = me.org_id and m.role not in ('patient', 'stakeholder') and su.deleted_at is null
     and (p_id is null or m.user_id = p_id)
     and (p_email_bidx is null or u.email_bidx = p_email_bidx)
     and (p_external_id is null or su.external_id = p_external_id);
  for r in
    select m.user_id, m.role, m.revoked_at is null as active, u.email_enc, su.external_id, su.attrs_enc,
           coalesce(su.created_at, m.created_at) as created_at, coalesce(su.updated_at, m.created_at) as updated_at,
           coalesce(su.version, 1) as version
      from app.memberships m
      join app.users u on u.id = m.user_id
      left join app.scim_users su on su.org_id = m.org_id and su.user_id = m.user_id
     where m.org_id = me.org_id and m.role not in ('patient', 'stakeholder') and su.deleted_at is null
       and (p_id is null or m.user_id = p_id)
       and (p_email_bidx is null or u.email_bidx = p_email_bidx)
       and (p_external_id is null or su.external_id = p_external_id)
     order by m.created_at, m.user_id
    offset p_offset limit p_limit
  loop
    user_id := r.user_id; role := r.role; active := r.active; email_enc := r.email_enc;
    external_id := r.external_id; attrs_enc := r.attrs_enc; created_at := r.created_at;
    updated_at := r.updated_at; version := r.version; total := n;
    ids := ids || r.user_id;
    return next;
  end loop;
  if cardinality(ids) = 0 then
    user_id := null; role := null; active := null; email_enc := null; external_id := null; attrs_enc := null;
    created_at := null; updated_at := null; version := null; total := n;
    return next;
  end if;
  perform audit.append_as(me.org_id, 'scim.user.list', 'success', p_results => ids, p_request => p_request,
    p_details => jsonb_build_object('count', cardinality(ids), 'total', n));
end $$;

-- scim_end_access ends a member's access to org: the membership, their
-- sessions and the API keys they made. The org's last live admin is kept
-- (23514): a directory, or a stolen SCIM token, cannot lock the org out.
create function private.scim_end_access(p_org uuid, p_user uuid, p_reason text) returns void
language plpgsql volatile set search_path = '' as $$
begin
  perform 1 from app.orgs o where o.id = p_org for update;
  if exists (select from app.memberships m where m.org_id = p_org and m.user_id = p_user and m.role = 'admin'
               and m.revoked_at is null)
     and (select count(*) from app.memberships x where x.org_id = p_org and x.role = 'admin'
            and x.revoked_at is null) = 1 then
    raise exception 'last admin' using errcode = '23514';
  end if;
  update app.memberships m set revoked_at = now()
   where m.org_id = p_org and m.user_id = p_user and m.revoked_at is null;
  update app.sessions s set revoked_at = now(), revoked_reason = p_reason
   where s.org_id = p_org and s.user_id = p_user and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = p_org and k.created_by = p_user and k.revoked_at is null;
end $$;

-- scim_create_user provisions a person in the SCIM token's org: their user
-- (by the email's blind index; created on first sight with p_user and the
-- sealed address) and a membership with the token's default role. A person
-- already visible to SCIM here, or a patient of the org, is 23505; one the
-- directory deleted comes back.
create function app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text,
  p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  uid uuid;
  m app.memberships%rowtype;
  drole text;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if octet_length(p_email_bidx) is distinct from 32 or p_email_enc is null or p_user is null then
    raise exception 'scim_create_user: a user id, a 32-byte blind index and a sealed address are required'
      using errcode = '22023';
  end if;
  select t.default_role into drole from app.scim_tokens t where t.org_id = me.org_id and t.id = me.credential_id;
  select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    uid := p_user;
  end if;
  select * into m from app.memberships x where x.org_id = me.org_id and x.user_id = uid for update;
  if found then
    if m.role = 'patient' or not exists (select from app.scim_users su where su.org_id = me.org_id
                                           and su.user_id = uid and su.deleted_at is not null) then
      raise exception 'already a member' using errcode = '23505';
    end if;
    update app.memberships x set role = drole, revoked_at = null where x.org_id = me.org_id and x.user_id = uid;
  else
    insert into app.memberships (org_id, user_id, role) values (me.org_id, uid, drole);
  end if;
  insert into app.scim_users (org_id, user_id, external_id) values (me.org_id, uid, p_external_id)
  on conflict (org_id, user_id) do update
    set external_id = excluded.external_id, attrs_enc = null, deleted_at = null, created_at = now(),
        updated_at = now(), version = app.scim_users.version + 1;
  perform audit.append_as(me.org_id, 'scim.user.create', 'success', 'user', uid, p_request => p_request,
    p_details => jsonb_build_object('role', drole));
  return uid;
end $$;

-- scim_update_user replaces what SCIM holds of a User of the token's org
-- (externalId, the sealed attributes, active) and returns its new version.
-- The userName is the person's sign-in address: a different one is 22023
-- (hint mutability). active false ends the member's access (the
-- membership, sessions and API keys); true restores the membership. No
-- such User: P0002.
create function app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea,
  p_active boolean, p_request text default null)
returns int
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  m app.memberships%rowtype;
  bidx bytea;
  v int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_active is null then
    raise exception 'scim_update_user: active is true or false' using errcode = '22023';
  end if;
  select x.* into m from app.memberships x
   where x.org_id = me.org_id and x.user_id = p_user and x.role not in ('patient', 'stakeholder')
     and not exists (select from app.scim_users su where su.org_id = x.org_id and su.user_id = x.user_id
                       and su.deleted_at is not null)
   for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select u.email_bidx into bidx from app.users u where u.id = p_user;
  if p_email_bidx is distinct from bidx then
    raise exception 'userName cannot change' using errcode = '22023', hint = 'mutability';
  end if;
  insert into app.scim_users (org_id, user_id, external_id, attrs_enc) values (me.org_id, p_user, p_external_id, p_attrs_enc)
  on conflict (org_id, user_id) do update
    set external_id = excluded.external_id, attrs_enc = excluded.attrs_enc, updated_at = now(),
        version = app.scim_users.version + 1
  returning version into v;
  perform audit.append_as(me.org_id, 'scim.user.update', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('active', p_active));
  if p_active and m.revoked_at is not null then
    update app.memberships x set revoked_at = null where x.org_id = me.org_id and x.user_id = p_user;
    perform audit.append_as(me.org_id, 'scim.user.activate', 'success', 'user', p_user, p_request => p_request);
  elsif not p_active and m.revoked_at is null then
    perform audit.append_as(me.org_id, 'scim.user.deactivate', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('sessions_revoked', true, 'api_keys_revoked', true));
    perform private.scim_end_access(me.org_id, p_user, 'deprovisioned');
  end if;
  return v;
end $$;

-- scim_delete_user ends a User's access to the token's org, as active
-- false does, and hides it from SCIM until the directory creates it again.
-- No such User: P0002.
create function app.scim_delete_user(p_user uuid, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  perform 1 from app.memberships x
   where x.org_id = me.org_id and x.user_id = p_user and x.role not in ('patient', 'stakeholder')
     and not exists (select from app.scim_users su where su.org_id = x.org_id and su.user_id = x.user_id
                       and su.deleted_at is not null)
   for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'scim.user.delete', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('sessions_revoked', true, 'api_keys_revoked', true));
  perform private.scim_end_access(me.org_id, p_user, 'deprovisioned');
  insert into app.scim_users (org_id, user_id, deleted_at) values (me.org_id, p_user, now())
  on conflict (org_id, user_id) do update
    set external_id = null, attrs_enc = null, deleted_at = now(), updated_at = now(),
        version = app.scim_users.version + 1;
end $$;

-- scim_failure records a SCIM request the token's org refused or could not
-- serve (a bad filter, an unknown User, a conflict), with its reason code
-- and the object it named, never the request body.
create function app.scim_failure(p_reason text, p_object uuid default null, p_request text default null,
  p_ip text default null, p_ua text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'scim_failure: a reason code' using errcode = '22023';
  end if;
  perform audit.append_as(me.org_id, 'scim.request.denied', 'failure', case when p_object is null then null else 'user' end,
    p_object, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_details => jsonb_build_object('reason', p_reason));
end $$;
-- +goose StatementEnd

alter function private.is_scim() owner to ward_rls;
alter function private.me_pending() owner to ward_rls;
-- The org's SCIM token and its admins see the rows; only the procedures
-- write them.
create policy scim_users_select on app.scim_users for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.is_scim())
              or ((select private.get_my_role()) = 'admin' and not (select private.is_key()))));

revoke all on function private.is_scim(), private.scim_end_access(uuid, uuid, text) from public;
grant execute on function private.is_scim() to ward_app;
grant execute on function private.scim_end_access(uuid, uuid, text) to ward_definer;
alter function app.scim_failure(text, uuid, text, text, text) owner to ward_definer;
revoke all on function app.scim_failure(text, uuid, text, text, text) from public;
grant execute on function app.scim_failure(text, uuid, text, text, text) to ward_app;
alter function app.scim_me() owner to ward_definer;
alter function app.create_scim_token(bytea, text, text, text, text) owner to ward_definer;
alter function app.revoke_scim_token(uuid, text) owner to ward_definer;
alter function app.scim_users(uuid, bytea, text, int, int, text) owner to ward_definer;
alter function app.scim_create_user(uuid, bytea, bytea, text, text) owner to ward_definer;
alter function app.scim_update_user(uuid, bytea, text, bytea, boolean, text) owner to ward_definer;
alter function app.scim_delete_user(uuid, text) owner to ward_definer;
revoke all on function app.scim_me(), app.create_scim_token(bytea, text, text, text, text),
  app.revoke_scim_token(uuid, text), app.scim_users(uuid, bytea, text, int, int, text),
  app.scim_create_user(uuid, bytea, bytea, text, text), app.scim_update_user(uuid, bytea, text, bytea, boolean, text),
  app.scim_delete_user(uuid, text) from public;
grant execute on function app.scim_me(), app.create_scim_token(bytea, text, text, text, text),
  app.revoke_scim_token(uuid, text), app.scim_users(uuid, bytea, text, int, int, text),
  app.scim_create_user(uuid, bytea, bytea, text, text), app.scim_update_user(uuid, bytea, text, bytea, boolean, text),
  app.scim_delete_user(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
