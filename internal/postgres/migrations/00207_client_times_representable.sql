-- A time a client sets (an entry's observed_at, a requested document's
-- due_at, a grant's or an invitation's access_expires_at, an API key's
-- expires_at) must fall between the years 0001 and 9999 in UTC: what
-- RFC 3339, and so a JSON answer, can carry. The API has refused others
-- since it checks decoded bodies (internal/httpapi checkTimes), but
-- PostgreSQL takes 'BC' dates, years up to 294276 and 'infinity', and a
-- row written before that check ("0000-01-01T00:00:00+23:59" is year -1
-- in UTC) or by hand made every answer holding it a 500. Each column now
-- has a CHECK, so no writer, SQL by hand included, stores such a time
-- again.
--
-- Rows already holding one are clamped to the nearest time that can be
-- carried: 0001-01-01T00:00:00Z below, 9999-12-31T23:59:59.999999Z above
-- (infinity included). For the deadlines and expiries nothing changes: a
-- time before year 1 was as past as 0001-01-01 is, one after 9999 as far
-- off. For an entry's observed_at no such time can have been an
-- observation; the clamped value is unmistakable, and the entry can be
-- amended as any other. The clamp runs as the migrating superuser with the
-- tables' triggers off (FORCE RLS binds ward_owner; a clamp is no
-- member's change to guard, re-arm or audit), and only when such a row
-- exists: a migration login that is no superuser (a managed database's)
-- may not switch triggers off, and needs to only where there is something
-- to clamp (it sees no rows under RLS, and the constraints below then
-- refuse what it could not clamp, naming the column).
-- +goose Up
-- +goose StatementBegin
do $$
begin
  if exists (select from app.clinical_entries where observed_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz)
      or exists (select from app.documents where due_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz)
      or exists (select from app.case_members where access_expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz)
      or exists (select from app.case_invites where access_expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz)
      or exists (select from app.api_keys where expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz) then
    perform set_config('session_replication_role', 'replica', true);
    update app.clinical_entries
       set observed_at = greatest(least(observed_at, '9999-12-31 23:59:59.999999+00'::timestamptz), '0001-01-01 00:00:00+00'::timestamptz)
     where observed_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz;
    update app.documents
       set due_at = greatest(least(due_at, '9999-12-31 23:59:59.999999+00'::timestamptz), '0001-01-01 00:00:00+00'::timestamptz)
     where due_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz;
    update app.case_members
       set access_expires_at = greatest(least(access_expires_at, '9999-12-31 23:59:59.999999+00'::timestamptz), '0001-01-01 00:00:00+00'::timestamptz)
     where access_expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz;
    update app.case_invites
       set access_expires_at = greatest(least(access_expires_at, '9999-12-31 23:59:59.999999+00'::timestamptz), '0001-01-01 00:00:00+00'::timestamptz)
     where access_expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz;
    update app.api_keys
       set expires_at = greatest(least(expires_at, '9999-12-31 23:59:59.999999+00'::timestamptz), '0001-01-01 00:00:00+00'::timestamptz)
     where expires_at not between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz;
    perform set_config('session_replication_role', 'origin', true);
  end if;
end
$$;
-- +goose StatementEnd

set local role ward_owner;

alter table app.clinical_entries add constraint clinical_entries_observed_at_representable
  check (observed_at between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz);
alter table app.documents add constraint documents_due_at_representable
  check (due_at between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz);
alter table app.case_members add constraint case_members_access_expires_at_representable
  check (access_expires_at between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz);
alter table app.case_invites add constraint case_invites_access_expires_at_representable
  check (access_expires_at between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz);
alter table app.api_keys add constraint api_keys_expires_at_representable
  check (expires_at between '0001-01-01 00:00:00+00'::timestamptz and '9999-12-31 23:59:59.999999+00'::timestamptz);

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
