-- Three holes an attacker's review of the SSO and case routes found
-- (2026-12-01):
--
-- 1. An org admin could "verify" any email domain (gmail.com, another
--    org's domain) by claiming it for a connection to an IdP they run and
--    signing in through it with an address on it: the IdP vouched for
--    itself. A verified domain routes every address on it to that org's
--    IdP and, with enforce_sso, stops sign-in links to every address on
--    it, whichever org the person belongs to; and the first org to verify
--    a domain keeps it, so the real owner could not take it back. Now only
--    DNS proves a domain (app.verify_sso_domain_dns, 00054): an admin's
--    sign-in verifies nothing, and the domains verified that way so far
--    are verified no longer (their admins publish the TXT record to
--    verify them again).
-- 2. enforce_sso held every address on the domain, members of the
--    enforcing org or not. app.sso_enforced now takes the address (its
--    blind index) and the org the link is for: a link is refused only
--    when the address belongs to a live member of an org that verified
--    the domain and enforces SSO, and the link is for that org (or for no
--    org in particular).
-- 3. A case invitation sent to a member of the org (a provider, a lead, a
--    patient) started a session for them: a sign-in route around
--    enforce_sso, around their usual route and, for roles whose bar is
--    one factor, around nothing else. app.accept_case_invite now gives
--    such a member the case grant and no session (status
--    sign_in_required); stakeholders are signed in as before.

-- +goose Up
-- The domains an IdP sign-in verified were never proven: as the instance
-- owner, since RLS holds the owner role too.
update app.sso_domains set verified_at = null, verified_by = null where verified_by = 'idp';

set local role ward_owner;

alter table app.sso_domains drop constraint if exists sso_domains_verified_by_check;
alter table app.sso_domains add constraint sso_domains_verified_by_check check (verified_by = 'dns');

drop function app.sso_enforced(text);

-- +goose StatementBegin
-- sso_enforced reports whether a sign-in link to an address (its domain and
-- blind index) for p_org (null: the address's own org) is refused: a live
-- member of an org that verified the domain by DNS and enforces SSO, and
-- the link is for that org.
create function app.sso_enforced(p_domain text, p_email_bidx bytea, p_org uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select from app.sso_domains d
                   join app.orgs o on o.id = d.org_id
                   join app.users u on u.email_bidx = p_email_bidx
                   join app.memberships m on m.org_id = d.org_id and m.user_id = u.id
                  where d.domain = lower(p_domain) and d.verified_at is not null and o.enforce_sso
                    and m.revoked_at is null
                    and (p_org is null or p_org = d.org_id))
$$;

create or replace function app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  st app.sso_states%rowtype;
  c app.sso_connections%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  m app.memberships%rowtype;
  verified boolean;
  linked boolean := false;
  reason text;
begin
  if octet_length(p_state_hash) is distinct from 32 or octet_length(p_subject_hash) is distinct from 32
     or octet_length(p_session_hash) is distinct from 32
     or (p_email_bidx is not null and octet_length(p_email_bidx) <> 32) then
    raise exception 'sso_complete: state, subject, session and address hashes are 32 bytes' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at > now() - interval '5 minutes' and s.done_at is null for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  update app.sso_states s set done_at = now() where s.state_hash = p_state_hash;
  select * into c from app.sso_connections x where x.org_id = st.org_id and x.id = st.connection_id;
  -- The org trusts its own connection for the domains it claimed for it
  -- (verified or not: verification decides routing between orgs, and a
  -- link or a JIT member stays in this org), and its connections for the
  -- domains it verified.
  verified := coalesce(p_email_verified, false)
    or exists (select from app.sso_domains d where d.org_id = c.org_id and d.domain = lower(p_email_domain)
                 and (d.connection_id = c.id or d.verified_at is not null));

  select i.user_id into uid from app.sso_identities i
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;
  if uid is null and p_email_bidx is not null and verified then
    select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
    if uid is not null and exists (select from app.memberships x where x.org_id = c.org_id and x.user_id = uid) then
      linked := true;
    elsif c.jit then
      if uid is null then
        if p_user is null or p_email_enc is null then
          raise exception 'sso_complete: a new user needs an id and a sealed address' using errcode = '22023';
        end if;
        insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
        uid := p_user;
      end if;
      insert into app.memberships (org_id, user_id, role) values (c.org_id, uid, c.jit_role);
      perform audit.append_as(c.org_id, 'sso.jit.create', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('role', c.jit_role, 'connection', c.id));
      linked := true;
    else
      uid := null;
      reason := 'no_account';
    end if;
    if linked then
      insert into app.sso_identities (org_id, connection_id, subject_hash, user_id)
      values (c.org_id, c.id, p_subject_hash, uid);
      perform audit.append_as(c.org_id, 'sso.identity.link', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('connection', c.id));
    end if;
  elsif uid is null then
    reason := case when p_email_bidx is null then 'no_email' else 'email_not_verified' end;
  end if;
  if uid is not null then
    select * into m from app.memberships x where x.org_id = c.org_id and x.user_id = uid;
    if m.revoked_at is not null then
      uid := null;
      reason := 'membership_revoked';
    end if;
  end if;
  if uid is null then
    status := coalesce(reason, 'no_account');
    perform audit.append_as(c.org_id, 'auth.signin', 'denied', 'sso_connection', c.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', status));
    return;
  end if;
  update app.sso_identities i set last_signin_at = now()
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;

  aal := case when coalesce(p_amr, '{}') && c.trusted_amr or p_acr = any (c.trusted_acr) then 2 else 1 end;
  select * into o from app.orgs x where x.id = c.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (c.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at, audit.clean_text(p_ua, 256), p_ip,
          aal, '{sso}', now())
  returning id into session_id;
  user_id := uid; org_id := c.org_id; status := 'ok';
  perform audit.append_as(c.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'connection', c.id, 'kind', c.kind, 'aal', aal,
      'idp_amr', coalesce(to_jsonb(p_amr), '[]'::jsonb), 'idp_acr', p_acr),
    p_actor => uid);
end $$;

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

alter function app.sso_enforced(text, bytea, uuid) owner to ward_definer;
revoke all on function app.sso_enforced(text, bytea, uuid) from public;
grant execute on function app.sso_enforced(text, bytea, uuid) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
