-- The refusals of a crypto-shredded patient's new rows tell nothing of
-- another org's patients (a review of 00275 and 00277, LOW: an oracle).
-- app.refuse_shredded_patient and app.refuse_shredded_patient_case run
-- BEFORE INSERT, so before the row's policy is checked: a caller bound to
-- org B who inserted a row naming org A and one of A's patient ids (or
-- case ids) was told "patient shredded" (55000) for a shredded patient and
-- refused by the policy (42501) for a live one, so learned whether that
-- unguessable id exists in A and was shredded. Now a caller bound to a
-- credential has only rows of its own org checked: a row naming another
-- org (or any row of a pending credential, which has no org) is passed on
-- to its policy, which refuses it as any other row of another org. A
-- caller bound to no credential (ward_ops, a superuser, a job of the
-- server) has every row checked as before, and so has a row of the bound
-- org: the refusal for the patient's own org is unchanged. No insert into
-- these tables is made by a SECURITY DEFINER function for an org other
-- than its caller's; ward_app has no UPDATE of org_id, patient_id or
-- case_id on them, so the BEFORE UPDATE uses of the functions (and the
-- other shred triggers, on UPDATE) only ever see the bound org's rows.
-- Otherwise the functions are as in 00275 and 00277.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.refuse_shredded_patient() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  if new.patient_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id for key share;
  if shredded is not null then
    raise exception 'the patient was crypto-shredded: nothing new is added to the record' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function app.refuse_shredded_patient() owner to ward_definer;
revoke execute on function app.refuse_shredded_patient() from public;

-- +goose StatementBegin
create or replace function app.refuse_shredded_patient_case() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
begin
  if new.case_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
