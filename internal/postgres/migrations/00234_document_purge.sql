-- The retention purge (DESIGN §8: "purge by a job"; the policy is 00233).
--
--  * app.purge_expired_documents(p_max) is the job's path, executable by
--    ward_ops only (ward_app cannot call it). It decides everything itself
--    from the stored policies and now(): a live document is past retention
--    when its type has a policy in its org and both its creation and its
--    last upload are older than the policy's days. It skips every document
--    under an active legal hold on its org, its case's patient or its case,
--    and every document another transaction holds locked (a user's
--    deletion, an upload's commit: the next run sees it again). At most
--    p_max documents (1..1000) per call, oldest first, org by org.
--  * A purged document is deleted exactly as app.delete_document deletes
--    it: deleted_at set, its versions' data keys set to null in the same
--    transaction (crypto-shredding). It returns each document with its
--    versions' storage keys; the job removes those objects from the store,
--    and the sweeper takes any it could not.
--  * One document.purge event per document (a reserved action), in the
--    document's org, with its case and patient, actor_kind system and as
--    actor the admin whose policy applied (the one who last set the
--    org's policy); details: doc_type and retain_days.
--  * A hold placed while a purge runs is not missed: placing a hold takes
--    the org's transaction-level advisory lock (trigger legal_hold_serialise
--    on app.legal_holds), and the purge takes the same lock before it reads
--    the org's holds. A hold committed first is seen; a hold placed during
--    the purge of its org waits for that purge to commit.
-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('document.purge', 'case', true, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
create function private.legal_hold_lock(p_org uuid) returns void
language sql volatile
set search_path to ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.legal_hold/' || p_org::text, 0))
$$;
-- +goose StatementEnd
revoke all on function private.legal_hold_lock(uuid) from public;
grant execute on function private.legal_hold_lock(uuid) to ward_definer;

-- +goose StatementBegin
create function app.legal_hold_serialise() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  perform private.legal_hold_lock(new.org_id);
  return new;
end $$;
-- +goose StatementEnd
alter function app.legal_hold_serialise() owner to ward_definer;
revoke all on function app.legal_hold_serialise() from public;
create trigger legal_hold_serialise before insert on app.legal_holds
  for each row execute function app.legal_hold_serialise();

-- +goose StatementBegin
create function app.purge_expired_documents(p_max integer default 100)
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
