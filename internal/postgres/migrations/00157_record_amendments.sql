-- Amendments of a patient record (HIPAA §164.526), kept beside the
-- original. A patient asks for their record, or one clinical entry of it, to
-- be amended; the request is a row here and, in the same statement, an
-- amendment request in the data-subject queue (app.dsr_requests, kind
-- amendment, 60 days), which the database files itself. An admin decides:
--
--   * accepted: the amendment (its text) is kept beside the entry or record
--     it amends, which is not rewritten, so the original and the amendment
--     are both there (§164.526(c)(1));
--   * denied, with one of the bases the rule allows (§164.526(a)(2): not
--     created here, not part of the designated record set, not open to
--     access under §164.524, accurate and complete) and the written
--     explanation (§164.526(d)(1)).
--
-- Deciding closes the queue entry (fulfilled or denied) in the same
-- statement; a queue entry that was closed otherwise (withdrawn) leaves
-- nothing to decide. After a denial the patient may file one statement of
-- disagreement (§164.526(d)(1)(iii)), and the practice one rebuttal to it
-- (§164.526(d)(3)); each is kept with the record. Nothing is deleted, and
-- a decision, a statement and a rebuttal never change once made.
--
-- The texts are PHI and sealed by the server with the org's keys (bound to
-- table, column, org and row): request_enc, decision_enc,
-- disagreement_enc, rebuttal_enc. The database keeps the clock and the
-- actors (requested_at, decided_at and decided_by, disagreement_at,
-- rebuttal_at and rebuttal_by), whatever the statement says.
--
-- Who (RLS, and the guard for each step): the patient files about their own
-- record, as an admin does on their behalf (a request made on paper); who
-- may read the patient's entries reads the amendments (the patient, the
-- care team, leads and admins, break-glass); an admin decides and rebuts;
-- the patient states disagreement. API keys do none of it (they read no
-- patient rows).

-- +goose Up
set local role ward_owner;

create table app.record_amendments (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  patient_id uuid not null,
  entry_id uuid,
  dsr_id uuid not null,
  request_enc bytea not null check (octet_length(request_enc) between 1 and 65536),
  requested_by uuid not null references app.users (id),
  requested_at timestamptz not null default now(),
  status text not null default 'requested' check (status in ('requested', 'accepted', 'denied')),
  denial_basis text check (denial_basis in ('not_created_here', 'not_in_record_set', 'not_open_to_access',
                                            'accurate_and_complete')),
  decision_enc bytea check (octet_length(decision_enc) between 1 and 65536),
  decided_by uuid references app.users (id),
  decided_at timestamptz,
  disagreement_enc bytea check (octet_length(disagreement_enc) between 1 and 65536),
  disagreement_at timestamptz,
  rebuttal_enc bytea check (octet_length(rebuttal_enc) between 1 and 65536),
  rebuttal_by uuid references app.users (id),
  rebuttal_at timestamptz,
  primary key (org_id, id),
  unique (org_id, dsr_id),
  foreign key (org_id, patient_id) references app.patients (org_id, id),
  foreign key (org_id, entry_id) references app.clinical_entries (org_id, id),
  foreign key (org_id, dsr_id) references app.dsr_requests (org_id, id),
  check ((status = 'requested') = (decided_at is null)
         and (decided_at is null) = (decided_by is null) and (decided_at is null) = (decision_enc is null)),
  check ((status = 'denied') = (denial_basis is not null)),
  check ((disagreement_enc is null) = (disagreement_at is null) and (disagreement_enc is null or status = 'denied')),
  check ((rebuttal_enc is null) = (rebuttal_at is null) and (rebuttal_at is null) = (rebuttal_by is null)
         and (rebuttal_enc is null or disagreement_enc is not null))
);
create index record_amendments_patient_idx on app.record_amendments (org_id, patient_id, requested_at);
alter table app.record_amendments enable row level security;
alter table app.record_amendments force row level security;
grant select, insert on app.record_amendments to ward_app;
grant update (status, denial_basis, decision_enc, disagreement_enc, rebuttal_enc) on app.record_amendments to ward_app;

-- +goose StatementBegin
-- record_amendment_guard: the clock, the actors and the order of the steps.
-- It runs as the caller, so its reads and its queue writes pass the
-- caller's row-level security too.
create function private.record_amendment_guard() returns trigger
language plpgsql set search_path = '' as $$
declare
  admin boolean := private.get_my_role() = 'admin' and not private.is_key();
begin
  if tg_op = 'INSERT' then
    new.requested_at := now();
    new.status := 'requested';
    new.denial_basis := null; new.decision_enc := null; new.decided_by := null; new.decided_at := null;
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    if new.entry_id is not null and not exists (
         select from app.clinical_entries e
          where e.org_id = new.org_id and e.id = new.entry_id and e.patient_id = new.patient_id) then
      raise exception 'the entry is not in this record' using errcode = '23503';
    end if;
    -- The queue entry with the deadline, filed as the same requester
    -- (the queue checks who may file it).
    insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
    values (new.org_id, 'amendment', new.patient_id, new.requested_by, now())
    returning id into new.dsr_id;
    return new;
  end if;
  if (new.org_id, new.id, new.patient_id, new.entry_id, new.dsr_id, new.request_enc, new.requested_by, new.requested_at)
     is distinct from (old.org_id, old.id, old.patient_id, old.entry_id, old.dsr_id, old.request_enc, old.requested_by,
                       old.requested_at) then
    raise exception 'a request, its record and its requester never change' using errcode = '42501';
  end if;
  if old.status = 'requested' then
    if new.status = 'requested' then
      raise exception 'a request is decided before anything else is added to it' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin decides an amendment request' using errcode = '42501';
    end if;
    new.decided_by := private.uid();
    new.decided_at := now();
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    update app.dsr_requests d set status = case new.status when 'accepted' then 'fulfilled' else 'denied' end
     where d.org_id = new.org_id and d.id = new.dsr_id and d.status = 'open';
    if not found then
      raise exception 'the request was closed in the queue (withdrawn): there is nothing to decide' using errcode = '55000';
    end if;
    return new;
  end if;
  if (new.status, new.denial_basis, new.decision_enc, new.decided_by, new.decided_at)
     is distinct from (old.status, old.denial_basis, old.decision_enc, old.decided_by, old.decided_at) then
    raise exception 'a decision is final' using errcode = '55000';
  end if;
  if new.disagreement_enc is distinct from old.disagreement_enc then
    if old.status <> 'denied' or old.disagreement_enc is not null or new.disagreement_enc is null then
      raise exception 'a statement of disagreement follows a denial, once' using errcode = '55000';
    end if;
    if private.get_my_role() is distinct from 'patient' or not (new.patient_id = any (private.my_patient_ids())) then
      raise exception 'the patient states their disagreement' using errcode = '42501';
    end if;
    new.disagreement_at := now();
  else
    new.disagreement_at := old.disagreement_at;
  end if;
  if new.rebuttal_enc is distinct from old.rebuttal_enc then
    if old.disagreement_enc is null or old.rebuttal_enc is not null or new.rebuttal_enc is null then
      raise exception 'a rebuttal answers a statement of disagreement, once' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin writes the rebuttal' using errcode = '42501';
    end if;
    new.rebuttal_by := private.uid();
    new.rebuttal_at := now();
  else
    new.rebuttal_by := old.rebuttal_by; new.rebuttal_at := old.rebuttal_at;
  end if;
  return new;
end $$;
-- +goose StatementEnd
revoke all on function private.record_amendment_guard() from public;

create trigger record_amendment_guard before insert or update on app.record_amendments
  for each row execute function private.record_amendment_guard();

-- Read as the patient's entries are.
create policy record_amendments_select on app.record_amendments for select to ward_app using (
  org_id = (select private.get_my_org_id())
  and ((select private.am_i_lead()) or patient_id = any ((select private.my_patient_ids())::uuid[])
       or (select private.am_i_break_glass())));

create policy record_amendments_insert on app.record_amendments for insert to ward_app with check (
  org_id = (select private.get_my_org_id())
  and requested_by = (select private.uid())
  and not (select private.is_key())
  and ((select private.get_my_role()) = 'admin'
       or ((select private.get_my_role()) = 'patient' and patient_id = any ((select private.my_patient_ids())::uuid[]))));

create policy record_amendments_update on app.record_amendments for update to ward_app using (
  org_id = (select private.get_my_org_id())
  and not (select private.is_key())
  and ((select private.get_my_role()) = 'admin'
       or ((select private.get_my_role()) = 'patient' and patient_id = any ((select private.my_patient_ids())::uuid[]))))
  with check (org_id = (select private.get_my_org_id()));

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('amendment.request', 'record', true, false, false, '{patient,object}'),
  ('amendment.list', 'record', true, false, false, '{patient}'),
  ('amendment.decide', 'record', true, false, false, '{patient,object}'),
  ('amendment.disagree', 'record', true, false, false, '{patient,object}'),
  ('amendment.rebut', 'record', true, false, false, '{patient,object}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
set local role ward_owner;
drop table app.record_amendments;
drop function private.record_amendment_guard();
alter table audit.actions no force row level security;
delete from audit.actions where name like 'amendment.%';
alter table audit.actions force row level security;
reset role;
