-- A provider kept a case's documents after leaving the patient's care team,
-- through a grant they gave themselves (a security review, MEDIUM): on the
-- care team they managed the case, PUT /v1/cases/{id}/members/{their own
-- id} as staff, and the grant (added_by themselves, no end date) outlived
-- the care-team removal that ended their authority. And only the Go server
-- kept a patient or provider from changing a patient's MRN or identifiers
-- (LOW): the patients_update policy lets a linked patient or a care-team
-- provider write the row, columns and all.
--
-- Now:
--   * Nobody grants or changes their own case membership: the insert and
--     update policies refuse a row whose user_id is the caller, and a
--     trigger refuses, under every role and procedure, a grant whose holder
--     is its author (insert) or the caller (insert, update); an invitation
--     its author accepts (sent to their own address) grants nothing
--     (status own_invite). Leads and admins read every case anyway.
--   * Removing a provider from a patient's care team (a row deleted from
--     app.care_team) revokes, in its transaction and audited
--     (case.member.set, revoked, reason care_team_removed), the live staff
--     grants they hold on that patient's cases, unless they are a lead or
--     admin of the org. Grants they gave others stay (docs/cases.md).
--   * The self-granted grants that exist (holder = author, holder not a
--     lead or admin) are revoked here, audited (reason self_granted).
--   * A BEFORE UPDATE trigger on app.patients refuses a change of mrn_bidx
--     or identifiers_enc unless the caller is a lead or admin of the org
--     (private.am_i_lead_in_org, which a key never is).

-- +goose Up

-- Data first, as the migrating superuser (FORCE RLS binds ward_owner).
-- +goose StatementBegin
do $$
declare
  r record;
begin
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
     where cm.user_id = cm.added_by and cm.revoked_at is null
       and not exists (select from app.memberships m
                        where m.org_id = cm.org_id and m.user_id = cm.user_id and m.revoked_at is null
                          and m.role in ('lead', 'admin'))
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'self_granted'));
  end loop;
end $$;
-- +goose StatementEnd

set local role ward_owner;

drop policy case_members_insert on app.case_members;
create policy case_members_insert on app.case_members for insert to ward_app
  with check (org_id = (select private.get_my_org_id()) and added_by = (select private.uid())
              and user_id <> (select private.uid())
              and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
                   or case_id = any ((select private.my_managed_case_ids())::uuid[])));

drop policy case_members_update on app.case_members;
create policy case_members_update on app.case_members for update to ward_app
  using (org_id = (select private.get_my_org_id()) and user_id <> (select private.uid())
         and ((select private.am_i_lead_in_org((select private.get_my_org_id())))
              or case_id = any ((select private.my_managed_case_ids())::uuid[])))
  with check (org_id = (select private.get_my_org_id()) and user_id <> (select private.uid()));

-- +goose StatementBegin
-- case_member_not_own refuses a grant to its own author, and any write of
-- a grant by its holder, whoever runs the statement (a policy binds only
-- ward_app; this binds the procedures too).
create function private.case_member_not_own() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if (tg_op = 'INSERT' and new.user_id = new.added_by) or new.user_id = private.uid() then
    raise exception 'nobody grants or changes their own access to a case' using errcode = '42501',
      hint = 'own_case_grant';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.case_member_not_own() owner to ward_rls;
revoke all on function private.case_member_not_own() from public;
create trigger case_members_not_own before insert or update on app.case_members
  for each row execute function private.case_member_not_own();

-- +goose StatementBegin
-- care_team_leave ends, with a provider's place on a patient's care team,
-- the staff grants they hold on that patient's cases (a lead or admin of
-- the org keeps them: they read every case anyway). It acts on the deleted
-- row only; who may delete it is care_team_delete's decision.
create function app.care_team_leave() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  if exists (select from app.memberships m
              where m.org_id = old.org_id and m.user_id = old.provider_id and m.revoked_at is null
                and m.role in ('lead', 'admin')) then
    return null;
  end if;
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
      from app.cases c
     where c.org_id = old.org_id and c.patient_id = old.patient_id
       and cm.org_id = c.org_id and cm.case_id = c.id and cm.user_id = old.provider_id
       and cm.kind = 'staff' and cm.revoked_at is null
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'care_team_removed'));
  end loop;
  return null;
end $$;
-- +goose StatementEnd
alter function app.care_team_leave() owner to ward_definer;
revoke all on function app.care_team_leave() from public;
create trigger care_team_leave after delete on app.care_team
  for each row execute function app.care_team_leave();

-- +goose StatementBegin
-- guard_patient_identifiers: the MRN and the other identifiers are the
-- org's to assign, so only a lead or admin (a session: a key is never
-- private.am_i_lead_in_org) changes them; a linked patient or a care-team
-- provider changes the rest of the record.
create function private.guard_patient_identifiers() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if (new.mrn_bidx, new.identifiers_enc) is distinct from (old.mrn_bidx, old.identifiers_enc)
     and not private.am_i_lead_in_org(new.org_id) then
    raise exception 'only a lead or admin changes a patient''s MRN or identifiers' using errcode = '42501',
      hint = 'patient_identifiers';
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.guard_patient_identifiers() owner to ward_rls;
revoke all on function private.guard_patient_identifiers() from public;
create trigger patients_identifiers before update of mrn_bidx, identifiers_enc on app.patients
  for each row execute function private.guard_patient_identifiers();

-- +goose StatementBegin
create or replace function app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet DEFAULT NULL::inet, p_ua text DEFAULT NULL::text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  mrole text;
  mrevoked boolean;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'accept_case_invite: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case when i.accepted_at is not null then 'used'
                 when i.revoked_at is not null then 'revoked'
                 when i.expires_at <= now() or i.access_expires_at <= now() then 'expired'
                 -- An invitation is worth what its author's authority is
                 -- worth now: a member who left the org (or the case's care
                 -- team) cannot come back through invitations they sent,
                 -- say to a private address, before they left.
                 when not exists (select from app.memberships m
                                   where m.org_id = i.org_id and m.user_id = i.created_by and m.revoked_at is null
                                     and (m.role in ('admin', 'lead')
                                          or (m.role = 'provider'
                                              and exists (select from app.cases c
                                                            join app.care_team ct
                                                              on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                                           where c.org_id = i.org_id and c.id = i.case_id
                                                             and ct.provider_id = i.created_by)))) then 'revoked'
                 else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  select u.id into uid from app.users u where u.email_bidx = i.email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (i.invitee_id, i.email_bidx, i.email_enc);
    uid := i.invitee_id;
  end if;
  -- A membership the org revoked stays revoked unless it was a
  -- stakeholder's: an invitation (which a provider may send) does not
  -- undo an admin's or the directory's revocation of staff or a patient.
  select m.role, m.revoked_at is not null into mrole, mrevoked from app.memberships m
   where m.org_id = i.org_id and m.user_id = uid;
  -- Nobody grants themselves access to a case: an invitation its author
  -- accepts (sent to their own address) grants nothing.
  if uid = i.created_by then
    status := 'own_invite';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked and mrole <> 'stakeholder' then
    status := 'member_revoked';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked then
    mrole := null;
  end if;
  if mrole is null then
    insert into app.memberships (org_id, user_id, role) values (i.org_id, uid, 'stakeholder')
    on conflict (org_id, user_id) do update set role = 'stakeholder', revoked_at = null;
  end if;
  insert into app.case_members as cm (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by)
  values (i.org_id, i.case_id, uid, i.kind, i.permissions, i.access_expires_at, i.created_by)
  on conflict (org_id, case_id, user_id) do update
    set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
        revoked_at = null, expiry_recorded_at = null, updated_at = now()
    -- A live staff grant stays as it is: an invitation never narrows or
    -- time-limits a staff member's access to the case.
    where cm.kind <> 'staff' or cm.revoked_at is not null;
  update app.case_invites x set accepted_at = now(), accepted_by = uid where x.org_id = i.org_id and x.id = i.id;
  -- A live member who is no stakeholder (staff, a patient) gets the grant
  -- and no session: they sign in as they always do (their org's SSO when
  -- it enforces it, their second factor, their device binding), and the
  -- case is on their account then. An invitation is no sign-in route.
  if mrole is not null then
    status := 'sign_in_required';
    user_id := uid; org_id := i.org_id; case_id := i.case_id;
    perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
      p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                      'access_expires_at', i.access_expires_at, 'member_role', mrole,
                                      'session', false));
    return;
  end if;

  select * into o from app.orgs x where x.id = i.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := least(now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min)),
                               greatest(i.access_expires_at, now() + interval '5 minutes'));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (i.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now())
  returning id into session_id;
  user_id := uid; org_id := i.org_id; case_id := i.case_id;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
    p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                    'access_expires_at', i.access_expires_at, 'member_role', coalesce(mrole, 'stakeholder')));
  perform audit.append_as(i.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid,
    p_details => jsonb_build_object('method', 'case_invite', 'aal', 1));
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
