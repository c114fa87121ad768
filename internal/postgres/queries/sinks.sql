-- SIEM sinks (internal/audit/sink). An admin's session configures its
-- org's sinks (RLS); the deliverer, as ward_audit_reader, reads every
-- org's and moves only cursors and delivery state.

-- name: CreateSink :exec
insert into app.audit_sinks (org_id, id, kind, name, endpoint, format, batch_max, secret_enc, overlap_s,
  disable_after_s, cursor_seq, created_by)
values (@org_id, @id, @kind, @name, @endpoint, @format, @batch_max, sqlc.narg('secret_enc')::bytea, @overlap_s,
  @disable_after_s, @cursor_seq, sqlc.narg('created_by')::uuid);

-- name: ListSinks :many
select id, org_id, kind, name, endpoint, format, batch_max, enabled, overlap_s, disable_after_s, cursor_seq,
  last_attempt_at, last_success_at, coalesce(last_error, '')::text as last_error, failing_since, disabled_at, created_at,
  coalesce(paused_reason, '')::text as paused_reason
from app.audit_sinks
where org_id = @org_id and (sqlc.narg('id')::uuid is null or id = sqlc.narg('id'))
order by created_at, id;

-- name: OrgLogSize :one
select coalesce(max(seq), 0)::bigint as size from audit.leaves where org_id = @org_id;

-- name: SetSinkEnabled :execrows
update app.audit_sinks set enabled = @enabled, updated_at = now(),
  disabled_at = case when @enabled then null else disabled_at end,
  failing_since = case when @enabled then null else failing_since end,
  attempts = case when @enabled then 0 else attempts end,
  next_attempt_at = case when @enabled then null else next_attempt_at end
where org_id = @org_id and id = @id;

-- name: DeleteSink :one
delete from app.audit_sinks where org_id = @org_id and id = @id returning kind, name;

-- name: LockSinkKind :one
select kind from app.audit_sinks where org_id = @org_id and id = @id for update;

-- name: RotateSinkSecret :exec
update app.audit_sinks set prev_secret_enc = secret_enc, prev_expires_at = now() + make_interval(secs => overlap_s),
  secret_enc = @secret_enc, updated_at = now()
where org_id = @org_id and id = @id;

-- name: ListDueSinks :many
select id, org_id, kind, endpoint, format, batch_max, cursor_seq, attempts, secret_enc, prev_secret_enc,
  prev_expires_at
from app.audit_sinks
where enabled and disabled_at is null and (next_attempt_at is null or next_attempt_at <= now())
order by org_id, id;

-- name: SinkStillDue :one
-- Read just before a batch is sent: the pass listed its sinks before the
-- org's turn began, and a sink disabled, paused, deleted or moved on by
-- another deliverer since then is sent nothing more.
select exists (select from app.audit_sinks
  where org_id = @org_id and id = @id and cursor_seq = @cursor_seq and enabled and disabled_at is null);

-- name: AdvanceSinkCursor :execrows
-- Only while the sink is still enabled: a sink disabled or paused (its
-- admin revoked) mid-pass stops after the batch in flight, which is sent
-- again once it is enabled.
update app.audit_sinks set cursor_seq = @to_seq, attempts = 0, next_attempt_at = null, last_attempt_at = now(),
  last_success_at = now(), last_error = null, failing_since = null
where org_id = @org_id and id = @id and cursor_seq = @from_seq and enabled and disabled_at is null;

-- name: RecordSinkFailure :exec
update app.audit_sinks set attempts = @attempts, last_attempt_at = now(), last_error = @last_error,
  next_attempt_at = now() + make_interval(secs => @retry_in::float8), failing_since = coalesce(failing_since, now()),
  disabled_at = case when coalesce(failing_since, now()) < now() - make_interval(secs => disable_after_s) then now() end
where org_id = @org_id and id = @id;
