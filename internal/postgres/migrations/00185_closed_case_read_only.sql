-- A review of cases and documents: a closed case (app.cases.status
-- 'closed') still took document uploads (new documents and new versions),
-- document requests, comments, acceptances, grants and invitations, and its
-- pending invitations could still be accepted. Users of a claims repository
-- expect a closed claim to be a record: read-only for everyone until those
-- who manage it reopen it. Now the database refuses, on a closed case:
--   * a new document (a request or a filed document), a new version, a
--     comment, an invitation and a grant (app.case_members insert, which the
--     API's upsert always fires), with 42501 and hint case_closed (the API
--     answers 409 case_closed);
--   * a change of a document's provided or accepted state (an acceptance),
--     and a change of a grant that leaves it live (a restored, widened or
--     extended grant); a revocation, a deletion of a document by a lead or an
--     admin (the retention and erasure path, refused under a legal hold as
--     before) and the expiry job's bookkeeping still work;
--   * a new title or reference of a case that stays closed (a change that
--     reopens it, in the same statement, is allowed);
--   * the acceptance of a pending invitation: app.accept_case_invite answers
--     case_closed (audited as a denied acceptance) and the invitation stays
--     pending, acceptable once the case is reopened, until it expires.
-- Nobody is reminded of a document due on a closed case (app.due_reminders).
-- Reads, downloads, exports, data-subject requests, legal holds and the
-- audit log are untouched. Closing and reopening are what they were (those
-- who manage the case, cases_update). A write and a close do not cross:
-- each write takes the case's transaction lock shared before it reads the
-- status, and a change of status takes it exclusively, so a close waits for
-- the writes in flight, and a write after it sees the case closed.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.case_closed(p_org uuid, p_case uuid) returns boolean
    language plpgsql
    security definer
    set search_path to ''
    as $$
begin
  -- shared with every other write of the case; a change of its status
  -- takes it exclusively (app.case_status_change)
  perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended(
    'ward.case_status.' || p_case::text, 0));
  return exists (select from app.cases c where c.org_id = p_org and c.id = p_case and c.status = 'closed');
end $$;
-- +goose StatementEnd

alter function app.case_closed(uuid, uuid) owner to ward_definer;
revoke all on function app.case_closed(uuid, uuid) from public;

-- +goose StatementBegin
create function app.case_closed_refusal() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
begin
  if tg_op = 'UPDATE' then
    if tg_table_name = 'documents' then
      -- a deletion (deleted_at) is no change of what the case holds
      if (new.provided_at, new.accepted_at, new.accepted_by, new.accepted_version)
         is not distinct from (old.provided_at, old.accepted_at, old.accepted_by, old.accepted_version) then
        return new;
      end if;
    elsif tg_table_name = 'case_members' then
      -- a revocation, or bookkeeping that changes nothing the grant gives
      if new.revoked_at is not null
         or (new.kind, new.permissions, new.access_expires_at, new.recipient_org, new.revoked_at)
            is not distinct from (old.kind, old.permissions, old.access_expires_at, old.recipient_org, old.revoked_at) then
        return new;
      end if;
    end if;
  end if;
  if app.case_closed(new.org_id, new.case_id) then
    raise exception 'the case is closed: nothing is added to or changed on it until it is reopened'
      using errcode = '42501', hint = 'case_closed';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.case_closed_refusal() owner to ward_definer;
revoke all on function app.case_closed_refusal() from public;

-- Named case_closed so that they fire before each table's other triggers
-- (in name order): a closed case is the first answer, before a limit.
create trigger case_closed before insert or update on app.documents
  for each row execute function app.case_closed_refusal();
create trigger case_closed before insert on app.document_versions
  for each row execute function app.case_closed_refusal();
create trigger case_closed before insert on app.document_comments
  for each row execute function app.case_closed_refusal();
create trigger case_closed before insert on app.case_invites
  for each row execute function app.case_closed_refusal();
create trigger case_closed before insert or update on app.case_members
  for each row execute function app.case_closed_refusal();

-- +goose StatementBegin
create function app.case_status_change() returns trigger
    language plpgsql
    security definer
    set search_path to ''
    as $$
begin
  if new.status is distinct from old.status then
    -- waits for the case's writes in flight (app.case_closed)
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'ward.case_status.' || new.id::text, 0));
  elsif new.status = 'closed'
        and (new.title_enc, new.reference_enc, new.reference_bidx)
            is distinct from (old.title_enc, old.reference_enc, old.reference_bidx) then
    raise exception 'the case is closed: nothing is added to or changed on it until it is reopened'
      using errcode = '42501', hint = 'case_closed';
  end if;
  return new;
end $$;
-- +goose StatementEnd

alter function app.case_status_change() owner to ward_definer;
revoke all on function app.case_status_change() from public;

create trigger case_status before update on app.cases
  for each row execute function app.case_status_change();

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
                 -- A closed case takes no new party (00185); the
                 -- invitation stays pending for its reopening.
                 when app.case_closed(i.org_id, i.case_id) then 'case_closed'
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
create or replace function app.due_reminders(p_max integer DEFAULT 100) RETURNS TABLE(org_id uuid, document_id uuid, case_id uuid, kind text, user_id uuid, email_enc bytea, due_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  r record;
begin
  for r in
    select d.org_id, d.id, d.case_id, d.due_at, d.requested_from,
           case when d.due_at < now() then 'overdue' else 'due_soon' end as kind
      from app.documents d
     where d.provided_at is null and d.deleted_at is null and d.due_at is not null
       and d.due_at < now() + interval '1 day' and d.requested_from is not null
       -- a closed case takes no upload (00185): nobody is asked for one
       and exists (select from app.cases c where c.org_id = d.org_id and c.id = d.case_id and c.status = 'open')
       -- only to someone who still reaches the case: a live member who is
       -- admin or lead, a provider of the case's patient, or a live grant.
       and exists (select from app.memberships m
                    where m.org_id = d.org_id and m.user_id = d.requested_from and m.revoked_at is null
                      and (m.role in ('admin', 'lead')
                           or exists (select from app.case_members cm
                                       where cm.org_id = d.org_id and cm.case_id = d.case_id
                                         and cm.user_id = d.requested_from and cm.revoked_at is null
                                         and (cm.access_expires_at is null or cm.access_expires_at > now()))
                           or (m.role = 'provider'
                               and exists (select from app.cases c
                                             join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                            where c.org_id = d.org_id and c.id = d.case_id
                                              and ct.provider_id = d.requested_from))))
       and not exists (select from app.document_reminders x where x.org_id = d.org_id and x.document_id = d.id
                         and x.kind = case when d.due_at < now() then 'overdue' else 'due_soon' end)
     order by d.due_at
     limit least(greatest(coalesce(p_max, 100), 1), 1000)
     for update of d skip locked
  loop
    insert into app.document_reminders (org_id, document_id, kind) values (r.org_id, r.id, r.kind)
    on conflict do nothing;
    if found then
      perform audit.append_as(r.org_id, 'document.remind', 'success', 'document', r.id,
        p_details => jsonb_build_object('kind', r.kind), p_actor => r.requested_from, p_case => r.case_id);
      org_id := r.org_id; document_id := r.id; case_id := r.case_id; kind := r.kind; due_at := r.due_at;
      user_id := r.requested_from;
      select u.email_enc into email_enc from app.users u where u.id = r.requested_from;
      return next;
    end if;
  end loop;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
