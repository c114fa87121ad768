-- app.update_member checked that its caller is an admin before it took the
-- org's lock (an attacker's review of the privilege lifecycle, LOW): a
-- caller demoted or revoked by a change that committed while they waited
-- for the lock still completed their own change. It checks the caller's
-- standing (a live admin membership, a live session or key) again once the
-- lock is held.

-- +goose Up
set local role ward_owner;

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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
