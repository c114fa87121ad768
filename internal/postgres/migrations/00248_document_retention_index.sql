-- An index for the retention purge's scan (DESIGN §8; docs/retention.md).
--
-- app.purge_expired_documents (00234, 00238) and the dry run (GET
-- /v1/org/retention-policy/preview, query PreviewDocumentPurge) look for an
-- org's live documents of a type whose creation is older than the type's
-- days. No index served that: the only one on the org's documents is
-- documents_case_idx (org_id, case_id, created_at), so every pass, every
-- minute, read all of an org's documents, live and deleted (purged rows
-- stay), to find the few past retention (EXPLAIN ANALYZE on 200,000
-- documents, 100,000 in the org: a sequential scan of the table, 95 to 220
-- ms a pass for the purge and 0.5 to 1 s for the dry run; with the index,
-- an index range scan per type: 2 ms and 8 ms).
--
--  * documents_retention_idx (org_id, doc_type, created_at) where
--    deleted_at is null: a purged or deleted document leaves it.
--  * The purge now selects type by type, with the type's cutoff computed
--    first: the planner then sees a constant bound on created_at (the
--    default estimate of a bound computed from the joined policy row, a
--    third of the rows, made it prefer a sequential scan with a hash join
--    on the type). Within a type it still takes the oldest first; types go
--    by name, and a batch that fills stops. Otherwise the function is
--    00238's (the same documents, holds, locks, events and shredding).
--
-- On a large live table: CREATE INDEX blocks writes to app.documents
-- (uploads, requests, deletions) while it builds. An operator with many
-- documents builds it by hand before upgrading, without blocking writes,
-- with exactly this definition:
--
--   create index concurrently if not exists documents_retention_idx
--     on app.documents (org_id, doc_type, created_at) where deleted_at is null;
--
-- and this migration then finds it and skips the build ("if not exists").
-- A concurrent build that failed leaves an invalid index of that name:
-- drop it (drop index concurrently app.documents_retention_idx) and build
-- it again before upgrading (docs/operations.md, "Upgrading").
-- +goose Up
set local role ward_owner;

create index if not exists documents_retention_idx on app.documents (org_id, doc_type, created_at)
  where deleted_at is null;

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
  t record;
  cutoff timestamptz;
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
    for t in select r.doc_type, r.retain_days, r.updated_by from app.document_retention r
              where r.org_id = o order by r.doc_type loop
      exit when n >= cap;
      cutoff := now() - make_interval(days => t.retain_days);
      for d in
        select x.id, x.case_id, c.patient_id
          from app.documents x
          join app.cases c on c.org_id = x.org_id and c.id = x.case_id
         where x.org_id = o and x.doc_type = t.doc_type and x.deleted_at is null
           and x.created_at < cutoff
           and (x.due_at is null or x.due_at < cutoff)
           and not exists (select from app.document_versions v
                            where v.org_id = x.org_id and v.document_id = x.id and v.created_at >= cutoff)
           and not exists (select from app.legal_holds h
                            where h.org_id = x.org_id and h.released_at is null
                              and (h.patient_id = c.patient_id or h.case_id = x.case_id))
         order by x.created_at, x.id
         limit cap - n
         for update of x skip locked
      loop
        perform audit.append_as(o, 'document.purge', 'success', 'document', d.id,
          p_patient => d.patient_id, p_case => d.case_id, p_actor => t.updated_by,
          p_details => jsonb_build_object('doc_type', t.doc_type, 'retain_days', t.retain_days));
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
  end loop;
end $$;
-- +goose StatementEnd
alter function app.purge_expired_documents(integer) owner to ward_definer;
revoke all on function app.purge_expired_documents(integer) from public;
grant execute on function app.purge_expired_documents(integer) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
