-- Releasing a legal hold needs an admin's session that stepped up, decided
-- by the database (a review of the holds, MEDIUM: defence in depth).
-- DESIGN §8: holds block deletion, enforced in SQL. Placing a hold and
-- releasing one are step-up routes (POST /v1/legal-holds/{id}/release and
-- the console's form), but the database asked only what the policy
-- legal_holds_update asks: an admin of the org, not an API key (and, by
-- trigger legal_holds_break_glass, not break-glass). A release is what
-- lets the purge job delete and shred the documents a hold kept
-- (app.purge_expired_documents) and an admin shred a patient, the same
-- weight as replacing the retention policy, which app.set_document_retention
-- refuses without a second factor within 10 minutes. An admin's session
-- whose second factor was hours old that reached an update of
-- app.legal_holds (a route that forgot the step-up, a console form) lifted
-- the hold. Trigger legal_holds_release now refuses a release (released_at
-- set where it was null) unless the credential is an admin's session of
-- the hold's org at AAL2 with a second factor within the last 10 minutes,
-- as app.audit_sinks_deleting (00208) does for a sink's deletion. An
-- operator's statement (no credential bound) is not asked; a pending
-- credential is refused.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.legal_holds_release() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  me record;
begin
  if old.released_at is not null or new.released_at is null then
    return new;
  end if;
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
alter function app.legal_holds_release() owner to ward_definer;
revoke all on function app.legal_holds_release() from public;

create trigger legal_holds_release before update on app.legal_holds
  for each row execute function app.legal_holds_release();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
