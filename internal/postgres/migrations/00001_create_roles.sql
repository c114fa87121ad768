-- Roles and schemas. Roles are cluster-wide, so creation is idempotent; their
-- attributes are (re)asserted every time so a drifted role is corrected.
--
--   ward_owner          NOLOGIN; owns schemas app, audit, private and their tables.
--   ward_rls            NOLOGIN BYPASSRLS; owns the private.* RLS helpers and may
--                       read only the authorisation tables (sessions, memberships,
--                       patient_links, care_team).
--   ward_definer        NOLOGIN BYPASSRLS; owns the app.* and audit.* SECURITY
--                       DEFINER procedures (sign-in, keys, audit append).
--   ward_app            LOGIN NOSUPERUSER NOBYPASSRLS; the server's pool. Owns
--                       nothing; DML only where granted; RLS applies.
--   ward_ops            LOGIN; background jobs through narrow functions.
--   ward_audit_signer   LOGIN; reads audit heads to sign checkpoints.
--   ward_audit_cleanup  LOGIN; the only role the audit triggers let delete.

-- +goose Up
-- +goose StatementBegin
do $$
declare
  r text;
begin
  foreach r in array array['ward_owner','ward_rls','ward_definer','ward_app','ward_ops',
                           'ward_audit_signer','ward_audit_cleanup'] loop
    if not exists (select from pg_roles where rolname = r) then
      execute format('create role %I', r);
    end if;
  end loop;
  alter role ward_owner nologin nosuperuser nobypassrls nocreaterole nocreatedb;
  alter role ward_rls nologin nosuperuser bypassrls nocreaterole nocreatedb;
  alter role ward_definer nologin nosuperuser bypassrls nocreaterole nocreatedb;
  alter role ward_app login nosuperuser nobypassrls nocreaterole nocreatedb noinherit;
  alter role ward_ops login nosuperuser nobypassrls nocreaterole nocreatedb noinherit;
  alter role ward_audit_signer login nosuperuser nobypassrls nocreaterole nocreatedb noinherit;
  alter role ward_audit_cleanup login nosuperuser nobypassrls nocreaterole nocreatedb noinherit;
  execute format('grant connect on database %I to ward_app, ward_ops, ward_audit_signer, ward_audit_cleanup',
                 current_database());
  execute format('revoke create on database %I from public', current_database());
end $$;
-- +goose StatementEnd

revoke create on schema public from public;
-- The server checks the schema version it runs against.
grant select on public.goose_db_version to ward_app, ward_ops;

create schema app authorization ward_owner;
create schema private authorization ward_owner;
create schema audit authorization ward_owner;

-- ward_owner may hand functions over to the definer roles.
grant ward_rls, ward_definer to ward_owner;
grant create on schema private to ward_rls;
grant create on schema app, audit to ward_definer;

grant usage on schema app, private, audit to ward_app, ward_rls, ward_definer;
grant usage on schema audit to ward_audit_signer, ward_audit_cleanup, ward_ops;
grant usage on schema app, private to ward_ops;

-- Functions are not executable by PUBLIC unless granted one by one.
alter default privileges for role ward_owner revoke execute on functions from public;
alter default privileges for role ward_rls revoke execute on functions from public;
alter default privileges for role ward_definer revoke execute on functions from public;

-- +goose Down
drop schema audit cascade;
drop schema private cascade;
drop schema app cascade;
