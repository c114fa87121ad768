-- An audit sink's creation and every change to it but re-enabling, and a
-- legal hold's placing, need an admin's session that stepped up, decided
-- by the database (an attacker's review of the admin routes, MEDIUM:
-- defence in depth). The routes (POST /v1/audit/sinks, PATCH
-- /v1/audit/sinks/{id}, POST /v1/audit/sinks/{id}/rotate, POST
-- /v1/legal-holds and the console's hold form) are step-up routes, and the
-- database asks the same of every other admin change (the policies'
-- procedures, members, API keys and SCIM tokens, a sink's deletion
-- (00208), a hold's release (00309)); but for these it asked only what
-- RLS asks, an admin of the org and not an API key, and not break-glass
-- (00202, 00209, 00217). An admin's session whose second factor was hours
-- old that reached the table (a route or console form that forgot the
-- step-up, an injected statement) could add a sink sending the org's log
-- to an endpoint of its choosing, switch the org's SIEM stream off or
-- rotate its webhook secret (the SIEM then rejects what it is sent: the
-- same silence), and place holds that block the retention purge.
--
-- app.audit_sinks_standing (insert, and an update that enables) now also
-- refuses a session whose second factor is older than 10 minutes (or that
-- has none); app.audit_sinks_break_glass (any other update) refuses, for a
-- statement's own update under a bound credential, anything but an admin's
-- session of the sink's org, not break-glass, stepped up within 10
-- minutes. Updates made by another change's trigger (a revoked admin's
-- sinks paused by app.membership_revoked) keep the rules of that change,
-- and the deliverer and an operator bind no credential: neither is asked.
-- app.legal_holds_break_glass refuses an insert under a bound credential
-- but an admin's session of the hold's org at AAL2 stepped up within 10
-- minutes. Error 42501 with hint step_up_required, as 00208 and 00309.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.audit_sinks_standing() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
begin
  if tg_op = 'UPDATE' and not (new.enabled and not old.enabled) then
    return new;
  end if;
  select * into me from private.me();
  if me.kind is null then
    -- No credential: an operator's statement or a migration.
    new.paused_reason := null;
    return new;
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from new.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are configured by an admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.aal < 2 or me.auth_time is null or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  -- The caller's membership, held until this commits (00196's pattern):
  -- a revocation that began first is seen here; one that comes later
  -- waits, then finds this sink as the caller's and pauses it.
  perform from app.memberships m where m.org_id = new.org_id and m.user_id = me.user_id
     and m.revoked_at is null and m.role = 'admin'
     for share;
  if not found then
    raise exception 'forbidden: the caller''s standing changed' using errcode = '42501';
  end if;
  new.created_by := me.user_id;
  new.paused_reason := null;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.audit_sinks_break_glass() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
begin
  if new.enabled and not old.enabled then
    return new; -- app.audit_sinks_standing's
  end if;
  if pg_catalog.pg_trigger_depth() <> 1 or private.credential_hash() is null then
    -- Another change's trigger (its own rules), the deliverer's cursor,
    -- an operator's statement.
    return new;
  end if;
  -- A pending credential resolves to no principal here: refused.
  select * into me from private.me();
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are configured by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time is null or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.legal_holds_break_glass() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  p record;
begin
  if coalesce((select me.break_glass from private.me() me), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if tg_op = 'INSERT' and private.credential_hash() is not null then
    -- A pending credential resolves to no principal here: refused.
    select * into p from private.me();
    if p.kind is distinct from 'session' or p.org_id is distinct from new.org_id or p.role is distinct from 'admin' then
      raise exception 'forbidden: a legal hold is placed by an admin''s session' using errcode = '42501';
    end if;
    if p.aal < 2 or p.auth_time is null or p.auth_time < now() - interval '10 minutes' then
      raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
        hint = 'step_up_required';
    end if;
  end if;
  return new;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
