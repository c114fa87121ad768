-- Corrections from a review of key rotation (00145) and the compliance
-- facts (00146):
--
-- * app.ops_replace_keyset sets rotated_at only when a key is rotated
--   (kind 'rotate'). A root-key rewrap ('rewrap') wraps the same keys again,
--   so it no longer makes an org's key look new to `ward keys status` and
--   `ward compliance report`. rotated_at values 00145's function already
--   set are put back from the log: the newest keys.rotate event of the
--   org for its aead keyset, none for a prf keyset (it never rotates).
-- * app.ops_compliance_facts() also reports per org the break-glass users
--   who could activate now (a live provider, lead or admin membership and
--   at least two passkeys, as app.break_glass_activate demands), each
--   enabled audit sink's state (failing, newest delivery, the time of the
--   oldest event it has not delivered) and the time of the oldest event
--   no signed checkpoint covers, so a designation nobody can use, a sink
--   that delivers nothing or a signer that stopped no longer counts as the
--   control met.

-- +goose Up
-- As the migrating superuser: the log is read across orgs.
update private.keysets k
   set rotated_at = case when k.purpose = 'aead' then
         (select max(e.at) from audit.events e where e.org_id = k.org_id and e.action = 'keys.rotate') end
 where k.rotated_at is not null and k.purpose in ('aead', 'prf');

set local role ward_owner;

grant select (id, failing_since, cursor_seq) on app.audit_sinks to ward_definer;

-- +goose StatementBegin
create or replace function app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text)
returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  if p_purpose is null or p_purpose not in ('aead', 'prf') then
    raise exception 'ops_replace_keyset: the purpose is aead or prf' using errcode = '22023';
  end if;
  if p_kind is null or p_kind not in ('rotate', 'rewrap') then
    raise exception 'ops_replace_keyset: the kind is rotate or rewrap' using errcode = '22023';
  end if;
  if p_kind = 'rotate' and p_purpose <> 'aead' then
    -- A new PRF key would change every blind index: a re-index, not a rotation.
    raise exception 'ops_replace_keyset: only the aead keyset rotates' using errcode = '22023';
  end if;
  if p_new is null or octet_length(p_new) = 0 or p_new = p_old then
    raise exception 'ops_replace_keyset: the new keyset is empty or unchanged' using errcode = '22023';
  end if;
  update private.keysets k
     set wrapped = p_new,
         rotated_at = case when p_kind = 'rotate' then now() else k.rotated_at end
   where k.org_id = p_org and k.purpose = p_purpose and k.wrapped = p_old;
  if not found then
    return false;
  end if;
  perform audit.append_as(p_org, 'keys.' || p_kind, 'success', 'keyset', p_org,
    p_details => jsonb_build_object('purpose', p_purpose, 'by', session_user::text));
  return true;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.ops_compliance_facts()
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
        -- Those who could activate now (app.break_glass_activate's checks):
        -- a live clinical or admin membership and at least two passkeys.
        'break_glass_usable', (select count(*) from app.break_glass_users b
                                 join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                                where b.org_id = i.id and m.revoked_at is null
                                  and m.role in ('provider', 'lead', 'admin')
                                  and (select count(*) from app.passkeys p
                                        where p.org_id = b.org_id and p.user_id = b.user_id) >= 2),
        'keyset_created_at', k.created_at, 'keyset_rotated_at', k.rotated_at,
        'has_prf', exists (select from private.keysets kp where kp.org_id = i.id and kp.purpose = 'prf'),
        'tree_size', coalesce(h.tree_size, 0),
        'checkpoint_size', c.size, 'checkpoint_at', c.signed_at,
        'archived_size', coalesce(s.archived_size, 0),
        'archive_objects', coalesce(a.n, 0), 'archive_modes', coalesce(a.modes, '[]'::jsonb),
        'archive_min_retention_days', a.min_days, 'archive_unlocked', coalesce(a.unlocked, 0),
        'sinks', coalesce((select jsonb_agg(jsonb_build_object(
                   'failing', x.failing_since is not null, 'last_success_at', x.last_success_at,
                   'undelivered_since', (select e.at from audit.events e
                                          where e.org_id = x.org_id and e.seq > x.cursor_seq
                                          order by e.seq limit 1))
                   order by x.id)
                   from app.audit_sinks x
                  where x.org_id = i.id and x.enabled and x.disabled_at is null), '[]'::jsonb),
        'first_unsigned_at', (select e.at from audit.events e
                               where e.org_id = i.id and e.seq > coalesce(c.size, 0)
                               order by e.seq limit 1))
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

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
