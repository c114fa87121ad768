-- Refusals at a route get an action; operator procedures no longer guess: creating an org that already
-- exists with the same name and first admin is refused (naming the org),
-- and an operator link for a member of several orgs needs the org.

-- +goose Up
-- `ward audit verify` checks the schema version before it reads the log.
grant select on public.goose_db_version to ward_audit_reader;

set local role ward_owner;

-- A request refused at its route (role, credential kind, assurance, step-up)
-- is audited under the route's action, or this one.
alter table audit.actions drop constraint actions_category_check;
alter table audit.actions add constraint actions_category_check
  check (category in ('auth', 'session', 'org', 'membership', 'patient', 'record', 'audit', 'access'));
-- The registry is written only by migrations, as its owner: RLS is lifted for
-- the one insert.
alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires)
values ('request.denied', 'access', false, false, false, '{}');
alter table audit.actions force row level security;

drop function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid);
drop function app.issue_operator_link(bytea, uuid, bytea);

-- +goose StatementBegin
-- create_org (operators) creates an org with its keysets and first admin.
-- The admin user is reused when the email's blind index is known. An org
-- of the same name in which that person is already an admin is refused
-- (unique_violation, the existing org's id in the message): running
-- `ward org create` twice does not make two orgs. p_org is chosen by the
-- caller because the keysets are bound to it.
create function app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid,
  p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, out org_id uuid, out admin_id uuid)
language plpgsql volatile security definer set search_path = '' as $$
declare
  dup uuid;
begin
  select o.id into dup
    from app.orgs o
    join app.memberships m on m.org_id = o.id and m.role = 'admin' and m.revoked_at is null
    join app.users u on u.id = m.user_id
   where o.name = p_name and u.email_bidx = p_admin_bidx
   limit 1;
  if dup is not null then
    raise exception 'org % already has this name and admin', dup using errcode = '23505';
  end if;
  insert into app.orgs (id, name) values (p_org, p_name) returning id into org_id;
  insert into private.keysets (org_id, purpose, wrapped) values (org_id, 'aead', p_aead), (org_id, 'prf', p_prf);
  select u.id into admin_id from app.users u where u.email_bidx = p_admin_bidx;
  if admin_id is null then
    insert into app.users (id, email_bidx, email_enc) values (p_admin, p_admin_bidx, p_admin_email_enc);
    admin_id := p_admin;
  end if;
  insert into app.memberships (org_id, user_id, role) values (org_id, admin_id, 'admin');
  perform audit.append_as(org_id, 'org.create', 'success', 'org', org_id, p_actor => admin_id);
  perform audit.append_as(org_id, 'membership.add', 'success', 'user', admin_id, p_actor => admin_id,
    p_details => jsonb_build_object('role', 'admin'));
end $$;

-- issue_operator_link (operators only) creates a sign-in link that is not
-- bound to a browser, for `ward login-link`, with the instance lifetime.
-- Without p_org the member must belong to exactly one org: for a member of
-- several it raises (SQLSTATE P0003, the org ids in the message) rather than
-- pick one.
create function app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea,
  out org_id uuid, out user_id uuid, out ttl_min int)
language plpgsql volatile security definer set search_path = '' as $$
declare
  orgs uuid[];
begin
  select array_agg(ms.org_id order by ms.created_at), min(ms.user_id::text)::uuid into orgs, user_id
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org);
  if user_id is null then
    raise exception 'no such member' using errcode = 'P0002';
  end if;
  if cardinality(orgs) > 1 then
    raise exception 'member of several orgs: %', array_to_string(orgs, ' ') using errcode = 'P0003';
  end if;
  org_id := orgs[1];
  select p.link_ttl_min into ttl_min from app.instance_policy p;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at)
  values (org_id, user_id, p_token_hash, null, now() + make_interval(mins => ttl_min));
  perform audit.append_as(org_id, 'auth.link.request', 'success', 'user', user_id,
    p_details => jsonb_build_object('channel', 'cli', 'browser_bound', false), p_actor => user_id);
end $$;
-- +goose StatementEnd

alter function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid) owner to ward_definer;
alter function app.issue_operator_link(bytea, uuid, bytea) owner to ward_definer;
revoke all on function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid),
  app.issue_operator_link(bytea, uuid, bytea) from public;
grant execute on function app.create_org(text, bytea, bytea, uuid, bytea, bytea, uuid),
  app.issue_operator_link(bytea, uuid, bytea) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
