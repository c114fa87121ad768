-- A legal hold on a patient keeps every audit event about that patient
-- from the log's cleanup (a review of the holds, MEDIUM). DESIGN §5: the
-- cleanup role may drop only events "not under legal hold"; §8: holds
-- (org, patient, case) block deletion, enforced in SQL functions.
--
-- audit.retention_allows (00013, 00249) asked whether an active hold
-- covered the org or the event's patient column only. Many events about a
-- patient name them elsewhere: a case's and its documents' events carry
-- the case (case_id) and no patient, and a list or search that returned
-- the patient names them among its results (result_ids) — the events the
-- patient's access report and a breach scope count as theirs. Under a
-- hold on the patient, ward_audit_cleanup deleted those once past
-- retention, archived and checkpointed: the record of who read the held
-- patient's case went while the hold stood. The function now reads the
-- event's case and results (from its leaf, by seq) and keeps it when an
-- active hold names its patient, one of its results, or the patient of
-- its case. A hold on a case (no patient_id) keeps every event of the org,
-- as before. Otherwise the rule is 00249's, its lock included.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamptz)
returns boolean
language plpgsql volatile security definer
set search_path to ''
as $$
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
                                         where c.org_id = p_org and c.id = v_case and c.patient_id = h.patient_id)));
end $$;
-- +goose StatementEnd
alter function audit.retention_allows(uuid, bigint, uuid, timestamptz) owner to ward_definer;
revoke all on function audit.retention_allows(uuid, bigint, uuid, timestamptz) from public;
grant execute on function audit.retention_allows(uuid, bigint, uuid, timestamptz) to ward_audit_cleanup;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
