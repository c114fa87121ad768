-- Tenancy, identity, patient records, and the credential-bound RLS helpers.
-- See docs/security-model.md for the rules this file implements.

-- +goose Up
set local role ward_owner;

-- Instance-wide maxima for per-org session policy live in the server's
-- configuration; the bounds here only keep values sane.
create table app.orgs (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  session_idle_timeout_min int not null default 30 check (session_idle_timeout_min between 1 and 1440),
  session_absolute_max_min int not null default 720 check (session_absolute_max_min between 5 and 43200),
  created_at timestamptz not null default now()
);

-- Users are the instance-wide identity (a person may belong to several orgs).
-- The email is AEAD ciphertext under the instance keyset; lookup by blind index.
create table app.users (
  id uuid primary key default gen_random_uuid(),
  email_bidx bytea not null unique check (octet_length(email_bidx) = 32),
  email_enc bytea not null,
  created_at timestamptz not null default now()
);

create table app.memberships (
  org_id uuid not null references app.orgs (id),
  user_id uuid not null references app.users (id),
  role text not null check (role in ('patient', 'provider', 'lead', 'admin')),
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (org_id, user_id)
);
create index memberships_user_idx on app.memberships (user_id, org_id);

-- Sessions: only the SHA-256 of the opaque token is stored; ward_app cannot
-- read it (column grants below). Idle timeout and absolute expiry are fixed
-- from the org policy at creation, and tightened when the policy tightens.
create table app.sessions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  user_id uuid not null,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  idle_timeout_min int not null check (idle_timeout_min > 0),
  absolute_expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text,
  assurance int not null default 1,
  user_agent text,
  ip inet,
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
create index sessions_user_idx on app.sessions (user_id, org_id, created_at desc);

-- Magic links: SHA-256 of the emailed token and of the browser-bound verifier.
create table app.magic_links (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  user_id uuid not null,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  verifier_hash bytea not null check (octet_length(verifier_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  request_ip inet,
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);

-- Sign-in attempts, for rate limits shared by every node: key is the email's
-- blind index or the SHA-256 of the client IP, never the value itself.
create table app.auth_attempts (
  kind text not null check (kind in ('email', 'ip')),
  key_hash bytea not null,
  at timestamptz not null default now()
);
create index auth_attempts_idx on app.auth_attempts (kind, key_hash, at);

-- Patients: every identifying column is AEAD ciphertext bound to
-- patients|column|org|id; email and MRN are looked up by blind index.
create table app.patients (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  mrn_bidx bytea,
  email_bidx bytea,
  name_enc bytea not null,
  dob_enc bytea,
  phone_enc bytea,
  email_enc bytea,
  address_enc bytea,
  identifiers_enc bytea,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  unique (org_id, mrn_bidx)
);
create index patients_email_idx on app.patients (org_id, email_bidx);
create index patients_created_idx on app.patients (org_id, created_at desc, id);

-- Which user is which patient (a patient's own sign-in).
create table app.patient_links (
  org_id uuid not null,
  user_id uuid not null,
  patient_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, user_id, patient_id),
  foreign key (org_id, user_id) references app.memberships (org_id, user_id),
  foreign key (org_id, patient_id) references app.patients (org_id, id)
);
create index patient_links_patient_idx on app.patient_links (org_id, patient_id);

-- Care team: which provider is assigned to which patient.
create table app.care_team (
  org_id uuid not null,
  provider_id uuid not null,
  patient_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, provider_id, patient_id),
  foreign key (org_id, provider_id) references app.memberships (org_id, user_id),
  foreign key (org_id, patient_id) references app.patients (org_id, id)
);
create index care_team_patient_idx on app.care_team (org_id, patient_id);

-- Clinical entries: food (with macros), symptoms, biomarkers. The free-text
-- note is AEAD ciphertext; the coded fields are not identifiers.
create table app.clinical_entries (
  org_id uuid not null,
  id uuid not null default gen_random_uuid(),
  patient_id uuid not null,
  kind text not null check (kind in ('food', 'symptom', 'biomarker')),
  name text not null check (length(name) between 1 and 200),
  value numeric,
  unit text check (length(unit) <= 32),
  kcal numeric,
  protein_g numeric,
  carbs_g numeric,
  fat_g numeric,
  observed_at timestamptz not null,
  note_enc bytea,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, patient_id) references app.patients (org_id, id)
);
create index clinical_entries_patient_idx on app.clinical_entries (org_id, patient_id, observed_at desc);

-- The key store: per-org keysets wrapped by the root key. The instance
-- keyset (user emails) is stored under org_id ffffffff-ffff-ffff-ffff-ffffffffffff.
-- Readable only through app.org_keyset().
create table private.keysets (
  org_id uuid not null,
  purpose text not null check (purpose in ('aead', 'prf')),
  wrapped bytea not null,
  created_at timestamptz not null default now(),
  rotated_at timestamptz,
  primary key (org_id, purpose)
);

-- ---------------------------------------------------------------------------
-- RLS helpers. Each is plpgsql STABLE SECURITY DEFINER with an empty
-- search_path, owned by ward_rls, and reads only the authorisation tables.

-- +goose StatementBegin
create function private.credential_hash() returns bytea
language plpgsql stable security definer set search_path = '' as $$
declare
  c text := current_setting('ward.credential', true);
begin
  if c is null or c !~ '^[0-9a-f]{64}$' then
    return null;
  end if;
  return decode(c, 'hex');
end $$;

-- me() resolves the presented credential to a live session with a live
-- membership, and applies the ward.org hint: a hint naming another org
-- resolves to nobody.
create function private.me(out user_id uuid, out org_id uuid, out role text, out session_id uuid)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
begin
  select s.user_id, s.org_id, m.role, s.id
    into user_id, org_id, role, session_id
    from app.sessions s
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
   where s.token_hash = private.credential_hash()
     and s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null;
  if hint is not null and (org_id is null or hint <> org_id::text) then
    user_id := null; org_id := null; role := null; session_id := null;
  end if;
end $$;

create function private.uid() returns uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.user_id from private.me() m);
end $$;

create function private.session_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.session_id from private.me() m);
end $$;

create function private.get_my_org_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.org_id from private.me() m);
end $$;

create function private.get_my_role() returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.role from private.me() m);
end $$;

create function private.am_i_lead_in_org(p_org uuid) returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return coalesce((select m.org_id = p_org and m.role in ('lead', 'admin') from private.me() m), false);
end $$;

-- my_patient_ids: the patients a patient user is linked to, or a provider
-- is assigned to. Leads and admins see the whole org through
-- am_i_lead_in_org instead.
create function private.my_patient_ids() returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null then
    return '{}';
  end if;
  if me.role = 'patient' then
    return coalesce((select array_agg(pl.patient_id) from app.patient_links pl
                      where pl.org_id = me.org_id and pl.user_id = me.user_id), '{}');
  end if;
  return coalesce((select array_agg(ct.patient_id) from app.care_team ct
                    where ct.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;

-- my_org_member_ids: the users a member may see besides themself. Leads and
-- admins see every member of the org; providers see staff, and only the
-- patient users of patients assigned to them; patients see nobody else.
create function private.my_org_member_ids() returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role = 'patient' then
    return '{}';
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null
                      and (me.role in ('lead', 'admin') or m.role <> 'patient'
                           or m.user_id in (select pl.user_id from app.patient_links pl
                                              join app.care_team ct
                                                on ct.org_id = pl.org_id and ct.patient_id = pl.patient_id
                                             where pl.org_id = me.org_id and ct.provider_id = me.user_id))), '{}');
end $$;
-- +goose StatementEnd

-- ---------------------------------------------------------------------------
-- Row-level security: enabled and forced everywhere, one policy per command.

alter table app.orgs enable row level security;
alter table app.orgs force row level security;
alter table app.users enable row level security;
alter table app.users force row level security;
alter table app.memberships enable row level security;
alter table app.memberships force row level security;
alter table app.sessions enable row level security;
alter table app.sessions force row level security;
alter table app.magic_links enable row level security;
alter table app.magic_links force row level security;
alter table app.auth_attempts enable row level security;
alter table app.auth_attempts force row level security;
alter table app.patients enable row level security;
alter table app.patients force row level security;
alter table app.patient_links enable row level security;
alter table app.patient_links force row level security;
alter table app.care_team enable row level security;
alter table app.care_team force row level security;
alter table app.clinical_entries enable row level security;
alter table app.clinical_entries force row level security;
alter table private.keysets enable row level security;
alter table private.keysets force row level security;

create policy orgs_select on app.orgs for select to ward_app
  using (id = (select private.get_my_org_id()));

create policy users_select on app.users for select to ward_app
  using (id = (select private.uid()) or id = any ((select private.my_org_member_ids())::uuid[]));

create policy memberships_select on app.memberships for select to ward_app
  using (user_id = (select private.uid())
         or (org_id = (select private.get_my_org_id())
             and (select private.am_i_lead_in_org((select private.get_my_org_id())))));

create policy sessions_select on app.sessions for select to ward_app
  using (user_id = (select private.uid()));
-- A user may revoke their own live sessions; nobody revives a revoked one.
create policy sessions_update on app.sessions for update to ward_app
  using (user_id = (select private.uid()) and revoked_at is null)
  with check (user_id = (select private.uid()) and revoked_at is not null);

create policy patients_select on app.patients for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or id = any ((select private.my_patient_ids())::uuid[])));
create policy patients_insert on app.patients for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and (select private.am_i_lead_in_org((select private.get_my_org_id())))
              and created_by = (select private.uid()));
create policy patients_update on app.patients for update to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or id = any ((select private.my_patient_ids())::uuid[])))
  with check (org_id = (select private.get_my_org_id()));

create policy patient_links_select on app.patient_links for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and (user_id = (select private.uid())
              or (select private.am_i_lead_in_org((select private.get_my_org_id())))));
create policy patient_links_insert on app.patient_links for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and (select private.am_i_lead_in_org((select private.get_my_org_id()))));
create policy patient_links_delete on app.patient_links for delete to ward_app
  using (org_id = (select private.get_my_org_id())
         and (select private.am_i_lead_in_org((select private.get_my_org_id()))));

create policy care_team_select on app.care_team for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and (provider_id = (select private.uid())
              or patient_id = any ((select private.my_patient_ids())::uuid[])
              or (select private.am_i_lead_in_org((select private.get_my_org_id())))));
create policy care_team_insert on app.care_team for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and (select private.am_i_lead_in_org((select private.get_my_org_id()))));
create policy care_team_delete on app.care_team for delete to ward_app
  using (org_id = (select private.get_my_org_id())
         and (select private.am_i_lead_in_org((select private.get_my_org_id()))));

create policy clinical_entries_select on app.clinical_entries for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or patient_id = any ((select private.my_patient_ids())::uuid[])));
create policy clinical_entries_insert on app.clinical_entries for insert to ward_app
  with check (org_id = (select private.get_my_org_id())
              and created_by = (select private.uid())
              and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
                   or patient_id = any ((select private.my_patient_ids())::uuid[])));
-- A patient edits only the entries they wrote themself; staff any on their
-- patients' records.
create policy clinical_entries_update on app.clinical_entries for update to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or (patient_id = any ((select private.my_patient_ids())::uuid[])
                  and ((select private.get_my_role()) <> 'patient' or created_by = (select private.uid())))))
  with check (org_id = (select private.get_my_org_id()));

-- ---------------------------------------------------------------------------
-- Grants. ward_app gets exactly the DML its policies allow; no TRUNCATE, no
-- REFERENCES, and no column holding a token hash or key material.

grant select on app.orgs to ward_app;
grant select (id, email_enc, created_at) on app.users to ward_app;
grant select on app.memberships to ward_app;
grant select (id, org_id, user_id, created_at, last_seen_at, idle_timeout_min, absolute_expires_at,
              revoked_at, revoked_reason, assurance, user_agent, ip) on app.sessions to ward_app;
grant update (revoked_at, revoked_reason) on app.sessions to ward_app;
grant select, insert on app.patients to ward_app;
grant update (mrn_bidx, email_bidx, name_enc, dob_enc, phone_enc, email_enc, address_enc,
              identifiers_enc, updated_at) on app.patients to ward_app;
grant select, insert, delete on app.patient_links to ward_app;
grant select, insert, delete on app.care_team to ward_app;
grant select, insert on app.clinical_entries to ward_app;
grant update (name, value, unit, kcal, protein_g, carbs_g, fat_g, observed_at, note_enc)
  on app.clinical_entries to ward_app;

-- The helpers' owner reads the authorisation tables, nothing else.
grant select on app.sessions, app.memberships, app.patient_links, app.care_team to ward_rls;

alter function private.credential_hash() owner to ward_rls;
alter function private.me() owner to ward_rls;
alter function private.uid() owner to ward_rls;
alter function private.session_id() owner to ward_rls;
alter function private.get_my_org_id() owner to ward_rls;
alter function private.get_my_role() owner to ward_rls;
alter function private.am_i_lead_in_org(uuid) owner to ward_rls;
alter function private.my_patient_ids() owner to ward_rls;
alter function private.my_org_member_ids() owner to ward_rls;
revoke all on all functions in schema private from public;
grant execute on all functions in schema private to ward_app, ward_definer;

reset role;

-- +goose Down
set local role ward_owner;
drop table private.keysets, app.clinical_entries, app.care_team, app.patient_links, app.patients,
  app.auth_attempts, app.magic_links, app.sessions, app.memberships, app.users, app.orgs cascade;
drop function private.my_org_member_ids(), private.my_patient_ids(), private.am_i_lead_in_org(uuid),
  private.get_my_role(), private.get_my_org_id(), private.session_id(), private.uid(), private.me(),
  private.credential_hash();
reset role;
