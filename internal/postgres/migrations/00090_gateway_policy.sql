-- The LLM gateway's per-org policy (issue 10 §2, §3, §5) and the audit of
-- the subprocessor registry.
--
-- Each org enables the providers its calls may go to and, optionally,
-- narrows their models; a call to a provider the org has not enabled, or
-- naming a model outside the org's list, is refused at the gate like a
-- provider without a BAA. The policy also sets how dates and ZIP codes are
-- handled (mask, or shift / the Safe Harbor three-digit rule), which content
-- Ward cannot de-identify may pass anyway (images, documents, server tools,
-- MCP servers: refused unless listed), and the org's rate limits (requests
-- and tokens per minute). The policy lives on app.orgs, which every live
-- credential of the org reads under RLS (orgs_select); only
-- app.set_gateway_policy writes it: an org admin's session at AAL2 with a
-- second factor in the last 10 minutes (step-up), audited with the old and
-- the new values.
--
-- Orgs that exist when this migration runs keep working: they get every
-- provider already registered enabled. New orgs start with none (an admin
-- enables the gateway deliberately).
--
-- Registry changes (app.gateway_providers, written by operators only) are
-- audited in the instance log (org ffffffff-…) by a trigger, whoever makes
-- them and however (the CLI or plain SQL): gateway.provider.register,
-- .update and .remove, with the fields that gate calls.

-- +goose Up
set local role ward_owner;

alter table app.orgs
  add column gateway_providers text[] not null default '{}'
    check (cardinality(gateway_providers) <= 20 and array_position(gateway_providers, null) is null),
  add column gateway_models text[] not null default '{}'
    check (cardinality(gateway_models) <= 100 and array_position(gateway_models, null) is null),
  add column gateway_dates text not null default 'mask' check (gateway_dates in ('mask', 'shift')),
  add column gateway_zip text not null default 'mask' check (gateway_zip in ('mask', 'zip3')),
  add column gateway_allow text[] not null default '{}'
    check (gateway_allow <@ array['images', 'documents', 'server_tools', 'mcp']::text[]),
  -- categories the org lets through: only those beyond Safe Harbor's
  -- eighteen (organisations); Safe Harbor identifiers are always replaced
  add column gateway_keep text[] not null default '{}'
    check (gateway_keep <@ array['ORGANIZATION']::text[]),
  add column gateway_requests_per_minute int not null default 600
    check (gateway_requests_per_minute between 1 and 100000),
  add column gateway_tokens_per_minute int not null default 2000000
    check (gateway_tokens_per_minute between 1000 and 100000000);
update app.orgs set gateway_providers = coalesce((select array_agg(p.name order by p.name) from app.gateway_providers p), '{}');
grant update (gateway_providers, gateway_models, gateway_dates, gateway_zip, gateway_allow, gateway_keep,
              gateway_requests_per_minute, gateway_tokens_per_minute) on app.orgs to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('org.gateway_policy.update', 'org', false, false, true, '{object}'),
  ('gateway.provider.register', 'org', false, false, true, '{}'),
  ('gateway.provider.update',   'org', false, false, true, '{}'),
  ('gateway.provider.remove',   'org', false, false, true, '{}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- set_gateway_policy replaces the caller's org gateway policy. Only an
-- org admin's session (not a key, not break-glass) at AAL2 that presented
-- a second factor in the last 10 minutes; values are checked here and by
-- the columns' CHECKs. Providers need not be registered yet (an admin may
-- enable one before the operator registers it); the gate requires both.
create function app.set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text,
  p_allow text[], p_keep text[], p_requests_per_minute int, p_tokens_per_minute int, p_request text default null)
returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  old jsonb;
  new jsonb;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_providers is null or p_models is null or p_allow is null or p_keep is null
     or array_position(p_providers, null) is not null or array_position(p_models, null) is not null
     or array_position(p_allow, null) is not null
     or exists (select from unnest(p_providers) x where x !~ '^[a-z][a-z0-9_-]{0,31}$')
     or exists (select from unnest(p_models) x where x !~ '^[A-Za-z0-9._:@/-]{1,100}$') then
    raise exception 'providers are registry names; models are model names (letters, digits and . _ - : @ /)'
      using errcode = '22023';
  end if;
  if not p_allow <@ array['images', 'documents', 'server_tools', 'mcp']::text[] then
    raise exception 'allow lists images, documents, server_tools and mcp' using errcode = '22023';
  end if;
  if not p_keep <@ array['ORGANIZATION']::text[] then
    raise exception 'keep may list ORGANIZATION only: Safe Harbor identifiers are always replaced' using errcode = '22023';
  end if;
  if p_dates is null or p_dates not in ('mask', 'shift') or p_zip is null or p_zip not in ('mask', 'zip3') then
    raise exception 'dates is mask or shift; zip is mask or zip3' using errcode = '22023';
  end if;
  if p_requests_per_minute is null or p_requests_per_minute not between 1 and 100000
     or p_tokens_per_minute is null or p_tokens_per_minute not between 1000 and 100000000 then
    raise exception 'requests_per_minute is 1..100000; tokens_per_minute is 1000..100000000' using errcode = '22023';
  end if;
  select jsonb_build_object('providers', to_jsonb(o.gateway_providers), 'models', to_jsonb(o.gateway_models),
           'dates', o.gateway_dates, 'zip', o.gateway_zip, 'allow', to_jsonb(o.gateway_allow),
           'keep', to_jsonb(o.gateway_keep), 'requests_per_minute', o.gateway_requests_per_minute, 'tokens_per_minute', o.gateway_tokens_per_minute)
    into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set
    gateway_providers = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_providers) x),
    gateway_models = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_models) x),
    gateway_dates = p_dates, gateway_zip = p_zip,
    gateway_allow = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_allow) x),
    gateway_keep = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_keep) x),
    gateway_requests_per_minute = p_requests_per_minute, gateway_tokens_per_minute = p_tokens_per_minute
   where o.id = me.org_id
  returning jsonb_build_object('providers', to_jsonb(o.gateway_providers), 'models', to_jsonb(o.gateway_models),
           'dates', o.gateway_dates, 'zip', o.gateway_zip, 'allow', to_jsonb(o.gateway_allow),
           'keep', to_jsonb(o.gateway_keep), 'requests_per_minute', o.gateway_requests_per_minute, 'tokens_per_minute', o.gateway_tokens_per_minute)
    into new;
  perform audit.append_as(me.org_id, 'org.gateway_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new));
end $$;
-- +goose StatementEnd
alter function app.set_gateway_policy(text[], text[], text, text, text[], text[], int, int, text) owner to ward_definer;
revoke all on function app.set_gateway_policy(text[], text[], text, text, text[], text[], int, int, text) from public;
grant execute on function app.set_gateway_policy(text[], text[], text, text, text[], text[], int, int, text) to ward_app;

-- +goose StatementBegin
-- ops_enable_gateway_provider is the operator's path (ward gateway enable,
-- as ward_ops): it adds one provider to an org's enabled providers,
-- audited in that org's log as a policy change made by the operator. The
-- rest of the policy is the org admins'.
create function app.ops_enable_gateway_provider(p_org uuid, p_provider text) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  old text[];
begin
  if p_provider is null or p_provider !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'a provider is a registry name' using errcode = '22023';
  end if;
  select o.gateway_providers into old from app.orgs o where o.id = p_org for update;
  if not found then
    raise exception 'no such org' using errcode = 'P0002';
  end if;
  if p_provider = any (old) then
    return;
  end if;
  update app.orgs o set gateway_providers = (select array_agg(distinct x order by x) from unnest(old || p_provider) x)
   where o.id = p_org;
  perform audit.append_as(p_org, 'org.gateway_policy.update', 'success', 'org', p_org,
    p_details => jsonb_build_object('enabled_provider', p_provider, 'old_providers', to_jsonb(old),
                                    'by', session_user::text));
end $$;
-- +goose StatementEnd
alter function app.ops_enable_gateway_provider(uuid, text) owner to ward_definer;
revoke all on function app.ops_enable_gateway_provider(uuid, text) from public;
grant execute on function app.ops_enable_gateway_provider(uuid, text) to ward_ops;

-- +goose StatementBegin
-- gateway_provider_audit records every change to the registry in the
-- instance log: what gates calls (BAA date and reference, zero retention,
-- models, region, base URL), and the database role that made it.
create function audit.gateway_provider_audit() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r app.gateway_providers%rowtype;
  action text;
begin
  if tg_op = 'DELETE' then
    r := old; action := 'gateway.provider.remove';
  elsif tg_op = 'INSERT' then
    r := new; action := 'gateway.provider.register';
  else
    r := new; action := 'gateway.provider.update';
  end if;
  perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid, action, 'success',
    p_details => jsonb_build_object('provider', r.name, 'base_url', r.base_url,
      'baa_signed_at', to_char(r.baa_signed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'baa_ref', r.baa_ref, 'zero_retention', r.zero_retention, 'models', to_jsonb(r.models),
      'region', r.region, 'by', session_user::text));
  return null;
end $$;
-- +goose StatementEnd
alter function audit.gateway_provider_audit() owner to ward_definer;
revoke all on function audit.gateway_provider_audit() from public;
create trigger gateway_providers_audit after insert or update or delete on app.gateway_providers
  for each row execute function audit.gateway_provider_audit();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
