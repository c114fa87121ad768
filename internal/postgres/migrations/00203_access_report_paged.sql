-- A patient's access report was one unbounded answer: every event about
-- the record (each read, and each list or search whose results held the
-- patient, so every patient list any staff member runs) with, for each,
-- an inclusion proof and the actor's address opened. With 10,000 such
-- events one report took 0.57 s and 11.5 MB; the patient, the lowest role
-- that may ask, may ask 100 at once and 20 a second after (the rate
-- limit), and the report grows with every list of patients the staff run.
--
-- audit.access_report_page returns one page: the events after a position
-- of the log (p_after, a seq), in seq order, at most p_limit (1..1000).
-- Events not yet sequenced follow the sequenced ones on the last page
-- (the caller integrates first, so there are few). Who may read it is
-- decided as for audit.access_report, which the access export (a
-- deliberate, audited, slot-limited request) still reads whole.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer)
returns table(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text,
              listed boolean, actor_role text, actor_email_enc bytea)
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
  n bigint;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
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
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient]) and l.seq > p_after
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
       where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient])
         and not exists (select from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid)
       order by e.qid
       limit p_limit - n;
  end if;
end $$;
-- +goose StatementEnd

alter function audit.access_report_page(uuid, uuid, bigint, integer) owner to ward_definer;
grant execute on function audit.access_report_page(uuid, uuid, bigint, integer) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
