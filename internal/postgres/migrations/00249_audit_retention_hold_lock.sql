-- The audit log's cleanup does not race a legal hold being placed (DESIGN
-- §5: the cleanup role may only drop events "not under legal hold"; §8:
-- holds block deletion, enforced in SQL functions).
--
-- audit.retention_allows (00013), which the audit.events trigger asks
-- before ward_audit_cleanup deletes an event, read app.legal_holds with
-- no lock, in a STABLE function (one snapshot for the whole DELETE): a
-- hold on the org or the event's patient committed while the cleanup ran
-- was not seen, and events it should have kept were deleted. 00235 closed
-- the same race for a user's deletion of a document: placing a hold takes
-- the org's transaction advisory lock (trigger legal_hold_serialise,
-- private.legal_hold_lock, 00234), and a deletion takes it shared first.
-- retention_allows now does the same, and is VOLATILE so that its read of
-- the holds takes a snapshot after the lock is granted:
--
--  * it takes private.legal_hold_lock_shared(org) before it reads the
--    holds (only for an event otherwise old, archived and checkpointed
--    enough to go). Cleanups do not wait for one another; a cleanup waits
--    for a hold being placed on the org and then sees it (the event is
--    kept, 42501 as before); a hold placed during a cleanup waits for the
--    cleanup to commit, and then holds what is left.
--  * Otherwise the rule is 00013's: past 2,555 days, within the archived
--    and the checkpointed log, and no active hold on the org or the
--    event's patient.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamptz)
returns boolean
language plpgsql volatile security definer
set search_path to ''
as $$
begin
  if p_seq is null or not p_at < now() - interval '2555 days'
     or p_seq > coalesce((select a.archived_size from audit.archive_state a where a.org_id = p_org), 0)
     or p_seq > coalesce((select max(c.size) from audit.checkpoints c where c.org_id = p_org), 0) then
    return false;
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(p_org);
  return not exists (select from app.legal_holds h
                      where h.org_id = p_org and h.released_at is null
                        and (h.patient_id is null or h.patient_id = p_patient));
end $$;
-- +goose StatementEnd
alter function audit.retention_allows(uuid, bigint, uuid, timestamptz) owner to ward_definer;
revoke all on function audit.retention_allows(uuid, bigint, uuid, timestamptz) from public;
grant execute on function audit.retention_allows(uuid, bigint, uuid, timestamptz) to ward_audit_cleanup;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
