-- An SSO session counted as authenticated when Ward issued it (review of
-- 2026-12-06): app.sso_complete set sessions.authenticated_at = now(), so a
-- sign-in the IdP answered from a session it opened ten hours earlier, with
-- an amr or acr the connection trusts (AAL2), passed Ward's 10-minute
-- step-up (SCIM tokens, SSO connections, the assurance policy) without any
-- fresh factor. Ward now asks OIDC IdPs for max_age=600 and hands the
-- database the time the IdP says the member authenticated (the ID token's
-- auth_time, the SAML assertion's AuthnInstant); app.sso_complete takes it
-- as authenticated_at, never later than now() (a time in the future counts
-- as now), and the epoch when the IdP names none: such a session is not
-- fresh, and its member presents TOTP or a passkey for a step-up as after
-- any older sign-in. The caller passes only what the IdP asserted; the
-- database clamps it and decides freshness as everywhere else. The time is
-- also in the auth.signin event (idp_auth_time, authenticated_at).
--
-- The same review found that a second IdP subject asserting an already
-- linked member's address was linked to them too, and signed in as them: a
-- second account at the IdP, or a Google consumer account someone made with
-- the member's work address (Google says email_verified for it). Now:
--
--   * a member who has an identity on a connection is not linked by
--     address to another subject of it: the sign-in is refused with reason
--     already_linked (the auth.signin event names the member). An admin
--     re-links them with app.unlink_sso_identities (audited
--     sso.identity.unlink), and their next sign-in links by address;
--   * a Google connection (issuer https://accounts.google.com) links or
--     creates no member by address unless the ID token's hd claim (the
--     Workspace the account belongs to) is a domain the org verified by DNS
--     for the connection: reason hd_mismatch. A link by subject is kept.
--
-- The new parameters change the signature: the old function is dropped.

-- +goose Up
set local role ward_owner;

-- In a DO block because sqlc, which reads these files for its catalog,
-- drops the wrong entry of this function's history (as in 00144).
-- +goose StatementBegin
do $$ begin
  drop function app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text);
end $$;
-- +goose StatementEnd

-- +goose StatementBegin
create function app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text DEFAULT NULL::text, p_auth_time timestamp with time zone DEFAULT NULL::timestamp with time zone, p_hd text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  st app.sso_states%rowtype;
  c app.sso_connections%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  m app.memberships%rowtype;
  verified boolean;
  owned boolean; -- the address's domain verified by DNS for this connection
  linked boolean := false;
  reason text;
  authenticated timestamptz;
  held uuid; -- a member refused because another subject is linked to them
begin
  if octet_length(p_state_hash) is distinct from 32 or octet_length(p_subject_hash) is distinct from 32
     or octet_length(p_session_hash) is distinct from 32
     or (p_email_bidx is not null and octet_length(p_email_bidx) <> 32) then
    raise exception 'sso_complete: state, subject, session and address hashes are 32 bytes' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at > now() - interval '5 minutes' and s.done_at is null for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  update app.sso_states s set done_at = now() where s.state_hash = p_state_hash;
  select * into c from app.sso_connections x where x.org_id = st.org_id and x.id = st.connection_id;
  -- The org trusts its own connection for the domains it claimed for it
  -- (verified or not: verification decides routing between orgs, and a
  -- link or a JIT member stays in this org), and its connections for the
  -- domains it verified.
  verified := coalesce(p_email_verified, false)
    or exists (select from app.sso_domains d where d.org_id = c.org_id and d.domain = lower(p_email_domain)
                 and (d.connection_id = c.id or d.verified_at is not null));

  select i.user_id into uid from app.sso_identities i
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;
  if uid is null and p_email_bidx is not null and verified then
    select u.id into uid from app.users u where u.email_bidx = p_email_bidx;
    owned := exists (select from app.sso_domains d where d.org_id = c.org_id and d.domain = lower(p_email_domain)
                       and d.verified_at is not null and d.connection_id = c.id);
    if owned and rtrim(c.issuer, '/') = 'https://accounts.google.com'
       and not exists (select from app.sso_domains d where d.org_id = c.org_id and d.domain = lower(p_hd)
                         and d.verified_at is not null and d.connection_id = c.id) then
      -- Google (00177): any Google account may carry any address it was
      -- made with, email_verified true, a work address included (a
      -- consumer account made with it). Only the hd claim says the account
      -- belongs to a Workspace, and it must be a domain the org verified
      -- by DNS for this connection. Without it, no link or JIT by address,
      -- whether the address has an account or not.
      uid := null;
      reason := 'hd_mismatch';
    elsif uid is not null and exists (select from app.memberships x where x.org_id = c.org_id and x.user_id = uid) then
      -- An existing member is taken over only on a domain the org proved
      -- it owns, for this connection: an IdP the org's admin runs says
      -- email_verified for any address it likes, and a second connection
      -- an admin adds proves nothing about the domain.
      if owned and exists (select from app.sso_identities i
                            where i.org_id = c.org_id and i.connection_id = c.id and i.user_id = uid) then
        -- The member has an identity on this connection already (00177):
        -- another subject of it asserting their address (a second account
        -- at the IdP, a consumer account made with a work address) is not
        -- linked to them as well. An admin re-links them
        -- (app.unlink_sso_identities), and the next sign-in links by address.
        held := uid;
        uid := null;
        reason := 'already_linked';
      elsif owned then
        linked := true;
      else
        uid := null;
        reason := 'domain_not_verified';
      end if;
    elsif c.jit and not owned then
      -- JIT enrols only addresses on a domain the org proved it owns, for
      -- this connection (00168). An IdP the org's admin runs says
      -- email_verified for any address it likes: JIT on any domain made
      -- the next two outcomes (invite_required for an address with an
      -- account, a new account for one without) tell that admin whether
      -- anyone's address has an account anywhere on this instance (a
      -- patient of another practice), and let them take addresses they do
      -- not own. Both are now refused alike, whether the address has an
      -- account or not.
      uid := null;
      reason := 'domain_not_verified';
    elsif c.jit and uid is not null then
      -- An account that exists (a member of another org) joins this one
      -- only by invitation or SCIM: an IdP the org's admin runs would
      -- otherwise enrol anyone's account and sign its holder in as them.
      -- On the org's own verified domain, telling it apart from a new
      -- address tells the domain's owner nothing its mail does not.
      uid := null;
      reason := 'invite_required';
    elsif c.jit then
      if p_user is null or p_email_enc is null then
        raise exception 'sso_complete: a new user needs an id and a sealed address' using errcode = '22023';
      end if;
      insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
      uid := p_user;
      insert into app.memberships (org_id, user_id, role) values (c.org_id, uid, c.jit_role);
      perform audit.append_as(c.org_id, 'sso.jit.create', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('role', c.jit_role, 'connection', c.id));
      linked := true;
    else
      uid := null;
      reason := 'no_account';
    end if;
    if linked then
      insert into app.sso_identities (org_id, connection_id, subject_hash, user_id)
      values (c.org_id, c.id, p_subject_hash, uid);
      perform audit.append_as(c.org_id, 'sso.identity.link', 'success', 'user', uid, p_request => p_request,
        p_details => jsonb_build_object('connection', c.id));
    end if;
  elsif uid is null then
    reason := case when p_email_bidx is null then 'no_email' else 'email_not_verified' end;
  end if;
  if uid is not null then
    select * into m from app.memberships x where x.org_id = c.org_id and x.user_id = uid;
    if m.revoked_at is not null then
      uid := null;
      reason := 'membership_revoked';
    end if;
  end if;
  if uid is null then
    status := coalesce(reason, 'no_account');
    perform audit.append_as(c.org_id, 'auth.signin', 'denied', 'sso_connection', c.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', status)
                   || case when held is not null then jsonb_build_object('member', held) else '{}'::jsonb end);
    return;
  end if;
  update app.sso_identities i set last_signin_at = now()
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;

  -- When the member authenticated is when the IdP says they did (OIDC
  -- auth_time, SAML AuthnInstant), never later than now: the IdP may have
  -- answered from a session it opened hours ago, and the step-up checks
  -- (auth_time within the last 10 minutes) must not take that for a fresh
  -- factor (00177). An IdP that names no time gives a session that is not
  -- fresh: the epoch.
  authenticated := greatest('epoch'::timestamptz, least(coalesce(p_auth_time, 'epoch'::timestamptz), now()));
  aal := case when coalesce(p_amr, '{}') && c.trusted_amr or p_acr = any (c.trusted_acr) then 2 else 1 end;
  select * into o from app.orgs x where x.id = c.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (c.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at, audit.clean_text(p_ua, 256), p_ip,
          aal, '{sso}', authenticated)
  returning id into session_id;
  user_id := uid; org_id := c.org_id; status := 'ok';
  perform audit.append_as(c.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'connection', c.id, 'kind', c.kind, 'aal', aal,
      'idp_amr', coalesce(to_jsonb(p_amr), '[]'::jsonb), 'idp_acr', p_acr,
      'idp_auth_time', p_auth_time, 'authenticated_at', authenticated),
    p_actor => uid);
end $$;
-- +goose StatementEnd

alter function app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text, timestamptz, text) owner to ward_definer;
revoke all on function app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text, timestamptz, text) from public;
grant execute on function app.sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text, timestamptz, text) to ward_app;

alter table audit.actions no force row level security;
insert into audit.actions (name, category, phi_access, disclosure, reserved, requires) values
  ('sso.identity.unlink', 'org', false, false, true, '{object}');
alter table audit.actions force row level security;

grant delete on app.sso_identities to ward_definer;

-- An admin (step-up) ends a member's identities on one of the org's
-- connections: their next sign-in through it links by address again
-- (on a domain verified for it), to whichever subject the IdP then names.
-- Returns how many went (0: none, the caller answers not found).
-- +goose StatementBegin
create function app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text default null) returns integer
  language plpgsql security definer set search_path = '' as $$
declare
  me record;
  n int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_identities i where i.org_id = me.org_id and i.connection_id = p_connection and i.user_id = p_user;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(me.org_id, 'sso.identity.unlink', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('connection', p_connection, 'identities', n));
  end if;
  return n;
end $$;
-- +goose StatementEnd

alter function app.unlink_sso_identities(uuid, uuid, text) owner to ward_definer;
revoke all on function app.unlink_sso_identities(uuid, uuid, text) from public;
grant execute on function app.unlink_sso_identities(uuid, uuid, text) to ward_app;

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
