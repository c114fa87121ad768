-- A legal hold's release is dated by the database (LOW, the helper-175
-- review of data-subject requests, holds and retention: defence in depth).
-- ward_app may name released_at (it sets it to now() through
-- ReleaseHold), and neither policy legal_holds_update nor trigger
-- legal_holds_release (00309) looked at the value: a stepped-up admin's
-- statement that reached an update of app.legal_holds (a server bug, a
-- console form) could date a release a year back, so the holds list said
-- the hold ended before the documents it kept were deleted, or a year
-- ahead, so a hold that the purge and the shred already ignored
-- (released_at is set) read as lifted only later. The operator's statement
-- (no credential) kept any date too. As the receipt and deadlines of a
-- data-subject request are the database's (private.dsr_guard, 00149), the
-- trigger now sets released_at to the transaction's time on every
-- release, whatever the statement names; who may release is unchanged.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.legal_holds_release() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
begin
  if old.released_at is not null or new.released_at is null then
    return new;
  end if;
  -- (00335) a release is dated now, whatever the statement named.
  new.released_at := now();
  if private.credential_hash() is null then
    -- No credential: an operator's statement (ward_app binds one to
    -- every transaction it runs for a caller).
    return new;
  end if;
  -- A pending credential (a second factor or device binding still owed)
  -- resolves to no principal here: refused.
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: a legal hold is released by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return new;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
