-- The LLM gateway's subprocessor registry (issue 10 §2): the upstreams Ward
-- may send de-identified prompts to. Only operators write it (ward_ops, or
-- the migration login); the server (ward_app) reads it to gate every call:
-- a provider without an executed BAA or a zero-data-retention attestation,
-- or a model outside its allowed list, is refused before anything leaves.
-- Ward's own API key for a provider is configured on the server, never
-- stored here. The gateway's calls are audited as ai.invoke (counts per
-- PHI type, model, tokens; never content).

-- +goose Up
set local role ward_owner;

create table app.gateway_providers (
  name text primary key check (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
  base_url text not null check (base_url ~ '^https?://[^[:space:]]+$' and length(base_url) <= 500),
  -- the date the business associate agreement was executed; null: none
  baa_signed_at timestamptz,
  baa_ref text check (length(baa_ref) between 1 and 200),
  zero_retention boolean not null default false,
  -- the models calls may name; empty: any
  models text[] not null default '{}' check (cardinality(models) <= 100),
  region text check (length(region) between 1 and 64),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table app.gateway_providers enable row level security;
alter table app.gateway_providers force row level security;
create policy gateway_providers_read on app.gateway_providers for select to ward_app using (true);
create policy gateway_providers_ops on app.gateway_providers for all to ward_ops using (true) with check (true);
grant select on app.gateway_providers to ward_app;
grant select, insert, update, delete on app.gateway_providers to ward_ops;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('ai.invoke', 'access', true, false, false, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
