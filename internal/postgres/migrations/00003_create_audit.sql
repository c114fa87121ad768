-- The audit log: one append-only log per org, written by audit.append() in
-- the same transaction as the access it records.
--
--   canonical  = RFC 8785 (JCS) bytes of the event object (see audit.event_json)
--   leaf       = SHA-256(0x00 || canonical)                     (RFC 6962 leaf)
--   chain_0    = SHA-256('audit-chain/v1' || 0x0a || origin)
--   chain_i    = SHA-256(0x02 || chain_{i-1} || leaf_i)
--   tree       = RFC 6962 Merkle tree over the leaves; its compact-range
--                frontier (one hash per set bit of the size, largest subtree
--                first) lives in audit.heads, locked by the appending
--                transaction, so seq order is commit order and there are no gaps.
-- internal/audit holds the Go reference implementation; tests compare the two.

-- +goose Up
set local role ward_owner;

create table audit.heads (
  org_id uuid primary key,
  origin text not null unique,
  tree_size bigint not null default 0,
  chain_hash bytea not null,
  frontier bytea[] not null default '{}',
  root_hash bytea not null,
  last_at timestamptz not null default '-infinity'
);

create table audit.events (
  org_id uuid not null,
  seq bigint not null,
  at timestamptz not null,
  action text not null,
  outcome text not null check (outcome in ('success', 'denied', 'failure')),
  actor_id uuid,
  actor_kind text not null check (actor_kind in ('user', 'system', 'anonymous')),
  session_id uuid,
  object_type text,
  object_id uuid,
  patient_id uuid,
  result_ids uuid[] not null default '{}',
  request_id text,
  ip text,
  user_agent text,
  details jsonb not null default '{}',
  canonical bytea not null,
  leaf_hash bytea not null check (octet_length(leaf_hash) = 32),
  chain_hash bytea not null check (octet_length(chain_hash) = 32),
  primary key (org_id, seq)
);
create index events_patient_idx on audit.events (org_id, patient_id, at);
create index events_results_idx on audit.events using gin (result_ids);
create index events_actor_idx on audit.events (org_id, actor_id, at);

-- +goose StatementBegin
-- jcs renders a jsonb value as RFC 8785 canonical JSON. Keys are sorted by
-- code point (audit keys are ASCII, where that equals UTF-16 order); strings
-- are escaped exactly as JCS requires (PostgreSQL's JSON string escaping is
-- the same: \" \\ \b \f \n \r \t, other controls as \u00xx, all else
-- literal); numbers must be integers of at most 2^53, which JCS prints as
-- plain decimals.
create function audit.jcs(v jsonb) returns text
language plpgsql immutable strict set search_path = '' as $$
declare
  t text := jsonb_typeof(v);
  n numeric;
begin
  if t = 'object' then
    if exists (select from jsonb_object_keys(v) k where k !~ '^[\x20-\x7e]*$') then
      raise exception 'audit: non-ASCII key in audit event' using errcode = '22023';
    end if;
    return '{' || coalesce((select string_agg(to_json(e.key)::text || ':' || audit.jcs(e.value), ','
                                               order by e.key collate "C")
                              from jsonb_each(v) e), '') || '}';
  elsif t = 'array' then
    return '[' || coalesce((select string_agg(audit.jcs(e.value), ',' order by e.ord)
                              from jsonb_array_elements(v) with ordinality e(value, ord)), '') || ']';
  elsif t = 'string' then
    return to_json(v #>> '{}')::text;
  elsif t = 'number' then
    n := (v #>> '{}')::numeric;
    if n <> trunc(n) or abs(n) > 9007199254740992 then
      raise exception 'audit: only integers up to 2^53 may appear in audit events' using errcode = '22023';
    end if;
    return trunc(n)::text;
  else
    return v::text; -- true, false, null
  end if;
end $$;

-- event_json is the event object that is canonicalised and hashed. seq is
-- not part of it: position is committed by the chain and the tree.
create function audit.event_json(
  p_org uuid, p_at timestamptz, p_action text, p_outcome text, p_actor uuid, p_actor_kind text,
  p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[],
  p_request text, p_ip text, p_ua text, p_details jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select jsonb_build_object(
    'v', 1,
    'org', p_org,
    'at', to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'action', p_action,
    'outcome', p_outcome,
    'actor', p_actor,
    'actor_kind', p_actor_kind,
    'session', p_session,
    'object_type', p_object_type,
    'object_id', p_object_id,
    'patient', p_patient,
    'results', to_jsonb(coalesce(p_results, '{}')),
    'request', p_request,
    'ip', p_ip,
    'ua', p_ua,
    'details', coalesce(p_details, '{}'::jsonb))
$$;

-- canonical_event renders exactly audit.jcs(audit.event_json(...)) for
-- the fixed keys, in code-point order, without the generic recursion (a
-- tenth of the cost on the append path); only details goes through jcs.
-- TestCanonicalEventMatchesJCS keeps the two equal.
create function audit.canonical_event(
  p_org uuid, p_at timestamptz, p_action text, p_outcome text, p_actor uuid, p_actor_kind text,
  p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[],
  p_request text, p_ip text, p_ua text, p_details jsonb) returns text
language plpgsql immutable set search_path = '' as $$
begin
  return '{"action":' || coalesce(to_json(p_action)::text, 'null')
    || ',"actor":' || coalesce('"' || p_actor::text || '"', 'null')
    || ',"actor_kind":' || coalesce(to_json(p_actor_kind)::text, 'null')
    || ',"at":"' || to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"details":' || case when p_details is null or p_details = '{}'::jsonb then '{}' else audit.jcs(p_details) end
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
    || ',"v":1}';
end $$;

create function audit.chain_seed(p_origin text) returns bytea
language sql immutable strict set search_path = '' as $$
  select pg_catalog.sha256(convert_to('audit-chain/v1' || chr(10) || p_origin, 'UTF8'))
$$;

create function audit.origin(p_org uuid) returns text
language sql immutable strict set search_path = '' as $$
  select 'ward/audit/' || p_org::text
$$;

-- frontier_root folds a compact-range frontier into the RFC 6962 root.
create function audit.frontier_root(p_frontier bytea[]) returns bytea
language plpgsql immutable strict set search_path = '' as $$
declare
  n int := coalesce(array_length(p_frontier, 1), 0);
  r bytea;
begin
  if n = 0 then
    return pg_catalog.sha256(''::bytea);
  end if;
  r := p_frontier[n];
  for i in reverse n - 1 .. 1 loop
    r := pg_catalog.sha256('\x01'::bytea || p_frontier[i] || r);
  end loop;
  return r;
end $$;

-- append_as records one event in p_org's log and returns its seq. The
-- actor is derived from the presented credential when there is a live one
-- (and p_org must then be the credential's org); without one, the caller
-- asserts the actor (sign-in) and the row says so (actor_kind 'system', or
-- 'anonymous' without an actor). Only the definer procedures and ward_ops
-- may call it: ward_app calls audit.append, which requires a live credential.
create function audit.append_as(
  p_org uuid, p_action text, p_outcome text,
  p_object_type text default null, p_object_id uuid default null, p_patient uuid default null,
  p_results uuid[] default '{}', p_request text default null, p_ip text default null,
  p_ua text default null, p_details jsonb default '{}', p_actor uuid default null,
  p_require_credential boolean default false)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  h audit.heads%rowtype;
  actor uuid;
  kind text;
  sess uuid;
  at timestamptz;
  canon bytea;
  leaf bytea;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
begin
  if p_org is null or p_action is null or p_action !~ '^[a-z][a-z0-9_.]{0,63}$'
     or (p_results is not null and (array_position(p_results, null) is not null or array_ndims(p_results) > 1)) then
    raise exception 'audit: invalid event' using errcode = '22023';
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
  canon := convert_to(audit.canonical_event(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, p_patient, p_results, p_request, p_ip, p_ua, p_details), 'UTF8');
  leaf := pg_catalog.sha256('\x00'::bytea || canon);
  chain := pg_catalog.sha256('\x02'::bytea || h.chain_hash || leaf);

  -- Compact-range append: merge the new leaf with each complete subtree of
  -- equal size (one per trailing 1-bit of the old size).
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
    canonical, leaf_hash, chain_hash)
  values (p_org, h.tree_size + 1, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, p_patient, coalesce(p_results, '{}'), p_request, p_ip, p_ua,
    coalesce(p_details, '{}'), canon, leaf, chain);

  update audit.heads
     set tree_size = h.tree_size + 1, chain_hash = chain, frontier = fr,
         root_hash = audit.frontier_root(fr), last_at = at
   where org_id = p_org;
  return h.tree_size + 1;
end $$;

-- append is the server's (ward_app's) way to record an event: only with a
-- live credential, in that credential's org, with the actor derived from it.
-- An application bug or an injected query cannot write events for another
-- org or in someone else's name.
create function audit.append(
  p_org uuid, p_action text, p_outcome text,
  p_object_type text default null, p_object_id uuid default null, p_patient uuid default null,
  p_results uuid[] default '{}', p_request text default null, p_ip text default null,
  p_ua text default null, p_details jsonb default '{}')
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  return audit.append_as(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                         p_request, p_ip, p_ua, p_details, null, true);
end $$;

-- access_report lists who accessed a patient's record in p_org: reads,
-- changes, denials, and lists whose results contained the patient
-- (listed). Only an admin of the org, or the patient themself, may ask.
create function audit.access_report(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, actor_id uuid, actor_kind text, action text, outcome text, listed boolean)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not (me.role = 'admin' or (me.role = 'patient' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query
    select e.seq, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient
      from audit.events e
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient])
     order by e.seq;
end $$;

-- Immutability: nobody updates or truncates the log; only the cleanup role
-- deletes, and only rows past retention (2555 days).
create function audit.reject_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and old.at < now() - interval '2555 days' then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

-- A head only moves forward by one event at a time, under append; it is
-- never deleted (proofs for later events need it).
create function audit.guard_head() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.org_id = old.org_id and new.origin = old.origin
     and new.tree_size = old.tree_size + 1 then
    return new;
  end if;
  raise exception 'audit: % on audit.heads is not allowed', tg_op using errcode = '42501';
end $$;

create function audit.reject_truncate() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception 'audit: TRUNCATE on %.% is not allowed', tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;
-- +goose StatementEnd

create trigger events_immutable before update or delete on audit.events
  for each row execute function audit.reject_change();
create trigger events_no_truncate before truncate on audit.events
  for each statement execute function audit.reject_truncate();
create trigger heads_guard before update or delete on audit.heads
  for each row execute function audit.guard_head();
create trigger heads_no_truncate before truncate on audit.heads
  for each statement execute function audit.reject_truncate();

alter table audit.heads enable row level security;
alter table audit.heads force row level security;
alter table audit.events enable row level security;
alter table audit.events force row level security;

-- Admins read their org's log. Patients read nothing directly: their access
-- report comes from audit.access_report(), which leaves out what a row says
-- about anyone else (the other ids a list returned, IPs, user agents).
create policy events_select on audit.events for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin');
create policy heads_select on audit.heads for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin');
create policy events_cleanup on audit.events for select to ward_audit_cleanup using (true);
create policy events_cleanup_delete on audit.events for delete to ward_audit_cleanup using (true);
create policy heads_signer on audit.heads for select to ward_audit_signer using (true);

grant select on audit.events, audit.heads to ward_app;
grant select, delete on audit.events to ward_audit_cleanup;
grant select on audit.heads to ward_audit_signer;
grant select, insert on audit.events to ward_definer;
grant select, insert, update on audit.heads to ward_definer;

alter function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean)
  owner to ward_definer;
alter function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb)
  owner to ward_definer;
alter function audit.access_report(uuid, uuid) owner to ward_definer;
grant execute on function audit.access_report(uuid, uuid) to ward_app;
grant execute on function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb)
  to ward_app, ward_ops;
grant execute on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean)
  to ward_ops;
grant execute on function audit.jcs(jsonb), audit.event_json(uuid, timestamptz, text, text, uuid, text, uuid,
  text, uuid, uuid, uuid[], text, text, text, jsonb), audit.canonical_event(uuid, timestamptz, text, text, uuid, text,
  uuid, text, uuid, uuid, uuid[], text, text, text, jsonb), audit.chain_seed(text), audit.origin(uuid),
  audit.frontier_root(bytea[]) to ward_definer, ward_app;

reset role;

-- +goose Down
drop schema audit cascade;
create schema audit authorization ward_owner;
