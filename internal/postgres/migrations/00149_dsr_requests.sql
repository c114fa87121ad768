-- Data-subject requests (DESIGN §8): the queue of HIPAA §164.524 access,
-- §164.526 amendment and §164.528 accounting requests and CCPA/CPRA know,
-- delete, correct and limit requests, each with the deadline the law sets.
--
-- A request names its subject by id only: a patient of the org (required
-- for the HIPAA kinds) or a member of the org (a CCPA request about a
-- stakeholder contact or a staff member's own data). No free text is
-- stored: the reason for an extension is a code, so nothing here can hold
-- PHI in the clear.
--
-- The database keeps the clock, not the caller: on insert the trigger sets
-- received_at to now and due_at to now plus the kind's period (access 30
-- days, amendment and accounting 60, CCPA know, delete and correct 45,
-- limit 15), whatever the statement said. One extension is allowed per
-- request, only while it is open and not yet past due (the law asks for the
-- written reasons within the first period; the statement's time counts,
-- not its transaction's), and moves due_at by the kind's
-- extension (30 days for the HIPAA kinds, 45 for CCPA know, delete and
-- correct; none for limit). Days are added in UTC, whatever time zone
-- the session set. Closing sets status (fulfilled, denied or
-- withdrawn), closed_at and closed_by; a closed request never changes
-- again (the trigger refuses it for every role while triggers fire), and
-- no role may delete one. ward_app may name only extension_reason and
-- status in an UPDATE; the trigger sets the rest.
--
-- Who: an admin of the org by session, or an admin's API key holding the
-- dsr scope, files requests for any subject of the org, sees them all and
-- extends and closes them. A patient files and sees requests about their
-- own record; any member files and sees CCPA requests about themself (a
-- member of the org: the subject is a membership). A filer who is neither
-- sees their request only while an admin. An API key acts only through the
-- dsr scope, never as the admin who made it. Every change is audited by the server in
-- the same transaction (dsr.open, dsr.extend, dsr.close).

-- +goose Up
set local role ward_owner;

create table app.dsr_requests (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  kind text not null check (kind in ('access', 'amendment', 'accounting',
                                     'ccpa_know', 'ccpa_delete', 'ccpa_correct', 'ccpa_limit')),
  patient_id uuid,
  subject_user_id uuid,
  requested_by uuid not null references app.users (id),
  received_at timestamptz not null default now(),
  due_at timestamptz not null,
  extended_at timestamptz,
  extended_by uuid references app.users (id),
  extension_reason text check (extension_reason in ('volume', 'complexity', 'records_elsewhere',
                                                    'identity_verification', 'other')),
  status text not null default 'open' check (status in ('open', 'fulfilled', 'denied', 'withdrawn')),
  closed_at timestamptz,
  closed_by uuid references app.users (id),
  primary key (org_id, id),
  foreign key (org_id, patient_id) references app.patients (org_id, id),
  foreign key (org_id, subject_user_id) references app.memberships (org_id, user_id),
  check (num_nonnulls(patient_id, subject_user_id) = 1),
  check (kind like 'ccpa\_%' or patient_id is not null),
  check ((extended_at is null) = (extension_reason is null) and (extended_at is null) = (extended_by is null)),
  check ((status = 'open') = (closed_at is null) and (closed_at is null) = (closed_by is null))
);
create index dsr_requests_open_idx on app.dsr_requests (org_id, due_at) where status = 'open';
create index dsr_requests_patient_idx on app.dsr_requests (org_id, patient_id) where patient_id is not null;
alter table app.dsr_requests enable row level security;
alter table app.dsr_requests force row level security;
grant select, insert, update (extension_reason, status) on app.dsr_requests to ward_app;

-- The periods, in days: the first answer, and the one extension.
-- +goose StatementBegin
create function private.dsr_period(p_kind text, p_extension boolean) returns interval
language sql immutable set search_path = '' as $$
  select make_interval(days => case
    when not p_extension then case p_kind when 'access' then 30 when 'amendment' then 60 when 'accounting' then 60
                                          when 'ccpa_limit' then 15 else 45 end
    else case p_kind when 'access' then 30 when 'amendment' then 30 when 'accounting' then 30
                     when 'ccpa_limit' then 0 else 45 end
  end)
$$;
-- +goose StatementEnd
revoke all on function private.dsr_period(text, boolean) from public;
grant execute on function private.dsr_period(text, boolean) to ward_app;

-- +goose StatementBegin
create function private.dsr_guard() returns trigger
language plpgsql set search_path = '' set timezone = 'UTC' as $$
begin
  if tg_op = 'INSERT' then
    new.received_at := now();
    new.due_at := now() + private.dsr_period(new.kind, false);
    new.status := 'open';
    new.extended_at := null; new.extended_by := null; new.extension_reason := null;
    new.closed_at := null; new.closed_by := null;
    return new;
  end if;
  if old.status <> 'open' then
    raise exception 'this request is closed' using errcode = '55000';
  end if;
  if (new.org_id, new.id, new.kind, new.patient_id, new.subject_user_id, new.requested_by, new.received_at)
     is distinct from (old.org_id, old.id, old.kind, old.patient_id, old.subject_user_id, old.requested_by, old.received_at) then
    raise exception 'a request''s kind, subject, requester and receipt never change' using errcode = '42501';
  end if;
  if new.extension_reason is distinct from old.extension_reason then
    if old.extension_reason is not null or new.extension_reason is null then
      raise exception 'a request is extended once' using errcode = '55000';
    end if;
    if private.dsr_period(old.kind, true) = interval '0' then
      raise exception 'a request of this kind cannot be extended' using errcode = '55000';
    end if;
    if statement_timestamp() > old.due_at then
      raise exception 'the request is past due: an extension is given before the first period ends' using errcode = '55000';
    end if;
    new.extended_at := now();
    new.extended_by := private.uid();
    new.due_at := old.due_at + private.dsr_period(old.kind, true);
  else
    new.extended_at := old.extended_at; new.extended_by := old.extended_by; new.due_at := old.due_at;
  end if;
  if new.status <> 'open' then
    new.closed_at := now();
    new.closed_by := private.uid();
  else
    new.closed_at := null; new.closed_by := null;
  end if;
  return new;
end $$;
-- +goose StatementEnd
revoke all on function private.dsr_guard() from public;

create trigger dsr_guard before insert or update on app.dsr_requests
  for each row execute function private.dsr_guard();

-- An admin by session, or an admin's key with the dsr scope.
create policy dsr_requests_select on app.dsr_requests for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and (((select private.get_my_role()) = 'admin'
        and (not (select private.is_key()) or (select private.key_holds('dsr'))))
       or (not (select private.is_key())
           and (subject_user_id = (select private.uid())
                or ((select private.get_my_role()) = 'patient' and patient_id = any ((select private.my_patient_ids())::uuid[]))))));

create policy dsr_requests_insert on app.dsr_requests for insert to ward_app with check (
  org_id = (select private.get_my_org_id())
  and requested_by = (select private.uid())
  and (((select private.get_my_role()) = 'admin'
        and (not (select private.is_key()) or (select private.key_holds('dsr'))))
       or (subject_user_id = (select private.uid()) and not (select private.is_key()))
       or ((select private.get_my_role()) = 'patient' and patient_id = any ((select private.my_patient_ids())::uuid[]))));

create policy dsr_requests_update on app.dsr_requests for update to ward_app using (
  org_id = (select private.get_my_org_id()) and status = 'open'
  and (select private.get_my_role()) = 'admin'
  and (not (select private.is_key()) or (select private.key_holds('dsr'))))
  with check (org_id = (select private.get_my_org_id()));

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('dsr.open', 'patient', false, false, false, '{object}'),
  ('dsr.list', 'patient', false, false, false, '{}'),
  ('dsr.read', 'patient', false, false, false, '{object}'),
  ('dsr.extend', 'patient', false, false, false, '{object}'),
  ('dsr.close', 'patient', false, false, false, '{object}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
set local role ward_owner;
drop table app.dsr_requests;
drop function private.dsr_guard();
drop function private.dsr_period(text, boolean);
alter table audit.actions no force row level security;
delete from audit.actions where name like 'dsr.%';
alter table audit.actions force row level security;
reset role;
