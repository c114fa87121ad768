-- The LLM gateway's subprocessor registry (internal/gateway).

-- name: GetGatewayProvider :one
select name, base_url, baa_signed_at, baa_ref, zero_retention, models, region
  from app.gateway_providers
 where name = $1;

-- name: ListGatewayProviders :many
select name, base_url, baa_signed_at, baa_ref, zero_retention, models, region
  from app.gateway_providers
 order by name;

-- name: PutGatewayProvider :exec
insert into app.gateway_providers (name, base_url, baa_signed_at, baa_ref, zero_retention, models, region)
values (@name, @base_url, @baa_signed_at, @baa_ref, @zero_retention, @models, @region)
on conflict (name) do update
   set base_url = excluded.base_url, baa_signed_at = excluded.baa_signed_at, baa_ref = excluded.baa_ref,
       zero_retention = excluded.zero_retention, models = excluded.models, region = excluded.region,
       updated_at = now();

-- The caller's org gateway policy (app.orgs, read under RLS: the
-- credential's org only).
-- name: GetGatewayPolicy :one
select gateway_providers, gateway_models, gateway_dates, gateway_zip, gateway_allow, gateway_keep,
       gateway_requests_per_minute, gateway_tokens_per_minute
  from app.orgs
 where id = @org_id;

-- name: SetGatewayPolicy :exec
select app.set_gateway_policy(@providers::text[], @models::text[], @dates::text, @zip::text, @allow::text[], @keep::text[],
  @requests_per_minute::int, @tokens_per_minute::int, sqlc.narg('request')::text);

-- name: OpsEnableGatewayProvider :exec
select app.ops_enable_gateway_provider(@org_id::uuid, @provider::text);
