-- Sequencing off the hot path. The transaction that does an access commits
-- its event durably (canonical bytes and leaf hash, computed by
-- audit.append_as) but takes no per-org lock: the event is written
-- *pending*, without a sequence number. An integrator — audit.integrate(),
-- one at a time per org through an advisory lock, whichever node runs it —
-- takes the committed pending events in queue order (qid), assigns them the
-- next sequence numbers, extends the hash chain and the Merkle frontier in
-- the head, and records the new tree size. This is how Trillian and Tessera
-- sequence.
--
-- What the order means now: seq is the order of integration. Events are
-- integrated in the order they were queued (qid, taken when audit.append_as
-- ran) among those committed at the time the integrator runs, so an event
-- whose transaction committed late may follow events queued after it. `at`
-- is when the event was recorded, not its position; it is not monotonic in
-- seq. Every event is in the log, exactly once, from the moment its
-- transaction commits; its position is fixed when it is integrated
-- (normally within a second).
--
-- Pending events are as immutable as integrated ones: the only change the
-- triggers allow is the integrator's setting seq and chain_hash on a
-- pending row, once.

-- +goose Up
set local role ward_owner;

alter table audit.events drop constraint events_pkey;
alter table audit.events add column qid bigint generated always as identity;
alter table audit.events alter column seq drop not null, alter column chain_hash drop not null;
alter table audit.events add primary key (org_id, qid);
create unique index events_seq_idx on audit.events (org_id, seq);
create index events_pending_idx on audit.events (org_id, qid) where seq is null;
alter table audit.events add constraint events_integrated_check check ((seq is null) = (chain_hash is null));

-- +goose StatementBegin
-- Immutability: nobody updates or truncates the log. The one change allowed
-- is the integrator's (running as ward_definer) setting seq and chain_hash
-- on a pending event, leaving every other column as it was. Only the cleanup
-- role deletes, and only integrated rows past retention (2555 days).
create or replace function audit.reject_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and old.seq is not null and old.at < now() - interval '2555 days' then
    return old;
  end if;
  if tg_op = 'UPDATE' and current_user = 'ward_definer'
     and old.seq is null and new.seq is not null and new.chain_hash is not null
     and (to_jsonb(old) - 'seq' - 'chain_hash') = (to_jsonb(new) - 'seq' - 'chain_hash') then
    return new;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

-- A head only moves forward, by the integrator (running as ward_definer);
-- it is never deleted.
create or replace function audit.guard_head() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and current_user = 'ward_definer' and new.org_id = old.org_id and new.origin = old.origin
     and new.tree_size > old.tree_size then
    return new;
  end if;
  raise exception 'audit: % on audit.heads is not allowed', tg_op using errcode = '42501';
end $$;
-- +goose StatementEnd

drop function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb);
drop function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb);

-- +goose StatementBegin
-- append_as records one event, pending, in p_org's log and returns its
-- queue id (qid). Everything else is as in 00005: the actor, credential,
-- device and break-glass flag come from the presented credential when there
-- is one; the action must be registered and carry what the registry
-- requires on success; a patient named must be in the org.
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
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  ua text := audit.clean_text(p_ua, 256);
  req text := audit.clean_text(p_request, 64);
  ip text := audit.clean_text(p_ip, 64);
  at timestamptz := date_trunc('microseconds', clock_timestamp());
  canon bytea;
  id bigint;
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

  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, null, p_disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, null, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), null, 2, me.kind, me.credential_id,
    me.device, null, p_disclosure, coalesce(me.break_glass, false))
  returning qid into id;
  return id;
end $$;

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

-- integrate sequences up to p_max (at most 10,000) of p_org's committed
-- pending events, in queue order, and returns the tree size after and how
-- many it sequenced. One
-- integrator per org at a time (a transaction-scoped advisory lock; a
-- second caller waits, then finds the work done). It takes nothing from
-- its caller but which org and how much: the order, the numbers and the
-- hashes are its own.
create function audit.integrate(p_org uuid, p_max int default 10000,
  out tree_size bigint, out sequenced int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  h audit.heads%rowtype;
  r record;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
  n bigint;
  last timestamptz;
  qids bigint[] := '{}';
  seqs bigint[] := '{}';
  chains bytea[] := '{}';
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
  for r in select e.qid, e.leaf_hash, e.at from audit.events e
            where e.org_id = p_org and e.seq is null
            order by e.qid
            limit least(greatest(coalesce(p_max, 10000), 1), 10000)
  loop
    chain := pg_catalog.sha256('\x02'::bytea || chain || r.leaf_hash);
    -- Compact-range append: merge the new leaf with each complete subtree
    -- of equal size (one per trailing 1-bit of the old size).
    node := r.leaf_hash;
    size := n;
    while size & 1 = 1 loop
      node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
      fr := fr[1:array_length(fr, 1) - 1];
      size := size >> 1;
    end loop;
    fr := fr || node;
    n := n + 1;
    last := greatest(last, r.at);
    qids := qids || r.qid; seqs := seqs || n; chains := chains || chain;
  end loop;
  -- One statement for the batch.
  update audit.events e set seq = u.seq, chain_hash = u.chain
    from unnest(qids, seqs, chains) as u(qid, seq, chain)
   where e.org_id = p_org and e.qid = u.qid;
  if n > h.tree_size then
    update audit.heads x
       set tree_size = n, chain_hash = chain, frontier = fr, root_hash = audit.frontier_root(fr), last_at = last
     where x.org_id = p_org;
  end if;
  tree_size := n;
  sequenced := n - h.tree_size;
end $$;

-- pending_orgs lists the orgs with committed pending events and the queue
-- time of their oldest, for the integrator's loop and the lag metric.
create function audit.pending_orgs(out org_id uuid, out oldest timestamptz, out pending bigint)
returns setof record
language sql stable security definer set search_path = '' as $$
  select e.org_id, min(e.at), count(*) from audit.events e where e.seq is null group by e.org_id
$$;
-- +goose StatementEnd

alter function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb)
  owner to ward_definer;
alter function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb)
  owner to ward_definer;
alter function audit.integrate(uuid, int) owner to ward_definer;
alter function audit.pending_orgs() owner to ward_definer;
revoke all on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb),
  audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb),
  audit.integrate(uuid, int), audit.pending_orgs() from public;
grant execute on function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb)
  to ward_app, ward_ops;
grant execute on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb)
  to ward_ops;
grant execute on function audit.integrate(uuid, int), audit.pending_orgs() to ward_app, ward_ops;
grant update (seq, chain_hash) on audit.events to ward_definer;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
