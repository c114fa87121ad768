-- The archive's retention, as read back, recorded in the database (issue 7
-- §4: "after each upload it reads the object's retention mode and date
-- back and records them"). Until now the archiver only logged it and
-- exported the last one as a metric; an auditor asking "which objects are
-- under COMPLIANCE retention, until when" had to trust the log stream.
--
-- One row per object written (segment or checkpoint), with the version
-- and the retention the storage reported after the write: mode NULL for
-- the local-directory archive, which is not WORM. The rows are what the
-- archiver observed, not a security decision: nothing reads them to allow
-- anything (retention_allows still goes by archive_state and checkpoints).

-- +goose Up
set local role ward_owner;

create table audit.archive_objects (
  org_id uuid not null,
  name text not null check (length(name) between 1 and 1024),
  version_id text not null default '' check (length(version_id) <= 1024),
  mode text check (mode in ('COMPLIANCE', 'GOVERNANCE')),
  retain_until timestamptz,
  stored_at timestamptz not null default now(),
  primary key (org_id, name, version_id),
  check ((mode is null) = (retain_until is null))
);
alter table audit.archive_objects enable row level security;
alter table audit.archive_objects force row level security;
create policy archive_objects_read on audit.archive_objects for select to ward_audit_reader, ward_audit_cleanup
  using (true);
grant select on audit.archive_objects to ward_audit_reader, ward_audit_cleanup;
grant select, insert on audit.archive_objects to ward_definer;

-- +goose StatementBegin
-- record_archived_object records one object the archiver wrote and the
-- retention it read back. A second report of the same object version is
-- ignored: the first observation stands.
create function audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text,
  p_retain_until timestamptz) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  if p_org is null or not exists (select from audit.heads h where h.org_id = p_org) then
    raise exception 'audit: no log of org %', p_org using errcode = '22023';
  end if;
  insert into audit.archive_objects (org_id, name, version_id, mode, retain_until)
  values (p_org, p_name, coalesce(p_version, ''), nullif(p_mode, ''), p_retain_until)
  on conflict do nothing;
end $$;
-- +goose StatementEnd

alter function audit.record_archived_object(uuid, text, text, text, timestamptz) owner to ward_definer;
revoke all on function audit.record_archived_object(uuid, text, text, text, timestamptz) from public;
-- Not to ward_app: the archiver never runs as the server's role, and a
-- server bug must not be able to write retention evidence.
grant execute on function audit.record_archived_object(uuid, text, text, text, timestamptz)
  to ward_ops, ward_audit_reader;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
