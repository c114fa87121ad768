-- Attacker review of the patient shred (00275). Three ways data came
-- back to, or outlived, a crypto-shredded patient, each linked to them by
-- their id and sealed under the org's keys (which the shred keeps):
--
-- A case the shred closed was reopened (PATCH status open, with a new
-- title in the same request), after which it took a title, a reference,
-- uploads, comments and members again. app.case_status_change now
-- refuses reopening a case whose patient was shredded (patient_shredded),
-- for every role: what a closed case refuses stays refused.
--
-- A write to one of the patient's cases in flight when the shred ran (a
-- new version of a document, a comment) was committed after the shred
-- read the cases' documents: the closing of the case waited for it, but
-- the overwrite had already passed, so the version kept its data key and
-- file name and the comment its body. app.patient_shred now takes each
-- case's status lock (the one app.case_closed shares with every write)
-- before it reads what the cases hold, after locking the cases' and
-- their documents' rows (for no key update), in the order the writers
-- take them: an upload holding its document's row, a status change
-- holding its case's, is waited for, not deadlocked with.
--
-- A shredded patient's clinical entry could still be updated (ward_app
-- holds UPDATE on the clear columns and the note), writing a name, value
-- or note back; a care-team assignment or a patient link could name the
-- patient again. An entry of a shredded patient now takes no change but
-- the shred's own overwrite (the org shred repeats it), and nothing new
-- on app.care_team or app.patient_links names the patient.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.case_status_change() returns trigger
language plpgsql security definer
set search_path to ''
as $$
begin
  if new.status is distinct from old.status then
    -- waits for the case's writes in flight (app.case_closed)
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'ward.case_status.' || new.id::text, 0));
    -- a shredded patient's case stays closed (00276)
    if new.status = 'open' and exists (select from app.patients p where p.org_id = new.org_id
                                         and p.id = new.patient_id and p.shredded_at is not null) then
      raise exception 'the patient was crypto-shredded: their case is not reopened' using errcode = '55000',
        hint = 'patient_shredded';
    end if;
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
-- An entry of a shredded patient takes no change but the shred's own
-- overwrite (app.patient_shred's, which app.ops_org_shred repeats). The
-- patient's row is read for key share: a shred in progress is waited for.
create function app.shredded_entry_frozen() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  if (new.name, new.value, new.unit, new.kcal, new.protein_g, new.carbs_g, new.fat_g, new.observed_at, new.note_enc)
     is not distinct from ('shredded'::text, null::numeric, null::text, null::numeric, null::numeric, null::numeric,
                           null::numeric, old.created_at, null::bytea) then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = old.org_id and p.id = old.patient_id for key share;
  if shredded is not null then
    raise exception 'the patient was crypto-shredded: the record takes no change' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.shredded_entry_frozen() owner to ward_definer;
revoke execute on function app.shredded_entry_frozen() from public;

create trigger patient_shredded_frozen before update on app.clinical_entries
  for each row execute function app.shredded_entry_frozen();
create trigger patient_shredded before insert on app.care_team
  for each row execute function app.refuse_shredded_patient();
create trigger patient_shredded before insert on app.patient_links
  for each row execute function app.refuse_shredded_patient();

-- +goose StatementBegin
create or replace function app.patient_shred(p_patient uuid, p_request text default null)
returns table (entries integer, amendments integer, cases integer, documents integer, data_keys integer,
  comments integer)
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
  p record;
  case_ids uuid[];
  kase uuid;
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
  -- The patient's cases (no case is moved onto the patient while the
  -- row is held: the trigger reads it for key share), locked, so a case
  -- moved to another patient meanwhile waits; then their documents. Both
  -- for no key update: an insert naming them (its foreign key reads them
  -- for key share) is not waited for here.
  select coalesce(array_agg(c.id order by c.id), '{}') into case_ids
    from (select c.id from app.cases c where c.org_id = me.org_id and c.patient_id = p_patient
           order by c.id for no key update) c;
  perform from (select d.id from app.documents d where d.org_id = me.org_id and d.case_id = any (case_ids)
                 order by d.id for no key update) d;
  -- Then each case's status lock, which every write to the case shares
  -- until it commits (app.case_closed): a write in flight (an upload, a
  -- new version, a comment, a member) is waited for, and a later one
  -- waits for the shred and then finds the case closed, before what the
  -- cases hold is read below (00276: a write committed between that read
  -- and the closing kept its data key, file name or comment under the
  -- org's keys). Rows first, then this lock, as the writers take them (an
  -- update locks its row before its trigger shares the lock; a status
  -- change takes it after the case's row): no wait here forms a cycle.
  foreach kase in array case_ids loop
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.case_status.' || kase::text, 0));
  end loop;
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
