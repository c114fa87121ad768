-- SSO enforced on every door (the SSO/SCIM issue, a MEDIUM finding of
-- 2026-12-01). enforce_sso (00052, 00108) only stopped new sign-in links
-- to a member whose address is on a domain the org verified; that member
-- still got in through sessions and links from before enforcement, a
-- case invitation, a passkey (discoverable) sign-in or an operator link.
-- Now, once an org enforces SSO, a member of it whose address is on one
-- of its verified domains holds a session in that org only if the
-- session came through the org's IdP (amr contains 'sso'), or is a
-- break-glass session (00060: two passkeys, a stated reason, every admin
-- notified, an hour at most):
--
-- * the resolver (private.me_pending) resolves any other session of such
--   a member to nothing, whenever it was issued;
-- * a trigger on app.sessions refuses to issue one (SQLSTATE 42501,
--   constraint sso_required): magic link, passkey, case invitation,
--   operator link, and any issuing function written later;
-- * turning enforcement on, and verifying a domain while it is on, end
--   such sessions (revoked_reason 'sso_enforced') and pending sign-in
--   links in the same transaction, with the counts in the audit event.
--
-- The database cannot read an address's domain (addresses are sealed;
-- users.email_bidx is a blind index of the whole address). The server
-- notes, for each address it writes, a blind index of its domain under
-- the instance key (app.email_domains, keyed by the address's blind
-- index, first note wins), and gives the same index of a domain when it
-- is claimed (app.sso_domains.domain_bidx). Rows written before this
-- migration are indexed by the server at start-up as ward_ops
-- (app.email_domain_gaps, app.note_email_domain, app.fill_sso_domain_bidx;
-- sso.IndexDomains); until then an address without a noted domain is held
-- by no enforcement, as before. The database trusts the server's word that
-- an index is the address's domain, as it trusts users.email_bidx.

-- +goose Up
set local role ward_owner;

-- email_domains: the domain's blind index of each address the server has
-- written, keyed by the address's blind index. No policy: only the
-- definer functions below and the resolver read or write it.
create table app.email_domains (
  email_bidx bytea primary key check (octet_length(email_bidx) = 32),
  domain_bidx bytea not null check (octet_length(domain_bidx) = 32),
  created_at timestamptz not null default now()
);
alter table app.email_domains enable row level security;
alter table app.email_domains force row level security;
grant select, insert on app.email_domains to ward_definer;
grant select on app.email_domains to ward_rls;
create index email_domains_domain_idx on app.email_domains (domain_bidx);

alter table app.sso_domains add column domain_bidx bytea check (octet_length(domain_bidx) = 32);
grant select (id, email_bidx) on app.users to ward_rls;
grant select (org_id, domain_bidx, verified_at) on app.sso_domains to ward_rls;
create index sso_domains_domain_bidx_idx on app.sso_domains (domain_bidx) where verified_at is not null;

-- The resolver reads users, email_domains and sso_domains now: a write to
-- them moves the cached principal's epoch (00070).
create trigger principal_epoch after insert or update or delete or truncate on app.users
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.email_domains
  for each statement execute function private.principal_moved();
create trigger principal_epoch after insert or update or delete or truncate on app.sso_domains
  for each statement execute function private.principal_moved();

-- +goose StatementBegin
-- sso_bound reports whether p_user, in p_org, may hold only sessions from
-- the org's IdP: the org enforces SSO and the user's address is on a
-- domain it verified.
create function private.sso_bound(p_org uuid, p_user uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select from app.orgs o
                   join app.sso_domains d on d.org_id = o.id
                   join app.email_domains e on e.domain_bidx = d.domain_bidx
                   join app.users u on u.email_bidx = e.email_bidx
                  where o.id = p_org and o.enforce_sso and d.verified_at is not null and u.id = p_user)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- sessions_sso_required refuses a session the resolver would not resolve
-- (see private.me_pending): whichever function issues it.
create function private.sessions_sso_required() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not new.break_glass and not ('sso' = any (new.amr)) and private.sso_bound(new.org_id, new.user_id) then
    raise exception 'this org signs its members on this domain in through its identity provider'
      using errcode = '42501', constraint = 'sso_required';
  end if;
  return new;
end $$;
-- +goose StatementEnd
create trigger sessions_sso_required before insert on app.sessions
  for each row execute function private.sessions_sso_required();

-- +goose StatementBegin
create or replace function app.set_sso_policy(p_enforce boolean, p_request text default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
  n_sessions int;
  n_links int;
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
  perform audit.append_as(me.org_id, 'sso.policy.update', 'success', 'org', me.org_id, p_request => p_request,
    p_details => jsonb_build_object('enforce_sso', p_enforce, 'sessions_ended', n_sessions,
                                    'links_ended', n_links));
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
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'success', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns',
      'sessions_ended', n_sessions, 'links_ended', n_links));
end $$;
-- +goose StatementEnd

drop function app.claim_sso_domain(text, uuid, text);

-- +goose StatementBegin
-- claim_sso_domain as in 00052, with the domain's blind index under the
-- instance key (the one app.note_email_domain takes for addresses).
create function app.claim_sso_domain(p_domain text, p_connection uuid, p_request text default null,
                                     p_domain_bidx bytea default null) returns void
language plpgsql security definer set search_path = '' as $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if octet_length(p_domain_bidx) is distinct from 32 then
    raise exception 'claim_sso_domain: the domain''s blind index is 32 bytes' using errcode = '22023';
  end if;
  if not exists (select from app.sso_connections c where c.org_id = me.org_id and c.id = p_connection) then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  insert into app.sso_domains (org_id, domain, connection_id, domain_bidx)
  values (me.org_id, lower(p_domain), p_connection, p_domain_bidx);
  perform audit.append_as(me.org_id, 'sso.domain.claim', 'success', 'sso_connection', p_connection,
    p_request => p_request, p_details => jsonb_build_object('domain', lower(p_domain)));
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- note_email_domain records the blind index of an address's domain, for
-- the address (its blind index) the server is about to write (a member, an
-- invitation, a SCIM or JIT user, an org's first admin). The first note of
-- an address stands: a later one with another domain is refused, so a
-- note cannot move a bound member off their org's domain. Anyone may
-- note, as anyone may ask for a sign-in link: a note grants nothing.
create function app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_domain_bidx) is distinct from 32 then
    raise exception 'note_email_domain: blind indexes are 32 bytes' using errcode = '22023';
  end if;
  insert into app.email_domains (email_bidx, domain_bidx) values (p_email_bidx, p_domain_bidx)
  on conflict (email_bidx) do nothing;
  if not found and not exists (select from app.email_domains e
                                where e.email_bidx = p_email_bidx and e.domain_bidx = p_domain_bidx) then
    raise exception 'note_email_domain: this address has another domain' using errcode = '22023';
  end if;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- email_domain_gaps lists the users whose address has no noted domain, and
-- the claimed domains without a blind index (written before 00128), for
-- the start-up job (ward_ops) to index. It returns sealed addresses only.
create function app.email_domain_gaps(p_limit int)
returns table (kind text, user_id uuid, email_bidx bytea, email_enc bytea, domain text)
language sql stable security definer set search_path = '' as $$
  (select 'user', u.id, u.email_bidx, u.email_enc, null::text from app.users u
    where not exists (select from app.email_domains e where e.email_bidx = u.email_bidx)
    order by u.id limit least(greatest(p_limit, 1), 1000))
  union all
  (select 'domain', null, null, null, d.domain from app.sso_domains d
    where d.domain_bidx is null
    group by d.domain order by d.domain limit least(greatest(p_limit, 1), 1000))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- fill_sso_domain_bidx sets the blind index of a claimed domain that has
-- none (ward_ops, the start-up job).
create function app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if octet_length(p_domain_bidx) is distinct from 32 then
    raise exception 'fill_sso_domain_bidx: the blind index is 32 bytes' using errcode = '22023';
  end if;
  update app.sso_domains d set domain_bidx = p_domain_bidx where d.domain = p_domain and d.domain_bidx is null;
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- consume_magic_link as in 00061, refusing (and auditing) a link of a
-- member SSO binds before it is spent.
create or replace function app.consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  l app.magic_links%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  live boolean;
  r record;
  step text;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32
     or (p_verifier_hash is not null and octet_length(p_verifier_hash) <> 32) then
    raise exception 'consume_magic_link: token, verifier and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into l from app.magic_links ml where ml.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  select exists (select from app.memberships ms where ms.org_id = l.org_id and ms.user_id = l.user_id
                   and ms.revoked_at is null) into live;
  status := case
    when l.used_at is not null then 'used'
    when l.expires_at <= now() then 'expired'
    when not live then 'invalid'
    when l.verifier_hash is not null and (p_verifier_hash is null or p_verifier_hash <> l.verifier_hash)
      then 'wrong_browser'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(l.org_id, 'auth.signin', 'denied', 'user', l.user_id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'magic_link', 'reason', status), p_actor => l.user_id);
    return;
  end if;
  -- SSO enforced (00128): the member signs in through the org's IdP. The
  -- link stays unspent (turning enforcement off makes it work again until
  -- it expires); the sessions trigger would refuse the session anyway.
  if private.sso_bound(l.org_id, l.user_id) then
    status := 'sso_required';
    perform audit.append_as(l.org_id, 'auth.signin', 'denied', 'user', l.user_id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'magic_link', 'reason', status), p_actor => l.user_id);
    return;
  end if;
  update app.magic_links ml set used_at = now() where ml.id = l.id;

  select * into o from app.orgs where id = l.org_id;
  select * into pol from app.instance_policy;
  select * into r from private.signin_risk(l.org_id, l.user_id, p_ip, p_ua, l.request_ip);
  step := case when o.risk_threshold is not null and r.score >= o.risk_threshold then 'passkey' end;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, risk_score, step_up)
  values (l.org_id, l.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now(), least(r.score, 200), step)
  returning id into session_id;
  user_id := l.user_id; org_id := l.org_id;
  perform audit.append_as(l.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'magic_link', 'browser_bound', l.verifier_hash is not null,
                                    'aal', 1,
                                    'risk', jsonb_build_object('score', r.score, 'reasons', to_jsonb(r.reasons),
                                                               'signals', r.signals, 'threshold', o.risk_threshold,
                                                               'step_up', step)),
    p_actor => l.user_id);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
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
                where u.id = me_pending.user_id and d.org_id = me_pending.org_id and d.verified_at is not null) then
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

alter function private.sso_bound(uuid, uuid) owner to ward_rls;
alter function private.sessions_sso_required() owner to ward_rls;
alter function app.claim_sso_domain(text, uuid, text, bytea) owner to ward_definer;
alter function app.note_email_domain(bytea, bytea) owner to ward_definer;
alter function app.email_domain_gaps(int) owner to ward_definer;
alter function app.fill_sso_domain_bidx(text, bytea) owner to ward_definer;
revoke all on function private.sso_bound(uuid, uuid), private.sessions_sso_required(),
  app.claim_sso_domain(text, uuid, text, bytea), app.note_email_domain(bytea, bytea),
  app.email_domain_gaps(int), app.fill_sso_domain_bidx(text, bytea) from public;
grant execute on function private.sso_bound(uuid, uuid) to ward_definer;
grant execute on function app.claim_sso_domain(text, uuid, text, bytea), app.note_email_domain(bytea, bytea) to ward_app;
grant execute on function app.email_domain_gaps(int), app.fill_sso_domain_bidx(text, bytea), app.note_email_domain(bytea, bytea) to ward_ops;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
