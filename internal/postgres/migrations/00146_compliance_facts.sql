-- The facts behind `ward compliance report` (DESIGN §8): what the running
-- database holds about each org's safeguards, for the operator only.
--
-- app.ops_compliance_facts() returns one jsonb document: the instance
-- policy, the auth.* actions the log registers, whether the admin role's assurance bar demands a second factor
-- even where an org asks for none, every gateway provider with its BAA and
-- zero-retention fields and how many orgs enable it, and per org (the
-- instance's keyset and log included): its session policy as the sign-in
-- procedures apply it (the lesser of the org's value and the instance cap),
-- its assurance settings, active members and admins, admins with no
-- second factor enrolled, break-glass users, its AEAD keyset's age, its
-- audit tree, newest signed checkpoint, archived position and archive
-- objects' retention, and its audit sinks. Counts and dates only: no
-- email, no key material, no PHI. It takes no argument, so nothing about
-- what it reports comes from its caller; it reads across every org (which
-- is why it runs as ward_definer and only ward_ops may execute it). The
-- catalog facts (RLS on every table, roles, SECURITY DEFINER functions)
-- the report reads from pg_catalog directly, as any role may.

-- +goose Up
set local role ward_owner;

grant select (name, baa_signed_at, baa_ref, zero_retention, models, region) on app.gateway_providers to ward_definer;
grant select (org_id, enabled, disabled_at, last_success_at) on app.audit_sinks to ward_definer;

-- +goose StatementBegin
create function app.ops_compliance_facts()
returns jsonb
language sql stable security definer set search_path = '' as $$
  with pol as (select * from app.instance_policy limit 1),
  ids as (
    select o.id from app.orgs o
    union select k.org_id from private.keysets k
    union select h.org_id from audit.heads h
  ),
  members as (
    select m.org_id, count(*) as active,
           count(*) filter (where m.role = 'admin') as admins,
           count(*) filter (where m.role = 'admin'
             and not exists (select from app.totp_factors t
                              where t.org_id = m.org_id and t.user_id = m.user_id and t.confirmed_at is not null)
             and not exists (select from app.passkeys p
                              where p.org_id = m.org_id and p.user_id = m.user_id)) as admins_without_factor
      from app.memberships m
     where m.revoked_at is null
     group by m.org_id
  )
  select jsonb_build_object(
    'now', now(),
    'instance_policy', (select jsonb_build_object(
        'link_ttl_min', p.link_ttl_min, 'session_idle_max_min', p.session_idle_max_min,
        'session_absolute_max_min', p.session_absolute_max_min,
        'link_max_per_address', p.link_max_per_address, 'link_max_per_source', p.link_max_per_source)
      from pol p),
    'admin_bar', private.assurance_bar('admin', false, false),
    'auth_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                       from audit.actions a where a.name like 'auth.%'),
    'providers', coalesce((select jsonb_agg(jsonb_build_object(
        'name', g.name, 'baa_signed_at', g.baa_signed_at, 'baa_ref', g.baa_ref is not null,
        'zero_retention', g.zero_retention, 'models', cardinality(g.models), 'region', g.region,
        'enabled_by', (select count(*) from app.orgs o where g.name = any (o.gateway_providers)))
        order by g.name) from app.gateway_providers g), '[]'::jsonb),
    'orgs', coalesce((select jsonb_agg(jsonb_build_object(
        'id', i.id,
        'name', o.name,
        'exists', o.id is not null,
        'idle_timeout_min', least(o.session_idle_timeout_min, pol.session_idle_max_min),
        'absolute_max_min', least(o.session_absolute_max_min, pol.session_absolute_max_min),
        'require_mfa', o.require_mfa, 'require_passkey', o.require_passkey, 'enforce_sso', o.enforce_sso,
        'members', coalesce(mb.active, 0), 'admins', coalesce(mb.admins, 0),
        'admins_without_factor', coalesce(mb.admins_without_factor, 0),
        'break_glass_users', (select count(*) from app.break_glass_users b where b.org_id = i.id),
        'keyset_created_at', k.created_at, 'keyset_rotated_at', k.rotated_at,
        'has_prf', exists (select from private.keysets kp where kp.org_id = i.id and kp.purpose = 'prf'),
        'tree_size', coalesce(h.tree_size, 0),
        'checkpoint_size', c.size, 'checkpoint_at', c.signed_at,
        'archived_size', coalesce(s.archived_size, 0),
        'archive_objects', coalesce(a.n, 0), 'archive_modes', coalesce(a.modes, '[]'::jsonb),
        'archive_min_retention_days', a.min_days, 'archive_unlocked', coalesce(a.unlocked, 0),
        'sinks_enabled', (select count(*) from app.audit_sinks x
                           where x.org_id = i.id and x.enabled and x.disabled_at is null))
        order by i.id)
      from ids i
      cross join pol
      left join app.orgs o on o.id = i.id
      left join members mb on mb.org_id = i.id
      left join private.keysets k on k.org_id = i.id and k.purpose = 'aead'
      left join audit.heads h on h.org_id = i.id
      left join audit.archive_state s on s.org_id = i.id
      left join lateral (select c.size, c.signed_at from audit.checkpoints c
                          where c.org_id = i.id order by c.size desc limit 1) c on true
      left join lateral (select count(*) as n,
                                jsonb_agg(distinct ao.mode) filter (where ao.mode is not null) as modes,
                                min(extract(epoch from ao.retain_until - ao.stored_at) / 86400)::int as min_days,
                                count(*) filter (where ao.mode is null) as unlocked
                           from audit.archive_objects ao where ao.org_id = i.id) a on true),
      '[]'::jsonb))
  from pol
$$;
-- +goose StatementEnd
alter function app.ops_compliance_facts() owner to ward_definer;
revoke all on function app.ops_compliance_facts() from public;
grant execute on function app.ops_compliance_facts() to ward_ops;

reset role;

-- +goose Down
set local role ward_owner;
drop function app.ops_compliance_facts();
revoke select (name, baa_signed_at, baa_ref, zero_retention, models, region) on app.gateway_providers from ward_definer;
revoke select (org_id, enabled, disabled_at, last_success_at) on app.audit_sinks from ward_definer;
reset role;
