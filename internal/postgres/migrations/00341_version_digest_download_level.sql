-- A version's SHA-256 is shown in SQL only to whoever may download it or
-- uploaded it (a review of the cases surface, LOW). docs/cases.md: "A
-- version's SHA-256 and size are shown only to a caller who may download
-- it or uploaded it: a party who may only view the case would otherwise
-- confirm a templated report's content (a drug screen's NEGATIVE or
-- POSITIVE) by hashing the candidate renderings." The API hid it
-- (cases.GetDocument), the database did not: ward_app held SELECT on
-- app.document_versions.sha256, so a statement under the credential of an
-- employer who may only view the case read every version's hash.
--
-- Now ward_app reads the column no more; app.version_sha256(org, version)
-- gives it, deciding from the bound credential only: the credential's org
-- (another org's version is null), the version's document live, and the
-- caller one who may download the case (a lead or admin of the org, a
-- break-glass session, a grant or care-team place with download: the test
-- of app.open_document_version) or who uploaded the version and still
-- views the case. Anyone else gets null. The server's queries read it
-- through the function (LatestVersion, ListVersions, ListRecentVersions,
-- GetVersion), so an If-Match naming the latest version's SHA-256 holds
-- only for a caller who may learn it: before, an upload by a party who may
-- only view and upload answered 412 or went through depending on whether
-- the hash it guessed was the latest's, the same oracle through HTTP.
-- Left as it is: the size (also shown by the API only to those who may
-- download), which the server's types read as a number that is never
-- null.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.version_sha256(p_org uuid, p_version uuid) returns bytea
language plpgsql stable security definer
set search_path to ''
as $$
declare
  me_org uuid := private.get_my_org_id();
  v record;
begin
  if me_org is null or p_org is distinct from me_org then
    return null;
  end if;
  select x.case_id, x.document_id, x.uploaded_by, x.sha256 into v
    from app.document_versions x where x.org_id = me_org and x.id = p_version;
  if not found or not exists (select from app.documents d
                               where d.org_id = me_org and d.id = v.document_id and d.deleted_at is null) then
    return null;
  end if;
  if private.am_i_lead_in_org(me_org) or v.case_id = any (private.my_case_ids('download'))
     or (v.uploaded_by = private.uid() and v.case_id = any (private.my_case_ids('view'))) then
    return v.sha256;
  end if;
  return null;
end $$;
-- +goose StatementEnd
alter function app.version_sha256(uuid, uuid) owner to ward_definer;
revoke all on function app.version_sha256(uuid, uuid) from public;
grant execute on function app.version_sha256(uuid, uuid) to ward_app;

revoke select (sha256) on app.document_versions from ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
