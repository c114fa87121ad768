-- The integrator no longer rewrites the event (#7, benchmarks §40–41).
--
-- Until now an event was written pending (seq and chain_hash null) and the
-- integrator set both with an UPDATE. That update was never HOT (seq is
-- indexed), so each ≈1 KB event row was written twice, with every index
-- entry twice (the GIN on result_ids too), twice in the WAL, and left a dead
-- row for vacuum: ward bench ran 10–22% faster with the integrator switched
-- off. Trillian and Tessera keep the sequence apart from the entries; so
-- does Ward now. (Measured after, §41: the integrator's CPU per event fell
-- by about 40%; the audited read's throughput did not move beyond noise.)
--
--   * audit.events holds the event as recorded, written once by
--     audit.append_event and never updated by anyone, the integrator
--     included (the trigger refuses every UPDATE; only the cleanup role
--     deletes, past retention, archived and checkpointed, and not held).
--   * audit.queue (org_id, qid, at) is the integrator's queue: append_event
--     inserts the event and its queue row in one statement, so an event
--     commits queued or not at all. Only ward_definer's audit.integrate
--     deletes from it, once it has sequenced the event.
--   * audit.leaves (org_id, seq, qid, chain_hash) is the sequence: one
--     narrow row per integrated event, written by audit.integrate, never
--     updated; the cleanup role deletes a leaf only once its event is gone.
--   * audit.log is the view of integrated events as audit.events used to
--     show them (the event's columns with seq and chain_hash), security
--     invoker, so the caller's policies on both tables apply.
--
-- What the order means is unchanged (00011): seq is the order of
-- integration, queue order (qid) among the events committed when the
-- integrator runs.

-- +goose Up
set local role ward_owner;

-- Nothing appends or integrates while the log changes layout (a node still
-- running the old code against this database would otherwise write an
-- event without a queue row, or sequence one between the two copies below).
lock table audit.heads, audit.events in exclusive mode;

create table audit.queue (
  org_id uuid not null,
  qid bigint not null,
  at timestamptz not null,
  primary key (org_id, qid)
);
-- Every event passes through it once: vacuum it by count, not by its (small) size.
alter table audit.queue set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
alter table audit.queue enable row level security;
alter table audit.queue force row level security;
-- The integrator (ward_definer, BYPASSRLS) takes from it; those who may
-- read an org's events may count what of it is pending (ward audit verify).
create policy queue_select on audit.queue for select to ward_app using (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));
create policy queue_reader on audit.queue for select to ward_audit_reader using (true);
grant select, insert, delete on audit.queue to ward_definer;
grant select on audit.queue to ward_app, ward_audit_reader;

create table audit.leaves (
  org_id uuid not null,
  seq bigint not null check (seq >= 1),
  qid bigint not null,
  chain_hash bytea not null check (octet_length(chain_hash) = 32),
  primary key (org_id, seq),
  unique (org_id, qid)
);
alter table audit.leaves enable row level security;
alter table audit.leaves force row level security;
-- The same readers as audit.events, with the same rule (an org's admin, a
-- key with audit:read).
create policy leaves_select on audit.leaves for select to ward_app using (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));
create policy leaves_reader on audit.leaves for select to ward_audit_reader using (true);
create policy leaves_cleanup on audit.leaves for select to ward_audit_cleanup using (true);
create policy leaves_cleanup_delete on audit.leaves for delete to ward_audit_cleanup using (true);
grant select, insert on audit.leaves to ward_definer;
grant select on audit.leaves to ward_app, ward_audit_reader;
grant select, delete on audit.leaves to ward_audit_cleanup;

-- What is there moves over as ward_definer (BYPASSRLS: as the owner, FORCE
-- would hide every row).
set local role ward_definer;
insert into audit.leaves (org_id, seq, qid, chain_hash)
select org_id, seq, qid, chain_hash from audit.events where seq is not null;
insert into audit.queue (org_id, qid, at)
select org_id, qid, at from audit.events where seq is null;
set local role ward_owner;

-- +goose StatementBegin
-- Nobody updates an event, the integrator included. Only the cleanup role
-- deletes, and only an integrated event that audit.retention_allows.
create or replace function audit.reject_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and audit.retention_allows(old.org_id,
           (select l.seq from audit.leaves l where l.org_id = old.org_id and l.qid = old.qid),
           old.patient_id, old.at) then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Only the integrator (ward_definer) writes a leaf (a superuser who does
-- not take that role included; one who does is caught by ward audit verify);
-- a leaf is never updated; the cleanup role deletes one only once its event
-- is gone (which audit.reject_change allowed).
create function audit.reject_leaf_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'INSERT' and current_user = 'ward_definer' then
    return new;
  end if;
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and not exists (select from audit.events e where e.org_id = old.org_id and e.qid = old.qid) then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A queued event leaves the queue only by the integrator (ward_definer).
create function audit.reject_queue_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_definer' then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;
-- +goose StatementEnd

create trigger leaves_immutable before insert or delete or update on audit.leaves
  for each row execute function audit.reject_leaf_change();
create trigger leaves_no_truncate before truncate on audit.leaves
  for each statement execute function audit.reject_truncate();
create trigger queue_immutable before delete or update on audit.queue
  for each row execute function audit.reject_queue_change();
create trigger queue_no_truncate before truncate on audit.queue
  for each statement execute function audit.reject_truncate();

-- +goose StatementBegin
create or replace function app.ops_compliance_facts() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  with pol as (select * from app.instance_policy limit 1),
  ids as (
    select o.id from app.orgs o
    union select k.org_id from private.keysets k
    union select h.org_id from audit.heads h
  ),
  members as (
    select m.org_id, count(*) as active,
           count(*) filter (where m.role = 'admin') as admins,
           count(*) filter (where m.role = 'admin'
             and not exists (select from app.totp_factors t
                              where t.org_id = m.org_id and t.user_id = m.user_id and t.confirmed_at is not null)
             and not exists (select from app.passkeys p
                              where p.org_id = m.org_id and p.user_id = m.user_id)) as admins_without_factor
      from app.memberships m
     where m.revoked_at is null
     group by m.org_id
  )
  select jsonb_build_object(
    'now', now(),
    'instance_policy', (select jsonb_build_object(
        'link_ttl_min', p.link_ttl_min, 'session_idle_max_min', p.session_idle_max_min,
        'session_absolute_max_min', p.session_absolute_max_min,
        'link_max_per_address', p.link_max_per_address, 'link_max_per_source', p.link_max_per_source)
      from pol p),
    'admin_bar', private.assurance_bar('admin', false, false),
    'auth_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                       from audit.actions a where a.name like 'auth.%'),
    'providers', coalesce((select jsonb_agg(jsonb_build_object(
        'name', g.name, 'baa_signed_at', g.baa_signed_at, 'baa_ref', g.baa_ref is not null,
        'zero_retention', g.zero_retention, 'models', cardinality(g.models), 'region', g.region,
        'enabled_by', (select count(*) from app.orgs o where g.name = any (o.gateway_providers)))
        order by g.name) from app.gateway_providers g), '[]'::jsonb),
    'orgs', coalesce((select jsonb_agg(jsonb_build_object(
        'id', i.id,
        'name', o.name,
        'exists', o.id is not null,
        'idle_timeout_min', least(o.session_idle_timeout_min, pol.session_idle_max_min),
        'absolute_max_min', least(o.session_absolute_max_min, pol.session_absolute_max_min),
        'require_mfa', o.require_mfa, 'require_passkey', o.require_passkey, 'enforce_sso', o.enforce_sso,
        'members', coalesce(mb.active, 0), 'admins', coalesce(mb.admins, 0),
        'admins_without_factor', coalesce(mb.admins_without_factor, 0),
        'break_glass_users', (select count(*) from app.break_glass_users b where b.org_id = i.id),
        -- Those who could activate now (app.break_glass_activate's checks):
        -- a live clinical or admin membership and at least two passkeys.
        'break_glass_usable', (select count(*) from app.break_glass_users b
                                 join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                                where b.org_id = i.id and m.revoked_at is null
                                  and m.role in ('provider', 'lead', 'admin')
                                  and (select count(*) from app.passkeys p
                                        where p.org_id = b.org_id and p.user_id = b.user_id) >= 2),
        'keyset_created_at', k.created_at, 'keyset_rotated_at', k.rotated_at,
        'has_prf', exists (select from private.keysets kp where kp.org_id = i.id and kp.purpose = 'prf'),
        'tree_size', coalesce(h.tree_size, 0),
        'checkpoint_size', c.size, 'checkpoint_at', c.signed_at,
        'archived_size', coalesce(s.archived_size, 0),
        'archive_objects', coalesce(a.n, 0), 'archive_modes', coalesce(a.modes, '[]'::jsonb),
        'archive_min_retention_days', a.min_days, 'archive_unlocked', coalesce(a.unlocked, 0),
        'sinks', coalesce((select jsonb_agg(jsonb_build_object(
                   'failing', x.failing_since is not null, 'last_success_at', x.last_success_at,
                   'undelivered_since', (select e.at from audit.events e
                                          where e.org_id = x.org_id
                                            and e.qid = (select l.qid from audit.leaves l
                                                          where l.org_id = x.org_id and l.seq > x.cursor_seq
                                                          order by l.seq limit 1)))
                   order by x.id)
                   from app.audit_sinks x
                  where x.org_id = i.id and x.enabled and x.disabled_at is null), '[]'::jsonb),
        'first_unsigned_at', (select e.at from audit.events e
                               where e.org_id = i.id
                                 and e.qid = (select l.qid from audit.leaves l
                                               where l.org_id = i.id and l.seq > coalesce(c.size, 0)
                                               order by l.seq limit 1)))
        order by i.id)
      from ids i
      cross join pol
      left join app.orgs o on o.id = i.id
      left join members mb on mb.org_id = i.id
      left join private.keysets k on k.org_id = i.id and k.purpose = 'aead'
      left join audit.heads h on h.org_id = i.id
      left join audit.archive_state s on s.org_id = i.id
      left join lateral (select c.size, c.signed_at from audit.checkpoints c
                          where c.org_id = i.id order by c.size desc limit 1) c on true
      left join lateral (select count(*) as n,
                                jsonb_agg(distinct ao.mode) filter (where ao.mode is not null) as modes,
                                min(extract(epoch from ao.retain_until - ao.stored_at) / 86400)::int as min_days,
                                count(*) filter (where ao.mode is null) as unlocked
                           from audit.archive_objects ao where ao.org_id = i.id) a on true),
      '[]'::jsonb))
  from pol
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.access_report(p_org uuid, p_patient uuid) RETURNS TABLE(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text, listed boolean, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query
    select (select l.seq from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid),
           e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient])
     order by 1, e.qid;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
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
  kase_patient uuid;
  disclosure jsonb := p_disclosure;
  stakeholder text;
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
  if p_disclosure is not null then
    -- Only a disclosure action, or a procedure that records one (a
    -- stakeholder's download, app.open_document_version through
    -- audit.append_as), names a recipient: the server's own path
    -- (audit.append) may not make any other event a disclosure, so
    -- nothing but a disclosure reaches the accounting of §164.528.
    if p_refuse_reserved and not coalesce(a.disclosure, false) then
      raise exception 'audit: % records no disclosure', left(p_action, 64) using errcode = '22023';
    end if;
    if jsonb_typeof(p_disclosure) <> 'object'
       or (select array_agg(k order by k) from jsonb_object_keys(p_disclosure) k) <> array['purpose', 'recipient']
       or jsonb_typeof(p_disclosure -> 'purpose') <> 'string' or jsonb_typeof(p_disclosure -> 'recipient') <> 'string'
       or length(p_disclosure ->> 'purpose') not between 1 and 200
       or length(p_disclosure ->> 'recipient') not between 1 and 200 then
      raise exception 'audit: a disclosure is {"recipient", "purpose"}, 1..200 characters each' using errcode = '22023';
    end if;
  end if;
  if p_outcome = 'success' and (
       (a.disclosure and p_disclosure is null)
       or ('patient' = any (a.requires) and p_patient is null)
       or ('object' = any (a.requires) and (p_object_type is null or p_object_id is null))) then
    raise exception 'audit: action % needs %', p_action, array_to_string(a.requires, ', ') using errcode = '22023';
  end if;
  -- The existence checks are nested under a simple test: PL/pgSQL runs a
  -- condition that holds a subquery through the executor whatever its
  -- other operands, so the outer test spares the query when there is
  -- nothing to look up.
  if patient is not null then
    perform from app.patients pt where pt.org_id = p_org and pt.id = patient;
    if not found then
      if p_outcome = 'success' then
        raise exception 'audit: no such patient in this org' using errcode = '22023';
      end if;
      patient := null; -- a probe of an id that names nobody here
    end if;
  end if;
  if kase is not null then
    select c.patient_id into kase_patient from app.cases c where c.org_id = p_org and c.id = kase;
    if not found then
      if p_outcome = 'success' then
        raise exception 'audit: no such case in this org' using errcode = '22023';
      end if;
      kase := null;
    end if;
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

  -- An external stakeholder's successful read of a case, its documents or
  -- their comments is a disclosure of the patient's PHI (workers'
  -- compensation, §164.512(l), is not exempt from the accounting of
  -- §164.528). The database names it, whatever the server sent: the
  -- recipient is the caller's own grant on the case (its kind, and the
  -- organisation it names), the purpose the download's default, and the
  -- patient the case's. A caller who is no stakeholder, and every other
  -- action, are as before.
  if me.role = 'stakeholder' and p_outcome = 'success' and kase is not null and disclosure is null then
    if a.stakeholder_disclosure then
      select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
       where cm.org_id = p_org and cm.case_id = kase and cm.user_id = me.user_id;
      disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                       'purpose', 'case document exchange');
      patient := coalesce(patient, kase_patient);
    end if;
  end if;

  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, kase, disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  -- The event, written once and never changed, and its place in the
  -- integrator's queue, in one statement.
  with e as (
    insert into audit.events (org_id, at, action, outcome, actor_id, actor_kind, session_id,
      object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
      canonical, leaf_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
    values (p_org, at, p_action, p_outcome, actor, kind, sess,
      p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
      coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), 2, me.kind, me.credential_id,
      me.device, kase, disclosure, coalesce(me.break_glass, false))
    returning qid)
  insert into audit.queue (org_id, qid, at) select p_org, e.qid, at from e
  returning qid into id;
  return id;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.disclosure_accounting(p_org uuid, p_patient uuid) RETURNS TABLE(seq bigint, at timestamp with time zone, action text, recipient text, purpose text, object_type text, object_id uuid, case_id uuid, doc_type text, actor_id uuid, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query
    select (select l.seq from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid),
           e.at, e.action, e.disclosure->>'recipient', e.disclosure->>'purpose', e.object_type,
           e.object_id, e.case_id, d.doc_type, e.actor_id, m.role,
           case when m.role is distinct from 'patient' and m.role is not null then u.email_enc end
      from audit.events e
      left join app.document_versions v
             on e.object_type = 'document_version' and v.org_id = e.org_id and v.id = e.object_id
      left join app.documents d
             on d.org_id = e.org_id
            and d.id = coalesce(v.document_id, case when e.object_type = 'document' then e.object_id end)
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and e.patient_id = p_patient and e.outcome = 'success'
       and e.disclosure is not null and e.at >= now() - interval '6 years'
     order by 1, e.qid;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.integrate(p_org uuid, p_max integer DEFAULT 10000, OUT tree_size bigint, OUT sequenced integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  h audit.heads%rowtype;
  r record;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
  lvl int;
  n bigint;
  last timestamptz;
  qids bigint[] := '{}';
  strays bigint[] := '{}';
  seqs bigint[] := '{}';
  chains bytea[] := '{}';
  nlevels int[] := '{}';
  nidx bigint[] := '{}';
  nhash bytea[] := '{}';
begin
  perform pg_advisory_xact_lock(hashtextextended('ward.audit.integrate.' || p_org::text, 0));
  select * into h from audit.heads where org_id = p_org for update;
  if not found then
    insert into audit.heads (org_id, origin, chain_hash, root_hash)
    values (p_org, audit.origin(p_org), audit.chain_seed(audit.origin(p_org)), pg_catalog.sha256(''::bytea))
    on conflict (org_id) do nothing;
    select * into h from audit.heads where org_id = p_org for update;
  end if;
  chain := h.chain_hash;
  fr := h.frontier;
  n := h.tree_size;
  last := h.last_at;
  -- The queue's head in order, then each event by its key: a join would let
  -- the planner hash the org's whole log against a short queue.
  for r in select q.qid, q.at,
                  (select e.leaf_hash from audit.events e where e.org_id = p_org and e.qid = q.qid) as leaf_hash,
                  exists (select from audit.leaves l where l.org_id = p_org and l.qid = q.qid) as placed
             from (select x.qid, x.at from audit.queue x
                    where x.org_id = p_org
                    order by x.qid
                    limit least(greatest(coalesce(p_max, 10000), 1), 10000)) q
            order by q.qid
  loop
    if r.leaf_hash is null or r.placed then
      -- a queued id with no event, or one already placed (only a
      -- superuser makes either): it leaves the queue without a position,
      -- so that it cannot hold the queue up; an event with neither a leaf
      -- nor a queue row is what ward audit verify reports
      strays := strays || r.qid;
      continue;
    end if;
    chain := pg_catalog.sha256('\x02'::bytea || chain || r.leaf_hash);
    -- Compact-range append: merge the new leaf (index n) with each
    -- complete subtree of equal size (one per trailing 1-bit of n); the
    -- node made at level k is the subtree n >> k of that level.
    node := r.leaf_hash;
    size := n;
    lvl := 0;
    while size & 1 = 1 loop
      node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
      fr := fr[1:array_length(fr, 1) - 1];
      size := size >> 1;
      lvl := lvl + 1;
      if lvl % 4 = 0 then
        nlevels := nlevels || lvl; nidx := nidx || (n >> lvl); nhash := nhash || node;
      end if;
    end loop;
    fr := fr || node;
    n := n + 1;
    last := greatest(last, r.at);
    qids := qids || r.qid; seqs := seqs || n; chains := chains || chain;
  end loop;
  -- One statement each for the batch: the events' positions (a narrow row
  -- each; the event itself is never rewritten) and their leaving the queue.
  insert into audit.leaves (org_id, seq, qid, chain_hash)
  select p_org, u.seq, u.qid, u.chain from unnest(qids, seqs, chains) as u(qid, seq, chain);
  delete from audit.queue q where q.org_id = p_org and q.qid = any (qids || strays);
  -- A node already stored at a position is from a log this one replaced
  -- (a restore, a cut): the integrator's is the current log's.
  insert into audit.tree_nodes (org_id, level, idx, hash)
  select p_org, u.l, u.i, u.h from unnest(nlevels, nidx, nhash) as u(l, i, h)
  on conflict (org_id, level, idx) do update set hash = excluded.hash;
  if n > h.tree_size then
    update audit.heads x
       set tree_size = n, chain_hash = chain, frontier = fr, root_hash = audit.frontier_root(fr), last_at = last
     where x.org_id = p_org;
  end if;
  tree_size := n;
  sequenced := n - h.tree_size;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.leaf_hashes(p_org uuid, p_size bigint) RETURNS SETOF bytea
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select e.leaf_hash from audit.leaves l
                 join audit.events e on e.org_id = l.org_id and e.qid = l.qid
                where l.org_id = p_org and l.seq between 1 and p_size order by l.seq;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select q.org_id, min(q.at), count(*) from audit.queue q group by q.org_id
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]) RETURNS TABLE(level integer, idx bigint, hash bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_size is null or p_size < 1 or p_levels is null or p_idx is null
     or cardinality(p_levels) <> cardinality(p_idx) or cardinality(p_levels) > 4096
     or exists (select from unnest(p_levels, p_idx) u(l, i) where l is null or i is null or l < 0 or l > 62 or i < 0
                  or (l > 0 and l % 4 <> 0)) then
    raise exception 'proof_hashes: levels 0, 4, 8 … and indexes of equal number (at most 4096)' using errcode = '22023';
  end if;
  -- One index probe per requested hash (a lateral lookup, so the planner
  -- never scans the org's events to join them).
  return query
    select u.l, u.i, x.h
      from unnest(p_levels, p_idx) as u(l, i)
      cross join lateral (
        select e.leaf_hash from audit.leaves l
          join audit.events e on e.org_id = l.org_id and e.qid = l.qid
         where u.l = 0 and l.org_id = p_org and l.seq = u.i + 1
        union all
        select t.hash from audit.tree_nodes t where u.l > 0 and t.org_id = p_org and t.level = u.l and t.idx = u.i
      ) as x(h)
     where u.i < (p_size >> u.l);
end $$;
-- +goose StatementEnd

revoke update (seq), update (chain_hash) on audit.events from ward_definer;
drop index audit.events_pending_idx;
drop index audit.events_seq_idx;
alter table audit.events drop constraint events_integrated_check;
alter table audit.events drop column seq, drop column chain_hash;

-- Integrated events as audit.events showed them, for the readers, in the
-- leaves' order.
create view audit.log with (security_invoker = true) as
select l.org_id, l.seq, e.at, e.action, e.outcome, e.actor_id, e.actor_kind, e.session_id, e.object_type,
       e.object_id, e.patient_id, e.result_ids, e.request_id, e.ip, e.user_agent, e.details, e.canonical,
       e.leaf_hash, l.chain_hash, e.v, e.credential_kind, e.credential_id, e.device, e.case_id, e.disclosure,
       e.break_glass, e.qid
  from audit.leaves l
  -- each leaf's event by its key (offset 0 keeps the planner from hashing
  -- the org's whole log against a range of leaves on stale statistics)
  cross join lateral (select x.* from audit.events x where x.org_id = l.org_id and x.qid = l.qid offset 0) e;
grant select on audit.log to ward_app, ward_audit_reader, ward_audit_cleanup, ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
