-- Retention of the audit log. The cleanup role may remove an event only
-- when all of these hold, checked in the trigger (so no grant or function
-- can loosen them):
--   * it is older than the retention (2,555 days);
--   * it is integrated and archived (its position is at or below the
--     archived position the archiver recorded for its org);
--   * a signed checkpoint covers it;
--   * no active legal hold covers its org or its patient.
-- Legal holds live in app.legal_holds (scoped to an org, or to one patient
-- of it); their API comes with the compliance capability, the table and
-- the rule are enforced now.

-- +goose Up
set local role ward_owner;

create table app.legal_holds (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  patient_id uuid,
  reason text not null check (length(reason) between 1 and 500),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  released_at timestamptz,
  primary key (org_id, id),
  foreign key (org_id, patient_id) references app.patients (org_id, id)
);
create index legal_holds_active_idx on app.legal_holds (org_id, patient_id) where released_at is null;
alter table app.legal_holds enable row level security;
alter table app.legal_holds force row level security;
-- Admins see and place their org's holds; nobody deletes one; releasing
-- is an update of released_at by an admin.
create policy legal_holds_select on app.legal_holds for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin');
create policy legal_holds_insert on app.legal_holds for insert to ward_app
  with check (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
              and created_by = (select private.uid()));
create policy legal_holds_update on app.legal_holds for update to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and released_at is null)
  with check (org_id = (select private.get_my_org_id()) and released_at is not null);
grant select, insert on app.legal_holds to ward_app;
grant update (released_at) on app.legal_holds to ward_app;
grant select on app.legal_holds to ward_audit_cleanup, ward_definer;
create policy legal_holds_cleanup on app.legal_holds for select to ward_audit_cleanup using (true);
grant usage on schema app to ward_audit_cleanup;

-- How far each org's log is archived, recorded by the archiver after its
-- segments are written.
create table audit.archive_state (
  org_id uuid primary key,
  archived_size bigint not null check (archived_size >= 0),
  updated_at timestamptz not null default now()
);
alter table audit.archive_state enable row level security;
alter table audit.archive_state force row level security;
create policy archive_state_read on audit.archive_state for select to ward_app, ward_audit_reader, ward_audit_cleanup
  using (true);
grant select on audit.archive_state to ward_app, ward_audit_reader, ward_audit_cleanup;
grant select, insert, update on audit.archive_state to ward_definer;
grant select on audit.checkpoints to ward_audit_cleanup;
create policy checkpoints_cleanup on audit.checkpoints for select to ward_audit_cleanup using (true);

-- +goose StatementBegin
-- record_archived records that p_org's log is archived up to p_size. The
-- position only moves forward and never past the integrated log.
create function audit.record_archived(p_org uuid, p_size bigint) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  size bigint;
begin
  select h.tree_size into size from audit.heads h where h.org_id = p_org;
  if size is null or p_size is null or p_size < 0 or p_size > size then
    raise exception 'audit: archived size % is beyond the log (size %)', p_size, size using errcode = '22023';
  end if;
  insert into audit.archive_state as a (org_id, archived_size) values (p_org, p_size)
  on conflict (org_id) do update set archived_size = greatest(a.archived_size, excluded.archived_size),
    updated_at = now();
end $$;

-- retention_allows reports whether the cleanup role may remove event
-- p_seq of p_org about p_patient recorded at p_at.
create function audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamptz) returns boolean
language sql stable security definer set search_path = '' as $$
  select p_seq is not null
     and p_at < now() - interval '2555 days'
     and p_seq <= coalesce((select a.archived_size from audit.archive_state a where a.org_id = p_org), 0)
     and p_seq <= coalesce((select max(c.size) from audit.checkpoints c where c.org_id = p_org), 0)
     and not exists (select from app.legal_holds h
                      where h.org_id = p_org and h.released_at is null
                        and (h.patient_id is null or h.patient_id = p_patient))
$$;

create or replace function audit.reject_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and audit.retention_allows(old.org_id, old.seq, old.patient_id, old.at) then
    return old;
  end if;
  -- Every column but seq and chain_hash, compared one by one (cheaper than
  -- whole-row conversions on the integrator's path).
  if tg_op = 'UPDATE' and current_user = 'ward_definer'
     and old.seq is null and new.seq is not null and new.chain_hash is not null
     and (new.org_id, new.qid, new.at, new.action, new.outcome, new.actor_id, new.actor_kind, new.session_id,
          new.object_type, new.object_id, new.patient_id, new.result_ids, new.request_id, new.ip, new.user_agent,
          new.details, new.canonical, new.leaf_hash, new.v, new.credential_kind, new.credential_id, new.device,
          new.case_id, new.disclosure, new.break_glass)
         is not distinct from
         (old.org_id, old.qid, old.at, old.action, old.outcome, old.actor_id, old.actor_kind, old.session_id,
          old.object_type, old.object_id, old.patient_id, old.result_ids, old.request_id, old.ip, old.user_agent,
          old.details, old.canonical, old.leaf_hash, old.v, old.credential_kind, old.credential_id, old.device,
          old.case_id, old.disclosure, old.break_glass) then
    return new;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;
-- +goose StatementEnd

alter function audit.record_archived(uuid, bigint) owner to ward_definer;
alter function audit.retention_allows(uuid, bigint, uuid, timestamptz) owner to ward_definer;
revoke all on function audit.record_archived(uuid, bigint), audit.retention_allows(uuid, bigint, uuid, timestamptz)
  from public;
grant execute on function audit.record_archived(uuid, bigint) to ward_app, ward_ops, ward_audit_reader;
grant execute on function audit.retention_allows(uuid, bigint, uuid, timestamptz) to ward_audit_cleanup;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
