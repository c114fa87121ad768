-- One principal read fewer per statement (issue 7, DESIGN §11: RLS
-- overhead ≤ +25% on the indexed patient list). Twenty-nine policies ask
-- whether the credential is a lead or admin of its own org as
-- (select private.am_i_lead_in_org((select private.get_my_org_id()))):
-- two InitPlans, two reads of the cached principal, each checking its
-- seal (00070), beside the policy's own (select private.get_my_org_id()).
-- private.am_i_lead() answers the same question in one read: true exactly
-- when private.am_i_lead_in_org(private.get_my_org_id()) is (a live,
-- not pending principal of kind session or SCIM, role lead or admin; a
-- principal without an org is no lead of any), so each of those policies
-- now reads the principal twice per statement, not three times. The
-- policies are otherwise as they were (generated from schema.sql with
-- that one substitution); the RLS matrix checks them cell by cell.
-- private.am_i_lead_in_org(org) stays for the procedures that ask about
-- an org they were given.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.am_i_lead() returns boolean
language plpgsql stable security definer set search_path = '' as $$
declare
  m record := private.me_pending_cached();
begin
  return m.pending is null and m.org_id is not null
     and coalesce(m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;
-- +goose StatementEnd
alter function private.am_i_lead() owner to ward_rls;
revoke all on function private.am_i_lead() from public;
grant execute on function private.am_i_lead() to ward_app, ward_definer;

alter policy care_team_delete on app.care_team
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ( SELECT private.am_i_lead() AS am_i_lead)));

alter policy care_team_insert on app.care_team
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ( SELECT private.am_i_lead() AS am_i_lead) AND (provider_id = ANY (( SELECT private.my_org_members_in_roles('{provider,lead}'::text[]) AS my_org_members_in_roles)::uuid[]))));

alter policy care_team_select on app.care_team
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ((provider_id = ( SELECT private.uid() AS uid)) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR ( SELECT private.am_i_lead() AS am_i_lead))));

alter policy case_invites_insert on app.case_invites
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (created_by = ( SELECT private.uid() AS uid)) AND (accepted_at IS NULL) AND (revoked_at IS NULL) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

alter policy case_invites_select on app.case_invites
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

alter policy case_invites_update on app.case_invites
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (accepted_at IS NULL) AND (revoked_at IS NULL) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))))
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (revoked_at IS NOT NULL)));

alter policy case_members_insert on app.case_members
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (added_by = ( SELECT private.uid() AS uid)) AND (user_id <> ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

alter policy case_members_select on app.case_members
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ((user_id = ( SELECT private.uid() AS uid)) OR ( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

alter policy case_members_update on app.case_members
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (user_id <> ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))))
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (user_id <> ( SELECT private.uid() AS uid))));

alter policy cases_insert on app.cases
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (created_by = ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR ((( SELECT private.get_my_role() AS get_my_role) = 'provider'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))));

alter policy cases_select on app.cases
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

alter policy cases_update on app.cases
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))))
  WITH CHECK ((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)));

alter policy clinical_entries_insert on app.clinical_entries
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (created_by = ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])))));

alter policy clinical_entries_select on app.clinical_entries
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR ( SELECT private.am_i_break_glass() AS am_i_break_glass))));

alter policy clinical_entries_update on app.clinical_entries
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR ((patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) AND ((( SELECT private.get_my_role() AS get_my_role) <> 'patient'::text) OR (created_by = ( SELECT private.uid() AS uid)))))))
  WITH CHECK ((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)));

alter policy document_comments_insert on app.document_comments
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (author_id = ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('comment'::text) AS my_case_ids)::uuid[])))));

alter policy document_comments_select on app.document_comments
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

alter policy document_versions_insert on app.document_versions
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (uploaded_by = ( SELECT private.uid() AS uid)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[])))));

alter policy document_versions_select on app.document_versions
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

alter policy documents_insert on app.documents
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (created_by = ( SELECT private.uid() AS uid)) AND (deleted_at IS NULL) AND ((requested_by IS NULL) OR (requested_by = ( SELECT private.uid() AS uid))) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[])))));

alter policy documents_select on app.documents
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (deleted_at IS NULL) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

alter policy documents_update on app.documents
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (deleted_at IS NULL) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[])))))
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (deleted_at IS NULL)));

alter policy memberships_select on app.memberships
  USING (((user_id = ( SELECT private.uid() AS uid)) OR ((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR ( SELECT private.key_holds('members'::text) AS key_holds)))));

alter policy patient_links_delete on app.patient_links
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ( SELECT private.am_i_lead() AS am_i_lead)));

alter policy patient_links_insert on app.patient_links
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ( SELECT private.am_i_lead() AS am_i_lead) AND (user_id = ANY (( SELECT private.my_org_members_in_roles('{patient}'::text[]) AS my_org_members_in_roles)::uuid[]))));

alter policy patient_links_select on app.patient_links
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ((user_id = ( SELECT private.uid() AS uid)) OR ( SELECT private.am_i_lead() AS am_i_lead))));

alter policy patients_insert on app.patients
  WITH CHECK (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND ( SELECT private.am_i_lead() AS am_i_lead) AND (created_by = ( SELECT private.uid() AS uid))));

alter policy patients_select on app.patients
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR ( SELECT private.key_holds('gateway'::text) AS key_holds) OR ( SELECT private.am_i_break_glass() AS am_i_break_glass))));

alter policy patients_update on app.patients
  USING (((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)) AND (( SELECT private.am_i_lead() AS am_i_lead) OR (id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])))))
  WITH CHECK ((org_id = ( SELECT private.get_my_org_id() AS get_my_org_id)));

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
