-- The operator's view of members (`ward user list`, docs/operations.md):
-- who belongs to an org, or which orgs one address belongs to, and the
-- state of their sign-in: role, membership dates, passkeys, a confirmed
-- TOTP factor and its lockout, recovery codes left, live sessions, the
-- last sign-in. What an operator needs to answer "why can't this person
-- sign in?" without an org admin's session, and without any address,
-- name or secret: ids, roles, counts and dates. The address is looked up
-- by its blind index, computed by the operator's process with the
-- instance key (as `ward login-link` does). For ward_ops only; refused
-- with a bound credential; at least one of p_org and p_email_bidx; at most
-- 10,000 rows.
-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create function app.ops_members(p_org uuid, p_email_bidx bytea)
returns table (org_id uuid, user_id uuid, role text, member_since timestamptz, revoked_at timestamptz,
  passkeys integer, totp boolean, totp_locked_until timestamptz, recovery_codes integer,
  live_sessions integer, last_sign_in timestamptz)
language plpgsql security definer
set search_path to ''
as $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_members: the operator''s view takes no credential' using errcode = '42501';
  end if;
  if p_org is null and p_email_bidx is null then
    raise exception 'ops_members: name an org or an address' using errcode = '22023';
  end if;
  return query
    select m.org_id, m.user_id, m.role, m.created_at, m.revoked_at,
           (select count(*)::integer from app.passkeys p where p.org_id = m.org_id and p.user_id = m.user_id),
           coalesce((select t.confirmed_at is not null from app.totp_factors t
                      where t.org_id = m.org_id and t.user_id = m.user_id), false),
           (select t.locked_until from app.totp_factors t
             where t.org_id = m.org_id and t.user_id = m.user_id and t.locked_until > now()),
           (select count(*)::integer from app.recovery_codes r
             where r.org_id = m.org_id and r.user_id = m.user_id and r.used_at is null),
           (select count(*)::integer from app.sessions s
             where s.org_id = m.org_id and s.user_id = m.user_id and s.revoked_at is null
               and s.absolute_expires_at > now()
               and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()),
           (select max(s.created_at) from app.sessions s where s.org_id = m.org_id and s.user_id = m.user_id)
      from app.memberships m
      join app.users u on u.id = m.user_id
     where (p_org is null or m.org_id = p_org)
       and (p_email_bidx is null or u.email_bidx = p_email_bidx)
     order by m.org_id, m.role, m.created_at, m.user_id
     limit 10000;
end $$;
-- +goose StatementEnd

alter function app.ops_members(uuid, bytea) owner to ward_definer;
revoke all on function app.ops_members(uuid, bytea) from public;
grant execute on function app.ops_members(uuid, bytea) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
