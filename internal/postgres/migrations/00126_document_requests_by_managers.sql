-- Any stakeholder who could upload to a case could also ask any member of
-- the org for a document on it (an attacker's review, LOW): the request
-- named the admin, or a patient with no access to the case, and the
-- reminder job mailed them; and the answer told a stakeholder whether an id
-- was a member of the org. A document request is the case's business:
--
--   * documents_insert: a row with requested_by (a request) is inserted
--     only by those who manage the case (leads, admins, the patient's care
--     team); anyone who may upload still files their own documents (no
--     requested_by). The API checks the same first (403).

-- +goose Up
set local role ward_owner;

drop policy documents_insert on app.documents;
create policy documents_insert on app.documents for insert to ward_app
  with check (org_id = (select private.get_my_org_id()) and created_by = (select private.uid())
              and deleted_at is null
              and (requested_by is null or requested_by = (select private.uid()))
              and ((select private.am_i_lead())
                   or case_id = any ((select private.my_case_ids('upload'))::uuid[]))
              and (requested_by is null
                   or (select private.am_i_lead())
                   or case_id = any ((select private.my_managed_case_ids())::uuid[])));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
