-- A security review (case documents, MEDIUM): nothing limited how much an
-- org stores. Any member who may upload (an employer with view and upload
-- on one case) could fill the document store, each file up to the org's
-- document_max_bytes, for every tenant of the instance. Now each org has a
-- quota, in bytes and in document versions (app.orgs.document_quota_bytes,
-- default 100 GiB, and document_quota_versions, default 100,000; set as
-- document_max_bytes is, by the operator in SQL), counted over the versions
-- whose data key is live (a deleted document's versions do not count). The
-- count is taken when a version is inserted, under a per-org transaction
-- lock, so concurrent uploads cannot both pass on the last bytes; a refusal
-- is 54000 with hint storage_quota (the API answers 413
-- storage_quota_exceeded and removes the object it stored).

-- +goose Up
set local role ward_owner;

alter table app.orgs
  add column document_quota_bytes bigint not null default 107374182400
    check (document_quota_bytes between 1 and 1125899906842624),
  add column document_quota_versions integer not null default 100000
    check (document_quota_versions between 1 and 100000000);

-- +goose StatementBegin
create function app.document_version_quota() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  max_bytes bigint;
  max_versions integer;
  used_bytes numeric;
  used_versions bigint;
begin
  -- the limits are the org's own row, never the caller's
  select o.document_quota_bytes, o.document_quota_versions into max_bytes, max_versions
    from app.orgs o where o.id = new.org_id;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.document_quota.' || new.org_id::text, 0));
  select coalesce(sum(v.size), 0), count(*) into used_bytes, used_versions
    from app.document_versions v
   where v.org_id = new.org_id and v.data_key is not null;
  if used_versions + 1 > max_versions or used_bytes + new.size > max_bytes then
    raise exception 'the org''s document storage quota is used up'
      using errcode = '54000', hint = 'storage_quota';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.document_version_quota() owner to ward_definer;
revoke all on function app.document_version_quota() from public;

create trigger document_versions_quota before insert on app.document_versions
  for each row execute function app.document_version_quota();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
