-- A credential changes only between statements (issue 7's review).
--
-- Every policy reads the principal through InitPlans: one for the org,
-- one for the lead flag, one for the role, each evaluated once per
-- statement, when first needed. ward_app could change ward.credential (or
-- ward.org, ward.dpop) with set_config in the middle of a statement, in a
-- lateral subquery evaluated between two of them, so that one InitPlan
-- read one credential and the next another: a provider of one org who is
-- a lead of a second org, holding both sessions, read every patient of
-- the first (the org from the first credential, the lead flag from the
-- second). The sealed principal did not help: its seal names the
-- credential, so a changed credential simply resolved again.
--
--   * set_config is no longer PUBLIC's: only the roles that own the
--     functions which bind or seal (ward_definer, ward_rls) and ward_owner
--     may call it. SET and SET LOCAL are statements, so whatever ward_app
--     changes with them holds for a whole statement.
--   * app.bind(credential, org, request, dpop) binds, transaction-local,
--     for ward_app, and only as a statement of its own: current_query()
--     must be exactly `select app.bind($1, $2, $3, $4)` or
--     `begin; select app.bind('…', '…', '…', '…')` with these values.
--     app.bind_proof(jti, iat) sets the DPoP proof's jti and iat for
--     app.whoami (nothing the policies read).
--   * ward_app may create no function: USAGE on the languages sql and
--     plpgsql is no longer PUBLIC's (a temporary SQL function running SET
--     LOCAL would otherwise change a setting inside a statement again), so
--     no DO block either.
--   * app.break_glass_activate acted as the new session from inside the
--     caller's statement; it now puts the caller's credential and device
--     binding back on return, and the server binds the new session with
--     app.bind.
--
-- What is left: a cursor (or a portal run a few rows at a time) keeps its
-- plan across statements, so a SET LOCAL between two FETCHes can still
-- change the credential between two InitPlans of one plan
-- (docs/security-model.md).

-- +goose Up
revoke execute on function pg_catalog.set_config(text, text, boolean) from public;
grant execute on function pg_catalog.set_config(text, text, boolean) to ward_owner, ward_definer, ward_rls;
revoke usage on language sql from public;
revoke usage on language plpgsql from public;
grant usage on language sql to ward_owner;
grant usage on language plpgsql to ward_owner;

set local role ward_owner;

-- +goose StatementBegin
create function app.bind(p_credential text, p_org text, p_request text, p_dpop text) returns void
    language plpgsql security definer
    set search_path to ''
    as $$
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
          set_config('ward.dpop', coalesce(p_dpop, ''), true);
end $$;
-- +goose StatementEnd
alter function app.bind(text, text, text, text) owner to ward_definer;
revoke all on function app.bind(text, text, text, text) from public;
grant execute on function app.bind(text, text, text, text) to ward_app;

-- +goose StatementBegin
create function app.bind_proof(p_jti text, p_iat text) returns void
    language plpgsql security definer
    set search_path to ''
    as $$
begin
  perform set_config('ward.dpop_jti', coalesce(p_jti, ''), true),
          set_config('ward.dpop_iat', coalesce(p_iat, ''), true);
end $$;
-- +goose StatementEnd
alter function app.bind_proof(text, text) owner to ward_definer;
revoke all on function app.bind_proof(text, text) from public;
grant execute on function app.bind_proof(text, text) to ward_app;

-- +goose StatementBegin
create or replace function app.break_glass_activate(p_challenge bytea, p_credential_id bytea, p_client_data bytea, p_auth_data bytea, p_session_hash bytea, p_request text DEFAULT NULL::text, p_ip text DEFAULT NULL::text, p_ua text DEFAULT NULL::text, OUT status text, OUT activation_id uuid, OUT session_id uuid, OUT user_id uuid, OUT org_id uuid, OUT absolute_expires_at timestamp with time zone, OUT idle_timeout_min integer, OUT admin_ids uuid[], OUT admin_emails bytea[]) RETURNS record
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
-- +goose StatementEnd

reset role;

-- +goose Down
select 'not reversible: restore from a backup taken before it' as note;
