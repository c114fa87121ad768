-- audit.append, cheaper per event (issues 7 and 10): the same bytes, less
-- work per call. Profiled with track_functions = all on the development
-- VM, a credential-bound ai.invoke event cost ~380 µs in the server:
--
--   * audit.jcs ~90 µs: it called itself (a PL/pgSQL frame and an SPI
--     query each) for every member of every object, scalars included, 17
--     calls for the gateway's details, and ran a second query per object
--     for the key check. Scalars are now rendered inside the one query per
--     object (a string, true, false or null is the jsonb value's own text:
--     jsonb prints a string with the escaping to_json uses; an integer
--     within 2^53 is trunc(n)::text as before) and the key check is an
--     aggregate of the same query. Containers, and numbers that are not
--     such integers, still go through audit.jcs, so whatever it refused it
--     still refuses, with the same error codes. TestCanonicalJSONMatchesSQL,
--     TestDifferential and TestCanonicalMatchesJCSLibrary compare it with
--     the Go and library renderings.
--   * audit.append looked the action up to refuse a reserved one and then
--     called audit.append_as (a second SECURITY DEFINER frame with a pinned
--     search_path), which looked it up again. Both entry points now call
--     audit.append_event, which looks the action up once; the reserved
--     check comes first, as before. append_event is not SECURITY DEFINER
--     and only its owner (ward_definer, whose functions call it) may run
--     it: the caller-supplied p_actor, p_require_credential and
--     p_refuse_reserved are decided by audit.append (an actor never, a
--     credential always, reserved actions refused) and by audit.append_as
--     (which only ward_ops and the definer's procedures may call), as
--     before.
--   * the credential was read through private.me(), a SECURITY DEFINER
--     wrapper running one more query over private.me_pending_cached();
--     append_event runs that query itself (the same filter: a principal
--     with a pending step resolves to nobody).

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function audit.jcs(v jsonb) returns text
language plpgsql immutable strict set search_path = '' as $$
declare
  t text := jsonb_typeof(v);
  n numeric;
  body text;
  ascii boolean;
begin
  if t = 'object' then
    select bool_and(e.key ~ '^[\x20-\x7e]*$'),
           string_agg(to_json(e.key)::text || ':' || case jsonb_typeof(e.value)
               when 'string' then e.value::text
               when 'boolean' then e.value::text
               when 'null' then 'null'
               when 'number' then case when e.value::numeric = trunc(e.value::numeric)
                                        and abs(e.value::numeric) <= 9007199254740992
                                       then trunc(e.value::numeric)::text else audit.jcs(e.value) end
               else audit.jcs(e.value) end, ',' order by e.key collate "C")
      into ascii, body
      from jsonb_each(v) e;
    if not ascii then
      raise exception 'audit: non-ASCII key in audit event' using errcode = '22023';
    end if;
    return '{' || coalesce(body, '') || '}';
  elsif t = 'array' then
    return '[' || coalesce((select string_agg(case jsonb_typeof(e.value)
               when 'string' then e.value::text
               when 'boolean' then e.value::text
               when 'null' then 'null'
               when 'number' then case when e.value::numeric = trunc(e.value::numeric)
                                        and abs(e.value::numeric) <= 9007199254740992
                                       then trunc(e.value::numeric)::text else audit.jcs(e.value) end
               else audit.jcs(e.value) end, ',' order by e.ord)
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
-- +goose StatementEnd

reset role;

-- +goose StatementBegin
create function audit.append_event(p_org uuid, p_action text, p_outcome text, p_object_type text,
  p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb,
  p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean)
returns bigint
-- Not SECURITY DEFINER and no pinned search_path (a SET clause costs a
-- GUC save and restore per call): it runs only inside audit.append and
-- audit.append_as, which pin search_path to '' and whose owner alone may
-- execute it. Every name below is schema-qualified.
language plpgsql as $$
declare
  me record;
  a audit.actions%rowtype;
  known boolean;
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  kase uuid := p_case;
  ua text := audit.clean_text(p_ua, 256);
  req text := audit.clean_text(p_request, 64);
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
  if kase is not null
     and not exists (select from app.cases c where c.org_id = p_org and c.id = kase) then
    if p_outcome = 'success' then
      raise exception 'audit: no such case in this org' using errcode = '22023';
    end if;
    kase := null;
  end if;

  -- private.me()'s query, without its frame.
  select r.kind, r.credential_id, r.user_id, r.org_id, r.role, r.session_id, r.aal, r.auth_time, r.break_glass, r.device
    into me
    from private.me_pending_cached() r
   where r.pending is null;
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
                       me.kind, me.credential_id, me.device, kase, p_disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, null, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), null, 2, me.kind, me.credential_id,
    me.device, kase, p_disclosure, coalesce(me.break_glass, false))
  returning qid into id;
  return id;
end $$;
-- +goose StatementEnd
alter function audit.append_event(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid, boolean)
  owner to ward_definer;
revoke all on function audit.append_event(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid, boolean)
  from public;

-- +goose StatementBegin
create or replace function audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text default null,
  p_object_id uuid default null, p_patient uuid default null, p_results uuid[] default '{}',
  p_request text default null, p_ip text default null, p_ua text default null, p_details jsonb default '{}',
  p_actor uuid default null, p_require_credential boolean default false, p_disclosure jsonb default null,
  p_case uuid default null) returns bigint
language plpgsql security definer set search_path = '' as $$
begin
  return audit.append_event(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                            p_request, p_ip, p_ua, p_details, p_actor, p_require_credential, p_disclosure, p_case, false);
end $$;

create or replace function audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text default null,
  p_object_id uuid default null, p_patient uuid default null, p_results uuid[] default '{}',
  p_request text default null, p_ip text default null, p_ua text default null, p_details jsonb default '{}',
  p_disclosure jsonb default null, p_case uuid default null) returns bigint
language plpgsql security definer set search_path = '' as $$
begin
  -- No actor of the caller's, a live credential required, reserved actions refused.
  return audit.append_event(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                            p_request, p_ip, p_ua, p_details, null, true, p_disclosure, p_case, true);
end $$;
-- +goose StatementEnd

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
