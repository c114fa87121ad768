-- A stakeholder with the upload permission replaced another party's
-- document (an attacker's review, MEDIUM): the employer, granted view and
-- upload, added a version to the clinic's medical report, and the attorney's
-- download served the employer's file. Only an accepted document was kept
-- from everyone but the case's managers.
--
--   * private.guard_version_insert: a new version of a document comes from
--     the party it was requested from (a request) or whoever filed it (no
--     request), or those who manage its case (leads, admins, the patient's care team);
--     an accepted document, as before, from its managers only. Whoever runs
--     the insert (the trigger binds the procedures too).

-- +goose Up
set local role ward_owner;

grant select (created_by, requested_by, requested_from) on app.documents to ward_rls;

-- +goose StatementBegin
create or replace function private.guard_version_insert() returns trigger
    language plpgsql security definer
    set search_path to ''
    as $$
declare
  d record;
begin
  select x.accepted_at, x.created_by, x.requested_by, x.requested_from into d
    from app.documents x where x.org_id = new.org_id and x.id = new.document_id;
  if private.am_i_lead_in_org(new.org_id) or new.case_id = any (private.my_managed_case_ids()) then
    return new;
  end if;
  if d.accepted_at is not null then
    raise exception 'an accepted document takes new versions only from those who manage its case'
      using errcode = 'insufficient_privilege';
  end if;
  -- a request is provided by the party it was asked of, anything else by
  -- whoever created it
  if (d.requested_from is not null and new.uploaded_by is distinct from d.requested_from)
     or (d.requested_from is null and new.uploaded_by is distinct from d.created_by) then
    raise exception 'a document takes new versions only from the party it was requested from, whoever filed it, or those who manage its case'
      using errcode = 'insufficient_privilege', hint = 'not_document_party';
  end if;
  return new;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
