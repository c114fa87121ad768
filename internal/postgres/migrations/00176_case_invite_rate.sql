-- An attacker's review of cases (2026-12-06) left open: nothing limited how
-- many invitations a member sends. Each one mails its address, so a
-- provider's (or a stolen lead's) session could mail-bomb any address, or
-- spend the instance's mail reputation, through Ward. Now a member sends at
-- most 50 invitations an hour in an org, whatever their role; the 51st is
-- refused with 54000 (hint invite_rate, the seconds until one more is
-- allowed in its detail) and the API answers 429 with Retry-After. The
-- count is taken under a per-author transaction lock, so concurrent
-- inserts cannot both pass at 49.

-- +goose Up
set local role ward_owner;

create index case_invites_author_idx on app.case_invites (org_id, created_by, created_at desc);

-- +goose StatementBegin
create function app.case_invite_rate() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
declare
  n bigint;
  oldest timestamptz;
begin
  -- new.created_by is the caller: case_invites_insert checks it
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.case_invites.' || new.org_id::text || '.' || new.created_by::text, 0));
  select count(*), min(i.created_at) into n, oldest
    from (select created_at from app.case_invites i
           where i.org_id = new.org_id and i.created_by = new.created_by
             and i.created_at > now() - interval '1 hour'
           order by i.created_at desc limit 50) i;
  if n >= 50 then
    raise exception 'at most 50 invitations an hour'
      using errcode = '54000', hint = 'invite_rate',
            detail = greatest(1, ceil(extract(epoch from oldest + interval '1 hour' - now())))::bigint::text;
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.case_invite_rate() owner to ward_definer;
revoke all on function app.case_invite_rate() from public;

create trigger case_invite_rate before insert on app.case_invites
  for each row execute function app.case_invite_rate();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
