-- A patient's crypto-shred fulfils the patient's open CCPA deletion
-- requests (docs/dsr.md): they were left open, for an admin to close by
-- hand after the shred, though the shred is the deletion they asked for.
-- The shred now closes each as fulfilled in its transaction, with the
-- dsr.close event an admin's close records. Otherwise the function is
-- 00286's.
-- +goose Up
set local role ward_owner;

grant update (status, closed_at, closed_by) on app.dsr_requests to ward_definer;

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
  rq record;
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
  -- The released legal holds on the patient or their cases (a live one
  -- refused the shred): a reason or release note, sealed under the org's
  -- keys since 00280 (the shred keeps them), may name the patient, so it
  -- is overwritten as the org shred overwrites a clear one (00281). The
  -- holds stay, released.
  update app.legal_holds h
     set reason = 'shredded', reason_enc = null,
         release_note = case when h.released_at is null then null else 'shredded' end, release_note_enc = null
   where h.org_id = me.org_id and (h.patient_id = p_patient or h.case_id = any (case_ids));
  -- The cases' pending invitations end (a closed case accepts none).
  update app.case_invites i set revoked_at = now()
   where i.org_id = me.org_id and i.case_id = any (case_ids) and i.revoked_at is null and i.accepted_at is null;
  -- The patient's open CCPA deletion requests are what the shred fulfils:
  -- each is closed as fulfilled (the guard sets who and when), with its
  -- dsr.close event, as an admin's close writes it.
  for rq in select r.id, r.due_at from app.dsr_requests r
            where r.org_id = me.org_id and r.patient_id = p_patient and r.kind = 'ccpa_delete' and r.status = 'open'
            order by r.id for update loop
    update app.dsr_requests r set status = 'fulfilled' where r.org_id = me.org_id and r.id = rq.id;
    perform audit.append_as(me.org_id, 'dsr.close', 'success', 'dsr_request', rq.id,
      p_patient => p_patient, p_request => p_request,
      p_details => jsonb_build_object('kind', 'ccpa_delete', 'status', 'fulfilled',
        'due_at', to_char(rq.due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'by', 'patient.shred'));
  end loop;
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
