-- Per-org SSO (issue 12 §1): OIDC (and, later in this issue, SAML)
-- connections, domain routing, account linking and just-in-time
-- provisioning. The server verifies the IdP's answer (signatures, issuer,
-- audience, nonce, times: internal/sso); the database holds everything
-- else: the single-use, browser-bound sign-in state, which org and
-- connection an answer may sign into, who the identity links to, whether
-- it may create a member, the assurance the IdP's amr/acr earn (only the
-- values the connection lists), and the session's lifetimes (the org's
-- policy). An SSO session is AAL1 with amr {sso} unless the connection
-- trusts what the IdP said; the admin/lead AAL2 bar and the org's MFA
-- policy still apply (step-up with TOTP or a passkey).

-- +goose Up
set local role ward_owner;

alter table app.orgs add column enforce_sso boolean not null default false;
grant select (enforce_sso) on app.orgs to ward_app, ward_rls;
grant update (enforce_sso) on app.orgs to ward_definer;

create table app.sso_connections (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  kind text not null check (kind in ('oidc', 'saml')),
  name text not null check (length(name) between 1 and 100),
  issuer text check (length(issuer) between 8 and 2048),
  client_id text check (length(client_id) between 1 and 512),
  client_secret_enc bytea,
  signing_algs text[] not null default '{RS256,ES256}'
    check (cardinality(signing_algs) between 1 and 10
           and signing_algs <@ array['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA']),
  trusted_amr text[] not null default '{}' check (cardinality(trusted_amr) <= 20),
  trusted_acr text[] not null default '{}' check (cardinality(trusted_acr) <= 20),
  jit boolean not null default false,
  jit_role text not null default 'provider' check (jit_role in ('patient', 'provider', 'lead')),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, created_by) references app.memberships (org_id, user_id),
  check (kind <> 'oidc' or (issuer is not null and client_id is not null))
);
comment on column app.sso_connections.client_secret_enc is
  'AEAD ciphertext under the instance keyset, AD sso_connections|client_secret|instance|connection';
alter table app.sso_connections enable row level security;
alter table app.sso_connections force row level security;
create policy sso_connections_select on app.sso_connections for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
grant select (org_id, id, kind, name, issuer, client_id, signing_algs, trusted_amr, trusted_acr, jit, jit_role,
  created_by, created_at) on app.sso_connections to ward_app;
grant select, insert, update, delete on app.sso_connections to ward_definer;

create table app.sso_domains (
  org_id uuid not null,
  domain text not null check (domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$' and length(domain) <= 253),
  connection_id uuid not null,
  verified_at timestamptz,
  verified_by text check (verified_by in ('idp', 'dns')),
  created_at timestamptz not null default now(),
  primary key (org_id, domain),
  foreign key (org_id, connection_id) references app.sso_connections (org_id, id) on delete cascade
);
-- A domain routes to one org: the first to verify it.
create unique index sso_domains_verified_idx on app.sso_domains (domain) where verified_at is not null;
alter table app.sso_domains enable row level security;
alter table app.sso_domains force row level security;
create policy sso_domains_select on app.sso_domains for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
grant select on app.sso_domains to ward_app;
grant select, insert, update, delete on app.sso_domains to ward_definer;

-- An IdP identity (an HMAC of the connection and the issuer's subject under
-- the instance PRF key, which only the server holds) linked to a member.
create table app.sso_identities (
  org_id uuid not null,
  connection_id uuid not null,
  subject_hash bytea not null check (octet_length(subject_hash) = 32),
  user_id uuid not null,
  created_at timestamptz not null default now(),
  last_signin_at timestamptz not null default now(),
  primary key (org_id, connection_id, subject_hash),
  foreign key (org_id, connection_id) references app.sso_connections (org_id, id) on delete cascade,
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
alter table app.sso_identities enable row level security;
alter table app.sso_identities force row level security;
-- A member sees their own links; the org's admins see the org's.
create policy sso_identities_select on app.sso_identities for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and (user_id = (select private.uid())
              or ((select private.get_my_role()) = 'admin' and not (select private.is_key()))));
grant select (org_id, connection_id, user_id, created_at, last_signin_at) on app.sso_identities to ward_app;
grant select, insert, update on app.sso_identities to ward_definer;

-- Sign-in states: single use, bound to the browser that started (the hash
-- of a cookie), ten minutes. Only the procedures read or write them.
create table app.sso_states (
  state_hash bytea primary key check (octet_length(state_hash) = 32),
  org_id uuid not null,
  connection_id uuid not null,
  binder_hash bytea not null check (octet_length(binder_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '10 minutes',
  taken_at timestamptz,
  done_at timestamptz,
  foreign key (org_id, connection_id) references app.sso_connections (org_id, id) on delete cascade
);
create index sso_states_expiry_idx on app.sso_states (expires_at);
alter table app.sso_states enable row level security;
alter table app.sso_states force row level security;
grant select, insert, update, delete on app.sso_states to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('sso.connection.create', 'org',    false, false, true,  '{object}'),
  ('sso.connection.delete', 'org',    false, false, true,  '{object}'),
  ('sso.connection.list',   'access', false, false, false, '{}'),
  ('sso.domain.claim',      'org',    false, false, true,  '{object}'),
  ('sso.domain.verify',     'org',    false, false, true,  '{object}'),
  ('sso.policy.update',     'org',    false, false, true,  '{object}'),
  ('sso.identity.link',     'auth',   false, false, true,  '{object}'),
  ('sso.jit.create',        'membership', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- sso_admin refuses (42501) a caller that is not an admin's session that
-- presented a second factor within 10 minutes.
create function private.sso_admin() returns void
language plpgsql stable set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
end $$;

-- create_sso_connection (admins, step-up) adds a connection to the
-- caller's org and returns its id.
create function app.create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text,
  p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean,
  p_jit_role text, p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, signing_algs,
    trusted_amr, trusted_acr, jit, jit_role, created_by)
  values (me.org_id, p_id, p_kind, p_name, p_issuer, p_client_id, p_client_secret_enc,
    coalesce(p_signing_algs, '{RS256,ES256}'), coalesce(p_trusted_amr, '{}'), coalesce(p_trusted_acr, '{}'),
    coalesce(p_jit, false), coalesce(p_jit_role, 'provider'), me.user_id);
  perform audit.append_as(me.org_id, 'sso.connection.create', 'success', 'sso_connection', p_id,
    p_request => p_request, p_details => jsonb_build_object('kind', p_kind, 'issuer', p_issuer,
      'signing_algs', coalesce(p_signing_algs, '{RS256,ES256}'), 'trusted_amr', coalesce(p_trusted_amr, '{}'),
      'trusted_acr', coalesce(p_trusted_acr, '{}'), 'jit', coalesce(p_jit, false),
      'jit_role', coalesce(p_jit_role, 'provider')));
  return p_id;
end $$;

-- delete_sso_connection (admins, step-up) removes a connection, its
-- domains, links and pending sign-ins; false when the org has none of
-- that id.
create function app.delete_sso_connection(p_id uuid, p_request text default null) returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_connections c where c.org_id = me.org_id and c.id = p_id;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'sso.connection.delete', 'success', 'sso_connection', p_id, p_request => p_request);
  return true;
end $$;

-- claim_sso_domain (admins, step-up) claims an email domain for one of the
-- org's connections, unverified: it routes nobody until an admin of the
-- org signs in through that connection with an address on it.
create function app.claim_sso_domain(p_domain text, p_connection uuid, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if not exists (select from app.sso_connections c where c.org_id = me.org_id and c.id = p_connection) then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  insert into app.sso_domains (org_id, domain, connection_id) values (me.org_id, lower(p_domain), p_connection);
  perform audit.append_as(me.org_id, 'sso.domain.claim', 'success', 'sso_connection', p_connection,
    p_request => p_request, p_details => jsonb_build_object('domain', lower(p_domain)));
end $$;

-- set_sso_policy (admins, step-up): with enforce_sso, no sign-in link is
-- sent to an address on one of the org's verified domains.
create function app.set_sso_policy(p_enforce boolean, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if p_enforce is null then
    raise exception 'enforce_sso is true or false' using errcode = '22023';
  end if;
  update app.orgs o set enforce_sso = p_enforce where o.id = me.org_id;
  perform audit.append_as(me.org_id, 'sso.policy.update', 'success', 'org', me.org_id, p_request => p_request,
    p_details => jsonb_build_object('enforce_sso', p_enforce));
end $$;

-- sso_enforced reports whether a sign-in link to an address on p_domain is
-- refused: the domain is verified by an org that enforces SSO.
create function app.sso_enforced(p_domain text) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select from app.sso_domains d join app.orgs o on o.id = d.org_id
                  where d.domain = lower(p_domain) and d.verified_at is not null and o.enforce_sso)
$$;

-- sso_begin starts a sign-in: through the connection a verified domain
-- routes to (p_domain), or through one named connection (p_org,
-- p_connection: an admin's first sign-in, which verifies the org's claimed
-- domains). It records the state (ten minutes, single use, bound to the
-- browser by p_binder_hash) and returns what the server needs to send the
-- browser to the IdP; no row when nothing routes.
create function app.sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea,
  out org_id uuid, out connection_id uuid, out kind text, out issuer text, out client_id text)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_state_hash) is distinct from 32 or octet_length(p_binder_hash) is distinct from 32 then
    raise exception 'sso_begin: state and binder hashes are 32 bytes' using errcode = '22023';
  end if;
  if p_domain is not null then
    select x.* into c from app.sso_domains d join app.sso_connections x on x.org_id = d.org_id and x.id = d.connection_id
     where d.domain = lower(p_domain) and d.verified_at is not null;
  else
    select x.* into c from app.sso_connections x where x.org_id = p_org and x.id = p_connection;
  end if;
  if c.id is null then
    return;
  end if;
  delete from app.sso_states s
   where s.ctid = any (array(select x.ctid from app.sso_states x where x.expires_at < now() - interval '1 hour' limit 100));
  insert into app.sso_states (state_hash, org_id, connection_id, binder_hash) values (p_state_hash, c.org_id, c.id, p_binder_hash);
  org_id := c.org_id; connection_id := c.id; kind := c.kind; issuer := c.issuer; client_id := c.client_id;
  return next;
end $$;

-- sso_take spends a sign-in state presented with the browser's binder and
-- returns the connection the IdP's answer is checked against. status is ok,
-- invalid, expired, used or wrong_browser; every refusal is audited.
create function app.sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text default null, p_ip text default null,
  p_ua text default null,
  out status text, out org_id uuid, out connection_id uuid, out kind text, out issuer text, out client_id text,
  out client_secret_enc bytea, out signing_algs text[])
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  st app.sso_states%rowtype;
  c app.sso_connections%rowtype;
begin
  select * into st from app.sso_states s where s.state_hash = p_state_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case
    when st.taken_at is not null then 'used'
    when st.expires_at <= now() then 'expired'
    when p_binder_hash is null or st.binder_hash <> p_binder_hash then 'wrong_browser'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(st.org_id, 'auth.signin', 'denied', 'sso_connection', st.connection_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', status));
    return;
  end if;
  update app.sso_states s set taken_at = now() where s.state_hash = p_state_hash;
  select * into c from app.sso_connections x where x.org_id = st.org_id and x.id = st.connection_id;
  org_id := c.org_id; connection_id := c.id; kind := c.kind; issuer := c.issuer; client_id := c.client_id;
  client_secret_enc := c.client_secret_enc; signing_algs := c.signing_algs;
end $$;

-- sso_failure records why the server refused the IdP's answer to a taken
-- state (a reason code, never the assertion), and spends the state.
create function app.sso_failure(p_state_hash bytea, p_reason text, p_request text default null, p_ip text default null,
  p_ua text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  st app.sso_states%rowtype;
begin
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'sso_failure: a reason code' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at is not null and s.done_at is null for update;
  if not found then
    return;
  end if;
  update app.sso_states s set done_at = now() where s.state_hash = p_state_hash;
  perform audit.append_as(st.org_id, 'auth.signin', 'denied', 'sso_connection', st.connection_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'reason', p_reason));
end $$;

-- sso_complete signs in the identity the server verified for a state it
-- took within the last five minutes (once). The identity links to the
-- member it is already linked to; else, when the address is verified (the
-- IdP says so, or it is on a domain the org claimed for this connection or
-- verified),
-- to the live member with that address; else, when the connection allows
-- just-in-time provisioning and the address is verified, to a new member
-- with the connection's role. The session's assurance is 2 only when the
-- IdP's amr or acr is one the connection trusts; its lifetimes are the
-- org's. An admin's sign-in verifies the org's claimed domains of the
-- connection that match the address. status: ok, or the refusal (audited).
create function app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea,
  p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea,
  p_ip inet, p_ua text, p_request text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid, out absolute_expires_at timestamptz,
  out idle_timeout_min int, out aal int)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  st app.sso_states%rowtype;
  c app.sso_connections%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  m app.memberships%rowtype;
  verified boolean;
  linked boolean := false;
  reason text;
begin
  if octet_length(p_state_hash) is distinct from 32 or octet_length(p_subject_hash) is distinct from 32
     or octet_length(p_session_hash) is distinct from 32
     or (p_email_bidx is not null and octet_length(p_email_bidx) <> 32) then
    raise exception 'sso_complete: state, subject, session and address hashes are 32 bytes' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at > now() - interval '5 minutes' and s.done_at is null for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  update app.sso_states s set done_at = now() where s.state_hash = p_state_hash;
  select * into c from app.sso_connections x where x.org_id = st.org_id and x.id = st.connection_id;
  -- The org trusts its own connection for the domains it claimed for it
  -- (verified or not: verification decides routing between orgs, and a
  -- link or a JIT member stays in this org), and its connections for the
  -- domains it verified.
  verified := coalesce(p_email_verified, false)
    or exists (select from app.sso_domains d where d.org_id = c.org_id and d.domain = lower(p_email_domain)
                 and (d.connection_id = c.id or d.verified_at is not null));

  select i.user_id into uid from app.sso_identities i
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;
  if uid is null and p_email_bidx is not null and verified then
    select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
    if uid is not null and exists (select from app.memberships x where x.org_id = c.org_id and x.user_id = uid) then
      linked := true;
    elsif c.jit then
      if uid is null then
        if p_user is null or p_email_enc is null then
          raise exception 'sso_complete: a new user needs an id and a sealed address' using errcode = '22023';
        end if;
        insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
        uid := p_user;
      end if;
      insert into app.memberships (org_id, user_id, role) values (c.org_id, uid, c.jit_role);
      perform audit.append_as(c.org_id, 'sso.jit.create', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('role', c.jit_role, 'connection', c.id));
      linked := true;
    else
      uid := null;
      reason := 'no_account';
    end if;
    if linked then
      insert into app.sso_identities (org_id, connection_id, subject_hash, user_id)
      values (c.org_id, c.id, p_subject_hash, uid);
      perform audit.append_as(c.org_id, 'sso.identity.link', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('connection', c.id));
    end if;
  elsif uid is null then
    reason := case when p_email_bidx is null then 'no_email' else 'email_not_verified' end;
  end if;
  if uid is not null then
    select * into m from app.memberships x where x.org_id = c.org_id and x.user_id = uid;
    if m.revoked_at is not null then
      uid := null;
      reason := 'membership_revoked';
    end if;
  end if;
  if uid is null then
    status := coalesce(reason, 'no_account');
    perform audit.append_as(c.org_id, 'auth.signin', 'denied', 'sso_connection', c.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', status));
    return;
  end if;
  update app.sso_identities i set last_signin_at = now()
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;

  aal := case when coalesce(p_amr, '{}') && c.trusted_amr or p_acr = any (c.trusted_acr) then 2 else 1 end;
  select * into o from app.orgs x where x.id = c.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (c.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at, audit.clean_text(p_ua, 256), p_ip,
          aal, '{sso}', now())
  returning id into session_id;
  user_id := uid; org_id := c.org_id; status := 'ok';
  perform audit.append_as(c.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'connection', c.id, 'kind', c.kind, 'aal', aal,
      'idp_amr', coalesce(to_jsonb(p_amr), '[]'::jsonb), 'idp_acr', p_acr),
    p_actor => uid);
  -- An admin of the org signing in through the connection verifies the
  -- claimed domains that their address is on (unless another org did).
  if m.role = 'admin' and p_email_domain is not null then
    update app.sso_domains d set verified_at = now(), verified_by = 'idp'
     where d.org_id = c.org_id and d.connection_id = c.id and d.domain = lower(p_email_domain)
       and d.verified_at is null
       and not exists (select from app.sso_domains x where x.domain = d.domain and x.verified_at is not null);
    if found then
      perform audit.append_as(c.org_id, 'sso.domain.verify', 'success', 'sso_connection', c.id,
        p_request => p_request, p_details => jsonb_build_object('domain', lower(p_email_domain), 'by', 'idp'),
        p_actor => uid);
    end if;
  end if;
end $$;
-- +goose StatementEnd

revoke all on function private.sso_admin() from public;
grant execute on function private.sso_admin() to ward_definer;
alter function app.create_sso_connection(uuid, text, text, text, text, bytea, text[], text[], text[], boolean, text, text) owner to ward_definer;
alter function app.delete_sso_connection(uuid, text) owner to ward_definer;
alter function app.claim_sso_domain(text, uuid, text) owner to ward_definer;
alter function app.set_sso_policy(boolean, text) owner to ward_definer;
alter function app.sso_enforced(text) owner to ward_definer;
alter function app.sso_begin(text, uuid, uuid, bytea, bytea) owner to ward_definer;
alter function app.sso_take(bytea, bytea, text, text, text) owner to ward_definer;
alter function app.sso_failure(bytea, text, text, text, text) owner to ward_definer;
alter function app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text) owner to ward_definer;
revoke all on function app.create_sso_connection(uuid, text, text, text, text, bytea, text[], text[], text[], boolean, text, text),
  app.delete_sso_connection(uuid, text), app.claim_sso_domain(text, uuid, text), app.set_sso_policy(boolean, text),
  app.sso_enforced(text), app.sso_begin(text, uuid, uuid, bytea, bytea), app.sso_take(bytea, bytea, text, text, text),
  app.sso_failure(bytea, text, text, text, text),
  app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text) from public;
grant execute on function app.create_sso_connection(uuid, text, text, text, text, bytea, text[], text[], text[], boolean, text, text),
  app.delete_sso_connection(uuid, text), app.claim_sso_domain(text, uuid, text), app.set_sso_policy(boolean, text),
  app.sso_enforced(text), app.sso_begin(text, uuid, uuid, bytea, bytea), app.sso_take(bytea, bytea, text, text, text),
  app.sso_failure(bytea, text, text, text, text),
  app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
