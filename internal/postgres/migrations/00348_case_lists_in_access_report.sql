-- A case list's event names the cases it showed (case.list's result_ids
-- are case ids, and a case's title is PHI: docs/cases.md), not their
-- patients, so a lead's or provider's listing of a patient's cases was in
-- no patient's access report, and a legal hold on the patient did not keep
-- the event past the audit retention (helper-175 review, left to the lead
-- as performance-sensitive). audit.access_report and access_report_page
-- now also take the events whose results name one of the patient's cases
-- (listed: true, as a patient list's), read once per call into an array
-- and matched with the results' GIN index (&&); audit.retention_allows
-- keeps an event whose results name a held patient's case.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function audit.access_report(p_org uuid, p_patient uuid) RETURNS TABLE(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text, listed boolean, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  my_cases uuid[];
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- The patient's cases: an event listing one of them (case.list names
  -- case ids in its results) showed the patient's case title.
  my_cases := coalesce((select array_agg(c.id) from app.cases c where c.org_id = p_org and c.patient_id = p_patient), '{}');
  return query
    select (select l.seq from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid),
           e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases)
     order by 1, e.qid;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer) RETURNS TABLE(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text, listed boolean, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  my_cases uuid[];
  n bigint;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- The patient's cases: an event listing one of them (case.list names
  -- case ids in its results) showed the patient's case title.
  my_cases := coalesce((select array_agg(c.id) from app.cases c where c.org_id = p_org and c.patient_id = p_patient), '{}');
  if p_after is null or p_after < 0 or p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception 'access report: after is 0 or more, limit 1..1000' using errcode = '22023';
  end if;
  return query
    select l.seq, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      join audit.leaves l on l.org_id = e.org_id and l.qid = e.qid
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases) and l.seq > p_after
     order by l.seq
     limit p_limit;
  get diagnostics n = row_count;
  if n < p_limit then
    return query
      select null::bigint, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
             m.role,
             case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
        from audit.events e
        left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
        left join app.users u on u.id = e.actor_id
       where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases)
         and not exists (select from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid)
       order by e.qid
       limit p_limit - n;
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_case uuid;
  v_results uuid[];
begin
  if p_seq is null or not p_at < now() - interval '2555 days'
     or p_seq > coalesce((select a.archived_size from audit.archive_state a where a.org_id = p_org), 0)
     or p_seq > coalesce((select max(c.size) from audit.checkpoints c where c.org_id = p_org), 0) then
    return false;
  end if;
  select e.case_id, e.result_ids into v_case, v_results
    from audit.leaves l join audit.events e on e.org_id = l.org_id and e.qid = l.qid
   where l.org_id = p_org and l.seq = p_seq;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(p_org);
  return not exists (select from app.legal_holds h
                      where h.org_id = p_org and h.released_at is null
                        and (h.patient_id is null or h.patient_id = p_patient
                             or h.patient_id = any (coalesce(v_results, '{}'))
                             or exists (select from app.cases c
                                         where c.org_id = p_org and c.id = v_case and c.patient_id = h.patient_id)
                             or exists (select from app.cases c
                                         where c.org_id = p_org and c.id = any (coalesce(v_results, '{}'))
                                           and c.patient_id = h.patient_id)));
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
