-- audit.append_event as in 00136, with two changes.
--
--   * A disclosure is recorded only where one is made. Through
--     audit.append (the server's path, p_refuse_reserved) an event may
--     carry a recipient and purpose only when its action is a disclosure
--     (audit.actions.disclosure); the procedures that record a disclosure
--     themselves (app.open_document_version, a stakeholder's download,
--     through audit.append_as) are unchanged. Before, a server bug or a
--     handler that passed a client's field along could make any event,
--     a patient.read say, appear in a patient's accounting of
--     disclosures (§164.528) with a recipient of its choosing.
--   * The checks that need a query (the disclosure's keys, the patient's
--     and the case's existence) run only when there is something to
--     check. A PL/pgSQL condition holding a subquery is not a simple
--     expression: the executor ran the whole condition for every event,
--     even with the parameter null (benchmarks §31, §32).
--
-- Everything else, the bytes of every event included, is as before.

-- +goose Up
set local role ward_owner;

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
    perform from app.cases c where c.org_id = p_org and c.id = kase;
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
