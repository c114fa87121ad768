-- The legal-hold API (admins, with step-up): place a hold on the org, one
-- patient or one case; list; release with a note. A hold blocks document
-- deletion (app.delete_document: org, the case's patient or the case) and
-- audit retention (org or patient, 00013). A hold names at most one scope.

-- +goose Up
set local role ward_owner;

alter table app.legal_holds add column released_by uuid;
alter table app.legal_holds add column release_note text check (length(release_note) between 1 and 500);
alter table app.legal_holds add constraint legal_holds_one_scope check (num_nonnulls(patient_id, case_id) <= 1);
alter table app.legal_holds add constraint legal_holds_release_check
  check ((released_at is null) = (released_by is null) and (released_at is null) = (release_note is null));
grant update (released_by, release_note) on app.legal_holds to ward_app;

drop policy legal_holds_update on app.legal_holds;
create policy legal_holds_update on app.legal_holds for update to ward_app
  using (org_id = (select private.get_my_org_id()) and (select private.get_my_role()) = 'admin'
         and not (select private.is_key()) and released_at is null)
  with check (org_id = (select private.get_my_org_id()) and released_at is not null
              and released_by = (select private.uid()));

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('legal_hold.place',   'audit', false, false, false, '{object}'),
  ('legal_hold.release', 'audit', false, false, false, '{object}'),
  ('legal_hold.list',    'audit', false, false, false, '{}');
alter table audit.actions force row level security;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
