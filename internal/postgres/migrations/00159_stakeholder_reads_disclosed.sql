-- A stakeholder's read of a case is a disclosure (§164.512(l), §164.528).
--
-- Until now only a stakeholder's download of a document version was
-- recorded as a disclosure (app.open_document_version, 00148, 00153). A
-- stakeholder who opened the case (its title, reference and claim
-- details), listed its documents, read a document's description or its
-- comments was audited, but the events named no recipient, and most named
-- no patient either, so the patient's accounting of disclosures left them
-- out. Workers' compensation disclosures are not exempt from that
-- accounting.
--
--   * audit.actions.stakeholder_disclosure marks the actions whose success
--     by an external stakeholder is a disclosure: case.view, document.view,
--     document.list and document.comment.list.
--   * audit.append_event (as in 00151 otherwise) makes such an event a
--     disclosure when the caller's role is stakeholder, the event names a
--     case and the server sent no disclosure. The recipient comes from the
--     caller's own grant on that case, "<kind>" or "<kind>: <organisation>",
--     as a download's does. The purpose is "case document exchange". The
--     patient is the case's when the event named none. Nothing of it is
--     taken from the caller. The hot path (no case) is only one more simple
--     test.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
alter table audit.actions add column stakeholder_disclosure boolean not null default false;
update audit.actions set stakeholder_disclosure = true
 where name in ('case.view', 'document.view', 'document.list', 'document.comment.list');
alter table audit.actions force row level security;

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
  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, null, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), null, 2, me.kind, me.credential_id,
    me.device, kase, disclosure, coalesce(me.break_glass, false))
  returning qid into id;
  return id;
end $$;
-- +goose StatementEnd

-- The accounting gives the document's type for an event about a document
-- (a view, its comments), as it did for one about a version.
-- +goose StatementBegin
create or replace function audit.disclosure_accounting(p_org uuid, p_patient uuid)
returns table (seq bigint, at timestamptz, action text, recipient text, purpose text, object_type text,
               object_id uuid, case_id uuid, doc_type text, actor_id uuid, actor_role text, actor_email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
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
    select e.seq, e.at, e.action, e.disclosure->>'recipient', e.disclosure->>'purpose', e.object_type,
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
     order by e.seq;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
