-- A staff member's read of what a patient's case holds names the patient
-- (MEDIUM, the helper-175 review of data-subject requests: the access
-- report, and the access export that carries it, were incomplete).
-- The reads of a case's content (case.view, document.list, document.view,
-- document.comment.list: audit.actions.stakeholder_disclosure, 00159)
-- name the case. An outside party's success was made a disclosure naming
-- the case's patient (00159, 00174); anyone else's kept the patient the
-- server sent, and the server sends one only for case.view (and the
-- database for a download). So a lead's or a care-team provider's list of
-- a patient's case documents (their file names and types), read of a
-- document's description and read of its comments (free text the
-- project counts as PHI: docs/cases.md) named no patient: the patient's
-- access report (audit.access_report, by patient or result) and the
-- access export left them out, while the same reads by a stakeholder, the
-- case itself and a download were in it. audit.append_event now names
-- the case's patient on the success of those reads whoever the caller
-- is; they stay out of the accounting of disclosures (no disclosure is
-- made for staff). A legal hold on the patient already kept them
-- (audit.retention_allows reads the case's patient, 00310), and the
-- breach scope already counted them by case. Events written before stay
-- as they were (the log is never changed).
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
  kase_patient uuid;
  disclosure jsonb := p_disclosure;
  stakeholder text;
  -- (00270) An event whose writer names no client (the SQL procedures
  -- that change a member, a key, a token or a policy; a trigger's) takes
  -- the one bound with the transaction's credential.
  ua text := audit.clean_text(coalesce(nullif(p_ua, ''), nullif(current_setting('ward.ua', true), '')), 256);
  -- An event written without a request id (a trigger's: the case grants a
  -- revoked membership ends, the keys it revokes) takes the request's the
  -- transaction is bound to.
  req text := audit.clean_text(coalesce(p_request, current_setting('ward.request', true)), 64);
  ip text := audit.clean_text(coalesce(nullif(p_ip, ''), nullif(current_setting('ward.ip', true), '')), 64);
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
  -- (00174) Whoever reads through an outside party's grant on the case
  -- (any kind but staff) discloses, whatever their membership role: a
  -- patient or staff member invited as an attorney reads as the attorney.
  if p_outcome = 'success' and kase is not null and disclosure is null and a.stakeholder_disclosure
     and me.user_id is not null then
    select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
     where cm.org_id = p_org and cm.case_id = kase and cm.user_id = me.user_id and cm.kind <> 'staff';
    if stakeholder is not null or me.role = 'stakeholder' then
      disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                       'purpose', 'case document exchange');
      patient := coalesce(patient, kase_patient);
    end if;
  end if;
  -- (00336) Anyone else's read of what the case holds names its patient
  -- too, so it is in the patient's access report; it is no disclosure.
  if p_outcome = 'success' and kase is not null and a.stakeholder_disclosure then
    patient := coalesce(patient, kase_patient);
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
