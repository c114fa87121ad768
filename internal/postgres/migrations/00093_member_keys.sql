-- +goose Up
-- An admin API key manages the org's ordinary members, not its privileged
-- ones: a key (even with the members scope) may not grant, change or revoke
-- the admin or lead role. Otherwise a leaked narrow key becomes a full
-- takeover: it adds an admin, who signs in, enrols a factor and creates
-- keys with every scope, skipping the step-up the same routes demand of a
-- session. The database checks the key's scope as well, not only the
-- server.

-- +goose StatementBegin
create or replace function app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text,
  p_request text default null, p_invite_hash bytea default null,
  out user_id uuid, out email_enc bytea, out invite_ttl_min int)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
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
create or replace function app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text default null)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  m app.memberships%rowtype;
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
    update app.memberships x set revoked_at = now() where x.org_id = me.org_id and x.user_id = p_user;
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

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
