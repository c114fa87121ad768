-- An invitation's landing (00190, 00191) and its acceptance (00185) each
-- carried their own copy of the test that says whether the invitation can
-- still be accepted (used, revoked, expired, its author's authority gone,
-- its case closed); 00191 had to fix the landing's copy, which had missed
-- the acceptance's closed case. The test is now one function,
-- private.case_invite_status, that both call, so the page and the
-- acceptance cannot tell an invitee two different things.
--
--   * It takes the invitation's row that its caller has read (the
--     acceptance reads it for update) and returns ok, used, revoked,
--     expired or case_closed, in the acceptance's order.
--   * It decides nothing for a caller of its own: it runs with its
--     caller's rights, and only ward_definer (the owner of the two
--     SECURITY DEFINER functions) may call it; ward_app may not.
--   * Its closed-case test is app.case_closed, the acceptance's, which
--     takes the case's shared status lock: the landing now waits for a
--     close or reopening in flight, as the acceptance does, and says what
--     the acceptance will say once it commits.
--   * The landing still says closed (not case_closed), as in 00191.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function private.case_invite_status(i app.case_invites) returns text
    language plpgsql
    set search_path to ''
    as $$
begin
  return case when i.accepted_at is not null then 'used'
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
              -- A closed case takes no new party (00185); the
              -- invitation stays pending for its reopening.
              when app.case_closed(i.org_id, i.case_id) then 'case_closed'
              else 'ok' end;
end $$;
-- +goose StatementEnd
revoke all on function private.case_invite_status(app.case_invites) from public;
grant execute on function private.case_invite_status(app.case_invites) to ward_definer;

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
  status := private.case_invite_status(i);
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
        -- A renewal of the same kind that names no organisation keeps
        -- the one the grant names (00163): the disclosure accounting
        -- still says who received the record.
        recipient_org = case when excluded.kind = cm.kind and cm.revoked_at is null
                             then coalesce(excluded.recipient_org, cm.recipient_org)
                             else excluded.recipient_org end,
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

-- +goose StatementBegin
create or replace function app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  me record;
begin
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'case_invite_landing: the token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash;
  if not found then
    status := 'invalid';
    return;
  end if;
  -- app.accept_case_invite's test (one function for both). A closed case
  -- is read-only (00185): its invitations stay pending and are accepted
  -- once it is reopened; the page says closed.
  status := private.case_invite_status(i);
  if status = 'case_closed' then
    status := 'closed';
  end if;
  if status <> 'ok' then
    return;
  end if;
  select o.name into org_name from app.orgs o where o.id = i.org_id;
  kind := i.kind; permissions := i.permissions; access_expires_at := i.access_expires_at;
  expires_at := i.expires_at; recipient_org := i.recipient_org; invitee_id := i.invitee_id; email_enc := i.email_enc;
  select m.user_id into me from private.me_pending() m where m.kind = 'session';
  if me.user_id is null then
    signed_in := 'none';
    return;
  end if;
  select u.id, u.email_enc, case when u.email_bidx = i.email_bidx then 'invitee' else 'other' end
    into signed_in_user, signed_in_email_enc, signed_in
    from app.users u where u.id = me.user_id;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
