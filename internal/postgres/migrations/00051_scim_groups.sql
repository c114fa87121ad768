-- SCIM 2.0 Groups (issue 12 §2): a directory's groups of the org's staff,
-- and Ward roles by a per-org mapping. An admin (with step-up) maps a group
-- to a role (provider, lead or admin); the directory decides who is in the
-- group. A member of mapped groups has the highest role they map to; one
-- who leaves the last mapped group falls back to the SCIM token's default
-- role. Unmapped groups never change anyone's role. A role change ends the
-- member's sessions (they sign in again), as an admin's change does, and
-- the org's last admin is kept.

-- +goose Up
set local role ward_owner;

create table app.scim_groups (
  org_id uuid not null references app.orgs (id),
  id uuid not null default gen_random_uuid(),
  display_name text not null check (length(display_name) between 1 and 256),
  external_id text check (length(external_id) between 1 and 256),
  role text check (role in ('provider', 'lead', 'admin')),
  version int not null default 1 check (version > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  unique (org_id, external_id)
);
-- displayName is unique in the org whatever its case, as filters compare it.
create unique index scim_groups_name_idx on app.scim_groups (org_id, lower(display_name));
alter table app.scim_groups enable row level security;
alter table app.scim_groups force row level security;
create policy scim_groups_select on app.scim_groups for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.is_scim())
              or ((select private.get_my_role()) = 'admin' and not (select private.is_key()))));
grant select on app.scim_groups to ward_app;
grant select, insert, update, delete on app.scim_groups to ward_definer;

create table app.scim_group_members (
  org_id uuid not null,
  group_id uuid not null,
  user_id uuid not null,
  primary key (org_id, group_id, user_id),
  foreign key (org_id, group_id) references app.scim_groups (org_id, id) on delete cascade,
  foreign key (org_id, user_id) references app.memberships (org_id, user_id)
);
create index scim_group_members_user_idx on app.scim_group_members (org_id, user_id);
alter table app.scim_group_members enable row level security;
alter table app.scim_group_members force row level security;
create policy scim_group_members_select on app.scim_group_members for select to ward_app
  using (org_id = (select private.get_my_org_id())
         and ((select private.is_scim())
              or ((select private.get_my_role()) = 'admin' and not (select private.is_key()))));
grant select on app.scim_group_members to ward_app;
grant select, insert, delete on app.scim_group_members to ward_definer;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('scim.group.create',  'membership', false, false, true, '{object}'),
  ('scim.group.update',  'membership', false, false, true, '{object}'),
  ('scim.group.delete',  'membership', false, false, true, '{object}'),
  ('scim.group.list',    'access',     false, false, true, '{}'),
  ('scim.group.role',    'membership', false, false, true, '{object}'),
  ('scim.group.mappings', 'access',    false, false, false, '{}'),
  ('scim.user.role',     'membership', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- scim_apply_roles gives each of p_users (live staff of p_org) the highest
-- role of the mapped groups they are in, or p_default when they are in
-- none; a change ends their sessions and is audited. Demoting the org's
-- last live admin is 23514. Called only by the definer procedures below.
create function private.scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text)
returns void
language plpgsql volatile set search_path = '' as $$
declare
  r record;
  want text;
begin
  perform 1 from app.orgs o where o.id = p_org for update;
  for r in select m.user_id, m.role from app.memberships m
            where m.org_id = p_org and m.user_id = any (p_users) and m.revoked_at is null and m.role not in ('patient', 'stakeholder')
            order by m.user_id
  loop
    select g.role into want from app.scim_group_members gm
      join app.scim_groups g on g.org_id = gm.org_id and g.id = gm.group_id
     where gm.org_id = p_org and gm.user_id = r.user_id and g.role is not null
     order by case g.role when 'admin' then 3 when 'lead' then 2 else 1 end desc
     limit 1;
    want := coalesce(want, p_default);
    if want is distinct from r.role then
      if r.role = 'admin' and (select count(*) from app.memberships x where x.org_id = p_org and x.role = 'admin'
                                 and x.revoked_at is null) = 1 then
        raise exception 'last admin' using errcode = '23514';
      end if;
      perform audit.append_as(p_org, 'scim.user.role', 'success', 'user', r.user_id, p_request => p_request,
        p_details => jsonb_build_object('role', want, 'old_role', r.role));
      update app.memberships x set role = want where x.org_id = p_org and x.user_id = r.user_id;
      update app.sessions s set revoked_at = now(), revoked_reason = 'role_changed'
       where s.org_id = p_org and s.user_id = r.user_id and s.revoked_at is null;
    end if;
  end loop;
end $$;

-- scim_groups lists the SCIM token's org's groups, narrowed by any of id,
-- displayName and externalId, one page, with their members (Users SCIM
-- still sees), and records the read.
create function app.scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset int, p_limit int,
  p_request text default null)
returns table (id uuid, display_name text, external_id text, role text, members uuid[], created_at timestamptz,
  updated_at timestamptz, version int, total bigint)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  me record;
  r record;
  ids uuid[] := '{}';
  n bigint;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_offset is null or p_limit is null or p_offset < 0 or p_limit < 0 or p_limit > 1000 then
    raise exception 'scim_groups: offset >= 0 and a limit of 0..1000' using errcode = '22023';
  end if;
  select count(*) into n from app.scim_groups g
   where g.org_id = me.org_id and (p_id is null or g.id = p_id)
     and (p_display_name is null or lower(g.display_name) = lower(p_display_name))
     and (p_external_id is null or g.external_id = p_external_id);
  for r in
    select g.id, g.display_name, g.external_id, g.role, g.created_at, g.updated_at, g.version,
           coalesce((select array_agg(gm.user_id order by gm.user_id) from app.scim_group_members gm
                      join app.memberships m on m.org_id = gm.org_id and m.user_id = gm.user_id
                     where gm.org_id = g.org_id and gm.group_id = g.id and m.role not in ('patient', 'stakeholder')
                       and not exists (select from app.scim_users su where su.org_id = gm.org_id
                                         and su.user_id = gm.user_id and su.deleted_at is not null)), '{}') as members
      from app.scim_groups g
     where g.org_id = me.org_id and (p_id is null or g.id = p_id)
       and (p_display_name is null or lower(g.display_name) = lower(p_display_name))
       and (p_external_id is null or g.external_id = p_external_id)
     order by g.created_at, g.id
    offset p_offset limit p_limit
  loop
    id := r.id; display_name := r.display_name; external_id := r.external_id; role := r.role;
    members := r.members; created_at := r.created_at; updated_at := r.updated_at; version := r.version; total := n;
    ids := ids || r.id;
    return next;
  end loop;
  if cardinality(ids) = 0 then
    id := null; display_name := null; external_id := null; role := null; members := null; created_at := null;
    updated_at := null; version := null; total := n;
    return next;
  end if;
  perform audit.append_as(me.org_id, 'scim.group.list', 'success', p_results => ids, p_request => p_request,
    p_details => jsonb_build_object('count', cardinality(ids), 'total', n));
end $$;

-- scim_put_group creates (p_id null) or replaces a group of the SCIM
-- token's org: its displayName, externalId and members, who must all be
-- Users SCIM sees (22023 otherwise). When the group maps a role, the
-- members who join or leave get their roles again. Returns the group's id.
-- No such group: P0002; a name or externalId taken: 23505.
create function app.scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[],
  p_request text default null)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  g app.scim_groups%rowtype;
  old uuid[] := '{}';
  new uuid[];
  drole text;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  new := coalesce((select array_agg(distinct x order by x) from unnest(p_members) x), '{}');
  if array_position(new, null) is not null or cardinality(new) > 10000 then
    raise exception 'scim_put_group: members are user ids' using errcode = '22023';
  end if;
  if (select count(*) from app.memberships m
       where m.org_id = me.org_id and m.user_id = any (new) and m.role not in ('patient', 'stakeholder')
         and not exists (select from app.scim_users su where su.org_id = m.org_id and su.user_id = m.user_id
                           and su.deleted_at is not null)) <> cardinality(new) then
    raise exception 'scim_put_group: a member is no User of this org' using errcode = '22023', hint = 'member';
  end if;
  select t.default_role into drole from app.scim_tokens t where t.org_id = me.org_id and t.id = me.credential_id;
  if p_id is null then
    insert into app.scim_groups (org_id, display_name, external_id) values (me.org_id, p_display_name, p_external_id)
    returning * into g;
    perform audit.append_as(me.org_id, 'scim.group.create', 'success', 'scim_group', g.id, p_request => p_request,
      p_details => jsonb_build_object('members', cardinality(new)));
  else
    select * into g from app.scim_groups x where x.org_id = me.org_id and x.id = p_id for update;
    if not found then
      raise exception 'not found' using errcode = 'P0002';
    end if;
    old := coalesce((select array_agg(gm.user_id order by gm.user_id) from app.scim_group_members gm
                      where gm.org_id = me.org_id and gm.group_id = g.id), '{}');
    update app.scim_groups x set display_name = p_display_name, external_id = p_external_id, updated_at = now(),
           version = x.version + 1
     where x.org_id = me.org_id and x.id = g.id;
    perform audit.append_as(me.org_id, 'scim.group.update', 'success', 'scim_group', g.id, p_request => p_request,
      p_details => jsonb_build_object('members', cardinality(new),
        'added', (select count(*) from unnest(new) x where x <> all (old)),
        'removed', (select count(*) from unnest(old) x where x <> all (new))));
  end if;
  delete from app.scim_group_members gm where gm.org_id = me.org_id and gm.group_id = g.id and gm.user_id <> all (new);
  insert into app.scim_group_members (org_id, group_id, user_id)
  select me.org_id, g.id, x from unnest(new) x on conflict do nothing;
  if g.role is not null then
    perform private.scim_apply_roles(me.org_id,
      array(select x from unnest(new) x where x <> all (old) union select x from unnest(old) x where x <> all (new)),
      drole, p_request);
  end if;
  return g.id;
end $$;

-- scim_delete_group deletes a group of the SCIM token's org; its members
-- get their roles again when it mapped one. No such group: P0002.
create function app.scim_delete_group(p_id uuid, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  g app.scim_groups%rowtype;
  old uuid[];
  drole text;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into g from app.scim_groups x where x.org_id = me.org_id and x.id = p_id for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  old := coalesce((select array_agg(gm.user_id) from app.scim_group_members gm
                    where gm.org_id = me.org_id and gm.group_id = g.id), '{}');
  perform audit.append_as(me.org_id, 'scim.group.delete', 'success', 'scim_group', g.id, p_request => p_request,
    p_details => jsonb_build_object('members', cardinality(old)));
  delete from app.scim_groups x where x.org_id = me.org_id and x.id = g.id;
  if g.role is not null then
    select t.default_role into drole from app.scim_tokens t where t.org_id = me.org_id and t.id = me.credential_id;
    perform private.scim_apply_roles(me.org_id, old, drole, p_request);
  end if;
end $$;

-- set_scim_group_role maps a group of the caller's org to a Ward role, or
-- unmaps it (null): admins, from a session that presented a second factor
-- within 10 minutes. The group's members get their roles again (those left
-- without a mapped group become providers). No such group: P0002.
create function app.set_scim_group_role(p_group uuid, p_role text, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
  g app.scim_groups%rowtype;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  update app.scim_groups x set role = p_role, updated_at = now(), version = x.version + 1
   where x.org_id = me.org_id and x.id = p_group
  returning * into g;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'scim.group.role', 'success', 'scim_group', g.id, p_request => p_request,
    p_details => jsonb_build_object('role', p_role));
  perform private.scim_apply_roles(me.org_id,
    coalesce((select array_agg(gm.user_id) from app.scim_group_members gm
               where gm.org_id = me.org_id and gm.group_id = g.id), '{}'), 'provider', p_request);
end $$;

-- scim_delete_user as in 00050, and the User leaves its groups (getting its
-- role again first, so the last admin is kept).
create or replace function app.scim_delete_user(p_user uuid, p_request text default null) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  perform 1 from app.memberships x
   where x.org_id = me.org_id and x.user_id = p_user and x.role not in ('patient', 'stakeholder')
     and not exists (select from app.scim_users su where su.org_id = x.org_id and su.user_id = x.user_id
                       and su.deleted_at is not null)
   for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'scim.user.delete', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('sessions_revoked', true, 'api_keys_revoked', true));
  perform private.scim_end_access(me.org_id, p_user, 'deprovisioned');
  delete from app.scim_group_members gm where gm.org_id = me.org_id and gm.user_id = p_user;
  insert into app.scim_users (org_id, user_id, deleted_at) values (me.org_id, p_user, now())
  on conflict (org_id, user_id) do update
    set external_id = null, attrs_enc = null, deleted_at = now(), updated_at = now(),
        version = app.scim_users.version + 1;
end $$;
-- +goose StatementEnd

revoke all on function private.scim_apply_roles(uuid, uuid[], text, text) from public;
grant execute on function private.scim_apply_roles(uuid, uuid[], text, text) to ward_definer;
alter function app.scim_groups(uuid, text, text, int, int, text) owner to ward_definer;
alter function app.scim_put_group(uuid, text, text, uuid[], text) owner to ward_definer;
alter function app.scim_delete_group(uuid, text) owner to ward_definer;
alter function app.set_scim_group_role(uuid, text, text) owner to ward_definer;
revoke all on function app.scim_groups(uuid, text, text, int, int, text), app.scim_put_group(uuid, text, text, uuid[], text),
  app.scim_delete_group(uuid, text), app.set_scim_group_role(uuid, text, text) from public;
grant execute on function app.scim_groups(uuid, text, text, int, int, text), app.scim_put_group(uuid, text, text, uuid[], text),
  app.scim_delete_group(uuid, text), app.set_scim_group_role(uuid, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
