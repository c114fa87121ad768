-- Two gaps in a case's grants, found after 00153:
--
--   * A provider who manages a case (on its patient's care team) could not
--     grant anyone access to it: the server looked up the grantee's role in
--     app.memberships, which a provider's credential does not see, and
--     answered 400 "not a live member" for every grantee. The role is now
--     read through private.case_grantee_role, which answers only a caller
--     who manages that case (a lead or admin of the org, or a provider the
--     case's grants let manage it), and only for a member of the caller's
--     own org; anyone else gets null. It answers the kind of grant the
--     member may hold, not their role: staff (provider, lead or admin),
--     stakeholder or patient, so a provider learns no one's privileges.
--   * An invitation could not name the organisation the stakeholder acts
--     for, so a grant that began as an invitation recorded its disclosures
--     to the kind alone until someone set recipient_org by hand.
--     app.case_invites.recipient_org (the same rules as the grant's: 1..180
--     characters, trimmed, no control characters) is copied onto the grant
--     when the invitation is accepted, and replaces the grant's when an
--     invitation renews one (an invitation says what the grant is).

-- +goose Up
set local role ward_owner;

alter table app.case_invites add column recipient_org text
  constraint case_invites_recipient_org_check check (
    recipient_org is null
    or (char_length(recipient_org) between 1 and 180
        and recipient_org !~ '[[:cntrl:]]' and recipient_org = btrim(recipient_org)));
grant select (recipient_org) on app.case_invites to ward_app;

-- +goose StatementBegin
-- case_grantee_role: what a live member of the caller's org is for a grant
-- on p_case (staff, stakeholder or patient), for the caller who manages
-- p_case; null otherwise (no such member, another org, or a caller who does
-- not manage the case). Who asks comes from the credential, never a
-- parameter.
create function private.case_grantee_role(p_case uuid, p_user uuid) returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  o uuid := private.get_my_org_id();
begin
  if o is null or p_case is null or p_user is null
     or not (private.am_i_lead() or p_case = any (private.my_managed_case_ids())) then
    return null;
  end if;
  return (select case when m.role in ('provider', 'lead', 'admin') then 'staff' else m.role end
            from app.memberships m
           where m.org_id = o and m.user_id = p_user and m.revoked_at is null);
end $$;
-- +goose StatementEnd
alter function private.case_grantee_role(uuid, uuid) owner to ward_rls;
revoke all on function private.case_grantee_role(uuid, uuid) from public;
grant execute on function private.case_grantee_role(uuid, uuid) to ward_app;

-- +goose StatementBegin
-- accept_case_invite as in 00113, carrying the invitation's recipient_org
-- onto the grant.
create or replace function app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet DEFAULT NULL::inet, p_ua text DEFAULT NULL::text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
language plpgsql security definer set search_path = '' as $$
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
  insert into app.case_members as cm (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by,
                                      recipient_org)
  values (i.org_id, i.case_id, uid, i.kind, i.permissions, i.access_expires_at, i.created_by, i.recipient_org)
  on conflict (org_id, case_id, user_id) do update
    set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
        recipient_org = excluded.recipient_org,
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
                                      'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', mrole,
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
                                    'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', coalesce(mrole, 'stakeholder')));
  perform audit.append_as(i.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid,
    p_details => jsonb_build_object('method', 'case_invite', 'aal', 1));
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
