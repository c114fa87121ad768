-- Break-glass emergency access (internal/auth/breakglass.go, migration
-- 00060). Every tenant-scoped query also filters on org_id.

-- name: BreakGlassActivate :one
select status, activation_id, session_id, user_id, org_id, absolute_expires_at, idle_timeout_min,
  admin_ids::uuid[] as admin_ids, admin_emails::bytea[] as admin_emails
from app.break_glass_activate(@challenge, @credential_id, @client_data, @auth_data, @session_hash,
  sqlc.narg('request')::text, sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: BreakGlassReason :exec
select app.break_glass_reason(@activation_id, @reason_enc);

-- name: BreakGlassDesignate :one
select app.break_glass_designate(@user_id, @designated, sqlc.narg('request')::text)::boolean as changed;

-- name: BreakGlassReview :one
select app.break_glass_review(@activation_id, @note_enc, sqlc.narg('request')::text)::boolean as ok;

-- name: ListBreakGlassUsers :many
select user_id, designated_by, designated_at
from app.break_glass_users
where org_id = @org_id
order by designated_at;

-- name: ListBreakGlassActivations :many
select id, user_id, session_id, passkey_id, reason_enc, activated_at, expires_at, reviewed_at, reviewed_by,
  review_note_enc
from app.break_glass_activations
where org_id = @org_id and (not @open_only::boolean or reviewed_at is null)
order by activated_at desc
limit 500;

-- name: AppendBreakGlassList :exec
select audit.append(@org_id, 'break_glass.list', 'success', p_request => sqlc.narg('request')::text,
  p_details => jsonb_build_object('count', @count::int, 'open_only', @open_only::boolean));
