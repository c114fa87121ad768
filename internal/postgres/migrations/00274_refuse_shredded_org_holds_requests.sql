-- A legal hold, a data-subject request or a clinical entry of a shredded
-- org (attacker review of 00268). app.ops_org_shred is refused while a
-- hold is live or a request is open, and a hold or request committed
-- before it took the org's row is waited for and seen (their foreign key
-- locks the row). One whose insert began while the shred ran waited for
-- it and then went in: a hold that claims to preserve what was just
-- destroyed (a litigator told 201 keeps nothing), an access request the
-- org can no longer answer. A clinical entry (whose foreign key is the
-- patient's) did not even wait: one written while the shred ran missed
-- the overwrite of 00273 and kept its name and value in the clear. The
-- trigger of 00268 (00272's form, which reads the org's row for key share
-- and so waits for a shred in progress) now refuses all three, as it
-- refuses a new member or credential; an entry written just before the
-- shred took the row is waited for by it and overwritten. Releasing a
-- hold, closing a request and editing an entry stay (updates).
-- +goose Up
set local role ward_owner;

create trigger org_shredded before insert on app.legal_holds
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.dsr_requests
  for each row execute function app.refuse_shredded_org();
create trigger org_shredded before insert on app.clinical_entries
  for each row execute function app.refuse_shredded_org();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
