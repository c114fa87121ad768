-- The individual's right of access (HIPAA §164.524, DESIGN §8): the
-- server exports a patient's record, entries, access report and accounting
-- of disclosures in one transaction, encrypted with age to a recipient or
-- passphrase the requester gives (docs/dsr.md), and records it as
-- patient.export with the ids of the entries it carried. It is a use of
-- PHI, not a disclosure: giving the individual their own record is outside
-- the accounting (§164.528(a)(1)(ii)).

-- +goose Up
set local role ward_owner;
alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('patient.export', 'patient', true, false, false, '{patient}');
alter table audit.actions force row level security;
reset role;

-- +goose Down
set local role ward_owner;
alter table audit.actions no force row level security;
delete from audit.actions where name = 'patient.export';
alter table audit.actions force row level security;
reset role;
