-- The refusal of a crypto-shredded patient's new rows tells nothing to a
-- member of the patient's own org who does not see the patient (the second
-- attacker's review of the record API, LOW: an oracle). 00301 passed a row
-- of another org on to its policy, but app.refuse_shredded_patient and
-- app.refuse_shredded_patient_case still ran before the policy for every
-- row of the caller's own org: a provider not on the patient's care team,
-- another patient of the org or a case stakeholder who filed an access or
-- amendment request naming the patient (POST /v1/compliance/dsr) or opened
-- a case for them (POST /v1/cases) was told "patient shredded" (55000, 410
-- at the API) for a shredded patient and refused by the policy (42501, 403)
-- for a live one or an id of no patient, so learned that the id was a
-- patient of the org and had been shredded. Now, for a caller bound to a
-- credential, the refusal names the shred only when the caller sees the
-- patient (as app.patients' select policy: a lead or admin of the org, an
-- emergency session, the care team, the patient's own users, a gateway
-- key of the org); anyone else is refused with the policy's own refusal
-- (42501, the same words), which the row would have met. The row is
-- refused either way: only the reason told changes, and only for a caller
-- who cannot see the patient. A caller bound to no credential (ward_ops,
-- a superuser, a job of the server) is told as before. The visibility is
-- read only once the patient is found shredded: a live patient's row costs
-- nothing more. Otherwise the functions are as in 00301.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.refuse_shredded_patient() returns trigger
language plpgsql security definer
set search_path to ''
as $$
declare
  shredded timestamptz;
  bound boolean := current_setting('ward.credential', true) <> '';
begin
  if new.patient_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if bound and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id for key share;
  if shredded is not null then
    -- Whoever does not see the patient is refused as the policy refuses
    -- them, for a live patient and an id of no patient alike.
    if bound and not (new.org_id = private.my_lead_org()
                      or row(new.org_id, new.patient_id)::private.patient_key = any (private.my_patient_keys())
                      or new.org_id = private.key_org('gateway')) then
      raise exception 'new row violates row-level security policy for table "%"', tg_table_name
        using errcode = '42501';
    end if;
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
  patient uuid;
  bound boolean := current_setting('ward.credential', true) <> '';
begin
  if new.case_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if bound and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select p.shredded_at, p.id into shredded, patient
    from app.cases c join app.patients p on p.org_id = c.org_id and p.id = c.patient_id
   where c.org_id = new.org_id and c.id = new.case_id
     for key share of p;
  if shredded is not null then
    if bound and not (new.org_id = private.my_lead_org()
                      or row(new.org_id, patient)::private.patient_key = any (private.my_patient_keys())
                      or new.org_id = private.key_org('gateway')) then
      raise exception 'new row violates row-level security policy for table "%"', tg_table_name
        using errcode = '42501';
    end if;
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
