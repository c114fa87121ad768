-- A break-glass session could place or release a legal hold in SQL: holds
-- are written under row-level security (an admin's session, not a key),
-- not through a definer function, so nothing in the database asked whether
-- the admin's session was emergency access. The server refuses it first
-- (the hold routes need a step-up, which break-glass never passes), so
-- only a server bug or an injected statement could reach it; but releasing
-- a hold lets the cleanup role delete what litigation needs kept, and
-- break-glass "changes no configuration or credential" is the database's
-- rule elsewhere (00161, 00209, 00215).
--
-- app.legal_holds_break_glass (before insert or update) refuses both under
-- a break-glass principal (42501, break_glass_not_allowed). A statement
-- without a principal (an operator's SQL) is not concerned.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.legal_holds_break_glass() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if coalesce((select me.break_glass from private.me() me), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.legal_holds_break_glass() owner to ward_definer;
create trigger legal_holds_break_glass before insert or update on app.legal_holds
  for each row execute function app.legal_holds_break_glass();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
