-- Break-glass "changes no configuration or credential", and the database
-- held emergency access to it in the functions behind most step-up routes
-- (the org's policies, API key and SCIM token creation, SSO, factors,
-- break-glass designation, audit sinks), but not in four: app.add_member
-- and app.update_member (adding a member, changing a member's role,
-- revoking a membership), app.revoke_api_key and app.revoke_scim_token.
-- The server refuses emergency access on their routes first (step-up
-- routes answer 403 break_glass_not_allowed), so only a server bug or an
-- injected statement reached them; but a break-glass session could then
-- make itself or an accomplice an admin, revoke the org's other admins,
-- or cut off the org's SCIM provisioning, none of which reading records in
-- an emergency needs.
--
-- Each now refuses a break-glass principal (42501, break_glass_not_allowed)
-- before it changes anything, as app.totp_delete and private.sso_admin do.
--
-- The step-up window too: their routes need a second factor presented
-- within the last 10 minutes (403 step_up_required), but only the server
-- checked it: a session whose step-up was long past, or a session that
-- never presented a second factor where its bar lets it be live without
-- one, reached them in SQL through a server bug or an injected statement,
-- while private.credential_maker, private.sso_admin, the policy setters
-- and the factor procedures refuse such a session themselves. Each now
-- refuses a session below AAL2 or authenticated more than 10 minutes ago
-- (42501, step_up_required), read from the bound credential (private.me).
-- An API key is not asked (it was created after a step-up, as the server's
-- check has it). Nothing else changes: the bodies are those in force
-- (00093, 00127, 00019, 00050).
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text DEFAULT NULL::text, p_invite_hash bytea DEFAULT NULL::bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind = 'api_key' and (not private.key_holds('members') or p_role in ('admin', 'lead')) then
    raise exception 'forbidden: an API key does not grant the admin or lead role' using errcode = '42501';
  end if;
  if p_invite_hash is not null and octet_length(p_invite_hash) <> 32 then
    raise exception 'add_member: the invitation hash is 32 bytes' using errcode = '22023';
  end if;
  select u.id, u.email_enc into user_id, email_enc from app.users u where u.email_bidx = p_email_bidx;
  if user_id is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    user_id := p_user; email_enc := p_email_enc;
  end if;
  insert into app.memberships (org_id, user_id, role) values (me.org_id, user_id, p_role)
  on conflict (org_id, user_id) do update set role = excluded.role, revoked_at = null
    where app.memberships.revoked_at is not null;
  if not found then
    raise exception 'already a member' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'membership.add', 'success', 'user', user_id, p_request => p_request,
    p_details => jsonb_build_object('role', p_role, 'invited', p_invite_hash is not null));
  if p_invite_hash is not null then
    select p.invite_ttl_min into invite_ttl_min from app.instance_policy p;
    insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, purpose)
    values (me.org_id, user_id, p_invite_hash, null, now() + make_interval(mins => invite_ttl_min), 'invite');
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  m app.memberships%rowtype;
  tid uuid;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind = 'api_key' and (not private.key_holds('members') or (not p_revoke and p_role in ('admin', 'lead'))) then
    raise exception 'forbidden: an API key does not grant the admin or lead role' using errcode = '42501';
  end if;
  -- Serialise membership changes per org, so two admins demoting each
  -- other at once cannot both pass the last-admin check.
  perform 1 from app.orgs o where o.id = me.org_id for update;
  -- The caller's own standing again, now that the lock is held: a change
  -- that demoted or revoked them (or revoked their key) while they waited
  -- for it has committed, and they may no longer act.
  if not exists (select from app.memberships x where x.org_id = me.org_id and x.user_id = me.user_id
                   and x.revoked_at is null and x.role = 'admin')
     or me.kind = 'api_key' and not exists (select from app.api_keys k where k.org_id = me.org_id
                                              and k.id = me.credential_id and k.revoked_at is null)
     or me.kind = 'session' and not exists (select from app.sessions x where x.org_id = me.org_id
                                              and x.id = me.session_id and x.revoked_at is null) then
    raise exception 'forbidden: the caller''s standing changed while this waited' using errcode = '42501';
  end if;
  select * into m from app.memberships x where x.org_id = me.org_id and x.user_id = p_user
     and x.revoked_at is null for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if me.kind = 'api_key' and m.role in ('admin', 'lead') then
    raise exception 'forbidden: an API key does not change an admin or a lead' using errcode = '42501';
  end if;
  if m.role = 'admin' and (p_revoke or p_role is distinct from 'admin')
     and (select count(*) from app.memberships x where x.org_id = me.org_id and x.role = 'admin'
            and x.revoked_at is null) = 1 then
    raise exception 'last admin' using errcode = '23514';
  end if;
  -- Events first: the change may end the caller's own session.
  if p_revoke then
    perform audit.append_as(me.org_id, 'membership.revoke', 'success', 'user', p_user, p_request => p_request);
    for tid in select t.id from app.scim_tokens t
                where t.org_id = me.org_id and t.created_by = p_user and t.revoked_at is null
                order by t.id for update
    loop
      perform audit.append_as(me.org_id, 'scim.token.revoke', 'success', 'scim_token', tid, p_request => p_request,
        p_details => jsonb_build_object('reason', 'member_revoked'));
    end loop;
    update app.scim_tokens t set revoked_at = now()
     where t.org_id = me.org_id and t.created_by = p_user and t.revoked_at is null;
    update app.memberships x set revoked_at = now(), revoked_via = 'admin', revoked_by = me.user_id
     where x.org_id = me.org_id and x.user_id = p_user;
    update app.sessions s set revoked_at = now(), revoked_reason = 'membership_revoked'
     where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null;
  else
    perform audit.append_as(me.org_id, 'membership.update', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('role', p_role, 'old_role', m.role));
    update app.memberships x set role = p_role where x.org_id = me.org_id and x.user_id = p_user;
    -- A privilege change ends the member's sessions: they sign in again.
    update app.sessions s set revoked_at = now(), revoked_reason = 'role_changed'
     where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null;
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.revoke_api_key(p_id uuid, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  update app.api_keys k set revoked_at = now() where k.org_id = me.org_id and k.id = p_id and k.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.api_key.revoke', 'success', 'api_key', p_id, p_request => p_request);
  return true;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.revoke_scim_token(p_id uuid, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = me.org_id and t.id = p_id and t.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'scim.token.revoke', 'success', 'scim_token', p_id, p_request => p_request);
  return true;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
