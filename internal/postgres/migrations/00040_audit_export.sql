-- Audit exports (issue 11): every export of an org's audit log, by the API
-- or `ward audit export`, is itself recorded as audit.export, committed
-- before the first exported byte leaves. Its details hold the format and
-- the filter (times, and the ids of a patient, actor or action), never
-- PHI; an export about one patient names the patient, so it appears in
-- that patient's access report.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('audit.export', 'audit', true, false, false, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
