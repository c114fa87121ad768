-- Retention policies per document type (DESIGN §8: "Retention policies per
-- document type; purge by a job"). This migration holds the policy; the
-- purge that applies it is 00234.
--
--  * app.document_retention: one row per org and document type, how many
--    days (1..36500) a document of that type is kept after its last upload
--    (or its creation, when nothing was uploaded). A type with no row is
--    kept for ever. Composite key (org_id, doc_type); FORCE RLS.
--  * Every member of the org (patient and above, a session: not an API
--    key, not a SCIM token, not a case stakeholder, an outside party) reads
--    the org's policy, as it reads the org's other policies. Nobody writes
--    the table directly.
--  * app.set_document_retention replaces the caller's org policy with the
--    one given (a JSON object, type -> days, at most 100 types). Only an
--    org admin's session (not a key, not break-glass) that presented a
--    second factor within the last 10 minutes (42501, step_up_required),
--    decided here from the bound credential, never from an argument.
--    Audited as org.retention_policy.update (reserved) with the old and new
--    policies; a replacement that changes nothing is still recorded (an
--    admin confirming the policy is worth the line).
-- +goose Up
set local role ward_owner;

create table app.document_retention (
  org_id uuid not null references app.orgs (id),
  doc_type text not null check (doc_type ~ '^[a-z][a-z0-9_]{0,47}$'),
  retain_days integer not null check (retain_days between 1 and 36500),
  updated_by uuid not null references app.users (id),
  updated_at timestamptz not null default now(),
  primary key (org_id, doc_type)
);
alter table app.document_retention enable row level security;
alter table app.document_retention force row level security;
grant select on app.document_retention to ward_app;
grant select, insert, delete on app.document_retention to ward_definer;

create policy document_retention_select on app.document_retention for select to ward_app using (
  org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id()))
  and coalesce((select c.role from private.principal_cached c), (select private.get_my_role()))
      in ('patient', 'provider', 'lead', 'admin')
  and not coalesce((select c.is_key from private.principal_cached c), (select private.is_key())));

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.retention_policy.update', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
create function app.set_document_retention(p_policy jsonb, p_request text default null)
returns void
language plpgsql volatile security definer
set search_path to ''
as $$
declare
  me record;
  old jsonb;
  new jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_policy is null or jsonb_typeof(p_policy) <> 'object' then
    raise exception 'a retention policy is an object of document type to days' using errcode = '22023';
  end if;
  if (select count(*) from jsonb_object_keys(p_policy)) > 100 then
    raise exception 'a retention policy names at most 100 document types' using errcode = '22023';
  end if;
  if exists (select from jsonb_each(p_policy) e
              where e.key !~ '^[a-z][a-z0-9_]{0,47}$'
                 or jsonb_typeof(e.value) <> 'number'
                 or (e.value #>> '{}') !~ '^[0-9]{1,5}$'
                 or (e.value #>> '{}')::int not between 1 and 36500) then
    raise exception 'document types are lower-case names; days are whole numbers from 1 to 36500'
      using errcode = '22023';
  end if;
  -- One change of an org's policy at a time (the old value recorded is
  -- the one replaced).
  perform from app.orgs o where o.id = me.org_id for update;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days order by r.doc_type), '{}') into old
    from app.document_retention r where r.org_id = me.org_id;
  delete from app.document_retention r where r.org_id = me.org_id;
  insert into app.document_retention (org_id, doc_type, retain_days, updated_by)
  select me.org_id, e.key, (e.value #>> '{}')::int, me.user_id from jsonb_each(p_policy) e;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days order by r.doc_type), '{}') into new
    from app.document_retention r where r.org_id = me.org_id;
  perform audit.append_as(me.org_id, 'org.retention_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new));
end $$;
-- +goose StatementEnd
alter function app.set_document_retention(jsonb, text) owner to ward_definer;
revoke all on function app.set_document_retention(jsonb, text) from public;
grant execute on function app.set_document_retention(jsonb, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
