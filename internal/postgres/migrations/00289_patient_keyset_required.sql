-- A new patient has a keyset of their own (the per-patient tier, 00275).
-- The server always made one, but nothing stopped its role from inserting
-- a patient without (the record then sealed under the org's keys, which a
-- patient shred cannot destroy alone: patient_not_keyed). Now the database
-- refuses a patient row inserted without a keyset, whoever inserts it. The
-- patients created before 00275 are given one by the keying (00288,
-- `ward migrate`); a shredded patient's row loses its keyset by an update,
-- which this does not touch.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.patient_keyset_required() returns trigger
language plpgsql
set search_path to ''
as $$
begin
  if new.keyset is null then
    raise exception 'a new patient has a keyset of their own (the per-patient key tier)' using errcode = '23502',
      hint = 'patient_keyset_required';
  end if;
  return new;
end $$;
-- +goose StatementEnd
revoke execute on function app.patient_keyset_required() from public;

create trigger patient_keyset_required before insert on app.patients
  for each row execute function app.patient_keyset_required();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
