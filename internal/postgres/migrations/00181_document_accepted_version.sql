-- A security review (case documents, MEDIUM): accepting a document named
-- no version. The party a document was requested from could upload a new
-- version between a manager's review and their click on accept, and the
-- version nobody reviewed became the accepted, locked one. Now an
-- acceptance names the version it accepts (app.documents.accepted_version,
-- set with accepted_at, which the documents_check_accepted_version check
-- pairs), and the database refuses a version that is not the document's
-- latest: trigger app.document_accept_latest reads the latest version
-- under a per-document transaction lock that every version insert takes
-- too (trigger app.document_version_serial, which fires before the
-- existing guard, renamed document_versions_guard so it sorts after it),
-- so an upload and an acceptance of the same document cannot both pass on
-- what the other has not committed yet. The refusal is P0001 with hint
-- not_latest_version (the API answers 412). A downloaded document with no
-- version asked for serves its accepted version (queries/cases.sql).
-- Documents accepted before this migration get the latest version uploaded
-- at or before their acceptance, which is the version that was accepted.

-- +goose Up
set local role ward_owner;
alter table app.documents add column accepted_version integer;
reset role;

-- Data as the migrating superuser (FORCE RLS binds ward_owner).
update app.documents d
   set accepted_version = coalesce(
         (select max(v.version) from app.document_versions v
           where v.org_id = d.org_id and v.document_id = d.id and v.created_at <= d.accepted_at),
         (select max(v.version) from app.document_versions v where v.org_id = d.org_id and v.document_id = d.id),
         1)
 where d.accepted_at is not null;

set local role ward_owner;

alter table app.documents add constraint documents_check_accepted_version
  check ((accepted_at is null) = (accepted_version is null) and (accepted_version is null or accepted_version >= 1));

grant update (accepted_version) on app.documents to ward_app;

-- +goose StatementBegin
create function app.document_version_serial() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
begin
  -- one writer of a document's versions and acceptance at a time; the
  -- guard after this trigger then reads accepted_at as committed
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.documents.' || new.org_id::text || '.' || new.document_id::text, 0));
  return new;
end $$;
-- +goose StatementEnd

alter function app.document_version_serial() owner to ward_definer;
revoke all on function app.document_version_serial() from public;

alter trigger document_versions_accepted on app.document_versions rename to document_versions_guard;
create trigger document_versions_admit before insert on app.document_versions
  for each row execute function app.document_version_serial();

-- +goose StatementBegin
create function app.document_accept_latest() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  latest integer;
begin
  if new.accepted_version is not distinct from old.accepted_version then
    return new;
  end if;
  -- the version changes only with the acceptance itself, which
  -- private.guard_document_update keeps to those who manage the case
  if new.accepted_at is not distinct from old.accepted_at then
    raise exception 'the accepted version changes only with the acceptance' using errcode = 'insufficient_privilege';
  end if;
  if new.accepted_version is null then
    return new;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.documents.' || new.org_id::text || '.' || new.id::text, 0));
  select max(v.version) into latest from app.document_versions v
   where v.org_id = new.org_id and v.document_id = new.id;
  if latest is distinct from new.accepted_version then
    raise exception 'only the latest version of a document can be accepted'
      using errcode = 'P0001', hint = 'not_latest_version';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.document_accept_latest() owner to ward_definer;
revoke all on function app.document_accept_latest() from public;

create trigger documents_accept_latest before update on app.documents
  for each row execute function app.document_accept_latest();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
