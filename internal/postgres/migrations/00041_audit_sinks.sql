-- SIEM streams (issue 11 §2): per-org sinks that receive the org's audit
-- log continuously — HMAC-signed webhooks (Standard Webhooks), syslog over
-- TLS (RFC 5424/5425) and Splunk HEC. Each sink has its own cursor (the
-- last seq it acknowledged), so delivery is at least once, in seq order,
-- and resumes after a restart or an outage.
--
-- Who does what:
--   ward_app    an org admin's session (never an API key) creates, lists,
--               reconfigures and rotates its org's sinks (the route also
--               wants a recent second factor); it cannot move a cursor or
--               the delivery state.
--   ward_audit_reader  the deliverer, which reads every org's log (as the
--               archiver does): reads every sink and updates only the
--               cursor and delivery state; a cursor never moves back.
-- Secrets (a webhook's signing secret, a HEC token) are sealed with the
-- instance AEAD keyset, bound to org and sink; the previous webhook secret
-- stays valid until prev_expires_at (the rotation's overlap window).

-- +goose Up
set local role ward_owner;

create table app.audit_sinks (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  kind text not null check (kind in ('webhook', 'syslog', 'splunk')),
  name text not null check (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$'),
  endpoint text not null check (length(endpoint) between 3 and 500 and endpoint !~ '[[:space:]]'),
  format text not null default 'ocsf' check (format in ('jsonl', 'ocsf', 'fhir')),
  batch_max integer not null default 100 check (batch_max between 1 and 1000),
  enabled boolean not null default true,
  secret_enc bytea,
  prev_secret_enc bytea,
  prev_expires_at timestamptz,
  -- how long a rotated-out secret keeps signing beside the new one
  overlap_s integer not null default 86400 check (overlap_s between 0 and 604800),
  -- a sink failing for longer than this is disabled until an admin re-enables it
  disable_after_s integer not null default 259200 check (disable_after_s between 60 and 2592000),
  cursor_seq bigint not null default 0 check (cursor_seq >= 0),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_success_at timestamptz,
  last_error text check (length(last_error) <= 300),
  failing_since timestamptz,
  disabled_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  unique (org_id, name),
  check ((kind = 'syslog') = (secret_enc is null))
);
alter table app.audit_sinks enable row level security;
alter table app.audit_sinks force row level security;

-- An org admin's session: its own org's sinks.
create policy audit_sinks_select on app.audit_sinks for select to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()));
create policy audit_sinks_insert on app.audit_sinks for insert to ward_app
  with check (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
              and not (select private.is_key()) and cursor_seq >= 0);
create policy audit_sinks_update on app.audit_sinks for update to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()))
  with check (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
              and not (select private.is_key()));
grant select, insert on app.audit_sinks to ward_app;
grant update (name, endpoint, format, batch_max, enabled, secret_enc, prev_secret_enc, prev_expires_at, overlap_s,
              disable_after_s, disabled_at, failing_since, attempts, next_attempt_at, updated_at)
  on app.audit_sinks to ward_app;

-- The deliverer.
create policy audit_sinks_deliverer_select on app.audit_sinks for select to ward_audit_reader using (true);
create policy audit_sinks_deliverer_update on app.audit_sinks for update to ward_audit_reader using (true) with check (true);
grant usage on schema app to ward_audit_reader;
grant select on app.audit_sinks to ward_audit_reader;
grant update (cursor_seq, attempts, next_attempt_at, last_attempt_at, last_success_at, last_error, failing_since,
              disabled_at) on app.audit_sinks to ward_audit_reader;

-- A cursor only moves forward (at least once: what was acknowledged stays
-- acknowledged; a replay is a new sink), and a sink's org never changes.
-- +goose StatementBegin
create function app.audit_sinks_guard() returns trigger
  language plpgsql set search_path = '' as $$
begin
  if new.org_id <> old.org_id or new.id <> old.id or new.kind <> old.kind or new.created_by is distinct from old.created_by
     or new.created_at <> old.created_at then
    raise exception 'audit sink: org, id, kind and creation are fixed' using errcode = '42501';
  end if;
  if new.cursor_seq < old.cursor_seq then
    raise exception 'audit sink: the cursor only moves forward' using errcode = '42501';
  end if;
  return new;
end $$;
-- +goose StatementEnd
create trigger audit_sinks_guard before update on app.audit_sinks
  for each row execute function app.audit_sinks_guard();

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('audit.sink.create', 'audit', false, false, false, '{object}'),
  ('audit.sink.update', 'audit', false, false, false, '{object}'),
  ('audit.sink.rotate', 'audit', false, false, false, '{object}'),
  ('audit.sink.list',   'audit', false, false, false, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
