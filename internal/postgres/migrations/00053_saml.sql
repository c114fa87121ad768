-- SAML 2.0 connections (issue 12 §1): the org's IdP metadata (its signing
-- certificates, SSO URL and entity id: public data), SP-initiated sign-in
-- through the same single-use, browser-bound states as OIDC, IdP-initiated
-- sign-in off unless the connection allows it, and replayed assertion ids
-- refused (the hash of each accepted id is kept until the assertion would
-- have expired). The server verifies the XML signatures, audience,
-- recipient, InResponseTo and times (crewjam/saml, internal/sso); the
-- database holds the rest, as for OIDC (00052).

-- +goose Up
set local role ward_owner;

alter table app.sso_connections add column idp_metadata text check (length(idp_metadata) <= 200000);
alter table app.sso_connections add column allow_idp_initiated boolean not null default false;
alter table app.sso_connections add constraint sso_connections_saml_check
  check (kind <> 'saml' or idp_metadata is not null);
grant select (idp_metadata, allow_idp_initiated) on app.sso_connections to ward_app;

create table app.sso_assertions (
  org_id uuid not null,
  connection_id uuid not null,
  id_hash bytea not null check (octet_length(id_hash) = 32),
  expires_at timestamptz not null,
  primary key (org_id, connection_id, id_hash),
  foreign key (org_id, connection_id) references app.sso_connections (org_id, id) on delete cascade
);
create index sso_assertions_expiry_idx on app.sso_assertions (expires_at);
alter table app.sso_assertions enable row level security;
alter table app.sso_assertions force row level security;
grant select, insert, delete on app.sso_assertions to ward_definer;

-- +goose StatementBegin
-- create_saml_connection (admins, step-up) adds a SAML connection to the
-- caller's org and returns its id. trusted_acr lists the
-- AuthnContextClassRef values that make a session AAL2.
create function app.create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[],
  p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  insert into app.sso_connections (org_id, id, kind, name, idp_metadata, trusted_acr, jit, jit_role,
    allow_idp_initiated, created_by)
  values (me.org_id, p_id, 'saml', p_name, p_idp_metadata, coalesce(p_trusted_acr, '{}'), coalesce(p_jit, false),
    coalesce(p_jit_role, 'provider'), coalesce(p_allow_idp_initiated, false), me.user_id);
  perform audit.append_as(me.org_id, 'sso.connection.create', 'success', 'sso_connection', p_id,
    p_request => p_request, p_details => jsonb_build_object('kind', 'saml',
      'trusted_acr', coalesce(p_trusted_acr, '{}'), 'jit', coalesce(p_jit, false),
      'jit_role', coalesce(p_jit_role, 'provider'), 'allow_idp_initiated', coalesce(p_allow_idp_initiated, false)));
  return p_id;
end $$;

-- saml_config returns a SAML connection's public configuration (the IdP's
-- metadata), for its SP metadata and its assertion consumer; no row for
-- anything else.
create function app.saml_config(p_connection uuid, out org_id uuid, out idp_metadata text,
  out allow_idp_initiated boolean)
returns setof record
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
begin
  return query select c.org_id, c.idp_metadata, c.allow_idp_initiated from app.sso_connections c
                where c.id = p_connection and c.kind = 'saml';
end $$;

-- saml_idp_begin records an IdP-initiated sign-in through a connection as a
-- taken state (it has no browser to bind to: the assertion's single use and
-- signature carry it), when the connection allows them; false, audited,
-- when it does not.
create function app.saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text default null,
  p_ip text default null, p_ua text default null)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_state_hash) is distinct from 32 then
    raise exception 'saml_idp_begin: the state hash is 32 bytes' using errcode = '22023';
  end if;
  select * into c from app.sso_connections x where x.id = p_connection and x.kind = 'saml';
  if not found then
    return false;
  end if;
  if not c.allow_idp_initiated then
    perform audit.append_as(c.org_id, 'auth.signin', 'denied', 'sso_connection', c.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', 'idp_initiated_off'));
    return false;
  end if;
  insert into app.sso_states (state_hash, org_id, connection_id, binder_hash, taken_at)
  values (p_state_hash, c.org_id, c.id, p_state_hash, now());
  return true;
end $$;

-- sso_assertion_once records the id of an assertion accepted for a taken
-- state's connection, kept until it expires (at least a minute, at most a
-- day); false when the id was seen before: a replay.
create function app.sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamptz)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
declare
  st app.sso_states%rowtype;
  n int;
begin
  if octet_length(p_id_hash) is distinct from 32 then
    raise exception 'sso_assertion_once: the id hash is 32 bytes' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at > now() - interval '5 minutes' and s.done_at is null;
  if not found then
    return false;
  end if;
  delete from app.sso_assertions a
   where a.ctid = any (array(select x.ctid from app.sso_assertions x where x.expires_at < now() limit 100));
  insert into app.sso_assertions (org_id, connection_id, id_hash, expires_at)
  values (st.org_id, st.connection_id, p_id_hash,
          least(greatest(coalesce(p_expires_at, now()), now() + interval '1 minute'), now() + interval '1 day'))
  on conflict do nothing;
  get diagnostics n = row_count;
  return n = 1;
end $$;
-- +goose StatementEnd

alter function app.create_saml_connection(uuid, text, text, text[], boolean, text, boolean, text) owner to ward_definer;
alter function app.saml_config(uuid) owner to ward_definer;
alter function app.saml_idp_begin(uuid, bytea, text, text, text) owner to ward_definer;
alter function app.sso_assertion_once(bytea, bytea, timestamptz) owner to ward_definer;
revoke all on function app.create_saml_connection(uuid, text, text, text[], boolean, text, boolean, text),
  app.saml_config(uuid), app.saml_idp_begin(uuid, bytea, text, text, text),
  app.sso_assertion_once(bytea, bytea, timestamptz) from public;
grant execute on function app.create_saml_connection(uuid, text, text, text[], boolean, text, boolean, text),
  app.saml_config(uuid), app.saml_idp_begin(uuid, bytea, text, text, text),
  app.sso_assertion_once(bytea, bytea, timestamptz) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
