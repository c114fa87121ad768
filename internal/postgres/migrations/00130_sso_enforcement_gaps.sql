-- SSO enforcement's loose ends (review of 00128 and 00129).
--
-- * Gaps: an address whose domain was never noted (the start-up backfill
--   not run, or stopped) escaped enforcement silently. Turning enforcement
--   on now fails (SQLSTATE 55000, constraint sso_domain_gaps, the count in
--   DETAIL) while a live member of the org has an address with no noted
--   domain, or a domain the org claimed has no blind index; the fix is the
--   backfill (ward serve with --ops-url). An org already enforcing when a
--   gap appears (a write path that forgot its note, rows restored from a
--   backup) fails closed: private.sso_bound and the resolver hold a member
--   whose address has no noted domain as if it were on a verified domain
--   (IdP or break-glass sessions only) until the note says otherwise.
--   app.email_domain_gaps takes a cursor, so that the backfill can skip an
--   address it cannot open and go on.
-- * Late binding: a member whose address's domain is noted, or whose
--   address changes, while their org enforces SSO on that domain loses in
--   that transaction the sessions not from the IdP, the unspent sign-in
--   links and the API keys, as turning enforcement on ends them (triggers
--   on app.email_domains and app.users; audited as sso.enforce.revoke).
-- * One sweep: private.sso_end_unbound(org, user) is what set_sso_policy,
--   verify_sso_domain_dns, fill_sso_domain_bidx and the triggers run.
-- * Refused sign-ins: the sessions trigger's refusal rolls its transaction
--   back, audit event included. It now names the org and user in DETAIL
--   (ids only) and the server records auth.signin denied (reason
--   sso_required) in a transaction of its own through
--   app.audit_sso_required, which records only for a member the database
--   itself finds bound.

-- +goose Up
set local role ward_owner;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('sso.enforce.revoke', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

-- +goose StatementBegin
-- sso_bound as in 00128, failing closed on a gap: in an org that enforces
-- SSO, a user whose address has no noted domain is bound too.
create or replace function private.sso_bound(p_org uuid, p_user uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select from app.orgs o where o.id = p_org and o.enforce_sso)
     and (exists (select from app.sso_domains d
                    join app.email_domains e on e.domain_bidx = d.domain_bidx
                    join app.users u on u.email_bidx = e.email_bidx
                   where d.org_id = p_org and d.verified_at is not null and u.id = p_user)
          or not exists (select from app.users u
                           join app.email_domains e on e.email_bidx = u.email_bidx
                          where u.id = p_user))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- sso_end_unbound ends, in p_org, the sessions not from the org's IdP
-- (nor break-glass), the unspent sign-in links and the live API keys of
-- the members SSO binds (of p_user only, when given), and returns how
-- many of each. It runs with its caller's rights (the definer functions
-- and triggers below); it decides nothing the caller could choose: who is
-- bound is private.sso_bound's answer.
create function private.sso_end_unbound(p_org uuid, p_user uuid default null,
                                        out sessions int, out links int, out keys int)
language plpgsql security invoker set search_path = '' as $$
begin
  with ended as (
    update app.sessions s set revoked_at = now(), revoked_reason = 'sso_enforced'
     where s.org_id = p_org and (p_user is null or s.user_id = p_user)
       and s.revoked_at is null and not s.break_glass and not ('sso' = any (s.amr))
       and private.sso_bound(s.org_id, s.user_id)
    returning 1)
  select count(*) into sessions from ended;
  with ended as (
    update app.magic_links l set expires_at = now()
     where l.org_id = p_org and (p_user is null or l.user_id = p_user)
       and l.used_at is null and l.expires_at > now()
       and private.sso_bound(l.org_id, l.user_id)
    returning 1)
  select count(*) into links from ended;
  with ended as (
    update app.api_keys k set revoked_at = now()
     where k.org_id = p_org and (p_user is null or k.created_by = p_user)
       and k.revoked_at is null
       and private.sso_bound(k.org_id, k.created_by)
    returning 1)
  select count(*) into keys from ended;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- sso_domain_gaps counts what enforcement in p_org could not place: live
-- members whose address has no noted domain, and claimed domains without
-- a blind index.
create function private.sso_domain_gaps(p_org uuid) returns bigint
language sql stable security invoker set search_path = '' as $$
  select (select count(*) from app.memberships m
            join app.users u on u.id = m.user_id
           where m.org_id = p_org and m.revoked_at is null
             and not exists (select from app.email_domains e where e.email_bidx = u.email_bidx))
       + (select count(*) from app.sso_domains d where d.org_id = p_org and d.domain_bidx is null)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.set_sso_policy(p_enforce boolean, p_request text default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  gaps bigint;
  n record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if p_enforce is null then
    raise exception 'enforce_sso is true or false' using errcode = '22023';
  end if;
  if p_enforce then
    gaps := private.sso_domain_gaps(me.org_id);
    if gaps > 0 then
      raise exception 'set_sso_policy: % addresses or claimed domains of this org have no noted domain', gaps
        using errcode = '55000', constraint = 'sso_domain_gaps', detail = gaps::text;
    end if;
  end if;
  update app.orgs o set enforce_sso = p_enforce where o.id = me.org_id;
  -- The sessions not from the org's IdP, the unspent sign-in links and
  -- the API keys of the members SSO now binds end here, in this transaction.
  select * into n from private.sso_end_unbound(me.org_id);
  perform audit.append_as(me.org_id, 'sso.policy.update', 'success', 'org', me.org_id, p_request => p_request,
    p_details => jsonb_build_object('enforce_sso', p_enforce, 'sessions_ended', n.sessions,
                                    'links_ended', n.links, 'keys_ended', n.keys));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create or replace function app.verify_sso_domain_dns(p_domain text, p_token text, p_request text default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  d app.sso_domains%rowtype;
  n record;
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
  select * into n from private.sso_end_unbound(me.org_id);
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'success', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns',
      'sessions_ended', n.sessions, 'links_ended', n.links, 'keys_ended', n.keys));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- sso_revoke_audited records what sso_end_unbound ended for p_user in
-- p_org (nothing when it ended nothing). A caller holding a credential of
-- another org cannot write to this org's log (audit.append_as refuses);
-- the revocations then stand unaudited but visible (revoked_reason
-- 'sso_enforced' on the sessions).
create function private.sso_revoke_audited(p_org uuid, p_user uuid, p_reason text) returns void
language plpgsql security invoker set search_path = '' as $$
declare
  n record;
  cred_org uuid;
begin
  select * into n from private.sso_end_unbound(p_org, p_user);
  if n.sessions + n.links + n.keys = 0 then
    return;
  end if;
  select m.org_id into cred_org from private.me() m where m.user_id is not null;
  if cred_org is not null and cred_org <> p_org then
    return;
  end if;
  perform audit.append_as(p_org, 'sso.enforce.revoke', 'success', 'user', p_user,
    p_details => jsonb_build_object('reason', p_reason, 'sessions_ended', n.sessions,
                                    'links_ended', n.links, 'keys_ended', n.keys));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- email_domain_noted: a note for the address of an existing user (the
-- backfill, or a write path noting an address already written) binds them
-- in every org that enforces SSO on that domain (or fails closed).
create function app.email_domain_noted() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  for r in select m.org_id, u.id as user_id from app.users u
             join app.memberships m on m.user_id = u.id and m.revoked_at is null
             join app.orgs o on o.id = m.org_id and o.enforce_sso
            where u.email_bidx = new.email_bidx loop
    perform private.sso_revoke_audited(r.org_id, r.user_id, 'domain_noted');
  end loop;
  return null;
end $$;
-- +goose StatementEnd
create trigger sso_bind_noted after insert on app.email_domains
  for each row execute function app.email_domain_noted();

-- +goose StatementBegin
-- user_address_changed: a member whose address changes (SCIM, an
-- operator) is bound, or not, by the new address's domain.
create function app.user_address_changed() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  for r in select m.org_id from app.memberships m
             join app.orgs o on o.id = m.org_id and o.enforce_sso
            where m.user_id = new.id and m.revoked_at is null loop
    perform private.sso_revoke_audited(r.org_id, new.id, 'address_changed');
  end loop;
  return null;
end $$;
-- +goose StatementEnd
create trigger sso_bind_address after update of email_bidx on app.users
  for each row when (old.email_bidx is distinct from new.email_bidx)
  execute function app.user_address_changed();

-- +goose StatementBegin
-- fill_sso_domain_bidx as in 00128; a verified domain of an enforcing org
-- that gets its index binds its members now.
create or replace function app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) returns void
language plpgsql security definer set search_path = '' as $$
declare
  r record;
  n record;
begin
  if octet_length(p_domain_bidx) is distinct from 32 then
    raise exception 'fill_sso_domain_bidx: the blind index is 32 bytes' using errcode = '22023';
  end if;
  for r in update app.sso_domains d set domain_bidx = p_domain_bidx
            where d.domain = p_domain and d.domain_bidx is null
           returning d.org_id, d.verified_at loop
    if r.verified_at is not null and exists (select from app.orgs o where o.id = r.org_id and o.enforce_sso) then
      select * into n from private.sso_end_unbound(r.org_id);
      if n.sessions + n.links + n.keys > 0 then
        perform audit.append_as(r.org_id, 'sso.enforce.revoke', 'success', 'org', r.org_id,
          p_details => jsonb_build_object('reason', 'domain_indexed', 'domain', p_domain,
            'sessions_ended', n.sessions, 'links_ended', n.links, 'keys_ended', n.keys));
      end if;
    end if;
  end loop;
end $$;
-- +goose StatementEnd

drop function app.email_domain_gaps(int);

-- +goose StatementBegin
-- email_domain_gaps as in 00128, with a cursor: users after p_after_user
-- (by id), so that the backfill passes over an address it cannot open.
create function app.email_domain_gaps(p_limit int, p_after_user uuid default null)
returns table (kind text, user_id uuid, email_bidx bytea, email_enc bytea, domain text)
language sql stable security definer set search_path = '' as $$
  (select 'user', u.id, u.email_bidx, u.email_enc, null::text from app.users u
    where not exists (select from app.email_domains e where e.email_bidx = u.email_bidx)
      and (p_after_user is null or u.id > p_after_user)
    order by u.id limit least(greatest(p_limit, 1), 1000))
  union all
  (select 'domain', null, null, null, d.domain from app.sso_domains d
    where d.domain_bidx is null
    group by d.domain order by d.domain limit least(greatest(p_limit, 1), 1000))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- sessions_sso_required as in 00128, naming the org and the user in
-- DETAIL (ids only), for the server's audit of the refusal.
create or replace function private.sessions_sso_required() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not new.break_glass and not ('sso' = any (new.amr)) and private.sso_bound(new.org_id, new.user_id) then
    raise exception 'this org signs its members on this domain in through its identity provider'
      using errcode = '42501', constraint = 'sso_required', detail = new.org_id::text || ' ' || new.user_id::text;
  end if;
  return new;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- audit_sso_required records a sign-in the sessions trigger refused
-- (auth.signin, denied, reason sso_required; no address), in a transaction
-- of its own. It records only when the database finds the member bound,
-- so the caller cannot write a denial for anyone else; p_collapsed counts
-- refusals the server folded into this event (its rate limit).
create function app.audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed int default 1,
                                       p_request text default null, p_ip text default null, p_ua text default null)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  details jsonb;
begin
  if p_method is null or p_method not in ('passkey', 'case_invitation', 'magic_link', 'operator_link', 'other') then
    raise exception 'audit_sso_required: unknown method' using errcode = '22023';
  end if;
  if not private.sso_bound(p_org, p_user) then
    return false;
  end if;
  details := jsonb_build_object('method', p_method, 'reason', 'sso_required');
  if p_collapsed > 1 then
    details := details || jsonb_build_object('collapsed', p_collapsed);
  end if;
  perform audit.append_as(p_org, 'auth.signin', 'denied', 'user', p_user,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_details => details, p_actor => p_user);
  return true;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- me_pending as in 00128, failing closed on a gap (see sso_bound).
create or replace function private.me_pending(
  out kind text, out credential_id uuid, out user_id uuid, out org_id uuid, out role text, out session_id uuid,
  out aal integer, out auth_time timestamptz, out break_glass boolean, out device text, out amr text[], out pending text)
language plpgsql stable security definer set search_path = '' as $$
declare
  hint text := nullif(current_setting('ward.org', true), '');
  c text := current_setting('ward.credential', true);
  h bytea;
  sso_only boolean;
begin
  -- '^[0-9a-f]{64}$' without a regular expression (a regex match costs
  -- more than the rest of the check).
  if c is null or octet_length(c) <> 64 or ltrim(c, '0123456789abcdef') <> '' then
    return;
  end if;
  h := decode(c, 'hex');
  -- The session the token names, or the one a token rotated away from
  -- within the last 30 seconds still names (the second lookup runs only
  -- when the first finds nothing).
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, s.assurance, s.authenticated_at, s.break_glass, null,
         s.amr, o.enforce_sso and not s.break_glass and not ('sso' = any (s.amr)),
         case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                   and not (s.browser and current_setting('ward.dpop', true) = 'browser')
              then 'device_binding'
              when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                          s.assurance, s.amr)
              then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, sso_only,
         pending
    from app.sessions s
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.orgs o on o.id = s.org_id
   where s.id = coalesce((select x.id from app.sessions x where x.token_hash = h),
                         (select t.session_id from app.session_tokens t
                           where t.token_hash = h and t.retired_at > now() - interval '30 seconds'))
     and s.revoked_at is null
     and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null
     and (s.dpop_jkt is null or s.dpop_jkt = nullif(current_setting('ward.dpop', true), ''))
     and (s.passkey_id is null
          or exists (select from app.passkeys k where k.org_id = s.org_id and k.id = s.passkey_id));
  -- SSO enforced (00128): a session that did not come through the org's
  -- IdP ('sso' not in its amr) of a member whose address is on a domain
  -- the org verified resolves to nothing. Break-glass sessions (two
  -- passkeys, a stated reason, every admin notified) stay. Looked up only
  -- in an org that enforces SSO, in a statement of its own (in the
  -- session's statement it made every resolution slower; the outer test is
  -- a simple expression, which PL/pgSQL evaluates without the executor).
  if found and sso_only then
    if exists (select from app.users u
                 join app.email_domains e on e.email_bidx = u.email_bidx
                 join app.sso_domains d on d.domain_bidx = e.domain_bidx
                where u.id = me_pending.user_id and d.org_id = me_pending.org_id and d.verified_at is not null)
       or not exists (select from app.users u
                        join app.email_domains e on e.email_bidx = u.email_bidx
                       where u.id = me_pending.user_id) then
      kind := null; credential_id := null; user_id := null; org_id := null; role := null;
      session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
      amr := null; pending := null;
      return;
    end if;
  end if;
  -- A hash that names a session (live or not) names no key or SCIM token:
  -- each is the SHA-256 of 256 random bits, so the lookups below find
  -- nothing for it, as before when they were skipped.
  if not found then
    select 'api_key', k.id, k.created_by, k.org_id, 'admin', null, 2, k.created_at, false, null, '{}'::text[], null
      into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
      from app.api_keys k
      join app.memberships m on m.org_id = k.org_id and m.user_id = k.created_by
     where k.key_hash = h
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > now())
       and m.revoked_at is null and m.role = 'admin';
    -- SCIM tokens (00050): a live token resolves to its org, with no user,
    -- no role and no session.
    if not found then
      select 'scim_token', t.id, null, t.org_id, null, null, 1, t.created_at, false, null, '{}'::text[], null
        into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, pending
        from app.scim_tokens t
       where t.token_hash = h and t.revoked_at is null;
    end if;
  end if;
  -- The hint must be a UUID written as '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  -- in any case: 36 bytes, dashes at 9, 14, 19 and 24 and nowhere else,
  -- hexadecimal digits elsewhere (checked without a regular expression).
  if hint is not null and (org_id is null
       or octet_length(hint) <> 36
       or translate(hint, '0123456789abcdefABCDEF', '') <> '----'
       or substr(hint, 9, 1) <> '-' or substr(hint, 14, 1) <> '-' or substr(hint, 19, 1) <> '-' or substr(hint, 24, 1) <> '-'
       or hint::uuid <> org_id) then
    kind := null; credential_id := null; user_id := null; org_id := null; role := null;
    session_id := null; aal := null; auth_time := null; break_glass := null; device := null;
    amr := null; pending := null;
  end if;
end $$;
-- +goose StatementEnd

alter function private.sso_end_unbound(uuid, uuid) owner to ward_rls;
alter function private.sso_domain_gaps(uuid) owner to ward_rls;
alter function private.sso_revoke_audited(uuid, uuid, text) owner to ward_rls;
alter function app.email_domain_noted() owner to ward_definer;
alter function app.user_address_changed() owner to ward_definer;
alter function app.email_domain_gaps(int, uuid) owner to ward_definer;
alter function app.audit_sso_required(uuid, uuid, text, int, text, text, text) owner to ward_definer;
revoke all on function private.sso_end_unbound(uuid, uuid), private.sso_domain_gaps(uuid),
  private.sso_revoke_audited(uuid, uuid, text), app.email_domain_noted(), app.user_address_changed(),
  app.email_domain_gaps(int, uuid), app.audit_sso_required(uuid, uuid, text, int, text, text, text) from public;
grant execute on function private.sso_end_unbound(uuid, uuid), private.sso_domain_gaps(uuid),
  private.sso_revoke_audited(uuid, uuid, text) to ward_definer;
grant execute on function app.email_domain_gaps(int, uuid) to ward_ops;
grant execute on function app.audit_sso_required(uuid, uuid, text, int, text, text, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
