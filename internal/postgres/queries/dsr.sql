-- Data-subject requests (migration 00149). The database sets received_at,
-- due_at, extended_*, closed_* and status on its own (private.dsr_guard);
-- RLS decides who files, sees, extends and closes.

-- name: OpenDSR :one
insert into app.dsr_requests (org_id, kind, patient_id, subject_user_id, requested_by, due_at)
values (@org_id, @kind, sqlc.narg('patient_id'), sqlc.narg('subject_user_id'), @requested_by, now())
returning id, kind, patient_id, subject_user_id, requested_by, received_at, due_at, extended_at, extended_by,
          extension_reason, status, closed_at, closed_by, (status = 'open' and now() > due_at) as overdue;

-- name: ListDSR :many
select id, kind, patient_id, subject_user_id, requested_by, received_at, due_at, extended_at, extended_by,
       extension_reason, status, closed_at, closed_by, (status = 'open' and now() > due_at) as overdue
  from app.dsr_requests
 where org_id = @org_id
   and (sqlc.narg('status')::text is null or status = sqlc.narg('status')::text)
   and (sqlc.narg('patient_id')::uuid is null or patient_id = sqlc.narg('patient_id')::uuid)
 order by case when status = 'open' then 0 else 1 end, due_at, id
 limit @max::int;

-- name: GetDSR :one
select id, kind, patient_id, subject_user_id, requested_by, received_at, due_at, extended_at, extended_by,
       extension_reason, status, closed_at, closed_by, (status = 'open' and now() > due_at) as overdue
  from app.dsr_requests
 where org_id = @org_id and id = @id;

-- name: ExtendDSR :one
update app.dsr_requests set extension_reason = @reason
 where org_id = @org_id and id = @id
returning id, kind, patient_id, subject_user_id, requested_by, received_at, due_at, extended_at, extended_by,
          extension_reason, status, closed_at, closed_by, (status = 'open' and now() > due_at) as overdue;

-- name: CloseDSR :one
update app.dsr_requests set status = @status
 where org_id = @org_id and id = @id
returning id, kind, patient_id, subject_user_id, requested_by, received_at, due_at, extended_at, extended_by,
          extension_reason, status, closed_at, closed_by, (status = 'open' and now() > due_at) as overdue;

-- name: DSRDueReminders :many
select r.org_id::uuid as org_id, r.dsr_id::uuid as dsr_id, r.kind::text as kind, r.dsr_kind::text as dsr_kind,
       r.user_id::uuid as user_id, r.email_enc::bytea as email_enc, r.due_at::timestamptz as due_at
  from app.dsr_due_reminders(@max::int) r;
