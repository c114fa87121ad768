-- A SCIM token revived whomever an admin had revoked (a security review,
-- HIGH): an admin made a token, the org fired them (DELETE /v1/members),
-- and their own token's PATCH active:true gave them their admin membership
-- back. Any token holder could bring back any member an admin revoked, in
-- their old role.
--
-- Now a membership records how it was revoked: revoked_via 'admin' (an
-- admin, from a session or an admin API key, through app.update_member) or
-- 'scim' (the directory: active false or DELETE), and revoked_by (the
-- admin's user id, or the SCIM token's id). NULL is a revocation of
-- unknown origin (made before this migration with nothing in the audit log
-- to tell, or by the operator), which SCIM treats as not its own.
--   * SCIM restores only a membership SCIM revoked (PATCH/PUT active true,
--     POST of a deleted User); an admin's revocation stays (42501, hint
--     revoked_by_admin; the SCIM surface answers 400 mutability).
--   * A membership SCIM restores comes back with the lower of its old role
--     and the token's default_role (provider or lead): never admin.
--   * A trigger holds both rules for every write under a SCIM token,
--     whatever procedure makes it, and it, not the procedures, records
--     'scim' and the token's id for a revocation under a SCIM token.
--   * app.update_member revoking a member also revokes the SCIM tokens they
--     made (as their API keys stop working), audited, in its transaction.

-- +goose Up
set local role ward_owner;

alter table app.memberships
  add column revoked_via text check (revoked_via in ('admin', 'scim')),
  add column revoked_by uuid,
  add constraint memberships_revocation_live check (revoked_at is not null or (revoked_via is null and revoked_by is null));
comment on column app.memberships.revoked_via is
  'how the membership was revoked: admin (app.update_member) or scim (the directory); null when live or unknown';
comment on column app.memberships.revoked_by is
  'who revoked it: the admin''s user id (admin) or the SCIM token''s id (scim)';

-- Memberships revoked before this migration: the revocation event the
-- revoking transaction recorded (stamped at or just after its revoked_at)
-- says who did it; none leaves it unknown (SCIM does not restore it).
alter table audit.events no force row level security;
update app.memberships m
   set revoked_via = e.via, revoked_by = e.by
  from (select distinct on (x.org_id, x.user_id) x.org_id, x.user_id,
               case when ev.action = 'membership.revoke' then 'admin' else 'scim' end as via,
               case when ev.action = 'membership.revoke' then ev.actor_id else ev.credential_id end as by
          from app.memberships x
          join audit.events ev on ev.org_id = x.org_id and ev.object_id = x.user_id and ev.object_type = 'user'
           and ev.outcome = 'success' and ev.at >= x.revoked_at and ev.at < x.revoked_at + interval '1 minute'
           and ev.action in ('membership.revoke', 'scim.user.deactivate', 'scim.user.delete')
         where x.revoked_at is not null
         order by x.org_id, x.user_id, ev.at, ev.qid) e
 where m.org_id = e.org_id and m.user_id = e.user_id
   and (e.via = 'admin' or e.by is not null);
alter table audit.events force row level security;

-- +goose StatementBegin
-- membership_revocation keeps a live membership free of revocation marks,
-- and under a SCIM token: records a revocation as the directory's (with the
-- token's id), refuses to restore a membership the directory did not
-- revoke, and restores one only as provider or lead, never above its old
-- role. It reads the credential (private.me()), never the row's claims.
create function private.membership_revocation() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  me record;
begin
  if new.revoked_at is null then
    new.revoked_via := null;
    new.revoked_by := null;
  end if;
  select m.kind, m.credential_id into me from private.me() m;
  if me.kind is distinct from 'scim_token' then
    if new.revoked_via = 'scim' and (tg_op = 'INSERT' or old.revoked_via is distinct from 'scim') then
      raise exception 'only a SCIM token records a revocation as the directory''s' using errcode = '42501';
    end if;
    return new;
  end if;
  if new.revoked_at is not null and (tg_op = 'INSERT' or old.revoked_at is null) then
    new.revoked_via := 'scim';
    new.revoked_by := me.credential_id;
  elsif tg_op = 'UPDATE' and new.revoked_at is not null then
    new.revoked_via := old.revoked_via;
    new.revoked_by := old.revoked_by;
  end if;
  if new.revoked_at is null and (tg_op = 'INSERT' or old.revoked_at is not null) then
    if tg_op = 'UPDATE' and old.revoked_via is distinct from 'scim' then
      raise exception 'an admin revoked this membership: the directory cannot restore it' using errcode = '42501',
        hint = 'revoked_by_admin';
    end if;
    if new.role not in ('provider', 'lead')
       or (tg_op = 'UPDATE' and new.role = 'lead' and old.role not in ('lead', 'admin')) then
      raise exception 'the directory restores or creates a member as provider or lead, never above the old role'
        using errcode = '42501';
    end if;
  end if;
  return new;
end $$;
-- +goose StatementEnd
alter function private.membership_revocation() owner to ward_rls;
revoke all on function private.membership_revocation() from public;
create trigger memberships_revocation before insert or update on app.memberships
  for each row execute function private.membership_revocation();

-- +goose StatementBegin
-- update_member as in 00093; a revocation records the admin, and revokes
-- the SCIM tokens the member made (each audited), before it ends the
-- membership and the sessions.
create or replace function app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text default null)
returns void
language plpgsql security definer set search_path = '' as $$
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

-- scim_create_user as in 00050, but a person the directory deleted comes
-- back only if the directory (not an admin) revoked them, with the lower
-- of their old role and the token's default role; one an admin added back
-- since (live, hidden from SCIM) keeps the role the admin gave.
create or replace function app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text,
  p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  uid uuid;
  m app.memberships%rowtype;
  drole text;
  newrole text;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if octet_length(p_email_bidx) is distinct from 32 or p_email_enc is null or p_user is null then
    raise exception 'scim_create_user: a user id, a 32-byte blind index and a sealed address are required'
      using errcode = '22023';
  end if;
  select t.default_role into drole from app.scim_tokens t where t.org_id = me.org_id and t.id = me.credential_id;
  select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    uid := p_user;
  end if;
  newrole := drole;
  select * into m from app.memberships x where x.org_id = me.org_id and x.user_id = uid for update;
  if found then
    if m.role in ('patient', 'stakeholder') or not exists (select from app.scim_users su where su.org_id = me.org_id
                                           and su.user_id = uid and su.deleted_at is not null) then
      raise exception 'already a member' using errcode = '23505';
    end if;
    if m.revoked_at is null then
      newrole := m.role;
    else
      if m.revoked_via is distinct from 'scim' then
        raise exception 'an admin revoked this membership: the directory cannot restore it' using errcode = '42501',
          hint = 'revoked_by_admin';
      end if;
      newrole := case when m.role = 'provider' or drole = 'provider' then 'provider' else 'lead' end;
      update app.memberships x set role = newrole, revoked_at = null
       where x.org_id = me.org_id and x.user_id = uid;
    end if;
  else
    insert into app.memberships (org_id, user_id, role) values (me.org_id, uid, drole);
  end if;
  insert into app.scim_users (org_id, user_id, external_id) values (me.org_id, uid, p_external_id)
  on conflict (org_id, user_id) do update
    set external_id = excluded.external_id, attrs_enc = null, deleted_at = null, created_at = now(),
        updated_at = now(), version = app.scim_users.version + 1;
  perform audit.append_as(me.org_id, 'scim.user.create', 'success', 'user', uid, p_request => p_request,
    p_details => jsonb_build_object('role', newrole));
  return uid;
end $$;

-- scim_update_user as in 00050, but active true restores only a membership
-- the directory revoked, with the lower of its old role and the token's
-- default role; one an admin revoked is 42501 (hint revoked_by_admin).
create or replace function app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea,
  p_active boolean, p_request text default null)
returns int
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  m app.memberships%rowtype;
  bidx bytea;
  v int;
  drole text;
  newrole text;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_active is null then
    raise exception 'scim_update_user: active is true or false' using errcode = '22023';
  end if;
  select x.* into m from app.memberships x
   where x.org_id = me.org_id and x.user_id = p_user and x.role not in ('patient', 'stakeholder')
     and not exists (select from app.scim_users su where su.org_id = x.org_id and su.user_id = x.user_id
                       and su.deleted_at is not null)
   for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select u.email_bidx into bidx from app.users u where u.id = p_user;
  if p_email_bidx is distinct from bidx then
    raise exception 'userName cannot change' using errcode = '22023', hint = 'mutability';
  end if;
  if p_active and m.revoked_at is not null and m.revoked_via is distinct from 'scim' then
    raise exception 'an admin revoked this membership: the directory cannot restore it' using errcode = '42501',
      hint = 'revoked_by_admin';
  end if;
  insert into app.scim_users (org_id, user_id, external_id, attrs_enc) values (me.org_id, p_user, p_external_id, p_attrs_enc)
  on conflict (org_id, user_id) do update
    set external_id = excluded.external_id, attrs_enc = excluded.attrs_enc, updated_at = now(),
        version = app.scim_users.version + 1
  returning version into v;
  perform audit.append_as(me.org_id, 'scim.user.update', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('active', p_active));
  if p_active and m.revoked_at is not null then
    select t.default_role into drole from app.scim_tokens t where t.org_id = me.org_id and t.id = me.credential_id;
    newrole := case when m.role = 'provider' or drole = 'provider' then 'provider' else 'lead' end;
    update app.memberships x set role = newrole, revoked_at = null
     where x.org_id = me.org_id and x.user_id = p_user;
    perform audit.append_as(me.org_id, 'scim.user.activate', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('role', newrole, 'old_role', m.role));
  elsif not p_active and m.revoked_at is null then
    perform audit.append_as(me.org_id, 'scim.user.deactivate', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('sessions_revoked', true, 'api_keys_revoked', true));
    perform private.scim_end_access(me.org_id, p_user, 'deprovisioned');
  end if;
  return v;
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
