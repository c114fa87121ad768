-- The per-patient key tier (DESIGN §3) and the crypto-shred of one
-- patient. A patient created from now on has a keyset of their own
-- (app.patients.keyset: a Tink AES-256-GCM keyset, wrapped under the
-- org's AEAD keyset and bound to the org and the patient; the server
-- makes it, the database cannot read it). The record's sealed fields (the
-- patient's name, birth date, phone, email, address and identifiers, each
-- clinical entry's note, each amendment's texts) are sealed under it
-- instead of the org's keys, so destroying its one wrapped copy leaves
-- every ciphertext of that patient unreadable wherever a copy went, and
-- leaves the org's other patients as they were. A patient created before
-- this migration has no keyset (null): their record stays sealed under
-- the org's keys and cannot be shredded alone (patient_not_keyed).
--
-- app.patient_shred(patient) is an admin's, at a second factor within ten
-- minutes, never an emergency session's, refused while a legal hold
-- covers the patient (the org, the patient, or one of the patient's
-- cases) or an access or amendment request of theirs is open. In one
-- transaction it records patient.shred (the counts, who), then destroys
-- the keyset and overwrites what no patient key sealed: the patient's
-- blind indexes and ciphertexts, the clear columns of their clinical
-- entries (as the org shred does, 00273), and their cases: titles and
-- references, documents' descriptions, versions' file names and comments
-- (sealed under the org's keys) are emptied, every document is deleted
-- with its data keys destroyed (the sweeper removes the objects), and the
-- cases are closed, so nothing new is added to them. The row stays (ids
-- are what the audit log keeps too) with shredded_at; nothing changes it
-- afterwards, and no entry, amendment, case or legal hold names it again.
-- +goose Up
set local role ward_owner;

alter table app.patients
  add column keyset bytea,
  add column shredded_at timestamptz,
  add constraint patients_keyset_size check (octet_length(keyset) between 1 and 4096),
  add constraint patients_shredded_keyless check (shredded_at is null or keyset is null);
comment on column app.patients.keyset is
  'the patient''s AEAD keyset, wrapped under the org''s (envelope.PatientKeys); null before 00275 and after app.patient_shred';
comment on column app.patients.shredded_at is 'when app.patient_shred destroyed the patient''s keyset; the row is then read-only';

-- The application inserts the columns it writes, the keyset among them;
-- shredded_at is the shred's alone.
revoke insert on app.patients from ward_app;
grant insert (org_id, id, mrn_bidx, email_bidx, name_enc, dob_enc, phone_enc, email_enc, address_enc,
  identifiers_enc, created_by, keyset) on app.patients to ward_app;

-- What the shred reads and overwrites.
grant select (keyset, shredded_at) on app.patients to ward_definer;
grant update (keyset, shredded_at, mrn_bidx, email_bidx, name_enc, dob_enc, phone_enc, email_enc, address_enc,
  identifiers_enc, updated_at) on app.patients to ward_definer;
grant select (patient_id) on app.clinical_entries to ward_definer;
grant update (note_enc) on app.clinical_entries to ward_definer;
grant select (org_id, patient_id) on app.record_amendments to ward_definer;
grant update (title_enc, reference_enc, reference_bidx, status, closed_at, updated_at) on app.cases to ward_definer;
grant update (description_enc) on app.documents to ward_definer;
grant update (body_enc) on app.document_comments to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('patient.shred', 'patient', false, false, true, '{patient}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- A shredded patient's row never changes again, for any role while
-- triggers fire (the shred's own update finds it unshredded).
create function app.patient_shredded_frozen() returns trigger
language plpgsql
set search_path to ''
as $$
begin
  if old.shredded_at is not null then
    raise exception 'the patient was crypto-shredded: the record takes no change' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd

create trigger patient_shredded before update on app.patients
  for each row execute function app.patient_shredded_frozen();

-- +goose StatementBegin
-- Nothing new names a shredded patient: no entry, amendment, case or
-- legal hold. The patient's row is read for key share, so a shred holding
-- it is waited for and then seen (as app.refuse_shredded_org does).
create function app.refuse_shredded_patient() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  if new.patient_id is null then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id for key share;
  if shredded is not null then
    raise exception 'the patient was crypto-shredded: nothing new is added to the record' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_shredded_patient() owner to ward_definer;
revoke execute on function app.refuse_shredded_patient() from public;

create trigger patient_shredded before insert on app.clinical_entries
  for each row execute function app.refuse_shredded_patient();
create trigger patient_shredded before insert on app.record_amendments
  for each row execute function app.refuse_shredded_patient();
create trigger patient_shredded before insert or update of patient_id on app.cases
  for each row execute function app.refuse_shredded_patient();
create trigger patient_shredded before insert on app.legal_holds
  for each row execute function app.refuse_shredded_patient();

-- +goose StatementBegin
-- A closed case refuses a new title or reference, but for the shred's
-- erasure of a shredded patient's case (an empty title, no reference).
create or replace function app.case_status_change() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  if new.status is distinct from old.status then
    -- waits for the case's writes in flight (app.case_closed)
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'ward.case_status.' || new.id::text, 0));
  elsif new.status = 'closed'
        and (new.title_enc, new.reference_enc, new.reference_bidx)
            is distinct from (old.title_enc, old.reference_enc, old.reference_bidx)
        and not ((new.title_enc, new.reference_enc, new.reference_bidx) is not distinct from ('\x'::bytea, null, null)
                 and exists (select from app.patients p where p.org_id = new.org_id and p.id = new.patient_id
                                and p.shredded_at is not null)) then
    raise exception 'the case is closed: nothing is added to or changed on it until it is reopened'
      using errcode = '42501', hint = 'case_closed';
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.patient_shred(p_patient uuid, p_request text default null)
returns table (entries integer, amendments integer, cases integer, documents integer, data_keys integer,
  comments integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  p record;
  case_ids uuid[];
  doc_ids uuid[];
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a patient is shredded by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it destroys none'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_patient is null then
    raise exception 'patient_shred: the patient is required' using errcode = '22023';
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(me.org_id);
  select x.id, x.keyset, x.shredded_at into p from app.patients x
   where x.org_id = me.org_id and x.id = p_patient for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if p.shredded_at is not null then
    raise exception 'patient_shred: the patient was shredded at %', p.shredded_at using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  if p.keyset is null then
    raise exception 'patient_shred: the patient''s record is sealed under the org''s keys (created before the per-patient tier)'
      using errcode = '55000', hint = 'patient_not_keyed';
  end if;
  -- The patient's cases, locked: a case moved to another patient meanwhile
  -- waits, and one moved onto this patient afterwards is refused (trigger).
  select coalesce(array_agg(c.id order by c.id), '{}') into case_ids
    from (select c.id from app.cases c where c.org_id = me.org_id and c.patient_id = p_patient
           order by c.id for update) c;
  if exists (select from app.legal_holds h where h.org_id = me.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = p_patient
                    or h.case_id = any (case_ids))) then
    raise exception 'patient_shred: a legal hold covers the patient' using errcode = '55000', hint = 'legal_hold';
  end if;
  if exists (select from app.dsr_requests q where q.org_id = me.org_id and q.patient_id = p_patient
               and q.status = 'open' and q.kind in ('access', 'amendment')) then
    raise exception 'patient_shred: an access or amendment request of the patient is open'
      using errcode = '55000', hint = 'open_requests';
  end if;
  select coalesce(array_agg(d.id order by d.id), '{}') into doc_ids
    from app.documents d where d.org_id = me.org_id and d.case_id = any (case_ids);
  entries := (select count(*) from app.clinical_entries e where e.org_id = me.org_id and e.patient_id = p_patient);
  amendments := (select count(*) from app.record_amendments a where a.org_id = me.org_id and a.patient_id = p_patient);
  cases := cardinality(case_ids);
  documents := cardinality(doc_ids);
  data_keys := (select count(*) from app.document_versions v
                 where v.org_id = me.org_id and v.document_id = any (doc_ids) and v.data_key is not null);
  comments := (select count(*) from app.document_comments x where x.org_id = me.org_id and x.document_id = any (doc_ids));

  -- The event first, while the record is whole: what was destroyed, by whom.
  perform audit.append_as(me.org_id, 'patient.shred', 'success', 'patient', p_patient,
    p_patient => p_patient, p_request => p_request,
    p_details => jsonb_build_object('entries', entries, 'amendments', amendments, 'cases', cases,
      'documents', documents, 'data_keys', data_keys, 'comments', comments));
  -- The destruction: the keyset that sealed the record, and the record's
  -- own ciphertexts and blind indexes with it.
  update app.patients x
     set keyset = null, shredded_at = now(), mrn_bidx = null, email_bidx = null, name_enc = '\x'::bytea,
         dob_enc = null, phone_enc = null, email_enc = null, address_enc = null, identifiers_enc = null,
         updated_at = now()
   where x.org_id = me.org_id and x.id = p_patient;
  -- What no key sealed: an entry's name, value, unit, nutrients and the
  -- time it was observed (the entry stays: an amendment may name it).
  update app.clinical_entries e
     set name = 'shredded', value = null, unit = null, kcal = null, protein_g = null, carbs_g = null,
         fat_g = null, observed_at = e.created_at, note_enc = null
   where e.org_id = me.org_id and e.patient_id = p_patient;
  -- The patient's cases: what the org's keys sealed about them is
  -- emptied, their documents deleted with their data keys, and the cases
  -- closed (a closed case takes no upload, comment, invitation or grant).
  update app.document_versions v set data_key = null, filename_enc = '\x'::bytea
   where v.org_id = me.org_id and v.document_id = any (doc_ids);
  update app.document_comments x set body_enc = '\x'::bytea
   where x.org_id = me.org_id and x.document_id = any (doc_ids);
  update app.documents d set deleted_at = coalesce(d.deleted_at, now()), description_enc = null
   where d.org_id = me.org_id and d.id = any (doc_ids);
  update app.cases c set title_enc = '\x'::bytea, reference_enc = null, reference_bidx = null, updated_at = now()
   where c.org_id = me.org_id and c.id = any (case_ids);
  update app.cases c set status = 'closed', closed_at = now()
   where c.org_id = me.org_id and c.id = any (case_ids) and c.status = 'open';
  -- Every node drops its cached keys of the org, and the patient keysets
  -- unwrapped under them, at once (keystore.Listen).
  perform pg_catalog.pg_notify('ward_keys', me.org_id::text);
  return next;
end $$;
-- +goose StatementEnd
alter function app.patient_shred(uuid, text) owner to ward_definer;
revoke execute on function app.patient_shred(uuid, text) from public;
grant execute on function app.patient_shred(uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
