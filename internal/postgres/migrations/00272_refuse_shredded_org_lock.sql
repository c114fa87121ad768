-- A credential made while its org is being shredded (attacker review of
-- 00268). app.refuse_shredded_org read the org's row without a lock: an
-- insert that began after app.ops_org_shred had taken the row (for
-- update) and before it committed found the org whole, and the foreign
-- key's own lock (for key share, at the end of the statement) only made
-- it wait for the shred; the row then went in. A SCIM token, or a member
-- added by the directory or an invitation, made in that window was live
-- in the shredded org (the shred's updates had run before it existed). The
-- trigger now reads the org's row for key share, the lock the foreign
-- key takes anyway: it waits for a shred in progress and then reads the
-- committed row, shredded; and a shred that starts after it waits for
-- the inserting transaction, whose row its updates then see and end.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.refuse_shredded_org() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  -- Only app.memberships fires on an update (of revoked_at): ending a
  -- membership is always allowed, restoring one is not. (A separate IF:
  -- the other tables have no revoked_at for the expression to name.)
  if tg_op = 'UPDATE' then
    if new.revoked_at is not null then
      return new;
    end if;
  end if;
  -- Locked: a shred holding the row is waited for, then seen.
  select o.shredded_at into shredded from app.orgs o where o.id = new.org_id for key share;
  if shredded is not null then
    raise exception 'the org was crypto-shredded: it takes no new member, credential or key'
      using errcode = '55000', hint = 'org_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.refuse_shredded_org() owner to ward_definer;
revoke all on function app.refuse_shredded_org() from public;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
