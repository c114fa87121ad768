-- The retention purge keeps an open document request until its due date is
-- past the retention period (fixes 00234).
--
-- app.purge_expired_documents measured a document's age from its creation
-- and its last upload only. A request made with a due date (POST
-- /v1/cases/{id}/documents, "due_at") was purged once its creation was older
-- than the type's days even when nothing had been uploaded and its due date
-- was still ahead: with a 30-day policy, a wage statement asked for 40 days
-- ago and due in ten days vanished, and the patient asked to provide it
-- found nothing to upload to. The clock now runs from the latest of the
-- document's creation, its last upload and its due date, so a request is
-- never purged before it is due, and one past due is kept for the type's
-- full period after it. Otherwise the function is 00234's.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.purge_expired_documents(p_max integer default 100)
returns table (org_id uuid, document_id uuid, storage_keys text[])
language plpgsql volatile security definer
set search_path to ''
as $$
declare
  cap int := least(greatest(coalesce(p_max, 100), 1), 1000);
  n int := 0;
  o uuid;
  d record;
  keys text[];
begin
  for o in select distinct r.org_id from app.document_retention r order by r.org_id loop
    exit when n >= cap;
    perform private.legal_hold_lock(o);
    if exists (select from app.legal_holds h where h.org_id = o and h.released_at is null
                  and h.patient_id is null and h.case_id is null) then
      continue; -- the whole org is held
    end if;
    for d in
      select x.id, x.case_id, x.doc_type, c.patient_id, r.retain_days, r.updated_by
        from app.documents x
        join app.document_retention r on r.org_id = x.org_id and r.doc_type = x.doc_type
        join app.cases c on c.org_id = x.org_id and c.id = x.case_id
       where x.org_id = o and x.deleted_at is null
         and x.created_at < now() - make_interval(days => r.retain_days)
         and (x.due_at is null or x.due_at < now() - make_interval(days => r.retain_days))
         and not exists (select from app.document_versions v
                          where v.org_id = x.org_id and v.document_id = x.id
                            and v.created_at >= now() - make_interval(days => r.retain_days))
         and not exists (select from app.legal_holds h
                          where h.org_id = x.org_id and h.released_at is null
                            and (h.patient_id = c.patient_id or h.case_id = x.case_id))
       order by x.created_at, x.id
       limit cap - n
       for update of x skip locked
    loop
      perform audit.append_as(o, 'document.purge', 'success', 'document', d.id,
        p_patient => d.patient_id, p_case => d.case_id, p_actor => d.updated_by,
        p_details => jsonb_build_object('doc_type', d.doc_type, 'retain_days', d.retain_days));
      update app.documents x set deleted_at = now() where x.org_id = o and x.id = d.id;
      with shredded as (
        update app.document_versions v set data_key = null
         where v.org_id = o and v.document_id = d.id returning v.storage_key)
      select coalesce(array_agg(s.storage_key order by s.storage_key), '{}') into keys from shredded s;
      org_id := o; document_id := d.id; storage_keys := keys;
      return next;
      n := n + 1;
    end loop;
  end loop;
end $$;
-- +goose StatementEnd
alter function app.purge_expired_documents(integer) owner to ward_definer;
revoke all on function app.purge_expired_documents(integer) from public;
grant execute on function app.purge_expired_documents(integer) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
