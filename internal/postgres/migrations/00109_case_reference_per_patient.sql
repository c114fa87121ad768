-- A case's reference (a claim number: PHI) was unique across the org, so
-- a provider who set a reference on a case they manage learnt from the
-- 409 whether a case they cannot see (another patient's) carries it: an
-- existence oracle for claim numbers (an attacker's review, 2026-12-01).
-- The reference is now unique per patient: whoever may write a case sees
-- every case of its patient (a provider reaches the cases of the patients
-- on their care team, leads and admins all of them), so a conflict names
-- only a case the writer can read. Cases of no patient (which only leads
-- and admins reach) share one scope.

-- +goose Up
set local role ward_owner;

drop index app.cases_reference_idx;
create unique index cases_reference_idx on app.cases (org_id, patient_id, reference_bidx) nulls not distinct
  where reference_bidx is not null;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
