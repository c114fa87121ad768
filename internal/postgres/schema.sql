-- Ward's database schema after every migration, for readers. Generated: do not edit.
-- The migrations in migrations/ are the source of truth; after changing them, run
--   go test ./internal/postgres -run TestSchemaSQLCurrent -update
-- Produced by pg_dump 15 --schema-only of a freshly migrated database.

--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: ward_owner
--

CREATE SCHEMA app;

ALTER SCHEMA app OWNER TO ward_owner;

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: ward_owner
--

CREATE SCHEMA audit;

ALTER SCHEMA audit OWNER TO ward_owner;

--
-- Name: ext; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA ext;

ALTER SCHEMA ext OWNER TO postgres;

--
-- Name: private; Type: SCHEMA; Schema: -; Owner: ward_owner
--

CREATE SCHEMA private;

ALTER SCHEMA private OWNER TO ward_owner;

--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA ext;

--
-- Name: EXTENSION pgcrypto; Type: COMMENT; Schema: -; Owner:
--

COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';

--
-- Name: patient_key; Type: TYPE; Schema: private; Owner: ward_owner
--

CREATE TYPE private.patient_key AS (
	org_id uuid,
	id uuid
);

ALTER TYPE private.patient_key OWNER TO ward_owner;

--
-- Name: principal; Type: TYPE; Schema: private; Owner: ward_rls
--

CREATE TYPE private.principal AS (
	kind text,
	credential_id uuid,
	user_id uuid,
	org_id uuid,
	role text,
	session_id uuid,
	aal integer,
	auth_us bigint,
	break_glass boolean,
	device text,
	amr text[],
	pending text
);

ALTER TYPE private.principal OWNER TO ward_rls;

--
-- Name: accept_case_invite(bytea, bytea, inet, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet DEFAULT NULL::inet, p_ua text DEFAULT NULL::text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  uid uuid;
  mrole text;
  mrevoked boolean;
begin
  -- The server runs the acceptance unbound; a break-glass session bound to
  -- it (a server bug, an injected statement) joins no case.
  if coalesce((select x.break_glass from private.me_pending() x), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'accept_case_invite: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := private.case_invite_status(i);
  if status <> 'ok' then
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  select u.id into uid from app.users u where u.email_bidx = i.email_bidx;
  if uid is null then
    insert into app.users (id, email_bidx, email_enc) values (i.invitee_id, i.email_bidx, i.email_enc);
    uid := i.invitee_id;
  end if;
  -- A membership the org revoked stays revoked unless it was a
  -- stakeholder's: an invitation (which a provider may send) does not
  -- undo an admin's or the directory's revocation of staff or a patient.
  select m.role, m.revoked_at is not null into mrole, mrevoked from app.memberships m
   where m.org_id = i.org_id and m.user_id = uid;
  -- Nobody grants themselves access to a case: an invitation its author
  -- accepts (sent to their own address) grants nothing.
  if uid = i.created_by then
    status := 'own_invite';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked and mrole <> 'stakeholder' then
    status := 'member_revoked';
    perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', status), p_case => i.case_id);
    return;
  end if;
  if mrevoked then
    mrole := null;
  end if;
  if mrole is null then
    insert into app.memberships (org_id, user_id, role) values (i.org_id, uid, 'stakeholder')
    on conflict (org_id, user_id) do update set role = 'stakeholder', revoked_at = null;
  end if;
  insert into app.case_members as cm (org_id, case_id, user_id, kind, permissions, access_expires_at, added_by,
                                      recipient_org)
  values (i.org_id, i.case_id, uid, i.kind, i.permissions, i.access_expires_at, i.created_by, i.recipient_org)
  on conflict (org_id, case_id, user_id) do update
    set kind = excluded.kind, permissions = excluded.permissions, access_expires_at = excluded.access_expires_at,
        -- A renewal of the same kind that names no organisation keeps
        -- the one the grant names (00163): the disclosure accounting
        -- still says who received the record.
        recipient_org = case when excluded.kind = cm.kind and cm.revoked_at is null
                             then coalesce(excluded.recipient_org, cm.recipient_org)
                             else excluded.recipient_org end,
        revoked_at = null, expiry_recorded_at = null, updated_at = now()
    -- A live staff grant stays as it is: an invitation never narrows or
    -- time-limits a staff member's access to the case.
    where cm.kind <> 'staff' or cm.revoked_at is not null;
  update app.case_invites x set accepted_at = now(), accepted_by = uid where x.org_id = i.org_id and x.id = i.id;
  -- A live member who is no stakeholder (staff, a patient) gets the grant
  -- and no session: they sign in as they always do (their org's SSO when
  -- it enforces it, their second factor, their device binding), and the
  -- case is on their account then. An invitation is no sign-in route.
  if mrole is not null then
    status := 'sign_in_required';
    user_id := uid; org_id := i.org_id; case_id := i.case_id;
    perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
      p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                      'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', mrole,
                                      'session', false));
    return;
  end if;

  select * into o from app.orgs x where x.id = i.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := least(now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min)),
                               greatest(i.access_expires_at, now() + interval '5 minutes'));
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at)
  values (i.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip, 1, '{email}', now())
  returning id into session_id;
  user_id := uid; org_id := i.org_id; case_id := i.case_id;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'success', 'case_invite', i.id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid, p_case => i.case_id,
    p_details => jsonb_build_object('kind', i.kind, 'permissions', to_jsonb(i.permissions),
                                    'access_expires_at', i.access_expires_at,
                                      'recipient_org', i.recipient_org is not null, 'member_role', coalesce(mrole, 'stakeholder')));
  perform audit.append_as(i.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua, p_actor => uid,
    p_details => jsonb_build_object('method', 'case_invite', 'aal', 1));
end $$;

ALTER FUNCTION app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) OWNER TO ward_definer;

--
-- Name: add_member(uuid, bytea, bytea, text, text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text DEFAULT NULL::text, p_invite_hash bytea DEFAULT NULL::bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind = 'api_key' and (not private.key_holds('members') or p_role in ('admin', 'lead')) then
    raise exception 'forbidden: an API key does not grant the admin or lead role' using errcode = '42501';
  end if;
  if p_invite_hash is not null and octet_length(p_invite_hash) <> 32 then
    raise exception 'add_member: the invitation hash is 32 bytes' using errcode = '22023';
  end if;
  select u.id, u.email_enc into user_id, email_enc from app.users u where u.email_bidx = p_email_bidx;
  if user_id is null then
    insert into app.users (id, email_bidx, email_enc) values (p_user, p_email_bidx, p_email_enc);
    user_id := p_user; email_enc := p_email_enc;
  end if;
  insert into app.memberships (org_id, user_id, role) values (me.org_id, user_id, p_role)
  on conflict (org_id, user_id) do update set role = excluded.role, revoked_at = null
    where app.memberships.revoked_at is not null;
  if not found then
    raise exception 'already a member' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'membership.add', 'success', 'user', user_id, p_request => p_request,
    p_details => jsonb_build_object('role', p_role, 'invited', p_invite_hash is not null));
  if p_invite_hash is not null then
    select p.invite_ttl_min into invite_ttl_min from app.instance_policy p;
    insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, purpose)
    values (me.org_id, user_id, p_invite_hash, null, now() + make_interval(mins => invite_ttl_min), 'invite');
  end if;
end $$;

ALTER FUNCTION app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text, p_invite_hash bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer) OWNER TO ward_definer;

--
-- Name: api_key_scopes(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.api_key_scopes() RETURNS text[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  sc text[];
begin
  select * into me from private.me();
  if me.kind is distinct from 'api_key' then
    return '{}';
  end if;
  update app.api_keys k set last_used_at = now()
   where k.org_id = me.org_id and k.id = me.credential_id
     and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
  select k.scopes into sc from app.api_keys k where k.org_id = me.org_id and k.id = me.credential_id;
  return sc;
end $$;

ALTER FUNCTION app.api_key_scopes() OWNER TO ward_definer;

--
-- Name: audit_case_invite_other_account(bytea, bytea, integer, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea, p_collapsed integer DEFAULT 1, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  i app.case_invites%rowtype;
  sess record;
  details jsonb;
begin
  if octet_length(p_token_hash) is distinct from 32 or octet_length(p_session_hash) is distinct from 32 then
    raise exception 'audit_case_invite_other_account: token and session hashes are 32 bytes each' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash;
  if not found or private.case_invite_status(i) <> 'ok' then
    return false;
  end if;
  -- The session the token names (or a token it rotated away from within
  -- the last 30 seconds, as private.me_pending reads it), live, of a live
  -- member, whose user is not the invited address.
  select s.org_id, s.user_id into sess
    from (select x.id from app.sessions x where x.token_hash = p_session_hash
          union all
          select t.session_id from app.session_tokens t
           where t.token_hash = p_session_hash and t.retired_at > now() - interval '30 seconds'
          limit 1) k
    join app.sessions s on s.id = k.id
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.users u on u.id = s.user_id
   where s.revoked_at is null and s.absolute_expires_at > now()
     and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now()
     and m.revoked_at is null
     and u.email_bidx is distinct from i.email_bidx;
  if not found then
    return false;
  end if;
  details := jsonb_build_object('reason', 'invite_other_account',
    'signed_in', case when sess.org_id = i.org_id then 'this_org' else 'other_org' end);
  if p_collapsed > 1 then
    details := details || jsonb_build_object('collapsed', p_collapsed);
  end if;
  perform audit.append_as(i.org_id, 'case.invite.accept', 'denied', 'case_invite', i.id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_details => details, p_case => i.case_id,
    p_actor => case when sess.org_id = i.org_id then sess.user_id end);
  return true;
end $$;

ALTER FUNCTION app.audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea, p_collapsed integer, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: audit_sinks_break_glass(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.audit_sinks_break_glass() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if new.enabled and not old.enabled then
    return new; -- app.audit_sinks_standing's
  end if;
  if pg_catalog.pg_trigger_depth() <> 1 or private.credential_hash() is null then
    -- Another change's trigger (its own rules), the deliverer's cursor,
    -- an operator's statement.
    return new;
  end if;
  -- A pending credential resolves to no principal here: refused.
  select * into me from private.me();
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are configured by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time is null or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return new;
end $$;

ALTER FUNCTION app.audit_sinks_break_glass() OWNER TO ward_definer;

--
-- Name: audit_sinks_deleting(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.audit_sinks_deleting() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is null then
    -- No credential: an operator's statement.
    return old;
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are deleted by an admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return old;
end $$;

ALTER FUNCTION app.audit_sinks_deleting() OWNER TO ward_definer;

--
-- Name: audit_sinks_guard(); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.audit_sinks_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if new.org_id <> old.org_id or new.id <> old.id or new.kind <> old.kind or new.created_by is distinct from old.created_by
     or new.created_at <> old.created_at then
    raise exception 'audit sink: org, id, kind and creation are fixed' using errcode = '42501';
  end if;
  if new.cursor_seq < old.cursor_seq then
    raise exception 'audit sink: the cursor only moves forward' using errcode = '42501';
  end if;
  return new;
end $$;

ALTER FUNCTION app.audit_sinks_guard() OWNER TO ward_owner;

--
-- Name: audit_sinks_limit(); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.audit_sinks_limit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if current_user = 'ward_app' and new.org_id is distinct from private.get_my_org_id() then
    return new; -- the policy's to refuse, with nothing of the other org read or waited for
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.audit_sinks.' || new.org_id::text, 0));
  if (select count(*) from app.audit_sinks s where s.org_id = new.org_id) >= 10 then
    raise exception 'an org holds at most 10 audit sinks' using errcode = '54000', hint = 'sink_limit';
  end if;
  if new.cursor_seq > coalesce((select h.tree_size from audit.heads h where h.org_id = new.org_id), 0) then
    raise exception 'an audit sink starts at most at its org''s newest event' using errcode = '22023', hint = 'sink_from_seq';
  end if;
  return new;
end $$;

ALTER FUNCTION app.audit_sinks_limit() OWNER TO ward_owner;

--
-- Name: audit_sinks_standing(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.audit_sinks_standing() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if tg_op = 'UPDATE' and not (new.enabled and not old.enabled) then
    return new;
  end if;
  select * into me from private.me();
  if me.kind is null then
    -- No credential: an operator's statement or a migration.
    new.paused_reason := null;
    return new;
  end if;
  if me.kind is distinct from 'session' or me.org_id is distinct from new.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: sinks are configured by an admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.aal < 2 or me.auth_time is null or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  -- The caller's membership, held until this commits (00196's pattern):
  -- a revocation that began first is seen here; one that comes later
  -- waits, then finds this sink as the caller's and pauses it.
  perform from app.memberships m where m.org_id = new.org_id and m.user_id = me.user_id
     and m.revoked_at is null and m.role = 'admin'
     for share;
  if not found then
    raise exception 'forbidden: the caller''s standing changed' using errcode = '42501';
  end if;
  new.created_by := me.user_id;
  new.paused_reason := null;
  return new;
end $$;

ALTER FUNCTION app.audit_sinks_standing() OWNER TO ward_definer;

--
-- Name: audit_sso_required(uuid, uuid, text, integer, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed integer DEFAULT 1, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed integer, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: bind(text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  q text := current_query();
begin
  -- Only a statement of its own: nothing else in it can read a policy's
  -- InitPlan before the binding and another after it.
  if q is distinct from 'select app.bind($1, $2, $3, $4)'
     and q is distinct from format('begin; select app.bind(%L, %L, %L, %L)', p_credential, p_org, p_request, p_dpop) then
    raise exception 'app.bind: a credential is bound by a statement of its own' using errcode = '42501';
  end if;
  perform set_config('ward.credential', coalesce(p_credential, ''), true),
          set_config('ward.org', coalesce(p_org, ''), true),
          set_config('ward.request', coalesce(p_request, ''), true),
          set_config('ward.dpop', coalesce(p_dpop, ''), true),
          set_config('ward.ip', '', true),
          set_config('ward.ua', '', true);
end $_$;

ALTER FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text) OWNER TO ward_definer;

--
-- Name: bind(text, text, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text, p_ip text, p_ua text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  q text := current_query();
begin
  -- Only a statement of its own: nothing else in it can read a policy's
  -- InitPlan before the binding and another after it.
  if q is distinct from 'select app.bind($1, $2, $3, $4, $5, $6)'
     and q is distinct from format('begin; select app.bind(%L, %L, %L, %L, %L, %L)',
                                   p_credential, p_org, p_request, p_dpop, p_ip, p_ua) then
    raise exception 'app.bind: a credential is bound by a statement of its own' using errcode = '42501';
  end if;
  perform set_config('ward.credential', coalesce(p_credential, ''), true),
          set_config('ward.org', coalesce(p_org, ''), true),
          set_config('ward.request', coalesce(p_request, ''), true),
          set_config('ward.dpop', coalesce(p_dpop, ''), true),
          set_config('ward.ip', coalesce(left(p_ip, 64), ''), true),
          set_config('ward.ua', coalesce(left(p_ua, 256), ''), true);
end $_$;

ALTER FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: bind_proof(text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.bind_proof(p_jti text, p_iat text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform set_config('ward.dpop_jti', coalesce(p_jti, ''), true),
          set_config('ward.dpop_iat', coalesce(p_iat, ''), true);
end $$;

ALTER FUNCTION app.bind_proof(p_jti text, p_iat text) OWNER TO ward_definer;

--
-- Name: breach_revoke(uuid[], uuid[], uuid[], uuid[], text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text DEFAULT NULL::text, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  x record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: an incident''s credentials are revoked by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if cardinality(p_sessions) > 1000 or cardinality(p_users) > 1000 or cardinality(p_api_keys) > 1000
     or cardinality(p_scim_tokens) > 1000 then
    raise exception 'each list of credentials to revoke holds at most 1,000 ids' using errcode = '22023';
  end if;
  select * into x from private.breach_end(me.org_id, coalesce(p_sessions, '{}'), coalesce(p_users, '{}'),
    coalesce(p_api_keys, '{}'), coalesce(p_scim_tokens, '{}'), p_request, '{}');
  sessions := x.sessions; api_keys := x.api_keys; scim_tokens := x.scim_tokens;
  case_invites := x.case_invites; sign_in_links := x.sign_in_links;
end $$;

ALTER FUNCTION app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) OWNER TO ward_definer;

--
-- Name: break_glass_activate(bytea, bytea, bytea, bytea, bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin}');
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
  -- The caller's binding, put back before returning.
  caller_cred text := current_setting('ward.credential', true);
  caller_dpop text := current_setting('ward.dpop', true);
begin
  if octet_length(p_session_hash) is distinct from 32 then
    raise exception 'break_glass_activate: a 32-byte session hash is required' using errcode = '22023';
  end if;
  if private.credential_hash() is not null then
    raise exception 'break_glass_activate: activate without a credential' using errcode = '42501';
  end if;
  select x.* into k from app.passkeys x
    join app.memberships m on m.org_id = x.org_id and m.user_id = x.user_id and m.revoked_at is null
   where x.credential_id = p_credential_id
     for update of x;
  if not found then
    raise exception 'forbidden: no such passkey' using errcode = '42501';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.get', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.backup_eligible <> k.backup_eligible then 'invalid'
    when (a.sign_count <> 0 or k.sign_count <> 0) and a.sign_count <= k.sign_count then 'sign_count'
    -- for share: a designation being taken away (app.break_glass_designate,
    -- whose transaction then ends the user's emergency sessions) is waited
    -- for and then seen gone, and one taken away after this check waits
    -- for this activation and then ends the session it made.
    when not exists (select from app.break_glass_users b
                       join app.memberships m on m.org_id = b.org_id and m.user_id = b.user_id
                      where b.org_id = k.org_id and b.user_id = k.user_id and m.role in ('provider', 'lead', 'admin')
                        for share of b)
      then 'not_designated'
    when (select count(*) from app.passkeys x where x.org_id = k.org_id and x.user_id = k.user_id) < 2
      then 'too_few_passkeys'
    else 'ok' end;
  if status = 'sign_count' then
    perform audit.append_as(k.org_id, 'auth.passkey.sign_count_regression', 'denied', 'passkey', k.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('stored', k.sign_count, 'presented', a.sign_count, 'purpose', 'break_glass'));
  end if;
  if status <> 'ok' then
    perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'denied', 'user', k.user_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status, 'passkey', k.id));
    return;
  end if;
  update app.passkeys x set sign_count = a.sign_count, backup_state = a.backup_state, last_used_at = now()
   where x.org_id = k.org_id and x.id = k.id;
  select * into o from app.orgs x where x.id = k.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min, 60);
  absolute_expires_at := now() + interval '60 minutes';
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, break_glass, passkey_id, dpop_jkt, browser)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), true, k.id, jkt, jkt is null)
  returning id into session_id;
  insert into app.break_glass_activations (org_id, user_id, session_id, passkey_id, expires_at)
  values (k.org_id, k.user_id, session_id, k.id, absolute_expires_at)
  returning id into activation_id;
  -- From here on the function acts as the new session; the caller's
  -- binding is put back on return, so that no statement sees its
  -- credential change while it runs (00165). The caller binds the new
  -- session in a statement of its own (app.bind).
  perform set_config('ward.credential', encode(p_session_hash, 'hex'), true);
  perform set_config('ward.dpop', coalesce(jkt, 'browser'), true);
  perform audit.append_as(k.org_id, 'auth.break_glass.activate', 'success', 'break_glass_activation', activation_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'session', session_id, 'expires_at', absolute_expires_at));
  select coalesce(array_agg(m.user_id order by m.created_at), '{}'),
         coalesce(array_agg(u.email_enc order by m.created_at), '{}')
    into admin_ids, admin_emails
    from app.memberships m join app.users u on u.id = m.user_id
   where m.org_id = k.org_id and m.role = 'admin' and m.revoked_at is null;
  user_id := k.user_id; org_id := k.org_id;
  perform set_config('ward.credential', coalesce(caller_cred, ''), true),
          set_config('ward.dpop', coalesce(caller_dpop, ''), true);
end $_$;

ALTER FUNCTION app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) OWNER TO ward_definer;

--
-- Name: break_glass_designate(uuid, boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.break_glass_designate(p_user uuid, p_on boolean, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  n int;
  sid uuid;
begin
  select * into me from private.break_glass_admin();
  if p_user is null or p_on is null then
    raise exception 'break_glass_designate: user and on are required' using errcode = '22023';
  end if;
  if p_on then
    if not exists (select from app.memberships m where m.org_id = me.org_id and m.user_id = p_user
                     and m.revoked_at is null and m.role in ('provider', 'lead', 'admin')) then
      raise exception 'no live staff member of this org has this id' using errcode = 'P0002';
    end if;
    if (select count(*) from app.passkeys k where k.org_id = me.org_id and k.user_id = p_user) < 2 then
      raise exception 'an emergency-access user must hold at least two passkeys' using errcode = '22023';
    end if;
    insert into app.break_glass_users (org_id, user_id, designated_by) values (me.org_id, p_user, me.user_id)
    on conflict do nothing;
  else
    delete from app.break_glass_users b where b.org_id = me.org_id and b.user_id = p_user;
  end if;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(me.org_id, 'org.break_glass.designate', 'success', 'user', p_user,
      p_request => p_request, p_details => jsonb_build_object('designated', p_on));
  end if;
  if not p_on then
    -- an emergency session ends with the designation that allowed it
    for sid in
      update app.sessions s set revoked_at = now(), revoked_reason = 'break_glass_undesignated'
       where s.org_id = me.org_id and s.user_id = p_user and s.break_glass and s.revoked_at is null
      returning s.id
    loop
      perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', sid, p_request => p_request,
        p_details => jsonb_build_object('reason', 'break_glass_undesignated'));
    end loop;
  end if;
  return n > 0;
end $$;

ALTER FUNCTION app.break_glass_designate(p_user uuid, p_on boolean, p_request text) OWNER TO ward_definer;

--
-- Name: break_glass_reason(uuid, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.break_glass_reason(p_activation uuid, p_reason_enc bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.break_glass is not true then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if octet_length(p_reason_enc) is null or octet_length(p_reason_enc) not between 1 and 16384 then
    raise exception 'break_glass_reason: a sealed reason is required' using errcode = '22023';
  end if;
  update app.break_glass_activations x set reason_enc = p_reason_enc
   where x.org_id = me.org_id and x.id = p_activation and x.session_id = me.session_id and x.reason_enc is null;
  if not found then
    raise exception 'forbidden' using errcode = '42501';
  end if;
end $$;

ALTER FUNCTION app.break_glass_reason(p_activation uuid, p_reason_enc bytea) OWNER TO ward_definer;

--
-- Name: break_glass_review(uuid, bytea, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.break_glass_review(p_activation uuid, p_note_enc bytea, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  x app.break_glass_activations%rowtype;
begin
  select * into me from private.break_glass_admin();
  if octet_length(p_note_enc) is null or octet_length(p_note_enc) not between 1 and 16384 then
    raise exception 'break_glass_review: a sealed note is required' using errcode = '22023';
  end if;
  select * into x from app.break_glass_activations a
   where a.org_id = me.org_id and a.id = p_activation and a.reviewed_at is null for update;
  if not found then
    return false;
  end if;
  if x.user_id = me.user_id then
    raise exception 'another admin must review your own break-glass access' using errcode = '42501';
  end if;
  update app.break_glass_activations a set reviewed_at = now(), reviewed_by = me.user_id, review_note_enc = p_note_enc
   where a.org_id = x.org_id and a.id = x.id;
  perform audit.append_as(me.org_id, 'org.break_glass.review', 'success', 'break_glass_activation', x.id,
    p_request => p_request, p_details => jsonb_build_object('operator', x.user_id, 'session', x.session_id));
  return true;
end $$;

ALTER FUNCTION app.break_glass_review(p_activation uuid, p_note_enc bytea, p_request text) OWNER TO ward_definer;

--
-- Name: care_team_leave(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.care_team_leave() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
begin
  if exists (select from app.memberships m
              where m.org_id = old.org_id and m.user_id = old.provider_id and m.revoked_at is null
                and m.role in ('lead', 'admin')) then
    return null;
  end if;
  for r in
    update app.case_members cm set revoked_at = now(), updated_at = now()
      from app.cases c
     where c.org_id = old.org_id and c.patient_id = old.patient_id
       and cm.org_id = c.org_id and cm.case_id = c.id and cm.user_id = old.provider_id
       and cm.kind = 'staff' and cm.revoked_at is null
    returning cm.org_id, cm.case_id, cm.user_id
  loop
    perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
      p_details => jsonb_build_object('revoked', true, 'reason', 'care_team_removed'));
  end loop;
  return null;
end $$;

ALTER FUNCTION app.care_team_leave() OWNER TO ward_definer;

--
-- Name: case_closed(uuid, uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_closed(p_org uuid, p_case uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- shared with every other write of the case; a change of its status
  -- takes it exclusively (app.case_status_change)
  perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended(
    'ward.case_status.' || p_case::text, 0));
  return exists (select from app.cases c where c.org_id = p_org and c.id = p_case and c.status = 'closed');
end $$;

ALTER FUNCTION app.case_closed(p_org uuid, p_case uuid) OWNER TO ward_definer;

--
-- Name: case_closed_refusal(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_closed_refusal() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'UPDATE' then
    if tg_table_name = 'documents' then
      -- a deletion (deleted_at) is no change of what the case holds
      if (new.provided_at, new.accepted_at, new.accepted_by, new.accepted_version)
         is not distinct from (old.provided_at, old.accepted_at, old.accepted_by, old.accepted_version) then
        return new;
      end if;
    elsif tg_table_name = 'case_members' then
      -- a revocation, or bookkeeping that changes nothing the grant gives
      if new.revoked_at is not null
         or (new.kind, new.permissions, new.access_expires_at, new.recipient_org, new.revoked_at)
            is not distinct from (old.kind, old.permissions, old.access_expires_at, old.recipient_org, old.revoked_at) then
        return new;
      end if;
    end if;
  end if;
  if app.case_closed(new.org_id, new.case_id) then
    raise exception 'the case is closed: nothing is added to or changed on it until it is reopened'
      using errcode = '42501', hint = 'case_closed';
  end if;
  return new;
end $$;

ALTER FUNCTION app.case_closed_refusal() OWNER TO ward_definer;

--
-- Name: case_invite_landing(bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  i app.case_invites%rowtype;
  me record;
begin
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'case_invite_landing: the token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into i from app.case_invites x where x.token_hash = p_token_hash;
  if not found then
    status := 'invalid';
    return;
  end if;
  -- app.accept_case_invite's test (one function for both). A closed case
  -- is read-only (00185): its invitations stay pending and are accepted
  -- once it is reopened; the page says closed.
  status := private.case_invite_status(i);
  if status = 'case_closed' then
    status := 'closed';
  end if;
  if status <> 'ok' then
    return;
  end if;
  select o.name into org_name from app.orgs o where o.id = i.org_id;
  kind := i.kind; permissions := i.permissions; access_expires_at := i.access_expires_at;
  expires_at := i.expires_at; recipient_org := i.recipient_org; invitee_id := i.invitee_id; email_enc := i.email_enc;
  select m.user_id into me from private.me_pending() m where m.kind = 'session';
  if me.user_id is null then
    signed_in := 'none';
    return;
  end if;
  select u.id, u.email_enc, case when u.email_bidx = i.email_bidx then 'invitee' else 'other' end
    into signed_in_user, signed_in_email_enc, signed_in
    from app.users u where u.id = me.user_id;
end $$;

ALTER FUNCTION app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) OWNER TO ward_definer;

--
-- Name: case_invite_rate(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_invite_rate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  n bigint;
  oldest timestamptz;
begin
  -- new.created_by is the caller: case_invites_insert checks it
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.case_invites.' || new.org_id::text || '.' || new.created_by::text, 0));
  select count(*), min(i.created_at) into n, oldest
    from (select created_at from app.case_invites i
           where i.org_id = new.org_id and i.created_by = new.created_by
             and i.created_at > now() - interval '1 hour'
           order by i.created_at desc limit 50) i;
  if n >= 50 then
    raise exception 'at most 50 invitations an hour'
      using errcode = '54000', hint = 'invite_rate',
            detail = greatest(1, ceil(extract(epoch from oldest + interval '1 hour' - now())))::bigint::text;
  end if;
  return new;
end $$;

ALTER FUNCTION app.case_invite_rate() OWNER TO ward_definer;

--
-- Name: case_member_ended_invites(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_member_ended_invites() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  why text;
begin
  if pg_catalog.pg_trigger_depth() > 1 then
    -- another trigger's change: a revoked membership ends the member's
    -- invitations itself (member_revoked); a care team's removal or a
    -- role change does not
    if not (old.revoked_at is null and new.revoked_at is not null)
       or not exists (select from app.memberships m
                       where m.org_id = new.org_id and m.user_id = new.user_id and m.revoked_at is null) then
      return null;
    end if;
    why := 'grant_revoked';
  elsif old.revoked_at is null and new.revoked_at is not null then
    why := 'grant_revoked';
  elsif new.revoked_at is null and coalesce(current_setting('ward.credential', true), '') <> ''
        and (new.kind, new.permissions, new.access_expires_at, old.revoked_at is null)
            is distinct from (old.kind, old.permissions, old.access_expires_at, true) then
    why := 'grant_changed';
  else
    return null;
  end if;
  for r in
    update app.case_invites i set revoked_at = now()
      from app.users u
     where u.id = new.user_id and i.org_id = new.org_id and i.case_id = new.case_id
       and i.email_bidx = u.email_bidx and i.accepted_at is null and i.revoked_at is null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_details => jsonb_build_object('reason', why));
  end loop;
  return null;
end $$;

ALTER FUNCTION app.case_member_ended_invites() OWNER TO ward_definer;

--
-- Name: case_rows_stamp(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_rows_stamp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  ttl int;
begin
  -- Unbound callers (jobs, procedures run unbound, the operator) write
  -- what they write; a request's statement is stamped.
  if coalesce(current_setting('ward.credential', true), '') = '' then
    return new;
  end if;
  if tg_table_name = 'case_members' then
    if tg_op = 'INSERT' then
      new.added_at := now();
      new.updated_at := now();
      new.expiry_recorded_at := null;
    end if;
    if new.access_expires_at > now() + interval '5 years 1 day'
       and (tg_op = 'INSERT' or new.access_expires_at is distinct from old.access_expires_at) then
      raise exception 'access ends at most five years ahead' using errcode = '23514', hint = 'access_too_long';
    end if;
    return new;
  end if;
  if tg_op <> 'INSERT' then
    return new;
  end if;
  new.created_at := now();
  if tg_table_name = 'case_invites' then
    select p.case_invite_ttl_days into ttl from app.instance_policy p;
    new.expires_at := least(new.expires_at, now() + make_interval(days => coalesce(ttl, 7)));
    new.accepted_by := null;
    if new.access_expires_at > now() + interval '5 years 1 day' then
      raise exception 'access ends at most five years ahead' using errcode = '23514', hint = 'access_too_long';
    end if;
  elsif tg_table_name = 'documents' then
    if new.provided_at is not null or new.accepted_at is not null or new.accepted_by is not null
       or new.accepted_version is not null then
      raise exception 'a document is provided by its first upload and accepted by those who manage its case, never as it is filed'
        using errcode = '42501', hint = 'document_not_filed';
    end if;
  elsif tg_table_name = 'document_versions' then
    if lower(new.content_type) ~ '^\s*(text/html|text/xml|application/xhtml|application/javascript|text/javascript|image/svg)' then
      raise exception 'active content is not stored' using errcode = '23514', hint = 'active_content';
    end if;
  end if;
  return new;
end $$;

ALTER FUNCTION app.case_rows_stamp() OWNER TO ward_definer;

--
-- Name: case_status_change(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.case_status_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.status is distinct from old.status then
    -- waits for the case's writes in flight (app.case_closed)
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      'ward.case_status.' || new.id::text, 0));
    -- a shredded patient's case stays closed (00276)
    if new.status = 'open' and exists (select from app.patients p where p.org_id = new.org_id
                                         and p.id = new.patient_id and p.shredded_at is not null) then
      raise exception 'the patient was crypto-shredded: their case is not reopened' using errcode = '55000',
        hint = 'patient_shredded';
    end if;
  elsif new.status = 'closed'
        and (new.title_enc, new.reference_enc, new.reference_bidx)
            is distinct from (old.title_enc, old.reference_enc, old.reference_bidx)
        and not ((new.title_enc, new.reference_enc, new.reference_bidx) is not distinct from ('\x'::bytea, null, null)
                 and exists (select from app.patients p where p.org_id = new.org_id and p.id = new.patient_id
                                and p.shredded_at is not null)) then
    raise exception 'the case is closed: nothing is added to or changed on it until it is reopened'
      using errcode = '42501', hint = 'case_closed';
  end if;
  return new;
end $$;

ALTER FUNCTION app.case_status_change() OWNER TO ward_definer;

--
-- Name: claim_sso_domain(text, uuid, text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.claim_sso_domain(p_domain text, p_connection uuid, p_request text DEFAULT NULL::text, p_domain_bidx bytea DEFAULT NULL::bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.claim_sso_domain(p_domain text, p_connection uuid, p_request text, p_domain_bidx bytea) OWNER TO ward_definer;

--
-- Name: claim_upload(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.claim_upload(p_key text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- a key of the caller's own org, as blob.ObjectKey makes them
  if p_key is null or p_key !~ ('^orgs/' || me.org_id::text || '/obj/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') then
    raise exception 'claim_upload: not an object key of the caller''s org' using errcode = '22023';
  end if;
  insert into app.document_uploads (org_id, storage_key, uploaded_by) values (me.org_id, p_key, me.user_id);
end $_$;

ALTER FUNCTION app.claim_upload(p_key text) OWNER TO ward_definer;

--
-- Name: consume_magic_link(bytea, bytea, bytea, inet, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
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

ALTER FUNCTION app.consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) OWNER TO ward_definer;

--
-- Name: create_api_key(bytea, text, text, text[], timestamp with time zone, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  kid uuid;
  held text[];
begin
  select * into me from private.credential_maker(p_key_hash, 'create_api_key: the key hash');
  if p_expires_at is not null and (p_expires_at <= now() or p_expires_at > now() + interval '366 days') then
    raise exception 'expires_at must be in the future and within a year' using errcode = '22023';
  end if;
  insert into app.api_keys (org_id, key_hash, prefix, name, scopes, created_by, expires_at)
  values (me.org_id, p_key_hash, p_prefix, p_name, (select array_agg(distinct s order by s) from unnest(p_scopes) s),
          me.user_id, p_expires_at)
  returning id, scopes into kid, held;
  perform audit.append_as(me.org_id, 'auth.api_key.create', 'success', 'api_key', kid, p_request => p_request,
    p_details => jsonb_build_object('scopes', held, 'expires_at', p_expires_at, 'prefix', p_prefix));
  return kid;
end $$;

ALTER FUNCTION app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text) OWNER TO ward_definer;

--
-- Name: create_org(text, bytea, bytea, uuid, bytea, bytea, uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid, p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, OUT org_id uuid, OUT admin_id uuid) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid, p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, OUT org_id uuid, OUT admin_id uuid) OWNER TO ward_definer;

--
-- Name: create_saml_connection(uuid, text, text, text[], boolean, text, boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[], p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  insert into app.sso_connections (org_id, id, kind, name, idp_metadata, trusted_acr, jit, jit_role,
    allow_idp_initiated, created_by)
  values (me.org_id, p_id, 'saml', p_name, p_idp_metadata, coalesce(p_trusted_acr, '{}'), coalesce(p_jit, false),
    coalesce(p_jit_role, 'provider'), coalesce(p_allow_idp_initiated, false), me.user_id);
  perform audit.append_as(me.org_id, 'sso.connection.create', 'success', 'sso_connection', p_id,
    p_request => p_request, p_details => jsonb_build_object('kind', 'saml',
      'trusted_acr', coalesce(p_trusted_acr, '{}'), 'jit', coalesce(p_jit, false),
      'jit_role', coalesce(p_jit_role, 'provider'), 'allow_idp_initiated', coalesce(p_allow_idp_initiated, false)));
  return p_id;
end $$;

ALTER FUNCTION app.create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[], p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text) OWNER TO ward_definer;

--
-- Name: create_scim_token(bytea, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  tid uuid;
begin
  select * into me from private.credential_maker(p_token_hash, 'create_scim_token: the token hash');
  insert into app.scim_tokens (org_id, token_hash, prefix, name, default_role, created_by)
  values (me.org_id, p_token_hash, p_prefix, p_name, coalesce(p_default_role, 'provider'), me.user_id)
  returning id into tid;
  perform audit.append_as(me.org_id, 'scim.token.create', 'success', 'scim_token', tid, p_request => p_request,
    p_details => jsonb_build_object('prefix', p_prefix, 'default_role', coalesce(p_default_role, 'provider')));
  return tid;
end $$;

ALTER FUNCTION app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text) OWNER TO ward_definer;

--
-- Name: create_sso_connection(uuid, text, text, text, text, bytea, text[], text[], text[], boolean, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text, p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean, p_jit_role text, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  perform private.sso_admin();
  select * into me from private.me();
  insert into app.sso_connections (org_id, id, kind, name, issuer, client_id, client_secret_enc, signing_algs,
    trusted_amr, trusted_acr, jit, jit_role, created_by)
  values (me.org_id, p_id, p_kind, p_name, p_issuer, p_client_id, p_client_secret_enc,
    coalesce(p_signing_algs, '{RS256,ES256}'), coalesce(p_trusted_amr, '{}'), coalesce(p_trusted_acr, '{}'),
    coalesce(p_jit, false), coalesce(p_jit_role, 'provider'), me.user_id);
  perform audit.append_as(me.org_id, 'sso.connection.create', 'success', 'sso_connection', p_id,
    p_request => p_request, p_details => jsonb_build_object('kind', p_kind, 'issuer', p_issuer,
      'signing_algs', coalesce(p_signing_algs, '{RS256,ES256}'), 'trusted_amr', coalesce(p_trusted_amr, '{}'),
      'trusted_acr', coalesce(p_trusted_acr, '{}'), 'jit', coalesce(p_jit, false),
      'jit_role', coalesce(p_jit_role, 'provider')));
  return p_id;
end $$;

ALTER FUNCTION app.create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text, p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean, p_jit_role text, p_request text) OWNER TO ward_definer;

--
-- Name: credential_status(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.credential_status() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  s app.sessions%rowtype;
  live_member boolean;
begin
  select * into s from app.sessions x where x.token_hash = private.credential_hash();
  if not found then
    select x.* into s from app.session_tokens t join app.sessions x on x.id = t.session_id
     where t.token_hash = private.credential_hash();
    if not found then
      return null;
    end if;
  end if;
  select exists (select from app.memberships m where m.org_id = s.org_id and m.user_id = s.user_id
                   and m.revoked_at is null) into live_member;
  return case
    when s.revoked_at is not null or not live_member then 'revoked'
    when s.absolute_expires_at <= now() then 'expired'
    when s.last_seen_at + make_interval(mins => s.idle_timeout_min) <= now() then 'idle'
    else 'live' end;
end $$;

ALTER FUNCTION app.credential_status() OWNER TO ward_definer;

--
-- Name: delete_document(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.delete_document(p_document uuid, p_request text DEFAULT NULL::text) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  d app.documents%rowtype;
  c app.cases%rowtype;
begin
  select * into me from private.me();
  if me.user_id is null or not private.am_i_lead_in_org(me.org_id) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(me.org_id);
  select * into d from app.documents x where x.org_id = me.org_id and x.id = p_document and x.deleted_at is null
    for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  select * into c from app.cases x where x.org_id = d.org_id and x.id = d.case_id;
  if exists (select from app.legal_holds h where h.org_id = d.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = c.patient_id
                    or h.case_id = c.id)) then
    raise exception 'legal hold' using errcode = '55000'; -- the caller records the refusal
  end if;
  if c.patient_id is not null and exists (
       select from app.dsr_requests q
        where q.org_id = d.org_id and q.patient_id = c.patient_id and q.status = 'open'
          and q.kind in ('access', 'amendment')) then
    raise exception 'an access or amendment request of the document''s patient is open' using errcode = '55000',
      hint = 'open_requests'; -- the caller records the refusal
  end if;
  perform audit.append_as(me.org_id, 'document.delete', 'success', 'document', d.id,
    p_patient => c.patient_id, p_request => p_request, p_case => d.case_id);
  update app.documents x set deleted_at = now() where x.org_id = d.org_id and x.id = d.id;
  return query update app.document_versions x set data_key = null
                where x.org_id = d.org_id and x.document_id = d.id returning x.storage_key;
end $$;

ALTER FUNCTION app.delete_document(p_document uuid, p_request text) OWNER TO ward_definer;

--
-- Name: delete_sso_connection(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.delete_sso_connection(p_id uuid, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  ended int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_connections c where c.org_id = me.org_id and c.id = p_id;
  if not found then
    return false;
  end if;
  -- What the connection issued ends with it (00178), the caller's own
  -- session too when it came through it; SSO sessions from before 00178
  -- name no connection and end with any.
  with e as (
    update app.sessions s set revoked_at = now(), revoked_reason = 'sso_connection_deleted'
     where s.org_id = me.org_id and s.revoked_at is null
       and (s.sso_connection_id = p_id or (s.sso_connection_id is null and 'sso' = any (s.amr)))
    returning 1)
  select count(*) into ended from e;
  perform audit.append_as(me.org_id, 'sso.connection.delete', 'success', 'sso_connection', p_id, p_request => p_request,
    p_details => jsonb_build_object('sessions_ended', ended));
  return true;
end $$;

ALTER FUNCTION app.delete_sso_connection(p_id uuid, p_request text) OWNER TO ward_definer;

--
-- Name: document_accept_latest(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.document_accept_latest() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  latest integer;
begin
  if new.accepted_version is not distinct from old.accepted_version then
    return new;
  end if;
  -- the version changes only with the acceptance itself, which
  -- private.guard_document_update keeps to those who manage the case
  if new.accepted_at is not distinct from old.accepted_at then
    raise exception 'the accepted version changes only with the acceptance' using errcode = 'insufficient_privilege';
  end if;
  if new.accepted_version is null then
    return new;
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.documents.' || new.org_id::text || '.' || new.id::text, 0));
  select max(v.version) into latest from app.document_versions v
   where v.org_id = new.org_id and v.document_id = new.id;
  if latest is distinct from new.accepted_version then
    raise exception 'only the latest version of a document can be accepted'
      using errcode = 'P0001', hint = 'not_latest_version';
  end if;
  return new;
end $$;

ALTER FUNCTION app.document_accept_latest() OWNER TO ward_definer;

--
-- Name: document_comment_limit(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.document_comment_limit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  used bigint;
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.document_comments.' || new.document_id::text, 0));
  select count(*) into used
    from app.document_comments m
   where m.org_id = new.org_id and m.document_id = new.document_id;
  if used >= 1000 then
    raise exception 'the document has the most comments it may hold'
      using errcode = '54000', hint = 'comment_limit';
  end if;
  return new;
end $$;

ALTER FUNCTION app.document_comment_limit() OWNER TO ward_definer;

--
-- Name: document_retention_tag(uuid); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.document_retention_tag(p_org uuid) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select encode(sha256(convert_to(coalesce(string_agg(
           r.doc_type || ' ' || coalesce(r.days::text, '-')
             || coalesce(' pending ' || r.pend::text || ' ' || extract(epoch from r.pend_at)::text, ''),
           E'\n' order by r.doc_type collate "C"), ''), 'UTF8')), 'hex')
    from (select x.doc_type,
                 case when x.effective_at <= now() then x.pending_days else x.retain_days end as days,
                 case when x.effective_at > now() then x.pending_days end as pend,
                 case when x.effective_at > now() then x.effective_at end as pend_at
            from app.document_retention x where x.org_id = p_org) r
$$;

ALTER FUNCTION app.document_retention_tag(p_org uuid) OWNER TO ward_owner;

--
-- Name: document_status(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select case when p_provided is not null then 'complete'
              when p_due is not null and p_due < now() then 'overdue'
              else 'pending' end
$$;

ALTER FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone) OWNER TO ward_owner;

--
-- Name: document_status(timestamp with time zone, timestamp with time zone, text); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select case when p_provided is not null then 'complete'
              when p_case_status = 'closed' then 'pending'
              when p_due is not null and p_due < now() then 'overdue'
              else 'pending' end
$$;

ALTER FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text) OWNER TO ward_owner;

--
-- Name: document_version_quota(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.document_version_quota() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  max_bytes bigint;
  max_versions integer;
  used_bytes numeric;
  used_versions bigint;
begin
  -- the limits are the org's own row, never the caller's
  select o.document_quota_bytes, o.document_quota_versions into max_bytes, max_versions
    from app.orgs o where o.id = new.org_id;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.document_quota.' || new.org_id::text, 0));
  select coalesce(sum(v.size), 0), count(*) into used_bytes, used_versions
    from app.document_versions v
   where v.org_id = new.org_id and v.data_key is not null;
  if used_versions + 1 > max_versions or used_bytes + new.size > max_bytes then
    raise exception 'the org''s document storage quota is used up'
      using errcode = '54000', hint = 'storage_quota';
  end if;
  return new;
end $$;

ALTER FUNCTION app.document_version_quota() OWNER TO ward_definer;

--
-- Name: document_version_serial(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.document_version_serial() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- one writer of a document's versions and acceptance at a time; the
  -- guard after this trigger then reads accepted_at as committed
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.documents.' || new.org_id::text || '.' || new.document_id::text, 0));
  return new;
end $$;

ALTER FUNCTION app.document_version_serial() OWNER TO ward_definer;

--
-- Name: dpop_bind(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dpop_bind(p_jkt text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
begin
  if p_jkt is null or p_jkt !~ '^[A-Za-z0-9_-]{43}$' then
    raise exception 'a thumbprint is required' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.sessions s set dpop_jkt = p_jkt
   where s.id = me.session_id and s.dpop_jkt is null and s.created_at > now() - interval '1 minute';
  return found;
end $_$;

ALTER FUNCTION app.dpop_bind(p_jkt text) OWNER TO ward_definer;

--
-- Name: dpop_jti_keep(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dpop_jti_keep() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  iat text := current_setting('ward.dpop_iat', true);
  at bigint;
  clock bigint;
  me record;
begin
  if octet_length(jkt) is distinct from 43
     or ltrim(jkt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') <> ''
     or octet_length(jti) is distinct from 64 or ltrim(jti, '0123456789abcdef') <> ''
     or coalesce(octet_length(iat), 0) not between 1 and 12 or ltrim(iat, '0123456789') <> '' then
    raise exception 'a DPoP key (ward.dpop), its proof''s jti hash (ward.dpop_jti) and iat (ward.dpop_iat) are required' using errcode = '22023';
  end if;
  me := private.me_pending_cached();
  if me.credential_id is null then
    return;
  end if;
  at := iat::bigint;
  clock := floor(extract(epoch from clock_timestamp()))::bigint;
  if at < clock - 360 or at > clock + 120 then
    return;
  end if;
  insert into app.dpop_jtis (ring, jkt, jti_hash) values ((at / 600 % 3)::smallint, jkt, decode(jti, 'hex')) on conflict do nothing;
end $$;

ALTER FUNCTION app.dpop_jti_keep() OWNER TO ward_definer;

--
-- Name: dpop_jti_rotate(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dpop_jti_rotate() RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select private.dpop_jti_rotate_at(floor(extract(epoch from pg_catalog.clock_timestamp()))::bigint)
$$;

ALTER FUNCTION app.dpop_jti_rotate() OWNER TO ward_definer;

--
-- Name: dpop_use(text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dpop_use(p_jkt text, p_jti_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  n int;
begin
  if p_jkt is null or p_jkt !~ '^[A-Za-z0-9_-]{43}$' or octet_length(p_jti_hash) is distinct from 32 then
    raise exception 'a thumbprint and a 32-byte jti hash are required' using errcode = '22023';
  end if;
  delete from app.dpop_proofs d
   where d.ctid = any (array(select x.ctid from app.dpop_proofs x where x.expires_at < now() limit 100));
  insert into app.dpop_proofs (jkt, jti_hash) values (p_jkt, p_jti_hash) on conflict do nothing;
  get diagnostics n = row_count;
  return n = 1;
end $_$;

ALTER FUNCTION app.dpop_use(p_jkt text, p_jti_hash bytea) OWNER TO ward_definer;

--
-- Name: dsr_due_reminders(integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dsr_due_reminders(p_max integer DEFAULT 100) RETURNS TABLE(org_id uuid, dsr_id uuid, kind text, dsr_kind text, user_id uuid, email_enc bytea, due_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  r record;
begin
  for r in
    select d.org_id, d.id, d.kind as dsr_kind, d.due_at, m.user_id,
           case when d.due_at < now() then 'overdue' else 'due_soon' end as kind
      from app.dsr_requests d
      join app.memberships m on m.org_id = d.org_id and m.role = 'admin' and m.revoked_at is null
     where d.status = 'open' and d.due_at < now() + interval '7 days'
       and not exists (select from app.dsr_reminders x
                        where x.org_id = d.org_id and x.dsr_id = d.id and x.due_at = d.due_at and x.user_id = m.user_id
                          and x.kind = case when d.due_at < now() then 'overdue' else 'due_soon' end)
     order by d.due_at, d.id, m.user_id
     limit least(greatest(coalesce(p_max, 100), 1), 1000)
  loop
    -- Two nodes may pick the same reminder: the primary key lets one
    -- insert it, and the other waits for that one's commit and skips it.
    insert into app.dsr_reminders (org_id, dsr_id, kind, due_at, user_id)
    values (r.org_id, r.id, r.kind, r.due_at, r.user_id)
    on conflict do nothing;
    if found then
      perform audit.append_as(r.org_id, 'dsr.remind', 'success', 'dsr_request', r.id,
        p_details => jsonb_build_object('kind', r.kind, 'dsr_kind', r.dsr_kind, 'due_at', r.due_at),
        p_actor => r.user_id);
      org_id := r.org_id; dsr_id := r.id; kind := r.kind; dsr_kind := r.dsr_kind; due_at := r.due_at;
      user_id := r.user_id;
      select u.email_enc into email_enc from app.users u where u.id = r.user_id;
      return next;
    end if;
  end loop;
end $$;

ALTER FUNCTION app.dsr_due_reminders(p_max integer) OWNER TO ward_definer;

--
-- Name: dsr_retention_serialise(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.dsr_retention_serialise() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.patient_id is not null and new.kind in ('access', 'amendment') then
    perform private.legal_hold_lock_shared(new.org_id);
  end if;
  return new;
end $$;

ALTER FUNCTION app.dsr_retention_serialise() OWNER TO ward_definer;

--
-- Name: due_reminders(integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.due_reminders(p_max integer DEFAULT 100) RETURNS TABLE(org_id uuid, document_id uuid, case_id uuid, kind text, user_id uuid, email_enc bytea, due_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  r record;
begin
  for r in
    select d.org_id, d.id, d.case_id, d.due_at, d.requested_from,
           case when d.due_at < now() then 'overdue' else 'due_soon' end as kind
      from app.documents d
     where d.provided_at is null and d.deleted_at is null and d.due_at is not null
       and d.due_at < now() + interval '1 day' and d.requested_from is not null
       -- a closed case takes no upload (00185): nobody is asked for one
       and exists (select from app.cases c where c.org_id = d.org_id and c.id = d.case_id and c.status = 'open')
       -- only to someone who still reaches the case: a live member who is
       -- admin or lead, a provider of the case's patient, or a live grant.
       and exists (select from app.memberships m
                    where m.org_id = d.org_id and m.user_id = d.requested_from and m.revoked_at is null
                      and (m.role in ('admin', 'lead')
                           or exists (select from app.case_members cm
                                       where cm.org_id = d.org_id and cm.case_id = d.case_id
                                         and cm.user_id = d.requested_from and cm.revoked_at is null
                                         and (cm.access_expires_at is null or cm.access_expires_at > now()))
                           or (m.role = 'provider'
                               and exists (select from app.cases c
                                             join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                            where c.org_id = d.org_id and c.id = d.case_id
                                              and ct.provider_id = d.requested_from))))
       and not exists (select from app.document_reminders x where x.org_id = d.org_id and x.document_id = d.id
                         and x.kind = case when d.due_at < now() then 'overdue' else 'due_soon' end)
     order by d.due_at
     limit least(greatest(coalesce(p_max, 100), 1), 1000)
     for update of d skip locked
  loop
    insert into app.document_reminders (org_id, document_id, kind) values (r.org_id, r.id, r.kind)
    on conflict do nothing;
    if found then
      perform audit.append_as(r.org_id, 'document.remind', 'success', 'document', r.id,
        p_details => jsonb_build_object('kind', r.kind), p_actor => r.requested_from, p_case => r.case_id);
      org_id := r.org_id; document_id := r.id; case_id := r.case_id; kind := r.kind; due_at := r.due_at;
      user_id := r.requested_from;
      select u.email_enc into email_enc from app.users u where u.id = r.requested_from;
      return next;
    end if;
  end loop;
end $$;

ALTER FUNCTION app.due_reminders(p_max integer) OWNER TO ward_definer;

--
-- Name: email_domain_gaps(integer, uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.email_domain_gaps(p_limit integer, p_after_user uuid DEFAULT NULL::uuid) RETURNS TABLE(kind text, user_id uuid, email_bidx bytea, email_enc bytea, domain text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  (select 'user', u.id, u.email_bidx, u.email_enc, null::text from app.users u
    where not exists (select from app.email_domains e where e.email_bidx = u.email_bidx)
      and octet_length(u.email_enc) > 0
      and (p_after_user is null or u.id > p_after_user)
    order by u.id limit least(greatest(p_limit, 1), 1000))
  union all
  (select 'domain', null, null, null, d.domain from app.sso_domains d
    where d.domain_bidx is null
    group by d.domain order by d.domain limit least(greatest(p_limit, 1), 1000))
$$;

ALTER FUNCTION app.email_domain_gaps(p_limit integer, p_after_user uuid) OWNER TO ward_definer;

--
-- Name: email_domain_noted(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.email_domain_noted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.email_domain_noted() OWNER TO ward_definer;

--
-- Name: ensure_instance_keyset(bytea, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ensure_instance_keyset(p_aead bytea, p_prf bytea, OUT purpose text, OUT wrapped bytea) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into private.keysets (org_id, purpose, wrapped)
  values ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'aead', p_aead),
         ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'prf', p_prf)
  on conflict do nothing;
  return query select k.purpose, k.wrapped from private.keysets k
                where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
end $$;

ALTER FUNCTION app.ensure_instance_keyset(p_aead bytea, p_prf bytea, OUT purpose text, OUT wrapped bytea) OWNER TO ward_definer;

--
-- Name: ensure_signer_key(bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ensure_signer_key(p_sealed bytea) RETURNS bytea
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into private.keysets (org_id, purpose, wrapped)
  values ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'signer', p_sealed)
  on conflict do nothing;
  return (select k.wrapped from private.keysets k
           where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff' and k.purpose = 'signer');
end $$;

ALTER FUNCTION app.ensure_signer_key(p_sealed bytea) OWNER TO ward_definer;

--
-- Name: fill_sso_domain_bidx(text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) OWNER TO ward_definer;

--
-- Name: forget_session_device(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.forget_session_device(p_session uuid, p_request text DEFAULT NULL::text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  s app.sessions%rowtype;
  others uuid[];
  marked uuid[];
begin
  select * into me from private.me();
  if me.session_id is null or me.kind is distinct from 'session' then
    raise exception 'forbidden: only a session of the member forgets a device' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into s from app.sessions x
   where x.org_id = me.org_id and x.user_id = me.user_id and x.id = p_session
     for update;
  if not found then
    raise exception 'no session of yours in this org has this id' using errcode = 'P0002';
  end if;
  with f as (
    update app.sessions x set device_forgotten_at = now()
     where x.org_id = me.org_id and x.user_id = me.user_id and x.device_forgotten_at is null
       and (x.id = s.id or x.user_agent is not distinct from s.user_agent
            or (s.dpop_jkt is not null and x.dpop_jkt = s.dpop_jkt))
    returning x.id)
  select count(*)::int, coalesce(array_agg(f.id), '{}') into forgotten, marked from f;
  -- The device cookies those sessions' sign-ins set no longer lift the
  -- address's link limit (00163), the named session's even when it was
  -- forgotten before.
  delete from app.known_devices d
   where d.org_id = me.org_id and d.user_id = me.user_id and (d.session_id = s.id or d.session_id = any (marked));
  ended := s.revoked_at is null and s.absolute_expires_at > now()
           and s.last_seen_at + make_interval(mins => s.idle_timeout_min) > now();
  -- Every other live session bound to the same device key is on that
  -- device: it ends too.
  if s.dpop_jkt is not null then
    select coalesce(array_agg(x.id), '{}') into others from (
      select x.id from app.sessions x
       where x.org_id = me.org_id and x.user_id = me.user_id and x.id <> s.id and x.dpop_jkt = s.dpop_jkt
         and x.revoked_at is null and x.absolute_expires_at > now()
         and x.last_seen_at + make_interval(mins => x.idle_timeout_min) > now()
       order by x.id
         for update) x;
  else
    others := '{}';
  end if;
  others_ended := cardinality(others);
  -- The event first: ending the caller's own session ends the credential
  -- that names the actor.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', s.id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('reason', 'device_forgotten', 'ended', ended,
                                                           'sessions_forgotten', forgotten,
                                                           'other_sessions_ended', others_ended));
  update app.sessions x set revoked_at = now(), revoked_reason = 'device_forgotten'
   where x.org_id = me.org_id and x.user_id = me.user_id
     and ((ended and x.id = s.id) or x.id = any (others));
end $$;

ALTER FUNCTION app.forget_session_device(p_session uuid, p_request text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer) OWNER TO ward_definer;

--
-- Name: gateway_admit(bigint); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.gateway_admit(p_tokens bigint, OUT admitted boolean, OUT retry_ms bigint, OUT requests_ms bigint, OUT empty_ms bigint, OUT reservation bigint) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  caller record := private.gateway_caller();
  org uuid := caller.org_id;
  b app.gateway_buckets%rowtype;
  need double precision;
  wait_requests double precision := 0; -- minutes
  wait_tokens double precision := 0;
begin
  if org is null then
    raise exception 'gateway_admit: a credential that may call a model is required' using errcode = '42501';
  end if;
  -- A reservation is a prompt of at most 32 MB (a token per four bytes)
  -- and a max_tokens of at most 4,194,304: never negative, never near 2^53.
  if p_tokens is null or p_tokens < 0 or p_tokens > 1000000000 then
    raise exception 'gateway_admit: a reservation is 0..1000000000 tokens' using errcode = '22023';
  end if;
  -- What this transaction writes is worth nothing after a crash (the
  -- bucket and the reservations are unlogged; a resolution may put the
  -- principal in its cache): its commit need not wait for the WAL while
  -- the org's bucket is locked. The admit runs in a transaction of its
  -- own (gateway.limiter.admit), never beside writes that must last.
  perform set_config('synchronous_commit', 'off', true);
  -- One statement: the org's settled reservations taken back, the bucket created full (which admits any call) or refilled at
  -- the policy's rates for the time since it was last touched, what came
  -- back added, then one request and the whole reservation taken if it
  -- holds them; a reservation larger than a minute's worth passes only a
  -- full bucket, which it then overdraws. The row stays locked until the
  -- transaction ends.
  with done as (
    delete from app.gateway_reservations r where r.org_id = org and r.back is not null
    returning r.back, case when r.give_request then 1 else 0 end as request),
  returned as (select coalesce(sum(d.back), 0)::double precision as tokens,
                      coalesce(sum(d.request), 0)::double precision as requests from done d)
  insert into app.gateway_buckets as g (org_id, rpm, tpm, at, requests, tokens, admitted)
  select org, o.gateway_requests_per_minute, o.gateway_tokens_per_minute, clock_timestamp(),
         o.gateway_requests_per_minute - 1, o.gateway_tokens_per_minute - p_tokens, true
    from app.orgs o where o.id = org
  on conflict (org_id) do update
    set (rpm, tpm, at, requests, tokens, admitted) = (
      select excluded.rpm, excluded.tpm, greatest(g.at, excluded.at),
             r.requests - case when r.ok then 1 else 0 end, r.tokens - case when r.ok then p_tokens else 0 end, r.ok
        from (select f.requests, f.tokens,
                     f.requests >= 1 and f.tokens > 0 and f.tokens >= least(p_tokens, excluded.tpm) as ok
                from (select least(excluded.rpm, g.requests + d.minutes * excluded.rpm + x.requests) as requests,
                             least(excluded.tpm, g.tokens + d.minutes * excluded.tpm + x.tokens) as tokens
                        from (select greatest(0, extract(epoch from excluded.at - g.at)) / 60 as minutes) d,
                             returned x) f) r)
  returning g.* into b;
  -- Now and then, the org's reservations that were never settled and
  -- have expired: they stay spent, and go (after the bucket's lock: one
  -- lock order, bucket then reservations, for every admit).
  if random() < 1.0 / 64 then
    delete from app.gateway_reservations r where r.org_id = org and r.back is null and r.expires_at < now();
  end if;
  need := least(p_tokens, b.tpm);
  -- Whatever a call asks, a bucket at or below zero admits nothing until
  -- refilled above it (or until reservations settle back into it).
  empty_ms := case when b.tokens <= 0 then least(3600000, ceil(-b.tokens / b.tpm * 60000) + 1)::bigint else 0 end;
  if b.admitted then
    insert into app.gateway_reservations (org_id, credential_id, tokens) values (org, caller.credential_id, p_tokens)
    returning id into reservation;
    admitted := true; retry_ms := 0; requests_ms := 0;
    return;
  end if;
  if b.requests < 1 then
    wait_requests := (1 - b.requests) / b.rpm;
  end if;
  if not (b.tokens > 0 and b.tokens >= need) then
    wait_tokens := (greatest(need, 1) - b.tokens) / b.tpm;
  end if;
  admitted := false;
  retry_ms := least(3600000, ceil(greatest(wait_requests, wait_tokens) * 60000))::bigint;
  requests_ms := least(3600000, ceil(wait_requests * 60000))::bigint;
end $$;

ALTER FUNCTION app.gateway_admit(p_tokens bigint, OUT admitted boolean, OUT retry_ms bigint, OUT requests_ms bigint, OUT empty_ms bigint, OUT reservation bigint) OWNER TO ward_definer;

--
-- Name: gateway_settle(bigint, bigint, boolean); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  caller record := private.gateway_caller();
  org uuid := caller.org_id;
begin
  -- The reservation of this credential's call, once; the tokens the call
  -- used (the upstream's report, 0..10^9: a larger count is charged as
  -- 10^9) decide what goes back. Anything else settles nothing.
  if org is null or p_reservation is null or p_used is null or p_give_request is null then
    return false;
  end if;
  update app.gateway_reservations r
     set back = r.tokens - least(greatest(p_used, 0), 1000000000), give_request = p_give_request
   where r.org_id = org and r.id = p_reservation and r.back is null
     and r.credential_id = caller.credential_id;
  return found;
end $$;

ALTER FUNCTION app.gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean) OWNER TO ward_definer;

--
-- Name: instance_keyset(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.instance_keyset(OUT purpose text, OUT wrapped bytea) RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return query select k.purpose, k.wrapped from private.keysets k
                where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
end $$;

ALTER FUNCTION app.instance_keyset(OUT purpose text, OUT wrapped bytea) OWNER TO ward_definer;

--
-- Name: issue_operator_link(bytea, uuid, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, OUT org_id uuid, OUT user_id uuid, OUT ttl_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, OUT org_id uuid, OUT user_id uuid, OUT ttl_min integer) OWNER TO ward_definer;

--
-- Name: legal_hold_serialise(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.legal_hold_serialise() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform private.legal_hold_lock(new.org_id);
  return new;
end $$;

ALTER FUNCTION app.legal_hold_serialise() OWNER TO ward_definer;

--
-- Name: legal_holds_break_glass(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.legal_holds_break_glass() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  p record;
begin
  if coalesce((select me.break_glass from private.me() me), false) then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if tg_op = 'INSERT' and private.credential_hash() is not null then
    -- A pending credential resolves to no principal here: refused.
    select * into p from private.me();
    if p.kind is distinct from 'session' or p.org_id is distinct from new.org_id or p.role is distinct from 'admin' then
      raise exception 'forbidden: a legal hold is placed by an admin''s session' using errcode = '42501';
    end if;
    if p.aal < 2 or p.auth_time is null or p.auth_time < now() - interval '10 minutes' then
      raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
        hint = 'step_up_required';
    end if;
  end if;
  return new;
end $$;

ALTER FUNCTION app.legal_holds_break_glass() OWNER TO ward_definer;

--
-- Name: legal_holds_release(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.legal_holds_release() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if old.released_at is not null or new.released_at is null then
    return new;
  end if;
  -- (00335) a release is dated now, whatever the statement named.
  new.released_at := now();
  if private.credential_hash() is null then
    -- No credential: an operator's statement (ward_app binds one to
    -- every transaction it runs for a caller).
    return new;
  end if;
  -- A pending credential (a second factor or device binding still owed)
  -- resolves to no principal here: refused.
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.org_id is distinct from old.org_id or me.role is distinct from 'admin' then
    raise exception 'forbidden: a legal hold is released by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  return new;
end $$;

ALTER FUNCTION app.legal_holds_release() OWNER TO ward_definer;

--
-- Name: link_landing(bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.link_landing(p_token_hash bytea, OUT status text, OUT unbound boolean, OUT org_name text, OUT user_id uuid, OUT email_enc bytea, OUT signed_in text) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  l app.magic_links%rowtype;
  me record;
begin
  if octet_length(p_token_hash) is distinct from 32 then
    raise exception 'link_landing: the token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into l from app.magic_links x where x.token_hash = p_token_hash;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case
    when l.used_at is not null then 'used'
    when l.expires_at <= now() then 'expired'
    when not exists (select from app.memberships ms where ms.org_id = l.org_id and ms.user_id = l.user_id
                       and ms.revoked_at is null) then 'invalid'
    else 'ok' end;
  unbound := l.verifier_hash is null;
  if status <> 'ok' or not unbound then
    return;
  end if;
  select o.name into org_name from app.orgs o where o.id = l.org_id;
  user_id := l.user_id;
  select u.email_enc into email_enc from app.users u where u.id = l.user_id;
  select m.user_id into me from private.me_pending() m where m.kind = 'session';
  signed_in := case when me.user_id is null then 'none' when me.user_id = l.user_id then 'same' else 'other' end;
end $$;

ALTER FUNCTION app.link_landing(p_token_hash bytea, OUT status text, OUT unbound boolean, OUT org_name text, OUT user_id uuid, OUT email_enc bytea, OUT signed_in text) OWNER TO ward_definer;

--
-- Name: live_storage_keys(text[]); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.live_storage_keys(p_keys text[]) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select v.storage_key from app.document_versions v
   where v.storage_key = any (p_keys) and v.data_key is not null
  union
  -- an upload in flight (00186): claimed, touched within the hour
  select u.storage_key from app.document_uploads u
   where u.storage_key = any (p_keys) and u.touched_at > now() - interval '1 hour'
$$;

ALTER FUNCTION app.live_storage_keys(p_keys text[]) OWNER TO ward_definer;

--
-- Name: logout(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.logout(p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.session_id is null then
    return false;
  end if;
  -- The event first: after the update the credential names nobody.
  perform audit.append_as(me.org_id, 'session.revoke', 'success', 'session', me.session_id,
    p_request => p_request, p_actor => me.user_id, p_details => jsonb_build_object('reason', 'logout'));
  update app.sessions s set revoked_at = now(), revoked_reason = 'logout'
   where s.id = me.session_id and s.revoked_at is null;
  return true;
end $$;

ALTER FUNCTION app.logout(p_request text) OWNER TO ward_definer;

--
-- Name: member_recovery_codes_void(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.member_recovery_codes_void(p_user uuid, p_request text DEFAULT NULL::text, OUT status text, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  ended int;
  voided int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a member''s recovery codes are voided by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_user is null or p_user = me.user_id then
    status := 'self';
    return;
  end if;
  perform from app.memberships m where m.org_id = me.org_id and m.user_id = p_user and m.revoked_at is null;
  if not found then
    status := 'not_found';
    return;
  end if;
  -- One change of the member's set at a time (app.recovery_codes_generate
  -- takes the same lock), then the codes, locked before the sessions are
  -- read: a code being used (app.recovery_code_use) is waited for, and the
  -- session it raised is read below with recovery_code in its amr.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.recovery_codes.' || me.org_id::text || '.' || p_user::text, 0));
  perform from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user order by c.code_hash for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and s.amr @> array['recovery_code'];
  select count(*) into voided from app.recovery_codes c
   where c.org_id = me.org_id and c.user_id = p_user and c.used_at is null;
  perform audit.append_as(me.org_id, 'auth.mfa.reset', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('method', 'recovery_codes', 'sessions_ended', ended,
      'recovery_codes_voided', voided));
  update app.sessions s set revoked_at = now(), revoked_reason = 'recovery_codes_voided'
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and s.amr @> array['recovery_code'];
  delete from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user;
  select u.email_enc into email_enc from app.users u where u.id = p_user;
  status := 'ok';
end $$;

ALTER FUNCTION app.member_recovery_codes_void(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: member_totp_reset(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.member_totp_reset(p_user uuid, p_request text DEFAULT NULL::text, OUT status text, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  f app.totp_factors%rowtype;
  ended int;
  voided int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a member''s factor is reset by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_user is null or p_user = me.user_id then
    status := 'self';
    return;
  end if;
  perform from app.memberships m where m.org_id = me.org_id and m.user_id = p_user and m.revoked_at is null;
  if not found then
    status := 'not_found';
    return;
  end if;
  -- The member's passkeys, then their factor, as app.totp_delete locks them.
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = p_user order by k.id for update;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = p_user for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  -- (00297) the member's recovery codes, locked before their sessions are
  -- read: a code being used (app.recovery_code_use, which locks it) is
  -- waited for, and the session it raised is read below, with recovery_code
  -- in its amr; a use that comes after waits for this and finds no code.
  perform from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user order by c.code_hash for update;
  -- (00291) the sessions a voided recovery code opened end too.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and (s.amr @> array['totp'] or s.amr @> array['recovery_code']);
  select count(*) into voided from app.recovery_codes c
   where c.org_id = me.org_id and c.user_id = p_user and c.used_at is null;
  perform audit.append_as(me.org_id, 'auth.mfa.reset', 'success', 'user', p_user, p_request => p_request,
    p_details => jsonb_build_object('method', 'totp', 'confirmed', f.confirmed_at is not null,
      'sessions_ended', ended, 'recovery_codes_voided', voided));
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_reset'
   where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
     and (s.amr @> array['totp'] or s.amr @> array['recovery_code']);
  delete from app.totp_factors x where x.org_id = me.org_id and x.user_id = p_user;
  delete from app.recovery_codes c where c.org_id = me.org_id and c.user_id = p_user;
  select u.email_enc into email_enc from app.users u where u.id = p_user;
  status := 'ok';
end $$;

ALTER FUNCTION app.member_totp_reset(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: membership_revoked(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.membership_revoked() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  revoked boolean := old.revoked_at is null and new.revoked_at is not null;
  why text := case when revoked then 'member_revoked' else 'admin_role_removed' end;
  -- the SCIM token of the request, when the directory makes the change
  current_token uuid := (select me.credential_id from private.me() me where me.kind = 'scim_token');
  why_care text;
begin
  if revoked then
    for r in
      update app.case_members cm set revoked_at = now(), updated_at = now()
       where cm.org_id = new.org_id and cm.user_id = new.user_id and cm.revoked_at is null
      returning cm.org_id, cm.case_id, cm.user_id
    loop
      perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
        p_details => jsonb_build_object('revoked', true, 'reason', 'membership_revoked'));
    end loop;
    for r in
      update app.case_invites i set revoked_at = now()
        from app.users u
       where u.id = new.user_id and i.org_id = new.org_id and i.email_bidx = u.email_bidx
         and i.accepted_at is null and i.revoked_at is null
      returning i.org_id, i.id, i.case_id
    loop
      perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
        p_details => jsonb_build_object('reason', why));
    end loop;
    update app.magic_links l set used_at = now()
     where l.org_id = new.org_id and l.user_id = new.user_id and l.used_at is null;
    delete from app.passkeys k where k.org_id = new.org_id and k.user_id = new.user_id;
    delete from app.totp_factors f where f.org_id = new.org_id and f.user_id = new.user_id;
    delete from app.recovery_codes c where c.org_id = new.org_id and c.user_id = new.user_id;
    delete from app.break_glass_users b where b.org_id = new.org_id and b.user_id = new.user_id;
    why_care := 'membership_revoked';
  elsif old.role in ('provider', 'lead', 'admin') and new.role not in ('provider', 'lead', 'admin') then
    delete from app.break_glass_users b where b.org_id = new.org_id and b.user_id = new.user_id;
    for r in
      update app.case_members cm set revoked_at = now(), updated_at = now()
       where cm.org_id = new.org_id and cm.user_id = new.user_id and cm.kind = 'staff' and cm.revoked_at is null
      returning cm.org_id, cm.case_id, cm.user_id
    loop
      perform audit.append_as(r.org_id, 'case.member.set', 'success', 'user', r.user_id, p_case => r.case_id,
        p_details => jsonb_build_object('revoked', true, 'reason', 'role_changed'));
    end loop;
    why_care := 'role_changed';
  end if;
  -- Off the care team (00201): a revoked member, or one whose role no
  -- longer reads patients, keeps no assignment that a later re-admission
  -- or promotion would bring back unasked. Each row's removal is recorded
  -- as a lead's would be, and fires care_team_leave.
  if why_care is not null then
    for r in
      delete from app.care_team ct where ct.org_id = new.org_id and ct.provider_id = new.user_id
      returning ct.org_id, ct.provider_id, ct.patient_id
    loop
      perform audit.append_as(r.org_id, 'care_team.unassign', 'success', 'user', r.provider_id, p_patient => r.patient_id,
        p_details => jsonb_build_object('reason', why_care));
    end loop;
  end if;
  if revoked or (old.role = 'admin' and new.role <> 'admin') then
    for r in
      update app.api_keys k set revoked_at = now()
       where k.org_id = new.org_id and k.created_by = new.user_id and k.revoked_at is null
      returning k.org_id, k.id
    loop
      perform audit.append_as(r.org_id, 'auth.api_key.revoke', 'success', 'api_key', r.id,
        p_details => jsonb_build_object('reason', why));
    end loop;
    -- (00202) The SIEM streams the member configured pause: the org's
    -- whole audit log must not go on flowing to a destination that only
    -- the departed admin chose. Another admin re-enables one after
    -- checking where it points, and it answers to them from then on.
    for r in
      update app.audit_sinks s set enabled = false, paused_reason = why, updated_at = now()
       where s.org_id = new.org_id and s.created_by = new.user_id and s.enabled
      returning s.org_id, s.id
    loop
      perform audit.append_as(r.org_id, 'audit.sink.update', 'success', 'audit_sink', r.id,
        p_details => jsonb_build_object('enabled', false, 'reason', why));
    end loop;
    for r in
      update app.scim_tokens t set revoked_at = now()
       where t.org_id = new.org_id and t.created_by = new.user_id and t.revoked_at is null
         and t.id is distinct from current_token
      returning t.org_id, t.id
    loop
      perform audit.append_as(r.org_id, 'scim.token.revoke', 'success', 'scim_token', r.id,
        p_details => jsonb_build_object('reason', why));
    end loop;
  end if;
  return null;
end $$;

ALTER FUNCTION app.membership_revoked() OWNER TO ward_definer;

--
-- Name: note_email_domain(bytea, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) OWNER TO ward_definer;

--
-- Name: open_document_version(uuid, text, text, text, text, boolean); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.open_document_version(p_version uuid, p_purpose text DEFAULT NULL::text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, p_meta boolean DEFAULT false, OUT storage_key text, OUT data_key bytea, OUT size bigint, OUT document_id uuid, OUT case_id uuid, OUT version integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  me record;
  v app.document_versions%rowtype;
  c app.cases%rowtype;
  d app.documents%rowtype;
  stakeholder text;
  disclosure jsonb;
begin
  select * into me from private.me();
  if me.user_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into v from app.document_versions x where x.org_id = me.org_id and x.id = p_version;
  if found then
    select * into d from app.documents x where x.org_id = v.org_id and x.id = v.document_id and x.deleted_at is null;
    select * into c from app.cases x where x.org_id = v.org_id and x.id = v.case_id;
  end if;
  if v.id is null or d.id is null or v.data_key is null
     or not (private.am_i_lead_in_org(me.org_id) or v.case_id = any (private.my_case_ids('download'))) then
    -- The raise rolls the transaction back: the caller records the refusal
    -- in its own (internal/cases).
    raise exception 'not found' using errcode = 'P0002';
  end if;
  -- (00174) an outside party's grant discloses, whatever the role
  select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
   where cm.org_id = v.org_id and cm.case_id = v.case_id and cm.user_id = me.user_id and cm.kind <> 'staff';
  if stakeholder is not null or me.role = 'stakeholder' then
    disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                     'purpose', coalesce(nullif(audit.clean_text(p_purpose, 200), ''),
                                                         'case document exchange'));
  end if;
  if p_meta then
    -- Headers only (HEAD) or the client's copy is current (a matching
    -- If-None-Match): no content leaves, so this is no download. It is
    -- recorded as what it is, a read of the document's description
    -- (document.view; a disclosure to an outside party as a download
    -- would be), and no key is handed out, so the caller cannot serve
    -- content from it.
    perform audit.append_as(me.org_id, 'document.view', 'success', 'document', v.document_id,
      p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('version', v.version, 'content', false),
      p_disclosure => disclosure, p_case => v.case_id);
    size := v.size; document_id := v.document_id; case_id := v.case_id; version := v.version;
    return;
  end if;
  perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
    p_patient => c.patient_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('document', v.document_id, 'version', v.version),
    p_disclosure => disclosure, p_case => v.case_id);
  storage_key := v.storage_key; data_key := v.data_key; size := v.size;
  document_id := v.document_id; case_id := v.case_id; version := v.version;
end $$;

ALTER FUNCTION app.open_document_version(p_version uuid, p_purpose text, p_request text, p_ip text, p_ua text, p_meta boolean, OUT storage_key text, OUT data_key bytea, OUT size bigint, OUT document_id uuid, OUT case_id uuid, OUT version integer) OWNER TO ward_definer;

--
-- Name: open_patient_documents(uuid, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.open_patient_documents(p_patient uuid, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS TABLE(version_id uuid, storage_key text, data_key bytea)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  me record;
  lead boolean;
  mine uuid[];
  n int;
  v record;
begin
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' or me.role is null or me.role not in ('admin', 'patient')
     or (me.role = 'patient' and not p_patient = any (private.my_patient_ids())) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  lead := private.am_i_lead_in_org(me.org_id);
  mine := private.my_case_ids('download');
  select count(*) into n
    from app.cases c
    join app.documents d on d.org_id = c.org_id and d.case_id = c.id and d.deleted_at is null
    join app.document_versions x on x.org_id = d.org_id and x.document_id = d.id and x.data_key is not null
   where c.org_id = me.org_id and c.patient_id = p_patient and (lead or c.id = any (mine));
  if n > 10000 then
    raise exception 'more than 10,000 files' using errcode = '54000';
  end if;
  for v in
    select x.id, x.storage_key, x.data_key, x.document_id, x.case_id, x.version
      from app.cases c
      join app.documents d on d.org_id = c.org_id and d.case_id = c.id and d.deleted_at is null
      join app.document_versions x on x.org_id = d.org_id and x.document_id = d.id and x.data_key is not null
     where c.org_id = me.org_id and c.patient_id = p_patient and (lead or c.id = any (mine))
     order by c.created_at, c.id, d.created_at, d.id, x.version
  loop
    perform audit.append_as(me.org_id, 'document.download', 'success', 'document_version', v.id,
      p_patient => p_patient, p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('document', v.document_id, 'version', v.version, 'via', 'patient.export'),
      p_case => v.case_id);
    version_id := v.id; storage_key := v.storage_key; data_key := v.data_key;
    return next;
  end loop;
end $$;

ALTER FUNCTION app.open_patient_documents(p_patient uuid, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: ops_breach_revoke(uuid[], uuid[], uuid[], uuid[], text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text DEFAULT NULL::text) RETURNS TABLE(org_id uuid, sessions integer, api_keys integer, scim_tokens integer, case_invites integer, sign_in_links integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  o uuid;
  x record;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_breach_revoke: the operator''s revocation takes no credential' using errcode = '42501';
  end if;
  p_sessions := coalesce(p_sessions, '{}');
  p_users := coalesce(p_users, '{}');
  p_api_keys := coalesce(p_api_keys, '{}');
  p_scim_tokens := coalesce(p_scim_tokens, '{}');
  if cardinality(p_sessions) > 10000 or cardinality(p_users) > 10000 or cardinality(p_api_keys) > 10000
     or cardinality(p_scim_tokens) > 10000 then
    raise exception 'ops_breach_revoke: each list of credentials to revoke holds at most 10,000 ids' using errcode = '22023';
  end if;
  for o in
    select s.org_id from app.sessions s
     where s.revoked_at is null and (s.id = any (p_sessions) or s.user_id = any (p_users))
    union
    select k.org_id from app.api_keys k
     where k.revoked_at is null and (k.id = any (p_api_keys) or k.created_by = any (p_users))
    union
    select t.org_id from app.scim_tokens t
     where t.revoked_at is null and (t.id = any (p_scim_tokens) or t.created_by = any (p_users))
    union
    select i.org_id from app.case_invites i
     where i.revoked_at is null and i.accepted_at is null and i.created_by = any (p_users)
    union
    select l.org_id from app.magic_links l
     where l.used_at is null and l.expires_at > now() and l.user_id = any (p_users)
    order by 1
  loop
    select * into x from private.breach_end(o, p_sessions, p_users, p_api_keys, p_scim_tokens, p_request,
      jsonb_build_object('operator', true, 'by', session_user::text));
    if x.sessions + x.api_keys + x.scim_tokens + x.case_invites + x.sign_in_links = 0 then
      continue;
    end if;
    org_id := o; sessions := x.sessions; api_keys := x.api_keys; scim_tokens := x.scim_tokens;
    case_invites := x.case_invites; sign_in_links := x.sign_in_links;
    return next;
  end loop;
end $$;

ALTER FUNCTION app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text) OWNER TO ward_definer;

--
-- Name: ops_compliance_facts(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_compliance_facts() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  with pol as (select * from app.instance_policy limit 1),
  ids as (
    select o.id from app.orgs o
    union select k.org_id from private.keysets k
    union select h.org_id from audit.heads h
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
    'breach_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                         from audit.actions a where a.name in ('breach.scope', 'breach.revoke', 'document.purge')),
    'providers', coalesce((select jsonb_agg(jsonb_build_object(
        'name', g.name, 'baa_signed_at', g.baa_signed_at, 'baa_ref', g.baa_ref is not null,
        'zero_retention', g.zero_retention, 'models', cardinality(g.models), 'region', g.region,
        'enabled_by', (select count(*) from app.orgs o where g.name = any (o.gateway_providers)))
        order by g.name) from app.gateway_providers g), '[]'::jsonb),
    'orgs', coalesce((select jsonb_agg(private.compliance_org_facts(i.id) order by i.id) from ids i), '[]'::jsonb))
  from pol
$$;

ALTER FUNCTION app.ops_compliance_facts() OWNER TO ward_definer;

--
-- Name: ops_data_keys(uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_data_keys(p_org uuid, p_after uuid, p_limit integer) RETURNS TABLE(id uuid, data_key bytea)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select v.id, v.data_key from app.document_versions v
   where v.org_id = p_org and v.data_key is not null
     and (p_after is null or v.id > p_after)
   order by v.id
   limit least(greatest(p_limit, 1), 10000)
$$;

ALTER FUNCTION app.ops_data_keys(p_org uuid, p_after uuid, p_limit integer) OWNER TO ward_definer;

--
-- Name: ops_dsr_queue(uuid, integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_dsr_queue(p_org uuid DEFAULT NULL::uuid, p_limit integer DEFAULT 1000) RETURNS TABLE(org_id uuid, id uuid, kind text, received_at timestamp with time zone, due_at timestamp with time zone, extended boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_dsr_queue: the operator''s view takes no credential' using errcode = '42501';
  end if;
  return query
    select d.org_id, d.id, d.kind, d.received_at, d.due_at, d.extended_at is not null
      from app.dsr_requests d
     where d.status = 'open' and (p_org is null or d.org_id = p_org)
     order by d.due_at, d.org_id, d.id
     limit least(greatest(coalesce(p_limit, 1000), 1), 10000);
end $$;

ALTER FUNCTION app.ops_dsr_queue(p_org uuid, p_limit integer) OWNER TO ward_definer;

--
-- Name: ops_enable_gateway_provider(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_enable_gateway_provider(p_org uuid, p_provider text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  old text[];
begin
  if p_provider is null or p_provider !~ '^[a-z][a-z0-9_-]{0,31}$' then
    raise exception 'a provider is a registry name' using errcode = '22023';
  end if;
  select o.gateway_providers into old from app.orgs o where o.id = p_org for update;
  if not found then
    raise exception 'no such org' using errcode = 'P0002';
  end if;
  if p_provider = any (old) then
    return;
  end if;
  update app.orgs o set gateway_providers = (select array_agg(distinct x order by x) from unnest(old || p_provider) x)
   where o.id = p_org;
  perform audit.append_as(p_org, 'org.gateway_policy.update', 'success', 'org', p_org,
    p_details => jsonb_build_object('enabled_provider', p_provider, 'old_providers', to_jsonb(old),
                                    'by', session_user::text));
end $_$;

ALTER FUNCTION app.ops_enable_gateway_provider(p_org uuid, p_provider text) OWNER TO ward_definer;

--
-- Name: ops_keysets(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_keysets(p_org uuid DEFAULT NULL::uuid) RETURNS TABLE(org_id uuid, purpose text, wrapped bytea, created_at timestamp with time zone, rotated_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select k.org_id, k.purpose, k.wrapped, k.created_at, k.rotated_at
    from private.keysets k
   where k.purpose in ('aead', 'prf') and (p_org is null or k.org_id = p_org)
   order by k.org_id, k.purpose
$$;

ALTER FUNCTION app.ops_keysets(p_org uuid) OWNER TO ward_definer;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: legal_holds; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.legal_holds (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    patient_id uuid,
    reason text,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    released_at timestamp with time zone,
    case_id uuid,
    released_by uuid,
    release_note text,
    reason_enc bytea,
    release_note_enc bytea,
    CONSTRAINT legal_holds_one_scope CHECK ((num_nonnulls(patient_id, case_id) <= 1)),
    CONSTRAINT legal_holds_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 500))),
    CONSTRAINT legal_holds_reason_enc_check CHECK (((octet_length(reason_enc) >= 1) AND (octet_length(reason_enc) <= 4096))),
    CONSTRAINT legal_holds_reason_once CHECK ((num_nonnulls(reason, reason_enc) = 1)),
    CONSTRAINT legal_holds_release_check CHECK ((((released_at IS NULL) = (released_by IS NULL)) AND (num_nonnulls(release_note, release_note_enc) =
CASE
    WHEN (released_at IS NULL) THEN 0
    ELSE 1
END))),
    CONSTRAINT legal_holds_release_note_check CHECK (((length(release_note) >= 1) AND (length(release_note) <= 500))),
    CONSTRAINT legal_holds_release_note_enc_check CHECK (((octet_length(release_note_enc) >= 1) AND (octet_length(release_note_enc) <= 4096)))
);

ALTER TABLE ONLY app.legal_holds FORCE ROW LEVEL SECURITY;

ALTER TABLE app.legal_holds OWNER TO ward_owner;

--
-- Name: ops_legal_hold_clear_texts(uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit integer) RETURNS SETOF app.legal_holds
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select h.* from app.legal_holds h
    join app.orgs o on o.id = h.org_id
   where o.shredded_at is null
     and (h.reason is not null or h.release_note is not null)
     and (p_after_org is null or (h.org_id, h.id) > (p_after_org, coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')))
   order by h.org_id, h.id
   limit least(greatest(p_limit, 1), 1000)
$$;

ALTER FUNCTION app.ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit integer) OWNER TO ward_definer;

--
-- Name: ops_members(uuid, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_members(p_org uuid, p_email_bidx bytea) RETURNS TABLE(org_id uuid, user_id uuid, role text, member_since timestamp with time zone, revoked_at timestamp with time zone, passkeys integer, totp boolean, totp_locked_until timestamp with time zone, recovery_codes integer, live_sessions integer, last_sign_in timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.ops_members(p_org uuid, p_email_bidx bytea) OWNER TO ward_definer;

--
-- Name: ops_org_shred(uuid, text, boolean); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean DEFAULT true) RETURNS TABLE(name text, shredded_at timestamp with time zone, legal_holds integer, open_requests integer, patients integer, cases integer, documents integer, data_keys integer, keysets integer, members integer, sessions integer, api_keys integer, scim_tokens integer, audit_sinks integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  o record;
  entries integer;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_shred: the operator''s shred takes no credential' using errcode = '42501';
  end if;
  if p_org is null or p_name is null or p_dry_run is null then
    raise exception 'ops_org_shred: the org, its name and the dry run are required' using errcode = '22023';
  end if;
  -- The org's row lock orders the shred after any policy change or
  -- credential issued under it (those take it too, or insert rows the
  -- trigger above checks once this commits).
  select x.id, x.name, x.shredded_at into o from app.orgs x where x.id = p_org for update;
  if not found then
    raise exception 'ops_org_shred: no such org' using errcode = 'P0002', hint = 'no_such_org';
  end if;
  if o.name is distinct from p_name then
    raise exception 'ops_org_shred: the name given is not the org''s name' using errcode = '22023',
      hint = 'name_mismatch';
  end if;
  name := o.name;
  shredded_at := o.shredded_at;
  legal_holds := (select count(*) from app.legal_holds h where h.org_id = p_org and h.released_at is null);
  open_requests := (select count(*) from app.dsr_requests d where d.org_id = p_org and d.status = 'open');
  patients := (select count(*) from app.patients p where p.org_id = p_org);
  cases := (select count(*) from app.cases c where c.org_id = p_org);
  documents := (select count(*) from app.documents d where d.org_id = p_org);
  data_keys := (select count(*) from app.document_versions v where v.org_id = p_org and v.data_key is not null);
  keysets := (select count(*) from private.keysets k where k.org_id = p_org);
  members := (select count(*) from app.memberships m where m.org_id = p_org and m.revoked_at is null);
  sessions := (select count(*) from app.sessions s where s.org_id = p_org and s.revoked_at is null
                  and s.absolute_expires_at > now());
  api_keys := (select count(*) from app.api_keys k where k.org_id = p_org and k.revoked_at is null);
  scim_tokens := (select count(*) from app.scim_tokens t where t.org_id = p_org and t.revoked_at is null);
  audit_sinks := (select count(*) from app.audit_sinks s where s.org_id = p_org and s.enabled);
  if p_dry_run then
    return next;
    return;
  end if;
  if o.shredded_at is not null then
    raise exception 'ops_org_shred: the org was shredded at %', o.shredded_at using errcode = '55000',
      hint = 'org_shredded';
  end if;
  if legal_holds > 0 then
    raise exception 'ops_org_shred: % legal hold(s) of the org are live; release them first', legal_holds
      using errcode = '55000', hint = 'legal_hold';
  end if;
  if open_requests > 0 then
    raise exception 'ops_org_shred: % data-subject request(s) of the org are open; close them first', open_requests
      using errcode = '55000', hint = 'open_requests';
  end if;

  -- The event first, while the org is whole: what was destroyed, by whom.
  entries := (select count(*) from app.clinical_entries e where e.org_id = p_org);
  perform audit.append_as(p_org, 'org.shred', 'success', 'org', p_org,
    p_details => jsonb_build_object('operator', true, 'by', session_user::text, 'patients', patients,
      'cases', cases, 'documents', documents, 'data_keys', data_keys, 'keysets', keysets, 'members', members,
      'sessions', sessions, 'api_keys', api_keys, 'scim_tokens', scim_tokens, 'audit_sinks', audit_sinks,
      'clinical_entries', entries));
  -- Each membership ends as any revocation does (the membership trigger:
  -- case access, invitations, sign-in links, factors, API keys, paused
  -- sinks, each audited), then whatever is left of the org's credentials.
  update app.memberships m set revoked_at = now(), revoked_via = 'shred', revoked_by = null
   where m.org_id = p_org and m.revoked_at is null;
  update app.sessions s set revoked_at = now(), revoked_reason = 'org_shredded'
   where s.org_id = p_org and s.revoked_at is null;
  update app.api_keys k set revoked_at = now() where k.org_id = p_org and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now() where t.org_id = p_org and t.revoked_at is null;
  update app.case_invites i set revoked_at = now()
   where i.org_id = p_org and i.revoked_at is null and i.accepted_at is null;
  update app.magic_links l set used_at = now() where l.org_id = p_org and l.used_at is null;
  update app.audit_sinks s set enabled = false, paused_reason = null, updated_at = now()
   where s.org_id = p_org and s.enabled;
  -- The destruction: every wrapped data key, then the keysets that
  -- wrapped them and sealed every PHI column and blind index.
  update app.document_versions v set data_key = null where v.org_id = p_org and v.data_key is not null;
  -- What no key sealed: a clinical entry's name, value, unit, nutrients
  -- and the time it was observed are in the clear (its note is sealed).
  -- Overwritten: the entry stays (an amendment may name it) and says only
  -- its kind and when it was recorded, as the audit log does.
  update app.clinical_entries e
     set name = 'shredded', value = null, unit = null, kcal = null, protein_g = null, carbs_g = null,
         fat_g = null, observed_at = e.created_at
   where e.org_id = p_org;
  -- A legal hold's reason and release note are sealed (00280), but a
  -- hold written before then holds them in the clear until `ward
  -- migrate` seals them: overwritten, as an entry's name is.
  update app.legal_holds h
     set reason = case when h.reason is null then null else 'shredded' end,
         release_note = case when h.release_note is null then null else 'shredded' end
   where h.org_id = p_org and (h.reason is not null or h.release_note is not null);
  delete from private.keysets k where k.org_id = p_org;
  update app.orgs x set shredded_at = now(), gateway_providers = '{}', gateway_models = '{}' where x.id = p_org;
  perform pg_catalog.pg_notify('ward_keys', p_org::text);
  shredded_at := now();
  return next;
end $$;

ALTER FUNCTION app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean) OWNER TO ward_definer;

--
-- Name: ops_org_shred_erase(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_org_shred_erase(p_org uuid) RETURNS TABLE(users integer, invitations integer, secrets integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  o record;
  n integer;
  ids uuid[];
  bidx bytea[];
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_shred_erase: the operator''s erasure takes no credential' using errcode = '42501';
  end if;
  if p_org is null then
    raise exception 'ops_org_shred_erase: the org is required' using errcode = '22023';
  end if;
  select x.id, x.shredded_at into o from app.orgs x where x.id = p_org for update;
  if not found then
    raise exception 'ops_org_shred_erase: no such org' using errcode = 'P0002', hint = 'no_such_org';
  end if;
  if o.shredded_at is null then
    raise exception 'ops_org_shred_erase: the org is not shredded' using errcode = '55000', hint = 'not_shredded';
  end if;

  -- The people only shredded orgs knew, locked (a membership added
  -- elsewhere meanwhile waits, then finds the address erased and is
  -- refused). An erased address is an empty ciphertext, which no live
  -- row holds.
  select coalesce(array_agg(u.id), '{}'), coalesce(array_agg(u.email_bidx), '{}') into ids, bidx
    from (select u.id, u.email_bidx from app.users u
           where u.id in (select m.user_id from app.memberships m where m.org_id = p_org
                          union select i.invitee_id from app.case_invites i where i.org_id = p_org)
             and octet_length(u.email_enc) > 0 and not app.user_known_live(u.id)
           order by u.id
             for update) u;
  update app.users u
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
   where u.id = any (ids);
  get diagnostics n = row_count;
  users := n;

  select bidx || coalesce(array_agg(i.email_bidx), '{}') into bidx from app.case_invites i
   where i.org_id = p_org and octet_length(i.email_enc) > 0;
  update app.case_invites i
     set email_enc = '\x'::bytea,
         email_bidx = pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
   where i.org_id = p_org and octet_length(i.email_enc) > 0;
  get diagnostics n = row_count;
  invitations := n;
  -- The SSO domain index of the erased addresses, where no live address
  -- (a user's, an invitation's) is the same.
  delete from app.email_domains e
   where e.email_bidx = any (bidx)
     and not exists (select 1 from app.users u where u.email_bidx = e.email_bidx)
     and not exists (select 1 from app.case_invites i where i.email_bidx = e.email_bidx);

  update app.audit_sinks s
     set secret_enc = case when s.kind = 'syslog' then null else '\x'::bytea end, prev_secret_enc = null
   where s.org_id = p_org and (octet_length(s.secret_enc) > 0 or s.prev_secret_enc is not null);
  get diagnostics n = row_count;
  secrets := n;
  update app.sso_connections c set client_secret_enc = null
   where c.org_id = p_org and c.client_secret_enc is not null;
  get diagnostics n = row_count;
  secrets := secrets + n;

  if users + invitations + secrets > 0 then
    perform audit.append_as(p_org, 'org.shred_erase', 'success', 'org', p_org,
      p_details => jsonb_build_object('operator', true, 'by', session_user::text, 'users', users,
        'invitations', invitations, 'secrets', secrets));
  end if;
  return next;
end $$;

ALTER FUNCTION app.ops_org_shred_erase(p_org uuid) OWNER TO ward_definer;

--
-- Name: ops_org_state(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_org_state(p_org uuid) RETURNS TABLE(id uuid, name text, shredded_at timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_org_state: the operator''s look-up takes no credential' using errcode = '42501';
  end if;
  -- p_org null: every org.
  return query
    select o.id, o.name, o.shredded_at
      from app.orgs o
     where p_org is null or o.id = p_org
     order by o.created_at, o.id;
end $$;

ALTER FUNCTION app.ops_org_state(p_org uuid) OWNER TO ward_definer;

--
-- Name: ops_orgs(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_orgs() RETURNS TABLE(id uuid, name text, created_at timestamp with time zone, members integer, admins integer, patients integer, require_mfa boolean, require_passkey boolean, enforce_sso boolean, idle_timeout_min integer, absolute_max_min integer, shredded_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_orgs: the operator''s list takes no credential' using errcode = '42501';
  end if;
  return query
    select o.id, o.name, o.created_at,
           (select count(*)::integer from app.memberships m where m.org_id = o.id and m.revoked_at is null),
           (select count(*)::integer from app.memberships m
             where m.org_id = o.id and m.revoked_at is null and m.role = 'admin'),
           (select count(*)::integer from app.patients p where p.org_id = o.id),
           o.require_mfa, o.require_passkey, o.enforce_sso, o.session_idle_timeout_min, o.session_absolute_max_min,
           o.shredded_at
      from app.orgs o
     order by o.created_at, o.id
     limit 10000;
end $$;

ALTER FUNCTION app.ops_orgs() OWNER TO ward_definer;

--
-- Name: ops_patient_key(uuid, uuid, bytea, text[], uuid[], text[], bytea[], bytea[]); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[], p_columns text[], p_old bytea[], p_new bytea[]) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  n integer := coalesce(cardinality(p_tables), 0);
begin
  perform private.patient_key_lock(p_org, p_patient);
  if p_keyset is null or octet_length(p_keyset) not between 1 and 4096 then
    raise exception 'ops_patient_key: the wrapped keyset is required' using errcode = '22023';
  end if;
  if n <> coalesce(cardinality(p_rows), 0) or n <> coalesce(cardinality(p_columns), 0)
     or n <> coalesce(cardinality(p_old), 0) or n <> coalesce(cardinality(p_new), 0) then
    raise exception 'ops_patient_key: tables, rows, columns, old and new values differ in number' using errcode = '22023';
  end if;
  if exists (select from unnest(p_old, p_new) c(o, v)
              where v is null or octet_length(v) not between 1 and 65536 or v = o) then
    raise exception 'ops_patient_key: a value sealed again is empty or unchanged' using errcode = '22023';
  end if;
  if (select count(distinct (t, r, c)) from unnest(p_tables, p_rows, p_columns) x(t, r, c)) <> n then
    raise exception 'ops_patient_key: a cell is named twice' using errcode = '22023';
  end if;
  -- Exactly the patient's sealed cells, each as it was read.
  if exists ((select * from private.patient_sealed_cells(p_org, p_patient)
              except select * from unnest(p_tables, p_rows, p_columns, p_old))
             union all
             (select * from unnest(p_tables, p_rows, p_columns, p_old)
              except select * from private.patient_sealed_cells(p_org, p_patient))) then
    raise exception 'ops_patient_key: the record changed since it was read' using errcode = '40001';
  end if;

  update app.patients x
     set keyset = p_keyset,
         name_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                               where c.t = 'patients' and c.col = 'name'), x.name_enc),
         dob_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                              where c.t = 'patients' and c.col = 'dob'), x.dob_enc),
         phone_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                where c.t = 'patients' and c.col = 'phone'), x.phone_enc),
         email_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                where c.t = 'patients' and c.col = 'email'), x.email_enc),
         address_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                  where c.t = 'patients' and c.col = 'address'), x.address_enc),
         identifiers_enc = coalesce((select c.v from unnest(p_tables, p_columns, p_new) c(t, col, v)
                                      where c.t = 'patients' and c.col = 'identifiers'), x.identifiers_enc)
   where x.org_id = p_org and x.id = p_patient;
  update app.clinical_entries e set note_enc = c.v
    from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
   where c.t = 'clinical_entries' and c.col = 'note' and e.org_id = p_org and e.patient_id = p_patient and e.id = c.r;
  update app.record_amendments a
     set request_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                  where c.t = 'record_amendments' and c.r = a.id and c.col = 'request'), a.request_enc),
         decision_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                   where c.t = 'record_amendments' and c.r = a.id and c.col = 'decision'), a.decision_enc),
         disagreement_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                       where c.t = 'record_amendments' and c.r = a.id and c.col = 'disagreement'),
                                     a.disagreement_enc),
         rebuttal_enc = coalesce((select c.v from unnest(p_tables, p_rows, p_columns, p_new) c(t, r, col, v)
                                   where c.t = 'record_amendments' and c.r = a.id and c.col = 'rebuttal'), a.rebuttal_enc)
   where a.org_id = p_org and a.patient_id = p_patient
     and a.id in (select c.r from unnest(p_tables, p_rows) c(t, r) where c.t = 'record_amendments');
  -- Nothing left as it was read: every cell holds its new value.
  if exists (select from unnest(p_tables, p_rows, p_columns, p_new) x(t, r, c, v)
              where not exists (select from private.patient_sealed_cells(p_org, p_patient) s
                                 where s.tbl = x.t and s.row_id = x.r and s.col = x.c and s.sealed = x.v)) then
    raise exception 'ops_patient_key: a cell was not sealed again' using errcode = 'XX000';
  end if;
  insert into private.patient_keyings (org_id, patient_id) values (p_org, p_patient);
  return n;
end $$;

ALTER FUNCTION app.ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[], p_columns text[], p_old bytea[], p_new bytea[]) OWNER TO ward_definer;

--
-- Name: ops_patient_key_cells(uuid, uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_patient_key_cells(p_org uuid, p_patient uuid) RETURNS TABLE(tbl text, row_id uuid, col text, sealed bytea)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform private.patient_key_lock(p_org, p_patient);
  -- A statement after the lock: what a writer that held the row before
  -- committed is seen.
  return query select * from private.patient_sealed_cells(p_org, p_patient) c order by c.tbl, c.row_id, c.col;
end $$;

ALTER FUNCTION app.ops_patient_key_cells(p_org uuid, p_patient uuid) OWNER TO ward_definer;

--
-- Name: ops_patient_key_record(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_patient_key_record(p_org uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  o uuid;
  n integer;
  total integer := 0;
begin
  if private.credential_hash() is not null then
    raise exception 'ops_patient_key_record: the operator''s, taking no credential' using errcode = '42501';
  end if;
  for o in select distinct k.org_id from private.patient_keyings k
            where p_org is null or k.org_id = p_org order by k.org_id loop
    with gone as (delete from private.patient_keyings k where k.org_id = o returning 1)
    select count(*) into n from gone;
    if n > 0 and exists (select from app.orgs x where x.id = o and x.shredded_at is null) then
      perform audit.append_as(o, 'patient.key', 'success', 'org', o,
        p_details => jsonb_build_object('patients', n, 'by', session_user::text));
    end if;
    total := total + n;
  end loop;
  return total;
end $$;

ALTER FUNCTION app.ops_patient_key_record(p_org uuid) OWNER TO ward_definer;

--
-- Name: ops_replace_keyset(uuid, text, bytea, bytea, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
  -- Every node drops its cached keys of the org (docs/operations.md).
  perform pg_catalog.pg_notify('ward_keys', p_org::text);
  return true;
end $$;

ALTER FUNCTION app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text) OWNER TO ward_definer;

--
-- Name: ops_rewrap_data_keys(uuid, uuid[], bytea[], bytea[]); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[]) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  n int;
begin
  if cardinality(p_ids) is distinct from cardinality(p_old) or cardinality(p_ids) is distinct from cardinality(p_new) then
    raise exception 'ops_rewrap_data_keys: ids, old and new keys differ in number' using errcode = '22023';
  end if;
  if cardinality(p_ids) > 10000 then
    raise exception 'ops_rewrap_data_keys: at most 10000 keys a call' using errcode = '22023';
  end if;
  if exists (select from unnest(p_new) x where x is null or octet_length(x) = 0) then
    raise exception 'ops_rewrap_data_keys: a new data key is empty' using errcode = '22023';
  end if;
  update app.document_versions v set data_key = r.new
    from unnest(p_ids, p_old, p_new) as r(id, old, new)
   where v.org_id = p_org and v.id = r.id and v.data_key = r.old;
  get diagnostics n = row_count;
  if n > 0 then
    perform audit.append_as(p_org, 'keys.data_keys.rewrap', 'success', 'keyset', p_org,
      p_details => jsonb_build_object('count', n, 'by', session_user::text));
  end if;
  return n;
end $$;

ALTER FUNCTION app.ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[]) OWNER TO ward_definer;

--
-- Name: ops_seal_legal_hold(uuid, uuid, text, bytea, text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea, p_note text, p_note_enc bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  n int := 0;
  m int := 0;
begin
  if p_org is null or p_id is null then
    raise exception 'ops_seal_legal_hold: the org and the hold are required' using errcode = '22023';
  end if;
  if (p_reason is null) <> (p_reason_enc is null) or (p_note is null) <> (p_note_enc is null) then
    raise exception 'ops_seal_legal_hold: each text comes with its sealed form' using errcode = '22023';
  end if;
  -- The org's row, shared: a shred (which takes it for update) is either
  -- done, and its overwrite is what the rows below no longer match, or
  -- waits for this.
  perform from app.orgs o where o.id = p_org and o.shredded_at is null for key share;
  if not found then
    return false;
  end if;
  if p_reason is not null then
    update app.legal_holds h set reason_enc = p_reason_enc, reason = null
     where h.org_id = p_org and h.id = p_id and h.reason = p_reason;
    get diagnostics n = row_count;
  end if;
  if p_note is not null then
    update app.legal_holds h set release_note_enc = p_note_enc, release_note = null
     where h.org_id = p_org and h.id = p_id and h.release_note = p_note;
    get diagnostics m = row_count;
  end if;
  return n + m > 0;
end $$;

ALTER FUNCTION app.ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea, p_note text, p_note_enc bytea) OWNER TO ward_definer;

--
-- Name: ops_unkeyed_patients(uuid, uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit integer) RETURNS TABLE(org_id uuid, id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.credential_hash() is not null then
    raise exception 'ops_unkeyed_patients: the operator''s list takes no credential' using errcode = '42501';
  end if;
  return query
    select p.org_id, p.id from app.patients p
      join app.orgs o on o.id = p.org_id
     where o.shredded_at is null and p.keyset is null and p.shredded_at is null
       and (p_org is null or p.org_id = p_org)
       and (p_after_org is null
            or (p.org_id, p.id) > (p_after_org, coalesce(p_after_id, '00000000-0000-0000-0000-000000000000')))
     order by p.org_id, p.id
     limit least(greatest(p_limit, 1), 1000);
end $$;

ALTER FUNCTION app.ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit integer) OWNER TO ward_definer;

--
-- Name: org_compliance_facts(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.org_compliance_facts(p_request text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  facts jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: an org''s compliance facts are read by its admin''s session' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records, not the org''s security posture'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  with pol as (select * from app.instance_policy limit 1)
  select jsonb_build_object(
    'now', now(),
    'instance_policy', jsonb_build_object(
        'link_ttl_min', p.link_ttl_min, 'session_idle_max_min', p.session_idle_max_min,
        'session_absolute_max_min', p.session_absolute_max_min,
        'link_max_per_address', p.link_max_per_address, 'link_max_per_source', p.link_max_per_source),
    'admin_bar', private.assurance_bar('admin', false, false),
    'auth_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                       from audit.actions a where a.name like 'auth.%'),
    'breach_actions', (select coalesce(jsonb_agg(a.name order by a.name), '[]'::jsonb)
                         from audit.actions a where a.name in ('breach.scope', 'breach.revoke', 'document.purge')),
    'providers', coalesce((select jsonb_agg(jsonb_build_object(
        'name', g.name, 'baa_signed_at', g.baa_signed_at, 'baa_ref', g.baa_ref is not null,
        'zero_retention', g.zero_retention, 'models', cardinality(g.models), 'region', g.region,
        'enabled_by', 1)
        order by g.name)
        from app.gateway_providers g
       where exists (select from app.orgs o where o.id = me.org_id and g.name = any (o.gateway_providers))), '[]'::jsonb),
    'orgs', jsonb_build_array(private.compliance_org_facts(me.org_id)))
    into facts
    from pol p;
  if facts is null then
    raise exception 'the instance policy row is missing (run ward migrate)' using errcode = '55000';
  end if;
  perform audit.append_as(me.org_id, 'org.compliance.read', 'success', 'org', me.org_id, p_request => p_request);
  return facts;
end $$;

ALTER FUNCTION app.org_compliance_facts(p_request text) OWNER TO ward_definer;

--
-- Name: org_keyset(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea) RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if p_org <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
     and p_org is distinct from (select m.org_id from private.me_pending_cached() m) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select k.purpose, k.wrapped from private.keysets k where k.org_id = p_org;
end $$;

ALTER FUNCTION app.org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea) OWNER TO ward_definer;

--
-- Name: org_shredded_sso(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.org_shredded_sso() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform app.sso_release_shredded(new.id);
  return null;
end $$;

ALTER FUNCTION app.org_shredded_sso() OWNER TO ward_definer;

--
-- Name: own_email(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.own_email() RETURNS bytea
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select u.email_enc from app.users u
   where u.id = (select m.user_id from private.me_factor() m where m.kind = 'session')
$$;

ALTER FUNCTION app.own_email() OWNER TO ward_definer;

--
-- Name: passkey_assert(bytea, bytea, bytea, bytea, bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea DEFAULT NULL::bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin,verify}');
  s app.sessions%rowtype;
  k app.passkeys%rowtype;
  a record;
  o app.orgs%rowtype;
  pol app.instance_policy%rowtype;
  action text := case c.purpose when 'signin' then 'auth.signin' else 'auth.mfa.verify' end;
  r record;
begin
  if c.purpose = 'signin' and octet_length(p_session_hash) is distinct from 32 then
    raise exception 'passkey_assert: a sign-in needs a 32-byte session hash' using errcode = '22023';
  end if;
  if c.session_id is not null then
    select * into s from app.sessions x where x.id = c.session_id;
  end if;
  select x.* into k from app.passkeys x
    join app.memberships m on m.org_id = x.org_id and m.user_id = x.user_id and m.revoked_at is null
   where x.credential_id = p_credential_id
     and (c.session_id is null or (x.org_id = s.org_id and x.user_id = s.user_id))
     for update of x;
  if not found then
    raise exception 'forbidden: no such passkey for this ceremony' using errcode = '42501';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.get', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.backup_eligible <> k.backup_eligible then 'invalid'
    when (a.sign_count <> 0 or k.sign_count <> 0) and a.sign_count <= k.sign_count then 'sign_count'
    else 'ok' end;
  if status = 'sign_count' then
    perform audit.append_as(k.org_id, 'auth.passkey.sign_count_regression', 'denied', 'passkey', k.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('stored', k.sign_count, 'presented', a.sign_count, 'purpose', c.purpose));
  end if;
  if status <> 'ok' then
    perform audit.append_as(k.org_id, action, 'denied', case when s.id is not null then 'session' else 'user' end,
      coalesce(s.id, k.user_id), p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status, 'passkey', k.id));
    return;
  end if;
  update app.passkeys x set sign_count = a.sign_count, backup_state = a.backup_state, last_used_at = now()
   where x.org_id = k.org_id and x.id = k.id;
  user_id := k.user_id; org_id := k.org_id;
  if c.purpose = 'verify' then
    -- (00292) the first passkey that steps a session up binds it, as a
    -- passkey sign-in does: its deletion ends the session. (00305) every
    -- later one binds it too (step_up_passkey_ids): the deletion of any
    -- passkey that stepped the session up ends it.
    update app.sessions x set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct v order by v) from unnest(x.amr || array['passkey']) v),
           passkey_id = coalesce(x.passkey_id, k.id),
           step_up_passkey_ids = case
             when x.passkey_id is null or x.passkey_id = k.id or x.step_up_passkey_ids @> array[k.id]
               then x.step_up_passkey_ids
             else x.step_up_passkey_ids || k.id end
     where x.id = s.id
    returning x.id, x.absolute_expires_at, x.idle_timeout_min into session_id, absolute_expires_at, idle_timeout_min;
    perform audit.append_as(k.org_id, 'auth.mfa.verify', 'success', 'session', s.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'result', 'ok', 'passkey', k.id, 'uv', true));
    return;
  end if;
  select * into o from app.orgs x where x.id = k.org_id;
  select * into pol from app.instance_policy;
  idle_timeout_min := least(o.session_idle_timeout_min, pol.session_idle_max_min);
  absolute_expires_at := now() + make_interval(mins => least(o.session_absolute_max_min, pol.session_absolute_max_min));
  select * into r from private.signin_risk(k.org_id, k.user_id, p_ip::inet, p_ua, null);
  insert into app.sessions (org_id, user_id, token_hash, idle_timeout_min, absolute_expires_at, user_agent, ip,
                            assurance, amr, authenticated_at, risk_score, passkey_id)
  values (k.org_id, k.user_id, p_session_hash, idle_timeout_min, absolute_expires_at,
          audit.clean_text(p_ua, 256), p_ip::inet, 2, '{passkey}', now(), least(r.score, 200), k.id)
  returning id into session_id;
  perform audit.append_as(k.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => k.user_id,
    p_details => jsonb_build_object('method', 'passkey', 'aal', 2, 'uv', true, 'passkey', k.id,
                                    'risk', jsonb_build_object('score', r.score, 'reasons', to_jsonb(r.reasons),
                                                               'signals', r.signals, 'threshold', o.risk_threshold,
                                                               'step_up', null)));
end $$;

ALTER FUNCTION app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) OWNER TO ward_definer;

--
-- Name: passkey_begin(text, text, text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea DEFAULT NULL::bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if p_purpose is null or p_purpose not in ('register', 'signin', 'verify') then
    raise exception 'passkey_begin: purpose is register, signin or verify' using errcode = '22023';
  end if;
  if p_rp_id is null or p_origin is null then
    raise exception 'passkey_begin: the RP ID and origin are required' using errcode = '22023';
  end if;
  delete from app.passkey_challenges c where c.expires_at < now() - interval '1 hour';
  challenge := ext.gen_random_bytes(32);
  expires_at := now() + interval '5 minutes';
  if p_purpose = 'signin' then
    if octet_length(p_binder_hash) is distinct from 32 then
      raise exception 'passkey_begin: a sign-in is bound to a 32-byte binder hash' using errcode = '22023';
    end if;
    insert into app.passkey_challenges (challenge, purpose, binder_hash, rp_id, origin, expires_at)
    values (challenge, 'signin', p_binder_hash, p_rp_id, p_origin, expires_at);
    return;
  end if;
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_purpose = 'register' and private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  -- Another passkey after a passkey: only a passkey vouches for it (a TOTP
  -- code is phishable, and require_passkey exists to refuse that).
  if p_purpose = 'register' and exists (select from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id)
     and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'step-up required: present one of your passkeys first' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if p_purpose = 'register' and private.passkey_has_factor(me.org_id, me.user_id)
     and exists (select from app.sessions s where s.id = me.session_id and s.step_up = 'passkey') then
    raise exception 'step-up required: this sign-in needs one of your passkeys, not a new one' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if p_purpose = 'register' and me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select coalesce(array_agg(k.credential_id order by k.created_at), '{}') into credential_ids
    from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id;
  if p_purpose = 'verify' and cardinality(credential_ids) = 0 then
    raise exception 'no passkey' using errcode = 'P0002';
  end if;
  user_handle := private.webauthn_user_handle(me.org_id, me.user_id);
  if p_purpose = 'register' then
    select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  end if;
  insert into app.passkey_challenges (challenge, purpose, org_id, session_id, rp_id, origin, expires_at)
  values (challenge, p_purpose, me.org_id, me.session_id, p_rp_id, p_origin, expires_at);
end $$;

ALTER FUNCTION app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone) OWNER TO ward_definer;

--
-- Name: passkey_credential(bytea, bytea, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea, OUT id uuid, OUT org_id uuid, OUT user_id uuid, OUT public_key bytea, OUT sign_count bigint, OUT backup_eligible boolean, OUT backup_state boolean, OUT aaguid uuid) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{signin,verify}');
begin
  select k.id, k.org_id, k.user_id, k.public_key, k.sign_count, k.backup_eligible, k.backup_state, k.aaguid
    into id, org_id, user_id, public_key, sign_count, backup_eligible, backup_state, aaguid
    from app.passkeys k
    join app.memberships m on m.org_id = k.org_id and m.user_id = k.user_id and m.revoked_at is null
    left join app.sessions s on s.id = c.session_id
   where k.credential_id = p_credential_id
     and private.webauthn_user_handle(k.org_id, k.user_id) = p_user_handle
     and (c.session_id is null or (s.org_id = k.org_id and s.user_id = k.user_id));
end $$;

ALTER FUNCTION app.passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea, OUT id uuid, OUT org_id uuid, OUT user_id uuid, OUT public_key bytea, OUT sign_count bigint, OUT backup_eligible boolean, OUT backup_state boolean, OUT aaguid uuid) OWNER TO ward_definer;

--
-- Name: passkey_delete(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_delete(p_id uuid, p_request text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  left_passkeys int;
  has_totp boolean;
  ended int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  -- Every passkey of the member, locked in one order: two deletions of
  -- the member's passkeys take turns, so the second counts what the first
  -- left (each counting the other's passkey as left let both through, and
  -- the member kept no factor).
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id order by k.id for update;
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
  if not found then
    return 'not_found';
  end if;
  select * into o from app.orgs x where x.id = me.org_id;
  bar := private.assurance_bar(me.role, o.require_mfa, o.require_passkey);
  select count(*) into left_passkeys from app.passkeys k
   where k.org_id = me.org_id and k.user_id = me.user_id and k.id <> p_id;
  select exists (select from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id
                   and f.confirmed_at is not null) into has_totp;
  if left_passkeys = 0 and (bar = 'passkey' or (bar = 'mfa' and not has_totp)) then
    perform audit.append_as(me.org_id, 'auth.passkey.delete', 'denied', 'passkey', p_id, p_request => p_request,
      p_details => jsonb_build_object('reason', 'last_factor', 'bar', bar));
    return 'last_factor';
  end if;
  -- Audited first: the caller's own session may be one of those it ends.
  -- (00305) the sessions it signed in or stepped up, first or later.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and (s.passkey_id = p_id or s.step_up_passkey_ids @> array[p_id])
     and s.revoked_at is null;
  perform audit.append_as(me.org_id, 'auth.passkey.delete', 'success', 'passkey', p_id, p_request => p_request,
    p_details => jsonb_build_object('passkeys_left', left_passkeys, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'passkey_deleted'
   where s.org_id = me.org_id and (s.passkey_id = p_id or s.step_up_passkey_ids @> array[p_id])
     and s.revoked_at is null;
  delete from app.passkeys k where k.org_id = me.org_id and k.id = p_id;
  return 'ok';
end $$;

ALTER FUNCTION app.passkey_delete(p_id uuid, p_request text) OWNER TO ward_definer;

--
-- Name: passkey_refuse(bytea, bytea, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{register,signin,verify}');
  k app.passkeys%rowtype;
  s app.sessions%rowtype;
begin
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'passkey_refuse: the reason is one lower-case word' using errcode = '22023';
  end if;
  if c.session_id is not null then
    select * into s from app.sessions x where x.id = c.session_id;
  else
    select * into k from app.passkeys x where x.credential_id = p_credential_id;
  end if;
  perform audit.append_as(coalesce(s.org_id, k.org_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid),
    case c.purpose when 'register' then 'auth.passkey.register' when 'verify' then 'auth.mfa.verify'
                   else 'auth.signin' end,
    'denied', case when s.id is not null then 'session' when k.id is not null then 'user' end,
    coalesce(s.id, k.user_id), p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_actor => coalesce(s.user_id, k.user_id),
    p_details => jsonb_build_object('method', 'passkey', 'reason', p_reason));
end $_$;

ALTER FUNCTION app.passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: passkey_register(bytea, bytea, bytea, bytea, text, text[], text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT passkey_id uuid) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype := private.passkey_spent(p_challenge, '{register}');
  me record;
  a record;
begin
  select * into me from private.me_factor();
  if me.session_id is distinct from c.session_id then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if private.passkey_has_factor(me.org_id, me.user_id) and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if exists (select from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id)
     and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'step-up required: present one of your passkeys first' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if private.passkey_has_factor(me.org_id, me.user_id)
     and exists (select from app.sessions s where s.id = me.session_id and s.step_up = 'passkey') then
    raise exception 'step-up required: this sign-in needs one of your passkeys, not a new one' using errcode = '42501',
      hint = 'passkey_step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into a from private.webauthn_auth_data(p_auth_data, c.rp_id);
  status := case
    when not private.webauthn_client_data(p_client_data, 'webauthn.create', c.challenge, c.origin) then 'invalid'
    when not a.ok or a.credential_id is null or p_public_key is null
      or substring(p_auth_data from a.key_offset for octet_length(p_public_key)) is distinct from p_public_key then 'invalid'
    when p_name is null or length(p_name) not between 1 and 100 or cardinality(p_transports) > 8 then 'invalid'
    when exists (select from app.passkeys k where k.credential_id = a.credential_id) then 'exists'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(me.org_id, 'auth.passkey.register', 'denied', 'session', me.session_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'passkey', 'reason', status));
    return;
  end if;
  insert into app.passkeys (org_id, user_id, credential_id, public_key, aaguid, sign_count, backup_eligible,
                            backup_state, transports, name)
  values (me.org_id, me.user_id, a.credential_id, p_public_key, a.aaguid, a.sign_count, a.backup_eligible,
          a.backup_state, coalesce(p_transports, '{}'), p_name)
  returning id into passkey_id;
  -- A session this passkey raised to AAL2 is bound to it, as a step-up by
  -- it would be (00292, 00305): deleting the passkey ends the session.
  update app.sessions s set assurance = 2, authenticated_at = now(),
         amr = (select array_agg(distinct x order by x) from unnest(s.amr || array['passkey']) x),
         passkey_id = case when s.assurance < 2 then coalesce(s.passkey_id, passkey_register.passkey_id) else s.passkey_id end,
         step_up_passkey_ids = case when s.assurance < 2 and s.passkey_id is not null
                                      then s.step_up_passkey_ids || passkey_register.passkey_id
                                    else s.step_up_passkey_ids end
   where s.id = me.session_id;
  perform audit.append_as(me.org_id, 'auth.passkey.register', 'success', 'passkey', passkey_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('session', me.session_id, 'aaguid', a.aaguid,
                                    'backup_eligible', a.backup_eligible, 'backup_state', a.backup_state));
end $$;

ALTER FUNCTION app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text, OUT status text, OUT passkey_id uuid) OWNER TO ward_definer;

--
-- Name: passkey_rename(uuid, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_rename(p_id uuid, p_name text, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_name is null or length(p_name) not between 1 and 100 then
    raise exception 'name must be 1..100 characters' using errcode = '22023';
  end if;
  update app.passkeys k set name = p_name where k.org_id = me.org_id and k.user_id = me.user_id and k.id = p_id;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.passkey.rename', 'success', 'passkey', p_id, p_request => p_request);
  return true;
end $$;

ALTER FUNCTION app.passkey_rename(p_id uuid, p_name text, p_request text) OWNER TO ward_definer;

--
-- Name: passkey_take(bytea, text, bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea DEFAULT NULL::bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT rp_id text, OUT origin text, OUT user_handle bytea, OUT expires_at timestamp with time zone) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype;
  me record;
  s app.sessions%rowtype;
  v_org uuid;
  v_user uuid;
  v_session uuid;
begin
  select * into c from app.passkey_challenges x where x.challenge = p_challenge for update;
  if p_purpose is not distinct from 'signin' then
    status := case
      when c.id is null or c.purpose <> 'signin' then 'invalid'
      when c.used_at is not null then 'used'
      when c.expires_at <= now() then 'expired'
      when p_binder_hash is null or p_binder_hash <> c.binder_hash then 'wrong_binding'
      else 'ok' end;
  else
    select * into me from private.me_factor();
    v_org := me.org_id; v_user := me.user_id; v_session := me.session_id;
    status := case
      when v_session is null or c.id is null or c.purpose is distinct from p_purpose then 'invalid'
      when c.used_at is not null then 'used'
      when c.expires_at <= now() then 'expired'
      when v_session is distinct from c.session_id then 'wrong_binding'
      else 'ok' end;
  end if;
  if c.id is not null and c.used_at is null then
    update app.passkey_challenges x set used_at = now(),
           used_xid = case when status = 'ok' then pg_current_xact_id() end
     where x.id = c.id;
  end if;
  if status = 'ok' then
    rp_id := c.rp_id; origin := c.origin; expires_at := c.expires_at;
    if c.session_id is not null then
      select * into s from app.sessions x where x.id = c.session_id;
      user_handle := private.webauthn_user_handle(s.org_id, s.user_id);
    end if;
    return;
  end if;
  perform audit.append_as(coalesce(v_org, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid),
    case p_purpose when 'register' then 'auth.passkey.register' when 'verify' then 'auth.mfa.verify'
                   else 'auth.signin' end,
    'denied', case when v_session is not null then 'session' end, v_session,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => v_user,
    p_details => jsonb_build_object('method', 'passkey', 'reason', 'challenge_' || status));
end $$;

ALTER FUNCTION app.passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT rp_id text, OUT origin text, OUT user_handle bytea, OUT expires_at timestamp with time zone) OWNER TO ward_definer;

--
-- Name: patient_keyset_required(); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.patient_keyset_required() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if new.keyset is null then
    raise exception 'a new patient has a keyset of their own (the per-patient key tier)' using errcode = '23502',
      hint = 'patient_keyset_required';
  end if;
  return new;
end $$;

ALTER FUNCTION app.patient_keyset_required() OWNER TO ward_owner;

--
-- Name: patient_shred(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.patient_shred(p_patient uuid, p_request text DEFAULT NULL::text) RETURNS TABLE(entries integer, amendments integer, cases integer, documents integer, data_keys integer, comments integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  p record;
  rq record;
  case_ids uuid[];
  kase uuid;
  doc_ids uuid[];
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden: a patient is shredded by an admin''s session' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it destroys none'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_patient is null then
    raise exception 'patient_shred: the patient is required' using errcode = '22023';
  end if;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(me.org_id);
  select x.id, x.keyset, x.shredded_at into p from app.patients x
   where x.org_id = me.org_id and x.id = p_patient for update;
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  if p.shredded_at is not null then
    raise exception 'patient_shred: the patient was shredded at %', p.shredded_at using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  if p.keyset is null then
    raise exception 'patient_shred: the patient''s record is sealed under the org''s keys (created before the per-patient tier)'
      using errcode = '55000', hint = 'patient_not_keyed';
  end if;
  -- The patient's cases (no case is moved onto the patient while the
  -- row is held: the trigger reads it for key share), locked, so a case
  -- moved to another patient meanwhile waits; then their documents. Both
  -- for no key update: an insert naming them (its foreign key reads them
  -- for key share) is not waited for here.
  select coalesce(array_agg(c.id order by c.id), '{}') into case_ids
    from (select c.id from app.cases c where c.org_id = me.org_id and c.patient_id = p_patient
           order by c.id for no key update) c;
  perform from (select d.id from app.documents d where d.org_id = me.org_id and d.case_id = any (case_ids)
                 order by d.id for no key update) d;
  -- Then each case's status lock, which every write to the case shares
  -- until it commits (app.case_closed): a write in flight (an upload, a
  -- new version, a comment, a member) is waited for, and a later one
  -- waits for the shred and then finds the case closed, before what the
  -- cases hold is read below (00276: a write committed between that read
  -- and the closing kept its data key, file name or comment under the
  -- org's keys). Rows first, then this lock, as the writers take them (an
  -- update locks its row before its trigger shares the lock; a status
  -- change takes it after the case's row): no wait here forms a cycle.
  foreach kase in array case_ids loop
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.case_status.' || kase::text, 0));
  end loop;
  if exists (select from app.legal_holds h where h.org_id = me.org_id and h.released_at is null
               and ((h.patient_id is null and h.case_id is null) or h.patient_id = p_patient
                    or h.case_id = any (case_ids))) then
    raise exception 'patient_shred: a legal hold covers the patient' using errcode = '55000', hint = 'legal_hold';
  end if;
  if exists (select from app.dsr_requests q where q.org_id = me.org_id and q.patient_id = p_patient
               and q.status = 'open' and q.kind in ('access', 'amendment')) then
    raise exception 'patient_shred: an access or amendment request of the patient is open'
      using errcode = '55000', hint = 'open_requests';
  end if;
  select coalesce(array_agg(d.id order by d.id), '{}') into doc_ids
    from app.documents d where d.org_id = me.org_id and d.case_id = any (case_ids);
  entries := (select count(*) from app.clinical_entries e where e.org_id = me.org_id and e.patient_id = p_patient);
  amendments := (select count(*) from app.record_amendments a where a.org_id = me.org_id and a.patient_id = p_patient);
  cases := cardinality(case_ids);
  documents := cardinality(doc_ids);
  data_keys := (select count(*) from app.document_versions v
                 where v.org_id = me.org_id and v.document_id = any (doc_ids) and v.data_key is not null);
  comments := (select count(*) from app.document_comments x where x.org_id = me.org_id and x.document_id = any (doc_ids));

  -- The event first, while the record is whole: what was destroyed, by whom.
  perform audit.append_as(me.org_id, 'patient.shred', 'success', 'patient', p_patient,
    p_patient => p_patient, p_request => p_request,
    p_details => jsonb_build_object('entries', entries, 'amendments', amendments, 'cases', cases,
      'documents', documents, 'data_keys', data_keys, 'comments', comments));
  -- The destruction: the keyset that sealed the record, and the record's
  -- own ciphertexts and blind indexes with it.
  update app.patients x
     set keyset = null, shredded_at = now(), mrn_bidx = null, email_bidx = null, name_enc = '\x'::bytea,
         dob_enc = null, phone_enc = null, email_enc = null, address_enc = null, identifiers_enc = null,
         updated_at = now()
   where x.org_id = me.org_id and x.id = p_patient;
  -- What no key sealed: an entry's name, value, unit, nutrients and the
  -- time it was observed (the entry stays: an amendment may name it).
  update app.clinical_entries e
     set name = 'shredded', value = null, unit = null, kcal = null, protein_g = null, carbs_g = null,
         fat_g = null, observed_at = e.created_at, note_enc = null
   where e.org_id = me.org_id and e.patient_id = p_patient;
  -- The patient's cases: what the org's keys sealed about them is
  -- emptied, their documents deleted with their data keys, and the cases
  -- closed (a closed case takes no upload, comment, invitation or grant).
  update app.document_versions v set data_key = null, filename_enc = '\x'::bytea
   where v.org_id = me.org_id and v.document_id = any (doc_ids);
  update app.document_comments x set body_enc = '\x'::bytea
   where x.org_id = me.org_id and x.document_id = any (doc_ids);
  update app.documents d set deleted_at = coalesce(d.deleted_at, now()), description_enc = null
   where d.org_id = me.org_id and d.id = any (doc_ids);
  update app.cases c set title_enc = '\x'::bytea, reference_enc = null, reference_bidx = null, updated_at = now()
   where c.org_id = me.org_id and c.id = any (case_ids);
  update app.cases c set status = 'closed', closed_at = now()
   where c.org_id = me.org_id and c.id = any (case_ids) and c.status = 'open';
  -- The released legal holds on the patient or their cases (a live one
  -- refused the shred): a reason or release note, sealed under the org's
  -- keys since 00280 (the shred keeps them), may name the patient, so it
  -- is overwritten as the org shred overwrites a clear one (00281). The
  -- holds stay, released.
  update app.legal_holds h
     set reason = 'shredded', reason_enc = null,
         release_note = case when h.released_at is null then null else 'shredded' end, release_note_enc = null
   where h.org_id = me.org_id and (h.patient_id = p_patient or h.case_id = any (case_ids));
  -- The cases' pending invitations end (a closed case accepts none).
  update app.case_invites i set revoked_at = now()
   where i.org_id = me.org_id and i.case_id = any (case_ids) and i.revoked_at is null and i.accepted_at is null;
  -- The patient's open CCPA deletion requests are what the shred fulfils:
  -- each is closed as fulfilled (the guard sets who and when), with its
  -- dsr.close event, as an admin's close writes it.
  for rq in select r.id, r.due_at from app.dsr_requests r
            where r.org_id = me.org_id and r.patient_id = p_patient and r.kind = 'ccpa_delete' and r.status = 'open'
            order by r.id for update loop
    update app.dsr_requests r set status = 'fulfilled' where r.org_id = me.org_id and r.id = rq.id;
    perform audit.append_as(me.org_id, 'dsr.close', 'success', 'dsr_request', rq.id,
      p_patient => p_patient, p_request => p_request,
      p_details => jsonb_build_object('kind', 'ccpa_delete', 'status', 'fulfilled',
        'due_at', to_char(rq.due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'by', 'patient.shred'));
  end loop;
  -- Every node drops its cached keys of the org, and the patient keysets
  -- unwrapped under them, at once (keystore.Listen).
  perform pg_catalog.pg_notify('ward_keys', me.org_id::text);
  return next;
end $$;

ALTER FUNCTION app.patient_shred(p_patient uuid, p_request text) OWNER TO ward_definer;

--
-- Name: patient_shredded_frozen(); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.patient_shredded_frozen() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if old.shredded_at is not null then
    raise exception 'the patient was crypto-shredded: the record takes no change' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.patient_shredded_frozen() OWNER TO ward_owner;

--
-- Name: purge_expired_documents(integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.purge_expired_documents(p_max integer DEFAULT 100) RETURNS TABLE(org_id uuid, document_id uuid, storage_keys text[])
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  cap int := least(greatest(coalesce(p_max, 100), 1), 1000);
  n int := 0;
  o uuid;
  t record;
  cutoff timestamptz;
  d record;
  keys text[];
begin
  for o in select distinct r.org_id from app.document_retention r order by r.org_id loop
    exit when n >= cap;
    perform private.legal_hold_lock(o);
    if exists (select from app.legal_holds h where h.org_id = o and h.released_at is null
                  and h.patient_id is null and h.case_id is null) then
      continue; -- the whole org is held
    end if;
    -- The rule in force per type: the pending one once its time has come.
    for t in select r.doc_type, r.days as retain_days, r.updated_by
               from (select x.doc_type, x.updated_by,
                            case when x.effective_at <= now() then x.pending_days else x.retain_days end as days
                       from app.document_retention x where x.org_id = o) r
              where r.days is not null order by r.doc_type loop
      exit when n >= cap;
      cutoff := now() - make_interval(days => t.retain_days);
      for d in
        select x.id, x.case_id, c.patient_id
          from app.documents x
          join app.cases c on c.org_id = x.org_id and c.id = x.case_id
         where x.org_id = o and x.doc_type = t.doc_type and x.deleted_at is null
           and x.created_at < cutoff
           and (x.due_at is null or x.due_at < cutoff)
           and not exists (select from app.document_versions v
                            where v.org_id = x.org_id and v.document_id = x.id and v.created_at >= cutoff)
           and not exists (select from app.legal_holds h
                            where h.org_id = x.org_id and h.released_at is null
                              and (h.patient_id = c.patient_id or h.case_id = x.case_id))
           and not exists (select from app.dsr_requests q
                            where q.org_id = x.org_id and q.patient_id = c.patient_id and q.status = 'open'
                              and q.kind in ('access', 'amendment'))
         order by x.created_at, x.id
         limit cap - n
         for update of x skip locked
      loop
        perform audit.append_as(o, 'document.purge', 'success', 'document', d.id,
          p_patient => d.patient_id, p_case => d.case_id, p_actor => t.updated_by,
          p_details => jsonb_build_object('doc_type', t.doc_type, 'retain_days', t.retain_days));
        update app.documents x set deleted_at = now() where x.org_id = o and x.id = d.id;
        with shredded as (
          update app.document_versions v set data_key = null
           where v.org_id = o and v.document_id = d.id returning v.storage_key)
        select coalesce(array_agg(s.storage_key order by s.storage_key), '{}') into keys from shredded s;
        org_id := o; document_id := d.id; storage_keys := keys;
        return next;
        n := n + 1;
      end loop;
    end loop;
  end loop;
end $$;

ALTER FUNCTION app.purge_expired_documents(p_max integer) OWNER TO ward_definer;

--
-- Name: reclaim_storage_keys(text[]); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.reclaim_storage_keys(p_keys text[]) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- A stale claim of one of these keys goes first, under its row lock: a
  -- commit that holds the claim (app.release_upload, not committed yet)
  -- makes this wait, and its version is then seen below.
  delete from app.document_uploads u
   where u.touched_at < now() - interval '1 hour'
     and (u.storage_key = any (p_keys) or u.touched_at < now() - interval '1 day');
  return query
    select k from unnest(p_keys) k
     where not exists (select from app.document_versions v where v.storage_key = k and v.data_key is not null)
       and not exists (select from app.document_uploads u where u.storage_key = k);
end $$;

ALTER FUNCTION app.reclaim_storage_keys(p_keys text[]) OWNER TO ward_definer;

--
-- Name: record_access_expiries(integer); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.record_access_expiries(p_max integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  n int := 0;
begin
  for r in
    select cm.org_id, cm.case_id, cm.user_id from app.case_members cm
     where cm.access_expires_at <= now() and cm.expiry_recorded_at is null and cm.revoked_at is null
     limit least(greatest(coalesce(p_max, 500), 1), 5000)
     for update skip locked
  loop
    update app.case_members x set expiry_recorded_at = now()
     where x.org_id = r.org_id and x.case_id = r.case_id and x.user_id = r.user_id;
    perform audit.append_as(r.org_id, 'case.member.expire', 'success', 'user', r.user_id,
      p_actor => r.user_id, p_case => r.case_id);
    n := n + 1;
  end loop;
  return n;
end $$;

ALTER FUNCTION app.record_access_expiries(p_max integer) OWNER TO ward_definer;

--
-- Name: recovery_code_use(bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.recovery_code_use(p_code_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT remaining integer, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.recovery_codes r set used_at = now()
   where r.org_id = me.org_id and r.user_id = me.user_id and r.code_hash = p_code_hash and r.used_at is null;
  status := case when found then 'ok' else 'invalid' end;
  select count(*) into remaining from app.recovery_codes r
   where r.org_id = me.org_id and r.user_id = me.user_id and r.used_at is null;
  if status = 'ok' then
    update app.sessions s set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct a order by a) from unnest(s.amr || array['recovery_code']) a)
     where s.id = me.session_id;
    select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  end if;
  perform audit.append_as(me.org_id, 'auth.recovery_code.use', case when status = 'ok' then 'success' else 'denied' end,
    'session', me.session_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('result', status, 'remaining', remaining));
end $$;

ALTER FUNCTION app.recovery_code_use(p_code_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT remaining integer, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: recovery_codes_generate(bytea[], text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.recovery_codes_generate(p_hashes bytea[], p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  ended int;
begin
  select * into me from private.me();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_hashes is null or cardinality(p_hashes) <> 10 or array_ndims(p_hashes) <> 1
     or exists (select from unnest(p_hashes) h where h is null or octet_length(h) <> 32)
     or (select count(distinct h) from unnest(p_hashes) h) <> 10 then
    raise exception 'recovery_codes_generate: ten distinct 32-byte hashes' using errcode = '22023';
  end if;
  -- (00267) one generation at a time per member: each deletes the set the
  -- one before it committed, so the newest set is the only one left.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
    'ward.recovery_codes.' || me.org_id::text || '.' || me.user_id::text, 0));
  delete from app.recovery_codes r where r.org_id = me.org_id and r.user_id = me.user_id;
  insert into app.recovery_codes (org_id, user_id, code_hash)
  select me.org_id, me.user_id, h from unnest(p_hashes) h;
  -- (00291) the sessions a code of the old set opened end with the set,
  -- but the caller's own.
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null
     and s.amr @> array['recovery_code'] and s.id <> me.session_id;
  perform audit.append_as(me.org_id, 'auth.recovery_codes.generate', 'success', 'user', me.user_id,
    p_request => p_request, p_details => jsonb_build_object('count', 10, 'sessions_ended', ended));
  update app.sessions s set revoked_at = now(), revoked_reason = 'recovery_codes_replaced'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null
     and s.amr @> array['recovery_code'] and s.id <> me.session_id;
end $$;

ALTER FUNCTION app.recovery_codes_generate(p_hashes bytea[], p_request text) OWNER TO ward_definer;

--
-- Name: refuse_deleted_document(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_deleted_document() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  deleted timestamptz;
begin
  -- Unbound callers (the operator, a restore) write what they write, as
  -- in app.case_rows_stamp; every request's statement is bound.
  if coalesce(current_setting('ward.credential', true), '') = '' then
    return new;
  end if;
  select d.deleted_at into deleted from app.documents d
   where d.org_id = new.org_id and d.id = new.document_id
     for share;
  if deleted is not null then
    raise exception 'the document was deleted: it takes no new version or comment'
      using errcode = '42501', hint = 'document_deleted';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_deleted_document() OWNER TO ward_definer;

--
-- Name: refuse_erased_member(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_erased_member() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if exists (select 1 from app.users u where u.id = new.user_id and octet_length(u.email_enc) = 0) then
    raise exception 'the person''s address was erased with a shredded org: add her again by address'
      using errcode = '55000', hint = 'user_erased';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_erased_member() OWNER TO ward_definer;

--
-- Name: refuse_org_sealed_value(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_org_sealed_value() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  vals bytea[];
  v bytea;
  org_key bigint;
begin
  if tg_table_name = 'clinical_entries' then
    if tg_op = 'UPDATE' and new.note_enc is not distinct from old.note_enc then
      return new;
    end if;
    vals := array[new.note_enc];
  elsif tg_op = 'UPDATE' then
    vals := array[case when new.request_enc is distinct from old.request_enc then new.request_enc end,
                  case when new.decision_enc is distinct from old.decision_enc then new.decision_enc end,
                  case when new.disagreement_enc is distinct from old.disagreement_enc then new.disagreement_enc end,
                  case when new.rebuttal_enc is distinct from old.rebuttal_enc then new.rebuttal_enc end];
  else
    vals := array[new.request_enc, new.decision_enc, new.disagreement_enc, new.rebuttal_enc];
  end if;
  if not exists (select from unnest(vals) x where octet_length(x) >= 5 and get_byte(x, 0) = 1) then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse
  -- (as in 00301): the check would read that org's patient first.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select private.tink_wrapping_key_id(p.keyset) into org_key from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id;
  if org_key is null then
    return new;
  end if;
  foreach v in array vals loop
    if octet_length(v) >= 5 and get_byte(v, 0) = 1
       and ((get_byte(v, 1)::bigint << 24) | (get_byte(v, 2) << 16) | (get_byte(v, 3) << 8) | get_byte(v, 4)) = org_key then
      raise exception 'a value of a patient with a keyset of their own is sealed under the org''s keys'
        using errcode = '23514', hint = 'sealed_under_org_keys';
    end if;
  end loop;
  return new;
end $$;

ALTER FUNCTION app.refuse_org_sealed_value() OWNER TO ward_definer;

--
-- Name: refuse_other_org_row(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_other_org_row() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- The invoker's role: ward_app's own statements are the ones a policy
  -- governs; a definer procedure's (ward_definer) and the operator's are
  -- checked by the triggers after this one.
  if current_user <> 'ward_app' then
    return new;
  end if;
  -- the org the insert policies admit
  if new.org_id is distinct from coalesce((select c.org_id from private.principal_cached c),
                                          private.get_my_org_id()) then
    raise exception 'new row violates row-level security policy for table "%"', tg_table_name
      using errcode = '42501';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_other_org_row() OWNER TO ward_definer;

--
-- Name: refuse_shredded_org(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_shredded_org() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  shredded timestamptz;
begin
  -- Only app.memberships fires on an update (of revoked_at): ending a
  -- membership is always allowed, restoring one is not. (A separate IF:
  -- the other tables have no revoked_at for the expression to name.)
  if tg_op = 'UPDATE' then
    if new.revoked_at is not null then
      return new;
    end if;
  end if;
  -- Locked: a shred holding the row is waited for, then seen.
  select o.shredded_at into shredded from app.orgs o where o.id = new.org_id for key share;
  if shredded is not null then
    raise exception 'the org was crypto-shredded: it takes no new member, credential or key'
      using errcode = '55000', hint = 'org_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_shredded_org() OWNER TO ward_definer;

--
-- Name: refuse_shredded_org_own(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_shredded_org_own() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  shredded timestamptz;
begin
  -- A row of another org than the caller's is its policy's to refuse.
  if current_setting('ward.credential', true) <> ''
     and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  -- Locked: a shred holding the row is waited for, then seen.
  select o.shredded_at into shredded from app.orgs o where o.id = new.org_id for key share;
  if shredded is not null then
    raise exception 'the org was crypto-shredded: it takes no new member, credential or key'
      using errcode = '55000', hint = 'org_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_shredded_org_own() OWNER TO ward_definer;

--
-- Name: refuse_shredded_patient(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_shredded_patient() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  shredded timestamptz;
  bound boolean := current_setting('ward.credential', true) <> '';
begin
  if new.patient_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if bound and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = new.org_id and p.id = new.patient_id for key share;
  if shredded is not null then
    -- Whoever does not see the patient is refused as the policy refuses
    -- them, for a live patient and an id of no patient alike.
    if bound and not (new.org_id = private.my_lead_org()
                      or row(new.org_id, new.patient_id)::private.patient_key = any (private.my_patient_keys())
                      or new.org_id = private.key_org('gateway')) then
      raise exception 'new row violates row-level security policy for table "%"', tg_table_name
        using errcode = '42501';
    end if;
    raise exception 'the patient was crypto-shredded: nothing new is added to the record' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_shredded_patient() OWNER TO ward_definer;

--
-- Name: refuse_shredded_patient_case(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.refuse_shredded_patient_case() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  shredded timestamptz;
  patient uuid;
  bound boolean := current_setting('ward.credential', true) <> '';
begin
  if new.case_id is null then
    return new;
  end if;
  -- A row of another org than the caller's is its policy's to refuse.
  if bound and new.org_id is distinct from private.get_my_org_id() then
    return new;
  end if;
  select p.shredded_at, p.id into shredded, patient
    from app.cases c join app.patients p on p.org_id = c.org_id and p.id = c.patient_id
   where c.org_id = new.org_id and c.id = new.case_id
     for key share of p;
  if shredded is not null then
    if bound and not (new.org_id = private.my_lead_org()
                      or row(new.org_id, patient)::private.patient_key = any (private.my_patient_keys())
                      or new.org_id = private.key_org('gateway')) then
      raise exception 'new row violates row-level security policy for table "%"', tg_table_name
        using errcode = '42501';
    end if;
    raise exception 'the case''s patient was crypto-shredded: the case holds nothing to preserve' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.refuse_shredded_patient_case() OWNER TO ward_definer;

--
-- Name: release_upload(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.release_upload(p_key text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  delete from app.document_uploads u
   where u.org_id = me.org_id and u.storage_key = p_key and u.uploaded_by = me.user_id;
  return found;
end $$;

ALTER FUNCTION app.release_upload(p_key text) OWNER TO ward_definer;

--
-- Name: remember_device(bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.remember_device(p_device_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_device_hash) is distinct from 32 then
    raise exception 'remember_device: the device token hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into s from app.sessions x where x.id = me.session_id;
  if s.created_at <= now() - interval '1 minute' then
    return false;
  end if;
  insert into app.known_devices (org_id, user_id, token_hash, expires_at, session_id)
  values (s.org_id, s.user_id, p_device_hash, now() + interval '30 days', s.id)
  on conflict (org_id, user_id, token_hash) do update
    set created_at = now(), expires_at = now() + interval '30 days', session_id = excluded.session_id;
  -- Expired devices, and any beyond the newest 10, go.
  delete from app.known_devices d
   where d.org_id = s.org_id and d.user_id = s.user_id
     and (d.expires_at <= now()
          or d.token_hash not in (select k.token_hash from app.known_devices k
                                   where k.org_id = s.org_id and k.user_id = s.user_id
                                   order by k.created_at desc limit 10));
  return true;
end $$;

ALTER FUNCTION app.remember_device(p_device_hash bytea) OWNER TO ward_definer;

--
-- Name: request_magic_link(bytea, uuid, bytea, bytea, inet, bytea, text, text, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, p_device_hash bytea DEFAULT NULL::bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  pol app.instance_policy%rowtype;
  pair bytea;
  oldest timestamptz;
  n_pair int;
  n_source int;
  n_address int;
  over_address boolean;
  known boolean := false;
  hit text;
  m record;
begin
  if octet_length(p_email_bidx) is distinct from 32 or octet_length(p_token_hash) is distinct from 32
     or octet_length(p_verifier_hash) is distinct from 32 or octet_length(p_ip_hash) is distinct from 32
     or (p_device_hash is not null and octet_length(p_device_hash) <> 32) then
    raise exception 'request_magic_link: address index, token, verifier, source and device hashes are 32 bytes each'
      using errcode = '22023';
  end if;
  select * into pol from app.instance_policy;
  pair := pg_catalog.sha256(p_email_bidx || p_ip_hash);
  -- Serialise per address, per pair and per source (always in this order),
  -- so concurrent requests cannot all count below a limit.
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.address.' || encode(p_email_bidx, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.pair.' || encode(pair, 'hex'), 0));
  perform pg_advisory_xact_lock(hashtextextended('ward.rate.source.' || encode(p_ip_hash, 'hex'), 0));
  select count(*) filter (where a.kind = 'pair' and a.key_hash = pair),
         count(*) filter (where a.kind = 'source' and a.key_hash = p_ip_hash),
         count(*) filter (where a.kind = 'address' and a.key_hash = p_email_bidx)
    into n_pair, n_source, n_address
    from app.auth_attempts a
   where ((a.kind = 'pair' and a.key_hash = pair) or (a.kind = 'source' and a.key_hash = p_ip_hash)
          or (a.kind = 'address' and a.key_hash = p_email_bidx))
     and a.at > now() - make_interval(mins => pol.link_window_min);
  over_address := n_address >= pol.link_max_per_address_all;
  -- A device that signed in as the address's member before passes the
  -- address's limit (looked up only when it bit).
  if over_address and p_device_hash is not null then
    select exists (
      select from app.known_devices d
        join app.users u on u.id = d.user_id
        join app.memberships ms on ms.org_id = d.org_id and ms.user_id = d.user_id and ms.revoked_at is null
       where u.email_bidx = p_email_bidx and d.token_hash = p_device_hash and d.expires_at > now()
         and (p_org is null or d.org_id = p_org)) into known;
    over_address := not known;
  end if;
  hit := case when over_address then 'address_all'
              when n_pair >= pol.link_max_per_address then 'address'
              when n_source >= pol.link_max_per_source then 'source' end;
  if hit is not null then
    status := 'rate_limited';
    -- Retry when every limit that bit has room again: the latest of the
    -- times at which each one's oldest counted attempt leaves the window.
    select max(o.oldest) into oldest from (
      select min(a.at) as oldest from app.auth_attempts a
       where a.at > now() - make_interval(mins => pol.link_window_min)
         and ((over_address and a.kind = 'address' and a.key_hash = p_email_bidx)
              or (n_pair >= pol.link_max_per_address and a.kind = 'pair' and a.key_hash = pair)
              or (n_source >= pol.link_max_per_source and a.kind = 'source' and a.key_hash = p_ip_hash))
       group by a.kind) o;
    retry_after_s := greatest(1, ceil(extract(epoch from
      coalesce(oldest, now()) + make_interval(mins => pol.link_window_min) - now()))::int);
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'rate_limited', 'limit', hit));
    return;
  end if;
  insert into app.auth_attempts (kind, key_hash) values ('address', p_email_bidx), ('pair', pair), ('source', p_ip_hash);
  -- Expired attempts go a few at a time, through the index on at.
  delete from app.auth_attempts x where x.ctid = any (array(
    select y.ctid from app.auth_attempts y where y.at < now() - interval '1 day' limit 100));

  -- The member the link would be for, and whether SSO binds them (00141):
  -- in the org named, or, with none named, in any org they are a live
  -- member of.
  select ms.org_id, ms.user_id, u.email_enc,
         exists (select from app.memberships b
                  where b.user_id = ms.user_id and b.revoked_at is null
                    and (p_org is null or b.org_id = p_org)
                    and private.sso_bound(b.org_id, b.user_id)) as sso_bound
    into m
    from app.users u join app.memberships ms on ms.user_id = u.id
   where u.email_bidx = p_email_bidx and ms.revoked_at is null
     and (p_org is null or ms.org_id = p_org)
   order by ms.created_at
   limit 1;
  -- A member SSO binds signs in through the org's IdP: no link, and the
  -- answer, the count and the audit event of an address that belongs to
  -- nobody (no account-existence oracle).
  if m.user_id is null or m.sso_bound then
    status := 'unknown';
    perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff', 'auth.link.request', 'denied',
      p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
      p_details => jsonb_build_object('reason', 'unknown_address'));
    return;
  end if;
  insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
  values (m.org_id, m.user_id, p_token_hash, p_verifier_hash, now() + make_interval(mins => pol.link_ttl_min), p_ip);
  perform audit.append_as(m.org_id, 'auth.link.request', 'success', 'user', m.user_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('browser_bound', true) || case when known then '{"known_device": true}'::jsonb else '{}'::jsonb end,
    p_actor => m.user_id);
  status := 'created'; org_id := m.org_id; user_id := m.user_id; email_enc := m.email_enc;
  ttl_min := pol.link_ttl_min;
end $$;

ALTER FUNCTION app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text, p_ua text, p_device_hash bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) OWNER TO ward_definer;

--
-- Name: revoke_api_key(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.revoke_api_key(p_id uuid, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  update app.api_keys k set revoked_at = now() where k.org_id = me.org_id and k.id = p_id and k.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'auth.api_key.revoke', 'success', 'api_key', p_id, p_request => p_request);
  return true;
end $$;

ALTER FUNCTION app.revoke_api_key(p_id uuid, p_request text) OWNER TO ward_definer;

--
-- Name: revoke_scim_token(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.revoke_scim_token(p_id uuid, p_request text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = me.org_id and t.id = p_id and t.revoked_at is null;
  if not found then
    return false;
  end if;
  perform audit.append_as(me.org_id, 'scim.token.revoke', 'success', 'scim_token', p_id, p_request => p_request);
  return true;
end $$;

ALTER FUNCTION app.revoke_scim_token(p_id uuid, p_request text) OWNER TO ward_definer;

--
-- Name: rotate_session(bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.rotate_session(p_new_hash bytea) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  s app.sessions%rowtype;
begin
  if octet_length(p_new_hash) is distinct from 32 then
    raise exception 'rotate_session: the new hash is 32 bytes' using errcode = '22023';
  end if;
  select * into me from private.me_factor();
  select * into s from app.sessions x where x.id = me.session_id and x.token_hash = private.credential_hash()
     for update;
  if not found then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  insert into app.session_tokens (org_id, session_id, token_hash, assurance, amr, authenticated_at)
  values (s.org_id, s.id, s.token_hash, s.token_assurance, s.token_amr, s.token_authenticated_at);
  update app.sessions x set token_hash = p_new_hash where x.id = s.id;
  return s.absolute_expires_at;
end $$;

ALTER FUNCTION app.rotate_session(p_new_hash bytea) OWNER TO ward_definer;

--
-- Name: saml_config(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.saml_config(p_connection uuid, OUT org_id uuid, OUT idp_metadata text, OUT allow_idp_initiated boolean) RETURNS SETOF record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
begin
  return query select c.org_id, c.idp_metadata, c.allow_idp_initiated from app.sso_connections c
                where c.id = p_connection and c.kind = 'saml';
end $$;

ALTER FUNCTION app.saml_config(p_connection uuid, OUT org_id uuid, OUT idp_metadata text, OUT allow_idp_initiated boolean) OWNER TO ward_definer;

--
-- Name: saml_idp_begin(uuid, bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_state_hash) is distinct from 32 then
    raise exception 'saml_idp_begin: the state hash is 32 bytes' using errcode = '22023';
  end if;
  select * into c from app.sso_connections x where x.id = p_connection and x.kind = 'saml';
  if not found then
    return false;
  end if;
  if not c.allow_idp_initiated then
    perform audit.append_as(c.org_id, 'auth.signin', 'denied', 'sso_connection', c.id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', 'idp_initiated_off'));
    return false;
  end if;
  insert into app.sso_states (state_hash, org_id, connection_id, binder_hash, taken_at)
  values (p_state_hash, c.org_id, c.id, p_state_hash, now());
  return true;
end $$;

ALTER FUNCTION app.saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: saml_idp_preview(uuid, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.saml_idp_preview(p_connection uuid, p_subject_hash bytea, OUT user_id uuid, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_subject_hash) is distinct from 32 then
    raise exception 'saml_idp_preview: the subject hash is 32 bytes' using errcode = '22023';
  end if;
  select * into c from app.sso_connections x where x.id = p_connection and x.kind = 'saml' and x.allow_idp_initiated;
  if not found then
    return;
  end if;
  select u.id, u.email_enc into user_id, email_enc
    from app.sso_identities i join app.users u on u.id = i.user_id
   where i.org_id = c.org_id and i.connection_id = c.id and i.subject_hash = p_subject_hash;
end $$;

ALTER FUNCTION app.saml_idp_preview(p_connection uuid, p_subject_hash bytea, OUT user_id uuid, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: scim_create_user(uuid, bytea, bytea, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text, p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text, p_request text) OWNER TO ward_definer;

--
-- Name: scim_delete_group(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_delete_group(p_id uuid, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_delete_group(p_id uuid, p_request text) OWNER TO ward_definer;

--
-- Name: scim_delete_user(uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_delete_user(p_user uuid, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_delete_user(p_user uuid, p_request text) OWNER TO ward_definer;

--
-- Name: scim_failure(text, uuid, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_failure(p_reason text, p_object uuid DEFAULT NULL::uuid, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'scim_failure: a reason code' using errcode = '22023';
  end if;
  perform audit.append_as(me.org_id, 'scim.request.denied', 'failure', case when p_object is null then null else 'user' end,
    p_object, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_details => jsonb_build_object('reason', p_reason));
end $_$;

ALTER FUNCTION app.scim_failure(p_reason text, p_object uuid, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: scim_groups(uuid, text, text, integer, integer, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset integer, p_limit integer, p_request text DEFAULT NULL::text) RETURNS TABLE(id uuid, display_name text, external_id text, role text, members uuid[], created_at timestamp with time zone, updated_at timestamp with time zone, version integer, total bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset integer, p_limit integer, p_request text) OWNER TO ward_definer;

--
-- Name: scim_me(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_me(OUT org_id uuid, OUT token_id uuid) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'scim_token' then
    return;
  end if;
  update app.scim_tokens t set last_used_at = now()
   where t.org_id = me.org_id and t.id = me.credential_id
     and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute');
  org_id := me.org_id; token_id := me.credential_id;
  return next;
end $$;

ALTER FUNCTION app.scim_me(OUT org_id uuid, OUT token_id uuid) OWNER TO ward_definer;

--
-- Name: scim_put_group(uuid, text, text, uuid[], text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[], p_request text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[], p_request text) OWNER TO ward_definer;

--
-- Name: scim_update_user(uuid, bytea, text, bytea, boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea, p_active boolean, p_request text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea, p_active boolean, p_request text) OWNER TO ward_definer;

--
-- Name: scim_users(uuid, bytea, text, integer, integer, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset integer, p_limit integer, p_request text DEFAULT NULL::text) RETURNS TABLE(user_id uuid, role text, active boolean, email_enc bytea, external_id text, attrs_enc bytea, created_at timestamp with time zone, updated_at timestamp with time zone, version integer, total bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
    raise exception 'scim_users: offset >= 0 and a limit of 0..1000' using errcode = '22023';
  end if;
  select count(*) into n
    from app.memberships m
    join app.users u on u.id = m.user_id
    left join app.scim_users su on su.org_id = m.org_id and su.user_id = m.user_id
   where m.org_id = me.org_id and m.role not in ('patient', 'stakeholder') and su.deleted_at is null
     and (p_id is null or m.user_id = p_id)
     and (p_email_bidx is null or u.email_bidx = p_email_bidx)
     and (p_external_id is null or su.external_id = p_external_id);
  for r in
    select m.user_id, m.role, m.revoked_at is null as active, u.email_enc, su.external_id, su.attrs_enc,
           coalesce(su.created_at, m.created_at) as created_at, coalesce(su.updated_at, m.created_at) as updated_at,
           coalesce(su.version, 1) as version
      from app.memberships m
      join app.users u on u.id = m.user_id
      left join app.scim_users su on su.org_id = m.org_id and su.user_id = m.user_id
     where m.org_id = me.org_id and m.role not in ('patient', 'stakeholder') and su.deleted_at is null
       and (p_id is null or m.user_id = p_id)
       and (p_email_bidx is null or u.email_bidx = p_email_bidx)
       and (p_external_id is null or su.external_id = p_external_id)
     order by m.created_at, m.user_id
    offset p_offset limit p_limit
  loop
    user_id := r.user_id; role := r.role; active := r.active; email_enc := r.email_enc;
    external_id := r.external_id; attrs_enc := r.attrs_enc; created_at := r.created_at;
    updated_at := r.updated_at; version := r.version; total := n;
    ids := ids || r.user_id;
    return next;
  end loop;
  if cardinality(ids) = 0 then
    user_id := null; role := null; active := null; email_enc := null; external_id := null; attrs_enc := null;
    created_at := null; updated_at := null; version := null; total := n;
    return next;
  end if;
  perform audit.append_as(me.org_id, 'scim.user.list', 'success', p_results => ids, p_request => p_request,
    p_details => jsonb_build_object('count', cardinality(ids), 'total', n));
end $$;

ALTER FUNCTION app.scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset integer, p_limit integer, p_request text) OWNER TO ward_definer;

--
-- Name: session_browser(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.session_browser() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_pending();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.sessions s set browser = true
   where s.id = me.session_id and not s.browser and s.dpop_jkt is null
     and s.created_at > now() - interval '1 minute';
  return found;
end $$;

ALTER FUNCTION app.session_browser() OWNER TO ward_definer;

--
-- Name: set_assurance_policy(boolean, boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old app.orgs%rowtype;
  ended int;
begin
  select * into me from private.me_pending() where pending is null;
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_require_mfa is null or p_require_passkey is null then
    raise exception 'require_mfa and require_passkey are both required' using errcode = '22023';
  end if;
  if p_require_passkey and not coalesce(me.amr @> array['passkey'], false) then
    raise exception 'require_passkey may be set only from a session signed in with a passkey' using errcode = '22023';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  update app.orgs set require_mfa = p_require_mfa, require_passkey = p_require_passkey where id = me.org_id;
  update app.sessions s set revoked_at = now(), revoked_reason = 'assurance_policy'
    from app.memberships m
   where m.org_id = s.org_id and m.user_id = s.user_id
     and s.org_id = me.org_id and s.revoked_at is null
     and not private.meets_bar(private.assurance_bar(m.role, p_require_mfa, p_require_passkey), s.assurance, s.amr);
  get diagnostics ended = row_count;
  perform audit.append_as(me.org_id, 'org.assurance_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('require_mfa', p_require_mfa, 'require_passkey', p_require_passkey,
                                    'old_require_mfa', old.require_mfa, 'old_require_passkey', old.require_passkey,
                                    'sessions_ended', ended));
  return ended;
end $$;

ALTER FUNCTION app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text) OWNER TO ward_definer;

--
-- Name: set_device_binding_policy(text[], text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_device_binding_policy(p_roles text[], p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old text[];
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_roles is null or array_position(p_roles, null) is not null
     or not p_roles <@ array['patient', 'provider', 'lead', 'admin', 'stakeholder']::text[] then
    raise exception 'roles are patient, provider, lead, admin and stakeholder' using errcode = '22023';
  end if;
  select o.device_binding_required_for into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set device_binding_required_for = (select coalesce(array_agg(distinct r order by r), '{}')
                                                        from unnest(p_roles) r)
   where o.id = me.org_id;
  perform audit.append_as(me.org_id, 'org.device_binding_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('roles', to_jsonb(p_roles), 'old_roles', to_jsonb(old)));
end $$;

ALTER FUNCTION app.set_device_binding_policy(p_roles text[], p_request text) OWNER TO ward_definer;

--
-- Name: set_document_retention(jsonb, text, text[]); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_document_retention(p_policy jsonb, p_request text DEFAULT NULL::text, p_if_match text[] DEFAULT NULL::text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
  cur jsonb;
  old jsonb;
  old_pending jsonb;
  new jsonb;
  pending jsonb;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if p_policy is null or jsonb_typeof(p_policy) <> 'object' then
    raise exception 'a retention policy is an object of document type to days' using errcode = '22023';
  end if;
  if (select count(*) from jsonb_object_keys(p_policy)) > 100 then
    raise exception 'a retention policy names at most 100 document types' using errcode = '22023';
  end if;
  if exists (select from jsonb_each(p_policy) e
              where e.key !~ '^[a-z][a-z0-9_]{0,47}$'
                 or jsonb_typeof(e.value) <> 'number'
                 or (e.value #>> '{}') !~ '^[0-9]{1,5}$'
                 or (e.value #>> '{}')::int not between 1 and 36500) then
    raise exception 'document types are lower-case names; days are whole numbers from 1 to 36500'
      using errcode = '22023';
  end if;
  -- One change of an org's policy at a time (the old value recorded is
  -- the one replaced, and the version a caller named is compared with the
  -- one it would replace).
  perform from app.orgs o where o.id = me.org_id for update;
  if p_if_match is not null and not (app.document_retention_tag(me.org_id) = any (p_if_match)) then
    raise exception 'precondition failed: the retention policy changed since the version named'
      using errcode = 'P0001', hint = 'stale_retention_policy';
  end if;
  -- The rules in force now and the changes still pending, per type.
  select coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('days', r.days, 'pend', r.pend, 'pend_at', r.pend_at)), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, r.days) filter (where r.days is not null), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('retain_days', r.pend, 'effective_at', r.pend_at))
                    filter (where r.pend is not null), '{}')
    into cur, old, old_pending
    from (select x.doc_type,
                 case when x.effective_at <= now() then x.pending_days else x.retain_days end as days,
                 case when x.effective_at > now() then x.pending_days end as pend,
                 case when x.effective_at > now() then x.effective_at end as pend_at
            from app.document_retention x where x.org_id = me.org_id) r;
  delete from app.document_retention r where r.org_id = me.org_id;
  insert into app.document_retention (org_id, doc_type, retain_days, pending_days, effective_at, updated_by)
  select me.org_id, w.doc_type,
         case when c.days is not null and w.days >= c.days then w.days else c.days end,
         case when c.days is not null and w.days >= c.days then null else w.days end,
         case when c.days is not null and w.days >= c.days then null
              when c.pend is not null and w.days >= c.pend then c.pend_at
              else now() + private.retention_notice() end,
         me.user_id
    from (select e.key as doc_type, (e.value #>> '{}')::int as days from jsonb_each(p_policy) e) w
    left join lateral (select (cur -> w.doc_type ->> 'days')::int as days,
                              (cur -> w.doc_type ->> 'pend')::int as pend,
                              (cur -> w.doc_type ->> 'pend_at')::timestamptz as pend_at) c on true;
  select coalesce(jsonb_object_agg(r.doc_type, r.retain_days) filter (where r.retain_days is not null), '{}'),
         coalesce(jsonb_object_agg(r.doc_type, jsonb_build_object('retain_days', r.pending_days, 'effective_at', r.effective_at))
                    filter (where r.pending_days is not null), '{}')
    into new, pending
    from app.document_retention r where r.org_id = me.org_id;
  perform audit.append_as(me.org_id, 'org.retention_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new, 'old_pending', old_pending,
      'pending', pending, 'notice_days', extract(day from private.retention_notice())::int));
end $_$;

ALTER FUNCTION app.set_document_retention(p_policy jsonb, p_request text, p_if_match text[]) OWNER TO ward_definer;

--
-- Name: set_gateway_policy(text[], text[], text, text, text[], text[], integer, integer, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text, p_allow text[], p_keep text[], p_requests_per_minute integer, p_tokens_per_minute integer, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
  old jsonb;
  new jsonb;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_providers is null or p_models is null or p_allow is null or p_keep is null
     or array_position(p_providers, null) is not null or array_position(p_models, null) is not null
     or array_position(p_allow, null) is not null
     or exists (select from unnest(p_providers) x where x !~ '^[a-z][a-z0-9_-]{0,31}$')
     or exists (select from unnest(p_models) x where x !~ '^[A-Za-z0-9._:@/-]{1,100}$') then
    raise exception 'providers are registry names; models are model names (letters, digits and . _ - : @ /)'
      using errcode = '22023';
  end if;
  if not p_allow <@ array['images', 'documents', 'server_tools', 'mcp']::text[] then
    raise exception 'allow lists images, documents, server_tools and mcp' using errcode = '22023';
  end if;
  if not p_keep <@ array['ORGANIZATION']::text[] then
    raise exception 'keep may list ORGANIZATION only: Safe Harbor identifiers are always replaced' using errcode = '22023';
  end if;
  if p_dates is null or p_dates not in ('mask', 'shift') or p_zip is null or p_zip not in ('mask', 'zip3') then
    raise exception 'dates is mask or shift; zip is mask or zip3' using errcode = '22023';
  end if;
  if p_requests_per_minute is null or p_requests_per_minute not between 1 and 100000
     or p_tokens_per_minute is null or p_tokens_per_minute not between 1000 and 100000000 then
    raise exception 'requests_per_minute is 1..100000; tokens_per_minute is 1000..100000000' using errcode = '22023';
  end if;
  select jsonb_build_object('providers', to_jsonb(o.gateway_providers), 'models', to_jsonb(o.gateway_models),
           'dates', o.gateway_dates, 'zip', o.gateway_zip, 'allow', to_jsonb(o.gateway_allow),
           'keep', to_jsonb(o.gateway_keep), 'requests_per_minute', o.gateway_requests_per_minute, 'tokens_per_minute', o.gateway_tokens_per_minute)
    into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set
    gateway_providers = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_providers) x),
    gateway_models = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_models) x),
    gateway_dates = p_dates, gateway_zip = p_zip,
    gateway_allow = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_allow) x),
    gateway_keep = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(p_keep) x),
    gateway_requests_per_minute = p_requests_per_minute, gateway_tokens_per_minute = p_tokens_per_minute
   where o.id = me.org_id
  returning jsonb_build_object('providers', to_jsonb(o.gateway_providers), 'models', to_jsonb(o.gateway_models),
           'dates', o.gateway_dates, 'zip', o.gateway_zip, 'allow', to_jsonb(o.gateway_allow),
           'keep', to_jsonb(o.gateway_keep), 'requests_per_minute', o.gateway_requests_per_minute, 'tokens_per_minute', o.gateway_tokens_per_minute)
    into new;
  perform audit.append_as(me.org_id, 'org.gateway_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('old', old, 'new', new));
end $_$;

ALTER FUNCTION app.set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text, p_allow text[], p_keep text[], p_requests_per_minute integer, p_tokens_per_minute integer, p_request text) OWNER TO ward_definer;

--
-- Name: set_risk_policy(integer, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_risk_policy(p_threshold integer, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old int;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if p_threshold is not null and p_threshold not between 1 and 200 then
    raise exception 'risk_threshold must be 1..200, or null to record scores only' using errcode = '22023';
  end if;
  select o.risk_threshold into old from app.orgs o where o.id = me.org_id for update;
  update app.orgs o set risk_threshold = p_threshold where o.id = me.org_id;
  perform audit.append_as(me.org_id, 'org.risk_policy.update', 'success', 'org', me.org_id,
    p_request => p_request, p_details => jsonb_build_object('risk_threshold', p_threshold, 'old_risk_threshold', old));
end $$;

ALTER FUNCTION app.set_risk_policy(p_threshold integer, p_request text) OWNER TO ward_definer;

--
-- Name: set_scim_group_role(uuid, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_scim_group_role(p_group uuid, p_role text, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
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

ALTER FUNCTION app.set_scim_group_role(p_group uuid, p_role text, p_request text) OWNER TO ward_definer;

--
-- Name: set_session_policy(integer, integer, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_session_policy(p_idle integer, p_abs integer, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  old app.orgs%rowtype;
  pol app.instance_policy%rowtype;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into pol from app.instance_policy;
  if p_idle is null or p_idle < 1 or p_idle > pol.session_idle_max_min then
    raise exception 'session_idle_timeout_min must be 1..% (the instance policy caps it)', pol.session_idle_max_min
      using errcode = '22023';
  elsif p_abs is null or p_abs < 5 or p_abs > pol.session_absolute_max_min then
    raise exception 'session_absolute_max_min must be 5..% (the instance policy caps it)', pol.session_absolute_max_min
      using errcode = '22023';
  elsif p_idle > p_abs then
    raise exception 'session_idle_timeout_min may not exceed session_absolute_max_min' using errcode = '22023';
  end if;
  select * into old from app.orgs where id = me.org_id for update;
  -- The event first: the change may end the caller's own session, after
  -- which the credential would no longer name the actor.
  perform audit.append_as(me.org_id, 'org.session_policy.update', 'success', 'org', me.org_id,
    p_request => p_request,
    p_details => jsonb_build_object('idle_min', p_idle, 'absolute_min', p_abs,
                                    'old_idle_min', old.session_idle_timeout_min,
                                    'old_absolute_min', old.session_absolute_max_min));
  update app.orgs set session_idle_timeout_min = p_idle, session_absolute_max_min = p_abs
   where id = me.org_id;
  update app.sessions s
     set idle_timeout_min = least(s.idle_timeout_min, p_idle),
         absolute_expires_at = least(s.absolute_expires_at, s.created_at + make_interval(mins => p_abs))
   where s.org_id = me.org_id and s.revoked_at is null;
end $$;

ALTER FUNCTION app.set_session_policy(p_idle integer, p_abs integer, p_request text) OWNER TO ward_definer;

--
-- Name: set_sso_policy(boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.set_sso_policy(p_enforce boolean, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.set_sso_policy(p_enforce boolean, p_request text) OWNER TO ward_definer;

--
-- Name: shredded_entry_frozen(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.shredded_entry_frozen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  shredded timestamptz;
begin
  if (new.name, new.value, new.unit, new.kcal, new.protein_g, new.carbs_g, new.fat_g, new.observed_at, new.note_enc)
     is not distinct from ('shredded'::text, null::numeric, null::text, null::numeric, null::numeric, null::numeric,
                           null::numeric, old.created_at, null::bytea) then
    return new;
  end if;
  select p.shredded_at into shredded from app.patients p
   where p.org_id = old.org_id and p.id = old.patient_id for key share;
  if shredded is not null then
    raise exception 'the patient was crypto-shredded: the record takes no change' using errcode = '55000',
      hint = 'patient_shredded';
  end if;
  return new;
end $$;

ALTER FUNCTION app.shredded_entry_frozen() OWNER TO ward_definer;

--
-- Name: signer_key(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.signer_key() RETURNS bytea
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return (select k.wrapped from private.keysets k
           where k.org_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff' and k.purpose = 'signer');
end $$;

ALTER FUNCTION app.signer_key() OWNER TO ward_definer;

--
-- Name: sso_assertion_once(bytea, bytea, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  st app.sso_states%rowtype;
  n int;
begin
  if octet_length(p_id_hash) is distinct from 32 then
    raise exception 'sso_assertion_once: the id hash is 32 bytes' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at > now() - interval '5 minutes' and s.done_at is null;
  if not found then
    return false;
  end if;
  delete from app.sso_assertions a
   where a.ctid = any (array(select x.ctid from app.sso_assertions x where x.expires_at < now() limit 100));
  insert into app.sso_assertions (org_id, connection_id, id_hash, expires_at)
  values (st.org_id, st.connection_id, p_id_hash,
          least(greatest(coalesce(p_expires_at, now()), now() + interval '1 minute'), now() + interval '1 day'))
  on conflict do nothing;
  get diagnostics n = row_count;
  return n = 1;
end $$;

ALTER FUNCTION app.sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamp with time zone) OWNER TO ward_definer;

--
-- Name: sso_begin(text, uuid, uuid, bytea, bytea); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  c app.sso_connections%rowtype;
begin
  if octet_length(p_state_hash) is distinct from 32 or octet_length(p_binder_hash) is distinct from 32 then
    raise exception 'sso_begin: state and binder hashes are 32 bytes' using errcode = '22023';
  end if;
  if p_domain is not null then
    select x.* into c from app.sso_domains d join app.sso_connections x on x.org_id = d.org_id and x.id = d.connection_id
     where d.domain = lower(p_domain) and d.verified_at is not null;
  else
    select x.* into c from app.sso_connections x where x.org_id = p_org and x.id = p_connection;
  end if;
  if c.id is null then
    return;
  end if;
  delete from app.sso_states s
   where s.ctid = any (array(select x.ctid from app.sso_states x where x.expires_at < now() - interval '1 hour' limit 100));
  insert into app.sso_states (state_hash, org_id, connection_id, binder_hash) values (p_state_hash, c.org_id, c.id, p_binder_hash);
  org_id := c.org_id; connection_id := c.id; kind := c.kind; issuer := c.issuer; client_id := c.client_id;
  return next;
end $$;

ALTER FUNCTION app.sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text) OWNER TO ward_definer;

--
-- Name: sso_complete(bytea, bytea, uuid, bytea, bytea, boolean, text, text[], text, bytea, inet, text, text, timestamp with time zone, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text DEFAULT NULL::text, p_auth_time timestamp with time zone DEFAULT NULL::timestamp with time zone, p_hd text DEFAULT NULL::text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) RETURNS record
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
                            assurance, amr, authenticated_at, sso_connection_id)
  values (c.org_id, uid, p_session_hash, idle_timeout_min, absolute_expires_at, audit.clean_text(p_ua, 256), p_ip,
          aal, '{sso}', authenticated, c.id)
  returning id into session_id;
  user_id := uid; org_id := c.org_id; status := 'ok';
  perform audit.append_as(c.org_id, 'auth.signin', 'success', 'session', session_id,
    p_request => p_request, p_ip => host(p_ip), p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'connection', c.id, 'kind', c.kind, 'aal', aal,
      'idp_amr', coalesce(to_jsonb(p_amr), '[]'::jsonb), 'idp_acr', p_acr,
      'idp_auth_time', p_auth_time, 'authenticated_at', authenticated),
    p_actor => uid);
end $$;

ALTER FUNCTION app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text, p_auth_time timestamp with time zone, p_hd text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) OWNER TO ward_definer;

--
-- Name: sso_domain_verify_failed(text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_domain_verify_failed(p_domain text, p_reason text, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  d app.sso_domains%rowtype;
begin
  perform private.sso_admin();
  select * into me from private.me();
  if p_reason is null or p_reason not in ('dns_record_missing', 'dns_lookup_failed') then
    raise exception 'sso_domain_verify_failed: reason is dns_record_missing or dns_lookup_failed' using errcode = '22023';
  end if;
  select * into d from app.sso_domains x where x.org_id = me.org_id and x.domain = lower(p_domain);
  if not found then
    raise exception 'not found' using errcode = 'P0002';
  end if;
  perform audit.append_as(me.org_id, 'sso.domain.verify', 'failure', 'sso_connection', d.connection_id,
    p_request => p_request, p_details => jsonb_build_object('domain', d.domain, 'by', 'dns', 'reason', p_reason));
end $$;

ALTER FUNCTION app.sso_domain_verify_failed(p_domain text, p_reason text, p_request text) OWNER TO ward_definer;

--
-- Name: sso_failure(bytea, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_failure(p_state_hash bytea, p_reason text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  st app.sso_states%rowtype;
begin
  if p_reason is null or p_reason !~ '^[a-z_]{1,40}$' then
    raise exception 'sso_failure: a reason code' using errcode = '22023';
  end if;
  select * into st from app.sso_states s
   where s.state_hash = p_state_hash and s.taken_at is not null and s.done_at is null for update;
  if not found then
    return;
  end if;
  update app.sso_states s set done_at = now() where s.state_hash = p_state_hash;
  perform audit.append_as(st.org_id, 'auth.signin', 'denied', 'sso_connection', st.connection_id,
    p_request => p_request, p_ip => p_ip, p_ua => p_ua,
    p_details => jsonb_build_object('method', 'sso', 'reason', p_reason));
end $_$;

ALTER FUNCTION app.sso_failure(p_state_hash bytea, p_reason text, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: sso_release_shredded(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_release_shredded(p_org uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r record;
  n integer := 0;
begin
  -- Only a shredded org's: the shred's trigger and this migration call it.
  if not exists (select from app.orgs o where o.id = p_org and o.shredded_at is not null) then
    raise exception 'sso_release_shredded: the org is not shredded' using errcode = '55000';
  end if;
  for r in delete from app.sso_connections c where c.org_id = p_org returning c.id, c.kind loop
    perform audit.append_as(p_org, 'sso.connection.delete', 'success', 'sso_connection', r.id,
      p_details => jsonb_build_object('reason', 'org_shredded', 'kind', r.kind, 'sessions_ended', 0,
        'operator', true, 'by', session_user::text));
    n := n + 1;
  end loop;
  return n;
end $$;

ALTER FUNCTION app.sso_release_shredded(p_org uuid) OWNER TO ward_definer;

--
-- Name: sso_take(bytea, bytea, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text, OUT client_secret_enc bytea, OUT signing_algs text[]) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  st app.sso_states%rowtype;
  c app.sso_connections%rowtype;
begin
  select * into st from app.sso_states s where s.state_hash = p_state_hash for update;
  if not found then
    status := 'invalid';
    return;
  end if;
  status := case
    when st.taken_at is not null then 'used'
    when st.expires_at <= now() then 'expired'
    when p_binder_hash is null or st.binder_hash <> p_binder_hash then 'wrong_browser'
    else 'ok' end;
  if status <> 'ok' then
    perform audit.append_as(st.org_id, 'auth.signin', 'denied', 'sso_connection', st.connection_id,
      p_request => p_request, p_ip => p_ip, p_ua => p_ua,
      p_details => jsonb_build_object('method', 'sso', 'reason', status));
    return;
  end if;
  update app.sso_states s set taken_at = now() where s.state_hash = p_state_hash;
  select * into c from app.sso_connections x where x.org_id = st.org_id and x.id = st.connection_id;
  org_id := c.org_id; connection_id := c.id; kind := c.kind; issuer := c.issuer; client_id := c.client_id;
  client_secret_enc := c.client_secret_enc; signing_algs := c.signing_algs;
end $$;

ALTER FUNCTION app.sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text, OUT client_secret_enc bytea, OUT signing_algs text[]) OWNER TO ward_definer;

--
-- Name: stale_principal(); Type: FUNCTION; Schema: app; Owner: ward_owner
--

CREATE FUNCTION app.stale_principal() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception 'the credential no longer resolves to the principal the server holds for it'
    using errcode = 'WA001';
end $$;

ALTER FUNCTION app.stale_principal() OWNER TO ward_owner;

--
-- Name: totp_confirm(bytea, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_confirm(p_secret bytea, p_code text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
  f app.totp_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
  matched bigint;
  ended int;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found or f.pending_secret_enc is null or f.pending_session is distinct from me.session_id then
    status := 'not_pending';
    return;
  end if;
  if f.pending_created_at <= now() - interval '10 minutes' then
    update app.totp_factors x
       set pending_secret_enc = null, pending_secret_hash = null, pending_created_at = null, pending_session = null,
           pending_failures = 0
     where x.org_id = f.org_id and x.user_id = f.user_id;
    perform audit.append_as(me.org_id, 'auth.mfa.replace', 'denied', 'user', me.user_id, p_request => p_request,
      p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'totp', 'result', 'expired', 'session', me.session_id));
    status := 'expired';
    return;
  end if;
  if p_secret is null or pg_catalog.sha256(p_secret) <> f.pending_secret_hash then
    raise exception 'totp_confirm: not the pending secret' using errcode = '22023';
  end if;
  if p_code ~ '^[0-9]{6}$' then
    select s into matched from generate_series(now_step - 1, now_step + 1) s
     where private.hotp(p_secret, s, 6, 'sha1') = p_code
     order by s desc limit 1;
  end if;
  if matched is null then
    -- Five wrong codes discard the replacement: the member enrols again.
    update app.totp_factors x
       set pending_failures = case when x.pending_failures + 1 >= 5 then 0 else x.pending_failures + 1 end,
           pending_secret_enc = case when x.pending_failures + 1 >= 5 then null else x.pending_secret_enc end,
           pending_secret_hash = case when x.pending_failures + 1 >= 5 then null else x.pending_secret_hash end,
           pending_created_at = case when x.pending_failures + 1 >= 5 then null else x.pending_created_at end,
           pending_session = case when x.pending_failures + 1 >= 5 then null else x.pending_session end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.pending_secret_enc is null then 'discarded' else 'invalid' end into status;
    perform audit.append_as(me.org_id, 'auth.mfa.replace', 'denied', 'user', me.user_id, p_request => p_request,
      p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
      p_details => jsonb_build_object('method', 'totp', 'result', status, 'session', me.session_id));
    return;
  end if;
  -- The old secret may be what leaked: the member's other sessions that
  -- presented TOTP end, as a removal ends them (this one stays: it just
  -- presented the new secret).
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp']
     and s.id <> me.session_id;
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_replaced'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp']
     and s.id <> me.session_id;
  update app.totp_factors x
     set secret_enc = x.pending_secret_enc, secret_hash = x.pending_secret_hash, created_at = now(),
         confirmed_at = now(), last_step = matched, failures = 0, lockouts = 0, locked_until = null,
         pending_secret_enc = null, pending_secret_hash = null, pending_created_at = null, pending_session = null,
         pending_failures = 0
   where x.org_id = f.org_id and x.user_id = f.user_id;
  perform audit.append_as(me.org_id, 'auth.mfa.replace', 'success', 'user', me.user_id, p_request => p_request,
    p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('method', 'totp', 'sessions_ended', ended, 'session', me.session_id));
  select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  status := 'ok';
end $_$;

ALTER FUNCTION app.totp_confirm(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text, OUT status text, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: totp_delete(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_delete(p_request text DEFAULT NULL::text, OUT status text, OUT email_enc bytea) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  o app.orgs%rowtype;
  bar text;
  f app.totp_factors%rowtype;
  passkeys int;
  ended int;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  -- The member's passkeys, then their factor, locked (app.passkey_delete's
  -- order): a concurrent passkey deletion counts what this one leaves.
  perform from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id order by k.id for update;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found then
    status := 'not_found';
    return;
  end if;
  select * into o from app.orgs x where x.id = me.org_id;
  bar := private.assurance_bar(me.role, o.require_mfa, o.require_passkey);
  select count(*) into passkeys from app.passkeys k where k.org_id = me.org_id and k.user_id = me.user_id;
  if f.confirmed_at is not null and bar = 'mfa' and passkeys = 0 then
    perform audit.append_as(me.org_id, 'auth.mfa.delete', 'denied', 'user', me.user_id, p_request => p_request,
      p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'reason', 'last_factor', 'bar', bar));
    status := 'last_factor';
    return;
  end if;
  select count(*) into ended from app.sessions s
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp'];
  perform audit.append_as(me.org_id, 'auth.mfa.delete', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'confirmed', f.confirmed_at is not null,
      'passkeys_left', passkeys, 'sessions_ended', ended, 'session', me.session_id));
  update app.sessions s set revoked_at = now(), revoked_reason = 'totp_deleted'
   where s.org_id = me.org_id and s.user_id = me.user_id and s.revoked_at is null and s.amr @> array['totp'];
  delete from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id;
  select u.email_enc into email_enc from app.users u where u.id = me.user_id;
  status := 'ok';
end $$;

ALTER FUNCTION app.totp_delete(p_request text, OUT status text, OUT email_enc bytea) OWNER TO ward_definer;

--
-- Name: totp_enrol(bytea, bytea, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if exists (select from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id
               and f.confirmed_at is not null) then
    raise exception 'a confirmed TOTP factor exists' using errcode = '23505';
  end if;
  -- A member who holds a factor adds another only after presenting one:
  -- else whoever reads their mail enrols their own TOTP and is AAL2.
  if private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_secret_hash) is distinct from 32 or coalesce(octet_length(p_secret_enc), 0) < 20 then
    raise exception 'totp_enrol: a sealed secret and its 32-byte hash are required' using errcode = '22023';
  end if;
  insert into app.totp_factors (org_id, user_id, secret_enc, secret_hash)
  values (me.org_id, me.user_id, p_secret_enc, p_secret_hash)
  on conflict (org_id, user_id) do update
    set secret_enc = excluded.secret_enc, secret_hash = excluded.secret_hash, created_at = now(),
        last_step = null, failures = 0, locked_until = null
    where app.totp_factors.confirmed_at is null;
  if not found then
    raise exception 'a confirmed TOTP factor exists' using errcode = '23505';
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.enrol', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'session', me.session_id));
end $$;

ALTER FUNCTION app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text) OWNER TO ward_definer;

--
-- Name: totp_pending_secret(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_pending_secret(OUT secret_enc bytea, OUT confirm_by timestamp with time zone) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    return;
  end if;
  select f.pending_secret_enc, f.pending_created_at + interval '10 minutes' into secret_enc, confirm_by
    from app.totp_factors f
   where f.org_id = me.org_id and f.user_id = me.user_id and f.pending_session = me.session_id
     and f.pending_created_at > now() - interval '10 minutes';
end $$;

ALTER FUNCTION app.totp_pending_secret(OUT secret_enc bytea, OUT confirm_by timestamp with time zone) OWNER TO ward_definer;

--
-- Name: totp_replace(bytea, bytea, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text DEFAULT NULL::text, OUT status text, OUT confirm_by timestamp with time zone) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  f app.totp_factors%rowtype;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_secret_hash) is distinct from 32 or coalesce(octet_length(p_secret_enc), 0) < 20 then
    raise exception 'totp_replace: a sealed secret and its 32-byte hash are required' using errcode = '22023';
  end if;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found or f.confirmed_at is null then
    status := 'not_confirmed';
    return;
  end if;
  if p_secret_hash = f.secret_hash then
    raise exception 'totp_replace: the replacement is the current secret' using errcode = '22023';
  end if;
  update app.totp_factors x
     set pending_secret_enc = p_secret_enc, pending_secret_hash = p_secret_hash, pending_created_at = now(),
         pending_session = me.session_id, pending_failures = 0
   where x.org_id = f.org_id and x.user_id = f.user_id;
  perform audit.append_as(me.org_id, 'auth.mfa.enrol', 'success', 'user', me.user_id, p_request => p_request,
    p_actor => me.user_id, p_details => jsonb_build_object('method', 'totp', 'replacement', true,
      'session', me.session_id));
  status := 'ok';
  confirm_by := now() + interval '10 minutes';
end $$;

ALTER FUNCTION app.totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text, OUT status text, OUT confirm_by timestamp with time zone) OWNER TO ward_definer;

--
-- Name: totp_secret(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_secret(OUT secret_enc bytea, OUT confirmed boolean, OUT locked_until timestamp with time zone) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me_factor();
  select f.secret_enc, f.confirmed_at is not null, f.locked_until into secret_enc, confirmed, locked_until
    from app.totp_factors f where f.org_id = me.org_id and f.user_id = me.user_id;
end $$;

ALTER FUNCTION app.totp_secret(OUT secret_enc bytea, OUT confirmed boolean, OUT locked_until timestamp with time zone) OWNER TO ward_definer;

--
-- Name: totp_verify(bytea, text, text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.totp_verify(p_secret bytea, p_code text, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me record;
  f app.totp_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
  matched bigint;
  status text;
begin
  select * into me from private.me_factor();
  if me.session_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  select * into f from app.totp_factors x where x.org_id = me.org_id and x.user_id = me.user_id for update;
  if not found then
    return 'not_enrolled';
  end if;
  if p_secret is null or pg_catalog.sha256(p_secret) <> f.secret_hash then
    raise exception 'totp_verify: not the enrolled secret' using errcode = '22023';
  end if;
  -- Confirming an enrolment adds a factor, and asks what enrolling asks
  -- (app.totp_enrol): a member who holds a factor now (one added since the
  -- enrolment, say) confirms only within the step-up window. Else whoever
  -- read their mail before their first factor enrols, waits, and confirms
  -- from a link's session beside the member's passkey.
  if f.confirmed_at is null and private.passkey_has_factor(me.org_id, me.user_id)
     and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if f.locked_until > now() then
    status := 'locked';
  elsif p_code ~ '^[0-9]{6}$' then
    select s into matched from generate_series(now_step - 1, now_step + 1) s
     where private.hotp(p_secret, s, 6, 'sha1') = p_code
     order by s desc limit 1;
    status := case when matched is null or matched <= coalesce(f.last_step, -1) then 'invalid' else 'ok' end;
  else
    status := 'invalid';
  end if;

  if status = 'ok' then
    update app.totp_factors x set last_step = matched, failures = 0, locked_until = null, lockouts = 0,
           confirmed_at = coalesce(x.confirmed_at, now())
     where x.org_id = f.org_id and x.user_id = f.user_id;
    update app.sessions s set assurance = 2, authenticated_at = now(),
           amr = (select array_agg(distinct a order by a) from unnest(s.amr || array['totp']) a)
     where s.id = me.session_id;
  elsif status = 'invalid' then
    update app.totp_factors x
       set failures = case when x.failures + 1 >= 5 then 0 else x.failures + 1 end,
           lockouts = case when x.failures + 1 >= 5 then x.lockouts + 1 else x.lockouts end,
           locked_until = case when x.failures + 1 >= 5
                               then now() + least(interval '15 minutes' * power(2, least(x.lockouts, 7)),
                                                  interval '24 hours')
                               else x.locked_until end
     where x.org_id = f.org_id and x.user_id = f.user_id
    returning case when x.locked_until > now() then 'lockout' else 'invalid' end into status;
  end if;
  perform audit.append_as(me.org_id, 'auth.mfa.verify', case when status = 'ok' then 'success' else 'denied' end,
    'session', me.session_id, p_request => p_request, p_ip => p_ip, p_ua => p_ua, p_actor => me.user_id,
    p_details => jsonb_build_object('method', 'totp', 'result', status, 'confirmed', f.confirmed_at is not null));
  return status;
end $_$;

ALTER FUNCTION app.totp_verify(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text) OWNER TO ward_definer;

--
-- Name: touch_upload(text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.touch_upload(p_key text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  update app.document_uploads u set touched_at = now()
   where u.org_id = me.org_id and u.storage_key = p_key and u.uploaded_by = me.user_id;
  return found;
end $$;

ALTER FUNCTION app.touch_upload(p_key text) OWNER TO ward_definer;

--
-- Name: unlink_sso_identities(uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text DEFAULT NULL::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  n int;
  ended int;
begin
  perform private.sso_admin();
  select * into me from private.me();
  delete from app.sso_identities i where i.org_id = me.org_id and i.connection_id = p_connection and i.user_id = p_user;
  get diagnostics n = row_count;
  if n > 0 then
    -- What the unlinked subject signed in ends with its link (00179).
    with e as (
      update app.sessions s set revoked_at = now(), revoked_reason = 'sso_identity_unlinked'
       where s.org_id = me.org_id and s.user_id = p_user and s.revoked_at is null
         and (s.sso_connection_id = p_connection or (s.sso_connection_id is null and 'sso' = any (s.amr)))
      returning 1)
    select count(*) into ended from e;
    perform audit.append_as(me.org_id, 'sso.identity.unlink', 'success', 'user', p_user, p_request => p_request,
      p_details => jsonb_build_object('connection', p_connection, 'identities', n, 'sessions_ended', ended));
  end if;
  return n;
end $$;

ALTER FUNCTION app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text) OWNER TO ward_definer;

--
-- Name: update_member(uuid, text, boolean, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  m app.memberships%rowtype;
  tid uuid;
begin
  select * into me from private.me();
  if me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.kind = 'session' and (me.aal < 2 or me.auth_time < now() - interval '10 minutes') then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if me.kind = 'api_key' and (not private.key_holds('members') or (not p_revoke and p_role in ('admin', 'lead'))) then
    raise exception 'forbidden: an API key does not grant the admin or lead role' using errcode = '42501';
  end if;
  -- Serialise membership changes per org, so two admins demoting each
  -- other at once cannot both pass the last-admin check.
  perform 1 from app.orgs o where o.id = me.org_id for update;
  -- The caller's own standing again, now that the lock is held: a change
  -- that demoted or revoked them (or revoked their key) while they waited
  -- for it has committed, and they may no longer act.
  if not exists (select from app.memberships x where x.org_id = me.org_id and x.user_id = me.user_id
                   and x.revoked_at is null and x.role = 'admin')
     or me.kind = 'api_key' and not exists (select from app.api_keys k where k.org_id = me.org_id
                                              and k.id = me.credential_id and k.revoked_at is null)
     or me.kind = 'session' and not exists (select from app.sessions x where x.org_id = me.org_id
                                              and x.id = me.session_id and x.revoked_at is null) then
    raise exception 'forbidden: the caller''s standing changed while this waited' using errcode = '42501';
  end if;
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

ALTER FUNCTION app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text) OWNER TO ward_definer;

--
-- Name: user_address_changed(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.user_address_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.user_address_changed() OWNER TO ward_definer;

--
-- Name: user_known_live(uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.user_known_live(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select exists (select 1 from app.memberships m join app.orgs o on o.id = m.org_id
                  where m.user_id = p_user and o.shredded_at is null)
      or exists (select 1 from app.case_invites i join app.orgs o on o.id = i.org_id
                  where i.invitee_id = p_user and o.shredded_at is null and i.revoked_at is null
                    and i.accepted_at is null and i.expires_at > now())
$$;

ALTER FUNCTION app.user_known_live(p_user uuid) OWNER TO ward_definer;

--
-- Name: users_erase_only(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.users_erase_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  -- The invoker's role: ward_definer is the one role granted these
  -- columns for the erasure (the owner and a superuser are not bound).
  if current_user = 'ward_definer'
     and (new.email_enc is distinct from old.email_enc or new.email_bidx is distinct from old.email_bidx) then
    if new.email_enc is distinct from '\x'::bytea or app.user_known_live(new.id) then
      raise exception 'users: an address is only erased, and only of a person no live org knows'
        using errcode = '42501';
    end if;
  end if;
  return new;
end $$;

ALTER FUNCTION app.users_erase_only() OWNER TO ward_definer;

--
-- Name: verify_sso_domain_dns(text, text, text); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.verify_sso_domain_dns(p_domain text, p_token text, p_request text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION app.verify_sso_domain_dns(p_domain text, p_token text, p_request text) OWNER TO ward_definer;

--
-- Name: version_sha256(uuid, uuid); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.version_sha256(p_org uuid, p_version uuid) RETURNS bytea
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me_org uuid := private.get_my_org_id();
  v record;
begin
  if me_org is null or p_org is distinct from me_org then
    return null;
  end if;
  select x.case_id, x.document_id, x.uploaded_by, x.sha256 into v
    from app.document_versions x where x.org_id = me_org and x.id = p_version;
  if not found or not exists (select from app.documents d
                               where d.org_id = me_org and d.id = v.document_id and d.deleted_at is null) then
    return null;
  end if;
  if private.am_i_lead_in_org(me_org) or v.case_id = any (private.my_case_ids('download'))
     or (v.uploaded_by = private.uid() and v.case_id = any (private.my_case_ids('view'))) then
    return v.sha256;
  end if;
  return null;
end $$;

ALTER FUNCTION app.version_sha256(p_org uuid, p_version uuid) OWNER TO ward_definer;

--
-- Name: whoami(); Type: FUNCTION; Schema: app; Owner: ward_definer
--

CREATE FUNCTION app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  me private.principal;
  s app.sessions%rowtype;
  reused app.session_tokens%rowtype;
  jkt text := current_setting('ward.dpop', true);
  jti text := current_setting('ward.dpop_jti', true);
  iat text := current_setting('ward.dpop_iat', true);
  began bigint;
  at bigint;
  clock bigint;
  called boolean;
  due boolean;
begin
  scopes := '{}';
  -- The patterns of 00112 ('^[A-Za-z0-9_-]{43}$' for the thumbprint,
  -- '^[0-9]{1,12}$' for iat, '^[0-9a-f]{64}$' for the jti hash), checked
  -- without regular expressions.
  if octet_length(jkt) <> 43
     or ltrim(jkt, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') <> '' then
    jkt := null;
  end if;
  if octet_length(iat) not between 1 and 12 or ltrim(iat, '0123456789') <> '' then
    iat := null;
  end if;
  if jkt is not null and (jti is null or octet_length(jti) <> 64 or ltrim(jti, '0123456789abcdef') <> '') then
    raise exception 'a DPoP key comes with its proof''s jti hash (ward.dpop_jti)' using errcode = '22023';
  end if;
  if jkt is not null and iat is null then
    raise exception 'a DPoP key comes with its proof''s iat (ward.dpop_iat)' using errcode = '22023';
  end if;
  me := private.principal_now();
  if me.credential_id is null then
    select * into reused from app.session_tokens t
     where t.token_hash = private.credential_hash() and t.retired_at <= now() - interval '30 seconds';
    if found then
      update app.sessions x set revoked_at = now(), revoked_reason = 'token_reuse'
       where x.id = reused.session_id and x.revoked_at is null
      returning * into s;
      if found then
        perform audit.append_as(s.org_id, 'auth.token_reuse', 'denied', 'session', s.id, p_actor => s.user_id,
          p_request => current_setting('ward.request', true),
          p_details => jsonb_build_object('retired_at', reused.retired_at, 'action', 'session_revoked'));
      end if;
    end if;
    return;
  end if;
  if jkt is not null then
    select e.last_value, e.is_called into began, called from app.dpop_jti_epoch e;
    if not called then
      -- the memory was reset (crash recovery, a promoted standby, a
      -- restored backup): it begins again now.
      began := setval('app.dpop_jti_epoch', floor(extract(epoch from now()))::bigint, true);
    end if;
    at := iat::bigint;
    if at <= began + 60 then
      raise exception 'the DPoP proof''s iat does not follow the start of the jti memory (%): it may have been used before',
        to_timestamp(began) using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    clock := floor(extract(epoch from clock_timestamp()))::bigint;
    if at < clock - 360 or at > clock + 120 then
      raise exception 'the DPoP proof''s iat is outside the jti memory''s window' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
    insert into app.dpop_jtis (ring, jkt, jti_hash) values ((at / 600 % 3)::smallint, jkt, decode(jti, 'hex')) on conflict do nothing;
    if not found then
      raise exception 'the DPoP proof''s jti was used before' using errcode = '23505', constraint = 'dpop_proofs_pkey';
    end if;
  end if;
  kind := me.kind; credential_id := me.credential_id; user_id := me.user_id; org_id := me.org_id;
  role := me.role; session_id := me.session_id; aal := me.aal; auth_time := 'epoch'::timestamptz + me.auth_us * interval '1 microsecond';
  amr := me.amr; pending := me.pending; break_glass := coalesce(me.break_glass, false);
  if me.kind = 'session' then
    -- private.touch_due(last_seen_at, idle_timeout_min), inline.
    select x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min),
           x.last_seen_at <= now() - least(interval '1 minute', make_interval(secs => x.idle_timeout_min * 6))
      into absolute_expires_at, idle_expires_at, due
      from app.sessions x where x.id = me.session_id;
    if due then
      -- skip locked: another request of the session that touched it holds
      -- the row until its own transaction ends (a record read's check
      -- runs in the request's transaction, postgres.RequestTx); it has
      -- touched it, so this one does not wait for it.
      update app.sessions x set last_seen_at = now()
       where x.id = (select y.id from app.sessions y where y.id = me.session_id for update skip locked)
         and x.last_seen_at <= now() - least(interval '1 minute', make_interval(secs => x.idle_timeout_min * 6))
      returning x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min)
        into absolute_expires_at, idle_expires_at;
      if not found then
        select x.absolute_expires_at, x.last_seen_at + make_interval(mins => x.idle_timeout_min)
          into absolute_expires_at, idle_expires_at
          from app.sessions x where x.id = me.session_id;
      else
        -- The touch moved the epoch: seal the principal again for the
        -- rest of the request's transaction (00164).
        perform private.principal_now();
      end if;
    end if;
    idle_expires_at := least(absolute_expires_at, idle_expires_at);
  elsif me.kind = 'api_key' then
    -- app.api_key_scopes(): its last use is touched at most once a minute.
    select k.scopes, k.last_used_at is null or k.last_used_at < now() - interval '1 minute'
      into scopes, due
      from app.api_keys k where k.org_id = me.org_id and k.id = me.credential_id;
    if due then
      update app.api_keys k set last_used_at = now()
       where (k.org_id, k.id) = (select j.org_id, j.id from app.api_keys j
                                  where j.org_id = me.org_id and j.id = me.credential_id for update skip locked)
         and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
      if found then
        perform private.principal_now();
      end if;
    end if;
  end if;
  return next;
end $_$;

ALTER FUNCTION app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) OWNER TO ward_definer;

--
-- Name: access_report(uuid, uuid); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.access_report(p_org uuid, p_patient uuid) RETURNS TABLE(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text, listed boolean, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  my_cases uuid[];
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- The patient's cases: an event listing one of them (case.list names
  -- case ids in its results) showed the patient's case title.
  my_cases := coalesce((select array_agg(c.id) from app.cases c where c.org_id = p_org and c.patient_id = p_patient), '{}');
  return query
    select (select l.seq from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid),
           e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases)
     order by 1, e.qid;
end $$;

ALTER FUNCTION audit.access_report(p_org uuid, p_patient uuid) OWNER TO ward_definer;

--
-- Name: access_report_page(uuid, uuid, bigint, integer); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer) RETURNS TABLE(seq bigint, at timestamp with time zone, actor_id uuid, actor_kind text, action text, outcome text, listed boolean, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
  my_cases uuid[];
  n bigint;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  -- The patient's cases: an event listing one of them (case.list names
  -- case ids in its results) showed the patient's case title.
  my_cases := coalesce((select array_agg(c.id) from app.cases c where c.org_id = p_org and c.patient_id = p_patient), '{}');
  if p_after is null or p_after < 0 or p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception 'access report: after is 0 or more, limit 1..1000' using errcode = '22023';
  end if;
  return query
    select l.seq, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
           m.role,
           case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
      from audit.events e
      join audit.leaves l on l.org_id = e.org_id and l.qid = e.qid
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases) and l.seq > p_after
     order by l.seq
     limit p_limit;
  get diagnostics n = row_count;
  if n < p_limit then
    return query
      select null::bigint, e.at, e.actor_id, e.actor_kind, e.action, e.outcome, e.patient_id is distinct from p_patient,
             m.role,
             case when m.role in ('provider', 'lead', 'admin') or e.actor_id = me.user_id then u.email_enc end
        from audit.events e
        left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
        left join app.users u on u.id = e.actor_id
       where e.org_id = p_org and (e.patient_id = p_patient or e.result_ids @> array[p_patient] or e.result_ids && my_cases)
         and not exists (select from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid)
       order by e.qid
       limit p_limit - n;
  end if;
end $$;

ALTER FUNCTION audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer) OWNER TO ward_definer;

--
-- Name: append(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, jsonb, uuid); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text DEFAULT NULL::text, p_object_id uuid DEFAULT NULL::uuid, p_patient uuid DEFAULT NULL::uuid, p_results uuid[] DEFAULT '{}'::uuid[], p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, p_details jsonb DEFAULT '{}'::jsonb, p_disclosure jsonb DEFAULT NULL::jsonb, p_case uuid DEFAULT NULL::uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- No actor of the caller's, a live credential required, reserved actions refused.
  return audit.append_event(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                            p_request, p_ip, p_ua, p_details, null, true, p_disclosure, p_case, true);
end $$;

ALTER FUNCTION audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_disclosure jsonb, p_case uuid) OWNER TO ward_definer;

--
-- Name: append_as(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text DEFAULT NULL::text, p_object_id uuid DEFAULT NULL::uuid, p_patient uuid DEFAULT NULL::uuid, p_results uuid[] DEFAULT '{}'::uuid[], p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, p_details jsonb DEFAULT '{}'::jsonb, p_actor uuid DEFAULT NULL::uuid, p_require_credential boolean DEFAULT false, p_disclosure jsonb DEFAULT NULL::jsonb, p_case uuid DEFAULT NULL::uuid) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return audit.append_event(p_org, p_action, p_outcome, p_object_type, p_object_id, p_patient, p_results,
                            p_request, p_ip, p_ua, p_details, p_actor, p_require_credential, p_disclosure, p_case, false);
end $$;

ALTER FUNCTION audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid) OWNER TO ward_definer;

--
-- Name: append_event(uuid, text, text, text, uuid, uuid, uuid[], text, text, text, jsonb, uuid, boolean, jsonb, uuid, boolean); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.append_event(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  me private.principal;
  a audit.actions%rowtype;
  known boolean;
  actor uuid;
  kind text;
  sess uuid;
  patient uuid := p_patient;
  kase uuid := p_case;
  kase_patient uuid;
  disclosure jsonb := p_disclosure;
  stakeholder text;
  -- (00270) An event whose writer names no client (the SQL procedures
  -- that change a member, a key, a token or a policy; a trigger's) takes
  -- the one bound with the transaction's credential.
  ua text := audit.clean_text(coalesce(nullif(p_ua, ''), nullif(current_setting('ward.ua', true), '')), 256);
  -- An event written without a request id (a trigger's: the case grants a
  -- revoked membership ends, the keys it revokes) takes the request's the
  -- transaction is bound to.
  req text := audit.clean_text(coalesce(p_request, current_setting('ward.request', true)), 64);
  ip text := audit.clean_text(coalesce(nullif(p_ip, ''), nullif(current_setting('ward.ip', true), '')), 64);
  at timestamptz := date_trunc('microseconds', clock_timestamp());
  canon bytea;
  id bigint;
begin
  select * into a from audit.actions x where x.name = p_action;
  known := found;
  if p_refuse_reserved and p_outcome = 'success' and a.reserved then
    raise exception 'audit: % is recorded only by the procedure that does it', p_action using errcode = '42501';
  end if;
  if p_org is null or p_action is null or p_outcome is null
     or p_outcome not in ('success', 'denied', 'failure')
     or (p_results is not null and (array_position(p_results, null) is not null or array_ndims(p_results) > 1))
     or (p_details is not null and jsonb_typeof(p_details) <> 'object') then
    raise exception 'audit: invalid event' using errcode = '22023';
  end if;
  if not known then
    raise exception 'audit: unknown action %', left(p_action, 64) using errcode = '22023';
  end if;
  if p_disclosure is not null then
    -- Only a disclosure action, or a procedure that records one (a
    -- stakeholder's download, app.open_document_version through
    -- audit.append_as), names a recipient: the server's own path
    -- (audit.append) may not make any other event a disclosure, so
    -- nothing but a disclosure reaches the accounting of §164.528.
    if p_refuse_reserved and not coalesce(a.disclosure, false) then
      raise exception 'audit: % records no disclosure', left(p_action, 64) using errcode = '22023';
    end if;
    if jsonb_typeof(p_disclosure) <> 'object'
       or (select array_agg(k order by k) from jsonb_object_keys(p_disclosure) k) <> array['purpose', 'recipient']
       or jsonb_typeof(p_disclosure -> 'purpose') <> 'string' or jsonb_typeof(p_disclosure -> 'recipient') <> 'string'
       or length(p_disclosure ->> 'purpose') not between 1 and 200
       or length(p_disclosure ->> 'recipient') not between 1 and 200 then
      raise exception 'audit: a disclosure is {"recipient", "purpose"}, 1..200 characters each' using errcode = '22023';
    end if;
  end if;
  if p_outcome = 'success' and (
       (a.disclosure and p_disclosure is null)
       or ('patient' = any (a.requires) and p_patient is null)
       or ('object' = any (a.requires) and (p_object_type is null or p_object_id is null))) then
    raise exception 'audit: action % needs %', p_action, array_to_string(a.requires, ', ') using errcode = '22023';
  end if;
  -- The existence checks are nested under a simple test: PL/pgSQL runs a
  -- condition that holds a subquery through the executor whatever its
  -- other operands, so the outer test spares the query when there is
  -- nothing to look up.
  if patient is not null then
    perform from app.patients pt where pt.org_id = p_org and pt.id = patient;
    if not found then
      if p_outcome = 'success' then
        raise exception 'audit: no such patient in this org' using errcode = '22023';
      end if;
      patient := null; -- a probe of an id that names nobody here
    end if;
  end if;
  if kase is not null then
    select c.patient_id into kase_patient from app.cases c where c.org_id = p_org and c.id = kase;
    if not found then
      if p_outcome = 'success' then
        raise exception 'audit: no such case in this org' using errcode = '22023';
      end if;
      kase := null;
    end if;
  end if;

  -- private.me(), without its frame: the principal unless it is pending.
  me := private.principal_now();
  if me.pending is not null then
    me := null;
  end if;
  if p_require_credential and me.user_id is null then
    raise exception 'audit: a live credential is required' using errcode = '42501';
  end if;
  if me.user_id is not null then
    if me.org_id <> p_org then
      raise exception 'audit: credential does not belong to this org' using errcode = '42501';
    end if;
    actor := me.user_id; kind := 'user'; sess := me.session_id;
  elsif p_actor is not null then
    actor := p_actor; kind := 'system';
  else
    kind := 'anonymous';
  end if;

  -- An external stakeholder's successful read of a case, its documents or
  -- their comments is a disclosure of the patient's PHI (workers'
  -- compensation, §164.512(l), is not exempt from the accounting of
  -- §164.528). The database names it, whatever the server sent: the
  -- recipient is the caller's own grant on the case (its kind, and the
  -- organisation it names), the purpose the download's default, and the
  -- patient the case's. A caller who is no stakeholder, and every other
  -- action, are as before.
  -- (00174) Whoever reads through an outside party's grant on the case
  -- (any kind but staff) discloses, whatever their membership role: a
  -- patient or staff member invited as an attorney reads as the attorney.
  if p_outcome = 'success' and kase is not null and disclosure is null and a.stakeholder_disclosure
     and me.user_id is not null then
    select cm.kind || coalesce(': ' || cm.recipient_org, '') into stakeholder from app.case_members cm
     where cm.org_id = p_org and cm.case_id = kase and cm.user_id = me.user_id and cm.kind <> 'staff';
    if stakeholder is not null or me.role = 'stakeholder' then
      disclosure := jsonb_build_object('recipient', coalesce(stakeholder, 'stakeholder'),
                                       'purpose', 'case document exchange');
      patient := coalesce(patient, kase_patient);
    end if;
  end if;
  -- (00336) Anyone else's read of what the case holds names its patient
  -- too, so it is in the patient's access report; it is no disclosure.
  if p_outcome = 'success' and kase is not null and a.stakeholder_disclosure then
    patient := coalesce(patient, kase_patient);
  end if;

  canon := convert_to(audit.canonical_event_v2(p_org, at, p_action, p_outcome, actor, kind, sess,
                       p_object_type, p_object_id, patient, p_results, req, ip, ua, p_details,
                       me.kind, me.credential_id, me.device, kase, disclosure, coalesce(me.break_glass, false)),
                     'UTF8');
  -- The event, written once and never changed, and its place in the
  -- integrator's queue, in one statement.
  with e as (
    insert into audit.events (org_id, at, action, outcome, actor_id, actor_kind, session_id,
      object_type, object_id, patient_id, result_ids, request_id, ip, user_agent, details,
      canonical, leaf_hash, v, credential_kind, credential_id, device, case_id, disclosure, break_glass)
    values (p_org, at, p_action, p_outcome, actor, kind, sess,
      p_object_type, p_object_id, patient, coalesce(p_results, '{}'), req, ip, ua,
      coalesce(p_details, '{}'), canon, pg_catalog.sha256('\x00'::bytea || canon), 2, me.kind, me.credential_id,
      me.device, kase, disclosure, coalesce(me.break_glass, false))
    returning qid)
  insert into audit.queue (org_id, qid, at) select p_org, e.qid, at from e
  returning qid into id;
  return id;
end $$;

ALTER FUNCTION audit.append_event(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean) OWNER TO ward_definer;

--
-- Name: canonical_event(uuid, timestamp with time zone, text, text, uuid, text, uuid, text, uuid, uuid, uuid[], text, text, text, jsonb); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
begin
  return '{"action":' || coalesce(to_json(p_action)::text, 'null')
    || ',"actor":' || coalesce('"' || p_actor::text || '"', 'null')
    || ',"actor_kind":' || coalesce(to_json(p_actor_kind)::text, 'null')
    || ',"at":"' || to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"details":' || case when p_details is null or p_details = '{}'::jsonb then '{}' else audit.jcs(p_details) end
    || ',"ip":' || coalesce(to_json(p_ip)::text, 'null')
    || ',"object_id":' || coalesce('"' || p_object_id::text || '"', 'null')
    || ',"object_type":' || coalesce(to_json(p_object_type)::text, 'null')
    || ',"org":' || coalesce('"' || p_org::text || '"', 'null')
    || ',"outcome":' || coalesce(to_json(p_outcome)::text, 'null')
    || ',"patient":' || coalesce('"' || p_patient::text || '"', 'null')
    || ',"request":' || coalesce(to_json(p_request)::text, 'null')
    || ',"results":[' || coalesce((select string_agg('"' || r::text || '"', ',' order by o)
                                     from unnest(p_results) with ordinality u(r, o)), '') || ']'
    || ',"session":' || coalesce('"' || p_session::text || '"', 'null')
    || ',"ua":' || coalesce(to_json(p_ua)::text, 'null')
    || ',"v":1}';
end $$;

ALTER FUNCTION audit.canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) OWNER TO ward_owner;

--
-- Name: canonical_event_v2(uuid, timestamp with time zone, text, text, uuid, text, uuid, text, uuid, uuid, uuid[], text, text, text, jsonb, text, uuid, text, uuid, jsonb, boolean); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
begin
  return '{"action":' || coalesce(to_json(p_action)::text, 'null')
    || ',"actor":' || coalesce('"' || p_actor::text || '"', 'null')
    || ',"actor_kind":' || coalesce(to_json(p_actor_kind)::text, 'null')
    || ',"at":"' || to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"break_glass":' || case when p_break_glass then 'true' else 'false' end
    || ',"case":' || coalesce('"' || p_case::text || '"', 'null')
    || ',"credential":' || coalesce('"' || p_credential::text || '"', 'null')
    || ',"credential_kind":' || coalesce(to_json(p_credential_kind)::text, 'null')
    || ',"details":' || case when p_details is null or p_details = '{}'::jsonb then '{}' else audit.jcs(p_details) end
    || ',"device":' || coalesce(to_json(p_device)::text, 'null')
    || ',"disclosure":' || case when p_disclosure is null then 'null' else audit.jcs(p_disclosure) end
    || ',"ip":' || coalesce(to_json(p_ip)::text, 'null')
    || ',"object_id":' || coalesce('"' || p_object_id::text || '"', 'null')
    || ',"object_type":' || coalesce(to_json(p_object_type)::text, 'null')
    || ',"org":' || coalesce('"' || p_org::text || '"', 'null')
    || ',"outcome":' || coalesce(to_json(p_outcome)::text, 'null')
    || ',"patient":' || coalesce('"' || p_patient::text || '"', 'null')
    || ',"request":' || coalesce(to_json(p_request)::text, 'null')
    -- A UUID's text is never empty, so '' means no (non-NULL) element.
    || ',"results":[' || coalesce('"' || nullif(array_to_string(p_results, '","'), '') || '"', '') || ']'
    || ',"session":' || coalesce('"' || p_session::text || '"', 'null')
    || ',"ua":' || coalesce(to_json(p_ua)::text, 'null')
    || ',"v":2}';
end $$;

ALTER FUNCTION audit.canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) OWNER TO ward_owner;

--
-- Name: chain_seed(text); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.chain_seed(p_origin text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
  select pg_catalog.sha256(convert_to('audit-chain/v1' || chr(10) || p_origin, 'UTF8'))
$$;

ALTER FUNCTION audit.chain_seed(p_origin text) OWNER TO ward_owner;

--
-- Name: clean_text(text, integer); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.clean_text(p text, p_max integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  select nullif(left(pg_catalog.regexp_replace(p, '[\x01-\x1f\x7f]', '', 'g'), p_max), '')
$$;

ALTER FUNCTION audit.clean_text(p text, p_max integer) OWNER TO ward_owner;

--
-- Name: disclosure_accounting(uuid, uuid); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.disclosure_accounting(p_org uuid, p_patient uuid) RETURNS TABLE(seq bigint, at timestamp with time zone, action text, recipient text, purpose text, object_type text, object_id uuid, case_id uuid, doc_type text, actor_id uuid, actor_role text, actor_email_enc bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.org_id is distinct from p_org
     or not ((me.role = 'admin' and (me.kind = 'session' or (me.kind = 'api_key' and private.key_holds('dsr'))))
             or (me.role = 'patient' and me.kind = 'session' and p_patient = any (private.my_patient_ids()))) then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query
    select (select l.seq from audit.leaves l where l.org_id = e.org_id and l.qid = e.qid),
           e.at, e.action, e.disclosure->>'recipient', e.disclosure->>'purpose', e.object_type,
           e.object_id, e.case_id, d.doc_type, e.actor_id, m.role,
           case when m.role is distinct from 'patient' and m.role is not null then u.email_enc end
      from audit.events e
      left join app.document_versions v
             on e.object_type = 'document_version' and v.org_id = e.org_id and v.id = e.object_id
      left join app.documents d
             on d.org_id = e.org_id
            and d.id = coalesce(v.document_id, case when e.object_type = 'document' then e.object_id end)
      left join app.memberships m on m.org_id = e.org_id and m.user_id = e.actor_id
      left join app.users u on u.id = e.actor_id
     where e.org_id = p_org and e.patient_id = p_patient and e.outcome = 'success'
       and e.disclosure is not null and e.at >= now() - interval '6 years'
     order by 1, e.qid;
end $$;

ALTER FUNCTION audit.disclosure_accounting(p_org uuid, p_patient uuid) OWNER TO ward_definer;

--
-- Name: event_json(uuid, timestamp with time zone, text, text, uuid, text, uuid, text, uuid, uuid, uuid[], text, text, text, jsonb); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object(
    'v', 1,
    'org', p_org,
    'at', to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'action', p_action,
    'outcome', p_outcome,
    'actor', p_actor,
    'actor_kind', p_actor_kind,
    'session', p_session,
    'object_type', p_object_type,
    'object_id', p_object_id,
    'patient', p_patient,
    'results', to_jsonb(coalesce(p_results, '{}')),
    'request', p_request,
    'ip', p_ip,
    'ua', p_ua,
    'details', coalesce(p_details, '{}'::jsonb))
$$;

ALTER FUNCTION audit.event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) OWNER TO ward_owner;

--
-- Name: event_json_v2(uuid, timestamp with time zone, text, text, uuid, text, uuid, text, uuid, uuid, uuid[], text, text, text, jsonb, text, uuid, text, uuid, jsonb, boolean); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select audit.event_json(p_org, p_at, p_action, p_outcome, p_actor, p_actor_kind, p_session, p_object_type,
                          p_object_id, p_patient, p_results, p_request, p_ip, p_ua, p_details)
    || jsonb_build_object('v', 2, 'credential_kind', p_credential_kind, 'credential', p_credential,
                          'device', p_device, 'case', p_case, 'disclosure', p_disclosure,
                          'break_glass', coalesce(p_break_glass, false))
$$;

ALTER FUNCTION audit.event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) OWNER TO ward_owner;

--
-- Name: frontier_root(bytea[]); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.frontier_root(p_frontier bytea[]) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
declare
  n int := coalesce(array_length(p_frontier, 1), 0);
  r bytea;
begin
  if n = 0 then
    return pg_catalog.sha256(''::bytea);
  end if;
  r := p_frontier[n];
  for i in reverse n - 1 .. 1 loop
    r := pg_catalog.sha256('\x01'::bytea || p_frontier[i] || r);
  end loop;
  return r;
end $$;

ALTER FUNCTION audit.frontier_root(p_frontier bytea[]) OWNER TO ward_owner;

--
-- Name: gateway_provider_audit(); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.gateway_provider_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  r app.gateway_providers%rowtype;
  action text;
begin
  if tg_op = 'DELETE' then
    r := old; action := 'gateway.provider.remove';
  elsif tg_op = 'INSERT' then
    r := new; action := 'gateway.provider.register';
  else
    r := new; action := 'gateway.provider.update';
  end if;
  perform audit.append_as('ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid, action, 'success',
    p_details => jsonb_build_object('provider', r.name, 'base_url', r.base_url,
      'baa_signed_at', to_char(r.baa_signed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'baa_ref', r.baa_ref, 'zero_retention', r.zero_retention, 'models', to_jsonb(r.models),
      'region', r.region, 'by', session_user::text));
  return null;
end $$;

ALTER FUNCTION audit.gateway_provider_audit() OWNER TO ward_definer;

--
-- Name: guard_head(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.guard_head() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'UPDATE' and current_user = 'ward_definer' and new.org_id = old.org_id and new.origin = old.origin
     and new.tree_size > old.tree_size then
    return new;
  end if;
  raise exception 'audit: % on audit.heads is not allowed', tg_op using errcode = '42501';
end $$;

ALTER FUNCTION audit.guard_head() OWNER TO ward_owner;

--
-- Name: integrate(uuid, integer); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.integrate(p_org uuid, p_max integer DEFAULT 10000, OUT tree_size bigint, OUT sequenced integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  h audit.heads%rowtype;
  r record;
  chain bytea;
  node bytea;
  fr bytea[];
  size bigint;
  lvl int;
  n bigint;
  last timestamptz;
  qids bigint[] := '{}';
  strays bigint[] := '{}';
  seqs bigint[] := '{}';
  chains bytea[] := '{}';
  nlevels int[] := '{}';
  nidx bigint[] := '{}';
  nhash bytea[] := '{}';
begin
  perform pg_advisory_xact_lock(hashtextextended('ward.audit.integrate.' || p_org::text, 0));
  select * into h from audit.heads where org_id = p_org for update;
  if not found then
    insert into audit.heads (org_id, origin, chain_hash, root_hash)
    values (p_org, audit.origin(p_org), audit.chain_seed(audit.origin(p_org)), pg_catalog.sha256(''::bytea))
    on conflict (org_id) do nothing;
    select * into h from audit.heads where org_id = p_org for update;
  end if;
  chain := h.chain_hash;
  fr := h.frontier;
  n := h.tree_size;
  last := h.last_at;
  -- The queue's head in order, then each event by its key: a join would let
  -- the planner hash the org's whole log against a short queue.
  for r in select q.qid, q.at,
                  (select e.leaf_hash from audit.events e where e.org_id = p_org and e.qid = q.qid) as leaf_hash,
                  exists (select from audit.leaves l where l.org_id = p_org and l.qid = q.qid) as placed
             from (select x.qid, x.at from audit.queue x
                    where x.org_id = p_org
                    order by x.qid
                    limit least(greatest(coalesce(p_max, 10000), 1), 10000)) q
            order by q.qid
  loop
    if r.leaf_hash is null or r.placed then
      -- a queued id with no event, or one already placed (only a
      -- superuser makes either): it leaves the queue without a position,
      -- so that it cannot hold the queue up; an event with neither a leaf
      -- nor a queue row is what ward audit verify reports
      strays := strays || r.qid;
      continue;
    end if;
    chain := pg_catalog.sha256('\x02'::bytea || chain || r.leaf_hash);
    -- Compact-range append: merge the new leaf (index n) with each
    -- complete subtree of equal size (one per trailing 1-bit of n); the
    -- node made at level k is the subtree n >> k of that level.
    node := r.leaf_hash;
    size := n;
    lvl := 0;
    while size & 1 = 1 loop
      node := pg_catalog.sha256('\x01'::bytea || fr[array_length(fr, 1)] || node);
      fr := fr[1:array_length(fr, 1) - 1];
      size := size >> 1;
      lvl := lvl + 1;
      if lvl % 4 = 0 then
        nlevels := nlevels || lvl; nidx := nidx || (n >> lvl); nhash := nhash || node;
      end if;
    end loop;
    fr := fr || node;
    n := n + 1;
    last := greatest(last, r.at);
    qids := qids || r.qid; seqs := seqs || n; chains := chains || chain;
  end loop;
  -- One statement each for the batch: the events' positions (a narrow row
  -- each; the event itself is never rewritten) and their leaving the queue.
  insert into audit.leaves (org_id, seq, qid, chain_hash)
  select p_org, u.seq, u.qid, u.chain from unnest(qids, seqs, chains) as u(qid, seq, chain);
  delete from audit.queue q where q.org_id = p_org and q.qid = any (qids || strays);
  -- A node already stored at a position is from a log this one replaced
  -- (a restore, a cut): the integrator's is the current log's.
  insert into audit.tree_nodes (org_id, level, idx, hash)
  select p_org, u.l, u.i, u.h from unnest(nlevels, nidx, nhash) as u(l, i, h)
  on conflict (org_id, level, idx) do update set hash = excluded.hash;
  if n > h.tree_size then
    update audit.heads x
       set tree_size = n, chain_hash = chain, frontier = fr, root_hash = audit.frontier_root(fr), last_at = last
     where x.org_id = p_org;
  end if;
  tree_size := n;
  sequenced := n - h.tree_size;
end $$;

ALTER FUNCTION audit.integrate(p_org uuid, p_max integer, OUT tree_size bigint, OUT sequenced integer) OWNER TO ward_definer;

--
-- Name: jcs(jsonb); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.jcs(v jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    SET search_path TO ''
    AS $_$
declare
  t text := jsonb_typeof(v);
  n numeric;
  body text;
  ascii boolean;
begin
  if t = 'object' then
    select bool_and(e.key ~ '^[\x20-\x7e]*$'),
           string_agg(to_json(e.key)::text || ':' || case jsonb_typeof(e.value)
               when 'string' then e.value::text
               when 'boolean' then e.value::text
               when 'null' then 'null'
               when 'number' then case when e.value::numeric = trunc(e.value::numeric)
                                        and abs(e.value::numeric) <= 9007199254740992
                                       then trunc(e.value::numeric)::text else audit.jcs(e.value) end
               else audit.jcs(e.value) end, ',' order by e.key collate "C")
      into ascii, body
      from jsonb_each(v) e;
    if not ascii then
      raise exception 'audit: non-ASCII key in audit event' using errcode = '22023';
    end if;
    return '{' || coalesce(body, '') || '}';
  elsif t = 'array' then
    return '[' || coalesce((select string_agg(case jsonb_typeof(e.value)
               when 'string' then e.value::text
               when 'boolean' then e.value::text
               when 'null' then 'null'
               when 'number' then case when e.value::numeric = trunc(e.value::numeric)
                                        and abs(e.value::numeric) <= 9007199254740992
                                       then trunc(e.value::numeric)::text else audit.jcs(e.value) end
               else audit.jcs(e.value) end, ',' order by e.ord)
                              from jsonb_array_elements(v) with ordinality e(value, ord)), '') || ']';
  elsif t = 'string' then
    return to_json(v #>> '{}')::text;
  elsif t = 'number' then
    n := (v #>> '{}')::numeric;
    if n <> trunc(n) or abs(n) > 9007199254740992 then
      raise exception 'audit: only integers up to 2^53 may appear in audit events' using errcode = '22023';
    end if;
    return trunc(n)::text;
  else
    return v::text; -- true, false, null
  end if;
end $_$;

ALTER FUNCTION audit.jcs(v jsonb) OWNER TO ward_owner;

--
-- Name: leaf_hashes(uuid, bigint); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.leaf_hashes(p_org uuid, p_size bigint) RETURNS SETOF bytea
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  return query select e.leaf_hash from audit.leaves l
                 join audit.events e on e.org_id = l.org_id and e.qid = l.qid
                where l.org_id = p_org and l.seq between 1 and p_size order by l.seq;
end $$;

ALTER FUNCTION audit.leaf_hashes(p_org uuid, p_size bigint) OWNER TO ward_definer;

--
-- Name: origin(uuid); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.origin(p_org uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
  select 'ward/audit/' || p_org::text
$$;

ALTER FUNCTION audit.origin(p_org uuid) OWNER TO ward_owner;

--
-- Name: pending_orgs(); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select q.org_id, min(q.at), count(*) from audit.queue q group by q.org_id
$$;

ALTER FUNCTION audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) OWNER TO ward_definer;

--
-- Name: proof_hashes(uuid, bigint, integer[], bigint[]); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]) RETURNS TABLE(level integer, idx bigint, hash bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.get_my_org_id() is distinct from p_org then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if p_size is null or p_size < 1 or p_levels is null or p_idx is null
     or cardinality(p_levels) <> cardinality(p_idx) or cardinality(p_levels) > 4096
     or exists (select from unnest(p_levels, p_idx) u(l, i) where l is null or i is null or l < 0 or l > 62 or i < 0
                  or (l > 0 and l % 4 <> 0)) then
    raise exception 'proof_hashes: levels 0, 4, 8 … and indexes of equal number (at most 4096)' using errcode = '22023';
  end if;
  -- One index probe per requested hash (a lateral lookup, so the planner
  -- never scans the org's events to join them).
  return query
    select u.l, u.i, x.h
      from unnest(p_levels, p_idx) as u(l, i)
      cross join lateral (
        select e.leaf_hash from audit.leaves l
          join audit.events e on e.org_id = l.org_id and e.qid = l.qid
         where u.l = 0 and l.org_id = p_org and l.seq = u.i + 1
        union all
        select t.hash from audit.tree_nodes t where u.l > 0 and t.org_id = p_org and t.level = u.l and t.idx = u.i
      ) as x(h)
     where u.i < (p_size >> u.l);
end $$;

ALTER FUNCTION audit.proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]) OWNER TO ward_definer;

--
-- Name: record_archived(uuid, bigint); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.record_archived(p_org uuid, p_size bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  size bigint;
begin
  select h.tree_size into size from audit.heads h where h.org_id = p_org;
  if size is null or p_size is null or p_size < 0 or p_size > size then
    raise exception 'audit: archived size % is beyond the log (size %)', p_size, size using errcode = '22023';
  end if;
  insert into audit.archive_state as a (org_id, archived_size) values (p_org, p_size)
  on conflict (org_id) do update set archived_size = greatest(a.archived_size, excluded.archived_size),
    updated_at = now();
end $$;

ALTER FUNCTION audit.record_archived(p_org uuid, p_size bigint) OWNER TO ward_definer;

--
-- Name: record_archived_object(uuid, text, text, text, timestamp with time zone); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if p_org is null or not exists (select from audit.heads h where h.org_id = p_org) then
    raise exception 'audit: no log of org %', p_org using errcode = '22023';
  end if;
  insert into audit.archive_objects (org_id, name, version_id, mode, retain_until)
  values (p_org, p_name, coalesce(p_version, ''), nullif(p_mode, ''), p_retain_until)
  on conflict do nothing;
end $$;

ALTER FUNCTION audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone) OWNER TO ward_definer;

--
-- Name: record_checkpoint(uuid, text); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.record_checkpoint(p_org uuid, p_note text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  h audit.heads%rowtype;
  body text;
begin
  select * into h from audit.heads where org_id = p_org;
  if not found or h.tree_size = 0 then
    raise exception 'audit: no log to checkpoint for this org' using errcode = 'P0002';
  end if;
  body := h.origin || chr(10) || h.tree_size || chr(10) || encode(h.root_hash, 'base64') || chr(10);
  if p_note is null or left(p_note, length(body)) <> body then
    raise exception 'audit: the checkpoint does not describe the head (size %)', h.tree_size using errcode = '22023';
  end if;
  insert into audit.checkpoints (org_id, size, root_hash, note, chain_hash, frontier)
  values (p_org, h.tree_size, h.root_hash, p_note, h.chain_hash, h.frontier)
  on conflict do nothing;
  return h.tree_size;
end $$;

ALTER FUNCTION audit.record_checkpoint(p_org uuid, p_note text) OWNER TO ward_definer;

--
-- Name: reject_change(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.reject_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and audit.retention_allows(old.org_id,
           (select l.seq from audit.leaves l where l.org_id = old.org_id and l.qid = old.qid),
           old.patient_id, old.at) then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

ALTER FUNCTION audit.reject_change() OWNER TO ward_owner;

--
-- Name: reject_change_any(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.reject_change_any() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name using errcode = '42501';
end $$;

ALTER FUNCTION audit.reject_change_any() OWNER TO ward_owner;

--
-- Name: reject_leaf_change(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.reject_leaf_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'INSERT' and current_user = 'ward_definer' then
    return new;
  end if;
  if tg_op = 'DELETE' and current_user = 'ward_audit_cleanup'
     and not exists (select from audit.events e where e.org_id = old.org_id and e.qid = old.qid) then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

ALTER FUNCTION audit.reject_leaf_change() OWNER TO ward_owner;

--
-- Name: reject_queue_change(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.reject_queue_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'DELETE' and current_user = 'ward_definer' then
    return old;
  end if;
  raise exception 'audit: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

ALTER FUNCTION audit.reject_queue_change() OWNER TO ward_owner;

--
-- Name: reject_truncate(); Type: FUNCTION; Schema: audit; Owner: ward_owner
--

CREATE FUNCTION audit.reject_truncate() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception 'audit: TRUNCATE on %.% is not allowed', tg_table_schema, tg_table_name
    using errcode = '42501';
end $$;

ALTER FUNCTION audit.reject_truncate() OWNER TO ward_owner;

--
-- Name: retention_allows(uuid, bigint, uuid, timestamp with time zone); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_case uuid;
  v_results uuid[];
begin
  if p_seq is null or not p_at < now() - interval '2555 days'
     or p_seq > coalesce((select a.archived_size from audit.archive_state a where a.org_id = p_org), 0)
     or p_seq > coalesce((select max(c.size) from audit.checkpoints c where c.org_id = p_org), 0) then
    return false;
  end if;
  select e.case_id, e.result_ids into v_case, v_results
    from audit.leaves l join audit.events e on e.org_id = l.org_id and e.qid = l.qid
   where l.org_id = p_org and l.seq = p_seq;
  -- Before the holds are read: a hold being placed on the org is waited
  -- for, and then seen.
  perform private.legal_hold_lock_shared(p_org);
  return not exists (select from app.legal_holds h
                      where h.org_id = p_org and h.released_at is null
                        and (h.patient_id is null or h.patient_id = p_patient
                             or h.patient_id = any (coalesce(v_results, '{}'))
                             or exists (select from app.cases c
                                         where c.org_id = p_org and c.id = v_case and c.patient_id = h.patient_id)
                             or exists (select from app.cases c
                                         where c.org_id = p_org and c.id = any (coalesce(v_results, '{}'))
                                           and c.patient_id = h.patient_id)));
end $$;

ALTER FUNCTION audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone) OWNER TO ward_definer;

--
-- Name: unsigned_heads(); Type: FUNCTION; Schema: audit; Owner: ward_definer
--

CREATE FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select h.org_id, h.origin, h.tree_size, h.root_hash from audit.heads h
   where h.tree_size > 0
     and h.tree_size > coalesce((select max(c.size) from audit.checkpoints c where c.org_id = h.org_id), 0)
$$;

ALTER FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) OWNER TO ward_definer;

--
-- Name: am_i_break_glass(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.am_i_break_glass() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and coalesce(m.break_glass, false);
end $$;

ALTER FUNCTION private.am_i_break_glass() OWNER TO ward_rls;

--
-- Name: am_i_lead(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.am_i_lead() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and m.org_id is not null
     and coalesce(m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;

ALTER FUNCTION private.am_i_lead() OWNER TO ward_rls;

--
-- Name: am_i_lead_in_org(uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.am_i_lead_in_org(p_org uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null
     and coalesce(m.org_id = p_org and m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false);
end $$;

ALTER FUNCTION private.am_i_lead_in_org(p_org uuid) OWNER TO ward_rls;

--
-- Name: assurance_bar(text, boolean, boolean); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  select case when p_require_passkey then 'passkey'
              when p_require_mfa or p_role in ('admin', 'lead') then 'mfa' end
$$;

ALTER FUNCTION private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean) OWNER TO ward_rls;

--
-- Name: breach_end(uuid, uuid[], uuid[], uuid[], uuid[], text, jsonb); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, p_by jsonb, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  r record;
  ended_sessions uuid[];
  ended_keys uuid[];
  ended_tokens uuid[];
  ended_invites uuid[];
  ended_links uuid[];
begin
  -- Each choice locks its rows: a concurrent call waits here for this
  -- one's commit, then finds them ended (a locked row is checked again
  -- once its lock is released) and leaves them out.
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_sessions
    from (select s.id from app.sessions s
           where s.org_id = p_org and s.revoked_at is null
             and (s.id = any (p_sessions) or s.user_id = any (p_users))
           order by s.id for no key update of s) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_keys
    from (select k.id from app.api_keys k
           where k.org_id = p_org and k.revoked_at is null
             and (k.id = any (p_api_keys) or k.created_by = any (p_users))
           order by k.id for no key update of k) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_tokens
    from (select t.id from app.scim_tokens t
           where t.org_id = p_org and t.revoked_at is null
             and (t.id = any (p_scim_tokens) or t.created_by = any (p_users))
           order by t.id for no key update of t) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_invites
    from (select i.id from app.case_invites i
           where i.org_id = p_org and i.revoked_at is null and i.accepted_at is null
             and i.created_by = any (p_users)
           order by i.id for no key update of i) x;
  select coalesce(array_agg(x.id order by x.id), '{}') into ended_links
    from (select l.id from app.magic_links l
           where l.org_id = p_org and l.used_at is null and l.expires_at > now() and l.user_id = any (p_users)
           order by l.id for no key update of l) x;
  sessions := cardinality(ended_sessions);
  api_keys := cardinality(ended_keys);
  scim_tokens := cardinality(ended_tokens);
  case_invites := cardinality(ended_invites);
  sign_in_links := cardinality(ended_links);
  if sessions + api_keys + scim_tokens + case_invites + sign_in_links = 0 then
    return;
  end if;

  -- The event first: the caller's own session may be among those ended.
  perform audit.append_as(p_org, 'breach.revoke', 'success',
    p_results => ended_sessions || ended_keys || ended_tokens || ended_invites || ended_links, p_request => p_request,
    p_details => coalesce(p_by, '{}') || jsonb_build_object('sessions', sessions, 'api_keys', api_keys,
      'scim_tokens', scim_tokens, 'case_invites', case_invites, 'sign_in_links', sign_in_links,
      'users', cardinality(p_users)));
  for r in
    update app.case_invites i set revoked_at = now()
     where i.org_id = p_org and i.id = any (ended_invites) and i.revoked_at is null and i.accepted_at is null
    returning i.org_id, i.id, i.case_id
  loop
    perform audit.append_as(r.org_id, 'case.invite.revoke', 'success', 'case_invite', r.id, p_case => r.case_id,
      p_request => p_request, p_details => coalesce(p_by, '{}') || jsonb_build_object('reason', 'breach'));
  end loop;
  update app.sessions s set revoked_at = now(), revoked_reason = 'breach'
   where s.org_id = p_org and s.id = any (ended_sessions) and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = p_org and k.id = any (ended_keys) and k.revoked_at is null;
  update app.scim_tokens t set revoked_at = now()
   where t.org_id = p_org and t.id = any (ended_tokens) and t.revoked_at is null;
  update app.magic_links l set expires_at = now()
   where l.org_id = p_org and l.id = any (ended_links) and l.used_at is null and l.expires_at > now();
end $$;

ALTER FUNCTION private.breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, p_by jsonb, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) OWNER TO ward_owner;

--
-- Name: break_glass_admin(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.break_glass_admin(OUT user_id uuid, OUT org_id uuid) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select m.kind, m.user_id, m.org_id, m.role, m.aal, m.auth_time, m.break_glass into me from private.me() m;
  if me.role is distinct from 'admin' or me.kind is distinct from 'session' or me.break_glass then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  user_id := me.user_id; org_id := me.org_id;
end $$;

ALTER FUNCTION private.break_glass_admin(OUT user_id uuid, OUT org_id uuid) OWNER TO ward_owner;

--
-- Name: break_glass_reason_given(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.break_glass_reason_given() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if not exists (select from app.break_glass_activations a
                  where a.org_id = new.org_id and a.id = new.id and a.reason_enc is not null) then
    raise exception 'a break-glass activation needs its written reason' using errcode = '23514';
  end if;
  return null;
end $$;

ALTER FUNCTION private.break_glass_reason_given() OWNER TO ward_rls;

--
-- Name: case_grantee_role(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.case_grantee_role(p_case uuid, p_user uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  o uuid := private.get_my_org_id();
begin
  if o is null or p_case is null or p_user is null
     or not (private.am_i_lead() or p_case = any (private.my_managed_case_ids())) then
    return null;
  end if;
  if not (p_user = any (private.my_org_member_ids())
          or exists (select from app.case_members cm
                      where cm.org_id = o and cm.case_id = p_case and cm.user_id = p_user)) then
    return null;
  end if;
  return (select case when m.role in ('provider', 'lead', 'admin') then 'staff'
                      when m.role = 'stakeholder' then 'stakeholder' end
            from app.memberships m
           where m.org_id = o and m.user_id = p_user and m.revoked_at is null);
end $$;

ALTER FUNCTION private.case_grantee_role(p_case uuid, p_user uuid) OWNER TO ward_rls;

--
-- Name: case_invites; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.case_invites (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    case_id uuid NOT NULL,
    email_bidx bytea NOT NULL,
    email_enc bytea NOT NULL,
    invitee_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    kind text NOT NULL,
    permissions text[] NOT NULL,
    access_expires_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    accepted_at timestamp with time zone,
    accepted_by uuid,
    revoked_at timestamp with time zone,
    recipient_org text,
    CONSTRAINT case_invites_access_expires_at_representable CHECK (((access_expires_at >= '0001-01-01 00:00:00+00'::timestamp with time zone) AND (access_expires_at <= '9999-12-31 23:59:59.999999+00'::timestamp with time zone))),
    CONSTRAINT case_invites_email_bidx_check CHECK ((octet_length(email_bidx) = 32)),
    CONSTRAINT case_invites_kind_check CHECK ((kind = ANY (ARRAY['clinic'::text, 'employer'::text, 'attorney'::text, 'payer'::text]))),
    CONSTRAINT case_invites_permissions_check CHECK (((permissions <@ ARRAY['view'::text, 'upload'::text, 'download'::text, 'comment'::text]) AND ('view'::text = ANY (permissions)))),
    CONSTRAINT case_invites_recipient_org_check CHECK (((recipient_org IS NULL) OR (((char_length(recipient_org) >= 1) AND (char_length(recipient_org) <= 180)) AND (recipient_org !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]'::text) AND (recipient_org = btrim(recipient_org))))),
    CONSTRAINT case_invites_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY app.case_invites FORCE ROW LEVEL SECURITY;

ALTER TABLE app.case_invites OWNER TO ward_owner;

--
-- Name: case_invite_status(app.case_invites); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.case_invite_status(i app.case_invites) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  return case when i.accepted_at is not null then 'used'
              when i.revoked_at is not null then 'revoked'
              when i.expires_at <= now() or i.access_expires_at <= now() then 'expired'
              -- An invitation is worth what its author's authority is
              -- worth now: a member who left the org (or the case's care
              -- team) cannot come back through invitations they sent,
              -- say to a private address, before they left.
              when not exists (select from app.memberships m
                                where m.org_id = i.org_id and m.user_id = i.created_by and m.revoked_at is null
                                  and (m.role in ('admin', 'lead')
                                       or (m.role = 'provider'
                                           and exists (select from app.cases c
                                                         join app.care_team ct
                                                           on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                                                        where c.org_id = i.org_id and c.id = i.case_id
                                                          and ct.provider_id = i.created_by)))) then 'revoked'
              -- A closed case takes no new party (00185); the
              -- invitation stays pending for its reopening.
              when app.case_closed(i.org_id, i.case_id) then 'case_closed'
              else 'ok' end;
end $$;

ALTER FUNCTION private.case_invite_status(i app.case_invites) OWNER TO ward_owner;

--
-- Name: case_member_expiry_rearm(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.case_member_expiry_rearm() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if new.access_expires_at is distinct from old.access_expires_at
     or (old.revoked_at is not null and new.revoked_at is null) then
    new.expiry_recorded_at := null;
  end if;
  return new;
end $$;

ALTER FUNCTION private.case_member_expiry_rearm() OWNER TO ward_rls;

--
-- Name: case_member_not_own(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.case_member_not_own() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'UPDATE' and old.revoked_at is null and new.revoked_at is not null
     and new.user_id = old.user_id and new.case_id = old.case_id and new.kind = old.kind
     and new.permissions = old.permissions and new.added_by = old.added_by
     and new.access_expires_at is not distinct from old.access_expires_at then
    return new;
  end if;
  if (tg_op = 'INSERT' and new.user_id = new.added_by) or new.user_id = private.uid() then
    raise exception 'nobody grants or changes their own access to a case' using errcode = '42501',
      hint = 'own_case_grant';
  end if;
  return new;
end $$;

ALTER FUNCTION private.case_member_not_own() OWNER TO ward_rls;

--
-- Name: check_case_member_kind(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.check_case_member_kind() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.kind = 'staff' and not exists (select from app.memberships m
       where m.org_id = new.org_id and m.user_id = new.user_id and m.revoked_at is null
         and m.role in ('provider', 'lead', 'admin')) then
    raise exception 'a staff grant goes to a provider, lead or admin' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;

ALTER FUNCTION private.check_case_member_kind() OWNER TO ward_rls;

--
-- Name: compliance_org_facts(uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.compliance_org_facts(p_org uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  with pol as (select * from app.instance_policy limit 1),
  members as (
    select m.org_id, count(*) as active,
           count(*) filter (where m.role = 'admin') as admins,
           count(*) filter (where m.role = 'admin'
             and not exists (select from app.totp_factors t
                              where t.org_id = m.org_id and t.user_id = m.user_id and t.confirmed_at is not null)
             and not exists (select from app.passkeys p
                              where p.org_id = m.org_id and p.user_id = m.user_id)) as admins_without_factor
      from app.memberships m
     where m.org_id = p_org and m.revoked_at is null
     group by m.org_id
  ),
  -- Each live document a retention rule in force covers: when its
  -- retention ends (the latest of its creation, its last upload and its
  -- due date, plus the days in force, as app.purge_expired_documents
  -- decides), whether an active legal hold on its org, its case's patient
  -- or its case keeps it, and whether an open access or amendment request
  -- about its patient does (00256).
  docs as (
    select x.org_id,
           greatest(x.created_at, x.due_at, (select max(v.created_at) from app.document_versions v
                                              where v.org_id = x.org_id and v.document_id = x.id))
             + make_interval(days => r.retain_days) as expires_at,
           exists (select from app.legal_holds lh
                    where lh.org_id = x.org_id and lh.released_at is null
                      and ((lh.patient_id is null and lh.case_id is null)
                           or lh.patient_id = cs.patient_id or lh.case_id = x.case_id)) as held,
           exists (select from app.dsr_requests q
                    where q.org_id = x.org_id and q.patient_id = cs.patient_id and q.status = 'open'
                      and q.kind in ('access', 'amendment')) as dsr
      from app.documents x
      join (select r0.org_id, r0.doc_type,
                   case when r0.effective_at <= now() then r0.pending_days else r0.retain_days end as retain_days
              from app.document_retention r0) r on r.org_id = x.org_id and r.doc_type = x.doc_type
      join app.cases cs on cs.org_id = x.org_id and cs.id = x.case_id
     where x.org_id = p_org and x.deleted_at is null and r.retain_days is not null
  ),
  expired as (
    select d.org_id, count(*) filter (where not d.held and not d.dsr) as overdue,
           min(d.expires_at) filter (where not d.held and not d.dsr) as overdue_since,
           count(*) filter (where d.held) as held,
           count(*) filter (where not d.held and d.dsr) as dsr
      from docs d
     where d.expires_at < now()
     group by d.org_id
  )
  select jsonb_build_object(
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
                                          where e.org_id = x.org_id
                                            and e.qid = (select l.qid from audit.leaves l
                                                          where l.org_id = x.org_id and l.seq > x.cursor_seq
                                                          order by l.seq limit 1)))
                   order by x.id)
                   from app.audit_sinks x
                  where x.org_id = i.id and x.enabled and x.disabled_at is null), '[]'::jsonb),
        -- The oldest event no signed checkpoint covers: the first leaf
        -- after the checkpoint, or an event still queued for the
        -- integrator (no leaf yet), whichever is older (00311).
        'first_unsigned_at', least((select e.at from audit.events e
                                     where e.org_id = i.id
                                       and e.qid = (select l.qid from audit.leaves l
                                                     where l.org_id = i.id and l.seq > coalesce(c.size, 0)
                                                     order by l.seq limit 1)),
                                   (select min(q.at) from audit.queue q where q.org_id = i.id)))
        || jsonb_build_object(
        'retention_types', (select count(*) from app.document_retention r where r.org_id = i.id
                              and case when r.effective_at <= now() then r.pending_days else r.retain_days end is not null),
        'retention_pending', (select count(*) from app.document_retention r where r.org_id = i.id and r.effective_at > now()),
        'documents_overdue', coalesce(x.overdue, 0),
        'documents_overdue_since', x.overdue_since,
        'documents_held', coalesce(x.held, 0),
        'documents_kept_by_dsr', coalesce(x.dsr, 0),
        -- Deleted documents whose versions still hold a wrapped data key:
        -- deleted but not crypto-shredded (app.delete_document and the
        -- purge null the keys in the deleting transaction).
        'documents_unshredded', (select count(distinct dv.document_id) from app.document_versions dv
                                   join app.documents dd on dd.org_id = dv.org_id and dd.id = dv.document_id
                                  where dv.org_id = i.id and dd.deleted_at is not null and dv.data_key is not null),
        'last_purge_at', ev.last_purge_at,
        'purged_year', coalesce(ev.purged, 0),
        'breach_scopes_year', coalesce(ev.scopes, 0),
        'breach_revokes_year', coalesce(ev.revokes, 0),
        'break_glass_unreviewed', coalesce(bg.n, 0),
        'break_glass_unreviewed_since', bg.since,
        -- The per-patient key tier (00275, 00295).
        'patients_keyed', coalesce(pk.keyed, 0),
        'patients_org_sealed', coalesce(pk.org_sealed, 0),
        'patients_shredded', coalesce(pk.shredded, 0),
        'last_patient_shred_at', pk.last_shred_at)
      from (select p_org as id) i
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
                           from audit.archive_objects ao where ao.org_id = i.id) a on true
      left join expired x on x.org_id = i.id
      left join lateral (select max(e.at) filter (where e.action = 'document.purge') as last_purge_at,
                                count(*) filter (where e.action = 'document.purge' and e.at > now() - interval '365 days') as purged,
                                count(*) filter (where e.action = 'breach.scope' and e.at > now() - interval '365 days') as scopes,
                                count(*) filter (where e.action = 'breach.revoke' and e.at > now() - interval '365 days') as revokes
                           from audit.events e
                          where e.org_id = i.id and e.outcome = 'success'
                            and e.action in ('document.purge', 'breach.scope', 'breach.revoke')) ev on true
      left join lateral (select count(*) as n, min(b.activated_at) as since
                           from app.break_glass_activations b
                          where b.org_id = i.id and b.reviewed_at is null) bg on true
      left join lateral (select count(*) filter (where p.shredded_at is null and p.keyset is not null) as keyed,
                                count(*) filter (where p.shredded_at is null and p.keyset is null) as org_sealed,
                                count(*) filter (where p.shredded_at is not null) as shredded,
                                max(p.shredded_at) as last_shred_at
                           from app.patients p where p.org_id = i.id) pk on true
$$;

ALTER FUNCTION private.compliance_org_facts(p_org uuid) OWNER TO ward_owner;

--
-- Name: credential_hash(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.credential_hash() RETURNS bytea
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  c text := current_setting('ward.credential', true);
begin
  if c is null or c !~ '^[0-9a-f]{64}$' then
    return null;
  end if;
  return decode(c, 'hex');
end $_$;

ALTER FUNCTION private.credential_hash() OWNER TO ward_rls;

--
-- Name: credential_maker(bytea, text); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.credential_maker(p_hash bytea, p_hash_name text, OUT user_id uuid, OUT org_id uuid) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
  if octet_length(p_hash) is distinct from 32 then
    raise exception '% is 32 bytes', p_hash_name using errcode = '22023';
  end if;
  -- The creator's membership, held until the creation commits: a
  -- revocation or demotion that began first is waited for and then seen
  -- (refused here), and one that comes later waits and then revokes the
  -- new credential (app.membership_revoked). Without it a SCIM token
  -- created as its creator was revoked outlived them (it resolves without
  -- its creator), and an API key waited, unrevoked, for its creator to be
  -- made admin again.
  perform from app.memberships m where m.org_id = me.org_id and m.user_id = me.user_id
     and m.revoked_at is null and m.role = 'admin'
     for share;
  if not found then
    raise exception 'forbidden: the caller''s standing changed' using errcode = '42501';
  end if;
  user_id := me.user_id;
  org_id := me.org_id;
end $$;

ALTER FUNCTION private.credential_maker(p_hash bytea, p_hash_name text, OUT user_id uuid, OUT org_id uuid) OWNER TO ward_owner;

--
-- Name: dpop_jti_rotate_at(bigint); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.dpop_jti_rotate_at(p_now bigint) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  slot bigint := p_now / 600;
begin
  if p_now is null or p_now % 600 >= 120 or (select c.last_value from app.dpop_jti_cleared c) >= slot then
    return false;
  end if;
  begin
    case (slot + 1) % 3
      when 0 then
        lock table app.dpop_jtis_0 in access exclusive mode nowait;
      when 1 then
        lock table app.dpop_jtis_1 in access exclusive mode nowait;
      else
        lock table app.dpop_jtis_2 in access exclusive mode nowait;
    end case;
    -- Another node may have cleared it and committed since the read above.
    if (select c.last_value from app.dpop_jti_cleared c) >= slot then
      return false;
    end if;
    case (slot + 1) % 3
      when 0 then truncate app.dpop_jtis_0;
      when 1 then truncate app.dpop_jtis_1;
      else truncate app.dpop_jtis_2;
    end case;
    perform setval('app.dpop_jti_cleared', slot);
  exception when lock_not_available then
    return false; -- a later call clears it
  end;
  return true;
end $$;

ALTER FUNCTION private.dpop_jti_rotate_at(p_now bigint) OWNER TO ward_owner;

--
-- Name: dsr_amendment_status(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.dsr_amendment_status(p_org uuid, p_dsr uuid) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if p_org is distinct from private.get_my_org_id() or private.get_my_role() is distinct from 'admin'
     or (private.is_key() and not private.key_holds('dsr')) then
    return null;
  end if;
  return (select a.status from app.record_amendments a where a.org_id = p_org and a.dsr_id = p_dsr);
end $$;

ALTER FUNCTION private.dsr_amendment_status(p_org uuid, p_dsr uuid) OWNER TO ward_rls;

--
-- Name: dsr_guard(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.dsr_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    SET "TimeZone" TO 'UTC'
    AS $$
declare
  amendment text;
begin
  if tg_op = 'INSERT' then
    new.received_at := now();
    new.due_at := now() + private.dsr_period(new.kind, false);
    new.status := 'open';
    new.extended_at := null; new.extended_by := null; new.extension_reason := null;
    new.closed_at := null; new.closed_by := null;
    -- (00174) at most 5 open requests of a kind per requester, unless an
    -- admin (or an admin's key) files them: the queue's deadlines and its
    -- reminders are the practice's, not a member's to flood. (00265) The
    -- requester's requests of the kind are counted under a lock held until
    -- commit: concurrent requests counted the same four and all went in.
    if not coalesce(private.get_my_role() = 'admin', false) then
      perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
        'ward.dsr_open.' || new.org_id::text || '.' || new.requested_by::text || '.' || new.kind, 0));
    end if;
    if not coalesce(private.get_my_role() = 'admin', false)
       and (select count(*) from app.dsr_requests r
             where r.org_id = new.org_id and r.requested_by = new.requested_by and r.kind = new.kind
               and r.status = 'open') >= 5 then
      raise exception 'you have 5 open requests of this kind: the practice answers them before you file another'
        using errcode = '55000';
    end if;
    return new;
  end if;
  if old.status <> 'open' then
    raise exception 'this request is closed' using errcode = '55000';
  end if;
  -- (00266) the same reason again changes nothing: it is a second
  -- extension, refused as one, not an update that succeeds (and is
  -- recorded as dsr.extend) while the due date stays where it was.
  if old.extension_reason is not null and new.extension_reason is not distinct from old.extension_reason
     and new.status = old.status then
    raise exception 'a request is extended once' using errcode = '55000';
  end if;
  if (new.org_id, new.id, new.kind, new.patient_id, new.subject_user_id, new.requested_by, new.received_at)
     is distinct from (old.org_id, old.id, old.kind, old.patient_id, old.subject_user_id, old.requested_by, old.received_at) then
    raise exception 'a request''s kind, subject, requester and receipt never change' using errcode = '42501';
  end if;
  if new.extension_reason is distinct from old.extension_reason then
    if old.extension_reason is not null or new.extension_reason is null then
      raise exception 'a request is extended once' using errcode = '55000';
    end if;
    if private.dsr_period(old.kind, true) = interval '0' then
      raise exception 'a request of this kind cannot be extended' using errcode = '55000';
    end if;
    if statement_timestamp() > old.due_at then
      raise exception 'the request is past due: an extension is given before the first period ends' using errcode = '55000';
    end if;
    new.extended_at := now();
    new.extended_by := private.uid();
    new.due_at := old.due_at + private.dsr_period(old.kind, true);
  else
    new.extended_at := old.extended_at; new.extended_by := old.extended_by; new.due_at := old.due_at;
  end if;
  if new.status in ('fulfilled', 'denied') and old.kind = 'amendment' then
    amendment := private.dsr_amendment_status(old.org_id, old.id);
    if amendment is not null
       and amendment is distinct from (case new.status when 'fulfilled' then 'accepted' else 'denied' end) then
      raise exception 'an amendment request closes with its decision (or is withdrawn)' using errcode = '55000';
    end if;
  end if;
  if new.status <> 'open' then
    new.closed_at := now();
    new.closed_by := private.uid();
  else
    new.closed_at := null; new.closed_by := null;
  end if;
  return new;
end $$;

ALTER FUNCTION private.dsr_guard() OWNER TO ward_owner;

--
-- Name: dsr_period(text, boolean); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.dsr_period(p_kind text, p_extension boolean) RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select make_interval(days => case
    when not p_extension then case p_kind when 'access' then 30 when 'amendment' then 60 when 'accounting' then 60
                                          when 'ccpa_limit' then 15 else 45 end
    else case p_kind when 'access' then 30 when 'amendment' then 30 when 'accounting' then 30
                     when 'ccpa_limit' then 0 else 45 end
  end)
$$;

ALTER FUNCTION private.dsr_period(p_kind text, p_extension boolean) OWNER TO ward_owner;

--
-- Name: gateway_caller(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.gateway_caller(OUT org_id uuid, OUT credential_id uuid) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me private.principal := private.principal_now();
begin
  -- Who may call a model (the route's rule, held here too): a live session
  -- of a patient or a member above, or an API key with the gateway scope.
  if me.pending is null and ((me.kind = 'session' and me.role in ('patient', 'provider', 'lead', 'admin'))
                             or (me.kind = 'api_key' and private.key_holds('gateway'))) then
    org_id := me.org_id; credential_id := me.credential_id;
  end if;
end $$;

ALTER FUNCTION private.gateway_caller(OUT org_id uuid, OUT credential_id uuid) OWNER TO ward_rls;

--
-- Name: get_my_org_id(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.get_my_org_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.org_id end;
end $$;

ALTER FUNCTION private.get_my_org_id() OWNER TO ward_rls;

--
-- Name: get_my_role(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.get_my_role() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.role end;
end $$;

ALTER FUNCTION private.get_my_role() OWNER TO ward_rls;

--
-- Name: guard_document_update(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.guard_document_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.provided_at is distinct from old.provided_at
     and (old.provided_at is not null or new.provided_at is distinct from now()) then
    raise exception 'a document is provided once, now' using errcode = 'insufficient_privilege';
  end if;
  if (new.accepted_at, new.accepted_by) is distinct from (old.accepted_at, old.accepted_by)
     and (not (private.am_i_lead_in_org(new.org_id) or new.case_id = any (private.my_managed_case_ids()))
          or not ((new.accepted_at is null and new.accepted_by is null)
                  or (new.accepted_at = now() and new.accepted_by = private.uid()))) then
    raise exception 'only those who manage a case accept its documents' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;

ALTER FUNCTION private.guard_document_update() OWNER TO ward_rls;

--
-- Name: guard_patient_identifiers(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.guard_patient_identifiers() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- The keying (app.ops_patient_key) seals the identifiers again under
  -- the patient's first keyset; the MRN's blind index stays.
  if old.keyset is null and new.keyset is not null and new.mrn_bidx is not distinct from old.mrn_bidx then
    return new;
  end if;
  if (new.mrn_bidx, new.identifiers_enc) is distinct from (old.mrn_bidx, old.identifiers_enc)
     and not private.am_i_lead_in_org(new.org_id) then
    raise exception 'only a lead or admin changes a patient''s MRN or identifiers' using errcode = '42501',
      hint = 'patient_identifiers';
  end if;
  return new;
end $$;

ALTER FUNCTION private.guard_patient_identifiers() OWNER TO ward_rls;

--
-- Name: guard_version_insert(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.guard_version_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  d record;
begin
  select x.accepted_at, x.created_by, x.requested_by, x.requested_from into d
    from app.documents x where x.org_id = new.org_id and x.id = new.document_id;
  if private.am_i_lead_in_org(new.org_id) or new.case_id = any (private.my_managed_case_ids()) then
    return new;
  end if;
  if d.accepted_at is not null then
    raise exception 'an accepted document takes new versions only from those who manage its case'
      using errcode = 'insufficient_privilege';
  end if;
  -- a request is provided by the party it was asked of, anything else by
  -- whoever created it
  if (d.requested_from is not null and new.uploaded_by is distinct from d.requested_from)
     or (d.requested_from is null and new.uploaded_by is distinct from d.created_by) then
    raise exception 'a document takes new versions only from the party it was requested from, whoever filed it, or those who manage its case'
      using errcode = 'insufficient_privilege', hint = 'not_document_party';
  end if;
  return new;
end $$;

ALTER FUNCTION private.guard_version_insert() OWNER TO ward_rls;

--
-- Name: hotp(bytea, bigint, integer, text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.hotp(p_secret bytea, p_counter bigint, p_digits integer, p_algo text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
declare
  h bytea := ext.hmac(int8send(p_counter), p_secret, p_algo);
  o int := get_byte(h, length(h) - 1) & 15;
  bin bigint;
begin
  bin := ((get_byte(h, o) & 127)::bigint << 24) | (get_byte(h, o + 1)::bigint << 16)
       | (get_byte(h, o + 2)::bigint << 8) | get_byte(h, o + 3)::bigint;
  return lpad((bin % (10::bigint ^ p_digits)::bigint)::text, p_digits, '0');
end $$;

ALTER FUNCTION private.hotp(p_secret bytea, p_counter bigint, p_digits integer, p_algo text) OWNER TO ward_rls;

--
-- Name: is_key(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.is_key() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return m.pending is null and coalesce(m.kind = 'api_key', false);
end $$;

ALTER FUNCTION private.is_key() OWNER TO ward_rls;

--
-- Name: is_scim(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.is_scim() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return coalesce((select m.kind = 'scim_token' from private.me() m), false);
end $$;

ALTER FUNCTION private.is_scim() OWNER TO ward_rls;

--
-- Name: key_holds(text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.key_holds(p_scope text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return exists (select 1 from private.me() m
                   join app.api_keys k on k.org_id = m.org_id and k.id = m.credential_id
                  where m.kind = 'api_key' and p_scope = any (k.scopes));
end $$;

ALTER FUNCTION private.key_holds(p_scope text) OWNER TO ward_rls;

--
-- Name: key_org(text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.key_org(p_scope text) RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- private.key_holds(p_scope), answered with the org it holds it in.
  return coalesce((select m.org_id from private.me() m
                     join app.api_keys k on k.org_id = m.org_id and k.id = m.credential_id
                    where m.kind = 'api_key' and p_scope = any (k.scopes)),
                  '00000000-0000-0000-0000-000000000000'::uuid);
end $$;

ALTER FUNCTION private.key_org(p_scope text) OWNER TO ward_rls;

--
-- Name: legal_hold_lock(uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.legal_hold_lock(p_org uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('ward.legal_hold/' || p_org::text, 0))
$$;

ALTER FUNCTION private.legal_hold_lock(p_org uuid) OWNER TO ward_owner;

--
-- Name: legal_hold_lock_shared(uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.legal_hold_lock_shared(p_org uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('ward.legal_hold/' || p_org::text, 0))
$$;

ALTER FUNCTION private.legal_hold_lock_shared(p_org uuid) OWNER TO ward_owner;

--
-- Name: me(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  p private.principal := private.principal_now();
begin
  if p.pending is null then
    kind := p.kind; credential_id := p.credential_id; user_id := p.user_id; org_id := p.org_id; role := p.role;
    session_id := p.session_id; aal := p.aal;
    auth_time := 'epoch'::timestamptz + p.auth_us * interval '1 microsecond';
    break_glass := p.break_glass; device := p.device;
  end if;
end $$;

ALTER FUNCTION private.me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text) OWNER TO ward_rls;

--
-- Name: me_factor(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.me_factor(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) RETURNS record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select m.kind, m.credential_id, m.user_id, m.org_id, m.role, m.session_id, m.aal, m.auth_time, m.break_glass,
         m.device, m.amr, m.pending
    from private.me_pending() m
   where m.pending is distinct from 'device_binding'
$$;

ALTER FUNCTION private.me_factor(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) OWNER TO ward_rls;

--
-- Name: me_pending(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.me_pending(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $_$
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
  -- when the first finds nothing: the limit stops the append), and the
  -- assurance the token carries. A retired token carries what the session
  -- had when it was issued, never more than the session has now: its
  -- holder did not present the factor that raised the session.
  select 'session', s.id, s.user_id, s.org_id, m.role, s.id, least(k.assurance, s.assurance),
         least(k.authenticated_at, s.authenticated_at), s.break_glass, null,
         k.amr, o.enforce_sso and not s.break_glass and not ('sso' = any (k.amr)),
         case when s.dpop_jkt is null and m.role = any (o.device_binding_required_for)
                   and not (s.browser and current_setting('ward.dpop', true) = 'browser')
              then 'device_binding'
              when not private.meets_bar(coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)),
                                          least(k.assurance, s.assurance), k.amr)
              then coalesce(s.step_up, private.assurance_bar(m.role, o.require_mfa, o.require_passkey)) end
    into kind, credential_id, user_id, org_id, role, session_id, aal, auth_time, break_glass, device, amr, sso_only,
         pending
    from (select x.id, x.assurance, x.amr, x.authenticated_at from app.sessions x where x.token_hash = h
          union all
          select t.session_id, t.assurance, t.amr, t.authenticated_at from app.session_tokens t
           where t.token_hash = h and t.retired_at > now() - interval '30 seconds'
          limit 1) k
    join app.sessions s on s.id = k.id
    join app.memberships m on m.org_id = s.org_id and m.user_id = s.user_id
    join app.orgs o on o.id = s.org_id
   where s.revoked_at is null
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
end $_$;

ALTER FUNCTION private.me_pending(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) OWNER TO ward_rls;

--
-- Name: me_pending_cached(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.me_pending_cached(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  p private.principal := private.principal_now();
begin
  kind := p.kind; credential_id := p.credential_id; user_id := p.user_id; org_id := p.org_id;
  role := p.role; session_id := p.session_id; aal := p.aal;
  auth_time := 'epoch'::timestamptz + p.auth_us * interval '1 microsecond';
  break_glass := p.break_glass; device := p.device; amr := p.amr; pending := p.pending;
end $$;

ALTER FUNCTION private.me_pending_cached(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) OWNER TO ward_rls;

--
-- Name: meets_bar(text, integer, text[]); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.meets_bar(p_bar text, p_aal integer, p_amr text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
  select case p_bar when 'passkey' then p_aal >= 2 and p_amr @> array['passkey']
                    when 'mfa' then p_aal >= 2
                    else true end
$$;

ALTER FUNCTION private.meets_bar(p_bar text, p_aal integer, p_amr text[]) OWNER TO ward_rls;

--
-- Name: membership_revocation(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.membership_revocation() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION private.membership_revocation() OWNER TO ward_rls;

--
-- Name: my_case_ids(text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_case_ids(p_perm text) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  if p_perm is null or p_perm not in ('view', 'upload', 'download', 'comment') then
    return '{}';
  end if;
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' then
    return '{}';
  end if;
  return coalesce((select array_agg(distinct x.id) from (
      select c.id from app.cases c
       where me.break_glass and p_perm in ('view', 'download') and c.org_id = me.org_id
      union all
      select cm.case_id as id from app.case_members cm
       where cm.org_id = me.org_id and cm.user_id = me.user_id and cm.revoked_at is null
         and (cm.access_expires_at is null or cm.access_expires_at > now())
         and p_perm = any (cm.permissions)
      union all
      select c.id from app.cases c
        join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
       where me.role in ('provider', 'lead') and c.org_id = me.org_id and ct.provider_id = me.user_id
      union all
      select c.id from app.cases c
        join app.patient_links pl on pl.org_id = c.org_id and pl.patient_id = c.patient_id
       where me.role = 'patient' and p_perm in ('view', 'download')
         and c.org_id = me.org_id and pl.user_id = me.user_id) x), '{}');
end $$;

ALTER FUNCTION private.my_case_ids(p_perm text) OWNER TO ward_rls;

--
-- Name: my_lead_org(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_lead_org() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  -- The column lead_org of private.principal_cached, for a miss.
  if m.pending is null and m.org_id is not null
     and (coalesce(m.role in ('lead', 'admin') and m.kind is distinct from 'api_key', false)
          or coalesce(m.break_glass, false)) then
    return m.org_id;
  end if;
  return '00000000-0000-0000-0000-000000000000'::uuid;
end $$;

ALTER FUNCTION private.my_lead_org() OWNER TO ward_rls;

--
-- Name: my_managed_case_ids(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_managed_case_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.kind is distinct from 'session' or me.role not in ('provider', 'lead') then
    return '{}';
  end if;
  return coalesce((select array_agg(c.id) from app.cases c
                     join app.care_team ct on ct.org_id = c.org_id and ct.patient_id = c.patient_id
                    where c.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;

ALTER FUNCTION private.my_managed_case_ids() OWNER TO ward_rls;

--
-- Name: my_org_member_ids(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_org_member_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role in ('patient', 'stakeholder') then
    return '{}';
  end if;
  if me.kind = 'api_key' then
    if not private.key_holds('members') then
      return '{}';
    end if;
    return coalesce((select array_agg(m.user_id) from app.memberships m
                      where m.org_id = me.org_id and m.revoked_at is null), '{}');
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null
                      and (me.role in ('lead', 'admin') or m.role not in ('patient', 'stakeholder')
                           or m.user_id in (select pl.user_id from app.patient_links pl
                                              join app.care_team ct
                                                on ct.org_id = pl.org_id and ct.patient_id = pl.patient_id
                                             where pl.org_id = me.org_id and ct.provider_id = me.user_id))), '{}');
end $$;

ALTER FUNCTION private.my_org_member_ids() OWNER TO ward_rls;

--
-- Name: my_org_members_in_roles(text[]); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_org_members_in_roles(p_roles text[]) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null or me.role not in ('lead', 'admin') then
    return '{}';
  end if;
  return coalesce((select array_agg(m.user_id) from app.memberships m
                    where m.org_id = me.org_id and m.revoked_at is null and m.role = any (p_roles)), '{}');
end $$;

ALTER FUNCTION private.my_org_members_in_roles(p_roles text[]) OWNER TO ward_rls;

--
-- Name: my_patient_ids(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_patient_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.user_id is null then
    return '{}';
  end if;
  if me.role = 'patient' then
    return coalesce((select array_agg(pl.patient_id) from app.patient_links pl
                      where pl.org_id = me.org_id and pl.user_id = me.user_id), '{}');
  end if;
  return coalesce((select array_agg(ct.patient_id) from app.care_team ct
                    where ct.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;

ALTER FUNCTION private.my_patient_ids() OWNER TO ward_rls;

--
-- Name: my_patient_keys(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.my_patient_keys() RETURNS private.patient_key[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  -- private.my_patient_ids() with each id's org.
  select * into me from private.me();
  if me.user_id is null or me.org_id is null then
    return '{}';
  end if;
  if me.role = 'patient' then
    return coalesce((select array_agg(row(pl.org_id, pl.patient_id)::private.patient_key) from app.patient_links pl
                      where pl.org_id = me.org_id and pl.user_id = me.user_id), '{}');
  end if;
  return coalesce((select array_agg(row(ct.org_id, ct.patient_id)::private.patient_key) from app.care_team ct
                    where ct.org_id = me.org_id and ct.provider_id = me.user_id), '{}');
end $$;

ALTER FUNCTION private.my_patient_keys() OWNER TO ward_rls;

--
-- Name: passkey_has_factor(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.passkey_has_factor(p_org uuid, p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select exists (select from app.totp_factors f where f.org_id = p_org and f.user_id = p_user
                   and f.confirmed_at is not null)
      or exists (select from app.passkeys k where k.org_id = p_org and k.user_id = p_user)
$$;

ALTER FUNCTION private.passkey_has_factor(p_org uuid, p_user uuid) OWNER TO ward_owner;

--
-- Name: passkey_challenges; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.passkey_challenges (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    challenge bytea NOT NULL,
    purpose text NOT NULL,
    org_id uuid,
    session_id uuid,
    binder_hash bytea,
    rp_id text NOT NULL,
    origin text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    used_xid xid8,
    CONSTRAINT passkey_challenges_binder_hash_check CHECK ((octet_length(binder_hash) = 32)),
    CONSTRAINT passkey_challenges_challenge_check CHECK ((octet_length(challenge) = 32)),
    CONSTRAINT passkey_challenges_check CHECK (((purpose = 'signin'::text) = (session_id IS NULL))),
    CONSTRAINT passkey_challenges_check1 CHECK (((purpose = 'signin'::text) = (binder_hash IS NOT NULL))),
    CONSTRAINT passkey_challenges_check2 CHECK (((org_id IS NULL) = (session_id IS NULL))),
    CONSTRAINT passkey_challenges_origin_check CHECK (((length(origin) >= 1) AND (length(origin) <= 300))),
    CONSTRAINT passkey_challenges_purpose_check CHECK ((purpose = ANY (ARRAY['register'::text, 'signin'::text, 'verify'::text]))),
    CONSTRAINT passkey_challenges_rp_id_check CHECK (((length(rp_id) >= 1) AND (length(rp_id) <= 253)))
);

ALTER TABLE ONLY app.passkey_challenges FORCE ROW LEVEL SECURITY;

ALTER TABLE app.passkey_challenges OWNER TO ward_owner;

--
-- Name: passkey_spent(bytea, text[]); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.passkey_spent(p_challenge bytea, p_purposes text[]) RETURNS app.passkey_challenges
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  c app.passkey_challenges%rowtype;
begin
  select * into c from app.passkey_challenges x
   where x.challenge = p_challenge and x.used_xid = pg_current_xact_id() and x.purpose = any (p_purposes);
  if not found then
    raise exception 'forbidden: no challenge spent in this transaction' using errcode = '42501';
  end if;
  return c;
end $$;

ALTER FUNCTION private.passkey_spent(p_challenge bytea, p_purposes text[]) OWNER TO ward_owner;

--
-- Name: patient_key_lock(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.patient_key_lock(p_org uuid, p_patient uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  p record;
begin
  if private.credential_hash() is not null then
    raise exception 'patient keying: the operator''s, taking no credential' using errcode = '42501';
  end if;
  if p_org is null or p_patient is null then
    raise exception 'patient keying: the org and the patient are required' using errcode = '22023';
  end if;
  perform from app.orgs o where o.id = p_org and o.shredded_at is null for key share;
  if not found then
    raise exception 'patient keying: no such org, or it was shredded' using errcode = 'P0002';
  end if;
  select x.keyset, x.shredded_at into p from app.patients x where x.org_id = p_org and x.id = p_patient for update;
  if not found then
    raise exception 'patient keying: no such patient' using errcode = 'P0002';
  end if;
  if p.shredded_at is not null then
    raise exception 'patient keying: the patient was shredded' using errcode = '55000', hint = 'patient_shredded';
  end if;
  if p.keyset is not null then
    raise exception 'patient keying: the patient has a keyset' using errcode = '55000', hint = 'patient_keyed';
  end if;
end $$;

ALTER FUNCTION private.patient_key_lock(p_org uuid, p_patient uuid) OWNER TO ward_owner;

--
-- Name: patient_sealed_cells(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.patient_sealed_cells(p_org uuid, p_patient uuid) RETURNS TABLE(tbl text, row_id uuid, col text, sealed bytea)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select 'patients', p.id, c.col, c.sealed
    from app.patients p
    cross join lateral (values ('name', p.name_enc), ('dob', p.dob_enc), ('phone', p.phone_enc),
      ('email', p.email_enc), ('address', p.address_enc), ('identifiers', p.identifiers_enc)) c(col, sealed)
   where p.org_id = p_org and p.id = p_patient and c.sealed is not null
  union all
  select 'clinical_entries', e.id, 'note', e.note_enc
    from app.clinical_entries e
   where e.org_id = p_org and e.patient_id = p_patient and e.note_enc is not null
  union all
  select 'record_amendments', a.id, c.col, c.sealed
    from app.record_amendments a
    cross join lateral (values ('request', a.request_enc), ('decision', a.decision_enc),
      ('disagreement', a.disagreement_enc), ('rebuttal', a.rebuttal_enc)) c(col, sealed)
   where a.org_id = p_org and a.patient_id = p_patient and c.sealed is not null
$$;

ALTER FUNCTION private.patient_sealed_cells(p_org uuid, p_patient uuid) OWNER TO ward_owner;

--
-- Name: principal_cache_put(text, private.principal, pg_snapshot, timestamp with time zone); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.principal_cache_put(p_cred text, p_principal private.principal, p_snap pg_snapshot, p_valid_until timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  insert into private.principal_cache (cred, org, dpop, principal, snap, put_xid, valid_until)
  values (p_cred, current_setting('ward.org', true), current_setting('ward.dpop', true), p_principal, p_snap,
          pg_current_xact_id(), p_valid_until);
  if random() < 1.0 / 64 then
    delete from private.principal_cache x where x.valid_until < now() - interval '1 minute';
    delete from private.principal_changes c
     where c.at < clock_timestamp() - interval '10 minutes'
       and c.xid < pg_snapshot_xmin(pg_current_snapshot())
       and not exists (select from private.principal_cache x
                        where x.valid_until > now() and pg_snapshot_xmin(x.snap) <= c.xid);
  end if;
end $$;

ALTER FUNCTION private.principal_cache_put(p_cred text, p_principal private.principal, p_snap pg_snapshot, p_valid_until timestamp with time zone) OWNER TO ward_rls;

--
-- Name: principal_changed(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.principal_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into private.principal_changes (xid) values (pg_current_xact_id()) on conflict do nothing;
  return null;
end $$;

ALTER FUNCTION private.principal_changed() OWNER TO ward_rls;

--
-- Name: principal_moved(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.principal_moved() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform nextval('private.principal_epoch');
  return null;
end $$;

ALTER FUNCTION private.principal_moved() OWNER TO ward_rls;

--
-- Name: principal_now(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.principal_now() RETURNS private.principal
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
declare
  v_cred text := current_setting('ward.credential', true);
  body text := current_setting('ward.principal', true);
  k private.principal_key;
  r record;
  p private.principal;
  ctx text;
  until timestamptz;
  hit boolean := false;
  epoch bigint;
begin
  -- ward.principal_cache = 'off' skips the cache (the sealed principal's
  -- own tests): it can only make a resolution slower.
  if v_cred is not null and current_setting('ward.principal_cache', true) is distinct from 'off' then
    -- The lookup is the view the policies read (below).
    select (c.principal).* into p from private.principal_cached c;
    hit := found;
    -- A hit is sealed for the rest of the transaction once (00164), so
    -- that a change committed while the transaction runs does not change
    -- its principal from one statement to the next (the policies read the
    -- entry directly and fall back to this function when it is gone). A
    -- body already set to this principal under the current epoch is not
    -- sealed again (a change to what the resolution reads, such as
    -- whoami's touch, moves the epoch, and the next call seals again);
    -- forged, it can only fail the check below and resolve again.
    if hit and body is not distinct from p::text
       and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text
       and current_setting('ward.principal_sealed_epoch', true) = currval('private.principal_epoch')::text then
      return p;
    end if;
  end if;
  select * into k from private.principal_key where one;
  if k.ipad is not null then
    ctx := concat_ws(',', pg_backend_pid(), extract(epoch from now()),
                     quote_nullable(v_cred),
                     quote_nullable(current_setting('ward.org', true)),
                     quote_nullable(current_setting('ward.dpop', true)));
    -- ward.principal_drawn (session-wide) names the backend once it has
    -- drawn an epoch, so currval() below is defined; it only spares an
    -- error. Forged, currval() fails and the error refuses the statement.
    if not hit and body is not null and current_setting('ward.principal_drawn', true) = pg_backend_pid()::text
       and current_setting('ward.principal_mac', true) = encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
             || convert_to(ctx || ',' || currval('private.principal_epoch') || ';' || body, 'UTF8'))), 'hex') then
      return body::private.principal;
    end if;
  end if;
  if not hit then
    r := private.me_pending();
    p := row(r.kind, r.credential_id, r.user_id, r.org_id, r.role, r.session_id, r.aal,
             (extract(epoch from r.auth_time) * 1000000)::bigint, r.break_glass, r.device, r.amr, r.pending);
    -- Put what resolved, valid no longer than what the resolution checked
    -- stays true on its own (a change is caught by private.principal_changes):
    -- the session's expiries and a retired token's grace, a key's expiry;
    -- 60 seconds at most. Not from a read-only transaction (a standby), nor
    -- from one that changed what the resolution reads.
    if r.kind is not null and current_setting('transaction_read_only') = 'off'
       and (pg_current_xact_id_if_assigned() is null
            or not exists (select from private.principal_changes ch where ch.xid = pg_current_xact_id_if_assigned())) then
      if r.kind = 'session' then
        select least(s.absolute_expires_at, s.last_seen_at + make_interval(mins => s.idle_timeout_min),
                     case when s.token_hash = decode(v_cred, 'hex') then 'infinity'::timestamptz
                          else coalesce((select t.retired_at + interval '30 seconds' from app.session_tokens t
                                          where t.token_hash = decode(v_cred, 'hex') and t.session_id = s.id),
                                        '-infinity'::timestamptz) end)
          into until from app.sessions s where s.id = r.session_id;
      elsif r.kind = 'api_key' then
        select coalesce(k2.expires_at, 'infinity'::timestamptz) into until
          from app.api_keys k2 where k2.org_id = r.org_id and k2.id = r.credential_id;
      else
        until := 'infinity';
      end if;
      until := least(coalesce(until, '-infinity'::timestamptz), now() + interval '60 seconds');
      if until > now() then
        perform private.principal_cache_put(v_cred, p, pg_current_snapshot(), until);
      end if;
    end if;
  end if;
  if k.ipad is null then
    return p;
  end if;
  if current_setting('ward.principal_drawn', true) is distinct from pg_backend_pid()::text then
    perform set_config('ward.principal_drawn', pg_backend_pid()::text, false);
  end if;
  body := p::text;
  epoch := nextval('private.principal_epoch');
  perform set_config('ward.principal', body, true);
  perform set_config('ward.principal_sealed_epoch', epoch::text, true);
  perform set_config('ward.principal_mac', encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
    || convert_to(ctx || ',' || epoch || ';' || body, 'UTF8'))), 'hex'), true);
  return p;
end $$;

ALTER FUNCTION private.principal_now() OWNER TO ward_rls;

--
-- Name: record_amendment_close(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.record_amendment_close() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  update app.dsr_requests d set status = case new.status when 'accepted' then 'fulfilled' else 'denied' end
   where d.org_id = new.org_id and d.id = new.dsr_id and d.status = 'open';
  if not found then
    raise exception 'the request is closed in the data-subject queue: there is nothing to decide' using errcode = '55000';
  end if;
  return null;
end $$;

ALTER FUNCTION private.record_amendment_close() OWNER TO ward_owner;

--
-- Name: record_amendment_guard(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.record_amendment_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  -- false, never null, for a caller with no role (no credential, a
  -- pending session, the superuser).
  admin boolean := coalesce(private.get_my_role() = 'admin' and not private.is_key(), false);
  queue text;
begin
  if tg_op = 'INSERT' then
    new.requested_at := now();
    new.status := 'requested';
    new.denial_basis := null; new.decision_enc := null; new.decided_by := null; new.decided_at := null;
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    if new.entry_id is not null and not exists (
         select from app.clinical_entries e
          where e.org_id = new.org_id and e.id = new.entry_id and e.patient_id = new.patient_id) then
      raise exception 'the entry is not in this record' using errcode = '23503';
    end if;
    -- The queue entry with the deadline, filed as the same requester
    -- (the queue checks who may file it).
    insert into app.dsr_requests (org_id, kind, patient_id, requested_by, due_at)
    values (new.org_id, 'amendment', new.patient_id, new.requested_by, now())
    returning id into new.dsr_id;
    return new;
  end if;
  -- The keying (app.ops_patient_key, 00288) seals the texts again under
  -- the patient's new keyset: the same texts, each where there was one,
  -- nothing else changed. Only ward_definer's code can get here.
  if current_user = 'ward_definer'
     and (new.org_id, new.id, new.patient_id, new.entry_id, new.dsr_id, new.requested_by, new.requested_at, new.status,
          new.denial_basis, new.decided_by, new.decided_at, new.disagreement_at, new.rebuttal_by, new.rebuttal_at)
         is not distinct from
         (old.org_id, old.id, old.patient_id, old.entry_id, old.dsr_id, old.requested_by, old.requested_at, old.status,
          old.denial_basis, old.decided_by, old.decided_at, old.disagreement_at, old.rebuttal_by, old.rebuttal_at)
     and new.request_enc is not null
     and (new.decision_enc is null) = (old.decision_enc is null)
     and (new.disagreement_enc is null) = (old.disagreement_enc is null)
     and (new.rebuttal_enc is null) = (old.rebuttal_enc is null)
     and exists (select from app.patients p where p.org_id = new.org_id and p.id = new.patient_id
                   and p.keyset is not null and p.shredded_at is null) then
    return new;
  end if;
  if (new.org_id, new.id, new.patient_id, new.entry_id, new.dsr_id, new.request_enc, new.requested_by, new.requested_at)
     is distinct from (old.org_id, old.id, old.patient_id, old.entry_id, old.dsr_id, old.request_enc, old.requested_by,
                       old.requested_at) then
    raise exception 'a request, its record and its requester never change' using errcode = '42501';
  end if;
  if old.status = 'requested' then
    if new.status = 'requested' then
      raise exception 'a request is decided before anything else is added to it' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin decides an amendment request' using errcode = '42501';
    end if;
    new.decided_by := private.uid();
    new.decided_at := now();
    new.disagreement_enc := null; new.disagreement_at := null;
    new.rebuttal_enc := null; new.rebuttal_by := null; new.rebuttal_at := null;
    -- The queue entry closes after the row is written
    -- (record_amendment_close), so that the queue sees the decision.
    select d.status into queue from app.dsr_requests d where d.org_id = new.org_id and d.id = new.dsr_id;
    if queue is distinct from 'open' then
      raise exception 'the request is % in the data-subject queue: there is nothing to decide', coalesce(queue, 'not visible')
        using errcode = '55000';
    end if;
    return new;
  end if;
  if (new.status, new.denial_basis, new.decision_enc, new.decided_by, new.decided_at)
     is distinct from (old.status, old.denial_basis, old.decision_enc, old.decided_by, old.decided_at) then
    raise exception 'a decision is final' using errcode = '55000';
  end if;
  if new.disagreement_enc is distinct from old.disagreement_enc then
    if old.status <> 'denied' or old.disagreement_enc is not null or new.disagreement_enc is null then
      raise exception 'a statement of disagreement follows a denial, once' using errcode = '55000';
    end if;
    if private.get_my_role() is distinct from 'patient' or not (new.patient_id = any (private.my_patient_ids())) then
      raise exception 'the patient states their disagreement' using errcode = '42501';
    end if;
    new.disagreement_at := now();
  else
    new.disagreement_at := old.disagreement_at;
  end if;
  if new.rebuttal_enc is distinct from old.rebuttal_enc then
    if old.disagreement_enc is null or old.rebuttal_enc is not null or new.rebuttal_enc is null then
      raise exception 'a rebuttal answers a statement of disagreement, once' using errcode = '55000';
    end if;
    if not admin then
      raise exception 'an admin writes the rebuttal' using errcode = '42501';
    end if;
    new.rebuttal_by := private.uid();
    new.rebuttal_at := now();
  else
    new.rebuttal_by := old.rebuttal_by; new.rebuttal_at := old.rebuttal_at;
  end if;
  return new;
end $$;

ALTER FUNCTION private.record_amendment_guard() OWNER TO ward_owner;

--
-- Name: refuse_key_revoke(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.refuse_key_revoke() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.is_key() and new.revoked_at is distinct from old.revoked_at then
    raise exception 'an API key may not revoke keys' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;

ALTER FUNCTION private.refuse_key_revoke() OWNER TO ward_rls;

--
-- Name: refuse_key_write(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.refuse_key_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if private.is_key() and (tg_nargs = 0 or not private.key_holds(tg_argv[0])) then
    raise exception 'this API key may not change %', tg_table_name using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;

ALTER FUNCTION private.refuse_key_write() OWNER TO ward_rls;

--
-- Name: retention_notice(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.retention_notice() RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select interval '30 days'
$$;

ALTER FUNCTION private.retention_notice() OWNER TO ward_owner;

--
-- Name: scim_apply_roles(uuid, uuid[], text, text); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION private.scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text) OWNER TO ward_owner;

--
-- Name: scim_end_access(uuid, uuid, text); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.scim_end_access(p_org uuid, p_user uuid, p_reason text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  perform 1 from app.orgs o where o.id = p_org for update;
  if exists (select from app.memberships m where m.org_id = p_org and m.user_id = p_user and m.role = 'admin'
               and m.revoked_at is null)
     and (select count(*) from app.memberships x where x.org_id = p_org and x.role = 'admin'
            and x.revoked_at is null) = 1 then
    raise exception 'last admin' using errcode = '23514';
  end if;
  update app.memberships m set revoked_at = now()
   where m.org_id = p_org and m.user_id = p_user and m.revoked_at is null;
  update app.sessions s set revoked_at = now(), revoked_reason = p_reason
   where s.org_id = p_org and s.user_id = p_user and s.revoked_at is null;
  update app.api_keys k set revoked_at = now()
   where k.org_id = p_org and k.created_by = p_user and k.revoked_at is null;
end $$;

ALTER FUNCTION private.scim_end_access(p_org uuid, p_user uuid, p_reason text) OWNER TO ward_owner;

--
-- Name: session_id(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.session_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.session_id end;
end $$;

ALTER FUNCTION private.session_id() OWNER TO ward_rls;

--
-- Name: session_token_issued(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.session_token_issued() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  new.token_assurance := new.assurance;
  new.token_amr := new.amr;
  new.token_authenticated_at := new.authenticated_at;
  return new;
end $$;

ALTER FUNCTION private.session_token_issued() OWNER TO ward_rls;

--
-- Name: sessions_sso_required(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.sessions_sso_required() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if not new.break_glass and not ('sso' = any (new.amr)) and private.sso_bound(new.org_id, new.user_id) then
    raise exception 'this org signs its members on this domain in through its identity provider'
      using errcode = '42501', constraint = 'sso_required', detail = new.org_id::text || ' ' || new.user_id::text;
  end if;
  return new;
end $$;

ALTER FUNCTION private.sessions_sso_required() OWNER TO ward_rls;

--
-- Name: signin_net(inet); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.signin_net(p inet) RETURNS cidr
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
  select network(set_masklen(p, case family(p) when 4 then 24 else 48 end))
$$;

ALTER FUNCTION private.signin_net(p inet) OWNER TO ward_rls;

--
-- Name: signin_risk(uuid, uuid, inet, text, inet); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
declare
  ua text := audit.clean_text(p_ua, 256);
  since timestamptz := now() - interval '90 days';
  hour int := extract(hour from now() at time zone 'UTC')::int;
  new_device boolean;
  new_network boolean;
  f_user int;
  links int;
  f_ip int := 0;
  link_changed boolean := p_link_ip is not null and p_ip is not null
                          and private.signin_net(p_link_ip) is distinct from private.signin_net(p_ip);
  net cidr := private.signin_net(p_ip);
  -- A sign-in with a verified DPoP proof names its device key (ward.dpop).
  jkt text := substring(current_setting('ward.dpop', true) from '^[A-Za-z0-9_-]{43}$');
  hours int[];
  unusual boolean;
begin
  -- One pass over the member's sessions of the last 90 days, but those of
  -- a device the member forgot (00155): they vouch for no device, network
  -- or hour.
  select not coalesce(bool_or(case when jkt is not null then s.dpop_jkt = jkt
                                   else s.user_agent is not distinct from ua end), false),
         net is null or not coalesce(bool_or(s.ip <<= net), false),
         coalesce(array_agg(extract(hour from s.created_at at time zone 'UTC')::int), '{}')
    into new_device, new_network, hours
    from app.sessions s where s.org_id = p_org and s.user_id = p_user and s.created_at > since
                          and s.device_forgotten_at is null;
  select count(*) into f_user
    from audit.events e
   where e.org_id = p_org and e.actor_id = p_user and e.at > now() - interval '1 hour' and e.outcome = 'denied'
     and e.action in ('auth.signin', 'auth.mfa.verify', 'auth.recovery_code.use', 'auth.break_glass.activate');
  -- Links asked for and not used (the one being used is spent already).
  select count(*) into links from app.magic_links ml
   where ml.org_id = p_org and ml.user_id = p_user and ml.created_at > now() - interval '1 hour' and ml.used_at is null;
  f_user := f_user + links;
  if p_ip is not null then
    select count(*) into f_ip from audit.events e
     where e.ip = host(p_ip) and e.outcome = 'denied' and e.at > now() - interval '1 hour'
       and e.action in ('auth.signin', 'auth.mfa.verify', 'auth.recovery_code.use', 'auth.break_glass.activate');
  end if;
  unusual := cardinality(hours) >= 5
             and not exists (select from unnest(hours) x where least(abs(x - hour), 24 - abs(x - hour)) <= 1);
  score := 0;
  reasons := '{}';
  if new_device then
    score := score + 20; reasons := reasons || 'new_device'::text;
  end if;
  if new_network then
    score := score + 20; reasons := reasons || 'new_network'::text;
  end if;
  if f_user > 0 then
    score := score + least(10 * f_user, 30); reasons := reasons || 'failure_velocity_user'::text;
  end if;
  if f_ip > 0 then
    score := score + least(5 * f_ip, 20); reasons := reasons || 'failure_velocity_ip'::text;
  end if;
  if link_changed then
    score := score + 25; reasons := reasons || 'link_network_changed'::text;
  end if;
  if unusual then
    score := score + 15; reasons := reasons || 'unusual_hour'::text;
  end if;
  signals := jsonb_build_object('new_device', new_device, 'new_network', new_network, 'failures_user', f_user,
                                'failures_ip', f_ip, 'link_network_changed', link_changed, 'unusual_hour', unusual,
                                'hour_utc', hour);
end $_$;

ALTER FUNCTION private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb) OWNER TO ward_owner;

--
-- Name: sso_admin(); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.sso_admin() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  me record;
begin
  select * into me from private.me();
  if me.kind is distinct from 'session' or me.role is distinct from 'admin' then
    raise exception 'forbidden' using errcode = '42501';
  end if;
  if me.aal < 2 or me.auth_time < now() - interval '10 minutes' then
    raise exception 'step-up required: present a second factor within the last 10 minutes' using errcode = '42501',
      hint = 'step_up_required';
  end if;
  if me.break_glass then
    raise exception 'forbidden: emergency access reads records; it changes no configuration or credential'
      using errcode = '42501', hint = 'break_glass_not_allowed';
  end if;
end $$;

ALTER FUNCTION private.sso_admin() OWNER TO ward_owner;

--
-- Name: sso_bound(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.sso_bound(p_org uuid, p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select exists (select from app.orgs o where o.id = p_org and o.enforce_sso)
     and (exists (select from app.sso_domains d
                    join app.email_domains e on e.domain_bidx = d.domain_bidx
                    join app.users u on u.email_bidx = e.email_bidx
                   where d.org_id = p_org and d.verified_at is not null and u.id = p_user)
          or not exists (select from app.users u
                           join app.email_domains e on e.email_bidx = u.email_bidx
                          where u.id = p_user))
$$;

ALTER FUNCTION private.sso_bound(p_org uuid, p_user uuid) OWNER TO ward_rls;

--
-- Name: sso_domain_gaps(uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.sso_domain_gaps(p_org uuid) RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select (select count(*) from app.memberships m
            join app.users u on u.id = m.user_id
           where m.org_id = p_org and m.revoked_at is null
             and not exists (select from app.email_domains e where e.email_bidx = u.email_bidx))
       + (select count(*) from app.sso_domains d where d.org_id = p_org and d.domain_bidx is null)
$$;

ALTER FUNCTION private.sso_domain_gaps(p_org uuid) OWNER TO ward_rls;

--
-- Name: sso_end_unbound(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.sso_end_unbound(p_org uuid, p_user uuid DEFAULT NULL::uuid, OUT sessions integer, OUT links integer, OUT keys integer) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION private.sso_end_unbound(p_org uuid, p_user uuid, OUT sessions integer, OUT links integer, OUT keys integer) OWNER TO ward_rls;

--
-- Name: sso_revoke_audited(uuid, uuid, text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.sso_revoke_audited(p_org uuid, p_user uuid, p_reason text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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

ALTER FUNCTION private.sso_revoke_audited(p_org uuid, p_user uuid, p_reason text) OWNER TO ward_rls;

--
-- Name: tink_wrapping_key_id(bytea); Type: FUNCTION; Schema: private; Owner: ward_owner
--

CREATE FUNCTION private.tink_wrapping_key_id(p bytea) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO ''
    AS $$
declare
  n int := octet_length(p);
  i int := 1;
  len bigint := 0;
  s int := 0;
  b int;
begin
  if n < 7 or get_byte(p, 0) <> 18 then -- field 2, length-delimited
    return null;
  end if;
  loop
    if i >= n or s > 28 then
      return null;
    end if;
    b := get_byte(p, i); i := i + 1;
    len := len | ((b & 127)::bigint << s); s := s + 7;
    exit when b < 128;
  end loop;
  if len < 5 or len > n - i or get_byte(p, i) <> 1 then
    return null;
  end if;
  return (get_byte(p, i + 1)::bigint << 24) | (get_byte(p, i + 2) << 16) | (get_byte(p, i + 3) << 8) | get_byte(p, i + 4);
end $$;

ALTER FUNCTION private.tink_wrapping_key_id(p bytea) OWNER TO ward_owner;

--
-- Name: touch_due(timestamp with time zone, integer); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.touch_due(p_last_seen timestamp with time zone, p_idle_min integer) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select p_last_seen <= now() - least(interval '1 minute', make_interval(secs => p_idle_min * 6))
$$;

ALTER FUNCTION private.touch_due(p_last_seen timestamp with time zone, p_idle_min integer) OWNER TO ward_rls;

--
-- Name: uid(); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.uid() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  m private.principal := private.principal_now();
begin
  return case when m.pending is null then m.user_id end;
end $$;

ALTER FUNCTION private.uid() OWNER TO ward_rls;

--
-- Name: webauthn_auth_data(bytea, text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.webauthn_auth_data(p_auth_data bytea, p_rp_id text, OUT ok boolean, OUT backup_eligible boolean, OUT backup_state boolean, OUT sign_count bigint, OUT aaguid uuid, OUT credential_id bytea, OUT key_offset integer) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
declare
  flags int;
  n int;
begin
  ok := false;
  if p_auth_data is null or octet_length(p_auth_data) < 37 or p_rp_id is null then
    return;
  end if;
  flags := get_byte(p_auth_data, 32);
  backup_eligible := flags & 8 <> 0;
  backup_state := flags & 16 <> 0;
  sign_count := (get_byte(p_auth_data, 33)::bigint << 24) | (get_byte(p_auth_data, 34)::bigint << 16)
              | (get_byte(p_auth_data, 35)::bigint << 8) | get_byte(p_auth_data, 36)::bigint;
  if substring(p_auth_data from 1 for 32) <> pg_catalog.sha256(convert_to(p_rp_id, 'UTF8'))
     or flags & 1 = 0 or flags & 4 = 0 or (backup_state and not backup_eligible) then
    return;
  end if;
  if flags & 64 <> 0 then
    if octet_length(p_auth_data) < 55 then
      return;
    end if;
    aaguid := encode(substring(p_auth_data from 38 for 16), 'hex')::uuid;
    n := (get_byte(p_auth_data, 53) << 8) | get_byte(p_auth_data, 54);
    if n < 16 or n > 1023 or octet_length(p_auth_data) < 55 + n + 1 then
      return;
    end if;
    credential_id := substring(p_auth_data from 56 for n);
    key_offset := 56 + n;
  end if;
  ok := true;
end $$;

ALTER FUNCTION private.webauthn_auth_data(p_auth_data bytea, p_rp_id text, OUT ok boolean, OUT backup_eligible boolean, OUT backup_state boolean, OUT sign_count bigint, OUT aaguid uuid, OUT credential_id bytea, OUT key_offset integer) OWNER TO ward_rls;

--
-- Name: webauthn_b64url(bytea); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.webauthn_b64url(b bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
  select rtrim(translate(encode(b, 'base64'), E'+/\n', '-_'), '=')
$$;

ALTER FUNCTION private.webauthn_b64url(b bytea) OWNER TO ward_rls;

--
-- Name: webauthn_client_data(bytea, text, bytea, text); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
declare
  j jsonb;
begin
  if p_client_data is null or octet_length(p_client_data) > 4096 then
    return false;
  end if;
  begin
    j := convert_from(p_client_data, 'UTF8')::jsonb;
  exception when others then
    return false;
  end;
  return jsonb_typeof(j) = 'object'
     and j->>'type' is not distinct from p_type
     and j->>'challenge' is not distinct from private.webauthn_b64url(p_challenge)
     and j->>'origin' is not distinct from p_origin
     and coalesce(j->'crossOrigin', 'false'::jsonb) = 'false'::jsonb;
end $$;

ALTER FUNCTION private.webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text) OWNER TO ward_rls;

--
-- Name: webauthn_user_handle(uuid, uuid); Type: FUNCTION; Schema: private; Owner: ward_rls
--

CREATE FUNCTION private.webauthn_user_handle(p_org uuid, p_user uuid) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $$
  select uuid_send(p_org) || uuid_send(p_user)
$$;

ALTER FUNCTION private.webauthn_user_handle(p_org uuid, p_user uuid) OWNER TO ward_rls;

--
-- Name: api_keys; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.api_keys (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    key_hash bytea NOT NULL,
    prefix text NOT NULL,
    name text NOT NULL,
    scopes text[] NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_check CHECK ((expires_at <= (created_at + '366 days'::interval))),
    CONSTRAINT api_keys_expires_at_representable CHECK (((expires_at >= '0001-01-01 00:00:00+00'::timestamp with time zone) AND (expires_at <= '9999-12-31 23:59:59.999999+00'::timestamp with time zone))),
    CONSTRAINT api_keys_key_hash_check CHECK ((octet_length(key_hash) = 32)),
    CONSTRAINT api_keys_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT api_keys_prefix_check CHECK ((prefix ~ '^sk_live_[0-9A-Za-z]{4}$'::text)),
    CONSTRAINT api_keys_scopes_check CHECK ((((cardinality(scopes) >= 1) AND (cardinality(scopes) <= 4)) AND (scopes <@ ARRAY['members'::text, 'audit:read'::text, 'dsr'::text, 'gateway'::text])))
);

ALTER TABLE ONLY app.api_keys FORCE ROW LEVEL SECURITY;

ALTER TABLE app.api_keys OWNER TO ward_owner;

--
-- Name: audit_sinks; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.audit_sinks (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    endpoint text NOT NULL,
    format text DEFAULT 'ocsf'::text NOT NULL,
    batch_max integer DEFAULT 100 NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    secret_enc bytea,
    prev_secret_enc bytea,
    prev_expires_at timestamp with time zone,
    overlap_s integer DEFAULT 86400 NOT NULL,
    disable_after_s integer DEFAULT 259200 NOT NULL,
    cursor_seq bigint DEFAULT 0 NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_success_at timestamp with time zone,
    last_error text,
    failing_since timestamp with time zone,
    disabled_at timestamp with time zone,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    paused_reason text,
    CONSTRAINT audit_sinks_batch_max_check CHECK (((batch_max >= 1) AND (batch_max <= 1000))),
    CONSTRAINT audit_sinks_check CHECK (((kind = 'syslog'::text) = (secret_enc IS NULL))),
    CONSTRAINT audit_sinks_cursor_seq_check CHECK ((cursor_seq >= 0)),
    CONSTRAINT audit_sinks_disable_after_s_check CHECK (((disable_after_s >= 60) AND (disable_after_s <= 2592000))),
    CONSTRAINT audit_sinks_endpoint_check CHECK ((((length(endpoint) >= 3) AND (length(endpoint) <= 500)) AND (endpoint !~ '[[:space:]]'::text))),
    CONSTRAINT audit_sinks_format_check CHECK ((format = ANY (ARRAY['jsonl'::text, 'ocsf'::text, 'fhir'::text]))),
    CONSTRAINT audit_sinks_kind_check CHECK ((kind = ANY (ARRAY['webhook'::text, 'syslog'::text, 'splunk'::text]))),
    CONSTRAINT audit_sinks_last_error_check CHECK ((length(last_error) <= 300)),
    CONSTRAINT audit_sinks_name_check CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$'::text)),
    CONSTRAINT audit_sinks_overlap_s_check CHECK (((overlap_s >= 0) AND (overlap_s <= 604800))),
    CONSTRAINT audit_sinks_paused_disabled CHECK (((paused_reason IS NULL) OR (NOT enabled))),
    CONSTRAINT audit_sinks_paused_reason_check CHECK ((paused_reason = ANY (ARRAY['member_revoked'::text, 'admin_role_removed'::text])))
);

ALTER TABLE ONLY app.audit_sinks FORCE ROW LEVEL SECURITY;

ALTER TABLE app.audit_sinks OWNER TO ward_owner;

--
-- Name: auth_attempts; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.auth_attempts (
    kind text NOT NULL,
    key_hash bytea NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_attempts_kind_check CHECK ((kind = ANY (ARRAY['pair'::text, 'source'::text, 'address'::text])))
);

ALTER TABLE ONLY app.auth_attempts FORCE ROW LEVEL SECURITY;

ALTER TABLE app.auth_attempts OWNER TO ward_owner;

--
-- Name: break_glass_activations; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.break_glass_activations (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    session_id uuid NOT NULL,
    passkey_id uuid NOT NULL,
    reason_enc bytea,
    activated_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    reviewed_at timestamp with time zone,
    reviewed_by uuid,
    review_note_enc bytea,
    CONSTRAINT break_glass_activations_check CHECK ((((reviewed_at IS NULL) = (reviewed_by IS NULL)) AND ((reviewed_at IS NULL) = (review_note_enc IS NULL)))),
    CONSTRAINT break_glass_activations_reason_enc_check CHECK (((octet_length(reason_enc) >= 1) AND (octet_length(reason_enc) <= 16384))),
    CONSTRAINT break_glass_activations_review_note_enc_check CHECK (((octet_length(review_note_enc) >= 1) AND (octet_length(review_note_enc) <= 16384)))
);

ALTER TABLE ONLY app.break_glass_activations FORCE ROW LEVEL SECURITY;

ALTER TABLE app.break_glass_activations OWNER TO ward_owner;

--
-- Name: break_glass_users; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.break_glass_users (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    designated_by uuid NOT NULL,
    designated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.break_glass_users FORCE ROW LEVEL SECURITY;

ALTER TABLE app.break_glass_users OWNER TO ward_owner;

--
-- Name: care_team; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.care_team (
    org_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.care_team FORCE ROW LEVEL SECURITY;

ALTER TABLE app.care_team OWNER TO ward_owner;

--
-- Name: case_members; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.case_members (
    org_id uuid NOT NULL,
    case_id uuid NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    permissions text[] NOT NULL,
    access_expires_at timestamp with time zone,
    added_by uuid NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    expiry_recorded_at timestamp with time zone,
    recipient_org text,
    CONSTRAINT case_members_access_expires_at_representable CHECK (((access_expires_at >= '0001-01-01 00:00:00+00'::timestamp with time zone) AND (access_expires_at <= '9999-12-31 23:59:59.999999+00'::timestamp with time zone))),
    CONSTRAINT case_members_check CHECK (((kind = 'staff'::text) OR (access_expires_at IS NOT NULL))),
    CONSTRAINT case_members_kind_check CHECK ((kind = ANY (ARRAY['staff'::text, 'clinic'::text, 'employer'::text, 'attorney'::text, 'payer'::text]))),
    CONSTRAINT case_members_permissions_check CHECK (((permissions <@ ARRAY['view'::text, 'upload'::text, 'download'::text, 'comment'::text]) AND ('view'::text = ANY (permissions)))),
    CONSTRAINT case_members_recipient_org_check CHECK (((recipient_org IS NULL) OR ((kind <> 'staff'::text) AND ((char_length(recipient_org) >= 1) AND (char_length(recipient_org) <= 180)) AND (recipient_org !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]'::text) AND (recipient_org = btrim(recipient_org)))))
);

ALTER TABLE ONLY app.case_members FORCE ROW LEVEL SECURITY;

ALTER TABLE app.case_members OWNER TO ward_owner;

--
-- Name: cases; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.cases (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    patient_id uuid,
    title_enc bytea NOT NULL,
    reference_enc bytea,
    reference_bidx bytea,
    status text DEFAULT 'open'::text NOT NULL,
    opened_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT cases_check CHECK (((status = 'closed'::text) = (closed_at IS NOT NULL))),
    CONSTRAINT cases_check1 CHECK (((reference_enc IS NULL) = (reference_bidx IS NULL))),
    CONSTRAINT cases_reference_bidx_check CHECK ((octet_length(reference_bidx) = 32)),
    CONSTRAINT cases_status_check CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text])))
);

ALTER TABLE ONLY app.cases FORCE ROW LEVEL SECURITY;

ALTER TABLE app.cases OWNER TO ward_owner;

--
-- Name: clinical_entries; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.clinical_entries (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    patient_id uuid NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    value numeric,
    unit text,
    kcal numeric,
    protein_g numeric,
    carbs_g numeric,
    fat_g numeric,
    observed_at timestamp with time zone NOT NULL,
    note_enc bytea,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clinical_entries_kind_check CHECK ((kind = ANY (ARRAY['food'::text, 'symptom'::text, 'biomarker'::text]))),
    CONSTRAINT clinical_entries_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT clinical_entries_observed_at_representable CHECK (((observed_at >= '0001-01-01 00:00:00+00'::timestamp with time zone) AND (observed_at <= '9999-12-31 23:59:59.999999+00'::timestamp with time zone))),
    CONSTRAINT clinical_entries_unit_check CHECK ((length(unit) <= 32))
);

ALTER TABLE ONLY app.clinical_entries FORCE ROW LEVEL SECURITY;

ALTER TABLE app.clinical_entries OWNER TO ward_owner;

--
-- Name: document_comments; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.document_comments (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    case_id uuid NOT NULL,
    document_id uuid NOT NULL,
    body_enc bytea NOT NULL,
    author_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.document_comments FORCE ROW LEVEL SECURITY;

ALTER TABLE app.document_comments OWNER TO ward_owner;

--
-- Name: document_reminders; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.document_reminders (
    org_id uuid NOT NULL,
    document_id uuid NOT NULL,
    kind text NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT document_reminders_kind_check CHECK ((kind = ANY (ARRAY['due_soon'::text, 'overdue'::text])))
);

ALTER TABLE ONLY app.document_reminders FORCE ROW LEVEL SECURITY;

ALTER TABLE app.document_reminders OWNER TO ward_owner;

--
-- Name: document_retention; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.document_retention (
    org_id uuid NOT NULL,
    doc_type text NOT NULL,
    retain_days integer,
    updated_by uuid NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    pending_days integer,
    effective_at timestamp with time zone,
    CONSTRAINT document_retention_doc_type_check CHECK ((doc_type ~ '^[a-z][a-z0-9_]{0,47}$'::text)),
    CONSTRAINT document_retention_pending CHECK ((((pending_days IS NULL) = (effective_at IS NULL)) AND ((retain_days IS NOT NULL) OR (pending_days IS NOT NULL)) AND ((pending_days IS NULL) OR (retain_days IS NULL) OR (pending_days < retain_days)))),
    CONSTRAINT document_retention_pending_days_check CHECK (((pending_days >= 1) AND (pending_days <= 36500))),
    CONSTRAINT document_retention_retain_days_check CHECK (((retain_days >= 1) AND (retain_days <= 36500)))
);

ALTER TABLE ONLY app.document_retention FORCE ROW LEVEL SECURITY;

ALTER TABLE app.document_retention OWNER TO ward_owner;

--
-- Name: document_uploads; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.document_uploads (
    org_id uuid NOT NULL,
    storage_key text NOT NULL,
    uploaded_by uuid NOT NULL,
    claimed_at timestamp with time zone DEFAULT now() NOT NULL,
    touched_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT document_uploads_check CHECK (((storage_key ~ '^orgs/[0-9a-f-]{36}/obj/[0-9a-f-]{36}$'::text) AND (storage_key ~~ (('orgs/'::text || (org_id)::text) || '/obj/%'::text))))
);

ALTER TABLE ONLY app.document_uploads FORCE ROW LEVEL SECURITY;

ALTER TABLE app.document_uploads OWNER TO ward_owner;

--
-- Name: document_versions; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.document_versions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    case_id uuid NOT NULL,
    document_id uuid NOT NULL,
    version integer NOT NULL,
    storage_key text NOT NULL,
    data_key bytea,
    size bigint NOT NULL,
    sha256 bytea NOT NULL,
    content_type text NOT NULL,
    filename_enc bytea NOT NULL,
    uploaded_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT document_versions_content_type_check CHECK (((length(content_type) >= 1) AND (length(content_type) <= 127))),
    CONSTRAINT document_versions_sha256_check CHECK ((octet_length(sha256) = 32)),
    CONSTRAINT document_versions_size_check CHECK ((size >= 0)),
    CONSTRAINT document_versions_storage_key_check CHECK ((storage_key ~ '^orgs/[0-9a-f-]{36}/obj/[0-9a-f-]{36}$'::text)),
    CONSTRAINT document_versions_version_check CHECK ((version >= 1))
);

ALTER TABLE ONLY app.document_versions FORCE ROW LEVEL SECURITY;

ALTER TABLE app.document_versions OWNER TO ward_owner;

--
-- Name: documents; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.documents (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    case_id uuid NOT NULL,
    doc_type text NOT NULL,
    description_enc bytea,
    requested_by uuid,
    requested_from uuid,
    due_at timestamp with time zone,
    provided_at timestamp with time zone,
    accepted_at timestamp with time zone,
    accepted_by uuid,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    accepted_version integer,
    CONSTRAINT documents_check CHECK (((accepted_at IS NULL) OR (provided_at IS NOT NULL))),
    CONSTRAINT documents_check_accepted_version CHECK ((((accepted_at IS NULL) = (accepted_version IS NULL)) AND ((accepted_version IS NULL) OR (accepted_version >= 1)))),
    CONSTRAINT documents_doc_type_check CHECK ((doc_type ~ '^[a-z][a-z0-9_]{0,47}$'::text)),
    CONSTRAINT documents_due_at_representable CHECK (((due_at >= '0001-01-01 00:00:00+00'::timestamp with time zone) AND (due_at <= '9999-12-31 23:59:59.999999+00'::timestamp with time zone)))
);

ALTER TABLE ONLY app.documents FORCE ROW LEVEL SECURITY;

ALTER TABLE app.documents OWNER TO ward_owner;

--
-- Name: dpop_jti_cleared; Type: SEQUENCE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED SEQUENCE app.dpop_jti_cleared
    START WITH 0
    INCREMENT BY 1
    MINVALUE 0
    NO MAXVALUE
    CACHE 1;

ALTER TABLE app.dpop_jti_cleared OWNER TO ward_owner;

--
-- Name: dpop_jti_epoch; Type: SEQUENCE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED SEQUENCE app.dpop_jti_epoch
    START WITH 0
    INCREMENT BY 1
    MINVALUE 0
    NO MAXVALUE
    CACHE 1;

ALTER TABLE app.dpop_jti_epoch OWNER TO ward_owner;

--
-- Name: dpop_jtis; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.dpop_jtis (
    ring smallint NOT NULL,
    jkt text NOT NULL COLLATE pg_catalog."C",
    jti_hash bytea NOT NULL
)
PARTITION BY LIST (ring);

ALTER TABLE ONLY app.dpop_jtis FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dpop_jtis OWNER TO ward_owner;

--
-- Name: dpop_jtis_0; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED TABLE app.dpop_jtis_0 (
    ring smallint NOT NULL,
    jkt text NOT NULL COLLATE pg_catalog."C",
    jti_hash bytea NOT NULL
);

ALTER TABLE ONLY app.dpop_jtis_0 FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dpop_jtis_0 OWNER TO ward_owner;

--
-- Name: dpop_jtis_1; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED TABLE app.dpop_jtis_1 (
    ring smallint NOT NULL,
    jkt text NOT NULL COLLATE pg_catalog."C",
    jti_hash bytea NOT NULL
);

ALTER TABLE ONLY app.dpop_jtis_1 FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dpop_jtis_1 OWNER TO ward_owner;

--
-- Name: dpop_jtis_2; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED TABLE app.dpop_jtis_2 (
    ring smallint NOT NULL,
    jkt text NOT NULL COLLATE pg_catalog."C",
    jti_hash bytea NOT NULL
);

ALTER TABLE ONLY app.dpop_jtis_2 FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dpop_jtis_2 OWNER TO ward_owner;

--
-- Name: dpop_proofs; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.dpop_proofs (
    jkt text NOT NULL,
    jti_hash bytea NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '00:10:00'::interval) NOT NULL,
    CONSTRAINT dpop_proofs_jkt_check CHECK ((jkt ~ '^[A-Za-z0-9_-]{43}$'::text)),
    CONSTRAINT dpop_proofs_jti_hash_check CHECK ((octet_length(jti_hash) = 32))
);

ALTER TABLE ONLY app.dpop_proofs FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dpop_proofs OWNER TO ward_owner;

--
-- Name: dsr_reminders; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.dsr_reminders (
    org_id uuid NOT NULL,
    dsr_id uuid NOT NULL,
    kind text NOT NULL,
    due_at timestamp with time zone NOT NULL,
    user_id uuid NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT dsr_reminders_kind_check CHECK ((kind = ANY (ARRAY['due_soon'::text, 'overdue'::text])))
);

ALTER TABLE ONLY app.dsr_reminders FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dsr_reminders OWNER TO ward_owner;

--
-- Name: dsr_requests; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.dsr_requests (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    patient_id uuid,
    subject_user_id uuid,
    requested_by uuid NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    due_at timestamp with time zone NOT NULL,
    extended_at timestamp with time zone,
    extended_by uuid,
    extension_reason text,
    status text DEFAULT 'open'::text NOT NULL,
    closed_at timestamp with time zone,
    closed_by uuid,
    CONSTRAINT dsr_requests_check CHECK ((num_nonnulls(patient_id, subject_user_id) = 1)),
    CONSTRAINT dsr_requests_check1 CHECK (((kind ~~ 'ccpa\_%'::text) OR (patient_id IS NOT NULL))),
    CONSTRAINT dsr_requests_check2 CHECK ((((extended_at IS NULL) = (extension_reason IS NULL)) AND ((extended_at IS NULL) = (extended_by IS NULL)))),
    CONSTRAINT dsr_requests_check3 CHECK ((((status = 'open'::text) = (closed_at IS NULL)) AND ((closed_at IS NULL) = (closed_by IS NULL)))),
    CONSTRAINT dsr_requests_extension_reason_check CHECK ((extension_reason = ANY (ARRAY['volume'::text, 'complexity'::text, 'records_elsewhere'::text, 'identity_verification'::text, 'other'::text]))),
    CONSTRAINT dsr_requests_kind_check CHECK ((kind = ANY (ARRAY['access'::text, 'amendment'::text, 'accounting'::text, 'ccpa_know'::text, 'ccpa_delete'::text, 'ccpa_correct'::text, 'ccpa_limit'::text]))),
    CONSTRAINT dsr_requests_status_check CHECK ((status = ANY (ARRAY['open'::text, 'fulfilled'::text, 'denied'::text, 'withdrawn'::text])))
);

ALTER TABLE ONLY app.dsr_requests FORCE ROW LEVEL SECURITY;

ALTER TABLE app.dsr_requests OWNER TO ward_owner;

--
-- Name: email_domains; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.email_domains (
    email_bidx bytea NOT NULL,
    domain_bidx bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT email_domains_domain_bidx_check CHECK ((octet_length(domain_bidx) = 32)),
    CONSTRAINT email_domains_email_bidx_check CHECK ((octet_length(email_bidx) = 32))
);

ALTER TABLE ONLY app.email_domains FORCE ROW LEVEL SECURITY;

ALTER TABLE app.email_domains OWNER TO ward_owner;

--
-- Name: gateway_buckets; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED TABLE app.gateway_buckets (
    org_id uuid NOT NULL,
    rpm double precision NOT NULL,
    tpm double precision NOT NULL,
    at timestamp with time zone NOT NULL,
    requests double precision NOT NULL,
    tokens double precision NOT NULL,
    admitted boolean DEFAULT false NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='10000', autovacuum_analyze_scale_factor='0', autovacuum_analyze_threshold='10000');

ALTER TABLE ONLY app.gateway_buckets FORCE ROW LEVEL SECURITY;

ALTER TABLE app.gateway_buckets OWNER TO ward_owner;

--
-- Name: gateway_providers; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.gateway_providers (
    name text NOT NULL,
    base_url text NOT NULL,
    baa_signed_at timestamp with time zone,
    baa_ref text,
    zero_retention boolean DEFAULT false NOT NULL,
    models text[] DEFAULT '{}'::text[] NOT NULL,
    region text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT gateway_providers_baa_ref_check CHECK (((length(baa_ref) >= 1) AND (length(baa_ref) <= 200))),
    CONSTRAINT gateway_providers_base_url_check CHECK (((base_url ~ '^https?://[^[:space:]]+$'::text) AND (length(base_url) <= 500))),
    CONSTRAINT gateway_providers_models_check CHECK ((cardinality(models) <= 100)),
    CONSTRAINT gateway_providers_name_check CHECK ((name ~ '^[a-z][a-z0-9_-]{0,31}$'::text)),
    CONSTRAINT gateway_providers_region_check CHECK (((length(region) >= 1) AND (length(region) <= 64)))
);

ALTER TABLE ONLY app.gateway_providers FORCE ROW LEVEL SECURITY;

ALTER TABLE app.gateway_providers OWNER TO ward_owner;

--
-- Name: gateway_reservations; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE UNLOGGED TABLE app.gateway_reservations (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    credential_id uuid NOT NULL,
    tokens bigint NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '01:00:00'::interval) NOT NULL,
    back bigint,
    give_request boolean,
    CONSTRAINT gateway_reservations_tokens_check CHECK (((tokens >= 0) AND (tokens <= 1000000000)))
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='10000', autovacuum_vacuum_insert_scale_factor='0', autovacuum_vacuum_insert_threshold='10000', autovacuum_analyze_scale_factor='0', autovacuum_analyze_threshold='10000');

ALTER TABLE ONLY app.gateway_reservations FORCE ROW LEVEL SECURITY;

ALTER TABLE app.gateway_reservations OWNER TO ward_owner;

--
-- Name: gateway_reservations_id_seq; Type: SEQUENCE; Schema: app; Owner: ward_owner
--

ALTER TABLE app.gateway_reservations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.gateway_reservations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: instance_policy; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.instance_policy (
    id boolean DEFAULT true NOT NULL,
    link_ttl_min integer DEFAULT 15 NOT NULL,
    link_window_min integer DEFAULT 15 NOT NULL,
    link_max_per_address integer DEFAULT 5 NOT NULL,
    link_max_per_source integer DEFAULT 30 NOT NULL,
    session_idle_max_min integer DEFAULT 480 NOT NULL,
    session_absolute_max_min integer DEFAULT 10080 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    invite_ttl_min integer DEFAULT 1440 NOT NULL,
    case_invite_ttl_days integer DEFAULT 7 NOT NULL,
    link_max_per_address_all integer DEFAULT 15 NOT NULL,
    CONSTRAINT instance_policy_case_invite_ttl_days_check CHECK (((case_invite_ttl_days >= 1) AND (case_invite_ttl_days <= 30))),
    CONSTRAINT instance_policy_check CHECK ((session_idle_max_min <= session_absolute_max_min)),
    CONSTRAINT instance_policy_id_check CHECK (id),
    CONSTRAINT instance_policy_invite_ttl_min_check CHECK (((invite_ttl_min >= 15) AND (invite_ttl_min <= 10080))),
    CONSTRAINT instance_policy_link_max_per_address_all_check CHECK (((link_max_per_address_all >= 1) AND (link_max_per_address_all <= 1000))),
    CONSTRAINT instance_policy_link_max_per_address_check CHECK (((link_max_per_address >= 1) AND (link_max_per_address <= 100))),
    CONSTRAINT instance_policy_link_max_per_source_check CHECK (((link_max_per_source >= 1) AND (link_max_per_source <= 10000))),
    CONSTRAINT instance_policy_link_ttl_min_check CHECK (((link_ttl_min >= 1) AND (link_ttl_min <= 60))),
    CONSTRAINT instance_policy_link_window_min_check CHECK (((link_window_min >= 1) AND (link_window_min <= 1440))),
    CONSTRAINT instance_policy_session_absolute_max_min_check CHECK (((session_absolute_max_min >= 5) AND (session_absolute_max_min <= 43200))),
    CONSTRAINT instance_policy_session_idle_max_min_check CHECK (((session_idle_max_min >= 1) AND (session_idle_max_min <= 1440)))
);

ALTER TABLE ONLY app.instance_policy FORCE ROW LEVEL SECURITY;

ALTER TABLE app.instance_policy OWNER TO ward_owner;

--
-- Name: TABLE instance_policy; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON TABLE app.instance_policy IS 'Instance-wide sign-in and session limits; hard caps are the CHECK constraints. Only ward_ops updates it.';

--
-- Name: known_devices; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.known_devices (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    session_id uuid,
    CONSTRAINT known_devices_check CHECK ((expires_at <= (created_at + '30 days'::interval))),
    CONSTRAINT known_devices_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY app.known_devices FORCE ROW LEVEL SECURITY;

ALTER TABLE app.known_devices OWNER TO ward_owner;

--
-- Name: magic_links; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.magic_links (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    verifier_hash bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    request_ip inet,
    purpose text DEFAULT 'signin'::text NOT NULL,
    CONSTRAINT magic_links_purpose_check CHECK ((purpose = ANY (ARRAY['signin'::text, 'invite'::text]))),
    CONSTRAINT magic_links_token_hash_check CHECK ((octet_length(token_hash) = 32)),
    CONSTRAINT magic_links_unbound_check CHECK (((verifier_hash IS NOT NULL) OR (purpose = 'invite'::text) OR (request_ip IS NULL))),
    CONSTRAINT magic_links_verifier_hash_check CHECK ((octet_length(verifier_hash) = 32))
);

ALTER TABLE ONLY app.magic_links FORCE ROW LEVEL SECURITY;

ALTER TABLE app.magic_links OWNER TO ward_owner;

--
-- Name: COLUMN magic_links.verifier_hash; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.magic_links.verifier_hash IS 'SHA-256 of the browser-bound verifier; NULL only for operator links printed by `ward login-link`';

--
-- Name: memberships; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.memberships (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    revoked_via text,
    revoked_by uuid,
    CONSTRAINT memberships_revocation_live CHECK (((revoked_at IS NOT NULL) OR ((revoked_via IS NULL) AND (revoked_by IS NULL)))),
    CONSTRAINT memberships_revoked_via_check CHECK ((revoked_via = ANY (ARRAY['admin'::text, 'scim'::text, 'shred'::text]))),
    CONSTRAINT memberships_role_check CHECK ((role = ANY (ARRAY['patient'::text, 'provider'::text, 'lead'::text, 'admin'::text, 'stakeholder'::text])))
);

ALTER TABLE ONLY app.memberships FORCE ROW LEVEL SECURITY;

ALTER TABLE app.memberships OWNER TO ward_owner;

--
-- Name: COLUMN memberships.revoked_via; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.memberships.revoked_via IS 'how the membership was revoked: admin (app.update_member), scim (the directory) or shred (app.ops_org_shred); null when live or unknown';

--
-- Name: COLUMN memberships.revoked_by; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.memberships.revoked_by IS 'who revoked it: the admin''s user id (admin) or the SCIM token''s id (scim)';

--
-- Name: orgs; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.orgs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    session_idle_timeout_min integer DEFAULT 30 NOT NULL,
    session_absolute_max_min integer DEFAULT 720 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    require_mfa boolean DEFAULT false NOT NULL,
    require_passkey boolean DEFAULT false NOT NULL,
    document_max_bytes bigint DEFAULT '4294967296'::bigint NOT NULL,
    enforce_sso boolean DEFAULT false NOT NULL,
    risk_threshold integer,
    device_binding_required_for text[] DEFAULT '{admin,lead,provider}'::text[] NOT NULL,
    gateway_providers text[] DEFAULT '{}'::text[] NOT NULL,
    gateway_models text[] DEFAULT '{}'::text[] NOT NULL,
    gateway_dates text DEFAULT 'mask'::text NOT NULL,
    gateway_zip text DEFAULT 'mask'::text NOT NULL,
    gateway_allow text[] DEFAULT '{}'::text[] NOT NULL,
    gateway_keep text[] DEFAULT '{}'::text[] NOT NULL,
    gateway_requests_per_minute integer DEFAULT 600 NOT NULL,
    gateway_tokens_per_minute integer DEFAULT 2000000 NOT NULL,
    document_quota_bytes bigint DEFAULT '107374182400'::bigint NOT NULL,
    document_quota_versions integer DEFAULT 100000 NOT NULL,
    shredded_at timestamp with time zone,
    CONSTRAINT orgs_device_binding_required_for_check CHECK ((device_binding_required_for <@ ARRAY['patient'::text, 'provider'::text, 'lead'::text, 'admin'::text, 'stakeholder'::text])),
    CONSTRAINT orgs_document_max_bytes_check CHECK (((document_max_bytes >= 1) AND (document_max_bytes <= '68719476736'::bigint))),
    CONSTRAINT orgs_document_quota_bytes_check CHECK (((document_quota_bytes >= 1) AND (document_quota_bytes <= '1125899906842624'::bigint))),
    CONSTRAINT orgs_document_quota_versions_check CHECK (((document_quota_versions >= 1) AND (document_quota_versions <= 100000000))),
    CONSTRAINT orgs_gateway_allow_check CHECK ((gateway_allow <@ ARRAY['images'::text, 'documents'::text, 'server_tools'::text, 'mcp'::text])),
    CONSTRAINT orgs_gateway_dates_check CHECK ((gateway_dates = ANY (ARRAY['mask'::text, 'shift'::text]))),
    CONSTRAINT orgs_gateway_keep_check CHECK ((gateway_keep <@ ARRAY['ORGANIZATION'::text])),
    CONSTRAINT orgs_gateway_models_check CHECK (((cardinality(gateway_models) <= 100) AND (array_position(gateway_models, NULL::text) IS NULL))),
    CONSTRAINT orgs_gateway_providers_check CHECK (((cardinality(gateway_providers) <= 20) AND (array_position(gateway_providers, NULL::text) IS NULL))),
    CONSTRAINT orgs_gateway_requests_per_minute_check CHECK (((gateway_requests_per_minute >= 1) AND (gateway_requests_per_minute <= 100000))),
    CONSTRAINT orgs_gateway_tokens_per_minute_check CHECK (((gateway_tokens_per_minute >= 1000) AND (gateway_tokens_per_minute <= 100000000))),
    CONSTRAINT orgs_gateway_zip_check CHECK ((gateway_zip = ANY (ARRAY['mask'::text, 'zip3'::text]))),
    CONSTRAINT orgs_id_not_nil CHECK ((id <> '00000000-0000-0000-0000-000000000000'::uuid)),
    CONSTRAINT orgs_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT orgs_risk_threshold_check CHECK (((risk_threshold >= 1) AND (risk_threshold <= 200))),
    CONSTRAINT orgs_session_absolute_max_min_check CHECK (((session_absolute_max_min >= 5) AND (session_absolute_max_min <= 43200))),
    CONSTRAINT orgs_session_idle_timeout_min_check CHECK (((session_idle_timeout_min >= 1) AND (session_idle_timeout_min <= 1440)))
);

ALTER TABLE ONLY app.orgs FORCE ROW LEVEL SECURITY;

ALTER TABLE app.orgs OWNER TO ward_owner;

--
-- Name: COLUMN orgs.shredded_at; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.orgs.shredded_at IS 'when app.ops_org_shred destroyed the org''s keysets and data keys; a shredded org takes no new credential';

--
-- Name: passkeys; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.passkeys (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    credential_id bytea NOT NULL,
    public_key bytea NOT NULL,
    aaguid uuid NOT NULL,
    sign_count bigint DEFAULT 0 NOT NULL,
    backup_eligible boolean NOT NULL,
    backup_state boolean NOT NULL,
    transports text[] DEFAULT '{}'::text[] NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    CONSTRAINT passkeys_check CHECK ((backup_eligible OR (NOT backup_state))),
    CONSTRAINT passkeys_credential_id_check CHECK (((octet_length(credential_id) >= 16) AND (octet_length(credential_id) <= 1023))),
    CONSTRAINT passkeys_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT passkeys_public_key_check CHECK (((octet_length(public_key) >= 16) AND (octet_length(public_key) <= 2048))),
    CONSTRAINT passkeys_sign_count_check CHECK (((sign_count >= 0) AND (sign_count <= '4294967295'::bigint))),
    CONSTRAINT passkeys_transports_check CHECK ((cardinality(transports) <= 8))
);

ALTER TABLE ONLY app.passkeys FORCE ROW LEVEL SECURITY;

ALTER TABLE app.passkeys OWNER TO ward_owner;

--
-- Name: COLUMN passkeys.credential_id; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.passkeys.credential_id IS 'WebAuthn credential id (rawId); never granted to ward_app';

--
-- Name: COLUMN passkeys.public_key; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.passkeys.public_key IS 'COSE public key from the attested credential data; never granted to ward_app';

--
-- Name: patient_links; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.patient_links (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app.patient_links FORCE ROW LEVEL SECURITY;

ALTER TABLE app.patient_links OWNER TO ward_owner;

--
-- Name: patients; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.patients (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    mrn_bidx bytea,
    email_bidx bytea,
    name_enc bytea NOT NULL,
    dob_enc bytea,
    phone_enc bytea,
    email_enc bytea,
    address_enc bytea,
    identifiers_enc bytea,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    keyset bytea,
    shredded_at timestamp with time zone,
    CONSTRAINT patients_keyset_size CHECK (((octet_length(keyset) >= 1) AND (octet_length(keyset) <= 4096))),
    CONSTRAINT patients_shredded_keyless CHECK (((shredded_at IS NULL) OR (keyset IS NULL)))
);

ALTER TABLE ONLY app.patients FORCE ROW LEVEL SECURITY;

ALTER TABLE app.patients OWNER TO ward_owner;

--
-- Name: COLUMN patients.keyset; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.patients.keyset IS 'the patient''s AEAD keyset, wrapped under the org''s (envelope.PatientKeys); null before 00275 and after app.patient_shred';

--
-- Name: COLUMN patients.shredded_at; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.patients.shredded_at IS 'when app.patient_shred destroyed the patient''s keyset; the row is then read-only';

--
-- Name: record_amendments; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.record_amendments (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    patient_id uuid NOT NULL,
    entry_id uuid,
    dsr_id uuid NOT NULL,
    request_enc bytea NOT NULL,
    requested_by uuid NOT NULL,
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    status text DEFAULT 'requested'::text NOT NULL,
    denial_basis text,
    decision_enc bytea,
    decided_by uuid,
    decided_at timestamp with time zone,
    disagreement_enc bytea,
    disagreement_at timestamp with time zone,
    rebuttal_enc bytea,
    rebuttal_by uuid,
    rebuttal_at timestamp with time zone,
    CONSTRAINT record_amendments_check CHECK ((((status = 'requested'::text) = (decided_at IS NULL)) AND ((decided_at IS NULL) = (decided_by IS NULL)) AND ((decided_at IS NULL) = (decision_enc IS NULL)))),
    CONSTRAINT record_amendments_check1 CHECK (((status = 'denied'::text) = (denial_basis IS NOT NULL))),
    CONSTRAINT record_amendments_check2 CHECK ((((disagreement_enc IS NULL) = (disagreement_at IS NULL)) AND ((disagreement_enc IS NULL) OR (status = 'denied'::text)))),
    CONSTRAINT record_amendments_check3 CHECK ((((rebuttal_enc IS NULL) = (rebuttal_at IS NULL)) AND ((rebuttal_at IS NULL) = (rebuttal_by IS NULL)) AND ((rebuttal_enc IS NULL) OR (disagreement_enc IS NOT NULL)))),
    CONSTRAINT record_amendments_decision_enc_check CHECK (((octet_length(decision_enc) >= 1) AND (octet_length(decision_enc) <= 65536))),
    CONSTRAINT record_amendments_denial_basis_check CHECK ((denial_basis = ANY (ARRAY['not_created_here'::text, 'not_in_record_set'::text, 'not_open_to_access'::text, 'accurate_and_complete'::text]))),
    CONSTRAINT record_amendments_disagreement_enc_check CHECK (((octet_length(disagreement_enc) >= 1) AND (octet_length(disagreement_enc) <= 65536))),
    CONSTRAINT record_amendments_rebuttal_enc_check CHECK (((octet_length(rebuttal_enc) >= 1) AND (octet_length(rebuttal_enc) <= 65536))),
    CONSTRAINT record_amendments_request_enc_check CHECK (((octet_length(request_enc) >= 1) AND (octet_length(request_enc) <= 65536))),
    CONSTRAINT record_amendments_status_check CHECK ((status = ANY (ARRAY['requested'::text, 'accepted'::text, 'denied'::text])))
);

ALTER TABLE ONLY app.record_amendments FORCE ROW LEVEL SECURITY;

ALTER TABLE app.record_amendments OWNER TO ward_owner;

--
-- Name: recovery_codes; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.recovery_codes (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    code_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT recovery_codes_code_hash_check CHECK ((octet_length(code_hash) = 32))
);

ALTER TABLE ONLY app.recovery_codes FORCE ROW LEVEL SECURITY;

ALTER TABLE app.recovery_codes OWNER TO ward_owner;

--
-- Name: scim_group_members; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.scim_group_members (
    org_id uuid NOT NULL,
    group_id uuid NOT NULL,
    user_id uuid NOT NULL
);

ALTER TABLE ONLY app.scim_group_members FORCE ROW LEVEL SECURITY;

ALTER TABLE app.scim_group_members OWNER TO ward_owner;

--
-- Name: scim_groups; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.scim_groups (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    display_name text NOT NULL,
    external_id text,
    role text,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT scim_groups_display_name_check CHECK (((length(display_name) >= 1) AND (length(display_name) <= 256))),
    CONSTRAINT scim_groups_external_id_check CHECK (((length(external_id) >= 1) AND (length(external_id) <= 256))),
    CONSTRAINT scim_groups_role_check CHECK ((role = ANY (ARRAY['provider'::text, 'lead'::text, 'admin'::text]))),
    CONSTRAINT scim_groups_version_check CHECK ((version > 0))
);

ALTER TABLE ONLY app.scim_groups FORCE ROW LEVEL SECURITY;

ALTER TABLE app.scim_groups OWNER TO ward_owner;

--
-- Name: scim_tokens; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.scim_tokens (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    token_hash bytea NOT NULL,
    prefix text NOT NULL,
    name text NOT NULL,
    default_role text DEFAULT 'provider'::text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT scim_tokens_default_role_check CHECK ((default_role = ANY (ARRAY['provider'::text, 'lead'::text]))),
    CONSTRAINT scim_tokens_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT scim_tokens_prefix_check CHECK ((prefix ~ '^scim_[0-9A-Za-z]{4}$'::text)),
    CONSTRAINT scim_tokens_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY app.scim_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE app.scim_tokens OWNER TO ward_owner;

--
-- Name: scim_users; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.scim_users (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    external_id text,
    attrs_enc bytea,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT scim_users_external_id_check CHECK (((length(external_id) >= 1) AND (length(external_id) <= 256))),
    CONSTRAINT scim_users_version_check CHECK ((version > 0))
);

ALTER TABLE ONLY app.scim_users FORCE ROW LEVEL SECURITY;

ALTER TABLE app.scim_users OWNER TO ward_owner;

--
-- Name: COLUMN scim_users.attrs_enc; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.scim_users.attrs_enc IS 'AEAD ciphertext under the org keyset, AD scim_users|attrs|org|user: the SCIM name, displayName, title';

--
-- Name: session_tokens; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.session_tokens (
    org_id uuid NOT NULL,
    session_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    retired_at timestamp with time zone DEFAULT now() NOT NULL,
    assurance integer NOT NULL,
    amr text[] NOT NULL,
    authenticated_at timestamp with time zone NOT NULL,
    CONSTRAINT session_tokens_assurance_check CHECK ((assurance = ANY (ARRAY[1, 2]))),
    CONSTRAINT session_tokens_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY app.session_tokens FORCE ROW LEVEL SECURITY;

ALTER TABLE app.session_tokens OWNER TO ward_owner;

--
-- Name: sessions; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    idle_timeout_min integer NOT NULL,
    absolute_expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_reason text,
    assurance integer DEFAULT 1 NOT NULL,
    user_agent text,
    ip inet,
    amr text[] DEFAULT '{email}'::text[] NOT NULL,
    authenticated_at timestamp with time zone DEFAULT now() NOT NULL,
    dpop_jkt text,
    break_glass boolean DEFAULT false NOT NULL,
    risk_score integer,
    step_up text,
    browser boolean DEFAULT false NOT NULL,
    passkey_id uuid,
    token_assurance integer NOT NULL,
    token_amr text[] NOT NULL,
    token_authenticated_at timestamp with time zone NOT NULL,
    device_forgotten_at timestamp with time zone,
    sso_connection_id uuid,
    step_up_passkey_ids uuid[] DEFAULT '{}'::uuid[] NOT NULL,
    CONSTRAINT sessions_absolute_cap CHECK ((absolute_expires_at <= (created_at + '30 days'::interval))),
    CONSTRAINT sessions_amr_check CHECK (((amr <@ ARRAY['email'::text, 'totp'::text, 'passkey'::text, 'recovery_code'::text, 'sso'::text]) AND ((cardinality(amr) >= 1) AND (cardinality(amr) <= 5)))),
    CONSTRAINT sessions_assurance_check CHECK ((assurance = ANY (ARRAY[1, 2]))),
    CONSTRAINT sessions_break_glass_check CHECK (((NOT break_glass) OR ((assurance = 2) AND (amr @> ARRAY['passkey'::text]) AND (idle_timeout_min <= 60) AND (absolute_expires_at <= (created_at + '01:00:00'::interval))))),
    CONSTRAINT sessions_browser_check CHECK ((NOT (browser AND (dpop_jkt IS NOT NULL)))),
    CONSTRAINT sessions_dpop_jkt_check CHECK ((dpop_jkt ~ '^[A-Za-z0-9_-]{43}$'::text)),
    CONSTRAINT sessions_idle_cap CHECK ((idle_timeout_min <= 1440)),
    CONSTRAINT sessions_idle_timeout_min_check CHECK ((idle_timeout_min > 0)),
    CONSTRAINT sessions_risk_score_check CHECK (((risk_score >= 0) AND (risk_score <= 200))),
    CONSTRAINT sessions_step_up_check CHECK ((step_up = 'passkey'::text)),
    CONSTRAINT sessions_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY app.sessions FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sessions OWNER TO ward_owner;

--
-- Name: COLUMN sessions.sso_connection_id; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.sessions.sso_connection_id IS 'the SSO connection that issued the session (00178): deleting it ends the session';

--
-- Name: COLUMN sessions.step_up_passkey_ids; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.sessions.step_up_passkey_ids IS 'the passkeys that stepped the session up besides passkey_id (00305): deleting any of them ends the session';

--
-- Name: sso_assertions; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sso_assertions (
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    id_hash bytea NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT sso_assertions_id_hash_check CHECK ((octet_length(id_hash) = 32))
);

ALTER TABLE ONLY app.sso_assertions FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sso_assertions OWNER TO ward_owner;

--
-- Name: sso_connections; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sso_connections (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    issuer text,
    client_id text,
    client_secret_enc bytea,
    signing_algs text[] DEFAULT '{RS256,ES256}'::text[] NOT NULL,
    trusted_amr text[] DEFAULT '{}'::text[] NOT NULL,
    trusted_acr text[] DEFAULT '{}'::text[] NOT NULL,
    jit boolean DEFAULT false NOT NULL,
    jit_role text DEFAULT 'provider'::text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    idp_metadata text,
    allow_idp_initiated boolean DEFAULT false NOT NULL,
    CONSTRAINT sso_connections_check CHECK (((kind <> 'oidc'::text) OR ((issuer IS NOT NULL) AND (client_id IS NOT NULL)))),
    CONSTRAINT sso_connections_client_id_check CHECK (((length(client_id) >= 1) AND (length(client_id) <= 512))),
    CONSTRAINT sso_connections_idp_metadata_check CHECK ((length(idp_metadata) <= 200000)),
    CONSTRAINT sso_connections_issuer_check CHECK (((length(issuer) >= 8) AND (length(issuer) <= 2048))),
    CONSTRAINT sso_connections_jit_role_check CHECK ((jit_role = ANY (ARRAY['patient'::text, 'provider'::text, 'lead'::text]))),
    CONSTRAINT sso_connections_kind_check CHECK ((kind = ANY (ARRAY['oidc'::text, 'saml'::text]))),
    CONSTRAINT sso_connections_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT sso_connections_saml_check CHECK (((kind <> 'saml'::text) OR (idp_metadata IS NOT NULL))),
    CONSTRAINT sso_connections_signing_algs_check CHECK ((((cardinality(signing_algs) >= 1) AND (cardinality(signing_algs) <= 10)) AND (signing_algs <@ ARRAY['RS256'::text, 'RS384'::text, 'RS512'::text, 'ES256'::text, 'ES384'::text, 'ES512'::text, 'PS256'::text, 'PS384'::text, 'PS512'::text, 'EdDSA'::text]))),
    CONSTRAINT sso_connections_trusted_acr_check CHECK ((cardinality(trusted_acr) <= 20)),
    CONSTRAINT sso_connections_trusted_amr_check CHECK ((cardinality(trusted_amr) <= 20))
);

ALTER TABLE ONLY app.sso_connections FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sso_connections OWNER TO ward_owner;

--
-- Name: COLUMN sso_connections.client_secret_enc; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.sso_connections.client_secret_enc IS 'AEAD ciphertext under the instance keyset, AD sso_connections|client_secret|instance|connection';

--
-- Name: sso_domains; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sso_domains (
    org_id uuid NOT NULL,
    domain text NOT NULL,
    connection_id uuid NOT NULL,
    verified_at timestamp with time zone,
    verified_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    verify_token text DEFAULT encode(ext.gen_random_bytes(16), 'hex'::text) NOT NULL,
    domain_bidx bytea,
    CONSTRAINT sso_domains_domain_bidx_check CHECK ((octet_length(domain_bidx) = 32)),
    CONSTRAINT sso_domains_domain_check CHECK (((domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$'::text) AND (length(domain) <= 253))),
    CONSTRAINT sso_domains_verified_by_check CHECK ((verified_by = 'dns'::text)),
    CONSTRAINT sso_domains_verify_token_check CHECK ((verify_token ~ '^[0-9a-f]{32}$'::text))
);

ALTER TABLE ONLY app.sso_domains FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sso_domains OWNER TO ward_owner;

--
-- Name: sso_identities; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sso_identities (
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    subject_hash bytea NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_signin_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sso_identities_subject_hash_check CHECK ((octet_length(subject_hash) = 32))
);

ALTER TABLE ONLY app.sso_identities FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sso_identities OWNER TO ward_owner;

--
-- Name: sso_states; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.sso_states (
    state_hash bytea NOT NULL,
    org_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    binder_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '00:10:00'::interval) NOT NULL,
    taken_at timestamp with time zone,
    done_at timestamp with time zone,
    CONSTRAINT sso_states_binder_hash_check CHECK ((octet_length(binder_hash) = 32)),
    CONSTRAINT sso_states_state_hash_check CHECK ((octet_length(state_hash) = 32))
);

ALTER TABLE ONLY app.sso_states FORCE ROW LEVEL SECURITY;

ALTER TABLE app.sso_states OWNER TO ward_owner;

--
-- Name: totp_factors; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.totp_factors (
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    secret_enc bytea NOT NULL,
    secret_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmed_at timestamp with time zone,
    last_step bigint,
    failures integer DEFAULT 0 NOT NULL,
    locked_until timestamp with time zone,
    lockouts integer DEFAULT 0 NOT NULL,
    pending_secret_enc bytea,
    pending_secret_hash bytea,
    pending_created_at timestamp with time zone,
    pending_session uuid,
    pending_failures integer DEFAULT 0 NOT NULL,
    CONSTRAINT totp_factors_failures_check CHECK (((failures >= 0) AND (failures <= 5))),
    CONSTRAINT totp_factors_lockouts_check CHECK ((lockouts >= 0)),
    CONSTRAINT totp_factors_pending_check CHECK ((((pending_secret_enc IS NULL) = (pending_secret_hash IS NULL)) AND ((pending_secret_enc IS NULL) = (pending_created_at IS NULL)) AND ((pending_secret_enc IS NULL) = (pending_session IS NULL)) AND ((pending_secret_enc IS NULL) OR ((confirmed_at IS NOT NULL) AND (octet_length(pending_secret_hash) = 32))))),
    CONSTRAINT totp_factors_pending_failures_check CHECK (((pending_failures >= 0) AND (pending_failures <= 5))),
    CONSTRAINT totp_factors_secret_hash_check CHECK ((octet_length(secret_hash) = 32))
);

ALTER TABLE ONLY app.totp_factors FORCE ROW LEVEL SECURITY;

ALTER TABLE app.totp_factors OWNER TO ward_owner;

--
-- Name: COLUMN totp_factors.secret_enc; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.totp_factors.secret_enc IS 'AEAD ciphertext under the org keyset, AD totp_factors|secret|org|user';

--
-- Name: COLUMN totp_factors.secret_hash; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.totp_factors.secret_hash IS 'SHA-256 of the secret: binds the secret the server presents to the one enrolled';

--
-- Name: COLUMN totp_factors.lockouts; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.totp_factors.lockouts IS 'lockouts since the last accepted code: each doubles the next (at most 24 hours)';

--
-- Name: COLUMN totp_factors.pending_secret_enc; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.totp_factors.pending_secret_enc IS 'a replacement secret not yet confirmed (AEAD ciphertext under the org keyset, AD totp_factors|secret|org|user: it becomes secret_enc as it is)';

--
-- Name: COLUMN totp_factors.pending_session; Type: COMMENT; Schema: app; Owner: ward_owner
--

COMMENT ON COLUMN app.totp_factors.pending_session IS 'the session that enrolled the replacement: only it confirms it, within 10 minutes of pending_created_at';

--
-- Name: users; Type: TABLE; Schema: app; Owner: ward_owner
--

CREATE TABLE app.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email_bidx bytea NOT NULL,
    email_enc bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_email_bidx_check CHECK ((octet_length(email_bidx) = 32))
);

ALTER TABLE ONLY app.users FORCE ROW LEVEL SECURITY;

ALTER TABLE app.users OWNER TO ward_owner;

--
-- Name: actions; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.actions (
    name text NOT NULL,
    category text NOT NULL,
    phi_access boolean NOT NULL,
    disclosure boolean NOT NULL,
    reserved boolean NOT NULL,
    requires text[] DEFAULT '{}'::text[] NOT NULL,
    stakeholder_disclosure boolean DEFAULT false NOT NULL,
    CONSTRAINT actions_category_check CHECK ((category = ANY (ARRAY['auth'::text, 'session'::text, 'org'::text, 'membership'::text, 'patient'::text, 'record'::text, 'audit'::text, 'access'::text, 'case'::text]))),
    CONSTRAINT actions_name_check CHECK ((name ~ '^[a-z][a-z0-9_.]{0,63}$'::text)),
    CONSTRAINT actions_requires_check CHECK ((requires <@ ARRAY['patient'::text, 'object'::text, 'results'::text]))
);

ALTER TABLE ONLY audit.actions FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.actions OWNER TO ward_owner;

--
-- Name: archive_objects; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.archive_objects (
    org_id uuid NOT NULL,
    name text NOT NULL,
    version_id text DEFAULT ''::text NOT NULL,
    mode text,
    retain_until timestamp with time zone,
    stored_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT archive_objects_check CHECK (((mode IS NULL) = (retain_until IS NULL))),
    CONSTRAINT archive_objects_mode_check CHECK ((mode = ANY (ARRAY['COMPLIANCE'::text, 'GOVERNANCE'::text]))),
    CONSTRAINT archive_objects_name_check CHECK (((length(name) >= 1) AND (length(name) <= 1024))),
    CONSTRAINT archive_objects_version_id_check CHECK ((length(version_id) <= 1024))
);

ALTER TABLE ONLY audit.archive_objects FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.archive_objects OWNER TO ward_owner;

--
-- Name: archive_state; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.archive_state (
    org_id uuid NOT NULL,
    archived_size bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT archive_state_archived_size_check CHECK ((archived_size >= 0))
);

ALTER TABLE ONLY audit.archive_state FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.archive_state OWNER TO ward_owner;

--
-- Name: checkpoints; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.checkpoints (
    org_id uuid NOT NULL,
    size bigint NOT NULL,
    root_hash bytea NOT NULL,
    note text NOT NULL,
    chain_hash bytea,
    frontier bytea[],
    signed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT checkpoints_note_check CHECK ((length(note) < 4096)),
    CONSTRAINT checkpoints_root_hash_check CHECK ((octet_length(root_hash) = 32)),
    CONSTRAINT checkpoints_size_check CHECK ((size > 0))
);

ALTER TABLE ONLY audit.checkpoints FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.checkpoints OWNER TO ward_owner;

--
-- Name: events; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.events (
    org_id uuid NOT NULL,
    at timestamp with time zone NOT NULL,
    action text NOT NULL,
    outcome text NOT NULL,
    actor_id uuid,
    actor_kind text NOT NULL,
    session_id uuid,
    object_type text,
    object_id uuid,
    patient_id uuid,
    result_ids uuid[] DEFAULT '{}'::uuid[] NOT NULL,
    request_id text,
    ip text,
    user_agent text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    canonical bytea NOT NULL,
    leaf_hash bytea NOT NULL,
    v smallint DEFAULT 1 NOT NULL,
    credential_kind text,
    credential_id uuid,
    device text,
    case_id uuid,
    disclosure jsonb,
    break_glass boolean DEFAULT false NOT NULL,
    qid bigint NOT NULL,
    CONSTRAINT events_actor_kind_check CHECK ((actor_kind = ANY (ARRAY['user'::text, 'system'::text, 'anonymous'::text]))),
    CONSTRAINT events_credential_kind_check CHECK ((credential_kind = ANY (ARRAY['session'::text, 'api_key'::text, 'scim_token'::text, 'invite'::text]))),
    CONSTRAINT events_leaf_hash_check CHECK ((octet_length(leaf_hash) = 32)),
    CONSTRAINT events_outcome_check CHECK ((outcome = ANY (ARRAY['success'::text, 'denied'::text, 'failure'::text]))),
    CONSTRAINT events_v_check CHECK ((v = ANY (ARRAY[1, 2])))
);

ALTER TABLE ONLY audit.events FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.events OWNER TO ward_owner;

--
-- Name: events_qid_seq; Type: SEQUENCE; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.events ALTER COLUMN qid ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.events_qid_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: heads; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.heads (
    org_id uuid NOT NULL,
    origin text NOT NULL,
    tree_size bigint DEFAULT 0 NOT NULL,
    chain_hash bytea NOT NULL,
    frontier bytea[] DEFAULT '{}'::bytea[] NOT NULL,
    root_hash bytea NOT NULL,
    last_at timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL
);

ALTER TABLE ONLY audit.heads FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.heads OWNER TO ward_owner;

--
-- Name: leaves; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.leaves (
    org_id uuid NOT NULL,
    seq bigint NOT NULL,
    qid bigint NOT NULL,
    chain_hash bytea NOT NULL,
    CONSTRAINT leaves_chain_hash_check CHECK ((octet_length(chain_hash) = 32)),
    CONSTRAINT leaves_seq_check CHECK ((seq >= 1))
);

ALTER TABLE ONLY audit.leaves FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.leaves OWNER TO ward_owner;

--
-- Name: log; Type: VIEW; Schema: audit; Owner: ward_owner
--

CREATE VIEW audit.log WITH (security_invoker='true') AS
 SELECT l.org_id,
    l.seq,
    e.at,
    e.action,
    e.outcome,
    e.actor_id,
    e.actor_kind,
    e.session_id,
    e.object_type,
    e.object_id,
    e.patient_id,
    e.result_ids,
    e.request_id,
    e.ip,
    e.user_agent,
    e.details,
    e.canonical,
    e.leaf_hash,
    l.chain_hash,
    e.v,
    e.credential_kind,
    e.credential_id,
    e.device,
    e.case_id,
    e.disclosure,
    e.break_glass,
    e.qid
   FROM (audit.leaves l
     CROSS JOIN LATERAL ( SELECT x.org_id,
            x.at,
            x.action,
            x.outcome,
            x.actor_id,
            x.actor_kind,
            x.session_id,
            x.object_type,
            x.object_id,
            x.patient_id,
            x.result_ids,
            x.request_id,
            x.ip,
            x.user_agent,
            x.details,
            x.canonical,
            x.leaf_hash,
            x.v,
            x.credential_kind,
            x.credential_id,
            x.device,
            x.case_id,
            x.disclosure,
            x.break_glass,
            x.qid
           FROM audit.events x
          WHERE ((x.org_id = l.org_id) AND (x.qid = l.qid))
         OFFSET 0) e);

ALTER TABLE audit.log OWNER TO ward_owner;

--
-- Name: queue; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.queue (
    org_id uuid NOT NULL,
    qid bigint NOT NULL,
    at timestamp with time zone NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='10000', autovacuum_vacuum_insert_scale_factor='0', autovacuum_vacuum_insert_threshold='10000');

ALTER TABLE ONLY audit.queue FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.queue OWNER TO ward_owner;

--
-- Name: tree_nodes; Type: TABLE; Schema: audit; Owner: ward_owner
--

CREATE TABLE audit.tree_nodes (
    org_id uuid NOT NULL,
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT tree_nodes_hash_check CHECK ((octet_length(hash) = 32)),
    CONSTRAINT tree_nodes_idx_check CHECK ((idx >= 0)),
    CONSTRAINT tree_nodes_level_check CHECK (((level > 0) AND (((level)::integer % 4) = 0) AND (level < 64)))
);

ALTER TABLE ONLY audit.tree_nodes FORCE ROW LEVEL SECURITY;

ALTER TABLE audit.tree_nodes OWNER TO ward_owner;

--
-- Name: keysets; Type: TABLE; Schema: private; Owner: ward_owner
--

CREATE TABLE private.keysets (
    org_id uuid NOT NULL,
    purpose text NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    rotated_at timestamp with time zone,
    CONSTRAINT keysets_purpose_check CHECK ((purpose = ANY (ARRAY['aead'::text, 'prf'::text, 'signer'::text])))
);

ALTER TABLE ONLY private.keysets FORCE ROW LEVEL SECURITY;

ALTER TABLE private.keysets OWNER TO ward_owner;

--
-- Name: patient_keyings; Type: TABLE; Schema: private; Owner: ward_owner
--

CREATE TABLE private.patient_keyings (
    org_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    keyed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY private.patient_keyings FORCE ROW LEVEL SECURITY;

ALTER TABLE private.patient_keyings OWNER TO ward_owner;

--
-- Name: principal_cache; Type: TABLE; Schema: private; Owner: ward_owner
--

CREATE TABLE private.principal_cache (
    id bigint NOT NULL,
    cred text NOT NULL,
    org text,
    dpop text,
    principal private.principal NOT NULL,
    snap pg_snapshot NOT NULL,
    put_xid xid8 NOT NULL,
    valid_until timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY private.principal_cache FORCE ROW LEVEL SECURITY;

ALTER TABLE private.principal_cache OWNER TO ward_owner;

--
-- Name: principal_cache_id_seq; Type: SEQUENCE; Schema: private; Owner: ward_owner
--

ALTER TABLE private.principal_cache ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME private.principal_cache_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: principal_changes; Type: TABLE; Schema: private; Owner: ward_owner
--

CREATE TABLE private.principal_changes (
    xid xid8 NOT NULL,
    at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);

ALTER TABLE ONLY private.principal_changes FORCE ROW LEVEL SECURITY;

ALTER TABLE private.principal_changes OWNER TO ward_owner;

--
-- Name: principal_cached; Type: VIEW; Schema: private; Owner: ward_owner
--

CREATE VIEW private.principal_cached WITH (security_invoker='true') AS
 SELECT
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).org_id
            ELSE NULL::uuid
        END AS org_id,
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).user_id
            ELSE NULL::uuid
        END AS user_id,
        CASE
            WHEN ((x.principal).pending IS NULL) THEN (x.principal).role
            ELSE NULL::text
        END AS role,
    (((x.principal).pending IS NULL) AND ((x.principal).org_id IS NOT NULL) AND COALESCE((((x.principal).role = ANY (ARRAY['lead'::text, 'admin'::text])) AND ((x.principal).kind IS DISTINCT FROM 'api_key'::text)), false)) AS lead,
    (((x.principal).pending IS NULL) AND COALESCE(((x.principal).kind = 'api_key'::text), false)) AS is_key,
    (((x.principal).pending IS NULL) AND COALESCE((x.principal).break_glass, false)) AS break_glass,
    x.principal,
        CASE
            WHEN ((((x.principal).pending IS NULL) AND ((x.principal).org_id IS NOT NULL) AND COALESCE((((x.principal).role = ANY (ARRAY['lead'::text, 'admin'::text])) AND ((x.principal).kind IS DISTINCT FROM 'api_key'::text)), false)) OR (((x.principal).pending IS NULL) AND COALESCE((x.principal).break_glass, false) AND ((x.principal).org_id IS NOT NULL))) THEN (x.principal).org_id
            ELSE '00000000-0000-0000-0000-000000000000'::uuid
        END AS lead_org
   FROM private.principal_cache x
  WHERE ((current_setting('ward.principal_cache'::text, true) IS DISTINCT FROM 'off'::text) AND (x.cred = current_setting('ward.credential'::text, true)) AND (NOT (x.org IS DISTINCT FROM current_setting('ward.org'::text, true))) AND (NOT (x.dpop IS DISTINCT FROM current_setting('ward.dpop'::text, true))) AND (x.valid_until > now()) AND (NOT (EXISTS ( SELECT
           FROM private.principal_changes ch
          WHERE ((ch.xid >= pg_snapshot_xmin(x.snap)) AND ((ch.xid = x.put_xid) OR (NOT pg_visible_in_snapshot(ch.xid, x.snap))))))) AND ((pg_current_xact_id_if_assigned() IS NULL) OR (NOT (EXISTS ( SELECT
           FROM private.principal_changes ch
          WHERE (ch.xid = pg_current_xact_id_if_assigned()))))))
 LIMIT 1;

ALTER TABLE private.principal_cached OWNER TO ward_owner;

--
-- Name: principal_epoch; Type: SEQUENCE; Schema: private; Owner: ward_rls
--

CREATE SEQUENCE private.principal_epoch
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1000;

ALTER TABLE private.principal_epoch OWNER TO ward_rls;

--
-- Name: principal_key; Type: TABLE; Schema: private; Owner: ward_owner
--

CREATE TABLE private.principal_key (
    one boolean DEFAULT true NOT NULL,
    ipad bytea NOT NULL,
    opad bytea NOT NULL,
    CONSTRAINT principal_key_ipad_check CHECK ((octet_length(ipad) = 64)),
    CONSTRAINT principal_key_one_check CHECK (one),
    CONSTRAINT principal_key_opad_check CHECK ((octet_length(opad) = 64))
);

ALTER TABLE ONLY private.principal_key FORCE ROW LEVEL SECURITY;

ALTER TABLE private.principal_key OWNER TO ward_owner;

--
-- Name: goose_db_version; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.goose_db_version (
    id integer NOT NULL,
    version_id bigint NOT NULL,
    is_applied boolean NOT NULL,
    tstamp timestamp without time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.goose_db_version OWNER TO postgres;

--
-- Name: goose_db_version_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

ALTER TABLE public.goose_db_version ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.goose_db_version_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: dpop_jtis_0; Type: TABLE ATTACH; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis ATTACH PARTITION app.dpop_jtis_0 FOR VALUES IN ('0');

--
-- Name: dpop_jtis_1; Type: TABLE ATTACH; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis ATTACH PARTITION app.dpop_jtis_1 FOR VALUES IN ('1');

--
-- Name: dpop_jtis_2; Type: TABLE ATTACH; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis ATTACH PARTITION app.dpop_jtis_2 FOR VALUES IN ('2');

--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id);

--
-- Name: audit_sinks audit_sinks_org_id_name_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.audit_sinks
    ADD CONSTRAINT audit_sinks_org_id_name_key UNIQUE (org_id, name);

--
-- Name: audit_sinks audit_sinks_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.audit_sinks
    ADD CONSTRAINT audit_sinks_pkey PRIMARY KEY (org_id, id);

--
-- Name: break_glass_activations break_glass_activations_org_id_session_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_activations
    ADD CONSTRAINT break_glass_activations_org_id_session_id_key UNIQUE (org_id, session_id);

--
-- Name: break_glass_activations break_glass_activations_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_activations
    ADD CONSTRAINT break_glass_activations_pkey PRIMARY KEY (org_id, id);

--
-- Name: break_glass_users break_glass_users_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_users
    ADD CONSTRAINT break_glass_users_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: care_team care_team_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.care_team
    ADD CONSTRAINT care_team_pkey PRIMARY KEY (org_id, provider_id, patient_id);

--
-- Name: case_invites case_invites_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_invites
    ADD CONSTRAINT case_invites_pkey PRIMARY KEY (org_id, id);

--
-- Name: case_invites case_invites_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_invites
    ADD CONSTRAINT case_invites_token_hash_key UNIQUE (token_hash);

--
-- Name: case_members case_members_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_members
    ADD CONSTRAINT case_members_pkey PRIMARY KEY (org_id, case_id, user_id);

--
-- Name: cases cases_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.cases
    ADD CONSTRAINT cases_pkey PRIMARY KEY (org_id, id);

--
-- Name: clinical_entries clinical_entries_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.clinical_entries
    ADD CONSTRAINT clinical_entries_pkey PRIMARY KEY (org_id, id);

--
-- Name: document_comments document_comments_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_comments
    ADD CONSTRAINT document_comments_pkey PRIMARY KEY (org_id, id);

--
-- Name: document_reminders document_reminders_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_reminders
    ADD CONSTRAINT document_reminders_pkey PRIMARY KEY (org_id, document_id, kind);

--
-- Name: document_retention document_retention_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_retention
    ADD CONSTRAINT document_retention_pkey PRIMARY KEY (org_id, doc_type);

--
-- Name: document_uploads document_uploads_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_uploads
    ADD CONSTRAINT document_uploads_pkey PRIMARY KEY (org_id, storage_key);

--
-- Name: document_uploads document_uploads_storage_key_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_uploads
    ADD CONSTRAINT document_uploads_storage_key_key UNIQUE (storage_key);

--
-- Name: document_versions document_versions_org_id_document_id_version_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_versions
    ADD CONSTRAINT document_versions_org_id_document_id_version_key UNIQUE (org_id, document_id, version);

--
-- Name: document_versions document_versions_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_versions
    ADD CONSTRAINT document_versions_pkey PRIMARY KEY (org_id, id);

--
-- Name: document_versions document_versions_storage_key_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_versions
    ADD CONSTRAINT document_versions_storage_key_key UNIQUE (storage_key);

--
-- Name: documents documents_org_id_case_id_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.documents
    ADD CONSTRAINT documents_org_id_case_id_id_key UNIQUE (org_id, case_id, id);

--
-- Name: documents documents_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.documents
    ADD CONSTRAINT documents_pkey PRIMARY KEY (org_id, id);

--
-- Name: dpop_jtis dpop_jtis_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis
    ADD CONSTRAINT dpop_jtis_pkey PRIMARY KEY (ring, jkt, jti_hash);

--
-- Name: dpop_jtis_0 dpop_jtis_0_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis_0
    ADD CONSTRAINT dpop_jtis_0_pkey PRIMARY KEY (ring, jkt, jti_hash);

--
-- Name: dpop_jtis_1 dpop_jtis_1_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis_1
    ADD CONSTRAINT dpop_jtis_1_pkey PRIMARY KEY (ring, jkt, jti_hash);

--
-- Name: dpop_jtis_2 dpop_jtis_2_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_jtis_2
    ADD CONSTRAINT dpop_jtis_2_pkey PRIMARY KEY (ring, jkt, jti_hash);

--
-- Name: dpop_proofs dpop_proofs_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dpop_proofs
    ADD CONSTRAINT dpop_proofs_pkey PRIMARY KEY (jkt, jti_hash);

--
-- Name: dsr_reminders dsr_reminders_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_reminders
    ADD CONSTRAINT dsr_reminders_pkey PRIMARY KEY (org_id, dsr_id, kind, due_at, user_id);

--
-- Name: dsr_requests dsr_requests_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_pkey PRIMARY KEY (org_id, id);

--
-- Name: email_domains email_domains_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.email_domains
    ADD CONSTRAINT email_domains_pkey PRIMARY KEY (email_bidx);

--
-- Name: gateway_buckets gateway_buckets_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.gateway_buckets
    ADD CONSTRAINT gateway_buckets_pkey PRIMARY KEY (org_id);

--
-- Name: gateway_providers gateway_providers_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.gateway_providers
    ADD CONSTRAINT gateway_providers_pkey PRIMARY KEY (name);

--
-- Name: gateway_reservations gateway_reservations_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.gateway_reservations
    ADD CONSTRAINT gateway_reservations_pkey PRIMARY KEY (org_id, id);

--
-- Name: instance_policy instance_policy_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.instance_policy
    ADD CONSTRAINT instance_policy_pkey PRIMARY KEY (id);

--
-- Name: known_devices known_devices_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.known_devices
    ADD CONSTRAINT known_devices_pkey PRIMARY KEY (org_id, user_id, token_hash);

--
-- Name: legal_holds legal_holds_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.legal_holds
    ADD CONSTRAINT legal_holds_pkey PRIMARY KEY (org_id, id);

--
-- Name: magic_links magic_links_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.magic_links
    ADD CONSTRAINT magic_links_pkey PRIMARY KEY (id);

--
-- Name: magic_links magic_links_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.magic_links
    ADD CONSTRAINT magic_links_token_hash_key UNIQUE (token_hash);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: orgs orgs_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.orgs
    ADD CONSTRAINT orgs_pkey PRIMARY KEY (id);

--
-- Name: passkey_challenges passkey_challenges_challenge_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkey_challenges
    ADD CONSTRAINT passkey_challenges_challenge_key UNIQUE (challenge);

--
-- Name: passkey_challenges passkey_challenges_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkey_challenges
    ADD CONSTRAINT passkey_challenges_pkey PRIMARY KEY (id);

--
-- Name: passkeys passkeys_credential_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkeys
    ADD CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id);

--
-- Name: passkeys passkeys_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkeys
    ADD CONSTRAINT passkeys_pkey PRIMARY KEY (org_id, id);

--
-- Name: patient_links patient_links_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patient_links
    ADD CONSTRAINT patient_links_pkey PRIMARY KEY (org_id, user_id, patient_id);

--
-- Name: patients patients_org_id_mrn_bidx_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patients
    ADD CONSTRAINT patients_org_id_mrn_bidx_key UNIQUE (org_id, mrn_bidx);

--
-- Name: patients patients_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patients
    ADD CONSTRAINT patients_pkey PRIMARY KEY (org_id, id);

--
-- Name: record_amendments record_amendments_org_id_dsr_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_org_id_dsr_id_key UNIQUE (org_id, dsr_id);

--
-- Name: record_amendments record_amendments_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_pkey PRIMARY KEY (org_id, id);

--
-- Name: recovery_codes recovery_codes_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.recovery_codes
    ADD CONSTRAINT recovery_codes_pkey PRIMARY KEY (org_id, user_id, code_hash);

--
-- Name: scim_group_members scim_group_members_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_group_members
    ADD CONSTRAINT scim_group_members_pkey PRIMARY KEY (org_id, group_id, user_id);

--
-- Name: scim_groups scim_groups_org_id_external_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_groups
    ADD CONSTRAINT scim_groups_org_id_external_id_key UNIQUE (org_id, external_id);

--
-- Name: scim_groups scim_groups_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_groups
    ADD CONSTRAINT scim_groups_pkey PRIMARY KEY (org_id, id);

--
-- Name: scim_tokens scim_tokens_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_tokens
    ADD CONSTRAINT scim_tokens_pkey PRIMARY KEY (org_id, id);

--
-- Name: scim_tokens scim_tokens_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_tokens
    ADD CONSTRAINT scim_tokens_token_hash_key UNIQUE (token_hash);

--
-- Name: scim_users scim_users_org_id_external_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_users
    ADD CONSTRAINT scim_users_org_id_external_id_key UNIQUE (org_id, external_id);

--
-- Name: scim_users scim_users_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_users
    ADD CONSTRAINT scim_users_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: session_tokens session_tokens_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.session_tokens
    ADD CONSTRAINT session_tokens_pkey PRIMARY KEY (org_id, session_id, token_hash);

--
-- Name: session_tokens session_tokens_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.session_tokens
    ADD CONSTRAINT session_tokens_token_hash_key UNIQUE (token_hash);

--
-- Name: sessions sessions_org_id_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sessions
    ADD CONSTRAINT sessions_org_id_key UNIQUE (org_id, id);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);

--
-- Name: sso_assertions sso_assertions_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_assertions
    ADD CONSTRAINT sso_assertions_pkey PRIMARY KEY (org_id, connection_id, id_hash);

--
-- Name: sso_connections sso_connections_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_connections
    ADD CONSTRAINT sso_connections_pkey PRIMARY KEY (org_id, id);

--
-- Name: sso_domains sso_domains_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_domains
    ADD CONSTRAINT sso_domains_pkey PRIMARY KEY (org_id, domain);

--
-- Name: sso_identities sso_identities_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_identities
    ADD CONSTRAINT sso_identities_pkey PRIMARY KEY (org_id, connection_id, subject_hash);

--
-- Name: sso_states sso_states_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_states
    ADD CONSTRAINT sso_states_pkey PRIMARY KEY (state_hash);

--
-- Name: totp_factors totp_factors_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.totp_factors
    ADD CONSTRAINT totp_factors_pkey PRIMARY KEY (org_id, user_id);

--
-- Name: users users_email_bidx_key; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.users
    ADD CONSTRAINT users_email_bidx_key UNIQUE (email_bidx);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: actions actions_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.actions
    ADD CONSTRAINT actions_pkey PRIMARY KEY (name);

--
-- Name: archive_objects archive_objects_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.archive_objects
    ADD CONSTRAINT archive_objects_pkey PRIMARY KEY (org_id, name, version_id);

--
-- Name: archive_state archive_state_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.archive_state
    ADD CONSTRAINT archive_state_pkey PRIMARY KEY (org_id);

--
-- Name: checkpoints checkpoints_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.checkpoints
    ADD CONSTRAINT checkpoints_pkey PRIMARY KEY (org_id, size);

--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (org_id, qid);

--
-- Name: heads heads_origin_key; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.heads
    ADD CONSTRAINT heads_origin_key UNIQUE (origin);

--
-- Name: heads heads_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.heads
    ADD CONSTRAINT heads_pkey PRIMARY KEY (org_id);

--
-- Name: leaves leaves_org_id_qid_key; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.leaves
    ADD CONSTRAINT leaves_org_id_qid_key UNIQUE (org_id, qid);

--
-- Name: leaves leaves_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.leaves
    ADD CONSTRAINT leaves_pkey PRIMARY KEY (org_id, seq);

--
-- Name: queue queue_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.queue
    ADD CONSTRAINT queue_pkey PRIMARY KEY (org_id, qid);

--
-- Name: tree_nodes tree_nodes_pkey; Type: CONSTRAINT; Schema: audit; Owner: ward_owner
--

ALTER TABLE ONLY audit.tree_nodes
    ADD CONSTRAINT tree_nodes_pkey PRIMARY KEY (org_id, level, idx);

--
-- Name: keysets keysets_pkey; Type: CONSTRAINT; Schema: private; Owner: ward_owner
--

ALTER TABLE ONLY private.keysets
    ADD CONSTRAINT keysets_pkey PRIMARY KEY (org_id, purpose);

--
-- Name: patient_keyings patient_keyings_pkey; Type: CONSTRAINT; Schema: private; Owner: ward_owner
--

ALTER TABLE ONLY private.patient_keyings
    ADD CONSTRAINT patient_keyings_pkey PRIMARY KEY (org_id, patient_id);

--
-- Name: principal_cache principal_cache_pkey; Type: CONSTRAINT; Schema: private; Owner: ward_owner
--

ALTER TABLE ONLY private.principal_cache
    ADD CONSTRAINT principal_cache_pkey PRIMARY KEY (id);

--
-- Name: principal_changes principal_changes_pkey; Type: CONSTRAINT; Schema: private; Owner: ward_owner
--

ALTER TABLE ONLY private.principal_changes
    ADD CONSTRAINT principal_changes_pkey PRIMARY KEY (xid);

--
-- Name: principal_key principal_key_pkey; Type: CONSTRAINT; Schema: private; Owner: ward_owner
--

ALTER TABLE ONLY private.principal_key
    ADD CONSTRAINT principal_key_pkey PRIMARY KEY (one);

--
-- Name: goose_db_version goose_db_version_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.goose_db_version
    ADD CONSTRAINT goose_db_version_pkey PRIMARY KEY (id);

--
-- Name: auth_attempts_at_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX auth_attempts_at_idx ON app.auth_attempts USING btree (at);

--
-- Name: auth_attempts_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX auth_attempts_idx ON app.auth_attempts USING btree (kind, key_hash, at);

--
-- Name: break_glass_activations_open_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX break_glass_activations_open_idx ON app.break_glass_activations USING btree (org_id, activated_at DESC) WHERE (reviewed_at IS NULL);

--
-- Name: care_team_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX care_team_patient_idx ON app.care_team USING btree (org_id, patient_id);

--
-- Name: case_invites_author_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX case_invites_author_idx ON app.case_invites USING btree (org_id, created_by, created_at DESC);

--
-- Name: case_invites_case_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX case_invites_case_idx ON app.case_invites USING btree (org_id, case_id, created_at DESC);

--
-- Name: case_members_user_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX case_members_user_idx ON app.case_members USING btree (user_id, org_id);

--
-- Name: cases_created_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX cases_created_idx ON app.cases USING btree (org_id, created_at DESC);

--
-- Name: cases_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX cases_patient_idx ON app.cases USING btree (org_id, patient_id) WHERE (patient_id IS NOT NULL);

--
-- Name: cases_reference_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE UNIQUE INDEX cases_reference_idx ON app.cases USING btree (org_id, patient_id, reference_bidx) NULLS NOT DISTINCT WHERE (reference_bidx IS NOT NULL);

--
-- Name: clinical_entries_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX clinical_entries_patient_idx ON app.clinical_entries USING btree (org_id, patient_id, observed_at DESC);

--
-- Name: document_comments_doc_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX document_comments_doc_idx ON app.document_comments USING btree (org_id, document_id, created_at);

--
-- Name: document_uploads_touched_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX document_uploads_touched_idx ON app.document_uploads USING btree (touched_at);

--
-- Name: document_versions_case_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX document_versions_case_idx ON app.document_versions USING btree (org_id, case_id);

--
-- Name: documents_case_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX documents_case_idx ON app.documents USING btree (org_id, case_id, created_at DESC);

--
-- Name: documents_due_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX documents_due_idx ON app.documents USING btree (due_at) WHERE ((provided_at IS NULL) AND (deleted_at IS NULL));

--
-- Name: documents_retention_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX documents_retention_idx ON app.documents USING btree (org_id, doc_type, created_at) WHERE (deleted_at IS NULL);

--
-- Name: dpop_proofs_expiry_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX dpop_proofs_expiry_idx ON app.dpop_proofs USING btree (expires_at);

--
-- Name: dsr_requests_open_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX dsr_requests_open_idx ON app.dsr_requests USING btree (org_id, due_at) WHERE (status = 'open'::text);

--
-- Name: dsr_requests_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX dsr_requests_patient_idx ON app.dsr_requests USING btree (org_id, patient_id) WHERE (patient_id IS NOT NULL);

--
-- Name: email_domains_domain_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX email_domains_domain_idx ON app.email_domains USING btree (domain_bidx);

--
-- Name: gateway_reservations_settled_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX gateway_reservations_settled_idx ON app.gateway_reservations USING btree (org_id) WHERE (back IS NOT NULL);

--
-- Name: legal_holds_active_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX legal_holds_active_idx ON app.legal_holds USING btree (org_id, patient_id) WHERE (released_at IS NULL);

--
-- Name: magic_links_user_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX magic_links_user_idx ON app.magic_links USING btree (user_id, created_at);

--
-- Name: memberships_user_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX memberships_user_idx ON app.memberships USING btree (user_id, org_id);

--
-- Name: passkey_challenges_expiry; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX passkey_challenges_expiry ON app.passkey_challenges USING btree (expires_at);

--
-- Name: passkeys_member; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX passkeys_member ON app.passkeys USING btree (org_id, user_id);

--
-- Name: patient_links_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX patient_links_patient_idx ON app.patient_links USING btree (org_id, patient_id);

--
-- Name: patients_created_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX patients_created_idx ON app.patients USING btree (org_id, created_at DESC, id);

--
-- Name: patients_email_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX patients_email_idx ON app.patients USING btree (org_id, email_bidx);

--
-- Name: record_amendments_patient_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX record_amendments_patient_idx ON app.record_amendments USING btree (org_id, patient_id, requested_at);

--
-- Name: scim_group_members_user_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX scim_group_members_user_idx ON app.scim_group_members USING btree (org_id, user_id);

--
-- Name: scim_groups_name_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE UNIQUE INDEX scim_groups_name_idx ON app.scim_groups USING btree (org_id, lower(display_name));

--
-- Name: sessions_passkey_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sessions_passkey_idx ON app.sessions USING btree (org_id, passkey_id) WHERE (passkey_id IS NOT NULL);

--
-- Name: sessions_sso_connection; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sessions_sso_connection ON app.sessions USING btree (org_id, sso_connection_id) WHERE (sso_connection_id IS NOT NULL);

--
-- Name: sessions_user_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sessions_user_idx ON app.sessions USING btree (user_id, org_id, created_at DESC);

--
-- Name: sso_assertions_expiry_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sso_assertions_expiry_idx ON app.sso_assertions USING btree (expires_at);

--
-- Name: sso_domains_domain_bidx_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sso_domains_domain_bidx_idx ON app.sso_domains USING btree (domain_bidx) WHERE (verified_at IS NOT NULL);

--
-- Name: sso_domains_verified_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE UNIQUE INDEX sso_domains_verified_idx ON app.sso_domains USING btree (domain) WHERE (verified_at IS NOT NULL);

--
-- Name: sso_states_expiry_idx; Type: INDEX; Schema: app; Owner: ward_owner
--

CREATE INDEX sso_states_expiry_idx ON app.sso_states USING btree (expires_at);

--
-- Name: events_actor_idx; Type: INDEX; Schema: audit; Owner: ward_owner
--

CREATE INDEX events_actor_idx ON audit.events USING btree (org_id, actor_id, at);

--
-- Name: events_denied_ip_idx; Type: INDEX; Schema: audit; Owner: ward_owner
--

CREATE INDEX events_denied_ip_idx ON audit.events USING btree (ip, at) WHERE (outcome = 'denied'::text);

--
-- Name: events_patient_idx; Type: INDEX; Schema: audit; Owner: ward_owner
--

CREATE INDEX events_patient_idx ON audit.events USING btree (org_id, patient_id, at);

--
-- Name: events_results_idx; Type: INDEX; Schema: audit; Owner: ward_owner
--

CREATE INDEX events_results_idx ON audit.events USING gin (result_ids);

--
-- Name: principal_cache_cred_idx; Type: INDEX; Schema: private; Owner: ward_owner
--

CREATE INDEX principal_cache_cred_idx ON private.principal_cache USING btree (cred);

--
-- Name: dpop_jtis_0_pkey; Type: INDEX ATTACH; Schema: app; Owner: ward_owner
--

ALTER INDEX app.dpop_jtis_pkey ATTACH PARTITION app.dpop_jtis_0_pkey;

--
-- Name: dpop_jtis_1_pkey; Type: INDEX ATTACH; Schema: app; Owner: ward_owner
--

ALTER INDEX app.dpop_jtis_pkey ATTACH PARTITION app.dpop_jtis_1_pkey;

--
-- Name: dpop_jtis_2_pkey; Type: INDEX ATTACH; Schema: app; Owner: ward_owner
--

ALTER INDEX app.dpop_jtis_pkey ATTACH PARTITION app.dpop_jtis_2_pkey;

--
-- Name: api_keys api_keys_key_revoke; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER api_keys_key_revoke BEFORE UPDATE ON app.api_keys FOR EACH ROW EXECUTE FUNCTION private.refuse_key_revoke();

--
-- Name: audit_sinks audit_sinks_break_glass; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER audit_sinks_break_glass BEFORE UPDATE ON app.audit_sinks FOR EACH ROW EXECUTE FUNCTION app.audit_sinks_break_glass();

--
-- Name: audit_sinks audit_sinks_deleting; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER audit_sinks_deleting BEFORE DELETE ON app.audit_sinks FOR EACH ROW EXECUTE FUNCTION app.audit_sinks_deleting();

--
-- Name: audit_sinks audit_sinks_guard; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER audit_sinks_guard BEFORE UPDATE ON app.audit_sinks FOR EACH ROW EXECUTE FUNCTION app.audit_sinks_guard();

--
-- Name: audit_sinks audit_sinks_limit; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER audit_sinks_limit BEFORE INSERT ON app.audit_sinks FOR EACH ROW EXECUTE FUNCTION app.audit_sinks_limit();

--
-- Name: audit_sinks audit_sinks_standing; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER audit_sinks_standing BEFORE INSERT OR UPDATE ON app.audit_sinks FOR EACH ROW EXECUTE FUNCTION app.audit_sinks_standing();

--
-- Name: case_invites bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.case_invites FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: case_members bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.case_members FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: document_comments bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.document_comments FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: document_versions bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: documents bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.documents FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: dsr_requests bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.dsr_requests FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: legal_holds bound_org; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER bound_org BEFORE INSERT ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.refuse_other_org_row();

--
-- Name: break_glass_activations break_glass_reason_given; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE CONSTRAINT TRIGGER break_glass_reason_given AFTER INSERT ON app.break_glass_activations DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION private.break_glass_reason_given();

--
-- Name: care_team care_team_leave; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER care_team_leave AFTER DELETE ON app.care_team FOR EACH ROW EXECUTE FUNCTION app.care_team_leave();

--
-- Name: case_invites case_closed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_closed BEFORE INSERT ON app.case_invites FOR EACH ROW EXECUTE FUNCTION app.case_closed_refusal();

--
-- Name: case_members case_closed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_closed BEFORE INSERT OR UPDATE ON app.case_members FOR EACH ROW EXECUTE FUNCTION app.case_closed_refusal();

--
-- Name: document_comments case_closed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_closed BEFORE INSERT ON app.document_comments FOR EACH ROW EXECUTE FUNCTION app.case_closed_refusal();

--
-- Name: document_versions case_closed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_closed BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.case_closed_refusal();

--
-- Name: documents case_closed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_closed BEFORE INSERT OR UPDATE ON app.documents FOR EACH ROW EXECUTE FUNCTION app.case_closed_refusal();

--
-- Name: case_invites case_invite_rate; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_invite_rate BEFORE INSERT ON app.case_invites FOR EACH ROW EXECUTE FUNCTION app.case_invite_rate();

--
-- Name: case_members case_member_ended_invites; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_member_ended_invites AFTER UPDATE OF revoked_at, kind, permissions, access_expires_at ON app.case_members FOR EACH ROW EXECUTE FUNCTION app.case_member_ended_invites();

--
-- Name: case_members case_members_expiry_rearm; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_members_expiry_rearm BEFORE UPDATE ON app.case_members FOR EACH ROW EXECUTE FUNCTION private.case_member_expiry_rearm();

--
-- Name: case_members case_members_kind; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_members_kind BEFORE INSERT OR UPDATE OF kind ON app.case_members FOR EACH ROW EXECUTE FUNCTION private.check_case_member_kind();

--
-- Name: case_members case_members_not_own; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_members_not_own BEFORE INSERT OR UPDATE ON app.case_members FOR EACH ROW EXECUTE FUNCTION private.case_member_not_own();

--
-- Name: case_invites case_rows_stamp; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_rows_stamp BEFORE INSERT ON app.case_invites FOR EACH ROW EXECUTE FUNCTION app.case_rows_stamp();

--
-- Name: case_members case_rows_stamp; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_rows_stamp BEFORE INSERT OR UPDATE OF access_expires_at ON app.case_members FOR EACH ROW EXECUTE FUNCTION app.case_rows_stamp();

--
-- Name: document_comments case_rows_stamp; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_rows_stamp BEFORE INSERT ON app.document_comments FOR EACH ROW EXECUTE FUNCTION app.case_rows_stamp();

--
-- Name: document_versions case_rows_stamp; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_rows_stamp BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.case_rows_stamp();

--
-- Name: documents case_rows_stamp; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_rows_stamp BEFORE INSERT ON app.documents FOR EACH ROW EXECUTE FUNCTION app.case_rows_stamp();

--
-- Name: cases case_status; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER case_status BEFORE UPDATE ON app.cases FOR EACH ROW EXECUTE FUNCTION app.case_status_change();

--
-- Name: document_comments document_comments_limit; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_comments_limit BEFORE INSERT ON app.document_comments FOR EACH ROW EXECUTE FUNCTION app.document_comment_limit();

--
-- Name: document_comments document_live; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_live BEFORE INSERT ON app.document_comments FOR EACH ROW EXECUTE FUNCTION app.refuse_deleted_document();

--
-- Name: document_versions document_live; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_live BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.refuse_deleted_document();

--
-- Name: document_versions document_versions_admit; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_versions_admit BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.document_version_serial();

--
-- Name: document_versions document_versions_guard; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_versions_guard BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION private.guard_version_insert();

--
-- Name: document_versions document_versions_quota; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER document_versions_quota BEFORE INSERT ON app.document_versions FOR EACH ROW EXECUTE FUNCTION app.document_version_quota();

--
-- Name: documents documents_accept_latest; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER documents_accept_latest BEFORE UPDATE ON app.documents FOR EACH ROW EXECUTE FUNCTION app.document_accept_latest();

--
-- Name: documents documents_guard; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER documents_guard BEFORE UPDATE ON app.documents FOR EACH ROW EXECUTE FUNCTION private.guard_document_update();

--
-- Name: dsr_requests dsr_guard; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER dsr_guard BEFORE INSERT OR UPDATE ON app.dsr_requests FOR EACH ROW EXECUTE FUNCTION private.dsr_guard();

--
-- Name: dsr_requests dsr_retention_serialise; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER dsr_retention_serialise BEFORE INSERT ON app.dsr_requests FOR EACH ROW EXECUTE FUNCTION app.dsr_retention_serialise();

--
-- Name: memberships erased_user; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER erased_user BEFORE INSERT ON app.memberships FOR EACH ROW EXECUTE FUNCTION app.refuse_erased_member();

--
-- Name: gateway_providers gateway_providers_audit; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER gateway_providers_audit AFTER INSERT OR DELETE OR UPDATE ON app.gateway_providers FOR EACH ROW EXECUTE FUNCTION audit.gateway_provider_audit();

--
-- Name: legal_holds legal_hold_serialise; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER legal_hold_serialise BEFORE INSERT ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.legal_hold_serialise();

--
-- Name: legal_holds legal_holds_break_glass; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER legal_holds_break_glass BEFORE INSERT OR UPDATE ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.legal_holds_break_glass();

--
-- Name: legal_holds legal_holds_release; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER legal_holds_release BEFORE UPDATE ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.legal_holds_release();

--
-- Name: memberships membership_revoked; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER membership_revoked AFTER UPDATE OF revoked_at, role ON app.memberships FOR EACH ROW WHEN ((((old.revoked_at IS NULL) AND (new.revoked_at IS NOT NULL)) OR ((new.revoked_at IS NULL) AND (old.role <> new.role)))) EXECUTE FUNCTION app.membership_revoked();

--
-- Name: memberships memberships_key_scope; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER memberships_key_scope BEFORE INSERT OR UPDATE ON app.memberships FOR EACH ROW EXECUTE FUNCTION private.refuse_key_write('members');

--
-- Name: memberships memberships_revocation; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER memberships_revocation BEFORE INSERT OR UPDATE ON app.memberships FOR EACH ROW EXECUTE FUNCTION private.membership_revocation();

--
-- Name: api_keys org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.api_keys FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: case_invites org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.case_invites FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org_own();

--
-- Name: clinical_entries org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.clinical_entries FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org_own();

--
-- Name: dsr_requests org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.dsr_requests FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org_own();

--
-- Name: legal_holds org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org_own();

--
-- Name: magic_links org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.magic_links FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: memberships org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT OR UPDATE OF revoked_at ON app.memberships FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: scim_tokens org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.scim_tokens FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: sessions org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.sessions FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: sso_connections org_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON app.sso_connections FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: orgs org_shredded_sso; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER org_shredded_sso AFTER UPDATE OF shredded_at ON app.orgs FOR EACH ROW WHEN (((old.shredded_at IS NULL) AND (new.shredded_at IS NOT NULL))) EXECUTE FUNCTION app.org_shredded_sso();

--
-- Name: orgs orgs_key_scope; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER orgs_key_scope BEFORE UPDATE ON app.orgs FOR EACH ROW EXECUTE FUNCTION private.refuse_key_write();

--
-- Name: patients patient_keyset_required; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_keyset_required BEFORE INSERT ON app.patients FOR EACH ROW EXECUTE FUNCTION app.patient_keyset_required();

--
-- Name: care_team patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.care_team FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: cases patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT OR UPDATE OF patient_id ON app.cases FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: clinical_entries patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.clinical_entries FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: dsr_requests patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.dsr_requests FOR EACH ROW WHEN ((new.kind = ANY (ARRAY['access'::text, 'amendment'::text]))) EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: legal_holds patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: patient_links patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.patient_links FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: patients patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE UPDATE ON app.patients FOR EACH ROW EXECUTE FUNCTION app.patient_shredded_frozen();

--
-- Name: record_amendments patient_shredded; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded BEFORE INSERT ON app.record_amendments FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: legal_holds patient_shredded_case; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded_case BEFORE INSERT ON app.legal_holds FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient_case();

--
-- Name: clinical_entries patient_shredded_frozen; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded_frozen BEFORE UPDATE ON app.clinical_entries FOR EACH ROW EXECUTE FUNCTION app.shredded_entry_frozen();

--
-- Name: record_amendments patient_shredded_frozen; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_shredded_frozen BEFORE UPDATE ON app.record_amendments FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_patient();

--
-- Name: clinical_entries patient_tier; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_tier BEFORE INSERT OR UPDATE OF note_enc ON app.clinical_entries FOR EACH ROW EXECUTE FUNCTION app.refuse_org_sealed_value();

--
-- Name: record_amendments patient_tier; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patient_tier BEFORE INSERT OR UPDATE OF request_enc, decision_enc, disagreement_enc, rebuttal_enc ON app.record_amendments FOR EACH ROW EXECUTE FUNCTION app.refuse_org_sealed_value();

--
-- Name: patients patients_identifiers; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER patients_identifiers BEFORE UPDATE OF mrn_bidx, identifiers_enc ON app.patients FOR EACH ROW EXECUTE FUNCTION private.guard_patient_identifiers();

--
-- Name: api_keys principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR TRUNCATE ON app.api_keys FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: email_domains principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.email_domains FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: memberships principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR UPDATE OR TRUNCATE ON app.memberships FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: orgs principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR UPDATE OR TRUNCATE ON app.orgs FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: passkeys principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR TRUNCATE ON app.passkeys FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: scim_tokens principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR TRUNCATE ON app.scim_tokens FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: session_tokens principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR UPDATE OR TRUNCATE ON app.session_tokens FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: sessions principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR TRUNCATE ON app.sessions FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: sso_domains principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.sso_domains FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: users principal_changed; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed AFTER DELETE OR UPDATE OR TRUNCATE ON app.users FOR EACH STATEMENT EXECUTE FUNCTION private.principal_changed();

--
-- Name: api_keys principal_changed_row; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed_row AFTER UPDATE ON app.api_keys FOR EACH ROW WHEN (((to_jsonb(old.*) - 'last_used_at'::text) IS DISTINCT FROM (to_jsonb(new.*) - 'last_used_at'::text))) EXECUTE FUNCTION private.principal_changed();

--
-- Name: passkeys principal_changed_row; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed_row AFTER UPDATE ON app.passkeys FOR EACH ROW WHEN (((to_jsonb(old.*) - '{sign_count,backup_state,last_used_at,name}'::text[]) IS DISTINCT FROM (to_jsonb(new.*) - '{sign_count,backup_state,last_used_at,name}'::text[]))) EXECUTE FUNCTION private.principal_changed();

--
-- Name: scim_tokens principal_changed_row; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed_row AFTER UPDATE ON app.scim_tokens FOR EACH ROW WHEN (((to_jsonb(old.*) - 'last_used_at'::text) IS DISTINCT FROM (to_jsonb(new.*) - 'last_used_at'::text))) EXECUTE FUNCTION private.principal_changed();

--
-- Name: sessions principal_changed_row; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_changed_row AFTER UPDATE ON app.sessions FOR EACH ROW WHEN ((((to_jsonb(old.*) - 'last_seen_at'::text) IS DISTINCT FROM (to_jsonb(new.*) - 'last_seen_at'::text)) OR (new.last_seen_at < old.last_seen_at))) EXECUTE FUNCTION private.principal_changed();

--
-- Name: api_keys principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.api_keys FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: email_domains principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.email_domains FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: memberships principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.memberships FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: orgs principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.orgs FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: passkeys principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.passkeys FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: scim_tokens principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.scim_tokens FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: session_tokens principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.session_tokens FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: sessions principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.sessions FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: sso_domains principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.sso_domains FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: users principal_epoch; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER principal_epoch AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON app.users FOR EACH STATEMENT EXECUTE FUNCTION private.principal_moved();

--
-- Name: record_amendments record_amendment_close; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER record_amendment_close AFTER UPDATE ON app.record_amendments FOR EACH ROW WHEN (((old.status = 'requested'::text) AND (new.status <> 'requested'::text))) EXECUTE FUNCTION private.record_amendment_close();

--
-- Name: record_amendments record_amendment_guard; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER record_amendment_guard BEFORE INSERT OR UPDATE ON app.record_amendments FOR EACH ROW EXECUTE FUNCTION private.record_amendment_guard();

--
-- Name: sessions session_token_issued; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER session_token_issued BEFORE INSERT OR UPDATE OF token_hash ON app.sessions FOR EACH ROW EXECUTE FUNCTION private.session_token_issued();

--
-- Name: sessions sessions_sso_required; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER sessions_sso_required BEFORE INSERT ON app.sessions FOR EACH ROW EXECUTE FUNCTION private.sessions_sso_required();

--
-- Name: users sso_bind_address; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER sso_bind_address AFTER UPDATE OF email_bidx ON app.users FOR EACH ROW WHEN ((old.email_bidx IS DISTINCT FROM new.email_bidx)) EXECUTE FUNCTION app.user_address_changed();

--
-- Name: email_domains sso_bind_noted; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER sso_bind_noted AFTER INSERT ON app.email_domains FOR EACH ROW EXECUTE FUNCTION app.email_domain_noted();

--
-- Name: users users_erase_only; Type: TRIGGER; Schema: app; Owner: ward_owner
--

CREATE TRIGGER users_erase_only BEFORE UPDATE OF email_bidx, email_enc ON app.users FOR EACH ROW EXECUTE FUNCTION app.users_erase_only();

--
-- Name: checkpoints checkpoints_immutable; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER checkpoints_immutable BEFORE DELETE OR UPDATE ON audit.checkpoints FOR EACH ROW EXECUTE FUNCTION audit.reject_change_any();

--
-- Name: events events_immutable; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER events_immutable BEFORE DELETE OR UPDATE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.reject_change();

--
-- Name: events events_no_truncate; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate();

--
-- Name: heads heads_guard; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER heads_guard BEFORE DELETE OR UPDATE ON audit.heads FOR EACH ROW EXECUTE FUNCTION audit.guard_head();

--
-- Name: heads heads_no_truncate; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER heads_no_truncate BEFORE TRUNCATE ON audit.heads FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate();

--
-- Name: leaves leaves_immutable; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER leaves_immutable BEFORE INSERT OR DELETE OR UPDATE ON audit.leaves FOR EACH ROW EXECUTE FUNCTION audit.reject_leaf_change();

--
-- Name: leaves leaves_no_truncate; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER leaves_no_truncate BEFORE TRUNCATE ON audit.leaves FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate();

--
-- Name: queue queue_immutable; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER queue_immutable BEFORE DELETE OR UPDATE ON audit.queue FOR EACH ROW EXECUTE FUNCTION audit.reject_queue_change();

--
-- Name: queue queue_no_truncate; Type: TRIGGER; Schema: audit; Owner: ward_owner
--

CREATE TRIGGER queue_no_truncate BEFORE TRUNCATE ON audit.queue FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate();

--
-- Name: keysets org_shredded; Type: TRIGGER; Schema: private; Owner: ward_owner
--

CREATE TRIGGER org_shredded BEFORE INSERT ON private.keysets FOR EACH ROW EXECUTE FUNCTION app.refuse_shredded_org();

--
-- Name: api_keys api_keys_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.api_keys
    ADD CONSTRAINT api_keys_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: api_keys api_keys_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.api_keys
    ADD CONSTRAINT api_keys_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: audit_sinks audit_sinks_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.audit_sinks
    ADD CONSTRAINT audit_sinks_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: break_glass_activations break_glass_activations_org_id_reviewed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_activations
    ADD CONSTRAINT break_glass_activations_org_id_reviewed_by_fkey FOREIGN KEY (org_id, reviewed_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: break_glass_activations break_glass_activations_org_id_session_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_activations
    ADD CONSTRAINT break_glass_activations_org_id_session_id_fkey FOREIGN KEY (org_id, session_id) REFERENCES app.sessions(org_id, id);

--
-- Name: break_glass_activations break_glass_activations_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_activations
    ADD CONSTRAINT break_glass_activations_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: break_glass_users break_glass_users_org_id_designated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_users
    ADD CONSTRAINT break_glass_users_org_id_designated_by_fkey FOREIGN KEY (org_id, designated_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: break_glass_users break_glass_users_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.break_glass_users
    ADD CONSTRAINT break_glass_users_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: care_team care_team_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.care_team
    ADD CONSTRAINT care_team_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: care_team care_team_org_id_provider_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.care_team
    ADD CONSTRAINT care_team_org_id_provider_id_fkey FOREIGN KEY (org_id, provider_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: case_invites case_invites_org_id_case_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_invites
    ADD CONSTRAINT case_invites_org_id_case_id_fkey FOREIGN KEY (org_id, case_id) REFERENCES app.cases(org_id, id);

--
-- Name: case_members case_members_org_id_case_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_members
    ADD CONSTRAINT case_members_org_id_case_id_fkey FOREIGN KEY (org_id, case_id) REFERENCES app.cases(org_id, id);

--
-- Name: case_members case_members_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.case_members
    ADD CONSTRAINT case_members_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: cases cases_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.cases
    ADD CONSTRAINT cases_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: cases cases_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.cases
    ADD CONSTRAINT cases_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: cases cases_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.cases
    ADD CONSTRAINT cases_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: clinical_entries clinical_entries_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.clinical_entries
    ADD CONSTRAINT clinical_entries_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: document_comments document_comments_org_id_case_id_document_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_comments
    ADD CONSTRAINT document_comments_org_id_case_id_document_id_fkey FOREIGN KEY (org_id, case_id, document_id) REFERENCES app.documents(org_id, case_id, id);

--
-- Name: document_reminders document_reminders_org_id_document_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_reminders
    ADD CONSTRAINT document_reminders_org_id_document_id_fkey FOREIGN KEY (org_id, document_id) REFERENCES app.documents(org_id, id);

--
-- Name: document_retention document_retention_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_retention
    ADD CONSTRAINT document_retention_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: document_retention document_retention_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_retention
    ADD CONSTRAINT document_retention_updated_by_fkey FOREIGN KEY (updated_by) REFERENCES app.users(id);

--
-- Name: document_uploads document_uploads_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_uploads
    ADD CONSTRAINT document_uploads_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: document_versions document_versions_org_id_case_id_document_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.document_versions
    ADD CONSTRAINT document_versions_org_id_case_id_document_id_fkey FOREIGN KEY (org_id, case_id, document_id) REFERENCES app.documents(org_id, case_id, id);

--
-- Name: documents documents_org_id_case_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.documents
    ADD CONSTRAINT documents_org_id_case_id_fkey FOREIGN KEY (org_id, case_id) REFERENCES app.cases(org_id, id);

--
-- Name: documents documents_org_id_requested_from_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.documents
    ADD CONSTRAINT documents_org_id_requested_from_fkey FOREIGN KEY (org_id, requested_from) REFERENCES app.memberships(org_id, user_id);

--
-- Name: dsr_reminders dsr_reminders_org_id_dsr_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_reminders
    ADD CONSTRAINT dsr_reminders_org_id_dsr_id_fkey FOREIGN KEY (org_id, dsr_id) REFERENCES app.dsr_requests(org_id, id);

--
-- Name: dsr_requests dsr_requests_closed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_closed_by_fkey FOREIGN KEY (closed_by) REFERENCES app.users(id);

--
-- Name: dsr_requests dsr_requests_extended_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_extended_by_fkey FOREIGN KEY (extended_by) REFERENCES app.users(id);

--
-- Name: dsr_requests dsr_requests_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: dsr_requests dsr_requests_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: dsr_requests dsr_requests_org_id_subject_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_org_id_subject_user_id_fkey FOREIGN KEY (org_id, subject_user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: dsr_requests dsr_requests_requested_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.dsr_requests
    ADD CONSTRAINT dsr_requests_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES app.users(id);

--
-- Name: gateway_buckets gateway_buckets_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.gateway_buckets
    ADD CONSTRAINT gateway_buckets_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id) ON DELETE CASCADE;

--
-- Name: gateway_reservations gateway_reservations_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.gateway_reservations
    ADD CONSTRAINT gateway_reservations_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id) ON DELETE CASCADE;

--
-- Name: known_devices known_devices_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.known_devices
    ADD CONSTRAINT known_devices_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id) ON DELETE CASCADE;

--
-- Name: legal_holds legal_holds_org_id_case_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.legal_holds
    ADD CONSTRAINT legal_holds_org_id_case_id_fkey FOREIGN KEY (org_id, case_id) REFERENCES app.cases(org_id, id);

--
-- Name: legal_holds legal_holds_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.legal_holds
    ADD CONSTRAINT legal_holds_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: legal_holds legal_holds_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.legal_holds
    ADD CONSTRAINT legal_holds_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: magic_links magic_links_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.magic_links
    ADD CONSTRAINT magic_links_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: memberships memberships_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.memberships
    ADD CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES app.users(id);

--
-- Name: passkey_challenges passkey_challenges_org_id_session_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkey_challenges
    ADD CONSTRAINT passkey_challenges_org_id_session_id_fkey FOREIGN KEY (org_id, session_id) REFERENCES app.sessions(org_id, id);

--
-- Name: passkeys passkeys_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.passkeys
    ADD CONSTRAINT passkeys_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: patient_links patient_links_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patient_links
    ADD CONSTRAINT patient_links_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: patient_links patient_links_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patient_links
    ADD CONSTRAINT patient_links_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: patients patients_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.patients
    ADD CONSTRAINT patients_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: record_amendments record_amendments_decided_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES app.users(id);

--
-- Name: record_amendments record_amendments_org_id_dsr_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_org_id_dsr_id_fkey FOREIGN KEY (org_id, dsr_id) REFERENCES app.dsr_requests(org_id, id);

--
-- Name: record_amendments record_amendments_org_id_entry_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_org_id_entry_id_fkey FOREIGN KEY (org_id, entry_id) REFERENCES app.clinical_entries(org_id, id);

--
-- Name: record_amendments record_amendments_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: record_amendments record_amendments_org_id_patient_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_org_id_patient_id_fkey FOREIGN KEY (org_id, patient_id) REFERENCES app.patients(org_id, id);

--
-- Name: record_amendments record_amendments_rebuttal_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_rebuttal_by_fkey FOREIGN KEY (rebuttal_by) REFERENCES app.users(id);

--
-- Name: record_amendments record_amendments_requested_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.record_amendments
    ADD CONSTRAINT record_amendments_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES app.users(id);

--
-- Name: recovery_codes recovery_codes_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.recovery_codes
    ADD CONSTRAINT recovery_codes_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: scim_group_members scim_group_members_org_id_group_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_group_members
    ADD CONSTRAINT scim_group_members_org_id_group_id_fkey FOREIGN KEY (org_id, group_id) REFERENCES app.scim_groups(org_id, id) ON DELETE CASCADE;

--
-- Name: scim_group_members scim_group_members_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_group_members
    ADD CONSTRAINT scim_group_members_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: scim_groups scim_groups_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_groups
    ADD CONSTRAINT scim_groups_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: scim_tokens scim_tokens_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_tokens
    ADD CONSTRAINT scim_tokens_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: scim_tokens scim_tokens_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_tokens
    ADD CONSTRAINT scim_tokens_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: scim_users scim_users_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.scim_users
    ADD CONSTRAINT scim_users_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: session_tokens session_tokens_org_id_session_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.session_tokens
    ADD CONSTRAINT session_tokens_org_id_session_id_fkey FOREIGN KEY (org_id, session_id) REFERENCES app.sessions(org_id, id);

--
-- Name: sessions sessions_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sessions
    ADD CONSTRAINT sessions_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: sso_assertions sso_assertions_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_assertions
    ADD CONSTRAINT sso_assertions_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES app.sso_connections(org_id, id) ON DELETE CASCADE;

--
-- Name: sso_connections sso_connections_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_connections
    ADD CONSTRAINT sso_connections_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.memberships(org_id, user_id);

--
-- Name: sso_connections sso_connections_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_connections
    ADD CONSTRAINT sso_connections_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.orgs(id);

--
-- Name: sso_domains sso_domains_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_domains
    ADD CONSTRAINT sso_domains_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES app.sso_connections(org_id, id) ON DELETE CASCADE;

--
-- Name: sso_identities sso_identities_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_identities
    ADD CONSTRAINT sso_identities_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES app.sso_connections(org_id, id) ON DELETE CASCADE;

--
-- Name: sso_identities sso_identities_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_identities
    ADD CONSTRAINT sso_identities_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: sso_states sso_states_org_id_connection_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.sso_states
    ADD CONSTRAINT sso_states_org_id_connection_id_fkey FOREIGN KEY (org_id, connection_id) REFERENCES app.sso_connections(org_id, id) ON DELETE CASCADE;

--
-- Name: totp_factors totp_factors_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: ward_owner
--

ALTER TABLE ONLY app.totp_factors
    ADD CONSTRAINT totp_factors_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.memberships(org_id, user_id);

--
-- Name: api_keys; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.api_keys ENABLE ROW LEVEL SECURITY;

--
-- Name: api_keys api_keys_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY api_keys_select ON app.api_keys FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: audit_sinks; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.audit_sinks ENABLE ROW LEVEL SECURITY;

--
-- Name: audit_sinks audit_sinks_delete; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_delete ON app.audit_sinks FOR DELETE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: audit_sinks audit_sinks_deliverer_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_deliverer_select ON app.audit_sinks FOR SELECT TO ward_audit_reader USING (true);

--
-- Name: audit_sinks audit_sinks_deliverer_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_deliverer_update ON app.audit_sinks FOR UPDATE TO ward_audit_reader USING (true) WITH CHECK (true);

--
-- Name: audit_sinks audit_sinks_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_insert ON app.audit_sinks FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND (cursor_seq >= 0)));

--
-- Name: audit_sinks audit_sinks_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_select ON app.audit_sinks FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: audit_sinks audit_sinks_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY audit_sinks_update ON app.audit_sinks FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: auth_attempts; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.auth_attempts ENABLE ROW LEVEL SECURITY;

--
-- Name: break_glass_activations; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.break_glass_activations ENABLE ROW LEVEL SECURITY;

--
-- Name: break_glass_activations break_glass_activations_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY break_glass_activations_select ON app.break_glass_activations FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: break_glass_users; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.break_glass_users ENABLE ROW LEVEL SECURITY;

--
-- Name: break_glass_users break_glass_users_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY break_glass_users_select ON app.break_glass_users FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: care_team; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.care_team ENABLE ROW LEVEL SECURITY;

--
-- Name: care_team care_team_delete; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY care_team_delete ON app.care_team FOR DELETE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead))));

--
-- Name: care_team care_team_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY care_team_insert ON app.care_team FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) AND (provider_id = ANY (( SELECT private.my_org_members_in_roles('{provider,lead}'::text[]) AS my_org_members_in_roles)::uuid[]))));

--
-- Name: care_team care_team_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY care_team_select ON app.care_team FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND ((provider_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)))));

--
-- Name: case_invites; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.case_invites ENABLE ROW LEVEL SECURITY;

--
-- Name: case_invites case_invites_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_invites_insert ON app.case_invites FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (accepted_at IS NULL) AND (revoked_at IS NULL) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

--
-- Name: case_invites case_invites_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_invites_select ON app.case_invites FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

--
-- Name: case_invites case_invites_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_invites_update ON app.case_invites FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (accepted_at IS NULL) AND (revoked_at IS NULL) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[]))))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (revoked_at IS NOT NULL)));

--
-- Name: case_members; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.case_members ENABLE ROW LEVEL SECURITY;

--
-- Name: case_members case_members_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_members_insert ON app.case_members FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (added_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (user_id <> COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

--
-- Name: case_members case_members_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_members_select ON app.case_members FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND ((user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

--
-- Name: case_members case_members_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY case_members_update ON app.case_members FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id <> COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[]))))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id <> COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: cases; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.cases ENABLE ROW LEVEL SECURITY;

--
-- Name: cases cases_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY cases_insert ON app.cases FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'provider'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))));

--
-- Name: cases cases_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY cases_select ON app.cases FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

--
-- Name: cases cases_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY cases_update ON app.cases FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[]))))) WITH CHECK ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: clinical_entries; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.clinical_entries ENABLE ROW LEVEL SECURITY;

--
-- Name: clinical_entries clinical_entries_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY clinical_entries_insert ON app.clinical_entries FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])))));

--
-- Name: clinical_entries clinical_entries_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY clinical_entries_select ON app.clinical_entries FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR COALESCE(( SELECT c.break_glass
   FROM private.principal_cached c), ( SELECT private.am_i_break_glass() AS am_i_break_glass)))));

--
-- Name: clinical_entries clinical_entries_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY clinical_entries_update ON app.clinical_entries FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR ((patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) AND ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) <> 'patient'::text) OR (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))))))) WITH CHECK ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: document_comments; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.document_comments ENABLE ROW LEVEL SECURITY;

--
-- Name: document_comments document_comments_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY document_comments_insert ON app.document_comments FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (author_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('comment'::text) AS my_case_ids)::uuid[])))));

--
-- Name: document_comments document_comments_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY document_comments_select ON app.document_comments FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[]))) AND (EXISTS ( SELECT
   FROM app.documents d
  WHERE ((d.org_id = document_comments.org_id) AND (d.id = document_comments.document_id) AND (d.deleted_at IS NULL))))));

--
-- Name: document_reminders; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.document_reminders ENABLE ROW LEVEL SECURITY;

--
-- Name: document_retention; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.document_retention ENABLE ROW LEVEL SECURITY;

--
-- Name: document_retention document_retention_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY document_retention_select ON app.document_retention FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = ANY (ARRAY['patient'::text, 'provider'::text, 'lead'::text, 'admin'::text])) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: document_uploads; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.document_uploads ENABLE ROW LEVEL SECURITY;

--
-- Name: document_versions; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.document_versions ENABLE ROW LEVEL SECURITY;

--
-- Name: document_versions document_versions_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY document_versions_insert ON app.document_versions FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (uploaded_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[])))));

--
-- Name: document_versions document_versions_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY document_versions_select ON app.document_versions FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[]))) AND (EXISTS ( SELECT
   FROM app.documents d
  WHERE ((d.org_id = document_versions.org_id) AND (d.id = document_versions.document_id) AND (d.deleted_at IS NULL))))));

--
-- Name: documents; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.documents ENABLE ROW LEVEL SECURITY;

--
-- Name: documents documents_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY documents_insert ON app.documents FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (deleted_at IS NULL) AND ((requested_by IS NULL) OR (requested_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[]))) AND ((requested_by IS NULL) OR COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_managed_case_ids() AS my_managed_case_ids)::uuid[])))));

--
-- Name: documents documents_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY documents_select ON app.documents FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (deleted_at IS NULL) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('view'::text) AS my_case_ids)::uuid[])))));

--
-- Name: documents documents_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY documents_update ON app.documents FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (deleted_at IS NULL) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (case_id = ANY (( SELECT private.my_case_ids('upload'::text) AS my_case_ids)::uuid[]))))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (deleted_at IS NULL)));

--
-- Name: dpop_jtis; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dpop_jtis ENABLE ROW LEVEL SECURITY;

--
-- Name: dpop_jtis_0; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dpop_jtis_0 ENABLE ROW LEVEL SECURITY;

--
-- Name: dpop_jtis_1; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dpop_jtis_1 ENABLE ROW LEVEL SECURITY;

--
-- Name: dpop_jtis_2; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dpop_jtis_2 ENABLE ROW LEVEL SECURITY;

--
-- Name: dpop_proofs; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dpop_proofs ENABLE ROW LEVEL SECURITY;

--
-- Name: dsr_reminders; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dsr_reminders ENABLE ROW LEVEL SECURITY;

--
-- Name: dsr_requests; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.dsr_requests ENABLE ROW LEVEL SECURITY;

--
-- Name: dsr_requests dsr_requests_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY dsr_requests_insert ON app.dsr_requests FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (requested_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('dsr'::text) AS key_holds))) OR ((subject_user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'patient'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))));

--
-- Name: dsr_requests dsr_requests_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY dsr_requests_select ON app.dsr_requests FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('dsr'::text) AS key_holds))) OR ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND ((subject_user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'patient'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))))));

--
-- Name: dsr_requests dsr_requests_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY dsr_requests_update ON app.dsr_requests FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (status = 'open'::text) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('dsr'::text) AS key_holds)))) WITH CHECK ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: email_domains; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.email_domains ENABLE ROW LEVEL SECURITY;

--
-- Name: gateway_buckets; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.gateway_buckets ENABLE ROW LEVEL SECURITY;

--
-- Name: gateway_buckets gateway_buckets_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY gateway_buckets_select ON app.gateway_buckets FOR SELECT TO ward_app USING ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: gateway_providers; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.gateway_providers ENABLE ROW LEVEL SECURITY;

--
-- Name: gateway_providers gateway_providers_ops; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY gateway_providers_ops ON app.gateway_providers TO ward_ops USING (true) WITH CHECK (true);

--
-- Name: gateway_providers gateway_providers_read; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY gateway_providers_read ON app.gateway_providers FOR SELECT TO ward_app USING (true);

--
-- Name: gateway_reservations; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.gateway_reservations ENABLE ROW LEVEL SECURITY;

--
-- Name: instance_policy; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.instance_policy ENABLE ROW LEVEL SECURITY;

--
-- Name: instance_policy instance_policy_ops; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY instance_policy_ops ON app.instance_policy FOR UPDATE TO ward_ops USING (true) WITH CHECK (true);

--
-- Name: instance_policy instance_policy_read; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY instance_policy_read ON app.instance_policy FOR SELECT TO ward_app, ward_ops USING (true);

--
-- Name: known_devices; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.known_devices ENABLE ROW LEVEL SECURITY;

--
-- Name: legal_holds; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.legal_holds ENABLE ROW LEVEL SECURITY;

--
-- Name: legal_holds legal_holds_cleanup; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY legal_holds_cleanup ON app.legal_holds FOR SELECT TO ward_audit_cleanup USING (true);

--
-- Name: legal_holds legal_holds_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY legal_holds_insert ON app.legal_holds FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: legal_holds legal_holds_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY legal_holds_select ON app.legal_holds FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: legal_holds legal_holds_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY legal_holds_update ON app.legal_holds FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND (released_at IS NULL))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (released_at IS NOT NULL) AND (released_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: magic_links; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.magic_links ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.memberships ENABLE ROW LEVEL SECURITY;

--
-- Name: memberships memberships_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY memberships_select ON app.memberships FOR SELECT TO ward_app USING (((user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR ( SELECT private.key_holds('members'::text) AS key_holds)))));

--
-- Name: orgs; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.orgs ENABLE ROW LEVEL SECURITY;

--
-- Name: orgs orgs_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY orgs_select ON app.orgs FOR SELECT TO ward_app USING ((id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: passkey_challenges; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.passkey_challenges ENABLE ROW LEVEL SECURITY;

--
-- Name: passkeys; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.passkeys ENABLE ROW LEVEL SECURITY;

--
-- Name: passkeys passkeys_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY passkeys_select ON app.passkeys FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: patient_links; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.patient_links ENABLE ROW LEVEL SECURITY;

--
-- Name: patient_links patient_links_delete; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patient_links_delete ON app.patient_links FOR DELETE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead))));

--
-- Name: patient_links patient_links_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patient_links_insert ON app.patient_links FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) AND (user_id = ANY (( SELECT private.my_org_members_in_roles('{patient}'::text[]) AS my_org_members_in_roles)::uuid[]))));

--
-- Name: patient_links patient_links_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patient_links_select ON app.patient_links FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND ((user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)))));

--
-- Name: patients; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.patients ENABLE ROW LEVEL SECURITY;

--
-- Name: patients patients_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patients_insert ON app.patients FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) AND (created_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: patients patients_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patients_select ON app.patients FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.lead_org
   FROM private.principal_cached c), ( SELECT private.my_lead_org() AS my_lead_org))) OR (ROW(org_id, id)::private.patient_key = ANY (( SELECT private.my_patient_keys() AS my_patient_keys)::private.patient_key[])) OR (org_id = ( SELECT private.key_org('gateway'::text) AS key_org))));

--
-- Name: patients patients_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY patients_update ON app.patients FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))) WITH CHECK ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: record_amendments; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.record_amendments ENABLE ROW LEVEL SECURITY;

--
-- Name: record_amendments record_amendments_insert; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY record_amendments_insert ON app.record_amendments FOR INSERT TO ward_app WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (requested_by = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'patient'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[]))))));

--
-- Name: record_amendments record_amendments_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY record_amendments_select ON app.record_amendments FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.lead
   FROM private.principal_cached c), ( SELECT private.am_i_lead() AS am_i_lead)) OR (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])) OR COALESCE(( SELECT c.break_glass
   FROM private.principal_cached c), ( SELECT private.am_i_break_glass() AS am_i_break_glass)))));

--
-- Name: record_amendments record_amendments_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY record_amendments_update ON app.record_amendments FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) AND ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'patient'::text) AND (patient_id = ANY (( SELECT private.my_patient_ids() AS my_patient_ids)::uuid[])))))) WITH CHECK ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: recovery_codes; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.recovery_codes ENABLE ROW LEVEL SECURITY;

--
-- Name: recovery_codes recovery_codes_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY recovery_codes_select ON app.recovery_codes FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: scim_group_members; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.scim_group_members ENABLE ROW LEVEL SECURITY;

--
-- Name: scim_group_members scim_group_members_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY scim_group_members_select ON app.scim_group_members FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (( SELECT private.is_scim() AS is_scim) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))))));

--
-- Name: scim_groups; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.scim_groups ENABLE ROW LEVEL SECURITY;

--
-- Name: scim_groups scim_groups_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY scim_groups_select ON app.scim_groups FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (( SELECT private.is_scim() AS is_scim) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))))));

--
-- Name: scim_tokens; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.scim_tokens ENABLE ROW LEVEL SECURITY;

--
-- Name: scim_tokens scim_tokens_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY scim_tokens_select ON app.scim_tokens FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: scim_users; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.scim_users ENABLE ROW LEVEL SECURITY;

--
-- Name: scim_users scim_users_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY scim_users_select ON app.scim_users FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (( SELECT private.is_scim() AS is_scim) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))))));

--
-- Name: session_tokens; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.session_tokens ENABLE ROW LEVEL SECURITY;

--
-- Name: sessions; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: sessions sessions_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY sessions_select ON app.sessions FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: sessions sessions_update; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY sessions_update ON app.sessions FOR UPDATE TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (revoked_at IS NULL))) WITH CHECK (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) AND (revoked_at IS NOT NULL)));

--
-- Name: sso_assertions; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sso_assertions ENABLE ROW LEVEL SECURITY;

--
-- Name: sso_connections; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sso_connections ENABLE ROW LEVEL SECURITY;

--
-- Name: sso_connections sso_connections_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY sso_connections_select ON app.sso_connections FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: sso_domains; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sso_domains ENABLE ROW LEVEL SECURITY;

--
-- Name: sso_domains sso_domains_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY sso_domains_select ON app.sso_domains FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))));

--
-- Name: sso_identities; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sso_identities ENABLE ROW LEVEL SECURITY;

--
-- Name: sso_identities sso_identities_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY sso_identities_select ON app.sso_identities FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND ((user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR ((COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND (NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key)))))));

--
-- Name: sso_states; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.sso_states ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_factors; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.totp_factors ENABLE ROW LEVEL SECURITY;

--
-- Name: totp_factors totp_factors_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY totp_factors_select ON app.totp_factors FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (user_id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid)))));

--
-- Name: users; Type: ROW SECURITY; Schema: app; Owner: ward_owner
--

ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;

--
-- Name: users users_select; Type: POLICY; Schema: app; Owner: ward_owner
--

CREATE POLICY users_select ON app.users FOR SELECT TO ward_app USING (((id = COALESCE(( SELECT c.user_id
   FROM private.principal_cached c), ( SELECT private.uid() AS uid))) OR (id = ANY (( SELECT private.my_org_member_ids() AS my_org_member_ids)::uuid[]))));

--
-- Name: actions; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.actions ENABLE ROW LEVEL SECURITY;

--
-- Name: actions actions_read; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY actions_read ON audit.actions FOR SELECT TO ward_app, ward_ops USING (true);

--
-- Name: archive_objects; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.archive_objects ENABLE ROW LEVEL SECURITY;

--
-- Name: archive_objects archive_objects_read; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY archive_objects_read ON audit.archive_objects FOR SELECT TO ward_audit_cleanup, ward_audit_reader USING (true);

--
-- Name: archive_state; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.archive_state ENABLE ROW LEVEL SECURITY;

--
-- Name: archive_state archive_state_read; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY archive_state_read ON audit.archive_state FOR SELECT TO ward_app, ward_audit_cleanup, ward_audit_reader USING (true);

--
-- Name: checkpoints; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.checkpoints ENABLE ROW LEVEL SECURITY;

--
-- Name: checkpoints checkpoints_cleanup; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY checkpoints_cleanup ON audit.checkpoints FOR SELECT TO ward_audit_cleanup USING (true);

--
-- Name: checkpoints checkpoints_reader; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY checkpoints_reader ON audit.checkpoints FOR SELECT TO ward_audit_signer, ward_audit_reader USING (true);

--
-- Name: checkpoints checkpoints_select; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY checkpoints_select ON audit.checkpoints FOR SELECT TO ward_app USING ((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))));

--
-- Name: events; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;

--
-- Name: events events_cleanup; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY events_cleanup ON audit.events FOR SELECT TO ward_audit_cleanup USING (true);

--
-- Name: events events_cleanup_delete; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY events_cleanup_delete ON audit.events FOR DELETE TO ward_audit_cleanup USING (true);

--
-- Name: events events_reader; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY events_reader ON audit.events FOR SELECT TO ward_audit_reader USING (true);

--
-- Name: events events_select; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY events_select ON audit.events FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));

--
-- Name: heads; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.heads ENABLE ROW LEVEL SECURITY;

--
-- Name: heads heads_reader; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY heads_reader ON audit.heads FOR SELECT TO ward_audit_reader USING (true);

--
-- Name: heads heads_select; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY heads_select ON audit.heads FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));

--
-- Name: heads heads_signer; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY heads_signer ON audit.heads FOR SELECT TO ward_audit_signer USING (true);

--
-- Name: leaves; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.leaves ENABLE ROW LEVEL SECURITY;

--
-- Name: leaves leaves_cleanup; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY leaves_cleanup ON audit.leaves FOR SELECT TO ward_audit_cleanup USING (true);

--
-- Name: leaves leaves_cleanup_delete; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY leaves_cleanup_delete ON audit.leaves FOR DELETE TO ward_audit_cleanup USING (true);

--
-- Name: leaves leaves_reader; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY leaves_reader ON audit.leaves FOR SELECT TO ward_audit_reader USING (true);

--
-- Name: leaves leaves_select; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY leaves_select ON audit.leaves FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));

--
-- Name: queue; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.queue ENABLE ROW LEVEL SECURITY;

--
-- Name: queue queue_reader; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY queue_reader ON audit.queue FOR SELECT TO ward_audit_reader USING (true);

--
-- Name: queue queue_select; Type: POLICY; Schema: audit; Owner: ward_owner
--

CREATE POLICY queue_select ON audit.queue FOR SELECT TO ward_app USING (((org_id = COALESCE(( SELECT c.org_id
   FROM private.principal_cached c), ( SELECT private.get_my_org_id() AS get_my_org_id))) AND (COALESCE(( SELECT c.role
   FROM private.principal_cached c), ( SELECT private.get_my_role() AS get_my_role)) = 'admin'::text) AND ((NOT COALESCE(( SELECT c.is_key
   FROM private.principal_cached c), ( SELECT private.is_key() AS is_key))) OR ( SELECT private.key_holds('audit:read'::text) AS key_holds))));

--
-- Name: tree_nodes; Type: ROW SECURITY; Schema: audit; Owner: ward_owner
--

ALTER TABLE audit.tree_nodes ENABLE ROW LEVEL SECURITY;

--
-- Name: keysets; Type: ROW SECURITY; Schema: private; Owner: ward_owner
--

ALTER TABLE private.keysets ENABLE ROW LEVEL SECURITY;

--
-- Name: patient_keyings; Type: ROW SECURITY; Schema: private; Owner: ward_owner
--

ALTER TABLE private.patient_keyings ENABLE ROW LEVEL SECURITY;

--
-- Name: principal_cache; Type: ROW SECURITY; Schema: private; Owner: ward_owner
--

ALTER TABLE private.principal_cache ENABLE ROW LEVEL SECURITY;

--
-- Name: principal_cache principal_cache_own; Type: POLICY; Schema: private; Owner: ward_owner
--

CREATE POLICY principal_cache_own ON private.principal_cache FOR SELECT TO ward_app USING ((cred = current_setting('ward.credential'::text, true)));

--
-- Name: principal_changes; Type: ROW SECURITY; Schema: private; Owner: ward_owner
--

ALTER TABLE private.principal_changes ENABLE ROW LEVEL SECURITY;

--
-- Name: principal_changes principal_changes_read; Type: POLICY; Schema: private; Owner: ward_owner
--

CREATE POLICY principal_changes_read ON private.principal_changes FOR SELECT TO ward_app USING (true);

--
-- Name: principal_key; Type: ROW SECURITY; Schema: private; Owner: ward_owner
--

ALTER TABLE private.principal_key ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA app; Type: ACL; Schema: -; Owner: ward_owner
--

GRANT ALL ON SCHEMA app TO ward_definer;
GRANT USAGE ON SCHEMA app TO ward_app;
GRANT USAGE ON SCHEMA app TO ward_rls;
GRANT USAGE ON SCHEMA app TO ward_ops;
GRANT USAGE ON SCHEMA app TO ward_audit_signer;
GRANT USAGE ON SCHEMA app TO ward_audit_cleanup;
GRANT USAGE ON SCHEMA app TO ward_audit_reader;

--
-- Name: SCHEMA audit; Type: ACL; Schema: -; Owner: ward_owner
--

GRANT ALL ON SCHEMA audit TO ward_definer;
GRANT USAGE ON SCHEMA audit TO ward_app;
GRANT USAGE ON SCHEMA audit TO ward_rls;
GRANT USAGE ON SCHEMA audit TO ward_audit_signer;
GRANT USAGE ON SCHEMA audit TO ward_audit_cleanup;
GRANT USAGE ON SCHEMA audit TO ward_ops;
GRANT USAGE ON SCHEMA audit TO ward_audit_reader;

--
-- Name: SCHEMA ext; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA ext TO ward_definer;
GRANT USAGE ON SCHEMA ext TO ward_rls;

--
-- Name: SCHEMA private; Type: ACL; Schema: -; Owner: ward_owner
--

GRANT ALL ON SCHEMA private TO ward_rls;
GRANT USAGE ON SCHEMA private TO ward_app;
GRANT USAGE ON SCHEMA private TO ward_definer;
GRANT USAGE ON SCHEMA private TO ward_ops;

--
-- Name: LANGUAGE plpgsql; Type: ACL; Schema: -; Owner: postgres
--

REVOKE ALL ON LANGUAGE plpgsql FROM PUBLIC;
GRANT ALL ON LANGUAGE plpgsql TO ward_owner;

--
-- Name: FUNCTION accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.accept_case_invite(p_token_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT case_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) TO ward_app;

--
-- Name: FUNCTION add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text, p_invite_hash bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text, p_invite_hash bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.add_member(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_role text, p_request text, p_invite_hash bytea, OUT user_id uuid, OUT email_enc bytea, OUT invite_ttl_min integer) TO ward_app;

--
-- Name: FUNCTION api_key_scopes(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.api_key_scopes() FROM PUBLIC;
GRANT ALL ON FUNCTION app.api_key_scopes() TO ward_app;

--
-- Name: FUNCTION audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea, p_collapsed integer, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea, p_collapsed integer, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.audit_case_invite_other_account(p_token_hash bytea, p_session_hash bytea, p_collapsed integer, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION audit_sinks_break_glass(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.audit_sinks_break_glass() FROM PUBLIC;

--
-- Name: FUNCTION audit_sinks_deleting(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.audit_sinks_deleting() FROM PUBLIC;

--
-- Name: FUNCTION audit_sinks_guard(); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.audit_sinks_guard() FROM PUBLIC;

--
-- Name: FUNCTION audit_sinks_limit(); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.audit_sinks_limit() FROM PUBLIC;

--
-- Name: FUNCTION audit_sinks_standing(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.audit_sinks_standing() FROM PUBLIC;

--
-- Name: FUNCTION audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed integer, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed integer, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.audit_sso_required(p_org uuid, p_user uuid, p_method text, p_collapsed integer, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION bind(p_credential text, p_org text, p_request text, p_dpop text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text) TO ward_app;

--
-- Name: FUNCTION bind(p_credential text, p_org text, p_request text, p_dpop text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.bind(p_credential text, p_org text, p_request text, p_dpop text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION bind_proof(p_jti text, p_iat text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.bind_proof(p_jti text, p_iat text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.bind_proof(p_jti text, p_iat text) TO ward_app;

--
-- Name: FUNCTION breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) TO ward_app;

--
-- Name: FUNCTION break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) TO ward_app;

--
-- Name: FUNCTION break_glass_designate(p_user uuid, p_on boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.break_glass_designate(p_user uuid, p_on boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.break_glass_designate(p_user uuid, p_on boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION break_glass_reason(p_activation uuid, p_reason_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.break_glass_reason(p_activation uuid, p_reason_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.break_glass_reason(p_activation uuid, p_reason_enc bytea) TO ward_app;

--
-- Name: FUNCTION break_glass_review(p_activation uuid, p_note_enc bytea, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.break_glass_review(p_activation uuid, p_note_enc bytea, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.break_glass_review(p_activation uuid, p_note_enc bytea, p_request text) TO ward_app;

--
-- Name: FUNCTION care_team_leave(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.care_team_leave() FROM PUBLIC;

--
-- Name: FUNCTION case_closed(p_org uuid, p_case uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_closed(p_org uuid, p_case uuid) FROM PUBLIC;

--
-- Name: FUNCTION case_closed_refusal(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_closed_refusal() FROM PUBLIC;

--
-- Name: FUNCTION case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.case_invite_landing(p_token_hash bytea, OUT status text, OUT org_name text, OUT kind text, OUT permissions text[], OUT access_expires_at timestamp with time zone, OUT expires_at timestamp with time zone, OUT recipient_org text, OUT invitee_id uuid, OUT email_enc bytea, OUT signed_in text, OUT signed_in_user uuid, OUT signed_in_email_enc bytea) TO ward_app;

--
-- Name: FUNCTION case_invite_rate(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_invite_rate() FROM PUBLIC;

--
-- Name: FUNCTION case_member_ended_invites(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_member_ended_invites() FROM PUBLIC;

--
-- Name: FUNCTION case_rows_stamp(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_rows_stamp() FROM PUBLIC;

--
-- Name: FUNCTION case_status_change(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.case_status_change() FROM PUBLIC;

--
-- Name: FUNCTION claim_sso_domain(p_domain text, p_connection uuid, p_request text, p_domain_bidx bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.claim_sso_domain(p_domain text, p_connection uuid, p_request text, p_domain_bidx bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.claim_sso_domain(p_domain text, p_connection uuid, p_request text, p_domain_bidx bytea) TO ward_app;

--
-- Name: FUNCTION claim_upload(p_key text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.claim_upload(p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.claim_upload(p_key text) TO ward_app;

--
-- Name: FUNCTION consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.consume_magic_link(p_token_hash bytea, p_verifier_hash bytea, p_session_hash bytea, p_ip inet, p_ua text, p_request text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) TO ward_app;

--
-- Name: FUNCTION create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.create_api_key(p_key_hash bytea, p_prefix text, p_name text, p_scopes text[], p_expires_at timestamp with time zone, p_request text) TO ward_app;

--
-- Name: FUNCTION create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid, p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, OUT org_id uuid, OUT admin_id uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid, p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, OUT org_id uuid, OUT admin_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.create_org(p_name text, p_aead bytea, p_prf bytea, p_admin uuid, p_admin_bidx bytea, p_admin_email_enc bytea, p_org uuid, OUT org_id uuid, OUT admin_id uuid) TO ward_ops;

--
-- Name: FUNCTION create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[], p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[], p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.create_saml_connection(p_id uuid, p_name text, p_idp_metadata text, p_trusted_acr text[], p_jit boolean, p_jit_role text, p_allow_idp_initiated boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.create_scim_token(p_token_hash bytea, p_prefix text, p_name text, p_default_role text, p_request text) TO ward_app;

--
-- Name: FUNCTION create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text, p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean, p_jit_role text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text, p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean, p_jit_role text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.create_sso_connection(p_id uuid, p_kind text, p_name text, p_issuer text, p_client_id text, p_client_secret_enc bytea, p_signing_algs text[], p_trusted_amr text[], p_trusted_acr text[], p_jit boolean, p_jit_role text, p_request text) TO ward_app;

--
-- Name: FUNCTION credential_status(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.credential_status() FROM PUBLIC;
GRANT ALL ON FUNCTION app.credential_status() TO ward_app;

--
-- Name: FUNCTION delete_document(p_document uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.delete_document(p_document uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.delete_document(p_document uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION delete_sso_connection(p_id uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.delete_sso_connection(p_id uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.delete_sso_connection(p_id uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION document_accept_latest(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.document_accept_latest() FROM PUBLIC;

--
-- Name: FUNCTION document_comment_limit(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.document_comment_limit() FROM PUBLIC;

--
-- Name: FUNCTION document_retention_tag(p_org uuid); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.document_retention_tag(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.document_retention_tag(p_org uuid) TO ward_app;
GRANT ALL ON FUNCTION app.document_retention_tag(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION document_status(p_provided timestamp with time zone, p_due timestamp with time zone); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone) TO ward_app;
GRANT ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone) TO ward_ops;

--
-- Name: FUNCTION document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text) TO ward_app;
GRANT ALL ON FUNCTION app.document_status(p_provided timestamp with time zone, p_due timestamp with time zone, p_case_status text) TO ward_ops;

--
-- Name: FUNCTION document_version_quota(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.document_version_quota() FROM PUBLIC;

--
-- Name: FUNCTION document_version_serial(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.document_version_serial() FROM PUBLIC;

--
-- Name: FUNCTION dpop_bind(p_jkt text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dpop_bind(p_jkt text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.dpop_bind(p_jkt text) TO ward_app;

--
-- Name: FUNCTION dpop_jti_keep(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dpop_jti_keep() FROM PUBLIC;
GRANT ALL ON FUNCTION app.dpop_jti_keep() TO ward_app;

--
-- Name: FUNCTION dpop_jti_rotate(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dpop_jti_rotate() FROM PUBLIC;
GRANT ALL ON FUNCTION app.dpop_jti_rotate() TO ward_app;

--
-- Name: FUNCTION dpop_use(p_jkt text, p_jti_hash bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dpop_use(p_jkt text, p_jti_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.dpop_use(p_jkt text, p_jti_hash bytea) TO ward_app;

--
-- Name: FUNCTION dsr_due_reminders(p_max integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dsr_due_reminders(p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.dsr_due_reminders(p_max integer) TO ward_ops;

--
-- Name: FUNCTION dsr_retention_serialise(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.dsr_retention_serialise() FROM PUBLIC;

--
-- Name: FUNCTION due_reminders(p_max integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.due_reminders(p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.due_reminders(p_max integer) TO ward_ops;

--
-- Name: FUNCTION email_domain_gaps(p_limit integer, p_after_user uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.email_domain_gaps(p_limit integer, p_after_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.email_domain_gaps(p_limit integer, p_after_user uuid) TO ward_ops;

--
-- Name: FUNCTION email_domain_noted(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.email_domain_noted() FROM PUBLIC;

--
-- Name: FUNCTION ensure_instance_keyset(p_aead bytea, p_prf bytea, OUT purpose text, OUT wrapped bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ensure_instance_keyset(p_aead bytea, p_prf bytea, OUT purpose text, OUT wrapped bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ensure_instance_keyset(p_aead bytea, p_prf bytea, OUT purpose text, OUT wrapped bytea) TO ward_ops;

--
-- Name: FUNCTION ensure_signer_key(p_sealed bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ensure_signer_key(p_sealed bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ensure_signer_key(p_sealed bytea) TO ward_ops;

--
-- Name: FUNCTION fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.fill_sso_domain_bidx(p_domain text, p_domain_bidx bytea) TO ward_ops;

--
-- Name: FUNCTION forget_session_device(p_session uuid, p_request text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.forget_session_device(p_session uuid, p_request text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.forget_session_device(p_session uuid, p_request text, OUT forgotten integer, OUT ended boolean, OUT others_ended integer) TO ward_app;

--
-- Name: FUNCTION gateway_admit(p_tokens bigint, OUT admitted boolean, OUT retry_ms bigint, OUT requests_ms bigint, OUT empty_ms bigint, OUT reservation bigint); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.gateway_admit(p_tokens bigint, OUT admitted boolean, OUT retry_ms bigint, OUT requests_ms bigint, OUT empty_ms bigint, OUT reservation bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app.gateway_admit(p_tokens bigint, OUT admitted boolean, OUT retry_ms bigint, OUT requests_ms bigint, OUT empty_ms bigint, OUT reservation bigint) TO ward_app;

--
-- Name: FUNCTION gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app.gateway_settle(p_reservation bigint, p_used bigint, p_give_request boolean) TO ward_app;

--
-- Name: FUNCTION instance_keyset(OUT purpose text, OUT wrapped bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.instance_keyset(OUT purpose text, OUT wrapped bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.instance_keyset(OUT purpose text, OUT wrapped bytea) TO ward_app;
GRANT ALL ON FUNCTION app.instance_keyset(OUT purpose text, OUT wrapped bytea) TO ward_ops;

--
-- Name: FUNCTION issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, OUT org_id uuid, OUT user_id uuid, OUT ttl_min integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, OUT org_id uuid, OUT user_id uuid, OUT ttl_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.issue_operator_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, OUT org_id uuid, OUT user_id uuid, OUT ttl_min integer) TO ward_ops;

--
-- Name: FUNCTION legal_hold_serialise(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.legal_hold_serialise() FROM PUBLIC;

--
-- Name: FUNCTION legal_holds_break_glass(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.legal_holds_break_glass() FROM PUBLIC;

--
-- Name: FUNCTION legal_holds_release(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.legal_holds_release() FROM PUBLIC;

--
-- Name: FUNCTION link_landing(p_token_hash bytea, OUT status text, OUT unbound boolean, OUT org_name text, OUT user_id uuid, OUT email_enc bytea, OUT signed_in text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.link_landing(p_token_hash bytea, OUT status text, OUT unbound boolean, OUT org_name text, OUT user_id uuid, OUT email_enc bytea, OUT signed_in text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.link_landing(p_token_hash bytea, OUT status text, OUT unbound boolean, OUT org_name text, OUT user_id uuid, OUT email_enc bytea, OUT signed_in text) TO ward_app;

--
-- Name: FUNCTION live_storage_keys(p_keys text[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.live_storage_keys(p_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.live_storage_keys(p_keys text[]) TO ward_ops;

--
-- Name: FUNCTION logout(p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.logout(p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.logout(p_request text) TO ward_app;

--
-- Name: FUNCTION member_recovery_codes_void(p_user uuid, p_request text, OUT status text, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.member_recovery_codes_void(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.member_recovery_codes_void(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION member_totp_reset(p_user uuid, p_request text, OUT status text, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.member_totp_reset(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.member_totp_reset(p_user uuid, p_request text, OUT status text, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION membership_revoked(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.membership_revoked() FROM PUBLIC;

--
-- Name: FUNCTION note_email_domain(p_email_bidx bytea, p_domain_bidx bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) TO ward_app;
GRANT ALL ON FUNCTION app.note_email_domain(p_email_bidx bytea, p_domain_bidx bytea) TO ward_ops;

--
-- Name: FUNCTION open_document_version(p_version uuid, p_purpose text, p_request text, p_ip text, p_ua text, p_meta boolean, OUT storage_key text, OUT data_key bytea, OUT size bigint, OUT document_id uuid, OUT case_id uuid, OUT version integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.open_document_version(p_version uuid, p_purpose text, p_request text, p_ip text, p_ua text, p_meta boolean, OUT storage_key text, OUT data_key bytea, OUT size bigint, OUT document_id uuid, OUT case_id uuid, OUT version integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.open_document_version(p_version uuid, p_purpose text, p_request text, p_ip text, p_ua text, p_meta boolean, OUT storage_key text, OUT data_key bytea, OUT size bigint, OUT document_id uuid, OUT case_id uuid, OUT version integer) TO ward_app;

--
-- Name: FUNCTION open_patient_documents(p_patient uuid, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.open_patient_documents(p_patient uuid, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.open_patient_documents(p_patient uuid, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_breach_revoke(p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text) TO ward_ops;

--
-- Name: FUNCTION ops_compliance_facts(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_compliance_facts() FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_compliance_facts() TO ward_ops;

--
-- Name: FUNCTION ops_data_keys(p_org uuid, p_after uuid, p_limit integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_data_keys(p_org uuid, p_after uuid, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_data_keys(p_org uuid, p_after uuid, p_limit integer) TO ward_ops;

--
-- Name: FUNCTION ops_dsr_queue(p_org uuid, p_limit integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_dsr_queue(p_org uuid, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_dsr_queue(p_org uuid, p_limit integer) TO ward_ops;

--
-- Name: FUNCTION ops_enable_gateway_provider(p_org uuid, p_provider text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_enable_gateway_provider(p_org uuid, p_provider text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_enable_gateway_provider(p_org uuid, p_provider text) TO ward_ops;

--
-- Name: FUNCTION ops_keysets(p_org uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_keysets(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_keysets(p_org uuid) TO ward_ops;

--
-- Name: TABLE legal_holds; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.legal_holds TO ward_definer;

--
-- Name: COLUMN legal_holds.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id),INSERT(org_id) ON TABLE app.legal_holds TO ward_app;
GRANT SELECT(org_id) ON TABLE app.legal_holds TO ward_audit_cleanup;

--
-- Name: COLUMN legal_holds.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id),INSERT(id) ON TABLE app.legal_holds TO ward_app;
GRANT SELECT(id) ON TABLE app.legal_holds TO ward_audit_cleanup;

--
-- Name: COLUMN legal_holds.patient_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(patient_id),INSERT(patient_id) ON TABLE app.legal_holds TO ward_app;
GRANT SELECT(patient_id) ON TABLE app.legal_holds TO ward_audit_cleanup;

--
-- Name: COLUMN legal_holds.reason; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reason) ON TABLE app.legal_holds TO ward_definer;

--
-- Name: COLUMN legal_holds.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by),INSERT(created_by) ON TABLE app.legal_holds TO ward_app;

--
-- Name: COLUMN legal_holds.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.legal_holds TO ward_app;

--
-- Name: COLUMN legal_holds.released_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(released_at),UPDATE(released_at) ON TABLE app.legal_holds TO ward_app;
GRANT SELECT(released_at) ON TABLE app.legal_holds TO ward_audit_cleanup;

--
-- Name: COLUMN legal_holds.case_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(case_id),INSERT(case_id) ON TABLE app.legal_holds TO ward_app;
GRANT SELECT(case_id) ON TABLE app.legal_holds TO ward_audit_cleanup;

--
-- Name: COLUMN legal_holds.released_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(released_by),UPDATE(released_by) ON TABLE app.legal_holds TO ward_app;

--
-- Name: COLUMN legal_holds.release_note; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(release_note) ON TABLE app.legal_holds TO ward_definer;

--
-- Name: COLUMN legal_holds.reason_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(reason_enc),INSERT(reason_enc) ON TABLE app.legal_holds TO ward_app;
GRANT UPDATE(reason_enc) ON TABLE app.legal_holds TO ward_definer;

--
-- Name: COLUMN legal_holds.release_note_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(release_note_enc),UPDATE(release_note_enc) ON TABLE app.legal_holds TO ward_app;
GRANT UPDATE(release_note_enc) ON TABLE app.legal_holds TO ward_definer;

--
-- Name: FUNCTION ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_legal_hold_clear_texts(p_after_org uuid, p_after_id uuid, p_limit integer) TO ward_ops;

--
-- Name: FUNCTION ops_members(p_org uuid, p_email_bidx bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_members(p_org uuid, p_email_bidx bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_members(p_org uuid, p_email_bidx bytea) TO ward_ops;

--
-- Name: FUNCTION ops_org_shred(p_org uuid, p_name text, p_dry_run boolean); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_org_shred(p_org uuid, p_name text, p_dry_run boolean) TO ward_ops;

--
-- Name: FUNCTION ops_org_shred_erase(p_org uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_org_shred_erase(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_org_shred_erase(p_org uuid) TO ward_ops;

--
-- Name: FUNCTION ops_org_state(p_org uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_org_state(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_org_state(p_org uuid) TO ward_ops;

--
-- Name: FUNCTION ops_orgs(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_orgs() FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_orgs() TO ward_ops;

--
-- Name: FUNCTION ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[], p_columns text[], p_old bytea[], p_new bytea[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[], p_columns text[], p_old bytea[], p_new bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_patient_key(p_org uuid, p_patient uuid, p_keyset bytea, p_tables text[], p_rows uuid[], p_columns text[], p_old bytea[], p_new bytea[]) TO ward_ops;

--
-- Name: FUNCTION ops_patient_key_cells(p_org uuid, p_patient uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_patient_key_cells(p_org uuid, p_patient uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_patient_key_cells(p_org uuid, p_patient uuid) TO ward_ops;

--
-- Name: FUNCTION ops_patient_key_record(p_org uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_patient_key_record(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_patient_key_record(p_org uuid) TO ward_ops;

--
-- Name: FUNCTION ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_replace_keyset(p_org uuid, p_purpose text, p_old bytea, p_new bytea, p_kind text) TO ward_ops;

--
-- Name: FUNCTION ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_rewrap_data_keys(p_org uuid, p_ids uuid[], p_old bytea[], p_new bytea[]) TO ward_ops;

--
-- Name: FUNCTION ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea, p_note text, p_note_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea, p_note text, p_note_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_seal_legal_hold(p_org uuid, p_id uuid, p_reason text, p_reason_enc bytea, p_note text, p_note_enc bytea) TO ward_ops;

--
-- Name: FUNCTION ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.ops_unkeyed_patients(p_org uuid, p_after_org uuid, p_after_id uuid, p_limit integer) TO ward_ops;

--
-- Name: FUNCTION org_compliance_facts(p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.org_compliance_facts(p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.org_compliance_facts(p_request text) TO ward_app;

--
-- Name: FUNCTION org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea) TO ward_app;
GRANT ALL ON FUNCTION app.org_keyset(p_org uuid, OUT purpose text, OUT wrapped bytea) TO ward_ops;

--
-- Name: FUNCTION org_shredded_sso(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.org_shredded_sso() FROM PUBLIC;

--
-- Name: FUNCTION own_email(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.own_email() FROM PUBLIC;
GRANT ALL ON FUNCTION app.own_email() TO ward_app;

--
-- Name: FUNCTION passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_assert(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer) TO ward_app;

--
-- Name: FUNCTION passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_begin(p_purpose text, p_rp_id text, p_origin text, p_binder_hash bytea, OUT challenge bytea, OUT user_handle bytea, OUT email_enc bytea, OUT credential_ids bytea[], OUT expires_at timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea, OUT id uuid, OUT org_id uuid, OUT user_id uuid, OUT public_key bytea, OUT sign_count bigint, OUT backup_eligible boolean, OUT backup_state boolean, OUT aaguid uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea, OUT id uuid, OUT org_id uuid, OUT user_id uuid, OUT public_key bytea, OUT sign_count bigint, OUT backup_eligible boolean, OUT backup_state boolean, OUT aaguid uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_credential(p_challenge bytea, p_credential_id bytea, p_user_handle bytea, OUT id uuid, OUT org_id uuid, OUT user_id uuid, OUT public_key bytea, OUT sign_count bigint, OUT backup_eligible boolean, OUT backup_state boolean, OUT aaguid uuid) TO ward_app;

--
-- Name: FUNCTION passkey_delete(p_id uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_delete(p_id uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_delete(p_id uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_refuse(p_challenge bytea, p_credential_id bytea, p_reason text, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text, OUT status text, OUT passkey_id uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text, OUT status text, OUT passkey_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_register(p_challenge bytea, p_client_data bytea, p_auth_data bytea, p_public_key bytea, p_name text, p_transports text[], p_request text, p_ip text, p_ua text, OUT status text, OUT passkey_id uuid) TO ward_app;

--
-- Name: FUNCTION passkey_rename(p_id uuid, p_name text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_rename(p_id uuid, p_name text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_rename(p_id uuid, p_name text, p_request text) TO ward_app;

--
-- Name: FUNCTION passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT rp_id text, OUT origin text, OUT user_handle bytea, OUT expires_at timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT rp_id text, OUT origin text, OUT user_handle bytea, OUT expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.passkey_take(p_challenge bytea, p_purpose text, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT rp_id text, OUT origin text, OUT user_handle bytea, OUT expires_at timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION patient_keyset_required(); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.patient_keyset_required() FROM PUBLIC;

--
-- Name: FUNCTION patient_shred(p_patient uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.patient_shred(p_patient uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.patient_shred(p_patient uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION patient_shredded_frozen(); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.patient_shredded_frozen() FROM PUBLIC;

--
-- Name: FUNCTION purge_expired_documents(p_max integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.purge_expired_documents(p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.purge_expired_documents(p_max integer) TO ward_ops;

--
-- Name: FUNCTION reclaim_storage_keys(p_keys text[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.reclaim_storage_keys(p_keys text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.reclaim_storage_keys(p_keys text[]) TO ward_ops;

--
-- Name: FUNCTION record_access_expiries(p_max integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.record_access_expiries(p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.record_access_expiries(p_max integer) TO ward_ops;

--
-- Name: FUNCTION recovery_code_use(p_code_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT remaining integer, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.recovery_code_use(p_code_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT remaining integer, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.recovery_code_use(p_code_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT remaining integer, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION recovery_codes_generate(p_hashes bytea[], p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.recovery_codes_generate(p_hashes bytea[], p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.recovery_codes_generate(p_hashes bytea[], p_request text) TO ward_app;

--
-- Name: FUNCTION refuse_deleted_document(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_deleted_document() FROM PUBLIC;

--
-- Name: FUNCTION refuse_erased_member(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_erased_member() FROM PUBLIC;

--
-- Name: FUNCTION refuse_org_sealed_value(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_org_sealed_value() FROM PUBLIC;

--
-- Name: FUNCTION refuse_other_org_row(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_other_org_row() FROM PUBLIC;

--
-- Name: FUNCTION refuse_shredded_org(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_shredded_org() FROM PUBLIC;

--
-- Name: FUNCTION refuse_shredded_org_own(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_shredded_org_own() FROM PUBLIC;

--
-- Name: FUNCTION refuse_shredded_patient(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_shredded_patient() FROM PUBLIC;

--
-- Name: FUNCTION refuse_shredded_patient_case(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.refuse_shredded_patient_case() FROM PUBLIC;

--
-- Name: FUNCTION release_upload(p_key text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.release_upload(p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.release_upload(p_key text) TO ward_app;

--
-- Name: FUNCTION remember_device(p_device_hash bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.remember_device(p_device_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.remember_device(p_device_hash bytea) TO ward_app;

--
-- Name: FUNCTION request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text, p_ua text, p_device_hash bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text, p_ua text, p_device_hash bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.request_magic_link(p_email_bidx bytea, p_org uuid, p_token_hash bytea, p_verifier_hash bytea, p_ip inet, p_ip_hash bytea, p_request text, p_ua text, p_device_hash bytea, OUT status text, OUT org_id uuid, OUT user_id uuid, OUT email_enc bytea, OUT ttl_min integer, OUT retry_after_s integer) TO ward_app;

--
-- Name: FUNCTION revoke_api_key(p_id uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.revoke_api_key(p_id uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.revoke_api_key(p_id uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION revoke_scim_token(p_id uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.revoke_scim_token(p_id uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.revoke_scim_token(p_id uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION rotate_session(p_new_hash bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.rotate_session(p_new_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.rotate_session(p_new_hash bytea) TO ward_app;

--
-- Name: FUNCTION saml_config(p_connection uuid, OUT org_id uuid, OUT idp_metadata text, OUT allow_idp_initiated boolean); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.saml_config(p_connection uuid, OUT org_id uuid, OUT idp_metadata text, OUT allow_idp_initiated boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION app.saml_config(p_connection uuid, OUT org_id uuid, OUT idp_metadata text, OUT allow_idp_initiated boolean) TO ward_app;

--
-- Name: FUNCTION saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.saml_idp_begin(p_connection uuid, p_state_hash bytea, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION saml_idp_preview(p_connection uuid, p_subject_hash bytea, OUT user_id uuid, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.saml_idp_preview(p_connection uuid, p_subject_hash bytea, OUT user_id uuid, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.saml_idp_preview(p_connection uuid, p_subject_hash bytea, OUT user_id uuid, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_create_user(p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_external_id text, p_request text) TO ward_app;

--
-- Name: FUNCTION scim_delete_group(p_id uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_delete_group(p_id uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_delete_group(p_id uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION scim_delete_user(p_user uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_delete_user(p_user uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_delete_user(p_user uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION scim_failure(p_reason text, p_object uuid, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_failure(p_reason text, p_object uuid, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_failure(p_reason text, p_object uuid, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset integer, p_limit integer, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset integer, p_limit integer, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_groups(p_id uuid, p_display_name text, p_external_id text, p_offset integer, p_limit integer, p_request text) TO ward_app;

--
-- Name: FUNCTION scim_me(OUT org_id uuid, OUT token_id uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_me(OUT org_id uuid, OUT token_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_me(OUT org_id uuid, OUT token_id uuid) TO ward_app;

--
-- Name: FUNCTION scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[], p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[], p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_put_group(p_id uuid, p_display_name text, p_external_id text, p_members uuid[], p_request text) TO ward_app;

--
-- Name: FUNCTION scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea, p_active boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea, p_active boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_update_user(p_user uuid, p_email_bidx bytea, p_external_id text, p_attrs_enc bytea, p_active boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset integer, p_limit integer, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset integer, p_limit integer, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.scim_users(p_id uuid, p_email_bidx bytea, p_external_id text, p_offset integer, p_limit integer, p_request text) TO ward_app;

--
-- Name: FUNCTION session_browser(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.session_browser() FROM PUBLIC;
GRANT ALL ON FUNCTION app.session_browser() TO ward_app;

--
-- Name: FUNCTION set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_assurance_policy(p_require_mfa boolean, p_require_passkey boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION set_device_binding_policy(p_roles text[], p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_device_binding_policy(p_roles text[], p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_device_binding_policy(p_roles text[], p_request text) TO ward_app;

--
-- Name: FUNCTION set_document_retention(p_policy jsonb, p_request text, p_if_match text[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_document_retention(p_policy jsonb, p_request text, p_if_match text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_document_retention(p_policy jsonb, p_request text, p_if_match text[]) TO ward_app;

--
-- Name: FUNCTION set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text, p_allow text[], p_keep text[], p_requests_per_minute integer, p_tokens_per_minute integer, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text, p_allow text[], p_keep text[], p_requests_per_minute integer, p_tokens_per_minute integer, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_gateway_policy(p_providers text[], p_models text[], p_dates text, p_zip text, p_allow text[], p_keep text[], p_requests_per_minute integer, p_tokens_per_minute integer, p_request text) TO ward_app;

--
-- Name: FUNCTION set_risk_policy(p_threshold integer, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_risk_policy(p_threshold integer, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_risk_policy(p_threshold integer, p_request text) TO ward_app;

--
-- Name: FUNCTION set_scim_group_role(p_group uuid, p_role text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_scim_group_role(p_group uuid, p_role text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_scim_group_role(p_group uuid, p_role text, p_request text) TO ward_app;

--
-- Name: FUNCTION set_session_policy(p_idle integer, p_abs integer, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_session_policy(p_idle integer, p_abs integer, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_session_policy(p_idle integer, p_abs integer, p_request text) TO ward_app;

--
-- Name: FUNCTION set_sso_policy(p_enforce boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.set_sso_policy(p_enforce boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.set_sso_policy(p_enforce boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION shredded_entry_frozen(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.shredded_entry_frozen() FROM PUBLIC;

--
-- Name: FUNCTION signer_key(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.signer_key() FROM PUBLIC;
GRANT ALL ON FUNCTION app.signer_key() TO ward_app;
GRANT ALL ON FUNCTION app.signer_key() TO ward_ops;
GRANT ALL ON FUNCTION app.signer_key() TO ward_audit_signer;

--
-- Name: FUNCTION sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_assertion_once(p_state_hash bytea, p_id_hash bytea, p_expires_at timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_begin(p_domain text, p_org uuid, p_connection uuid, p_state_hash bytea, p_binder_hash bytea, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text) TO ward_app;

--
-- Name: FUNCTION sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text, p_auth_time timestamp with time zone, p_hd text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text, p_auth_time timestamp with time zone, p_hd text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_complete(p_state_hash bytea, p_subject_hash bytea, p_user uuid, p_email_bidx bytea, p_email_enc bytea, p_email_verified boolean, p_email_domain text, p_amr text[], p_acr text, p_session_hash bytea, p_ip inet, p_ua text, p_request text, p_auth_time timestamp with time zone, p_hd text, OUT status text, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT aal integer) TO ward_app;

--
-- Name: FUNCTION sso_domain_verify_failed(p_domain text, p_reason text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_domain_verify_failed(p_domain text, p_reason text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_domain_verify_failed(p_domain text, p_reason text, p_request text) TO ward_app;

--
-- Name: FUNCTION sso_failure(p_state_hash bytea, p_reason text, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_failure(p_state_hash bytea, p_reason text, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_failure(p_state_hash bytea, p_reason text, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION sso_release_shredded(p_org uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_release_shredded(p_org uuid) FROM PUBLIC;

--
-- Name: FUNCTION sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text, OUT client_secret_enc bytea, OUT signing_algs text[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text, OUT client_secret_enc bytea, OUT signing_algs text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.sso_take(p_state_hash bytea, p_binder_hash bytea, p_request text, p_ip text, p_ua text, OUT status text, OUT org_id uuid, OUT connection_id uuid, OUT kind text, OUT issuer text, OUT client_id text, OUT client_secret_enc bytea, OUT signing_algs text[]) TO ward_app;

--
-- Name: FUNCTION stale_principal(); Type: ACL; Schema: app; Owner: ward_owner
--

REVOKE ALL ON FUNCTION app.stale_principal() FROM PUBLIC;
GRANT ALL ON FUNCTION app.stale_principal() TO ward_app;

--
-- Name: FUNCTION totp_confirm(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text, OUT status text, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_confirm(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text, OUT status text, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_confirm(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text, OUT status text, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION totp_delete(p_request text, OUT status text, OUT email_enc bytea); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_delete(p_request text, OUT status text, OUT email_enc bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_delete(p_request text, OUT status text, OUT email_enc bytea) TO ward_app;

--
-- Name: FUNCTION totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_enrol(p_secret_enc bytea, p_secret_hash bytea, p_request text) TO ward_app;

--
-- Name: FUNCTION totp_pending_secret(OUT secret_enc bytea, OUT confirm_by timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_pending_secret(OUT secret_enc bytea, OUT confirm_by timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_pending_secret(OUT secret_enc bytea, OUT confirm_by timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text, OUT status text, OUT confirm_by timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text, OUT status text, OUT confirm_by timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_replace(p_secret_enc bytea, p_secret_hash bytea, p_request text, OUT status text, OUT confirm_by timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION totp_secret(OUT secret_enc bytea, OUT confirmed boolean, OUT locked_until timestamp with time zone); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_secret(OUT secret_enc bytea, OUT confirmed boolean, OUT locked_until timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_secret(OUT secret_enc bytea, OUT confirmed boolean, OUT locked_until timestamp with time zone) TO ward_app;

--
-- Name: FUNCTION totp_verify(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.totp_verify(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.totp_verify(p_secret bytea, p_code text, p_request text, p_ip text, p_ua text) TO ward_app;

--
-- Name: FUNCTION touch_upload(p_key text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.touch_upload(p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.touch_upload(p_key text) TO ward_app;

--
-- Name: FUNCTION unlink_sso_identities(p_connection uuid, p_user uuid, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.unlink_sso_identities(p_connection uuid, p_user uuid, p_request text) TO ward_app;

--
-- Name: FUNCTION update_member(p_user uuid, p_role text, p_revoke boolean, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.update_member(p_user uuid, p_role text, p_revoke boolean, p_request text) TO ward_app;

--
-- Name: FUNCTION user_address_changed(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.user_address_changed() FROM PUBLIC;

--
-- Name: FUNCTION user_known_live(p_user uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.user_known_live(p_user uuid) FROM PUBLIC;

--
-- Name: FUNCTION users_erase_only(); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.users_erase_only() FROM PUBLIC;

--
-- Name: FUNCTION verify_sso_domain_dns(p_domain text, p_token text, p_request text); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.verify_sso_domain_dns(p_domain text, p_token text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION app.verify_sso_domain_dns(p_domain text, p_token text, p_request text) TO ward_app;

--
-- Name: FUNCTION version_sha256(p_org uuid, p_version uuid); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.version_sha256(p_org uuid, p_version uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app.version_sha256(p_org uuid, p_version uuid) TO ward_app;

--
-- Name: FUNCTION whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]); Type: ACL; Schema: app; Owner: ward_definer
--

REVOKE ALL ON FUNCTION app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION app.whoami(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT absolute_expires_at timestamp with time zone, OUT idle_expires_at timestamp with time zone, OUT amr text[], OUT pending text, OUT break_glass boolean, OUT scopes text[]) TO ward_app;

--
-- Name: FUNCTION access_report(p_org uuid, p_patient uuid); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.access_report(p_org uuid, p_patient uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.access_report(p_org uuid, p_patient uuid) TO ward_app;

--
-- Name: FUNCTION access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.access_report_page(p_org uuid, p_patient uuid, p_after bigint, p_limit integer) TO ward_app;

--
-- Name: FUNCTION append(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_disclosure jsonb, p_case uuid); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_disclosure jsonb, p_case uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_disclosure jsonb, p_case uuid) TO ward_app;
GRANT ALL ON FUNCTION audit.append(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_disclosure jsonb, p_case uuid) TO ward_ops;

--
-- Name: FUNCTION append_as(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.append_as(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid) TO ward_ops;

--
-- Name: FUNCTION append_event(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.append_event(p_org uuid, p_action text, p_outcome text, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_actor uuid, p_require_credential boolean, p_disclosure jsonb, p_case uuid, p_refuse_reserved boolean) FROM PUBLIC;

--
-- Name: FUNCTION canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) TO ward_definer;
GRANT ALL ON FUNCTION audit.canonical_event(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) TO ward_app;

--
-- Name: FUNCTION canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) TO ward_definer;
GRANT ALL ON FUNCTION audit.canonical_event_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) TO ward_app;

--
-- Name: FUNCTION chain_seed(p_origin text); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.chain_seed(p_origin text) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.chain_seed(p_origin text) TO ward_definer;
GRANT ALL ON FUNCTION audit.chain_seed(p_origin text) TO ward_app;

--
-- Name: FUNCTION clean_text(p text, p_max integer); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.clean_text(p text, p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.clean_text(p text, p_max integer) TO ward_definer;
GRANT ALL ON FUNCTION audit.clean_text(p text, p_max integer) TO ward_app;

--
-- Name: FUNCTION disclosure_accounting(p_org uuid, p_patient uuid); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.disclosure_accounting(p_org uuid, p_patient uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.disclosure_accounting(p_org uuid, p_patient uuid) TO ward_app;

--
-- Name: FUNCTION event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) TO ward_definer;
GRANT ALL ON FUNCTION audit.event_json(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb) TO ward_app;

--
-- Name: FUNCTION event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) TO ward_definer;
GRANT ALL ON FUNCTION audit.event_json_v2(p_org uuid, p_at timestamp with time zone, p_action text, p_outcome text, p_actor uuid, p_actor_kind text, p_session uuid, p_object_type text, p_object_id uuid, p_patient uuid, p_results uuid[], p_request text, p_ip text, p_ua text, p_details jsonb, p_credential_kind text, p_credential uuid, p_device text, p_case uuid, p_disclosure jsonb, p_break_glass boolean) TO ward_app;

--
-- Name: FUNCTION frontier_root(p_frontier bytea[]); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.frontier_root(p_frontier bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.frontier_root(p_frontier bytea[]) TO ward_definer;
GRANT ALL ON FUNCTION audit.frontier_root(p_frontier bytea[]) TO ward_app;

--
-- Name: FUNCTION gateway_provider_audit(); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.gateway_provider_audit() FROM PUBLIC;

--
-- Name: FUNCTION guard_head(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.guard_head() FROM PUBLIC;

--
-- Name: FUNCTION integrate(p_org uuid, p_max integer, OUT tree_size bigint, OUT sequenced integer); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.integrate(p_org uuid, p_max integer, OUT tree_size bigint, OUT sequenced integer) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.integrate(p_org uuid, p_max integer, OUT tree_size bigint, OUT sequenced integer) TO ward_app;
GRANT ALL ON FUNCTION audit.integrate(p_org uuid, p_max integer, OUT tree_size bigint, OUT sequenced integer) TO ward_ops;

--
-- Name: FUNCTION jcs(v jsonb); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.jcs(v jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.jcs(v jsonb) TO ward_definer;
GRANT ALL ON FUNCTION audit.jcs(v jsonb) TO ward_app;

--
-- Name: FUNCTION leaf_hashes(p_org uuid, p_size bigint); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.leaf_hashes(p_org uuid, p_size bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.leaf_hashes(p_org uuid, p_size bigint) TO ward_app;

--
-- Name: FUNCTION origin(p_org uuid); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.origin(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.origin(p_org uuid) TO ward_definer;
GRANT ALL ON FUNCTION audit.origin(p_org uuid) TO ward_app;

--
-- Name: FUNCTION pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) TO ward_app;
GRANT ALL ON FUNCTION audit.pending_orgs(OUT org_id uuid, OUT oldest timestamp with time zone, OUT pending bigint) TO ward_ops;

--
-- Name: FUNCTION proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.proof_hashes(p_org uuid, p_size bigint, p_levels integer[], p_idx bigint[]) TO ward_app;

--
-- Name: FUNCTION record_archived(p_org uuid, p_size bigint); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.record_archived(p_org uuid, p_size bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.record_archived(p_org uuid, p_size bigint) TO ward_app;
GRANT ALL ON FUNCTION audit.record_archived(p_org uuid, p_size bigint) TO ward_ops;
GRANT ALL ON FUNCTION audit.record_archived(p_org uuid, p_size bigint) TO ward_audit_reader;

--
-- Name: FUNCTION record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone) TO ward_ops;
GRANT ALL ON FUNCTION audit.record_archived_object(p_org uuid, p_name text, p_version text, p_mode text, p_retain_until timestamp with time zone) TO ward_audit_reader;

--
-- Name: FUNCTION record_checkpoint(p_org uuid, p_note text); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.record_checkpoint(p_org uuid, p_note text) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.record_checkpoint(p_org uuid, p_note text) TO ward_app;
GRANT ALL ON FUNCTION audit.record_checkpoint(p_org uuid, p_note text) TO ward_ops;
GRANT ALL ON FUNCTION audit.record_checkpoint(p_org uuid, p_note text) TO ward_audit_signer;

--
-- Name: FUNCTION reject_change(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.reject_change() FROM PUBLIC;

--
-- Name: FUNCTION reject_change_any(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.reject_change_any() FROM PUBLIC;

--
-- Name: FUNCTION reject_leaf_change(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.reject_leaf_change() FROM PUBLIC;

--
-- Name: FUNCTION reject_queue_change(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.reject_queue_change() FROM PUBLIC;

--
-- Name: FUNCTION reject_truncate(); Type: ACL; Schema: audit; Owner: ward_owner
--

REVOKE ALL ON FUNCTION audit.reject_truncate() FROM PUBLIC;

--
-- Name: FUNCTION retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.retention_allows(p_org uuid, p_seq bigint, p_patient uuid, p_at timestamp with time zone) TO ward_audit_cleanup;

--
-- Name: FUNCTION unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea); Type: ACL; Schema: audit; Owner: ward_definer
--

REVOKE ALL ON FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) TO ward_app;
GRANT ALL ON FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) TO ward_ops;
GRANT ALL ON FUNCTION audit.unsigned_heads(OUT org_id uuid, OUT origin text, OUT tree_size bigint, OUT root_hash bytea) TO ward_audit_signer;

--
-- Name: FUNCTION set_config(text, text, boolean); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.set_config(text, text, boolean) TO ward_owner;
GRANT ALL ON FUNCTION pg_catalog.set_config(text, text, boolean) TO ward_definer;
GRANT ALL ON FUNCTION pg_catalog.set_config(text, text, boolean) TO ward_rls;

--
-- Name: FUNCTION am_i_break_glass(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.am_i_break_glass() FROM PUBLIC;
GRANT ALL ON FUNCTION private.am_i_break_glass() TO ward_app;
GRANT ALL ON FUNCTION private.am_i_break_glass() TO ward_definer;

--
-- Name: FUNCTION am_i_lead(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.am_i_lead() FROM PUBLIC;
GRANT ALL ON FUNCTION private.am_i_lead() TO ward_app;
GRANT ALL ON FUNCTION private.am_i_lead() TO ward_definer;

--
-- Name: FUNCTION am_i_lead_in_org(p_org uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.am_i_lead_in_org(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.am_i_lead_in_org(p_org uuid) TO ward_app;
GRANT ALL ON FUNCTION private.am_i_lead_in_org(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean) TO ward_definer;
GRANT ALL ON FUNCTION private.assurance_bar(p_role text, p_require_mfa boolean, p_require_passkey boolean) TO ward_app;

--
-- Name: FUNCTION breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, p_by jsonb, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, p_by jsonb, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) FROM PUBLIC;
GRANT ALL ON FUNCTION private.breach_end(p_org uuid, p_sessions uuid[], p_users uuid[], p_api_keys uuid[], p_scim_tokens uuid[], p_request text, p_by jsonb, OUT sessions integer, OUT api_keys integer, OUT scim_tokens integer, OUT case_invites integer, OUT sign_in_links integer) TO ward_definer;

--
-- Name: FUNCTION break_glass_admin(OUT user_id uuid, OUT org_id uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.break_glass_admin(OUT user_id uuid, OUT org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.break_glass_admin(OUT user_id uuid, OUT org_id uuid) TO ward_definer;

--
-- Name: FUNCTION break_glass_reason_given(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.break_glass_reason_given() FROM PUBLIC;

--
-- Name: FUNCTION case_grantee_role(p_case uuid, p_user uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.case_grantee_role(p_case uuid, p_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.case_grantee_role(p_case uuid, p_user uuid) TO ward_app;

--
-- Name: TABLE case_invites; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE app.case_invites TO ward_definer;
GRANT INSERT ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.case_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(case_id) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.email_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(email_enc) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.invitee_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(invitee_id) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.kind; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(kind) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.permissions; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(permissions) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.access_expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(access_expires_at) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(expires_at) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.accepted_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(accepted_at) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.accepted_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(accepted_by) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.revoked_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(revoked_at),UPDATE(revoked_at) ON TABLE app.case_invites TO ward_app;

--
-- Name: COLUMN case_invites.recipient_org; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(recipient_org) ON TABLE app.case_invites TO ward_app;

--
-- Name: FUNCTION case_invite_status(i app.case_invites); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.case_invite_status(i app.case_invites) FROM PUBLIC;
GRANT ALL ON FUNCTION private.case_invite_status(i app.case_invites) TO ward_definer;

--
-- Name: FUNCTION case_member_expiry_rearm(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.case_member_expiry_rearm() FROM PUBLIC;

--
-- Name: FUNCTION case_member_not_own(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.case_member_not_own() FROM PUBLIC;

--
-- Name: FUNCTION check_case_member_kind(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.check_case_member_kind() FROM PUBLIC;

--
-- Name: FUNCTION compliance_org_facts(p_org uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.compliance_org_facts(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.compliance_org_facts(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION credential_hash(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.credential_hash() FROM PUBLIC;
GRANT ALL ON FUNCTION private.credential_hash() TO ward_app;
GRANT ALL ON FUNCTION private.credential_hash() TO ward_definer;

--
-- Name: FUNCTION credential_maker(p_hash bytea, p_hash_name text, OUT user_id uuid, OUT org_id uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.credential_maker(p_hash bytea, p_hash_name text, OUT user_id uuid, OUT org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.credential_maker(p_hash bytea, p_hash_name text, OUT user_id uuid, OUT org_id uuid) TO ward_definer;

--
-- Name: FUNCTION dpop_jti_rotate_at(p_now bigint); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.dpop_jti_rotate_at(p_now bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION private.dpop_jti_rotate_at(p_now bigint) TO ward_definer;

--
-- Name: FUNCTION dsr_amendment_status(p_org uuid, p_dsr uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.dsr_amendment_status(p_org uuid, p_dsr uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.dsr_amendment_status(p_org uuid, p_dsr uuid) TO ward_app;

--
-- Name: FUNCTION dsr_guard(); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.dsr_guard() FROM PUBLIC;

--
-- Name: FUNCTION dsr_period(p_kind text, p_extension boolean); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.dsr_period(p_kind text, p_extension boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION private.dsr_period(p_kind text, p_extension boolean) TO ward_app;

--
-- Name: FUNCTION gateway_caller(OUT org_id uuid, OUT credential_id uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.gateway_caller(OUT org_id uuid, OUT credential_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.gateway_caller(OUT org_id uuid, OUT credential_id uuid) TO ward_definer;

--
-- Name: FUNCTION get_my_org_id(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.get_my_org_id() FROM PUBLIC;
GRANT ALL ON FUNCTION private.get_my_org_id() TO ward_app;
GRANT ALL ON FUNCTION private.get_my_org_id() TO ward_definer;

--
-- Name: FUNCTION get_my_role(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.get_my_role() FROM PUBLIC;
GRANT ALL ON FUNCTION private.get_my_role() TO ward_app;
GRANT ALL ON FUNCTION private.get_my_role() TO ward_definer;

--
-- Name: FUNCTION guard_document_update(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.guard_document_update() FROM PUBLIC;

--
-- Name: FUNCTION guard_patient_identifiers(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.guard_patient_identifiers() FROM PUBLIC;

--
-- Name: FUNCTION guard_version_insert(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.guard_version_insert() FROM PUBLIC;

--
-- Name: FUNCTION hotp(p_secret bytea, p_counter bigint, p_digits integer, p_algo text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.hotp(p_secret bytea, p_counter bigint, p_digits integer, p_algo text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.hotp(p_secret bytea, p_counter bigint, p_digits integer, p_algo text) TO ward_definer;

--
-- Name: FUNCTION is_key(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.is_key() FROM PUBLIC;
GRANT ALL ON FUNCTION private.is_key() TO ward_app;
GRANT ALL ON FUNCTION private.is_key() TO ward_definer;

--
-- Name: FUNCTION is_scim(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.is_scim() FROM PUBLIC;
GRANT ALL ON FUNCTION private.is_scim() TO ward_app;

--
-- Name: FUNCTION key_holds(p_scope text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.key_holds(p_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.key_holds(p_scope text) TO ward_app;
GRANT ALL ON FUNCTION private.key_holds(p_scope text) TO ward_definer;

--
-- Name: FUNCTION key_org(p_scope text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.key_org(p_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.key_org(p_scope text) TO ward_app;
GRANT ALL ON FUNCTION private.key_org(p_scope text) TO ward_definer;

--
-- Name: FUNCTION legal_hold_lock(p_org uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.legal_hold_lock(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.legal_hold_lock(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION legal_hold_lock_shared(p_org uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.legal_hold_lock_shared(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.legal_hold_lock_shared(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text) TO ward_app;
GRANT ALL ON FUNCTION private.me(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text) TO ward_definer;

--
-- Name: FUNCTION me_factor(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.me_factor(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.me_factor(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) TO ward_definer;

--
-- Name: FUNCTION me_pending(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.me_pending(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.me_pending(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) TO ward_definer;

--
-- Name: FUNCTION me_pending_cached(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.me_pending_cached(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.me_pending_cached(OUT kind text, OUT credential_id uuid, OUT user_id uuid, OUT org_id uuid, OUT role text, OUT session_id uuid, OUT aal integer, OUT auth_time timestamp with time zone, OUT break_glass boolean, OUT device text, OUT amr text[], OUT pending text) TO ward_definer;

--
-- Name: FUNCTION meets_bar(p_bar text, p_aal integer, p_amr text[]); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.meets_bar(p_bar text, p_aal integer, p_amr text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION private.meets_bar(p_bar text, p_aal integer, p_amr text[]) TO ward_definer;
GRANT ALL ON FUNCTION private.meets_bar(p_bar text, p_aal integer, p_amr text[]) TO ward_app;

--
-- Name: FUNCTION membership_revocation(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.membership_revocation() FROM PUBLIC;

--
-- Name: FUNCTION my_case_ids(p_perm text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_case_ids(p_perm text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_case_ids(p_perm text) TO ward_app;
GRANT ALL ON FUNCTION private.my_case_ids(p_perm text) TO ward_definer;

--
-- Name: FUNCTION my_lead_org(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_lead_org() FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_lead_org() TO ward_app;
GRANT ALL ON FUNCTION private.my_lead_org() TO ward_definer;

--
-- Name: FUNCTION my_managed_case_ids(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_managed_case_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_managed_case_ids() TO ward_app;

--
-- Name: FUNCTION my_org_member_ids(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_org_member_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_org_member_ids() TO ward_app;
GRANT ALL ON FUNCTION private.my_org_member_ids() TO ward_definer;

--
-- Name: FUNCTION my_org_members_in_roles(p_roles text[]); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_org_members_in_roles(p_roles text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_org_members_in_roles(p_roles text[]) TO ward_app;
GRANT ALL ON FUNCTION private.my_org_members_in_roles(p_roles text[]) TO ward_definer;

--
-- Name: FUNCTION my_patient_ids(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_patient_ids() FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_patient_ids() TO ward_app;
GRANT ALL ON FUNCTION private.my_patient_ids() TO ward_definer;

--
-- Name: FUNCTION my_patient_keys(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.my_patient_keys() FROM PUBLIC;
GRANT ALL ON FUNCTION private.my_patient_keys() TO ward_app;
GRANT ALL ON FUNCTION private.my_patient_keys() TO ward_definer;

--
-- Name: FUNCTION passkey_has_factor(p_org uuid, p_user uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.passkey_has_factor(p_org uuid, p_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.passkey_has_factor(p_org uuid, p_user uuid) TO ward_definer;

--
-- Name: TABLE passkey_challenges; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.passkey_challenges TO ward_definer;

--
-- Name: FUNCTION passkey_spent(p_challenge bytea, p_purposes text[]); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.passkey_spent(p_challenge bytea, p_purposes text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION private.passkey_spent(p_challenge bytea, p_purposes text[]) TO ward_definer;

--
-- Name: FUNCTION patient_key_lock(p_org uuid, p_patient uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.patient_key_lock(p_org uuid, p_patient uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.patient_key_lock(p_org uuid, p_patient uuid) TO ward_definer;

--
-- Name: FUNCTION patient_sealed_cells(p_org uuid, p_patient uuid); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.patient_sealed_cells(p_org uuid, p_patient uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.patient_sealed_cells(p_org uuid, p_patient uuid) TO ward_definer;

--
-- Name: FUNCTION principal_cache_put(p_cred text, p_principal private.principal, p_snap pg_snapshot, p_valid_until timestamp with time zone); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.principal_cache_put(p_cred text, p_principal private.principal, p_snap pg_snapshot, p_valid_until timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION principal_changed(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.principal_changed() FROM PUBLIC;

--
-- Name: FUNCTION principal_moved(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.principal_moved() FROM PUBLIC;

--
-- Name: FUNCTION principal_now(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.principal_now() FROM PUBLIC;
GRANT ALL ON FUNCTION private.principal_now() TO ward_definer;

--
-- Name: FUNCTION record_amendment_close(); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.record_amendment_close() FROM PUBLIC;

--
-- Name: FUNCTION record_amendment_guard(); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.record_amendment_guard() FROM PUBLIC;

--
-- Name: FUNCTION refuse_key_revoke(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.refuse_key_revoke() FROM PUBLIC;

--
-- Name: FUNCTION refuse_key_write(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.refuse_key_write() FROM PUBLIC;

--
-- Name: FUNCTION retention_notice(); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.retention_notice() FROM PUBLIC;
GRANT ALL ON FUNCTION private.retention_notice() TO ward_definer;

--
-- Name: FUNCTION scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.scim_apply_roles(p_org uuid, p_users uuid[], p_default text, p_request text) TO ward_definer;

--
-- Name: FUNCTION scim_end_access(p_org uuid, p_user uuid, p_reason text); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.scim_end_access(p_org uuid, p_user uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.scim_end_access(p_org uuid, p_user uuid, p_reason text) TO ward_definer;

--
-- Name: FUNCTION session_id(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.session_id() FROM PUBLIC;
GRANT ALL ON FUNCTION private.session_id() TO ward_app;
GRANT ALL ON FUNCTION private.session_id() TO ward_definer;

--
-- Name: FUNCTION session_token_issued(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.session_token_issued() FROM PUBLIC;

--
-- Name: FUNCTION sessions_sso_required(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.sessions_sso_required() FROM PUBLIC;

--
-- Name: FUNCTION signin_net(p inet); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.signin_net(p inet) FROM PUBLIC;
GRANT ALL ON FUNCTION private.signin_net(p inet) TO ward_definer;

--
-- Name: FUNCTION signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION private.signin_risk(p_org uuid, p_user uuid, p_ip inet, p_ua text, p_link_ip inet, OUT score integer, OUT reasons text[], OUT signals jsonb) TO ward_definer;

--
-- Name: FUNCTION sso_admin(); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.sso_admin() FROM PUBLIC;
GRANT ALL ON FUNCTION private.sso_admin() TO ward_definer;

--
-- Name: FUNCTION sso_bound(p_org uuid, p_user uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.sso_bound(p_org uuid, p_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.sso_bound(p_org uuid, p_user uuid) TO ward_definer;

--
-- Name: FUNCTION sso_domain_gaps(p_org uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.sso_domain_gaps(p_org uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.sso_domain_gaps(p_org uuid) TO ward_definer;

--
-- Name: FUNCTION sso_end_unbound(p_org uuid, p_user uuid, OUT sessions integer, OUT links integer, OUT keys integer); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.sso_end_unbound(p_org uuid, p_user uuid, OUT sessions integer, OUT links integer, OUT keys integer) FROM PUBLIC;
GRANT ALL ON FUNCTION private.sso_end_unbound(p_org uuid, p_user uuid, OUT sessions integer, OUT links integer, OUT keys integer) TO ward_definer;

--
-- Name: FUNCTION sso_revoke_audited(p_org uuid, p_user uuid, p_reason text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.sso_revoke_audited(p_org uuid, p_user uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.sso_revoke_audited(p_org uuid, p_user uuid, p_reason text) TO ward_definer;

--
-- Name: FUNCTION tink_wrapping_key_id(p bytea); Type: ACL; Schema: private; Owner: ward_owner
--

REVOKE ALL ON FUNCTION private.tink_wrapping_key_id(p bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION private.tink_wrapping_key_id(p bytea) TO ward_definer;

--
-- Name: FUNCTION touch_due(p_last_seen timestamp with time zone, p_idle_min integer); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.touch_due(p_last_seen timestamp with time zone, p_idle_min integer) FROM PUBLIC;
GRANT ALL ON FUNCTION private.touch_due(p_last_seen timestamp with time zone, p_idle_min integer) TO ward_definer;
GRANT ALL ON FUNCTION private.touch_due(p_last_seen timestamp with time zone, p_idle_min integer) TO ward_app;

--
-- Name: FUNCTION uid(); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.uid() FROM PUBLIC;
GRANT ALL ON FUNCTION private.uid() TO ward_app;
GRANT ALL ON FUNCTION private.uid() TO ward_definer;

--
-- Name: FUNCTION webauthn_auth_data(p_auth_data bytea, p_rp_id text, OUT ok boolean, OUT backup_eligible boolean, OUT backup_state boolean, OUT sign_count bigint, OUT aaguid uuid, OUT credential_id bytea, OUT key_offset integer); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.webauthn_auth_data(p_auth_data bytea, p_rp_id text, OUT ok boolean, OUT backup_eligible boolean, OUT backup_state boolean, OUT sign_count bigint, OUT aaguid uuid, OUT credential_id bytea, OUT key_offset integer) FROM PUBLIC;
GRANT ALL ON FUNCTION private.webauthn_auth_data(p_auth_data bytea, p_rp_id text, OUT ok boolean, OUT backup_eligible boolean, OUT backup_state boolean, OUT sign_count bigint, OUT aaguid uuid, OUT credential_id bytea, OUT key_offset integer) TO ward_definer;

--
-- Name: FUNCTION webauthn_b64url(b bytea); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.webauthn_b64url(b bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION private.webauthn_b64url(b bytea) TO ward_definer;

--
-- Name: FUNCTION webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text) FROM PUBLIC;
GRANT ALL ON FUNCTION private.webauthn_client_data(p_client_data bytea, p_type text, p_challenge bytea, p_origin text) TO ward_definer;

--
-- Name: FUNCTION webauthn_user_handle(p_org uuid, p_user uuid); Type: ACL; Schema: private; Owner: ward_rls
--

REVOKE ALL ON FUNCTION private.webauthn_user_handle(p_org uuid, p_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.webauthn_user_handle(p_org uuid, p_user uuid) TO ward_definer;

--
-- Name: TABLE api_keys; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE app.api_keys TO ward_definer;

--
-- Name: COLUMN api_keys.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(org_id) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(id) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.key_hash; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(key_hash) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.prefix; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(prefix) ON TABLE app.api_keys TO ward_app;

--
-- Name: COLUMN api_keys.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(name) ON TABLE app.api_keys TO ward_app;

--
-- Name: COLUMN api_keys.scopes; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(scopes) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(scopes) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(created_by) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(created_at) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(expires_at) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(expires_at) ON TABLE app.api_keys TO ward_rls;

--
-- Name: COLUMN api_keys.last_used_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(last_used_at) ON TABLE app.api_keys TO ward_app;

--
-- Name: COLUMN api_keys.revoked_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(revoked_at) ON TABLE app.api_keys TO ward_app;
GRANT SELECT(revoked_at) ON TABLE app.api_keys TO ward_rls;

--
-- Name: TABLE audit_sinks; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.audit_sinks TO ward_app;
GRANT SELECT ON TABLE app.audit_sinks TO ward_audit_reader;

--
-- Name: COLUMN audit_sinks.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.kind; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(kind) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(name) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.format; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(format) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.batch_max; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(batch_max) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.enabled; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(enabled) ON TABLE app.audit_sinks TO ward_app;
GRANT SELECT(enabled),UPDATE(enabled) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.secret_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(secret_enc) ON TABLE app.audit_sinks TO ward_app;
GRANT SELECT(secret_enc),UPDATE(secret_enc) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.prev_secret_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(prev_secret_enc) ON TABLE app.audit_sinks TO ward_app;
GRANT SELECT(prev_secret_enc),UPDATE(prev_secret_enc) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.prev_expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(prev_expires_at) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.overlap_s; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(overlap_s) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.disable_after_s; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(disable_after_s) ON TABLE app.audit_sinks TO ward_app;

--
-- Name: COLUMN audit_sinks.cursor_seq; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(cursor_seq) ON TABLE app.audit_sinks TO ward_audit_reader;
GRANT SELECT(cursor_seq) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.attempts; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(attempts) ON TABLE app.audit_sinks TO ward_app;
GRANT UPDATE(attempts) ON TABLE app.audit_sinks TO ward_audit_reader;

--
-- Name: COLUMN audit_sinks.next_attempt_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(next_attempt_at) ON TABLE app.audit_sinks TO ward_app;
GRANT UPDATE(next_attempt_at) ON TABLE app.audit_sinks TO ward_audit_reader;

--
-- Name: COLUMN audit_sinks.last_attempt_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(last_attempt_at) ON TABLE app.audit_sinks TO ward_audit_reader;

--
-- Name: COLUMN audit_sinks.last_success_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(last_success_at) ON TABLE app.audit_sinks TO ward_audit_reader;
GRANT SELECT(last_success_at) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.last_error; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(last_error) ON TABLE app.audit_sinks TO ward_audit_reader;

--
-- Name: COLUMN audit_sinks.failing_since; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(failing_since) ON TABLE app.audit_sinks TO ward_app;
GRANT UPDATE(failing_since) ON TABLE app.audit_sinks TO ward_audit_reader;
GRANT SELECT(failing_since) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.disabled_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(disabled_at) ON TABLE app.audit_sinks TO ward_app;
GRANT UPDATE(disabled_at) ON TABLE app.audit_sinks TO ward_audit_reader;
GRANT SELECT(disabled_at) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.updated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(updated_at) ON TABLE app.audit_sinks TO ward_app;
GRANT UPDATE(updated_at) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: COLUMN audit_sinks.paused_reason; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(paused_reason) ON TABLE app.audit_sinks TO ward_definer;

--
-- Name: TABLE auth_attempts; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.auth_attempts TO ward_definer;

--
-- Name: TABLE break_glass_activations; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.break_glass_activations TO ward_app;
GRANT SELECT,INSERT ON TABLE app.break_glass_activations TO ward_definer;

--
-- Name: COLUMN break_glass_activations.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.break_glass_activations TO ward_rls;

--
-- Name: COLUMN break_glass_activations.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.break_glass_activations TO ward_rls;

--
-- Name: COLUMN break_glass_activations.reason_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reason_enc) ON TABLE app.break_glass_activations TO ward_definer;
GRANT SELECT(reason_enc) ON TABLE app.break_glass_activations TO ward_rls;

--
-- Name: COLUMN break_glass_activations.reviewed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reviewed_at) ON TABLE app.break_glass_activations TO ward_definer;

--
-- Name: COLUMN break_glass_activations.reviewed_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reviewed_by) ON TABLE app.break_glass_activations TO ward_definer;

--
-- Name: COLUMN break_glass_activations.review_note_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(review_note_enc) ON TABLE app.break_glass_activations TO ward_definer;

--
-- Name: TABLE break_glass_users; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.break_glass_users TO ward_app;
GRANT SELECT,INSERT,DELETE ON TABLE app.break_glass_users TO ward_definer;

--
-- Name: COLUMN break_glass_users.designated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(designated_at) ON TABLE app.break_glass_users TO ward_definer;

--
-- Name: TABLE care_team; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.care_team TO ward_app;
GRANT SELECT ON TABLE app.care_team TO ward_rls;
GRANT SELECT,DELETE ON TABLE app.care_team TO ward_definer;

--
-- Name: TABLE case_members; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.case_members TO ward_rls;
GRANT SELECT,INSERT,UPDATE ON TABLE app.case_members TO ward_definer;
GRANT SELECT,INSERT ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.kind; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(kind) ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.permissions; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(permissions) ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.access_expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(access_expires_at) ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.updated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(updated_at) ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.revoked_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(revoked_at) ON TABLE app.case_members TO ward_app;

--
-- Name: COLUMN case_members.recipient_org; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(recipient_org) ON TABLE app.case_members TO ward_app;

--
-- Name: TABLE cases; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.cases TO ward_definer;
GRANT SELECT,INSERT ON TABLE app.cases TO ward_app;

--
-- Name: COLUMN cases.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.cases TO ward_rls;

--
-- Name: COLUMN cases.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.cases TO ward_rls;

--
-- Name: COLUMN cases.patient_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(patient_id) ON TABLE app.cases TO ward_rls;

--
-- Name: COLUMN cases.title_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(title_enc) ON TABLE app.cases TO ward_app;
GRANT UPDATE(title_enc) ON TABLE app.cases TO ward_definer;

--
-- Name: COLUMN cases.reference_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reference_enc) ON TABLE app.cases TO ward_app;
GRANT UPDATE(reference_enc) ON TABLE app.cases TO ward_definer;

--
-- Name: COLUMN cases.reference_bidx; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(reference_bidx) ON TABLE app.cases TO ward_app;
GRANT UPDATE(reference_bidx) ON TABLE app.cases TO ward_definer;

--
-- Name: COLUMN cases.status; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(status) ON TABLE app.cases TO ward_app;
GRANT UPDATE(status) ON TABLE app.cases TO ward_definer;

--
-- Name: COLUMN cases.closed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(closed_at) ON TABLE app.cases TO ward_app;
GRANT UPDATE(closed_at) ON TABLE app.cases TO ward_definer;

--
-- Name: COLUMN cases.updated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(updated_at) ON TABLE app.cases TO ward_app;
GRANT UPDATE(updated_at) ON TABLE app.cases TO ward_definer;

--
-- Name: TABLE clinical_entries; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.clinical_entries TO ward_app;

--
-- Name: COLUMN clinical_entries.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.patient_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(patient_id) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(name) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(name) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.value; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(value) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(value) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.unit; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(unit) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(unit) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.kcal; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(kcal) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(kcal) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.protein_g; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(protein_g) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(protein_g) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.carbs_g; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(carbs_g) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(carbs_g) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.fat_g; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(fat_g) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(fat_g) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.observed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(observed_at) ON TABLE app.clinical_entries TO ward_app;
GRANT UPDATE(observed_at) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.note_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(note_enc) ON TABLE app.clinical_entries TO ward_app;
GRANT SELECT(note_enc),UPDATE(note_enc) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: COLUMN clinical_entries.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.clinical_entries TO ward_definer;

--
-- Name: TABLE document_comments; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.document_comments TO ward_app;

--
-- Name: COLUMN document_comments.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.document_comments TO ward_definer;

--
-- Name: COLUMN document_comments.document_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(document_id) ON TABLE app.document_comments TO ward_definer;

--
-- Name: COLUMN document_comments.body_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(body_enc) ON TABLE app.document_comments TO ward_definer;

--
-- Name: TABLE document_reminders; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE app.document_reminders TO ward_definer;

--
-- Name: TABLE document_retention; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.document_retention TO ward_app;
GRANT SELECT,INSERT,DELETE ON TABLE app.document_retention TO ward_definer;

--
-- Name: TABLE document_uploads; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.document_uploads TO ward_definer;

--
-- Name: TABLE document_versions; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,UPDATE ON TABLE app.document_versions TO ward_definer;
GRANT INSERT ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.document_versions TO ward_app;
GRANT SELECT(org_id) ON TABLE app.document_versions TO ward_definer;

--
-- Name: COLUMN document_versions.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.document_versions TO ward_app;
GRANT SELECT(id) ON TABLE app.document_versions TO ward_definer;

--
-- Name: COLUMN document_versions.case_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(case_id) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.document_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(document_id) ON TABLE app.document_versions TO ward_app;
GRANT SELECT(document_id) ON TABLE app.document_versions TO ward_definer;

--
-- Name: COLUMN document_versions.version; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(version) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.storage_key; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(storage_key) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.size; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(size) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.content_type; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(content_type) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.filename_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(filename_enc) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.uploaded_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(uploaded_by) ON TABLE app.document_versions TO ward_app;

--
-- Name: COLUMN document_versions.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.document_versions TO ward_app;

--
-- Name: TABLE documents; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.documents TO ward_definer;
GRANT SELECT,INSERT ON TABLE app.documents TO ward_app;

--
-- Name: COLUMN documents.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.documents TO ward_rls;
GRANT SELECT(org_id) ON TABLE app.documents TO ward_definer;

--
-- Name: COLUMN documents.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.documents TO ward_rls;
GRANT SELECT(id) ON TABLE app.documents TO ward_definer;

--
-- Name: COLUMN documents.doc_type; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(doc_type) ON TABLE app.documents TO ward_definer;

--
-- Name: COLUMN documents.description_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(description_enc) ON TABLE app.documents TO ward_definer;

--
-- Name: COLUMN documents.requested_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(requested_by) ON TABLE app.documents TO ward_rls;

--
-- Name: COLUMN documents.requested_from; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(requested_from) ON TABLE app.documents TO ward_rls;

--
-- Name: COLUMN documents.provided_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(provided_at) ON TABLE app.documents TO ward_app;

--
-- Name: COLUMN documents.accepted_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(accepted_at) ON TABLE app.documents TO ward_app;
GRANT SELECT(accepted_at) ON TABLE app.documents TO ward_rls;

--
-- Name: COLUMN documents.accepted_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(accepted_by) ON TABLE app.documents TO ward_app;

--
-- Name: COLUMN documents.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.documents TO ward_rls;

--
-- Name: COLUMN documents.deleted_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(deleted_at) ON TABLE app.documents TO ward_definer;

--
-- Name: COLUMN documents.accepted_version; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(accepted_version) ON TABLE app.documents TO ward_app;

--
-- Name: SEQUENCE dpop_jti_cleared; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,UPDATE ON SEQUENCE app.dpop_jti_cleared TO ward_definer;

--
-- Name: SEQUENCE dpop_jti_epoch; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,UPDATE ON SEQUENCE app.dpop_jti_epoch TO ward_definer;

--
-- Name: TABLE dpop_jtis; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.dpop_jtis TO ward_definer;

--
-- Name: TABLE dpop_jtis_0; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT TRUNCATE ON TABLE app.dpop_jtis_0 TO ward_definer;

--
-- Name: TABLE dpop_jtis_1; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT TRUNCATE ON TABLE app.dpop_jtis_1 TO ward_definer;

--
-- Name: TABLE dpop_jtis_2; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT TRUNCATE ON TABLE app.dpop_jtis_2 TO ward_definer;

--
-- Name: TABLE dpop_proofs; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.dpop_proofs TO ward_definer;

--
-- Name: TABLE dsr_reminders; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.dsr_reminders TO ward_definer;

--
-- Name: TABLE dsr_requests; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.dsr_requests TO ward_app;
GRANT SELECT ON TABLE app.dsr_requests TO ward_definer;

--
-- Name: COLUMN dsr_requests.extension_reason; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(extension_reason) ON TABLE app.dsr_requests TO ward_app;

--
-- Name: COLUMN dsr_requests.status; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(status) ON TABLE app.dsr_requests TO ward_app;
GRANT UPDATE(status) ON TABLE app.dsr_requests TO ward_definer;

--
-- Name: COLUMN dsr_requests.closed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(closed_at) ON TABLE app.dsr_requests TO ward_definer;

--
-- Name: COLUMN dsr_requests.closed_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(closed_by) ON TABLE app.dsr_requests TO ward_definer;

--
-- Name: TABLE email_domains; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.email_domains TO ward_definer;
GRANT SELECT ON TABLE app.email_domains TO ward_rls;

--
-- Name: TABLE gateway_buckets; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.gateway_buckets TO ward_app;
GRANT SELECT,INSERT,UPDATE ON TABLE app.gateway_buckets TO ward_definer;

--
-- Name: TABLE gateway_providers; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.gateway_providers TO ward_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.gateway_providers TO ward_ops;

--
-- Name: COLUMN gateway_providers.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(name) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: COLUMN gateway_providers.baa_signed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(baa_signed_at) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: COLUMN gateway_providers.baa_ref; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(baa_ref) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: COLUMN gateway_providers.zero_retention; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(zero_retention) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: COLUMN gateway_providers.models; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(models) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: COLUMN gateway_providers.region; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(region) ON TABLE app.gateway_providers TO ward_definer;

--
-- Name: TABLE gateway_reservations; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.gateway_reservations TO ward_definer;

--
-- Name: TABLE instance_policy; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.instance_policy TO ward_app;
GRANT SELECT ON TABLE app.instance_policy TO ward_definer;
GRANT SELECT ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.link_ttl_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(link_ttl_min) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.link_window_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(link_window_min) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.link_max_per_address; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(link_max_per_address) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.link_max_per_source; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(link_max_per_source) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.session_idle_max_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(session_idle_max_min) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.session_absolute_max_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(session_absolute_max_min) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.updated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(updated_at) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.invite_ttl_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(invite_ttl_min) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.case_invite_ttl_days; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(case_invite_ttl_days) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: COLUMN instance_policy.link_max_per_address_all; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(link_max_per_address_all) ON TABLE app.instance_policy TO ward_ops;

--
-- Name: TABLE known_devices; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.known_devices TO ward_definer;

--
-- Name: COLUMN known_devices.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(created_at) ON TABLE app.known_devices TO ward_definer;

--
-- Name: COLUMN known_devices.expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(expires_at) ON TABLE app.known_devices TO ward_definer;

--
-- Name: COLUMN known_devices.session_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(session_id) ON TABLE app.known_devices TO ward_definer;

--
-- Name: TABLE magic_links; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE app.magic_links TO ward_definer;

--
-- Name: TABLE memberships; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.memberships TO ward_app;
GRANT SELECT ON TABLE app.memberships TO ward_rls;
GRANT SELECT,INSERT,UPDATE ON TABLE app.memberships TO ward_definer;

--
-- Name: TABLE orgs; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.orgs TO ward_app;
GRANT SELECT,INSERT,UPDATE ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.orgs TO ward_rls;

--
-- Name: COLUMN orgs.require_mfa; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(require_mfa) ON TABLE app.orgs TO ward_rls;
GRANT SELECT(require_mfa) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.require_passkey; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(require_passkey) ON TABLE app.orgs TO ward_rls;
GRANT SELECT(require_passkey) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.enforce_sso; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(enforce_sso) ON TABLE app.orgs TO ward_app;
GRANT SELECT(enforce_sso) ON TABLE app.orgs TO ward_rls;
GRANT UPDATE(enforce_sso) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.risk_threshold; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(risk_threshold) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.device_binding_required_for; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(device_binding_required_for) ON TABLE app.orgs TO ward_rls;
GRANT UPDATE(device_binding_required_for) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_providers; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_providers) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_models; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_models) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_dates; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_dates) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_zip; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_zip) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_allow; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_allow) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_keep; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_keep) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_requests_per_minute; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_requests_per_minute) ON TABLE app.orgs TO ward_definer;

--
-- Name: COLUMN orgs.gateway_tokens_per_minute; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(gateway_tokens_per_minute) ON TABLE app.orgs TO ward_definer;

--
-- Name: TABLE passkeys; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.passkeys TO ward_definer;
GRANT SELECT ON TABLE app.passkeys TO ward_rls;

--
-- Name: COLUMN passkeys.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.user_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_id) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.aaguid; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(aaguid) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.sign_count; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(sign_count) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.backup_eligible; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(backup_eligible) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.backup_state; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(backup_state) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.transports; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(transports) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(name) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.passkeys TO ward_app;

--
-- Name: COLUMN passkeys.last_used_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(last_used_at) ON TABLE app.passkeys TO ward_app;

--
-- Name: TABLE patient_links; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.patient_links TO ward_app;
GRANT SELECT ON TABLE app.patient_links TO ward_rls;

--
-- Name: TABLE patients; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.patients TO ward_app;

--
-- Name: COLUMN patients.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.patients TO ward_definer;
GRANT INSERT(org_id) ON TABLE app.patients TO ward_app;

--
-- Name: COLUMN patients.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.patients TO ward_definer;
GRANT INSERT(id) ON TABLE app.patients TO ward_app;

--
-- Name: COLUMN patients.mrn_bidx; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(mrn_bidx),UPDATE(mrn_bidx) ON TABLE app.patients TO ward_app;
GRANT UPDATE(mrn_bidx) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.email_bidx; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(email_bidx),UPDATE(email_bidx) ON TABLE app.patients TO ward_app;
GRANT UPDATE(email_bidx) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.name_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(name_enc),UPDATE(name_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(name_enc),UPDATE(name_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.dob_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(dob_enc),UPDATE(dob_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(dob_enc),UPDATE(dob_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.phone_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(phone_enc),UPDATE(phone_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(phone_enc),UPDATE(phone_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.email_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(email_enc),UPDATE(email_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(email_enc),UPDATE(email_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.address_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(address_enc),UPDATE(address_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(address_enc),UPDATE(address_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.identifiers_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(identifiers_enc),UPDATE(identifiers_enc) ON TABLE app.patients TO ward_app;
GRANT SELECT(identifiers_enc),UPDATE(identifiers_enc) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(created_by) ON TABLE app.patients TO ward_app;

--
-- Name: COLUMN patients.updated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(updated_at) ON TABLE app.patients TO ward_app;
GRANT UPDATE(updated_at) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.keyset; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT INSERT(keyset) ON TABLE app.patients TO ward_app;
GRANT SELECT(keyset),UPDATE(keyset) ON TABLE app.patients TO ward_definer;

--
-- Name: COLUMN patients.shredded_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(shredded_at),UPDATE(shredded_at) ON TABLE app.patients TO ward_definer;

--
-- Name: TABLE record_amendments; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.record_amendments TO ward_app;

--
-- Name: COLUMN record_amendments.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.record_amendments TO ward_rls;
GRANT SELECT(org_id) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.patient_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(patient_id) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.dsr_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(dsr_id) ON TABLE app.record_amendments TO ward_rls;

--
-- Name: COLUMN record_amendments.request_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(request_enc),UPDATE(request_enc) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.status; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(status) ON TABLE app.record_amendments TO ward_app;
GRANT SELECT(status) ON TABLE app.record_amendments TO ward_rls;

--
-- Name: COLUMN record_amendments.denial_basis; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(denial_basis) ON TABLE app.record_amendments TO ward_app;

--
-- Name: COLUMN record_amendments.decision_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(decision_enc) ON TABLE app.record_amendments TO ward_app;
GRANT SELECT(decision_enc),UPDATE(decision_enc) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.disagreement_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(disagreement_enc) ON TABLE app.record_amendments TO ward_app;
GRANT SELECT(disagreement_enc),UPDATE(disagreement_enc) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: COLUMN record_amendments.rebuttal_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT UPDATE(rebuttal_enc) ON TABLE app.record_amendments TO ward_app;
GRANT SELECT(rebuttal_enc),UPDATE(rebuttal_enc) ON TABLE app.record_amendments TO ward_definer;

--
-- Name: TABLE recovery_codes; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.recovery_codes TO ward_definer;

--
-- Name: COLUMN recovery_codes.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.recovery_codes TO ward_app;

--
-- Name: COLUMN recovery_codes.user_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_id) ON TABLE app.recovery_codes TO ward_app;

--
-- Name: COLUMN recovery_codes.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.recovery_codes TO ward_app;

--
-- Name: COLUMN recovery_codes.used_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(used_at) ON TABLE app.recovery_codes TO ward_app;

--
-- Name: TABLE scim_group_members; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.scim_group_members TO ward_app;
GRANT SELECT,INSERT,DELETE ON TABLE app.scim_group_members TO ward_definer;

--
-- Name: TABLE scim_groups; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.scim_groups TO ward_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.scim_groups TO ward_definer;

--
-- Name: TABLE scim_tokens; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE app.scim_tokens TO ward_definer;

--
-- Name: COLUMN scim_tokens.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.scim_tokens TO ward_app;
GRANT SELECT(org_id) ON TABLE app.scim_tokens TO ward_rls;

--
-- Name: COLUMN scim_tokens.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.scim_tokens TO ward_app;
GRANT SELECT(id) ON TABLE app.scim_tokens TO ward_rls;

--
-- Name: COLUMN scim_tokens.token_hash; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(token_hash) ON TABLE app.scim_tokens TO ward_rls;

--
-- Name: COLUMN scim_tokens.prefix; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(prefix) ON TABLE app.scim_tokens TO ward_app;

--
-- Name: COLUMN scim_tokens.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(name) ON TABLE app.scim_tokens TO ward_app;

--
-- Name: COLUMN scim_tokens.default_role; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(default_role) ON TABLE app.scim_tokens TO ward_app;

--
-- Name: COLUMN scim_tokens.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.scim_tokens TO ward_app;

--
-- Name: COLUMN scim_tokens.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.scim_tokens TO ward_app;
GRANT SELECT(created_at) ON TABLE app.scim_tokens TO ward_rls;

--
-- Name: COLUMN scim_tokens.last_used_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(last_used_at) ON TABLE app.scim_tokens TO ward_app;

--
-- Name: COLUMN scim_tokens.revoked_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(revoked_at) ON TABLE app.scim_tokens TO ward_app;
GRANT SELECT(revoked_at) ON TABLE app.scim_tokens TO ward_rls;

--
-- Name: TABLE scim_users; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.scim_users TO ward_app;
GRANT SELECT,INSERT,UPDATE ON TABLE app.scim_users TO ward_definer;

--
-- Name: TABLE session_tokens; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.session_tokens TO ward_definer;
GRANT SELECT ON TABLE app.session_tokens TO ward_rls;

--
-- Name: TABLE sessions; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.sessions TO ward_rls;
GRANT SELECT,INSERT,UPDATE ON TABLE app.sessions TO ward_definer;

--
-- Name: COLUMN sessions.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.user_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_id) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.last_seen_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(last_seen_at) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.idle_timeout_min; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(idle_timeout_min) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.absolute_expires_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(absolute_expires_at) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.revoked_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(revoked_at),UPDATE(revoked_at) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.revoked_reason; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(revoked_reason),UPDATE(revoked_reason) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.assurance; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(assurance) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.user_agent; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_agent) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.ip; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(ip) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.amr; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(amr) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.authenticated_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(authenticated_at) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.dpop_jkt; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(dpop_jkt) ON TABLE app.sessions TO ward_rls;
GRANT SELECT(dpop_jkt) ON TABLE app.sessions TO ward_app;
GRANT UPDATE(dpop_jkt) ON TABLE app.sessions TO ward_definer;

--
-- Name: COLUMN sessions.break_glass; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(break_glass) ON TABLE app.sessions TO ward_rls;
GRANT SELECT(break_glass) ON TABLE app.sessions TO ward_app;
GRANT SELECT(break_glass) ON TABLE app.sessions TO ward_definer;

--
-- Name: COLUMN sessions.risk_score; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(risk_score) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.step_up; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(step_up) ON TABLE app.sessions TO ward_rls;
GRANT SELECT(step_up) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.browser; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(browser) ON TABLE app.sessions TO ward_app;
GRANT UPDATE(browser) ON TABLE app.sessions TO ward_definer;

--
-- Name: COLUMN sessions.passkey_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(passkey_id) ON TABLE app.sessions TO ward_app;

--
-- Name: COLUMN sessions.device_forgotten_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(device_forgotten_at) ON TABLE app.sessions TO ward_app;

--
-- Name: TABLE sso_assertions; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE app.sso_assertions TO ward_definer;

--
-- Name: TABLE sso_connections; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.sso_connections TO ward_definer;

--
-- Name: COLUMN sso_connections.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.kind; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(kind) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.name; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(name) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.issuer; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(issuer) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.client_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(client_id) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.signing_algs; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(signing_algs) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.trusted_amr; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(trusted_amr) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.trusted_acr; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(trusted_acr) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.jit; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(jit) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.jit_role; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(jit_role) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.created_by; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_by) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.idp_metadata; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(idp_metadata) ON TABLE app.sso_connections TO ward_app;

--
-- Name: COLUMN sso_connections.allow_idp_initiated; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(allow_idp_initiated) ON TABLE app.sso_connections TO ward_app;

--
-- Name: TABLE sso_domains; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT ON TABLE app.sso_domains TO ward_app;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.sso_domains TO ward_definer;

--
-- Name: COLUMN sso_domains.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.sso_domains TO ward_rls;

--
-- Name: COLUMN sso_domains.verified_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(verified_at) ON TABLE app.sso_domains TO ward_rls;

--
-- Name: COLUMN sso_domains.domain_bidx; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(domain_bidx) ON TABLE app.sso_domains TO ward_rls;

--
-- Name: TABLE sso_identities; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.sso_identities TO ward_definer;

--
-- Name: COLUMN sso_identities.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.sso_identities TO ward_app;

--
-- Name: COLUMN sso_identities.connection_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(connection_id) ON TABLE app.sso_identities TO ward_app;

--
-- Name: COLUMN sso_identities.user_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_id) ON TABLE app.sso_identities TO ward_app;

--
-- Name: COLUMN sso_identities.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.sso_identities TO ward_app;

--
-- Name: COLUMN sso_identities.last_signin_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(last_signin_at) ON TABLE app.sso_identities TO ward_app;

--
-- Name: TABLE sso_states; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.sso_states TO ward_definer;

--
-- Name: TABLE totp_factors; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.totp_factors TO ward_definer;

--
-- Name: COLUMN totp_factors.org_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(org_id) ON TABLE app.totp_factors TO ward_app;

--
-- Name: COLUMN totp_factors.user_id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(user_id) ON TABLE app.totp_factors TO ward_app;

--
-- Name: COLUMN totp_factors.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.totp_factors TO ward_app;

--
-- Name: COLUMN totp_factors.confirmed_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(confirmed_at) ON TABLE app.totp_factors TO ward_app;

--
-- Name: TABLE users; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE app.users TO ward_definer;

--
-- Name: COLUMN users.id; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(id) ON TABLE app.users TO ward_app;
GRANT SELECT(id) ON TABLE app.users TO ward_definer;
GRANT SELECT(id) ON TABLE app.users TO ward_rls;

--
-- Name: COLUMN users.email_bidx; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(email_bidx) ON TABLE app.users TO ward_rls;
GRANT UPDATE(email_bidx) ON TABLE app.users TO ward_definer;

--
-- Name: COLUMN users.email_enc; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(email_enc) ON TABLE app.users TO ward_app;
GRANT SELECT(email_enc),UPDATE(email_enc) ON TABLE app.users TO ward_definer;

--
-- Name: COLUMN users.created_at; Type: ACL; Schema: app; Owner: ward_owner
--

GRANT SELECT(created_at) ON TABLE app.users TO ward_app;

--
-- Name: TABLE actions; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.actions TO ward_app;
GRANT SELECT ON TABLE audit.actions TO ward_definer;
GRANT SELECT ON TABLE audit.actions TO ward_ops;

--
-- Name: TABLE archive_objects; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.archive_objects TO ward_audit_reader;
GRANT SELECT ON TABLE audit.archive_objects TO ward_audit_cleanup;
GRANT SELECT,INSERT ON TABLE audit.archive_objects TO ward_definer;

--
-- Name: TABLE archive_state; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.archive_state TO ward_app;
GRANT SELECT ON TABLE audit.archive_state TO ward_audit_reader;
GRANT SELECT ON TABLE audit.archive_state TO ward_audit_cleanup;
GRANT SELECT,INSERT,UPDATE ON TABLE audit.archive_state TO ward_definer;

--
-- Name: TABLE checkpoints; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.checkpoints TO ward_app;
GRANT SELECT ON TABLE audit.checkpoints TO ward_audit_reader;
GRANT SELECT ON TABLE audit.checkpoints TO ward_audit_signer;
GRANT SELECT,INSERT ON TABLE audit.checkpoints TO ward_definer;
GRANT SELECT ON TABLE audit.checkpoints TO ward_audit_cleanup;

--
-- Name: TABLE events; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.events TO ward_app;
GRANT SELECT,DELETE ON TABLE audit.events TO ward_audit_cleanup;
GRANT SELECT,INSERT ON TABLE audit.events TO ward_definer;
GRANT SELECT ON TABLE audit.events TO ward_audit_reader;

--
-- Name: TABLE heads; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.heads TO ward_app;
GRANT SELECT ON TABLE audit.heads TO ward_audit_signer;
GRANT SELECT,INSERT,UPDATE ON TABLE audit.heads TO ward_definer;
GRANT SELECT ON TABLE audit.heads TO ward_audit_reader;

--
-- Name: TABLE leaves; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT,INSERT ON TABLE audit.leaves TO ward_definer;
GRANT SELECT ON TABLE audit.leaves TO ward_app;
GRANT SELECT ON TABLE audit.leaves TO ward_audit_reader;
GRANT SELECT,DELETE ON TABLE audit.leaves TO ward_audit_cleanup;

--
-- Name: TABLE log; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT ON TABLE audit.log TO ward_app;
GRANT SELECT ON TABLE audit.log TO ward_audit_reader;
GRANT SELECT ON TABLE audit.log TO ward_audit_cleanup;
GRANT SELECT ON TABLE audit.log TO ward_definer;

--
-- Name: TABLE queue; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE audit.queue TO ward_definer;
GRANT SELECT ON TABLE audit.queue TO ward_app;
GRANT SELECT ON TABLE audit.queue TO ward_audit_reader;

--
-- Name: TABLE tree_nodes; Type: ACL; Schema: audit; Owner: ward_owner
--

GRANT SELECT,INSERT,UPDATE ON TABLE audit.tree_nodes TO ward_definer;

--
-- Name: TABLE keysets; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE private.keysets TO ward_definer;

--
-- Name: COLUMN keysets.wrapped; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT UPDATE(wrapped) ON TABLE private.keysets TO ward_definer;

--
-- Name: COLUMN keysets.rotated_at; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT UPDATE(rotated_at) ON TABLE private.keysets TO ward_definer;

--
-- Name: TABLE patient_keyings; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE private.patient_keyings TO ward_definer;

--
-- Name: TABLE principal_cache; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE private.principal_cache TO ward_rls;
GRANT SELECT ON TABLE private.principal_cache TO ward_app;

--
-- Name: TABLE principal_changes; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE private.principal_changes TO ward_rls;
GRANT SELECT ON TABLE private.principal_changes TO ward_app;

--
-- Name: TABLE principal_cached; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT ON TABLE private.principal_cached TO ward_app;
GRANT SELECT ON TABLE private.principal_cached TO ward_rls;

--
-- Name: TABLE principal_key; Type: ACL; Schema: private; Owner: ward_owner
--

GRANT SELECT ON TABLE private.principal_key TO ward_rls;

--
-- Name: TABLE goose_db_version; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT ON TABLE public.goose_db_version TO ward_app;
GRANT SELECT ON TABLE public.goose_db_version TO ward_ops;
GRANT SELECT ON TABLE public.goose_db_version TO ward_audit_reader;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: ward_definer
--

ALTER DEFAULT PRIVILEGES FOR ROLE ward_definer REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: ward_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE ward_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: ward_rls
--

ALTER DEFAULT PRIVILEGES FOR ROLE ward_rls REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- PostgreSQL database dump complete
--
