-- An attacker's review of cases and documents (LOW): a deleted document
-- (a lead's deletion, the retention purge, a patient's shred) disappeared
-- from app.documents' reads, but its versions and comments stayed
-- readable to every party who views the case: a statement under an
-- attorney's credential still listed the deleted report's file names,
-- sizes and SHA-256 (app.document_versions) and its comments
-- (app.document_comments), sealed under the org's keys, which the
-- deletion keeps. The API never showed them (each route reads the
-- document first), but the database did not refuse them, and docs/cases.md
-- says the document "disappears from every read". Now the select policies
-- of both tables show a row only while its document is live (the
-- documents' own policy, deleted_at null, applies in the subquery). The
-- server's unbound jobs, the definer procedures (deletion, purge, shred,
-- the sweeper's reclaim, the quota) and the operator read them as before.
-- +goose Up
set local role ward_owner;

drop policy document_versions_select on app.document_versions;
create policy document_versions_select on app.document_versions for select to ward_app using (
  org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id()))
  and (coalesce((select c.lead from private.principal_cached c), (select private.am_i_lead()))
       or case_id = any ((select private.my_case_ids('view'))::uuid[]))
  and exists (select from app.documents d
               where d.org_id = document_versions.org_id and d.id = document_versions.document_id
                 and d.deleted_at is null));

drop policy document_comments_select on app.document_comments;
create policy document_comments_select on app.document_comments for select to ward_app using (
  org_id = coalesce((select c.org_id from private.principal_cached c), (select private.get_my_org_id()))
  and (coalesce((select c.lead from private.principal_cached c), (select private.am_i_lead()))
       or case_id = any ((select private.my_case_ids('view'))::uuid[]))
  and exists (select from app.documents d
               where d.org_id = document_comments.org_id and d.id = document_comments.document_id
                 and d.deleted_at is null));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
