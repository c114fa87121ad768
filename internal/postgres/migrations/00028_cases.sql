-- Cases and documents (DESIGN §6). A case belongs to an org and optionally
-- to a patient; documents (requested or uploaded) belong to a case and have
-- encrypted versions in the blob store; comments hang off documents. Org
-- staff reach cases by role (admin and lead: every case of the org;
-- provider: cases of their care-team patients; patient: their own cases,
-- view and download only). Everyone else, and staff beyond that, reach a
-- case only through an app.case_members grant: a stakeholder kind (clinic,
-- employer, attorney, payer, or staff), permissions from {view, upload,
-- download, comment} and an access end date. External stakeholders are org
-- members with the role 'stakeholder', which reaches nothing but the cases
-- they are granted: no patient list, no member list.
--
-- private.my_case_ids(permission) turns the credential into the case ids it
-- may use for that permission. It reads the authorisation tables
-- (case_members, care_team, patient_links) and, for the role-derived grants,
-- the (org_id, id, patient_id) triple of app.cases, which is an
-- authorisation fact: a case's patient never changes (no UPDATE privilege on
-- the column). Expiry and revocation are read at every statement, so they
-- take effect on the next request.
--
-- Wrapped data keys are not readable by ward_app: app.open_document_version
-- checks the download permission, records the download (a disclosure when
-- the caller is an external stakeholder) in the same transaction and only
-- then returns the wrapped key.

-- +goose Up
set local role ward_owner;

alter table app.memberships drop constraint memberships_role_check;
alter table app.memberships add constraint memberships_role_check
  check (role in ('patient', 'provider', 'lead', 'admin', 'stakeholder'));

alter table app.instance_policy add column case_invite_ttl_days int not null default 7
  check (case_invite_ttl_days between 1 and 30);
grant update (case_invite_ttl_days) on app.instance_policy to ward_ops;

alter table app.orgs add column document_max_bytes bigint not null default 4294967296
  check (document_max_bytes between 1 and 68719476736);

alter table audit.actions no force row level security;
alter table audit.actions drop constraint actions_category_check;
alter table audit.actions add constraint actions_category_check
  check (category in ('auth', 'session', 'org', 'membership', 'patient', 'record', 'audit', 'access', 'case'));

create table app.cases (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  patient_id uuid,
  title_enc bytea not null,
  reference_enc bytea,
  reference_bidx bytea check (octet_length(reference_bidx) = 32),
  status text not null default 'open' check (status in ('open', 'closed')),
  opened_at timestamptz not null default now(),
  closed_at timestamptz,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, patient_id) references app.patients (org_id, id),
  foreign key (org_id, created_by) references app.memberships (org_id, user_id),
  check ((status = 'closed') = (closed_at is not null)),
  check ((reference_enc is null) = (reference_bidx is null))
);
create unique index cases_reference_idx on app.cases (org_id, reference_bidx) where reference_bidx is not null;
create index cases_patient_idx on app.cases (org_id, patient_id) where patient_id is not null;
create index cases_created_idx on app.cases (org_id, created_at desc);

create table app.case_members (
  org_id uuid not null,
  case_id uuid not null,
  user_id uuid not null,
  kind text not null check (kind in ('staff', 'clinic', 'employer', 'attorney', 'payer')),
  permissions text[] not null check (permissions <@ array['view', 'upload', 'download', 'comment']
                                      and 'view' = any (permissions)),
  access_expires_at timestamptz,
  added_by uuid not null,
  added_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  revoked_at timestamptz,
  expiry_recorded_at timestamptz,
  primary key (org_id, case_id, user_id),
  foreign key (org_id, case_id) references app.cases (org_id, id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id),
  check (kind = 'staff' or access_expires_at is not null)
);
create index case_members_user_idx on app.case_members (user_id, org_id);

create table app.case_invites (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  case_id uuid not null,
  email_bidx bytea not null check (octet_length(email_bidx) = 32),
  email_enc bytea not null,
  invitee_id uuid not null,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  kind text not null check (kind in ('clinic', 'employer', 'attorney', 'payer')),
  permissions text[] not null check (permissions <@ array['view', 'upload', 'download', 'comment']
                                      and 'view' = any (permissions)),
  access_expires_at timestamptz not null,
  expires_at timestamptz not null,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  accepted_at timestamptz,
  accepted_by uuid,
  revoked_at timestamptz,
  primary key (org_id, id),
  foreign key (org_id, case_id) references app.cases (org_id, id)
);
create index case_invites_case_idx on app.case_invites (org_id, case_id, created_at desc);

create table app.documents (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  case_id uuid not null,
  doc_type text not null check (doc_type ~ '^[a-z][a-z0-9_]{0,47}$'),
  description_enc bytea,
  requested_by uuid,
  requested_from uuid,
  due_at timestamptz,
  provided_at timestamptz,
  accepted_at timestamptz,
  accepted_by uuid,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  primary key (org_id, id),
  unique (org_id, case_id, id),
  foreign key (org_id, case_id) references app.cases (org_id, id),
  foreign key (org_id, requested_from) references app.memberships (org_id, user_id),
  check (accepted_at is null or provided_at is not null)
);
create index documents_case_idx on app.documents (org_id, case_id, created_at desc);
create index documents_due_idx on app.documents (due_at) where provided_at is null and deleted_at is null;

create table app.document_versions (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  case_id uuid not null,
  document_id uuid not null,
  version int not null check (version >= 1),
  storage_key text not null check (storage_key ~ '^orgs/[0-9a-f-]{36}/obj/[0-9a-f-]{36}$'),
  data_key bytea,
  size bigint not null check (size >= 0),
  sha256 bytea not null check (octet_length(sha256) = 32),
  content_type text not null check (length(content_type) between 1 and 127),
  filename_enc bytea not null,
  uploaded_by uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  unique (org_id, document_id, version),
  unique (storage_key),
  foreign key (org_id, case_id, document_id) references app.documents (org_id, case_id, id)
);
create index document_versions_case_idx on app.document_versions (org_id, case_id);

create table app.document_comments (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  case_id uuid not null,
  document_id uuid not null,
  body_enc bytea not null,
  author_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, case_id, document_id) references app.documents (org_id, case_id, id)
);
create index document_comments_doc_idx on app.document_comments (org_id, document_id, created_at);

-- One row per reminder mailed: the primary key makes each reminder once
-- across nodes (the job inserts before it mails, in the same transaction).
create table app.document_reminders (
  org_id uuid not null,
  document_id uuid not null,
  kind text not null check (kind in ('due_soon', 'overdue')),
  sent_at timestamptz not null default now(),
  primary key (org_id, document_id, kind),
  foreign key (org_id, document_id) references app.documents (org_id, id)
);

alter table app.legal_holds add column case_id uuid;
alter table app.legal_holds add foreign key (org_id, case_id) references app.cases (org_id, id);

grant select (org_id, id, patient_id) on app.cases to ward_rls;
grant select on app.case_members to ward_rls;
grant select on app.cases, app.documents, app.legal_holds, app.instance_policy to ward_definer;
grant select, insert, update on app.case_members, app.case_invites, app.document_reminders to ward_definer;
grant select, update on app.document_versions to ward_definer;
grant update (deleted_at) on app.documents to ward_definer;
grant select, insert on app.sessions to ward_definer;
grant select on app.care_team to ward_definer;

-- A document's status, derived at read time, never stored.
-- +goose StatementBegin
create function app.document_status(p_provided timestamptz, p_due timestamptz) returns text
language sql stable set search_path = '' as $$
  select case when p_provided is not null then 'complete'
              when p_due is not null and p_due < now() then 'overdue'
              else 'pending' end
$$;
-- +goose StatementEnd
grant execute on function app.document_status(timestamptz, timestamptz) to ward_app, ward_ops;

-- +goose StatementBegin
-- my_case_ids returns the cases the credential may use for p_perm: explicit
-- live grants (not revoked, not past their end date), the cases of a
-- provider's (or lead's) care-team patients, and, for view and download
-- only, a patient's own cases. API keys reach no case. Admins and leads
-- reach every case of their org through am_i_lead_in_org in the policies.
create function private.my_case_ids(p_perm text) returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  if p_perm is null or p_perm not in ('view', 'upload', 'download', 'comment') then
    return '{}';
  end if;
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' then
    return '{}';
  end if;
  return coalesce((select array_agg(distinct x.id) from (
      select cm.case_id as id from app.case_members cm
       where cm.org_id = me.org_id and cm.user_id = me.user_id and cm.revoked_at is null
         and (cm.access_expires_at is null or cm.access_expires_at > now())
         and p_perm = any (cm.permissions)
      union all
      select c.id from app.cases c
        join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
       where me.role in ('provider', 'lead') and c.org_id = me.org_id and ct.provider_id = me.user_id
      union all
      select c.id from app.cases c
        join app.patient_links pl on pl.org_id = c.org_id and pl.patient_id = c.patient_id
       where me.role = 'patient' and p_perm in ('view', 'download')
         and c.org_id = me.org_id and pl.user_id = me.user_id) x), '{}');
end $$;
-- +goose StatementEnd
alter function private.my_case_ids(text) owner to ward_rls;
revoke all on function private.my_case_ids(text) from public;
grant execute on function private.my_case_ids(text) to ward_app, ward_definer;

-- +goose StatementBegin
-- my_managed_case_ids: the cases whose membership the credential manages
-- (a provider's care-team cases; admins and leads manage every case of the
-- org through am_i_lead_in_org in the policies). Stakeholders manage none.
create function private.my_managed_case_ids() returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' or me.role not in ('provider', 'lead') then
    return '{}';
  end if;
  return coalesce((select array_agg(c.id) from app.cases c
                     join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                    where c.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;
-- +goose StatementEnd
alter function private.my_managed_case_ids() owner to ward_rls;
revoke all on function private.my_managed_case_ids() from public;
grant execute on function private.my_managed_case_ids() to ward_app;

-- +goose StatementBegin
-- my_org_member_ids as in 00026, with stakeholders seeing no one.
create or replace function private.my_org_member_ids() returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role in ('patient', 'stakeholder') then
    return '{}';
  end if;
  if me.kind = 'api_key' then
    if not private.key_holds('members') then
      return '{}';
    end if;
    return coalesce((select array_agg(m.user_id) from app.memberships m
                      where m.org_id = me.org_id and m.revoked_at is null), '{}');
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null
                      and (me.role in ('lead', 'admin') or m.role not in ('patient', 'stakeholder')
                           or m.user_id in (select pl.user_id from app.patient_links pl
                                              join app.care_team ct
                                                on ct.org_id = pl.org_id and ct.patient_id = pl.patient_id
                                             where pl.org_id = me.org_id and ct.provider_id = me.user_id))), '{}');
end $$;
-- +goose StatementEnd

-- Policies. Every helper is wrapped in (select …) so it runs once per
-- statement; admins and leads reach every case of their org.
alter table app.cases enable row level security;
alter table app.cases force row level security;
create policy cases_select on app.cases for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or id = any ((select private.my_case_ids('view'))::uuid[])));
create policy cases_insert on app.cases for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and created_by = (select private.uid())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or ((select private.get_my_role()) = 'provider'
           and patient_id = any ((select private.my_patient_ids())::uuid[]))));
create policy cases_update on app.cases for update to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or id = any ((select private.my_managed_case_ids())::uuid[])))
  with check (org_id = (select private.get_my_org_id()));
grant select, insert on app.cases to ward_app;
grant update (title_enc, reference_enc, reference_bidx, status, closed_at, updated_at) on app.cases to ward_app;

alter table app.case_members enable row level security;
alter table app.case_members force row level security;
create policy case_members_select on app.case_members for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and (user_id = (select private.uid())
       or (select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])));
create policy case_members_insert on app.case_members for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and added_by = (select private.uid())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])));
create policy case_members_update on app.case_members for update to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])))
  with check (org_id = (select private.get_my_org_id()));
grant select, insert on app.case_members to ward_app;
grant update (kind, permissions, access_expires_at, revoked_at, updated_at) on app.case_members to ward_app;

alter table app.case_invites enable row level security;
alter table app.case_invites force row level security;
create policy case_invites_select on app.case_invites for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])));
create policy case_invites_insert on app.case_invites for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and created_by = (select private.uid())
  and accepted_at is null and revoked_at is null
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])));
create policy case_invites_update on app.case_invites for update to ward_app using (
  org_id = (select private.get_my_org_id()) and accepted_at is null and revoked_at is null
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_managed_case_ids())::uuid[])))
  with check (org_id = (select private.get_my_org_id()) and revoked_at is not null);
grant select (org_id, id, case_id, email_enc, invitee_id, kind, permissions, access_expires_at, expires_at, created_by,
              created_at, accepted_at, accepted_by, revoked_at) on app.case_invites to ward_app;
grant insert on app.case_invites to ward_app;
grant update (revoked_at) on app.case_invites to ward_app;

alter table app.documents enable row level security;
alter table app.documents force row level security;
create policy documents_select on app.documents for select to ward_app using (
  org_id = (select private.get_my_org_id()) and deleted_at is null
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('view'))::uuid[])));
create policy documents_insert on app.documents for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and created_by = (select private.uid()) and deleted_at is null
  and (requested_by is null or requested_by = (select private.uid()))
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('upload'))::uuid[])));
create policy documents_update on app.documents for update to ward_app using (
  org_id = (select private.get_my_org_id()) and deleted_at is null
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('upload'))::uuid[])))
  with check (org_id = (select private.get_my_org_id()) and deleted_at is null);
grant select, insert on app.documents to ward_app;
grant update (provided_at, accepted_at, accepted_by) on app.documents to ward_app;

alter table app.document_versions enable row level security;
alter table app.document_versions force row level security;
create policy document_versions_select on app.document_versions for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('view'))::uuid[])));
create policy document_versions_insert on app.document_versions for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and uploaded_by = (select private.uid())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('upload'))::uuid[])));
-- No column data_key for ward_app: the wrapped key comes only from open_document_version.
grant select (org_id, id, case_id, document_id, version, storage_key, size, sha256, content_type, filename_enc,
              uploaded_by, created_at) on app.document_versions to ward_app;
grant insert on app.document_versions to ward_app;

alter table app.document_comments enable row level security;
alter table app.document_comments force row level security;
create policy document_comments_select on app.document_comments for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('view'))::uuid[])));
create policy document_comments_insert on app.document_comments for insert to ward_app with check (
  org_id = (select private.get_my_org_id()) and author_id = (select private.uid())
  and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
       or case_id = any ((select private.my_case_ids('comment'))::uuid[])));
grant select, insert on app.document_comments to ward_app;

alter table app.document_reminders enable row level security;
alter table app.document_reminders force row level security;

-- +goose StatementBegin
-- guard_document_update: a document is provided once, at the moment of
-- the statement (no backdating by whoever holds upload), and accepted (or
-- un-accepted) only by those who manage its case, in their own name. The
-- policy admits upload holders to the row; this decides the columns.
create function private.guard_document_update() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.provided_at is distinct from old.provided_at
     and (old.provided_at is not null or new.provided_at is distinct from now()) then
    raise exception 'a document is provided once, now' using errcode = 'insufficient_privilege';
  end if;
  if (new.accepted_at, new.accepted_by) is distinct from (old.accepted_at, old.accepted_by)
     and (not (private.am_i_lead_in_org(new.org_id) or new.case_id = any (private.my_managed_case_ids()))
          or not ((new.accepted_at is null and new.accepted_by is null)
                  or (new.accepted_at = now() and new.accepted_by = private.uid()))) then
    raise exception 'only those who manage a case accept its documents' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.guard_document_update() owner to ward_rls;
revoke all on function private.guard_document_update() from public;
create trigger documents_guard before update on app.documents
  for each row execute function private.guard_document_update();

-- +goose StatementBegin
-- guard_version_insert: once a document is accepted, only those who manage
-- its case add versions to it; otherwise whoever uploaded it could replace
-- the accepted file with another that still shows as accepted.
create function private.guard_version_insert() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if exists (select from app.documents d
              where d.org_id = new.org_id and d.id = new.document_id and d.accepted_at is not null)
     and not (private.am_i_lead_in_org(new.org_id) or new.case_id = any (private.my_managed_case_ids())) then
    raise exception 'an accepted document takes new versions only from those who manage its case'
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.guard_version_insert() owner to ward_rls;
revoke all on function private.guard_version_insert() from public;
grant select (org_id, id, accepted_at) on app.documents to ward_rls;
create trigger document_versions_accepted before insert on app.document_versions
  for each row execute function private.guard_version_insert();

-- +goose StatementBegin
-- check_case_member_kind: a staff grant (which needs no end date) goes only
-- to a live provider, lead or admin of the org, never to a stakeholder or
-- a patient, whoever writes it.
create function private.check_case_member_kind() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.kind = 'staff' and not exists (select from app.memberships m
       where m.org_id = new.org_id and m.user_id = new.user_id and m.revoked_at is null
         and m.role in ('provider', 'lead', 'admin')) then
    raise exception 'a staff grant goes to a provider, lead or admin' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.check_case_member_kind() owner to ward_rls;
revoke all on function private.check_case_member_kind() from public;
create trigger case_members_kind before insert or update of kind on app.case_members
  for each row execute function private.check_case_member_kind();

-- +goose StatementBegin
-- case_member_expiry_rearm: a grant given a new end date (or restored
-- after revocation) expires anew, so the expiry job records it again.
create function private.case_member_expiry_rearm() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.access_expires_at is distinct from old.access_expires_at
     or (old.revoked_at is not null and new.revoked_at is null) then
    new.expiry_recorded_at := null;
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.case_member_expiry_rearm() owner to ward_rls;
revoke all on function private.case_member_expiry_rearm() from public;
create trigger case_members_expiry_rearm before update on app.case_members
  for each row execute function private.case_member_expiry_rearm();

-- The case an event is about, recorded on the event (audit.events.case_id)
-- and checked to exist in the event's org.
drop function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb);
drop function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb);

-- +goose StatementBegin
create function audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text default null,
  p_object_id uuid default null, p_patient uuid default null, p_results uuid[] default '{}',
  p_request text default null, p_ip text default null, p_ua text default null, p_details jsonb default '{}',
  p_actor uuid default null, p_require_credential boolean default false, p_disclosure jsonb default null,
  p_case uuid default null) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  a audit.actions%rowtype;
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  kase uuid := p_case;
  ua text := audit.clean_text(p_ua, 256);
  req text := audit.clean_text(p_request, 64);
  ip text := audit.clean_text(p_ip, 64);
  at timestamptz := date_trunc('microseconds', clock_timestamp());
  canon bytea;
  id bigint;
begin
  if p_org is null or p_action is null or p_outcome is null
     or p_outcome not in ('success', 'denied', 'failure')
     or (p_results is not null and (array_position(p_results, null) is not null or array_ndims(p_results) > 1))
     or (p_details is not null and jsonb_typeof(p_details) <> 'object') then
    raise exception 'audit: invalid event' using errcode = '22023';
  end if;
  select * into a from audit.actions x where x.name = p_action;
  if not found then
    raise exception 'audit: unknown action %', left(p_action, 64) using errcode = '22023';
  end if;
  if p_disclosure is not null and (jsonb_typeof(p_disclosure) <> 'object'
       or (select array_agg(k order by k) from jsonb_object_keys(p_disclosure) k) <> array['purpose', 'recipient']
       or jsonb_typeof(p_disclosure -> 'purpose') <> 'string' or jsonb_typeof(p_disclosure -> 'recipient') <> 'string'
       or length(p_disclosure ->> 'purpose') not between 1 and 200
       or length(p_disclosure ->> 'recipient') not between 1 and 200) then
    raise exception 'audit: a disclosure is {"recipient", "purpose"}, 1..200 characters each' using errcode = '22023';
  end if;
  if p_outcome = 'success' and (
       (a.disclosure and p_disclosure is null)
       or ('patient' = any (a.requires) and p_patient is null)
       or ('object' = any (a.requires) and (p_object_type is null or p_object_id is null))) then
    raise exception 'audit: action % needs %', p_action, array_to_string(a.requires, ', ') using errcode = '22023';
  end if;
  if patient is not null
     and not exists (select from app.patients pt where pt.org_id = p_org and pt.id = patient) then
    if p_outcome = 'success' then
      raise exception 'audit: no such patient in this org' using errcode = '22023';
    end if;
    patient := null; -- a probe of an id that names nobody here
  end if;
  if kase is not null
     and not exists (select from app.cases c where c.org_id = p_org and c.id = kase) then
    if p_outcome = 'success' then
      raise exception 'audit: no such case in this org' using errcode = '22023';
    end if;
    kase := null;
  end if;

  select * into me from private.me();
  if p_require_credential and me.user_id is null then
    raise exception 'audit: a live credential is required' using errcode = '42501';
  end if;
  if me.user_id is not null then
    if me.org_id <> p_org then
      raise exception 'audit: credential does not belong to this org' using errcode = '42501';
    end if;
    actor := me.user_id; kind := 'user'; sess := me.session_id;
  elsif p_actor is not null then
    actor := p_actor; kind := 'system';
  else
    kind := 'anonymous';
  end if;

  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, kase, p_disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  insert into audit.events (org_id, seq, at, action, outcome, actor_id, actor_kind, session_id,
    object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
    canonical, leaf_hash, chain_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
  values (p_org, null, at, p_action, p_outcome, actor, kind, sess,
    p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
    coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), null, 2, me.kind, me.credential_id,
    me.device, kase, p_disclosure, coalesce(me.break_glass, false))
  returning qid into id;
  return id;
end $$;
-- +goose StatementEnd
alter function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid)
  owner to ward_definer;
revoke all on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid)
  from public;
grant execute on function audit.append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid)
  to ward_ops;

-- +goose StatementBegin
create function audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text default null,
  p_object_id uuid default null, p_patient uuid default null, p_results uuid[] default '{}',
  p_request text default null, p_ip text default null, p_ua text default null, p_details jsonb default '{}',
  p_disclosure jsonb default null, p_case uuid default null) returns bigint
language plpgsql security definer set search_path = '' as $$
begin
  if p_outcome = 'success' and exists (select from audit.actions a where a.name = p_action and a.reserved) then
    raise exception 'audit: % is recorded only by the procedure that does it', p_action using errcode = '42501';
  end if;
  return audit.append_as(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                         p_request, p_ip, p_ua, p_details, null, true, p_disclosure, p_case);
end $$;
-- +goose StatementEnd
alter function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb, uuid)
  owner to ward_definer;
revoke all on function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb, uuid)
  from public;
grant execute on function audit.append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb, uuid)
  to ward_app, ward_ops;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('case.create',          'case', true,  false, false, '{object}'),
  ('case.view',            'case', true,  false, false, '{object}'),
  ('case.list',            'case', true,  false, false, '{}'),
  ('case.update',          'case', true,  false, false, '{object}'),
  ('case.member.set',      'case', false, false, false, '{object}'),
  ('case.member.list',     'case', false, false, false, '{}'),
  ('case.member.expire',   'case', false, false, true,  '{object}'),
  ('case.invite.create',   'case', false, false, false, '{object}'),
  ('case.invite.list',     'case', false, false, false, '{}'),
  ('case.invite.revoke',   'case', false, false, false, '{object}'),
  ('case.invite.accept',   'case', false, false, true,  '{object}'),
  ('document.request',     'case', true,  false, false, '{object}'),
  ('document.list',        'case', true,  false, false, '{}'),
  ('document.view',        'case', true,  false, false, '{object}'),
  ('document.upload',      'case', true,  false, false, '{object}'),
  ('document.download',    'case', true,  false, true,  '{object}'),
  ('document.accept',      'case', false, false, false, '{object}'),
  ('document.delete',      'case', true,  false, true,  '{object}'),
  ('document.comment',     'case', true,  false, false, '{object}'),
  ('document.comment.list','case', true,  false, false, '{object}'),
  ('document.remind',      'case', false, false, true,  '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- open_document_version hands out the wrapped data key of one version
-- after checking, in the database, that the credential may download it
-- (admin or lead of the org, or a live download grant on the case), and
-- records the download first. A download by an external stakeholder is a
-- disclosure: the recipient is the stakeholder kind, the purpose the
-- caller's stated purpose (or "case document exchange").
create function app.open_document_version(p_version uuid, p_purpose text default null,
  p_request text default null, p_ip text default null, p_ua text default null,
  out storage_key text, out data_key bytea, out size bigint, out document_id uuid, out case_id uuid,
  out version int)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
  v app.document_versions%rowtype;
  c app.cases%rowtype;
  d app.documents%rowtype;
  stakeholder text;
  disclosure jsonb;
begin
  select * into me from private.me();
  if me.user_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into v from app.document_versions x where x.org_id = me.org_id and x.id = p_version;
  if found then
    select * into d from app.documents x where x.org_id = v.org_id and x.id = v.document_id and x.deleted_at is null;
    select * into c from app.cases x where x.org_id = v.org_id and x.id = v.case_id;
  end if;
  if v.id is null or d.id is null or v.data_key is null
     or not (private.am_i_lead_in_org(me.org_id) or v.case_id = any (private.my_case_ids('download'))) then
    -- The raise rolls the transaction back: the caller records the refusal
    -- in its own (internal/cases).
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if me.role = 'stakeholder' then
    select cm.kind into stakeholder from app.case_members cm
     where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id;
    disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                     'purpose', coalesce(nullif(audit.clean_text(p_purpose, 200), ''),
                                                         'case document exchange'));
  end if;
  perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
    p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('document', v.document_id, 'version', v.version),
    p_disclosure => disclosure, p_case => v.case_id);
  storage_key := v.storage_key; data_key := v.data_key; size := v.size;
  document_id := v.document_id; case_id := v.case_id; version := v.version;
end $$;
-- +goose StatementEnd
alter function app.open_document_version(uuid, text, text, text, text) owner to ward_definer;
revoke all on function app.open_document_version(uuid, text, text, text, text) from public;
grant execute on function app.open_document_version(uuid, text, text, text, text) to ward_app;

-- +goose StatementBegin
-- delete_document (admins and leads) removes a document: it disappears from
-- every read, its versions' data keys are destroyed (crypto-shredding: the
-- objects can no longer be decrypted) and their storage keys are returned
-- for the caller to remove (the sweeper removes any it misses). Refused
-- while a legal hold covers the org, the case's patient or the case.
create function app.delete_document(p_document uuid, p_request text default null)
returns setof text
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  d app.documents%rowtype;
  c app.cases%rowtype;
begin
  select * into me from private.me();
  if me.user_id is null or not private.am_i_lead_in_org(me.org_id) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into d from app.documents x where x.org_id = me.org_id and x.id = p_document and x.deleted_at is null
    for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select * into c from app.cases x where x.org_id = d.org_id and x.id = d.case_id;
  if exists (select from app.legal_holds h where h.org_id = d.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = c.patient_id
                    or h.case_id = c.id)) then
    raise exception 'legal hold' using errcode = '55000'; -- the caller records the refusal
  end if;
  perform audit.append_as(me.org_id, 'document.delete', 'success', 'document', d.id,
    p_patient => c.patient_id, p_request => p_request, p_case => d.case_id);
  update app.documents x set deleted_at = now() where x.org_id = d.org_id and x.id = d.id;
  return query update app.document_versions x set data_key = null
                where x.org_id = d.org_id and x.document_id = d.id returning x.storage_key;
end $$;
-- +goose StatementEnd
alter function app.delete_document(uuid, text) owner to ward_definer;
revoke all on function app.delete_document(uuid, text) from public;
grant execute on function app.delete_document(uuid, text) to ward_app;

-- +goose StatementBegin
-- accept_case_invite redeems an invitation token once: within the invite's
-- lifetime, not revoked, not used. It creates the user (with the stored
-- address) if new, a stakeholder membership if the user is not yet a
-- member of the org, the case grant with the invite's kind, permissions
-- and access end date, and a first-factor session (AAL1, amr email: the
-- token proved control of the mailbox), all audited.
create function app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet default null, p_ua text default null, p_request text default null,
  out status text, out session_id uuid, out user_id uuid, out org_id uuid, out case_id uuid,
  out absolute_expires_at timestamptz, out idle_timeout_min int)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  mrole text;
  mrevoked boolean;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'accept_case_invite: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case when i.accepted_at is not null then 'used'
                 when i.revoked_at is not null then 'revoked'
                 when i.expires_at <= now() or i.access_expires_at <= now() then 'expired'
                 -- An invitation is worth what its author's authority is
                 -- worth now: a member who left the org (or the case's care
                 -- team) cannot come back through invitations they sent,
                 -- say to a private address, before they left.
                 when not exists (select from app.memberships m
                                   where m.org_id = i.org_id and m.user_id = i.created_by and m.revoked_at is null
                                     and (m.role in ('admin', 'lead')
                                          or (m.role = 'provider'
                                              and exists (select from app.cases c
                                                            join app.care_team ct
                                                              on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                                           where c.org_id = i.org_id and c.id = i.case_id
                                                             and ct.provider_id = i.created_by)))) then 'revoked'
                 else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  select u.id into uid from app.users u where u.email_bidx = i.email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (i.invitee_id, i.email_bidx, i.email_enc);
    uid := i.invitee_id;
  end if;
  -- A membership the org revoked stays revoked unless it was a
  -- stakeholder's: an invitation (which a provider may send) does not
  -- undo an admin's or the directory's revocation of staff or a patient.
  select m.role, m.revoked_at is not null into mrole, mrevoked from app.memberships m
   where m.org_id = i.org_id and m.user_id = uid;
  if mrevoked and mrole <> 'stakeholder' then
    status := 'member_revoked';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked then
    mrole := null;
  end if;
  if mrole is null then
    insert into app.memberships (org_id, user_id, role) values (i.org_id, uid, 'stakeholder')
    on conflict (org_id, user_id) do update set role = 'stakeholder', revoked_at = null;
  end if;
  insert into app.case_members as cm (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by)
  values (i.org_id, i.case_id, uid, i.kind, i.permissions, i.access_expires_at, i.created_by)
  on conflict (org_id, case_id, user_id) do update
    set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
        revoked_at = null, expiry_recorded_at = null, updated_at = now()
    -- A live staff grant stays as it is: an invitation never narrows or
    -- time-limits a staff member's access to the case.
    where cm.kind <> 'staff' or cm.revoked_at is not null;
  update app.case_invites x set accepted_at = now(), accepted_by = uid where x.org_id = i.org_id and x.id = i.id;

  select * into o from app.orgs x where x.id = i.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := least(now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min)),
                               greatest(i.access_expires_at, now() + interval '5 minutes'));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (i.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now())
  returning id into session_id;
  user_id := uid; org_id := i.org_id; case_id := i.case_id;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
    p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                    'access_expires_at', i.access_expires_at, 'member_role', coalesce(mrole, 'stakeholder')));
  perform audit.append_as(i.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid,
    p_details => jsonb_build_object('method', 'case_invite', 'aal', 1));
end $$;
-- +goose StatementEnd
alter function app.accept_case_invite(bytea, bytea, inet, text, text) owner to ward_definer;
revoke all on function app.accept_case_invite(bytea, bytea, inet, text, text) from public;
grant execute on function app.accept_case_invite(bytea, bytea, inet, text, text) to ward_app;

-- +goose StatementBegin
-- due_reminders (the reminder job, ward_ops) claims up to p_max reminders
-- that are due: 'due_soon' for a pending request due within a day,
-- 'overdue' for one past its due date. Each is claimed once across nodes
-- (the reminder row's primary key), audited, and returned with the
-- requested-from member's stored address for the mail; the mail carries
-- no PHI.
create function app.due_reminders(p_max int default 100)
returns table (org_id uuid, document_id uuid, case_id uuid, kind text, user_id uuid, email_enc bytea, due_at timestamptz)
language plpgsql security definer set search_path = '' as $$
#variable_conflict use_column
declare
  r record;
begin
  for r in
    select d.org_id, d.id, d.case_id, d.due_at, d.requested_from,
           case when d.due_at < now() then 'overdue' else 'due_soon' end as kind
      from app.documents d
     where d.provided_at is null and d.deleted_at is null and d.due_at is not null
       and d.due_at < now() + interval '1 day' and d.requested_from is not null
       -- only to someone who still reaches the case: a live member who is
       -- admin or lead, a provider of the case's patient, or a live grant.
       and exists (select from app.memberships m
                    where m.org_id = d.org_id and m.user_id = d.requested_from and m.revoked_at is null
                      and (m.role in ('admin', 'lead')
                           or exists (select from app.case_members cm
                                       where cm.org_id = d.org_id and cm.case_id = d.case_id
                                         and cm.user_id = d.requested_from and cm.revoked_at is null
                                         and (cm.access_expires_at is null or cm.access_expires_at > now()))
                           or (m.role = 'provider'
                               and exists (select from app.cases c
                                             join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                            where c.org_id = d.org_id and c.id = d.case_id
                                              and ct.provider_id = d.requested_from))))
       and not exists (select from app.document_reminders x where x.org_id = d.org_id and x.document_id = d.id
                         and x.kind = case when d.due_at < now() then 'overdue' else 'due_soon' end)
     order by d.due_at
     limit least(greatest(coalesce(p_max, 100), 1), 1000)
     for update of d skip locked
  loop
    insert into app.document_reminders (org_id, document_id, kind) values (r.org_id, r.id, r.kind)
    on conflict do nothing;
    if found then
      perform audit.append_as(r.org_id, 'document.remind', 'success', 'document', r.id,
        p_details => jsonb_build_object('kind', r.kind), p_actor => r.requested_from, p_case => r.case_id);
      org_id := r.org_id; document_id := r.id; case_id := r.case_id; kind := r.kind; due_at := r.due_at;
      user_id := r.requested_from;
      select u.email_enc into email_enc from app.users u where u.id = r.requested_from;
      return next;
    end if;
  end loop;
end $$;
-- +goose StatementEnd
alter function app.due_reminders(int) owner to ward_definer;
revoke all on function app.due_reminders(int) from public;
grant execute on function app.due_reminders(int) to ward_ops;

-- +goose StatementBegin
-- record_access_expiries (ward_ops) writes one audit event per case grant
-- whose access end date has passed, once.
create function app.record_access_expiries(p_max int default 500) returns int
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  n int := 0;
begin
  for r in
    select cm.org_id, cm.case_id, cm.user_id from app.case_members cm
     where cm.access_expires_at <= now() and cm.expiry_recorded_at is null and cm.revoked_at is null
     limit least(greatest(coalesce(p_max, 500), 1), 5000)
     for update skip locked
  loop
    update app.case_members x set expiry_recorded_at = now()
     where x.org_id = r.org_id and x.case_id = r.case_id and x.user_id = r.user_id;
    perform audit.append_as(r.org_id, 'case.member.expire', 'success', 'user', r.user_id,
      p_actor => r.user_id, p_case => r.case_id);
    n := n + 1;
  end loop;
  return n;
end $$;
-- +goose StatementEnd
alter function app.record_access_expiries(int) owner to ward_definer;
revoke all on function app.record_access_expiries(int) from public;
grant execute on function app.record_access_expiries(int) to ward_ops;

-- +goose StatementBegin
-- live_storage_keys (ward_ops, for the sweeper) says which of the given
-- storage keys belong to a committed version whose data key still exists.
create function app.live_storage_keys(p_keys text[]) returns setof text
language sql stable security definer set search_path = '' as $$
  select v.storage_key from app.document_versions v
   where v.storage_key = any (p_keys) and v.data_key is not null
$$;
-- +goose StatementEnd
alter function app.live_storage_keys(text[]) owner to ward_definer;
revoke all on function app.live_storage_keys(text[]) from public;
grant execute on function app.live_storage_keys(text[]) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
