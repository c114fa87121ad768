-- API keys under enforce_sso (attacker review of 00128). An admin API key
-- resolves with no session, so 00128's resolver check, which looks at a
-- session's amr, never saw one: a key an admin on the enforced domain made
-- from an email+TOTP session before enforcement kept working after it.
-- Turning enforcement on, or verifying a domain while it is on, now also
-- revokes the live keys that such members created, in the same
-- transaction, counted in the audit event (keys_ended), as 00128 does for
-- their sessions and links. A key made while enforcement is on comes from
-- a session the resolver let through: from the IdP, or break-glass.
-- Not covered: a member whose address's domain is noted only after
-- enforcement began (the start-up job for rows from before 00128) keeps a
-- key made before; docs/sso.md says so.

-- +goose Up
set local role ward_owner;

-- +goose StatementBegin
create or replace function app.set_sso_policy(p_enforce boolean, p_request text default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  n_sessions int;
  n_links int;
  n_keys int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if p_enforce is null then
    raise exception 'enforce_sso is true or false' using errcode = '22023';
  end if;
  update app.orgs o set enforce_sso = p_enforce where o.id = me.org_id;
  -- The sessions not from the org's IdP and the unspent sign-in links of
  -- the members SSO now binds end here, in this transaction.
  with ended as (
    update app.sessions s set revoked_at = now(), revoked_reason = 'sso_enforced'
     where s.org_id = me.org_id and s.revoked_at is null and not s.break_glass and not ('sso' = any (s.amr))
       and private.sso_bound(s.org_id, s.user_id)
    returning 1)
  select count(*) into n_sessions from ended;
  with ended as (
    update app.magic_links l set expires_at = now()
     where l.org_id = me.org_id and l.used_at is null and l.expires_at > now()
       and private.sso_bound(l.org_id, l.user_id)
    returning 1)
  select count(*) into n_links from ended;
  with ended as (
    update app.api_keys k set revoked_at = now()
     where k.org_id = me.org_id and k.revoked_at is null
       and private.sso_bound(k.org_id, k.created_by)
    returning 1)
  select count(*) into n_keys from ended;
  perform audit.append_as(me.org_id, 'sso.policy.update', 'success', 'org', me.org_id, p_request => p_request,
    p_details => jsonb_build_object('enforce_sso', p_enforce, 'sessions_ended', n_sessions,
                                    'links_ended', n_links, 'keys_ended', n_keys));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.verify_sso_domain_dns(p_domain text, p_token text, p_request text default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  d app.sso_domains%rowtype;
  n_sessions int;
  n_links int;
  n_keys int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  select * into d from app.sso_domains x where x.org_id = me.org_id and x.domain = lower(p_domain) for update;
  if not found or d.verify_token is distinct from p_token then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if d.verified_at is not null then
    return;
  end if;
  update app.sso_domains x set verified_at = now(), verified_by = 'dns'
   where x.org_id = me.org_id and x.domain = d.domain;
  -- The sessions not from the org's IdP and the unspent sign-in links of
  -- the members SSO now binds end here, in this transaction.
  with ended as (
    update app.sessions s set revoked_at = now(), revoked_reason = 'sso_enforced'
     where s.org_id = me.org_id and s.revoked_at is null and not s.break_glass and not ('sso' = any (s.amr))
       and private.sso_bound(s.org_id, s.user_id)
    returning 1)
  select count(*) into n_sessions from ended;
  with ended as (
    update app.magic_links l set expires_at = now()
     where l.org_id = me.org_id and l.used_at is null and l.expires_at > now()
       and private.sso_bound(l.org_id, l.user_id)
    returning 1)
  select count(*) into n_links from ended;
  with ended as (
    update app.api_keys k set revoked_at = now()
     where k.org_id = me.org_id and k.revoked_at is null
       and private.sso_bound(k.org_id, k.created_by)
    returning 1)
  select count(*) into n_keys from ended;
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'success', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns',
      'sessions_ended', n_sessions, 'links_ended', n_links, 'keys_ended', n_keys));
end $$;
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
