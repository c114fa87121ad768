-- Amendments of a patient record (HIPAA §164.526, migration 00157). The
-- guard (private.record_amendment_guard) files the queue entry, keeps the
-- clock and the actors and orders the steps; RLS decides who reads and who
-- writes.

-- name: CreateAmendment :one
-- dsr_id is replaced by the queue entry the guard files.
insert into app.record_amendments (org_id, id, patient_id, entry_id, dsr_id, request_enc, requested_by)
values (@org_id, @id, @patient_id, sqlc.narg('entry_id'), gen_random_uuid(), @request_enc, @requested_by)
returning *;

-- name: ListAmendments :many
-- The queue entry's status and due date, for whoever sees it (the patient
-- and admins; null for the care team). The first row also carries the
-- patient's row as the statement sees it, as ListEntries' does: the texts
-- open under the keyset of the same snapshot.
select sqlc.embed(a), d.status as queue_status, d.due_at as queue_due_at,
       case when row_number() over w = 1 then
         exists (select from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_visible,
       case when row_number() over w = 1 then
         (select p.keyset from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_keyset,
       case when row_number() over w = 1 then
         (select p.shredded_at from app.patients p where p.org_id = @org_id and p.id = @patient_id) end as patient_shredded_at
  from app.record_amendments a
  left join app.dsr_requests d on d.org_id = a.org_id and d.id = a.dsr_id
 where a.org_id = @org_id and a.patient_id = @patient_id
window w as (order by a.requested_at, a.id)
 order by a.requested_at, a.id;

-- name: AmendmentVisible :one
select exists (select from app.record_amendments a
                where a.org_id = @org_id and a.patient_id = @patient_id and a.id = @id)::bool as visible;

-- name: DecideAmendment :one
update app.record_amendments
   set status = @status, denial_basis = sqlc.narg('denial_basis'), decision_enc = @decision_enc
 where org_id = @org_id and patient_id = @patient_id and id = @id
returning *;

-- name: DisagreeAmendment :one
update app.record_amendments set disagreement_enc = @disagreement_enc
 where org_id = @org_id and patient_id = @patient_id and id = @id
returning *;

-- name: RebutAmendment :one
update app.record_amendments set rebuttal_enc = @rebuttal_enc
 where org_id = @org_id and patient_id = @patient_id and id = @id
returning *;

-- name: EntryAmendmentMarks :many
-- Which of the entries listed amendments name (§164.526(c)(1), (d)(4):
-- an amended or disputed entry is shown with a link to its amendment),
-- without their texts.
select a.entry_id::uuid as entry_id, a.id, a.status, a.decided_at,
       (a.disagreement_at is not null)::bool as disagreement_filed
  from app.record_amendments a
 where a.org_id = @org_id and a.patient_id = @patient_id and a.entry_id = any (@entry_ids::uuid[])
 order by a.requested_at, a.id;
