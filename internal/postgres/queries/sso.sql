-- Per-org SSO (migrations/00052). app.sso_begin returns a set sqlc cannot
-- type: internal/sso/procedures.go.

-- name: CreateSSOConnection :one
select app.create_sso_connection(@id, @kind, @name, sqlc.narg('issuer')::text, sqlc.narg('client_id')::text,
  sqlc.narg('client_secret_enc')::bytea, @signing_algs::text[], @trusted_amr::text[], @trusted_acr::text[], @jit::boolean,
  @jit_role::text, sqlc.narg('request')::text)::uuid as id;

-- name: SSOConnectionCreatedAt :one
select created_at from app.sso_connections where org_id = @org_id and id = @id;

-- name: DeleteSSOConnection :one
select app.delete_sso_connection(@id, sqlc.narg('request')::text)::boolean as ok;

-- name: ListSSOConnections :many
select id, kind, name, issuer, client_id, signing_algs, trusted_amr, trusted_acr, jit, jit_role, created_by, created_at
from app.sso_connections
where org_id = @org_id
order by created_at
limit 100;

-- name: ClaimSSODomain :exec
select app.claim_sso_domain(@domain, @connection_id, sqlc.narg('request')::text, @domain_bidx);

-- name: ListSSODomains :many
select domain, connection_id, verified_at, verified_by, created_at, verify_token
from app.sso_domains
where org_id = @org_id
order by domain
limit 1000;

-- name: SetSSOPolicy :exec
select app.set_sso_policy(@enforce::boolean, sqlc.narg('request')::text);

-- name: GetSSOPolicy :one
select enforce_sso from app.orgs where id = @org_id;

-- name: SSOTake :one
select status, org_id, connection_id, kind, issuer, client_id, client_secret_enc,
  coalesce(signing_algs, '{}')::text[] as signing_algs
from app.sso_take(@state_hash, sqlc.narg('binder_hash')::bytea, sqlc.narg('request')::text, sqlc.narg('ip')::text,
  sqlc.narg('ua')::text);

-- name: SSOFailure :exec
select app.sso_failure(@state_hash, @reason, sqlc.narg('request')::text, sqlc.narg('ip')::text, sqlc.narg('ua')::text);

-- name: SSOComplete :one
select status, session_id, user_id, org_id, absolute_expires_at, idle_timeout_min, aal
from app.sso_complete(@state_hash, @subject_hash, sqlc.narg('user_id')::uuid, sqlc.narg('email_bidx')::bytea,
  sqlc.narg('email_enc')::bytea, @email_verified::boolean, sqlc.narg('email_domain')::text, @amr::text[],
  sqlc.narg('acr')::text, @session_hash, sqlc.narg('ip')::text::inet, sqlc.narg('ua')::text, sqlc.narg('request')::text,
  sqlc.narg('auth_time')::timestamptz, sqlc.narg('hd')::text);

-- name: UnlinkSSOIdentities :one
select app.unlink_sso_identities(@connection_id, @user_id, sqlc.narg('request')::text)::integer as n;

-- name: CreateSAMLConnection :one
select app.create_saml_connection(@id, @name, @idp_metadata, @trusted_acr::text[], @jit::boolean, @jit_role::text,
  @allow_idp_initiated::boolean, sqlc.narg('request')::text)::uuid as id;

-- name: SAMLIdPBegin :one
select app.saml_idp_begin(@connection_id, @state_hash, sqlc.narg('request')::text, sqlc.narg('ip')::text,
  sqlc.narg('ua')::text)::boolean as ok;

-- name: SSOAssertionOnce :one
select app.sso_assertion_once(@state_hash, @id_hash, @expires_at::timestamptz)::boolean as ok;

-- name: SSODomainToken :one
select verify_token from app.sso_domains where org_id = @org_id and domain = @domain;

-- name: GetSSODomain :one
select domain, connection_id, verified_at, verified_by, created_at, verify_token
from app.sso_domains
where org_id = @org_id and domain = @domain;

-- name: VerifySSODomainDNS :exec
select app.verify_sso_domain_dns(@domain, @token, sqlc.narg('request')::text);

-- name: SSODomainVerifyFailed :exec
select app.sso_domain_verify_failed(@domain, @reason, sqlc.narg('request')::text);

-- name: FillSSODomainBidx :exec
select app.fill_sso_domain_bidx(@domain, @domain_bidx);

-- name: SAMLIdPPreview :one
-- The user an IdP-initiated SAML response's subject is linked to on the
-- connection, and their sealed address (nulls when it is linked to no one).
select user_id, email_enc from app.saml_idp_preview(@connection_id, @subject_hash);
