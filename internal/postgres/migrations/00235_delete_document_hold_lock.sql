-- A user's deletion does not race a legal hold being placed (DESIGN §8:
-- holds block deletion, enforced in SQL functions).
--
-- app.delete_document read the holds and then deleted, in READ COMMITTED:
-- a hold on the document's org, patient or case committed between the two
-- was not seen, and the document was deleted and shredded under it. Since
-- 00234 placing a hold takes the org's transaction advisory lock
-- (private.legal_hold_lock, trigger legal_hold_serialise), and the purge
-- takes it before it reads the holds. app.delete_document now takes the
-- same lock, shared (private.legal_hold_lock_shared), before it reads the
-- holds: deletions do not wait for one another, a deletion waits for a hold
-- being placed and then sees it (409 legal_hold), and a hold placed during
-- a deletion waits for it to commit. Otherwise the function is 00028's.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.legal_hold_lock_shared(p_org uuid) returns void
language sql volatile
set search_path to ''
as $$
  select pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('ward.legal_hold/' || p_org::text, 0))
$$;
-- +goose StatementEnd
revoke all on function private.legal_hold_lock_shared(uuid) from public;
grant execute on function private.legal_hold_lock_shared(uuid) to ward_definer;

-- +goose StatementBegin
create or replace function app.delete_document(p_document uuid, p_request text default null) returns setof text
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  d app.documents%rowtype;
  c app.cases%rowtype;
begin
  select * into me from private.me();
  if me.user_id is null or not private.am_i_lead_in_org(me.org_id) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(me.org_id);
  select * into d from app.documents x where x.org_id = me.org_id and x.id = p_document and x.deleted_at is null
    for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select * into c from app.cases x where x.org_id = d.org_id and x.id = d.case_id;
  if exists (select from app.legal_holds h where h.org_id = d.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = c.patient_id
                    or h.case_id = c.id)) then
    raise exception 'legal hold' using errcode = '55000'; -- the caller records the refusal
  end if;
  perform audit.append_as(me.org_id, 'document.delete', 'success', 'document', d.id,
    p_patient => c.patient_id, p_request => p_request, p_case => d.case_id);
  update app.documents x set deleted_at = now() where x.org_id = d.org_id and x.id = d.id;
  return query update app.document_versions x set data_key = null
                where x.org_id = d.org_id and x.document_id = d.id returning x.storage_key;
end $$;
-- +goose StatementEnd
alter function app.delete_document(uuid, text) owner to ward_definer;
revoke all on function app.delete_document(uuid, text) from public;
grant execute on function app.delete_document(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
