-- Patient records (internal/records). Every query also filters on org_id:
-- RLS is the backstop, and the filter lets the indexes lead.

-- name: CreatePatient :one
insert into app.patients (org_id, id, mrn_bidx, email_bidx, name_enc, dob_enc, phone_enc, email_enc,
  address_enc, identifiers_enc, created_by, keyset)
values (@org_id, @id, @mrn_bidx, @email_bidx, @name_enc, @dob_enc, @phone_enc, @email_enc,
  @address_enc, @identifiers_enc, @created_by, @keyset)
returning *;

-- name: GetPatient :one
select *
from app.patients
where org_id = @org_id and id = @id;

-- name: PatientVisible :one
select exists (select from app.patients where org_id = @org_id and id = @id);

-- name: PatientKeyset :one
-- The keyset a patient's record is sealed under (null: the org's keys)
-- and whether it was shredded; no row when the caller may not see the
-- patient.
select keyset, shredded_at from app.patients where org_id = @org_id and id = @id;

-- name: PatientKeysetForWrite :one
-- PatientKeyset for a writer that seals a new value for the patient (an
-- entry's note, an amendment's text), with the row locked for key share
-- until the transaction ends: the keying of a patient without a keyset
-- (app.ops_patient_key_cells, 00288) holds it for update, so this waits
-- for it and then reads the new keyset, and a keying that starts later
-- waits for this writer and seals again what it wrote. No row when the
-- caller may not write to the patient's record.
select keyset, shredded_at from app.patients where org_id = @org_id and id = @id for key share;

-- name: ListPatients :many
select *
from app.patients
where org_id = @org_id and shredded_at is null
  and (sqlc.narg('mrn_bidx')::bytea is null or mrn_bidx = sqlc.narg('mrn_bidx'))
  and (sqlc.narg('email_bidx')::bytea is null or email_bidx = sqlc.narg('email_bidx'))
order by created_at desc, id
limit @max_rows;

-- name: ListPatientsAfter :many
-- The page of the list after a cursor (the last patient of the page before:
-- its created_at and id), in ListPatients' order. A statement of its own, so
-- the first page keeps ListPatients' plan and a later one starts its index
-- scan at the cursor's time (created_at <= bounds patients_created_idx).
select *
from app.patients
where org_id = @org_id and shredded_at is null
  and created_at <= @after_created_at
  and (created_at < @after_created_at or id > @after_id)
order by created_at desc, id
limit @max_rows;

-- name: UpdatePatient :one
update app.patients
set mrn_bidx = @mrn_bidx, email_bidx = @email_bidx, name_enc = @name_enc, dob_enc = @dob_enc,
  phone_enc = @phone_enc, email_enc = @email_enc, address_enc = @address_enc,
  identifiers_enc = @identifiers_enc, updated_at = now()
where org_id = @org_id and id = @id
returning *;

-- name: CreateEntry :one
insert into app.clinical_entries (org_id, id, patient_id, kind, name, value, unit, kcal, protein_g, carbs_g,
  fat_g, observed_at, note_enc, created_by)
values (@org_id, @id, @patient_id, @kind, @name, sqlc.narg('value'), sqlc.narg('unit'), sqlc.narg('kcal'),
  sqlc.narg('protein_g'), sqlc.narg('carbs_g'), sqlc.narg('fat_g'), @observed_at, @note_enc, @created_by)
returning *;

-- name: ListEntries :many
-- Newest first; a page after a cursor (the last entry of the page before:
-- its observed_at and id) continues the same order. The first row also
-- carries the patient's row as the statement sees it (patient_visible,
-- patient_keyset, patient_shredded_at; one copy, not one a row): the
-- notes open under the keyset of the same snapshot, even when a keying
-- (00288) commits after the transaction's earlier read of the patient.
select sqlc.embed(e),
       case when row_number() over w = 1 then
         exists (select from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_visible,
       case when row_number() over w = 1 then
         (select p.keyset from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_keyset,
       case when row_number() over w = 1 then
         (select p.shredded_at from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_shredded_at
from app.clinical_entries e
where e.org_id = @org_id and e.patient_id = @patient_id
  and (sqlc.narg('after_observed_at')::timestamptz is null
       or e.observed_at < sqlc.narg('after_observed_at')::timestamptz
       or (e.observed_at = sqlc.narg('after_observed_at')::timestamptz and e.id > sqlc.narg('after_id')::uuid))
window w as (order by e.observed_at desc, e.id)
order by e.observed_at desc, e.id
limit @max_rows;

-- name: AssignProvider :execrows
insert into app.care_team (org_id, provider_id, patient_id)
select m.org_id, m.user_id, @patient_id from app.memberships m
where m.org_id = @org_id and m.user_id = @user_id and m.role in ('provider', 'lead', 'admin')
  and m.revoked_at is null;

-- name: UnassignProvider :execrows
delete from app.care_team where org_id = @org_id and provider_id = @user_id and patient_id = @patient_id;

-- name: LinkPatientUser :execrows
insert into app.patient_links (org_id, user_id, patient_id)
select m.org_id, m.user_id, @patient_id from app.memberships m
where m.org_id = @org_id and m.user_id = @user_id and m.role = 'patient' and m.revoked_at is null;

-- name: GetPatientForUpdate :one
select *
from app.patients
where org_id = @org_id and id = @id
for update;

-- name: PatientUserEmails :many
-- The live patient users linked to a patient, to tell them of a step in
-- their requests (amendments); under RLS, so only a lead or admin of the
-- org finds them.
select u.id, u.email_enc
  from app.patient_links l
  join app.memberships m on m.org_id = l.org_id and m.user_id = l.user_id
  join app.users u on u.id = l.user_id
 where l.org_id = @org_id and l.patient_id = @patient_id and m.revoked_at is null and m.role = 'patient'
 order by u.id;
