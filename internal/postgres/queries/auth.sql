-- Sign-in, sessions, members and policies (internal/auth). Every
-- tenant-scoped query also filters on org_id: RLS is the backstop.

-- name: ListSessions :many
select id, org_id, created_at, last_seen_at, idle_timeout_min, absolute_expires_at, revoked_at,
  coalesce(user_agent, '')::text as user_agent, (device_forgotten_at is not null)::bool as device_forgotten
from app.sessions
where org_id = @org_id and user_id = @user_id
order by created_at desc
limit 200;

-- name: RevokeSession :execrows
update app.sessions
set revoked_at = now(), revoked_reason = @reason::text
where org_id = @org_id and id = @id and user_id = @user_id and revoked_at is null;

-- name: ListMembers :many
select m.user_id, m.role, m.created_at, m.revoked_at, u.email_enc
from app.memberships m
left join app.users u on u.id = m.user_id
where m.org_id = @org_id
order by m.created_at;

-- name: GetOrgPolicy :one
select session_idle_timeout_min, session_absolute_max_min
from app.orgs
where id = @org_id;

-- name: GetAssurancePolicy :one
select require_mfa, require_passkey
from app.orgs
where id = @org_id;

-- name: SetAssurancePolicy :one
select app.set_assurance_policy(@require_mfa, @require_passkey, sqlc.narg('request')::text)::int as ended;

-- name: Logout :one
select app.logout(sqlc.narg('request')::text)::boolean as ok;

-- name: GetInstancePolicy :one
select link_ttl_min, link_window_min, link_max_per_address, link_max_per_source,
  link_max_per_address_all, session_idle_max_min, session_absolute_max_min
from app.instance_policy;

-- name: SetInstancePolicy :exec
update app.instance_policy set
  link_ttl_min = coalesce(sqlc.narg('link_ttl_min')::int, link_ttl_min),
  link_window_min = coalesce(sqlc.narg('link_window_min')::int, link_window_min),
  link_max_per_address = coalesce(sqlc.narg('link_max_per_address')::int, link_max_per_address),
  link_max_per_source = coalesce(sqlc.narg('link_max_per_source')::int, link_max_per_source),
  link_max_per_address_all = coalesce(sqlc.narg('link_max_per_address_all')::int, link_max_per_address_all),
  session_idle_max_min = coalesce(sqlc.narg('session_idle_max_min')::int, session_idle_max_min),
  session_absolute_max_min = coalesce(sqlc.narg('session_absolute_max_min')::int, session_absolute_max_min),
  updated_at = now();

-- name: RequestMagicLink :one
select status, org_id, user_id, email_enc, ttl_min, retry_after_s
from app.request_magic_link(@email_bidx, sqlc.narg('org_id')::uuid, @token_hash, sqlc.narg('verifier_hash')::bytea,
  sqlc.narg('ip')::text::inet, @ip_hash, sqlc.narg('request')::text, sqlc.narg('ua')::text,
  sqlc.narg('device_hash')::bytea);

-- name: ConsumeMagicLink :one
select status, session_id, user_id, org_id, absolute_expires_at, idle_timeout_min
from app.consume_magic_link(@token_hash, sqlc.narg('verifier_hash')::bytea, @session_hash, sqlc.narg('ip')::text::inet,
  sqlc.narg('ua')::text, sqlc.narg('request')::text);

-- name: SetSessionPolicy :exec
select app.set_session_policy(@idle_min, @absolute_min, sqlc.narg('request')::text);

-- name: AddMember :one
select user_id, email_enc, invite_ttl_min
from app.add_member(@user_id, @email_bidx, @email_enc, @role, sqlc.narg('request')::text,
  sqlc.narg('invite_hash')::bytea);

-- name: UpdateMember :exec
select app.update_member(@user_id, sqlc.narg('role')::text, @revoke, sqlc.narg('request')::text);

-- name: CreateOrg :one
select org_id, admin_id
from app.create_org(@name, @aead, @prf, @admin_id, @admin_bidx, @admin_email_enc, @org_id);

-- name: IssueOperatorLink :exec
select org_id, user_id, ttl_min from app.issue_operator_link(@email_bidx, sqlc.narg('org_id')::uuid, @token_hash);

-- name: AppendMemberList :exec
select audit.append(@org_id, 'member.list', 'success', p_results => @results::uuid[],
  p_request => sqlc.narg('request')::text, p_details => jsonb_build_object('count', @count::int));

-- name: AppendSessionRevoke :exec
select audit.append(@org_id, 'session.revoke', 'success', 'session', @session_id,
  p_request => sqlc.narg('request')::text, p_details => jsonb_build_object('reason', @reason::text));

-- name: TOTPEnrol :exec
select app.totp_enrol(@secret_enc, @secret_hash, sqlc.narg('request')::text);

-- name: TOTPSecret :one
select secret_enc, confirmed, locked_until from app.totp_secret();

-- name: TOTPVerify :one
select app.totp_verify(@secret, @code, sqlc.narg('request')::text, sqlc.narg('ip')::text,
  sqlc.narg('ua')::text)::text as status;

-- name: TOTPReplace :one
select status, confirm_by from app.totp_replace(@secret_enc, @secret_hash, sqlc.narg('request')::text);

-- name: TOTPPendingSecret :one
select secret_enc, confirm_by from app.totp_pending_secret();

-- name: TOTPConfirm :one
select status, email_enc from app.totp_confirm(sqlc.narg('secret')::bytea, @code, sqlc.narg('request')::text,
  sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: RecoveryCodesGenerate :exec
select app.recovery_codes_generate(@hashes::bytea[], sqlc.narg('request')::text);

-- name: RecoveryCodeUse :one
select status, remaining, email_enc
from app.recovery_code_use(@code_hash, sqlc.narg('request')::text, sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: RotateSession :one
select app.rotate_session(@new_hash)::timestamptz as absolute_expires_at;

-- name: CreateAPIKey :one
select app.create_api_key(@key_hash, @prefix, @name, @scopes::text[], sqlc.narg('expires_at')::timestamptz,
  sqlc.narg('request')::text)::uuid as id;

-- name: APIKeyCreatedAt :one
select created_at from app.api_keys where org_id = @org_id and id = @id;

-- name: ListAPIKeys :many
select id, prefix, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at
from app.api_keys
where org_id = @org_id
order by created_at desc
limit 500;

-- name: RevokeAPIKey :one
select app.revoke_api_key(@id, sqlc.narg('request')::text)::boolean as ok;

-- name: AppendAPIKeyList :exec
select audit.append(@org_id, 'api_key.list', 'success', p_request => sqlc.narg('request')::text,
  p_details => jsonb_build_object('count', @count::int));

-- name: PasskeyBegin :one
select challenge, user_handle, email_enc, credential_ids::bytea[] as credential_ids, expires_at
from app.passkey_begin(@purpose, @rp_id, @origin, sqlc.narg('binder_hash')::bytea);

-- name: PasskeyTake :one
select status, rp_id, origin, user_handle, expires_at
from app.passkey_take(@challenge, @purpose, sqlc.narg('binder_hash')::bytea, sqlc.narg('request')::text,
  sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: PasskeyCredential :one
select id, org_id, user_id, public_key, sign_count, backup_eligible, backup_state, aaguid
from app.passkey_credential(@challenge, @credential_id, @user_handle);

-- name: PasskeyRegister :one
select status, passkey_id
from app.passkey_register(@challenge, @client_data, @auth_data, @public_key, @name, @transports::text[],
  sqlc.narg('request')::text, sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: PasskeyAssert :one
select status, session_id, user_id, org_id, absolute_expires_at, idle_timeout_min
from app.passkey_assert(@challenge, @credential_id, @client_data, @auth_data, sqlc.narg('session_hash')::bytea,
  sqlc.narg('request')::text, sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: PasskeyRefuse :exec
select app.passkey_refuse(@challenge, sqlc.narg('credential_id')::bytea, @reason, sqlc.narg('request')::text,
  sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: ListPasskeys :many
select id, name, aaguid, backup_eligible, backup_state, sign_count, transports, created_at, last_used_at
from app.passkeys
where org_id = @org_id and user_id = @user_id
order by created_at;

-- name: AppendPasskeyList :exec
select audit.append(@org_id, 'passkey.list', 'success', p_request => sqlc.narg('request')::text,
  p_details => jsonb_build_object('count', @count::int));

-- name: PasskeyRename :one
select app.passkey_rename(@id, @name, sqlc.narg('request')::text)::boolean as ok;

-- name: PasskeyDelete :one
select app.passkey_delete(@id, sqlc.narg('request')::text)::text as status;

-- name: TOTPDelete :one
select status, email_enc from app.totp_delete(sqlc.narg('request')::text);

-- name: MemberTOTPReset :one
select status, email_enc from app.member_totp_reset(@user_id, sqlc.narg('request')::text);

-- name: MemberRecoveryCodesVoid :one
select status, email_enc from app.member_recovery_codes_void(@user_id, sqlc.narg('request')::text);

-- name: OwnEmail :one
select app.own_email()::bytea as email_enc;

-- name: NoteEmailDomain :exec
select app.note_email_domain(@email_bidx, @domain_bidx);

-- name: ForgetSessionDevice :one
select forgotten, ended, others_ended from app.forget_session_device(@session_id, sqlc.narg('request')::text);

-- name: LinkLanding :one
select status, unbound, org_name, user_id, email_enc, signed_in
from app.link_landing(@token_hash);

-- name: RotateDPoPJTIs :one
-- The DPoP jti memory's stale ring truncated if due now, on the database's
-- clock (migration 00236; auth.RotateDPoPJTIs).
select app.dpop_jti_rotate()::boolean as rotated;
