-- SCIM 2.0 provisioning (migrations/00050): the token's own procedures (app.scim_me and
-- app.scim_users return sets sqlc cannot type: internal/scim/procedures.go).

-- name: CreateSCIMToken :one
select app.create_scim_token(@token_hash, @prefix, @name, @default_role, sqlc.narg('request')::text)::uuid as id;

-- name: SCIMTokenCreatedAt :one
select created_at from app.scim_tokens where org_id = @org_id and id = @id;

-- name: ListSCIMTokens :many
select id, prefix, name, default_role, created_by, created_at, last_used_at, revoked_at
from app.scim_tokens
where org_id = @org_id
order by created_at desc
limit 500;

-- name: RevokeSCIMToken :one
select app.revoke_scim_token(@id, sqlc.narg('request')::text)::boolean as ok;

-- name: SCIMCreateUser :one
select app.scim_create_user(@user_id, @email_bidx, @email_enc, sqlc.narg('external_id')::text,
  sqlc.narg('request')::text)::uuid as id;

-- name: SCIMUpdateUser :one
select app.scim_update_user(@user_id, @email_bidx, sqlc.narg('external_id')::text, sqlc.narg('attrs_enc')::bytea,
  @active::boolean, sqlc.narg('request')::text)::int as version;

-- name: SCIMDeleteUser :exec
select app.scim_delete_user(@user_id, sqlc.narg('request')::text);

-- name: SCIMFailure :exec
select app.scim_failure(@reason, sqlc.narg('object')::uuid, sqlc.narg('request')::text, sqlc.narg('ip')::text,
  sqlc.narg('ua')::text);

-- name: SCIMPutGroup :one
select app.scim_put_group(sqlc.narg('id')::uuid, @display_name, sqlc.narg('external_id')::text, @members::uuid[],
  sqlc.narg('request')::text)::uuid as id;

-- name: SCIMDeleteGroup :exec
select app.scim_delete_group(@id, sqlc.narg('request')::text);

-- name: SetSCIMGroupRole :exec
select app.set_scim_group_role(@group_id, sqlc.narg('role')::text, sqlc.narg('request')::text);

-- name: ListSCIMGroups :many
select g.id, g.display_name, g.external_id, g.role,
       (select count(*) from app.scim_group_members gm where gm.org_id = g.org_id and gm.group_id = g.id) as members
from app.scim_groups g
where g.org_id = @org_id
order by g.display_name
limit 1000;
