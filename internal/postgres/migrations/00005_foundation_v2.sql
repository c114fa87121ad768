-- Foundation v2: the database stops trusting its callers on the sign-in path,
-- one resolver for every credential kind, audit event v2 with an action
-- registry, and the product rules of patient links and care teams in the
-- policies. See docs/security-model.md ("What the database decides").
--
-- Rules this file implements:
--   * No SECURITY DEFINER function callable by ward_app takes a lifetime, a
--     rate limit, an identity or an optional verifier from its arguments: the
--     values live in app.instance_policy (one row, hard caps in CHECKs, only
--     ward_ops may change it) and the procedures read them.
--   * private.me() resolves any credential kind to a principal (kind,
--     credential id, org, role, assurance level, authentication time). Only
--     sessions exist today; later kinds add a branch, never a second resolver.
--   * audit.append refuses actions outside the registry (audit.actions), the
--     reserved auth.*, org.*, membership.* successes (only the definer
--     procedures record those), and a patient that is not in the org.

-- +goose Up
-- A reader role for verification from outside the server: it reads every
-- org's log and heads, nothing else. `ward audit verify` refuses to run as
-- a role that is neither a member of it nor a superuser.
-- +goose StatementBegin
do $$
begin
  if not exists (select from pg_roles where rolname = 'ward_audit_reader') then
    create role ward_audit_reader;
  end if;
  alter role ward_audit_reader login nosuperuser nobypassrls nocreaterole nocreatedb noinherit;
  execute format('grant connect on database %I to ward_audit_reader', current_database());
end $$;
-- +goose StatementEnd

set local role ward_owner;

-- ---------------------------------------------------------------------------
-- Instance policy: the security parameters of sign-in, in the database.

create table app.instance_policy (
  id boolean primary key default true check (id),
  link_ttl_min int not null default 15 check (link_ttl_min between 1 and 60),
  link_window_min int not null default 15 check (link_window_min between 1 and 1440),
  link_max_per_address int not null default 5 check (link_max_per_address between 1 and 100),
  link_max_per_source int not null default 30 check (link_max_per_source between 1 and 10000),
  session_idle_max_min int not null default 480 check (session_idle_max_min between 1 and 1440),
  session_absolute_max_min int not null default 10080 check (session_absolute_max_min between 5 and 43200),
  updated_at timestamptz not null default now(),
  check (session_idle_max_min <= session_absolute_max_min)
);
insert into app.instance_policy default values;
comment on table app.instance_policy is
  'Instance-wide sign-in and session limits; hard caps are the CHECK constraints. Only ward_ops updates it.';

alter table app.instance_policy enable row level security;
alter table app.instance_policy force row level security;
create policy instance_policy_read on app.instance_policy for select to ward_app, ward_ops
  using (true);
create policy instance_policy_ops on app.instance_policy for update to ward_ops using (true) with check (true);
grant select on app.instance_policy to ward_app, ward_definer, ward_ops;
grant update (link_ttl_min, link_window_min, link_max_per_address, link_max_per_source,
              session_idle_max_min, session_absolute_max_min, updated_at) on app.instance_policy to ward_ops;

-- Sessions: assurance, methods and authentication time, and hard caps that no
-- procedure can exceed whatever it computes.
alter table app.sessions add column amr text[] not null default '{email}',
  add column authenticated_at timestamptz not null default now();
alter table app.sessions add constraint sessions_assurance_check check (assurance in (1, 2)),
  add constraint sessions_idle_cap check (idle_timeout_min <= 1440),
  add constraint sessions_absolute_cap check (absolute_expires_at <= created_at + interval '30 days');
grant select (amr, authenticated_at) on app.sessions to ward_app;

-- Sign-in attempts are counted per (address, source) pair and per source,
-- so that nobody can lock a known address out from elsewhere; refused
-- attempts are not counted. The purge uses the index on at.
alter table app.auth_attempts drop constraint auth_attempts_kind_check;
delete from app.auth_attempts;
alter table app.auth_attempts add constraint auth_attempts_kind_check check (kind in ('pair', 'source'));
create index auth_attempts_at_idx on app.auth_attempts (at);

-- The definer procedures check that a named patient is in the org: they see
-- ids only (ward_definer bypasses RLS; the column grant is the limit).
grant select (org_id, id) on app.patients to ward_definer;

-- ---------------------------------------------------------------------------
-- The action registry. internal/audit/actions.go is the same list in Go;
-- TestActionRegistryMatchesSQL keeps them equal.

create table audit.actions (
  name text primary key check (name ~ '^[a-z][a-z0-9_.]{0,63}$'),
  category text not null check (category in ('auth', 'session', 'org', 'membership', 'patient', 'record', 'audit')),
  phi_access boolean not null,
  disclosure boolean not null,
  reserved boolean not null,
  requires text[] not null default '{}' check (requires <@ array['patient', 'object', 'results']::text[])
);
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('auth.link.request',        'auth',       false, false, true,  '{}'),
  ('auth.signin',              'auth',       false, false, true,  '{}'),
  ('session.list',             'session',    false, false, false, '{}'),
  ('session.revoke',           'session',    false, false, false, '{object}'),
  ('org.create',               'org',        false, false, true,  '{object}'),
  ('org.session_policy.read',  'org',        false, false, false, '{}'),
  ('org.session_policy.update','org',        false, false, true,  '{object}'),
  ('member.list',              'membership', true,  false, false, '{}'),
  ('membership.add',           'membership', false, false, true,  '{object}'),
  ('membership.update',        'membership', false, false, true,  '{object}'),
  ('membership.revoke',        'membership', false, false, true,  '{object}'),
  ('patient.create',           'patient',    true,  false, false, '{patient}'),
  ('patient.read',             'patient',    true,  false, false, '{patient}'),
  ('patient.update',           'patient',    true,  false, false, '{patient}'),
  ('patient.list',             'patient',    true,  false, false, '{}'),
  ('patient.search',           'patient',    true,  false, false, '{}'),
  ('patient.access_report',    'patient',    true,  false, false, '{patient}'),
  ('patient_link.create',      'patient',    false, false, false, '{patient}'),
  ('care_team.assign',         'patient',    false, false, false, '{patient}'),
  ('care_team.unassign',       'patient',    false, false, false, '{patient}'),
  ('entry.create',             'record',     true,  false, false, '{patient}'),
  ('entry.list',               'record',     true,  false, false, '{patient}'),
  ('audit.read',               'audit',      false, false, false, '{}');

alter table audit.actions enable row level security;
alter table audit.actions force row level security;
create policy actions_read on audit.actions for select to ward_app, ward_ops using (true);
grant select on audit.actions to ward_app, ward_definer, ward_ops;

-- ---------------------------------------------------------------------------
-- Audit event v2: who by which credential, on which device, about which
-- case, whether it was a disclosure (recipient and purpose, for the
-- accounting of §164.528) and whether break-glass access was used.

alter table audit.events add column v smallint not null default 1 check (v in (1, 2)),
  add column credential_kind text check (credential_kind in ('session', 'api_key', 'scim_token', 'invite')),
  add column credential_id uuid,
  add column device text,
  add column case_id uuid,
  add column disclosure jsonb,
  add column break_glass boolean not null default false;

-- +goose StatementBegin
-- canonical_event_v2 renders the v2 event object as RFC 8785 JSON. Keys in
-- code-point order: action actor actor_kind at break_glass case credential
-- credential_kind details device disclosure ip object_id object_type org
-- outcome patient request results session ua v. internal/audit's
-- appendCanonical is the Go reference; TestCanonicalEventMatchesJCS keeps
-- this equal to audit.jcs(audit.event_json_v2(...)).
create function audit.canonical_event_v2(
  p_org uuid, p_at timestamptz, p_action text, p_outcome text, p_actor uuid, p_actor_kind text,
  p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[],
  p_request text, p_ip text, p_ua text, p_details jsonb,
  p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb,
  p_break_glass boolean) returns text
language plpgsql immutable set search_path = '' as $$
begin
  return '{"action":' || coalesce(to_json(p_action)::text, 'null')
    || ',"actor":' || coalesce('"' || p_actor::text || '"', 'null')
    || ',"actor_kind":' || coalesce(to_json(p_actor_kind)::text, 'null')
    || ',"at":"' || to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"break_glass":' || case when p_break_glass then 'true' else 'false' end
    || ',"case":' || coalesce('"' || p_case::text || '"', 'null')
    || ',"credential":' || coalesce('"' || p_credential::text || '"', 'null')
    || ',"credential_kind":' || coalesce(to_json(p_credential_kind)::text, 'null')
    || ',"details":' || case when p_details is null or p_details = '{}'::jsonb then '{}' else audit.jcs(p_details) end
    || ',"device":' || coalesce(to_json(p_device)::text, 'null')
    || ',"disclosure":' || case when p_disclosure is null then 'null' else audit.jcs(p_disclosure) end
    || ',"ip":' || coalesce(to_json(p_ip)::text, 'null')
    || ',"object_id":' || coalesce('"' || p_object_id::text || '"', 'null')
    || ',"object_type":' || coalesce(to_json(p_object_type)::text, 'null')
    || ',"org":' || coalesce('"' || p_org::text || '"', 'null')
    || ',"outcome":' || coalesce(to_json(p_outcome)::text, 'null')
    || ',"patient":' || coalesce('"' || p_patient::text || '"', 'null')
    || ',"request":' || coalesce(to_json(p_request)::text, 'null')
    || ',"results":[' || coalesce((select string_agg('"' || r::text || '"', ',' order by o)
                                     from unnest(p_results) with ordinality u(r, o)), '') || ']'
    || ',"session":' || coalesce('"' || p_session::text || '"', 'null')
    || ',"ua":' || coalesce(to_json(p_ua)::text, 'null')
    || ',"v":2}';
end $$;

-- event_json_v2 is the v2 event object, for the generic JCS comparison.
create function audit.event_json_v2(
  p_org uuid, p_at timestamptz, p_action text, p_outcome text, p_actor uuid, p_actor_kind text,
  p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[],
  p_request text, p_ip text, p_ua text, p_details jsonb,
  p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb,
  p_break_glass boolean) returns jsonb
language sql immutable set search_path = '' as $$
  select audit.event_json(p_org, p_at, p_action, p_outcome, p_actor, p_actor_kind, p_session, p_object_type,
                          p_object_id, p_patient, p_results, p_request, p_ip, p_ua, p_details)
    || jsonb_build_object('v', 2, 'credential_kind', p_credential_kind, 'credential', p_credential,
                          'device', p_device, 'case', p_case, 'disclosure', p_disclosure,
                          'break_glass', coalesce(p_break_glass, false))
$$;

-- clean_text makes client-supplied text storable: invalid sequences cannot
-- reach here (the server decodes UTF-8), but NUL and other controls can be
-- asked for; they are dropped, and the text is capped.
create function audit.clean_text(p text, p_max int) returns text
language sql immutable set search_path = '' as $$
  select nullif(left(regexp_replace(p, '[\x01-\x1f\x7f]', '', 'g'), p_max), '')
$$;

-- +goose StatementEnd

-- ---------------------------------------------------------------------------
-- The credential resolver.

-- me() resolves the presented credential (ward.credential, the hex SHA-256 of
-- the token) to a principal. Kinds are looked up in turn; the hash is 256
-- bits, unique per table, so a token of one kind never matches another's row.
-- Only sessions exist so far. The ward.org hint must name the principal's org
-- (compared as a UUID); otherwise it resolves to nobody.
drop function private.me();
-- +goose StatementBegin
create function private.me(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text,
  out session_id uuid, out aal int, out auth_time timestamptz, out break_glass boolean, out device text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  h bytea := private.credential_hash();
begin
  if h is null then
    return;
  end if;
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, false, null
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device
    from app.sessions s
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
   where s.token_hash = h
     and s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null;
  if hint is not null and (org_id is null
       or hint !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
  end if;
end $$;
-- +goose StatementEnd
alter function private.me() owner to ward_rls;
revoke all on function private.me() from public;
grant execute on function private.me() to ward_app, ward_definer;

-- +goose StatementBegin
-- my_org_members_in_roles: the live members of the caller's org whose role
-- is one of p_roles, for a lead or admin (the product rules of patient
-- links and care teams); empty for anyone else.
create function private.my_org_members_in_roles(p_roles text[]) returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role not in ('lead', 'admin') then
    return '{}';
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null and m.role = any (p_roles)), '{}');
end $$;
-- +goose StatementEnd
alter function private.my_org_members_in_roles(text[]) owner to ward_rls;
revoke all on function private.my_org_members_in_roles(text[]) from public;
grant execute on function private.my_org_members_in_roles(text[]) to ward_app, ward_definer;

-- Sessions stay in the org of the credential: a person who belongs to two
-- orgs sees and revokes, through one org's session, only that org's sessions.
drop policy sessions_select on app.sessions;
drop policy sessions_update on app.sessions;
create policy sessions_select on app.sessions for select to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id = (select private.uid()));
create policy sessions_update on app.sessions for update to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id = (select private.uid()) and revoked_at is null)
  with check (org_id = (select private.get_my_org_id()) and user_id = (select private.uid())
              and revoked_at is not null);

-- Product rules: only a patient member is linked to a patient record, and
-- only a provider or lead is put on a care team.
drop policy patient_links_insert on app.patient_links;
create policy patient_links_insert on app.patient_links for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and (select private.am_i_lead_in_org((select private.get_my_org_id())))
              and user_id = any ((select private.my_org_members_in_roles('{patient}'))::uuid[]));
drop policy care_team_insert on app.care_team;
create policy care_team_insert on app.care_team for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and (select private.am_i_lead_in_org((select private.get_my_org_id())))
              and provider_id = any ((select private.my_org_members_in_roles('{provider,lead}'))::uuid[]));

-- ---------------------------------------------------------------------------
-- audit.append v2. The old signatures go; the definer procedures of 00004
-- call append_as by parameter name and keep working.

drop function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb);
drop function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean);

-- +goose StatementBegin
-- append_as records one event in p_org's log and returns its seq. The actor,
-- its credential (kind and id), device and break-glass flag come from the
-- presented credential when there is a live one (p_org must then be its
-- org); without one, the caller asserts the actor (sign-in, operators) and
-- the row says so (actor_kind 'system', or 'anonymous' without an actor).
-- The action must be in audit.actions and carry what the registry requires
-- on success; a patient named must exist in p_org (a denied probe of an id
-- that does not exist keeps the id as object_id and names no patient).
-- Only the definer procedures and ward_ops may call it: ward_app calls
-- audit.append.
create function audit.append_as(
  p_org uuid, p_action text, p_outcome text,
  p_object_type text default null, p_object_id uuid default null, p_patient uuid default null,
  p_results uuid[] default '{}', p_request text default null, p_ip text default null,
  p_ua text default null, p_details jsonb default '{}', p_actor uuid default null,
  p_require_credential boolean default false, p_disclosure jsonb default null)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  a audit.actions%rowtype;
  h audit.heads%rowtype;
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  ua text := audit.clean_text(p_ua, 256);
  req text := audit.clean_text(p_request, 64);
  ip text := audit.clean_text(p_ip, 64);
  at timestamptz;
  canon bytea;
  leaf bytea;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
begin
  if p_org is null or p_action is null or p_outcome is null
     or p_outcome not in ('success', 'denied', 'failure')
     or (p_results is not null and (array_position(p_results, null) is not null or array_ndims(p_results) > 1))
     or (p_details is not null and jsonb_typeof(p_details) <> 'object') then
    raise exception 'audit: invalid event' using errcode = '22023';
  end if;
  select * into a from audit.actions x where x.name = p_action;
  if not found then
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

  select * into me from private.me();
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

  select * into h from audit.heads where org_id = p_org for update;
  if not found then
    insert into audit.heads (org_id, origin, chain_hash, root_hash)
    values (p_org, audit.origin(p_org), audit.chain_seed(audit.origin(p_org)), pg_catalog.sha256(''::bytea))
    on conflict (org_id) do nothing;
    select * into h from audit.heads where org_id = p_org for update;
  end if;

  at := greatest(clock_timestamp(), h.last_at);
  at := date_trunc('microseconds', at);
  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, null, p_disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  leaf := pg_catalog.sha256('\x00'::bytea || canon);
  chain := pg_catalog.sha256('\x02'::bytea || h.chain_hash || leaf);

  node := leaf;
  fr := h.frontier;
  size := h.tree_size;
  while size & 1 = 1 loop
    node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
    fr := fr[1:array_length(fr, 1) - 1];
    size := size >> 1;
  end loop;
  fr := fr || node;

  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, h.tree_size + 1, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, leaf, chain, 2, me.kind, me.credential_id, me.device, null, p_disclosure,
    coalesce(me.break_glass, false));

  update audit.heads
     set tree_size = h.tree_size + 1, chain_hash = chain, frontier = fr,
         root_hash = audit.frontier_root(fr), last_at = at
   where org_id = p_org;
  return h.tree_size + 1;
end $$;

-- append is the server's (ward_app's) way to record an event: only with a
-- live credential, in that credential's org, with the actor derived from it.
-- The reserved actions (auth.*, org.*, membership.*) it may record only as
-- refusals: their successes are written by the procedures that do them.
create function audit.append(
  p_org uuid, p_action text, p_outcome text,
  p_object_type text default null, p_object_id uuid default null, p_patient uuid default null,
  p_results uuid[] default '{}', p_request text default null, p_ip text default null,
  p_ua text default null, p_details jsonb default '{}', p_disclosure jsonb default null)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  if p_outcome = 'success' and exists (select from audit.actions a where a.name = p_action and a.reserved) then
    raise exception 'audit: % is recorded only by the procedure that does it', p_action using errcode = '42501';
  end if;
  return audit.append_as(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                         p_request, p_ip, p_ua, p_details, null, true, p_disclosure);
end $$;
-- +goose StatementEnd

alter function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb)
  owner to ward_definer;
alter function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb)
  owner to ward_definer;
revoke all on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb),
  audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb) from public;
grant execute on function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb)
  to ward_app, ward_ops;
grant execute on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb)
  to ward_ops;
grant execute on function audit.canonical_event_v2(uuid, timestamptz, text, text, uuid, text, uuid, text, uuid, uuid,
  uuid[], text, text, text, jsonb, text, uuid, text, uuid, jsonb, boolean),
  audit.event_json_v2(uuid, timestamptz, text, text, uuid, text, uuid, text, uuid, uuid,
  uuid[], text, text, text, jsonb, text, uuid, text, uuid, jsonb, boolean),
  audit.clean_text(text, int) to ward_definer, ward_app;

grant usage on schema audit to ward_audit_reader;
grant select on audit.events, audit.heads to ward_audit_reader;
create policy events_reader on audit.events for select to ward_audit_reader using (true);
create policy heads_reader on audit.heads for select to ward_audit_reader using (true);

-- ---------------------------------------------------------------------------
-- Sign-in procedures without security parameters from the caller.

drop function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, int, int, int, int, text, text);
drop function app.consume_magic_link(bytea, bytea, bytea, int, int, inet, text, text);
drop function app.whoami();
drop function app.issue_operator_link(bytea, uuid, bytea, int);
drop function app.set_session_policy(int, int, text);

-- +goose StatementBegin
-- request_magic_link creates a browser-bound sign-in link when the blind
-- index names a user with a live membership (in p_org, or their oldest
-- membership when p_org is NULL). The verifier is required. Lifetime and
-- limits come from app.instance_policy: attempts are counted per (address,
-- source) and per source; a refused attempt is not counted. Unknown and
-- rate-limited attempts are audited in the instance log (org ffffffff-…),
-- so enumeration shows. Returns the status ('created', 'unknown',
-- 'rate_limited'), and when created the org, user, the stored address
-- (instance-AEAD ciphertext, to mail the link to what the member registered,
-- not to what was typed) and the lifetime. The caller must answer every
-- status but rate_limited identically.
create function app.request_magic_link(
  p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea,
  p_ip inet, p_ip_hash bytea, p_request text default null, p_ua text default null,
  out status text, out org_id uuid, out user_id uuid, out email_enc bytea, out ttl_min int,
  out retry_after_s int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  pol app.instance_policy%rowtype;
  pair bytea;
  oldest timestamptz;
  n_pair int;
  n_source int;
  m record;
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_token_hash) is distinct from 32
     or octet_length(p_verifier_hash) is distinct from 32 or octet_length(p_ip_hash) is distinct from 32 then
    raise exception 'request_magic_link: address index, token, verifier and source hashes are 32 bytes each'
      using errcode = '22023';
  end if;
  select * into pol from app.instance_policy;
  pair := pg_catalog.sha256(p_email_bidx || p_ip_hash);
  -- Serialise per pair and per source (always in this order), so concurrent
  -- requests cannot all count below the limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.pair.' || encode(pair, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.source.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) into n_pair from app.auth_attempts a
   where a.kind = 'pair' and a.key_hash = pair and a.at > now() - make_interval(mins => pol.link_window_min);
  select count(*) into n_source from app.auth_attempts a
   where a.kind = 'source' and a.key_hash = p_ip_hash and a.at > now() - make_interval(mins => pol.link_window_min);
  if n_pair >= pol.link_max_per_address or n_source >= pol.link_max_per_source then
    status := 'rate_limited';
    -- Retry when the oldest counted attempt of the limit that bit leaves
    -- the window.
    select min(a.at) into oldest from app.auth_attempts a
     where a.at > now() - make_interval(mins => pol.link_window_min)
       and ((n_pair >= pol.link_max_per_address and a.kind = 'pair' and a.key_hash = pair)
            or (n_pair < pol.link_max_per_address and a.kind = 'source' and a.key_hash = p_ip_hash));
    retry_after_s := greatest(1, ceil(extract(epoch from
      coalesce(oldest, now()) + make_interval(mins => pol.link_window_min) - now()))::int);
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'rate_limited',
                                      'limit', case when n_pair >= pol.link_max_per_address then 'address' else 'source' end));
    return;
  end if;
  insert into app.auth_attempts (kind, key_hash) values ('pair', pair), ('source', p_ip_hash);
  -- Expired attempts go a few at a time, through the index on at.
  delete from app.auth_attempts x where x.ctid = any (array(
    select y.ctid from app.auth_attempts y where y.at < now() - interval '1 day' limit 100));

  select ms.org_id, ms.user_id, u.email_enc into m
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org)
   order by ms.created_at
   limit 1;
  if m.user_id is null then
    status := 'unknown';
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'unknown_address'));
    return;
  end if;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
  values (m.org_id, m.user_id, p_token_hash, p_verifier_hash, now() + make_interval(mins => pol.link_ttl_min), p_ip);
  perform audit.append_as(m.org_id, 'auth.link.request', 'success', 'user', m.user_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('browser_bound', true), p_actor => m.user_id);
  status := 'created'; org_id := m.org_id; user_id := m.user_id; email_enc := m.email_enc;
  ttl_min := pol.link_ttl_min;
end $$;

-- consume_magic_link spends a link once, within its lifetime, from the
-- browser that asked for it, and creates an AAL1 session (amr email) whose
-- idle timeout and absolute expiry are the org policy capped by the
-- instance policy. Failures return a status (invalid, expired, used,
-- wrong_browser) instead of raising, so that the denial's audit event
-- commits.
create function app.consume_magic_link(
  p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea,
  p_ip inet, p_ua text, p_request text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  l app.magic_links%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  live boolean;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32
     or (p_verifier_hash is not null and octet_length(p_verifier_hash) <> 32) then
    raise exception 'consume_magic_link: token, verifier and session hashes are 32 bytes each' using errcode = '22023';
  end if;
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
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (l.org_id, l.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now())
  returning id into session_id;
  user_id := l.user_id; org_id := l.org_id;
  perform audit.append_as(l.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'magic_link', 'browser_bound', l.verifier_hash is not null,
                                    'aal', 1),
    p_actor => l.user_id);
end $$;

-- whoami resolves the presented credential to its principal and, for a
-- session, touches last_seen_at at most once a minute. No row = no live
-- credential.
create function app.whoami(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal int, out auth_time timestamptz, out absolute_expires_at timestamptz, out idle_expires_at timestamptz)
returns setof record
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  s app.sessions%rowtype;
begin
  select * into me from private.me();
  if me.credential_id is null then
    return;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := me.auth_time;
  if me.kind = 'session' then
    update app.sessions x set last_seen_at = now()
     where x.id = me.session_id and x.last_seen_at < now() - interval '1 minute'
    returning * into s;
    if not found then
      select * into s from app.sessions x where x.id = me.session_id;
    end if;
    absolute_expires_at := s.absolute_expires_at;
    idle_expires_at := least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min));
  end if;
  return next;
end $$;

-- set_session_policy (admins) changes the org's session policy within the
-- instance caps and ends or shortens the sessions that no longer meet it.
create function app.set_session_policy(p_idle int, p_abs int, p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old app.orgs%rowtype;
  pol app.instance_policy%rowtype;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into pol from app.instance_policy;
  if p_idle is null or p_idle < 1 or p_idle > pol.session_idle_max_min then
    raise exception 'session_idle_timeout_min must be 1..% (the instance policy caps it)', pol.session_idle_max_min
      using errcode = '22023';
  elsif p_abs is null or p_abs < 5 or p_abs > pol.session_absolute_max_min then
    raise exception 'session_absolute_max_min must be 5..% (the instance policy caps it)', pol.session_absolute_max_min
      using errcode = '22023';
  elsif p_idle > p_abs then
    raise exception 'session_idle_timeout_min may not exceed session_absolute_max_min' using errcode = '22023';
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

-- issue_operator_link (operators only) creates a sign-in link that is not
-- bound to a browser, for `ward login-link`, with the instance lifetime.
-- It is the only way to an unbound link.
create function app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea,
  out org_id uuid, out user_id uuid, out ttl_min int)
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
  select p.link_ttl_min into ttl_min from app.instance_policy p;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at)
  values (org_id, user_id, p_token_hash, null, now() + make_interval(mins => ttl_min));
  perform audit.append_as(org_id, 'auth.link.request', 'success', 'user', user_id,
    p_details => jsonb_build_object('channel', 'cli', 'browser_bound', false), p_actor => user_id);
end $$;
-- +goose StatementEnd

alter function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text) owner to ward_definer;
alter function app.consume_magic_link(bytea, bytea, bytea, inet, text, text) owner to ward_definer;
alter function app.whoami() owner to ward_definer;
alter function app.set_session_policy(int, int, text) owner to ward_definer;
alter function app.issue_operator_link(bytea, uuid, bytea) owner to ward_definer;
grant select, delete on app.auth_attempts to ward_definer;
grant select (id, email_enc) on app.users to ward_definer;

revoke all on function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text),
  app.consume_magic_link(bytea, bytea, bytea, inet, text, text), app.whoami(),
  app.set_session_policy(int, int, text), app.issue_operator_link(bytea, uuid, bytea) from public;
grant execute on function app.request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text),
  app.consume_magic_link(bytea, bytea, bytea, inet, text, text), app.whoami(),
  app.set_session_policy(int, int, text) to ward_app;
grant execute on function app.issue_operator_link(bytea, uuid, bytea) to ward_ops;

reset role;

-- +goose Down
select 'foundation v2 is not reversible: restore the database from a backup taken before it' as note;
