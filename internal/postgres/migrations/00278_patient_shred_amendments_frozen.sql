-- Attacker review of the patient shred (00275), continued: an amendment
-- request of a shredded patient still took an update. The API refuses
-- (the texts are sealed under the destroyed keyset: nothing seals them
-- again), but the database let the patient file a statement of
-- disagreement on a denied request, or an admin a rebuttal, with any
-- ciphertext: one sealed under the org's keys, which the shred keeps,
-- would be legible and linked to the patient again. The rows are the
-- record's, and like the patient's own row (00275) and the entries'
-- (00276) they now take no change once the patient was shredded.
-- +goose Up
set local role ward_owner;

create trigger patient_shredded_frozen before update on app.record_amendments
  for each row execute function app.refuse_shredded_patient();

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
