-- An admin deletes one of the org's audit sinks (DELETE
-- /v1/audit/sinks/{id}). Before, a sink could only be disabled: an org
-- that reached its 10 sinks (app.audit_sinks_limit counts disabled ones
-- too) could never add another, and a Splunk sink's token, which
-- "rotates by recreating the sink", could not be replaced at all.
--
-- The row goes (nothing references it; the events it delivered stay in
-- the log, and the deletion is an audit.sink.delete event written in the
-- same transaction by the server). Who may: the same admins' sessions the
-- update policy admits (RLS), and, checked by the database itself in a
-- trigger (app.audit_sinks_deleting, which reads the caller's principal,
-- never an argument): a session, not an API key; not break-glass; stepped
-- up within the last 10 minutes, as the route is. Without a principal (an
-- operator's SQL) nothing is checked.
-- +goose Up
set local role ward_owner;

create policy audit_sinks_delete on app.audit_sinks for delete to ward_app
  using (org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id()))
         and coalesce((select c.role from private.principal_cached c), (select private.get_my_role())) = 'admin'
         and not coalesce((select c.is_key from private.principal_cached c), (select private.is_key())));
grant delete on app.audit_sinks to ward_app;

-- +goose StatementBegin
create function app.audit_sinks_deleting() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is null then
    -- No credential: an operator's statement.
    return old;
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are deleted by an admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return old;
end $$;
-- +goose StatementEnd
alter function app.audit_sinks_deleting() owner to ward_definer;
create trigger audit_sinks_deleting before delete on app.audit_sinks
  for each row execute function app.audit_sinks_deleting();

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('audit.sink.delete', 'audit', false, false, false, '{object}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
