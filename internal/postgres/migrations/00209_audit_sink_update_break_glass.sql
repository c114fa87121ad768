-- A break-glass session could change an audit sink in SQL: the database
-- refused it the creation and re-enabling of a sink (00202) and its
-- deletion (00208), but not any other update ward_app may make (name,
-- format, batch size, secret, overlap, and enabled = false). The server
-- refuses emergency access on every sink route first, so only a server
-- bug or an injected statement could reach it; but switching the org's
-- SIEM streams off is what someone misusing emergency access would want,
-- and break-glass "changes no configuration or credential" is the
-- database's rule elsewhere.
--
-- app.audit_sinks_break_glass (before update) refuses a statement's own
-- update of a sink under a break-glass principal (42501,
-- break_glass_not_allowed), but an update that enables a sink, which
-- app.audit_sinks_standing (00202) checks, break-glass included: each
-- update meets one of the two checks. An update made by another trigger
-- (app.membership_revoked pausing a revoked admin's sinks) is left to the
-- rules of the change that fired it, and one without a principal (the
-- deliverer's cursor, an operator's SQL) is not concerned.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.audit_sinks_break_glass() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.enabled and not old.enabled then
    return new; -- app.audit_sinks_standing's
  end if;
  if pg_catalog.pg_trigger_depth() = 1 and coalesce((select me.break_glass from private.me() me), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.audit_sinks_break_glass() owner to ward_definer;
create trigger audit_sinks_break_glass before update on app.audit_sinks
  for each row execute function app.audit_sinks_break_glass();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
