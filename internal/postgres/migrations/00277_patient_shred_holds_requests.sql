-- Attacker review of the patient shred (00275), continued: what is placed
-- on a shredded patient after the shred. A legal hold on one of their
-- cases (a hold scoped to the case, not the patient) went in, 201, while
-- the case holds nothing any more: a litigator told the case is preserved
-- keeps nothing (the org shred refuses the same, 00274). One placed while
-- the shred runs waited for it (the hold takes the org's hold lock
-- exclusively, the shred shares it) and then went in too. An access or
-- amendment request naming a shredded patient went in as well: one the
-- org can no longer answer, whose due date then runs against it. Both are
-- refused now (55000, hint patient_shredded: 410 at the API). A request
-- for an accounting of disclosures stays: the audit log that answers it
-- is kept.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
-- A new legal hold on a case whose patient was crypto-shredded. It runs
-- after app.legal_hold_serialise (triggers fire by name): a shred in
-- progress has committed by then, and the statement here sees it.
create function app.refuse_shredded_patient_case() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  if new.case_id is null then
    return new;
  end if;
  select p.shredded_at into shredded
    from app.cases c join app.patients p on p.org_id = c.org_id and p.id = c.patient_id
   where c.org_id = new.org_id and c.id = new.case_id
     for key share of p;
  if shredded is not null then
    raise exception 'the case''s patient was crypto-shredded: the case holds nothing to preserve' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_shredded_patient_case() owner to ward_definer;
revoke execute on function app.refuse_shredded_patient_case() from public;

create trigger patient_shredded_case before insert on app.legal_holds
  for each row execute function app.refuse_shredded_patient_case();
create trigger patient_shredded before insert on app.dsr_requests
  for each row when (new.kind in ('access', 'amendment')) execute function app.refuse_shredded_patient();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
